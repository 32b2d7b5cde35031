//! `zizhu screenshot` (placeholder until its issue lands).
use std::process::ExitCode;

/// Arguments of `zizhu screenshot`.
#[derive(clap::Args, Debug, Default)]
pub struct Args {}

/// Runs `zizhu screenshot`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu screenshot is not built yet")
}
