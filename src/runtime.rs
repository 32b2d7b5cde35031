//! The kiosk runtime without its window: everything `zizhu run` starts before (or instead of)
//! the touchscreen. This is the ONLY place that picks real or simulated backends.
//!
//! - devices: for `sim` backends a protocol-faithful simulator on a pseudo-terminal, opened by
//!   the REAL serial driver (so simulation exercises the production code); for `serial` the
//!   configured port; each on its own worker thread, events pumped into the status state and
//!   forwarded to the UI;
//! - platform: the configured URL, or the demo platform started in-process (simulation mode);
//! - status server: on its own thread (its own tokio runtime), so the UI never waits for it;
//! - health loop: systemd READY and watchdog pings, device health into the status state.
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;
use zizhu_drivers::health::{Health, HealthState};
use zizhu_drivers::idcard::{self, ReaderEvent};
use zizhu_drivers::printer::{self, PrinterEvent};
use zizhu_drivers::scanner::{self, ScannerEvent};

use crate::config::{Config, DeviceBackend};
use crate::elicense::{self, Verifier};
use crate::journal::{self, Journal};
use crate::platform::{demo, Client, ClientConfig};
use crate::status::{self, DeviceState, Paper, StatusState};

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
    /// Simulated ID-card reader.
    pub idcard: Option<idcard::sim::Simulator>,
    /// Simulated printer.
    pub printer: Option<printer::sim::Simulator>,
    /// Simulated scanner.
    pub scanner: Option<scanner::sim::Simulator>,
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
    /// The printer worker (the UI submits receipts here).
    pub printer: Option<printer::serial::PrinterHandle>,
    /// Simulators (simulation mode).
    pub sims: Simulators,
    demo: Option<demo::DemoHandle>,
    drain: Option<journal::drain::DrainHandle>,
    status: Option<status::StatusHandle>,
    reader: Option<idcard::serial::ReaderHandle>,
    scanner: Option<scanner::serial::ScannerHandle>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// A pinned root key from the config (hex SEC1): P-256 or SM2, whichever curve it lies on.
fn root_key(hex_key: &str) -> anyhow::Result<elicense::PublicKey> {
    let bytes = hex::decode(hex_key).context("elicense.root_keys: not hex")?;
    elicense::PublicKey::from_sec1(elicense::Alg::Es256, &bytes)
        .or_else(|_| elicense::PublicKey::from_sec1(elicense::Alg::Sm2, &bytes))
        .map_err(|e| anyhow::anyhow!("elicense.root_keys: not a P-256 or SM2 public key: {e}"))
}

/// The e-licence store (trust list, replay cache) in the journal database, on its own connection
/// (the verifier serialises its use behind its mutex; WAL lets it and the journal work side by
/// side). A separate `elicense.sqlite` left by an earlier version is imported once and renamed
/// to `elicense.sqlite.imported`; if that fails the kiosk starts anyway (the trust list is
/// downloaded again) and the import is retried on the next start.
fn open_elicense_store(
    journal: &Journal,
    data_dir: &std::path::Path,
) -> anyhow::Result<elicense::store::SqliteStore> {
    let conn = journal
        .connect()
        .context("opening the e-licence store in the journal")?;
    let store = elicense::store::SqliteStore::attach(conn)
        .context("opening the e-licence store in the journal")?;
    let legacy = data_dir.join(elicense::store::LEGACY_FILE);
    match elicense::store::import_legacy(&legacy, &store, chrono::Utc::now().timestamp()) {
        Ok(None) => {}
        Ok(Some(i)) => tracing::info!(
            trust_list_seq = ?i.trust_list_seq,
            replay_entries = i.replay_entries,
            renamed_to = %i.renamed_to.display(),
            "e-licence store imported into the journal"
        ),
        Err(e) => tracing::warn!(
            file = %legacy.display(),
            "old e-licence store not imported (retried on the next start): {e}"
        ),
    }
    Ok(store)
}

fn device_state(h: &Health) -> DeviceState {
    match h.state {
        HealthState::Ok => DeviceState::Ok,
        HealthState::Degraded => DeviceState::Degraded,
        HealthState::Offline => DeviceState::Offline,
    }
}

