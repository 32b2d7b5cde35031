//! Plays one whole visit without a UI: the engine driven by given values, with the citizen's
//! phone played too when asked (opening the payment and face-check links, as docs/design.md describes
//! for the demo platform). `zizhu flow run` and the end-to-end tests use it; the touchscreen
//! drives the same [`Flow`] step by step instead.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::engine::{Action, Backend, BackendError, Flow, FlowError, Outbox, Reply, Step, Timing};
use super::identity::Identity;
use crate::catalog::{Lang, Service};
use crate::staff::Helper;
use crate::text::Text;

/// How to play the visit.
pub struct Script<'a> {
    /// Who the citizen is (ignored for services without identification).
    pub identity: Option<Identity>,
    /// Form values given.
    pub fields: BTreeMap<String, String>,
    /// Fill missing fields with the catalog's example values and open the phone links.
    pub sample: bool,
    /// How to open a link as the citizen's phone (payment, face check).
    pub open_link: &'a dyn Fn(&str) -> anyhow::Result<()>,
    /// How long to wait for a payment or face check.
    pub wait: Duration,
    /// Rating at the end (1-5), or none.
    pub rate: Option<u8>,
    /// Agree to attach the e-licences the platform offers (免证办); declining ends the visit
    /// with the plain message a citizen would see.
    pub elicense_consent: bool,
}

/// The staff side of an assisted visit (帮办代办), for [`play_assisted`].
#[derive(Debug, Clone, Default)]
pub struct Assist {
    /// The helper signed in (`staff::sign_in`); none for a visit without one.
    pub helper: Option<Helper>,
    /// At the face check of a service that allows it, the helper checks the person against the
    /// ID card (人工核验) instead of the phone.
    pub staff_verify: bool,
    /// The citizen's rating of the helper (1–5), given with the service's rating.
    pub rate_helper: Option<u8>,
}

/// What the citizen saw, and how it ended.
#[derive(Debug, Serialize)]
pub struct Transcript {
    /// Service id.
    pub service: String,
    /// Lines as the screen would show them.
    pub screen: Vec<String>,
    /// The platform's reply, if the service got that far.
    pub reply: Option<Reply>,
    /// True when the submission was queued in the journal (platform unreachable).
    pub queued: bool,
    /// The step that failed and the plain message, if it failed.
    pub failed: Option<(String, String)>,
}

impl Transcript {
    /// Whether the service completed (or was safely queued).
    pub fn completed(&self) -> bool {
        self.failed.is_none()
    }
}

/// Waits on the citizen's phone (the face check or the payment, step `waiting`) at the pace the
/// engine gives ([`Flow::next_action`]), polling with `poll`. A poll is a read: an answer lost
/// or unreadable says nothing about the payment or the face check, so it is asked again until
/// the engine gives up; then the last such error is returned, or the step still waiting.
fn wait_on_phone(
    flow: &mut Flow<'_>,
    waiting: Step,
    mut poll: impl FnMut(&mut Flow<'_>) -> Result<Step, FlowError>,
) -> Result<Step, FlowError> {
    let mut lost = None;
    loop {
        let now = Instant::now();
        match flow.next_action(now) {
            Action::WaitUntil(at) => std::thread::sleep(at.saturating_duration_since(now)),
            Action::PollFaceCheck | Action::PollPayment => match poll(flow) {
                Ok(s) if s != waiting => return Ok(s),
                Ok(_) => lost = None,
                Err(FlowError::Backend(e)) if e.outcome_unknown() => {
                    tracing::debug!("poll answer lost, asking again: {e}");
                    lost = Some(e);
                }
                Err(e) => return Err(e),
            },
            Action::GiveUp => {
                return match lost {
                    Some(e) => Err(FlowError::Backend(e)),
                    None => Ok(waiting),
                }
            }
            Action::Idle | Action::LoadSlots(_) => return Ok(flow.step()),
        }
    }
}

/// Plays `service` to the end. The flow is returned (not yet ended) so the caller can print the
/// receipt; dropping it wipes the citizen's data.
pub fn play<'a>(
    service: &'a Service,
    lang: Lang,
    script: Script<'_>,
    backend: &dyn Backend,
    outbox: Option<&dyn Outbox>,
) -> (Flow<'a>, Transcript) {
    play_assisted(service, lang, script, Assist::default(), backend, outbox)
}

