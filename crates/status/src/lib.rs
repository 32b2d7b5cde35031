//! The kiosk's status server: authenticated JSON status and Prometheus metrics for fleet polling.
//!
//! The runtime owns a [`StatusState`] and updates it as things happen (screen changes, device
//! health, paper, outbox, counters). [`spawn_on`] serves it as a task on the kiosk's one tokio
//! runtime (one worker thread, never the UI's), so the UI never waits for a client and a flood of
//! requests costs at most one core; [`spawn`] serves it on a thread and runtime of its own (the
//! fleet simulator, tests):
//! - `GET /v1/status`: the [`StatusReport`] as JSON (bearer token);
//! - `GET /metrics`: Prometheus text exposition, `zizhu_` families (bearer token);
//! - `GET /healthz`: unauthenticated liveness, the word `ok` and nothing else.
//!
//! Tokens are compared in constant time; each client address is rate-limited; request headers are
//! bounded in size and time; no endpoint ever shows who uses the kiosk.
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroize;

pub mod metrics;
pub mod server;
pub mod state;
pub mod system;

pub use server::{router, serve, spawn, spawn_on, StatusHandle};
pub use state::{
    Counters, DeviceHealth, DeviceState, Disk, Outbox, Paper, Platform, StatusReport, StatusState,
    DEVICES,
};

/// Default port of the status server (also used in the inventory examples).
pub const DEFAULT_PORT: u16 = 9464;

/// Shortest token accepted from a file or the config.
pub const MIN_TOKEN_LEN: usize = 16;

/// Errors of the status server and its configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The listen address is not `IP:PORT`. Remedy: write e.g. `0.0.0.0:9464` or `127.0.0.1:0`.
    #[error("status listen address {value:?} is not IP:PORT; write e.g. 0.0.0.0:9464")]
    BadListen {
        /// What was given.
        value: String,
    },
    /// The address is taken or not ours. Remedy: pick a free port or stop the other process.
    #[error("cannot listen on {addr}: {source}; choose a free port or stop what holds it")]
    Bind {
        /// Address tried.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// The token file cannot be read. Remedy: check the path and that the kiosk user may read it.
    #[error("cannot read status token file {path}: {source}; check the path and its permissions")]
    TokenFile {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The token is too short to be a secret. Remedy: use at least 16 random characters, e.g.
    /// `head -c 24 /dev/urandom | base64`.
    #[error("the status token from {origin} is shorter than {MIN_TOKEN_LEN} characters; use a long random one (head -c 24 /dev/urandom | base64)")]
    TokenWeak {
        /// Where it came from (file path or `config`).
        origin: String,
    },
    /// A non-loopback address was configured with no token. Remedy: give `status.token_file` or
    /// `--status-token-file`; a generated token is only for loopback (simulation).
    #[error("status server on {addr} is reachable from the network but has no token; set status.token_file in the config or --status-token-file")]
    NoToken {
        /// The configured address.
        addr: SocketAddr,
    },
    /// No randomness for a generated token. Remedy: check `/dev/urandom`.
    #[error("cannot generate a status token: {0}; check /dev/urandom")]
    Random(std::io::Error),
    /// The TLS certificate or key is unusable. Remedy: give PEM files that match each other.
    #[error("status TLS: {what} ({path}): {reason}; give a PEM certificate chain and its PEM private key")]
    Tls {
        /// Which part failed.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The server thread or its runtime could not start. Remedy: the system is out of threads or
    /// file descriptors; check `ulimit -n` and memory.
    #[error("cannot start the status server: {0}; check ulimit -n and free memory")]
    Start(std::io::Error),
}

/// A secret string (the bearer token): wiped from memory when dropped, never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps `s`.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The secret text, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// TLS certificate chain and private key, both PEM files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Protection limits of the status server.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Requests per second allowed per client address, on average (0 = no limit).
    pub per_client_rps: f64,
    /// Requests a client may send in a burst above the average.
    pub per_client_burst: f64,
    /// Open connections at most; further ones are closed at once.
    pub max_connections: usize,
    /// Open connections at most from one client (one IPv4 address, one IPv6 /64); further ones
    /// from it are closed at once, so one client can never take the whole pool above.
    pub max_connections_per_client: usize,
    /// Time a client has to send a request's headers (slow clients are cut off).
    pub header_timeout: std::time::Duration,
    /// Longest life of one connection (keep-alive included).
    pub connection_lifetime: std::time::Duration,
    /// Largest request head (request line and headers) in bytes; more is refused with 431.
    pub max_head_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_client_rps: 10.0,
            per_client_burst: 50.0,
            max_connections: 256,
            max_connections_per_client: 16,
            header_timeout: std::time::Duration::from_secs(5),
            connection_lifetime: std::time::Duration::from_secs(120),
            max_head_bytes: 16 * 1024,
        }
    }
}

/// How the status server runs.
#[derive(Clone, Debug)]
pub struct StatusConfig {
    /// Address to listen on (`127.0.0.1:0` picks a free loopback port).
    pub listen: SocketAddr,
    /// Bearer token clients must send.
    pub token: Secret,
    /// Serve HTTPS with these files instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Protection limits.
    pub limits: Limits,
}

