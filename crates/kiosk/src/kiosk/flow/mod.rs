//! The touchscreen side of doing a service, in Slint's todo-mvc shape: the [`controller`] holds
//! one visit's state (no Slint types) and does what the visitor's presses, the devices and the
//! platform's answers mean; the [`presenter`] shows that state on the `FlowAdapter` global that
//! the flow screens in `ui/screens/flow/` read; the [`keyboard`] module is the on-screen keyboard
//! and its pinyin entry. [`FlowUi`], here, is the glue: it wires the adapter's callbacks to the
//! controller, runs the platform calls the controller hands it on worker threads, and carries
//! out the controller's requests (the goodbye screen, ending the visit).
//!
//! - Platform calls (identify with a face check or a code, confirm, polling a face check or a
//!   payment, the rating) never run on the UI thread: the flow is moved to a worker thread,
//!   which sends it back over a channel with the outcome and wakes the UI thread
//!   ([`super::wake`], `slint::invoke_from_event_loop`), so no HTTP call ever blocks the event
//!   loop. Device events arrive the same way: the runtime's sink sends them on a channel and
//!   wakes the UI thread. Nothing polls.
//! - Timing (polling the phone, the first appointment times, giving up) is the engine's
//!   ([`Flow::next_action`]); one single-shot Slint timer is set for the moment the engine
//!   gives, and the controller does what is due then.
//! - Leaving the flow screen (home, back, the idle timeout) and the language and elderly
//!   buttons reach the flow as [`KioskUi::on_change`] notifications.
//! - Tests on Slint's testing backend without an event loop advance a mock clock; there the
//!   wake-ups are replaced by a 100 ms timer on that clock ([`super::wake::register`]).
//! - Voice: after each showing of the visit, [`FlowUi::on_prompt`]'s hooks get the prompt of what
//!   is on screen (`super::voice` speaks it when it changed; nothing personal is in it).
//! - Personal data: the identity appears only masked, the typed ID number only masked, and
//!   ending the visit (goodbye, the idle timeout, back/home, any way of leaving the flow screen)
//!   calls [`Flow::end`] and empties every `FlowAdapter` property.
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use slint::ComponentHandle;
use zizhu_drivers::printer::Receipt;

use super::KioskUi;
use crate::catalog::Lang;
use crate::elicense::Verifier;
use crate::flow::{Flow, FlowError, Identity, Outbox, Step};
use crate::journal::Journal;
use crate::platform::Client;
use crate::runtime::DeviceEvent;
use crate::ui::{AppState, FlowAdapter, KioskWindow, Screen};
use zizhu_voice::Prompt;

mod controller;
mod keyboard;
mod presenter;

use super::staff::{StaffEvent, StaffSetup, StaffUi};
use controller::{Call, Controller, Done, Ports, Request, SLOT_DAYS};
pub use presenter::qr_image;

/// Prints a receipt (queues it on the printer worker); the error is a plain reason.
pub type PrintFn = Box<dyn Fn(&Receipt) -> Result<(), String>>;

/// The runtime's receipt printer as a [`PrintFn`] (raster mode), when it has one.
pub fn runtime_printer(rt: &Arc<crate::runtime::Runtime>) -> Option<PrintFn> {
    rt.printer.is_some().then(|| {
        let rt = rt.clone();
        Box::new(move |r: &Receipt| match &rt.printer {
            Some(p) => p
                .print(r, zizhu_drivers::printer::Mode::Raster)
                .map(|_| ())
                .map_err(|e| e.to_string()),
            None => Err("no printer".into()),
        }) as PrintFn
    })
}

/// What the flow screens need from the runtime.
pub struct FlowContext {
    /// The platform (flow backend, identity codes).
    pub client: Arc<Client>,
    /// The journal (outbox and transaction log); none only in tests that do not need it.
    pub journal: Option<Arc<Journal>>,
    /// The receipt printer, when there is one.
    pub printer: Option<PrintFn>,
    /// Device events from the runtime (cards, scans, printer). Whoever sends them wakes the UI
    /// thread after each ([`super::wake::ui_events`] does); without an event loop (tests on
    /// Slint's mock clock) a timer on that clock picks them up.
    pub events: Option<Receiver<DeviceEvent>>,
    /// This kiosk's id (printed on receipts).
    pub kiosk_id: String,
    /// The e-licence verifier for scanned `EL1:`/`ET1:` codes; without one every code goes to
    /// the platform.
    pub verifier: Option<Arc<Mutex<Verifier>>>,
    /// Simulation mode only: what the on-screen "simulated devices" buttons do.
    pub sim: Option<SimHooks>,
}

