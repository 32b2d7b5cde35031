//! The kiosk runtime without its window: everything `zizhu run` starts before (or instead of)
//! the touchscreen. This is the ONLY place that picks real or simulated backends.
//!
//! - concurrency: ONE tokio runtime with one worker thread (`zizhu-rt`), owned here, runs the
//!   platform client's calls, the status server and (simulation mode) the demo platform; the
//!   blocking parts (serial ports, SQLite, GPIO) have threads of their own, listed below;
//! - devices: for `sim` backends a protocol-faithful simulator on a pseudo-terminal, opened by
//!   the REAL serial driver (so simulation exercises the production code); for `serial` the
//!   configured port; each on its own worker thread, all three sending into ONE device hub
//!   thread (`devices`), which updates the status state, journals health changes and forwards
//!   the UI's events (to the maintenance screen instead while it is open);
//! - platform: the configured URL, or the demo platform started in-process (simulation mode);
//! - status server: a task on the runtime's tokio worker, so the UI never waits for it;
//! - health loop: systemd READY and watchdog pings, device health into the status state;
//! - device health: every change of a device's state or reason goes to the status state AND to
//!   the journal's `device_events` (what the maintenance screen's "recent errors" shows);
//! - device supervisor: on its own thread, a device with a GPIO power relay that stays offline is
//!   power-cycled (rules in [`crate::supervisor`]), never during a citizen's session; each cycle is
//!   audited (actor `runtime`, action `power_cycle`) and counted
//!   (`zizhu_device_power_cycles_total`).
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;
use zizhu_drivers::gpio::{Gpio, Relay, SimGpio};
use zizhu_drivers::health::{Health, HealthState};
use zizhu_drivers::idcard::{self, ReaderEvent};
use zizhu_drivers::printer::{self, PrinterEvent};
use zizhu_drivers::scanner::{self, ScannerEvent};

use crate::catalog::live::{Active, Live, Offered};
use crate::config::{Config, DeviceBackend, GpioBackend};
use crate::elicense::{self, Verifier};
use crate::journal::{self, Journal};
use crate::platform::{demo, Client, ClientConfig};
use crate::status::{self, DeviceState, Paper, StatusState};
use crate::supervisor::{Decision, Policy, Supervisor, SupervisorError};

/// What the UI hears from the devices.
#[derive(Debug)]
pub enum DeviceEvent {
    /// An ID card was read (once per placement).
    Card(Box<idcard::card::CardRead>),
    /// The card left the reader.
    CardRemoved,
    /// A card is there but could not be read; plain reason.
    CardFailed(String),
    /// A code was scanned.
    Scan(String),
    /// The printer holds a job (paper out, cover open); it prints when ready again. The kind
    /// tells the citizen what is wrong; the reason is for the log.
    PrintWaiting(zizhu_drivers::health::DeviceErrorKind, String),
    /// A print job came out.
    Printed,
}

/// Where the runtime hands device events for the UI. It is called on the device hub's thread, so
/// it must be quick: a kiosk with a screen sends the event on a channel and wakes the UI thread
/// (`kiosk::wake::ui_events`); a plain `Sender` works too.
#[derive(Clone)]
pub struct UiEvents(Arc<dyn Fn(DeviceEvent) + Send + Sync>);

impl UiEvents {
    /// A sink that calls `f` with each event.
    pub fn new(f: impl Fn(DeviceEvent) + Send + Sync + 'static) -> UiEvents {
        UiEvents(Arc::new(f))
    }

    /// A sink that drops every event (a headless kiosk: the hub logs each one).
    pub fn none() -> UiEvents {
        UiEvents::new(|_| {})
    }

    /// Hands one event on.
    pub fn send(&self, ev: DeviceEvent) {
        (self.0)(ev)
    }
}

impl From<Sender<DeviceEvent>> for UiEvents {
    fn from(tx: Sender<DeviceEvent>) -> UiEvents {
        UiEvents::new(move |ev| {
            let _ = tx.send(ev);
        })
    }
}

/// Options from the command line that override the config.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    /// `--status-listen`.
    pub status_listen: Option<String>,
    /// `--status-token-file`.
    pub status_token_file: Option<PathBuf>,
}

/// Simulated devices kept alive for the runtime's lifetime (and reachable for demos/tests).
#[derive(Default)]
pub struct Simulators {
    /// Simulated ID-card reader (unplugged while its simulated relay is off).
    pub idcard: Option<Arc<idcard::sim::Simulator>>,
    /// Simulated printer (unplugged while its simulated relay is off).
    pub printer: Option<Arc<printer::sim::Simulator>>,
    /// Simulated scanner.
    pub scanner: Option<scanner::sim::Simulator>,
    /// Simulated GPIO (`[gpio] backend = "sim"`): what the LEDs and relays were told.
    pub gpio: Option<SimGpio>,
}

/// The running runtime. Dropping it stops everything.
pub struct Runtime {
    /// The validated config.
    pub config: Config,
    /// Status state shared with the status server.
    pub state: StatusState,
    /// The platform base URL in use.
    pub platform_url: String,
    /// The platform client.
    pub client: Arc<Client>,
    /// The journal (outbox, transaction log, audit) in the data directory.
    pub journal: Arc<Journal>,
    /// Status server address.
    pub status_addr: Option<std::net::SocketAddr>,
    /// The e-licence verifier (扫码亮证): pinned roots, the trust list from the platform, the
    /// persistent replay cache.
    pub verifier: Arc<Mutex<Verifier>>,
    /// The service catalog in effect: the last good signed bundle, else the embedded one; a
    /// newer bundle from the platform takes its place when no visit is in progress.
    pub catalog: Arc<Live>,
    /// The ETag of the last catalog bundle fetched (so an unchanged one costs a 304).
    catalog_etag: Mutex<Option<String>>,
    /// The printer worker (the UI submits receipts here).
    pub printer: Option<printer::serial::PrinterHandle>,
    /// Simulators (simulation mode).
    pub sims: Simulators,
    demo: Option<demo::DemoHandle>,
    drain: Option<journal::drain::DrainHandle>,
    status: Option<status::StatusHandle>,
    reader: Option<idcard::serial::ReaderHandle>,
    scanner: Option<scanner::serial::ScannerHandle>,
    /// Where the device hub sends the UI's events.
    router: Arc<Router>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// The one tokio runtime; shut down last, after everything that runs on it.
    tokio: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
}

