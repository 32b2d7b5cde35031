//! Waking the UI thread from other threads: a device thread or a platform call's worker sends
//! its news on a channel, then calls [`wake`], which has Slint run the registered handlers on
//! the UI thread (`slint::invoke_from_event_loop`). Nothing on the UI thread polls for news.
//!
//! [`ui_events`] is the runtime's sink for device events in a kiosk with a screen: it hands each
//! event to the flow, or to the maintenance screen while that is open, and wakes the UI thread.
//!
//! Without an event loop (Slint's testing backend in `init_no_event_loop` mode, where tests
//! advance a mock clock) `invoke_from_event_loop` is refused; then each registration runs its
//! handler from a 100 ms Slint timer instead, which the mock clock drives.
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SendError, Sender};
use std::sync::Arc;
use std::time::Duration;

use crate::runtime::{DeviceEvent, UiEvents};

/// How often a handler runs when there is no event loop to wake (tests with mock time).
const FALLBACK: Duration = Duration::from_millis(100);

thread_local! {
    static HANDLERS: RefCell<Vec<Weak<dyn Fn()>>> = const { RefCell::new(Vec::new()) };
}

/// Has the UI thread run every registered handler soon. Call it on any thread after sending
/// something the UI should see.
pub fn wake() {
    // Refused only without an event loop, where the fallback timers run the handlers.
    let _ = slint::invoke_from_event_loop(run_handlers);
}

fn run_handlers() {
    let live: Vec<Rc<dyn Fn()>> = HANDLERS.with(|h| {
        let mut h = h.borrow_mut();
        h.retain(|w| w.strong_count() > 0);
        h.iter().filter_map(|w| w.upgrade()).collect()
    });
    for f in live {
        f();
    }
}

/// A handler registered with [`register`]; it stays registered while this lives.
pub struct Registration {
    _handler: Rc<dyn Fn()>,
    _fallback: Option<slint::Timer>,
}

/// Registers `handler` to run on this (the UI) thread after each [`wake`].
pub fn register(handler: Rc<dyn Fn()>) -> Registration {
    HANDLERS.with(|h| h.borrow_mut().push(Rc::downgrade(&handler)));
    let fallback = slint::invoke_from_event_loop(|| {}).is_err().then(|| {
        let timer = slint::Timer::default();
        let weak = Rc::downgrade(&handler);
        timer.start(slint::TimerMode::Repeated, FALLBACK, move || {
            if let Some(f) = weak.upgrade() {
                f();
            }
        });
        timer
    });
    Registration {
        _handler: handler,
        _fallback: fallback,
    }
}

/// The runtime's device-event sink for a kiosk with a screen: while `maintenance_open` is set
/// every event (a card, a scan, a printed job) goes to the maintenance screen, otherwise to the
/// flow; then the UI thread is woken.
pub fn ui_events(
    flow: Sender<DeviceEvent>,
    maintenance: Sender<DeviceEvent>,
    maintenance_open: Arc<AtomicBool>,
) -> UiEvents {
    UiEvents::new(move |ev| {
        let ev = if maintenance_open.load(Ordering::SeqCst) {
            match maintenance.send(ev) {
                Ok(()) => return wake(),
                // The maintenance screen is gone: the flow gets it.
                Err(SendError(ev)) => ev,
            }
        } else {
            ev
        };
        let _ = flow.send(ev);
        wake();
    })
}
