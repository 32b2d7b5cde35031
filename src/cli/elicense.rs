//! `zizhu elicense verify|keygen|issue|trust-list|demo-code`: check a scanned e-licence code
//! against keys or a signed trust list, make keys, presentations, tickets and trust lists for demos
//! and tests, and fetch a synthetic person's code from a demo platform (docs/elicense.md).
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use zeroize::Zeroizing;

use crate::elicense::{
    self, issue, lid, store, trust, types, Alg, Error, Issuer, Licence, PresentationClaims,
    SecretKey, Verified, Verifier,
};
use crate::error::usage;

/// Subcommands of `zizhu elicense`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Verify a scanned code (EL1 presentation, ET1 ticket). Exit 0 valid, 1 rejected, 2 usage.
    Verify(VerifyArgs),
    /// Make a key pair (ES256 or SM2) as a JSON key file.
    Keygen {
        /// es256 or sm2.
        #[arg(long)]
        alg: String,
        /// Write the key file here (mode 0600) instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Deterministic key from this seed (tests and demos only, never for real keys).
        #[arg(long, hide = true)]
        seed: Option<String>,
    },
    /// Issue a presentation (EL1) or, with --ticket, an online ticket (ET1).
    Issue(Box<IssueArgs>),
    /// Trust lists: sign one, show one.
    #[command(subcommand)]
    TrustList(TrustListCommand),
    /// Fetch a code (EL1 presentation or ET1 ticket) for a synthetic person from a demo platform,
    /// as the government app would show it. Exit 0 printed, 1 platform failed, 2 bad usage.
    DemoCode(DemoCodeArgs),
}

/// Arguments of `zizhu elicense verify`.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The scanned text (`-` reads it from standard input).
    pub payload: String,
    /// A signed trust list (COSE bytes, as served by the platform); needs --root.
    #[arg(long, conflicts_with = "keys")]
    pub trust: Option<PathBuf>,
    /// Pinned root key for --trust, `es256:04…` or `sm2:04…` (give one or two).
    #[arg(long)]
    pub root: Vec<String>,
    /// An unsigned key list (JSON: {"keys": [{"alg", "kid"?, "public_key", "iss", "types"}]}).
    #[arg(long)]
    pub keys: Option<PathBuf>,
    /// Trust the built-in demo roots and demo trust list (what `issue --demo` signs with).
    #[arg(long, conflicts_with_all = ["keys", "trust"])]
    pub demo: bool,
    /// Validation clock (RFC 3339); default now.
    #[arg(long)]
    pub now: Option<String>,
    /// SQLite file keeping the replay cache and the trust list between runs.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `zizhu elicense issue`.
