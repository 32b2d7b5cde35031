//! The state machine of one visit. Every transition is a method that checks it is allowed in the
//! current step and returns the next step; errors carry plain messages in both languages. The
//! engine holds personal data only in memory, and [`Flow::end`] (or dropping the flow) wipes it.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;
use zeroize::Zeroize;

use super::fields::{self, FieldError};
use super::identity::{IdentifyError, Identity, Source};
use crate::catalog::{Auth, Lang, Output, Service};
use crate::platform::api::IdentityMethod;
use crate::staff::Helper;
use crate::text::Text;

pub use super::ports::{
    Backend, BackendError, CodeIdentity, Document, Evaluation, HeldLicence, Item, Outbox, PayInfo,
    PollStatus, Reply, ReplyStatus, Slot, SubjectRef, Submission, Table,
};

/// Where a visit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// Waiting for the ID card, a code, or a typed number.
    Identify,
    /// Waiting for the face check on the citizen's phone (QR shown).
    FaceCheck,
    /// Showing the e-licences the platform holds for the citizen (免证办) and asking consent to
    /// use them instead of paper.
    Licences,
    /// Filling the form.
    Form,
    /// Reading and accepting the commitment (告知承诺).
    Commitment,
    /// Picking an appointment slot (appointment services).
    Slot,
    /// Checking what will be sent.
    Confirm,
    /// Showing the payment QR and polling the platform.
    Payment,
    /// Showing the result (and printing / hand-off).
    Result,
    /// Rating the service (好差评).
    Evaluate,
    /// Finished; the session ends.
    Done,
}

/// How the engine paces the waits on the citizen's phone (the face check, the payment): when it
/// first asks the platform, how often after that, and when it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// From the QR shown to the first poll.
    pub first_poll: Duration,
    /// From one poll to the next.
    pub poll_every: Duration,
    /// From the QR shown to giving up (once at least one poll was made).
    pub give_up_after: Duration,
}

impl Timing {
    /// The touchscreen's pace: a poll a second, for 5 minutes.
    pub const KIOSK: Timing = Timing {
        first_poll: Duration::from_secs(1),
        poll_every: Duration::from_secs(1),
        give_up_after: Duration::from_secs(300),
    };
}

/// What a visit needs next from whoever drives it, and when ([`Flow::next_action`]). The engine
/// keeps the visit's clock; drivers (the touchscreen, [`super::play`]) keep no timers of their
/// own, they ask again at the time given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Nothing until the citizen acts.
    Idle,
    /// Nothing is due before this moment; ask again then.
    WaitUntil(Instant),
    /// Ask the platform whether the face check is done ([`Flow::poll_face_check`]).
    PollFaceCheck,
    /// Ask the platform whether the payment is done ([`Flow::poll_payment`]).
    PollPayment,
    /// The appointment step shows no times yet: load this day's ([`Flow::load_slots`]).
    LoadSlots(String),
    /// The face check or the payment was waited on for longer than [`Timing`] allows.
    GiveUp,
}

