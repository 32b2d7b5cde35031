//! `zizhu idcard read|decode`: read a card from a SAM reader (GA 467) on a serial port, or decode a
//! raw read response given as hex or a file. JSON field names are documented in docs/devices.md.
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::term::safe;
use anyhow::Context;
use zizhu_drivers::idcard::card::{parse_read_data, CardData, CardRead};
use zizhu_drivers::idcard::protocol::{decode_frame, parse_hex, SamCode};
use zizhu_drivers::idcard::{CardReader, SamReader};
use zizhu_drivers::privacy::mask;

/// Subcommands of `zizhu idcard`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Read the card on a reader (find, select, read).
    Read {
        /// Serial device of the reader (e.g. /dev/ttyUSB0, or a simulator's link).
        #[arg(long)]
        port: PathBuf,
        /// Baud rate.
        #[arg(long, default_value_t = 115_200)]
        baud: u32,
        /// Seconds to wait for a card to be placed.
        #[arg(long, default_value_t = 10)]
        wait: u64,
        /// Read fingerprints too (command 30 10).
        #[arg(long)]
        fingerprint: bool,
        /// Show name, ID number and address in full (the text output masks them by default).
        #[arg(long)]
        unmasked: bool,
        /// Print JSON (always unmasked: it is for programs).
        #[arg(long)]
        json: bool,
    },
    /// Decode a raw read response (a whole frame, AA AA AA 96 69 …).
    Decode {
        /// The frame as hex (spaces, ':' and '-' allowed).
        #[arg(long, conflicts_with = "file", required_unless_present = "file")]
        hex: Option<String>,
        /// A file holding the frame, raw bytes or hex text.
        #[arg(long)]
        file: Option<PathBuf>,
        /// Show name, ID number and address in full.
        #[arg(long)]
        unmasked: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `zizhu idcard`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Read {
            port,
            baud,
            wait,
            fingerprint,
            unmasked,
            json,
        } => {
            let p = zizhu_drivers::transport::open_serial(&port, baud, Duration::from_millis(20))
                .with_context(|| {
                format!(
                    "opening the reader at {}; check --port and permissions (dialout group)",
                    port.display()
                )
            })?;
            let mut r = SamReader::new(p);
            r.sam_status()
                .context("the reader's security module (SAM) check failed")?;
            let sam_id = r.sam_id().ok();
            let deadline = Instant::now() + Duration::from_secs(wait);
            loop {
                if r.find().context("finding a card")? {
                    break;
                }
                if Instant::now() >= deadline {
                    anyhow::bail!("no card on the reader after {wait} s; place the card flat on the reader and try again");
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            r.select().context("selecting the card; place it again")?;
            let read = r
                .read(fingerprint)
                .context("reading the card; hold it still and try again")?;
            print(&read, sam_id.as_deref(), json, unmasked)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Decode {
            hex,
            file,
            unmasked,
            json,
        } => {
            let bytes = match (hex, file) {
                (Some(h), _) => match parse_hex(&h) {
                    Some(b) => b,
                    None => return crate::error::usage("--hex is not valid hex; give the frame as pairs of hex digits (AA AA AA 96 69 …)"),
                },
                (None, Some(f)) => {
                    let raw = std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
                    if raw.starts_with(&[0xAA]) || raw.contains(&0x96) && !raw.is_ascii() {
                        raw
                    } else {
                        match std::str::from_utf8(&raw).ok().and_then(parse_hex) {
                            Some(b) => b,
                            None => return crate::error::usage(format!("{} is neither a raw frame nor hex text", f.display())),
                        }
                    }
                }
                (None, None) => return crate::error::usage("give --hex HEX or --file FILE"),
            };
            let frame = match decode_frame(&bytes) {
                Ok(f) => f,
                Err(e) => return crate::error::usage(format!("not a valid reader frame: {e}; give the whole response from AA AA AA 96 69 to the checksum")),
            };
            match frame.sw3() {
                Some(0x90) => {}
                Some(sw3) => {
                    let what = SamCode::from_sw3(sw3)
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| format!("status {sw3:02X}"));
                    anyhow::bail!("the reader answered with an error, not card data: {what}");
                }
                None => return crate::error::usage("the frame is too short to be a read response"),
            }
            let read = match parse_read_data(frame.data()) {
                Ok(r) => r,
                Err(e) => {
                    return crate::error::usage(format!("not a read response (30 01 / 30 10): {e}"))
                }
            };
            print(&read, None, json, unmasked)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The JSON document of `zizhu idcard read|decode --json`.
#[derive(serde::Serialize)]
struct Output<'a> {
    card: &'a CardData,
    photo_wlt_bytes: usize,
    fingerprint_bytes: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    sam_id: Option<&'a str>,
}

fn print(read: &CardRead, sam_id: Option<&str>, json: bool, unmasked: bool) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let doc = Output {
            card: &read.card,
            photo_wlt_bytes: read.photo_wlt.len(),
            fingerprint_bytes: read.fingerprint.len(),
            sam_id,
        };
        writeln!(out, "{}", crate::term::json_pretty(&doc)?)?;
        return Ok(());
    }
    // Every text field came from the card: shown through term::safe, never raw.
    let c = &read.card;
    let t = |s: &str| safe(s).into_owned();
    let m = |s: &str| {
        if unmasked {
            t(s)
        } else {
            t(&mask(s))
        }
    };
    let check = match c.id_number_check {
        zizhu_drivers::idcard::IdCheck::Ok => "check digit ok",
        zizhu_drivers::idcard::IdCheck::Bad => "CHECK DIGIT WRONG",
        zizhu_drivers::idcard::IdCheck::NotApplicable => "no check digit",
    };
    writeln!(out, "kind:        {}", c.kind.zh())?;
    if !c.name.is_empty() {
        writeln!(out, "name:        {}", m(&c.name))?;
    }
    if let Some(en) = &c.name_en {
        writeln!(out, "name (en):   {}", m(en))?;
    }
    writeln!(out, "sex:         {} ({})", c.sex.zh(), t(&c.sex_code))?;
    if let (Some(code), nation) = (&c.nation_code, &c.nation) {
        writeln!(
            out,
            "nation:      {} ({})",
            t(nation.as_deref().unwrap_or("?")),
            t(code)
        )?;
    }
    if let Some(n) = &c.nationality {
        writeln!(out, "nationality: {}", t(n))?;
    }
    writeln!(out, "birth date:  {}", t(&c.birth_date))?;
    if let Some(a) = &c.address {
        writeln!(out, "address:     {}", m(a))?;
    }
    writeln!(out, "ID number:   {} ({check})", m(&c.id_number))?;
    if let Some(a) = c.authority.as_ref().or(c.authority_code.as_ref()) {
        writeln!(out, "authority:   {}", t(a))?;
    }
    let to = if c.valid_long_term {
        "长期 (long-term)".to_string()
    } else {
        c.valid_to.clone().unwrap_or_default()
    };
    writeln!(out, "valid:       {} – {}", t(&c.valid_from), t(&to))?;
    for (k, v) in [
        ("pass number", &c.pass_number),
        ("issue count", &c.issue_count),
        ("renewals", &c.renewal_count),
        ("card version", &c.card_version),
        ("old permit", &c.old_permit_link),
    ] {
        if let Some(v) = v {
            writeln!(out, "{:<12} {}", format!("{k}:"), t(v))?;
        }
    }
    writeln!(
        out,
        "photo:       {} bytes WLT (decoding needs the vendor plugin)",
        read.photo_wlt.len()
    )?;
    if !read.fingerprint.is_empty() {
        writeln!(out, "fingerprint: {} bytes", read.fingerprint.len())?;
    }
    if let Some(s) = sam_id {
        writeln!(out, "SAM ID:      {}", t(s))?;
    }
    Ok(())
}