/// What the simulation buttons on the flow screens do (simulation mode only): they drive the
/// simulated devices, so the events reach the flow through the real drivers.
pub struct SimHooks {
    /// Place a sample card on the simulated reader (taking off one already there first).
    pub place_card: Box<dyn Fn()>,
    /// Show an identity code from the "phone" to the simulated scanner.
    pub show_code: Box<dyn Fn()>,
}

/// How long the goodbye screen stays before the attract screen.
const GOODBYE: Duration = Duration::from_secs(6);

/// The simulation buttons of the flow screens: they drive the in-process simulated reader and
/// scanner, so what follows goes through the real drivers and the real flow.
pub fn sim_hooks(rt: &Arc<crate::runtime::Runtime>) -> SimHooks {
    let card = rt.clone();
    let code = rt.clone();
    SimHooks {
        place_card: Box::new(move || {
            let rt = card.clone();
            let _ = std::thread::Builder::new()
                .name("sim-card".into())
                .spawn(move || {
                    if let Some(reader) = &rt.sims.idcard {
                        // Off the reader first, so the placement is a new one.
                        reader.remove();
                        std::thread::sleep(std::time::Duration::from_millis(700));
                        reader.place(0);
                    }
                });
        }),
        show_code: Box::new(move || {
            let rt = code.clone();
            let _ = std::thread::Builder::new()
                .name("sim-code".into())
                .spawn(move || {
                    let Some(card) = zizhu_drivers::idcard::card::samples().into_iter().next()
                    else {
                        return;
                    };
                    let req = crate::platform::api::DemoCodeRequest {
                        id_number: card.id_number.clone(),
                        licence: "identity".into(),
                        kind: crate::platform::api::DemoCodeKind::Presentation,
                        alg: None,
                    };
                    match rt.client.demo_code(&req) {
                        Ok(c) => {
                            if let Some(scanner) = &rt.sims.scanner {
                                scanner.scan(&c.payload);
                            }
                        }
                        Err(e) => tracing::warn!("simulated identity code: {e}"),
                    }
                });
        }),
    }
}

struct Inner {
    /// Itself, for the timers' callbacks.
    me: Weak<Inner>,
    weak: slint::Weak<KioskWindow>,
    client: Arc<Client>,
    journal: Option<Arc<Journal>>,
    events: Option<Receiver<DeviceEvent>>,
    sim: Option<SimHooks>,
    ctl: RefCell<Controller>,
    /// The catalog the screens show (a visit starts from it).
    view: super::CatalogView,
    qrs: RefCell<presenter::Qrs>,
    done_rx: Receiver<Done>,
    goodbye: slint::Timer,
    /// Set for the moment the engine said something is due.
    due: slint::Timer,
    /// Told what the screen says aloud after each showing of the visit (the voice).
    spoken: RefCell<Vec<PromptHook>>,
    /// The visit's helper (the session's, shared with the help overlay).
    staff: StaffUi,
    /// The e-licence verifier, whose trust list also holds the staff keys.
    verifier: Option<Arc<Mutex<Verifier>>>,
}

/// Told the prompt of what is on screen ([`FlowUi::on_prompt`]).
type PromptHook = Box<dyn Fn(&Prompt)>;

/// The flow screens wired to a [`KioskUi`]. Keep it alive as long as the window.
pub struct FlowUi {
    inner: Rc<Inner>,
    _wake: super::wake::Registration,
}

