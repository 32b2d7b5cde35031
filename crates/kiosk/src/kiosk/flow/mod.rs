//! The touchscreen side of doing a service: [`FlowUi`] drives one [`Flow`] (the engine in
//! `crate::flow`) from the visitor's presses and from device events (a card on the reader, a code
//! under the scanner, the printer), and fills the `FlowAdapter` global that the flow screens in
//! `ui/screens/flow/` show.
//!
//! - Platform calls (identify with a face check or a code, confirm, polling a face check or a
//!   payment, the rating) never run on the UI thread: the flow is moved to a worker thread,
//!   which sends it back over a channel with the outcome. A 100 ms Slint timer on the UI thread
//!   picks up those results and the device events, so no HTTP call ever blocks the event loop,
//!   and tests drive everything by advancing Slint's (mock) time.
//! - Personal data: the identity appears only masked, the typed ID number only masked, and
//!   ending the visit (goodbye, the idle timeout, back/home, any way of leaving the flow screen)
//!   calls [`Flow::end`] and empties every `FlowAdapter` property.
use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use slint::{
    ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, SharedString, VecModel,
};
use zeroize::Zeroize;
use zizhu_drivers::printer::Receipt;

use super::KioskUi;
use crate::catalog::{Catalog, Field, FieldKind, Lang};
use crate::elicense::Verifier;
use crate::flow::engine::REASONS;
use crate::flow::{Flow, FlowError, Identity, Outbox, Step};
use crate::journal::Journal;
use crate::platform::Client;
use crate::runtime::DeviceEvent;
mod keyboard;

use keyboard::{Entry, Press};

use crate::ui::{
    AppState, FlowAdapter, FlowChoice, FlowKeyRow, FlowLicence, FlowRow, FlowSlot, FlowSlotRow,
    FlowStep, FlowTableRow, KioskWindow, Screen,
};

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
    /// Device events from the runtime (cards, scans, printer).
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

/// How often the UI thread looks for worker results and device events.
const TICK: Duration = Duration::from_millis(100);
/// Ticks between two polls of a face check or payment.
const POLL_TICKS: u32 = 10;
/// Ticks after which the kiosk stops waiting for a face check or payment (5 minutes).
const POLL_LIMIT_TICKS: u32 = 3000;
/// How long the goodbye screen stays before the attract screen.
const GOODBYE: Duration = Duration::from_secs(6);
/// Working days offered for appointments.
const SLOT_DAYS: usize = 5;
/// Appointment times per row (elderly mode: fewer, larger).
const SLOT_COLUMNS: usize = 3;

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

/// What a worker did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Job {
    Identify,
    Slots,
    Poll,
    Confirm,
    Evaluate,
}

/// A worker's answer: the flow back, and the outcome (the error as a plain message, and whether
/// it was only the network, which a poll simply retries).
struct Done {
    visit: u64,
    job: Job,
    flow: Flow<'static>,
    outcome: Result<Step, (String, bool)>,
}

/// The state of the visit on the UI thread.
#[derive(Default)]
struct State {
    /// A visit is under way (the flow may be out in a worker).
    active: bool,
    /// Counts visits, so a worker's answer for an ended visit is recognised and wiped.
    visit: u64,
    /// The flow, when it is not in a worker.
    flow: Option<Flow<'static>>,
    /// A worker holds the flow for a call the visitor waits for (overlay shown).
    busy: bool,
    /// A poll is out.
    polling: bool,
    /// Ticks since the last poll, and since the poll wait started.
    poll_ticks: u32,
    poll_age: u32,
    lang: Lang,
    elderly: bool,
    error: String,
    stuck: bool,
    typing: bool,
    typed: String,
    field: usize,
    inputs: Vec<String>,
    paid: bool,
    /// The keyboard's page, pinyin entry and the pinyin typed so far.
    entry: Entry,
    print_state: &'static str,
    /// Why the receipt waits: "paper", "cover" or "offline".
    print_wait: &'static str,
    handoff_shown: bool,
    level: u8,
    reasons: BTreeSet<String>,
    goodbye: bool,
    qr: Option<(String, Image)>,
    handoff_qr: Option<(String, Image)>,
}

impl State {
    fn wipe(&mut self) {
        if let Some(f) = self.flow.take() {
            f.end();
        }
        self.typed.zeroize();
        self.entry.wipe();
        for v in self.inputs.iter_mut() {
            v.zeroize();
        }
        let visit = self.visit + 1;
        *self = State {
            visit,
            ..State::default()
        };
    }
}

struct Inner {
    weak: slint::Weak<KioskWindow>,
    client: Arc<Client>,
    journal: Option<Arc<Journal>>,
    printer: Option<PrintFn>,
    events: Option<Receiver<DeviceEvent>>,
    kiosk_id: String,
    verifier: Option<Arc<Mutex<Verifier>>>,
    sim: Option<SimHooks>,
    state: RefCell<State>,
    done_tx: Sender<Done>,
    done_rx: Receiver<Done>,
    goodbye: slint::Timer,
}

/// The flow screens wired to a [`KioskUi`]. Keep it alive as long as the window.
pub struct FlowUi {
    inner: Rc<Inner>,
    _tick: slint::Timer,
}

