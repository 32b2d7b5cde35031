//! The verifier: one scanned text in, a verified presentation, a ticket reference or an opaque
//! code out, following the pipeline of docs/elicense.md ("Verification pipeline") step by step.
use chrono::{DateTime, Utc};
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::claims::{self, Body, Licence};
use super::codec::{self, Kind};
use super::crypto::{Alg, PublicKey};
use super::error::{Error, Warning};
use super::lid;
use super::store::Store;
use super::trust::{revocation_hash, TrustList, TrustedKey};
use crate::text::Text;

/// Time policy of the profile.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Tolerated clock difference, seconds (±).
    pub skew: i64,
    /// Longest accepted lifetime (exp − iat) of an `EL1:` presentation.
    pub max_presentation_lifetime: i64,
    /// Longest accepted lifetime of an `ET1:` ticket.
    pub max_ticket_lifetime: i64,
    /// A kiosk clock before this (Unix seconds) is implausible: offline checks are off.
    pub earliest_plausible: i64,
}

/// 2026-01-01T00:00:00Z: no kiosk running this software can truthfully be earlier.
pub const EARLIEST_PLAUSIBLE: i64 = 1_767_225_600;

impl Default for Policy {
    fn default() -> Self {
        Policy {
            skew: 60,
            max_presentation_lifetime: 300,
            max_ticket_lifetime: 120,
            earliest_plausible: EARLIEST_PLAUSIBLE,
        }
    }
}

/// Where the verifier's issuer keys come from.
#[derive(Debug, Clone)]
pub enum Trust {
    /// No keys: offline verification is off, codes go to the platform.
    None,
    /// A fixed, unsigned key list (tests, integrators, `--keys`).
    Keys(Vec<TrustedKey>),
    /// A signed trust list (production).
    List(TrustList),
}

/// A verified offline presentation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Presentation {
    /// Issuer id.
    pub iss: String,
    /// Signing algorithm.
    pub alg: Alg,
    /// Signing key id, hex.
    pub kid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Audience, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// Nonce, hex: with `iss` it names this presentation (audit, platform look-up).
    pub cti: String,
    /// The licence.
    pub licence: Licence,
    /// Licence type names, if the type is one of [`super::types`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub licence_type_name: Option<(&'static str, &'static str)>,
    /// Non-fatal findings (identifier check-character variant, …).
    pub warnings: Vec<Warning>,
}

/// Name of the disclosed field (`sd`) in which an identity presentation issued by the platform
/// carries a platform subject token (this profile's extension, docs/elicense.md).
pub const SUBJECT_TOKEN_FIELD: &str = "subject_token";

/// Longest subject token [`Presentation::subject_token`] accepts, in bytes.
pub const MAX_SUBJECT_TOKEN: usize = 128;

impl Presentation {
    /// Whether this is an identity presentation (licence type
    /// [`super::types::IDENTITY_CARD`], 居民身份证).
    pub fn is_identity(&self) -> bool {
        self.licence.licence_type == super::types::IDENTITY_CARD.code
    }

    /// The platform subject token of an identity presentation: the disclosed field
    /// [`SUBJECT_TOKEN_FIELD`], valid at the platform at least until `exp` plus one hour, so a
    /// kiosk that verified the presentation offline can act for the citizen (as with a token from
    /// `POST /v1/subjects`, subject kind `code`). `None` for other licence types, when the field
    /// is absent, empty, longer than [`MAX_SUBJECT_TOKEN`] bytes, or not printable ASCII without
    /// spaces (then resolve the presentation at the platform instead).
    pub fn subject_token(&self) -> Option<&str> {
        if !self.is_identity() {
            return None;
        }
        let f = self
            .licence
            .disclosed
            .iter()
            .find(|f| f.name == SUBJECT_TOKEN_FIELD)?;
        let t = f.value.as_str();
        let plausible = !t.is_empty()
            && t.len() <= MAX_SUBJECT_TOKEN
            && t.bytes().all(|b| b.is_ascii_graphic());
        plausible.then_some(t)
    }

