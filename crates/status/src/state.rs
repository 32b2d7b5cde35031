//! The kiosk's live status: what the runtime reports ([`StatusState`]) and the snapshot the status
//! server and the fleet poller exchange ([`StatusReport`], the `GET /v1/status` JSON schema).
//!
//! Privacy: nothing here can hold who is using the kiosk. A session is a bool; error texts pass
//! through [`scrub`], which masks long digit runs (ID, phone and card numbers) and bounds length.
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

pub use super::system::Disk;
use super::system::{self, SystemInfo};

/// Version of the `GET /v1/status` JSON layout; bumped only for incompatible changes.
pub const SCHEMA: u32 = 1;

/// The devices a kiosk reports on, in display order.
pub const DEVICES: [&str; 4] = ["idcard", "printer", "scanner", "gpio"];

/// Health of one device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    /// Working.
    Ok,
    /// Working with a problem (retries, a slow answer, a recoverable error).
    Degraded,
    /// Not answering or not present. Also the state before the runtime first reports the device.
    #[default]
    Offline,
}

impl DeviceState {
    /// The lowercase name used in JSON and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Ok => "ok",
            DeviceState::Degraded => "degraded",
            DeviceState::Offline => "offline",
        }
    }
}

/// The receipt printer's paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Paper {
    /// Enough paper.
    Ok,
    /// The near-end sensor fired: a few receipts left.
    NearEnd,
    /// No paper: the kiosk cannot print.
    Out,
    /// The printer has not reported yet (or is offline).
    #[default]
    Unknown,
}

impl Paper {
    /// The lowercase name used in JSON and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Paper::Ok => "ok",
            Paper::NearEnd => "near_end",
            Paper::Out => "out",
            Paper::Unknown => "unknown",
        }
    }
}

/// One device's health as reported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceHealth {
    /// Current state.
    pub state: DeviceState,
    /// When the device entered this state (Unix seconds).
    pub since_unix: i64,
    /// The last error, scrubbed of anything that looks like personal data.
    #[serde(default)]
    pub last_error: Option<String>,
}

/// The outbox of submissions and evaluations waiting for the platform.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbox {
    /// Items waiting.
    pub depth: u64,
    /// Age of the oldest waiting item in seconds (none when empty).
    #[serde(default)]
    pub oldest_age_seconds: Option<u64>,
}

/// Contact with the service platform.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Platform {
    /// Last successful request (Unix seconds); none since start.
    #[serde(default)]
    pub last_contact_unix: Option<i64>,
    /// Seconds since then.
    #[serde(default)]
    pub last_contact_age_seconds: Option<u64>,
}

/// Activity counters since the runtime started.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// Services finished successfully, by catalog category.
    #[serde(default)]
    pub services_completed: BTreeMap<String, u64>,
    /// Services that ended in failure, by catalog category.
    #[serde(default)]
    pub services_failed: BTreeMap<String, u64>,
    /// ID cards read.
    #[serde(default)]
    pub card_reads: u64,
    /// Receipts printed.
    #[serde(default)]
    pub prints: u64,
    /// Codes scanned.
    #[serde(default)]
    pub scans: u64,
    /// Errors by kind (`device`, `platform`, `journal`, …).
    #[serde(default)]
    pub errors: BTreeMap<String, u64>,
    /// Power cycles through a GPIO relay, by device (`idcard`, `printer`); a device with a relay
    /// is listed from the start with 0.
    #[serde(default)]
    pub power_cycles: BTreeMap<String, u64>,
    /// Help requests raised on the screen (呼叫帮助).
    #[serde(default)]
    pub help_requests: u64,
    /// Staff sign-ins (帮办员) accepted.
    #[serde(default)]
    pub staff_sign_ins: u64,
    /// Staff codes refused, by reason (`expired`, `other-site`, `replayed`, `untrusted`, …).
    #[serde(default)]
    pub staff_sign_in_refusals: BTreeMap<String, u64>,
}

