//! The technician's maintenance screen: headless UI tests of the real `KioskUi` with
//! `MaintenanceUi` attached on Slint's testing backend — the hidden gesture as pointer events on
//! the attract screen's corner, the PIN pad, the panel against a runtime in simulation mode
//! (simulated printer, reader and scanner on pseudo-terminals, the demo platform in-process),
//! the audit trail in the journal — and `zizhu config hash-pin` / `config check` as processes.
use std::io::Write;
use std::process::Stdio;
use std::sync::atomic::AtomicBool;
use std::sync::{mpsc, Arc};
use std::time::Duration;

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementRoot};
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition};
use zizhu::config::Config;
use zizhu::journal::Journal;
use zizhu::kiosk::{KioskUi, MaintenanceContext, MaintenanceUi, Options};
use zizhu::maintenance::{hash_pin, PinGate, SIMULATION_PIN};
use zizhu::runtime::{route_events, DeviceEvent, Overrides, Runtime};
use zizhu::ui::{AppState, KioskWindow, MaintAdapter, MaintStage, Screen};

use crate::util;
use crate::util::screen::{labels, press, settle, shows};

fn type_pin(w: &KioskWindow, pin: &str) {
    for c in pin.chars() {
        press(w, &c.to_string());
    }
    press(w, "确定");
}

/// A finger tap at (x, y) in logical pixels.
fn tap(w: &KioskWindow, x: f32, y: f32) {
    let position = LogicalPosition::new(x, y);
    let button = PointerEventButton::Left;
    w.window()
        .dispatch_event(WindowEvent::PointerPressed { position, button });
    w.window()
        .dispatch_event(WindowEvent::PointerReleased { position, button });
    settle();
}

/// The hidden gesture: five taps on the attract screen's top-right corner.
fn gesture(w: &KioskWindow) {
    for _ in 0..5 {
        tap(w, 1040.0, 40.0);
    }
}

fn stage(w: &KioskWindow) -> MaintStage {
    w.global::<MaintAdapter>().get_stage()
}

/// Advances Slint time in 100 ms steps (the maintenance tick) until `pred` holds.
fn wait_until(w: &KioskWindow, what: &str, pred: impl Fn(&KioskWindow) -> bool) {
    for _ in 0..600 {
        if pred(w) {
            return;
        }
        i_slint_backend_testing::mock_elapsed_time(Duration::from_millis(100));
        std::thread::sleep(Duration::from_millis(25));
    }
    panic!("timed out waiting for {what}; on screen: {:?}", labels(w));
}

fn actions(j: &Journal) -> Vec<(String, String)> {
    let mut v: Vec<_> = j
        .audit_log(100)
        .unwrap()
        .into_iter()
        .map(|a| {
            assert_eq!(a.actor, "technician");
            (a.action, a.detail.unwrap_or_default())
        })
        .collect();
    v.reverse();
    v
}