/// The runtime's one tokio runtime: one worker thread, IO and time drivers.
fn tokio_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("zizhu-rt")
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}

/// Where the in-process demo platform keeps its store in simulation mode: the directory
/// `NAME-demo-platform` beside the data directory `NAME`, outside the kiosk's own files.
pub fn demo_platform_db(data_dir: &std::path::Path) -> std::path::PathBuf {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "zizhu".into());
    let parent = data_dir.parent().unwrap_or(std::path::Path::new("."));
    parent
        .join(format!("{name}-demo-platform"))
        .join("demo-platform.sqlite")
}

/// The e-licence store (trust list, replay cache) in the journal database, on its own connection
/// (the verifier serialises its use behind its mutex; WAL lets it and the journal work side by
/// side).
fn open_elicense_store(journal: &Journal) -> anyhow::Result<elicense::store::SqliteStore> {
    let conn = journal
        .connect()
        .context("opening the e-licence store in the journal")?;
    let store = elicense::store::SqliteStore::attach(conn)
        .context("opening the e-licence store in the journal")?;
    Ok(store)
}

fn device_state(h: &Health) -> DeviceState {
    match h.state {
        HealthState::Ok => DeviceState::Ok,
        HealthState::Degraded => DeviceState::Degraded,
        HealthState::Offline => DeviceState::Offline,
    }
}

/// Writes one device health change to the journal (`device_events`) and the log. The reason is
/// scrubbed first (it never holds personal data, but a driver's text might carry a number).
fn journal_health(journal: &Journal, device: &str, state: DeviceState, reason: Option<&str>) {
    let reason = reason.map(status::state::scrub);
    match state {
        DeviceState::Ok => tracing::info!(device, "device ok"),
        _ => tracing::warn!(
            device,
            state = state.as_str(),
            reason = reason.as_deref().unwrap_or(""),
            "device health changed"
        ),
    }
    if let Err(e) = journal.device_event(device, state.as_str(), reason.as_deref()) {
        tracing::warn!(
            device,
            "cannot write the device health change to the journal: {e}"
        );
    }
}

/// Most journal rows one device writes per [`FLAP_WINDOW`]; a device flapping faster (a loose
/// cable) has the rest counted and summed up in one row, so the journal stays small.
const FLAP_ROWS: u32 = 20;
/// See [`FLAP_ROWS`].
const FLAP_WINDOW: Duration = Duration::from_secs(600);

/// A device's health as its worker reports it: into the status state every time, into the
/// journal only when the state or the reason changed (workers report changes only, but a
/// reconnecting worker may repeat itself), at most [`FLAP_ROWS`] rows per [`FLAP_WINDOW`].
struct HealthLog {
    device: &'static str,
    state: StatusState,
    journal: Arc<Journal>,
    last: Option<(HealthState, Option<String>)>,
    window: Instant,
    rows: u32,
    skipped: u32,
}

impl HealthLog {
    fn new(device: &'static str, state: StatusState, journal: Arc<Journal>) -> HealthLog {
        HealthLog {
            device,
            state,
            journal,
            last: None,
            window: Instant::now(),
            rows: 0,
            skipped: 0,
        }
    }

    fn report(&mut self, h: &Health) {
        let st = device_state(h);
        self.state.set_device(self.device, st, h.reason.as_deref());
        let key = (h.state, h.reason.clone());
        if self.last.as_ref() == Some(&key) {
            return;
        }
        self.last = Some(key);
        if self.window.elapsed() >= FLAP_WINDOW {
            self.window = Instant::now();
            self.rows = 0;
            if self.skipped > 0 {
                let note = format!(
                    "{} more health changes in {} minutes not recorded (the device flaps: check its cable)",
                    self.skipped,
                    FLAP_WINDOW.as_secs() / 60
                );
                self.skipped = 0;
                journal_health(
                    &self.journal,
                    self.device,
                    DeviceState::Degraded,
                    Some(&note),
                );
                self.rows += 1;
            }
        }
        if self.rows >= FLAP_ROWS {
            self.skipped += 1;
            return;
        }
        self.rows += 1;
        journal_health(&self.journal, self.device, st, h.reason.as_deref());
    }
}

