//! Docs and config agree: every TOML example in README.md, docs/ and images/ (fenced `toml`
//! blocks, and the `.toml` files shipped under images/) is checked with the tool that reads it —
//! `zizhu config check` for kiosk configs, the provisioning parser for provisioning files, the
//! fleet inventory parser for inventories. Keys shown commented out (`# key = value`, the way the
//! docs offer an option) are uncommented one at a time and must be known keys too: a documented
//! key the kiosk refuses is a bug (issue 10, defect 9).
use std::fs;
use std::path::{Path, PathBuf};

use crate::util;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Markdown files and shipped TOML files under `dir`, recursively.
fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "md" || x == "toml") {
            out.push(p);
        }
    }
}

/// (where, text) of every TOML example.
fn examples() -> Vec<(String, String)> {
    let mut files = vec![repo().join("README.md")];
    walk(&repo().join("docs"), &mut files);
    walk(&repo().join("images"), &mut files);
    let mut out = Vec::new();
    for f in files {
        let text = fs::read_to_string(&f).unwrap();
        let name = f.strip_prefix(repo()).unwrap().display().to_string();
        if f.extension().is_some_and(|x| x == "toml") {
            out.push((name, text));
            continue;
        }
        let mut block: Option<(usize, String)> = None;
        for (i, line) in text.lines().enumerate() {
            let t = line.trim_start();
            match &mut block {
                None if t.starts_with("```toml") => block = Some((i + 1, String::new())),
                Some((start, body)) if t.starts_with("```") => {
                    out.push((format!("{name}:{start}"), std::mem::take(body)));
                    block = None;
                }
                Some((_, body)) => {
                    body.push_str(line);
                    body.push('\n');
                }
                None => {}
            }
        }
        assert!(block.is_none(), "{name}: a ```toml block is not closed");
    }
    out
}

enum Kind {
    Config,
    Provision,
    Inventory,
    /// A part of a catalog file (`[[profile]]`, `[[service]]`): checked added to the shipped one.
    Catalog,
}

fn kind(text: &str) -> Kind {
    if text.lines().any(|l| {
        matches!(
            l.trim(),
            "[[profile]]" | "[[service]]" | "[[category]]" | "[[one_thing]]"
        )
    }) {
        Kind::Catalog
    } else if text.lines().any(|l| l.trim() == "[[kiosk]]") {
        Kind::Inventory
    } else if text.contains("enroll_token") {
        Kind::Provision
    } else {
        Kind::Config
    }
}

/// The variants with one commented-out `key = value` line (or `[section]` header plus the lines
/// under it) uncommented.
fn uncommented(text: &str) -> Vec<(usize, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let is_key = |l: &str| {
        let Some(rest) = l.trim_start().strip_prefix('#') else {
            return false;
        };
        let rest = rest.trim_start();
        let key: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        !key.is_empty() && rest[key.len()..].trim_start().starts_with('=')
    };
    let is_section = |l: &str| {
        l.trim_start()
            .strip_prefix('#')
            .is_some_and(|r| r.trim().starts_with('[') && r.trim().ends_with(']'))
    };
    let uncomment = |l: &str| {
        l.trim_start()
            .strip_prefix('#')
            .unwrap_or(l)
            .trim_start()
            .to_string()
    };
    let mut out = Vec::new();
    let mut in_table = vec![false; lines.len()];
    for (i, l) in lines.iter().enumerate() {
        if is_section(l) {
            // A commented-out table: the header and its commented keys together.
            let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            v[i] = uncomment(l);
            for j in i + 1..lines.len() {
                if !is_key(lines[j]) {
                    break;
                }
                v[j] = uncomment(lines[j]);
                in_table[j] = true;
            }
            out.push((i + 1, v.join("\n")));
        } else if is_key(l) && !in_table[i] {
            let mut v: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
            v[i] = uncomment(l);
            out.push((i + 1, v.join("\n")));
        }
    }
    out
}

