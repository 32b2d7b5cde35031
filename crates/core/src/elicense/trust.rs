//! Issuer trust: the signed trust list (a COSE_Sign1 over a CBOR document of issuer keys, signed
//! by one of the pinned root keys) and the unsigned JSON key list for tests and integrators.
//!
//! Trust-list document (CBOR map, integer keys):
//! ```text
//! { 1 seq uint, 2 iat int, 3 next_update int, 4 max_age uint (seconds),
//!   5 keys [ { 1 kid bstr(8), 2 alg int, 3 pub bstr (SEC1 uncompressed), 4 iss tstr,
//!              5 usage [tstr licence-type prefixes], 6 not_before int?, 7 not_after int? } ],
//!   6 revoked [bstr(8) first 8 bytes of SHA-256 of a 证照标识]? }
//! ```
use ciborium::Value;
use sha2::{Digest, Sha256};

use super::codec;
use super::codec::map_get;
use super::crypto::{Alg, PublicKey, SecretKey};
use super::error::Error;

/// Largest trust list accepted (bytes of COSE).
pub const MAX_TRUST_LIST: usize = 1 << 20;

/// One trusted issuer key with what it may sign.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// Key id (normally the first 8 bytes of SHA-256 of the SPKI; taken as given).
    pub kid: Vec<u8>,
    /// The public key (its algorithm is the only one accepted for it).
    pub key: PublicKey,
    /// The issuer id codes signed with this key must carry.
    pub iss: String,
    /// Licence type codes (or code prefixes) this key may sign; tickets need none.
    pub usage: Vec<String>,
    /// Start of validity (Unix seconds), if limited.
    pub not_before: Option<i64>,
    /// End of validity (Unix seconds), if limited.
    pub not_after: Option<i64>,
}

impl TrustedKey {
    /// A key valid forever for `usage`, with its standard kid.
    pub fn new(key: PublicKey, iss: impl Into<String>, usage: Vec<String>) -> TrustedKey {
        TrustedKey {
            kid: key.kid().to_vec(),
            key,
            iss: iss.into(),
            usage,
            not_before: None,
            not_after: None,
        }
    }

    /// Whether this key may sign licences of type `lt`.
    pub fn allows(&self, lt: &str) -> bool {
        self.usage
            .iter()
            .any(|p| !p.is_empty() && lt.starts_with(p.as_str()))
    }

    /// Whether the key is within its validity at `now`.
    pub fn valid_at(&self, now: i64) -> bool {
        self.not_before.is_none_or(|t| now >= t) && self.not_after.is_none_or(|t| now <= t)
    }
}

/// A verified trust list.
#[derive(Debug, Clone)]
pub struct TrustList {
    /// Sequence number; every new list must be higher.
    pub seq: u64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// When the platform will publish the next list.
    pub next_update: i64,
    /// Seconds after `iat` past which offline verification is switched off.
    pub max_age: i64,
    /// Issuer keys.
    pub keys: Vec<TrustedKey>,
    /// Revoked licence identifiers (first 8 bytes of SHA-256 of the 证照标识).
    pub revoked: Vec<[u8; 8]>,
    /// The signed bytes as received (for storage).
    pub raw: Vec<u8>,
}

/// What goes into a trust list when signing one.
#[derive(Debug, Clone)]
pub struct TrustListContent {
    /// Sequence number.
    pub seq: u64,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Next planned update (Unix seconds).
    pub next_update: i64,
    /// Maximum age in seconds.
    pub max_age: i64,
    /// Keys.
    pub keys: Vec<TrustedKey>,
    /// Revoked licence identifiers (as identifiers; hashed when signing).
    pub revoked_identifiers: Vec<String>,
}

/// First 8 bytes of SHA-256 of a licence identifier (the revocation-list entry).
pub fn revocation_hash(lid: &str) -> [u8; 8] {
    let h = Sha256::digest(lid.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&h[..8]);
    out
}

fn ik(k: i64) -> Value {
    Value::Integer(k.into())
}

/// Signs a trust list with a root key; returns the COSE_Sign1 bytes.
pub fn sign_trust_list(root: &SecretKey, content: &TrustListContent) -> Result<Vec<u8>, Error> {
    let keys = content
        .keys
        .iter()
        .map(|k| {
            let mut m = vec![
                (ik(1), Value::Bytes(k.kid.clone())),
                (ik(2), ik(k.key.alg().cose_id())),
                (ik(3), Value::Bytes(k.key.to_sec1())),
                (ik(4), Value::Text(k.iss.clone())),
                (
                    ik(5),
                    Value::Array(k.usage.iter().cloned().map(Value::Text).collect()),
                ),
            ];
            if let Some(t) = k.not_before {
                m.push((ik(6), ik(t)));
            }
            if let Some(t) = k.not_after {
                m.push((ik(7), ik(t)));
            }
            Value::Map(m)
        })
        .collect();
    let mut doc = vec![
        (ik(1), Value::Integer(content.seq.into())),
        (ik(2), ik(content.iat)),
        (ik(3), ik(content.next_update)),
        (ik(4), ik(content.max_age)),
        (ik(5), Value::Array(keys)),
    ];
    if !content.revoked_identifiers.is_empty() {
        let r = content
            .revoked_identifiers
            .iter()
            .map(|l| Value::Bytes(revocation_hash(l).to_vec()))
            .collect();
        doc.push((ik(6), Value::Array(r)));
    }
    let payload = super::claims::to_cbor(&Value::Map(doc))?;
    super::cose::sign_cose(
        root,
        root.alg().cose_id(),
        Some(&root.public_key().kid()),
        payload,
    )
}

