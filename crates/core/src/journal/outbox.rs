//! The outbox: state-changing platform calls (service requests, evaluations, help requests) written before
//! they are sent, with their state until the platform confirms them. The part that identifies
//! the citizen is sealed ([`super::seal`]) and deleted once confirmed.
use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::{now_ms, Journal, JournalError, Result};
use crate::catalog::Lang;
use crate::platform::api::SubjectKind;

/// Kind of an outbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A service request.
    Request,
    /// An evaluation (好差评).
    Evaluation,
    /// A help request or its cancellation (呼叫帮助; payload [`HelpCall`]).
    Help,
}

impl ItemKind {
    fn as_str(self) -> &'static str {
        match self {
            ItemKind::Request => "request",
            ItemKind::Evaluation => "evaluation",
            ItemKind::Help => "help",
        }
    }
}

/// State of an outbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemState {
    /// Waiting to be sent.
    Queued,
    /// Being sent (or the kiosk stopped while sending: re-sent on the next drain).
    Sent,
    /// Confirmed by the platform.
    Done,
    /// Refused by the platform for good (reason in `last_error`).
    Failed,
}

impl ItemState {
    fn parse(s: &str) -> ItemState {
        match s {
            "sent" => ItemState::Sent,
            "done" => ItemState::Done,
            "failed" => ItemState::Failed,
            _ => ItemState::Queued,
        }
    }
}

/// The payload of a help item: raise a help request, or cancel the one raised with a key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HelpCall {
    /// `POST /v1/help`.
    Open(crate::platform::api::HelpRequest),
    /// `POST /v1/help/cancel`.
    Cancel(crate::platform::api::HelpCancel),
}

/// The clear part of a queued service request (nothing that identifies the citizen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestMeta {
    /// How the subject identified, and whether acting for someone else; `None` for auth `none`.
    pub subject: Option<(SubjectKind, bool)>,
    /// E-licence references.
    pub elicense: Vec<String>,
    /// Confirmed phone face check.
    pub face_check_id: Option<String>,
    /// Commitment accepted.
    pub commitment_accepted: bool,
    /// Language.
    pub lang: Lang,
    /// How the citizen was identified, in full (absent in items written before staff sign-in).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_method: Option<crate::platform::api::IdentityMethod>,
    /// The helper's staff number on an assisted visit (not personal data of the citizen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<String>,
}

/// The sealed part of a queued service request: who, and the form values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Zeroize)]
#[zeroize(drop)]
pub struct RequestSecret {
    /// Full ID number (when no subject token was available).
    pub id_number: Option<String>,
    /// Subject token.
    pub subject_token: Option<String>,
    /// Form values.
    pub fields: Vec<(String, String)>,
}

/// One outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    /// Row id.
    pub id: i64,
    /// Request or evaluation.
    pub kind: ItemKind,
    /// The idempotency key sent with every attempt.
    pub idempotency_key: String,
    /// The kiosk id every attempt is sent under (`X-Kiosk-Id`), fixed when the item was written:
    /// the platform's idempotency scope is this id and the key together. `None` only for items
    /// written before migration 0003 (sent under the sender's own id).
    pub kiosk_id: Option<String>,
    /// The service.
    pub service_id: String,
    /// Clear JSON ([`RequestMeta`] or the evaluation).
    pub payload: String,
    /// Whether a sealed part is still stored.
    pub sealed: bool,
    /// State.
    pub state: ItemState,
    /// Attempts so far.
    pub attempts: u32,
    /// Unix ms of the next attempt.
    pub next_attempt_at: i64,
    /// Last error, if any.
    pub last_error: Option<String>,
    /// The platform's id once confirmed (`rq_…`, `ev_…`).
    pub platform_ref: Option<String>,
    /// Unix ms when written.
    pub created_at: i64,
}

/// Counts of outbox items by state (the backlog on the status endpoint).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    /// Waiting.
    pub queued: u64,
    /// In flight.
    pub sent: u64,
    /// Confirmed.
    pub done: u64,
    /// Refused for good.
    pub failed: u64,
}

impl OutboxCounts {
    /// Items not yet confirmed or refused.
    pub fn backlog(&self) -> u64 {
        self.queued + self.sent
    }
}

