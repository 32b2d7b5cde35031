//! Technician tooling end to end through the real binary: provisioning and inspecting an image,
//! the first-boot step, block maps, and flashing to regular files standing in for SD cards (a good
//! flash with and without a block map, a corrupt image, a truncated `.xz`, a card too small, a
//! missing or mounted device), and `images/build` refusing a package of the wrong architecture.
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use sha2::{Digest, Sha256};

use crate::util;

const MIB: u64 = 1 << 20;
const TOKEN: &str = "enroll-7f3a9c2e5b1d4f60a8e2";

/// A 64 MiB sparse disk image: MBR, FAT16 config partition at 1 MiB (16 MiB) holding a build-info
/// file, and a Linux partition with 3 MiB of patterned data in the middle of holes.
fn make_image(dir: &Path) -> PathBuf {
    let path = dir.join("zizhu-x86-test.img");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    f.set_len(64 * MIB).unwrap();
    let mut mbr = [0u8; 512];
    mbr[440..444].copy_from_slice(&0x5a5a_1234u32.to_le_bytes());
    let mut entry = |i: usize, t: u8, start: u32, count: u32| {
        let e = &mut mbr[446 + 16 * i..462 + 16 * i];
        e[4] = t;
        e[8..12].copy_from_slice(&start.to_le_bytes());
        e[12..16].copy_from_slice(&count.to_le_bytes());
    };
    entry(0, 0x0e, 2048, 32768);
    entry(1, 0x83, 34816, 96256);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    f.write_all(&mbr).unwrap();
    let part = zizhu::image::table::read(&mut f, 64 * MIB, &path)
        .unwrap()
        .partitions[0]
        .clone();
    {
        let mut slice = zizhu::image::fat::Slice::new(&mut f, &part);
        fatfs::format_volume(
            &mut slice,
            fatfs::FormatVolumeOptions::new().volume_label(*b"ZIZHU      "),
        )
        .unwrap();
    }
    let data: Vec<u8> = (0..3 * MIB).map(|i| (i * 7 % 251) as u8).collect();
    f.seek(SeekFrom::Start(30 * MIB)).unwrap();
    f.write_all(&data).unwrap();
    drop(f);
    let mut cp = zizhu::image::fat::ConfigPartition::open(&path, true).unwrap();
    cp.write(
        "zizhu-build.toml",
        b"target = \"x86-test\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    path
}

fn sha256_file_prefix(path: &Path, len: u64) -> String {
    zizhu::image::flash::hash_prefix(path, len).unwrap()
}

fn sha256(data: &[u8]) -> String {
    zizhu::image::bmap::hex(&Sha256::digest(data))
}

fn card(dir: &Path, name: &str, size: u64) -> PathBuf {
    let p = dir.join(name);
    let f = File::create(&p).unwrap();
    f.set_len(size).unwrap();
    p
}

fn run_in(dir: &Path, args: &[&str]) -> std::process::Output {
    util::zizhu(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn provision_args<'a>(img: &'a str, tok: &'a str) -> Vec<&'a str> {
    vec![
        "image",
        "provision",
        img,
        "--kiosk-id",
        "GD-GZ-TH-0042",
        "--site",
        "天河区体育西路邮政支局",
        "--platform",
        "https://platform.example/kiosk",
        "--enroll-token-file",
        tok,
    ]
}

#[test]
fn provision_then_inspect_masks_the_token() {
    let d = tempfile::tempdir().unwrap();
    let img = make_image(d.path());
    let tok = d.path().join("token");
    fs::write(&tok, format!("{TOKEN}\n")).unwrap();
    let o = run_in(d.path(), &provision_args(s(&img), s(&tok)));
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));

    let o = run_in(d.path(), &["image", "inspect", s(&img)]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let out = util::stdout(&o);
    assert!(out.contains("GD-GZ-TH-0042"), "{out}");
    assert!(out.contains("x86-test"), "build info missing: {out}");
    assert!(!out.contains(TOKEN), "token shown in full: {out}");

    let o = run_in(d.path(), &["image", "inspect", s(&img), "--json"]);
    let j: serde_json::Value = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert_eq!(j["table"]["kind"], "mbr");
    assert_eq!(j["table"]["partitions"][0]["is_fat"], true);
    assert_eq!(j["provision"]["kiosk"]["site"], "天河区体育西路邮政支局");
    let masked = j["provision"]["platform"]["enroll_token"].as_str().unwrap();
    assert!(
        masked.starts_with("enro") && !masked.contains("7f3a9c"),
        "{masked}"
    );

    // A second provisioning needs --force.
    let o = run_in(d.path(), &provision_args(s(&img), s(&tok)));
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("--force"));
    let mut args = provision_args(s(&img), s(&tok));
    args.push("--force");
    assert_eq!(util::code(&run_in(d.path(), &args)), 0);
}

#[test]
fn provision_refuses_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let img = make_image(d.path());
    let tok = d.path().join("token");
    // Missing token file.
    let o = run_in(d.path(), &provision_args(s(&img), s(&tok)));
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("does not exist"));
    // Empty token.
    fs::write(&tok, "\n").unwrap();
    let o = run_in(d.path(), &provision_args(s(&img), s(&tok)));
    assert_eq!(util::code(&o), 2);
    assert!(
        util::stderr(&o).contains("enroll_token"),
        "{}",
        util::stderr(&o)
    );
    // Bad URL.
    fs::write(&tok, TOKEN).unwrap();
    let mut args = provision_args(s(&img), s(&tok));
    args[8] = "ftp:/nowhere";
    let o = run_in(d.path(), &args);
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("platform.url"));
    // A truncated image.
    let short = d.path().join("short.img");
    fs::write(&short, &fs::read(&img).unwrap()[..(10 * MIB) as usize]).unwrap();
    let o = run_in(d.path(), &provision_args(s(&short), s(&tok)));
    assert_eq!(util::code(&o), 1);
    assert!(
        util::stderr(&o).contains("truncated"),
        "{}",
        util::stderr(&o)
    );
    // Nothing was written anywhere.
    let o = run_in(d.path(), &["image", "inspect", s(&img), "--json"]);
    let j: serde_json::Value = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert!(j["provision"].is_null());
}

