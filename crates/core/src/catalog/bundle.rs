//! Signed catalog bundles: the catalog the platform publishes city-wide, so that a changed form,
//! commitment clause or e-licence list reaches every kiosk without a new image.
//!
//! A bundle is a COSE_Sign1 (the envelope of e-licences and trust lists, `elicense::cose`) over a
//! CBOR map with integer keys:
//! ```text
//! { 1 seq uint, 2 iat int (Unix seconds), 3 max_age uint (seconds), 4 catalog tstr (TOML) }
//! ```
//! The catalog text is the format of `data/catalog.toml`, site profiles included. A bundle is
//! accepted only when, in this order: it is at most [`MAX_BUNDLE`] bytes; its CBOR is well formed
//! within limits; it is signed by a catalog key (pinned in `kiosk.toml`, or in the signed trust
//! list with usage [`CATALOG_USAGE`]); its sequence is above the one in use (no rollback); it is
//! not dated in the future nor past its maximum age; and its catalog passes every check of
//! `zizhu catalog check`. Nothing of a refused bundle is used.
use ciborium::Value;

use super::{Catalog, CatalogError};
use crate::elicense::codec::map_get;
use crate::elicense::crypto::{PublicKey, SecretKey};
use crate::elicense::{codec, cose, TrustList};

/// Largest bundle accepted, in bytes. The full catalog of 165 services is about 120 KiB of TOML;
/// four times that leaves room to grow and still bounds what a hostile server can make the kiosk
/// hold.
pub const MAX_BUNDLE: usize = 512 * 1024;

/// The usage a trust-list key must carry (exactly) to sign catalog bundles.
pub const CATALOG_USAGE: &str = "catalog";

/// Clock skew tolerated for a bundle's issue time (seconds).
pub const SKEW: i64 = 300;

const LIMITS: codec::CborLimits = codec::CborLimits {
    max_depth: 4,
    max_items: 64,
};

/// Why a bundle was refused. Each says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// Bigger than [`MAX_BUNDLE`]: the publisher must split or trim the catalog.
    #[error("the bundle is {len} bytes, more than the {max} allowed; publish a smaller catalog")]
    TooLarge {
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not a well-formed signed bundle (truncated, wrong structure, a field missing).
    #[error("the bundle is malformed ({0}); fetch it again or republish it")]
    Malformed(String),
    /// No catalog key verifies the signature.
    #[error("the bundle's signature does not verify with any catalog key; check [catalog] keys in kiosk.toml or the trust list")]
    Signature,
    /// No catalog key is configured at all, so no bundle can be trusted.
    #[error("no catalog key is configured; set [catalog] keys in kiosk.toml or deliver one in the trust list with usage \"catalog\"")]
    NoKeys,
    /// The sequence is not above the one in use.
    #[error("bundle sequence {got} is not newer than {stored}, the one in use (rollback refused)")]
    Rollback {
        /// In use.
        stored: u64,
        /// Offered.
        got: u64,
    },
    /// Issued in the future (beyond the allowed skew): the kiosk's or the publisher's clock is
    /// wrong.
    #[error("the bundle is dated in the future; check the kiosk's clock")]
    NotYetValid,
    /// Past its maximum age: the publisher must sign a fresh one.
    #[error("the bundle expired {ago} s ago; the platform must publish a fresh one")]
    Expired {
        /// Seconds since it expired.
        ago: i64,
    },
    /// The catalog inside fails `zizhu catalog check`.
    #[error("the bundle's catalog is invalid: {}", summary(.0))]
    Catalog(Vec<CatalogError>),
    /// The catalog inside lacks the site profile this kiosk is set to.
    #[error("the bundle has no site profile `{0}`, which this kiosk uses; publish it in the bundle or change [catalog] profile")]
    ProfileMissing(String),
    /// The bundle could not be stored in the journal, so it is not used (a restart would lose it).
    #[error("the bundle could not be stored ({0}); check the disk")]
    Storage(String),
}