#[test]
fn gesture_pin_panel_self_tests_audit_and_back_in_simulation() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::simulation();
    config.data_dir = dir.path().join("data");
    std::fs::create_dir_all(&config.data_dir).unwrap();
    std::fs::write(
        config.data_dir.join("provision-error"),
        "Provisioning failed: `platform.url`: use an https URL\nThe file was left in place.\n",
    )
    .unwrap();
    let (tx, rx) = mpsc::channel();
    let rt = Arc::new(Runtime::start(config, &Overrides::default(), tx).expect("runtime"));
    let open = Arc::new(AtomicBool::new(false));
    let (flow_rx, maint_rx) = route_events(rx, open.clone()).unwrap();
    let ui = KioskUi::new(Options::default()).unwrap();
    ui.window().show().unwrap();
    let m = MaintenanceUi::attach(
        &ui,
        MaintenanceContext::from_runtime(&rt, Some(maint_rx), open),
    );
    let w = ui.window();
    settle();

    // The provisioning failure is on the attract screen.
    assert_eq!(w.global::<AppState>().get_screen(), Screen::Attract);
    assert!(
        shows(w, "开通配置失败：`platform.url`: use an https URL"),
        "{:?}",
        labels(w)
    );

    // Four taps do nothing, and a corner tap does not start a visit; the fifth opens the pad.
    for _ in 0..4 {
        tap(w, 1040.0, 40.0);
    }
    assert_eq!(stage(w), MaintStage::Closed);
    assert_eq!(w.global::<AppState>().get_screen(), Screen::Attract);
    tap(w, 1040.0, 40.0);
    assert_eq!(stage(w), MaintStage::Pin);
    assert!(m.is_open());
    assert!(shows(w, "请输入技术员 PIN"));

    // A wrong PIN, then the simulation PIN.
    type_pin(w, "111111");
    assert_eq!(stage(w), MaintStage::Pin);
    assert!(shows(w, "PIN 错误，还可尝试 4 次"), "{:?}", labels(w));
    type_pin(w, SIMULATION_PIN);
    assert_eq!(stage(w), MaintStage::Panel);

    // Device rows from the runtime's status, the provisioning error, versions.
    wait_until(w, "the printer's row", |w| {
        shows(w, "打印机") && shows(w, "身份证阅读器") && shows(w, "扫码器")
    });
    assert!(shows(w, "设备状态"));
    assert!(shows(w, "开通配置失败：`platform.url`: use an https URL"));
    assert!(
        shows(
            w,
            &format!(
                "软件：zizhu {}（构建 {}）",
                env!("CARGO_PKG_VERSION"),
                rt.state.snapshot().build
            )
        ),
        "{:?}",
        labels(w)
    );
    assert!(shows(w, "镜像：非镜像安装（无构建信息）"));
    assert!(shows(w, "日志中没有错误"));
    // Large touch targets (at least 88 px both ways) on the panel.
    let buttons = w
        .root_element()
        .query_descendants()
        .match_accessible_role(AccessibleRole::Button)
        .find_all();
    assert!(buttons.len() >= 5);
    for b in buttons {
        let size = b.size();
        assert!(
            size.width >= 88.0 && size.height >= 88.0,
            "{:?} is {size:?}",
            b.accessible_label()
        );
    }

    // Test print against the simulated printer.
    let sim = rt.sims.printer.as_ref().expect("simulated printer");
    assert_eq!(sim.job_count(), 0);
    press(w, "打印测试页");
    wait_until(w, "the test page", |w| shows(w, "测试页已打印"));
    assert_eq!(sim.job_count(), 1, "one test page printed");

    // Test card read: only the masked number and name appear.
    let card = &zizhu_drivers::idcard::card::samples()[0];
    press(w, "读卡测试");
    assert!(shows(w, "请放置身份证…"));
    assert!(rt.sims.idcard.as_ref().expect("reader").place(0));
    wait_until(w, "the card", |w| shows(w, "读卡成功"));
    let masked = zizhu_drivers::privacy::mask(&card.id_number);
    let on_screen = labels(w).join("\n");
    assert!(on_screen.contains(&masked), "{on_screen}");
    assert!(!on_screen.contains(&card.id_number), "full ID number shown");
    assert!(!on_screen.contains(&card.name), "full name shown");

    // Test scan: kind and a masked, shortened text.
    press(w, "扫码测试");
    let code = format!("EL1:{}WXYZ", "A".repeat(40));
    rt.sims.scanner.as_ref().expect("scanner").scan(&code);
    wait_until(w, "the scan", |w| shows(w, "扫码成功"));
    assert!(shows(w, "EL1 · EL1:AA…WXYZ (48)"), "{:?}", labels(w));

    // Platform reachability (the demo platform in-process).
    press(w, "平台连通测试");
    wait_until(w, "the ping", |w| shows(w, "平台可达"));

    // Back to the attract screen; events go to the flow again.
    press(w, "返回待机画面");
    assert_eq!(stage(w), MaintStage::Closed);
    assert!(!m.is_open());
    assert_eq!(w.global::<AppState>().get_screen(), Screen::Attract);
    rt.sims.scanner.as_ref().expect("scanner").scan("AFTER");
    let ev = flow_rx.recv_timeout(Duration::from_secs(20)).expect("flow");
    assert!(
        matches!(ev, DeviceEvent::Scan(ref t) if t == "AFTER"),
        "{ev:?}"
    );

    // Everything is in the audit trail, without personal data.
    let log = actions(&rt.journal);
    let names: Vec<&str> = log.iter().map(|(a, _)| a.as_str()).collect();
    for want in [
        "maintenance.open_failed",
        "maintenance.open_ok",
        "maintenance.test_print",
        "maintenance.test_read",
        "maintenance.test_scan",
        "maintenance.ping",
        "maintenance.leave",
    ] {
        assert!(names.contains(&want), "{want} missing from {log:?}");
    }
    assert!(log.contains(&("maintenance.test_print".into(), "printed".into())));
    assert!(log.contains(&("maintenance.test_read".into(), "ok, resident card".into())));
    assert_eq!(names.last(), Some(&"maintenance.leave"));
    let all = format!("{log:?}");
    assert!(!all.contains(&card.id_number) && !all.contains(&masked) && !all.contains(&card.name));
    assert!(!all.contains("AAAA"), "scanned text in the audit trail");
}

