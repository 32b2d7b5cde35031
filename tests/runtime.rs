//! The kiosk runtime in simulation mode, in-process: simulated devices on pseudo-terminals opened
//! by the real drivers. A visit's receipt printed while the printer is out of paper waits, is
//! reported (to the UI and on the status endpoint), and prints exactly once when paper is back.
//! A reader unplugged and plugged back leaves its health changes in the journal; a printer that
//! falls silent is power-cycled through the simulated GPIO relay, once, and not during a session.
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zizhu::catalog::{Catalog, Lang};
use zizhu::config::Config;
use zizhu::flow::play::{play, Script};
use zizhu::flow::{Identity, Source};
use zizhu::runtime::{DeviceEvent, Overrides, Runtime};
use zizhu::status::Paper;
use zizhu_drivers::printer::sim::Fault;
use zizhu_drivers::printer::Mode;

fn wait_for(rx: &mpsc::Receiver<DeviceEvent>, what: &str, pred: impl Fn(&DeviceEvent) -> bool) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(200)) {
            if pred(&ev) {
                return;
            }
        }
    }
    panic!("no {what} event within 20 s");
}

fn no_link(_: &str) -> anyhow::Result<()> {
    Ok(())
}

#[test]
fn paper_end_during_a_print_waits_reports_and_prints_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::simulation();
    config.data_dir = dir.path().join("data");
    config.scanner = zizhu::config::DeviceBackend::None;
    let (tx, rx) = mpsc::channel();
    let rt = Runtime::start(config, &Overrides::default(), tx).expect("runtime");

    // A real visit against the in-process demo platform, journaled.
    let service = Catalog::builtin().service("hf-account-query").or_else(|| {
        Catalog::builtin()
            .services()
            .iter()
            .find(|s| s.output == zizhu::catalog::Output::Print)
    });
    let service = service.unwrap();
    let mut who = Identity::typed(&zizhu_drivers::idcard::card::with_check_char(
        "44140219800101001",
    ))
    .unwrap();
    who.source = Source::Code;
    who.face_verified = true;
    let script = Script {
        identity: Some(who),
        fields: Default::default(),
        sample: true,
        open_link: &no_link,
        wait: Duration::from_secs(5),
        rate: Some(4),
        elicense_consent: true,
    };
    let (flow, t) = play(
        service,
        Lang::Zh,
        script,
        rt.client.as_ref(),
        Some(rt.journal.as_ref()),
    );
    assert!(t.completed(), "{:?}", t.failed);
    let receipt = zizhu::flow::receipt::receipt(&flow, "SIM-0001", "2026-11-27 10:00");
    flow.end();

    let sim = rt.sims.printer.as_ref().expect("simulated printer");
    sim.set_fault(Fault::PaperEnd);
    let printer = rt.printer.as_ref().expect("printer worker");
    printer.print(&receipt, Mode::Raster).expect("queued");
    wait_for(&rx, "PrintWaiting", |e| {
        matches!(
            e,
            DeviceEvent::PrintWaiting(zizhu_drivers::DeviceErrorKind::PaperOut, _)
        )
    });
    assert_eq!(sim.job_count(), 0, "nothing printed without paper");
    let start = Instant::now();
    while rt.state.snapshot().printer_paper != Paper::Out {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "paper out not reported on the status endpoint"
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    sim.set_fault(Fault::None);
    wait_for(&rx, "Printed", |e| matches!(e, DeviceEvent::Printed));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        sim.job_count(),
        1,
        "printed exactly once when paper is back"
    );
    assert_eq!(printer.pending(), 0);
}

