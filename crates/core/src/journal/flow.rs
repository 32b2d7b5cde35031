//! The flow engine's [`Outbox`](crate::flow::Outbox) over the journal: a submission is split into
//! its clear part (service, kind of identification, e-licences, language) and its sealed part
//! (ID number or subject token, form values) before anything is sent.
use crate::flow::{Evaluation, Outbox, OutboxError, Submission};
use crate::platform::api::{self, SubjectKind};

use super::{Journal, JournalError, RequestMeta, RequestSecret};

/// How long the drain worker leaves a fresh item to the engine's own first attempt.
pub const ONLINE_GRACE_MS: i64 = 30_000;

/// The clear and sealed parts of a submission.
pub fn split(s: &Submission) -> (RequestMeta, RequestSecret) {
    let id_number = Some(s.id_number.clone()).filter(|n| !n.is_empty() && !n.contains('*'));
    let subject_token = if id_number.is_none() {
        s.subject_token.clone()
    } else {
        None
    };
    let has_subject = id_number.is_some() || subject_token.is_some();
    (
        RequestMeta {
            subject: has_subject.then_some((SubjectKind::from(s.source), s.proxy)),
            elicense: s.elicense.clone(),
            face_check_id: s.face_check_id.clone(),
            commitment_accepted: s.commitment_accepted,
            lang: s.lang,
            identity_method: s.identity_method,
            staff_id: s.staff_id.clone(),
        },
        RequestSecret {
            id_number,
            subject_token,
            fields: s
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        },
    )
}

impl From<JournalError> for OutboxError {
    fn from(e: JournalError) -> OutboxError {
        OutboxError::store(e)
    }
}

impl Outbox for Journal {
    fn enqueue_request(&self, s: &Submission) -> Result<i64, OutboxError> {
        let (meta, secret) = split(s);
        Ok(Journal::enqueue_request(
            self,
            &s.idempotency_key,
            &s.kiosk_id,
            &s.service_id,
            &meta,
            &secret,
            ONLINE_GRACE_MS,
        )?)
    }

    fn enqueue_evaluation(&self, e: &Evaluation) -> Result<i64, OutboxError> {
        let ev = api::Evaluation {
            request_id: e.request_id.clone(),
            service_id: e.service_id.clone(),
            level: e.level,
            reasons: e.reasons.clone(),
            staff_id: e.staff_id.clone(),
            staff_level: e.staff_level,
        };
        Ok(Journal::enqueue_evaluation(
            self,
            &e.idempotency_key,
            &e.kiosk_id,
            &ev,
            ONLINE_GRACE_MS,
        )?)
    }

    fn mark_done(&self, id: i64) -> Result<(), OutboxError> {
        Ok(Journal::mark_done(self, id, None)?)
    }

    fn mark_failed(&self, id: i64, reason: &str) -> Result<(), OutboxError> {
        Ok(Journal::mark_failed(self, id, reason)?)
    }

    fn record(
        &self,
        service_id: &str,
        outcome: &str,
        id_number: Option<&str>,
    ) -> Result<(), OutboxError> {
        Ok(self.record_transaction(service_id, outcome, id_number)?)
    }

    fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), OutboxError> {
        Ok(Journal::audit(self, actor, action, Some(detail))?)
    }
}