/// The service catalog the kiosk serves (see docs/catalog.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CatalogInfo {
    /// `embedded` (compiled into the binary) or `bundle` (a signed bundle from the platform).
    pub source: String,
    /// The bundle's sequence; none for the embedded catalog.
    #[serde(default)]
    pub sequence: Option<u64>,
    /// When this catalog took effect (Unix seconds).
    #[serde(default)]
    pub applied_unix: Option<i64>,
    /// The site profile in use; none when the kiosk offers every service.
    #[serde(default)]
    pub profile: Option<String>,
    /// How many services the kiosk offers.
    #[serde(default)]
    pub services_offered: u64,
    /// The last bundle refused: its reason (`signature`, `rollback`, `expired`, …).
    #[serde(default)]
    pub last_refused: Option<String>,
    /// When it was refused (Unix seconds).
    #[serde(default)]
    pub last_refused_unix: Option<i64>,
    /// Bundles refused since start, by reason.
    #[serde(default)]
    pub refused: BTreeMap<String, u64>,
}

impl Default for CatalogInfo {
    fn default() -> Self {
        CatalogInfo {
            source: "embedded".into(),
            sequence: None,
            applied_unix: None,
            profile: None,
            services_offered: 0,
            last_refused: None,
            last_refused_unix: None,
            refused: BTreeMap::new(),
        }
    }
}

/// `GET /v1/status`: everything an operator needs to know about one kiosk, and nothing about who
/// uses it. Optional fields are `null` when unknown; readers ignore fields they don't know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    /// Layout version ([`SCHEMA`]).
    pub schema: u32,
    /// Kiosk id from provisioning, e.g. `MZ-0042`.
    pub kiosk_id: String,
    /// Site name, e.g. `梅江区邮政支局`.
    pub site: String,
    /// Software version (Cargo package version).
    pub version: String,
    /// Build identifier (image build or git describe; `dev` for local builds).
    pub build: String,
    /// The time of this report (Unix seconds).
    pub now_unix: i64,
    /// Seconds since the runtime started.
    pub uptime_seconds: u64,
    /// Name of the screen on display.
    pub screen: String,
    /// Whether a citizen is using the kiosk right now (never who).
    pub session_active: bool,
    /// Each device's health, by name (`idcard`, `printer`, `scanner`, `gpio`).
    pub devices: BTreeMap<String, DeviceHealth>,
    /// Receipt paper.
    pub printer_paper: Paper,
    /// The outbox toward the platform.
    pub outbox: Outbox,
    /// Platform contact.
    pub platform: Platform,
    /// Age of the e-license issuer trust list in seconds; none when no list is loaded.
    #[serde(default)]
    pub trust_list_age_seconds: Option<u64>,
    /// Free disk.
    pub disk: Disk,
    /// CPU temperature where the hardware reports one.
    #[serde(default)]
    pub cpu_temperature_celsius: Option<f64>,
    /// Whether the system clock is synchronised (none when it cannot be told).
    #[serde(default)]
    pub clock_synced: Option<bool>,
    /// Activity counters.
    #[serde(default)]
    pub counters: Counters,
    /// The service catalog in use.
    #[serde(default)]
    pub catalog: CatalogInfo,
    /// A citizen at this kiosk asked for help and no staff member has taken it yet (whether or
    /// not the platform could be told).
    #[serde(default)]
    pub help_pending: bool,
    /// Since when (Unix seconds); none when no help is pending.
    #[serde(default)]
    pub help_pending_since_unix: Option<i64>,
    /// A staff member (帮办员) is signed in for the visit at the kiosk (never who).
    #[serde(default)]
    pub staff_signed_in: bool,
    /// Since when (Unix seconds); none when nobody is signed in.
    #[serde(default)]
    pub staff_signed_in_since_unix: Option<i64>,
}

#[derive(Debug)]
struct Inner {
    kiosk_id: String,
    site: String,
    build: String,
    screen: String,
    session_active: bool,
    devices: BTreeMap<String, DeviceHealth>,
    paper: Paper,
    cover_open: bool,
    outbox_depth: u64,
    outbox_oldest_unix: Option<i64>,
    last_contact_unix: Option<i64>,
    trust_list_issued_unix: Option<i64>,
    data_dir: PathBuf,
    clock_override: Option<bool>,
    disk_override: Option<Disk>,
    counters: Counters,
    catalog: CatalogInfo,
    help_pending_since: Option<i64>,
    staff_since: Option<i64>,
}