#[test]
fn first_boot_consumes_a_good_file_and_keeps_a_bad_one() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    fs::create_dir_all(root.join("boot")).unwrap();
    fs::create_dir_all(root.join("etc")).unwrap();
    fs::write(
        root.join("etc/kiosk.toml"),
        "# default config\n[kiosk]\nid = \"unprovisioned\"\n",
    )
    .unwrap();
    let file = root.join("boot/zizhu-provision.toml");
    let args = |json: bool| {
        let mut v: Vec<String> = [
            "image",
            "first-boot",
            "--file",
            s(&file),
            "--config",
            s(&root.join("etc/kiosk.toml")),
            "--identity",
            s(&root.join("etc/kiosk-id")),
            "--data-dir",
            s(&root.join("data")),
            "--error-file",
            s(&root.join("run/provision-error")),
            "--wifi-conf",
            s(&root.join("etc/wpa.conf")),
            "--owner",
            "nobody-here",
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        if json {
            v.push("--json".into());
        }
        v
    };
    let run = |json: bool| {
        util::zizhu(root)
            .args(args(json))
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let bad = format!(
        "version = 1\n[kiosk]\nid = \"K1\"\nsite = \"x\"\ncolour = \"red\"\n[platform]\nurl = \"https://p.example\"\nenroll_token = \"{TOKEN}\"\n"
    );
    fs::write(&file, &bad).unwrap();
    let o = run(false);
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("colour"));
    assert!(file.exists(), "a bad file must stay in place");
    let err = fs::read_to_string(root.join("run/provision-error")).unwrap();
    assert!(err.contains("colour"), "{err}");

    fs::write(&file, bad.replace("colour = \"red\"\n", "")).unwrap();
    let o = run(true);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let j: serde_json::Value = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert_eq!(j["kiosk_id"], "K1");
    assert!(!file.exists(), "the provisioning file must be deleted");
    assert!(!root.join("run/provision-error").exists());
    let tokfile = root.join("data/platform-token");
    assert_eq!(fs::read_to_string(&tokfile).unwrap().trim(), TOKEN);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&tokfile).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let cfg = fs::read_to_string(root.join("etc/kiosk.toml")).unwrap();
    assert!(
        cfg.contains("# default config") && cfg.contains("id = \"K1\""),
        "{cfg}"
    );
    assert!(!cfg.contains(TOKEN), "the token must not be in the config");
    // Second boot: nothing to do.
    let o = run(true);
    assert_eq!(util::code(&o), 0);
}

