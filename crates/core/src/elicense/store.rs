//! Persistence of the e-licence state: the current trust list (so it survives restarts and
//! rollback can be detected) and the replay cache of accepted (iss, cti) pairs (so a restart does
//! not reopen the replay window).
//!
//! [`Store`] is the small interface the verifier needs. [`SqliteStore`] keeps both in SQLite
//! tables named `elicense_*` ([`SCHEMA`], which is the journal's migration
//! `0002_elicense.sql` verbatim). On the kiosk they live in the journal database:
//! `Journal::connect` gives a second connection to it and [`SqliteStore::attach`] uses it
//! without creating anything (the migration did). Tools use [`SqliteStore::open`] on a
//! standalone file, which creates the same tables. [`MemoryStore`] is for tools and tests that
//! need no persistence.
use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

use super::error::Error;

/// The tables: the journal migration `0002_elicense.sql`, also run by [`SqliteStore::open`] on
/// standalone files (every statement is `IF NOT EXISTS`).
pub const SCHEMA: &str = include_str!("../journal/migrations/0002_elicense.sql");

/// What the verifier persists.
pub trait Store: Send {
    /// The stored trust list (sequence number and signed bytes), if any.
    fn trust_list(&self) -> Result<Option<(u64, Vec<u8>)>, Error>;
    /// Replaces the stored trust list.
    fn save_trust_list(&self, seq: u64, raw: &[u8], now: i64) -> Result<(), Error>;
    /// Records `(iss, cti)` until `keep_until`. Returns `false` (and records nothing) if the pair
    /// is already recorded and not yet past its `keep_until` at `now`: a replay.
    fn record_once(&self, iss: &str, cti: &[u8], keep_until: i64, now: i64) -> Result<bool, Error>;
    /// Forgets pairs whose `keep_until` is before `now`; returns how many.
    fn purge(&self, now: i64) -> Result<usize, Error>;
}

fn db(e: rusqlite::Error) -> Error {
    Error::Store(e.to_string())
}

/// Creates the `elicense_*` tables if missing.
pub fn ensure_schema(conn: &Connection) -> Result<(), Error> {
    conn.execute_batch(SCHEMA).map_err(db)
}

/// The SQLite store. Owns its connection (rusqlite connections are `Send`, not `Sync`).
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
}

impl SqliteStore {
    /// Opens (or creates) the database file at `path` in WAL mode and creates the tables.
    pub fn open(path: &Path) -> Result<SqliteStore, Error> {
        let conn = Connection::open(path).map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db)?;
        SqliteStore::with_connection(conn)
    }

    /// Uses an already-open connection and creates the tables if missing.
    pub fn with_connection(conn: Connection) -> Result<SqliteStore, Error> {
        ensure_schema(&conn)?;
        Ok(SqliteStore { conn })
    }

    /// Uses a connection to a database whose migrations already created the tables (the
    /// journal's, from `Journal::connect`). Creates nothing: a database without the tables is an
    /// error (`elicense.store`), so the schema only ever changes through journal migrations.
    pub fn attach(conn: Connection) -> Result<SqliteStore, Error> {
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'
                 AND name IN ('elicense_trust_list', 'elicense_replay')",
                [],
                |r| r.get(0),
            )
            .map_err(db)?;
        if n != 2 {
            return Err(Error::Store(
                "the database has no elicense_* tables; open it with Journal::open, which \
                 applies migration 0002_elicense"
                    .into(),
            ));
        }
        Ok(SqliteStore { conn })
    }

    /// The connection (for inspection in tests and tools).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

