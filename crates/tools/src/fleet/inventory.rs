//! The fleet inventory: a TOML file listing kiosks (`[[kiosk]]` tables with id, url, token or
//! token_file, site, tags). Loading validates everything at once and names the line of each
//! problem, so a 20,000-line inventory with one typo is fixed in one go.
//!
//! ```toml
//! token_file = "/etc/zizhu/fleet/default.token"   # default for kiosks without their own
//!
//! [[kiosk]]
//! id = "MZ-0042"
//! url = "http://10.1.2.3:9464"
//! token_file = "/etc/zizhu/fleet/MZ-0042.token"   # or token = "…"
//! site = "梅江区邮政支局"
//! tags = ["post-office"]
//! ```
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use crate::status::Secret;

/// Errors of loading an inventory.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    /// The file cannot be read. Remedy: check the path given to `--inventory`.
    #[error("cannot read inventory {path}: {source}; check the --inventory path")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Not valid TOML, or a key the inventory does not know. Remedy: fix the line named.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What the parser said.
        message: String,
    },
    /// Problems in the entries (duplicate ids, bad URLs, missing tokens), one per line.
    /// Remedy: fix each line named.
    #[error("{path}: {} problem(s):\n  {}", .problems.len(), .problems.join("\n  "))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// `line N: what is wrong; what to do` for each problem.
        problems: Vec<String>,
    },
}

/// One kiosk to poll.
#[derive(Clone, Debug)]
pub struct Kiosk {
    /// Kiosk id (unique in the inventory).
    pub id: String,
    /// Base URL of its status server, ending in `/`.
    pub url: Url,
    /// Bearer token.
    pub token: Secret,
    /// Site name.
    pub site: String,
    /// Free-form tags.
    pub tags: Vec<String>,
    /// Line of its `[[kiosk]]` entry.
    pub line: usize,
    /// CA certificate (PEM) that signed its HTTPS certificate, besides the public roots.
    pub ca_file: Option<PathBuf>,
}

impl Kiosk {
    /// URL of `path` (relative, e.g. `v1/status`) under the kiosk's base URL.
    pub fn endpoint(&self, path: &str) -> Url {
        self.url.join(path).unwrap_or_else(|_| self.url.clone())
    }
}