impl FlowUi {
    /// Wires the flow screens into `ui`: the detail screen's start button begins a visit, device
    /// events from `ctx.events` drive the identify and print steps.
    pub fn attach(ui: &KioskUi, ctx: FlowContext) -> FlowUi {
        let (done_tx, done_rx) = mpsc::channel();
        let inner = Rc::new(Inner {
            weak: ui.window().as_weak(),
            client: ctx.client,
            journal: ctx.journal,
            printer: ctx.printer,
            events: ctx.events,
            kiosk_id: ctx.kiosk_id,
            verifier: ctx.verifier,
            sim: ctx.sim,
            state: RefCell::new(State::default()),
            done_tx,
            done_rx,
            goodbye: slint::Timer::default(),
        });
        clear_adapter(ui.window());
        ui.window()
            .global::<FlowAdapter>()
            .set_simulation(inner.sim.is_some());
        let i = inner.clone();
        ui.on_start(move |id| i.start(id));
        wire(ui.window(), &inner);
        let tick = slint::Timer::default();
        let i = inner.clone();
        tick.start(slint::TimerMode::Repeated, TICK, move || i.tick());
        FlowUi { inner, _tick: tick }
    }

    /// Starts a visit for service `id` (what the start button does).
    pub fn start(&self, id: &str) {
        self.inner.start(id);
    }

    /// The engine step of the visit, if one is under way and not in a worker.
    pub fn step(&self) -> Option<Step> {
        self.inner.state.borrow().flow.as_ref().map(|f| f.step())
    }

    /// The link in the QR code on screen (face check or payment): what the citizen's phone
    /// opens. For tests and diagnostics.
    pub fn qr_link(&self) -> Option<String> {
        self.inner
            .state
            .borrow()
            .qr
            .as_ref()
            .map(|(u, _)| u.clone())
    }

