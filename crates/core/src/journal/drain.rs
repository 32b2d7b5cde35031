//! The outbox drain: sends every queued item until the platform confirms it, with exponential
//! backoff while the platform is unreachable. Each attempt carries the item's idempotency key, so
//! an item sent twice (an answer lost, a stop between sending and marking done) is carried out
//! once by the platform, which answers the retry with its first answer.
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::{now_ms, HelpCall, ItemKind, Journal, OutboxItem, RequestMeta, RequestSecret, Result};
use crate::platform::{api, Client};

/// What one delivery attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Confirmed; the platform's id of the request or evaluation.
    Delivered(Option<String>),
    /// Not now (unreachable, timeout, busy): try again later.
    Retry(String),
    /// Refused for good (the platform's error code and message).
    Refused(String),
}

/// Something that can deliver outbox items: the platform client, or a test double.
pub trait Deliver: Send + Sync {
    /// Sends one item (with its opened secret, for requests).
    fn deliver(&self, item: &OutboxItem, secret: Option<&RequestSecret>) -> Outcome;
}

fn outcome(e: crate::platform::PlatformError) -> Outcome {
    if e.retryable() {
        Outcome::Retry(e.to_string())
    } else {
        Outcome::Refused(e.to_string())
    }
}

impl Deliver for Client {
    fn deliver(&self, item: &OutboxItem, secret: Option<&RequestSecret>) -> Outcome {
        // The identity the item was written under, never this process's own: a kiosk whose id
        // changed, or another process draining the journal, must not re-scope it at the platform.
        let kiosk_id = item.kiosk_id.as_deref().unwrap_or(&self.config().kiosk_id);
        match item.kind {
            ItemKind::Help => {
                let call: HelpCall = match serde_json::from_str(&item.payload) {
                    Ok(c) => c,
                    Err(e) => return Outcome::Refused(format!("unreadable outbox item: {e}")),
                };
                // The body is encoded from the stored call the same way on every attempt, so the
                // platform sees the same bytes for the same key.
                let sent = match &call {
                    HelpCall::Open(r) => serde_json::to_vec(r)
                        .map_err(|e| e.to_string())
                        .map(|b| self.help_as(kiosk_id, &item.idempotency_key, b)),
                    HelpCall::Cancel(c) => serde_json::to_vec(c)
                        .map_err(|e| e.to_string())
                        .map(|b| self.help_cancel_as(kiosk_id, &item.idempotency_key, b)),
                };
                match sent {
                    Ok(Ok(entry)) => Outcome::Delivered(Some(entry.help_id)),
                    Ok(Err(e)) => outcome(e),
                    Err(e) => Outcome::Refused(format!("unencodable outbox item: {e}")),
                }
            }
            ItemKind::Evaluation => {
                match self.evaluate_raw_as(
                    kiosk_id,
                    &item.idempotency_key,
                    item.payload.as_bytes().to_vec(),
                ) {
                    Ok(ack) => Outcome::Delivered(Some(ack.evaluation_id)),
                    Err(e) => outcome(e),
                }
            }
            ItemKind::Request => {
                let meta: RequestMeta = match serde_json::from_str(&item.payload) {
                    Ok(m) => m,
                    Err(e) => return Outcome::Refused(format!("unreadable outbox item: {e}")),
                };
                let empty = RequestSecret::default();
                let secret = secret.unwrap_or(&empty);
                let subject = match meta.subject {
                    None => None,
                    Some((kind, proxy)) => {
                        let token = match (&secret.id_number, &secret.subject_token) {
                            (Some(id), _) => match self.subject(&api::SubjectRequest {
                                id_number: id.clone(),
                                kind,
                            }) {
                                Ok(t) => t.subject_token,
                                Err(e) => return outcome(e),
                            },
                            (None, Some(t)) => t.clone(),
                            (None, None) => {
                                return Outcome::Refused(
                                    "the subject of this item was already wiped".into(),
                                )
                            }
                        };
                        Some(api::Subject::token(token, kind, proxy))
                    }
                };
                let req = api::ServiceRequest {
                    subject,
                    fields: secret.fields.iter().cloned().collect(),
                    elicense: meta.elicense,
                    face_check_id: meta.face_check_id,
                    commitment_accepted: meta.commitment_accepted,
                    lang: meta.lang,
                    identity_method: meta.identity_method,
                    staff_id: meta.staff_id,
                };
                match self.submit_as(kiosk_id, &item.service_id, &item.idempotency_key, &req) {
                    Ok(r) => Outcome::Delivered(Some(r.request_id)),
                    Err(e) => outcome(e),
                }
            }
        }
    }
}