#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    /// Issuer key file (from `zizhu elicense keygen`).
    #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
    pub key: Option<PathBuf>,
    /// Sign with the built-in demo issuer (insecure public-seed keys; pairs with `verify --demo`).
    #[arg(long)]
    pub demo: bool,
    /// Algorithm of the demo issuer key: es256 or sm2.
    #[arg(long, default_value = "es256", requires = "demo")]
    pub alg: String,
    /// Issuer id (`iss`), e.g. GD-YSS (default GD-DEMO with --demo).
    #[arg(long, required_unless_present = "demo")]
    pub iss: Option<String>,
    /// Licence type code (21 characters), or a demo type name: identity, household, marriage,
    /// divorce, business, driving, vehicle, realestate, socialsecurity, residence, disability,
    /// birth, academic, veteran (catalog ids such as marriage-cert work too).
    #[arg(long = "type", required_unless_present = "ticket")]
    pub licence_type: Option<String>,
    /// Issue an online ticket with this reference (text) instead of a presentation.
    #[arg(long, conflicts_with = "licence_type")]
    pub ticket: Option<String>,
    /// 证照标识; built from type, --org-code, --serial and version 001 when absent.
    #[arg(long)]
    pub lid: Option<String>,
    /// Serial for the built identifier (random when absent).
    #[arg(long)]
    pub serial: Option<String>,
    /// Licence number (证照编号).
    #[arg(long)]
    pub number: Option<String>,
    /// Holder name as the kiosk may show it (masked, e.g. 张*三).
    #[arg(long)]
    pub name: Option<String>,
    /// Holder ID as the kiosk may show it (masked, e.g. 4401**********123X).
    #[arg(long)]
    pub holder_id: Option<String>,
    /// Issuing organ name.
    #[arg(long)]
    pub org_name: Option<String>,
    /// Issuing organ USCC (default a demo code).
    #[arg(long, default_value = "11440100MB2C00001X")]
    pub org_code: String,
    /// Date of issue, YYYY-MM-DD.
    #[arg(long)]
    pub issued: Option<String>,
    /// Valid until, YYYY-MM-DD or 长期.
    #[arg(long)]
    pub valid_to: Option<String>,
    /// Purpose / service item code.
    #[arg(long)]
    pub purpose: Option<String>,
    /// Disclosed extra field NAME=VALUE (repeatable).
    #[arg(long = "field")]
    pub fields: Vec<String>,
    /// Issue time (RFC 3339); default now.
    #[arg(long)]
    pub now: Option<String>,
    /// Lifetime in seconds (default 300 for presentations, 120 for tickets).
    #[arg(long)]
    pub ttl: Option<i64>,
    /// Also print the code as a QR code in the terminal.
    #[arg(long)]
    pub qr: bool,
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `zizhu elicense demo-code`.
#[derive(clap::Args, Debug)]
pub struct DemoCodeArgs {
    /// The synthetic person's ID number (18 characters, valid check character).
    #[arg(long)]
    pub id_number: String,
    /// Catalog licence id: identity, household-register, marriage-cert, … (must be one the
    /// synthetic person holds).
    #[arg(long, default_value = "identity")]
    pub licence: String,
    /// An ET1 online ticket instead of an EL1 presentation.
    #[arg(long)]
    pub ticket: bool,
    /// Signing algorithm of the demo issuer: es256 or sm2 (the platform's default is sm2).
    #[arg(long)]
    pub alg: Option<String>,
    /// Base URL of the demo platform, e.g. http://127.0.0.1:8700.
    #[arg(long)]
    pub platform: String,
    /// Also print the code as a QR code in the terminal.
    #[arg(long)]
    pub qr: bool,
    /// Machine-readable output ({"payload", "expires_at"}).
    #[arg(long)]
    pub json: bool,
}

