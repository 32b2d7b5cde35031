//! Call for help (呼叫帮助) → the request at the platform, and → `help_pending` on `/v1/status`
//! (figures in benches/README.md). The real `KioskUi` with `HelpUi` attached on Slint's testing
//! backend with system time and its event loop; the journal in a temporary directory on disk;
//! the demo platform and the status server on loopback, both over real HTTP. A driver thread
//! starts a visit (home screen), presses the help control on the UI thread (the button's own
//! callback) and then watches, from two threads, the demo platform's list of help requests
//! (`GET /v1/help`) and the status endpoint (`GET /v1/status`) every half millisecond until each
//! shows the request. Ending the visit (back to the attract screen) cancels it before the next.
//! Prints median, p99 and the largest of both over `--visits N` presses (default 200).
//!
//! `cargo bench --bench help_latency -- [--visits N]`
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::ComponentHandle;
use zizhu::help::HelpDesk;
use zizhu::journal::Journal;
use zizhu::kiosk::{HelpContext, HelpUi, KioskUi, Options, ScreenId, ScreenSpec};
use zizhu::platform::{demo, Client, ClientConfig};
use zizhu::status::{self, Limits, Secret, StatusConfig, StatusState};
use zizhu::ui::HelpAdapter;

const TOKEN: &str = "bench-status-token-0123456789abcdef";

thread_local! {
    static KIOSK: std::cell::RefCell<Option<(KioskUi, HelpUi)>> =
        const { std::cell::RefCell::new(None) };
}

/// Runs `f` on the UI thread with the kiosk and waits for its answer.
fn on_ui<T: Send + 'static>(f: impl FnOnce(&KioskUi) -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    slint::invoke_from_event_loop(move || {
        KIOSK.with(|k| {
            if let Some((ui, _)) = k.borrow().as_ref() {
                let _ = tx.send(f(ui));
            }
        })
    })
    .expect("event loop");
    rx.recv().expect("the UI thread answers")
}

/// `help_pending` as `GET /v1/status` reports it (a fresh connection each time, as a poller's).
fn status_pending(addr: SocketAddr) -> bool {
    let mut s = TcpStream::connect(addr).expect("status server");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /v1/status HTTP/1.1\r\nHost: k\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(body).expect("status JSON");
    v["help_pending"]
        .as_bool()
        .expect("help_pending in /v1/status")
}

fn report(what: &str, mut v: Vec<Duration>) {
    let q = |v: &mut Vec<Duration>, q| common::quantile(v, q);
    let (median, p99, max) = (q(&mut v, 0.5), q(&mut v, 0.99), q(&mut v, 1.0));
    println!(
        "{what}, {} presses: median {}, p99 {}, max {}",
        v.len(),
        common::ms(median),
        common::ms(p99),
        common::ms(max)
    );
}

fn main() {
    let visits = common::visits(200);
    i_slint_backend_testing::init_integration_test_with_system_time();
    let dir = tempfile::tempdir().expect("temporary directory");
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    let client =
        Arc::new(Client::new(ClientConfig::new(platform.url(), "bench", "BENCH")).unwrap());
    let staff = Client::new(ClientConfig::new(platform.url(), "bench", "STAFF")).unwrap();
    let journal = Arc::new(Journal::open(dir.path()).expect("journal"));
    let state = StatusState::new("BENCH", "基准站");
    let server = status::spawn(
        StatusConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: Secret::new(TOKEN),
            tls: None,
            // The watcher asks thousands of times a second; an operator's poller may not.
            limits: Limits {
                per_client_rps: 1e6,
                per_client_burst: 1e6,
                ..Limits::default()
            },
        },
        state.clone(),
    )
    .expect("status server");
    let status_addr = server.local_addr();
    let ui = KioskUi::new(Options {
        idle_timeout: Duration::from_secs(3600),
        ..Options::default()
    })
    .unwrap();
    ui.window().show().unwrap();
    let help = HelpUi::attach(
        &ui,
        HelpContext {
            desk: Arc::new(HelpDesk::new(journal, client, "BENCH")),
            status: Some(state),
            site: "基准站".into(),
            config: zizhu::config::HelpConfig {
                hotline: "12345".into(),
                video_url: None,
            },
            poll: Duration::from_secs(3),
        },
        None,
    );
    KIOSK.with(|k| *k.borrow_mut() = Some((ui, help)));
    let driver = std::thread::spawn(move || {
        let (mut at_platform, mut on_status) = (Vec::new(), Vec::new());
        for _ in 0..visits {
            let before = staff.help_list(false).expect("help list").requests.len();
            on_ui(|ui| ui.show_screen(&ScreenSpec::new(ScreenId::Home)).unwrap());
            // The press, timed on the UI thread itself.
            let t0 = on_ui(|ui| {
                let t0 = Instant::now();
                ui.window().global::<HelpAdapter>().invoke_call();
                t0
            });
            let (p, s) = std::thread::scope(|scope| {
                let p = scope.spawn(|| loop {
                    if staff.help_list(false).expect("help list").requests.len() > before {
                        return t0.elapsed();
                    }
                    if t0.elapsed() > Duration::from_secs(20) {
                        panic!("the help request did not reach the platform within 20 s");
                    }
                    std::thread::sleep(Duration::from_micros(500));
                });
                let s = scope.spawn(|| loop {
                    if status_pending(status_addr) {
                        return t0.elapsed();
                    }
                    if t0.elapsed() > Duration::from_secs(20) {
                        panic!("help_pending did not show on /v1/status within 20 s");
                    }
                    std::thread::sleep(Duration::from_micros(500));
                });
                (
                    p.join().expect("platform watcher"),
                    s.join().expect("status watcher"),
                )
            });
            at_platform.push(p);
            on_status.push(s);
            // The citizen leaves: the visit ends and the request is cancelled.
            on_ui(|ui| ui.show_screen(&ScreenSpec::new(ScreenId::Attract)).unwrap());
            let t1 = Instant::now();
            while status_pending(status_addr) {
                assert!(t1.elapsed() < Duration::from_secs(20), "help_pending stuck");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let _ = slint::quit_event_loop();
        (at_platform, on_status)
    });
    slint::run_event_loop().expect("event loop");
    let (at_platform, on_status) = driver.join().expect("driver");
    report(
        "呼叫帮助 -> request stored at the demo platform",
        at_platform,
    );
    let worst = on_status.iter().max().copied().unwrap_or_default();
    report("呼叫帮助 -> help_pending on /v1/status", on_status);
    println!(
        "target: help_pending on /v1/status within 1 s of the press: {}",
        if worst <= Duration::from_secs(1) {
            "met"
        } else {
            "NOT met"
        }
    );
    KIOSK.with(|k| k.borrow_mut().take());
    server.shutdown();
    drop(platform);
}