#[derive(Debug)]
struct Shared {
    inner: RwLock<Inner>,
    started: Instant,
    started_unix: i64,
    system: system::Cache,
}

/// The live status the runtime updates and the status server reads. Cheap to clone (one `Arc`);
/// every method takes `&self` and is safe from any thread. Updates are short critical sections, so
/// the UI thread never waits on the server for long.
#[derive(Clone, Debug)]
pub struct StatusState(Arc<Shared>);

/// Current time as Unix seconds.
pub fn unix_now() -> i64 {
    to_unix(SystemTime::now())
}

/// A `SystemTime` as Unix seconds (negative before 1970).
pub fn to_unix(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

fn age(now: i64, then: Option<i64>) -> Option<u64> {
    then.map(|t| u64::try_from(now.saturating_sub(t)).unwrap_or(0))
}

/// Makes an error text safe to show on the status endpoint: runs of 6 or more digits (or an ID
/// number's trailing `X`) are masked to their first 2 and last 2 characters, control characters
/// become spaces and the text is cut to 200 characters.
pub fn scrub(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len().min(220));
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_digit() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_digit() || chars[i] == 'X' || chars[i] == 'x')
            {
                i += 1;
            }
            let run = &chars[start..i];
            if run.len() >= 6 {
                out.extend(&run[..2]);
                out.push_str("**");
                out.extend(&run[run.len() - 2..]);
            } else {
                out.extend(run);
            }
            continue;
        }
        out.push(if chars[i].is_control() { ' ' } else { chars[i] });
        i += 1;
    }
    if out.chars().count() > 200 {
        out = out.chars().take(199).collect();
        out.push('…');
    }
    out
}

