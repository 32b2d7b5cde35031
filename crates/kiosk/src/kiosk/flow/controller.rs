//! The flow screens' controller (Slint's todo-mvc pattern): one visit's state ([`Visit`]) and
//! everything the visitor's presses, the devices and the platform's answers do to it. No Slint
//! types here: the presenter (`super::presenter`) shows a [`Visit`] on the `FlowAdapter`, and the
//! glue in `super` wires the callbacks, runs the platform calls this controller hands it on
//! worker threads ([`Call`]) and carries out its [`Request`]s (end the visit, the goodbye
//! screen). Personal data: the typed ID number and the form inputs are zeroized when the visit
//! ends, and [`Flow::end`] wipes the engine's copy.
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use zeroize::Zeroize;
use zizhu_drivers::health::DeviceErrorKind;
use zizhu_drivers::printer::Receipt;
use zizhu_voice::{prompt_for, Prompt};

use super::keyboard::{self, Entry, Press};
use crate::catalog::{Catalog, Field, Lang};
use crate::elicense::Verifier;
use crate::flow::engine::Action;
use crate::flow::{Flow, FlowError, Identity, Outbox, Step};
use crate::platform::Client;
use crate::runtime::DeviceEvent;
use crate::staff::{self, Helper};
use crate::text::Text;

/// Working days offered for appointments.
pub(super) const SLOT_DAYS: usize = 5;

/// What a worker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Job {
    Identify,
    Slots,
    Poll,
    Confirm,
    Evaluate,
    /// The helper's check of the person against the card (人工核验).
    StaffCheck,
}

/// A platform call for a worker thread: the flow moves there and comes back in a [`Done`].
pub(super) type Work = Box<
    dyn FnOnce(&mut Flow<'static>, &Client, Option<&dyn Outbox>) -> Result<Step, FlowError> + Send,
>;

/// A call to run off the UI thread.
pub(super) struct Call {
    pub visit: u64,
    pub job: Job,
    pub flow: Flow<'static>,
    pub work: Work,
}

/// A worker's answer: the flow back, and the outcome (the error as a plain message, and whether
/// it was only the network, which a poll simply retries).
pub(super) struct Done {
    pub visit: u64,
    pub job: Job,
    pub flow: Flow<'static>,
    pub outcome: Result<Step, (String, bool)>,
}

impl Call {
    /// Runs the call (on a worker thread) and says how it went.
    pub fn run(self, client: &Client, outbox: Option<&dyn Outbox>) -> Done {
        let Call {
            visit,
            job,
            mut flow,
            work,
        } = self;
        let outcome = work(&mut flow, client, outbox).map_err(|e| {
            let transient = matches!(&e, FlowError::Backend(b) if b.outcome_unknown());
            (e.message(flow.service(), flow.lang()), transient)
        });
        Done {
            visit,
            job,
            flow,
            outcome,
        }
    }
}

/// Why a receipt waits for the printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PrintWait {
    Paper,
    Cover,
    Offline,
}

/// Where the receipt is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Print {
    /// Not asked for.
    #[default]
    None,
    /// Queued on the printer.
    Printing,
    /// Waiting for the printer (paper, cover, offline); it prints when the printer is back.
    Waiting(PrintWait),
    /// Printed.
    Printed,
    /// No printer, or it refused the job: the hand-off QR is offered instead.
    Unavailable,
}

/// What the glue must do for the controller (it touches the window).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Request {
    /// Show the goodbye screen, then end the visit.
    Goodbye,
    /// End the visit and the session (the attract screen shows).
    EndVisit,
}

/// The state of the visit on the UI thread.
#[derive(Default)]
pub(super) struct Visit {
    /// A visit is under way (the flow may be out in a worker).
    pub active: bool,
    /// Counts visits, so a worker's answer for an ended visit is recognised and wiped.
    pub visit: u64,
    /// The flow, when it is not in a worker.
    pub flow: Option<Flow<'static>>,
    /// The catalog the visit's service comes from (the one the screens showed when it
    /// started; a newer catalog takes effect only between visits).
    pub catalog: Option<&'static Catalog>,
    /// A worker holds the flow for a call the visitor waits for (overlay shown).
    pub busy: bool,
    /// A poll is out.
    pub polling: bool,
    pub lang: Lang,
    pub elderly: bool,
    /// The plain message shown under the step (empty: none).
    pub error: String,
    /// The visit cannot go on (a refused face check, a payment not completed, waited too long).
    pub stuck: bool,
    /// The ID-number pad is open (代他人办理) and what was typed on it.
    pub typing: bool,
    pub typed: String,
    /// The form field shown, and every field's raw input.
    pub field: usize,
    pub inputs: Vec<String>,
    /// The payment went through while the QR was shown.
    pub paid: bool,
    /// The keyboard's page, pinyin entry and the pinyin typed so far.
    pub entry: Entry,
    pub print: Print,
    pub handoff_shown: bool,
    /// The rating given and the reasons ticked.
    pub level: u8,
    pub reasons: BTreeSet<String>,
    pub goodbye: bool,
    /// The citizen's rating of the helper (0: none).
    pub helper_level: u8,
}

