//! Staff sign-in (帮办员) for the whole visit: [`StaffUi`] is the one owner of the helper signed
//! in at the kiosk. It wires the `StaffAdapter` global (`ui/widgets/staff.slint`: the sign-in
//! panel over any visitor screen, the footer's banner, the flow's bar, the help overlay's
//! 工作人员签到) to the core's [`staff::sign_in`]. A helper signs in from the flow screen or, after
//! 呼叫帮助, from the help overlay on any screen (home, a list, a service's detail, a flow); from
//! then on the visit is assisted: the banner names the helper (masked, 张* · 工号 0012), and every
//! flow of the visit carries the staff id (the flow is told through [`StaffUi::on_event`]).
//!
//! - Sign-in runs on a worker thread: the code's verification and the journal's write of its use
//!   (the replay record, the audit row, both fsynced) never block the UI thread; the answer comes
//!   back on a channel and [`super::wake`] has the UI thread pick it up. The sign-out's audit row
//!   is written on a worker too.
//! - Sign-out happens on the 帮办员签退 button, at the end of the visit (the attract screen shows
//!   again after the goodbye) or on the idle timeout, each recorded in the audit trail with its
//!   reason; a code still being checked when the visit ends signs its helper out at once.
//! - The status endpoint learns whether a helper is signed in and since when (never who), and
//!   counts sign-ins and refusals by reason.
//! - Personal data: the helper's name never leaves [`staff::sign_in`] unmasked; logs and the
//!   audit trail carry the staff id.
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use slint::ComponentHandle;

use super::Session;
use crate::elicense::Verifier;
use crate::journal::Journal;
use crate::staff::{self, Binding, Helper, SignOut, StaffError};
use crate::text::Text;
use crate::ui::{AppState, KioskWindow, Screen, StaffAdapter};

/// Where staff codes are checked and recorded.
pub struct StaffSetup {
    /// Used codes and the audit trail.
    pub journal: Arc<Journal>,
    /// The e-licence verifier whose trust list holds the staff keys (usage `staff`); without one
    /// every code is refused as untrusted.
    pub verifier: Option<Arc<Mutex<Verifier>>>,
    /// This kiosk's site and id, which a code must be bound to.
    pub binding: Binding,
}

/// What happened to the visit's helper (told to [`StaffUi::on_event`] hooks: the flow, the
/// voice). Nothing personal is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEvent {
    /// The sign-in panel opened.
    PanelOpened,
    /// A helper signed in for the visit.
    SignedIn,
    /// The helper signed out (for this reason).
    SignedOut(SignOut),
    /// A code was refused; the panel says why.
    Refused,
}

type Hook = Rc<dyn Fn(StaffEvent)>;

/// A worker's answer: the visit it was for, and the helper or why not.
type Answer = (u64, Result<Helper, StaffError>);

struct Inner {
    weak: slint::Weak<KioskWindow>,
    session: Rc<RefCell<Session>>,
    setup: RefCell<Option<Arc<StaffSetup>>>,
    status: RefCell<Option<crate::status::StatusState>>,
    /// The helper signed in for this visit.
    helper: RefCell<Option<Helper>>,
    panel: Cell<bool>,
    /// The panel's plain message (a refused code).
    message: Cell<Option<Text>>,
    /// A code is out on a worker.
    busy: Cell<bool>,
    /// Sign-out rows being written on workers.
    writes: Arc<AtomicUsize>,
    /// Counts visits, so a worker's answer for an ended visit is recognised.
    visit: Cell<u64>,
    /// The attract screen was showing (no visit).
    idle: Cell<bool>,
    tx: Sender<Answer>,
    rx: Receiver<Answer>,
    hooks: RefCell<Vec<Hook>>,
}

/// Staff sign-in wired to a kiosk window; [`super::KioskUi::staff`] has the window's one. A cheap
/// handle: clones share the same state.
#[derive(Clone)]
pub struct StaffUi {
    inner: Rc<Inner>,
    _wake: Rc<super::wake::Registration>,
}

