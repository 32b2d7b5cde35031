//! `zizhu catalog list|search|check`: the service catalog from the command line.
use std::path::PathBuf;
use std::process::ExitCode;

use crate::catalog::{Catalog, Lang, Service};
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
            json,
        } => {
            let l = lang(&l)?;
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
                Some(c) => catalog.in_category(c),
                None => catalog.services().iter().collect(),
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
            json,
        } => {
            let l = lang(&l)?;
            let hits = catalog.search(&query);
            if json {
                let v: Vec<_> = hits
                    .iter()
                    .map(|h| {
                        let s = &catalog.services()[h.pos];
                        let mut j = service_json(s);
                        j["match"] = serde_json::to_value(h.kind).unwrap_or_default();
                        j
                    })
                    .collect();
                println!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                for h in &hits {
                    let s = &catalog.services()[h.pos];
                    println!("{:<32} {:<9} {}", s.id, serde_plain(&h.kind), s.name(l));
                }
                if hits.is_empty() {
                    eprintln!("no service matches `{query}`");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
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
                            "{}: ok, {} services in {} categories",
                            file.display(),
                            c.services().len(),
                            c.categories().len()
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

/// A serde enum value as its plain name (`idcard+face`, `print`).
fn serde_plain<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}