/// Why a step could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum FlowError {
    /// The action does not belong to the current step (a UI bug, or a stale button).
    #[error("not possible now (step {0:?})")]
    WrongStep(Step),
    /// Identification refused.
    #[error("identification refused: {0}")]
    Identify(#[from] IdentifyError),
    /// Form values refused, with the field keys.
    #[error("{} form value(s) refused", .0.len())]
    Fields(Vec<(String, FieldError)>),
    /// The commitment was not accepted; the service cannot go on without it.
    #[error("the commitment must be accepted")]
    NoConsent,
    /// The citizen declined the e-licences; without them the service needs paper at a counter.
    #[error("the e-licences were declined")]
    LicencesDeclined,
    /// A scanned code did not identify the citizen.
    #[error(transparent)]
    Code(#[from] super::codes::CodeError),
    /// The chosen appointment slot is not on offer (taken meanwhile, or never listed).
    #[error("no such free slot")]
    SlotGone,
    /// The platform refused or could not be reached.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The journal could not be written; nothing was sent.
    #[error("the journal could not be written: {0}")]
    Journal(String),
    /// The service cannot be done at this kiosk with this identification.
    #[error("not possible at this kiosk")]
    NotHere,
    /// A staff check (人工核验) was asked for a service whose catalog entry does not allow it.
    #[error("this service does not take a staff check instead of the face check")]
    StaffVerifyNotAllowed,
    /// A staff check was asked with no helper signed in.
    #[error("a staff check needs a helper signed in")]
    NoHelper,
}

impl FlowError {
    /// A plain message for the citizen, with a way forward.
    pub fn message(&self, service: &Service, lang: Lang) -> String {
        match self {
            FlowError::Identify(e) => e.message(lang).to_string(),
            FlowError::Fields(errs) => errs
                .iter()
                .map(|(k, e)| match service.field(k) {
                    Some(f) => e.message(f, lang),
                    None => k.clone(),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            FlowError::NoConsent => Text::NoConsent.get(lang).into(),
            FlowError::Code(e) => e.message(lang),
            FlowError::LicencesDeclined => Text::LicencesDeclined.get(lang).into(),
            FlowError::SlotGone => Text::SlotGone.get(lang).into(),
            FlowError::Backend(BackendError::Rejected {
                message_zh,
                message_en,
                ..
            }) => lang.pick(message_zh, message_en).to_string(),
            FlowError::Backend(BackendError::Unreachable(_) | BackendError::Unanswered(_)) => {
                Text::PlatformUnreachable.get(lang).into()
            }
            FlowError::NotHere => Text::NeedsFaceCheck.get(lang).into(),
            FlowError::StaffVerifyNotAllowed => Text::StaffVerifyNotAllowed.get(lang).into(),
            FlowError::NoHelper => Text::StaffVerifyNoHelper.get(lang).into(),
            _ => Text::SomethingWrong.get(lang).into(),
        }
    }
}

/// A new idempotency key: kiosk-unique and unguessable.
pub fn new_key() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // Fall back to time + counter: still unique per kiosk.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        b.copy_from_slice(&t.to_le_bytes());
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// How one member of a 一件事一次办 service came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberOutcome {
    /// Filed: the platform's reference.
    Filed {
        /// 办件编号.
        reference: String,
    },
    /// No usable answer: saved in the outbox, which delivers it (same key) when it can.
    Queued,
    /// Refused by the platform: nothing was filed for this member; the platform's words.
    Refused {
        /// Why, Chinese.
        zh: String,
        /// Why, English.
        en: String,
    },
}

impl MemberOutcome {
    /// The result row's value in `lang` (`local` is the visit's local reference).
    pub fn describe(&self, lang: Lang, local: &str) -> String {
        match self {
            MemberOutcome::Filed { reference } => {
                Text::MemberFiled.fill(lang, &[("reference", reference)])
            }
            MemberOutcome::Queued => Text::MemberQueued.fill(lang, &[("reference", local)]),
            MemberOutcome::Refused { zh, en } => {
                Text::MemberRefused.fill(lang, &[("reason", lang.pick(zh, en))])
            }
        }
    }
}

/// One visit for one service.
pub struct Flow<'a> {
    service: &'a Service,
    lang: Lang,
    step: Step,
    identity: Option<Identity>,
    values: BTreeMap<String, String>,
    consent: bool,
    face_check: Option<(String, String)>,
    offered: Vec<HeldLicence>,
    licences_unavailable: bool,
    attached: Vec<String>,
    slots: Vec<Slot>,
    slot_day: Option<String>,
    slot: Option<Slot>,
    reply: Option<Reply>,
    queued: bool,
    /// A 一件事一次办 service's members' outcomes, once confirmed.
    members: Vec<MemberOutcome>,
    key: String,
    outbox_id: Option<i64>,
    started: Instant,
    timing: Timing,
    /// When the current wait on the phone (face check, payment) began, and the last poll.
    waiting_since: Option<Instant>,
    last_poll: Option<Instant>,
    /// The staff member signed in for an assisted visit (帮办员).
    helper: Option<Helper>,
    /// A helper checked the person against the ID card (人工核验) instead of the face check.
    staff_verified: bool,
}

impl std::fmt::Debug for Flow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flow")
            .field("service", &self.service.id)
            .field("step", &self.step)
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

impl<'a> Flow<'a> {
    /// Starts a visit for `service` in `lang`.
    pub fn new(service: &'a Service, lang: Lang) -> Flow<'a> {
        let mut f = Flow {
            service,
            lang,
            step: Step::Identify,
            identity: None,
            values: BTreeMap::new(),
            consent: false,
            face_check: None,
            offered: Vec::new(),
            licences_unavailable: false,
            attached: Vec::new(),
            slots: Vec::new(),
            slot_day: None,
            slot: None,
            reply: None,
            queued: false,
            members: Vec::new(),
            key: new_key(),
            outbox_id: None,
            started: Instant::now(),
            timing: Timing::KIOSK,
            waiting_since: None,
            last_poll: None,
            helper: None,
            staff_verified: false,
        };
        if service.auth == Auth::None {
            f.step = f.after_licences();
        }
        f
    }

    /// The service.
    pub fn service(&self) -> &'a Service {
        self.service
    }
    /// The current step.
    pub fn step(&self) -> Step {
        self.step
    }
    /// The citizen's language.
    pub fn lang(&self) -> Lang {
        self.lang
    }
    /// Changes the language mid-visit.
    pub fn set_lang(&mut self, lang: Lang) {
        self.lang = lang;
    }
    /// The identified citizen.
    pub fn identity(&self) -> Option<&Identity> {
        self.identity.as_ref()
    }
    /// The platform's reply, once there is one.
    pub fn reply(&self) -> Option<&Reply> {
        self.reply.as_ref()
    }
    /// True when the platform could not be reached and the submission waits in the journal.
    pub fn queued(&self) -> bool {
        self.queued
    }
    /// The local reference of this visit (shown when the submission is queued).
    pub fn local_reference(&self) -> String {
        format!("ZZ-{}", &self.key[..12].to_ascii_uppercase())
    }
    /// The face-check link to show as a QR code, while in [`Step::FaceCheck`].
    pub fn face_check_url(&self) -> Option<&str> {
        self.face_check.as_ref().map(|(_, u)| u.as_str())
    }
    /// Current form values.
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }
    /// How long the visit has lasted.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
    /// Makes this an assisted visit (a helper signed in), or not (`None`, the helper signed out).
    /// From then on submissions and the rating carry the helper's staff number, and each action
    /// is written to the audit trail under the helper's name (`staff:0012`).
    pub fn set_helper(&mut self, helper: Option<Helper>) {
        self.helper = helper;
    }
    /// The helper of an assisted visit.
    pub fn helper(&self) -> Option<&Helper> {
        self.helper.as_ref()
    }
    /// Whether the staff check (人工核验) is offered now: the face check step of a service that
    /// allows it, with a helper signed in.
    pub fn can_staff_verify(&self) -> bool {
        self.step == Step::FaceCheck && self.service.staff_verify && self.helper.is_some()
    }
    /// Whether a helper checked the person against the card.
    pub fn staff_verified(&self) -> bool {
        self.staff_verified
    }
    /// How the citizen was identified, in full, once identified.
    pub fn identity_method(&self) -> Option<IdentityMethod> {
        let id = self.identity.as_ref()?;
        Some(match id.source {
            Source::Code => IdentityMethod::Code,
            Source::Typed => IdentityMethod::Typed,
            Source::IdCard if self.staff_verified => IdentityMethod::IdCardStaff,
            Source::IdCard if self.face_check.is_some() && id.face_verified => {
                IdentityMethod::IdCardFace
            }
            Source::IdCard => IdentityMethod::IdCard,
        })
    }

    /// Writes one action of an assisted visit to the audit trail.
    fn staff_audit(&self, outbox: Option<&dyn Outbox>, action: &str, detail: &str) {
        if let (Some(o), Some(h)) = (outbox, &self.helper) {
            let detail = format!("service={} {detail}", self.service.id);
            if let Err(e) = o.audit(&h.actor(), &format!("staff.{action}"), detail.trim_end()) {
                tracing::error!("audit: staff action not recorded: {e:#}");
            }
        }
    }

    /// 人工核验: on the face-check step of a service whose catalog entry allows it
    /// (`staff_verify`), the signed-in helper confirms that the person is the one on the ID card,
    /// instead of the phone face check. The submission then says `identity_method =
    /// "idcard+staff"` with the helper's staff number, and the audit trail records the check.
    pub fn staff_verify(
        &mut self,
        backend: &dyn Backend,
        outbox: Option<&dyn Outbox>,
    ) -> Result<Step, FlowError> {
        self.ensure_step(Step::FaceCheck)?;
        if !self.service.staff_verify {
            return Err(FlowError::StaffVerifyNotAllowed);
        }
        if self.helper.is_none() {
            return Err(FlowError::NoHelper);
        }
        if let Some(i) = self.identity.as_mut() {
            i.face_verified = true;
        }
        self.staff_verified = true;
        self.face_check = None;
        self.waiting_since = None;
        self.last_poll = None;
        self.staff_audit(outbox, "verify_identity", "method=idcard+staff");
        self.step = self.after_identity(backend);
        Ok(self.step)
    }

    /// Sets how the waits on the phone are paced (default [`Timing::KIOSK`]).
    pub fn set_timing(&mut self, timing: Timing) {
        self.timing = timing;
    }

    /// What is due at `now`: a poll of the face check or payment, the first appointment times,
    /// giving up on the phone, or nothing before a given moment.
    pub fn next_action(&self, now: Instant) -> Action {
        match self.step {
            Step::FaceCheck | Step::Payment => {
                let since = self.waiting_since.unwrap_or(self.started);
                let give_up = since + self.timing.give_up_after;
                if now >= give_up && self.last_poll.is_some() {
                    return Action::GiveUp;
                }
                let due = match self.last_poll {
                    Some(t) => t + self.timing.poll_every,
                    None => since + self.timing.first_poll,
                };
                if now < due {
                    let at = if self.last_poll.is_some() {
                        due.min(give_up)
                    } else {
                        due
                    };
                    return Action::WaitUntil(at);
                }
                if self.step == Step::FaceCheck {
                    Action::PollFaceCheck
                } else {
                    Action::PollPayment
                }
            }
            Step::Slot if self.slot_day.is_none() => {
                let today = chrono::Local::now().date_naive();
                match Flow::slot_days(today, 1).first() {
                    Some(day) => Action::LoadSlots(day.format("%Y-%m-%d").to_string()),
                    None => Action::Idle,
                }
            }
            _ => Action::Idle,
        }
    }

    /// The phone wait of `step` starts now.
    fn wait_on_phone(&mut self, step: Step) {
        self.step = step;
        self.waiting_since = Some(Instant::now());
        self.last_poll = None;
    }

    fn ensure_step(&self, step: Step) -> Result<(), FlowError> {
        if self.step == step {
            Ok(())
        } else {
            Err(FlowError::WrongStep(self.step))
        }
    }

    /// After identification: the e-licence consent for services that take e-licences (the
    /// platform is asked which the citizen holds), else the form.
    fn after_identity(&mut self, backend: &dyn Backend) -> Step {
        if self.service.elicense.is_empty() {
            return self.after_licences();
        }
        let Some(id) = self.identity.as_ref() else {
            return self.after_licences();
        };
        let subject = SubjectRef {
            id_number: &id.id_number,
            subject_token: id.subject_token.as_deref(),
            source: id.source,
        };
        match backend.licences(&self.service.id, subject, &self.service.elicense) {
            Ok(held) => {
                self.offered = held
                    .into_iter()
                    .filter(|l| self.service.elicense.contains(&l.licence_type))
                    .collect();
                self.licences_unavailable = false;
            }
            Err(e) => {
                tracing::info!(service = %self.service.id, "e-licences not fetched: {e}");
                self.offered.clear();
                self.licences_unavailable = true;
            }
        }
        Step::Licences
    }

    fn after_licences(&self) -> Step {
        if !self.service.fields.is_empty() {
            Step::Form
        } else {
            self.after_form()
        }
    }

    fn after_form(&self) -> Step {
        if self.service.commitment {
            Step::Commitment
        } else {
            self.after_commitment()
        }
    }

    fn after_commitment(&self) -> Step {
        if self.service.output == Output::Appointment {
            Step::Slot
        } else {
            Step::Confirm
        }
    }

    /// Identification. A typed number is accepted only where the service allows acting for
    /// someone else; `idcard+face` with a card starts a face check on the phone.
    pub fn identify(
        &mut self,
        identity: Identity,
        backend: &dyn Backend,
    ) -> Result<Step, FlowError> {
        self.ensure_step(Step::Identify)?;
        if identity.source == Source::Typed && !self.service.proxy {
            return Err(IdentifyError::TypingNotAllowed.into());
        }
        // A service that needs a licence the card cannot show (auth `elicense`) still takes the
        // card to identify; the e-licences listed in the catalog are attached from the platform.
        let needs_face = self.service.auth == Auth::IdCardFace
            && identity.source == Source::IdCard
            && !identity.face_verified;
        if needs_face {
            let (id, url) = backend.start_face_check(&self.service.id, &identity.id_number)?;
            self.face_check = Some((id, url));
            self.identity = Some(identity);
            self.wait_on_phone(Step::FaceCheck);
        } else {
            self.identity = Some(identity);
            self.step = self.after_identity(backend);
        }
        Ok(self.step)
    }

    /// Polls the phone face check.
    pub fn poll_face_check(&mut self, backend: &dyn Backend) -> Result<Step, FlowError> {
        self.ensure_step(Step::FaceCheck)?;
        let Some((id, _)) = &self.face_check else {
            return Err(FlowError::WrongStep(self.step));
        };
        self.last_poll = Some(Instant::now());
        match backend.face_check(id)? {
            PollStatus::Pending => {}
            PollStatus::Done => {
                if let Some(i) = self.identity.as_mut() {
                    i.face_verified = true;
                }
                self.step = self.after_identity(backend);
            }
            PollStatus::Refused | PollStatus::Expired => return Err(FlowError::NotHere),
        }
        Ok(self.step)
    }

    /// The e-licences offered for consent (empty when the citizen holds none of the types or the
    /// platform could not be asked).
    pub fn offered_licences(&self) -> &[HeldLicence] {
        &self.offered
    }
    /// True when the platform could not be asked for the e-licences.
    pub fn licences_unavailable(&self) -> bool {
        self.licences_unavailable
    }
    /// The catalog licence types of the service the citizen was not found to hold.
    pub fn missing_licences(&self) -> Vec<&'a str> {
        self.service
            .elicense
            .iter()
            .filter(|t| !self.offered.iter().any(|l| &l.licence_type == *t))
            .map(|t| t.as_str())
            .collect()
    }
    /// References of the e-licences the citizen agreed to attach.
    pub fn attached_licences(&self) -> &[String] {
        &self.attached
    }

    /// Consent to the offered e-licences: accepting attaches them all; declining leaves the
    /// step (the service then needs paper at a counter). With nothing offered, going on needs no
    /// consent.
    pub fn attach_licences(&mut self, accept: bool) -> Result<Step, FlowError> {
        self.ensure_step(Step::Licences)?;
        if self.offered.is_empty() {
            self.attached.clear();
        } else if accept {
            self.attached = self.offered.iter().map(|l| l.reference.clone()).collect();
        } else {
            self.attached.clear();
            return Err(FlowError::LicencesDeclined);
        }
        self.step = self.after_licences();
        Ok(self.step)
    }

    /// The working days offered for appointments: the next `n` weekdays after `today`.
    pub fn slot_days(today: chrono::NaiveDate, n: usize) -> Vec<chrono::NaiveDate> {
        use chrono::Datelike;
        today
            .iter_days()
            .skip(1)
            .filter(|d| d.weekday().number_from_monday() <= 5)
            .take(n)
            .collect()
    }

    /// Loads the slots of `day` (`YYYY-MM-DD`) for the office chosen in the form, if any.
    pub fn load_slots(&mut self, backend: &dyn Backend, day: &str) -> Result<Step, FlowError> {
        self.ensure_step(Step::Slot)?;
        let office = self.values.get("office").cloned();
        let slots = backend.slots(&self.service.id, day)?;
        self.slots = slots
            .into_iter()
            .filter(|s| office.as_ref().is_none_or(|o| &s.office == o))
            .collect();
        self.slot_day = Some(day.to_string());
        self.slot = None;
        Ok(self.step)
    }
    /// The slots of the day loaded last.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }
    /// The day whose slots are loaded.
    pub fn slot_day(&self) -> Option<&str> {
        self.slot_day.as_deref()
    }
    /// The chosen slot, once there is one.
    pub fn chosen_slot(&self) -> Option<&Slot> {
        self.slot.as_ref()
    }

    /// Chooses a free slot from the loaded ones.
    pub fn choose_slot(&mut self, slot_id: &str) -> Result<Step, FlowError> {
        self.ensure_step(Step::Slot)?;
        let Some(slot) = self
            .slots
            .iter()
            .find(|s| s.slot_id == slot_id && s.available)
        else {
            return Err(FlowError::SlotGone);
        };
        self.slot = Some(slot.clone());
        self.step = Step::Confirm;
        Ok(self.step)
    }

    /// The step [`Flow::back`] would go to, if any.
    fn previous_step(&self) -> Option<Step> {
        let has_form = !self.service.fields.is_empty();
        Some(match self.step {
            Step::Commitment if has_form => Step::Form,
            Step::Slot if self.service.commitment => Step::Commitment,
            Step::Slot if has_form => Step::Form,
            Step::Confirm if self.service.output == Output::Appointment => Step::Slot,
            Step::Confirm if self.service.commitment => Step::Commitment,
            Step::Confirm if has_form => Step::Form,
            _ => return None,
        })
    }

    /// Whether [`Flow::back`] would move (the screen offers 上一步 only then).
    pub fn can_go_back(&self) -> bool {
        self.previous_step().is_some()
    }

    /// Chooses the first free slot on the first of the next `days` working days after `today`
    /// that has one (headless runs and previews; a citizen picks on screen).
    pub fn choose_first_free_slot(
        &mut self,
        backend: &dyn Backend,
        today: chrono::NaiveDate,
        days: usize,
    ) -> Result<Step, FlowError> {
        for day in Flow::slot_days(today, days) {
            self.load_slots(backend, &day.format("%Y-%m-%d").to_string())?;
            let free = self
                .slots
                .iter()
                .find(|s| s.available)
                .map(|s| s.slot_id.clone());
            if let Some(id) = free {
                return self.choose_slot(&id);
            }
        }
        Err(FlowError::SlotGone)
    }

    /// One step back (commitment → form, slot → commitment or form, confirm → the step before
    /// it). Values stay; an accepted commitment must be accepted again. Steps with nothing
    /// before them inside the visit refuse.
    pub fn back(&mut self) -> Result<Step, FlowError> {
        let Some(prev) = self.previous_step() else {
            return Err(FlowError::WrongStep(self.step));
        };
        if matches!(prev, Step::Commitment | Step::Form) {
            self.consent = false;
        }
        if prev == Step::Slot {
            self.slot = None;
        }
        self.step = prev;
        Ok(self.step)
    }

    /// Sets one form value (validated now, so the citizen sees the problem at once).
    pub fn set_field(&mut self, key: &str, value: &str) -> Result<(), FlowError> {
        self.ensure_step(Step::Form)?;
        let Some(field) = self.service.field(key) else {
            return Err(FlowError::Fields(vec![(
                key.to_string(),
                FieldError::Format,
            )]));
        };
        match fields::validate(field, value) {
            Ok(v) => {
                if let Some(mut old) = self.values.insert(key.to_string(), v) {
                    old.zeroize();
                }
                Ok(())
            }
            Err(e) => Err(FlowError::Fields(vec![(key.to_string(), e)])),
        }
    }

    /// Finishes the form: every required field must be filled.
    pub fn finish_form(&mut self) -> Result<Step, FlowError> {
        self.ensure_step(Step::Form)?;
        let missing: Vec<(String, FieldError)> = self
            .service
            .fields
            .iter()
            .filter(|f| f.required && self.values.get(&f.key).is_none_or(|v| v.is_empty()))
            .map(|f| (f.key.clone(), FieldError::Required))
            .collect();
        if !missing.is_empty() {
            return Err(FlowError::Fields(missing));
        }
        self.step = self.after_form();
        Ok(self.step)
    }

    /// Accepts (or declines) the commitment.
    pub fn commit(&mut self, accept: bool) -> Result<Step, FlowError> {
        self.ensure_step(Step::Commitment)?;
        if !accept {
            return Err(FlowError::NoConsent);
        }
        self.consent = true;
        self.step = self.after_commitment();
        Ok(self.step)
    }

    fn submission(&self, kiosk_id: &str) -> Submission {
        let (id_number, source, subject_token) = match &self.identity {
            Some(i) => (i.id_number.clone(), i.source, i.subject_token.clone()),
            None => (String::new(), Source::Code, None),
        };
        let mut fields = self.values.clone();
        if let Some(slot) = &self.slot {
            fields.insert("slot_id".into(), slot.slot_id.clone());
        }
        Submission {
            service_id: self.service.id.clone(),
            idempotency_key: self.key.clone(),
            kiosk_id: kiosk_id.to_string(),
            id_number,
            source,
            subject_token,
            proxy: source == Source::Typed,
            face_check_id: self.face_check.as_ref().map(|(id, _)| id.clone()),
            commitment_accepted: self.consent || !self.service.commitment,
            fields,
            elicense: self.attached.clone(),
            lang: self.lang,
            identity_method: self.identity_method(),
            staff_id: self.helper.as_ref().map(|h| h.staff_id.clone()),
        }
    }

    /// Confirms and calls the platform. An application or booking is journaled first; if no
    /// usable answer comes back (unreachable, timed out, lost, unreadable, too large: the
    /// platform may have done it), it stays queued — the citizen gets the local reference and the
    /// outbox delivers it under the same kiosk id and key — and a refusal marks it failed so it is
    /// never sent later. Other services report the problem so the citizen can retry (nothing
    /// is filed by them).
    pub fn confirm(
        &mut self,
        backend: &dyn Backend,
        outbox: Option<&dyn Outbox>,
    ) -> Result<Step, FlowError> {
        self.ensure_step(Step::Confirm)?;
        if self.service.is_one_thing() {
            return self.confirm_members(backend, outbox);
        }
        let sub = self.submission(backend.kiosk_id());
        // State-changing services whose outcome must survive a lost answer: an application, a
        // booking. Journaled first, and "saved" (never "try again") when no usable answer came.
        let queueable = matches!(self.service.output, Output::Submit | Output::Appointment);
        if queueable {
            if let Some(o) = outbox {
                let id = o
                    .enqueue_request(&sub)
                    .map_err(|e| FlowError::Journal(format!("{e:#}")))?;
                self.outbox_id = Some(id);
            }
        }
        match backend.submit(&sub) {
            Ok(reply) => {
                if let (Some(o), Some(id)) = (outbox, self.outbox_id) {
                    o.mark_done(id)
                        .map_err(|e| FlowError::Journal(format!("{e:#}")))?;
                }
                match reply.status {
                    ReplyStatus::PaymentPending if reply.pay.is_some() => {
                        self.wait_on_phone(Step::Payment)
                    }
                    _ => self.step = Step::Result,
                }
                if self.step == Step::Result {
                    self.record(outbox, "completed");
                }
                self.reply = Some(reply);
                Ok(self.step)
            }
            // No usable answer: the platform may hold the application. The citizen is told it is
            // saved (with the local reference) and the outbox, sending under the same kiosk id
            // and key, learns the platform's answer; never "try again", which would file twice.
            Err(e) if e.outcome_unknown() && queueable && self.outbox_id.is_some() => {
                tracing::warn!(service = %self.service.id, "no usable answer, submission queued: {e}");
                self.queued = true;
                self.record(outbox, "queued");
                self.step = Step::Result;
                Ok(self.step)
            }
            Err(e) => {
                // Refused: nothing was created, so the journaled item must never go out later.
                if let (Some(o), Some(id)) = (outbox, self.outbox_id.take()) {
                    o.mark_failed(id, &e.to_string())
                        .map_err(|e| FlowError::Journal(format!("{e:#}")))?;
                }
                self.record(outbox, "failed");
                Err(e.into())
            }
        }
    }

    /// A 一件事一次办 service: the one confirmed application is filed to each member service in
    /// the catalog's order (a member that needs another's result comes after it), each as its
    /// own journaled submission with its own idempotency key and only its own fields and
    /// e-licences. A member without a usable answer stays queued in the outbox, which delivers it
    /// later; a refused member is shown plainly; neither repeats nor blocks the others. The
    /// result lists every member with its reference or state.
    fn confirm_members(
        &mut self,
        backend: &dyn Backend,
        outbox: Option<&dyn Outbox>,
    ) -> Result<Step, FlowError> {
        let base = self.submission(backend.kiosk_id());
        let mut outcomes = Vec::new();
        for (i, m) in self.service.members.iter().enumerate() {
            let mut sub = base.clone();
            sub.service_id = m.id.clone();
            sub.idempotency_key = format!("{}-{}", self.key, i + 1);
            sub.fields.retain(|k, _| m.fields.iter().any(|f| f == k));
            sub.elicense.retain(|r| {
                self.offered
                    .iter()
                    .any(|l| &l.reference == r && m.elicense.contains(&l.licence_type))
            });
            sub.commitment_accepted = self.consent;
            let id = match outbox {
                Some(o) => Some(
                    o.enqueue_request(&sub)
                        .map_err(|e| FlowError::Journal(format!("{e:#}")))?,
                ),
                None => None,
            };
            let outcome = match backend.submit(&sub) {
                Ok(reply) => {
                    if let (Some(o), Some(id)) = (outbox, id) {
                        o.mark_done(id)
                            .map_err(|e| FlowError::Journal(format!("{e:#}")))?;
                    }
                    MemberOutcome::Filed {
                        reference: reply.reference,
                    }
                }
                Err(e) if e.outcome_unknown() && id.is_some() => {
                    tracing::warn!(service = %m.id, "no usable answer, member submission queued: {e}");
                    MemberOutcome::Queued
                }
                Err(e) => {
                    if let (Some(o), Some(id)) = (outbox, id) {
                        o.mark_failed(id, &e.to_string())
                            .map_err(|e| FlowError::Journal(format!("{e:#}")))?;
                    }
                    let (zh, en) = match &e {
                        BackendError::Rejected {
                            message_zh,
                            message_en,
                            ..
                        } => (message_zh.clone(), message_en.clone()),
                        _ => (
                            Text::PlatformError.zh().to_string(),
                            Text::PlatformError.en().to_string(),
                        ),
                    };
                    MemberOutcome::Refused { zh, en }
                }
            };
            let word = match &outcome {
                MemberOutcome::Filed { .. } => "completed",
                MemberOutcome::Queued => "queued",
                MemberOutcome::Refused { .. } => "failed",
            };
            if let Some(o) = outbox {
                let idn = self.identity.as_ref().map(|i| i.id_number.as_str());
                if let Err(e) = o.record(&m.id, word, idn) {
                    tracing::error!("transaction log: {e:#}");
                }
            }
            outcomes.push(outcome);
        }
        let filed = outcomes
            .iter()
            .filter(|o| matches!(o, MemberOutcome::Filed { .. }))
            .count();
        let queued = outcomes
            .iter()
            .filter(|o| matches!(o, MemberOutcome::Queued))
            .count();
        if filed == 0 && queued == 0 {
            self.record(outbox, "failed");
        } else {
            self.record(outbox, if queued > 0 { "queued" } else { "completed" });
        }
        let local = self.local_reference();
        let title = if filed == outcomes.len() {
            Text::OneThingFiled
        } else {
            Text::OneThingPartly
        };
        let items = self
            .service
            .members
            .iter()
            .zip(&outcomes)
            .map(|(m, o)| Item {
                label_zh: m.zh.clone(),
                label_en: m.en.clone(),
                value: o.describe(self.lang, &local),
                speak: false,
            })
            .collect();
        self.queued = queued > 0;
        self.members = outcomes;
        // The rating (好差评) is of the one-thing as a whole: it names the visit's reference.
        self.reply = Some(Reply {
            request_id: local.clone(),
            reference: local,
            status: ReplyStatus::Accepted,
            title_zh: title.zh().into(),
            title_en: title.en().into(),
            items,
            table: None,
            document: None,
            next_steps_zh: Some(Text::OneThingNext.zh().into()),
            next_steps_en: Some(Text::OneThingNext.en().into()),
            pay: None,
            handoff_url: None,
        });
        self.step = Step::Result;
        Ok(self.step)
    }

    /// For a 一件事一次办 service after confirming: each member's outcome, in catalog order.
    pub fn member_outcomes(&self) -> &[MemberOutcome] {
        &self.members
    }

    fn record(&self, outbox: Option<&dyn Outbox>, outcome: &str) {
        if let Some(o) = outbox {
            let id = self.identity.as_ref().map(|i| i.id_number.as_str());
            if let Err(e) = o.record(&self.service.id, outcome, id) {
                tracing::error!("transaction log: {e:#}");
            }
        }
        let method = self.identity_method().map(|m| m.as_str()).unwrap_or("none");
        self.staff_audit(
            outbox,
            "service",
            &format!("outcome={outcome} method={method}"),
        );
    }

    /// Polls the payment while the QR is shown.
    pub fn poll_payment(
        &mut self,
        backend: &dyn Backend,
        outbox: Option<&dyn Outbox>,
    ) -> Result<Step, FlowError> {
        self.ensure_step(Step::Payment)?;
        let order = match self.reply.as_ref().and_then(|r| r.pay.as_ref()) {
            Some(p) => p.order_id.clone(),
            None => return Err(FlowError::WrongStep(self.step)),
        };
        self.last_poll = Some(Instant::now());
        match backend.payment(&order)? {
            PollStatus::Pending => {}
            PollStatus::Done => {
                if let Some(r) = self.reply.as_mut() {
                    r.status = ReplyStatus::Completed;
                    r.title_zh = Text::PaymentReceived.zh().into();
                    r.title_en = Text::PaymentReceived.en().into();
                }
                self.record(outbox, "paid");
                self.step = Step::Result;
            }
            PollStatus::Refused | PollStatus::Expired => {
                self.record(outbox, "payment-cancelled");
                return Err(BackendError::Rejected {
                    code: "payment_not_completed".into(),
                    message_zh: Text::PaymentNotCompleted.zh().into(),
                    message_en: Text::PaymentNotCompleted.en().into(),
                }
                .into());
            }
        }
        Ok(self.step)
    }

    /// From the result to the evaluation.
    pub fn done_with_result(&mut self) -> Result<Step, FlowError> {
        self.ensure_step(Step::Result)?;
        self.step = Step::Evaluate;
        Ok(self.step)
    }

    /// Rates the service (`None` skips). Reasons count only for the two lowest levels. The
    /// rating is journaled and sent; if the platform is down the outbox delivers it later.
    pub fn evaluate(
        &mut self,
        level: Option<u8>,
        reasons: Vec<String>,
        backend: &dyn Backend,
        outbox: Option<&dyn Outbox>,
    ) -> Result<Step, FlowError> {
        self.evaluate_with_helper(level, reasons, None, backend, outbox)
    }

    /// [`Flow::evaluate`] on an assisted visit: the citizen rates the helper too
    /// (`helper_level`, 1–5; ignored when no helper is signed in). The rating carries the
    /// helper's staff number.
    pub fn evaluate_with_helper(
        &mut self,
        level: Option<u8>,
        reasons: Vec<String>,
        helper_level: Option<u8>,
        backend: &dyn Backend,
        outbox: Option<&dyn Outbox>,
    ) -> Result<Step, FlowError> {
        self.ensure_step(Step::Evaluate)?;
        let staff_id = self.helper.as_ref().map(|h| h.staff_id.clone());
        let staff_level = helper_level
            .filter(|l| (1..=5).contains(l))
            .filter(|_| staff_id.is_some());
        if let Some(level) = level.filter(|l| (1..=5).contains(l)) {
            let e = Evaluation {
                idempotency_key: new_key(),
                kiosk_id: backend.kiosk_id().to_string(),
                request_id: self
                    .reply
                    .as_ref()
                    .map(|r| r.request_id.clone())
                    .unwrap_or_else(|| self.local_reference()),
                service_id: self.service.id.clone(),
                level,
                reasons: if level <= 2 { reasons } else { Vec::new() },
                staff_id: staff_id.clone(),
                staff_level,
            };
            let id = match outbox {
                Some(o) => Some(
                    o.enqueue_evaluation(&e)
                        .map_err(|e| FlowError::Journal(format!("{e:#}")))?,
                ),
                None => None,
            };
            match backend.evaluate(&e) {
                Ok(()) => {
                    if let (Some(o), Some(id)) = (outbox, id) {
                        o.mark_done(id)
                            .map_err(|e| FlowError::Journal(format!("{e:#}")))?;
                    }
                }
                Err(err) => tracing::info!("evaluation queued for later delivery: {err}"),
            }
            let helper = staff_level
                .map(|l| format!(" helper_level={l}"))
                .unwrap_or_default();
            self.staff_audit(outbox, "rating", &format!("level={level}{helper}"));
        }
        self.step = Step::Done;
        Ok(self.step)
    }

    /// Ends the visit: identity and form values are wiped from memory.
    pub fn end(mut self) {
        self.wipe();
    }

    fn wipe(&mut self) {
        self.identity = None; // Identity zeroizes itself on drop.
        for v in self.values.values_mut() {
            v.zeroize();
        }
        self.values.clear();
        self.face_check = None;
        self.offered.clear();
        for r in self.attached.iter_mut() {
            r.zeroize();
        }
        self.attached.clear();
        self.slot = None;
    }
}

