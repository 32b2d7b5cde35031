//! `zizhu receipt …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu receipt`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu receipt`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu receipt is not built yet")
}
