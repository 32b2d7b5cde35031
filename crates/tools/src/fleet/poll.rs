//! Polls every kiosk of an inventory concurrently (`GET /v1/status` with its bearer token) and
//! turns each answer into a verdict: ok, or the problems that need someone's attention, worst
//! first. A kiosk that is down, refuses the token or answers garbage is a result, never a crash.
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde::Serialize;

use super::inventory::Kiosk;
use crate::status::{DeviceState, Paper, StatusReport};

/// Largest status answer read (a real one is about 1 KiB); more is "garbage".
pub const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// Errors of running a poll (not of individual kiosks, which are results).
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// The HTTP client could not be built (TLS roots, resolver). Remedy: check the system's
    /// resolver configuration; report a bug if it persists.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// The async runtime could not start. Remedy: check `ulimit -n` and free memory.
    #[error("cannot start the poller runtime: {0}; check ulimit -n and free memory")]
    Runtime(std::io::Error),
}

/// Thresholds and limits of a poll.
#[derive(Clone, Debug)]
pub struct Options {
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Time allowed per kiosk (connect and answer).
    pub timeout: Duration,
    /// Oldest acceptable software version; none = the newest version seen in this poll.
    pub min_version: Option<String>,
    /// Outbox depth above which a kiosk has a backlog.
    pub backlog_items: u64,
    /// Outbox oldest-item age above which a kiosk has a backlog.
    pub backlog_age: Duration,
    /// Trust-list age above which it is stale.
    pub trust_max_age: Duration,
    /// Free-disk fraction below which the disk is low.
    pub disk_min_free: f64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            concurrency: 64,
            timeout: Duration::from_millis(3000),
            min_version: None,
            backlog_items: 100,
            backlog_age: Duration::from_secs(3600),
            trust_max_age: Duration::from_secs(48 * 3600),
            disk_min_free: 0.10,
        }
    }
}

/// Something about a kiosk that needs attention.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// No answer: refused, timed out, unreachable.
    Down {
        /// Why.
        reason: String,
    },
    /// The kiosk refused the token (401/403).
    Unauthorized,
    /// An answer that is not a status report (wrong content, HTTP error, too large).
    BadAnswer {
        /// What was wrong.
        reason: String,
    },
    /// A device is offline.
    DeviceOffline {
        /// Device name.
        device: String,
        /// Since when (Unix seconds).
        since_unix: i64,
        /// Its last error.
        last_error: Option<String>,
    },
    /// A citizen at the kiosk asked for help and no staff member has taken it yet.
    HelpPending {
        /// Since when (Unix seconds), when the kiosk says.
        since_unix: Option<i64>,
        /// Seconds waiting, at the kiosk's clock.
        waiting_seconds: Option<u64>,
    },
    /// The printer is out of paper.
    PaperOut,
    /// Outbox backlog (too many items or too old).
    Backlog {
        /// Items waiting.
        depth: u64,
        /// Age of the oldest, seconds.
        oldest_age_seconds: Option<u64>,
    },
    /// The e-license trust list is older than allowed, or none is loaded.
    TrustListStale {
        /// Its age; none when no list is loaded.
        age_seconds: Option<u64>,
    },
    /// An older service catalog than the newest in the fleet (docs/catalog.md).
    CatalogBehind {
        /// The bundle sequence the kiosk serves; none for the embedded catalog.
        sequence: Option<u64>,
        /// The newest sequence any kiosk of this poll serves.
        newest: u64,
        /// Why the kiosk refused its last bundle, if it did.
        last_refused: Option<String>,
    },
    /// Older software than the fleet's.
    OldVersion {
        /// What the kiosk runs.
        version: String,
        /// What it should run at least.
        wanted: String,
    },
    /// Free disk below the threshold.
    DiskLow {
        /// Free fraction (0–1).
        free_ratio: f64,
    },
    /// The clock is not synchronised (certificates, timestamps and e-license checks suffer).
    ClockUnsynced,
    /// A device works with problems.
    DeviceDegraded {
        /// Device name.
        device: String,
        /// Its last error.
        last_error: Option<String>,
    },
    /// Paper near its end.
    PaperNearEnd,
}

