//! Signature algorithms of the profile: ES256 (COSE −7) and SM2-SM3 (private-use −65601, fixed
//! distinguishing ID `1234567812345678`), both with raw r‖s signatures and SEC1 uncompressed
//! public keys; key ids; key generation for demos and tests.
use p256::ecdsa::signature::{Signer, Verifier};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::error::Error;

/// COSE algorithm id of ES256 (ECDSA P-256 with SHA-256), IANA-registered.
pub const ALG_ES256: i64 = -7;
/// COSE algorithm id this profile pins for SM2 with SM3. SM2 has no IANA COSE code point; any
/// value below −65536 is private use. Keep it in this one constant (docs/elicense.md, "Background").
pub const ALG_SM2_SM3: i64 = -65601;
/// SM2 distinguishing ID (GB/T 35276 default). Signer and verifier must agree on it.
pub const SM2_DISTID: &str = "1234567812345678";

/// DER prefix of a SubjectPublicKeyInfo for an uncompressed P-256 point (id-ecPublicKey, prime256v1).
const SPKI_P256: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// DER prefix of a SubjectPublicKeyInfo for an uncompressed SM2 point (id-ecPublicKey, sm2p256v1
/// 1.2.156.10197.1.301).
const SPKI_SM2: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d, 0x03, 0x42, 0x00,
];

/// A signature algorithm of the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Alg {
    /// ECDSA P-256 with SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// SM2 signature with SM3 (GB/T 32918, distinguishing ID [`SM2_DISTID`]).
    #[serde(rename = "SM2")]
    Sm2,
}

impl Alg {
    /// The COSE algorithm id.
    pub fn cose_id(self) -> i64 {
        match self {
            Alg::Es256 => ALG_ES256,
            Alg::Sm2 => ALG_SM2_SM3,
        }
    }

    /// The algorithm for a COSE id on the allow-list.
    pub fn from_cose_id(id: i64) -> Option<Alg> {
        match id {
            ALG_ES256 => Some(Alg::Es256),
            ALG_SM2_SM3 => Some(Alg::Sm2),
            _ => None,
        }
    }

    /// Name used in key files and JSON (`ES256`, `SM2`).
    pub fn name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::Sm2 => "SM2",
        }
    }

    /// Parses `es256` / `ES256` / `sm2` / `SM2` (also `SM2-SM3`).
    pub fn parse(s: &str) -> Option<Alg> {
        match s.to_ascii_uppercase().as_str() {
            "ES256" => Some(Alg::Es256),
            "SM2" | "SM2-SM3" | "SM2SM3" => Some(Alg::Sm2),
            _ => None,
        }
    }
}

/// A public verification key.
#[derive(Clone, Debug)]
pub enum PublicKey {
    /// P-256 key.
    Es256(p256::ecdsa::VerifyingKey),
    /// SM2 key bound to [`SM2_DISTID`].
    Sm2(sm2::dsa::VerifyingKey),
}

impl PublicKey {
    /// Reads a hex SEC1 uncompressed point on whichever curve it lies, P-256 or SM2 (pinned root
    /// keys in the config and on the command line say no algorithm).
    pub fn from_sec1_hex(hex_key: &str) -> Result<PublicKey, Error> {
        let bytes = hex::decode(hex_key.trim())
            .map_err(|_| Error::KeyFile("public key is not hex".into()))?;
        PublicKey::from_sec1(Alg::Es256, &bytes).or_else(|_| PublicKey::from_sec1(Alg::Sm2, &bytes))
    }

    /// Reads a SEC1 uncompressed point (65 bytes, `04…`).
    pub fn from_sec1(alg: Alg, bytes: &[u8]) -> Result<PublicKey, Error> {
        if bytes.len() != 65 || bytes[0] != 0x04 {
            return Err(Error::KeyFile(
                "public key must be SEC1 uncompressed: 65 bytes starting 04".into(),
            ));
        }
        let bad = |_| Error::KeyFile(format!("public key is not a valid {} point", alg.name()));
        Ok(match alg {
            Alg::Es256 => {
                PublicKey::Es256(p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(bad)?)
            }
            Alg::Sm2 => PublicKey::Sm2(
                sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DISTID, bytes).map_err(bad)?,
            ),
        })
    }

    /// The algorithm of this key.
    pub fn alg(&self) -> Alg {
        match self {
            PublicKey::Es256(_) => Alg::Es256,
            PublicKey::Sm2(_) => Alg::Sm2,
        }
    }

    /// SEC1 uncompressed encoding (65 bytes).
    pub fn to_sec1(&self) -> Vec<u8> {
        match self {
            PublicKey::Es256(k) => k.to_sec1_point(false).as_bytes().to_vec(),
            PublicKey::Sm2(k) => k.to_sec1_bytes().to_vec(),
        }
    }

    /// SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> Vec<u8> {
        let prefix = match self {
            PublicKey::Es256(_) => &SPKI_P256,
            PublicKey::Sm2(_) => &SPKI_SM2,
        };
        let mut der = prefix.to_vec();
        der.extend_from_slice(&self.to_sec1());
        der
    }

    /// Key id: the first 8 bytes of SHA-256 over the SPKI DER (as HCERT does).
    pub fn kid(&self) -> [u8; 8] {
        let h = Sha256::digest(self.spki_der());
        let mut kid = [0u8; 8];
        kid.copy_from_slice(&h[..8]);
        kid
    }

    /// Verifies a raw r‖s signature over `msg`. Anything but 64 bytes (DER included) is refused.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), Error> {
        if sig.len() != 64 {
            return Err(Error::SignatureEncoding { len: sig.len() });
        }
        match self {
            PublicKey::Es256(k) => {
                let s = p256::ecdsa::Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
                k.verify(msg, &s).map_err(|_| Error::BadSignature)
            }
            PublicKey::Sm2(k) => {
                let s = sm2::dsa::Signature::from_slice(sig).map_err(|_| Error::BadSignature)?;
                k.verify(msg, &s).map_err(|_| Error::BadSignature)
            }
        }
    }
}