/// [`play`] with a helper signed in (an assisted visit): submissions and the rating carry the
/// helper's staff number, the audit trail (through `outbox`) records each action, and with
/// [`Assist::staff_verify`] the helper's check replaces the phone face check where the service
/// allows it. Signing the helper out is the caller's (it holds the journal).
pub fn play_assisted<'a>(
    service: &'a Service,
    lang: Lang,
    script: Script<'_>,
    assist: Assist,
    backend: &dyn Backend,
    outbox: Option<&dyn Outbox>,
) -> (Flow<'a>, Transcript) {
    let mut flow = Flow::new(service, lang);
    flow.set_helper(assist.helper.clone());
    // The first poll at once, then one every 100 ms for as long as the script waits.
    flow.set_timing(Timing {
        first_poll: Duration::ZERO,
        poll_every: Duration::from_millis(100),
        give_up_after: script.wait,
    });
    let mut t = Transcript {
        service: service.id.clone(),
        screen: vec![format!("== {} ({})", service.name(lang), service.id)],
        reply: None,
        queued: false,
        failed: None,
    };
    if let Some(h) = &assist.helper {
        t.screen.push(h.banner(lang));
    }
    let result = steps(&mut flow, &mut t, script, &assist, backend, outbox);
    if let Err((step, e)) = result {
        t.failed = Some((step.to_string(), e.message(service, lang)));
        t.screen.push(format!("[{step}] {e}"));
    }
    t.reply = flow.reply().cloned();
    t.queued = flow.queued();
    (flow, t)
}

