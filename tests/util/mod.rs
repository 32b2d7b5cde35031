//! Shared helpers for the integration tests: run the real `zizhu` binary, temporary directories.
#![allow(dead_code)]
pub mod disk;
pub mod proxy;
pub mod screen;

use std::path::PathBuf;
use std::process::{Command, Output};

/// Path of the `zizhu` binary Cargo built for these tests.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_zizhu"))
}

/// A `zizhu` command with logging quiet and a private HOME/XDG data dir under `home`.
pub fn zizhu(home: &std::path::Path) -> Command {
    let mut c = Command::new(bin());
    c.env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("RUST_LOG", "warn");
    c
}

/// Runs `zizhu ARGS…` in a fresh temporary home and returns its output.
pub fn run(args: &[&str]) -> Output {
    let home = tempfile::tempdir().expect("temp dir");
    zizhu(home.path())
        .args(args)
        .output()
        .expect("running zizhu")
}

/// stdout as UTF-8 text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// stderr as UTF-8 text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The exit status code (-1 when killed by a signal).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A kiosk's e-licence verifier as a simulated kiosk has it: the demo roots pinned, the demo
/// platform's trust list installed, replay kept in memory.
pub fn demo_verifier() -> zizhu::elicense::Verifier {
    use zizhu::elicense::{self, store::MemoryStore, Verifier};
    let mut v = Verifier::from_store(
        elicense::demo::roots().expect("demo roots"),
        Box::new(MemoryStore::default()),
    )
    .expect("verifier");
    let now = chrono::Utc::now();
    let list = elicense::demo::trust_list(1, now.timestamp() - 60, 7 * 86_400).expect("list");
    v.install_trust_list(&list, now).expect("installed");
    v
}

/// The citizen's phone: opens a link the kiosk shows as a QR code (a face check, a payment) with
/// a plain HTTP GET; an error status is an error.
pub fn phone(url: &str) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let r = reqwest::get(url).await?;
        anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
        Ok(())
    })
}
