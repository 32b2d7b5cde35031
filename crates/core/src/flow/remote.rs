//! The flow engine's [`Backend`] over the platform's HTTP client: maps the engine's requests to
//! the API of docs/platform-api.md and the API's answers back to the engine's plain types. The
//! full ID number is exchanged for a subject token (`POST /v1/subjects`) so that only tokens
//! travel in service requests.
use crate::platform::api::{self, ServiceResult, SubjectKind};
use crate::platform::{Client, ErrorKind, PlatformError};

use super::engine::{
    Backend, BackendError, CodeIdentity, Document, Evaluation, HeldLicence, Item, PayInfo,
    PollStatus, Reply, ReplyStatus, Slot, SubjectRef, Submission, Table,
};
use super::identity::Source;
use crate::text::Text;

impl From<PlatformError> for BackendError {
    fn from(e: PlatformError) -> Self {
        match (&e, e.kind()) {
            (PlatformError::Api { error, .. }, ErrorKind::Rejected | ErrorKind::Conflict) => {
                BackendError::Rejected {
                    code: error.code.clone(),
                    message_zh: error.message_zh.clone(),
                    message_en: error.message_en.clone(),
                }
            }
            (_, ErrorKind::Unavailable) => BackendError::Unreachable(e.to_string()),
            (PlatformError::Malformed(_) | PlatformError::TooLarge { .. }, _) => {
                BackendError::Unanswered(e.to_string())
            }
            _ => BackendError::Protocol(e.to_string()),
        }
    }
}

impl From<Source> for SubjectKind {
    fn from(s: Source) -> SubjectKind {
        match s {
            Source::IdCard => SubjectKind::IdCard,
            Source::Code => SubjectKind::Code,
            Source::Typed => SubjectKind::Typed,
        }
    }
}

fn items(v: Vec<api::Item>) -> Vec<Item> {
    v.into_iter()
        .map(|i| Item {
            label_zh: i.label_zh,
            label_en: i.label_en,
            value: i.value,
            speak: i.speak,
        })
        .collect()
}

fn table(t: Option<api::Table>) -> Option<Table> {
    t.map(|t| Table {
        columns: t.columns.into_iter().map(|c| (c.zh, c.en)).collect(),
        rows: t.rows,
    })
}

/// Converts a platform answer into the engine's reply.
pub fn reply(r: api::ServiceResponse) -> Reply {
    let status = match r.status {
        api::RequestStatus::Completed => ReplyStatus::Completed,
        api::RequestStatus::Accepted | api::RequestStatus::FaceCheckPending => {
            ReplyStatus::Accepted
        }
        api::RequestStatus::PaymentPending => ReplyStatus::PaymentPending,
    };
    let mut out = Reply {
        request_id: r.request_id,
        reference: r.reference,
        status,
        title_zh: String::new(),
        title_en: String::new(),
        items: Vec::new(),
        table: None,
        document: None,
        next_steps_zh: None,
        next_steps_en: None,
        pay: None,
        handoff_url: Some(r.handoff_url).filter(|u| !u.is_empty()),
    };
    match r.result {
        ServiceResult::Screen(s) => {
            out.title_zh = s.title_zh;
            out.title_en = s.title_en;
            out.items = items(s.items);
            out.table = table(s.table);
        }
        ServiceResult::Print(p) => {
            out.title_zh = p.screen.title_zh;
            out.title_en = p.screen.title_en;
            out.items = items(p.screen.items);
            out.table = table(p.screen.table);
            out.document = Some(Document {
                title_zh: p.document.title_zh,
                title_en: p.document.title_en,
                lines: p.document.lines,
                verify_url: p.document.verify_url,
            });
        }
        ServiceResult::Submit(s) => {
            out.title_zh = Text::ApplicationAccepted.zh().into();
            out.title_en = Text::ApplicationAccepted.en().into();
            out.items = vec![Item {
                label_zh: Text::AcceptanceNumber.zh().into(),
                label_en: Text::AcceptanceNumber.en().into(),
                value: s.reference,
                speak: false,
            }];
            out.next_steps_zh = Some(s.next_steps_zh);
            out.next_steps_en = Some(s.next_steps_en);
        }
        ServiceResult::Pay(p) => {
            out.title_zh = Text::ScanToPayTitle.zh().into();
            out.title_en = Text::ScanToPayTitle.en().into();
            out.items = items(p.items);
            out.pay = Some(PayInfo {
                order_id: p.order_id,
                amount: p.amount,
                pay_url: p.pay_url,
            });
        }
        ServiceResult::Appointment(a) => {
            out.title_zh = Text::AppointmentBooked.zh().into();
            out.title_en = Text::AppointmentBooked.en().into();
            out.items = vec![
                Item {
                    label_zh: Text::Office.zh().into(),
                    label_en: Text::Office.en().into(),
                    value: a.office_zh,
                    // The office's name is public.
                    speak: true,
                },
                Item {
                    label_zh: Text::Time.zh().into(),
                    label_en: Text::Time.en().into(),
                    value: format!("{} – {}", a.slot.start, a.slot.end),
                    speak: false,
                },
                Item {
                    label_zh: Text::BookingReference.zh().into(),
                    label_en: Text::BookingReference.en().into(),
                    value: a.reference,
                    speak: false,
                },
            ];
        }
    }
    out
}

