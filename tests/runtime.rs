//! The kiosk runtime in simulation mode, in-process: simulated devices on pseudo-terminals opened
//! by the real drivers. A visit's receipt printed while the printer is out of paper waits, is
//! reported (to the UI and on the status endpoint), and prints exactly once when paper is back.
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