impl Drop for Flow<'_> {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// The five 好差评 levels, best first: (level, words).
pub const LEVELS: [(u8, Text); 5] = [
    (5, Text::RatingVerySatisfied),
    (4, Text::RatingSatisfied),
    (3, Text::RatingFairlySatisfied),
    (2, Text::RatingDissatisfied),
    (1, Text::RatingVeryDissatisfied),
];

/// Reasons offered for the two lowest levels: (code sent to the platform, words).
pub const REASONS: [(&str, Text); 5] = [
    ("slow", Text::ReasonSlow),
    ("hard", Text::ReasonHard),
    ("unclear", Text::ReasonUnclear),
    ("failed", Text::ReasonFailed),
    ("device", Text::ReasonDevice),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    /// A platform whose face checks never finish.
    const PENDING: Phone = Phone(PollStatus::Pending);

    /// A platform whose face checks end as the phone says (pending: never).
    struct Phone(PollStatus);

    impl Backend for Phone {
        fn kiosk_id(&self) -> &str {
            "T"
        }
        fn submit(&self, _: &Submission) -> Result<Reply, BackendError> {
            Err(BackendError::Unreachable("not here".into()))
        }
        fn payment(&self, _: &str) -> Result<PollStatus, BackendError> {
            Ok(PollStatus::Pending)
        }
        fn start_face_check(&self, _: &str, _: &str) -> Result<(String, String), BackendError> {
            Ok(("fc".into(), "http://x/fc".into()))
        }
        fn face_check(&self, _: &str) -> Result<PollStatus, BackendError> {
            Ok(self.0)
        }
        fn slots(&self, _: &str, _: &str) -> Result<Vec<Slot>, BackendError> {
            Ok(Vec::new())
        }
        fn licences(
            &self,
            _: &str,
            _: SubjectRef<'_>,
            _: &[String],
        ) -> Result<Vec<HeldLicence>, BackendError> {
            Ok(Vec::new())
        }
        fn resolve_code(&self, _: &str) -> Result<CodeIdentity, BackendError> {
            Err(BackendError::Unreachable("not here".into()))
        }
        fn consume_ticket(&self, _: &str) -> Result<CodeIdentity, BackendError> {
            Err(BackendError::Unreachable("not here".into()))
        }
        fn evaluate(&self, _: &Evaluation) -> Result<(), BackendError> {
            Ok(())
        }
    }

    #[test]
    fn the_engine_paces_the_wait_on_the_phone() {
        let service = Catalog::builtin()
            .services()
            .iter()
            .find(|s| s.auth == Auth::IdCardFace)
            .expect("a face-check service");
        let mut flow = Flow::new(service, Lang::Zh);
        assert_eq!(flow.next_action(Instant::now()), Action::Idle);
        let id = zizhu_drivers::idcard::card::with_check_char("44140219800101001");
        let mut who = Identity::typed(&id).expect("valid");
        who.source = Source::IdCard;
        flow.identify(who, &PENDING).expect("identify");
        assert_eq!(flow.step(), Step::FaceCheck);
        flow.set_timing(Timing {
            first_poll: Duration::from_secs(1),
            poll_every: Duration::from_secs(2),
            give_up_after: Duration::from_secs(10),
        });
        let t0 = flow.waiting_since.expect("the wait started");
        // Not before the first poll is due; then a poll; then every 2 s; then give up.
        assert_eq!(
            flow.next_action(t0),
            Action::WaitUntil(t0 + Duration::from_secs(1))
        );
        assert_eq!(
            flow.next_action(t0 + Duration::from_secs(1)),
            Action::PollFaceCheck
        );
        assert_eq!(
            flow.poll_face_check(&PENDING).expect("poll"),
            Step::FaceCheck
        );
        let polled = flow.last_poll.expect("polled");
        assert_eq!(
            flow.next_action(polled),
            Action::WaitUntil(polled + Duration::from_secs(2))
        );
        assert_eq!(
            flow.next_action(t0 + Duration::from_secs(10)),
            Action::GiveUp
        );
    }

    fn a_face_check_service_at_the_phone(status: PollStatus) -> (Flow<'static>, Phone) {
        let service = Catalog::builtin()
            .services()
            .iter()
            .find(|s| s.auth == Auth::IdCardFace && s.staff_verify)
            .expect("a face-check service that allows the staff check");
        let mut flow = Flow::new(service, Lang::Zh);
        let id = zizhu_drivers::idcard::card::with_check_char("44140219800101001");
        let mut who = Identity::typed(&id).expect("valid");
        who.source = Source::IdCard;
        let phone = Phone(status);
        flow.identify(who, &phone).expect("identify");
        assert_eq!(flow.step(), Step::FaceCheck);
        (flow, phone)
    }

    fn helper() -> Helper {
        Helper {
            staff_id: "0012".into(),
            name_masked: "张*".into(),
            code_id: "07".repeat(16),
        }
    }

    #[test]
    fn the_staff_check_still_replaces_a_refused_phone_face_check() {
        let (mut flow, phone) = a_face_check_service_at_the_phone(PollStatus::Refused);
        // The phone refused: the visit stays on the face check, and without a helper there is
        // no way on.
        assert!(matches!(
            flow.poll_face_check(&phone),
            Err(FlowError::NotHere)
        ));
        assert_eq!(flow.step(), Step::FaceCheck);
        assert!(!flow.can_staff_verify());
        assert!(matches!(
            flow.staff_verify(&phone, None),
            Err(FlowError::NoHelper)
        ));
        // A helper signs in: the staff check is offered and takes the visit on.
        flow.set_helper(Some(helper()));
        assert!(flow.can_staff_verify());
        let next = flow.staff_verify(&phone, None).expect("staff check");
        assert_ne!(next, Step::FaceCheck);
        assert_eq!(flow.identity_method(), Some(IdentityMethod::IdCardStaff));
        assert!(flow.face_check_url().is_none());
        assert_ne!(flow.next_action(Instant::now()), Action::GiveUp);
    }

    #[test]
    fn the_staff_check_still_replaces_a_face_check_given_up_on() {
        let (mut flow, phone) = a_face_check_service_at_the_phone(PollStatus::Pending);
        flow.set_timing(Timing {
            first_poll: Duration::ZERO,
            poll_every: Duration::from_secs(1),
            give_up_after: Duration::ZERO,
        });
        flow.poll_face_check(&phone).expect("poll");
        assert_eq!(flow.next_action(Instant::now()), Action::GiveUp);
        flow.set_helper(Some(helper()));
        assert!(flow.can_staff_verify());
        flow.staff_verify(&phone, None).expect("staff check");
        assert!(flow.staff_verified());
        assert_eq!(flow.identity_method(), Some(IdentityMethod::IdCardStaff));
        // Past the phone: nothing more to poll, nothing to give up on.
        assert!(!matches!(
            flow.next_action(Instant::now()),
            Action::GiveUp | Action::PollFaceCheck
        ));
    }
}
