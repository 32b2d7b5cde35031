//! The journal's record of signed catalog bundles (migration `0004_catalog_bundle`): the bundle a
//! kiosk accepted is stored before it is used, so after a restart the kiosk serves its last good
//! catalog, and the embedded one only when it never accepted any. A refused bundle is written to
//! the audit trail with its reason, never stored.
use rusqlite::{params, OptionalExtension};

use super::{now_ms, Journal, Result};

impl crate::catalog::live::BundleStore for Journal {
    fn store(&self, seq: u64, kid: &str, raw: &[u8]) -> std::result::Result<(), String> {
        self.store_catalog_bundle(seq, kid, raw)
            .map_err(|e| e.to_string())
    }

    fn applied(&self, seq: u64) -> std::result::Result<(), String> {
        self.catalog_bundle_applied(seq).map_err(|e| e.to_string())
    }

    fn refused(&self, reason: &str, detail: &str) -> std::result::Result<(), String> {
        self.catalog_bundle_refused(reason, detail)
            .map_err(|e| e.to_string())
    }

    fn last(&self) -> std::result::Result<Option<Vec<u8>>, String> {
        self.last_catalog_bundle()
            .map(|b| b.map(|b| b.raw))
            .map_err(|e| e.to_string())
    }
}

/// How many accepted bundles are kept (the newest serves; one before it for a person comparing).
pub const KEEP: i64 = 2;

/// A stored bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBundle {
    /// Its sequence.
    pub seq: u64,
    /// When it was received (Unix ms).
    pub received_at: i64,
    /// When it took effect (Unix ms); none while it waits for the end of a visit.
    pub applied_at: Option<i64>,
    /// The key that signed it (16 hex digits).
    pub kid: String,
    /// The signed bytes.
    pub raw: Vec<u8>,
}

impl Journal {
    /// Stores an accepted bundle (before it takes effect) and prunes all but the newest [`KEEP`].
    pub fn store_catalog_bundle(&self, seq: u64, kid: &str, raw: &[u8]) -> Result<()> {
        let mut c = self.conn();
        let tx = c.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO catalog_bundle (seq, received_at, applied_at, kid, raw)
             VALUES (?1, ?2, NULL, ?3, ?4)",
            params![seq as i64, now_ms(), kid, raw],
        )?;
        tx.execute(
            "DELETE FROM catalog_bundle WHERE seq NOT IN
               (SELECT seq FROM catalog_bundle ORDER BY seq DESC LIMIT ?1)",
            params![KEEP],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Records that bundle `seq` took effect now.
    pub fn catalog_bundle_applied(&self, seq: u64) -> Result<()> {
        self.conn().execute(
            "UPDATE catalog_bundle SET applied_at = ?2 WHERE seq = ?1",
            params![seq as i64, now_ms()],
        )?;
        Ok(())
    }

    /// The newest stored bundle, if any.
    pub fn last_catalog_bundle(&self) -> Result<Option<StoredBundle>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT seq, received_at, applied_at, kid, raw FROM catalog_bundle
                 ORDER BY seq DESC LIMIT 1",
                [],
                |r| {
                    Ok(StoredBundle {
                        seq: r.get::<_, i64>(0)? as u64,
                        received_at: r.get(1)?,
                        applied_at: r.get(2)?,
                        kid: r.get(3)?,
                        raw: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// Writes a refused bundle's reason to the audit trail (actor `catalog`).
    pub fn catalog_bundle_refused(&self, reason: &str, detail: &str) -> Result<()> {
        self.audit("catalog", &format!("bundle-refused:{reason}"), Some(detail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_two_bundles_are_kept_and_the_newest_is_last_good() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.last_catalog_bundle().unwrap(), None);
        for seq in [3u64, 5, 4] {
            j.store_catalog_bundle(seq, "00112233aabbccdd", &[seq as u8; 4])
                .unwrap();
        }
        let last = j.last_catalog_bundle().unwrap().unwrap();
        assert_eq!(
            (last.seq, last.raw.clone(), last.applied_at),
            (5, vec![5; 4], None)
        );
        j.catalog_bundle_applied(5).unwrap();
        assert!(j
            .last_catalog_bundle()
            .unwrap()
            .unwrap()
            .applied_at
            .is_some());
        let n: i64 = j
            .conn()
            .query_row("SELECT count(*) FROM catalog_bundle", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, KEEP);
        j.catalog_bundle_refused("rollback", "bundle sequence 2 is not newer than 5")
            .unwrap();
        let a = &j.audit_log(1).unwrap()[0];
        assert_eq!(a.actor, "catalog");
        assert_eq!(a.action, "bundle-refused:rollback");
        drop(j);
        // Survives a reopen.
        let j = Journal::open(dir.path()).unwrap();
        assert_eq!(j.last_catalog_bundle().unwrap().unwrap().seq, 5);
    }
}