type StepResult = Result<(), (&'static str, FlowError)>;

fn steps(
    flow: &mut Flow<'_>,
    t: &mut Transcript,
    script: Script<'_>,
    assist: &Assist,
    backend: &dyn Backend,
    outbox: Option<&dyn Outbox>,
) -> StepResult {
    let lang = flow.lang();
    let service = flow.service();
    if flow.step() == Step::Identify {
        let Some(identity) = script.identity else {
            return Err(("identify", FlowError::NotHere));
        };
        t.screen.push(format!(
            "{}: {}",
            Text::IdentityLabel.get(lang),
            identity.masked()
        ));
        flow.identify(identity, backend)
            .map_err(|e| ("identify", e))?;
    }
    if flow.step() == Step::FaceCheck && assist.staff_verify {
        flow.staff_verify(backend, outbox)
            .map_err(|e| ("staff-check", e))?;
        let id = flow
            .helper()
            .map(|h| h.staff_id.clone())
            .unwrap_or_default();
        t.screen
            .push(Text::StaffVerified.fill(lang, &[("id", &id)]));
    }
    if flow.step() == Step::FaceCheck {
        let url = flow.face_check_url().unwrap_or_default().to_string();
        t.screen
            .push(format!("{}: {url}", Text::ScanForFaceCheck.get(lang)));
        if script.sample {
            (script.open_link)(&url).map_err(|e| {
                (
                    "face-check",
                    FlowError::Backend(BackendError::Unreachable(format!("{e:#}"))),
                )
            })?;
        }
        match wait_on_phone(flow, Step::FaceCheck, |f| f.poll_face_check(backend)) {
            Ok(Step::FaceCheck) | Err(_) => return Err(("face-check", FlowError::NotHere)),
            Ok(_) => t.screen.push(Text::FaceCheckPassed.get(lang).into()),
        }
    }
    if flow.step() == Step::Licences {
        for l in flow.offered_licences() {
            t.screen.push(format!(
                "{}: {} {}",
                Text::ELicence.get(lang),
                lang.pick(&l.name_zh, &l.name_en),
                l.identifier_display()
            ));
        }
        if flow.licences_unavailable() {
            t.screen.push(Text::LicencesUnavailable.get(lang).into());
        }
        let consent = script.elicense_consent;
        t.screen.push(format!(
            "{} [{}]",
            Text::UseLicences.get(lang),
            if consent {
                Text::Agree.get(lang)
            } else {
                Text::Decline.get(lang)
            }
        ));
        flow.attach_licences(consent).map_err(|e| ("licences", e))?;
    }
    if flow.step() == Step::Form {
        for f in &service.fields {
            let v = match script.fields.get(&f.key) {
                Some(v) => v.clone(),
                None if script.sample => f.example.clone(),
                None => continue,
            };
            flow.set_field(&f.key, &v).map_err(|e| ("form", e))?;
            t.screen.push(format!("{}: {v}", f.label(lang)));
        }
        flow.finish_form().map_err(|e| ("form", e))?;
    }
    if flow.step() == Step::Commitment {
        t.screen.push(Text::Commitment.get(lang).to_string());
        for c in service.commitment_clauses(lang) {
            t.screen.push(format!("  {c}"));
        }
        t.screen
            .push(format!("[{}]", Text::AgreeAndContinue.get(lang)));
        flow.commit(true).map_err(|e| ("commitment", e))?;
    }
    if flow.step() == Step::Slot {
        let today = chrono::Local::now().date_naive();
        flow.choose_first_free_slot(backend, today, 10)
            .map_err(|e| ("slot", e))?;
        if let Some(s) = flow.chosen_slot() {
            t.screen.push(format!(
                "{}: {} {}",
                Text::AppointmentSlot.get(lang),
                s.start.replace('T', " "),
                s.office
            ));
        }
    }
    flow.confirm(backend, outbox).map_err(|e| ("submit", e))?;
    if flow.step() == Step::Payment {
        if let Some(p) = flow.reply().and_then(|r| r.pay.clone()) {
            t.screen.push(format!(
                "{} ¥{}: {}",
                Text::ScanToPay.get(lang),
                p.amount,
                p.pay_url
            ));
            if script.sample {
                (script.open_link)(&p.pay_url).map_err(|e| {
                    (
                        "payment",
                        FlowError::Backend(BackendError::Unreachable(format!("{e:#}"))),
                    )
                })?;
            }
        }
        match wait_on_phone(flow, Step::Payment, |f| f.poll_payment(backend, outbox)) {
            Ok(Step::Payment) => {
                return Err((
                    "payment",
                    FlowError::Backend(BackendError::Rejected {
                        code: "payment_timeout".into(),
                        message_zh: Text::PaymentTimeout.zh().into(),
                        message_en: Text::PaymentTimeout.en().into(),
                    }),
                ))
            }
            Ok(_) => t.screen.push(Text::Paid.get(lang).into()),
            Err(e) => return Err(("payment", e)),
        }
    }
    if flow.queued() {
        t.screen.push(format!(
            "{} {}",
            Text::QueuedShort.get(lang),
            flow.local_reference()
        ));
    }
    if let Some(r) = flow.reply() {
        t.screen
            .push(format!("-- {}", lang.pick(&r.title_zh, &r.title_en)));
        t.screen
            .push(format!("{}: {}", Text::Reference.get(lang), r.reference));
        for i in &r.items {
            t.screen.push(format!(
                "{}: {}",
                lang.pick(&i.label_zh, &i.label_en),
                i.value
            ));
        }
        if let Some(tab) = &r.table {
            t.screen.push(
                tab.columns
                    .iter()
                    .map(|(zh, en)| lang.pick(zh, en))
                    .collect::<Vec<_>>()
                    .join(" | "),
            );
            for row in &tab.rows {
                t.screen.push(row.join(" | "));
            }
        }
        if let (Some(zh), Some(en)) = (&r.next_steps_zh, &r.next_steps_en) {
            t.screen.push(lang.pick(zh, en).to_string());
        }
        if let Some(u) = &r.handoff_url {
            t.screen
                .push(format!("{}: {u}", Text::TakeResult.get(lang)));
        }
    }
    flow.done_with_result().map_err(|e| ("result", e))?;
    if let (Some(_), Some(l)) = (flow.helper(), assist.rate_helper) {
        t.screen
            .push(format!("{}: {l}", Text::RateHelper.get(lang)));
    }
    flow.evaluate_with_helper(script.rate, Vec::new(), assist.rate_helper, backend, outbox)
        .map_err(|e| ("evaluate", e))?;
    Ok(())
}
