//! `zizhu catalog list|search|check|sign|verify|publish`: the service catalog from the command line, and
//! the signed catalog bundles the platform publishes (`zizhu_core::catalog::bundle`).
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::catalog::bundle::{self, Bundle, BundleContent};
use crate::catalog::{Catalog, Lang, Offer, Service};
use crate::error::usage;

/// Subcommands of `zizhu catalog`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// List every service (id, category, name, identification, output).
    List {
        /// Only this category (see `zizhu catalog list --categories`).
        #[arg(long)]
        category: Option<String>,
        /// List the categories instead of the services.
        #[arg(long)]
        categories: bool,
        /// Language of the names: zh or en.
        #[arg(long, default_value = "zh")]
        lang: String,
        /// Only what a kiosk with this site profile offers (see --profiles).
        #[arg(long)]
        profile: Option<String>,
        /// List the site profiles instead of the services.
        #[arg(long)]
        profiles: bool,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Search as the kiosk's search screen does: Chinese, pinyin, pinyin initials, English.
    Search {
        /// What to look for, e.g. 社保, shebao, sbcx, "housing fund".
        query: String,
        /// Language of the names: zh or en.
        #[arg(long, default_value = "zh")]
        lang: String,
        /// Search as a kiosk with this site profile does: services it does not offer are listed
        /// apart, with where to go instead.
        #[arg(long)]
        profile: Option<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Validate a catalog file; every problem is reported with its line (exit 2 if any).
    Check {
        /// The catalog file (TOML, the format of data/catalog.toml).
        file: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Sign a catalog file into a bundle for kiosks (checked first, as `check` does).
    Sign {
        /// The catalog file (TOML).
        file: PathBuf,
        /// Catalog key file (from `zizhu elicense keygen`).
        #[arg(long)]
        key: PathBuf,
        /// Sequence number: higher than every bundle published before.
        #[arg(long)]
        seq: u64,
        /// How long kiosks accept the bundle, in days.
        #[arg(long, default_value_t = 30)]
        max_age_days: u32,
        /// Write the bundle here.
        #[arg(long)]
        out: PathBuf,
    },
    /// Publish a signed bundle to the service platform (`PUT /v1/catalog/bundle`), where kiosks
    /// fetch it. With `--key` it is verified first, as a kiosk would.
    Publish {
        /// The bundle file (from `zizhu catalog sign`).
        file: PathBuf,
        /// The platform's base URL, e.g. http://127.0.0.1:8700.
        #[arg(long)]
        platform: String,
        /// File holding the platform's bearer token (default: `demo`, what the demo platform
        /// accepts when started without --token-file).
        #[arg(long)]
        token_file: Option<PathBuf>,
        /// A catalog key, `es256:04…` or `sm2:04…`, to verify the bundle with before publishing.
        #[arg(long = "key")]
        keys: Vec<String>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Verify a bundle as a kiosk would: signature, sequence, age, catalog checks.
    Verify {
        /// The bundle file.
        file: PathBuf,
        /// A catalog key, `es256:04…` or `sm2:04…` (give one or more).
        #[arg(long = "key", required = true)]
        keys: Vec<String>,
        /// The sequence in use: the bundle must be newer (rollback check).
        #[arg(long)]
        in_use: Option<u64>,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
}

fn offer(catalog: &Catalog, profile: Option<&str>) -> anyhow::Result<Offer> {
    Offer::new(catalog, profile).or_else(|e| usage(format!("--profile: {e}")))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn sign(
    file: &std::path::Path,
    key: &std::path::Path,
    seq: u64,
    max_age_days: u32,
    out: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => return usage(format!("cannot read catalog file {}: {e}", file.display())),
    };
    let key = super::elicense::read_key_file(key)?;
    let content = BundleContent {
        seq,
        iat: now(),
        max_age: i64::from(max_age_days) * 86_400,
        catalog: text,
    };
    let raw = match bundle::sign(&key, &content) {
        Ok(r) => r,
        Err(bundle::BundleError::Catalog(errors)) => {
            for e in &errors {
                eprintln!("{}:{e}", file.display());
            }
            return usage(format!(
                "{} problem(s) in {}; fix them before signing",
                errors.len(),
                file.display()
            ));
        }
        Err(e) => return usage(e.to_string()),
    };
    let tmp = out.with_extension("partial");
    std::fs::write(&tmp, &raw).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{}: bundle seq {seq}, {} bytes, key {}",
        out.display(),
        raw.len(),
        hex::encode(key.public_key().kid())
    );
    Ok(ExitCode::SUCCESS)
}

fn verify(
    file: &std::path::Path,
    keys: &[String],
    in_use: Option<u64>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let mut pinned = Vec::new();
    for k in keys {
        match crate::elicense::trust::parse_root(k) {
            Ok(p) => pinned.push(p),
            Err(e) => return usage(format!("--key {k:?}: {e}")),
        }
    }
    // Read at most one byte over the limit: a huge file is refused without loading it.
    let raw = match std::fs::File::open(file) {
        Ok(f) => {
            use std::io::Read;
            let mut buf = Vec::new();
            f.take(bundle::MAX_BUNDLE as u64 + 1)
                .read_to_end(&mut buf)
                .with_context(|| format!("reading {}", file.display()))?;
            buf
        }
        Err(e) => return usage(format!("cannot read bundle {}: {e}", file.display())),
    };
    match Bundle::accept(&raw, &pinned, in_use, now()) {
        Ok(b) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": true, "seq": b.seq, "iat": b.iat, "max_age": b.max_age,
                        "kid": b.kid, "services": b.catalog.services().len(),
                        "profiles": b.catalog.profiles().iter().map(|p| &p.id).collect::<Vec<_>>()})
                );
            } else {
                println!(
                    "{}: ok, seq {}, key {}, {} services, {} site profiles",
                    file.display(),
                    b.seq,
                    b.kid,
                    b.catalog.services().len(),
                    b.catalog.profiles().len()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "reason": e.kind(), "error": e.to_string()})
                );
            }
            usage(format!("{}: refused: {e}", file.display()))
        }
    }
}

