//! Driver tests over real pseudo-terminals: the simulators on one side, the real serial drivers
//! on the other, for every command, card kind, status bit and recovery case.
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use zizhu_drivers::idcard::protocol::SamCode;
use zizhu_drivers::idcard::serial::read_card;
use zizhu_drivers::idcard::{self, card, CardReader, IdCardError, ReaderEvent, SamReader};
use zizhu_drivers::printer::{self, PrinterEvent, ReceiptPrinter};
use zizhu_drivers::scanner::{self, ScannerEvent};
use zizhu_drivers::transport::open_serial;
use zizhu_drivers::{DeviceErrorKind, HealthState};

fn link(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    dir.path().join(name)
}

fn reader(path: &std::path::Path) -> SamReader<serialport::TTYPort> {
    SamReader::new(open_serial(path, 115_200, Duration::from_millis(20)).expect("open pty"))
}

/// Waits for the first event matching `f` (other events are kept in the returned list).
fn wait_for<T: std::fmt::Debug, F: Fn(&T) -> bool>(
    rx: &Receiver<T>,
    f: F,
    what: &str,
) -> (T, Vec<T>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(50)) {
            if f(&ev) {
                return (ev, seen);
            }
            seen.push(ev);
        }
    }
    panic!("timed out waiting for {what}; saw {seen:?}");
}

fn drain<T>(rx: &Receiver<T>, d: Duration) -> Vec<T> {
    let until = Instant::now() + d;
    let mut v = Vec::new();
    while Instant::now() < until {
        if let Ok(ev) = rx.recv_timeout(Duration::from_millis(20)) {
            v.push(ev);
        }
    }
    v
}

#[test]
fn idcard_every_kind_reads_over_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let l = link(&dir, "idcard");
    let samples = card::samples();
    let sim = idcard::sim::Simulator::spawn(&l, samples.clone()).unwrap();
    let mut r = reader(&l);
    r.sam_status().unwrap();
    assert_eq!(r.sam_id().unwrap(), "05.01-20260101-0001234567-0987654321");
    assert!(!r.find().unwrap(), "no card placed yet");
    for (i, want) in samples.iter().enumerate() {
        assert!(sim.place(i));
        for fingerprint in [false, true] {
            let got = read_card(&mut r, fingerprint).unwrap().expect("a card");
            assert_eq!(got.card.kind, want.kind);
            assert_eq!(got.card.name, want.name);
            assert_eq!(got.card.id_number, want.id_number);
            assert_eq!(got.card.name_en, want.name_en);
            assert_eq!(got.card.birth_date, want.birth_date);
            assert_eq!(got.card.valid_long_term, want.valid_long_term);
            assert_ne!(got.card.id_number_check, card::IdCheck::Bad);
            assert_eq!(got.photo_wlt, card::fake_photo(i as u8));
            assert_eq!(got.fingerprint.len(), if fingerprint { 1024 } else { 0 });
        }
    }
    assert_eq!(sim.stats().reads, 2 * samples.len() as u64);
}

#[test]
fn idcard_every_sw3_code_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let l = link(&dir, "idcard");
    let sim = idcard::sim::Simulator::spawn(&l, card::samples()).unwrap();
    sim.place(0);
    let mut r = reader(&l);
    for code in SamCode::ALL {
        if matches!(code, SamCode::RxChecksum | SamCode::RxLength) {
            continue; // the driver resends on these; covered below
        }
        sim.set_fault(idcard::sim::Fault::ReadCode(code.sw3()));
        assert!(r.find().unwrap());
        r.select().unwrap();
        match r.read(false) {
            Err(IdCardError::Sam(c)) => assert_eq!(c, code),
            other => panic!("{code:?}: {other:?}"),
        }
    }
    sim.set_fault(idcard::sim::Fault::ReadCode(0x10));
    r.select().unwrap();
    assert!(matches!(
        r.read(false),
        Err(IdCardError::Sam(SamCode::RxChecksum))
    ));
    sim.set_fault(idcard::sim::Fault::SelectError);
    assert!(matches!(
        r.select(),
        Err(IdCardError::Sam(SamCode::SelectFailed))
    ));
    sim.set_fault(idcard::sim::Fault::NoCard);
    assert!(!r.find().unwrap());
    sim.set_fault(idcard::sim::Fault::SamFault);
    let e = r.sam_status().unwrap_err();
    assert_eq!(e.kind(), DeviceErrorKind::DeviceFault);
    sim.set_fault(idcard::sim::Fault::Silence);
    r.command_timeout = Duration::from_millis(200);
    assert!(matches!(r.find(), Err(IdCardError::Timeout(_))));
}