fn summary(errors: &[CatalogError]) -> String {
    let mut s: Vec<String> = errors.iter().take(3).map(|e| e.to_string()).collect();
    if errors.len() > 3 {
        s.push(format!("and {} more", errors.len() - 3));
    }
    s.join("; ")
}

impl BundleError {
    /// A short stable name for the journal, /v1/status and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            BundleError::TooLarge { .. } => "too-large",
            BundleError::Malformed(_) => "malformed",
            BundleError::Signature => "signature",
            BundleError::NoKeys => "no-keys",
            BundleError::Rollback { .. } => "rollback",
            BundleError::NotYetValid => "not-yet-valid",
            BundleError::Expired { .. } => "expired",
            BundleError::Catalog(_) => "catalog-invalid",
            BundleError::ProfileMissing(_) => "profile-missing",
            BundleError::Storage(_) => "storage",
        }
    }
}

/// What goes into a bundle when signing one.
#[derive(Debug, Clone)]
pub struct BundleContent {
    /// Sequence number; every new bundle must be higher.
    pub seq: u64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Seconds after `iat` the bundle stays acceptable.
    pub max_age: i64,
    /// The catalog (TOML).
    pub catalog: String,
}

/// A verified bundle, catalog parsed and checked.
#[derive(Debug)]
pub struct Bundle {
    /// Sequence number.
    pub seq: u64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Maximum age (seconds).
    pub max_age: i64,
    /// Id of the key that signed it (16 hex digits).
    pub kid: String,
    /// The catalog.
    pub catalog: Catalog,
    /// The signed bytes as received (what the journal stores).
    pub raw: Vec<u8>,
}

fn ik(k: i64) -> Value {
    Value::Integer(k.into())
}

/// Signs a bundle with a catalog key. The catalog is checked first: a publisher cannot sign a
/// catalog every kiosk would refuse.
pub fn sign(key: &SecretKey, content: &BundleContent) -> Result<Vec<u8>, BundleError> {
    Catalog::parse(&content.catalog).map_err(BundleError::Catalog)?;
    let doc = Value::Map(vec![
        (ik(1), Value::Integer(content.seq.into())),
        (ik(2), ik(content.iat)),
        (ik(3), ik(content.max_age)),
        (ik(4), Value::Text(content.catalog.clone())),
    ]);
    let mut payload = Vec::new();
    ciborium::into_writer(&doc, &mut payload)
        .map_err(|e| BundleError::Malformed(format!("encoding: {e}")))?;
    let raw = cose::sign_cose(
        key,
        key.alg().cose_id(),
        Some(&key.public_key().kid()),
        payload,
    )
    .map_err(|e| BundleError::Malformed(e.to_string()))?;
    if raw.len() > MAX_BUNDLE {
        return Err(BundleError::TooLarge {
            len: raw.len(),
            max: MAX_BUNDLE,
        });
    }
    Ok(raw)
}

/// The keys that may sign bundles: those pinned in the config, and trust-list keys whose usage
/// names [`CATALOG_USAGE`] exactly and that are valid at `now`.
pub fn catalog_keys(pinned: &[PublicKey], trust: Option<&TrustList>, now: i64) -> Vec<PublicKey> {
    let mut keys = pinned.to_vec();
    if let Some(t) = trust {
        keys.extend(
            t.keys
                .iter()
                .filter(|k| k.usage.iter().any(|u| u == CATALOG_USAGE) && k.valid_at(now))
                .map(|k| k.key.clone()),
        );
    }
    keys
}

fn int(m: &[(Value, Value)], k: i64, what: &str) -> Result<i64, BundleError> {
    map_get(m, k)
        .and_then(Value::as_integer)
        .and_then(|i| i64::try_from(i).ok())
        .ok_or_else(|| BundleError::Malformed(format!("{what} missing or not an integer")))
}