impl FlowUi {
    /// Wires the flow screens into `ui`: the detail screen's start button begins a visit, device
    /// events from `ctx.events` drive the identify and print steps.
    pub fn attach(ui: &KioskUi, ctx: FlowContext) -> FlowUi {
        let (done_tx, done_rx) = mpsc::channel();
        let (client, journal) = (ctx.client.clone(), ctx.journal.clone());
        let staff = ui.staff().clone();
        let verifier = ctx.verifier.clone();
        let helper = staff.clone();
        let ports = Ports {
            verifier: ctx.verifier,
            kiosk_id: ctx.kiosk_id,
            printer: ctx.printer,
            spawn: Box::new(move |call| spawn(call, &client, &journal, &done_tx)),
            helper: Box::new(move || helper.helper()),
        };
        let inner = Rc::new_cyclic(|me| Inner {
            me: me.clone(),
            weak: ui.window().as_weak(),
            client: ctx.client,
            journal: ctx.journal,
            events: ctx.events,
            sim: ctx.sim,
            ctl: RefCell::new(Controller::new(ports)),
            view: ui.catalog_view(),
            qrs: RefCell::new(presenter::Qrs::default()),
            done_rx,
            goodbye: slint::Timer::default(),
            due: slint::Timer::default(),
            spoken: RefCell::new(Vec::new()),
            staff,
            verifier,
        });
        presenter::clear(ui.window());
        ui.window()
            .global::<FlowAdapter>()
            .set_simulation(inner.sim.is_some());
        let i = inner.clone();
        ui.on_start(move |id| {
            if i.start(id) {
                i.update(|_| {});
            }
        });
        wire(ui.window(), &inner);
        let me = Rc::downgrade(&inner);
        ui.on_change(move || {
            if let Some(i) = me.upgrade() {
                i.context_changed();
            }
        });
        // The visit's helper signed in or out (here, from the help overlay, at the end): the
        // flow carries the helper from now on.
        let me = Rc::downgrade(&inner);
        inner.staff.on_event(move |ev| {
            if let (Some(i), StaffEvent::SignedIn | StaffEvent::SignedOut(_)) = (me.upgrade(), ev) {
                let helper = i.staff.helper();
                i.update(|c| c.helper_changed(helper));
            }
        });
        // Worker results and device events: run when a worker or the runtime wakes the UI.
        let me = Rc::downgrade(&inner);
        let wake = super::wake::register(Rc::new(move || {
            if let Some(i) = me.upgrade() {
                i.drain();
            }
        }));
        FlowUi { inner, _wake: wake }
    }

    /// Sets up staff sign-in (帮办员) at this kiosk: codes are checked against the trust list of
    /// the flow's e-licence verifier (keys with usage `staff`) for this site and kiosk id, and
    /// remembered in `journal`, which also keeps the audit trail. Without it a scanned staff code
    /// gets a plain "not set up" message. The helper is the visit's ([`KioskUi::staff`]).
    pub fn enable_staff(&self, journal: Arc<Journal>, site: &str, kiosk_id: &str) {
        self.inner.staff.enable(StaffSetup {
            journal,
            verifier: self.inner.verifier.clone(),
            binding: crate::staff::Binding {
                site: site.to_string(),
                kiosk_id: kiosk_id.to_string(),
            },
        });
    }

    /// The helper signed in for the visit (tests, the help panel).
    pub fn helper(&self) -> Option<crate::staff::Helper> {
        self.inner.staff.helper()
    }

    /// Starts a visit for service `id` (what the start button does).
    pub fn start(&self, id: &str) {
        if self.inner.start(id) {
            self.inner.update(|_| {});
        }
    }

    /// The engine step of the visit, if one is under way and not in a worker.
    pub fn step(&self) -> Option<Step> {
        self.inner.ctl.borrow().visit.step()
    }

    /// The link in the QR code on screen (face check or payment): what the citizen's phone
    /// opens. For tests and diagnostics.
    pub fn qr_link(&self) -> Option<String> {
        self.inner.qr_link()
    }

    /// Registers what happens each time the visit is shown, with the prompt of what is on
    /// screen (`Visit::prompt`: the step's, the receipt's, or `notice` for a message): the
    /// voice speaks it when it changed.
    pub fn on_prompt(&self, f: impl Fn(&Prompt) + 'static) {
        self.inner.spoken.borrow_mut().push(Box::new(f));
    }

