//! `zizhu image …` and `zizhu flash` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu image`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Arguments of `zizhu flash`.
#[derive(clap::Args, Debug)]
pub struct FlashArgs {}

/// Runs `zizhu image`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu image is not built yet")
}

/// Runs `zizhu flash`.
pub fn flash(_args: FlashArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu flash is not built yet")
}
