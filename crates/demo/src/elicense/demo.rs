//! Demo issuer and root keys, shared by the demo platform (`zizhu platform`) and a simulated
//! kiosk so that both agree without any setup: the platform issues presentations and tickets with
//! [`issuer`] and serves [`trust_list`]; the kiosk pins [`roots`].
//!
//! **Insecure by design:** every key here derives from a public seed. Never pin these roots on a
//! real kiosk; real deployments take their roots from the provisioned kiosk config.
use super::crypto::{Alg, PublicKey, SecretKey};
use super::error::Error;
use super::issue::Issuer;
use super::trust::{sign_trust_list, TrustListContent, TrustedKey};
use super::types;

/// Issuer id of the demo platform.
pub const ISSUER: &str = "GD-DEMO";

fn seed(alg: Alg, what: &str) -> String {
    format!("zizhu-demo-{what}-{}", alg.name())
}

/// The demo platform's issuer with an ES256 or SM2 key.
pub fn issuer(alg: Alg) -> Result<Issuer, Error> {
    Ok(Issuer::new(
        SecretKey::from_seed(alg, &seed(alg, "issuer"))?,
        ISSUER,
    ))
}

/// The demo platform's staff-code key (ES256; usage `staff` in [`trust_list`]): what
/// `zizhu staff issue-code` signs with (`zizhu_core::staff`).
pub fn staff_key() -> Result<SecretKey, Error> {
    SecretKey::from_seed(Alg::Es256, &seed(Alg::Es256, "staff"))
}

/// The demo trust-list root (ES256).
pub fn root() -> Result<SecretKey, Error> {
    SecretKey::from_seed(Alg::Es256, &seed(Alg::Es256, "root"))
}

/// The roots a simulated kiosk pins: the current demo root and a "next" SM2 root.
pub fn roots() -> Result<Vec<PublicKey>, Error> {
    Ok(vec![
        root()?.public_key(),
        SecretKey::from_seed(Alg::Sm2, &seed(Alg::Sm2, "root-next"))?.public_key(),
    ])
}

/// A trust list with both demo issuer keys, allowed every demo licence type, and the demo staff
/// key ([`staff_key`], usage `staff` only), signed by [`root`].
pub fn trust_list(seq: u64, iat: i64, max_age: i64) -> Result<Vec<u8>, Error> {
    let usage: Vec<String> = types::ALL.iter().map(|t| t.code.to_string()).collect();
    let keys = [Alg::Es256, Alg::Sm2]
        .into_iter()
        .map(|alg| {
            let i = issuer(alg)?;
            Ok(TrustedKey::new(i.key.public_key(), ISSUER, usage.clone()))
        })
        .chain(std::iter::once(staff_key().map(|k| {
            TrustedKey::new(
                k.public_key(),
                ISSUER,
                vec![zizhu_core::staff::STAFF_USAGE.to_string()],
            )
        })))
        .collect::<Result<Vec<_>, Error>>()?;
    sign_trust_list(
        &root()?,
        &TrustListContent {
            seq,
            iat,
            next_update: iat + 86_400,
            max_age,
            keys,
            revoked_identifiers: Vec::new(),
        },
    )
}

/// The trust list a demo platform serves from `now` (Unix seconds): valid 7 days, its sequence
/// number the minute it was made, so a restarted platform serves a newer one than a kiosk stored.
pub fn current_trust_list(now: i64) -> Result<Vec<u8>, Error> {
    trust_list((now / 60) as u64, now, 7 * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elicense::{store::MemoryStore, Verified, Verifier};

    #[test]
    fn demo_platform_and_kiosk_agree() {
        let now = 1_780_300_800;
        let mut v = Verifier::from_store(roots().expect("roots"), Box::new(MemoryStore::default()))
            .expect("verifier");
        let at = chrono::DateTime::from_timestamp(now, 0).expect("time");
        v.install_trust_list(&trust_list(1, now, 7 * 86_400).expect("list"), at)
            .expect("install");
        for alg in [Alg::Es256, Alg::Sm2] {
            let code =
                crate::elicense::issue_ticket(&issuer(alg).expect("issuer"), b"ref", now, 60)
                    .expect("ticket");
            assert!(matches!(v.verify_at(&code, now), Ok(Verified::Ticket(_))));
        }
    }
}
