//! `zizhu staff issue-code|verify`: staff codes for staff sign-in (帮办员), for technicians and
//! tests. `issue-code` is the demo issuer (the demo platform's public-seed staff key, in the demo
//! trust list with usage `staff`; or a key file from `zizhu elicense keygen`): a real platform
//! issues codes from its staff app. `verify` checks a code as a kiosk would, against the demo
//! trust list, without recording its use. The format and the refusals are in
//! `zizhu_core::staff` and docs/design.md, "Identification".
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};
use serde_json::json;

use crate::elicense::TrustList;
use crate::error::usage;
use crate::staff::{self, Binding, StaffClaims};

/// `zizhu staff …`
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print a staff code (text that can also be shown as a QR code).
    IssueCode(IssueArgs),
    /// Check a staff code as the kiosk at SITE / KIOSK would (nothing is recorded).
    Verify(VerifyArgs),
}

/// `zizhu staff issue-code`
#[derive(ClapArgs, Debug)]
pub struct IssueArgs {
    /// The staff number (工号), e.g. 0012.
    #[arg(long, value_name = "NUMBER")]
    pub staff_id: String,
    /// The helper's name (shown masked at the kiosk: 张*).
    #[arg(long)]
    pub name: String,
    /// Bind the code to this site (the kiosk's `[kiosk] site`).
    #[arg(long)]
    pub site: Option<String>,
    /// Bind the code to this kiosk (the kiosk's `[kiosk] id`).
    #[arg(long, value_name = "ID")]
    pub kiosk: Option<String>,
    /// Seconds the code stays valid (at most 3600).
    #[arg(long, default_value_t = 300)]
    pub ttl: i64,
    /// Issue time as Unix seconds (tests: an expired or future code); default now.
    #[arg(long, value_name = "UNIX")]
    pub at: Option<i64>,
    /// Sign with this key file (from `zizhu elicense keygen`) instead of the demo staff key.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// JSON output (the code, its id, expiry).
    #[arg(long)]
    pub json: bool,
}

/// `zizhu staff verify`
#[derive(ClapArgs, Debug)]
pub struct VerifyArgs {
    /// The code (`ST1:…`).
    pub code: String,
    /// The kiosk's site.
    #[arg(long)]
    pub site: String,
    /// The kiosk's id.
    #[arg(long, value_name = "ID")]
    pub kiosk: String,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

/// Runs `zizhu staff …`.
pub fn run(c: Command) -> anyhow::Result<ExitCode> {
    match c {
        Command::IssueCode(a) => issue(a),
        Command::Verify(a) => verify(a),
    }
}

fn issue(a: IssueArgs) -> anyhow::Result<ExitCode> {
    if a.site.is_none() && a.kiosk.is_none() {
        return usage("bind the code: give --site NAME, --kiosk ID or both");
    }
    if !(1..=staff::MAX_LIFETIME).contains(&a.ttl) {
        return usage(format!("--ttl is 1 to {} seconds", staff::MAX_LIFETIME));
    }
    let key = match &a.key {
        Some(p) => super::elicense::read_key_file(p)?,
        None => crate::elicense::demo::staff_key()?,
    };
    let iat = a.at.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let claims = StaffClaims {
        code_id: staff::random_code_id()?,
        staff_id: a.staff_id.clone(),
        name: a.name.clone(),
        site: a.site.clone(),
        kiosk: a.kiosk.clone(),
        iat,
        exp: iat + a.ttl,
    };
    let code = match staff::issue(&key, &claims) {
        Ok(c) => c,
        Err(e) => return usage(e.to_string()),
    };
    if a.json {
        println!(
            "{}",
            crate::term::json(&json!({
                "code": code, "code_id": hex::encode(claims.code_id),
                "staff_id": claims.staff_id, "iat": claims.iat, "exp": claims.exp,
                "kid": hex::encode(key.public_key().kid()),
            }))?
        );
    } else {
        println!("{code}");
    }
    Ok(ExitCode::SUCCESS)
}

fn verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let now = chrono::Utc::now().timestamp();
    let raw = crate::elicense::demo::current_trust_list(now)?;
    let list = TrustList::open(&raw, &crate::elicense::demo::roots()?)?;
    let binding = Binding {
        site: a.site,
        kiosk_id: a.kiosk,
    };
    match staff::verify(&a.code, &list.keys, &binding, now) {
        Ok(c) => {
            if a.json {
                println!(
                    "{}",
                    crate::term::json(&json!({
                        "ok": true, "staff_id": c.staff_id, "name": staff::mask_staff_name(&c.name),
                        "code_id": c.code_id, "exp": c.exp, "kid": c.kid,
                    }))?
                );
            } else {
                println!(
                    "ok: staff {} ({}), code {}, expires {}",
                    crate::term::safe(&c.staff_id),
                    crate::term::safe(&staff::mask_staff_name(&c.name)),
                    c.code_id,
                    c.exp
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if a.json {
                println!(
                    "{}",
                    crate::term::json(
                        &json!({"ok": false, "refused": e.kind(), "message": e.to_string()})
                    )?
                );
            } else {
                println!("refused ({}): {e}", e.kind());
            }
            Ok(ExitCode::FAILURE)
        }
    }
}
