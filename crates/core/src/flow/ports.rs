//! The flow engine's ports: what it needs from the platform ([`Backend`]) and from the journal
//! ([`Outbox`]), and the data that crosses them (replies, slots, held licences, submissions,
//! ratings). The engine, the identification by code and the adapters (the HTTP client, the
//! SQLite journal, test doubles) all import this module; it imports none of them.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use super::identity::Source;
use crate::catalog::Lang;
pub use crate::platform::api::IdentityMethod;

/// One row of a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Label, Chinese.
    pub label_zh: String,
    /// Label, English.
    pub label_en: String,
    /// Value (already formatted, no personal data beyond masked forms).
    pub value: String,
    /// The service marks the row safe to speak aloud (voice guidance). Off unless set: a result
    /// is spoken as "查询结果已显示在屏幕上", never with a person's amounts or identifiers.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub speak: bool,
}

/// A table of results (contribution months, payouts…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Table {
    /// Column headers as (zh, en).
    pub columns: Vec<(String, String)>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

/// A document to print (certificate-style, with a verification link for its QR code).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Document {
    /// Title, Chinese.
    pub title_zh: String,
    /// Title, English.
    pub title_en: String,
    /// Body lines.
    pub lines: Vec<String>,
    /// Where the printed QR code lets anyone check the document.
    pub verify_url: String,
}

/// A payment to make by QR code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PayInfo {
    /// Platform order id.
    pub order_id: String,
    /// Amount in yuan, formatted (e.g. `300.00`).
    pub amount: String,
    /// The link inside the payment QR.
    pub pay_url: String,
}

/// What the platform answered to a service request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyStatus {
    /// Done; the result is final.
    Completed,
    /// Accepted for processing (submit services); the reference follows it.
    Accepted,
    /// Waiting for payment.
    PaymentPending,
}

/// The platform's reply to a service request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// Platform request id.
    pub request_id: String,
    /// Reference the citizen keeps (办件编号).
    pub reference: String,
    /// Status.
    pub status: ReplyStatus,
    /// Title, Chinese.
    pub title_zh: String,
    /// Title, English.
    pub title_en: String,
    /// Key/value results.
    pub items: Vec<Item>,
    /// A table, when the result has one.
    pub table: Option<Table>,
    /// A document to print.
    pub document: Option<Document>,
    /// What happens next (submit services), Chinese.
    pub next_steps_zh: Option<String>,
    /// What happens next, English.
    pub next_steps_en: Option<String>,
    /// A payment to make.
    pub pay: Option<PayInfo>,
    /// Link to the result for the phone hand-off QR.
    pub handoff_url: Option<String>,
}

/// A bookable slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slot {
    /// Slot id to send back.
    pub slot_id: String,
    /// Start, local time `YYYY-MM-DD HH:MM`.
    pub start: String,
    /// Office name.
    pub office: String,
    /// Whether it can still be booked.
    pub available: bool,
}

/// An e-licence the platform holds for the citizen, offered instead of a paper document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldLicence {
    /// Licence type (catalog `[[licence]]` id).
    pub licence_type: String,
    /// Licence name, Chinese.
    pub name_zh: String,
    /// Licence name, English.
    pub name_en: String,
    /// 证照标识, masked (first 6 and last 4 characters).
    pub identifier_masked: String,
    /// What the service request carries to attach it.
    pub reference: String,
    /// Valid until (`YYYY-MM-DD` or 长期), when known.
    pub valid_to: Option<String>,
}

impl HeldLicence {
    /// The masked identifier as shown on screen and receipts: a long run of `*` is shortened
    /// to four, so a 70-character 证照标识 fits a line (`1.2.15****01.K`).
    pub fn identifier_display(&self) -> String {
        let mut out = String::new();
        let mut stars = 0;
        for c in self.identifier_masked.chars() {
            if c == '*' {
                stars += 1;
                if stars <= 4 {
                    out.push(c);
                }
            } else {
                stars = 0;
                out.push(c);
            }
        }
        out
    }
}

