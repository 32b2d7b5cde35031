//! The one error type of e-licence handling: every rejection names the pipeline step it came from,
//! a stable code for logs, JSON and tests, and plain Chinese and English messages for the screen.
use std::fmt;

use crate::text::Text;

/// The verification pipeline, in order (docs/elicense.md, "Verification pipeline"). A rejection at one step
/// means every earlier step passed; test vectors record the expected outcome per step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The text prefix (`EL1:`, `ET1:`) and basic shape of the scanned text.
    Prefix,
    /// Base45 decoding (RFC 9285).
    Base45,
    /// zlib decompression with the output cap.
    Decompress,
    /// CBOR well-formedness with depth and size limits.
    Cbor,
    /// COSE_Sign1 structure (tag 18, four elements, protected header).
    Cose,
    /// The signature algorithm allow-list.
    Algorithm,
    /// Key lookup by `kid`.
    Kid,
    /// The signature itself.
    Signature,
    /// CWT claims present and of the right types.
    Claims,
    /// iat / nbf / exp against the clock, lifetime limits.
    Time,
    /// Issuer and licence type against the key's allowed usage; revocation.
    Usage,
    /// GB/T 36904 licence identifier format.
    Identifier,
    /// The replay cache.
    Replay,
    /// Trust-list handling (not part of a payload's pipeline).
    TrustList,
}