impl Problem {
    /// Ordering weight: lower is worse.
    pub fn rank(&self) -> u8 {
        match self {
            Problem::Down { .. } => 0,
            Problem::Unauthorized => 1,
            Problem::BadAnswer { .. } => 2,
            // A person is waiting at the kiosk: before any fault of the kiosk itself.
            Problem::HelpPending { .. } => 3,
            Problem::DeviceOffline { .. } => 4,
            Problem::PaperOut => 5,
            Problem::Backlog { .. } => 6,
            Problem::TrustListStale { .. } => 7,
            Problem::ClockUnsynced => 8,
            Problem::DiskLow { .. } => 9,
            Problem::CatalogBehind { .. } => 10,
            Problem::OldVersion { .. } => 11,
            Problem::DeviceDegraded { .. } => 12,
            Problem::PaperNearEnd => 13,
        }
    }

    /// Short text for the table.
    pub fn describe(&self) -> String {
        match self {
            Problem::Down { reason } => format!("down ({reason})"),
            Problem::Unauthorized => "unauthorized (token refused)".into(),
            Problem::BadAnswer { reason } => format!("bad answer ({reason})"),
            Problem::DeviceOffline { device, .. } => format!("{device} offline"),
            Problem::HelpPending {
                waiting_seconds: Some(w),
                ..
            } => format!("help requested {} ago", human_age(*w)),
            Problem::HelpPending { .. } => "help requested".into(),
            Problem::PaperOut => "paper out".into(),
            Problem::Backlog {
                depth,
                oldest_age_seconds,
            } => match oldest_age_seconds {
                Some(a) => format!("backlog {depth} items, oldest {}", human_age(*a)),
                None => format!("backlog {depth} items"),
            },
            Problem::TrustListStale {
                age_seconds: Some(a),
            } => format!("trust list {} old", human_age(*a)),
            Problem::TrustListStale { age_seconds: None } => "no trust list".into(),
            Problem::CatalogBehind {
                sequence,
                newest,
                last_refused,
            } => {
                let have = sequence.map_or("embedded".to_string(), |q| q.to_string());
                match last_refused {
                    Some(r) => format!("catalog {have} < {newest} (refused: {r})"),
                    None => format!("catalog {have} < {newest}"),
                }
            }
            Problem::OldVersion { version, wanted } => format!("old version {version} < {wanted}"),
            Problem::DiskLow { free_ratio } => format!("disk {:.0}% free", free_ratio * 100.0),
            Problem::ClockUnsynced => "clock not synced".into(),
            Problem::DeviceDegraded { device, .. } => format!("{device} degraded"),
            Problem::PaperNearEnd => "paper near end".into(),
        }
    }
}

/// `90s`, `12m`, `5h`, `3d`.
pub fn human_age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// The overall verdict on one kiosk.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Answering, nothing wrong.
    Ok,
    /// Answering with problems.
    Attention,
    /// Not answering.
    Down,
    /// Refused the token.
    Unauthorized,
    /// Answered garbage.
    BadAnswer,
}

/// The result for one kiosk.
#[derive(Clone, Debug, Serialize)]
pub struct KioskResult {
    /// Kiosk id.
    pub id: String,
    /// Site from the inventory.
    pub site: String,
    /// Tags from the inventory.
    pub tags: Vec<String>,
    /// Base URL.
    pub url: String,
    /// Overall verdict.
    pub verdict: Verdict,
    /// Problems, worst first.
    pub problems: Vec<Problem>,
    /// Round trip in milliseconds.
    pub latency_ms: u64,
    /// The kiosk's report when it gave one.
    pub status: Option<StatusReport>,
}

impl KioskResult {
    /// Whether someone should look at this kiosk.
    pub fn needs_attention(&self) -> bool {
        self.verdict != Verdict::Ok
    }
}

enum Fetched {
    Report(Box<StatusReport>),
    Failed(Problem),
}

async fn fetch(client: &reqwest::Client, kiosk: &Kiosk, timeout: Duration) -> Fetched {
    let request = client
        .get(kiosk.endpoint("v1/status"))
        .bearer_auth(kiosk.token.expose())
        .timeout(timeout)
        .send();
    let mut resp = match request.await {
        Ok(r) => r,
        Err(e) => {
            return Fetched::Failed(Problem::Down {
                reason: describe_error(&e),
            })
        }
    };
    let code = resp.status();
    if code == reqwest::StatusCode::UNAUTHORIZED || code == reqwest::StatusCode::FORBIDDEN {
        return Fetched::Failed(Problem::Unauthorized);
    }
    if !code.is_success() {
        return Fetched::Failed(Problem::BadAnswer {
            reason: format!("HTTP {}", code.as_u16()),
        });
    }
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                    return Fetched::Failed(Problem::BadAnswer {
                        reason: format!("answer larger than {} KiB", MAX_ANSWER_BYTES / 1024),
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Fetched::Failed(Problem::Down {
                    reason: describe_error(&e),
                })
            }
        }
    }
    match serde_json::from_slice::<StatusReport>(&body) {
        Ok(r) => Fetched::Report(Box::new(r)),
        Err(e) => Fetched::Failed(Problem::BadAnswer {
            reason: format!("not a status report: {e}"),
        }),
    }
}

