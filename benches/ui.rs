//! UI rendering benchmarks with Slint's software renderer at 1080×1920 (figures in
//! benches/README.md): a full frame of the home screen, a partial repaint after one tile is
//! pressed, and one search keystroke (query, search, results model, repaint). The repainted area
//! of the press and of the keystroke is printed before they are timed. Process start to
//! the first frame and peak memory are measured by the whole-process script benches/startup.sh.
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use slint::platform::{PointerEventButton, WindowEvent};
use slint::{ComponentHandle, LogicalPosition};
use zizhu::kiosk::{HeadlessKiosk, Options, ScreenId, ScreenSpec};
use zizhu::ui::SearchAdapter;

fn bench_ui(c: &mut Criterion) {
    // One headless platform per process: every benchmark shares this kiosk.
    let mut kiosk = match HeadlessKiosk::new(Options::default()) {
        Ok(k) => k,
        Err(e) => panic!("headless kiosk: {e}"),
    };
    let home = ScreenSpec::new(ScreenId::Home);
    if let Err(e) = kiosk.ui().show_screen(&home) {
        panic!("home screen: {e}");
    }
    kiosk.render();
    let handle = kiosk.ui().window().clone_strong();

    c.bench_function("home: full frame 1080x1920", |b| {
        b.iter(|| black_box(kiosk.render_full()))
    });

    // The first most-used tile (left column, below the category grid). The pointer is released
    // off the tile (on the page background), so the press ends without a click: a click would
    // open the service's detail screen and leave the home screen after the first iteration.
    let tile = LogicalPosition::new(200.0, 1300.0);
    let off = LogicalPosition::new(540.0, 1180.0);
    let mut down = false;
    c.bench_function("home: partial repaint, tile pressed/released", |b| {
        b.iter(|| {
            let w = handle.window();
            let event = if down {
                WindowEvent::PointerReleased {
                    position: off,
                    button: PointerEventButton::Left,
                }
            } else {
                WindowEvent::PointerPressed {
                    position: tile,
                    button: PointerEventButton::Left,
                }
            };
            down = !down;
            w.dispatch_event(event);
            black_box(kiosk.render())
        })
    });
    let pressed_box = {
        let w = handle.window();
        if down {
            // The benchmark ran an odd number of iterations: release first.
            w.dispatch_event(WindowEvent::PointerReleased {
                position: off,
                button: PointerEventButton::Left,
            });
            kiosk.render();
        }
        w.dispatch_event(WindowEvent::PointerPressed {
            position: tile,
            button: PointerEventButton::Left,
        });
        let b = (kiosk.render(), kiosk.last_repaint_area());
        w.dispatch_event(WindowEvent::PointerReleased {
            position: off,
            button: PointerEventButton::Left,
        });
        kiosk.render();
        b
    };
    eprintln!(
        "tile press repaints {} px in a {}x{} px box",
        pressed_box.1, pressed_box.0 .0, pressed_box.0 .1
    );

    let mut search = ScreenSpec::new(ScreenId::Search);
    search.query = Some("sb".into());
    if let Err(e) = kiosk.ui().show_screen(&search) {
        panic!("search screen: {e}");
    }
    kiosk.render();
    let typed_box = {
        let adapter = handle.global::<SearchAdapter>();
        adapter.invoke_key("c".into());
        let b = (kiosk.render(), kiosk.last_repaint_area());
        adapter.invoke_backspace();
        let back = (kiosk.render(), kiosk.last_repaint_area());
        [b, back]
    };
    for (what, ((w, h), area)) in ["a keystroke", "its backspace"].iter().zip(typed_box) {
        eprintln!("{what} repaints {area} px in a {w}x{h} px box");
    }
    let mut typed = false;
    c.bench_function("search: one keystroke (search + repaint)", |b| {
        b.iter(|| {
            let adapter = handle.global::<SearchAdapter>();
            if typed {
                adapter.invoke_backspace();
            } else {
                adapter.invoke_key("c".into());
            }
            typed = !typed;
            black_box(kiosk.render())
        })
    });
}

criterion_group!(benches, bench_ui);
criterion_main!(benches);
