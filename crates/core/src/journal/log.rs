//! The journal's logs: the transaction log (masked ID and salted hash only), device health
//! changes, the audit trail, and the recent problems the maintenance screen shows.
use rusqlite::params;
use serde::Serialize;

use super::{now_ms, Journal, Result};

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

impl Journal {
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
}
