//! Shared helpers for the integration tests: run the real `zizhu` binary, temporary directories.
#![allow(dead_code)]
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