/// Everything that can go wrong reading, verifying, issuing or storing e-licences. Each variant
/// says the cause and what to do; [`Error::code`] is stable, [`Error::message_zh`] and
/// [`Error::message_en`] are what a citizen sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Nothing was scanned (empty text). Scan again.
    #[error("empty code; scan the code again")]
    Empty,
    /// The scanned text is longer than any licence code can be (a cut-off or joined read, or not
    /// a licence). Scan again, holding the phone still.
    #[error("code too long ({len} characters, at most {max}); scan again")]
    TooLong {
        /// Characters received.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The text holds control or non-printable characters: a damaged read or not a text code.
    #[error("unreadable characters in the code; scan again")]
    Unreadable,
    /// A prefix of a format or version this kiosk does not read (`HC1:`, `EL2:`, lower-case
    /// `el1:`). Ask the citizen to refresh the app or use another way to identify.
    #[error("unsupported code format {prefix:?}; refresh the app or identify another way")]
    UnsupportedPrefix {
        /// The prefix seen.
        prefix: String,
    },
    /// A payment code (WeChat / Alipay style) was shown instead of a licence code. Open the
    /// licence in the government app.
    #[error("this is a payment code, not a licence; open the licence in the government app")]
    PaymentCode,
    /// The text after the prefix is not valid Base45: damaged or cut-off read. Scan again.
    #[error("code damaged (Base45: {0}); scan again")]
    Base45(String),
    /// The decoded bytes are not a valid zlib stream. Scan again; if it persists the issuer's
    /// code is broken.
    #[error("code damaged (zlib: {0}); scan again")]
    Zlib(String),
    /// Decompressed content exceeds the cap (a decompression bomb or not a licence code).
    #[error("code content larger than {max} bytes; not a licence code")]
    TooLarge {
        /// The cap in bytes.
        max: usize,
    },
    /// The content is not well-formed CBOR within the limits (depth, items, definite lengths,
    /// no trailing bytes). The code is not a valid licence code.
    #[error("malformed content (CBOR: {0})")]
    Cbor(String),
    /// The content is not a tagged COSE_Sign1 with a readable protected header.
    #[error("not a signed licence code (COSE: {0})")]
    Cose(String),
    /// The protected header names no algorithm.
    #[error("no signature algorithm in the protected header")]
    MissingAlgorithm,
    /// An algorithm outside the allow-list (ES256 −7, SM2-SM3 −65601).
    #[error("signature algorithm {0} is not accepted")]
    UnknownAlgorithm(String),
    /// The protected header has no key id; the issuer must put `kid` there.
    #[error("no key id in the protected header")]
    MissingKid,
    /// A key id in the unprotected header: this profile only trusts a protected `kid`.
    #[error("key id in the unprotected header is not accepted")]
    UnprotectedKid,
    /// No trusted key has this id: an unknown issuer, or the trust list is out of date (update it).
    #[error("unknown signing key {kid}; update the trust list or check the issuer")]
    UnknownKid {
        /// Key id, hex.
        kid: String,
    },
    /// Keys with this id exist, but none for the algorithm the code names.
    #[error("algorithm {alg} does not match the key {kid}")]
    AlgorithmMismatch {
        /// Key id, hex.
        kid: String,
        /// The algorithm named by the code.
        alg: String,
    },
    /// The signature has the wrong encoding (not 64 raw r‖s bytes; DER is refused).
    #[error("signature encoding wrong ({len} bytes, want 64 raw r‖s)")]
    SignatureEncoding {
        /// Signature length received.
        len: usize,
    },
    /// The signature does not verify: the code was altered, or signed by another key.
    #[error("signature invalid; the code was altered or is not genuine")]
    BadSignature,
    /// Claims are missing or of the wrong type.
    #[error("licence content invalid: {0}")]
    Claims(String),
    /// The kiosk clock is implausible (before the software's release or the trust list's issue
    /// time). Offline checks are off until the clock is set (NTP) — a technician problem.
    #[error("kiosk clock implausible; offline checks are off until the clock is set")]
    ClockImplausible,
    /// The code is dated in the future beyond the allowed skew: the kiosk or the issuer clock
    /// is wrong. Check the kiosk clock; otherwise ask for a new code.
    #[error("code issued {ahead} s in the future; check the kiosk clock")]
    NotYetValid {
        /// Seconds ahead of the kiosk clock (beyond the skew).
        ahead: i64,
    },
    /// The code has expired. Ask the citizen to refresh the code in the app.
    #[error("code expired {ago} s ago; refresh the code in the app")]
    Expired {
        /// Seconds since expiry (beyond the skew).
        ago: i64,
    },
    /// exp − iat is longer than the profile allows (300 s presentations, 120 s tickets).
    #[error("code lifetime {secs} s exceeds the maximum {max} s")]
    LifetimeTooLong {
        /// Declared lifetime.
        secs: i64,
        /// Profile maximum.
        max: i64,
    },
    /// The code's issuer is not the issuer the key belongs to.
    #[error("issuer {iss:?} does not match the signing key")]
    IssuerMismatch {
        /// Issuer claimed by the code.
        iss: String,
    },
    /// The key is not allowed to sign this licence type.
    #[error("licence type {lt} is outside the signing key's allowed usage")]
    TypeNotAllowed {
        /// Licence type code.
        lt: String,
    },
    /// The signing key is outside its validity period in the trust list.
    #[error("signing key not valid at this time")]
    KeyNotValid,
    /// The licence identifier is on the trust list's revocation list.
    #[error("licence revoked")]
    Revoked,
    /// The licence identifier (证照标识) does not have the GB/T 36904 form.
    #[error("licence identifier malformed: {0}")]
    BadIdentifier(String),
    /// This code was already used at this kiosk (same issuer and nonce). Ask for a new code.
    #[error("code already used; refresh the code in the app")]
    Replayed,
    /// The trust list is past its maximum age: offline verification is off, codes go to the
    /// platform for online resolution. Update the trust list (network).
    #[error("trust list older than its maximum age; offline checks off, resolving online")]
    TrustListStale,
    /// No trust list is installed. Download one from the platform (or pass `--keys`/`--trust`).
    #[error("no trust list installed; offline checks off, resolving online")]
    NoTrustList,
    /// The trust list is malformed.
    #[error("trust list malformed: {0}")]
    TrustListMalformed(String),
    /// The trust list is not signed by a pinned root key: reject it and keep the old one.
    #[error("trust list not signed by a pinned root key")]
    TrustListSignature,
    /// The trust list's sequence number is not above the stored one (rollback).
    #[error("trust list sequence {got} is not above the stored {stored} (rollback)")]
    TrustListRollback {
        /// Stored sequence number.
        stored: u64,
        /// Offered sequence number.
        got: u64,
    },
    /// The trust list is dated in the future (or the kiosk clock is behind).
    #[error("trust list not yet valid; check the kiosk clock")]
    TrustListNotYetValid,
    /// The trust list is already past its maximum age when offered.
    #[error("trust list expired; fetch a current one")]
    TrustListExpired,
    /// A key file or key list is malformed (the message says which field).
    #[error("key file invalid: {0}")]
    KeyFile(String),
    /// Signing failed (bad key material).
    #[error("signing failed: {0}")]
    Signing(String),
    /// The trust-list or replay store failed (disk, database). Offline checks cannot run safely.
    #[error("e-licence store failed: {0}")]
    Store(String),
}