impl Runtime {
    /// Starts everything but the window. Device events for the UI go to `ui_events`.
    pub fn start(
        config: Config,
        overrides: &Overrides,
        ui_events: Sender<DeviceEvent>,
    ) -> anyhow::Result<Runtime> {
        std::fs::create_dir_all(&config.data_dir).with_context(|| {
            format!("creating the data directory {}", config.data_dir.display())
        })?;
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
                let db = config.data_dir.join("demo-platform.sqlite");
                // The demo platform serves a trust list signed by the demo root; its sequence
                // is the minute it was made, so each start is newer than the one stored.
                let now = chrono::Utc::now().timestamp();
                let opts = demo::DemoOptions {
                    db: Some(db),
                    trust_list: Some(elicense::demo::trust_list(
                        (now / 60) as u64,
                        now,
                        7 * 86_400,
                    )?),
                    ..Default::default()
                };
                let d = demo::spawn_with("127.0.0.1:0".parse()?, opts)
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
        let client = Arc::new(Client::new(cc)?);

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
                .map(|h| root_key(h))
                .collect::<anyhow::Result<Vec<_>>>()?
        } else if config.simulation {
            elicense::demo::roots()?
        } else {
            Vec::new()
        };
        let store = open_elicense_store(&journal, &config.data_dir)?;
        let verifier = Arc::new(Mutex::new(Verifier::from_store(roots, Box::new(store))?));