#[test]
fn flash_with_bmap_from_xz_writes_only_mapped_blocks_and_verifies() {
    let d = tempfile::tempdir().unwrap();
    let img = make_image(d.path());
    let o = run_in(d.path(), &["image", "bmap", s(&img)]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    // Compress it; the bmap is found beside it as zizhu-x86-test.img.bmap.
    let xz = d.path().join("zizhu-x86-test.img.xz");
    {
        let mut enc = liblzma::write::XzEncoder::new(File::create(&xz).unwrap(), 1);
        enc.write_all(&fs::read(&img).unwrap()).unwrap();
        enc.finish().unwrap();
    }
    let dev = card(d.path(), "card.img", 128 * MIB);
    let o = run_in(d.path(), &["flash", s(&xz), s(&dev), "--yes", "--json"]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert_eq!(r["verified"], true);
    assert_eq!(r["integrity"], "bmap");
    let written = r["bytes_written"].as_u64().unwrap();
    assert!(
        written < 8 * MIB,
        "wrote {written} bytes of a mostly empty image"
    );
    assert_eq!(r["image_size"].as_u64().unwrap(), 64 * MIB);
    assert_eq!(
        sha256_file_prefix(&dev, 64 * MIB),
        sha256(&fs::read(&img).unwrap())
    );
    assert_eq!(
        fs::metadata(&dev).unwrap().len(),
        128 * MIB,
        "a card file never grows"
    );
}

#[test]
fn flash_without_bmap_checks_sha256sums() {
    let d = tempfile::tempdir().unwrap();
    let img = make_image(d.path());
    let sum = sha256(&fs::read(&img).unwrap());
    fs::write(
        d.path().join("SHA256SUMS"),
        format!("{sum}  zizhu-x86-test.img\n"),
    )
    .unwrap();
    let dev = card(d.path(), "card.img", 64 * MIB);
    let o = run_in(d.path(), &["flash", s(&img), s(&dev), "--yes", "--json"]);
    assert_eq!(util::code(&o), 0, "{}", util::stderr(&o));
    let r: serde_json::Value = serde_json::from_str(&util::stdout(&o)).unwrap();
    assert_eq!(r["integrity"]["image"], sum.as_str());
    assert_eq!(r["bytes_written"].as_u64().unwrap(), 64 * MIB);
    assert_eq!(sha256_file_prefix(&dev, 64 * MIB), sum);
}

#[test]
fn corrupt_image_fails_and_claims_nothing() {
    let d = tempfile::tempdir().unwrap();
    let img = make_image(d.path());
    assert_eq!(
        util::code(&run_in(d.path(), &["image", "bmap", s(&img)])),
        0
    );
    let sum = sha256(&fs::read(&img).unwrap());
    // Flip one byte inside the mapped data.
    let mut f = OpenOptions::new().write(true).open(&img).unwrap();
    f.seek(SeekFrom::Start(31 * MIB + 5)).unwrap();
    f.write_all(&[0xff]).unwrap();
    drop(f);
    let dev = card(d.path(), "card.img", 64 * MIB);
    fs::write(&dev, vec![0xabu8; (64 * MIB) as usize]).unwrap();
    let o = run_in(d.path(), &["flash", s(&img), s(&dev), "--yes"]);
    assert_eq!(util::code(&o), 1);
    assert!(
        util::stderr(&o).contains("checksum mismatch"),
        "{}",
        util::stderr(&o)
    );
    assert!(
        util::stdout(&o).is_empty(),
        "nothing may be claimed: {}",
        util::stdout(&o)
    );
    let start = &fs::read(&dev).unwrap()[..MIB as usize];
    assert!(
        start.iter().all(|&b| b == 0),
        "a half-written card must not boot"
    );

    // Without the block map, SHA256SUMS catches it at the end.
    fs::write(
        d.path().join("SHA256SUMS"),
        format!("{sum}  zizhu-x86-test.img\n"),
    )
    .unwrap();
    let o = run_in(d.path(), &["flash", s(&img), s(&dev), "--yes", "--no-bmap"]);
    assert_eq!(util::code(&o), 1);
    assert!(
        util::stderr(&o).contains("SHA256SUMS"),
        "{}",
        util::stderr(&o)
    );
    assert!(util::stdout(&o).is_empty());
}

#[test]
fn truncated_xz_fails() {
    let d = tempfile::tempdir().unwrap();
    let img = make_image(d.path());
    let xz = d.path().join("cut.img.xz");
    let mut buf = Vec::new();
    {
        let mut enc = liblzma::write::XzEncoder::new(&mut buf, 1);
        enc.write_all(&fs::read(&img).unwrap()).unwrap();
        enc.finish().unwrap();
    }
    fs::write(&xz, &buf[..buf.len() / 2]).unwrap();
    let dev = card(d.path(), "card.img", 64 * MIB);
    let o = run_in(d.path(), &["flash", s(&xz), s(&dev), "--yes"]);
    assert_eq!(util::code(&o), 1);
    assert!(
        util::stderr(&o).contains("truncated"),
        "{}",
        util::stderr(&o)
    );
    assert!(util::stdout(&o).is_empty());
}

#[test]
fn flash_refuses_bad_targets() {
    let d = tempfile::tempdir().unwrap();
    let img = make_image(d.path());
    // Too small.
    let small = card(d.path(), "small.img", 32 * MIB);
    let o = run_in(d.path(), &["flash", s(&img), s(&small), "--yes"]);
    assert_eq!(util::code(&o), 2);
    assert!(
        util::stderr(&o).contains("too small"),
        "{}",
        util::stderr(&o)
    );
    // Does not exist.
    let o = run_in(
        d.path(),
        &["flash", s(&img), "/dev/zizhu-no-such-card", "--yes"],
    );
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("does not exist"));
    // Larger than the limit without --force.
    let big = card(d.path(), "big.img", 256 * MIB);
    let o = run_in(
        d.path(),
        &["flash", s(&img), s(&big), "--yes", "--max-size", "128M"],
    );
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("--force"));
    // Without --yes and no terminal to ask on.
    let fits = card(d.path(), "fits.img", 64 * MIB);
    let o = run_in(d.path(), &["flash", s(&img), s(&fits)]);
    assert_eq!(util::code(&o), 2);
    assert!(util::stderr(&o).contains("--yes"));
    // No card was touched by any of this.
    for c in [&small, &fits, &big] {
        assert!(fs::read(c).unwrap().iter().all(|&b| b == 0));
    }
}