impl Journal {
    /// Writes a service request to the outbox before it is sent; returns its row id. The same
    /// idempotency key twice returns the first row (nothing new is written).
    /// `kiosk_id` is the identity the item is sent under by every sender, whoever sends it.
    /// `delay_ms` is how long the drain worker leaves it to the caller's own first attempt.
    #[allow(clippy::too_many_arguments)]
    pub fn enqueue_request(
        &self,
        key: &str,
        kiosk_id: &str,
        service_id: &str,
        meta: &RequestMeta,
        secret: &RequestSecret,
        delay_ms: i64,
    ) -> Result<i64> {
        let payload =
            serde_json::to_string(meta).map_err(|e| JournalError::Payload(e.to_string()))?;
        let plain = Zeroizing::new(
            serde_json::to_vec(secret).map_err(|e| JournalError::Payload(e.to_string()))?,
        );
        let sealed = self.seal(&plain, key)?;
        self.insert(
            ItemKind::Request,
            key,
            kiosk_id,
            service_id,
            &payload,
            Some(sealed),
            delay_ms,
        )
    }

    /// Writes an evaluation to the outbox (no personal data in it); returns its row id. Like a
    /// request, it is sent under `kiosk_id` by every sender.
    pub fn enqueue_evaluation(
        &self,
        key: &str,
        kiosk_id: &str,
        ev: &crate::platform::api::Evaluation,
        delay_ms: i64,
    ) -> Result<i64> {
        let payload =
            serde_json::to_string(ev).map_err(|e| JournalError::Payload(e.to_string()))?;
        self.insert(
            ItemKind::Evaluation,
            key,
            kiosk_id,
            &ev.service_id,
            &payload,
            None,
            delay_ms,
        )
    }

    /// Writes a help call to the outbox (nothing personal in it); returns its row id. The same
    /// key twice returns the first row. Sent under `kiosk_id` by every sender.
    pub fn enqueue_help(
        &self,
        key: &str,
        kiosk_id: &str,
        call: &HelpCall,
        delay_ms: i64,
    ) -> Result<i64> {
        let payload =
            serde_json::to_string(call).map_err(|e| JournalError::Payload(e.to_string()))?;
        let service = match call {
            HelpCall::Open(r) => r.service_id.clone().unwrap_or_default(),
            HelpCall::Cancel(_) => String::new(),
        };
        self.insert(
            ItemKind::Help,
            key,
            kiosk_id,
            &service,
            &payload,
            None,
            delay_ms,
        )
    }