    /// The prompt of what the visit shows now (none: no visit, or the flow is in a worker).
    pub fn prompt(&self) -> Option<Prompt> {
        self.inner.ctl.borrow().visit.prompt()
    }

    /// Whether a visit is under way.
    pub fn active(&self) -> bool {
        self.inner.ctl.borrow().visit.active
    }

    /// What a help request says of the visit (nothing personal): the step on screen (`flow`
    /// while a platform call holds it), the service, and the kind of the last error shown
    /// (`stuck` when the visit cannot go on, `step` for a message under the step).
    pub fn help_context(&self) -> Option<(&'static str, String, Option<&'static str>)> {
        let c = self.inner.ctl.borrow();
        let v = &c.visit;
        if !v.active {
            return None;
        }
        let step = v.flow.as_ref().map_or("flow", |f| step_name(f.step()));
        let service = v
            .flow
            .as_ref()
            .map(|f| f.service().id.clone())
            .unwrap_or_default();
        let error = if v.stuck {
            Some("stuck")
        } else if !v.error.is_empty() {
            Some("step")
        } else {
            None
        };
        Some((step, service, error))
    }
}

/// Runs a platform call on a worker thread; the answer goes back on `done`. False when no
/// thread could be started.
fn spawn(
    call: Call,
    client: &Arc<Client>,
    journal: &Option<Arc<Journal>>,
    done: &Sender<Done>,
) -> bool {
    let (client, journal, tx) = (client.clone(), journal.clone(), done.clone());
    let spawned = std::thread::Builder::new()
        .name("flow-call".into())
        .spawn(move || {
            let outbox = journal.as_deref().map(|j| j as &dyn Outbox);
            if tx.send(call.run(&client, outbox)).is_ok() {
                super::wake::wake();
            }
        });
    match spawned {
        Ok(_) => true,
        Err(e) => {
            tracing::error!("cannot start a worker thread: {e}");
            false
        }
    }
}

/// The flow steps `zizhu screenshot --screen` can show.
pub const PREVIEW_STEPS: [&str; 11] = [
    "identify",
    "face-check",
    "licences",
    "form",
    "commitment",
    "slot",
    "confirm",
    "payment",
    "result",
    "evaluate",
    "goodbye",
];

fn step_name(s: Step) -> &'static str {
    match s {
        Step::Identify => "identify",
        Step::FaceCheck => "face-check",
        Step::Licences => "licences",
        Step::Form => "form",
        Step::Commitment => "commitment",
        Step::Slot => "slot",
        Step::Confirm => "confirm",
        Step::Payment => "payment",
        Step::Result => "result",
        Step::Evaluate => "evaluate",
        Step::Done => "goodbye",
    }
}