fn int(v: Option<&Value>, what: &str) -> Result<i64, Error> {
    v.and_then(|v| v.as_integer())
        .and_then(|i| i64::try_from(i).ok())
        .ok_or_else(|| Error::TrustListMalformed(format!("{what} missing or not an integer")))
}

impl TrustList {
    /// Checks the signature against the pinned `roots` and reads the document. Does not check
    /// sequence or age (see [`TrustList::check_fresh`]).
    pub fn open(raw: &[u8], roots: &[PublicKey]) -> Result<TrustList, Error> {
        if raw.len() > MAX_TRUST_LIST {
            return Err(Error::TrustListMalformed("larger than 1 MiB".into()));
        }
        let mal = |e: Error| Error::TrustListMalformed(e.to_string());
        let s = codec::parse_sign1(raw, codec::TRUST_LIST_LIMITS).map_err(mal)?;
        let alg = super::cose::alg_of(&s.protected.header).map_err(mal)?;
        let kid = &s.protected.header.key_id;
        let tbs = s.tbs_data(b"");
        let signed = roots.iter().any(|r| {
            r.alg() == alg
                && (kid.is_empty() || kid.as_slice() == r.kid())
                && r.verify(&tbs, &s.signature).is_ok()
        });
        if !signed {
            return Err(Error::TrustListSignature);
        }
        let payload = s.payload.as_deref().unwrap_or_default();
        codec::check_cbor(payload, codec::TRUST_LIST_LIMITS).map_err(mal)?;
        let v: Value =
            ciborium::from_reader(payload).map_err(|e| Error::TrustListMalformed(e.to_string()))?;
        let doc = v
            .as_map()
            .ok_or_else(|| Error::TrustListMalformed("not a map".into()))?;
        let seq = int(map_get(doc, 1), "seq")?;
        let mut list = TrustList {
            seq: u64::try_from(seq)
                .map_err(|_| Error::TrustListMalformed("negative seq".into()))?,
            iat: int(map_get(doc, 2), "iat")?,
            next_update: int(map_get(doc, 3), "next_update")?,
            max_age: int(map_get(doc, 4), "max_age")?,
            keys: Vec::new(),
            revoked: Vec::new(),
            raw: raw.to_vec(),
        };
        let keys = map_get(doc, 5)
            .and_then(Value::as_array)
            .ok_or_else(|| Error::TrustListMalformed("keys missing".into()))?;
        for k in keys {
            list.keys.push(read_key(k)?);
        }
        if let Some(r) = map_get(doc, 6) {
            let r = r
                .as_array()
                .ok_or_else(|| Error::TrustListMalformed("revoked is not an array".into()))?;
            for h in r {
                let h = h
                    .as_bytes()
                    .and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok())
                    .ok_or_else(|| {
                        Error::TrustListMalformed("revoked entry is not 8 bytes".into())
                    })?;
                list.revoked.push(h);
            }
        }
        Ok(list)
    }

    /// Acceptance of a newly offered list: its sequence must be above `stored_seq` (rollback),
    /// it must not be dated in the future, and not be past its maximum age already.
    pub fn check_fresh(&self, stored_seq: Option<u64>, now: i64, skew: i64) -> Result<(), Error> {
        if let Some(stored) = stored_seq {
            if self.seq <= stored {
                return Err(Error::TrustListRollback {
                    stored,
                    got: self.seq,
                });
            }
        }
        if self.iat > now + skew {
            return Err(Error::TrustListNotYetValid);
        }
        if self.is_stale(now) {
            return Err(Error::TrustListExpired);
        }
        Ok(())
    }

    /// Whether the list is past its maximum age at `now` (offline verification off).
    pub fn is_stale(&self, now: i64) -> bool {
        now > self.iat.saturating_add(self.max_age)
    }
}