impl Visit {
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
        *self = Visit {
            visit,
            ..Visit::default()
        };
    }

    /// The engine step, when the flow is here (not in a worker).
    pub fn step(&self) -> Option<Step> {
        self.flow.as_ref().map(|f| f.step())
    }

    /// The form field shown.
    pub fn current_field(&self) -> Option<&'static Field> {
        let service: &'static crate::catalog::Service = self.flow.as_ref()?.service();
        service.fields.get(self.field)
    }

    /// What the screen says aloud now (`zizhu_voice::prompt_for` for the step, from public data
    /// only): nothing while no visit is under way or the flow is out in a worker (the screen
    /// stays as it was); the receipt's progress on the result; `notice` ("read the message on
    /// the screen") for an error, whose text may carry details and is never spoken.
    pub fn prompt(&self) -> Option<Prompt> {
        if !self.active {
            return None;
        }
        if self.goodbye {
            return Some(Prompt::Goodbye);
        }
        let flow = self.flow.as_ref()?;
        if flow.can_staff_verify() {
            // A helper is here for the face check (also one the phone refused): the way on.
            return Some(Prompt::StaffCheck);
        }
        if self.stuck || !self.error.is_empty() {
            return Some(Prompt::Notice);
        }
        let step = flow.step();
        if step == Step::Result {
            match self.print {
                Print::None => {}
                Print::Printing => return Some(Prompt::Printing),
                Print::Printed => return Some(Prompt::TakeReceipt),
                Print::Unavailable => return Some(Prompt::PrinterUnavailable),
                Print::Waiting(_) => return Some(Prompt::Notice),
            }
        }
        Some(prompt_for(step, flow))
    }

    /// The face check or the payment is shown and polled.
    pub fn waiting_on_phone(&self) -> bool {
        matches!(self.step(), Some(Step::FaceCheck | Step::Payment)) && !self.stuck
    }
}

/// What the controller needs from the runtime.
pub(super) struct Ports {
    pub verifier: Option<Arc<Mutex<Verifier>>>,
    pub kiosk_id: String,
    /// Queues a receipt on the printer; the error is a plain reason.
    pub printer: Option<super::PrintFn>,
    /// Runs a call on a worker thread; false when no thread could be started.
    pub spawn: Box<dyn Fn(Call) -> bool>,
    /// The helper signed in for the visit (帮办员; `super::super::StaffUi` owns it): each flow
    /// of the visit carries it.
    pub helper: Box<dyn Fn() -> Option<Helper>>,
}

/// One visit's controller.
pub(super) struct Controller {
    pub visit: Visit,
    ports: Ports,
    requests: Vec<Request>,
}

impl Controller {
    pub fn new(ports: Ports) -> Controller {
        Controller {
            visit: Visit::default(),
            ports,
            requests: Vec::new(),
        }
    }

    /// Before the visit is shown: a text field seen for the first time picks its entry mode.
    pub fn settle(&mut self) {
        let s = &mut self.visit;
        if s.step() == Some(Step::Form) {
            if let Some(f) = s.current_field() {
                s.entry.show_field(s.field, f);
            }
        }
    }

    /// What the glue must do now (taken).
    pub fn take_requests(&mut self) -> Vec<Request> {
        std::mem::take(&mut self.requests)
    }

    /// Starts a visit for service `id` of `catalog`; false for a service it does not have.
    pub fn start(
        &mut self,
        catalog: &'static Catalog,
        id: &str,
        lang: Lang,
        elderly: bool,
    ) -> bool {
        let Some(service) = catalog.service(id) else {
            tracing::warn!(service = %id, "start: unknown service");
            return false;
        };
        let helper = (self.ports.helper)();
        let s = &mut self.visit;
        s.wipe();
        s.catalog = Some(catalog);
        s.active = true;
        s.lang = lang;
        s.elderly = elderly;
        s.inputs = vec![String::new(); service.fields.len()];
        s.entry = Entry::new();
        let mut flow = Flow::new(service, lang);
        // An assisted visit: the next service's flow carries the helper too.
        flow.set_helper(helper);
        s.flow = Some(flow);
        tracing::info!(service = %id, "visit started");
        true
    }

