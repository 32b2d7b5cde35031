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

#[test]
fn an_old_elicense_store_is_imported_into_the_journal_once() {
    use zizhu::elicense::store::{self, Store};
    use zizhu::elicense::{self, Error, Trust};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let now = chrono::Utc::now();
    let code = {
        // What an earlier version left: its own elicense.sqlite with a list and a used code.
        let old = store::SqliteStore::open(&data.join(store::LEGACY_FILE)).unwrap();
        let list = elicense::demo::trust_list(3, now.timestamp() - 60, 7 * 86_400).unwrap();
        let mut v = elicense::Verifier::from_store(elicense::demo::roots().unwrap(), Box::new(old))
            .unwrap();
        v.install_trust_list(&list, now).unwrap();
        let code = elicense::issue_ticket(
            &elicense::demo::issuer(elicense::Alg::Es256).unwrap(),
            b"identity:11010519491231002X",
            now.timestamp(),
            120,
        )
        .unwrap();
        v.verify(&code, now).unwrap();
        code
    };
    let start = || {
        let mut config = Config::simulation();
        config.data_dir = data.clone();
        config.idcard = zizhu::config::DeviceBackend::None;
        config.printer = zizhu::config::DeviceBackend::None;
        config.scanner = zizhu::config::DeviceBackend::None;
        let (tx, _rx) = mpsc::channel();
        Runtime::start(config, &Overrides::default(), tx).expect("runtime")
    };
    let rt = start();
    assert!(!data.join(store::LEGACY_FILE).exists());
    assert!(data.join(store::IMPORTED_FILE).is_file());
    {
        let v = rt.verifier.lock().unwrap();
        match v.trust() {
            Trust::List(l) => assert_eq!(l.seq, 3),
            other => panic!("imported list not in use: {other:?}"),
        }
        assert!(matches!(v.verify(&code, now), Err(Error::Replayed)));
    }
    drop(rt);
    // The journal holds it now; a second start imports nothing and keeps it.
    let rt = start();
    let j = store::SqliteStore::attach(rt.journal.connect().unwrap()).unwrap();
    assert_eq!(j.trust_list().unwrap().map(|(seq, _)| seq), Some(3));
}