fn describe_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        // The innermost cause says refused / unreachable / no route.
        let mut source: Option<&dyn std::error::Error> = Some(e);
        let mut last = e.to_string();
        while let Some(s) = source {
            last = s.to_string();
            source = s.source();
        }
        format!("cannot connect: {last}")
    } else {
        let mut text = e.to_string();
        if let Some(s) = std::error::Error::source(e) {
            text = format!("{text}: {s}");
        }
        text
    }
}

/// Compares dotted versions numerically (`0.10.0` > `0.9.3`); non-numeric parts compare as text.
pub fn version_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    let parts = |s: &str| -> Vec<String> { s.split(['.', '-', '+']).map(str::to_string).collect() };
    let (pa, pb) = (parts(a), parts(b));
    for i in 0..pa.len().max(pb.len()) {
        let x = pa.get(i).map_or("0", String::as_str);
        let y = pb.get(i).map_or("0", String::as_str);
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => x.cmp(y),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    std::cmp::Ordering::Equal
}

/// Problems in a report, worst first (the version check is done across the fleet later).
pub fn assess(r: &StatusReport, opts: &Options) -> Vec<Problem> {
    let mut p = Vec::new();
    for (name, h) in &r.devices {
        match h.state {
            DeviceState::Offline => p.push(Problem::DeviceOffline {
                device: name.clone(),
                since_unix: h.since_unix,
                last_error: h.last_error.clone(),
            }),
            DeviceState::Degraded => p.push(Problem::DeviceDegraded {
                device: name.clone(),
                last_error: h.last_error.clone(),
            }),
            DeviceState::Ok => {}
        }
    }
    if r.help_pending {
        p.push(Problem::HelpPending {
            since_unix: r.help_pending_since_unix,
            waiting_seconds: r
                .help_pending_since_unix
                .map(|t| u64::try_from(r.now_unix.saturating_sub(t)).unwrap_or(0)),
        });
    }
    match r.printer_paper {
        Paper::Out => p.push(Problem::PaperOut),
        Paper::NearEnd => p.push(Problem::PaperNearEnd),
        Paper::Ok | Paper::Unknown => {}
    }
    let old = r
        .outbox
        .oldest_age_seconds
        .is_some_and(|a| a > opts.backlog_age.as_secs());
    if r.outbox.depth > opts.backlog_items || old {
        p.push(Problem::Backlog {
            depth: r.outbox.depth,
            oldest_age_seconds: r.outbox.oldest_age_seconds,
        });
    }
    match r.trust_list_age_seconds {
        Some(a) if a > opts.trust_max_age.as_secs() => p.push(Problem::TrustListStale {
            age_seconds: Some(a),
        }),
        None => p.push(Problem::TrustListStale { age_seconds: None }),
        Some(_) => {}
    }
    if r.clock_synced == Some(false) {
        p.push(Problem::ClockUnsynced);
    }
    if r.disk.size_bytes > 0 {
        let ratio = r.disk.free_bytes as f64 / r.disk.size_bytes as f64;
        if ratio < opts.disk_min_free {
            p.push(Problem::DiskLow { free_ratio: ratio });
        }
    }
    p
}

