//! `zizhu sim …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu sim`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu sim`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu sim is not built yet")
}
