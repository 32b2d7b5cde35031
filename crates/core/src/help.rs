//! Call for help (呼叫帮助): what pressing the help control does, without the UI. A help request is
//! written to the journal's outbox first ([`HelpCall`]), then tried at once; when the platform
//! cannot be reached it stays queued and the outbox drain sends it when the platform is back. Its
//! idempotency key makes the platform raise it once however often it is sent. The kiosk then
//! watches it ([`HelpDesk::progress`]) until staff acknowledge it; a cancel is another outbox
//! item sent after it.
//!
//! Nothing personal is sent or kept: the screen, the service, how long the visit has lasted and
//! the kind of the last error (a fixed word), never a name, an ID number or what was typed.
use std::sync::Arc;

use crate::journal::drain::{self, Deliver, DrainConfig, Outcome};
use crate::journal::{HelpCall, ItemState, Journal, JournalError};
use crate::platform::api::{HelpCancel, HelpRequest, HelpState};
use crate::platform::{client, Client, PlatformError};

/// How long the drain leaves a new help item to the first attempt made right away.
const FIRST_ATTEMPT_MS: i64 = 10_000;

/// What went wrong with a help request.
#[derive(Debug, thiserror::Error)]
pub enum HelpError {
    /// The request could not be written to the journal (disk full, I/O): it was not raised. The
    /// screen tells the citizen to ask staff directly or call the hotline.
    #[error("the help request could not be stored: {0}")]
    Journal(#[from] JournalError),
    /// No idempotency key could be made (the OS random source failed).
    #[error("the help request could not be prepared: {0}")]
    Setup(String),
    /// Asking the platform about the request failed (it stays raised; the kiosk asks again).
    #[error("the platform could not be asked about the help request: {0}")]
    Platform(#[from] PlatformError),
}

/// A help request written to the outbox, not yet tried at the platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    /// The idempotency key it is sent with (and cancelled by).
    pub key: String,
    /// Its outbox id.
    id: i64,
}

/// A help request raised from this kiosk: its outbox key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    /// The idempotency key it is sent with (and cancelled by).
    pub key: String,
    /// Whether the first attempt reached the platform.
    pub delivered: bool,
}

/// Where a raised help request is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still in the outbox: the platform has not confirmed it yet.
    Queued,
    /// At the platform, waiting for staff.
    Open {
        /// The platform's id.
        help_id: String,
    },
    /// A staff member is on the way.
    Acknowledged {
        /// The platform's id.
        help_id: String,
        /// Who took it (staff number), when the platform says.
        staff_id: Option<String>,
    },
    /// Cancelled at the platform.
    Cancelled,
    /// The platform refused it for good (the reason, for the log).
    Refused(String),
}

/// The kiosk's help desk: raises, cancels and follows help requests through the journal.
pub struct HelpDesk {
    journal: Arc<Journal>,
    client: Arc<Client>,
    kiosk_id: String,
    cfg: DrainConfig,
}

impl std::fmt::Debug for HelpDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HelpDesk")
            .field("kiosk_id", &self.kiosk_id)
            .finish_non_exhaustive()
    }
}

impl HelpDesk {
    /// A help desk sending under `kiosk_id` through `client`, keeping its calls in `journal`.
    pub fn new(journal: Arc<Journal>, client: Arc<Client>, kiosk_id: &str) -> HelpDesk {
        HelpDesk {
            journal,
            client,
            kiosk_id: kiosk_id.to_string(),
            cfg: DrainConfig::default(),
        }
    }

    /// The journal the calls are kept in.
    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    /// Raises a help request: [`HelpDesk::store`], then [`HelpDesk::first_attempt`]. Blocks for
    /// the platform's answer (at most the client's timeout): call it off the UI thread. An error
    /// means nothing was stored (the disk); a platform that does not answer is not an error: the
    /// request stays queued for the drain.
    pub fn raise(&self, req: HelpRequest) -> Result<Raised, HelpError> {
        let stored = self.store(req)?;
        self.first_attempt(&stored)
    }

    /// Writes a help request to the outbox and the audit trail, without calling the platform:
    /// from here it is kept, and the kiosk can say so (and set `help_pending`) at once, before
    /// a slow platform answers.
    pub fn store(&self, req: HelpRequest) -> Result<Stored, HelpError> {
        let key = client::new_key().map_err(|e| HelpError::Setup(e.to_string()))?;
        let screen = req.screen.clone();
        let id = match self.journal.enqueue_help(
            &key,
            &self.kiosk_id,
            &HelpCall::Open(req),
            FIRST_ATTEMPT_MS,
        ) {
            Ok(id) => id,
            Err(e) => {
                // A full disk may still take the small audit row (or not: then it is logged).
                tracing::error!(screen = %screen, "help request not stored: {e}");
                self.audit("help.not_stored", &screen);
                return Err(e.into());
            }
        };
        self.audit("help.call", &screen);
        tracing::info!(screen = %screen, "help requested");
        Ok(Stored { key, id })
    }

