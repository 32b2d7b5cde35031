//! `zizhu flow …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu flow`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu flow`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu flow is not built yet")
}
