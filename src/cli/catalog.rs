//! `zizhu catalog …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu catalog`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu catalog`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu catalog is not built yet")
}
