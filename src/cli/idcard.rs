//! `zizhu idcard …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu idcard`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu idcard`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu idcard is not built yet")
}
