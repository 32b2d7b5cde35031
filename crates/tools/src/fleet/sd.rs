//! Prometheus file-based service discovery: `zizhu fleet sd` turns the inventory into a
//! `targets.json` that a `file_sd_configs` entry watches. Each kiosk becomes one target with
//! labels `kiosk_id`, `site` and `tags` (`,a,b,` so a regex can match one tag), and its scheme and
//! path prefix as `__scheme__` / `__metrics_path__`. Tokens are not in this file: Prometheus reads
//! them from the job's `authorization.credentials_file` (one job per token; see
//! docs/operations.md). The file is written atomically, as Prometheus may read it at any moment.
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::Serialize;

use super::inventory::Kiosk;

/// Errors of writing targets.
#[derive(Debug, thiserror::Error)]
pub enum SdError {
    /// The output cannot be written. Remedy: check the folder exists and is writable.
    #[error("cannot write {path}: {source}; check that the folder exists and is writable")]
    Write {
        /// The output file.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// One file_sd target group.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TargetGroup {
    /// `host:port`.
    pub targets: Vec<String>,
    /// Labels attached to the target's series.
    pub labels: BTreeMap<String, String>,
}

/// One target group per kiosk.
pub fn targets(kiosks: &[Kiosk]) -> Vec<TargetGroup> {
    kiosks
        .iter()
        .map(|k| {
            let host = match k.url.host() {
                Some(url::Host::Ipv6(a)) => format!("[{a}]"),
                Some(h) => h.to_string(),
                None => String::new(),
            };
            let port = k
                .url
                .port_or_known_default()
                .unwrap_or(crate::status::DEFAULT_PORT);
            let mut labels = BTreeMap::new();
            labels.insert("kiosk_id".to_string(), k.id.clone());
            labels.insert("site".to_string(), k.site.clone());
            labels.insert("tags".to_string(), format!(",{},", k.tags.join(",")));
            labels.insert("__scheme__".to_string(), k.url.scheme().to_string());
            labels.insert(
                "__metrics_path__".to_string(),
                format!("{}metrics", k.url.path()),
            );
            TargetGroup {
                targets: vec![format!("{host}:{port}")],
                labels,
            }
        })
        .collect()
}

/// Writes `groups` as JSON to `out` through a temporary file in the same folder and a rename.
pub fn write(groups: &[TargetGroup], out: &Path) -> Result<(), SdError> {
    let err = |source| SdError::Write {
        path: out.to_path_buf(),
        source,
    };
    let name = out
        .file_name()
        .map_or("targets.json".into(), |n| n.to_string_lossy().into_owned());
    let tmp = out.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let text = serde_json::to_string_pretty(groups).map_err(|e| err(e.into()))?;
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(text.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|_| std::fs::rename(&tmp, out)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}
