//! `zizhu platform` (placeholder until its issue lands).
use std::process::ExitCode;

/// Arguments of `zizhu platform`.
#[derive(clap::Args, Debug, Default)]
pub struct Args {}

/// Runs `zizhu platform`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu platform is not built yet")
}