/// What a bundle says about itself, read without checking its signature: what a publishing
/// platform, which holds no catalog key, checks before it serves a bundle (kiosks use
/// [`Bundle::accept`]).
#[derive(Debug, Clone)]
pub struct Peek {
    /// Sequence number.
    pub seq: u64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Maximum age (seconds).
    pub max_age: i64,
    /// Id of the signing key as the envelope names it (16 hex digits; empty if unnamed).
    pub kid: String,
    /// How many services its catalog holds.
    pub services: usize,
}

/// The envelope and document of a bundle, structure checked, signature not.
struct Parts {
    sign1: coset::CoseSign1,
    seq: u64,
    iat: i64,
    max_age: i64,
    catalog: Catalog,
}

fn parts(raw: &[u8]) -> Result<Parts, BundleError> {
    if raw.len() > MAX_BUNDLE {
        return Err(BundleError::TooLarge {
            len: raw.len(),
            max: MAX_BUNDLE,
        });
    }
    let mal = |e: crate::elicense::Error| BundleError::Malformed(e.to_string());
    let sign1 = codec::parse_sign1(raw, LIMITS).map_err(mal)?;
    let payload = sign1.payload.as_deref().unwrap_or_default();
    codec::check_cbor(payload, LIMITS).map_err(mal)?;
    let v: Value =
        ciborium::from_reader(payload).map_err(|e| BundleError::Malformed(e.to_string()))?;
    let doc = v
        .as_map()
        .ok_or_else(|| BundleError::Malformed("the document is not a map".into()))?;
    let seq = u64::try_from(int(doc, 1, "seq")?)
        .map_err(|_| BundleError::Malformed("negative seq".into()))?;
    let iat = int(doc, 2, "iat")?;
    let max_age = int(doc, 3, "max_age")?;
    if max_age <= 0 {
        return Err(BundleError::Malformed("max_age must be positive".into()));
    }
    let text = map_get(doc, 4)
        .and_then(Value::as_text)
        .ok_or_else(|| BundleError::Malformed("catalog missing or not text".into()))?;
    let catalog = Catalog::parse(text).map_err(BundleError::Catalog)?;
    Ok(Parts {
        sign1,
        seq,
        iat,
        max_age,
        catalog,
    })
}

/// Reads a bundle's sequence, dates and catalog (fully checked) WITHOUT verifying its
/// signature. Never use what it returns to decide what a kiosk shows.
pub fn peek(raw: &[u8]) -> Result<Peek, BundleError> {
    let p = parts(raw)?;
    Ok(Peek {
        seq: p.seq,
        iat: p.iat,
        max_age: p.max_age,
        kid: hex::encode(&p.sign1.protected.header.key_id),
        services: p.catalog.services().len(),
    })
}

impl Bundle {
    /// Verifies `raw` against `keys` and reads it, without the freshness checks (see
    /// [`Bundle::accept`]). The catalog inside is fully checked.
    pub fn open(raw: &[u8], keys: &[PublicKey]) -> Result<Bundle, BundleError> {
        if raw.len() > MAX_BUNDLE {
            return Err(BundleError::TooLarge {
                len: raw.len(),
                max: MAX_BUNDLE,
            });
        }
        if keys.is_empty() {
            return Err(BundleError::NoKeys);
        }
        let mal = |e: crate::elicense::Error| BundleError::Malformed(e.to_string());
        let s = codec::parse_sign1(raw, LIMITS).map_err(mal)?;
        let alg = cose::alg_of(&s.protected.header).map_err(mal)?;
        let kid = &s.protected.header.key_id;
        let tbs = s.tbs_data(b"");
        let signer = keys.iter().find(|k| {
            k.alg() == alg
                && (kid.is_empty() || kid.as_slice() == k.kid())
                && k.verify(&tbs, &s.signature).is_ok()
        });
        let Some(signer) = signer else {
            return Err(BundleError::Signature);
        };
        // Only a signed document is read further.
        let p = parts(raw)?;
        Ok(Bundle {
            seq: p.seq,
            iat: p.iat,
            max_age: p.max_age,
            kid: hex::encode(signer.kid()),
            catalog: p.catalog,
            raw: raw.to_vec(),
        })
    }

