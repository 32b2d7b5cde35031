//! `zizhu scanner listen --port DEV`: print each scanned code (duplicates within 1.5 s once).
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc::channel;
use std::time::Duration;

use anyhow::Context;
use zizhu_drivers::scanner::{self, ScannerEvent, Trigger};

/// Subcommands of `zizhu scanner`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print scanned codes as they come (one per line), until interrupted or `--count` codes.
    Listen {
        /// Scanner device (e.g. /dev/ttyACM0, or a simulator's link).
        #[arg(long)]
        port: PathBuf,
        /// Baud rate.
        #[arg(long, default_value_t = 9600)]
        baud: u32,
        /// Send a trigger command first: honeywell or newland.
        #[arg(long)]
        trigger: Option<String>,
        /// Exit after this many codes.
        #[arg(long)]
        count: Option<usize>,
        /// One JSON object per code: {"text": …, "charset": "utf8"|"gb18030"}.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `zizhu scanner`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let Command::Listen {
        port,
        baud,
        trigger,
        count,
        json,
    } = cmd;
    let trigger = match trigger.as_deref() {
        None => None,
        Some(t) => match Trigger::parse(t) {
            Some(t) => Some(t),
            None => {
                return crate::error::usage(format!(
                    "unknown --trigger {t:?}; use honeywell or newland"
                ))
            }
        },
    };
    // Fail fast on a wrong path; the worker then owns the port and reopens it if it goes away.
    drop(
        zizhu_drivers::transport::open_serial(&port, baud, Duration::from_millis(20))
            .with_context(|| {
                format!(
                    "opening the scanner at {}; check --port and permissions (dialout group)",
                    port.display()
                )
            })?,
    );
    let (tx, rx) = channel();
    let mut cfg = scanner::WorkerConfig::new(&port);
    cfg.baud = baud;
    cfg.trigger = trigger;
    let worker = scanner::spawn_worker(cfg, tx)?;
    let mut seen = 0;
    while count.is_none_or(|c| seen < c) {
        match rx.recv() {
            Ok(ScannerEvent::Code(scan)) => {
                seen += 1;
                // The scanned text is whatever the code held: never raw to the terminal.
                if json {
                    println!("{}", crate::term::json(&scan)?);
                } else {
                    println!("{}", crate::term::safe(&scan.text));
                }
            }
            Ok(ScannerEvent::Dropped { len }) => {
                eprintln!("warning: a {len}-byte message was dropped (over 4 KiB)")
            }
            Ok(ScannerEvent::Health(h)) => {
                if let Some(r) = h.reason {
                    eprintln!("scanner: {r}");
                }
            }
            Err(_) => break,
        }
    }
    worker.stop();
    Ok(ExitCode::SUCCESS)
}