impl Backend for Client {
    fn kiosk_id(&self) -> &str {
        &self.config().kiosk_id
    }

    fn submit(&self, s: &Submission) -> Result<Reply, BackendError> {
        let token = match &s.subject_token {
            Some(t) => Some(t.clone()),
            None if s.id_number.is_empty() => None,
            // The token exchange files nothing: when its answer is unreadable the application
            // has certainly not been sent, so that is a plain failure, not an unknown outcome.
            // (Unreachable stays unreachable: the application is saved, offline-first.)
            None => Some(
                self.subject(&api::SubjectRequest {
                    id_number: s.id_number.clone(),
                    kind: s.source.into(),
                })
                .map_err(|e| match BackendError::from(e) {
                    BackendError::Unanswered(m) => {
                        BackendError::Protocol(format!("subject exchange: {m}"))
                    }
                    other => other,
                })?
                .subject_token,
            ),
        };
        let req = api::ServiceRequest {
            subject: token.map(|t| api::Subject::token(t, s.source.into(), s.proxy)),
            fields: s.fields.clone(),
            elicense: s.elicense.clone(),
            face_check_id: s.face_check_id.clone(),
            commitment_accepted: s.commitment_accepted,
            lang: s.lang,
            identity_method: s.identity_method,
            staff_id: s.staff_id.clone(),
        };
        Ok(reply(Client::submit_as(
            self,
            &s.kiosk_id,
            &s.service_id,
            &s.idempotency_key,
            &req,
        )?))
    }

    fn payment(&self, order_id: &str) -> Result<PollStatus, BackendError> {
        Ok(match Client::payment(self, order_id)?.status {
            api::PaymentState::Pending => PollStatus::Pending,
            api::PaymentState::Paid => PollStatus::Done,
            api::PaymentState::Cancelled => PollStatus::Refused,
            api::PaymentState::Expired => PollStatus::Expired,
        })
    }

    fn start_face_check(
        &self,
        service_id: &str,
        id_number: &str,
    ) -> Result<(String, String), BackendError> {
        let fc = Client::start_face_check(
            self,
            &api::FaceCheckRequest {
                service_id: service_id.to_string(),
                subject: api::Subject::id_number(id_number, SubjectKind::IdCard, false),
            },
        )?;
        Ok((fc.check_id, fc.url))
    }

    fn face_check(&self, check_id: &str) -> Result<PollStatus, BackendError> {
        Ok(match Client::face_check(self, check_id)?.status {
            api::FaceCheckState::Pending => PollStatus::Pending,
            api::FaceCheckState::Confirmed => PollStatus::Done,
            api::FaceCheckState::Refused => PollStatus::Refused,
            api::FaceCheckState::Expired => PollStatus::Expired,
        })
    }

    fn slots(&self, service_id: &str, date: &str) -> Result<Vec<Slot>, BackendError> {
        Ok(Client::slots(self, service_id, date)?
            .into_iter()
            .map(|s| Slot {
                slot_id: s.slot_id,
                start: s.start,
                office: s.office,
                available: s.available,
            })
            .collect())
    }

    fn licences(
        &self,
        service_id: &str,
        subject: SubjectRef<'_>,
        types: &[String],
    ) -> Result<Vec<HeldLicence>, BackendError> {
        let kind: SubjectKind = subject.source.into();
        let subject = match subject.subject_token {
            Some(t) => api::Subject::token(t, kind, false),
            None => api::Subject::id_number(subject.id_number, kind, false),
        };
        let list = Client::licences(
            self,
            &api::LicenceRequest {
                subject,
                service_id: service_id.to_string(),
                types: types.to_vec(),
            },
        )?;
        Ok(list
            .licences
            .into_iter()
            .map(|l| HeldLicence {
                licence_type: l.licence_type,
                name_zh: l.name_zh,
                name_en: l.name_en,
                identifier_masked: l.identifier_masked,
                reference: l.reference,
                valid_to: l.valid_to,
            })
            .collect())
    }

    fn resolve_code(&self, code: &str) -> Result<CodeIdentity, BackendError> {
        let p = Client::resolve_identity(self, code)?;
        Ok(CodeIdentity {
            subject_token: p.subject_token,
            id_masked: p.id_masked,
            name: Some(p.name),
        })
    }

    fn consume_ticket(&self, reference: &str) -> Result<CodeIdentity, BackendError> {
        let key = crate::flow::engine::new_key();
        let t = Client::consume_ticket(self, reference, &key)?;
        Ok(CodeIdentity {
            subject_token: t.subject_token,
            id_masked: t.holder_masked,
            name: None,
        })
    }

    fn evaluate(&self, e: &Evaluation) -> Result<(), BackendError> {
        Client::evaluate_as(
            self,
            &e.kiosk_id,
            &e.idempotency_key,
            &api::Evaluation {
                request_id: e.request_id.clone(),
                service_id: e.service_id.clone(),
                level: e.level,
                reasons: e.reasons.clone(),
                staff_id: e.staff_id.clone(),
                staff_level: e.staff_level,
            },
        )?;
        Ok(())
    }
}