        // Status server.
        let section = status::StatusSection {
            listen: config.status_listen.map(|a| a.to_string()),
            token_file: config.status_token_file.clone(),
            token: config.status_token.clone(),
            tls_cert: config.status_tls.as_ref().map(|t| t.0.clone()),
            tls_key: config.status_tls.as_ref().map(|t| t.1.clone()),
            ..Default::default()
        };
        let (scfg, generated) = status::resolve_config(
            overrides.status_listen.as_deref(),
            overrides.status_token_file.as_deref(),
            Some(&section),
        )?;
        let status_handle =
            status::spawn(scfg, state.clone()).context("starting the status server")?;
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
            drain: Some(drain),
            status_addr: Some(status_addr),
            printer: None,
            sims: Simulators::default(),
            demo,
            status: Some(status_handle),
            reader: None,
            scanner: None,
            stop: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
        };
        rt.start_devices(ui_events)?;
        if !rt.config.gpio_rpi {
            // No Raspberry Pi GPIO here: the no-op implementation stands in and cannot fail.
            rt.state.set_device(
                "gpio",
                DeviceState::Ok,
                Some("no GPIO on this machine (no-op)"),
            );
        }
        Ok(rt)
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
                        self.sims.idcard = Some(s);
                    }
                    "printer" => {
                        let s = printer::sim::Simulator::spawn(&link, Some(&dir.join("printed")))?;
                        self.sims.printer = Some(s);
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

    fn start_devices(&mut self, ui: Sender<DeviceEvent>) -> anyhow::Result<()> {
        let idcard_backend = self.config.idcard.clone();
        if let Some((port, baud)) = self.port_for("idcard", &idcard_backend)? {
            let (tx, rx) = mpsc::channel();
            let mut cfg = idcard::serial::WorkerConfig::new(port);
            cfg.baud = baud;
            self.reader = Some(idcard::serial::spawn_worker(cfg, tx)?);
            let (state, ui) = (self.state.clone(), ui.clone());
            self.threads.push(
                std::thread::Builder::new()
                    .name("idcard-events".into())
                    .spawn(move || pump_reader(rx, state, ui))?,
            );
        }
        let printer_backend = self.config.printer.clone();
        if let Some((port, baud)) = self.port_for("printer", &printer_backend)? {
            let (tx, rx) = mpsc::channel();
            let mut cfg = printer::serial::WorkerConfig::new(port);
            cfg.baud = baud;
            self.printer = Some(printer::serial::spawn_worker(cfg, tx)?);
            let (state, ui) = (self.state.clone(), ui.clone());
            self.threads.push(
                std::thread::Builder::new()
                    .name("printer-events".into())
                    .spawn(move || pump_printer(rx, state, ui))?,
            );
        }
        let scanner_backend = self.config.scanner.clone();
        if let Some((port, baud)) = self.port_for("scanner", &scanner_backend)? {
            let (tx, rx) = mpsc::channel();
            let mut cfg = scanner::serial::WorkerConfig::new(port);
            cfg.baud = baud;
            self.scanner = Some(scanner::serial::spawn_worker(cfg, tx)?);
            let state = self.state.clone();
            self.threads.push(
                std::thread::Builder::new()
                    .name("scanner-events".into())
                    .spawn(move || pump_scanner(rx, state, ui))?,
            );
        }
        Ok(())
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

    /// The health loop: READY once, then watchdog pings and platform reachability, until
    /// `stop` is set. Runs on the calling thread.
    pub fn health_loop(&self, stop: &AtomicBool) {
        if let Err(e) = crate::systemd::notify_ready("kiosk running") {
            tracing::warn!("systemd notify: {e}");
        }
        let running = || !stop.load(Ordering::SeqCst) && !self.stop.load(Ordering::SeqCst);
        let step = Duration::from_millis(250);
        std::thread::scope(|scope| {
            // Platform checks can block for the client's timeouts: they get their own thread so
            // the watchdog pings below never wait for the network.
            scope.spawn(|| {
                // The first trust-list download and ping happen right after READY, so a slow
                // or unreachable platform never delays start-up.
                let (mut since_ping, mut since_trust) = (Duration::MAX, Duration::MAX);
                while running() {
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
                    std::thread::sleep(step);
                    since_ping = since_ping.saturating_add(step);
                    since_trust = since_trust.saturating_add(step);
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

/// Splits the device events between the visitor's flow and the maintenance screen: while
/// `maintenance_open` is set every event (a card, a scan, a printed job) goes to the maintenance
/// screen, otherwise to the flow. Returns the flow's receiver and the maintenance screen's. The
/// routing thread ends when the runtime's senders are gone.
pub fn route_events(
    rx: Receiver<DeviceEvent>,
    maintenance_open: Arc<AtomicBool>,
) -> std::io::Result<(Receiver<DeviceEvent>, Receiver<DeviceEvent>)> {
    let (flow_tx, flow_rx) = mpsc::channel();
    let (maint_tx, maint_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("event-router".into())
        .spawn(move || {
            for ev in rx {
                let ev = if maintenance_open.load(Ordering::SeqCst) {
                    match maint_tx.send(ev) {
                        Ok(()) => continue,
                        // The maintenance screen is gone: the flow gets it.
                        Err(mpsc::SendError(ev)) => ev,
                    }
                } else {
                    ev
                };
                let _ = flow_tx.send(ev);
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
    }
}

fn pump_reader(rx: Receiver<ReaderEvent>, state: StatusState, ui: Sender<DeviceEvent>) {
    for ev in rx {
        match ev {
            ReaderEvent::CardRead(c) => {
                state.card_read();
                let _ = ui.send(DeviceEvent::Card(c));
            }
            ReaderEvent::CardRemoved => {
                let _ = ui.send(DeviceEvent::CardRemoved);
            }
            ReaderEvent::ReadFailed { kind, reason } => {
                state.error(&format!("{kind:?}").to_lowercase());
                let _ = ui.send(DeviceEvent::CardFailed(reason));
            }
            ReaderEvent::Health(h) => {
                state.set_device("idcard", device_state(&h), h.reason.as_deref())
            }
        }
    }
}

fn pump_printer(rx: Receiver<PrinterEvent>, state: StatusState, ui: Sender<DeviceEvent>) {
    for ev in rx {
        match ev {
            PrinterEvent::JobWaiting { kind, reason, .. } => {
                let _ = ui.send(DeviceEvent::PrintWaiting(kind, reason));
            }
            PrinterEvent::JobPrinted { .. } => {
                state.printed();
                let _ = ui.send(DeviceEvent::Printed);
            }
            PrinterEvent::Status(s) => state.set_paper(if s.paper_end {
                Paper::Out
            } else if s.paper_near_end {
                Paper::NearEnd
            } else {
                Paper::Ok
            }),
            PrinterEvent::Health(h) => {
                state.set_device("printer", device_state(&h), h.reason.as_deref())
            }
        }
    }
}

fn pump_scanner(rx: Receiver<ScannerEvent>, state: StatusState, ui: Sender<DeviceEvent>) {
    for ev in rx {
        match ev {
            ScannerEvent::Code(scan) => {
                state.scanned();
                let _ = ui.send(DeviceEvent::Scan(scan.text.clone()));
            }
            ScannerEvent::Dropped { .. } => state.error("scan_too_long"),
            ScannerEvent::Health(h) => {
                state.set_device("scanner", device_state(&h), h.reason.as_deref())
            }
        }
    }
}