/// Checks one text; `strict` requires it to be valid, otherwise only its keys must be known.
fn check(kind: &Kind, text: &str, strict: bool, dir: &Path) -> Result<(), String> {
    match kind {
        Kind::Catalog => {
            let all = format!("{}\n{text}", zizhu::catalog::BUILTIN_TOML);
            match zizhu::catalog::Catalog::parse(&all) {
                Ok(_) => Ok(()),
                Err(e) => Err(format!("{e:?}")),
            }
        }
        Kind::Config if strict => {
            let f = dir.join("kiosk.toml");
            fs::write(&f, text).unwrap();
            let o = util::run(&["config", "check", f.to_str().unwrap()]);
            if util::code(&o) == 0 {
                Ok(())
            } else {
                Err(format!("`zizhu config check` said: {}", util::stderr(&o)))
            }
        }
        Kind::Config => match zizhu::config::Config::parse(text) {
            Err(e @ zizhu::config::ConfigError::Syntax { .. }) => Err(e.to_string()),
            _ => Ok(()),
        },
        Kind::Provision => match zizhu::image::provision::Provision::parse(text) {
            Ok(_) => Ok(()),
            Err(e) if !strict && !e.to_string().contains("unknown field") => Ok(()),
            Err(e) => Err(e.to_string()),
        },
        Kind::Inventory => {
            // The example's token files are on the operator's machine, not here: only a
            // missing file is forgiven.
            let problems: Vec<String> =
                match zizhu::fleet::inventory::Inventory::parse(text, Path::new("fleet.toml")) {
                    Ok(_) => Vec::new(),
                    Err(e) => {
                        let text = e.to_string();
                        let lines: Vec<&str> = text.lines().collect();
                        // A list of problems comes under a heading line.
                        let skip = usize::from(lines.len() > 1);
                        lines[skip..]
                            .iter()
                            .filter(|l| !l.contains("cannot read status token file"))
                            .map(|l| l.to_string())
                            .collect()
                    }
                };
            let keyed = problems
                .iter()
                .any(|p| p.contains("unknown field") || p.contains("expected"));
            if problems.is_empty() || (!strict && !keyed) {
                Ok(())
            } else {
                Err(problems.join("; "))
            }
        }
    }
}

#[test]
fn every_toml_example_passes_its_check() {
    let dir = tempfile::tempdir().unwrap();
    let all = examples();
    assert!(
        all.iter().any(|(w, _)| w.starts_with("docs/operations.md")),
        "no examples found: {:?}",
        all.iter().map(|(w, _)| w).collect::<Vec<_>>()
    );
    let mut problems = Vec::new();
    let mut checked = 0;
    for (where_, text) in &all {
        let k = kind(text);
        if let Err(e) = check(&k, text, true, dir.path()) {
            problems.push(format!("{where_}: {e}"));
        }
        checked += 1;
        for (line, variant) in uncommented(text) {
            if let Err(e) = check(&k, &variant, false, dir.path()) {
                problems.push(format!(
                    "{where_}, line {line} of the example uncommented: {e}"
                ));
            }
            checked += 1;
        }
    }
    assert!(checked > all.len(), "no commented-out key was tried");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The extraction finds what the red team found: `rate_limit_per_second` in docs/operations.md.
#[test]
fn the_documented_rate_limit_key_is_accepted() {
    let c = zizhu::config::Config::parse(
        "[status]\nlisten = \"127.0.0.1:9464\"\ntoken = \"0123456789abcdef0123\"\nrate_limit_per_second = 10\nrate_limit_burst = 50\n",
    )
    .expect("documented keys");
    assert_eq!(c.status_rate_limit_per_second, 10.0);
    let e = zizhu::config::Config::parse("[status]\nrate_limit_per_second = -1\n").unwrap_err();
    assert!(
        e.to_string().contains("status.rate_limit_per_second"),
        "{e}"
    );
}
