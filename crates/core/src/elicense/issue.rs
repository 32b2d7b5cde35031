//! Issuing presentations and tickets (the platform's side), for the demo platform, the
//! `zizhu elicense issue` command, test vectors and benchmarks. A real platform signs in its own
//! HSM; this module shows exactly what it must produce.
use super::claims::{self, Body, Claims, Licence};
use super::codec;
pub use super::cose::sign_cose;
use super::crypto::SecretKey;
use super::error::Error;

/// An issuer: its signing key, the key id the verifier looks up, and its issuer id (`iss`).
#[derive(Debug, Clone)]
pub struct Issuer {
    /// Signing key.
    pub key: SecretKey,
    /// Key id put in the protected header.
    pub kid: Vec<u8>,
    /// Issuer id, e.g. `GD-YSS`.
    pub iss: String,
}

impl Issuer {
    /// An issuer whose kid is the standard one of its key.
    pub fn new(key: SecretKey, iss: impl Into<String>) -> Issuer {
        Issuer {
            kid: key.public_key().kid().to_vec(),
            key,
            iss: iss.into(),
        }
    }
}

/// What goes into a presentation besides the issuer.
#[derive(Debug, Clone)]
pub struct PresentationClaims {
    /// The licence (holder fields already masked as the holder should see them at the kiosk).
    pub licence: Licence,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Lifetime in seconds (at most 300 for the verifier to accept it).
    pub ttl: i64,
    /// Audience, if any.
    pub aud: Option<String>,
    /// Nonce; random when `None`.
    pub cti: Option<Vec<u8>>,
}

/// A fresh random 16-byte nonce.
pub fn random_cti() -> Result<Vec<u8>, Error> {
    let mut b = vec![0u8; 16];
    getrandom::fill(&mut b).map_err(|e| Error::Signing(e.to_string()))?;
    Ok(b)
}

/// Signs a claims map and wraps it for a QR code with `prefix`.
pub fn sign_claims(
    issuer: &Issuer,
    prefix: &str,
    claims: &Claims,
    body: &Body,
) -> Result<String, Error> {
    let payload = claims::to_cbor(&claims::claims_value(claims, body))?;
    let cose = sign_cose(
        &issuer.key,
        issuer.key.alg().cose_id(),
        Some(&issuer.kid),
        payload,
    )?;
    codec::wrap_transport(prefix, &cose)
}

/// Issues an `EL1:` presentation.
pub fn issue_presentation(issuer: &Issuer, p: &PresentationClaims) -> Result<String, Error> {
    let claims = Claims {
        iss: issuer.iss.clone(),
        aud: p.aud.clone(),
        iat: p.iat,
        nbf: None,
        exp: p.iat + p.ttl,
        cti: match &p.cti {
            Some(c) => c.clone(),
            None => random_cti()?,
        },
    };
    sign_claims(
        issuer,
        codec::PREFIX_PRESENTATION,
        &claims,
        &Body::Licence(Box::new(p.licence.clone())),
    )
}

/// Issues an `ET1:` ticket carrying only a reference for the platform.
pub fn issue_ticket(
    issuer: &Issuer,
    reference: &[u8],
    iat: i64,
    ttl: i64,
) -> Result<String, Error> {
    let claims = Claims {
        iss: issuer.iss.clone(),
        aud: None,
        iat,
        nbf: None,
        exp: iat + ttl,
        cti: random_cti()?,
    };
    sign_claims(
        issuer,
        codec::PREFIX_TICKET,
        &claims,
        &Body::Ticket(reference.to_vec()),
    )
}