#[test]
fn idcard_survives_garbage_split_frames_and_bad_checksums() {
    let dir = tempfile::tempdir().unwrap();
    let l = link(&dir, "idcard");
    let sim = idcard::sim::Simulator::spawn(&l, card::samples()).unwrap();
    sim.place(1);
    let mut r = reader(&l);
    sim.set_garbage(true);
    sim.set_split(true);
    let c = read_card(&mut r, false).unwrap().unwrap();
    assert_eq!(c.card.name, "陈㛃");
    assert!(r.discarded() > 0);
    sim.set_garbage(false);
    sim.set_split(false);
    // One corrupted answer: the driver resends and succeeds.
    sim.corrupt_next(1);
    assert!(r.find().unwrap());
    // Two in a row: the error is reported, typed as a protocol error.
    sim.corrupt_next(2);
    let e = r.find().unwrap_err();
    assert_eq!(e.kind(), DeviceErrorKind::Protocol);
    assert!(r.find().unwrap());
}

#[test]
fn idcard_worker_reports_once_per_placement() {
    let dir = tempfile::tempdir().unwrap();
    let l = link(&dir, "idcard");
    let sim = idcard::sim::Simulator::spawn(&l, card::samples()).unwrap();
    let (tx, rx) = channel();
    let mut cfg = idcard::WorkerConfig::new(&l);
    cfg.poll_interval = Duration::from_millis(20);
    let w = idcard::spawn_worker(cfg, tx).unwrap();
    wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::Health(h) if h.state == HealthState::Ok),
        "health ok",
    );
    sim.place(0);
    let (ev, _) = wait_for(&rx, |e| matches!(e, ReaderEvent::CardRead(_)), "card read");
    let ReaderEvent::CardRead(c) = ev else {
        unreachable!()
    };
    assert_eq!(c.card.id_number, "11010519491231002X");
    // The card stays: many polls, no second event.
    let reads_before = sim.stats().reads;
    let extra = drain(&rx, Duration::from_millis(400));
    assert!(!extra.iter().any(|e| matches!(e, ReaderEvent::CardRead(_))));
    assert_eq!(sim.stats().reads, reads_before);
    sim.remove();
    wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::CardRemoved),
        "card removed",
    );
    sim.place(3);
    let (ev, _) = wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::CardRead(_)),
        "second card",
    );
    let ReaderEvent::CardRead(c) = ev else {
        unreachable!()
    };
    assert_eq!(c.card.kind, card::CardKind::ForeignPermanent2023);
    // A failing read is reported (a few times at most), then nothing until the card leaves.
    sim.remove();
    wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::CardRemoved),
        "card removed",
    );
    sim.set_fault(idcard::sim::Fault::ReadError);
    sim.place(0);
    let (ev, _) = wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::ReadFailed { .. }),
        "read failure",
    );
    assert!(matches!(
        ev,
        ReaderEvent::ReadFailed {
            kind: DeviceErrorKind::CardUnreadable,
            ..
        }
    ));
    let more = drain(&rx, Duration::from_millis(500));
    let failures = 1 + more
        .iter()
        .filter(|e| matches!(e, ReaderEvent::ReadFailed { .. }))
        .count();
    assert!(failures <= 3, "{failures} failure events for one placement");
    assert_eq!(w.health().state, HealthState::Ok);
    w.stop();
}