/// The runtime's GPIO: the implementation `[gpio] backend` names, and its state on the status
/// endpoint. `None` when there is none (or it cannot be opened; the reason is reported).
fn open_gpio(
    config: &Config,
    state: &StatusState,
    journal: &Journal,
    sims: &mut Simulators,
) -> Option<Box<dyn Gpio>> {
    match config.gpio.backend {
        GpioBackend::None => {
            // No GPIO here: nothing to fail.
            state.set_device(
                "gpio",
                DeviceState::Ok,
                Some("no GPIO on this machine (no-op)"),
            );
            None
        }
        GpioBackend::Sim => {
            let g = SimGpio::new();
            // A relay switched off unplugs the simulated device behind it; on plugs it back
            // (a fault set on the simulator stays, as a defect would).
            let (reader, printer) = (sims.idcard.clone(), sims.printer.clone());
            g.on_power(move |relay, on| match (relay, &reader, &printer) {
                (Relay::Reader, Some(s), _) if on => s.plug(),
                (Relay::Reader, Some(s), _) => s.unplug(),
                (Relay::Printer, _, Some(s)) if on => s.plug(),
                (Relay::Printer, _, Some(s)) => s.unplug(),
                _ => {}
            });
            sims.gpio = Some(g.clone());
            state.set_device("gpio", DeviceState::Ok, Some("simulated GPIO"));
            Some(Box::new(g))
        }
        GpioBackend::Rpi => {
            let mut pins = zizhu_drivers::gpio::Pins::default();
            if let Some(p) = config.gpio.relay_idcard_pin {
                pins.relay_reader = p;
            }
            if let Some(p) = config.gpio.relay_printer_pin {
                pins.relay_printer = p;
            }
            match open_rpi(pins) {
                Ok(g) => {
                    state.set_device("gpio", DeviceState::Ok, None);
                    Some(g)
                }
                Err(reason) => {
                    tracing::error!("GPIO: {reason}");
                    state.set_device("gpio", DeviceState::Offline, Some(&reason));
                    journal_health(journal, "gpio", DeviceState::Offline, Some(&reason));
                    None
                }
            }
        }
    }
}

#[cfg(feature = "rpi")]
fn open_rpi(pins: zizhu_drivers::gpio::Pins) -> Result<Box<dyn Gpio>, String> {
    zizhu_drivers::gpio::rpi::RppalGpio::open(pins)
        .map(|g| Box::new(g) as Box<dyn Gpio>)
        .map_err(|e| {
            format!("{e}; add the service user to the gpio group and check the pins in [gpio]")
        })
}

#[cfg(not(feature = "rpi"))]
fn open_rpi(_pins: zizhu_drivers::gpio::Pins) -> Result<Box<dyn Gpio>, String> {
    Err(
        "gpio.backend is \"rpi\" but this zizhu was built without feature `rpi`; install the \
         kiosk package built for the Raspberry Pi or set gpio.backend = \"none\""
            .to_string(),
    )
}