    /// Whether a visit is under way.
    pub fn active(&self) -> bool {
        self.inner.state.borrow().active
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
        self.start(id);
        let inner = &self.inner;
        {
            let mut guard = inner.state.borrow_mut();
            let s = &mut *guard;
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
        inner.apply();
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
    let on = |f: fn(&Inner)| {
        let i = inner.clone();
        move || f(&i)
    };
    a.on_start_typing(on(|i| {
        i.change(|s| {
            s.typing = true;
            s.error.clear();
        })
    }));
    a.on_stop_typing(on(|i| {
        i.change(|s| {
            s.typing = false;
            s.typed.zeroize();
            s.typed.clear();
            s.error.clear();
        })
    }));
    a.on_submit_typed(on(Inner::submit_typed));
    let i = inner.clone();
    a.on_key(move |k| i.key(k.as_str()));
    a.on_backspace(on(|i| {
        let had_pinyin = {
            let mut s = i.state.borrow_mut();
            s.entry.pinyin.pop().is_some()
        };
        if had_pinyin {
            i.apply();
        } else {
            i.edit(|v| {
                v.pop();
            })
        }
    }));
    a.on_clear(on(|i| {
        i.state.borrow_mut().entry.pinyin.clear();
        i.edit(|v| v.clear())
    }));
    let i = inner.clone();
    a.on_choose(move |v| {
        let v = v.to_string();
        i.edit(move |x| *x = v)
    });
    a.on_prev_field(on(|i| {
        i.change(|s| {
            s.field = s.field.saturating_sub(1);
            s.entry.pinyin.clear();
            s.error.clear();
        })
    }));
    a.on_next_field(on(Inner::next_field));
    let i = inner.clone();
    a.on_commit(move |yes| i.act(|f| f.commit(yes)));
    a.on_confirm(on(|i| {
        i.run(Job::Confirm, |f, c, o| f.confirm(c, o));
    }));
    a.on_print(on(Inner::print));
    let i = inner.clone();
    a.on_show_handoff(move |show| i.change(|s| s.handoff_shown = show));
    a.on_finish_result(on(|i| {
        i.change(|s| {
            if let Some(f) = s.flow.as_mut() {
                if let Err(e) = f.done_with_result() {
                    tracing::warn!("result: {e}");
                }
            }
            s.error.clear();
        })
    }));
    let i = inner.clone();
    a.on_rate(move |l| {
        i.change(|s| {
            s.level = l.clamp(0, 5) as u8;
            if s.level > 2 {
                s.reasons.clear();
            }
        })
    });
    let i = inner.clone();
    a.on_toggle_reason(move |r| {
        i.change(|s| {
            let r = r.to_string();
            if !s.reasons.remove(&r) {
                s.reasons.insert(r);
            }
        })
    });
    a.on_submit_rating(on(|i| {
        let (level, reasons) = {
            let s = i.state.borrow();
            (s.level, s.reasons.iter().cloned().collect::<Vec<_>>())
        };
        let level = (level > 0).then_some(level);
        i.run(Job::Evaluate, move |f, c, o| {
            f.evaluate(level, reasons, c, o)
        });
    }));
    a.on_skip_rating(on(|i| {
        i.run(Job::Evaluate, |f, c, o| f.evaluate(None, Vec::new(), c, o));
    }));
    a.on_end_visit(on(|i| i.end_visit(true)));
    let i = inner.clone();
    a.on_simulate(move |what| i.simulate(what.as_str()));
    let i = inner.clone();
    a.on_attach_licences(move |yes| i.act(|f| f.attach_licences(yes)));
    a.on_back(on(|i| {
        i.change(|s| {
            if let Some(flow) = s.flow.as_mut() {
                match flow.back() {
                    Ok(Step::Form) => {
                        s.field = s.inputs.len().saturating_sub(1);
                        s.error.clear();
                    }
                    Ok(_) => s.error.clear(),
                    Err(e) => tracing::debug!("back: {e}"),
                }
            }
        })
    }));
    let i = inner.clone();
    a.on_pick_day(move |d| i.load_slots(d.to_string()));
    let i = inner.clone();
    a.on_pick_slot(move |id| i.act(|f| f.choose_slot(id.as_str())));
    let i = inner.clone();
    a.on_pick_candidate(move |c| {
        let c = c.to_string();
        i.change(|s| s.entry.pinyin.clear());
        i.edit(move |v| v.push_str(&c));
    });
    a.on_toggle_chinese(on(|i| {
        i.change(|s| {
            s.entry.chinese = !s.entry.chinese;
            s.entry.pinyin.clear();
        })
    }));
}

impl Inner {
    fn start(&self, id: &str) {
        let Some(service) = Catalog::builtin().service(id) else {
            tracing::warn!(service = %id, "start: unknown service");
            return;
        };
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        let st = w.global::<AppState>();
        let lang = if st.get_english() { Lang::En } else { Lang::Zh };
        {
            let mut s = self.state.borrow_mut();
            s.wipe();
            s.active = true;
            s.lang = lang;
            s.elderly = st.get_elderly();
            s.inputs = vec![String::new(); service.fields.len()];
            s.entry = Entry::new();
            s.flow = Some(Flow::new(service, lang));
        }
        tracing::info!(service = %id, "visit started");
        st.invoke_navigate(Screen::Flow);
        self.apply();
    }

    /// Changes the state, then shows it.
    fn change(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.state.borrow_mut());
        self.apply();
    }

    fn apply(&self) {
        if let Some(w) = self.weak.upgrade() {
            apply(&w, &mut self.state.borrow_mut());
        }
    }

    /// Moves the flow to a worker thread for a platform call; the answer comes back in `tick`.
    fn run(
        &self,
        job: Job,
        work: impl FnOnce(&mut Flow<'static>, &Client, Option<&dyn Outbox>) -> Result<Step, FlowError>
            + Send
            + 'static,
    ) {
        let (flow, visit) = {
            let mut s = self.state.borrow_mut();
            let Some(flow) = s.flow.take() else {
                return; // Already in a worker: a second press does nothing.
            };
            if job == Job::Poll {
                s.polling = true;
            } else {
                s.busy = true;
                s.error.clear();
            }
            (flow, s.visit)
        };
        self.apply();
        let (client, journal, tx) = (
            self.client.clone(),
            self.journal.clone(),
            self.done_tx.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name("flow-call".into())
            .spawn(move || {
                let mut flow = flow;
                let outbox = journal.as_deref().map(|j| j as &dyn Outbox);
                let outcome = work(&mut flow, &client, outbox).map_err(|e| {
                    let transient = matches!(&e, FlowError::Backend(b) if b.outcome_unknown());
                    (e.message(flow.service(), flow.lang()), transient)
                });
                let _ = tx.send(Done {
                    visit,
                    job,
                    flow,
                    outcome,
                });
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a worker thread: {e}");
            self.end_visit(true);
        }
    }

    fn tick(&self) {
        let Some(w) = self.weak.upgrade() else {
            return;
        };
        let st = w.global::<AppState>();
        // Leaving the flow screen (back, home, idle timeout) ends the visit.
        let leave = {
            let s = self.state.borrow();
            s.active && !s.goodbye && st.get_screen() != Screen::Flow
        };
        if leave {
            tracing::info!("visit ended (left the flow screen)");
            self.end_visit(false);
        }
        while let Ok(done) = self.done_rx.try_recv() {
            self.finish(done);
        }
        if let Some(rx) = &self.events {
            while let Ok(ev) = rx.try_recv() {
                self.device(ev);
            }
        }
        let mut dirty = false;
        let mut poll = false;
        {
            let mut s = self.state.borrow_mut();
            if !s.active {
                return;
            }
            let lang = if st.get_english() { Lang::En } else { Lang::Zh };
            if lang != s.lang && s.flow.is_some() {
                s.lang = lang;
                if let Some(f) = s.flow.as_mut() {
                    f.set_lang(lang);
                }
                s.error.clear();
                s.qr = None;
                dirty = true;
            }
            if st.get_elderly() != s.elderly {
                s.elderly = st.get_elderly();
                dirty = true;
            }
            let waiting = matches!(
                s.flow.as_ref().map(|f| f.step()),
                Some(Step::FaceCheck | Step::Payment)
            ) && !s.stuck;
            if waiting || s.polling {
                s.poll_age += 1;
                s.poll_ticks += 1;
                if s.poll_age > POLL_LIMIT_TICKS && waiting {
                    s.stuck = true;
                    s.error = s
                        .lang
                        .pick(
                            "等待时间过长，本次办理已停止。请重新办理，或到窗口办理。",
                            "This took too long and was stopped. Please start again, or go to a counter.",
                        )
                        .into();
                    dirty = true;
                } else if waiting && s.poll_ticks >= POLL_TICKS {
                    s.poll_ticks = 0;
                    poll = true;
                }
            }
            if s.busy || (waiting && s.poll_age <= POLL_LIMIT_TICKS) {
                // The visitor is waiting on the platform or their phone: not idle.
                st.set_idle_remaining(st.get_idle_timeout());
            }
        }
        if dirty {
            self.apply();
        }
        let load_slots = {
            let s = self.state.borrow();
            !s.busy
                && s.error.is_empty()
                && s.flow
                    .as_ref()
                    .is_some_and(|f| f.step() == Step::Slot && f.slot_day().is_none())
        };
        if load_slots {
            let today = chrono::Local::now().date_naive();
            if let Some(day) = Flow::slot_days(today, SLOT_DAYS).first() {
                self.load_slots(day.format("%Y-%m-%d").to_string());
            }
        }
        if poll {
            let step = self.state.borrow().flow.as_ref().map(|f| f.step());
            match step {
                Some(Step::FaceCheck) => self.run(Job::Poll, |f, c, _| f.poll_face_check(c)),
                Some(Step::Payment) => self.run(Job::Poll, |f, c, o| f.poll_payment(c, o)),
                _ => {}
            }
        }
    }

    fn finish(&self, done: Done) {
        let mut s = self.state.borrow_mut();
        if done.visit != s.visit || !s.active {
            done.flow.end();
            return;
        }
        let before = done.flow.step();
        s.flow = Some(done.flow);
        match done.job {
            Job::Poll => s.polling = false,
            _ => s.busy = false,
        }
        match done.outcome {
            Ok(step) => {
                if done.job != Job::Poll {
                    s.error.clear();
                }
                if step != Step::FaceCheck && step != Step::Payment {
                    s.poll_age = 0;
                    s.poll_ticks = 0;
                }
                if done.job == Job::Poll && step == Step::Result {
                    s.paid = true;
                }
                if step == Step::Done {
                    s.goodbye = true;
                }
                s.qr = None;
            }
            Err((_, true)) if done.job == Job::Poll => {} // Network blip: poll again.
            Err((message, _)) => {
                s.error = message;
                if done.job == Job::Poll || (done.job == Job::Identify && before == Step::FaceCheck)
                {
                    s.stuck = true;
                }
            }
        }
        let goodbye = s.goodbye;
        drop(s);
        self.apply();
        if goodbye {
            let weak = self.weak.clone();
            self.goodbye
                .start(slint::TimerMode::SingleShot, GOODBYE, move || {
                    if let Some(w) = weak.upgrade() {
                        w.global::<FlowAdapter>().invoke_end_visit();
                    }
                });
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
                let Some(url) = self.state.borrow().qr.as_ref().map(|(u, _)| u.clone()) else {
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

    /// Loads the appointment times of `day` on a worker.
    fn load_slots(&self, day: String) {
        self.run(Job::Slots, move |f, c, _| f.load_slots(c, &day));
    }

    fn device(&self, ev: DeviceEvent) {
        let step = {
            let s = self.state.borrow();
            if !s.active {
                return;
            }
            s.flow.as_ref().map(|f| f.step())
        };
        match ev {
            DeviceEvent::Card(read) if step == Some(Step::Identify) => {
                let today = chrono::Local::now().date_naive();
                match Identity::from_card(&read.card, today) {
                    Ok(id) => self.run(Job::Identify, move |f, c, _| f.identify(id, c)),
                    Err(e) => self.change(|s| s.error = e.message(s.lang).to_string()),
                }
            }
            DeviceEvent::CardFailed(reason) if step == Some(Step::Identify) => {
                tracing::info!("card read failed: {reason}");
                self.change(|s| {
                    s.error = s
                        .lang
                        .pick(
                            "读卡失败，请把身份证平放在感应区，稍候再试。",
                            "The card could not be read. Lay it flat on the reader and wait a moment.",
                        )
                        .into()
                });
            }
            DeviceEvent::Scan(code) if step == Some(Step::Identify) => {
                let verifier = self.verifier.clone();
                self.run(Job::Identify, move |f, c, _| {
                    let guard = verifier.as_ref().and_then(|v| v.lock().ok());
                    let checked = crate::flow::codes::identify(
                        &code,
                        guard.as_deref(),
                        c,
                        chrono::Utc::now(),
                    );
                    drop(guard);
                    match checked {
                        Ok((id, route)) => {
                            tracing::info!(?route, "identified by a scanned code");
                            f.identify(id, c)
                        }
                        Err(e) => {
                            tracing::info!(code = e.code(), "scanned code refused");
                            Err(e.into())
                        }
                    }
                });
            }
            DeviceEvent::PrintWaiting(kind, reason) => {
                tracing::info!("receipt waits for the printer: {reason}");
                use zizhu_drivers::health::DeviceErrorKind as K;
                self.change(|s| {
                    if !s.print_state.is_empty() {
                        s.print_state = "waiting";
                        s.print_wait = match kind {
                            K::PaperOut => "paper",
                            K::CoverOpen => "cover",
                            _ => "offline",
                        };
                        s.handoff_shown = true;
                    }
                });
            }
            DeviceEvent::Printed => self.change(|s| {
                if !s.print_state.is_empty() {
                    s.print_state = "printed";
                }
            }),
            _ => {}
        }
    }

    fn submit_typed(&self) {
        let id = {
            let mut s = self.state.borrow_mut();
            let r = Identity::typed(&s.typed);
            s.typed.zeroize();
            s.typed.clear();
            match r {
                Ok(id) => Some(id),
                Err(e) => {
                    s.error = e.message(s.lang).to_string();
                    None
                }
            }
        };
        match id {
            Some(id) => self.run(Job::Identify, move |f, c, _| f.identify(id, c)),
            None => self.apply(),
        }
    }

    fn key(&self, k: &str) {
        let k = match Press::of(k) {
            Press::Letters(letters) => return self.change(|s| s.entry.letters = letters),
            Press::Chinese(on) => {
                return self.change(|s| {
                    s.entry.chinese = on;
                    s.entry.pinyin.clear();
                })
            }
            Press::Char(k) => k,
        };
        let pinyin = {
            let s = self.state.borrow();
            s.entry.takes_pinyin(current_field(&s), &k)
        };
        if pinyin {
            self.change(|s| {
                s.entry.push_pinyin(&k);
                s.error.clear();
            });
            return;
        }
        let typing = {
            let s = self.state.borrow();
            s.typing && s.flow.as_ref().map(|f| f.step()) == Some(Step::Identify)
        };
        if typing {
            self.change(|s| {
                if s.typed.len() < keyboard::MAX_TYPED_ID {
                    s.typed.push_str(&k);
                }
                s.error.clear();
            });
            return;
        }
        self.edit(move |v| v.push_str(&k));
    }

    /// Edits the typed ID number or the current field's raw input, keeping it well-formed for
    /// its kind.
    fn edit(&self, f: impl FnOnce(&mut String)) {
        self.change(|s| {
            s.error.clear();
            let step = s.flow.as_ref().map(|f| f.step());
            if step == Some(Step::Identify) && s.typing {
                f(&mut s.typed);
                return;
            }
            let Some(field) = current_field(s) else {
                return;
            };
            let i = s.field;
            if let Some(v) = s.inputs.get_mut(i) {
                f(v);
                keyboard::tidy(field, v);
            }
        });
    }

    fn next_field(&self) {
        self.change(|s| {
            let Some(field) = current_field(s) else {
                return;
            };
            let value = keyboard::display_value(field, s.inputs.get(s.field).map_or("", |v| v));
            let (key, last) = (field.key.clone(), s.field + 1 >= s.inputs.len());
            let Some(flow) = s.flow.as_mut() else {
                return;
            };
            if !value.is_empty() || field.required {
                if let Err(e) = flow.set_field(&key, &value) {
                    s.error = e.message(flow.service(), s.lang);
                    return;
                }
            }
            s.entry.pinyin.clear();
            if !last {
                s.field += 1;
                s.error.clear();
                return;
            }
            match flow.finish_form() {
                Ok(_) => s.error.clear(),
                Err(e) => {
                    s.error = e.message(flow.service(), s.lang);
                    // Go to the first field that is missing.
                    if let FlowError::Fields(errs) = &e {
                        if let Some(pos) = errs.first().and_then(|(k, _)| {
                            flow.service().fields.iter().position(|f| &f.key == k)
                        }) {
                            s.field = pos;
                        }
                    }
                }
            }
        });
    }

    /// A step the visitor's press takes at once (no platform call): on refusal its plain message
    /// is shown and the flow stays where it is.
    fn act(&self, f: impl FnOnce(&mut Flow<'static>) -> Result<Step, FlowError>) {
        self.change(|s| {
            let lang = s.lang;
            if let Some(flow) = s.flow.as_mut() {
                match f(flow) {
                    Ok(_) => s.error.clear(),
                    Err(e) => s.error = e.message(flow.service(), lang),
                }
            }
        });
    }

    fn print(&self) {
        let receipt = {
            let s = self.state.borrow();
            let Some(flow) = s.flow.as_ref() else {
                return;
            };
            let now = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
            crate::flow::receipt::receipt(flow, &self.kiosk_id, &now)
        };
        let result = match &self.printer {
            Some(p) => p(&receipt),
            None => Err("no printer".to_string()),
        };
        self.change(|s| match result {
            Ok(()) => s.print_state = "printing",
            Err(e) => {
                tracing::warn!("receipt not printed: {e}");
                s.print_state = "unavailable";
                s.handoff_shown = true;
            }
        });
    }

    /// Ends the visit: the flow wiped, the screens emptied; with `to_attract` the session ends
    /// too (the attract screen shows).
    fn end_visit(&self, to_attract: bool) {
        self.goodbye.stop();
        self.state.borrow_mut().wipe();
        if let Some(w) = self.weak.upgrade() {
            clear_adapter(&w);
            if to_attract {
                w.global::<AppState>().invoke_session_ended();
            }
        }
    }
}

fn current_field(s: &State) -> Option<&'static Field> {
    let flow = s.flow.as_ref()?;
    let service: &'static crate::catalog::Service = flow.service();
    service.fields.get(s.field)
}

fn model<T: Clone + 'static>(v: Vec<T>) -> ModelRc<T> {
    ModelRc::new(VecModel::from(v))
}

/// Shows a keyboard's keys.
fn set_keys(a: &FlowAdapter<'_>, keys: keyboard::Keys) {
    a.set_key_columns(keys.columns);
    a.set_key_rows(model(
        keys.rows
            .iter()
            .map(|r| FlowKeyRow {
                keys: model(r.iter().map(|k| SharedString::from(*k)).collect()),
            })
            .collect(),
    ));
}

/// A QR code as a picture: black modules on white with a quiet zone, 8 pixels a module.
pub fn qr_image(text: &str) -> Option<Image> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    let n = code.width();
    let colors = code.to_colors();
    let (quiet, scale) = (4usize, 8usize);
    let side = (n + 2 * quiet) * scale;
    let mut buf = SharedPixelBuffer::<Rgb8Pixel>::new(side as u32, side as u32);
    let px = buf.make_mut_slice();
    for (y, row) in px.chunks_mut(side).enumerate() {
        for (x, p) in row.iter_mut().enumerate() {
            let (mx, my) = (
                (x / scale).wrapping_sub(quiet),
                (y / scale).wrapping_sub(quiet),
            );
            let dark = mx < n && my < n && colors[my * n + mx] == qrcode::Color::Dark;
            let v = if dark { 0 } else { 255 };
            *p = Rgb8Pixel::new(v, v, v);
        }
    }
    Some(Image::from_rgb8(buf))
}

fn cached_qr(slot: &mut Option<(String, Image)>, url: &str) -> Image {
    match slot {
        Some((u, img)) if u == url => img.clone(),
        _ => {
            let img = qr_image(url).unwrap_or_default();
            *slot = Some((url.to_string(), img.clone()));
            img
        }
    }
}

/// Empties every property that could hold something of the visitor.
fn clear_adapter(w: &KioskWindow) {
    let a = w.global::<FlowAdapter>();
    let empty = SharedString::new();
    a.set_step(FlowStep::Identify);
    a.set_service_name(empty.clone());
    a.set_busy(false);
    a.set_error(empty.clone());
    a.set_stuck(false);
    a.set_proxy(false);
    a.set_typing(false);
    a.set_typed_display(empty.clone());
    a.set_typed_count(0);
    a.set_qr(Image::default());
    a.set_field_index(0);
    a.set_field_count(0);
    a.set_field_label(empty.clone());
    a.set_field_example(empty.clone());
    a.set_field_value(empty.clone());
    a.set_field_hint(empty.clone());
    a.set_field_required(false);
    a.set_keyboard(empty.clone());
    a.set_key_rows(model(Vec::new()));
    a.set_choices(model(Vec::new()));
    a.set_who(empty.clone());
    a.set_summary(model(Vec::new()));
    a.set_amount(empty.clone());
    a.set_paid(false);
    a.set_result_title(empty.clone());
    a.set_reference(empty.clone());
    a.set_items(model(Vec::new()));
    a.set_columns(model(Vec::new()));
    a.set_rows(model(Vec::new()));
    a.set_next_steps(empty.clone());
    a.set_queued(false);
    a.set_local_reference(empty.clone());
    a.set_print_state(empty.clone());
    a.set_has_handoff(false);
    a.set_handoff_shown(false);
    a.set_handoff_qr(Image::default());
    a.set_level(0);
    a.set_reasons(model(Vec::new()));
}

/// Shows the state on the flow screens.
fn apply(w: &KioskWindow, s: &mut State) {
    let a = w.global::<FlowAdapter>();
    a.set_busy(s.busy);
    a.set_error(s.error.as_str().into());
    a.set_stuck(s.stuck);
    let lang = s.lang;
    let Some(flow) = s.flow.as_ref() else {
        return; // In a worker: the screen stays as it was (with the overlay).
    };
    let service = flow.service();
    let step = flow.step();
    a.set_service_name(service.name(lang).into());
    a.set_step(if s.goodbye {
        FlowStep::Goodbye
    } else {
        match step {
            Step::Identify => FlowStep::Identify,
            Step::FaceCheck => FlowStep::FaceCheck,
            Step::Licences => FlowStep::Licences,
            Step::Form => FlowStep::Form,
            Step::Commitment => FlowStep::Commitment,
            Step::Slot => FlowStep::Slot,
            Step::Confirm => FlowStep::Confirm,
            Step::Payment => FlowStep::Payment,
            Step::Result => FlowStep::Result,
            Step::Evaluate => FlowStep::Evaluate,
            Step::Done => FlowStep::Goodbye,
        }
    });
    a.set_can_back(flow.can_go_back());
    match step {
        Step::Licences => {
            a.set_licences(model(
                flow.offered_licences()
                    .iter()
                    .map(|l| FlowLicence {
                        name: lang.pick(&l.name_zh, &l.name_en).into(),
                        identifier: l.identifier_display().into(),
                        valid_to: l.valid_to.clone().unwrap_or_default().into(),
                    })
                    .collect(),
            ));
            let catalog = Catalog::builtin();
            let missing: Vec<String> = if flow.licences_unavailable() {
                Vec::new()
            } else {
                flow.missing_licences()
                    .iter()
                    .map(|t| {
                        catalog
                            .licence(t)
                            .map(|l| l.name(lang).to_string())
                            .unwrap_or_else(|| t.to_string())
                    })
                    .collect()
            };
            a.set_missing_licences(missing.join(lang.pick("、", ", ")).into());
            a.set_licences_unavailable(flow.licences_unavailable());
        }
        Step::Slot => {
            let today = chrono::Local::now().date_naive();
            let loaded = flow.slot_day().unwrap_or("");
            a.set_slot_days(model(
                Flow::slot_days(today, SLOT_DAYS)
                    .into_iter()
                    .map(|d| {
                        let value = d.format("%Y-%m-%d").to_string();
                        FlowChoice {
                            selected: value == loaded,
                            label: day_label(d, lang).into(),
                            value: value.into(),
                        }
                    })
                    .collect(),
            ));
            let chosen = flow.chosen_slot().map(|c| c.slot_id.clone());
            let cells: Vec<FlowSlot> = flow
                .slots()
                .iter()
                .map(|x| FlowSlot {
                    id: x.slot_id.as_str().into(),
                    label: x.start.rsplit('T').next().unwrap_or(&x.start).into(),
                    available: x.available,
                    selected: chosen.as_deref() == Some(x.slot_id.as_str()),
                })
                .collect();
            let cols = if s.elderly { 2 } else { SLOT_COLUMNS };
            a.set_slot_rows(model(
                cells
                    .chunks(cols)
                    .map(|c| FlowSlotRow {
                        cells: model(c.to_vec()),
                    })
                    .collect(),
            ));
        }
        Step::Identify => {
            a.set_proxy(service.proxy);
            a.set_typing(s.typing);
            a.set_typed_display(keyboard::mask_typed(&s.typed).into());
            a.set_typed_count(s.typed.chars().count() as i32);
            set_keys(&a, keyboard::id_keys());
        }
        Step::FaceCheck => {
            let url = flow.face_check_url().unwrap_or_default().to_string();
            a.set_qr(cached_qr(&mut s.qr, &url));
        }
        Step::Form => {
            let field = service.fields.get(s.field);
            a.set_field_index(s.field as i32 + 1);
            a.set_field_count(service.fields.len() as i32);
            if let Some(f) = field {
                let raw = s.inputs.get(s.field).map_or("", |v| v.as_str());
                a.set_field_label(f.label(lang).into());
                a.set_field_example(f.example.as_str().into());
                a.set_field_required(f.required);
                a.set_field_value(keyboard::display_value(f, raw).into());
                a.set_field_hint(field_hint(f, lang).into());
                if f.kind == FieldKind::Select {
                    a.set_keyboard("select".into());
                    a.set_choices(model(
                        f.options
                            .iter()
                            .map(|o| FlowChoice {
                                value: o.value.as_str().into(),
                                label: lang.pick(&o.zh, &o.en).into(),
                                selected: o.value == raw,
                            })
                            .collect(),
                    ));
                } else {
                    a.set_keyboard("keys".into());
                    s.entry.show_field(s.field, f);
                    let chinese = f.kind == FieldKind::Text && s.entry.chinese;
                    a.set_chinese(chinese);
                    a.set_pinyin(s.entry.pinyin.as_str().into());
                    a.set_candidates(model(if chinese {
                        s.entry
                            .candidates(s.elderly)
                            .into_iter()
                            .map(|c| SharedString::from(c.to_string()))
                            .collect()
                    } else {
                        Vec::new()
                    }));
                    set_keys(&a, keyboard::field_keys(f, s.elderly, &s.entry));
                }
            }
        }
        Step::Confirm | Step::Commitment => {
            a.set_clauses(model(
                service
                    .commitment_clauses(lang)
                    .iter()
                    .map(|c| SharedString::from(c.as_str()))
                    .collect(),
            ));
            let who = flow.identity().map(|i| {
                let name = i.masked_name().unwrap_or_default();
                let proxy = if i.source == crate::flow::Source::Typed {
                    lang.pick("（代他人办理）", " (for someone else)")
                } else {
                    ""
                };
                format!("{name} {}{proxy}", i.masked()).trim().to_string()
            });
            a.set_who(who.unwrap_or_default().into());
            let rows = service
                .fields
                .iter()
                .filter_map(|f| {
                    let v = flow.values().get(&f.key)?;
                    let shown = match f.kind {
                        FieldKind::Select => f
                            .options
                            .iter()
                            .find(|o| &o.value == v)
                            .map(|o| lang.pick(&o.zh, &o.en).to_string())
                            .unwrap_or_else(|| v.clone()),
                        _ => v.clone(),
                    };
                    Some(FlowRow {
                        label: f.label(lang).into(),
                        value: shown.into(),
                    })
                })
                .collect::<Vec<_>>();
            let mut rows = rows;
            if let Some(slot) = flow.chosen_slot() {
                rows.push(FlowRow {
                    label: lang.pick("预约时间", "Appointment").into(),
                    value: slot.start.replace('T', " ").into(),
                });
            }
            let attached: Vec<String> = flow
                .offered_licences()
                .iter()
                .filter(|l| flow.attached_licences().contains(&l.reference))
                .map(|l| {
                    format!(
                        "{} {}",
                        lang.pick(&l.name_zh, &l.name_en),
                        l.identifier_display()
                    )
                })
                .collect();
            if !attached.is_empty() {
                rows.push(FlowRow {
                    label: lang.pick("电子证照", "E-licences").into(),
                    value: attached.join("\n").into(),
                });
            }
            a.set_summary(model(rows));
        }
        Step::Payment => {
            if let Some(p) = flow.reply().and_then(|r| r.pay.as_ref()) {
                a.set_amount(p.amount.as_str().into());
                a.set_qr(cached_qr(&mut s.qr, &p.pay_url));
            }
        }
        Step::Result => {
            a.set_paid(s.paid);
            a.set_queued(flow.queued());
            a.set_local_reference(if flow.queued() {
                flow.local_reference().into()
            } else {
                SharedString::new()
            });
            let reply = flow.reply();
            a.set_result_title(
                reply
                    .map(|r| lang.pick(&r.title_zh, &r.title_en).to_string())
                    .unwrap_or_default()
                    .into(),
            );
            // The reference on its own line, unless the items already show it.
            let reference = reply
                .filter(|r| !r.items.iter().any(|i| i.value == r.reference))
                .map(|r| r.reference.as_str());
            a.set_reference(reference.unwrap_or("").into());
            a.set_items(model(
                reply
                    .map(|r| {
                        r.items
                            .iter()
                            .map(|i| FlowRow {
                                label: lang.pick(&i.label_zh, &i.label_en).into(),
                                value: i.value.as_str().into(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ));
            let table = reply.and_then(|r| r.table.as_ref());
            a.set_columns(model(
                table
                    .map(|t| {
                        t.columns
                            .iter()
                            .map(|(zh, en)| SharedString::from(lang.pick(zh, en)))
                            .collect()
                    })
                    .unwrap_or_default(),
            ));
            a.set_rows(model(
                table
                    .map(|t| {
                        t.rows
                            .iter()
                            .map(|r| FlowTableRow {
                                cells: model(r.iter().map(|c| c.as_str().into()).collect()),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            ));
            let next = reply.and_then(|r| match lang {
                Lang::Zh => r.next_steps_zh.as_deref(),
                Lang::En => r.next_steps_en.as_deref(),
            });
            a.set_next_steps(next.unwrap_or("").into());
            a.set_print_state(s.print_state.into());
            a.set_print_wait(s.print_wait.into());
            let handoff = reply.and_then(|r| r.handoff_url.clone());
            a.set_has_handoff(handoff.is_some());
            a.set_handoff_shown(s.handoff_shown && handoff.is_some());
            if let Some(u) = handoff {
                a.set_handoff_qr(cached_qr(&mut s.handoff_qr, &u));
            }
        }
        Step::Evaluate => {
            a.set_level(s.level as i32);
            a.set_reasons(model(
                REASONS
                    .iter()
                    .map(|(code, zh, en)| FlowChoice {
                        value: (*code).into(),
                        label: lang.pick(zh, en).into(),
                        selected: s.reasons.contains(*code),
                    })
                    .collect(),
            ));
        }
        Step::Done => {}
    }
}

/// How to type a field, in words.
/// A working day as a tab says it, on two lines: `11/30` `周一` / `Mon` `30/11`.
fn day_label(d: chrono::NaiveDate, lang: Lang) -> String {
    use chrono::Datelike;
    const ZH: [&str; 7] = ["周一", "周二", "周三", "周四", "周五", "周六", "周日"];
    match lang {
        Lang::Zh => format!(
            "{}/{}\n{}",
            d.month(),
            d.day(),
            ZH[d.weekday().num_days_from_monday() as usize]
        ),
        Lang::En => d.format("%a\n%-d/%-m").to_string(),
    }
}

fn field_hint(f: &Field, lang: Lang) -> String {
    match f.kind {
        FieldKind::MonthRange => lang
            .pick(
                "输入 12 位数字：起始年月和结束年月，如 202501202512",
                "Type 12 digits: the first and last month, e.g. 202501202512",
            )
            .into(),
        FieldKind::Date => lang
            .pick(
                "输入 8 位数字：年月日，如 20250101",
                "Type 8 digits: year, month, day, e.g. 20250101",
            )
            .into(),
        FieldKind::Phone => lang
            .pick("11 位手机号码", "An 11-digit mobile number")
            .into(),
        FieldKind::Amount => lang.pick("金额（元）", "Amount in yuan").into(),
        FieldKind::Select => lang.pick("请选择一项", "Choose one").into(),
        FieldKind::Digits | FieldKind::Text => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_codes_render() {
        let img = qr_image("http://127.0.0.1/pay/1").expect("qr");
        assert!(img.size().width > 100);
    }
}
