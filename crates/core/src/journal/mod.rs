//! The journal: the kiosk's SQLite file (WAL, `synchronous=FULL`, append-only migrations applied
//! through `user_version`) with
//! - the **outbox** of state-changing platform calls (service requests, evaluations), written
//!   before they are sent and drained by a background worker ([`drain`]) until the platform has
//!   confirmed each one — exactly once, thanks to its idempotency key;
//! - the **transaction log** (service, time, outcome, masked ID, salted hash);
//! - **device events** and the **audit** trail.
//!
//! Personal data: no name, address, photo or full ID number is ever written in clear. The part
//! of a queued request that identifies the citizen (ID number or subject token, form values) is
//! sealed with AES-256-GCM under a per-kiosk key kept in `journal.key` next to the database
//! (mode 0600), and deleted (with `secure_delete`) as soon as the platform confirms the call.
//! docs/platform-api.md, "Personal data", explains the choice.
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use ring::aead::{self, Aad, LessSafeKey, Nonce, UnboundKey};
use ring::hmac;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::catalog::Lang;
use crate::platform::api::SubjectKind;

pub mod catalog;
pub mod drain;
pub mod flow;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "journal.db";
/// File name of the per-kiosk key (sealing key + hash salt) inside the data directory.
pub const KEY_FILE: &str = "journal.key";

/// The migrations, in order; `user_version` is the number applied. Append only.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("migrations/0001_init.sql")),
    (
        "0002_elicense",
        include_str!("migrations/0002_elicense.sql"),
    ),
    (
        "0003_outbox_identity",
        include_str!("migrations/0003_outbox_identity.sql"),
    ),
    (
        "0004_catalog_bundle",
        include_str!("migrations/0004_catalog_bundle.sql"),
    ),
];

/// What went wrong with the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The data directory or the key file could not be read or written. Check that the
    /// directory exists, is writable by the kiosk user, and the disk is not full.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// SQLite refused (disk full, I/O error, locked, corrupt). Check the disk; a corrupt file
    /// must be moved aside (the outbox in it is then lost: report it).
    #[error("journal database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A migration failed; the database is left at the previous version. Report it with the
    /// migration name.
    #[error("journal migration {name}: {source}")]
    Migration {
        /// The migration.
        name: &'static str,
        /// The cause.
        source: rusqlite::Error,
    },
    /// The database was written by a newer Zizhu (more migrations than this one knows). Install
    /// that version again, or move the file aside.
    #[error("the journal is at version {found}, newer than this software ({known}); update Zizhu")]
    Newer {
        /// `user_version` found.
        found: i64,
        /// Migrations this build knows.
        known: usize,
    },
    /// The key file is damaged or sealing failed. Queued items sealed with another key cannot be
    /// re-sent; restore the key file from the kiosk's backup or accept their loss.
    #[error("journal key: {0}")]
    Key(String),
    /// A payload could not be encoded or decoded (a bug, or a hand-edited database).
    #[error("journal payload: {0}")]
    Payload(String),
}

/// The runtime's view of a [`JournalError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalErrorKind {
    /// Storage is failing (disk full, I/O): out of service; nothing may be acknowledged.
    Storage,
    /// The file or key is damaged or from another version: out of service, technician needed.
    Corrupt,
    /// A bug (encoding).
    Internal,
}

impl JournalError {
    /// The runtime's view of this error.
    pub fn kind(&self) -> JournalErrorKind {
        match self {
            JournalError::Io { .. } | JournalError::Sql(_) => JournalErrorKind::Storage,
            JournalError::Migration { .. } | JournalError::Newer { .. } | JournalError::Key(_) => {
                JournalErrorKind::Corrupt
            }
            JournalError::Payload(_) => JournalErrorKind::Internal,
        }
    }

