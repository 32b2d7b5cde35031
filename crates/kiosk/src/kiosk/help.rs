//! Call for help (呼叫帮助) on the screen: [`HelpUi`] wires the `HelpAdapter` global (the footer's
//! button on every visitor screen, the overlay) to the core's [`HelpDesk`]. Pressing the button
//! raises a help request on a worker thread (the journal write and the first attempt never block
//! the UI thread) and shows "已通知工作人员" with cancel, the hotline and the video-help QR code;
//! the kiosk then asks the platform every few seconds whether staff took it, and shows "工作人员
//! 正在赶来" when they did. The status endpoint's `help_pending` is set from the moment the request
//! is stored until staff take it, the citizen cancels it, the visit ends (which cancels it) or a
//! helper signs in at the kiosk (the overlay offers 工作人员签到, `super::staff`; the request is
//! then withdrawn as answered in person, reason `staff_signed_in`).
//!
//! What is sent names the screen or flow step, the service, the visit's length and the kind of the
//! last error: never who the citizen is or what they typed.
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use slint::ComponentHandle;

use super::{FlowUi, KioskUi, ScreenId};
use crate::help::{HelpDesk, Progress, Raised};
use crate::platform::api::HelpRequest;
use crate::ui::{AppState, HelpAdapter, HelpStage, KioskWindow, Screen};

/// What the help screen needs from the runtime.
pub struct HelpContext {
    /// Raises, cancels and follows help requests (journal and platform).
    pub desk: Arc<HelpDesk>,
    /// The status state (`help_pending`, the request counter), when there is one.
    pub status: Option<crate::status::StatusState>,
    /// The site's name, sent with each request.
    pub site: String,
    /// `[help]`: hotline and video link.
    pub config: crate::config::HelpConfig,
    /// How often the kiosk asks whether staff took the request (default 3 s).
    pub poll: Duration,
}

/// A worker's news for the UI thread.
enum News {
    /// The request of visit `visit` was stored (and maybe delivered), or could not be.
    Raised(u64, Result<Raised, String>),
    /// What the platform says of it.
    Progress(u64, Result<Progress, String>),
}

struct Inner {
    me: Weak<Inner>,
    weak: slint::Weak<KioskWindow>,
    desk: Arc<HelpDesk>,
    status: Option<crate::status::StatusState>,
    site: String,
    poll_every: Duration,
    /// Where the visitor is: the window's screen, the flow's step and service.
    flow: RefCell<Option<Rc<FlowUi>>>,
    session: Rc<RefCell<super::Session>>,
    /// Counts visits, so news about an ended visit's request is dropped.
    visit: Cell<u64>,
    visit_started: Cell<Option<Instant>>,
    raised: RefCell<Option<Raised>>,
    /// A raise or a progress question is out on a worker.
    busy: Cell<bool>,
    tx: Sender<News>,
    rx: Receiver<News>,
    poll: slint::Timer,
}

/// The help button and overlay wired to a [`KioskUi`]. Keep it alive as long as the window.
pub struct HelpUi {
    inner: Rc<Inner>,
    _wake: super::wake::Registration,
}

impl HelpUi {
    /// Wires call-for-help into `ui`. `flow`, when given, tells which step and service the
    /// visitor is on.
    pub fn attach(ui: &KioskUi, ctx: HelpContext, flow: Option<Rc<FlowUi>>) -> HelpUi {
        let (tx, rx) = mpsc::channel();
        let w = ui.window();
        let a = w.global::<HelpAdapter>();
        a.set_hotline(ctx.config.hotline.as_str().into());
        match ctx
            .config
            .video_url
            .as_deref()
            .and_then(super::flow::qr_image)
        {
            Some(img) => {
                a.set_video_qr(img);
                a.set_has_video(true);
            }
            None => a.set_has_video(false),
        }
        let session = ui.session.clone();
        let inner = Rc::new_cyclic(|me| Inner {
            me: me.clone(),
            weak: w.as_weak(),
            desk: ctx.desk,
            status: ctx.status,
            site: ctx.site,
            poll_every: ctx.poll,
            flow: RefCell::new(flow),
            session,
            visit: Cell::new(0),
            visit_started: Cell::new(None),
            raised: RefCell::new(None),
            busy: Cell::new(false),
            tx,
            rx,
            poll: slint::Timer::default(),
        });
        let i = inner.clone();
        a.on_call(move || i.call());
        let i = inner.clone();
        a.on_cancel(move || i.cancel("citizen"));
        let i = inner.clone();
        a.on_close(move || i.close());
        let me = Rc::downgrade(&inner);
        ui.on_change(move || {
            if let Some(i) = me.upgrade() {
                i.session_changed();
            }
        });
        // Staff who came signed in at the kiosk: the request is answered in person.
        let me = Rc::downgrade(&inner);
        ui.staff().on_event(move |ev| {
            if let (Some(i), super::StaffEvent::SignedIn) = (me.upgrade(), ev) {
                i.staff_arrived();
            }
        });
        let me = Rc::downgrade(&inner);
        let wake = super::wake::register(Rc::new(move || {
            if let Some(i) = me.upgrade() {
                i.drain();
            }
        }));
        HelpUi { inner, _wake: wake }
    }

