//! A small real file system for full-disk tests. [`in_small_disk`] runs one test of this binary
//! again in a child process with a mount namespace of its own (`unshare --user --map-root-user
//! --mount`: no privileges needed, nothing left mounted on the host; plain `unshare --mount` as
//! root where user namespaces are refused) where a tmpfs of a given size
//! is mounted; the inner test finds it in `ZIZHU_TEST_SMALL_DISK` ([`small_disk`]). Writes past
//! its size fail with ENOSPC, as on a full SD card; SQLite reports them as SQLITE_FULL. (The tmpfs
//! cannot be reached from the test process through `/proc/PID/root`: SQLite resolves that link
//! and would open the host's directory.)
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

const ENV: &str = "ZIZHU_TEST_SMALL_DISK";

/// Runs the test `name` (its full path, e.g. `help::inner`; mark it `#[ignore]` so only this
/// runs it) in a namespace with a tmpfs of `bytes` mounted, and fails with its output if it
/// fails.
pub fn in_small_disk(name: &str, bytes: u64) {
    let base = tempfile::tempdir().expect("temp dir");
    let exe = std::env::current_exe().expect("the test binary");
    let out = Command::new("unshare")
        .args(namespace_options())
        .args(["sh", "-c"])
        .arg(r#"mount -t tmpfs -o size="$1" zizhu-test "$0" && shift && exec "$@""#)
        .arg(base.path())
        .arg(bytes.to_string())
        .arg(&exe)
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(ENV, base.path())
        .output()
        .expect("unshare (util-linux) runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{name} in a small disk failed ({}); if the mount failed, unprivileged user namespaces \
         must be enabled (sysctl kernel.unprivileged_userns_clone=1) or the tests run as root:\n{text}",
        out.status
    );
    assert!(
        text.contains("1 passed"),
        "{name} did not run in the small disk:\n{text}"
    );
}

/// How to get a mount namespace of its own: as anyone, in a user namespace of its own; where
/// user namespaces are refused (some containers) but the tests run as root, without one.
fn namespace_options() -> &'static [&'static str] {
    const USER: &[&str] = &["--user", "--map-root-user", "--mount"];
    const ROOT: &[&str] = &["--mount"];
    let works = |opts: &[&str]| {
        Command::new("unshare")
            .args(opts)
            .arg("true")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if works(USER) || !works(ROOT) {
        USER
    } else {
        ROOT
    }
}

/// The small disk's root, inside a test started by [`in_small_disk`].
pub fn small_disk() -> PathBuf {
    let dir = PathBuf::from(
        std::env::var_os(ENV).expect("run by util::disk::in_small_disk, not on its own"),
    );
    let mounts = std::fs::read_to_string("/proc/self/mounts").expect("/proc/self/mounts");
    assert!(
        mounts
            .lines()
            .any(|l| l.starts_with("zizhu-test ") && l.contains(" tmpfs ")),
        "no small tmpfs mounted here"
    );
    dir
}

/// Fills what is left of the disk at `dir` with one file (`filler`), until it refuses (ENOSPC).
pub fn fill(dir: &Path) {
    let mut f = std::fs::File::create(dir.join("filler")).expect("filler");
    let block = vec![0xA5u8; 64 * 1024];
    let mut size = block.len();
    loop {
        match f.write(&block[..size]) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) && size > 512 => size = 512,
            Err(e) if e.raw_os_error() == Some(28) => break,
            Err(e) => panic!("filling the small disk: {e}"),
        }
    }
    let mut probe = std::fs::File::create(dir.join("probe")).expect("an empty file fits");
    assert!(
        probe.write_all(&[0; 4096]).is_err(),
        "the disk is not full after filling it"
    );
    drop(probe);
    let _ = std::fs::remove_file(dir.join("probe"));
}

/// Frees the space [`fill`] took.
pub fn free(dir: &Path) {
    std::fs::remove_file(dir.join("filler")).expect("remove filler");
}