    /// What the citizen is shown before consenting to its use (免证办): licence name in Chinese
    /// and English, the holder as the issuer masked it, and the identifier masked to its first 6
    /// and last 4 characters.
    pub fn masked_summary(&self) -> MaskedSummary {
        let (zh, en) = self
            .licence_type_name
            .unwrap_or((Text::ELicence.zh(), Text::ELicence.en()));
        MaskedSummary {
            name_zh: zh,
            name_en: en,
            holder: self.licence.holder_name.clone().unwrap_or_default(),
            identifier: zizhu_drivers::privacy::mask(&self.licence.identifier),
        }
    }
}

/// The masked description of a presentation for the consent screen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MaskedSummary {
    /// Licence type name, Chinese.
    pub name_zh: &'static str,
    /// Licence type name, English.
    pub name_en: &'static str,
    /// Holder name as masked by the issuer.
    pub holder: String,
    /// 证照标识, masked.
    pub identifier: String,
}

/// A verified online ticket: the kiosk sends `reference` to the platform, which resolves it once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ticket {
    /// Issuer id.
    pub iss: String,
    /// Signing algorithm.
    pub alg: Alg,
    /// Signing key id, hex.
    pub kid: String,
    /// Issued at.
    pub iat: i64,
    /// Expiry.
    pub exp: i64,
    /// Nonce, hex.
    pub cti: String,
    /// Ticket reference for the platform, hex (send it as `TicketRequest::ticket`).
    pub reference: String,
}

/// A code this kiosk cannot check itself (粤省事码 and the like): send `text` to the platform.
#[derive(Clone, serde::Serialize, Zeroize, ZeroizeOnDrop)]
pub struct OpaqueCode {
    /// The scanned text as it came.
    pub text: String,
}

impl std::fmt::Debug for OpaqueCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "OpaqueCode({})",
            zizhu_drivers::privacy::mask(&self.text)
        )
    }
}

/// The result of [`Verifier::verify`].
#[derive(Debug, Clone, serde::Serialize)]
#[serde(tag = "route", rename_all = "snake_case")]
pub enum Verified {
    /// `EL1:` checked offline.
    Presentation(Box<Presentation>),
    /// `ET1:` signature checked; resolve the reference at the platform.
    Ticket(Ticket),
    /// Anything else; resolve at the platform.
    Opaque(OpaqueCode),
}

/// The e-licence verifier: trust source, time policy and replay store. `verify` takes `&self`;
/// the store serialises its own writes.
pub struct Verifier {
    trust: Trust,
    roots: Vec<PublicKey>,
    store: Box<dyn Store>,
    policy: Policy,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier over a fixed key list (no trust-list updates, no roots).
    pub fn with_keys(keys: Vec<TrustedKey>, store: Box<dyn Store>) -> Verifier {
        Verifier {
            trust: Trust::Keys(keys),
            roots: Vec::new(),
            store,
            policy: Policy::default(),
        }
    }

    /// A verifier that trusts lists signed by one of `roots` (the current and next pinned root
    /// keys of the kiosk config) and starts from the list in `store`, if any. A stored list that
    /// no longer verifies against the roots is ignored (logged), leaving offline checks off.
    pub fn from_store(roots: Vec<PublicKey>, store: Box<dyn Store>) -> Result<Verifier, Error> {
        let trust = match store.trust_list()? {
            Some((_, raw)) => match TrustList::open(&raw, &roots) {
                Ok(list) => Trust::List(list),
                Err(e) => {
                    tracing::warn!(code = e.code(), "stored e-licence trust list rejected: {e}");
                    Trust::None
                }
            },
            None => Trust::None,
        };
        Ok(Verifier {
            trust,
            roots,
            store,
            policy: Policy::default(),
        })
    }

    /// Replaces the time policy.
    pub fn with_policy(mut self, policy: Policy) -> Verifier {
        self.policy = policy;
        self
    }

    /// The time policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The current trust source.
    pub fn trust(&self) -> &Trust {
        &self.trust
    }

