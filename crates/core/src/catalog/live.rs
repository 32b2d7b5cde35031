//! The catalog a running kiosk serves, and how a newer signed bundle takes its place.
//!
//! - **Start:** the last bundle stored in the journal, its signature checked again (an old one
//!   still serves: the last good catalog beats the embedded one); the embedded catalog when there
//!   is none or it no longer verifies.
//! - **A new bundle** ([`Live::offer`]) is verified, checked and parsed (search index included)
//!   on the caller's thread, which is never the UI thread, then stored in the journal. Only then
//!   can it take effect: at once when no visit is in progress, else when the visit ends
//!   ([`Live::idle`]). Nothing of a refused bundle is used.
//! - **The switch** replaces one `Arc<Active>`: the catalog, its search index and the site
//!   profile's offer change together. A reader holds the `Arc` it took for as long as it needs
//!   (a visit keeps its own service definition to the end).
//! - **Lifetime:** an accepted bundle's catalog lives until the process ends (it is leaked into
//!   a `&'static Catalog`, like the embedded one), because a visit's flow and the screens hold
//!   `&'static Service`s from it. That costs the catalog's parsed size per bundle accepted
//!   since start (sequences only grow, and a bundle refused for its content is never kept); a
//!   restart keeps only the one in use. Publishers publish a few bundles a month.
use std::sync::{Arc, Mutex, RwLock};

use super::bundle::{Bundle, BundleError};
use super::{Catalog, Offer, UnknownProfile};
use crate::elicense::PublicKey;

/// Where accepted bundles are kept and refusals recorded: the journal (`journal::catalog`). A
/// trait so that the catalog does not import the journal, which imports the catalog.
pub trait BundleStore {
    /// Stores an accepted bundle before it takes effect.
    fn store(&self, seq: u64, kid: &str, raw: &[u8]) -> Result<(), String>;
    /// Records that bundle `seq` took effect.
    fn applied(&self, seq: u64) -> Result<(), String>;
    /// Records a refused bundle's reason.
    fn refused(&self, reason: &str, detail: &str) -> Result<(), String>;
    /// The newest stored bundle's bytes.
    fn last(&self) -> Result<Option<Vec<u8>>, String>;
}

/// Where the catalog in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Compiled into the binary.
    Embedded,
    /// A signed bundle.
    Bundle {
        /// Its sequence.
        seq: u64,
        /// The key that signed it.
        kid: String,
    },
}

/// One catalog in effect, with the kiosk's offer of it.
#[derive(Debug)]
pub struct Active {
    catalog: &'static Catalog,
    /// What this kiosk offers of it (its site profile).
    pub offer: Offer,
    /// Where it came from.
    pub source: Source,
}

impl Active {
    /// The embedded catalog with site profile `profile` (all services when `None`).
    pub fn embedded(profile: Option<&str>) -> Result<Active, UnknownProfile> {
        let catalog = Catalog::builtin();
        Ok(Active {
            catalog,
            offer: Offer::new(catalog, profile)?,
            source: Source::Embedded,
        })
    }

    /// The catalog.
    pub fn catalog(&self) -> &'static Catalog {
        self.catalog
    }

    /// The bundle sequence; none for the embedded catalog.
    pub fn seq(&self) -> Option<u64> {
        match &self.source {
            Source::Embedded => None,
            Source::Bundle { seq, .. } => Some(*seq),
        }
    }
}

/// What [`Live::offer`] did with an accepted bundle.
#[derive(Debug)]
pub enum Offered {
    /// It is in effect now.
    Applied(Arc<Active>),
    /// A visit is in progress: it takes effect when the visit ends.
    Waiting {
        /// Its sequence.
        seq: u64,
    },
}

/// The catalog in effect and the one waiting for the end of a visit.
#[derive(Debug)]
pub struct Live {
    active: RwLock<Arc<Active>>,
    pending: Mutex<Option<Arc<Active>>>,
    keys: RwLock<Vec<PublicKey>>,
    profile: Option<String>,
}

impl Live {
    /// The embedded catalog with site profile `profile`.
    pub fn embedded(keys: Vec<PublicKey>, profile: Option<&str>) -> Result<Live, UnknownProfile> {
        let active = Active::embedded(profile)?;
        Ok(Live {
            active: RwLock::new(Arc::new(active)),
            pending: Mutex::new(None),
            keys: RwLock::new(keys),
            profile: profile.map(str::to_string),
        })
    }

