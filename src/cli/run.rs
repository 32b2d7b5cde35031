//! `zizhu run` (placeholder until its issue lands).
use std::process::ExitCode;

/// Arguments of `zizhu run`.
#[derive(clap::Args, Debug, Default)]
pub struct Args {}

/// Runs `zizhu run`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu run is not built yet")
}
