//! `zizhu elicense …` (placeholder until its issue lands).
use std::process::ExitCode;

/// Subcommands of `zizhu elicense`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Not built yet.
    Todo,
}

/// Runs `zizhu elicense`.
pub fn run(_cmd: Command) -> anyhow::Result<ExitCode> {
    anyhow::bail!("zizhu elicense is not built yet")
}
