//! The journal's schema: the append-only SQL migrations (`migrations/NNNN_name.sql`) and how
//! they are applied through `user_version`.
use rusqlite::Connection;

use super::{JournalError, Result};

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
    ("0005_help", include_str!("migrations/0005_help.sql")),
    ("0006_staff", include_str!("migrations/0006_staff.sql")),
];

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
