//! `zizhu fleet …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu fleet`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu fleet`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu fleet is not built yet")
}