impl Error {
    /// The pipeline step this error belongs to.
    pub fn step(&self) -> Step {
        use Error::*;
        match self {
            Empty | TooLong { .. } | Unreadable | UnsupportedPrefix { .. } | PaymentCode => {
                Step::Prefix
            }
            Base45(_) => Step::Base45,
            Zlib(_) | TooLarge { .. } => Step::Decompress,
            Cbor(_) => Step::Cbor,
            Cose(_) => Step::Cose,
            MissingAlgorithm | UnknownAlgorithm(_) => Step::Algorithm,
            MissingKid | UnprotectedKid | UnknownKid { .. } | AlgorithmMismatch { .. } => Step::Kid,
            SignatureEncoding { .. } | BadSignature => Step::Signature,
            Claims(_) => Step::Claims,
            ClockImplausible | NotYetValid { .. } | Expired { .. } | LifetimeTooLong { .. } => {
                Step::Time
            }
            IssuerMismatch { .. } | TypeNotAllowed { .. } | KeyNotValid | Revoked => Step::Usage,
            BadIdentifier(_) => Step::Identifier,
            Replayed => Step::Replay,
            TrustListStale
            | NoTrustList
            | TrustListMalformed(_)
            | TrustListSignature
            | TrustListRollback { .. }
            | TrustListNotYetValid
            | TrustListExpired
            | KeyFile(_)
            | Signing(_)
            | Store(_) => Step::TrustList,
        }
    }