/// A loaded, validated inventory.
#[derive(Clone, Debug)]
pub struct Inventory {
    /// The kiosks in file order.
    pub kiosks: Vec<Kiosk>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInventory {
    token_file: Option<Spanned<PathBuf>>,
    token: Option<String>,
    ca_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    kiosk: Vec<Spanned<RawKiosk>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKiosk {
    id: Spanned<String>,
    url: Spanned<String>,
    token: Option<String>,
    token_file: Option<Spanned<PathBuf>>,
    ca_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    site: String,
    #[serde(default)]
    tags: Vec<String>,
}

/// Byte offset → 1-based line number, in O(log n) per lookup (inventories run to 20,000 kiosks).
struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let starts = std::iter::once(0)
            .chain(
                text.bytes()
                    .enumerate()
                    .filter(|(_, b)| *b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        Lines(starts)
    }

    fn of(&self, offset: usize) -> usize {
        match self.0.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    Lines::new(text).of(offset)
}

/// Checks a status-server base URL: http or https, a host, no query or fragment, and a path
/// that ends in `/` (added when missing).
pub fn parse_url(text: &str) -> Result<Url, String> {
    // The URL parser drops tabs and newlines silently: refuse them, so the URL polled is the
    // one written.
    crate::config::check_plain(text.trim())?;
    let mut url = Url::parse(text.trim()).map_err(|e| format!("{e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", url.scheme()));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no host".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("a base URL has no ?query or #fragment".into());
    }
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    Ok(url)
}

impl Inventory {
    /// Loads and validates the inventory at `path`. Relative token files are relative to the
    /// inventory's folder.
    pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
        let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// Parses inventory `text` that came from `path` (used for messages and relative paths).
    pub fn parse(text: &str, path: &Path) -> Result<Inventory, InventoryError> {
        let raw: RawInventory = toml::from_str(text).map_err(|e| InventoryError::Parse {
            path: path.to_path_buf(),
            line: e.span().map_or(1, |s| line_of(text, s.start)),
            message: e.message().trim().to_string(),
        })?;
        let lines = Lines::new(text);
        let base = path.parent().unwrap_or(Path::new("."));
        let mut problems = Vec::new();
        let mut tokens: HashMap<PathBuf, Result<Secret, String>> = HashMap::new();
        let mut read_token = |file: &Path| -> Result<Secret, String> {
            let full = if file.is_absolute() {
                file.to_path_buf()
            } else {
                base.join(file)
            };
            tokens
                .entry(full.clone())
                .or_insert_with(|| crate::status::read_token_file(&full).map_err(|e| e.to_string()))
                .clone()
        };
        let default_token = match (&raw.token_file, &raw.token) {
            (Some(f), _) => match read_token(f.get_ref()) {
                Ok(t) => Some(t),
                Err(e) => {
                    problems.push(format!("line {}: {e}", lines.of(f.span().start)));
                    None
                }
            },
            (None, Some(t)) => Some(Secret::new(t.trim())),
            (None, None) => None,
        };
        let check_ca = |f: &Spanned<PathBuf>, problems: &mut Vec<String>| -> Option<PathBuf> {
            let p = f.get_ref();
            let full = if p.is_absolute() {
                p.clone()
            } else {
                base.join(p)
            };
            match std::fs::read_to_string(&full) {
                Ok(t) if t.contains("-----BEGIN CERTIFICATE-----") => Some(full),
                Ok(_) => {
                    problems.push(format!(
                        "line {}: ca_file {} holds no PEM certificate; give the CA certificate in PEM",
                        lines.of(f.span().start),
                        full.display()
                    ));
                    None
                }
                Err(e) => {
                    problems.push(format!(
                        "line {}: cannot read ca_file {}: {e}; check the path",
                        lines.of(f.span().start),
                        full.display()
                    ));
                    None
                }
            }
        };
        let default_ca = raw
            .ca_file
            .as_ref()
            .and_then(|f| check_ca(f, &mut problems));
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut kiosks = Vec::with_capacity(raw.kiosk.len());
        for entry in raw.kiosk {
            let entry_line = lines.of(entry.span().start);
            let k = entry.into_inner();
            let id_line = lines.of(k.id.span().start);
            let id = k.id.into_inner().trim().to_string();
            if id.is_empty() || id.chars().any(|c| c.is_control() || c.is_whitespace()) {
                problems.push(format!("line {id_line}: kiosk id {id:?} is empty or has spaces; give a short id like MZ-0042"));
                continue;
            }
            if let Some(first) = seen.get(&id) {
                problems.push(format!(
                    "line {id_line}: duplicate kiosk id {id:?} (first at line {first}); give each kiosk its own id"
                ));
                continue;
            }
            seen.insert(id.clone(), id_line);
            let url_line = lines.of(k.url.span().start);
            let url = match parse_url(k.url.get_ref()) {
                Ok(u) => u,
                Err(e) => {
                    problems.push(format!(
                        "line {url_line}: kiosk {id}: bad url {:?}: {e}; write e.g. http://10.1.2.3:9464",
                        k.url.get_ref()
                    ));
                    continue;
                }
            };
            let token = match (&k.token_file, &k.token) {
                (Some(f), _) => match read_token(f.get_ref()) {
                    Ok(t) => t,
                    Err(e) => {
                        problems.push(format!(
                            "line {}: kiosk {id}: {e}",
                            lines.of(f.span().start)
                        ));
                        continue;
                    }
                },
                (None, Some(t)) => Secret::new(t.trim()),
                (None, None) => match &default_token {
                    Some(t) => t.clone(),
                    None => {
                        problems.push(format!(
                            "line {entry_line}: kiosk {id} has no token; add token_file = \"…\" (or a top-level token_file for all)"
                        ));
                        continue;
                    }
                },
            };
            let ca_file = match &k.ca_file {
                Some(f) => match check_ca(f, &mut problems) {
                    Some(p) => Some(p),
                    None => continue,
                },
                None => default_ca.clone(),
            };
            kiosks.push(Kiosk {
                id,
                url,
                token,
                site: k.site,
                tags: k.tags,
                line: entry_line,
                ca_file,
            });
        }
        if !problems.is_empty() {
            return Err(InventoryError::Invalid {
                path: path.to_path_buf(),
                problems,
            });
        }
        Ok(Inventory { kiosks })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_with_a_control_character_is_refused_not_cleaned() {
        // The URL parser would drop the newline and poll another URL than the one written.
        assert!(parse_url("http://10.1.2.3:9464/\nx").is_err());
        assert!(parse_url("http://10.1.\t2.3:9464").is_err());
        assert!(parse_url("http://10.1.2.3:9464").is_ok());
    }

    #[test]
    fn parses_and_names_lines_of_problems() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k.token"), "0123456789abcdef0123\n").unwrap();
        let inv = dir.path().join("fleet.toml");
        let good = "token_file = \"k.token\"\n\n[[kiosk]]\nid = \"MZ-0042\"\nurl = \"http://127.0.0.1:9464\"\nsite = \"梅江区邮政支局\"\ntags = [\"post-office\"]\n";
        let inventory = Inventory::parse(good, &inv).unwrap();
        assert_eq!(inventory.kiosks.len(), 1);
        let k = &inventory.kiosks[0];
        assert_eq!(
            k.endpoint("v1/status").as_str(),
            "http://127.0.0.1:9464/v1/status"
        );
        assert_eq!(k.token.expose(), "0123456789abcdef0123");
        assert_eq!(k.line, 3);

        let bad = format!("{good}\n[[kiosk]]\nid = \"MZ-0042\"\nurl = \"http://x\"\n\n[[kiosk]]\nid = \"B\"\nurl = \"ftp://h\"\n");
        let err = Inventory::parse(&bad, &inv).unwrap_err().to_string();
        assert!(
            err.contains("line 10: duplicate kiosk id \"MZ-0042\" (first at line 4)"),
            "{err}"
        );
        assert!(err.contains("line 15: kiosk B: bad url"), "{err}");

        let err = Inventory::parse(
            "[[kiosk]]\nid = \"A\"\nurl = \"http://h\"\ncolour = 1\n",
            &inv,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with(&format!("{}:4:", inv.display())),
            "{err}"
        );
        let err =
            Inventory::parse("[[kiosk]]\nid = \"A\"\nurl = \"http://h\"\n", &inv).unwrap_err();
        assert!(
            err.to_string().contains("line 1: kiosk A has no token"),
            "{err}"
        );
    }
}