impl StatusState {
    /// A fresh state for kiosk `kiosk_id` at `site`: devices offline until reported, paper unknown,
    /// screen `starting`.
    pub fn new(kiosk_id: &str, site: &str) -> Self {
        let now = unix_now();
        let devices = DEVICES
            .iter()
            .map(|d| {
                let health = DeviceHealth {
                    state: DeviceState::Offline,
                    since_unix: now,
                    last_error: None,
                };
                (d.to_string(), health)
            })
            .collect();
        let inner = Inner {
            kiosk_id: kiosk_id.to_string(),
            site: site.to_string(),
            build: option_env!("ZIZHU_BUILD").unwrap_or("dev").to_string(),
            screen: "starting".to_string(),
            session_active: false,
            devices,
            paper: Paper::Unknown,
            cover_open: false,
            outbox_depth: 0,
            outbox_oldest_unix: None,
            last_contact_unix: None,
            trust_list_issued_unix: None,
            data_dir: PathBuf::from("/"),
            clock_override: None,
            disk_override: None,
            counters: Counters::default(),
            catalog: CatalogInfo::default(),
            help_pending_since: None,
            staff_since: None,
        };
        StatusState(Arc::new(Shared {
            inner: RwLock::new(inner),
            started: Instant::now(),
            started_unix: now,
            system: system::Cache::default(),
        }))
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind; keep serving it.
        self.0.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.0.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the kiosk id and site (after provisioning or a config reload).
    pub fn set_identity(&self, kiosk_id: &str, site: &str) {
        let mut g = self.write();
        g.kiosk_id = kiosk_id.to_string();
        g.site = site.to_string();
    }

    /// Sets the build identifier (image build, git describe).
    pub fn set_build(&self, build: &str) {
        self.write().build = build.to_string();
    }

    /// Directory whose file system free space is reported (the kiosk's data directory).
    pub fn set_data_dir(&self, dir: impl Into<PathBuf>) {
        self.write().data_dir = dir.into();
    }

    /// Reports a fixed clock-sync state instead of measuring the system's (simulated kiosks only,
    /// so a test's verdict does not depend on the machine it runs on).
    pub fn set_clock_synced_override(&self, synced: Option<bool>) {
        self.write().clock_override = synced;
    }

    /// Reports a fixed disk instead of measuring the data directory's file system (simulated
    /// kiosks and tests only, so a verdict does not depend on the free space of the machine).
    pub fn set_disk_override(&self, disk: Option<Disk>) {
        self.write().disk_override = disk;
    }

    /// The screen now on display (`attract`, `home`, `identify`, …).
    pub fn set_screen(&self, screen: &str) {
        let mut g = self.write();
        if g.screen != screen {
            g.screen = screen.to_string();
        }
    }

    /// Whether a citizen's session is active.
    pub fn set_session_active(&self, active: bool) {
        self.write().session_active = active;
    }

    /// Reports a device's state. `since` moves only when the state changes; `last_error` (scrubbed)
    /// replaces the previous one when given and is kept otherwise.
    pub fn set_device(&self, device: &str, state: DeviceState, last_error: Option<&str>) {
        let now = unix_now();
        let mut g = self.write();
        let entry = g.devices.entry(device.to_string()).or_insert(DeviceHealth {
            state,
            since_unix: now,
            last_error: None,
        });
        if entry.state != state {
            entry.state = state;
            entry.since_unix = now;
        }
        if let Some(e) = last_error {
            entry.last_error = Some(scrub(e));
        }
    }

    /// Reports the printer's paper sensor.
    pub fn set_paper(&self, paper: Paper) {
        self.write().paper = paper;
    }

    /// Reports the outbox: items waiting and when the oldest was queued.
    pub fn set_outbox(&self, depth: u64, oldest_queued: Option<SystemTime>) {
        let mut g = self.write();
        g.outbox_depth = depth;
        g.outbox_oldest_unix = if depth == 0 {
            None
        } else {
            oldest_queued.map(to_unix)
        };
    }

    /// Records a successful platform request now.
    pub fn platform_contact_ok(&self) {
        self.write().last_contact_unix = Some(unix_now());
    }

    /// Records a successful platform request at `at`.
    pub fn set_platform_contact(&self, at: SystemTime) {
        self.write().last_contact_unix = Some(to_unix(at));
    }

    /// Records when the loaded e-license trust list was issued (its age is reported from this).
    pub fn set_trust_list_issued(&self, at: Option<SystemTime>) {
        self.write().trust_list_issued_unix = at.map(to_unix);
    }

    /// Counts a completed service of `category`.
    pub fn service_completed(&self, category: &str) {
        *self
            .write()
            .counters
            .services_completed
            .entry(category.to_string())
            .or_default() += 1;
    }

    /// Counts a failed service of `category`.
    pub fn service_failed(&self, category: &str) {
        *self
            .write()
            .counters
            .services_failed
            .entry(category.to_string())
            .or_default() += 1;
    }

    /// Counts one ID-card read.
    pub fn card_read(&self) {
        self.write().counters.card_reads += 1;
    }

    /// Counts one printed receipt.
    pub fn printed(&self) {
        self.write().counters.prints += 1;
    }

    /// Counts one scanned code.
    pub fn scanned(&self) {
        self.write().counters.scans += 1;
    }

    /// Counts one error of `kind` (a short fixed word such as `device`, `platform`, `journal`).
    pub fn error(&self, kind: &str) {
        *self
            .write()
            .counters
            .errors
            .entry(kind.to_string())
            .or_default() += 1;
    }

    /// Lists a device that has a power relay, with no power cycle yet (so the counter exists).
    pub fn has_relay(&self, device: &str) {
        self.write()
            .counters
            .power_cycles
            .entry(device.to_string())
            .or_default();
    }

    /// Counts one power cycle of `device` through its relay.
    pub fn power_cycled(&self, device: &str) {
        *self
            .write()
            .counters
            .power_cycles
            .entry(device.to_string())
            .or_default() += 1;
    }

    /// Records the catalog now in effect: `sequence` none for the embedded one.
    pub fn set_catalog(
        &self,
        sequence: Option<u64>,
        profile: Option<&str>,
        services_offered: usize,
    ) {
        let mut g = self.write();
        g.catalog.source = if sequence.is_some() {
            "bundle"
        } else {
            "embedded"
        }
        .into();
        g.catalog.sequence = sequence;
        g.catalog.applied_unix = Some(unix_now());
        g.catalog.profile = profile.map(str::to_string);
        g.catalog.services_offered = services_offered as u64;
    }

    /// Records a refused catalog bundle by reason (a short fixed word: `signature`, `rollback`…).
    pub fn catalog_refused(&self, reason: &str) {
        let mut g = self.write();
        g.catalog.last_refused = Some(scrub(reason));
        g.catalog.last_refused_unix = Some(unix_now());
        *g.catalog.refused.entry(scrub(reason)).or_default() += 1;
    }

    /// Counts a help request raised on the screen and marks help pending.
    pub fn help_requested(&self) {
        let mut g = self.write();
        g.counters.help_requests += 1;
        g.help_pending_since.get_or_insert(unix_now());
    }

    /// Marks help pending or not (staff took it, the citizen cancelled, the visit ended).
    pub fn set_help_pending(&self, pending: bool) {
        let mut g = self.write();
        if !pending {
            g.help_pending_since = None;
        } else if g.help_pending_since.is_none() {
            g.help_pending_since = Some(unix_now());
        }
    }

    /// Whether help is pending.
    pub fn help_pending(&self) -> bool {
        self.read().help_pending_since.is_some()
    }

    /// Counts a staff sign-in and marks a helper signed in from now.
    pub fn staff_signed_in(&self) {
        let mut g = self.write();
        g.counters.staff_sign_ins += 1;
        g.staff_since = Some(unix_now());
    }

    /// Marks nobody signed in (the helper signed out).
    pub fn staff_signed_out(&self) {
        self.write().staff_since = None;
    }

    /// Counts a refused staff code by reason (a short fixed word, `StaffError::kind`).
    pub fn staff_refused(&self, reason: &str) {
        *self
            .write()
            .counters
            .staff_sign_in_refusals
            .entry(scrub(reason))
            .or_default() += 1;
    }

    /// Whether a helper is signed in.
    pub fn staff_signed_in_now(&self) -> bool {
        self.read().staff_since.is_some()
    }

    /// One device's health as reported (none for a device never reported).
    pub fn device(&self, device: &str) -> Option<DeviceHealth> {
        self.read().devices.get(device).cloned()
    }

    /// Whether a citizen's session is active.
    pub fn session_active(&self) -> bool {
        self.read().session_active
    }

    /// The screen shown now (`attract`, `maintenance`, …).
    pub fn screen(&self) -> String {
        self.read().screen.clone()
    }

    /// The printer's paper as last reported.
    pub fn paper(&self) -> Paper {
        self.read().paper
    }

    /// Records whether the printer reports its cover open (it answers: a person must close it).
    pub fn set_cover_open(&self, open: bool) {
        self.write().cover_open = open;
    }

    /// Whether the printer last reported its cover open.
    pub fn cover_open(&self) -> bool {
        self.read().cover_open
    }

    /// Start time of the runtime (Unix seconds).
    pub fn started_unix(&self) -> i64 {
        self.0.started_unix
    }

    /// A consistent snapshot of everything, with the system facts (disk, temperature, clock)
    /// measured at most once a second.
    pub fn snapshot(&self) -> StatusReport {
        let now = unix_now();
        let (mut report, data_dir, clock_override, disk_override) = {
            let g = self.read();
            let report = StatusReport {
                schema: SCHEMA,
                kiosk_id: g.kiosk_id.clone(),
                site: g.site.clone(),
                version: env!("CARGO_PKG_VERSION").to_string(),
                build: g.build.clone(),
                now_unix: now,
                uptime_seconds: self.0.started.elapsed().as_secs(),
                screen: g.screen.clone(),
                session_active: g.session_active,
                devices: g.devices.clone(),
                printer_paper: g.paper,
                outbox: Outbox {
                    depth: g.outbox_depth,
                    oldest_age_seconds: age(now, g.outbox_oldest_unix),
                },
                platform: Platform {
                    last_contact_unix: g.last_contact_unix,
                    last_contact_age_seconds: age(now, g.last_contact_unix),
                },
                trust_list_age_seconds: age(now, g.trust_list_issued_unix),
                disk: Disk::default(),
                cpu_temperature_celsius: None,
                clock_synced: None,
                counters: g.counters.clone(),
                catalog: g.catalog.clone(),
                help_pending: g.help_pending_since.is_some(),
                help_pending_since_unix: g.help_pending_since,
                staff_signed_in: g.staff_since.is_some(),
                staff_signed_in_since_unix: g.staff_since,
            };
            (
                report,
                g.data_dir.clone(),
                g.clock_override,
                g.disk_override.clone(),
            )
        };
        let SystemInfo {
            disk,
            cpu_temperature_celsius,
            clock_synced,
        } = self.0.system.get(&data_dir);
        report.disk = disk_override.unwrap_or(disk);
        report.cpu_temperature_celsius = cpu_temperature_celsius;
        report.clock_synced = clock_override.or(clock_synced);
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_masks_id_numbers_and_phones() {
        assert_eq!(
            scrub("card 44010619900101123X rejected"),
            "card 44**3X rejected"
        );
        assert_eq!(scrub("call 13800138000"), "call 13**00");
        assert_eq!(scrub("timeout after 3000 ms"), "timeout after 3000 ms");
        assert_eq!(scrub("a\nb"), "a b");
        assert_eq!(scrub(&"x".repeat(500)).chars().count(), 200);
    }

    #[test]
    fn device_since_moves_only_on_change() {
        let s = StatusState::new("T-1", "test");
        s.set_device("printer", DeviceState::Ok, None);
        let since = s.snapshot().devices["printer"].since_unix;
        s.set_device("printer", DeviceState::Ok, Some("paper jam cleared"));
        let snap = s.snapshot();
        assert_eq!(snap.devices["printer"].since_unix, since);
        assert_eq!(
            snap.devices["printer"].last_error.as_deref(),
            Some("paper jam cleared")
        );
        assert_eq!(snap.devices["idcard"].state, DeviceState::Offline);
    }

    #[test]
    fn outbox_age_and_counters() {
        let s = StatusState::new("T-1", "test");
        let old = SystemTime::now() - std::time::Duration::from_secs(7200);
        s.set_outbox(3, Some(old));
        s.service_completed("社保");
        s.service_completed("社保");
        s.error("device");
        let r = s.snapshot();
        assert!(r.outbox.oldest_age_seconds.unwrap_or(0) >= 7200);
        assert_eq!(r.counters.services_completed["社保"], 2);
        assert_eq!(r.counters.errors["device"], 1);
        s.set_outbox(0, Some(old));
        assert_eq!(s.snapshot().outbox.oldest_age_seconds, None);
        assert!(!r.help_pending);
        s.help_requested();
        let h = s.snapshot();
        assert!(h.help_pending && h.help_pending_since_unix.is_some());
        assert_eq!(h.counters.help_requests, 1);
        s.set_help_pending(false);
        assert!(!s.snapshot().help_pending);
        assert_eq!(s.snapshot().counters.help_requests, 1);
        // A helper signed in, then out: a boolean and since when, never who.
        assert!(!s.snapshot().staff_signed_in);
        s.staff_signed_in();
        let r = s.snapshot();
        assert!(r.staff_signed_in && r.staff_signed_in_since_unix.is_some());
        assert_eq!(r.counters.staff_sign_ins, 1);
        s.staff_refused("other-site");
        s.staff_signed_out();
        let r = s.snapshot();
        assert!(!r.staff_signed_in && r.staff_signed_in_since_unix.is_none());
        assert_eq!(
            r.counters.staff_sign_in_refusals.get("other-site"),
            Some(&1)
        );
        let json = serde_json::to_string(&r).unwrap();
        let back: StatusReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