    /// Whether a help request of this visit waits for staff.
    pub fn pending(&self) -> bool {
        self.inner.raised.borrow().is_some()
    }
}

impl Inner {
    fn set_stage(&self, stage: HelpStage) {
        if let Some(w) = self.weak.upgrade() {
            let a = w.global::<HelpAdapter>();
            a.set_stage(stage);
            a.set_pending(self.raised.borrow().is_some());
        }
    }

    fn set_pending(&self, pending: bool) {
        if let Some(s) = &self.status {
            s.set_help_pending(pending);
        }
        if let Some(w) = self.weak.upgrade() {
            w.global::<HelpAdapter>().set_pending(pending);
        }
    }

    /// What the request says of where the visitor is.
    fn request(&self) -> HelpRequest {
        let s = self.session.borrow().clone();
        let flow = self.flow.borrow().as_ref().and_then(|f| f.help_context());
        let (screen, service, error) = match (s.screen, flow) {
            (ScreenId::Flow, Some((step, service, error))) => (
                step.to_string(),
                Some(service).filter(|s| !s.is_empty()).or(s.item.clone()),
                error.map(str::to_string),
            ),
            (screen, _) => (
                screen.name().to_string(),
                matches!(screen, ScreenId::Detail | ScreenId::Flow)
                    .then(|| s.item.clone())
                    .flatten(),
                None,
            ),
        };
        HelpRequest {
            site: self.site.clone(),
            screen,
            service_id: service,
            visit_seconds: self
                .visit_started
                .get()
                .map_or(0, |t| t.elapsed().as_secs()),
            last_error: error,
        }
    }