impl FlowUi {
    /// Plays a visit of service `id` up to the step named `step` (see [`PREVIEW_STEPS`]) with
    /// the first sample ID card and the catalog's example values, calling the platform on this
    /// thread. For screenshots and demos only: a real visit never blocks the UI thread.
    pub fn preview(&self, id: &str, step: &str) -> Result<(), String> {
        if !PREVIEW_STEPS.contains(&step) {
            return Err(format!(
                "unknown flow step `{step}`; valid steps: {}",
                PREVIEW_STEPS.join(", ")
            ));
        }
        let inner = &self.inner;
        inner.start(id);
        {
            let mut guard = inner.ctl.borrow_mut();
            let s = &mut guard.visit;
            let Some(flow) = s.flow.as_mut() else {
                return Err(format!("unknown service `{id}`"));
            };
            let service = flow.service();
            let lang = flow.lang();
            let client = inner.client.clone();
            let journal = inner.journal.clone();
            while step_name(flow.step()) != step {
                let r = match flow.step() {
                    Step::Identify => {
                        let card = zizhu_drivers::idcard::card::samples().remove(0);
                        let id = if service.auth == crate::catalog::Auth::IdCardFace {
                            // As if the identity code were shown from the phone (face checked
                            // there), so face-check services reach their later steps too.
                            let p = client
                                .resolve_identity(&format!("YSS:{}", card.id_number))
                                .map_err(|e| FlowError::Backend(e.into()).message(service, lang))?;
                            Identity::from_code(p.id_masked, Some(p.name), Some(p.subject_token))
                        } else {
                            Identity::from_card(&card, chrono::Local::now().date_naive())
                                .map_err(|e| e.message(lang).to_string())?
                        };
                        flow.identify(id, &*client)
                    }
                    Step::Form => {
                        for (i, f) in service.fields.iter().enumerate() {
                            if let Some(v) = s.inputs.get_mut(i) {
                                *v = keyboard::example_input(f);
                            }
                            if let Err(e) = flow.set_field(&f.key, &f.example) {
                                return Err(e.message(service, lang));
                            }
                        }
                        flow.finish_form()
                    }
                    Step::Commitment => flow.commit(true),
                    Step::Licences => flow.attach_licences(true),
                    Step::Slot => flow.choose_first_free_slot(
                        &*client,
                        chrono::Local::now().date_naive(),
                        SLOT_DAYS,
                    ),
                    Step::Confirm => {
                        flow.confirm(&*client, journal.as_deref().map(|j| j as &dyn Outbox))
                    }
                    Step::Result => flow.done_with_result(),
                    Step::Evaluate => flow.evaluate(None, Vec::new(), &*client, None),
                    Step::FaceCheck | Step::Payment | Step::Done => {
                        return Err(format!(
                            "service `{id}` does not reach the {step} step without the citizen's phone; try another service"
                        ))
                    }
                };
                r.map_err(|e| e.message(service, lang))?;
            }
            if step == "slot" && flow.slot_day().is_none() {
                let today = chrono::Local::now().date_naive();
                if let Some(day) = Flow::slot_days(today, SLOT_DAYS).first() {
                    let day = day.format("%Y-%m-%d").to_string();
                    flow.load_slots(&*client, &day)
                        .map_err(|e| e.message(service, lang))?;
                }
            }
            if step == "form" {
                // Show the first field with its example typed.
                if let Some(f) = service.fields.first() {
                    if let Some(v) = s.inputs.first_mut() {
                        *v = keyboard::example_input(f);
                    }
                }
            }
            s.goodbye = step == "goodbye";
            if step == "result" {
                s.handoff_shown = true;
            }
        }
        inner.present();
        Ok(())
    }
}

/// Renders a flow step of service `id` to a PNG (what `zizhu screenshot --screen STEP --item
/// ID` does for the flow screens), against the demo platform started in this process.
pub fn render_flow_png(
    options: super::Options,
    id: &str,
    step: &str,
    path: &std::path::Path,
) -> Result<(), super::KioskError> {
    let err = |m: String| super::KioskError::Headless(m);
    let platform =
        crate::platform::demo::spawn(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), None)
            .map_err(|e| err(format!("demo platform: {e:#}")))?;
    let client = Client::new(crate::platform::ClientConfig::new(
        platform.url(),
        "screenshot",
        "SCREENSHOT",
    ))
    .map_err(|e| err(format!("platform client: {e}")))?;
    let mut kiosk = super::HeadlessKiosk::new(options)?;
    let flow = FlowUi::attach(
        kiosk.ui(),
        FlowContext {
            client: Arc::new(client),
            journal: None,
            printer: None,
            events: None,
            kiosk_id: "SCREENSHOT".into(),
            verifier: None,
            sim: None,
        },
    );
    flow.preview(id, step).map_err(err)?;
    kiosk.render();
    kiosk.write_png(path)
}