    /// One item by its idempotency key.
    pub fn item_by_key(&self, key: &str) -> Result<Option<OutboxItem>> {
        let c = self.conn();
        Ok(c.query_row(
            "SELECT id, kind, idempotency_key, service_id, payload, sealed IS NOT NULL, state,
                    attempts, next_attempt_at, last_error, platform_ref, created_at, kiosk_id
             FROM outbox WHERE idempotency_key = ?1",
            params![key],
            row_item,
        )
        .optional()?)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert(
        &self,
        kind: ItemKind,
        key: &str,
        kiosk_id: &str,
        service_id: &str,
        payload: &str,
        sealed: Option<Vec<u8>>,
        delay_ms: i64,
    ) -> Result<i64> {
        let now = now_ms();
        let c = self.conn();
        if let Some(id) = c
            .query_row(
                "SELECT id FROM outbox WHERE idempotency_key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?
        {
            return Ok(id);
        }
        c.execute(
            "INSERT INTO outbox (kind, idempotency_key, service_id, payload, sealed, state,
                                 attempts, next_attempt_at, created_at, updated_at, kiosk_id)
             VALUES (?1, ?2, ?3, ?4, ?5, 'queued', 0, ?6, ?7, ?7, ?8)",
            params![
                kind.as_str(),
                key,
                service_id,
                payload,
                sealed,
                now + delay_ms.max(0),
                now,
                kiosk_id
            ],
        )?;
        Ok(c.last_insert_rowid())
    }

    /// Marks an item confirmed and deletes its sealed part.
    pub fn mark_done(&self, id: i64, platform_ref: Option<&str>) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET state = 'done', sealed = NULL, platform_ref = COALESCE(?2, platform_ref),
                    last_error = NULL, updated_at = ?3 WHERE id = ?1",
            params![id, platform_ref, now_ms()],
        )?;
        Ok(())
    }

    /// Marks an item refused for good and deletes its sealed part.
    pub fn mark_failed(&self, id: i64, error: &str) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET state = 'failed', sealed = NULL, last_error = ?2, updated_at = ?3
             WHERE id = ?1",
            params![id, error, now_ms()],
        )?;
        Ok(())
    }

    /// Marks an item as being sent (an attempt is counted).
    pub fn mark_sending(&self, id: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, updated_at = ?2
             WHERE id = ?1 AND state IN ('queued', 'sent')",
            params![id, now_ms()],
        )?;
        Ok(())
    }

    /// Puts an item back in the queue for a later attempt.
    pub fn mark_retry(&self, id: i64, error: &str, next_attempt_at: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE outbox SET state = 'queued', last_error = ?2, next_attempt_at = ?3, updated_at = ?4
             WHERE id = ?1 AND state IN ('queued', 'sent')",
            params![id, error, next_attempt_at, now_ms()],
        )?;
        Ok(())
    }

    /// Items due for an attempt at `now` (queued, or left "sent" by a stop mid-send), oldest first.
    pub fn due(&self, now: i64, limit: usize) -> Result<Vec<OutboxItem>> {
        let c = self.conn();
        let mut st = c.prepare_cached(
            "SELECT id, kind, idempotency_key, service_id, payload, sealed IS NOT NULL, state,
                    attempts, next_attempt_at, last_error, platform_ref, created_at, kiosk_id
             FROM outbox WHERE state IN ('queued', 'sent') AND next_attempt_at <= ?1
             ORDER BY id LIMIT ?2",
        )?;
        let rows = st.query_map(params![now, limit as i64], row_item)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// One item by row id.
    pub fn item(&self, id: i64) -> Result<Option<OutboxItem>> {
        let c = self.conn();
        Ok(c.query_row(
            "SELECT id, kind, idempotency_key, service_id, payload, sealed IS NOT NULL, state,
                    attempts, next_attempt_at, last_error, platform_ref, created_at, kiosk_id
             FROM outbox WHERE id = ?1",
            params![id],
            row_item,
        )
        .optional()?)
    }

    /// The earliest `next_attempt_at` of a pending item.
    pub fn next_due(&self) -> Result<Option<i64>> {
        Ok(self.conn().query_row(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state IN ('queued', 'sent')",
            [],
            |r| r.get(0),
        )?)
    }

    /// The sealed part of a request item, opened (wiped from memory when dropped).
    pub fn secret(&self, item: &OutboxItem) -> Result<Option<RequestSecret>> {
        let sealed: Option<Vec<u8>> = self.conn().query_row(
            "SELECT sealed FROM outbox WHERE id = ?1",
            params![item.id],
            |r| r.get(0),
        )?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let plain = self.open_sealed(&sealed, &item.idempotency_key)?;
        let s: RequestSecret =
            serde_json::from_slice(&plain).map_err(|e| JournalError::Payload(e.to_string()))?;
        Ok(Some(s))
    }

    /// Counts by state.
    pub fn counts(&self) -> Result<OutboxCounts> {
        let c = self.conn();
        let mut st = c.prepare_cached("SELECT state, COUNT(*) FROM outbox GROUP BY state")?;
        let mut out = OutboxCounts::default();
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
        for row in rows {
            let (s, n) = row?;
            let n = n.max(0) as u64;
            match ItemState::parse(&s) {
                ItemState::Queued => out.queued = n,
                ItemState::Sent => out.sent = n,
                ItemState::Done => out.done = n,
                ItemState::Failed => out.failed = n,
            }
        }
        Ok(out)
    }
}

fn row_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    let kind: String = r.get(1)?;
    let state: String = r.get(6)?;
    Ok(OutboxItem {
        id: r.get(0)?,
        kind: match kind.as_str() {
            "evaluation" => ItemKind::Evaluation,
            "help" => ItemKind::Help,
            _ => ItemKind::Request,
        },
        idempotency_key: r.get(2)?,
        service_id: r.get(3)?,
        payload: r.get(4)?,
        sealed: r.get(5)?,
        state: ItemState::parse(&state),
        attempts: r.get::<_, i64>(7)?.max(0) as u32,
        next_attempt_at: r.get(8)?,
        last_error: r.get(9)?,
        platform_ref: r.get(10)?,
        created_at: r.get(11)?,
        kiosk_id: r.get(12)?,
    })
}
