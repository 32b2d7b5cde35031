//! The technician's maintenance screen on the touchscreen: [`MaintenanceUi`] counts the hidden
//! gesture's taps, runs the PIN pad against the [`PinGate`], and fills the `MaintAdapter` global
//! (`ui/screens/maintenance.slint`) with device health, self-test results, platform
//! reachability, clock, versions, recent journal errors and the provisioning error.
//!
//! - Every technician action (open ok / wrong PIN / locked / tried while locked, test print, test read, test scan,
//!   ping, leave) is written to the journal's audit trail as actor `technician`, with details
//!   that never hold personal data (a card read is recorded as its kind, a scan as its kind and
//!   length).
//! - While the PIN pad or the panel is open, `open` is set and the kiosk's device-event sink
//!   (`super::wake::ui_events`; `crate::runtime::route_events` in tests) sends device events here
//!   instead of to the flow.
//! - 语音测试 speaks the `voice-test` prompt through the kiosk's [`Voice`] and shows whether it
//!   was played (or the sound card's error).
//! - A 100 ms Slint timer picks up device events, voice-test and ping results (the ping runs on its own
//!   thread); a 1 s Slint timer counts the 2-minute idle timeout and the lockout countdown and
//!   refreshes the panel, so tests drive both with Slint's mock time.
use std::cell::{Cell, RefCell};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use zeroize::Zeroizing;
use zizhu_drivers::privacy::mask;
use zizhu_voice::{AudioHealth, Prompt as VoicePrompt, Ticket, Voice};

use super::flow::PrintFn;
use super::KioskUi;
use crate::journal::Journal;
use crate::maintenance::{self as logic, MaintenanceError, PinGate, ScanKind, TapGesture};
use crate::platform::Client;
use crate::runtime::{DeviceEvent, Runtime};
use crate::status::state::scrub;
use crate::status::{self, StatusState};
use crate::ui::{KioskWindow, MaintAdapter, MaintDevice, MaintLine, MaintResult, MaintStage};

/// How often the UI thread looks for device events and ping results.
const TICK: Duration = Duration::from_millis(100);
/// Seconds of the idle timeout ([`logic::IDLE`]).
const IDLE_SECS: u32 = logic::IDLE.as_secs() as u32;
/// Recent journal errors shown.
const ERRORS_SHOWN: usize = 6;

/// What the maintenance screen needs from the runtime.
pub struct MaintenanceContext {
    /// The PIN gate; none keeps the screen closed (no `pin_hash` on a real kiosk).
    pub gate: Option<PinGate>,
    /// The audit trail and the recent errors.
    pub journal: Option<Arc<Journal>>,
    /// Device health, clock sync and build.
    pub state: Option<StatusState>,
    /// The platform (ping).
    pub client: Option<Arc<Client>>,
    /// The receipt printer (test print).
    pub printer: Option<PrintFn>,
    /// Device events while the screen is open (from `route_events`).
    pub events: Option<Receiver<DeviceEvent>>,
    /// Set while the screen is open (read by `route_events`).
    pub open: Arc<AtomicBool>,
    /// This kiosk's id.
    pub kiosk_id: String,
    /// The first-boot provisioning error file.
    pub provision_error_file: Option<PathBuf>,
    /// The image's build-information file.
    pub build_info_file: Option<PathBuf>,
    /// Voice guidance, for the test prompt (none: the test says there is no voice output).
    pub voice: Option<Voice>,
}