    /// Whether a verified bundle may replace the one in use (sequence `in_use`, none for the
    /// embedded catalog): newer, not from the future, not expired.
    pub fn check_fresh(&self, in_use: Option<u64>, now: i64) -> Result<(), BundleError> {
        if let Some(stored) = in_use {
            if self.seq <= stored {
                return Err(BundleError::Rollback {
                    stored,
                    got: self.seq,
                });
            }
        }
        if self.iat > now + SKEW {
            return Err(BundleError::NotYetValid);
        }
        let expires = self.iat.saturating_add(self.max_age);
        if now > expires {
            return Err(BundleError::Expired { ago: now - expires });
        }
        Ok(())
    }

    /// [`Bundle::open`] then [`Bundle::check_fresh`]: what a kiosk does with a fetched bundle.
    pub fn accept(
        raw: &[u8],
        keys: &[PublicKey],
        in_use: Option<u64>,
        now: i64,
    ) -> Result<Bundle, BundleError> {
        let b = Bundle::open(raw, keys)?;
        b.check_fresh(in_use, now)?;
        Ok(b)
    }

    /// Whether the bundle is past its maximum age at `now`. A stored bundle past its age still
    /// serves after a restart (the last good catalog beats the embedded one); only a newly
    /// offered one is refused for it.
    pub fn is_expired(&self, now: i64) -> bool {
        now > self.iat.saturating_add(self.max_age)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::BUILTIN_TOML;
    use crate::elicense::crypto::Alg;
    use crate::elicense::{sign_trust_list, TrustListContent, TrustedKey};

    const NOW: i64 = 1_796_000_000;

    fn key(seed: &str) -> SecretKey {
        SecretKey::from_seed(Alg::Es256, seed).unwrap()
    }

    fn content(seq: u64) -> BundleContent {
        BundleContent {
            seq,
            iat: NOW - 60,
            max_age: 7 * 86400,
            catalog: BUILTIN_TOML.to_string(),
        }
    }

    #[test]
    fn a_signed_bundle_opens_with_its_key_and_carries_the_catalog() {
        let k = key("catalog-1");
        let raw = sign(&k, &content(7)).unwrap();
        let b = Bundle::accept(&raw, &[k.public_key()], Some(6), NOW).unwrap();
        assert_eq!(b.seq, 7);
        assert_eq!(b.kid, hex::encode(k.public_key().kid()));
        assert_eq!(
            b.catalog.services().len(),
            Catalog::builtin().services().len()
        );
        assert_eq!(b.raw, raw);
    }

    #[test]
    fn peek_reads_what_a_publisher_checks_but_never_trusts_the_signature() {
        let good = sign(&key("catalog"), &content(7)).unwrap();
        let p = peek(&good).unwrap();
        assert_eq!((p.seq, p.iat, p.max_age), (7, NOW - 60, 7 * 86400));
        assert_eq!(p.kid, hex::encode(key("catalog").public_key().kid()));
        assert_eq!(p.services, Catalog::builtin().services().len());
        // A bundle signed by any key peeks the same; only `open` with the kiosk's keys decides.
        let other = sign(&key("someone else"), &content(7)).unwrap();
        assert_eq!(peek(&other).unwrap().seq, 7);
        assert!(matches!(
            Bundle::open(&other, &[key("catalog").public_key()]),
            Err(BundleError::Signature)
        ));
        // Structure is still checked.
        assert_eq!(
            peek(&good[..good.len() / 2]).unwrap_err().kind(),
            "malformed"
        );
        let big = vec![0u8; MAX_BUNDLE + 1];
        assert_eq!(peek(&big).unwrap_err().kind(), "too-large");
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let k = key("catalog-1");
        let other = key("someone-else");
        let raw = sign(&k, &content(7)).unwrap();
        let kind = |r: Result<Bundle, BundleError>| r.map(|_| ()).unwrap_err().kind();
        assert_eq!(
            kind(Bundle::accept(&raw, &[other.public_key()], None, NOW)),
            "signature"
        );
        assert_eq!(kind(Bundle::accept(&raw, &[], None, NOW)), "no-keys");
        assert_eq!(
            kind(Bundle::accept(&raw, &[k.public_key()], Some(7), NOW)),
            "rollback"
        );
        assert_eq!(
            kind(Bundle::accept(
                &raw,
                &[k.public_key()],
                None,
                NOW + 8 * 86400
            )),
            "expired"
        );
        assert_eq!(
            kind(Bundle::accept(&raw, &[k.public_key()], None, NOW - 3600)),
            "not-yet-valid"
        );
        assert_eq!(
            kind(Bundle::accept(
                &raw[..raw.len() - 10],
                &[k.public_key()],
                None,
                NOW
            )),
            "malformed"
        );
        let mut flipped = raw.clone();
        let n = flipped.len();
        flipped[n / 2] ^= 0x01;
        assert!(matches!(
            kind(Bundle::accept(&flipped, &[k.public_key()], None, NOW)),
            "signature" | "malformed"
        ));
        let big = vec![0u8; MAX_BUNDLE + 1];
        assert_eq!(
            kind(Bundle::accept(&big, &[k.public_key()], None, NOW)),
            "too-large"
        );
    }

    #[test]
    fn an_invalid_catalog_is_refused_when_signing_and_when_opening() {
        let k = key("catalog-1");
        let mut c = content(1);
        c.catalog = BUILTIN_TOML.replacen("version = 1", "version = \"one\"", 1);
        let err = sign(&k, &c).unwrap_err();
        assert_eq!(err.kind(), "catalog-invalid");
        assert!(err.to_string().contains("line "), "{err}");

        // A publisher that skips the check (signs the envelope by hand) is still refused.
        let doc = Value::Map(vec![
            (ik(1), Value::Integer(1.into())),
            (ik(2), ik(NOW)),
            (ik(3), ik(86400)),
            (
                ik(4),
                Value::Text("version = 1\n[[service]]\nid = 3\n".into()),
            ),
        ]);
        let mut payload = Vec::new();
        ciborium::into_writer(&doc, &mut payload).unwrap();
        let raw =
            cose::sign_cose(&k, k.alg().cose_id(), Some(&k.public_key().kid()), payload).unwrap();
        let err = Bundle::accept(&raw, &[k.public_key()], None, NOW).unwrap_err();
        assert_eq!(err.kind(), "catalog-invalid");
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    #[test]
    fn the_trust_list_delivers_catalog_keys_by_exact_usage() {
        let root = key("root");
        let cat = key("catalog-2");
        let lic = key("licence-issuer");
        let list = sign_trust_list(
            &root,
            &TrustListContent {
                seq: 1,
                iat: NOW,
                next_update: NOW + 86400,
                max_age: 30 * 86400,
                keys: vec![
                    TrustedKey::new(cat.public_key(), "city", vec![CATALOG_USAGE.into()]),
                    // A licence key whose type prefix happens to start like the usage.
                    TrustedKey::new(lic.public_key(), "gd", vec!["cat".into()]),
                ],
                revoked_identifiers: vec![],
            },
        )
        .unwrap();
        let list = TrustList::open(&list, &[root.public_key()]).unwrap();
        let keys = catalog_keys(&[], Some(&list), NOW);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid(), cat.public_key().kid());
        let raw = sign(&cat, &content(3)).unwrap();
        assert!(Bundle::accept(&raw, &keys, None, NOW).is_ok());
        let raw = sign(&lic, &content(3)).unwrap();
        assert_eq!(
            Bundle::accept(&raw, &keys, None, NOW).unwrap_err().kind(),
            "signature"
        );
    }
}