/// Polls `kiosks`; `progress` is called once per finished kiosk. Results come back in inventory
/// order with problems sorted worst first.
pub fn poll(
    kiosks: &[Kiosk],
    opts: &Options,
    progress: impl Fn(&KioskResult) + Send + Sync,
) -> Result<Vec<KioskResult>, PollError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(PollError::Runtime)?;
    let mut builder = reqwest::Client::builder();
    let mut cas: Vec<&std::path::Path> =
        kiosks.iter().filter_map(|k| k.ca_file.as_deref()).collect();
    cas.sort();
    cas.dedup();
    for ca in cas {
        let pem =
            std::fs::read(ca).map_err(|e| PollError::Client(format!("{}: {e}", ca.display())))?;
        let cert = reqwest::Certificate::from_pem(&pem)
            .map_err(|e| PollError::Client(format!("{}: {e}", ca.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    let client = builder
        .connect_timeout(opts.timeout)
        // Each kiosk is asked once per poll: no idle connections to keep (and no descriptor pile-up).
        .pool_max_idle_per_host(0)
        .user_agent(concat!("zizhu-fleet/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| PollError::Client(e.to_string()))?;
    let client = Arc::new(client);
    let progress = &progress;
    let mut results: Vec<KioskResult> = runtime.block_on(async {
        futures::stream::iter(kiosks.iter().enumerate())
            .map(|(i, k)| {
                let client = client.clone();
                async move {
                    let start = Instant::now();
                    let fetched = fetch(&client, k, opts.timeout).await;
                    let latency_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
                    let (verdict, problems, status) = match fetched {
                        Fetched::Report(r) => {
                            let problems = assess(&r, opts);
                            let v = if problems.is_empty() {
                                Verdict::Ok
                            } else {
                                Verdict::Attention
                            };
                            (v, problems, Some(*r))
                        }
                        Fetched::Failed(p) => {
                            let v = match p {
                                Problem::Unauthorized => Verdict::Unauthorized,
                                Problem::BadAnswer { .. } => Verdict::BadAnswer,
                                _ => Verdict::Down,
                            };
                            (v, vec![p], None)
                        }
                    };
                    let result = KioskResult {
                        id: k.id.clone(),
                        site: k.site.clone(),
                        tags: k.tags.clone(),
                        url: k.url.to_string(),
                        verdict,
                        problems,
                        latency_ms,
                        status,
                    };
                    progress(&result);
                    (i, result)
                }
            })
            .buffer_unordered(opts.concurrency.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<std::collections::BTreeMap<_, _>>()
            .into_values()
            .collect()
    });
    // Old version: below --min-version, or below the newest version that answered.
    let wanted = opts.min_version.clone().or_else(|| {
        results
            .iter()
            .filter_map(|r| r.status.as_ref().map(|s| s.version.clone()))
            .max_by(|a, b| version_cmp(a, b))
    });
    if let Some(wanted) = wanted {
        for r in &mut results {
            let Some(s) = &r.status else { continue };
            if version_cmp(&s.version, &wanted) == std::cmp::Ordering::Less {
                r.problems.push(Problem::OldVersion {
                    version: s.version.clone(),
                    wanted: wanted.clone(),
                });
                r.verdict = Verdict::Attention;
            }
        }
    }
    // Catalog behind: below the newest bundle sequence that answered.
    let newest = results
        .iter()
        .filter_map(|r| r.status.as_ref().and_then(|s| s.catalog.sequence))
        .max();
    if let Some(newest) = newest {
        for r in &mut results {
            let Some(s) = &r.status else { continue };
            if s.catalog.sequence.unwrap_or(0) < newest {
                r.problems.push(Problem::CatalogBehind {
                    sequence: s.catalog.sequence,
                    newest,
                    last_refused: s.catalog.last_refused.clone(),
                });
                r.verdict = Verdict::Attention;
            }
        }
    }
    for r in &mut results {
        r.problems.sort_by_key(Problem::rank);
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::StatusState;

    #[test]
    fn versions_compare_numerically() {
        use std::cmp::Ordering::*;
        assert_eq!(version_cmp("0.10.0", "0.9.3"), Greater);
        assert_eq!(version_cmp("1.0", "1.0.0"), Equal);
        assert_eq!(version_cmp("0.1.0", "0.2.0"), Less);
    }

    #[test]
    fn assess_finds_problems() {
        let s = StatusState::new("T", "t");
        for d in crate::status::DEVICES {
            s.set_device(d, DeviceState::Ok, None);
        }
        s.set_trust_list_issued(Some(std::time::SystemTime::now()));
        s.set_paper(Paper::Ok);
        s.set_disk_override(Some(crate::status::Disk {
            path: "/data".into(),
            free_bytes: 50,
            size_bytes: 100,
        }));
        let mut r = s.snapshot();
        r.clock_synced = Some(true);
        assert_eq!(assess(&r, &Options::default()), vec![]);
        s.set_device("printer", DeviceState::Offline, Some("no answer"));
        s.set_paper(Paper::Out);
        s.set_outbox(150, None);
        let mut r = s.snapshot();
        r.clock_synced = Some(false);
        let kinds: Vec<u8> = assess(&r, &Options::default())
            .iter()
            .map(Problem::rank)
            .collect();
        assert_eq!(kinds, vec![4, 5, 6, 8]);
        s.set_disk_override(Some(crate::status::Disk {
            path: "/data".into(),
            free_bytes: 5,
            size_bytes: 100,
        }));
        let problems = assess(&s.snapshot(), &Options::default());
        assert!(
            problems.contains(&Problem::DiskLow { free_ratio: 0.05 }),
            "{problems:?}"
        );
    }
}