/// The block device holding `/` on this machine (mounted), if `/` is on one.
fn mounted_block_device() -> Option<PathBuf> {
    use std::os::unix::fs::FileTypeExt;
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|l| {
        let (_, after) = l.split_once(" - ")?;
        let src = after.split_whitespace().nth(1)?;
        let p = PathBuf::from(src);
        let ft = fs::metadata(&p).ok()?.file_type();
        ft.is_block_device().then_some(p)
    })
}

/// Needs a machine whose `/` is on a block device; CI containers (an overlay on no device) have
/// none, so it is ignored there and run by hand (`cargo test --test integration -- --ignored
/// image::flash_refuses_a_mounted_device`). The same refusal is covered everywhere with a made-up
/// sysfs and mountinfo in the unit tests of `image::target`.
#[test]
#[ignore = "needs a mounted block device; the unit tests of image::target cover the refusal with a made-up sysfs"]
fn flash_refuses_a_mounted_device() {
    let d = tempfile::tempdir().unwrap();
    let img = make_image(d.path());
    let dev = mounted_block_device()
        .expect("no block device is mounted on this machine; run this test where / is on a disk");
    let o = run_in(d.path(), &["flash", s(&img), s(&dev), "--yes", "--force"]);
    assert_eq!(util::code(&o), 2, "{}", util::stderr(&o));
    let err = util::stderr(&o);
    assert!(
        err.contains("mounted") || err.contains("running system") || err.contains("partition"),
        "{err}"
    );
}