#[test]
fn lockout_on_the_pad_idle_timeout_and_no_pin_configured() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(dir.path()).unwrap());
    let ctx = |gate| MaintenanceContext {
        gate,
        journal: Some(journal.clone()),
        state: None,
        client: None,
        printer: None,
        events: None,
        open: Arc::new(AtomicBool::new(false)),
        kiosk_id: "MZ-0042".into(),
        provision_error_file: Some(dir.path().join("provision-error")),
        build_info_file: None,
        voice: None,
    };
    let ui = KioskUi::new(Options::default()).unwrap();
    ui.window().show().unwrap();
    let gate = PinGate::new(&hash_pin("135790").unwrap()).unwrap();
    let _m = MaintenanceUi::attach(&ui, ctx(Some(gate)));
    let w = ui.window();
    settle();
    assert!(!labels(w).iter().any(|l| l.starts_with("开通配置失败")));

    gesture(w);
    assert_eq!(stage(w), MaintStage::Pin);
    for _ in 0..4 {
        type_pin(w, "000000");
    }
    assert!(shows(w, "PIN 错误，还可尝试 1 次"), "{:?}", labels(w));
    type_pin(w, "000000");
    assert!(
        shows(w, "错误次数过多，已锁定，300 秒后可再试"),
        "{:?}",
        labels(w)
    );
    // Locked: the digits are disabled.
    let one: Vec<_> = ElementHandle::find_by_accessible_label(w, "1").collect();
    assert_eq!(one[0].accessible_enabled(), Some(false));
    let log = actions(&journal);
    assert_eq!(
        log.iter()
            .filter(|(a, _)| a == "maintenance.open_failed")
            .count(),
        4
    );
    assert_eq!(
        log.last().map(|(a, _)| a.as_str()),
        Some("maintenance.open_locked")
    );
    // Locked: the pad takes no PIN at all, not even the right one.
    let before = actions(&journal).len();
    type_pin(w, "135790");
    assert_eq!(stage(w), MaintStage::Pin);
    assert_eq!(w.global::<MaintAdapter>().get_pin_count(), 0);
    assert_eq!(actions(&journal).len(), before);
    // The lockout holds for a kiosk started again (from the audit trail).
    let mut again = PinGate::new(&hash_pin("135790").unwrap()).unwrap();
    let audit = journal.audit_log(50).unwrap();
    again.restore(
        audit.iter().map(|a| (a.at, a.action.as_str())),
        zizhu::journal::now_ms(),
        std::time::Instant::now(),
    );
    assert!(again.locked_for(std::time::Instant::now()).is_some());

    // Two minutes without a touch: back to the attract screen.
    for _ in 0..119 {
        i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(1));
    }
    assert_eq!(stage(w), MaintStage::Pin, "not before two minutes");
    i_slint_backend_testing::mock_elapsed_time(Duration::from_secs(2));
    assert_eq!(stage(w), MaintStage::Closed);
    assert_eq!(
        actions(&journal).last(),
        Some(&("maintenance.leave".to_string(), "idle timeout".to_string()))
    );
    drop(_m);

    // A kiosk with no pin_hash keeps the screen closed.
    let ui2 = KioskUi::new(Options::default()).unwrap();
    ui2.window().show().unwrap();
    let _m2 = MaintenanceUi::attach(&ui2, ctx(None));
    gesture(ui2.window());
    assert_eq!(stage(ui2.window()), MaintStage::Closed);
    assert_eq!(
        actions(&journal).last().map(|(a, _)| a.as_str()),
        Some("maintenance.open_refused")
    );
}

