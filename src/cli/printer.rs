//! `zizhu printer …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu printer`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu printer`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu printer is not built yet")
}