    /// Whether trying again may succeed (a busy database).
    pub fn retryable(&self) -> bool {
        matches!(
            self,
            JournalError::Sql(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}

/// Result alias of this module.
pub type Result<T, E = JournalError> = std::result::Result<T, E>;

/// One line of the audit trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (Unix ms).
    pub at: i64,
    /// Who (`technician`, `operator`).
    pub actor: String,
    /// What, e.g. `maintenance.test_print`.
    pub action: String,
    /// Details (never personal data).
    pub detail: Option<String>,
}

/// One device health change ([`Journal::device_events`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceEventEntry {
    /// When (Unix ms).
    pub at: i64,
    /// `idcard`, `printer`, `scanner`, `gpio`.
    pub device: String,
    /// `ok`, `degraded`, `offline`.
    pub state: String,
    /// The plain reason (never personal data).
    pub detail: Option<String>,
}

/// One recent problem, for the maintenance screen ([`Journal::recent_errors`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorEntry {
    /// When (Unix ms).
    pub at: i64,
    /// `outbox` or `device`.
    pub source: String,
    /// What, e.g. `request failed`, `request retrying`, `printer offline`.
    pub what: String,
    /// The service of an outbox item ("" for devices).
    pub service_id: String,
    /// The error text.
    pub error: Option<String>,
}

/// Kind of an outbox item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    /// A service request.
    Request,
    /// An evaluation (好差评).
    Evaluation,
}

impl ItemKind {
    fn as_str(self) -> &'static str {
        match self {
            ItemKind::Request => "request",
            ItemKind::Evaluation => "evaluation",
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

/// One transaction-log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// Unix ms.
    pub at: i64,
    /// Service.
    pub service_id: String,
    /// `completed`, `accepted`, `queued`, `refused`, `abandoned`…
    pub outcome: String,
    /// ID masked (first 6, last 4).
    pub id_masked: Option<String>,
    /// HMAC-SHA256 of the ID number under the kiosk's salt, hex.
    pub id_hash: Option<String>,
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The per-kiosk key material.
struct Keys {
    seal: LessSafeKey,
    salt: hmac::Key,
}

fn load_keys(path: &Path) -> Result<Keys> {
    let io = |source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Zeroizing::new(match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut b = vec![0u8; 64];
            getrandom::fill(&mut b).map_err(|e| JournalError::Key(e.to_string()))?;
            let tmp = path.with_extension("key.tmp");
            let mut opts = fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(&b).map_err(io)?;
            f.sync_all().map_err(io)?;
            fs::rename(&tmp, path).map_err(io)?;
            b
        }
        Err(e) => return Err(io(e)),
    });
    if bytes.len() != 64 {
        return Err(JournalError::Key(format!(
            "{} has {} bytes, expected 64",
            path.display(),
            bytes.len()
        )));
    }
    let seal = UnboundKey::new(&aead::AES_256_GCM, &bytes[..32])
        .map_err(|_| JournalError::Key("bad sealing key".into()))?;
    let salt = hmac::Key::new(hmac::HMAC_SHA256, &bytes[32..]);
    bytes.zeroize();
    Ok(Keys {
        seal: LessSafeKey::new(seal),
        salt,
    })
}