/// The `[status]` section of the kiosk config file.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StatusSection {
    /// `IP:PORT` to listen on, e.g. `0.0.0.0:9464`.
    pub listen: Option<String>,
    /// File holding the bearer token (preferred over `token`).
    pub token_file: Option<PathBuf>,
    /// The bearer token itself.
    pub token: Option<String>,
    /// TLS certificate chain (PEM); needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); needs `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Requests per second per client (default 10).
    pub rate_limit_per_second: Option<f64>,
    /// Burst per client (default 50).
    pub rate_limit_burst: Option<f64>,
}

fn parse_listen(value: &str) -> Result<SocketAddr, Error> {
    value.trim().parse().map_err(|_| Error::BadListen {
        value: value.to_string(),
    })
}

/// Reads a token file: surrounding whitespace dropped, at least [`MIN_TOKEN_LEN`] characters.
pub fn read_token_file(path: &Path) -> Result<Secret, Error> {
    let mut text = std::fs::read_to_string(path).map_err(|source| Error::TokenFile {
        path: path.to_path_buf(),
        source,
    })?;
    let token = Secret::new(text.trim());
    text.zeroize();
    if token.expose().chars().count() < MIN_TOKEN_LEN {
        return Err(Error::TokenWeak {
            origin: path.display().to_string(),
        });
    }
    Ok(token)
}

/// A fresh random token: 32 hexadecimal characters from `/dev/urandom`.
pub fn generate_token() -> Result<Secret, Error> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(Error::Random)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    bytes.zeroize();
    Ok(Secret::new(hex))
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

/// Resolves the status server's configuration. Flags override the config file:
/// - address: `listen` flag, else `status.listen`, else `127.0.0.1:0` (loopback, a free port);
/// - token: `token_file` flag, else `status.token_file`, else `status.token`; with none, and only on
///   a loopback address, a generated token, returned as the second value for the caller to print
///   once (a network address without a token is an error);
/// - TLS from `status.tls_cert` + `status.tls_key`.
pub fn resolve_config(
    listen: Option<&str>,
    token_file: Option<&Path>,
    from_config: Option<&StatusSection>,
) -> Result<(StatusConfig, Option<String>), Error> {
    let section = from_config.cloned().unwrap_or_default();
    let listen = match listen.or(section.listen.as_deref()) {
        Some(v) => parse_listen(v)?,
        None => SocketAddr::from(([127, 0, 0, 1], 0)),
    };
    let mut generated = None;
    let token = if let Some(f) = token_file.or(section.token_file.as_deref()) {
        read_token_file(f)?
    } else if let Some(t) = section.token.as_deref() {
        if t.trim().chars().count() < MIN_TOKEN_LEN {
            return Err(Error::TokenWeak {
                origin: "config status.token".into(),
            });
        }
        Secret::new(t.trim())
    } else if is_loopback(listen.ip()) {
        let t = generate_token()?;
        generated = Some(t.expose().to_string());
        t
    } else {
        return Err(Error::NoToken { addr: listen });
    };
    let tls = match (section.tls_cert, section.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        (Some(p), None) | (None, Some(p)) => {
            return Err(Error::Tls {
                what: "certificate and key go together",
                path: p,
                reason: "only one of status.tls_cert and status.tls_key is set".into(),
            })
        }
    };
    let mut limits = Limits::default();
    if let Some(r) = section.rate_limit_per_second {
        limits.per_client_rps = r.max(0.0);
    }
    if let Some(b) = section.rate_limit_burst {
        limits.per_client_burst = b.max(1.0);
    }
    Ok((
        StatusConfig {
            listen,
            token,
            tls,
            limits,
        },
        generated,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulation_gets_loopback_and_a_generated_token() {
        let (cfg, generated) = resolve_config(None, None, None).unwrap();
        assert!(cfg.listen.ip().is_loopback());
        assert_eq!(cfg.listen.port(), 0);
        assert_eq!(generated.as_deref(), Some(cfg.token.expose()));
        assert_eq!(cfg.token.expose().len(), 32);
        assert_eq!(format!("{:?}", cfg.token), "Secret(***)");
    }

    #[test]
    fn flags_override_config_and_network_needs_a_token() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t");
        std::fs::write(&f, "  0123456789abcdef-flag\n").unwrap();
        let section = StatusSection {
            listen: Some("0.0.0.0:9464".into()),
            token: Some("0123456789abcdef-config".into()),
            ..Default::default()
        };
        let (cfg, generated) =
            resolve_config(Some("127.0.0.1:1"), Some(&f), Some(&section)).unwrap();
        assert_eq!(cfg.listen, "127.0.0.1:1".parse().unwrap());
        assert_eq!(cfg.token.expose(), "0123456789abcdef-flag");
        assert!(generated.is_none());
        let (cfg, _) = resolve_config(None, None, Some(&section)).unwrap();
        assert_eq!(cfg.token.expose(), "0123456789abcdef-config");
        let open = StatusSection {
            listen: Some("0.0.0.0:9464".into()),
            ..Default::default()
        };
        assert!(matches!(
            resolve_config(None, None, Some(&open)),
            Err(Error::NoToken { .. })
        ));
        std::fs::write(&f, "short").unwrap();
        assert!(matches!(
            resolve_config(None, Some(&f), None),
            Err(Error::TokenWeak { .. })
        ));
        assert!(matches!(
            resolve_config(Some("nonsense"), None, None),
            Err(Error::BadListen { .. })
        ));
    }
}