/// Sleeps `d` in short steps; returns early when `stop` is set.
fn sleep_unless_stopped(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::SeqCst) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// Switches `relay` off for `off_for`, then on again. The power always comes back, also when
/// the runtime is stopping; switching it on is tried three times.
fn power_cycle(
    gpio: &mut dyn Gpio,
    device: &str,
    relay: Relay,
    off_for: Duration,
    stop: &AtomicBool,
) -> Result<(), SupervisorError> {
    let err = |source| SupervisorError::Relay {
        device: device.to_string(),
        source,
    };
    gpio.set_power(relay, false).map_err(err)?;
    sleep_unless_stopped(off_for, stop);
    let mut last = None;
    for _ in 0..3 {
        match gpio.set_power(relay, true) {
            Ok(()) => return Ok(()),
            Err(e) => {
                last = Some(e);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    match last {
        Some(e) => Err(err(e)),
        None => Ok(()),
    }
}

/// How often the supervisor looks at the devices.
const SUPERVISOR_TICK: Duration = Duration::from_millis(250);

/// The device supervisor's thread: looks at the relay devices' health every
/// [`SUPERVISOR_TICK`] and power-cycles them as [`Supervisor`] decides.
struct SupervisorLoop {
    gpio: Box<dyn Gpio>,
    relays: Vec<(&'static str, Relay)>,
    supervisor: Supervisor,
    state: StatusState,
    journal: Arc<Journal>,
    stop: Arc<AtomicBool>,
}

impl SupervisorLoop {
    fn run(mut self) {
        let mut waiting = std::collections::HashSet::new();
        while !self.stop.load(Ordering::SeqCst) {
            // A citizen's visit, or a technician testing the devices on the maintenance screen:
            // nobody's device loses power under their hands.
            let session = self.state.session_active() || self.state.screen() == "maintenance";
            for (device, relay) in self.relays.clone() {
                let health = self.state.device(device);
                // Out of paper or an open cover needs hands, not a power cycle: the printer
                // still answers. A jammed cutter or an "unrecoverable error" may clear with one.
                let needs_hands = device == "printer"
                    && (self.state.paper() == Paper::Out || self.state.cover_open());
                let offline = health
                    .as_ref()
                    .is_some_and(|h| h.state == DeviceState::Offline)
                    && !needs_hands;
                match self
                    .supervisor
                    .step(device, offline, session, Instant::now())
                {
                    Decision::Cycle {
                        offline_for,
                        off_for,
                        next_wait,
                    } => {
                        waiting.remove(device);
                        let reason = health.and_then(|h| h.last_error).unwrap_or_default();
                        self.cycle(device, relay, offline_for, off_for, next_wait, &reason);
                    }
                    Decision::WaitForSession => {
                        if waiting.insert(device) {
                            tracing::info!(
                                device,
                                "device offline: power cycle postponed until the session ends"
                            );
                        }
                    }
                    Decision::Nothing | Decision::Backoff { .. } => {}
                }
            }
            sleep_unless_stopped(SUPERVISOR_TICK, &self.stop);
        }
    }

    fn cycle(
        &mut self,
        device: &str,
        relay: Relay,
        offline_for: Duration,
        off_for: Duration,
        next_wait: Duration,
        reason: &str,
    ) {
        tracing::warn!(
            device,
            offline_secs = offline_for.as_secs(),
            off_secs = off_for.as_secs_f64(),
            "device offline too long: power-cycling it through its relay"
        );
        let outcome = power_cycle(self.gpio.as_mut(), device, relay, off_for, &self.stop);
        let mut detail = format!(
            "{device}: offline for {} s ({reason}); power off for {} s",
            offline_for.as_secs(),
            off_for.as_secs_f64()
        );
        match &outcome {
            Ok(()) => {
                self.state.power_cycled(device);
                detail.push_str(&format!(
                    "; next cycle not before {} min",
                    next_wait.as_secs() / 60
                ));
            }
            Err(e) => {
                tracing::error!("{e}");
                detail.push_str(&format!("; failed: {e}"));
                let reason = format!("{device} relay: {e}");
                self.state
                    .set_device("gpio", DeviceState::Degraded, Some(&reason));
                journal_health(&self.journal, "gpio", DeviceState::Degraded, Some(&reason));
            }
        }
        let detail = status::state::scrub(&detail);
        if let Err(e) = self.journal.audit("runtime", "power_cycle", Some(&detail)) {
            tracing::warn!(
                device,
                "cannot write the power cycle to the audit trail: {e}"
            );
        }
    }
}

impl Runtime {
    /// Starts everything but the window. Device events for the UI go to `ui_events`.
    pub fn start(
        config: Config,
        overrides: &Overrides,
        ui_events: impl Into<UiEvents>,
    ) -> anyhow::Result<Runtime> {
        let ui_events = ui_events.into();
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
        let tokio = tokio_runtime()?;
        let handle = tokio.handle().clone();
        let state = StatusState::new(&config.kiosk_id, &config.site);
        state.set_build(env!("CARGO_PKG_VERSION"));
        state.set_data_dir(config.data_dir.clone());
        state.set_screen("attract");
        if let Some(reason) = crate::maintenance::provision_error(&config.provision_error_path()) {
            tracing::error!(
                %reason,
                file = %config.provision_error_path().display(),
                "first-boot provisioning failed: fix the provisioning file on the boot partition and restart"
            );
        }

        // Platform: configured, or the demo platform in-process.
        let (demo, platform_url) = match &config.platform_url {
            Some(u) => (None, u.clone()),
            None => {
                // The demo platform's store holds full synthetic ID numbers, like a real
                // platform's: it lives beside the kiosk's data directory, never inside it (the
                // kiosk's own files hold no full ID number).
                let db = demo_platform_db(&config.data_dir);
                std::fs::create_dir_all(db.parent().unwrap_or(&config.data_dir)).with_context(
                    || {
                        format!(
                            "creating the demo platform's directory for {}",
                            db.display()
                        )
                    },
                )?;
                // The demo platform serves a trust list signed by the demo root (newer at
                // each start than the one stored).
                let opts = demo::DemoOptions {
                    db: Some(db),
                    trust_list: Some(elicense::demo::current_trust_list(
                        chrono::Utc::now().timestamp(),
                    )?),
                    ..Default::default()
                };
                let d = demo::spawn_on(&handle, "127.0.0.1:0".parse()?, opts)
                    .context("starting the demo platform")?;
                let url = d.url();
                tracing::info!(%url, "demo platform started in-process (simulation mode)");
                (Some(d), url)
            }
        };
        let token = match &config.platform_token_file {
            Some(f) => std::fs::read_to_string(f)
                .with_context(|| format!("reading the platform token file {}", f.display()))?
                .trim()
                .to_string(),
            None => "simulation".to_string(),
        };
        let mut cc = ClientConfig::new(platform_url.clone(), token, config.kiosk_id.clone());
        cc.timeout = config.platform_timeout;
        let client = Arc::new(Client::on_runtime(cc, handle.clone())?);

        // Journal first: nothing is sent that is not written down. The drain worker re-sends
        // whatever the platform has not confirmed, whenever it is reachable.
        let journal =
            Arc::new(Journal::open(&config.data_dir).with_context(|| {
                format!("opening the journal in {}", config.data_dir.display())
            })?);
        let drain = journal::drain::spawn(
            journal.clone(),
            client.clone(),
            journal::drain::DrainConfig::default(),
        )
        .context("starting the outbox worker")?;

        // E-licence verifier: roots pinned in the config (the demo roots in simulation).
        let roots = if !config.elicense_root_keys.is_empty() {
            config
                .elicense_root_keys
                .iter()
                .map(|h| {
                    elicense::PublicKey::from_sec1_hex(h).map_err(|e| {
                        anyhow::anyhow!("elicense.root_keys: not a P-256 or SM2 public key: {e}")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?
        } else if config.simulation {
            elicense::demo::roots()?
        } else {
            Vec::new()
        };
        let store = open_elicense_store(&journal)?;
        let verifier = Arc::new(Mutex::new(Verifier::from_store(roots, Box::new(store))?));

        // Catalog: the last good bundle in the journal, else the embedded catalog.
        let pinned = catalog_pinned_keys(&config)?;
        let keys = {
            let v = verifier
                .lock()
                .map_err(|_| anyhow::anyhow!("verifier lock poisoned"))?;
            catalog_keys(&pinned, &v)
        };
        let (live, why) = Live::restore(&*journal, keys, config.catalog_profile.as_deref())
            .map_err(|e| anyhow::anyhow!("[catalog] profile: {e}"))?;
        if let Some(e) = why {
            tracing::warn!(
                reason = e.kind(),
                "the stored catalog bundle is not used: {e}"
            );
            state.catalog_refused(e.kind());
        }
        let catalog = Arc::new(live);
        publish_catalog(
            &state,
            &catalog.current(),
            config.catalog_profile.as_deref(),
        );

        // Status server.
        let section = status::StatusSection {
            listen: config.status_listen.map(|a| a.to_string()),
            token_file: config.status_token_file.clone(),
            token: config.status_token.clone(),
            tls_cert: config.status_tls.as_ref().map(|t| t.0.clone()),
            tls_key: config.status_tls.as_ref().map(|t| t.1.clone()),
            rate_limit_per_second: Some(config.status_rate_limit_per_second),
            rate_limit_burst: Some(config.status_rate_limit_burst),
        };
        let (scfg, generated) = status::resolve_config(
            overrides.status_listen.as_deref(),
            overrides.status_token_file.as_deref(),
            Some(&section),
        )?;
        let status_handle =
            status::spawn_on(&handle, scfg, state.clone()).context("starting the status server")?;
        let status_addr = status_handle.local_addr();
        if let Some(t) = generated {
            // Printed once so an operator (or a test) can poll this simulated kiosk.
            println!("status: http://{status_addr} token {t}");
        } else {
            println!("status: http://{status_addr}");
        }

        let mut rt = Runtime {
            config,
            state,
            platform_url,
            client,
            journal,
            verifier,
            catalog,
            catalog_etag: Mutex::new(None),
            drain: Some(drain),
            status_addr: Some(status_addr),
            printer: None,
            sims: Simulators::default(),
            demo,
            status: Some(status_handle),
            reader: None,
            scanner: None,
            router: Arc::new(Router::new(ui_events)),
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            tokio: Some(tokio),
            handle,
        };
        rt.start_devices()?;
        rt.start_supervisor()?;
        Ok(rt)
    }

    /// Opens the GPIO and, when a device with a relay is installed and power cycling is on,
    /// starts the device supervisor's thread.
    fn start_supervisor(&mut self) -> anyhow::Result<()> {
        let gpio = open_gpio(&self.config, &self.state, &self.journal, &mut self.sims);
        let policy: Policy = self.config.supervisor;
        let mut relays = Vec::new();
        if self.config.gpio.relay_idcard_pin.is_some() && self.config.idcard != DeviceBackend::None
        {
            relays.push(("idcard", Relay::Reader));
        }
        if self.config.gpio.relay_printer_pin.is_some()
            && self.config.printer != DeviceBackend::None
        {
            relays.push(("printer", Relay::Printer));
        }
        let Some(gpio) = gpio else { return Ok(()) };
        if relays.is_empty() || !policy.enabled {
            return Ok(());
        }
        for (device, _) in &relays {
            self.state.has_relay(device);
        }
        tracing::info!(
            devices = ?relays.iter().map(|r| r.0).collect::<Vec<_>>(),
            grace_secs = policy.grace.as_secs(),
            "device supervisor: power-cycling devices that stay offline"
        );
        // Cycles before a restart still count (the audit trail has them), so a kiosk that
        // restarts does not cut a device's power again at once.
        let mut supervisor = Supervisor::new(policy);
        let now_ms = crate::journal::now_ms();
        let now = std::time::Instant::now();
        match self.journal.audit_log(200) {
            Ok(log) => {
                for e in log.iter().filter(|e| e.action == "power_cycle") {
                    let device = e
                        .detail
                        .as_deref()
                        .and_then(|d| relays.iter().map(|r| r.0).find(|name| d.starts_with(name)));
                    if let Some(device) = device {
                        let ago = Duration::from_millis((now_ms - e.at).max(0) as u64);
                        if ago < policy.max_interval {
                            supervisor.remember_cycle(device, ago, now);
                        }
                    }
                }
            }
            Err(e) => tracing::warn!("audit trail not read for the supervisor: {e}"),
        }
        let job = SupervisorLoop {
            gpio,
            relays,
            supervisor,
            state: self.state.clone(),
            journal: self.journal.clone(),
            stop: self.stop.clone(),
        };
        self.threads.push(
            std::thread::Builder::new()
                .name("device-supervisor".into())
                .spawn(move || job.run())
                .context("starting the device supervisor")?,
        );
        Ok(())
    }

    fn port_for(
        &mut self,
        name: &str,
        backend: &DeviceBackend,
    ) -> anyhow::Result<Option<(PathBuf, u32)>> {
        Ok(match backend {
            DeviceBackend::None => {
                self.state
                    .set_device(name, DeviceState::Offline, Some("not installed"));
                None
            }
            DeviceBackend::Serial { port, baud } => Some((port.clone(), *baud)),
            DeviceBackend::Sim => {
                let dir = self.config.data_dir.join("sim");
                std::fs::create_dir_all(&dir)?;
                let link = dir.join(name);
                match name {
                    "idcard" => {
                        let s = idcard::sim::Simulator::spawn(&link, idcard::card::samples())?;
                        self.sims.idcard = Some(Arc::new(s));
                    }
                    "printer" => {
                        let s = printer::sim::Simulator::spawn(&link, Some(&dir.join("printed")))?;
                        self.sims.printer = Some(Arc::new(s));
                    }
                    _ => {
                        let s = scanner::sim::Simulator::spawn(&link)?;
                        self.sims.scanner = Some(s);
                    }
                }
                Some((link, 115_200))
            }
        })
    }

    fn start_devices(&mut self) -> anyhow::Result<()> {
        use zizhu_drivers::events::EventSink;
        let (tx, rx) = mpsc::channel();
        let mut hub = Hub {
            state: self.state.clone(),
            router: self.router.clone(),
            reader: None,
            printer: None,
            scanner: None,
        };
        let idcard_backend = self.config.idcard.clone();
        if let Some((port, baud)) = self.port_for("idcard", &idcard_backend)? {
            let mut cfg = idcard::serial::WorkerConfig::new(port);
            cfg.baud = baud;
            let sink = EventSink::wrapped(tx.clone(), HubEvent::Reader);
            self.reader = Some(idcard::serial::spawn_worker(cfg, sink)?);
            hub.reader = Some(HealthLog::new(
                "idcard",
                self.state.clone(),
                self.journal.clone(),
            ));
        }
        let printer_backend = self.config.printer.clone();
        if let Some((port, baud)) = self.port_for("printer", &printer_backend)? {
            let mut cfg = printer::serial::WorkerConfig::new(port);
            cfg.baud = baud;
            let sink = EventSink::wrapped(tx.clone(), HubEvent::Printer);
            self.printer = Some(printer::serial::spawn_worker(cfg, sink)?);
            hub.printer = Some(HealthLog::new(
                "printer",
                self.state.clone(),
                self.journal.clone(),
            ));
        }
        let scanner_backend = self.config.scanner.clone();
        if let Some((port, baud)) = self.port_for("scanner", &scanner_backend)? {
            let mut cfg = scanner::serial::WorkerConfig::new(port);
            cfg.baud = baud;
            let sink = EventSink::wrapped(tx.clone(), HubEvent::Scanner);
            self.scanner = Some(scanner::serial::spawn_worker(cfg, sink)?);
            hub.scanner = Some(HealthLog::new(
                "scanner",
                self.state.clone(),
                self.journal.clone(),
            ));
        }
        // The workers hold the only senders now: the hub ends when the last worker stops.
        drop(tx);
        if hub.reader.is_some() || hub.printer.is_some() || hub.scanner.is_some() {
            self.threads.push(
                std::thread::Builder::new()
                    .name("devices".into())
                    .spawn(move || hub.run(rx))?,
            );
        }
        Ok(())
    }

    /// A handle to the runtime's one tokio runtime (to run a task there instead of starting
    /// another runtime).
    pub fn tokio(&self) -> tokio::runtime::Handle {
        self.handle.clone()
    }

    /// Downloads the issuer trust list and installs it when it is newer than the stored one
    /// (rollback and bad signatures are refused and the old list kept); publishes its age.
    pub fn refresh_trust_list(&self) {
        let Ok(mut v) = self.verifier.lock() else {
            return;
        };
        match self.client.trust_list(None) {
            Ok(crate::platform::Fetched::Fresh { body, .. }) => {
                match v.install_trust_list(&body, chrono::Utc::now()) {
                    Ok(seq) => tracing::info!(seq, "e-licence trust list installed"),
                    Err(e) => tracing::debug!(code = e.code(), "trust list not installed: {e}"),
                }
            }
            Ok(crate::platform::Fetched::NotModified) => {}
            Err(e) => tracing::info!("trust list not downloaded: {e}"),
        }
        let issued = match v.trust() {
            elicense::Trust::List(l) => {
                Some(std::time::UNIX_EPOCH + Duration::from_secs(l.iat.max(0) as u64))
            }
            _ => None,
        };
        self.state.set_trust_list_issued(issued);
    }

    /// Fetches the platform's catalog bundle (conditionally: an unchanged one costs a 304) and
    /// offers it to the live catalog, which verifies, checks and stores it, then applies it now
    /// when no visit is in progress or at the next idle moment ([`Runtime::catalog_idle`]).
    pub fn refresh_catalog(&self) {
        let pinned = catalog_pinned_keys(&self.config).unwrap_or_default();
        if let Ok(v) = self.verifier.lock() {
            self.catalog.set_keys(catalog_keys(&pinned, &v));
        }
        let etag = self
            .catalog_etag
            .lock()
            .map(|g| g.clone())
            .unwrap_or_default();
        let (etag, body) = match self.client.catalog_bundle(etag.as_deref()) {
            Ok(crate::platform::Fetched::NotModified) => return,
            Ok(crate::platform::Fetched::Fresh { etag, body }) => (etag, body),
            Err(e) if e.code() == Some("catalog_bundle_unpublished") => {
                tracing::debug!("the platform publishes no catalog bundle");
                return;
            }
            Err(e) => {
                tracing::info!("catalog bundle not downloaded: {e}");
                return;
            }
        };
        let now = chrono::Utc::now().timestamp();
        let visit = self.state.session_active();
        let remember = match self.catalog.offer(&body, now, visit, &*self.journal) {
            Ok(Offered::Applied(a)) => {
                tracing::info!(seq = a.seq(), "catalog bundle applied");
                publish_catalog(&self.state, &a, self.config.catalog_profile.as_deref());
                true
            }
            Ok(Offered::Waiting { seq }) => {
                tracing::info!(seq, "catalog bundle stored; it applies when the visit ends");
                true
            }
            Err(e) => {
                tracing::warn!(reason = e.kind(), "catalog bundle refused: {e}");
                self.state.catalog_refused(e.kind());
                // The same bytes would be refused again, unless the kiosk's side changes (a
                // key arrives in the trust list, the disk frees up): fetch those again.
                !matches!(e.kind(), "storage" | "no-keys" | "signature")
            }
        };
        if remember {
            if let Ok(mut g) = self.catalog_etag.lock() {
                *g = etag;
            }
        }
    }

    /// No visit is in progress: a catalog bundle that waited for the end of one takes effect.
    pub fn catalog_idle(&self) {
        if self.state.session_active() {
            return;
        }
        if let Some(a) = self.catalog.idle(&*self.journal) {
            tracing::info!(seq = a.seq(), "catalog bundle applied after the visit");
            publish_catalog(&self.state, &a, self.config.catalog_profile.as_deref());
        }
    }

    /// Deletes journal history past its retention (see [`crate::journal::Retention`]).
    fn prune_journal(&self) {
        match self.journal.prune(
            &crate::journal::Retention::default(),
            crate::journal::now_ms(),
        ) {
            Ok(p) => tracing::info!(
                outbox = p.outbox,
                device_events = p.device_events,
                transactions = p.transactions,
                audit = p.audit,
                "journal history pruned"
            ),
            Err(e) => tracing::warn!("journal prune: {e}"),
        }
    }

    /// The health loop: READY once, then watchdog pings and platform reachability, until
    /// `stop` is set. Runs on the calling thread.
    pub fn health_loop(&self, stop: &AtomicBool) {
        if let Err(e) = crate::systemd::notify_ready("kiosk running") {
            tracing::warn!("systemd notify: {e}");
        }
        let running = || !stop.load(Ordering::SeqCst) && !self.stop.load(Ordering::SeqCst);
        let step = Duration::from_millis(250);
        std::thread::scope(|scope| {
            // Platform checks can block for the client's timeouts: they (and the daily journal
            // pruning) get their own thread so the watchdog pings below never wait for them.
            scope.spawn(|| {
                // The first trust-list download and ping happen right after READY, so a slow
                // or unreachable platform never delays start-up.
                // History is pruned at start too, then daily (journal::Retention).
                let (mut since_ping, mut since_trust, mut since_prune, mut since_catalog) =
                    (Duration::MAX, Duration::MAX, Duration::MAX, Duration::MAX);
                while running() {
                    if since_prune >= Duration::from_secs(86_400) {
                        self.prune_journal();
                        since_prune = Duration::ZERO;
                    }
                    if since_ping >= Duration::from_secs(30) {
                        if self.client.ping().is_ok() {
                            self.state.platform_contact_ok();
                        }
                        since_ping = Duration::ZERO;
                    }
                    if since_trust >= Duration::from_secs(3600) {
                        self.refresh_trust_list();
                        since_trust = Duration::ZERO;
                    }
                    if since_catalog >= self.config.catalog_poll {
                        self.refresh_catalog();
                        since_catalog = Duration::ZERO;
                    }
                    self.catalog_idle();
                    std::thread::sleep(step);
                    since_catalog = since_catalog.saturating_add(step);
                    since_ping = since_ping.saturating_add(step);
                    since_trust = since_trust.saturating_add(step);
                    since_prune = since_prune.saturating_add(step);
                }
            });
            while running() {
                let _ = crate::systemd::notify_watchdog();
                match self.journal.counts() {
                    Ok(c) => {
                        let oldest = match self.journal.due(i64::MAX, 1) {
                            Ok(items) => items.first().map(|i| {
                                std::time::UNIX_EPOCH
                                    + Duration::from_millis(i.created_at.max(0) as u64)
                            }),
                            Err(_) => None,
                        };
                        self.state.set_outbox(c.backlog(), oldest);
                    }
                    Err(e) => tracing::warn!("journal counts: {e}"),
                }
                std::thread::sleep(step);
            }
        });
        let _ = crate::systemd::notify_stopping();
    }
}

/// `[catalog] keys` as keys (checked when the config was validated).
fn catalog_pinned_keys(config: &Config) -> anyhow::Result<Vec<elicense::PublicKey>> {
    config
        .catalog_keys
        .iter()
        .map(|k| elicense::trust::parse_root(k).map_err(|e| anyhow::anyhow!("[catalog] keys: {e}")))
        .collect()
}

/// The keys catalog bundles are verified with: the pinned ones, and the trust list's keys with
/// usage "catalog".
fn catalog_keys(pinned: &[elicense::PublicKey], v: &Verifier) -> Vec<elicense::PublicKey> {
    let list = match v.trust() {
        elicense::Trust::List(l) => Some(l),
        _ => None,
    };
    crate::catalog::bundle::catalog_keys(pinned, list, chrono::Utc::now().timestamp())
}

/// Puts the catalog in effect into the status report.
fn publish_catalog(state: &StatusState, a: &Active, profile: Option<&str>) {
    state.set_catalog(a.seq(), profile, a.offer.len());
}

/// Where the device hub's events for the UI go: the visitor's flow, or the maintenance screen
/// while it is open.
pub(crate) struct Router {
    flow: UiEvents,
    maintenance: Option<(Sender<DeviceEvent>, Arc<AtomicBool>)>,
}

impl Router {
    fn new(flow: UiEvents) -> Router {
        Router {
            flow,
            maintenance: None,
        }
    }

    /// Sends `ev` to the maintenance screen while it is open, otherwise (or when that screen is
    /// gone) to the flow. Nobody listening (a headless kiosk) is not an error.
    fn send(&self, ev: DeviceEvent) {
        tracing::debug!("device event: {}", ev.describe());
        let ev = match &self.maintenance {
            Some((tx, open)) if open.load(Ordering::SeqCst) => match tx.send(ev) {
                Ok(()) => return,
                // The maintenance screen is gone: the flow gets it.
                Err(mpsc::SendError(ev)) => ev,
            },
            _ => ev,
        };
        self.flow.send(ev);
    }
}

impl DeviceEvent {
    /// What happened, without its content (for the log).
    fn describe(&self) -> &'static str {
        match self {
            DeviceEvent::Card(_) => "card read",
            DeviceEvent::CardRemoved => "card removed",
            DeviceEvent::CardFailed(_) => "card failed",
            DeviceEvent::Scan(_) => "scan",
            DeviceEvent::PrintWaiting(..) => "print waiting",
            DeviceEvent::Printed => "printed",
        }
    }
}

/// Splits a receiver of device events between the visitor's flow and the maintenance screen,
/// as the runtime's hub does, for a UI fed from a plain
/// channel: while `maintenance_open` is set every event goes to the maintenance screen,
/// otherwise to the flow. Returns the flow's receiver and the maintenance screen's. The routing
/// thread ends when the senders of `rx` are gone.
pub fn route_events(
    rx: Receiver<DeviceEvent>,
    maintenance_open: Arc<AtomicBool>,
) -> std::io::Result<(Receiver<DeviceEvent>, Receiver<DeviceEvent>)> {
    let (flow_tx, flow_rx) = mpsc::channel();
    let (maint_tx, maint_rx) = mpsc::channel();
    let router = Router {
        flow: flow_tx.into(),
        maintenance: Some((maint_tx, maintenance_open)),
    };
    std::thread::Builder::new()
        .name("event-router".into())
        .spawn(move || {
            for ev in rx {
                router.send(ev);
            }
        })?;
    Ok((flow_rx, maint_rx))
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.reader.take();
        self.scanner.take();
        self.printer.take();
        self.drain.take();
        if let Some(s) = self.status.take() {
            s.shutdown();
        }
        self.demo.take();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        if let Some(t) = self.tokio.take() {
            t.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// One device's event as the hub hears it.
enum HubEvent {
    Reader(ReaderEvent),
    Printer(PrinterEvent),
    Scanner(ScannerEvent),
}

/// The device hub: ONE thread hears every device worker, updates the status state, journals
/// health changes (one [`HealthLog`] per installed device) and routes the UI's events.
struct Hub {
    state: StatusState,
    router: Arc<Router>,
    reader: Option<HealthLog>,
    printer: Option<HealthLog>,
    scanner: Option<HealthLog>,
}

impl Hub {
    /// Until every worker has stopped.
    fn run(mut self, rx: Receiver<HubEvent>) {
        for ev in rx {
            match ev {
                HubEvent::Reader(ev) => self.reader_event(ev),
                HubEvent::Printer(ev) => self.printer_event(ev),
                HubEvent::Scanner(ev) => self.scanner_event(ev),
            }
        }
    }

    fn ui(&self, ev: DeviceEvent) {
        self.router.send(ev);
    }

    fn reader_event(&mut self, ev: ReaderEvent) {
        match ev {
            ReaderEvent::CardRead(c) => {
                self.state.card_read();
                self.ui(DeviceEvent::Card(c));
            }
            ReaderEvent::CardRemoved => self.ui(DeviceEvent::CardRemoved),
            ReaderEvent::ReadFailed { kind, reason } => {
                self.state.error(&format!("{kind:?}").to_lowercase());
                self.ui(DeviceEvent::CardFailed(reason));
            }
            ReaderEvent::Health(h) => {
                if let Some(log) = &mut self.reader {
                    log.report(&h);
                }
            }
        }
    }

    fn printer_event(&mut self, ev: PrinterEvent) {
        match ev {
            PrinterEvent::JobWaiting { kind, reason, .. } => {
                self.ui(DeviceEvent::PrintWaiting(kind, reason));
            }
            PrinterEvent::JobPrinted { .. } => {
                self.state.printed();
                self.ui(DeviceEvent::Printed);
            }
            PrinterEvent::Status(s) => {
                self.state.set_cover_open(s.cover_open);
                self.state.set_paper(if s.paper_end {
                    Paper::Out
                } else if s.paper_near_end {
                    Paper::NearEnd
                } else {
                    Paper::Ok
                })
            }
            PrinterEvent::Health(h) => {
                if let Some(log) = &mut self.printer {
                    log.report(&h);
                }
            }
        }
    }

    fn scanner_event(&mut self, ev: ScannerEvent) {
        match ev {
            ScannerEvent::Code(scan) => {
                self.state.scanned();
                self.ui(DeviceEvent::Scan(scan.text.clone()));
            }
            ScannerEvent::Dropped { .. } => self.state.error("scan_too_long"),
            ScannerEvent::Health(h) => {
                if let Some(log) = &mut self.scanner {
                    log.report(&h);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_changes_are_journaled_once_each_and_flapping_is_bounded() {
        let dir = tempfile::tempdir().expect("tmp");
        let journal = Arc::new(Journal::open(dir.path()).expect("journal"));
        let state = StatusState::new("T-1", "test");
        let mut log = HealthLog::new("printer", state.clone(), journal.clone());
        let off = Health::new(
            HealthState::Offline,
            Some("the printer does not answer".into()),
        );
        let ok = Health::new(HealthState::Ok, None);
        log.report(&off);
        log.report(&off);
        log.report(&ok);
        let rows = journal.device_events(10).expect("rows");
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(
            state.device("printer").map(|d| d.state),
            Some(DeviceState::Ok)
        );
        for i in 0..100 {
            log.report(if i % 2 == 0 { &off } else { &ok });
        }
        assert_eq!(
            journal.device_events(1000).expect("rows").len(),
            FLAP_ROWS as usize
        );
        assert_eq!(log.skipped, 100 + 2 - FLAP_ROWS);
        // The next window starts with a row that sums up what was left out.
        let Some(earlier) = Instant::now().checked_sub(FLAP_WINDOW) else {
            return; // a machine up for less than the window
        };
        log.window = earlier;
        log.report(&off);
        let rows = journal.device_events(2).expect("rows");
        assert_eq!(rows[0].state, "offline");
        assert!(
            rows[1]
                .detail
                .as_deref()
                .is_some_and(|d| d.starts_with("82 more health changes")),
            "{rows:?}"
        );
    }
}