/// Runs `f` again (up to 5 s) while SQLite says the database is busy or locked.
fn retry_busy<T>(mut f: impl FnMut() -> Result<T>) -> Result<T> {
    let start = std::time::Instant::now();
    loop {
        match f() {
            Err(
                JournalError::Sql(rusqlite::Error::SqliteFailure(e, _))
                | JournalError::Migration {
                    source: rusqlite::Error::SqliteFailure(e, _),
                    ..
                },
            ) if matches!(
                e.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) && start.elapsed() < std::time::Duration::from_secs(5) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// Applies the migrations not yet applied, each in its own `BEGIN IMMEDIATE` transaction that
/// reads `user_version` again before applying, so two processes opening the same journal at
/// once (the kiosk and `zizhu flow run --data-dir`) never apply one migration twice: the second
/// waits for the first (busy timeout) and then finds it done.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    let version = |c: &Connection| -> rusqlite::Result<i64> {
        c.query_row("PRAGMA user_version", [], |r| r.get(0))
    };
    let found = version(conn)?;
    if found > MIGRATIONS.len() as i64 {
        return Err(JournalError::Newer {
            found,
            known: MIGRATIONS.len(),
        });
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        if version(&tx)? > i as i64 {
            // Another process applied it meanwhile.
            continue;
        }
        tx.execute_batch(sql)
            .and_then(|_| tx.pragma_update(None, "user_version", (i + 1) as i64))
            .map_err(|source| JournalError::Migration { name, source })?;
        tx.commit()?;
        tracing::info!(migration = name, "journal migrated");
    }
    Ok(())
}

/// Checks the migration list: consecutive `NNNN_name` numbering from 0001, and every migration
/// applies on an empty database and leaves `user_version` at the count. Used by a unit test.
pub fn validate_migrations() -> Result<()> {
    for (i, (name, _)) in MIGRATIONS.iter().enumerate() {
        let want = format!("{:04}_", i + 1);
        if !name.starts_with(&want) {
            return Err(JournalError::Payload(format!(
                "migration {name} should be numbered {want}…"
            )));
        }
    }
    let mut c = Connection::open_in_memory()?;
    migrate(&mut c)?;
    migrate(&mut c)?;
    let v: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if v != MIGRATIONS.len() as i64 {
        return Err(JournalError::Payload(format!(
            "user_version {v} after migrating"
        )));
    }
    Ok(())
}

/// The journal: one connection behind a mutex (writes are short), shared by the flow engine and
/// the drain worker through an `Arc`.
pub struct Journal {
    conn: Mutex<Connection>,
    keys: Keys,
    path: PathBuf,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Journal {
    /// Opens (creating) `journal.db` and `journal.key` in `dir`.
    pub fn open(dir: &Path) -> Result<Journal> {
        fs::create_dir_all(dir).map_err(|source| JournalError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        Journal::open_files(&dir.join(DB_FILE), &dir.join(KEY_FILE))
    }

    /// Opens (creating) a database file with a key file.
    pub fn open_files(db: &Path, key: &Path) -> Result<Journal> {
        let keys = load_keys(key)?;
        let mut conn = Connection::open(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Switching a new database to WAL, and migrating it, can meet another process doing the
        // same at that moment; SQLite then answers "busy" at once for the mode switch. Retry.
        retry_busy(|| {
            conn.pragma_update(None, "journal_mode", "WAL")
                .map_err(Into::into)
        })?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        retry_busy(|| migrate(&mut conn))?;
        Ok(Journal {
            conn: Mutex::new(conn),
            keys,
            path: db.to_path_buf(),
        })
    }

    /// A second connection to the journal database, with the journal's settings (WAL,
    /// `synchronous=FULL`, `secure_delete`, 5 s busy timeout), for a component that keeps its own
    /// tables in it and serialises its own use: the e-licence verifier's trust list and replay
    /// cache (`elicense::store::SqliteStore::attach`, tables from migration `0002_elicense`).
    /// WAL lets it read while the journal writes; concurrent writes wait for each other.
    pub fn connect(&self) -> Result<Connection> {
        let conn = Connection::open(&self.path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        Ok(conn)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable (every write is a
        // single statement or a transaction), so a poisoned lock is taken over.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn seal(&self, plain: &[u8], aad: &str) -> Result<Vec<u8>> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| JournalError::Key(e.to_string()))?;
        let mut buf = plain.to_vec();
        self.keys
            .seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| JournalError::Key("sealing failed".into()))?;
        let mut out = nonce.to_vec();
        out.append(&mut buf);
        Ok(out)
    }

    fn open_sealed(&self, sealed: &[u8], aad: &str) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < 12 + 16 {
            return Err(JournalError::Key("sealed part too short".into()));
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&sealed[..12]);
        let mut buf = Zeroizing::new(sealed[12..].to_vec());
        let n = self
            .keys
            .seal
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .map_err(|_| {
                JournalError::Key("a queued item cannot be opened with this kiosk's key".into())
            })?
            .len();
        buf.truncate(n);
        Ok(buf)
    }

    /// The masked ID and salted hash of an ID number, as the transaction log keeps them.
    pub fn id_digest(&self, id_number: &str) -> (String, String) {
        let id = id_number.trim().to_ascii_uppercase();
        let tag = hmac::sign(&self.keys.salt, id.as_bytes());
        (zizhu_drivers::privacy::mask(&id), hex::encode(tag.as_ref()))
    }

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

    /// Adds a line to the transaction log: the ID only masked and as a salted hash.
    pub fn record_transaction(
        &self,
        service_id: &str,
        outcome: &str,
        id_number: Option<&str>,
    ) -> Result<()> {
        let (masked, hash) = match id_number.filter(|s| !s.is_empty()) {
            Some(id) => {
                let (m, h) = self.id_digest(id);
                (Some(m), Some(h))
            }
            None => (None, None),
        };
        self.conn().execute(
            "INSERT INTO transactions (at, service_id, outcome, id_masked, id_hash)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ms(), service_id, outcome, masked, hash],
        )?;
        Ok(())
    }

    /// Runs a `… LIMIT ?1` query and maps its rows: the shape of every "latest lines" reader.
    fn latest<T>(
        &self,
        sql: &str,
        limit: usize,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Vec<T>> {
        let c = self.conn();
        let mut st = c.prepare_cached(sql)?;
        let rows = st.query_map(params![limit as i64], row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The latest transaction-log lines, newest first.
    pub fn transactions(&self, limit: usize) -> Result<Vec<Transaction>> {
        self.latest(
            "SELECT at, service_id, outcome, id_masked, id_hash FROM transactions
             ORDER BY id DESC LIMIT ?1",
            limit,
            |r| {
                Ok(Transaction {
                    at: r.get(0)?,
                    service_id: r.get(1)?,
                    outcome: r.get(2)?,
                    id_masked: r.get(3)?,
                    id_hash: r.get(4)?,
                })
            },
        )
    }

    /// Records a device health change.
    pub fn device_event(&self, device: &str, state: &str, detail: Option<&str>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO device_events (at, device, state, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now_ms(), device, state, detail],
        )?;
        Ok(())
    }

    /// The latest device health changes, newest first.
    pub fn device_events(&self, limit: usize) -> Result<Vec<DeviceEventEntry>> {
        self.latest(
            "SELECT at, device, state, detail FROM device_events ORDER BY id DESC LIMIT ?1",
            limit,
            |r| {
                Ok(DeviceEventEntry {
                    at: r.get(0)?,
                    device: r.get(1)?,
                    state: r.get(2)?,
                    detail: r.get(3)?,
                })
            },
        )
    }

    /// Records a technician or operator action.
    pub fn audit(&self, actor: &str, action: &str, detail: Option<&str>) -> Result<()> {
        self.conn().execute(
            "INSERT INTO audit (at, actor, action, detail) VALUES (?1, ?2, ?3, ?4)",
            params![now_ms(), actor, action, detail],
        )?;
        Ok(())
    }

    /// The latest audit lines, newest first.
    pub fn audit_log(&self, limit: usize) -> Result<Vec<AuditEntry>> {
        self.latest(
            "SELECT at, actor, action, detail FROM audit ORDER BY id DESC LIMIT ?1",
            limit,
            |r| {
                Ok(AuditEntry {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    action: r.get(2)?,
                    detail: r.get(3)?,
                })
            },
        )
    }

    /// The latest problems, newest first: outbox items the platform refused for good or that
    /// wait for a retry after an error, and device events other than `ok`. Only kinds, service
    /// ids, times and the error texts (which hold no personal data: the outbox keeps none in
    /// clear) come back; screens still pass the texts through `status::scrub`.
    pub fn recent_errors(&self, limit: usize) -> Result<Vec<ErrorEntry>> {
        self.latest(
            "SELECT updated_at, 'outbox', kind || ' ' || CASE state WHEN 'failed' THEN 'failed'
                    ELSE 'retrying' END, service_id, last_error
             FROM outbox WHERE state = 'failed' OR (state <> 'done' AND last_error IS NOT NULL)
             UNION ALL
             SELECT at, 'device', device || ' ' || state, '', detail
             FROM device_events WHERE state <> 'ok'
             ORDER BY 1 DESC LIMIT ?1",
            limit,
            |r| {
                Ok(ErrorEntry {
                    at: r.get(0)?,
                    source: r.get(1)?,
                    what: r.get(2)?,
                    service_id: r.get(3)?,
                    error: r.get(4)?,
                })
            },
        )
    }

    /// Applies `r` at `now` (Unix ms) in one transaction: delivered outbox rows, device events,
    /// transaction lines and audit lines older than their retention are deleted, so the SD card
    /// never fills with history. Undelivered outbox rows are never touched. Returns what went.
    pub fn prune(&self, r: &Retention, now: i64) -> Result<Pruned> {
        let day = 86_400_000i64;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let outbox = tx.execute(
            "DELETE FROM outbox WHERE state = 'done' AND updated_at < ?1",
            params![now - i64::from(r.outbox_done_days) * day],
        )?;
        let device_events = tx.execute(
            "DELETE FROM device_events WHERE at < ?1",
            params![now - i64::from(r.device_event_days) * day],
        )?;
        let transactions = tx.execute(
            "DELETE FROM transactions WHERE at < ?1",
            params![now - i64::from(r.transaction_days) * day],
        )?;
        let audit = tx.execute(
            "DELETE FROM audit WHERE at < ?1",
            params![now - i64::from(r.audit_days) * day],
        )?;
        tx.commit()?;
        Ok(Pruned {
            outbox,
            device_events,
            transactions,
            audit,
        })
    }
}

/// How long the journal keeps history, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Delivered outbox rows (their sealed personal part is already gone).
    pub outbox_done_days: u32,
    /// Device health changes.
    pub device_event_days: u32,
    /// Transaction lines (masked ID and salted hash): the kiosk's own record of what it did.
    pub transaction_days: u32,
    /// Audit lines (maintenance actions, power cycles).
    pub audit_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            outbox_done_days: 30,
            device_event_days: 90,
            transaction_days: 365,
            audit_days: 365,
        }
    }
}

/// What [`Journal::prune`] deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Delivered outbox rows.
    pub outbox: usize,
    /// Device events.
    pub device_events: usize,
    /// Transaction lines.
    pub transactions: usize,
    /// Audit lines.
    pub audit: usize,
}

fn row_item(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxItem> {
    let kind: String = r.get(1)?;
    let state: String = r.get(6)?;
    Ok(OutboxItem {
        id: r.get(0)?,
        kind: if kind == "evaluation" {
            ItemKind::Evaluation
        } else {
            ItemKind::Request
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_recent_history_and_every_undelivered_item() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::open(dir.path()).expect("open");
        let meta = RequestMeta {
            subject: None,
            elicense: vec![],
            face_check_id: None,
            commitment_accepted: true,
            lang: Lang::Zh,
        };
        let secret = RequestSecret {
            id_number: None,
            subject_token: None,
            fields: vec![],
        };
        let done = j
            .enqueue_request("k-done", "K-1", "svc", &meta, &secret, 0)
            .unwrap();
        j.mark_done(done, None).unwrap();
        let waiting = j
            .enqueue_request("k-wait", "K-1", "svc", &meta, &secret, 0)
            .unwrap();
        j.device_event("printer", "offline", Some("paper end"))
            .unwrap();
        j.audit("runtime", "power_cycle", Some("printer")).unwrap();
        j.record_transaction("svc", "completed", None).unwrap();
        let r = Retention::default();
        // Nothing is old yet.
        assert_eq!(j.prune(&r, now_ms()).unwrap(), Pruned::default());
        // 40 days on: the delivered row goes, the rest stays.
        let day = 86_400_000;
        let p = j.prune(&r, now_ms() + 40 * day).unwrap();
        assert_eq!((p.outbox, p.device_events, p.audit), (1, 0, 0), "{p:?}");
        assert!(j.item(done).unwrap().is_none());
        // Two years on: all history goes, the undelivered request stays.
        let p = j.prune(&r, now_ms() + 730 * day).unwrap();
        assert_eq!(
            (p.device_events, p.transactions, p.audit),
            (1, 1, 1),
            "{p:?}"
        );
        assert!(
            j.item(waiting).unwrap().is_some(),
            "undelivered items are never pruned"
        );
    }

    #[test]
    fn journals_opened_at_once_by_two_parties_migrate_once() {
        for _ in 0..20 {
            let dir = tempfile::tempdir().expect("tmp");
            // The key file first, as a kiosk's first start makes it.
            drop(Journal::open_files(
                &dir.path().join("warm.db"),
                &dir.path().join(KEY_FILE),
            ));
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let handles: Vec<_> = (0..2)
                .map(|_| {
                    let (dir, barrier) = (dir.path().to_path_buf(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Journal::open(&dir).map(|_| ())
                    })
                })
                .collect();
            for h in handles {
                h.join().expect("thread").expect("both open the journal");
            }
        }
    }

    #[test]
    fn migrations_validate() {
        validate_migrations().expect("valid migrations");
    }

    #[test]
    fn seal_round_trip_and_wrong_key() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::open(dir.path()).expect("open");
        let secret = RequestSecret {
            id_number: Some("11010519491231002X".into()),
            subject_token: None,
            fields: vec![("phone".into(), "13800138000".into())],
        };
        let meta = RequestMeta {
            subject: Some((SubjectKind::IdCard, false)),
            elicense: vec![],
            face_check_id: None,
            commitment_accepted: true,
            lang: Lang::Zh,
        };
        let id = j
            .enqueue_request("k1", "K-1", "svc", &meta, &secret, 0)
            .expect("enqueue");
        assert_eq!(
            j.enqueue_request("k1", "K-1", "svc", &meta, &secret, 0)
                .expect("again"),
            id
        );
        let item = j.item(id).expect("read").expect("present");
        assert_eq!(j.secret(&item).expect("open").as_ref(), Some(&secret));
        drop(j);
        std::fs::write(dir.path().join(KEY_FILE), [9u8; 64]).expect("replace key");
        let j = Journal::open(dir.path()).expect("reopen");
        assert!(matches!(j.secret(&item), Err(JournalError::Key(_))));
    }

    #[test]
    fn maintenance_audit_and_recent_errors() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::open(dir.path()).expect("open");
        assert!(j.recent_errors(10).expect("errors").is_empty());
        j.audit("technician", "maintenance.open_ok", None)
            .expect("audit");
        j.audit("technician", "maintenance.leave", Some("button"))
            .expect("audit");
        let log = j.audit_log(10).expect("log");
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].action, "maintenance.leave");
        assert_eq!(log[0].detail.as_deref(), Some("button"));
        let meta = RequestMeta {
            subject: None,
            elicense: vec![],
            face_check_id: None,
            commitment_accepted: true,
            lang: Lang::Zh,
        };
        let secret = RequestSecret {
            id_number: None,
            subject_token: None,
            fields: vec![],
        };
        let a = j
            .enqueue_request("a", "K-1", "svc-a", &meta, &secret, 0)
            .expect("a");
        let b = j
            .enqueue_request("b", "K-1", "svc-b", &meta, &secret, 0)
            .expect("b");
        let _c = j
            .enqueue_request("c", "K-1", "svc-c", &meta, &secret, 0)
            .expect("c");
        j.mark_failed(a, "refused: 422").expect("failed");
        j.mark_retry(b, "timeout", 0).expect("retry");
        j.device_event("printer", "offline", Some("no answer"))
            .expect("device");
        j.device_event("printer", "ok", None).expect("device");
        let events = j.device_events(10).expect("events");
        assert_eq!(events.len(), 2);
        assert_eq!(
            (events[0].state.as_str(), events[1].state.as_str()),
            ("ok", "offline")
        );
        let errs = j.recent_errors(10).expect("errors");
        assert_eq!(errs.len(), 3, "{errs:?}");
        let whats: Vec<&str> = errs.iter().map(|e| e.what.as_str()).collect();
        assert!(whats.contains(&"request failed"), "{whats:?}");
        assert!(whats.contains(&"request retrying"), "{whats:?}");
        assert!(whats.contains(&"printer offline"), "{whats:?}");
        assert_eq!(j.recent_errors(1).expect("one").len(), 1);
    }
}