fn wire(w: &KioskWindow, inner: &Rc<Inner>) {
    let a = w.global::<FlowAdapter>();
    // Each press: the controller changes the visit, then the presenter shows it.
    let on = |f: fn(&mut Controller)| {
        let i = inner.clone();
        move || i.update(f)
    };
    a.on_start_typing(on(|c| c.typing(true)));
    a.on_stop_typing(on(|c| c.typing(false)));
    a.on_submit_typed(on(Controller::submit_typed));
    let i = inner.clone();
    a.on_key(move |k| i.update(|c| c.key(k.as_str())));
    a.on_backspace(on(Controller::backspace));
    a.on_clear(on(Controller::clear));
    let i = inner.clone();
    a.on_choose(move |v| i.update(|c| c.choose(v.to_string())));
    a.on_prev_field(on(Controller::prev_field));
    a.on_next_field(on(Controller::next_field));
    let i = inner.clone();
    a.on_commit(move |yes| i.update(|c| c.act(|f| f.commit(yes))));
    a.on_confirm(on(Controller::confirm));
    a.on_print(on(Controller::print));
    let i = inner.clone();
    a.on_show_handoff(move |show| i.update(|c| c.visit.handoff_shown = show));
    a.on_finish_result(on(Controller::finish_result));
    let i = inner.clone();
    a.on_rate(move |l| i.update(|c| c.rate(l)));
    let i = inner.clone();
    a.on_toggle_reason(move |r| i.update(|c| c.toggle_reason(r.to_string())));
    a.on_submit_rating(on(|c| c.submit_rating(false)));
    a.on_skip_rating(on(|c| c.submit_rating(true)));
    let i = inner.clone();
    a.on_end_visit(move || i.end_visit(true));
    let i = inner.clone();
    a.on_simulate(move |what| i.simulate(what.as_str()));
    let i = inner.clone();
    a.on_attach_licences(move |yes| i.update(|c| c.act(|f| f.attach_licences(yes))));
    a.on_back(on(Controller::back));
    let i = inner.clone();
    a.on_pick_day(move |d| i.update(|c| c.load_slots(d.to_string())));
    let i = inner.clone();
    a.on_pick_slot(move |id| i.update(|c| c.act(|f| f.choose_slot(id.as_str()))));
    let i = inner.clone();
    a.on_pick_candidate(move |ch| i.update(|c| c.pick_candidate(ch.to_string())));
    a.on_toggle_chinese(on(Controller::toggle_chinese));
    a.on_staff_verify(on(Controller::staff_verify));
    let i = inner.clone();
    a.on_rate_helper(move |l| i.update(|c| c.rate_helper(l)));
}

impl Inner {
    /// Starts a visit and shows the flow screen; false for an unknown service.
    fn start(&self, id: &str) -> bool {
        let Some(w) = self.weak.upgrade() else {
            return false;
        };
        let st = w.global::<AppState>();
        let lang = if st.get_english() { Lang::En } else { Lang::Zh };
        *self.qrs.borrow_mut() = presenter::Qrs::default();
        let catalog = self.view.borrow().catalog();
        if !self
            .ctl
            .borrow_mut()
            .start(catalog, id, lang, st.get_elderly())
        {
            return false;
        }
        st.invoke_navigate(Screen::Flow);
        self.present();
        true
    }

    /// Lets the controller change the visit, does what it asks of the window, and shows the
    /// visit.
    fn update(&self, f: impl FnOnce(&mut Controller)) {
        self.refresh(|c| {
            f(c);
            true
        });
    }

    /// As [`Inner::update`], showing the visit only when `f` says it changed something (or what
    /// was due did).
    fn refresh(&self, f: impl FnOnce(&mut Controller) -> bool) {
        let (changed, requests) = {
            let mut c = self.ctl.borrow_mut();
            let changed = f(&mut c);
            let now = Instant::now();
            let (acted, next) = c.due(now);
            match next {
                Some(at) => {
                    let me = self.me.clone();
                    self.due.start(
                        slint::TimerMode::SingleShot,
                        at.saturating_duration_since(now),
                        move || {
                            if let Some(i) = me.upgrade() {
                                i.on_due();
                            }
                        },
                    );
                }
                None => self.due.stop(),
            }
            (changed || acted, c.take_requests())
        };
        if !changed && requests.is_empty() {
            return;
        }
        for r in requests {
            match r {
                Request::EndVisit => return self.end_visit(true),
                Request::Goodbye => {
                    let weak = self.weak.clone();
                    self.goodbye
                        .start(slint::TimerMode::SingleShot, GOODBYE, move || {
                            if let Some(w) = weak.upgrade() {
                                w.global::<FlowAdapter>().invoke_end_visit();
                            }
                        });
                }
            }
        }
        self.present();
    }