    /// Stable machine-readable code (`elicense.<name>`), used in logs, JSON output and tests.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            Empty => "elicense.empty",
            TooLong { .. } => "elicense.too_long",
            Unreadable => "elicense.unreadable",
            UnsupportedPrefix { .. } => "elicense.unsupported_prefix",
            PaymentCode => "elicense.payment_code",
            Base45(_) => "elicense.base45",
            Zlib(_) => "elicense.zlib",
            TooLarge { .. } => "elicense.too_large",
            Cbor(_) => "elicense.cbor",
            Cose(_) => "elicense.cose",
            MissingAlgorithm => "elicense.missing_alg",
            UnknownAlgorithm(_) => "elicense.unknown_alg",
            MissingKid => "elicense.missing_kid",
            UnprotectedKid => "elicense.unprotected_kid",
            UnknownKid { .. } => "elicense.unknown_kid",
            AlgorithmMismatch { .. } => "elicense.alg_mismatch",
            SignatureEncoding { .. } => "elicense.signature_encoding",
            BadSignature => "elicense.bad_signature",
            Claims(_) => "elicense.claims",
            ClockImplausible => "elicense.clock_implausible",
            NotYetValid { .. } => "elicense.not_yet_valid",
            Expired { .. } => "elicense.expired",
            LifetimeTooLong { .. } => "elicense.lifetime_too_long",
            IssuerMismatch { .. } => "elicense.issuer_mismatch",
            TypeNotAllowed { .. } => "elicense.type_not_allowed",
            KeyNotValid => "elicense.key_not_valid",
            Revoked => "elicense.revoked",
            BadIdentifier(_) => "elicense.bad_identifier",
            Replayed => "elicense.replayed",
            TrustListStale => "elicense.trust_list_stale",
            NoTrustList => "elicense.no_trust_list",
            TrustListMalformed(_) => "elicense.trust_list_malformed",
            TrustListSignature => "elicense.trust_list_signature",
            TrustListRollback { .. } => "elicense.trust_list_rollback",
            TrustListNotYetValid => "elicense.trust_list_not_yet_valid",
            TrustListExpired => "elicense.trust_list_expired",
            KeyFile(_) => "elicense.key_file",
            Signing(_) => "elicense.signing",
            Store(_) => "elicense.store",
        }
    }

    /// Whether the kiosk should send the scanned text to the platform for online resolution
    /// instead of showing a rejection (offline verification is switched off).
    pub fn falls_back_online(&self) -> bool {
        matches!(
            self,
            Error::TrustListStale | Error::NoTrustList | Error::ClockImplausible
        )
    }

    /// What the citizen is told, by kind (the words are in [`crate::text`]).
    pub fn text(&self) -> Text {
        use Error::*;
        match self {
            Empty | Unreadable | Base45(_) | Zlib(_) => Text::CodeUnreadable,
            TooLong { .. } | TooLarge { .. } | Cbor(_) | Cose(_) => Text::CodeNotLicence,
            UnsupportedPrefix { .. } => Text::CodeUnsupported,
            PaymentCode => Text::CodePayment,
            MissingAlgorithm
            | UnknownAlgorithm(_)
            | MissingKid
            | UnprotectedKid
            | SignatureEncoding { .. }
            | BadSignature
            | AlgorithmMismatch { .. } => Text::CodeForged,
            UnknownKid { .. } => Text::CodeUnknownIssuer,
            Claims(_) | BadIdentifier(_) => Text::CodeIncomplete,
            ClockImplausible => Text::CodeClock,
            NotYetValid { .. } => Text::CodeNotYetValid,
            Expired { .. } => Text::CodeExpired,
            LifetimeTooLong { .. } => Text::CodeLifetime,
            IssuerMismatch { .. } | TypeNotAllowed { .. } | KeyNotValid => {
                Text::CodeIssuerNotAllowed
            }
            Revoked => Text::CodeRevoked,
            Replayed => Text::CodeReplayed,
            TrustListStale | NoTrustList => Text::CodeOnline,
            TrustListMalformed(_)
            | TrustListSignature
            | TrustListRollback { .. }
            | TrustListNotYetValid
            | TrustListExpired
            | KeyFile(_)
            | Signing(_)
            | Store(_) => Text::CodeUnavailable,
        }
    }

    /// Plain Chinese message for the citizen's screen (no technical detail, says what to do).
    pub fn message_zh(&self) -> &'static str {
        self.text().zh()
    }

    /// Plain English message for the citizen's screen.
    pub fn message_en(&self) -> &'static str {
        self.text().en()
    }
}

/// A non-fatal finding on an accepted code, shown to staff and logged, never to the citizen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Warning {
    /// The 证照标识 check character does not match ISO 7064 MOD 37,36 (some vendors use a
    /// variant), so the identifier was accepted as it is.
    IdentifierCheck {
        /// Check character computed here.
        expected: char,
        /// Check character in the identifier.
        found: char,
    },
    /// The issuing-authority part of the 证照标识 is not an 18-character USCC (older data).
    IdentifierShortIssuer,
}

impl Warning {
    /// Stable code of the warning.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::IdentifierCheck { .. } => "elicense.identifier_check",
            Warning::IdentifierShortIssuer => "elicense.identifier_short_issuer",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::IdentifierCheck { expected, found } => write!(
                f,
                "licence identifier check character {found} differs from ISO 7064 MOD 37,36 ({expected}); accepted as a vendor variant"
            ),
            Warning::IdentifierShortIssuer => {
                f.write_str("licence identifier has a short issuing-authority code")
            }
        }
    }
}