    /// Ends the visit: the flow and everything typed wiped (the helper belongs to the session
    /// and signs out when it ends).
    pub fn end(&mut self) {
        self.visit.wipe();
    }

    /// The visit's helper signed in (`Some`) or out: the flow carries it from now on.
    pub fn helper_changed(&mut self, helper: Option<Helper>) {
        let s = &mut self.visit;
        if helper.is_none() {
            s.helper_level = 0;
        }
        if let Some(f) = s.flow.as_mut() {
            f.set_helper(helper);
        }
    }

    /// 人工核验: the helper confirms the person against the card, instead of the face check.
    pub fn staff_verify(&mut self) {
        self.run(Job::StaffCheck, Box::new(|f, c, o| f.staff_verify(c, o)));
    }

    /// The helper's rating pressed.
    pub fn rate_helper(&mut self, level: i32) {
        self.visit.helper_level = level.clamp(0, 5) as u8;
    }

    /// The visitor's language or mode as the header's buttons set them; true when that changed
    /// the visit.
    pub fn context(&mut self, lang: Lang, elderly: bool) -> bool {
        let s = &mut self.visit;
        if !s.active {
            return false;
        }
        let mut changed = false;
        if lang != s.lang && s.flow.is_some() {
            s.lang = lang;
            if let Some(f) = s.flow.as_mut() {
                f.set_lang(lang);
            }
            s.error.clear();
            changed = true;
        }
        if elderly != s.elderly {
            s.elderly = elderly;
            changed = true;
        }
        changed
    }

    /// Does what the engine says is due at `now` (a poll, the first day's appointment times,
    /// giving up on the phone): whether it did something, and when to ask again (none: after
    /// the next change).
    pub fn due(&mut self, now: Instant) -> (bool, Option<Instant>) {
        let s = &self.visit;
        if !s.active || s.stuck {
            return (false, None);
        }
        let Some(flow) = s.flow.as_ref() else {
            return (false, None); // In a worker: asked again when it is back.
        };
        match flow.next_action(now) {
            Action::WaitUntil(at) => (false, Some(at)),
            Action::PollFaceCheck => {
                self.run(Job::Poll, Box::new(|f, c, _| f.poll_face_check(c)));
                (true, None)
            }
            Action::PollPayment => {
                self.run(Job::Poll, Box::new(|f, c, o| f.poll_payment(c, o)));
                (true, None)
            }
            Action::LoadSlots(day) => {
                if s.busy || !s.error.is_empty() {
                    return (false, None);
                }
                self.load_slots(day);
                (true, None)
            }
            Action::GiveUp => {
                let s = &mut self.visit;
                s.stuck = true;
                s.error = Text::WaitedTooLong.get(s.lang).into();
                (true, None)
            }
            Action::Idle => (false, None),
        }
    }

    /// Moves the flow to a worker for a platform call; the answer comes back in [`finish`].
    ///
    /// [`finish`]: Controller::finish
    pub fn run(&mut self, job: Job, work: Work) {
        let s = &mut self.visit;
        let Some(flow) = s.flow.take() else {
            return; // Already in a worker: a second press does nothing.
        };
        if job == Job::Poll {
            s.polling = true;
        } else {
            s.busy = true;
            s.error.clear();
        }
        let call = Call {
            visit: s.visit,
            job,
            flow,
            work,
        };
        if !(self.ports.spawn)(call) {
            self.requests.push(Request::EndVisit);
        }
    }