fn lang(s: &str) -> anyhow::Result<Lang> {
    match Lang::parse(s) {
        Some(l) => Ok(l),
        None => usage(format!("unknown language `{s}`: use zh or en")),
    }
}

fn service_json(s: &Service) -> serde_json::Value {
    serde_json::json!({
        "id": s.id, "zh": s.zh, "en": s.en, "category": s.category,
        "department_zh": s.department_zh, "department_en": s.department_en,
        "audience": s.audience, "auth": s.auth, "output": s.output, "frequency": s.frequency,
        "proxy": s.proxy, "commitment": s.commitment, "elicense": s.elicense,
        "fields": s.fields.iter().map(|f| &f.key).collect::<Vec<_>>(),
    })
}

/// Runs `zizhu catalog`.
pub fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin();
    match cmd {
        Command::List {
            category,
            categories,
            lang: l,
            profile,
            profiles,
            json,
        } => {
            let l = lang(&l)?;
            let offer = offer(catalog, profile.as_deref())?;
            if profiles {
                if json {
                    let v: Vec<_> = catalog
                        .profiles()
                        .iter()
                        .map(|p| {
                            let n = offer_len(catalog, &p.id);
                            serde_json::json!({"id": p.id, "zh": p.zh, "en": p.en, "services": n})
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    for p in catalog.profiles() {
                        let n = offer_len(catalog, &p.id);
                        println!("{:<20} {:>3}  {}", p.id, n, p.name(l));
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            if categories {
                let counts = catalog.counts();
                if json {
                    let v: Vec<_> = catalog
                        .categories()
                        .iter()
                        .map(|c| serde_json::json!({"id": c.id, "zh": c.zh, "en": c.en, "icon": c.icon, "services": counts.get(c.id.as_str()).copied().unwrap_or(0)}))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                } else {
                    for c in catalog.categories() {
                        let n = counts.get(c.id.as_str()).copied().unwrap_or(0);
                        println!("{:<20} {:>3}  {}", c.id, n, c.name(l));
                    }
                }
                return Ok(ExitCode::SUCCESS);
            }
            let services: Vec<&Service> = match &category {
                Some(c) if catalog.category(c).is_none() => {
                    let ids: Vec<&str> =
                        catalog.categories().iter().map(|c| c.id.as_str()).collect();
                    return usage(format!(
                        "unknown category `{c}`: use one of {}",
                        ids.join(", ")
                    ));
                }
                Some(c) => offer.in_category(catalog, c),
                None => catalog
                    .services()
                    .iter()
                    .filter(|s| offer.offers_id(catalog, &s.id))
                    .collect(),
            };
            if json {
                let v: Vec<_> = services.iter().map(|s| service_json(s)).collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for s in &services {
                    println!(
                        "{:<32} {:<18} {:<12} {:<11} {}",
                        s.id,
                        s.category,
                        serde_plain(&s.auth),
                        serde_plain(&s.output),
                        s.name(l)
                    );
                }
                eprintln!("{} services", services.len());
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Search {
            query,
            lang: l,
            profile,
            json,
        } => {
            let l = lang(&l)?;
            let offer = offer(catalog, profile.as_deref())?;
            let found = offer.search(catalog, &query);
            let hits = &found.here;
            if json {
                let row = |h: &crate::catalog::Hit, here: bool| {
                    let s = &catalog.services()[h.pos];
                    let mut j = service_json(s);
                    j["match"] = serde_json::to_value(h.kind).unwrap_or_default();
                    if profile.is_some() {
                        j["offered_here"] = serde_json::Value::Bool(here);
                    }
                    j
                };
                let v: Vec<_> = found
                    .here
                    .iter()
                    .map(|h| row(h, true))
                    .chain(found.elsewhere.iter().map(|h| row(h, false)))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for h in hits {
                    let s = &catalog.services()[h.pos];
                    println!("{:<32} {:<9} {}", s.id, serde_plain(&h.kind), s.name(l));
                }
                if !found.elsewhere.is_empty() {
                    if let Some(where_) = offer.elsewhere(l) {
                        println!("-- {} --", l.pick("本机未提供", "not offered here"));
                        for h in &found.elsewhere {
                            let s = &catalog.services()[h.pos];
                            println!("{:<32} {:<9} {}", s.id, serde_plain(&h.kind), s.name(l));
                        }
                        println!("{where_}");
                    }
                }
                if hits.is_empty() && found.elsewhere.is_empty() {
                    eprintln!("no service matches `{query}`");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Sign {
            file,
            key,
            seq,
            max_age_days,
            out,
        } => sign(&file, &key, seq, max_age_days, &out),
        Command::Verify {
            file,
            keys,
            in_use,
            json,
        } => verify(&file, &keys, in_use, json),
        Command::Publish {
            file,
            platform,
            token_file,
            keys,
            json,
        } => publish(&file, &platform, token_file.as_deref(), &keys, json),
        Command::Check { file, json } => {
            let text = match std::fs::read_to_string(&file) {
                Ok(t) => t,
                Err(e) => {
                    return usage(format!("cannot read catalog file {}: {e}", file.display()))
                }
            };
            match Catalog::parse(&text) {
                Ok(c) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({"ok": true, "services": c.services().len(), "categories": c.categories().len()})
                        );
                    } else {
                        println!(
                            "{}: ok, {} services in {} categories, {} site profiles",
                            file.display(),
                            c.services().len(),
                            c.categories().len(),
                            c.profiles().len()
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(errors) => {
                    if json {
                        let v: Vec<_> = errors
                            .iter()
                            .map(|e| serde_json::json!({"line": e.line(), "error": e.to_string()}))
                            .collect();
                        println!("{}", serde_json::json!({"ok": false, "errors": v}));
                    }
                    for e in &errors {
                        eprintln!("{}:{e}", file.display());
                    }
                    usage(format!(
                        "{} problem(s) in {}; fix them and check again",
                        errors.len(),
                        file.display()
                    ))
                }
            }
        }
    }
}

fn publish(
    file: &std::path::Path,
    platform: &str,
    token_file: Option<&std::path::Path>,
    keys: &[String],
    json: bool,
) -> anyhow::Result<ExitCode> {
    use crate::catalog::bundle::{self, Bundle};
    let raw = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return usage(format!("cannot read bundle {}: {e}", file.display())),
    };
    if !platform.starts_with("http://") && !platform.starts_with("https://") {
        return usage(format!(
            "--platform {platform}: give the platform's base URL, e.g. http://127.0.0.1:8700"
        ));
    }
    let peek = if keys.is_empty() {
        bundle::peek(&raw).map(|p| p.seq)
    } else {
        let mut parsed = Vec::new();
        for k in keys {
            match crate::elicense::trust::parse_root(k) {
                Ok(p) => parsed.push(p),
                Err(e) => return usage(format!("--key {k}: {e}")),
            }
        }
        Bundle::accept(&raw, &parsed, None, now()).map(|b| b.seq)
    };
    if let Err(e) = peek {
        return usage(format!("{}: not published: {e}", file.display()));
    }
    let token = match token_file {
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) if !t.trim().is_empty() => t.trim().to_string(),
            Ok(_) => return usage(format!("--token-file {}: the file is empty", p.display())),
            Err(e) => return usage(format!("--token-file {}: {e}", p.display())),
        },
        None => "demo".to_string(),
    };
    let mut cfg = crate::platform::ClientConfig::new(
        platform.trim_end_matches('/'),
        token,
        "catalog-publisher",
    );
    cfg.timeout = std::time::Duration::from_secs(30);
    let client = crate::platform::Client::new(cfg)?;
    match client.publish_catalog_bundle(&raw) {
        Ok(ack) => {
            if json {
                println!("{}", serde_json::to_string(&ack)?);
            } else if ack.changed {
                println!(
                    "published bundle {} ({} services) at {platform}; kiosks fetch it at their next poll",
                    ack.seq, ack.services
                );
            } else {
                println!(
                    "bundle {} was already published at {platform}; nothing changed",
                    ack.seq
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: not published: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn offer_len(catalog: &Catalog, id: &str) -> usize {
    Offer::new(catalog, Some(id)).map(|o| o.len()).unwrap_or(0)
}

/// A serde enum value as its plain name (`idcard+face`, `print`).
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
