//! `zizhu config check FILE`: validate a kiosk configuration before it goes on a kiosk;
//! `zizhu config hash-pin`: hash a technician PIN for `[maintenance] pin_hash`.
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::config::{Config, ConfigError};
use crate::error::usage;
use crate::maintenance;

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
    /// Hash a technician PIN (6-12 digits) read from stdin, or from `--pin-file`, and print the
    /// Argon2id PHC string for `[maintenance] pin_hash` in kiosk.toml.
    HashPin {
        /// Read the PIN from this file instead of stdin (one line).
        #[arg(long, value_name = "FILE")]
        pin_file: Option<PathBuf>,
    },
}

/// The PIN from stdin or a file: the first line, without its line ending.
fn read_pin(pin_file: Option<&PathBuf>) -> anyhow::Result<zeroize::Zeroizing<String>> {
    let mut raw = zeroize::Zeroizing::new(String::new());
    match pin_file {
        Some(f) => {
            let mut file = match std::fs::File::open(f) {
                Ok(file) => file,
                Err(e) => return usage(format!("cannot read the PIN file {}: {e}", f.display())),
            };
            if let Err(e) = file.read_to_string(&mut raw) {
                return usage(format!("cannot read the PIN file {}: {e}", f.display()));
            }
        }
        None => {
            if let Err(e) = std::io::stdin().read_to_string(&mut raw) {
                return usage(format!("cannot read the PIN from stdin: {e}"));
            }
        }
    }
    let line = raw.lines().next().unwrap_or_default();
    Ok(zeroize::Zeroizing::new(
        line.trim_end_matches('\r').to_string(),
    ))
}

/// Runs `zizhu config`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::HashPin { pin_file } => {
            let pin = read_pin(pin_file.as_ref())?;
            if let Err(e) = maintenance::validate_pin(&pin) {
                return usage(format!("{e}; give it on stdin or with --pin-file"));
            }
            let phc = maintenance::hash_pin(&pin)?;
            println!("{phc}");
            eprintln!("put it in kiosk.toml:\n[maintenance]\npin_hash = \"{phc}\"");
            Ok(ExitCode::SUCCESS)
        }
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