impl MaintenanceContext {
    /// Everything from a running runtime: the gate from `[maintenance] pin_hash` (in simulation
    /// without one, the documented simulation PIN; on a real kiosk without one, none), the
    /// journal, status, platform client and printer. `events` and `open` come from
    /// `route_events`.
    pub fn from_runtime(
        rt: &Arc<Runtime>,
        events: Option<Receiver<DeviceEvent>>,
        open: Arc<AtomicBool>,
    ) -> MaintenanceContext {
        let config = &rt.config;
        let gate = match &config.maintenance_pin_hash {
            Some(h) => match PinGate::new(h) {
                Ok(g) => Some(g),
                Err(e) => {
                    tracing::error!(
                        "maintenance.pin_hash: {e}; the maintenance screen stays closed"
                    );
                    None
                }
            },
            None if config.simulation => {
                tracing::info!(
                    "simulation mode: the maintenance screen's PIN is {} (no [maintenance] pin_hash)",
                    logic::SIMULATION_PIN
                );
                match PinGate::simulation() {
                    Ok(g) => Some(g),
                    Err(e) => {
                        tracing::error!("maintenance PIN: {e}");
                        None
                    }
                }
            }
            None => {
                tracing::warn!(
                    "no [maintenance] pin_hash in the config: the maintenance screen stays closed \
                     (make one with `zizhu config hash-pin`)"
                );
                None
            }
        };
        // Wrong PINs and a lockout survive a restart: they are in the audit trail.
        let gate = gate.map(|mut g| {
            match rt.journal.audit_log(50) {
                Ok(log) => g.restore(
                    log.iter().map(|a| (a.at, a.action.as_str())),
                    crate::journal::now_ms(),
                    Instant::now(),
                ),
                Err(e) => tracing::warn!("reading the audit trail for the PIN lockout: {e}"),
            }
            g
        });
        let printer = super::flow::runtime_printer(rt);
        MaintenanceContext {
            gate,
            journal: Some(rt.journal.clone()),
            state: Some(rt.state.clone()),
            client: Some(rt.client.clone()),
            printer,
            events,
            open,
            kiosk_id: config.kiosk_id.clone(),
            provision_error_file: Some(config.provision_error_path()),
            build_info_file: Some(config.build_info_path()),
            // The kiosk's `Voice` is started by `zizhu run` (the UI speaks through the same one)
            // and set here.
            voice: None,
        }
    }
}

/// The maintenance screen attached to a kiosk window. Keep it alive as long as the window.
pub struct MaintenanceUi {
    inner: Rc<Inner>,
    _tick: slint::Timer,
    _second: slint::Timer,
}

struct Inner {
    weak: slint::Weak<KioskWindow>,
    gate: RefCell<Option<PinGate>>,
    gesture: RefCell<TapGesture>,
    pin: RefCell<Zeroizing<String>>,
    journal: Option<Arc<Journal>>,
    state: Option<StatusState>,
    client: Option<Arc<Client>>,
    printer: Option<PrintFn>,
    events: Option<Receiver<DeviceEvent>>,
    open: Arc<AtomicBool>,
    kiosk_id: String,
    provision_error_file: Option<PathBuf>,
    build_info_file: Option<PathBuf>,
    idle_secs: Cell<u32>,
    printing: Cell<bool>,
    ping: RefCell<Option<Receiver<Result<Duration, String>>>>,
    voice: Option<Voice>,
    voice_test: Cell<Option<Ticket>>,
}