impl StaffUi {
    /// Wires the `StaffAdapter` of `window`; `session` gives the language. Not set up until
    /// [`StaffUi::enable`] (a code then gets a plain "not set up" message).
    pub(super) fn new(window: &KioskWindow, session: Rc<RefCell<Session>>) -> StaffUi {
        let (tx, rx) = mpsc::channel();
        let inner = Rc::new(Inner {
            weak: window.as_weak(),
            session,
            setup: RefCell::new(None),
            status: RefCell::new(None),
            helper: RefCell::new(None),
            panel: Cell::new(false),
            message: Cell::new(None),
            busy: Cell::new(false),
            writes: Arc::new(AtomicUsize::new(0)),
            visit: Cell::new(0),
            idle: Cell::new(true),
            tx,
            rx,
            hooks: RefCell::new(Vec::new()),
        });
        let a = window.global::<StaffAdapter>();
        let me = Rc::downgrade(&inner);
        a.on_open(move |open| {
            if let Some(i) = me.upgrade() {
                i.open(open);
            }
        });
        let me = Rc::downgrade(&inner);
        a.on_code(move |code| {
            if let Some(i) = me.upgrade() {
                i.code(code.as_str());
            }
        });
        let me = Rc::downgrade(&inner);
        a.on_sign_out(move || {
            if let Some(i) = me.upgrade() {
                i.sign_out(SignOut::Press);
            }
        });
        let me = Rc::downgrade(&inner);
        let wake = super::wake::register(Rc::new(move || {
            if let Some(i) = me.upgrade() {
                i.drain();
            }
        }));
        inner.present();
        StaffUi {
            inner,
            _wake: Rc::new(wake),
        }
    }

    /// Sets up staff sign-in: codes are checked against `setup`'s trust list for its site and
    /// kiosk, and remembered in its journal.
    pub fn enable(&self, setup: StaffSetup) {
        *self.inner.setup.borrow_mut() = Some(Arc::new(setup));
        self.inner.present();
    }

    /// Tells the status endpoint (whether a helper is signed in, sign-ins, refusals).
    pub fn set_status(&self, status: crate::status::StatusState) {
        *self.inner.status.borrow_mut() = Some(status);
    }

    /// The helper signed in for the visit.
    pub fn helper(&self) -> Option<Helper> {
        self.inner.helper.borrow().clone()
    }

    /// A staff code scanned or typed: checked on a worker; the helper signs in for the visit, or
    /// the panel says plainly why not.
    pub fn code(&self, text: &str) {
        self.inner.code(text);
    }

    /// Signs the helper out (`why`); the visit goes on unassisted.
    pub fn sign_out(&self, why: SignOut) {
        self.inner.sign_out(why);
    }

    /// Whether a code is being checked or a sign-out is being written (tests wait for it).
    pub fn busy(&self) -> bool {
        self.inner.busy.get() || self.inner.writes.load(Ordering::SeqCst) > 0
    }

    /// Registers what happens when the helper signs in or out, a code is refused or the panel
    /// opens (the flow follows the helper; the voice speaks).
    pub fn on_event(&self, f: impl Fn(StaffEvent) + 'static) {
        self.inner.hooks.borrow_mut().push(Rc::new(f));
    }

    /// The session changed (another screen, the language, the end of the visit).
    pub(super) fn session_changed(&self) {
        self.inner.session_changed();
    }
}

impl Inner {
    fn emit(&self, ev: StaffEvent) {
        let hooks: Vec<Hook> = self.hooks.borrow().clone();
        for f in hooks {
            f(ev);
        }
    }

    fn on_attract(&self) -> bool {
        self.weak
            .upgrade()
            .is_none_or(|w| w.global::<AppState>().get_screen() == Screen::Attract)
    }

    fn open(&self, open: bool) {
        self.panel.set(open && !self.on_attract());
        self.message.set(None);
        self.present();
        if self.panel.get() {
            self.emit(StaffEvent::PanelOpened);
        }
    }