#[test]
fn idcard_worker_recovers_from_unplug_mid_frame() {
    let dir = tempfile::tempdir().unwrap();
    let l = link(&dir, "idcard");
    let sim = idcard::sim::Simulator::spawn(&l, card::samples()).unwrap();
    let (tx, rx) = channel();
    let mut cfg = idcard::WorkerConfig::new(&l);
    cfg.poll_interval = Duration::from_millis(20);
    let w = idcard::spawn_worker(cfg, tx).unwrap();
    wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::Health(h) if h.state == HealthState::Ok),
        "health ok",
    );
    sim.unplug_mid_read();
    sim.place(4);
    let (_, before) = wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::Health(h) if h.state == HealthState::Offline),
        "offline after unplug",
    );
    assert!(
        !before.iter().any(|e| matches!(e, ReaderEvent::CardRead(_))),
        "half a frame is no card"
    );
    assert!(!sim.is_plugged());
    std::thread::sleep(Duration::from_millis(300));
    sim.plug();
    let (_, between) = wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::CardRead(_)),
        "card after replug",
    );
    assert!(between
        .iter()
        .any(|e| matches!(e, ReaderEvent::Health(h) if h.state == HealthState::Ok)));
    let later = drain(&rx, Duration::from_millis(400));
    assert!(
        !later.iter().any(|e| matches!(e, ReaderEvent::CardRead(_))),
        "no duplicate"
    );
    assert_eq!(w.health().state, HealthState::Ok);
    // Silence: the worker marks the reader offline and recovers when it answers again.
    sim.set_fault(idcard::sim::Fault::Silence);
    wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::Health(h) if h.state == HealthState::Offline),
        "offline on silence",
    );
    sim.set_fault(idcard::sim::Fault::None);
    wait_for(
        &rx,
        |e| matches!(e, ReaderEvent::Health(h) if h.state == HealthState::Ok),
        "ok again",
    );
    w.stop();
}

#[test]
fn printer_status_every_fault_over_a_pty() {
    let dir = tempfile::tempdir().unwrap();
    let l = link(&dir, "printer");
    let sim = printer::sim::Simulator::spawn(&l, None).unwrap();
    let mut p =
        printer::EscPosPrinter::new(open_serial(&l, 115_200, Duration::from_millis(20)).unwrap());
    use printer::sim::Fault;
    let cases = [
        (Fault::None, None),
        (Fault::PaperEnd, Some(DeviceErrorKind::PaperOut)),
        (Fault::CoverOpen, Some(DeviceErrorKind::CoverOpen)),
        (Fault::CutterError, Some(DeviceErrorKind::DeviceFault)),
        (Fault::NearEnd, None),
    ];
    for (fault, kind) in cases {
        sim.set_fault(fault);
        let st = p.status().unwrap();
        assert_eq!(st.problem().map(|x| x.0), kind, "{fault:?}");
        assert_eq!(
            st.paper_near_end,
            matches!(fault, Fault::NearEnd | Fault::PaperEnd)
        );
    }
    sim.set_fault(Fault::Silence);
    p.status_timeout = Duration::from_millis(100);
    assert_eq!(p.status().unwrap_err().kind(), DeviceErrorKind::Timeout);
    sim.set_fault(Fault::None);
    let r = printer::receipt::sample("社保查询", "Social insurance", "人社局", "X1");
    p.send(&r.to_escpos(printer::Mode::Raster).unwrap())
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while sim.job_count() == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].black_dots, r.render().unwrap().black_dots());
}

#[test]
fn printer_job_waits_through_paper_end_and_prints_once() {
    let dir = tempfile::tempdir().unwrap();
    let l = link(&dir, "printer");
    let out = dir.path().join("out");
    let sim = printer::sim::Simulator::spawn(&l, Some(&out)).unwrap();
    let (tx, rx) = channel();
    let mut cfg = printer::WorkerConfig::new(&l);
    cfg.idle_poll = Duration::from_millis(50);
    cfg.wait_poll = Duration::from_millis(30);
    let w = printer::spawn_worker(cfg, tx).unwrap();
    wait_for(
        &rx,
        |e| matches!(e, PrinterEvent::Health(h) if h.state == HealthState::Ok),
        "ready",
    );
    let r = printer::receipt::sample("社保查询", "Social insurance", "人社局", "X1");

    for fault in [
        printer::sim::Fault::PaperEnd,
        printer::sim::Fault::CoverOpen,
    ] {
        let before = sim.job_count();
        sim.set_fault(fault);
        let id = w.print(&r, printer::Mode::Raster).unwrap();
        let (ev, _) = wait_for(
            &rx,
            |e| matches!(e, PrinterEvent::JobWaiting { .. }),
            "job waits",
        );
        let PrinterEvent::JobWaiting { id: wid, kind, .. } = ev else {
            unreachable!()
        };
        assert_eq!(wid, id);
        assert!(matches!(
            kind,
            DeviceErrorKind::PaperOut | DeviceErrorKind::CoverOpen
        ));
        assert_eq!(w.health().state, HealthState::Offline);
        drain(&rx, Duration::from_millis(200));
        assert_eq!(sim.job_count(), before, "nothing printed while faulted");
        assert_eq!(w.pending(), 1);
        sim.set_fault(printer::sim::Fault::None);
        let (ev, _) = wait_for(
            &rx,
            |e| matches!(e, PrinterEvent::JobPrinted { .. }),
            "printed",
        );
        assert!(matches!(ev, PrinterEvent::JobPrinted { id: pid } if pid == id));
        drain(&rx, Duration::from_millis(200));
        assert_eq!(sim.job_count(), before + 1, "printed exactly once");
        assert_eq!(w.pending(), 0);
    }
    // Unplugged: the job waits for the printer to come back, then prints once.
    sim.unplug();
    wait_for(
        &rx,
        |e| matches!(e, PrinterEvent::Health(h) if h.state == HealthState::Offline),
        "offline",
    );
    let id = w
        .print(&r, printer::Mode::Text { native_qr: true })
        .unwrap();
    sim.plug();
    let (ev, _) = wait_for(
        &rx,
        |e| matches!(e, PrinterEvent::JobPrinted { .. }),
        "printed after replug",
    );
    assert!(matches!(ev, PrinterEvent::JobPrinted { id: pid } if pid == id));
    let jobs = sim.jobs();
    assert_eq!(jobs.len(), 3);
    assert!(jobs
        .iter()
        .all(|j| j.png.as_ref().is_some_and(|p| p.exists())));
    assert!(jobs
        .iter()
        .all(|j| j.bin.as_ref().is_some_and(|p| p.exists())));
    w.stop();
}