    /// The last good bundle from `journal`, else the embedded catalog. The second value says why
    /// a stored bundle was not used (for the log and the status endpoint).
    pub fn restore(
        journal: &dyn BundleStore,
        keys: Vec<PublicKey>,
        profile: Option<&str>,
    ) -> Result<(Live, Option<BundleError>), UnknownProfile> {
        let live = Live::embedded(keys, profile)?;
        let stored = match journal.last() {
            Ok(Some(s)) => s,
            Ok(None) => return Ok((live, None)),
            Err(e) => return Ok((live, Some(BundleError::Storage(e)))),
        };
        let why = match Bundle::open(&stored, &live.keys()).and_then(|b| live.activate(b)) {
            Ok(a) => {
                *live.active.write().unwrap_or_else(|e| e.into_inner()) = a;
                None
            }
            Err(e) => Some(e),
        };
        Ok((live, why))
    }

    fn activate(&self, b: Bundle) -> Result<Arc<Active>, BundleError> {
        let source = Source::Bundle {
            seq: b.seq,
            kid: b.kid.clone(),
        };
        let offer = Offer::new(&b.catalog, self.profile.as_deref())
            .map_err(|e| BundleError::ProfileMissing(e.id))?;
        // Checked in full: from here it lives as long as the process (see the module's docs).
        let catalog: &'static Catalog = Box::leak(Box::new(b.catalog));
        Ok(Arc::new(Active {
            catalog,
            offer,
            source,
        }))
    }