    fn code(&self, text: &str) {
        if self.on_attract() {
            return; // No visit: a code under the scanner between visitors is ignored.
        }
        let Some(setup) = self.setup.borrow().clone() else {
            self.panel.set(true);
            self.message.set(Some(Text::StaffUnavailable));
            self.present();
            return;
        };
        if self.busy.get() {
            return; // One code at a time.
        }
        self.busy.set(true);
        self.message.set(None);
        let (tx, visit, text) = (self.tx.clone(), self.visit.get(), text.to_string());
        let spawned = std::thread::Builder::new()
            .name("staff-sign-in".into())
            .spawn(move || {
                let keys = setup
                    .verifier
                    .as_ref()
                    .and_then(|v| v.lock().ok().map(|v| staff::keys_of(v.trust())))
                    .unwrap_or_default();
                let now = chrono::Utc::now().timestamp();
                let r = staff::sign_in(&text, &keys, &setup.binding, now, &setup.journal);
                if tx.send((visit, r)).is_ok() {
                    super::wake::wake();
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a worker thread: {e}");
            self.busy.set(false);
            self.panel.set(true);
            self.message.set(Some(Text::StaffStorage));
        }
        self.present();
    }

    /// Answers from the sign-in worker.
    fn drain(&self) {
        while let Ok((visit, r)) = self.rx.try_recv() {
            if visit != self.visit.get() {
                // The visit ended while the code was checked: its helper is signed out at once.
                if let Ok(h) = r {
                    self.record_sign_out(h, SignOut::EndOfVisit);
                }
                continue;
            }
            self.busy.set(false);
            let status = self.status.borrow().clone();
            match r {
                Ok(h) => {
                    // A second helper replaces the first, who is signed out.
                    self.sign_out(SignOut::Replaced);
                    *self.helper.borrow_mut() = Some(h);
                    self.panel.set(false);
                    self.message.set(None);
                    if let Some(s) = &status {
                        s.staff_signed_in();
                    }
                    self.present();
                    self.emit(StaffEvent::SignedIn);
                }
                Err(e) => {
                    if let Some(s) = &status {
                        s.staff_refused(e.kind());
                    }
                    self.panel.set(true);
                    self.message.set(Some(e.text()));
                    self.present();
                    self.emit(StaffEvent::Refused);
                }
            }
        }
    }

    fn sign_out(&self, why: SignOut) {
        let Some(h) = self.helper.borrow_mut().take() else {
            return;
        };
        self.record_sign_out(h, why);
        if let Some(s) = self.status.borrow().as_ref() {
            s.staff_signed_out();
        }
        self.present();
        self.emit(StaffEvent::SignedOut(why));
    }

    /// Writes the sign-out to the audit trail on a worker (inline if none can be started).
    fn record_sign_out(&self, h: Helper, why: SignOut) {
        let Some(setup) = self.setup.borrow().clone() else {
            tracing::info!(staff = %h.staff_id, "staff signed out");
            return;
        };
        let writes = self.writes.clone();
        writes.fetch_add(1, Ordering::SeqCst);
        let (s, helper) = (setup.clone(), h.clone());
        let spawned = std::thread::Builder::new()
            .name("staff-sign-out".into())
            .spawn(move || {
                helper.sign_out(&s.journal, why);
                writes.fetch_sub(1, Ordering::SeqCst);
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a worker thread: {e}");
            self.writes.fetch_sub(1, Ordering::SeqCst);
            h.sign_out(&setup.journal, why);
        }
    }

    /// Leaving the attract screen starts a visit; reaching it again ends the visit, and the
    /// helper signs out (on idle when the countdown ran out, else at the end of the visit).
    fn session_changed(&self) {
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        let st = w.global::<AppState>();
        let on_attract = st.get_screen() == Screen::Attract;
        if on_attract && !self.idle.get() {
            self.visit.set(self.visit.get() + 1);
            self.busy.set(false);
            self.panel.set(false);
            self.message.set(None);
            let why = if st.get_idle_remaining() <= 0 {
                SignOut::Idle
            } else {
                SignOut::EndOfVisit
            };
            self.sign_out(why);
        }
        self.idle.set(on_attract);
        self.present();
    }

    /// Shows the helper and the panel on the `StaffAdapter`.
    fn present(&self) {
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        let lang = self.session.borrow().lang;
        let a = w.global::<StaffAdapter>();
        a.set_enabled(self.setup.borrow().is_some());
        a.set_banner(
            self.helper
                .borrow()
                .as_ref()
                .map(|h| h.banner(lang))
                .unwrap_or_default()
                .into(),
        );
        a.set_panel(self.panel.get());
        a.set_message(self.message.get().map_or("", |t| t.get(lang)).into());
        a.set_busy(self.busy.get());
    }
}