    /// Installs a newly downloaded trust list: checks the root signature, that its sequence is
    /// above the stored one, and its dates; then stores it and uses it. Returns its sequence.
    pub fn install_trust_list(&mut self, raw: &[u8], now: DateTime<Utc>) -> Result<u64, Error> {
        let now = now.timestamp();
        let list = TrustList::open(raw, &self.roots)?;
        let stored = self.store.trust_list()?.map(|(seq, _)| seq);
        list.check_fresh(stored, now, self.policy.skew)?;
        self.store.save_trust_list(list.seq, raw, now)?;
        tracing::info!(
            seq = list.seq,
            keys = list.keys.len(),
            "e-licence trust list installed"
        );
        let seq = list.seq;
        self.trust = Trust::List(list);
        Ok(seq)
    }

    /// Verifies one scanned text at `now`.
    pub fn verify(&self, payload: &str, now: DateTime<Utc>) -> Result<Verified, Error> {
        self.verify_at(payload, now.timestamp())
    }

    /// [`Verifier::verify`] with the clock as Unix seconds.
    pub fn verify_at(&self, payload: &str, now: i64) -> Result<Verified, Error> {
        let result = self.run(payload, now);
        match &result {
            Ok(Verified::Presentation(p)) => tracing::info!(
                iss = %p.iss, lt = %p.licence.licence_type, warnings = p.warnings.len(),
                "e-licence presentation accepted"
            ),
            Ok(Verified::Ticket(t)) => tracing::info!(iss = %t.iss, "e-licence ticket accepted"),
            Ok(Verified::Opaque(_)) => tracing::debug!("opaque code routed to the platform"),
            Err(e) => tracing::info!(code = e.code(), step = ?e.step(), "e-licence code rejected"),
        }
        result
    }