/// Subcommands of `zizhu elicense trust-list`.
#[derive(clap::Subcommand, Debug)]
pub enum TrustListCommand {
    /// Sign a trust list with a root key.
    Sign {
        /// Root key file (from keygen).
        #[arg(long)]
        root_key: PathBuf,
        /// Issuer keys (the --keys JSON format; not_before/not_after allowed).
        #[arg(long)]
        keys: PathBuf,
        /// Sequence number (must be above the one the kiosks hold).
        #[arg(long)]
        seq: u64,
        /// Issue time (RFC 3339); default now.
        #[arg(long)]
        now: Option<String>,
        /// Maximum age in seconds (default 7 days).
        #[arg(long, default_value_t = 7 * 86400)]
        max_age: i64,
        /// Seconds until the next planned list (default 1 day).
        #[arg(long, default_value_t = 86400)]
        next_update: i64,
        /// Revoked licence identifier (repeatable).
        #[arg(long)]
        revoke: Vec<String>,
        /// Output file (COSE bytes).
        #[arg(long)]
        out: PathBuf,
    },
    /// Show a trust list after checking its signature.
    Show {
        /// The list (COSE bytes).
        file: PathBuf,
        /// Pinned root key, `es256:04…` or `sm2:04…` (one or two).
        #[arg(long, required = true)]
        root: Vec<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

/// Runs `zizhu elicense`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Verify(a) => verify(a),
        Command::Keygen { alg, out, seed } => keygen(&alg, out.as_deref(), seed.as_deref()),
        Command::Issue(a) => issue_cmd(*a),
        Command::DemoCode(a) => demo_code(a),
        Command::TrustList(TrustListCommand::Sign {
            root_key,
            keys,
            seq,
            now,
            max_age,
            next_update,
            revoke,
            out,
        }) => {
            let root = read_key_file(&root_key)?;
            let keys = read_key_list(&keys)?;
            let iat = parse_now(now.as_deref())?.timestamp();
            let content = elicense::TrustListContent {
                seq,
                iat,
                next_update: iat + next_update,
                max_age,
                keys,
                revoked_identifiers: revoke,
            };
            let raw = elicense::sign_trust_list(&root, &content)?;
            std::fs::write(&out, &raw).with_context(|| format!("writing {}", out.display()))?;
            eprintln!(
                "trust list seq {seq} with {} keys written to {}; pin root {}",
                content.keys.len(),
                out.display(),
                trust::format_root(&root.public_key())
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::TrustList(TrustListCommand::Show { file, root, json }) => {
            let roots = parse_roots(&root)?;
            let raw =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let list = elicense::TrustList::open(&raw, &roots)?;
            let keys: Vec<_> = list.keys.iter().map(trust::KeyListFile::entry).collect();
            let v = serde_json::json!({
                "seq": list.seq, "iat": list.iat, "next_update": list.next_update,
                "max_age": list.max_age, "keys": keys,
                "revoked": list.revoked.iter().map(hex::encode).collect::<Vec<_>>(),
            });
            if json {
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                println!(
                    "trust list seq {} issued {} max age {} s, {} keys, {} revoked",
                    list.seq,
                    fmt_time(list.iat),
                    list.max_age,
                    list.keys.len(),
                    list.revoked.len()
                );
                for k in &keys {
                    println!(
                        "  {} {} iss {} types {}",
                        k.alg,
                        k.kid.as_deref().unwrap_or(""),
                        k.iss,
                        k.types.join(",")
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn fmt_time(t: i64) -> String {
    DateTime::from_timestamp(t, 0).map_or_else(|| t.to_string(), |d| d.to_rfc3339())
}

fn parse_now(s: Option<&str>) -> anyhow::Result<DateTime<Utc>> {
    match s {
        None => Ok(Utc::now()),
        Some(s) => match DateTime::parse_from_rfc3339(s) {
            Ok(d) => Ok(d.with_timezone(&Utc)),
            Err(e) => usage(format!(
                "--now {s:?} is not RFC 3339 ({e}); write e.g. 2026-05-01T10:00:00Z"
            )),
        },
    }
}

fn parse_roots(roots: &[String]) -> anyhow::Result<Vec<elicense::PublicKey>> {
    if roots.is_empty() || roots.len() > 2 {
        return usage("give one or two pinned root keys with --root es256:04… (or sm2:04…)");
    }
    let mut out = Vec::new();
    for r in roots {
        match trust::parse_root(r) {
            Ok(k) => out.push(k),
            Err(e) => return usage(format!("--root {r:?}: {e}")),
        }
    }
    Ok(out)
}

fn read_key_list(path: &Path) -> anyhow::Result<Vec<elicense::TrustedKey>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match trust::KeyListFile::parse(&text).and_then(|f| f.to_keys()) {
        Ok(k) => Ok(k),
        Err(e) => usage(format!("{}: {e}", path.display())),
    }
}

/// The JSON key file of `keygen`.
#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    alg: String,
    kid: String,
    public_key: String,
    private_key: String,
}

pub(crate) fn read_key_file(path: &Path) -> anyhow::Result<SecretKey> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
    let f: KeyFile = match serde_json::from_str(&text) {
        Ok(f) => f,
        Err(e) => {
            return usage(format!(
                "{}: not a key file from `zizhu elicense keygen` ({e})",
                path.display()
            ))
        }
    };
    let private = Zeroizing::new(f.private_key);
    let Some(alg) = Alg::parse(&f.alg) else {
        return usage(format!(
            "{}: alg {:?}: use ES256 or SM2",
            path.display(),
            f.alg
        ));
    };
    let Ok(bytes) = hex::decode(private.as_str()).map(Zeroizing::new) else {
        return usage(format!("{}: private_key is not hex", path.display()));
    };
    match SecretKey::from_bytes(alg, &bytes) {
        Ok(k) => Ok(k),
        Err(e) => usage(format!("{}: {e}", path.display())),
    }
}

fn keygen(alg: &str, out: Option<&Path>, seed: Option<&str>) -> anyhow::Result<ExitCode> {
    let Some(alg) = Alg::parse(alg) else {
        return usage(format!("--alg {alg:?}: use es256 or sm2"));
    };
    let key = match seed {
        Some(s) => SecretKey::from_seed(alg, s)?,
        None => SecretKey::generate(alg)?,
    };
    let pk = key.public_key();
    let f = KeyFile {
        alg: alg.name().into(),
        kid: hex::encode(pk.kid()),
        public_key: hex::encode(pk.to_sec1()),
        private_key: hex::encode(key.to_bytes().as_slice()),
    };
    let text = Zeroizing::new(serde_json::to_string_pretty(&f)? + "\n");
    drop(Zeroizing::new(f.private_key));
    match out {
        None => print!("{}", text.as_str()),
        Some(p) => {
            write_private(p, text.as_bytes())?;
            eprintln!(
                "{} key {} written to {}",
                alg.name(),
                hex::encode(pk.kid()),
                p.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(data)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn demo_type(s: &str) -> Option<&'static types::LicenceType> {
    let t = match s.to_ascii_lowercase().as_str() {
        "identity" => &types::IDENTITY_CARD,
        "household" => &types::HOUSEHOLD_REGISTER,
        "marriage" => &types::MARRIAGE_CERTIFICATE,
        "divorce" => &types::DIVORCE_CERTIFICATE,
        "business" => &types::BUSINESS_LICENCE,
        "driving" => &types::DRIVING_LICENCE,
        "vehicle" => &types::VEHICLE_LICENCE,
        "realestate" => &types::REAL_ESTATE_CERTIFICATE,
        "socialsecurity" => &types::SOCIAL_SECURITY_CARD,
        "residence" => &types::RESIDENCE_PERMIT,
        "disability" => &types::DISABILITY_CERTIFICATE,
        "birth" => &types::BIRTH_CERTIFICATE,
        "academic" => &types::ACADEMIC_CERTIFICATE,
        "veteran" => &types::VETERAN_CARD,
        _ => return types::by_code(s).or_else(|| types::by_id(s)),
    };
    Some(t)
}

fn issue_cmd(a: IssueArgs) -> anyhow::Result<ExitCode> {
    let issuer = match &a.key {
        Some(path) => Issuer::new(read_key_file(path)?, a.iss.clone().unwrap_or_default()),
        None => {
            let Some(alg) = Alg::parse(&a.alg) else {
                return usage(format!("--alg {:?}: use es256 or sm2", a.alg));
            };
            let mut i = elicense::demo::issuer(alg)?;
            if let Some(iss) = &a.iss {
                i.iss = iss.clone();
            }
            i
        }
    };
    let now = parse_now(a.now.as_deref())?.timestamp();
    let code = if let Some(reference) = &a.ticket {
        if reference.is_empty() || reference.len() > 64 {
            return usage("--ticket reference must be 1–64 bytes");
        }
        issue::issue_ticket(&issuer, reference.as_bytes(), now, a.ttl.unwrap_or(120))?
    } else {
        let lt_arg = a.licence_type.clone().unwrap_or_default();
        let lt = match demo_type(&lt_arg) {
            Some(t) => t.code.to_string(),
            None if types::is_well_formed(&lt_arg) => lt_arg,
            None => {
                return usage(format!(
                    "--type {lt_arg:?}: give a 21-character licence type code or a demo name (marriage, identity, …)"
                ))
            }
        };
        let identifier = match &a.lid {
            Some(l) => l.clone(),
            None => {
                let serial = match &a.serial {
                    Some(s) => s.clone(),
                    None => hex::encode_upper(issue::random_cti()?)[..20].to_string(),
                };
                match lid::build(&lt, &a.org_code, &serial, "001") {
                    Some(l) => l,
                    None => {
                        return usage(
                            "--org-code and --serial must be upper-case letters and digits",
                        )
                    }
                }
            }
        };
        let mut disclosed = Vec::new();
        for f in &a.fields {
            let Some((name, value)) = f.split_once('=') else {
                return usage(format!("--field {f:?}: write NAME=VALUE"));
            };
            disclosed.push(elicense::Field {
                name: name.into(),
                value: value.into(),
            });
        }
        let licence = Licence {
            licence_type: lt,
            identifier,
            number: a.number.clone(),
            holder_name: a.name.clone(),
            holder_id: a.holder_id.clone(),
            holder_id_type: None,
            org_name: a.org_name.clone(),
            org_code: Some(a.org_code.clone()),
            issued: a.issued.clone(),
            valid_from: None,
            valid_to: a.valid_to.clone(),
            purpose: a.purpose.clone(),
            disclosed,
        };
        let claims = PresentationClaims {
            licence,
            iat: now,
            ttl: a.ttl.unwrap_or(300),
            aud: None,
            cti: None,
        };
        issue::issue_presentation(&issuer, &claims)?
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "payload": code, "length": code.len(), "kid": hex::encode(&issuer.kid),
                "alg": issuer.key.alg().name(), "iat": now,
            }))?
        );
    } else {
        println!("{code}");
    }
    if a.qr {
        print_qr(&code)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn demo_code(a: DemoCodeArgs) -> anyhow::Result<ExitCode> {
    use crate::platform::{api, Client, ClientConfig, PlatformError};
    let id = a.id_number.trim();
    if let Err(e) = crate::platform::demo::data::person(id) {
        let why = match e {
            crate::platform::demo::data::BadId::Shape => "it must be 17 digits and a digit or X",
            crate::platform::demo::data::BadId::CheckDigit => "its check character is wrong",
            crate::platform::demo::data::BadId::BirthDate => "its birth date is not a date",
        };
        return usage(format!(
            "--id-number {}: not a valid ID number ({why}); give a synthetic one such as \
             11010519491231002X",
            zizhu_drivers::privacy::mask(id)
        ));
    }
    if let Some(alg) = &a.alg {
        if Alg::parse(alg).is_none() {
            return usage(format!("--alg {alg:?}: use es256 or sm2"));
        }
    }
    let mut cfg = ClientConfig::new(a.platform.clone(), "demo", "zizhu-cli");
    cfg.attempts = 1;
    let client = match Client::new(cfg) {
        Ok(c) => c,
        Err(e) => return usage(format!("--platform: {e}")),
    };
    let req = api::DemoCodeRequest {
        id_number: id.to_string(),
        licence: a.licence.clone(),
        kind: if a.ticket {
            api::DemoCodeKind::Ticket
        } else {
            api::DemoCodeKind::Presentation
        },
        alg: a.alg.clone(),
    };
    let code = match client.demo_code(&req) {
        Ok(c) => (c.payload, c.expires_at),
        Err(PlatformError::Api { status, error }) if (400..500).contains(&status) => {
            return usage(format!("{} ({})", error.message_en, error.code));
        }
        Err(e) => {
            return Err(anyhow::Error::new(e).context(format!(
                "asking {} for a demo code (is it a demo platform, `zizhu platform`?)",
                a.platform
            )))
        }
    };
    let (payload, expires_at) = code;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"payload": payload, "expires_at": expires_at})
            )?
        );
    } else {
        println!("{payload}");
        eprintln!("valid until {}", fmt_time(expires_at));
    }
    if a.qr {
        print_qr(&payload)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn print_qr(code: &str) -> anyhow::Result<()> {
    use qrcode::render::unicode::Dense1x2;
    let qr = qrcode::QrCode::with_error_correction_level(code.as_bytes(), qrcode::EcLevel::M)
        .context("the code is too long for a QR code")?;
    let text = qr
        .render::<Dense1x2>()
        .dark_color(Dense1x2::Light)
        .light_color(Dense1x2::Dark)
        .quiet_zone(true)
        .build();
    println!("{text}");
    Ok(())
}

fn verify(a: VerifyArgs) -> anyhow::Result<ExitCode> {
    let now = parse_now(a.now.as_deref())?;
    let payload = if a.payload == "-" {
        let mut s = String::new();
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut s)
            .context("reading the code from standard input")?;
        s.trim_end_matches(['\r', '\n']).to_string()
    } else {
        a.payload.clone()
    };
    let payload = Zeroizing::new(payload);
    let store: Box<dyn store::Store> = match &a.db {
        Some(p) => Box::new(store::SqliteStore::open(p)?),
        None => Box::new(store::MemoryStore::default()),
    };
    let verifier =
        match (&a.trust, &a.keys) {
            _ if a.demo => {
                let mut v = Verifier::from_store(elicense::demo::roots()?, store)?;
                // Sequence numbers follow the clock, so a stored demo list is only replaced by a
                // newer one; an equal or older one (rollback) keeps the stored list.
                let list = elicense::demo::trust_list(
                    u64::try_from(now.timestamp()).unwrap_or_default(),
                    now.timestamp() - 60,
                    7 * 86_400,
                )?;
                match v.install_trust_list(&list, now) {
                    Ok(_) | Err(Error::TrustListRollback { .. }) => v,
                    Err(e) => return report(Err(e), a.json),
                }
            }
            (Some(t), None) => {
                let roots = parse_roots(&a.root)?;
                let raw = std::fs::read(t).with_context(|| format!("reading {}", t.display()))?;
                let mut v = Verifier::from_store(roots, store)?;
                if let Err(e) = v.install_trust_list(&raw, now) {
                    return report(Err(e), a.json);
                }
                v
            }
            (None, Some(k)) => {
                if !a.root.is_empty() {
                    return usage("--root goes with --trust, not with --keys");
                }
                Verifier::with_keys(read_key_list(k)?, store)
            }
            _ => return usage(
                "give the issuer keys: --keys FILE (JSON key list), --trust FILE --root ALG:HEX, or --demo",
            ),
        };
    report(verifier.verify(&payload, now), a.json)
}

fn report(result: Result<Verified, Error>, json: bool) -> anyhow::Result<ExitCode> {
    let (value, code) = match &result {
        Ok(Verified::Opaque(_)) => (
            serde_json::json!({
                "valid": false, "route": "opaque", "code": "elicense.opaque",
                "message": "not an offline-verifiable e-licence code; the kiosk sends it to the platform",
                "message_zh": "这个码需要联网核验，请稍候。",
                "message_en": "This code is checked online; please wait.",
            }),
            ExitCode::from(1),
        ),
        Ok(v) => {
            let mut value = serde_json::to_value(v)?;
            if let Some(o) = value.as_object_mut() {
                o.insert("valid".into(), true.into());
            }
            (value, ExitCode::SUCCESS)
        }
        Err(e) => (
            serde_json::json!({
                "valid": false, "code": e.code(), "step": e.step(), "message": e.to_string(),
                "message_zh": e.message_zh(), "message_en": e.message_en(),
                "falls_back_online": e.falls_back_online(),
            }),
            ExitCode::from(1),
        ),
    };
    if json {
        println!("{}", crate::term::json_pretty(&value)?);
        return Ok(code);
    }
    // Claims are the code's own text: shown through term::safe.
    use crate::term::safe;
    match &result {
        Ok(Verified::Presentation(p)) => {
            let name = p
                .licence_type_name
                .map_or(String::new(), |(zh, en)| format!(" {zh} ({en})"));
            println!("valid presentation:{}", safe(&name));
            println!("  licence type  {}", safe(&p.licence.licence_type));
            println!("  identifier    {}", safe(&p.licence.identifier));
            for (label, v) in [
                ("number", &p.licence.number),
                ("holder", &p.licence.holder_name),
                ("holder id", &p.licence.holder_id),
                ("issued by", &p.licence.org_name),
                ("issued on", &p.licence.issued),
                ("valid to", &p.licence.valid_to),
            ] {
                if let Some(v) = v {
                    println!("  {label:<13} {}", safe(v));
                }
            }
            println!(
                "  signed by     {} ({} key {})",
                safe(&p.iss),
                p.alg.name(),
                safe(&p.kid)
            );
            println!("  valid         {} – {}", fmt_time(p.iat), fmt_time(p.exp));
            for w in &p.warnings {
                println!("  warning       {}", safe(&w.to_string()));
            }
        }
        Ok(Verified::Ticket(t)) => {
            println!(
                "valid online ticket from {} ({} key {})",
                safe(&t.iss),
                t.alg.name(),
                safe(&t.kid)
            );
            println!(
                "  reference {} (resolve at the platform; single use)",
                safe(&t.reference)
            );
        }
        Ok(Verified::Opaque(_)) => {
            println!(
                "not an offline-verifiable e-licence code: the kiosk sends it to the platform"
            );
        }
        Err(e) => {
            println!("rejected ({}): {}", e.code(), safe(&e.to_string()));
            println!("  {}", e.message_zh());
            println!("  {}", e.message_en());
        }
    }
    Ok(code)
}