    /// Tries a stored request at the platform once, now (the drain retries it if this fails).
    pub fn first_attempt(&self, stored: &Stored) -> Result<Raised, HelpError> {
        let delivered = matches!(self.attempt(stored.id)?, Some(Outcome::Delivered(_)));
        Ok(Raised {
            key: stored.key.clone(),
            delivered,
        })
    }

    /// Cancels a raised request (`reason`: `citizen`, `visit_ended` or `staff_signed_in`): a
    /// second outbox item, sent after the first. Tried at once like the request.
    pub fn cancel(&self, raised: &Raised, reason: &str) -> Result<(), HelpError> {
        let key = client::new_key().map_err(|e| HelpError::Setup(e.to_string()))?;
        let call = HelpCall::Cancel(HelpCancel {
            request_key: raised.key.clone(),
            reason: reason.to_string(),
        });
        let id = self
            .journal
            .enqueue_help(&key, &self.kiosk_id, &call, FIRST_ATTEMPT_MS)?;
        self.audit("help.cancel", reason);
        // The request itself first, when it is still waiting (the platform cancels what it has).
        if let Some(open) = self.journal.item_by_key(&raised.key)? {
            if matches!(open.state, ItemState::Queued | ItemState::Sent) {
                self.attempt(open.id)?;
            }
        }
        self.attempt(id)?;
        Ok(())
    }

    /// Where the request is: in the outbox, or (once confirmed) what the platform says of it.
    pub fn progress(&self, raised: &Raised) -> Result<Progress, HelpError> {
        let Some(item) = self.journal.item_by_key(&raised.key)? else {
            return Ok(Progress::Queued);
        };
        match (item.state, item.platform_ref) {
            (ItemState::Failed, _) => Ok(Progress::Refused(
                item.last_error.unwrap_or_else(|| "refused".into()),
            )),
            (ItemState::Done, Some(help_id)) => {
                let entry = self.client.help(&help_id)?;
                Ok(match entry.state {
                    HelpState::Open => Progress::Open { help_id },
                    HelpState::Acknowledged => Progress::Acknowledged {
                        help_id,
                        staff_id: entry.staff_id,
                    },
                    HelpState::Cancelled => Progress::Cancelled,
                })
            }
            _ => Ok(Progress::Queued),
        }
    }

    /// One attempt at an outbox item now, unless it is already done or refused.
    fn attempt(&self, id: i64) -> Result<Option<Outcome>, HelpError> {
        let Some(item) = self.journal.item(id)? else {
            return Ok(None);
        };
        if !matches!(item.state, ItemState::Queued | ItemState::Sent) {
            return Ok(None);
        }
        let deliver: &dyn Deliver = self.client.as_ref();
        Ok(Some(drain::deliver_one(
            &self.journal,
            deliver,
            &self.cfg,
            &item,
        )?))
    }

    /// An audit row; a full disk must not stop the help request (it is logged instead).
    fn audit(&self, action: &str, detail: &str) {
        if let Err(e) = self.journal.audit("citizen", action, Some(detail)) {
            tracing::warn!(action, "audit row not written: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> HelpRequest {
        HelpRequest {
            site: "示例站".into(),
            screen: "form".into(),
            service_id: Some("ps-idcard-lost".into()),
            visit_seconds: 42,
            last_error: Some("input".into()),
        }
    }

    #[test]
    fn help_call_round_trips_and_is_kept_when_the_platform_is_unreachable() {
        let dir = tempfile::tempdir().expect("tmp");
        let journal = Arc::new(Journal::open(dir.path()).expect("journal"));
        // Nothing listens on port 9: every attempt fails to connect.
        let mut cc = crate::platform::ClientConfig::new("http://127.0.0.1:9", "t", "K-1");
        cc.attempts = 1;
        cc.timeout = std::time::Duration::from_millis(500);
        let client = Arc::new(Client::new(cc).expect("client"));
        let desk = HelpDesk::new(journal.clone(), client, "K-1");
        let raised = desk.raise(request()).expect("raised");
        assert!(!raised.delivered);
        assert_eq!(desk.progress(&raised).expect("progress"), Progress::Queued);
        let item = journal.item_by_key(&raised.key).unwrap().expect("kept");
        assert_eq!(item.kind, crate::journal::ItemKind::Help);
        assert_eq!(item.state, ItemState::Queued);
        assert_eq!(item.attempts, 1);
        let call: HelpCall = serde_json::from_str(&item.payload).expect("payload");
        assert_eq!(call, HelpCall::Open(request()));
        let audit = journal.audit_log(5).expect("audit");
        assert_eq!(audit[0].action, "help.call");
        assert_eq!(audit[0].detail.as_deref(), Some("form"));
    }
}