    fn run(&self, payload: &str, now: i64) -> Result<Verified, Error> {
        // Prefix.
        let (kind, body) = codec::route(payload)?;
        if kind == Kind::Opaque {
            return Ok(Verified::Opaque(OpaqueCode {
                text: payload.to_string(),
            }));
        }
        // Base45, zlib, CBOR, COSE.
        let cbor = codec::unwrap_transport(body)?;
        let sign1 = codec::parse_sign1(&cbor, codec::PAYLOAD_LIMITS)?;
        // Offline checking needs current trust.
        let (keys, list) = match &self.trust {
            Trust::None => return Err(Error::NoTrustList),
            Trust::Keys(k) => (k.as_slice(), None),
            Trust::List(l) => {
                if l.is_stale(now) {
                    return Err(Error::TrustListStale);
                }
                (l.keys.as_slice(), Some(l))
            }
        };
        // Algorithm.
        let alg = super::cose::alg_of(&sign1.protected.header)?;
        // Kid.
        if !sign1.unprotected.key_id.is_empty() {
            return Err(Error::UnprotectedKid);
        }
        let kid = &sign1.protected.header.key_id;
        if kid.is_empty() {
            return Err(Error::MissingKid);
        }
        let with_kid: Vec<&TrustedKey> = keys.iter().filter(|k| &k.kid == kid).collect();
        if with_kid.is_empty() {
            return Err(Error::UnknownKid {
                kid: hex::encode(kid),
            });
        }
        let candidates: Vec<&TrustedKey> = with_kid
            .into_iter()
            .filter(|k| k.key.alg() == alg)
            .collect();
        if candidates.is_empty() {
            return Err(Error::AlgorithmMismatch {
                kid: hex::encode(kid),
                alg: alg.name().to_string(),
            });
        }
        // Signature: try every key with this kid (ids may collide).
        let tbs = sign1.tbs_data(b"");
        let mut last = Error::BadSignature;
        let mut key = None;
        for k in &candidates {
            match k.key.verify(&tbs, &sign1.signature) {
                Ok(()) => {
                    key = Some(*k);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let key = key.ok_or(last)?;
        // Claims.
        let (c, body) = claims::decode(sign1.payload.as_deref().unwrap_or_default(), kind)?;
        // Time.
        let p = &self.policy;
        if now < p.earliest_plausible || list.is_some_and(|l| now + p.skew < l.iat) {
            return Err(Error::ClockImplausible);
        }
        let lifetime = c.exp - c.iat;
        if lifetime <= 0 {
            return Err(Error::Claims("exp is not after iat".into()));
        }
        let max = match kind {
            Kind::Ticket => p.max_ticket_lifetime,
            _ => p.max_presentation_lifetime,
        };
        if lifetime > max {
            return Err(Error::LifetimeTooLong {
                secs: lifetime,
                max,
            });
        }
        let start = c.nbf.map_or(c.iat, |nbf| nbf.max(c.iat));
        if start > now + p.skew {
            return Err(Error::NotYetValid { ahead: start - now });
        }
        if now > c.exp + p.skew {
            return Err(Error::Expired { ago: now - c.exp });
        }
        // Usage.
        if key.iss != c.iss {
            return Err(Error::IssuerMismatch { iss: c.iss.clone() });
        }
        if !key.valid_at(now) {
            return Err(Error::KeyNotValid);
        }
        let mut warnings = Vec::new();
        let verified = match body {
            Body::Licence(licence) => {
                if !key.allows(&licence.licence_type) {
                    return Err(Error::TypeNotAllowed {
                        lt: licence.licence_type.clone(),
                    });
                }
                if let Some(l) = list {
                    if l.revoked.contains(&revocation_hash(&licence.identifier)) {
                        return Err(Error::Revoked);
                    }
                }
                // Identifier.
                let (id, w) = lid::parse(&licence.identifier)?;
                if id.licence_type != licence.licence_type {
                    return Err(Error::BadIdentifier(
                        "licence type in the identifier differs from lt".into(),
                    ));
                }
                warnings.extend(w);
                let licence_type_name =
                    super::types::by_code(&licence.licence_type).map(|t| (t.zh, t.en));
                Verified::Presentation(Box::new(Presentation {
                    iss: c.iss.clone(),
                    alg,
                    kid: hex::encode(kid),
                    iat: c.iat,
                    exp: c.exp,
                    aud: c.aud.clone(),
                    cti: hex::encode(&c.cti),
                    licence: *licence,
                    licence_type_name,
                    warnings,
                }))
            }
            Body::Ticket(reference) => Verified::Ticket(Ticket {
                iss: c.iss.clone(),
                alg,
                kid: hex::encode(kid),
                iat: c.iat,
                exp: c.exp,
                cti: hex::encode(&c.cti),
                reference: hex::encode(reference),
            }),
        };
        // Replay.
        if !self
            .store
            .record_once(&c.iss, &c.cti, c.exp + p.skew, now)?
        {
            return Err(Error::Replayed);
        }
        if c.cti.first().is_some_and(|b| b % 32 == 0) {
            // Occasional housekeeping (about one in 8 accepted codes).
            self.store.purge(now)?;
        }
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elicense::claims::Field;
    use crate::elicense::types;

    fn presentation(lt: &str, fields: &[(&str, &str)]) -> Presentation {
        let mut licence = Licence::default();
        licence.licence_type = lt.into();
        licence.disclosed = fields
            .iter()
            .map(|(n, v)| Field {
                name: (*n).into(),
                value: (*v).into(),
            })
            .collect();
        Presentation {
            iss: "GD-DEMO".into(),
            alg: Alg::Es256,
            kid: "00".into(),
            iat: 0,
            exp: 300,
            aud: None,
            cti: "00".into(),
            licence,
            licence_type_name: None,
            warnings: Vec::new(),
        }
    }

    #[test]
    fn identity_presentation_carries_a_subject_token() {
        let p = presentation(
            types::IDENTITY_CARD.code,
            &[("其他", "x"), (SUBJECT_TOKEN_FIELD, "st_0123abcd")],
        );
        assert!(p.is_identity());
        assert_eq!(p.subject_token(), Some("st_0123abcd"));
    }

    #[test]
    fn no_subject_token_from_other_types_or_bad_values() {
        let other = presentation(
            types::MARRIAGE_CERTIFICATE.code,
            &[(SUBJECT_TOKEN_FIELD, "st_0123")],
        );
        assert!(!other.is_identity());
        assert_eq!(other.subject_token(), None);
        assert_eq!(
            presentation(types::IDENTITY_CARD.code, &[]).subject_token(),
            None
        );
        let long = "s".repeat(MAX_SUBJECT_TOKEN + 1);
        for bad in ["", "st 1", "st_\n1", "令牌", long.as_str()] {
            let p = presentation(types::IDENTITY_CARD.code, &[(SUBJECT_TOKEN_FIELD, bad)]);
            assert_eq!(p.subject_token(), None, "{bad:?}");
        }
    }
}
