//! The demo platform's SQLite store: idempotency records (the first answer per key), requests,
//! payments, face checks, subject tokens, used tickets, e-licence references, evaluations and help
//! requests. A file with `--db`, in
//! memory otherwise. One connection behind a mutex: the demo serialises its writes.
use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS idem (
    scope TEXT NOT NULL, key TEXT NOT NULL, body_hash TEXT NOT NULL,
    status INTEGER NOT NULL, response TEXT NOT NULL, PRIMARY KEY (scope, key));
CREATE TABLE IF NOT EXISTS requests (
    request_id TEXT PRIMARY KEY, service_id TEXT NOT NULL, response TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS payments (
    order_id TEXT PRIMARY KEY, request_id TEXT NOT NULL, amount TEXT NOT NULL,
    status TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS face_checks (
    check_id TEXT PRIMARY KEY, service_id TEXT NOT NULL, status TEXT NOT NULL,
    created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS subjects (
    token TEXT PRIMARY KEY, id_number TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (ticket TEXT PRIMARY KEY, used_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS evaluations (
    evaluation_id TEXT PRIMARY KEY, request_id TEXT NOT NULL, service_id TEXT NOT NULL,
    level INTEGER NOT NULL, reasons TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS licence_refs (
    reference TEXT PRIMARY KEY, id_number TEXT NOT NULL, licence_type TEXT NOT NULL,
    expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS help (
    help_id TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL, request_key TEXT NOT NULL, site TEXT NOT NULL,
    screen TEXT NOT NULL, service_id TEXT, visit_seconds INTEGER NOT NULL, last_error TEXT,
    state TEXT NOT NULL, created_at INTEGER NOT NULL, acknowledged_at INTEGER, staff_id TEXT,
    UNIQUE (kiosk_id, request_key));
CREATE TABLE IF NOT EXISTS result_views (request_id TEXT PRIMARY KEY, view TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS request_identity (
    request_id TEXT PRIMARY KEY, identity_method TEXT, staff_id TEXT);
CREATE TABLE IF NOT EXISTS evaluation_staff (
    evaluation_id TEXT PRIMARY KEY, staff_id TEXT NOT NULL, staff_level INTEGER);
";

/// How a stored request's citizen was identified and by which helper ([`DemoState::assisted`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assisted {
    /// The platform's request id.
    pub request_id: String,
    /// The service.
    pub service_id: String,
    /// `identity_method` as the kiosk sent it.
    pub identity_method: Option<String>,
    /// The helper's staff number.
    pub staff_id: Option<String>,
}

/// The stored requests with how each was identified, oldest first.
pub fn assisted(conn: &Connection) -> rusqlite::Result<Vec<Assisted>> {
    let mut st = conn.prepare(
        "SELECT r.request_id, r.service_id, i.identity_method, i.staff_id
         FROM requests r LEFT JOIN request_identity i ON i.request_id = r.request_id
         ORDER BY r.request_id",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Assisted {
            request_id: r.get(0)?,
            service_id: r.get(1)?,
            identity_method: r.get(2)?,
            staff_id: r.get(3)?,
        })
    })?;
    rows.collect()
}

/// The helpers' ratings stored with evaluations: (evaluation id, staff id, level), oldest first.
pub fn staff_ratings(conn: &Connection) -> rusqlite::Result<Vec<(String, String, Option<u8>)>> {
    let mut st = conn.prepare(
        "SELECT evaluation_id, staff_id, staff_level FROM evaluation_staff ORDER BY evaluation_id",
    )?;
    let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    rows.collect()
}

/// Opens (creating) the store.
pub fn open(path: Option<&Path>) -> rusqlite::Result<Connection> {
    let conn = match path {
        Some(p) => Connection::open(p)?,
        None => Connection::open_in_memory()?,
    };
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

/// The next number of a named sequence (1, 2, …).
pub fn next(conn: &Connection, name: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "INSERT INTO counters (name, value) VALUES (?1, 1)
         ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
        params![name],
        |r| r.get(0),
    )
}

/// A stored first answer: (body hash, status, response JSON).
pub fn idem_get(
    conn: &Connection,
    scope: &str,
    key: &str,
) -> rusqlite::Result<Option<(String, u16, String)>> {
    conn.query_row(
        "SELECT body_hash, status, response FROM idem WHERE scope = ?1 AND key = ?2",
        params![scope, key],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .optional()
}

/// Stores the first answer of a key.
pub fn idem_put(
    conn: &Connection,
    scope: &str,
    key: &str,
    body_hash: &str,
    status: u16,
    response: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO idem (scope, key, body_hash, status, response) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![scope, key, body_hash, status, response],
    )?;
    Ok(())
}

/// Counts stored requests (tests: a retried submission creates nothing new).
pub fn count(conn: &Connection, table: &str) -> rusqlite::Result<i64> {
    let sql = match table {
        "requests" => "SELECT COUNT(*) FROM requests",
        "evaluations" => "SELECT COUNT(*) FROM evaluations",
        "payments" => "SELECT COUNT(*) FROM payments",
        "paid" => "SELECT COUNT(*) FROM payments WHERE status = 'paid'",
        "help" => "SELECT COUNT(*) FROM help",
        _ => "SELECT 0",
    };
    conn.query_row(sql, [], |r| r.get(0))
}
