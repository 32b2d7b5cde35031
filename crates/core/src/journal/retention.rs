//! Retention: how long the journal keeps history, and pruning what is older (never an
//! undelivered outbox item).
use rusqlite::params;

use super::{Journal, Result};

impl Journal {
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
