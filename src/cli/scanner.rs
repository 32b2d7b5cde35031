//! `zizhu scanner …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu scanner`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu scanner`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu scanner is not built yet")
}
