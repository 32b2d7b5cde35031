//! The journal's record of staff codes already used (migration `0006_staff`), so each staff code
//! signs in once (`staff::sign_in`), across restarts. Code id and staff id only, never a name.
use rusqlite::params;

use super::{now_ms, Journal, Result};

impl Journal {
    /// Records that the staff code `code_id` signed in, to be remembered until `keep_until`
    /// (Unix ms). Returns `false`, recording nothing, when it was used before: a replay. Codes
    /// past their `keep_until` are forgotten first (they are refused as expired anyway).
    pub fn claim_staff_code(&self, code_id: &str, staff_id: &str, keep_until: i64) -> Result<bool> {
        let now = now_ms();
        let mut c = self.conn();
        let tx = c.transaction()?;
        tx.execute(
            "DELETE FROM staff_codes_used WHERE keep_until < ?1",
            params![now],
        )?;
        let n = tx.execute(
            "INSERT INTO staff_codes_used (code_id, staff_id, used_at, keep_until)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (code_id) DO NOTHING",
            params![code_id, staff_id, now, keep_until],
        )?;
        tx.commit()?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_claimed_once() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::open(dir.path()).expect("open");
        let later = now_ms() + 60_000;
        assert!(j.claim_staff_code("aa", "0012", later).expect("first"));
        assert!(!j.claim_staff_code("aa", "0012", later).expect("again"));
        assert!(j.claim_staff_code("bb", "0012", later).expect("another"));
        // A row past its keep_until is forgotten.
        assert!(j.claim_staff_code("cc", "0012", now_ms() - 1).expect("old"));
        assert!(j.claim_staff_code("cc", "0012", later).expect("forgotten"));
    }
}
