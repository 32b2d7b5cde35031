//! `zizhu config check FILE`: validate a kiosk configuration before it goes on a kiosk.
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{Config, ConfigError};
use crate::error::usage;

/// Subcommands of `zizhu config`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Validate a kiosk config file; exit 2 naming the bad key.
    Check {
        /// The config file (TOML), e.g. /etc/zizhu/kiosk.toml.
        file: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `zizhu config`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Check { file, json } => match Config::load(&file) {
            Ok(c) => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": true, "kiosk_id": c.kiosk_id, "site": c.site})
                    );
                } else {
                    println!("{}: ok (kiosk {}, {})", file.display(), c.kiosk_id, c.site);
                }
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                if json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": false, "error": e.to_string()})
                    );
                }
                match e {
                    ConfigError::Read { .. } => usage(format!("{e}")),
                    _ => usage(format!("{}: {e}", file.display())),
                }
            }
        },
    }
}