impl MaintenanceUi {
    /// Wires the maintenance screen into `ui` and shows the provisioning error, if any, on the
    /// attract screen.
    pub fn attach(ui: &KioskUi, ctx: MaintenanceContext) -> MaintenanceUi {
        let inner = Rc::new(Inner {
            weak: ui.window().as_weak(),
            gate: RefCell::new(ctx.gate),
            gesture: RefCell::new(TapGesture::default()),
            pin: RefCell::new(Zeroizing::new(String::new())),
            journal: ctx.journal,
            state: ctx.state,
            client: ctx.client,
            printer: ctx.printer,
            events: ctx.events,
            open: ctx.open,
            kiosk_id: ctx.kiosk_id,
            provision_error_file: ctx.provision_error_file,
            build_info_file: ctx.build_info_file,
            idle_secs: Cell::new(0),
            printing: Cell::new(false),
            ping: RefCell::new(None),
            voice: ctx.voice,
            voice_test: Cell::new(None),
        });
        inner.open.store(false, Ordering::SeqCst);
        // Shown on the attract screen (the runtime logs it at start).
        inner.provision_error();
        let m = ui.window().global::<MaintAdapter>();
        m.set_kiosk_id(inner.kiosk_id.as_str().into());
        m.set_stage(MaintStage::Closed);
        let hook = |f: fn(&Inner)| {
            let i = inner.clone();
            move || f(&i)
        };
        m.on_corner_tapped(hook(Inner::corner_tapped));
        m.on_backspace(hook(Inner::backspace));
        m.on_submit(hook(Inner::submit));
        m.on_cancel(hook(|i| i.leave("cancelled at the PIN pad")));
        m.on_test_print(hook(Inner::test_print));
        m.on_test_read(hook(Inner::test_read));
        m.on_test_scan(hook(Inner::test_scan));
        m.on_ping_platform(hook(Inner::ping_platform));
        m.on_test_voice(hook(Inner::test_voice));
        m.on_leave(hook(|i| i.leave("button")));
        m.on_touch(hook(Inner::touch));
        let i = inner.clone();
        m.on_digit(move |d| i.digit(d.as_str()));
        let tick = slint::Timer::default();
        let i = inner.clone();
        tick.start(slint::TimerMode::Repeated, TICK, move || i.tick());
        let second = slint::Timer::default();
        let i = inner.clone();
        second.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || i.second(),
        );
        MaintenanceUi {
            inner,
            _tick: tick,
            _second: second,
        }
    }

    /// Whether the PIN pad or the panel is open.
    pub fn is_open(&self) -> bool {
        self.inner.open.load(Ordering::SeqCst)
    }
}

/// Shows the maintenance screen with sample data and no runtime behind it, for
/// `zizhu screenshot --screen maintenance|maintenance-pin`: `pin` shows the PIN pad (three digits
/// typed), otherwise the panel with every self-test passed on a synthetic card and code, masked
/// exactly as on a kiosk, a fixed clock and typical recent errors. Any other screen closes it.
pub fn preview(w: &KioskWindow, screen: super::ScreenId) {
    let m = w.global::<MaintAdapter>();
    let stage = match screen {
        super::ScreenId::Maintenance => MaintStage::Panel,
        super::ScreenId::MaintenancePin => MaintStage::Pin,
        _ => {
            m.set_stage(MaintStage::Closed);
            return;
        }
    };
    m.set_kiosk_id("SIM-0001".into());
    m.set_idle_remaining(IDLE_SECS as i32);
    m.set_provision_error("".into());
    m.set_pin_count(3);
    m.set_tries_left(-1);
    m.set_locked_seconds(0);
    let device = |name: &str, state: &str, since: &str, error: &str| MaintDevice {
        name: name.into(),
        state: state.into(),
        since: since.into(),
        error: error.into(),
    };
    m.set_devices(ModelRc::new(VecModel::from(vec![
        device("idcard", "ok", "11-27 08:00:02", ""),
        device("printer", "degraded", "11-27 09:58:40", "paper near end"),
        device("scanner", "ok", "11-27 08:00:02", ""),
        device("gpio", "ok", "11-27 08:00:01", "simulated GPIO"),
    ])));
    // The synthetic resident card and a sample code, masked as `Inner::device` masks them.
    let card = zizhu_drivers::idcard::card::samples()
        .into_iter()
        .next()
        .map(|c| format!("{:?} · {} · {}", c.kind, mask(&c.id_number), mask(&c.name)))
        .unwrap_or_default();
    let code = "https://example.invalid/qr/0123456789";
    let scan = format!(
        "{} · {}",
        ScanKind::of(code).as_str(),
        logic::mask_scan(code)
    );
    m.set_print(result(2, ""));
    m.set_read(result(2, card));
    m.set_scan(result(2, scan));
    m.set_ping(result(2, "14 ms · http://127.0.0.1:8700"));
    m.set_clock("2026-11-27 10:00:00".into());
    m.set_clock_sync(1);
    m.set_version(env!("CARGO_PKG_VERSION").into());
    m.set_build("dev".into());
    m.set_image_build("".into());
    let line = |at: &str, what: &str, detail: &str| MaintLine {
        at: at.into(),
        what: what.into(),
        detail: detail.into(),
    };
    m.set_errors(ModelRc::new(VecModel::from(vec![
        line("11-27 09:58", "printer degraded", "paper near end"),
        line(
            "11-27 09:41",
            "printer offline",
            "the printer does not answer",
        ),
        line(
            "11-27 09:12",
            "request retrying (ss-insured-cert-print)",
            "platform unreachable: timed out",
        ),
    ])));
    m.set_stage(stage);
}