/// Waits (up to 30 s) until `pred` holds.
fn wait_until(what: &str, pred: impl Fn() -> bool) {
    let start = Instant::now();
    while !pred() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn device_is(rt: &Runtime, device: &str, state: zizhu::status::DeviceState) -> bool {
    rt.state.device(device).is_some_and(|d| d.state == state)
}

#[test]
fn unplugging_a_device_is_in_the_journal_and_its_recent_errors() {
    use zizhu::status::DeviceState;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::simulation();
    config.data_dir = dir.path().join("data");
    config.printer = zizhu::config::DeviceBackend::None;
    config.scanner = zizhu::config::DeviceBackend::None;
    let (tx, _rx) = mpsc::channel();
    let rt = Runtime::start(config, &Overrides::default(), tx).expect("runtime");
    wait_until("the reader ok", || {
        device_is(&rt, "idcard", DeviceState::Ok)
    });
    assert!(rt.journal.recent_errors(10).unwrap().is_empty());

    let sim = rt.sims.idcard.as_ref().expect("simulated reader");
    sim.unplug();
    wait_until("the reader offline in the journal", || {
        rt.journal
            .recent_errors(10)
            .unwrap()
            .iter()
            .any(|e| e.source == "device" && e.what == "idcard offline")
    });
    // Reconnect attempts while it is unplugged are polls, not changes.
    std::thread::sleep(Duration::from_secs(2));
    sim.plug();
    wait_until("the reader ok again", || {
        rt.journal
            .device_events(1)
            .unwrap()
            .first()
            .is_some_and(|e| e.device == "idcard" && e.state == "ok")
    });
    let events = rt.journal.device_events(50).unwrap();
    let offline: Vec<_> = events
        .iter()
        .filter(|e| e.device == "idcard" && e.state == "offline")
        .collect();
    assert!(
        !offline.is_empty() && offline.len() <= 3,
        "one row per change, not per poll: {events:?}"
    );
    assert!(offline
        .iter()
        .all(|e| e.detail.as_deref().is_some_and(|d| !d.is_empty())));
    // Ok rows are not problems.
    let errors = rt.journal.recent_errors(10).unwrap();
    assert!(
        errors.iter().all(|e| e.what == "idcard offline"),
        "{errors:?}"
    );
}

#[test]
fn a_silent_printer_is_power_cycled_once_and_never_during_a_session() {
    use zizhu::status::DeviceState;
    use zizhu_drivers::gpio::Relay;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::simulation();
    config.data_dir = dir.path().join("data");
    config.idcard = zizhu::config::DeviceBackend::None;
    config.scanner = zizhu::config::DeviceBackend::None;
    config.supervisor.grace = Duration::from_secs(1);
    config.supervisor.off_for = Duration::from_millis(300);
    let (tx, _rx) = mpsc::channel();
    let rt = Runtime::start(config, &Overrides::default(), tx).expect("runtime");
    let gpio = rt.sims.gpio.clone().expect("simulated GPIO");
    let sim = rt.sims.printer.clone().expect("simulated printer");
    let cycles = |rt: &Runtime| {
        rt.state
            .snapshot()
            .counters
            .power_cycles
            .get("printer")
            .copied()
    };
    wait_until("the printer ok", || {
        device_is(&rt, "printer", DeviceState::Ok)
    });
    assert_eq!(
        cycles(&rt),
        Some(0),
        "a relay device is counted from the start"
    );

    // An open cover is for a person to close (the printer still answers): no power is cut.
    sim.set_fault(Fault::CoverOpen);
    wait_until("the printer offline with its cover open", || {
        device_is(&rt, "printer", DeviceState::Offline)
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(gpio.switches(Relay::Printer).is_empty());
    sim.set_fault(Fault::None);
    wait_until("the printer ok with its cover closed", || {
        device_is(&rt, "printer", DeviceState::Ok)
    });

    // A citizen is using the kiosk when the printer falls silent: no power is cut.
    rt.state.set_session_active(true);
    sim.set_fault(Fault::Silence);
    wait_until("the printer offline", || {
        device_is(&rt, "printer", DeviceState::Offline)
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(gpio.switches(Relay::Printer).is_empty());
    assert!(rt.journal.audit_log(10).unwrap().is_empty());

    // A technician on the maintenance screen counts too.
    rt.state.set_session_active(false);
    rt.state.set_screen("maintenance");
    std::thread::sleep(Duration::from_secs(3));
    assert!(gpio.switches(Relay::Printer).is_empty());

    // The session ends: the relay goes off, then on.
    rt.state.set_screen("attract");
    wait_until("a power cycle", || gpio.switches(Relay::Printer).len() >= 2);
    assert_eq!(gpio.switches(Relay::Printer), vec![false, true]);
    assert!(gpio.switches(Relay::Reader).is_empty());
    assert!(gpio.is_powered(Relay::Printer));
    let audit = rt.journal.audit_log(10).unwrap();
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].action.as_str()),
        ("runtime", "power_cycle")
    );
    let detail = audit[0].detail.clone().unwrap_or_default();
    assert!(detail.starts_with("printer: offline for"), "{detail}");
    assert_eq!(cycles(&rt), Some(1));
    let metrics = zizhu::status::metrics::render(&rt.state.snapshot(), rt.state.started_unix());
    assert!(
        metrics.contains("zizhu_device_power_cycles_total{device=\"printer\"} 1"),
        "{metrics}"
    );

    // Still silent after the cycle (a defect, not a hang): offline again, but not cycled again
    // within the backoff.
    let asked = sim.status_requests();
    wait_until("the printer back and still silent", || {
        sim.status_requests() > asked && device_is(&rt, "printer", DeviceState::Offline)
    });
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(gpio.switches(Relay::Printer), vec![false, true]);
    assert_eq!(cycles(&rt), Some(1));

    // Fixed: back to ok; the outage is among the recent errors.
    sim.set_fault(Fault::None);
    wait_until("the printer ok again", || {
        device_is(&rt, "printer", DeviceState::Ok)
    });
    let errors = rt.journal.recent_errors(10).unwrap();
    assert!(
        errors.iter().any(|e| e.what == "printer offline"),
        "{errors:?}"
    );
}