    /// A worker's answer.
    pub fn finish(&mut self, done: Done) {
        let s = &mut self.visit;
        if done.visit != s.visit || !s.active {
            done.flow.end();
            return;
        }
        let before = done.flow.step();
        let mut flow = done.flow;
        // A helper who signed in or out while the flow was in the worker.
        flow.set_helper((self.ports.helper)());
        let s = &mut self.visit;
        s.flow = Some(flow);
        match done.job {
            Job::Poll => s.polling = false,
            _ => s.busy = false,
        }
        match done.outcome {
            Ok(step) => {
                if done.job != Job::Poll {
                    s.error.clear();
                }
                if done.job == Job::StaffCheck {
                    // The helper's check took the visit past a refused or abandoned phone check.
                    s.stuck = false;
                }
                if done.job == Job::Poll && step == Step::Result {
                    s.paid = true;
                }
                if step == Step::Done {
                    s.goodbye = true;
                }
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
        if s.goodbye {
            self.requests.push(Request::Goodbye);
        }
    }

    /// Loads the appointment times of `day` on a worker.
    pub fn load_slots(&mut self, day: String) {
        self.run(Job::Slots, Box::new(move |f, c, _| f.load_slots(c, &day)));
    }

    /// A device event (a card, a code, the printer).
    pub fn device(&mut self, ev: DeviceEvent) {
        if !self.visit.active {
            return;
        }
        let step = self.visit.step();
        match ev {
            // A staff code is the visit's (`super::super::StaffUi`), never an identity.
            DeviceEvent::Scan(code) if code.trim_start().starts_with(staff::PREFIX) => {}
            DeviceEvent::Card(read) if step == Some(Step::Identify) => {
                let today = chrono::Local::now().date_naive();
                match Identity::from_card(&read.card, today) {
                    Ok(id) => self.run(Job::Identify, Box::new(move |f, c, _| f.identify(id, c))),
                    Err(e) => self.visit.error = e.message(self.visit.lang).to_string(),
                }
            }
            DeviceEvent::CardFailed(reason) if step == Some(Step::Identify) => {
                tracing::info!("card read failed: {reason}");
                self.visit.error = Text::CardUnreadable.get(self.visit.lang).into();
            }
            DeviceEvent::Scan(code) if step == Some(Step::Identify) => {
                let verifier = self.ports.verifier.clone();
                self.run(
                    Job::Identify,
                    Box::new(move |f, c, _| {
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
                    }),
                );
            }
            DeviceEvent::PrintWaiting(kind, reason) => {
                tracing::info!("receipt waits for the printer: {reason}");
                let s = &mut self.visit;
                if s.print != Print::None {
                    s.print = Print::Waiting(match kind {
                        DeviceErrorKind::PaperOut => PrintWait::Paper,
                        DeviceErrorKind::CoverOpen => PrintWait::Cover,
                        _ => PrintWait::Offline,
                    });
                    s.handoff_shown = true;
                }
            }
            DeviceEvent::Printed if self.visit.print != Print::None => {
                self.visit.print = Print::Printed;
            }
            _ => {}
        }
    }

    /// The ID-number pad opened or closed.
    pub fn typing(&mut self, on: bool) {
        let s = &mut self.visit;
        s.typing = on;
        if !on {
            s.typed.zeroize();
            s.typed.clear();
        }
        s.error.clear();
    }

    /// The typed ID number submitted.
    pub fn submit_typed(&mut self) {
        let s = &mut self.visit;
        let r = Identity::typed(&s.typed);
        s.typed.zeroize();
        s.typed.clear();
        match r {
            Ok(id) => self.run(Job::Identify, Box::new(move |f, c, _| f.identify(id, c))),
            Err(e) => s.error = e.message(s.lang).to_string(),
        }
    }

    /// A key of the on-screen keyboard.
    pub fn key(&mut self, k: &str) {
        let k = match Press::of(k) {
            Press::Letters(letters) => return self.visit.entry.letters = letters,
            Press::Chinese(on) => {
                self.visit.entry.chinese = on;
                self.visit.entry.pinyin.clear();
                return;
            }
            Press::Char(k) => k,
        };
        let s = &mut self.visit;
        if s.entry.takes_pinyin(s.current_field(), &k) {
            s.entry.push_pinyin(&k);
            s.error.clear();
            return;
        }
        if s.typing && s.step() == Some(Step::Identify) {
            if s.typed.len() < keyboard::MAX_TYPED_ID {
                s.typed.push_str(&k);
            }
            s.error.clear();
            return;
        }
        self.edit(move |v| v.push_str(&k));
    }

    /// Backspace: the pinyin's last letter, else the value's last character.
    pub fn backspace(&mut self) {
        if self.visit.entry.pinyin.pop().is_none() {
            self.edit(|v| {
                v.pop();
            })
        }
    }

    /// Clears the pinyin and the value.
    pub fn clear(&mut self) {
        self.visit.entry.pinyin.clear();
        self.edit(|v| v.clear())
    }

    /// A select field's choice.
    pub fn choose(&mut self, value: String) {
        self.edit(move |x| *x = value)
    }

    /// A candidate character for the pinyin typed.
    pub fn pick_candidate(&mut self, c: String) {
        self.visit.entry.pinyin.clear();
        self.edit(move |v| v.push_str(&c));
    }

    /// The 中 / 英 toggle of the candidate bar.
    pub fn toggle_chinese(&mut self) {
        let e = &mut self.visit.entry;
        e.chinese = !e.chinese;
        e.pinyin.clear();
    }

    /// Edits the typed ID number or the current field's raw input, keeping it well-formed for
    /// its kind.
    fn edit(&mut self, f: impl FnOnce(&mut String)) {
        let s = &mut self.visit;
        s.error.clear();
        if s.step() == Some(Step::Identify) && s.typing {
            f(&mut s.typed);
            return;
        }
        let Some(field) = s.current_field() else {
            return;
        };
        let i = s.field;
        if let Some(v) = s.inputs.get_mut(i) {
            f(v);
            keyboard::tidy(field, v);
        }
    }

    /// The form's previous field.
    pub fn prev_field(&mut self) {
        let s = &mut self.visit;
        s.field = s.field.saturating_sub(1);
        s.entry.pinyin.clear();
        s.error.clear();
    }

    /// The form's next field (or the end of the form).
    pub fn next_field(&mut self) {
        let s = &mut self.visit;
        let Some(field) = s.current_field() else {
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
                    if let Some(pos) = errs
                        .first()
                        .and_then(|(k, _)| flow.service().fields.iter().position(|f| &f.key == k))
                    {
                        s.field = pos;
                    }
                }
            }
        }
    }