/// A private signing key (issuers, trust-list roots; demos and tests). Zeroized on drop by the
/// underlying crates.
#[derive(Clone)]
pub enum SecretKey {
    /// P-256 key.
    Es256(p256::ecdsa::SigningKey),
    /// SM2 key bound to [`SM2_DISTID`].
    Sm2(sm2::dsa::SigningKey),
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SecretKey({}, kid {})",
            self.alg().name(),
            hex::encode(self.public_key().kid())
        )
    }
}

impl SecretKey {
    /// A fresh random key from the operating system's generator.
    pub fn generate(alg: Alg) -> Result<SecretKey, Error> {
        for _ in 0..16 {
            let mut bytes = Zeroizing::new([0u8; 32]);
            getrandom::fill(bytes.as_mut()).map_err(|e| Error::Signing(e.to_string()))?;
            if let Ok(k) = SecretKey::from_bytes(alg, bytes.as_ref()) {
                return Ok(k);
            }
        }
        Err(Error::Signing("no valid key after 16 tries".into()))
    }

    /// A key from its 32-byte scalar.
    pub fn from_bytes(alg: Alg, bytes: &[u8]) -> Result<SecretKey, Error> {
        let bad = |_| Error::KeyFile(format!("private key is not a valid {} scalar", alg.name()));
        Ok(match alg {
            Alg::Es256 => {
                SecretKey::Es256(p256::ecdsa::SigningKey::from_slice(bytes).map_err(bad)?)
            }
            Alg::Sm2 => {
                SecretKey::Sm2(sm2::dsa::SigningKey::from_slice(SM2_DISTID, bytes).map_err(bad)?)
            }
        })
    }

    /// A deterministic key derived from a seed (test vectors, benches): SHA-256 of the seed,
    /// re-hashed until it is a valid scalar. Never use for real keys.
    pub fn from_seed(alg: Alg, seed: &str) -> Result<SecretKey, Error> {
        let mut h = Zeroizing::new(Sha256::digest(seed.as_bytes()).to_vec());
        for _ in 0..16 {
            if let Ok(k) = SecretKey::from_bytes(alg, &h) {
                return Ok(k);
            }
            h = Zeroizing::new(Sha256::digest(h.as_slice()).to_vec());
        }
        Err(Error::Signing("seed gives no valid key".into()))
    }

    /// The 32-byte scalar (for key files).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(match self {
            SecretKey::Es256(k) => k.to_bytes().to_vec(),
            SecretKey::Sm2(k) => k.to_bytes().to_vec(),
        })
    }

    /// The algorithm.
    pub fn alg(&self) -> Alg {
        match self {
            SecretKey::Es256(_) => Alg::Es256,
            SecretKey::Sm2(_) => Alg::Sm2,
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            SecretKey::Es256(k) => PublicKey::Es256(*k.verifying_key()),
            SecretKey::Sm2(k) => PublicKey::Sm2(k.verifying_key().clone()),
        }
    }

    /// Signs `msg` deterministically (RFC 6979 style), returning the raw 64-byte r‖s signature.
    pub fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            SecretKey::Es256(k) => {
                let s: p256::ecdsa::Signature =
                    k.try_sign(msg).map_err(|e| Error::Signing(e.to_string()))?;
                Ok(s.to_bytes().to_vec())
            }
            SecretKey::Sm2(k) => {
                let s: sm2::dsa::Signature =
                    k.try_sign(msg).map_err(|e| Error::Signing(e.to_string()))?;
                Ok(s.to_bytes().to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::EncodePublicKey;

    #[test]
    fn spki_prefixes_match_the_crates() {
        let k = SecretKey::from_seed(Alg::Es256, "t").expect("key");
        let PublicKey::Es256(vk) = k.public_key() else {
            panic!()
        };
        assert_eq!(
            vk.to_public_key_der().expect("der").as_bytes(),
            k.public_key().spki_der()
        );
        let k = SecretKey::from_seed(Alg::Sm2, "t").expect("key");
        let PublicKey::Sm2(vk) = k.public_key() else {
            panic!()
        };
        assert_eq!(
            vk.to_public_key_der().expect("der").as_bytes(),
            k.public_key().spki_der()
        );
    }

    #[test]
    fn sign_verify_both_algorithms_and_reject_tampering() {
        for alg in [Alg::Es256, Alg::Sm2] {
            let k = SecretKey::from_seed(alg, "x").expect("key");
            let sig = k.sign(b"hello").expect("sign");
            assert_eq!(sig.len(), 64);
            let pk = PublicKey::from_sec1(alg, &k.public_key().to_sec1()).expect("pk");
            pk.verify(b"hello", &sig).expect("verifies");
            assert_eq!(pk.verify(b"hellO", &sig), Err(Error::BadSignature));
        }
    }

    #[test]
    fn sm2_distid_matters() {
        let k = SecretKey::from_seed(Alg::Sm2, "d").expect("key");
        let sig = k.sign(b"m").expect("sign");
        let other = sm2::dsa::VerifyingKey::from_sec1_bytes(
            "ALICE123@YAHOO.COM",
            &k.public_key().to_sec1(),
        )
        .expect("vk");
        let s = sm2::dsa::Signature::from_slice(&sig).expect("sig");
        assert!(other.verify(b"m", &s).is_err());
    }
}