fn result(state: i32, detail: impl Into<SharedString>) -> MaintResult {
    MaintResult {
        state,
        detail: detail.into(),
    }
}

fn local(unix_secs: i64, format: &str) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(unix_secs, 0) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
            t.format(format).to_string()
        }
        chrono::LocalResult::None => "?".to_string(),
    }
}

impl Inner {
    fn with(&self, f: impl FnOnce(&MaintAdapter<'_>)) {
        if let Some(w) = self.weak.upgrade() {
            f(&w.global::<MaintAdapter>());
        }
    }

    fn stage(&self) -> MaintStage {
        self.weak
            .upgrade()
            .map(|w| w.global::<MaintAdapter>().get_stage())
            .unwrap_or(MaintStage::Closed)
    }

    fn audit(&self, action: &str, detail: Option<&str>) {
        tracing::info!(action, detail = detail.unwrap_or(""), "technician");
        if let Some(j) = &self.journal {
            if let Err(e) = j.audit("technician", &format!("maintenance.{action}"), detail) {
                tracing::warn!("cannot write the audit line for {action}: {e}");
            }
        }
    }

    fn provision_error(&self) -> Option<String> {
        let reason = self
            .provision_error_file
            .as_deref()
            .and_then(logic::provision_error);
        let shown: SharedString = reason.as_deref().unwrap_or("").into();
        self.with(|m| m.set_provision_error(shown));
        reason
    }

    fn touch(&self) {
        self.idle_secs.set(0);
        self.with(|m| m.set_idle_remaining(IDLE_SECS as i32));
    }

    fn corner_tapped(&self) {
        if self.stage() != MaintStage::Closed {
            return;
        }
        if !self.gesture.borrow_mut().tap(Instant::now()) {
            return;
        }
        if self.gate.borrow().is_none() {
            tracing::warn!(
                "maintenance gesture seen, but no [maintenance] pin_hash is configured: the screen stays closed"
            );
            self.audit("open_refused", Some("no pin_hash configured"));
            return;
        }
        self.open.store(true, Ordering::SeqCst);
        self.drain_events();
        self.pin.borrow_mut().clear();
        self.touch();
        let locked = self.locked_seconds();
        self.with(|m| {
            m.set_pin_count(0);
            m.set_tries_left(-1);
            m.set_locked_seconds(locked);
            m.set_stage(MaintStage::Pin);
        });
    }

    fn locked_seconds(&self) -> i32 {
        self.gate
            .borrow()
            .as_ref()
            .and_then(|g| g.locked_for(Instant::now()))
            .map(|d| d.as_secs_f64().ceil() as i32)
            .unwrap_or(0)
    }

    fn digit(&self, d: &str) {
        self.touch();
        let mut pin = self.pin.borrow_mut();
        if pin.len() < logic::MAX_PIN_LEN && d.len() == 1 && d.chars().all(|c| c.is_ascii_digit()) {
            pin.push_str(d);
        }
        let n = pin.len() as i32;
        self.with(|m| m.set_pin_count(n));
    }

    fn backspace(&self) {
        self.touch();
        let mut pin = self.pin.borrow_mut();
        pin.pop();
        let n = pin.len() as i32;
        self.with(|m| m.set_pin_count(n));
    }

    fn submit(&self) {
        self.touch();
        let pin = std::mem::replace(&mut *self.pin.borrow_mut(), Zeroizing::new(String::new()));
        self.with(|m| m.set_pin_count(0));
        let now = Instant::now();
        let (was_locked, outcome) = match self.gate.borrow_mut().as_mut() {
            Some(g) => (g.locked_for(now).is_some(), g.try_open(&pin, now)),
            None => return,
        };
        drop(pin);
        match outcome {
            Ok(()) => {
                self.audit("open_ok", None);
                self.with(|m| {
                    m.set_tries_left(-1);
                    m.set_print(result(0, ""));
                    m.set_read(result(0, ""));
                    m.set_scan(result(0, ""));
                    m.set_ping(result(0, ""));
                    m.set_stage(MaintStage::Panel);
                });
                if let Some(s) = &self.state {
                    s.set_screen("maintenance");
                }
                self.refresh(true);
            }
            Err(MaintenanceError::WrongPin { tries_left }) => {
                self.audit(
                    "open_failed",
                    Some(&format!("wrong PIN, {tries_left} tries left")),
                );
                self.with(|m| m.set_tries_left(tries_left as i32));
            }
            Err(MaintenanceError::Locked { remaining }) => {
                // `open_locked` marks the start of a lockout (PinGate::restore reads it);
                // attempts during one are `open_while_locked`.
                let action = if was_locked {
                    "open_while_locked"
                } else {
                    "open_locked"
                };
                self.audit(
                    action,
                    Some(&format!("locked for {} s", remaining.as_secs())),
                );
                let secs = remaining.as_secs_f64().ceil() as i32;
                self.with(|m| m.set_locked_seconds(secs));
            }
            Err(e) => {
                self.audit("open_failed", Some(&e.to_string()));
            }
        }
    }

    fn leave(&self, why: &str) {
        if self.stage() == MaintStage::Closed {
            return;
        }
        self.audit("leave", Some(why));
        self.pin.borrow_mut().clear();
        self.printing.set(false);
        self.ping.borrow_mut().take();
        self.open.store(false, Ordering::SeqCst);
        self.drain_events();
        self.with(|m| {
            m.set_stage(MaintStage::Closed);
            m.set_pin_count(0);
            m.set_print(result(0, ""));
            m.set_read(result(0, ""));
            m.set_scan(result(0, ""));
            m.set_ping(result(0, ""));
        });
        if let Some(s) = &self.state {
            s.set_screen("attract");
        }
    }

    fn test_print(&self) {
        self.touch();
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
        let receipt = logic::test_receipt(&self.kiosk_id, &now);
        let outcome = match &self.printer {
            Some(p) => p(&receipt),
            None => Err("no printer configured".to_string()),
        };
        match outcome {
            Ok(()) => {
                self.printing.set(true);
                self.audit("test_print", Some("sent"));
                self.with(|m| m.set_print(result(1, "")));
            }
            Err(e) => {
                self.printing.set(false);
                let e = scrub(&e);
                self.audit("test_print", Some(&format!("failed: {e}")));
                self.with(|m| m.set_print(result(3, e)));
            }
        }
    }

    fn test_read(&self) {
        self.touch();
        self.audit("test_read", Some("waiting for a card"));
        self.with(|m| m.set_read(result(1, "")));
    }

    fn test_scan(&self) {
        self.touch();
        self.audit("test_scan", Some("waiting for a code"));
        self.with(|m| m.set_scan(result(1, "")));
    }

    fn test_voice(&self) {
        self.touch();
        let Some(voice) = &self.voice else {
            self.audit("test_voice", Some("failed: no voice output"));
            self.with(|m| m.set_voice(result(3, "no voice output")));
            return;
        };
        self.audit("test_voice", Some("playing"));
        self.voice_test
            .set(Some(voice.screen_changed(VoicePrompt::VoiceTest)));
        self.with(|m| m.set_voice(result(1, "")));
    }

    /// The end of a test prompt: played, or why not.
    fn voice_tested(&self) {
        let (Some(voice), Some(ticket)) = (&self.voice, self.voice_test.get()) else {
            return;
        };
        if !voice.is_done(ticket) {
            return;
        }
        self.voice_test.set(None);
        match (voice.said(ticket), voice.health()) {
            (Some(_), _) => {
                self.audit("test_voice", Some("ok"));
                self.with(|m| m.set_voice(result(2, "")));
            }
            (None, AudioHealth::Missing(e)) => {
                let e = scrub(&e);
                self.audit("test_voice", Some(&format!("failed: {e}")));
                self.with(|m| m.set_voice(result(3, e)));
            }
            (None, _) => {
                let why = if voice.settings().muted {
                    "muted ([voice] mute)"
                } else {
                    "not played (see the log)"
                };
                self.audit("test_voice", Some(&format!("failed: {why}")));
                self.with(|m| m.set_voice(result(3, why)));
            }
        }
    }

    fn ping_platform(&self) {
        self.touch();
        let Some(client) = self.client.clone() else {
            self.audit("ping", Some("failed: no platform client"));
            self.with(|m| m.set_ping(result(3, "no platform client")));
            return;
        };
        let (tx, rx) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("maintenance-ping".into())
            .spawn(move || {
                let t = Instant::now();
                let r = client
                    .ping()
                    .map(|_| t.elapsed())
                    .map_err(|e| e.to_string());
                let _ = tx.send(r);
            });
        match spawned {
            Ok(_) => {
                *self.ping.borrow_mut() = Some(rx);
                self.with(|m| m.set_ping(result(1, "")));
            }
            Err(e) => {
                self.audit("ping", Some(&format!("failed: {e}")));
                self.with(|m| m.set_ping(result(3, e.to_string())));
            }
        }
    }

    fn drain_events(&self) {
        if let Some(rx) = &self.events {
            while rx.try_recv().is_ok() {}
        }
    }

    /// Once a second while open: the idle timeout, the lockout countdown, the panel's data.
    fn second(&self) {
        let stage = self.stage();
        if stage == MaintStage::Closed {
            return;
        }
        let idle = self.idle_secs.get() + 1;
        self.idle_secs.set(idle);
        if idle >= IDLE_SECS {
            self.leave("idle timeout");
            return;
        }
        let left = (IDLE_SECS - idle) as i32;
        self.with(|m| m.set_idle_remaining(left));
        if stage == MaintStage::Pin {
            let locked = self.locked_seconds();
            self.with(|m| m.set_locked_seconds(locked));
        } else {
            self.refresh(false);
        }
    }

    /// Every 100 ms while open: device events and the ping's answer.
    fn tick(&self) {
        let stage = self.stage();
        if stage == MaintStage::Closed {
            return;
        }
        if stage == MaintStage::Pin {
            // Nothing reaches the flow while the pad is up; device events are dropped.
            self.drain_events();
            return;
        }
        if let Some(rx) = &self.events {
            while let Ok(ev) = rx.try_recv() {
                self.device(ev);
            }
        }
        self.voice_tested();
        let pinged = self.ping.borrow().as_ref().map(|rx| rx.try_recv());
        match pinged {
            Some(Ok(Ok(latency))) => {
                self.ping.borrow_mut().take();
                let url = self
                    .client
                    .as_ref()
                    .map(|c| c.config().base_url.clone())
                    .unwrap_or_default();
                let detail = format!("{} ms · {url}", latency.as_millis());
                self.audit("ping", Some(&format!("ok, {} ms", latency.as_millis())));
                self.with(|m| m.set_ping(result(2, detail)));
            }
            Some(Ok(Err(e))) => {
                self.ping.borrow_mut().take();
                let e = scrub(&e);
                self.audit("ping", Some(&format!("failed: {e}")));
                self.with(|m| m.set_ping(result(3, e)));
            }
            Some(Err(mpsc::TryRecvError::Disconnected)) => {
                self.ping.borrow_mut().take();
            }
            _ => {}
        }
    }

    fn device(&self, ev: DeviceEvent) {
        match ev {
            DeviceEvent::Card(read) => {
                let c = &read.card;
                let detail = format!("{:?} · {} · {}", c.kind, mask(&c.id_number), mask(&c.name));
                self.audit(
                    "test_read",
                    Some(&format!("ok, {:?} card", c.kind).to_lowercase()),
                );
                // `read` is zeroized when dropped here.
                drop(read);
                self.with(|m| m.set_read(result(2, detail)));
            }
            DeviceEvent::CardFailed(reason) => {
                let reason = scrub(&reason);
                self.audit("test_read", Some(&format!("failed: {reason}")));
                self.with(|m| m.set_read(result(3, reason)));
            }
            DeviceEvent::CardRemoved => {}
            DeviceEvent::Scan(text) => {
                let kind = ScanKind::of(&text);
                let n = text.chars().count();
                let detail = format!("{} · {}", kind.as_str(), logic::mask_scan(&text));
                self.audit(
                    "test_scan",
                    Some(&format!("ok, {} code, {n} characters", kind.as_str())),
                );
                self.with(|m| m.set_scan(result(2, detail)));
            }
            DeviceEvent::PrintWaiting(_, reason) => {
                let reason = scrub(&reason);
                if self.printing.get() {
                    self.audit("test_print", Some(&format!("waiting: {reason}")));
                }
                self.with(|m| m.set_print(result(1, reason)));
            }
            DeviceEvent::Printed => {
                if self.printing.replace(false) {
                    self.audit("test_print", Some("printed"));
                }
                self.with(|m| m.set_print(result(2, "")));
            }
        }
    }

    /// Device health, clock, versions and recent errors; `all` also re-reads the files.
    fn refresh(&self, all: bool) {
        if all {
            self.provision_error();
            let image = self
                .build_info_file
                .as_deref()
                .and_then(logic::image_build)
                .unwrap_or_default();
            self.with(|m| {
                m.set_version(env!("CARGO_PKG_VERSION").into());
                m.set_image_build(image.into());
            });
        }
        let clock = chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string();
        let mut devices = Vec::new();
        let (mut sync, mut build) = (0, String::from("dev"));
        if let Some(s) = &self.state {
            let snap = s.snapshot();
            for name in status::DEVICES {
                if let Some(d) = snap.devices.get(name) {
                    devices.push(MaintDevice {
                        name: name.into(),
                        state: d.state.as_str().into(),
                        since: local(d.since_unix, "%m-%d %H:%M:%S").into(),
                        error: d.last_error.clone().unwrap_or_default().into(),
                    });
                }
            }
            sync = match snap.clock_synced {
                Some(true) => 1,
                Some(false) => 2,
                None => 0,
            };
            build = snap.build;
        }
        let mut errors = Vec::new();
        if let Some(j) = &self.journal {
            match j.recent_errors(ERRORS_SHOWN) {
                Ok(list) => {
                    for e in list {
                        let what = if e.service_id.is_empty() {
                            e.what
                        } else {
                            format!("{} ({})", e.what, e.service_id)
                        };
                        errors.push(MaintLine {
                            at: local(e.at.div_euclid(1000), "%m-%d %H:%M").into(),
                            what: what.into(),
                            detail: scrub(e.error.as_deref().unwrap_or("")).into(),
                        });
                    }
                }
                Err(e) => tracing::warn!("recent journal errors: {e}"),
            }
        }
        self.with(|m| {
            m.set_clock(clock.into());
            m.set_clock_sync(sync);
            m.set_build(build.into());
            m.set_devices(ModelRc::new(VecModel::from(devices)));
            m.set_errors(ModelRc::new(VecModel::from(errors)));
        });
    }
}
