//! The COSE_Sign1 envelope shared by issuing, trust lists and verification: the protected header
//! (`alg`, private-use ids included, and `kid`), reading the algorithm back against the
//! allow-list, and signing. Issuing, the trust list and the verifier each import this module and
//! none of the others for it.
use coset::{iana, CoseSign1Builder};

use super::codec;
use super::crypto::{Alg, SecretKey};
use super::error::Error;

/// Signs `payload` into a tagged COSE_Sign1 with protected `alg_id` and `kid`. The algorithm id
/// is taken as given (tests use it to make mismatched codes); the signature is always made with
/// `key`'s own algorithm, raw r‖s.
pub fn sign_cose(
    key: &SecretKey,
    alg_id: i64,
    kid: Option<&[u8]>,
    payload: Vec<u8>,
) -> Result<Vec<u8>, Error> {
    let s = CoseSign1Builder::new()
        .protected(protected_header(alg_id, kid))
        .payload(payload)
        .try_create_signature(b"", |tbs| key.sign(tbs))?
        .build();
    codec::encode_sign1(s)
}

/// A protected header with `alg` (private-use ids included) and `kid`.
pub fn protected_header(alg_id: i64, kid: Option<&[u8]>) -> coset::Header {
    let mut h = coset::Header {
        alg: Some(match <iana::Algorithm as iana::EnumI64>::from_i64(alg_id) {
            Some(a) => coset::RegisteredLabelWithPrivate::Assigned(a),
            None => coset::RegisteredLabelWithPrivate::PrivateUse(alg_id),
        }),
        ..Default::default()
    };
    if let Some(kid) = kid {
        h.key_id = kid.to_vec();
    }
    h
}

/// The algorithm named in a protected header, checked against the allow-list.
pub fn alg_of(h: &coset::Header) -> Result<Alg, Error> {
    use coset::iana::EnumI64;
    use coset::RegisteredLabelWithPrivate as L;
    let id = match h.alg.as_ref().ok_or(Error::MissingAlgorithm)? {
        L::Assigned(a) => a.to_i64(),
        L::PrivateUse(i) => *i,
        L::Text(t) => return Err(Error::UnknownAlgorithm(format!("{t:?}"))),
    };
    Alg::from_cose_id(id).ok_or_else(|| Error::UnknownAlgorithm(id.to_string()))
}
