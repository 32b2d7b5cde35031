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
//!
//! The module's parts: [`schema`] (the migrations), [`seal`] (the per-kiosk key: sealing and the
//! ID hash), [`outbox`] (queued platform calls), [`log`] (transactions, device events, audit,
//! recent errors), [`staff`] (staff codes already used) and [`retention`] (pruning old history);
//! [`drain`] sends the outbox.
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::Connection;

pub mod catalog;
pub mod drain;
pub mod flow;
pub mod log;
pub mod outbox;
pub mod retention;
pub mod schema;
pub mod seal;
pub mod staff;

pub use log::{AuditEntry, DeviceEventEntry, ErrorEntry, Transaction};
pub use outbox::{
    HelpCall, ItemKind, ItemState, OutboxCounts, OutboxItem, RequestMeta, RequestSecret,
};
pub use retention::{Pruned, Retention};
pub use schema::{migrate, validate_migrations, MIGRATIONS};

use seal::{load_keys, Keys};

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "journal.db";
/// File name of the per-kiosk key (sealing key + hash salt) inside the data directory.
pub const KEY_FILE: &str = "journal.key";

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

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Lang;
    use crate::platform::api::SubjectKind;

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
            identity_method: None,
            staff_id: None,
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
            identity_method: None,
            staff_id: None,
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
            identity_method: None,
            staff_id: None,
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
