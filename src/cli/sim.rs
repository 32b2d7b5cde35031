//! `zizhu sim idcard|printer|scanner --link PATH`: a simulated device on a pseudo-terminal whose
//! path is linked at PATH, speaking the real wire protocol, until killed. Commands on stdin change
//! its state (place a card, inject a fault, unplug, plug); the scanner scans each stdin line.
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use zizhu_drivers::idcard::card::{samples, CardData};
use zizhu_drivers::{idcard, printer, scanner};

/// Subcommands of `zizhu sim`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// A SAM ID-card reader. Stdin: `place N`, `remove`, `fault NAME`, `unplug`, `plug`, `quit`.
    Idcard {
        /// Where to link the pty (what drivers open as --port).
        #[arg(long)]
        link: PathBuf,
        /// JSON array of cards (the `card` objects of `zizhu idcard decode --json`); default: one
        /// synthetic card of every kind.
        #[arg(long)]
        cards: Option<PathBuf>,
        /// Card placed at start (index into the cards).
        #[arg(long, default_value_t = 0)]
        place: usize,
        /// Start with no card on the reader.
        #[arg(long, conflicts_with = "place")]
        empty: bool,
        /// Fault at start: none, no-card, read-error, select-error, sam-fault, silence, sw3=XX.
        #[arg(long, default_value = "none")]
        fault: String,
    },
    /// An ESC/POS printer saving each job as .bin and .png. Stdin: `fault NAME`, `unplug`,
    /// `plug`, `quit`.
    Printer {
        /// Where to link the pty.
        #[arg(long)]
        link: PathBuf,
        /// Directory for job-NNNN.bin / job-NNNN.png.
        #[arg(long)]
        out_dir: PathBuf,
        /// Fault at start: none, paper-end, near-end, cover-open, cutter-error, silence.
        #[arg(long, default_value = "none")]
        fault: String,
    },
    /// A serial QR scanner: each line typed on stdin is scanned.
    Scanner {
        /// Where to link the pty.
        #[arg(long)]
        link: PathBuf,
        /// Suffix after each code: crlf, cr, lf, none.
        #[arg(long, default_value = "crlf")]
        suffix: String,
    },
}

/// Runs `zizhu sim`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Idcard {
            link,
            cards,
            place,
            empty,
            fault,
        } => {
            let cards: Vec<CardData> = match cards {
                None => samples(),
                Some(f) => {
                    let text = std::fs::read_to_string(&f)
                        .with_context(|| format!("reading {}", f.display()))?;
                    match serde_json::from_str(&text) {
                        Ok(c) => c,
                        Err(e) => {
                            return crate::error::usage(format!(
                                "{} is not a JSON array of cards: {e}",
                                f.display()
                            ))
                        }
                    }
                }
            };
            for (i, c) in cards.iter().enumerate() {
                if let Err(e) = idcard::card::encode_text(c) {
                    return crate::error::usage(format!("card {i}: {e}"));
                }
            }
            let Some(fault) = idcard::sim::Fault::parse(&fault) else {
                return crate::error::usage(format!("unknown --fault {fault:?}; use none, no-card, read-error, select-error, sam-fault, silence or sw3=XX"));
            };
            if !empty && place >= cards.len() {
                return crate::error::usage(format!(
                    "--place {place}: there are only {} cards",
                    cards.len()
                ));
            }
            let sim = idcard::sim::Simulator::spawn(&link, cards)
                .with_context(|| format!("creating a pty at {}", link.display()))?;
            if !empty {
                sim.place(place);
            }
            sim.set_fault(fault);
            announce(
                "ID-card reader",
                &link,
                "place N | remove | fault NAME | unplug | plug | quit",
            );
            serve_stdin(|words| match words {
                ["place", n] => match n.parse() {
                    Ok(i) if sim.place(i) => Ok(()),
                    _ => Err(format!("no card {n}")),
                },
                ["remove"] => {
                    sim.remove();
                    Ok(())
                }
                ["fault", f] => idcard::sim::Fault::parse(f)
                    .map(|f| sim.set_fault(f))
                    .ok_or(format!("unknown fault {f}")),
                ["unplug"] => {
                    sim.unplug();
                    Ok(())
                }
                ["plug"] => {
                    sim.plug();
                    Ok(())
                }
                _ => Err("unknown command".into()),
            })
        }
        Command::Printer {
            link,
            out_dir,
            fault,
        } => {
            let Some(fault) = printer::sim::Fault::parse(&fault) else {
                return crate::error::usage(format!("unknown --fault {fault:?}; use none, paper-end, near-end, cover-open, cutter-error or silence"));
            };
            let sim = printer::sim::Simulator::spawn(&link, Some(&out_dir))
                .with_context(|| format!("creating a pty at {}", link.display()))?;
            sim.set_fault(fault);
            announce(
                "ESC/POS printer",
                &link,
                "fault NAME | unplug | plug | quit",
            );
            serve_stdin(|words| match words {
                ["fault", f] => printer::sim::Fault::parse(f)
                    .map(|f| sim.set_fault(f))
                    .ok_or(format!("unknown fault {f}")),
                ["unplug"] => {
                    sim.unplug();
                    Ok(())
                }
                ["plug"] => {
                    sim.plug();
                    Ok(())
                }
                _ => Err("unknown command".into()),
            })
        }
        Command::Scanner { link, suffix } => {
            let Some(suffix) = scanner::sim::Suffix::parse(&suffix) else {
                return crate::error::usage(format!(
                    "unknown --suffix {suffix:?}; use crlf, cr, lf or none"
                ));
            };
            let sim = scanner::sim::Simulator::spawn(&link)
                .with_context(|| format!("creating a pty at {}", link.display()))?;
            sim.set_suffix(suffix);
            announce("QR scanner", &link, "each line is scanned");
            // A code holds bytes, not necessarily UTF-8 (GBK text, binary payloads): each line
            // of stdin is scanned exactly as given, whatever its bytes.
            let stdin = std::io::stdin();
            for line in stdin.lock().split(b'\n') {
                let mut line = line.context("reading stdin")?;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if !line.is_empty() {
                    sim.scan_bytes(&line);
                }
            }
            park()
        }
    }
}

fn announce(what: &str, link: &Path, commands: &str) {
    eprintln!("simulated {what} at {} (stdin: {commands})", link.display());
    println!("ready {}", link.display());
}

fn serve_stdin(mut f: impl FnMut(&[&str]) -> Result<(), String>) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin();
    for line in stdin.lock().split(b'\n') {
        let line = line.context("reading stdin")?;
        let Ok(line) = String::from_utf8(line) else {
            eprintln!("error: not a command (the line is not UTF-8 text)");
            continue;
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [] => {}
            ["quit"] => return Ok(ExitCode::SUCCESS),
            w => match f(w) {
                Ok(()) => eprintln!("ok"),
                Err(e) => eprintln!("error: {e}"),
            },
        }
    }
    park()
}

/// Stdin closed (a service or a test with no terminal): keep serving until killed.
fn park() -> anyhow::Result<ExitCode> {
    loop {
        std::thread::park();
    }
}