    /// A step the visitor's press takes at once (no platform call): on refusal its plain message
    /// is shown and the flow stays where it is.
    pub fn act(&mut self, f: impl FnOnce(&mut Flow<'static>) -> Result<Step, FlowError>) {
        let s = &mut self.visit;
        let lang = s.lang;
        if let Some(flow) = s.flow.as_mut() {
            match f(flow) {
                Ok(_) => s.error.clear(),
                Err(e) => s.error = e.message(flow.service(), lang),
            }
        }
    }

    /// Back one step (between the form and confirm).
    pub fn back(&mut self) {
        let s = &mut self.visit;
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
    }

    /// From the result to the rating.
    pub fn finish_result(&mut self) {
        let s = &mut self.visit;
        if let Some(f) = s.flow.as_mut() {
            if let Err(e) = f.done_with_result() {
                tracing::warn!("result: {e}");
            }
        }
        s.error.clear();
    }

    /// A rating level pressed (the reasons count only for the two lowest).
    pub fn rate(&mut self, level: i32) {
        let s = &mut self.visit;
        s.level = level.clamp(0, 5) as u8;
        if s.level > 2 {
            s.reasons.clear();
        }
    }

    /// A reason ticked or unticked.
    pub fn toggle_reason(&mut self, r: String) {
        let s = &mut self.visit;
        if !s.reasons.remove(&r) {
            s.reasons.insert(r);
        }
    }

    /// The rating sent (`skip`: without a level).
    pub fn submit_rating(&mut self, skip: bool) {
        let s = &self.visit;
        let (level, reasons, helper) = if skip {
            (None, Vec::new(), None)
        } else {
            (
                (s.level > 0).then_some(s.level),
                s.reasons.iter().cloned().collect::<Vec<_>>(),
                (s.helper_level > 0).then_some(s.helper_level),
            )
        };
        self.run(
            Job::Evaluate,
            Box::new(move |f, c, o| f.evaluate_with_helper(level, reasons, helper, c, o)),
        );
    }

    /// The visit's answers confirmed: sent to the platform.
    pub fn confirm(&mut self) {
        self.run(Job::Confirm, Box::new(|f, c, o| f.confirm(c, o)));
    }

    /// The receipt queued on the printer.
    pub fn print(&mut self) {
        let Some(flow) = self.visit.flow.as_ref() else {
            return;
        };
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M").to_string();
        let receipt: Receipt = crate::flow::receipt::receipt(flow, &self.ports.kiosk_id, &now);
        let result = match &self.ports.printer {
            Some(p) => p(&receipt),
            None => Err("no printer".to_string()),
        };
        let s = &mut self.visit;
        match result {
            Ok(()) => s.print = Print::Printing,
            Err(e) => {
                tracing::warn!("receipt not printed: {e}");
                s.print = Print::Unavailable;
                s.handoff_shown = true;
            }
        }
    }
}
