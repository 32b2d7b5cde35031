//! Persistence of the e-licence state: the current trust list (so it survives restarts and
//! rollback can be detected) and the replay cache of accepted (iss, cti) pairs (so a restart does
//! not reopen the replay window).
//!
//! [`Store`] is the small interface the verifier needs. [`SqliteStore`] keeps both in SQLite
//! tables named `elicense_*` ([`SCHEMA`], which is the journal's migration
//! `0002_elicense.sql` verbatim). On the kiosk they live in the journal database:
//! `Journal::connect` gives a second connection to it and [`SqliteStore::attach`] uses it
//! without creating anything (the migration did). Tools use [`SqliteStore::open`] on a
//! standalone file, which creates the same tables. [`import_legacy`] moves the state of the
//! separate `elicense.sqlite` of earlier versions into the journal once. [`MemoryStore`] is for
//! tools and tests that need no persistence.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::error::Error;

/// The tables: the journal migration `0002_elicense.sql`, also run by [`SqliteStore::open`] on
/// standalone files (every statement is `IF NOT EXISTS`).
pub const SCHEMA: &str = include_str!("../journal/migrations/0002_elicense.sql");

/// File name of the separate store of earlier versions, in the kiosk's data directory.
pub const LEGACY_FILE: &str = "elicense.sqlite";
/// What [`import_legacy`] renames [`LEGACY_FILE`] to once its rows are in the journal.
pub const IMPORTED_FILE: &str = "elicense.sqlite.imported";

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

/// What [`import_legacy`] moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    /// Sequence number of the trust list taken over, if one was (a list already in the target
    /// with an equal or higher sequence wins).
    pub trust_list_seq: Option<u64>,
    /// Replay entries still live at the time of the import.
    pub replay_entries: usize,
    /// Where the old file went.
    pub renamed_to: PathBuf,
}

/// Imports the trust list and the live replay entries of a standalone store file (the
/// `elicense.sqlite` of earlier versions) into `into`, in one transaction, then renames the file
/// (and any `-wal`/`-shm` companions) to [`IMPORTED_FILE`] next to it so the import happens
/// once. Returns `None` when there is no such file. On any error nothing is imported and the file
/// stays where it is (the next start tries again).
pub fn import_legacy(
    legacy: &Path,
    into: &SqliteStore,
    now: i64,
) -> Result<Option<Imported>, Error> {
    if !legacy.is_file() {
        return Ok(None);
    }
    let old = Connection::open_with_flags(
        legacy,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db)?;
    let has = |table: &str| -> Result<bool, Error> {
        old.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
            params![table],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
        .map_err(db)
    };
    let trust: Option<(i64, Vec<u8>, i64)> = if has("elicense_trust_list")? {
        old.query_row(
            "SELECT seq, raw, stored_at FROM elicense_trust_list WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .map_err(db)?
    } else {
        None
    };
    let replay: Vec<(String, Vec<u8>, i64)> = if has("elicense_replay")? {
        let mut st = old
            .prepare("SELECT iss, cti, keep_until FROM elicense_replay WHERE keep_until >= ?1")
            .map_err(db)?;
        let rows = st
            .query_map(params![now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db)?
    } else {
        Vec::new()
    };
    // Closing the last connection checkpoints the WAL into the file before it is renamed.
    old.close().map_err(|(_, e)| db(e))?;

    let tx = into.conn.unchecked_transaction().map_err(db)?;
    let mut trust_list_seq = None;
    if let Some((seq, raw, stored_at)) = trust {
        let changed = tx
            .execute(
                "INSERT INTO elicense_trust_list (id, seq, raw, stored_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, raw = excluded.raw,
                 stored_at = excluded.stored_at WHERE elicense_trust_list.seq < excluded.seq",
                params![seq, raw, stored_at],
            )
            .map_err(db)?;
        if changed == 1 {
            trust_list_seq = u64::try_from(seq).ok();
        }
    }
    for (iss, cti, keep_until) in &replay {
        tx.execute(
            "INSERT INTO elicense_replay (iss, cti, keep_until) VALUES (?1, ?2, ?3)
             ON CONFLICT (iss, cti) DO UPDATE SET keep_until = excluded.keep_until
             WHERE elicense_replay.keep_until < excluded.keep_until",
            params![iss, cti, keep_until],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)?;

    let renamed_to = legacy.with_file_name(IMPORTED_FILE);
    let rename = |from: &Path, to: &Path| {
        std::fs::rename(from, to)
            .map_err(|e| Error::Store(format!("renaming {}: {e}", from.display())))
    };
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", legacy.display()));
        if side.exists() {
            rename(
                &side,
                &PathBuf::from(format!("{}{suffix}", renamed_to.display())),
            )?;
        }
    }
    rename(legacy, &renamed_to)?;
    Ok(Some(Imported {
        trust_list_seq,
        replay_entries: replay.len(),
        renamed_to,
    }))
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
    fn legacy_file_is_imported_once_and_renamed() {
        let dir = tempfile::tempdir().expect("dir");
        let legacy = dir.path().join(LEGACY_FILE);
        {
            let old = SqliteStore::open(&legacy).expect("old store");
            old.save_trust_list(7, b"list-7", 5).expect("list");
            assert!(old
                .record_once("GD-DEMO", b"live-cti", 1_000, 10)
                .expect("ok"));
            assert!(old.record_once("GD-DEMO", b"dead-cti", 50, 10).expect("ok"));
        }
        let target = SqliteStore::with_connection(Connection::open_in_memory().expect("db"))
            .expect("target");
        target.save_trust_list(3, b"list-3", 1).expect("older list");
        let got = import_legacy(&legacy, &target, 100)
            .expect("import")
            .expect("a file was there");
        assert_eq!(got.trust_list_seq, Some(7));
        assert_eq!(got.replay_entries, 1, "only live entries move");
        assert_eq!(
            target.trust_list().expect("ok"),
            Some((7, b"list-7".to_vec()))
        );
        assert!(!target
            .record_once("GD-DEMO", b"live-cti", 1_000, 200)
            .expect("ok"));
        assert!(!legacy.exists());
        assert!(dir.path().join(IMPORTED_FILE).is_file());
        assert_eq!(import_legacy(&legacy, &target, 100).expect("again"), None);
    }

    #[test]
    fn legacy_import_keeps_a_newer_list() {
        let dir = tempfile::tempdir().expect("dir");
        let legacy = dir.path().join(LEGACY_FILE);
        SqliteStore::open(&legacy)
            .expect("old")
            .save_trust_list(2, b"old", 1)
            .expect("list");
        let target = SqliteStore::with_connection(Connection::open_in_memory().expect("db"))
            .expect("target");
        target.save_trust_list(9, b"new", 1).expect("list");
        let got = import_legacy(&legacy, &target, 100)
            .expect("import")
            .expect("file");
        assert_eq!(got.trust_list_seq, None);
        assert_eq!(target.trust_list().expect("ok"), Some((9, b"new".to_vec())));
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