#[test]
fn shipped_configs_pass_config_check_before_and_after_provisioning() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    for cfg in [
        "images/debian/kiosk.toml",
        "images/overlay/x86-test/etc/zizhu/kiosk.toml",
    ] {
        let path = repo.join(cfg);
        let o = util::run(&["config", "check", s(&path)]);
        assert_eq!(util::code(&o), 0, "{cfg}: {}", util::stderr(&o));

        // First boot on top of it gives a config that still passes.
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("etc")).unwrap();
        fs::copy(&path, root.join("etc/kiosk.toml")).unwrap();
        let file = root.join("zizhu-provision.toml");
        fs::write(
            &file,
            format!(
                "version = 1\n[kiosk]\nid = \"GD-01\"\nsite = \"site\"\n[platform]\nurl = \"https://p.example\"\nenroll_token = \"{TOKEN}\"\n"
            ),
        )
        .unwrap();
        let status = root.join("data/status-token");
        let text = fs::read_to_string(root.join("etc/kiosk.toml"))
            .unwrap()
            .replace("/var/lib/zizhu/status-token", s(&status));
        fs::write(root.join("etc/kiosk.toml"), text).unwrap();
        let o = util::zizhu(root)
            .args([
                "image",
                "first-boot",
                "--file",
                s(&file),
                "--config",
                s(&root.join("etc/kiosk.toml")),
                "--identity",
                s(&root.join("etc/kiosk-id")),
                "--data-dir",
                s(&root.join("data")),
                "--error-file",
                s(&root.join("data/provision-error")),
                "--owner",
                "nobody-here",
            ])
            .output()
            .unwrap();
        assert_eq!(util::code(&o), 0, "{cfg}: {}", util::stderr(&o));
        assert_eq!(fs::read_to_string(&status).unwrap().trim().len(), 64);
        let o = util::run(&["config", "check", s(&root.join("etc/kiosk.toml"))]);
        assert_eq!(
            util::code(&o),
            0,
            "{cfg} after provisioning: {}",
            util::stderr(&o)
        );
    }
}

/// A Debian package of ARCH with nothing in it, made by dpkg-deb.
fn empty_deb(dir: &Path, arch: &str) -> PathBuf {
    let tree = dir.join(format!("deb-{arch}"));
    fs::create_dir_all(tree.join("DEBIAN")).unwrap();
    fs::write(
        tree.join("DEBIAN/control"),
        format!("Package: zizhu\nVersion: 0.1.0\nArchitecture: {arch}\nMaintainer: t <t@example.invalid>\nDescription: test\n"),
    )
    .unwrap();
    let deb = dir.join(format!("zizhu_{arch}.deb"));
    let o = std::process::Command::new("dpkg-deb")
        .args(["--root-owner-group", "-b", s(&tree), s(&deb)])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    deb
}

#[test]
fn image_build_refuses_a_package_of_the_wrong_architecture() {
    let d = tempfile::tempdir().unwrap();
    let build = Path::new(env!("CARGO_MANIFEST_DIR")).join("images/build");
    let run = |args: &[&str]| {
        std::process::Command::new(&build)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let amd64 = empty_deb(d.path(), "amd64");
    let o = run(&["pi4", "--deb", s(&amd64)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(util::code(&o), 2, "{err}");
    assert!(
        err.contains("for amd64") && err.contains("needs arm64"),
        "{err}"
    );
    let arm64 = empty_deb(d.path(), "arm64");
    let o = run(&["x86-test", "--deb", s(&arm64)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(util::code(&o), 2, "{err}");
    assert!(
        err.contains("for arm64") && err.contains("needs amd64"),
        "{err}"
    );
    // No package at all names what builds one.
    let o = run(&["pi4"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(util::code(&o), 2, "{err}");
    assert!(
        err.contains("--deb") && err.contains("scripts/cross-arm64"),
        "{err}"
    );
}