#[test]
fn scanner_terminators_charsets_duplicates_and_limits() {
    let dir = tempfile::tempdir().unwrap();
    let l = link(&dir, "scanner");
    let sim = scanner::sim::Simulator::spawn(&l).unwrap();
    let (tx, rx) = channel();
    let mut cfg = scanner::WorkerConfig::new(&l);
    cfg.trigger = Some(scanner::Trigger::Honeywell);
    let w = scanner::spawn_worker(cfg, tx).unwrap();
    wait_for(
        &rx,
        |e| matches!(e, ScannerEvent::Health(h) if h.state == HealthState::Ok),
        "ok",
    );
    let code = |rx: &Receiver<ScannerEvent>| {
        let (ev, _) = wait_for(rx, |e| matches!(e, ScannerEvent::Code(_)), "a code");
        let ScannerEvent::Code(s) = ev else {
            unreachable!()
        };
        s
    };
    use scanner::sim::Suffix;
    for (i, suffix) in [Suffix::CrLf, Suffix::Cr, Suffix::Lf, Suffix::None]
        .into_iter()
        .enumerate()
    {
        sim.set_suffix(suffix);
        sim.scan(&format!("CODE-{i}"));
        assert_eq!(code(&rx).text, format!("CODE-{i}"));
    }
    sim.set_suffix(Suffix::CrLf);
    sim.scan("粤省事:亮证");
    let s = code(&rx);
    assert_eq!(
        (s.text.as_str(), s.charset),
        ("粤省事:亮证", scanner::Charset::Utf8)
    );
    let (gb, _, _) = encoding_rs::GB18030.encode("办事指南");
    sim.scan_bytes(&gb);
    let s = code(&rx);
    assert_eq!(
        (s.text.as_str(), s.charset),
        ("办事指南", scanner::Charset::Gb18030)
    );
    // The same code twice in quick succession: one event.
    sim.scan("DUP");
    sim.scan("DUP");
    sim.scan("AFTER");
    assert_eq!(code(&rx).text, "DUP");
    assert_eq!(code(&rx).text, "AFTER");
    // Over 4 KiB: dropped with a warning event; the next code still comes through.
    sim.scan(&"x".repeat(5000));
    sim.scan("SMALL");
    let (ev, _) = wait_for(
        &rx,
        |e| matches!(e, ScannerEvent::Dropped { .. }),
        "dropped",
    );
    assert!(matches!(ev, ScannerEvent::Dropped { len: 5000 }));
    assert_eq!(code(&rx).text, "SMALL");
    assert!(sim.triggers() >= 1);
    // Unplug and plug back: offline, ok, and scanning works again.
    sim.unplug();
    wait_for(
        &rx,
        |e| matches!(e, ScannerEvent::Health(h) if h.state == HealthState::Offline),
        "offline",
    );
    sim.plug();
    wait_for(
        &rx,
        |e| matches!(e, ScannerEvent::Health(h) if h.state == HealthState::Ok),
        "ok again",
    );
    sim.scan("BACK");
    assert_eq!(code(&rx).text, "BACK");
    w.stop();
}
