//! E-licences (电子证照) at the kiosk: 扫码亮证 presentations verified offline, online tickets, and
//! opaque platform codes — the verifier, the issuer trust list, replay protection, and the
//! issuing helpers the demo platform and the tools use. No UI types here.
//!
//! # Formats (the profile is docs/elicense.md)
//! - `EL1:` + Base45(zlib(COSE_Sign1(CWT))) — a presentation signed by the platform when the
//!   citizen taps 亮证, valid ≤ 300 s, with the licence in claim −65537.
//! - `ET1:` + the same envelope with only a ticket reference in claim −65538, valid ≤ 120 s; the
//!   platform resolves it once.
//! - Anything else is an opaque code (粤省事码 …) that only the platform can resolve.
//!
//! Algorithms: ES256 (−7) and SM2-SM3 (private-use −65601, distinguishing ID
//! `1234567812345678`), raw r‖s signatures, kid = first 8 bytes of SHA-256 of the SPKI.
//!
//! # Integration points (stable)
//! - **Flow engine, identify step.** Build one [`Verifier`] at start-up and keep it:
//!   ```no_run
//!   # fn demo(roots: Vec<zizhu_core::elicense::PublicKey>, db: &std::path::Path, scanned: &str)
//!   #     -> Result<(), zizhu_core::elicense::Error> {
//!   use zizhu_core::elicense::{store::SqliteStore, Verified, Verifier};
//!   let verifier = Verifier::from_store(roots, Box::new(SqliteStore::open(db)?))?;
//!   match verifier.verify(scanned, chrono::Utc::now()) {
//!       Ok(Verified::Presentation(p)) => { /* p.licence: type, identifier, masked holder */ }
//!       Ok(Verified::Ticket(t)) => { /* send t.reference to the platform (consumed once) */ }
//!       Ok(Verified::Opaque(code)) => { /* send code.text to the platform */ }
//!       Err(e) if e.falls_back_online() => { /* offline off: send the text to the platform */ }
//!       Err(e) => { /* show e.message_zh() / e.message_en(); log e.code() */ }
//!   }
//!   # Ok(()) }
//!   ```
//!   When the platform serves a new trust list, call [`Verifier::install_trust_list`]; it keeps
//!   the old one on any error (rollback, bad signature, expired).
//! - **Identity presentations.** [`Presentation::is_identity`] says a presentation is the
//!   identity licence ([`types::IDENTITY_CARD`]); [`Presentation::subject_token`] gives the
//!   platform subject token it carries in the disclosed field [`verify::SUBJECT_TOKEN_FIELD`]
//!   (this profile's extension), so the kiosk can act for the citizen without going online.
//!   Without one, send the scanned text to `POST /v1/identity/resolve`.
//! - **Demo platform, issuing.** [`issue::Issuer`], [`issue::PresentationClaims`],
//!   [`issue::issue_presentation`], [`issue::issue_ticket`]; trust lists with
//!   [`trust::sign_trust_list`] over a [`trust::TrustListContent`].
//!   [`demo`] has fixed (insecure, public-seed) demo issuer and root keys and a ready trust list,
//!   so the demo platform and a simulated kiosk agree without setup.
//! - **Catalog.** Licence type codes in [`types`] (demo codes, documented there).
//! - **Persistence.** [`store::Store`]; on the kiosk the `elicense_*` tables live in the journal
//!   database (migration `0002_elicense`, [`store::SCHEMA`]): `Journal::connect` +
//!   [`store::SqliteStore::attach`]. Tools use [`store::SqliteStore::open`] on standalone files.
pub mod claims;
pub mod codec;
pub mod cose;
pub mod crypto;
pub mod error;
pub mod issue;
pub mod lid;
pub mod store;
pub mod trust;
pub mod types;
pub mod verify;

pub use claims::{Field, Licence};
pub use crypto::{Alg, PublicKey, SecretKey};
pub use error::{Error, Step, Warning};
pub use issue::{issue_presentation, issue_ticket, Issuer, PresentationClaims};
pub use trust::{sign_trust_list, TrustList, TrustListContent, TrustedKey};
pub use verify::{
    MaskedSummary, OpaqueCode, Policy, Presentation, Ticket, Trust, Verified, Verifier,
    SUBJECT_TOKEN_FIELD,
};