    /// The moment the engine gave came.
    fn on_due(&self) {
        self.refresh(|_| false);
    }

    /// Shows the visit.
    fn present(&self) {
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        let prompt = {
            let mut c = self.ctl.borrow_mut();
            c.settle();
            let was_waiting = w.global::<FlowAdapter>().get_visitor_waiting();
            presenter::present(&w, &c.visit, &mut self.qrs.borrow_mut());
            if was_waiting || w.global::<FlowAdapter>().get_visitor_waiting() {
                // Waiting on the platform or the phone is not being idle.
                let st = w.global::<AppState>();
                st.set_idle_remaining(st.get_idle_timeout());
            }
            c.visit.prompt()
        };
        if let Some(p) = prompt {
            for f in self.spoken.borrow().iter() {
                f(&p);
            }
        }
    }

    fn qr_link(&self) -> Option<String> {
        self.qrs.borrow().phone.as_ref().map(|(u, _)| u.clone())
    }

    /// The session changed: leaving the flow screen (back, home, idle timeout) ends the visit;
    /// the language and elderly mode follow the header's buttons.
    fn context_changed(&self) {
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        let st = w.global::<AppState>();
        let leave = {
            let c = self.ctl.borrow();
            c.visit.active && !c.visit.goodbye && st.get_screen() != Screen::Flow
        };
        if leave {
            tracing::info!("visit ended (left the flow screen)");
            self.end_visit(false);
            return;
        }
        let lang = if st.get_english() { Lang::En } else { Lang::Zh };
        let elderly = st.get_elderly();
        self.refresh(|c| c.context(lang, elderly));
    }

    /// Worker results and device events that arrived.
    fn drain(&self) {
        while let Ok(done) = self.done_rx.try_recv() {
            // A language switched while the flow was in the worker applies now.
            let context = self.weak.upgrade().map(|w| {
                let st = w.global::<AppState>();
                let lang = if st.get_english() { Lang::En } else { Lang::Zh };
                (lang, st.get_elderly())
            });
            self.update(|c| {
                c.finish(done);
                if let Some((lang, elderly)) = context {
                    c.context(lang, elderly);
                }
            });
        }
        if let Some(rx) = &self.events {
            while let Ok(ev) = rx.try_recv() {
                match ev {
                    // A staff code under the scanner on any screen: the visit's helper signs in.
                    DeviceEvent::Scan(code)
                        if code.trim_start().starts_with(crate::staff::PREFIX) =>
                    {
                        self.staff.code(&code)
                    }
                    ev => self.update(|c| c.device(ev)),
                }
            }
        }
    }

    /// A simulation button: a device or the citizen's phone played (simulation mode only).
    fn simulate(&self, what: &str) {
        let Some(sim) = &self.sim else {
            return;
        };
        match what {
            "card" => (sim.place_card)(),
            "code" => (sim.show_code)(),
            "phone" => {
                let Some(url) = self.qr_link() else {
                    return;
                };
                // The phone opens the link the QR code carries; the poll then sees the result.
                let spawned =
                    std::thread::Builder::new()
                        .name("sim-phone".into())
                        .spawn(move || {
                            if let Err(e) = crate::platform::demo::open_link(&url) {
                                tracing::warn!("simulated phone: {e:#}");
                            }
                        });
                if let Err(e) = spawned {
                    tracing::warn!("simulated phone: {e}");
                }
            }
            other => tracing::debug!("unknown simulation action {other}"),
        }
    }

    /// Ends the visit: the flow wiped, the screens emptied; with `to_attract` the session ends
    /// too (the attract screen shows, and the session's helper signs out).
    fn end_visit(&self, to_attract: bool) {
        self.goodbye.stop();
        self.due.stop();
        self.ctl.borrow_mut().end();
        *self.qrs.borrow_mut() = presenter::Qrs::default();
        if let Some(w) = self.weak.upgrade() {
            presenter::clear(&w);
            if to_attract {
                w.global::<AppState>().invoke_session_ended();
            }
        }
    }
}