/// Who a platform call is about: the identified citizen as the platform needs it.
#[derive(Debug, Clone, Copy)]
pub struct SubjectRef<'a> {
    /// Full ID number (card or typed), or the masked one when a token stands for the person.
    pub id_number: &'a str,
    /// A subject token the platform issued for this citizen.
    pub subject_token: Option<&'a str>,
    /// How the citizen identified.
    pub source: Source,
}

/// A citizen identified by a code the platform resolved (identity code, online ticket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeIdentity {
    /// The platform's token for the person.
    pub subject_token: String,
    /// ID number, masked.
    pub id_masked: String,
    /// Name, when the platform shows it (memory only).
    pub name: Option<String>,
}

/// The result of polling a payment or a face check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollStatus {
    /// Not yet.
    Pending,
    /// Paid / confirmed.
    Done,
    /// Cancelled / refused.
    Refused,
    /// Timed out at the platform.
    Expired,
}

/// Why the platform could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The platform could not be reached (network down, timeout). Safe to retry with the same
    /// idempotency key; submissions stay queued in the journal.
    #[error("the service platform cannot be reached: {0}")]
    Unreachable(String),
    /// The platform refused the request; its message says why (shown to the citizen).
    #[error("the platform refused the request: {code}")]
    Rejected {
        /// Stable error code.
        code: String,
        /// Message, Chinese.
        message_zh: String,
        /// Message, English.
        message_en: String,
    },
    /// The platform answered something this kiosk does not understand (a bug or version skew),
    /// or refused the kiosk itself (bad token). Nothing was done at the platform.
    #[error("the platform's answer was not understood: {0}")]
    Protocol(String),
    /// The call went out but its answer was unreadable or too large: the platform may have
    /// carried it out. Like [`BackendError::Unreachable`], the outcome is unknown; a journaled
    /// submission stays queued and the outbox learns the answer later.
    #[error("the platform's answer was lost or unreadable: {0}")]
    Unanswered(String),
}

impl BackendError {
    /// Whether the platform may have carried out the call although no usable answer came back
    /// (lost, timed out, unreadable, too large, a server error). Only the other errors are known
    /// to have created nothing, so only they may tell the citizen to try again.
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            BackendError::Unreachable(_) | BackendError::Unanswered(_)
        )
    }
}

/// A service request as the engine hands it to the platform client and the journal.
#[derive(Debug, Clone, Serialize)]
pub struct Submission {
    /// Service id.
    pub service_id: String,
    /// Idempotency key (one per visit and service; retries reuse it).
    pub idempotency_key: String,
    /// The kiosk id it is sent under, with the key its idempotency scope at the platform: fixed
    /// when the submission is made and journaled with it, so every later sender uses it too.
    pub kiosk_id: String,
    /// Full ID number of the subject (memory and TLS only; the journal stores it encrypted or
    /// not at all, see docs/platform-api.md).
    pub id_number: String,
    /// How the subject identified.
    pub source: Source,
    /// A subject token the platform already issued for this citizen (identity codes), used
    /// instead of the number.
    pub subject_token: Option<String>,
    /// Acting for someone else.
    pub proxy: bool,
    /// The phone face check that was passed, if one was needed.
    pub face_check_id: Option<String>,
    /// Whether the commitment (告知承诺) was accepted.
    pub commitment_accepted: bool,
    /// Form values.
    pub fields: BTreeMap<String, String>,
    /// References of the e-licences attached instead of paper (with the citizen's consent).
    pub elicense: Vec<String>,
    /// The citizen's language.
    pub lang: Lang,
    /// How the citizen was identified, in full (`idcard+staff` after a staff check).
    pub identity_method: Option<IdentityMethod>,
    /// The helper's staff number (工号) on an assisted visit.
    pub staff_id: Option<String>,
}

impl Drop for Submission {
    fn drop(&mut self) {
        self.id_number.zeroize();
        if let Some(t) = self.subject_token.as_mut() {
            t.zeroize();
        }
        for v in self.fields.values_mut() {
            v.zeroize();
        }
    }
}