fn read_key(v: &Value) -> Result<TrustedKey, Error> {
    let m = v
        .as_map()
        .ok_or_else(|| Error::TrustListMalformed("key entry is not a map".into()))?;
    let mal = |w: &str| Error::TrustListMalformed(format!("key entry: {w}"));
    let kid = map_get(m, 1)
        .and_then(Value::as_bytes)
        .ok_or_else(|| mal("kid"))?
        .clone();
    let alg =
        Alg::from_cose_id(int(map_get(m, 2), "alg")?).ok_or_else(|| mal("alg not allowed"))?;
    let pubkey = map_get(m, 3)
        .and_then(Value::as_bytes)
        .ok_or_else(|| mal("pub"))?;
    let key = PublicKey::from_sec1(alg, pubkey).map_err(|e| mal(&e.to_string()))?;
    let iss = map_get(m, 4)
        .and_then(Value::as_text)
        .ok_or_else(|| mal("iss"))?
        .to_string();
    let usage = map_get(m, 5)
        .and_then(Value::as_array)
        .ok_or_else(|| mal("usage"))?
        .iter()
        .map(|u| {
            u.as_text()
                .map(str::to_string)
                .ok_or_else(|| mal("usage entry"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let opt = |k| map_get(m, k).map(|v| int(Some(v), "validity")).transpose();
    Ok(TrustedKey {
        kid,
        key,
        iss,
        usage,
        not_before: opt(6)?,
        not_after: opt(7)?,
    })
}

/// The unsigned key list of `zizhu elicense verify --keys` and of test vectors:
/// `{"keys": [{"alg": "ES256"|"SM2", "kid": "<16 hex, optional>", "public_key": "<hex 04…>",
/// "iss": "…", "types": ["<licence type code>", …]}]}`; optional `not_before`/`not_after`
/// (RFC 3339) are accepted for trust-list signing.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyListFile {
    /// The keys.
    pub keys: Vec<KeyEntry>,
}

/// One entry of a [`KeyListFile`].
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyEntry {
    /// `ES256` or `SM2`.
    pub alg: String,
    /// Key id, 16 hex digits; computed from the key when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// SEC1 uncompressed public key, hex.
    pub public_key: String,
    /// Issuer id.
    pub iss: String,
    /// Licence type codes (or prefixes) the key may sign.
    #[serde(default)]
    pub types: Vec<String>,
    /// Start of validity, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    /// End of validity, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
}

fn rfc3339(s: &Option<String>) -> Result<Option<i64>, Error> {
    s.as_deref()
        .map(|t| {
            chrono::DateTime::parse_from_rfc3339(t)
                .map(|d| d.timestamp())
                .map_err(|e| Error::KeyFile(format!("time {t:?}: {e}")))
        })
        .transpose()
}

impl KeyListFile {
    /// Parses the JSON text.
    pub fn parse(json: &str) -> Result<KeyListFile, Error> {
        serde_json::from_str(json).map_err(|e| Error::KeyFile(e.to_string()))
    }

    /// The keys as trusted keys.
    pub fn to_keys(&self) -> Result<Vec<TrustedKey>, Error> {
        self.keys
            .iter()
            .map(|e| {
                let alg = Alg::parse(&e.alg)
                    .ok_or_else(|| Error::KeyFile(format!("alg {:?}: use ES256 or SM2", e.alg)))?;
                let pk = hex::decode(e.public_key.trim())
                    .map_err(|_| Error::KeyFile("public_key is not hex".into()))?;
                let key = PublicKey::from_sec1(alg, &pk)?;
                let kid = match &e.kid {
                    Some(k) => {
                        let b =
                            hex::decode(k).map_err(|_| Error::KeyFile("kid is not hex".into()))?;
                        if b.len() != 8 {
                            return Err(Error::KeyFile("kid must be 16 hex digits".into()));
                        }
                        b
                    }
                    None => key.kid().to_vec(),
                };
                Ok(TrustedKey {
                    kid,
                    key,
                    iss: e.iss.clone(),
                    usage: e.types.clone(),
                    not_before: rfc3339(&e.not_before)?,
                    not_after: rfc3339(&e.not_after)?,
                })
            })
            .collect()
    }

    /// The entry for a trusted key (for writing key files).
    pub fn entry(k: &TrustedKey) -> KeyEntry {
        let t = |s: Option<i64>| {
            s.and_then(|s| chrono::DateTime::from_timestamp(s, 0))
                .map(|d| d.to_rfc3339())
        };
        KeyEntry {
            alg: k.key.alg().name().to_string(),
            kid: Some(hex::encode(&k.kid)),
            public_key: hex::encode(k.key.to_sec1()),
            iss: k.iss.clone(),
            types: k.usage.clone(),
            not_before: t(k.not_before),
            not_after: t(k.not_after),
        }
    }
}

/// Parses a pinned root key written `es256:04…` or `sm2:04…`.
pub fn parse_root(s: &str) -> Result<PublicKey, Error> {
    let (alg, key) = s
        .split_once(':')
        .ok_or_else(|| Error::KeyFile("root key must be ALG:HEX (es256:04… or sm2:04…)".into()))?;
    let alg = Alg::parse(alg).ok_or_else(|| Error::KeyFile(format!("root alg {alg:?}")))?;
    let bytes =
        hex::decode(key.trim()).map_err(|_| Error::KeyFile("root key is not hex".into()))?;
    PublicKey::from_sec1(alg, &bytes)
}

/// Writes a root key as `alg:hex` (lower-case alg).
pub fn format_root(k: &PublicKey) -> String {
    format!(
        "{}:{}",
        k.alg().name().to_ascii_lowercase(),
        hex::encode(k.to_sec1())
    )
}
