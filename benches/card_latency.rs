//! Card placed → identify screen, on a running event loop (figures in benches/README.md): the
//! real `KioskUi` with `FlowUi` attached on Slint's testing backend with system time and its
//! event loop, the demo platform on loopback. A driver thread starts a visit of
//! `ps-idcard-lost`, places the first sample card as the runtime would (a device event handed to
//! the kiosk's sink, `kiosk::wake::ui_events`, which wakes the UI thread), and
//! watches the screen from the UI thread every millisecond: when the busy overlay shows (the
//! screen has seen the card) and when the form shows (the platform call is done). Prints the
//! medians and quartiles of both over `--visits N` visits (default 40).
//!
//! `cargo bench --bench card_latency -- [--visits N]`
mod common;

use std::sync::atomic::AtomicBool;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::ComponentHandle;
use zizhu::kiosk::{FlowContext, FlowUi, KioskUi, Options};
use zizhu::platform::{demo, Client, ClientConfig};
use zizhu::runtime::{DeviceEvent, UiEvents};
use zizhu::ui::{FlowAdapter, FlowStep, KioskWindow};
use zizhu_drivers::idcard::card::{samples, CardRead};

thread_local! {
    static FLOW: std::cell::RefCell<Option<FlowUi>> = const { std::cell::RefCell::new(None) };
}

/// What the screen showed, and when the UI thread looked.
#[derive(Clone, Copy)]
struct Seen {
    at: Instant,
    busy: bool,
    step: FlowStep,
}

fn look(weak: &slint::Weak<KioskWindow>) -> Seen {
    let (tx, rx) = mpsc::channel();
    weak.upgrade_in_event_loop(move |w| {
        let a = w.global::<FlowAdapter>();
        let _ = tx.send(Seen {
            at: Instant::now(),
            busy: a.get_busy(),
            step: a.get_step(),
        });
    })
    .expect("event loop");
    rx.recv().expect("the UI thread answers")
}

fn quartiles(mut v: Vec<Duration>) -> (Duration, Duration, Duration) {
    let at = |v: &mut Vec<Duration>, q| common::quantile(v, q);
    (at(&mut v, 0.25), at(&mut v, 0.5), at(&mut v, 0.75))
}

fn main() {
    let visits = common::visits(40);
    i_slint_backend_testing::init_integration_test_with_system_time();
    let platform = demo::spawn("127.0.0.1:0".parse().unwrap(), None).expect("demo platform");
    let client =
        Arc::new(Client::new(ClientConfig::new(platform.url(), "bench", "BENCH")).unwrap());
    let (tx, rx) = mpsc::channel::<DeviceEvent>();
    let (maintenance, _unused) = mpsc::channel::<DeviceEvent>();
    let sink = zizhu::kiosk::wake::ui_events(tx, maintenance, Arc::new(AtomicBool::new(false)));
    let ui = KioskUi::new(Options {
        idle_timeout: Duration::from_secs(3600),
        ..Options::default()
    })
    .unwrap();
    ui.window().show().unwrap();
    let flow = FlowUi::attach(
        &ui,
        FlowContext {
            client,
            journal: None,
            printer: None,
            events: Some(rx),
            kiosk_id: "BENCH".into(),
            verifier: None,
            sim: None,
        },
    );
    FLOW.with(|f| *f.borrow_mut() = Some(flow));
    let weak = ui.window().as_weak();
    let driver = std::thread::spawn(move || {
        let card = samples().remove(0);
        let (mut seen_card, mut done) = (Vec::new(), Vec::new());
        for i in 0..visits {
            weak.upgrade_in_event_loop(|_| {
                FLOW.with(|f| {
                    if let Some(f) = f.borrow().as_ref() {
                        f.start("ps-idcard-lost")
                    }
                })
            })
            .unwrap();
            while look(&weak).step != FlowStep::Identify {
                std::thread::sleep(Duration::from_millis(1));
            }
            // The card comes at a spread of moments (0-99 ms after the screen is ready), so a
            // periodic timer's phase is sampled evenly.
            std::thread::sleep(Duration::from_millis((i as u64 * 37) % 100));
            let t0 = Instant::now();
            place(
                &sink,
                DeviceEvent::Card(Box::new(CardRead {
                    card: card.clone(),
                    photo_wlt: Vec::new(),
                    fingerprint: Vec::new(),
                })),
            );
            let mut busy_at = None;
            loop {
                let s = look(&weak);
                if s.busy && busy_at.is_none() {
                    busy_at = Some(s.at);
                }
                if s.step == FlowStep::Form && !s.busy {
                    seen_card.push(busy_at.unwrap_or(s.at) - t0);
                    done.push(s.at - t0);
                    break;
                }
                if t0.elapsed() > Duration::from_secs(20) {
                    panic!("the card was not taken within 20 s");
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            weak.upgrade_in_event_loop(|w| w.global::<FlowAdapter>().invoke_end_visit())
                .unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = slint::quit_event_loop();
        (seen_card, done)
    });
    slint::run_event_loop().expect("event loop");
    let (seen_card, done) = driver.join().expect("driver");
    let (a, b, c) = quartiles(seen_card);
    println!(
        "card placed -> busy overlay (screen saw the card), {visits} visits: median {} (p25 {}, p75 {})",
        common::ms(b),
        common::ms(a),
        common::ms(c)
    );
    let (a, b, c) = quartiles(done);
    println!(
        "card placed -> form shown (identified by the platform), {visits} visits: median {} (p25 {}, p75 {})",
        common::ms(b),
        common::ms(a),
        common::ms(c)
    );
    FLOW.with(|f| f.borrow_mut().take());
    drop(platform);
}

/// Places the card as the runtime's reader pump does.
fn place(sink: &UiEvents, ev: DeviceEvent) {
    sink.send(ev);
}