/// Timing of the drain.
#[derive(Debug, Clone, Copy)]
pub struct DrainConfig {
    /// First retry delay; doubled per attempt.
    pub backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Longest sleep between looks at the outbox.
    pub poll: Duration,
}

impl Default for DrainConfig {
    fn default() -> Self {
        DrainConfig {
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            poll: Duration::from_secs(5),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DrainReport {
    /// Confirmed by the platform.
    pub delivered: usize,
    /// Refused for good.
    pub failed: usize,
    /// Put back for later (the pass stops at the first one: the platform is not reachable).
    pub deferred: usize,
}

/// The delay before attempt `attempts + 1`: `backoff · 2^(attempts−1)`, capped, +0–25 % jitter.
pub fn backoff(cfg: &DrainConfig, attempts: u32) -> Duration {
    zizhu_drivers::backoff::Backoff::new(cfg.backoff, cfg.max_backoff)
        .with_jitter(0.25)
        .delay_for(attempts)
}

/// One pass over the items due at `now`.
pub fn drain_once(
    journal: &Journal,
    deliver: &dyn Deliver,
    cfg: &DrainConfig,
    now: i64,
) -> Result<DrainReport> {
    let mut report = DrainReport::default();
    for item in journal.due(now, 64)? {
        match deliver_one(journal, deliver, cfg, &item)? {
            Outcome::Delivered(_) => report.delivered += 1,
            Outcome::Refused(_) => report.failed += 1,
            Outcome::Retry(_) => {
                report.deferred += 1;
                break;
            }
        }
    }
    Ok(report)
}

/// One attempt at one item, recorded in the journal: done, refused for good, or back in the
/// queue after the backoff for its attempt count. What the drain does per item, and what a
/// caller's own first attempt does (a help request is tried at once, then left to the drain).
pub fn deliver_one(
    journal: &Journal,
    deliver: &dyn Deliver,
    cfg: &DrainConfig,
    item: &OutboxItem,
) -> Result<Outcome> {
    journal.mark_sending(item.id)?;
    let secret = match item.kind {
        ItemKind::Request if item.sealed => match journal.secret(item) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(item = item.id, "outbox item cannot be opened: {e}");
                journal.mark_failed(item.id, &e.to_string())?;
                return Ok(Outcome::Refused(e.to_string()));
            }
        },
        _ => None,
    };
    let outcome = deliver.deliver(item, secret.as_ref());
    match &outcome {
        Outcome::Delivered(r) => {
            journal.mark_done(item.id, r.as_deref())?;
            tracing::info!(item = item.id, service = %item.service_id, "outbox item delivered");
        }
        Outcome::Refused(e) => {
            tracing::warn!(item = item.id, service = %item.service_id, "outbox item refused: {e}");
            journal.mark_failed(item.id, e)?;
        }
        Outcome::Retry(e) => {
            let wait = backoff(cfg, item.attempts + 1);
            let next = now_ms() + wait.as_millis() as i64;
            tracing::debug!(item = item.id, ?wait, "outbox item deferred: {e}");
            journal.mark_retry(item.id, e, next)?;
        }
    }
    Ok(outcome)
}

enum Msg {
    Wake,
    Stop,
}

/// The running drain worker; stops (after the current attempt) when dropped.
pub struct DrainHandle {
    tx: Sender<Msg>,
    thread: Option<JoinHandle<()>>,
}

impl DrainHandle {
    /// Asks for a pass now (after an enqueue, or when the network is back).
    pub fn wake(&self) {
        let _ = self.tx.send(Msg::Wake);
    }
}

impl Drop for DrainHandle {
    fn drop(&mut self) {
        let _ = self.tx.send(Msg::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts the drain worker on its own thread.
pub fn spawn(
    journal: Arc<Journal>,
    deliver: Arc<dyn Deliver>,
    cfg: DrainConfig,
) -> std::io::Result<DrainHandle> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("outbox-drain".into())
        .spawn(move || loop {
            match drain_once(&journal, deliver.as_ref(), &cfg, now_ms()) {
                Ok(r) if r != DrainReport::default() => tracing::debug!(?r, "outbox pass"),
                Ok(_) => {}
                Err(e) => tracing::error!("outbox pass failed: {e}"),
            }
            let sleep = match journal.next_due() {
                Ok(Some(t)) => Duration::from_millis((t - now_ms()).clamp(10, i64::MAX) as u64),
                _ => cfg.poll,
            }
            .min(cfg.poll);
            match rx.recv_timeout(sleep) {
                Ok(Msg::Wake) | Err(RecvTimeoutError::Timeout) => {}
                Ok(Msg::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            }
        })?;
    Ok(DrainHandle {
        tx,
        thread: Some(thread),
    })
}