/// A rating (好差评).
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    /// Idempotency key.
    pub idempotency_key: String,
    /// The kiosk id it is sent under (see [`Submission::kiosk_id`]).
    pub kiosk_id: String,
    /// The platform request rated.
    pub request_id: String,
    /// Service id.
    pub service_id: String,
    /// 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    pub level: u8,
    /// Reasons (asked only for levels 1 and 2).
    pub reasons: Vec<String>,
    /// The helper of an assisted visit (工号).
    pub staff_id: Option<String>,
    /// The citizen's rating of the helper (1–5), if given.
    pub staff_level: Option<u8>,
}

/// The platform, as the engine needs it.
pub trait Backend {
    /// The kiosk id new submissions and ratings are made under ([`Submission::kiosk_id`]).
    fn kiosk_id(&self) -> &str;
    /// Sends a service request (idempotent by kiosk id and key), under `s.kiosk_id`.
    fn submit(&self, s: &Submission) -> Result<Reply, BackendError>;
    /// Payment status.
    fn payment(&self, order_id: &str) -> Result<PollStatus, BackendError>;
    /// Starts a phone face check; returns (check id, link for the QR).
    fn start_face_check(
        &self,
        service_id: &str,
        id_number: &str,
    ) -> Result<(String, String), BackendError>;
    /// Face check status.
    fn face_check(&self, check_id: &str) -> Result<PollStatus, BackendError>;
    /// Appointment slots for a service.
    fn slots(&self, service_id: &str, date: &str) -> Result<Vec<Slot>, BackendError>;
    /// The e-licences of `types` the platform holds for the subject (免证办); types not held are
    /// absent.
    fn licences(
        &self,
        service_id: &str,
        subject: SubjectRef<'_>,
        types: &[String],
    ) -> Result<Vec<HeldLicence>, BackendError>;
    /// Resolves an identity code only the platform can read (粤省事码, or an `EL1:` presentation
    /// when offline verification is off).
    fn resolve_code(&self, code: &str) -> Result<CodeIdentity, BackendError>;
    /// Consumes an online e-licence ticket (`ET1:`, single use) and returns its holder.
    fn consume_ticket(&self, reference: &str) -> Result<CodeIdentity, BackendError>;
    /// Sends a rating (idempotent by kiosk id and key), under `e.kiosk_id`.
    fn evaluate(&self, e: &Evaluation) -> Result<(), BackendError>;
}

/// The journal, as the engine needs it: written before anything is sent.
pub trait Outbox {
    /// Stores a submission before it is sent; returns the outbox id.
    fn enqueue_request(&self, s: &Submission) -> Result<i64, OutboxError>;
    /// Stores a rating before it is sent; returns the outbox id.
    fn enqueue_evaluation(&self, e: &Evaluation) -> Result<i64, OutboxError>;
    /// Marks an outbox item delivered.
    fn mark_done(&self, id: i64) -> Result<(), OutboxError>;
    /// Marks an outbox item refused for good: the platform answered that it did nothing, so the
    /// item must never be sent again.
    fn mark_failed(&self, id: i64, reason: &str) -> Result<(), OutboxError>;
    /// Adds a line to the transaction log (masked id and salted hash only).
    fn record(
        &self,
        service_id: &str,
        outcome: &str,
        id_number: Option<&str>,
    ) -> Result<(), OutboxError>;
    /// Adds a line to the audit trail: an assisted visit's actions (`actor` `staff:0012`,
    /// `action` `staff.…`, a detail that is never personal data).
    fn audit(&self, actor: &str, action: &str, detail: &str) -> Result<(), OutboxError>;
}

/// Why the [`Outbox`] could not store or update an item.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The store behind the outbox (the journal's database or key) failed; the cause says how.
    /// `{:#}` prints the whole chain of causes, `{}` the first.
    Store(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl OutboxError {
    /// Wraps a store's error.
    pub fn store(e: impl std::error::Error + Send + Sync + 'static) -> OutboxError {
        OutboxError::Store(Box::new(e))
    }
}

impl std::fmt::Display for OutboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutboxError::Store(e) => {
                write!(f, "{e}")?;
                if f.alternate() {
                    let mut cause = e.source();
                    while let Some(c) = cause {
                        write!(f, ": {c}")?;
                        cause = c.source();
                    }
                }
                Ok(())
            }
        }
    }
}
