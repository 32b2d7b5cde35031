//! `zizhu config …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu config`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu config`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu config is not built yet")
}