    /// The help button: raise a request, or show the one already raised.
    fn call(&self) {
        if self.raised.borrow().is_some() || self.busy.get() {
            // One request per visit: pressing again shows it.
            let stage = if self.busy.get() && self.raised.borrow().is_none() {
                HelpStage::Sending
            } else {
                HelpStage::Notified
            };
            if let Some(w) = self.weak.upgrade() {
                let a = w.global::<HelpAdapter>();
                if a.get_stage() == HelpStage::Closed {
                    a.set_stage(stage);
                }
            }
            return;
        }
        let req = self.request();
        self.set_stage(HelpStage::Sending);
        self.busy.set(true);
        let (desk, tx, visit) = (self.desk.clone(), self.tx.clone(), self.visit.get());
        let spawned = std::thread::Builder::new()
            .name("help-call".into())
            .spawn(move || {
                // Stored first, and said at once (help_pending, "已通知工作人员"): a platform
                // that is slow to answer must not keep the citizen waiting for that. Then the
                // first attempt; the drain retries, and the progress poll sees the answer.
                match desk.store(req) {
                    Ok(stored) => {
                        let raised = Raised {
                            key: stored.key.clone(),
                            delivered: false,
                        };
                        if tx.send(News::Raised(visit, Ok(raised))).is_ok() {
                            super::wake::wake();
                        }
                        if let Err(e) = desk.first_attempt(&stored) {
                            tracing::warn!("help request stored; first attempt failed: {e}");
                        }
                    }
                    Err(e) => {
                        if tx.send(News::Raised(visit, Err(e.to_string()))).is_ok() {
                            super::wake::wake();
                        }
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a worker thread: {e}");
            self.busy.set(false);
            self.set_stage(HelpStage::Failed);
        }
    }

    fn cancel(&self, reason: &'static str) {
        self.poll.stop();
        let raised = self.raised.borrow_mut().take();
        self.set_pending(false);
        if reason == "citizen" {
            self.set_stage(HelpStage::Closed);
        }
        let Some(raised) = raised else {
            return;
        };
        let desk = self.desk.clone();
        let spawned = std::thread::Builder::new()
            .name("help-cancel".into())
            .spawn(move || {
                if let Err(e) = desk.cancel(&raised, reason) {
                    tracing::warn!("help cancel not stored: {e}");
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a worker thread: {e}");
        }
    }

    /// A helper signed in for the visit: a request still waiting is answered in person, so it is
    /// withdrawn at the platform (`staff_signed_in`; `help_pending` ends) and the overlay closes.
    fn staff_arrived(&self) {
        if self.raised.borrow().is_some() {
            tracing::info!("help answered in person: staff signed in");
            self.cancel("staff_signed_in");
        }
        self.close();
    }

    fn close(&self) {
        if let Some(w) = self.weak.upgrade() {
            w.global::<HelpAdapter>().set_stage(HelpStage::Closed);
        }
    }

    /// A new visit starts when the attract screen is left; leaving it again ends the visit and
    /// cancels a request still waiting (the citizen has gone).
    fn session_changed(&self) {
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        let on_attract = w.global::<AppState>().get_screen() == Screen::Attract;
        match (on_attract, self.visit_started.get()) {
            (false, None) => self.visit_started.set(Some(Instant::now())),
            (true, Some(_)) => {
                self.visit_started.set(None);
                self.visit.set(self.visit.get() + 1);
                self.busy.set(false);
                self.cancel("visit_ended");
                self.set_stage(HelpStage::Closed);
            }
            _ => {}
        }
    }

    fn drain(&self) {
        while let Ok(news) = self.rx.try_recv() {
            match news {
                News::Raised(v, r) => {
                    if v != self.visit.get() {
                        // The visit ended meanwhile: cancel what was raised for it.
                        if let Ok(raised) = r {
                            let desk = self.desk.clone();
                            let _ = std::thread::Builder::new()
                                .name("help-cancel".into())
                                .spawn(move || desk.cancel(&raised, "visit_ended"));
                        }
                        continue;
                    }
                    self.busy.set(false);
                    match r {
                        Ok(raised) => {
                            *self.raised.borrow_mut() = Some(raised);
                            if let Some(s) = &self.status {
                                s.help_requested();
                            }
                            self.set_pending(true);
                            if let Some(w) = self.weak.upgrade() {
                                let a = w.global::<HelpAdapter>();
                                if a.get_stage() == HelpStage::Sending {
                                    a.set_stage(HelpStage::Notified);
                                }
                            }
                            self.schedule_poll();
                        }
                        Err(e) => {
                            tracing::error!("help request not stored: {e}");
                            if let Some(s) = &self.status {
                                s.error("journal");
                            }
                            self.set_stage(HelpStage::Failed);
                        }
                    }
                }
                News::Progress(v, r) => {
                    self.busy.set(false);
                    if v != self.visit.get() || self.raised.borrow().is_none() {
                        continue;
                    }
                    match r {
                        Ok(Progress::Acknowledged { staff_id, .. }) => {
                            tracing::info!(
                                staff = staff_id.as_deref().unwrap_or("-"),
                                "help acknowledged"
                            );
                            self.raised.borrow_mut().take();
                            self.set_pending(false);
                            if let Err(e) =
                                self.desk
                                    .journal()
                                    .audit("staff", "help.ack", staff_id.as_deref())
                            {
                                tracing::warn!("audit row not written: {e}");
                            }
                            self.set_stage(HelpStage::Coming);
                        }
                        Ok(Progress::Cancelled) | Ok(Progress::Refused(_)) => {
                            self.raised.borrow_mut().take();
                            self.set_pending(false);
                        }
                        Ok(Progress::Queued | Progress::Open { .. }) => self.schedule_poll(),
                        Err(e) => {
                            tracing::debug!("help progress: {e}");
                            self.schedule_poll();
                        }
                    }
                }
            }
        }
    }

    /// Asks the platform again after the poll interval.
    fn schedule_poll(&self) {
        let me = self.me.clone();
        self.poll
            .start(slint::TimerMode::SingleShot, self.poll_every, move || {
                if let Some(i) = me.upgrade() {
                    i.ask();
                }
            });
    }

    fn ask(&self) {
        let Some(raised) = self.raised.borrow().clone() else {
            return;
        };
        if self.busy.get() {
            return self.schedule_poll();
        }
        self.busy.set(true);
        let (desk, tx, visit) = (self.desk.clone(), self.tx.clone(), self.visit.get());
        let spawned = std::thread::Builder::new()
            .name("help-progress".into())
            .spawn(move || {
                let r = desk.progress(&raised).map_err(|e| e.to_string());
                if tx.send(News::Progress(visit, r)).is_ok() {
                    super::wake::wake();
                }
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a worker thread: {e}");
            self.busy.set(false);
            self.schedule_poll();
        }
    }
}