    /// The catalog keys bundles are verified with.
    pub fn keys(&self) -> Vec<PublicKey> {
        self.keys.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the catalog keys (the pinned ones and those of a newly installed trust list).
    pub fn set_keys(&self, keys: Vec<PublicKey>) {
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = keys;
    }

    /// The catalog in effect now.
    pub fn current(&self) -> Arc<Active> {
        self.active
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The sequence of the newest accepted bundle (in effect or waiting).
    pub fn newest_seq(&self) -> Option<u64> {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|a| a.seq());
        pending.or_else(|| self.current().seq())
    }

    /// A bundle fetched from the platform: verified, checked, stored in `journal`, then applied
    /// now when `visit_active` is false, else kept until [`Live::idle`]. A refused bundle is
    /// written to the journal's audit trail with its reason, and changes nothing.
    pub fn offer(
        &self,
        raw: &[u8],
        now: i64,
        visit_active: bool,
        journal: &dyn BundleStore,
    ) -> Result<Offered, BundleError> {
        let result = Bundle::accept(raw, &self.keys(), self.newest_seq(), now).and_then(|b| {
            let (seq, kid) = (b.seq, b.kid.clone());
            let active = self.activate(b)?;
            journal
                .store(seq, &kid, raw)
                .map_err(BundleError::Storage)?;
            Ok((seq, active))
        });
        let (seq, active) = match result {
            Ok(v) => v,
            Err(e) => {
                if let Err(je) = journal.refused(e.kind(), &e.to_string()) {
                    tracing::warn!(error = %je, "could not record a refused catalog bundle");
                }
                return Err(e);
            }
        };
        if visit_active {
            *self.pending.lock().unwrap_or_else(|e| e.into_inner()) = Some(active);
            return Ok(Offered::Waiting { seq });
        }
        self.switch(active.clone(), journal);
        Ok(Offered::Applied(active))
    }

    fn switch(&self, active: Arc<Active>, journal: &dyn BundleStore) {
        if let Some(seq) = active.seq() {
            if let Err(e) = journal.applied(seq) {
                tracing::warn!(error = %e, seq, "could not record the catalog switch");
            }
        }
        *self.active.write().unwrap_or_else(|e| e.into_inner()) = active;
    }

    /// No visit is in progress: a waiting bundle takes effect. Returns it when one did.
    pub fn idle(&self, journal: &dyn BundleStore) -> Option<Arc<Active>> {
        let pending = self
            .pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()?;
        self.switch(pending.clone(), journal);
        Some(pending)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::bundle::{sign, BundleContent};
    use crate::catalog::BUILTIN_TOML;
    use crate::elicense::{Alg, SecretKey};
    use crate::journal::Journal;

    const NOW: i64 = 1_796_000_000;

    fn key() -> SecretKey {
        SecretKey::from_seed(Alg::Es256, "catalog-live").unwrap()
    }

    /// The shipped catalog with one service renamed, so a test can tell which is in effect.
    fn bundle(seq: u64, marker: &str) -> Vec<u8> {
        let catalog = BUILTIN_TOML.replacen(
            "zh = \"社会保险参保证明打印\"",
            &format!("zh = \"社会保险参保证明打印{marker}\""),
            1,
        );
        sign(
            &key(),
            &BundleContent {
                seq,
                iat: NOW - 10,
                max_age: 86_400,
                catalog,
            },
        )
        .unwrap()
    }

    fn name(live: &Live) -> String {
        live.current()
            .catalog()
            .service("ss-insured-cert-print")
            .unwrap()
            .zh
            .clone()
    }

    #[test]
    fn a_bundle_applies_when_idle_and_waits_for_the_end_of_a_visit() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let live = Live::embedded(vec![key().public_key()], Some("village")).unwrap();
        assert_eq!(live.current().source, Source::Embedded);

        // Idle: in effect at once, profile applied to the new catalog.
        let out = live.offer(&bundle(1, "甲"), NOW, false, &j).unwrap();
        assert!(matches!(out, Offered::Applied(_)));
        assert_eq!(name(&live), "社会保险参保证明打印甲");
        assert_eq!(live.current().seq(), Some(1));
        assert!(live.current().offer.len() < live.current().catalog().services().len());

        // During a visit: stored, but the visit keeps the catalog it started with.
        let during = live.current();
        let out = live.offer(&bundle(2, "乙"), NOW, true, &j).unwrap();
        assert!(matches!(out, Offered::Waiting { seq: 2 }));
        assert_eq!(name(&live), "社会保险参保证明打印甲");
        assert_eq!(j.last_catalog_bundle().unwrap().unwrap().applied_at, None);
        // A replay of the waiting bundle is a rollback, not a second copy.
        let e = live.offer(&bundle(2, "乙"), NOW, true, &j).unwrap_err();
        assert_eq!(e.kind(), "rollback");
        let applied = live.idle(&j).unwrap();
        assert_eq!(applied.seq(), Some(2));
        assert_eq!(name(&live), "社会保险参保证明打印乙");
        assert!(live.idle(&j).is_none());
        // The visit's own Arc still holds what it started with.
        assert_eq!(
            during
                .catalog()
                .service("ss-insured-cert-print")
                .unwrap()
                .zh,
            "社会保险参保证明打印甲"
        );

        // After a restart: the last good bundle, not the embedded catalog.
        drop(live);
        let (live, why) = Live::restore(&j, vec![key().public_key()], Some("village")).unwrap();
        assert!(why.is_none(), "{why:?}");
        assert_eq!(live.current().seq(), Some(2));
        assert_eq!(name(&live), "社会保险参保证明打印乙");
        // A kiosk whose keys changed no longer trusts it: the embedded catalog, and why.
        let other = SecretKey::from_seed(Alg::Es256, "other").unwrap();
        let (live, why) = Live::restore(&j, vec![other.public_key()], Some("village")).unwrap();
        assert_eq!(why.unwrap().kind(), "signature");
        assert_eq!(live.current().source, Source::Embedded);
    }

    #[test]
    fn refused_bundles_change_nothing_and_are_audited() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let live = Live::embedded(vec![key().public_key()], Some("village")).unwrap();
        live.offer(&bundle(5, "甲"), NOW, false, &j).unwrap();

        let stranger = SecretKey::from_seed(Alg::Es256, "stranger").unwrap();
        let forged = sign(
            &stranger,
            &BundleContent {
                seq: 9,
                iat: NOW,
                max_age: 86_400,
                catalog: BUILTIN_TOML.to_string(),
            },
        )
        .unwrap();
        let cases: Vec<(Vec<u8>, i64, &str)> = vec![
            (bundle(4, "旧"), NOW, "rollback"),
            (forged, NOW, "signature"),
            (bundle(6, "过期"), NOW + 2 * 86_400, "expired"),
        ];
        for (raw, now, reason) in cases {
            let e = live.offer(&raw, now, false, &j).unwrap_err();
            assert_eq!(e.kind(), reason, "{e}");
            assert_eq!(live.current().seq(), Some(5));
            assert_eq!(name(&live), "社会保险参保证明打印甲");
            assert_eq!(
                j.audit_log(1).unwrap()[0].action,
                format!("bundle-refused:{reason}")
            );
        }
        // A bundle without this kiosk's profile is refused for this kiosk.
        let no_profiles = BUILTIN_TOML
            .split("\n[[profile]]")
            .next()
            .unwrap()
            .to_string();
        let raw = sign(
            &key(),
            &BundleContent {
                seq: 7,
                iat: NOW,
                max_age: 86_400,
                catalog: no_profiles,
            },
        )
        .unwrap();
        let e = live.offer(&raw, NOW, false, &j).unwrap_err();
        assert_eq!(e.kind(), "profile-missing");
        assert_eq!(live.current().seq(), Some(5));
        assert_eq!(j.last_catalog_bundle().unwrap().unwrap().seq, 5);
    }
}