impl Store for SqliteStore {
    fn trust_list(&self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        self.conn
            .query_row(
                "SELECT seq, raw FROM elicense_trust_list WHERE id = 1",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional()
            .map_err(db)?
            .map(|(seq, raw)| {
                u64::try_from(seq)
                    .map(|s| (s, raw))
                    .map_err(|_| Error::Store("negative stored sequence".into()))
            })
            .transpose()
    }

    fn save_trust_list(&self, seq: u64, raw: &[u8], now: i64) -> Result<(), Error> {
        let seq = i64::try_from(seq).map_err(|_| Error::Store("sequence too large".into()))?;
        self.conn
            .execute(
                "INSERT INTO elicense_trust_list (id, seq, raw, stored_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, raw = excluded.raw,
                 stored_at = excluded.stored_at",
                params![seq, raw, now],
            )
            .map_err(db)?;
        Ok(())
    }

    fn record_once(&self, iss: &str, cti: &[u8], keep_until: i64, now: i64) -> Result<bool, Error> {
        let changed = self
            .conn
            .execute(
                "INSERT INTO elicense_replay (iss, cti, keep_until) VALUES (?1, ?2, ?3)
                 ON CONFLICT (iss, cti) DO UPDATE SET keep_until = excluded.keep_until
                 WHERE elicense_replay.keep_until < ?4",
                params![iss, cti, keep_until, now],
            )
            .map_err(db)?;
        Ok(changed == 1)
    }

    fn purge(&self, now: i64) -> Result<usize, Error> {
        self.conn
            .execute(
                "DELETE FROM elicense_replay WHERE keep_until < ?1",
                params![now],
            )
            .map_err(db)
    }
}

/// An in-memory store (nothing survives the process).
#[derive(Debug, Default)]
pub struct MemoryStore {
    trust: Mutex<Option<(u64, Vec<u8>)>>,
    seen: Mutex<HashMap<(String, Vec<u8>), i64>>,
}

fn poisoned<T>(_: T) -> Error {
    Error::Store("memory store lock poisoned".into())
}

impl Store for MemoryStore {
    fn trust_list(&self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        Ok(self.trust.lock().map_err(poisoned)?.clone())
    }

    fn save_trust_list(&self, seq: u64, raw: &[u8], _now: i64) -> Result<(), Error> {
        *self.trust.lock().map_err(poisoned)? = Some((seq, raw.to_vec()));
        Ok(())
    }

    fn record_once(&self, iss: &str, cti: &[u8], keep_until: i64, now: i64) -> Result<bool, Error> {
        let mut seen = self.seen.lock().map_err(poisoned)?;
        let key = (iss.to_string(), cti.to_vec());
        match seen.get(&key) {
            Some(&until) if until >= now => Ok(false),
            _ => {
                seen.insert(key, keep_until);
                Ok(true)
            }
        }
    }

    fn purge(&self, now: i64) -> Result<usize, Error> {
        let mut seen = self.seen.lock().map_err(poisoned)?;
        let before = seen.len();
        seen.retain(|_, until| *until >= now);
        Ok(before - seen.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exercise(s: &dyn Store) {
        assert!(s.record_once("A", b"12345678", 100, 10).expect("ok"));
        assert!(!s.record_once("A", b"12345678", 100, 50).expect("ok"));
        assert!(
            s.record_once("B", b"12345678", 100, 50).expect("ok"),
            "other issuer"
        );
        assert!(
            s.record_once("A", b"12345678", 300, 101).expect("ok"),
            "expired entry reused"
        );
        assert_eq!(s.purge(200).expect("ok"), 1);
        assert_eq!(s.trust_list().expect("ok"), None);
        s.save_trust_list(3, b"x", 1).expect("ok");
        s.save_trust_list(4, b"y", 2).expect("ok");
        assert_eq!(s.trust_list().expect("ok"), Some((4, b"y".to_vec())));
    }

    #[test]
    fn memory_store() {
        exercise(&MemoryStore::default());
    }

    #[test]
    fn attach_refuses_a_database_without_the_tables() {
        let c = Connection::open_in_memory().expect("db");
        assert!(matches!(SqliteStore::attach(c), Err(Error::Store(_))));
        let c = Connection::open_in_memory().expect("db");
        c.execute_batch(SCHEMA).expect("schema");
        exercise(&SqliteStore::attach(c).expect("attach"));
    }

    #[test]
    fn sqlite_store_survives_reopen() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("j.sqlite");
        exercise(&SqliteStore::open(&path).expect("open"));
        let s = SqliteStore::open(&path).expect("reopen");
        assert!(!s.record_once("A", b"12345678", 300, 150).expect("ok"));
        assert_eq!(s.trust_list().expect("ok"), Some((4, b"y".to_vec())));
    }
}