fn hash_pin_cli(home: &std::path::Path, stdin: &str, args: &[&str]) -> std::process::Output {
    let mut child = util::zizhu(home)
        .args(["config", "hash-pin"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn config_hash_pin_and_check() {
    let home = tempfile::tempdir().unwrap();
    let out = hash_pin_cli(home.path(), "135790\n", &[]);
    assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
    let phc = util::stdout(&out).trim().to_string();
    assert!(phc.starts_with("$argon2id$v=19$"), "{phc}");
    assert!(!util::stdout(&out).contains("135790"));
    let mut gate = PinGate::new(&phc).unwrap();
    assert!(gate.try_open("135790", std::time::Instant::now()).is_ok());

    // The config accepts it; `config check` refuses a bad one naming the key.
    let cfg = home.path().join("kiosk.toml");
    std::fs::write(&cfg, format!("[maintenance]\npin_hash = \"{phc}\"\n")).unwrap();
    let out = util::zizhu(home.path())
        .args(["config", "check"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
    std::fs::write(&cfg, "[maintenance]\npin_hash = \"135790\"\n").unwrap();
    let out = util::zizhu(home.path())
        .args(["config", "check"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(util::code(&out), 2);
    assert!(
        util::stderr(&out).contains("maintenance.pin_hash"),
        "{}",
        util::stderr(&out)
    );

    // From a file; bad PINs exit 2.
    let f = home.path().join("pin");
    std::fs::write(&f, "24681357\r\n").unwrap();
    let out = hash_pin_cli(home.path(), "", &["--pin-file", f.to_str().unwrap()]);
    assert_eq!(util::code(&out), 0, "{}", util::stderr(&out));
    for bad in ["12345\n", "abcdef\n", "\n", "1234567890123\n"] {
        let out = hash_pin_cli(home.path(), bad, &[]);
        assert_eq!(util::code(&out), 2, "{bad:?}: {}", util::stderr(&out));
        assert!(util::stdout(&out).is_empty());
    }
    let out = hash_pin_cli(home.path(), "", &["--pin-file", "/nonexistent/pin"]);
    assert_eq!(util::code(&out), 2);
}

#[test]
fn the_voice_test_prompt_is_played_through_alsa() {
    i_slint_backend_testing::init_no_event_loop();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(dir.path()).unwrap());
    let wav = crate::voice::alsa_file("maintvoice");
    let config = zizhu::voice::VoiceConfig {
        device: "maintvoice".into(),
        packs: Vec::new(),
        packs_default: false,
        ..Default::default()
    };
    let voice = zizhu::voice::Voice::start(&config, zizhu::catalog::Lang::Zh, None);
    let ctx = MaintenanceContext {
        gate: Some(PinGate::new(&hash_pin("135790").unwrap()).unwrap()),
        journal: Some(journal.clone()),
        state: None,
        client: None,
        printer: None,
        events: None,
        open: Arc::new(AtomicBool::new(false)),
        kiosk_id: "MZ-0042".into(),
        provision_error_file: None,
        build_info_file: None,
        voice: Some(voice),
    };
    let ui = KioskUi::new(Options::default()).unwrap();
    ui.window().show().unwrap();
    let _m = MaintenanceUi::attach(&ui, ctx);
    let w = ui.window();
    settle();
    gesture(w);
    type_pin(w, "135790");
    assert_eq!(stage(w), MaintStage::Panel);
    press(w, "语音测试");
    wait_until(w, "the test prompt", |w| shows(w, "测试语音已播放"));
    let (secs, rms) = crate::voice::sox_measure(&wav);
    assert!(secs > 0.5 && rms > -35.0, "{secs} s, {rms} dB");
    let log = actions(&journal);
    assert!(
        log.iter()
            .any(|(a, d)| a == "maintenance.test_voice" && d == "ok"),
        "{log:?}"
    );
}
