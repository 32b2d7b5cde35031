//! Staff sign-in (帮办员): the short-lived staff code a site's helper shows at the kiosk, its
//! verification, and the signed-in helper of an assisted visit.
//!
//! A staff code is signed by the platform with the machinery of e-licences (`elicense::cose`,
//! `elicense::codec`) and a key from the same signed trust list, whose usage must name
//! [`STAFF_USAGE`] exactly. The text is
//! ```text
//! ST1: + Base45(zlib(COSE_Sign1(payload)))     protected header: alg, kid
//! payload = { 1 cid bstr(16), 2 staff_id tstr, 3 name tstr, 4 site tstr?, 5 kiosk tstr?,
//!             6 iat int, 7 exp int }           (at least one of site and kiosk)
//! ```
//! A code is accepted only when, in this order: it reads (prefix, Base45, zlib, CBOR within
//! limits, COSE_Sign1); its `kid` is a trust-list key valid now ([`StaffError::Untrusted`]) whose
//! usage is `staff` ([`StaffError::WrongUsage`]); the signature verifies
//! ([`StaffError::Signature`]); the payload is complete, lives at most [`MAX_LIFETIME`]
//! ([`StaffError::Malformed`]); `now` is within `iat − SKEW … exp + SKEW`
//! ([`StaffError::NotYetValid`], [`StaffError::Expired`]); its site and kiosk, where given, are
//! this kiosk's ([`StaffError::OtherSite`], [`StaffError::OtherKiosk`]); and its code id was never
//! used here before ([`StaffError::Replayed`]; the journal remembers used ids, migration
//! `0006_staff`). docs/design.md, "Identification", has the rules of an assisted visit.
//!
//! Personal data: the helper's name lives in memory only and is shown masked (张*); logs and the
//! audit trail carry the staff id (工号) and the code id, never the name.
use ciborium::Value;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::catalog::Lang;
use crate::elicense::codec::map_get;
use crate::elicense::{codec, cose, SecretKey, TrustedKey};
use crate::journal::Journal;
use crate::text::Text;

/// The prefix of a staff code.
pub const PREFIX: &str = "ST1:";
/// The usage a trust-list key must carry (exactly) to sign staff codes.
pub const STAFF_USAGE: &str = "staff";
/// Longest a staff code may live (seconds from `iat` to `exp`): a code is for one sign-in.
pub const MAX_LIFETIME: i64 = 3600;
/// Clock skew tolerated either side (seconds).
pub const SKEW: i64 = 60;
/// Longest staff id (工号) and site or kiosk binding accepted (characters).
pub const MAX_FIELD: usize = 64;

const LIMITS: codec::CborLimits = codec::CborLimits {
    max_depth: 4,
    max_items: 32,
};

/// Why a staff code was refused. Each has its own [`StaffError::kind`] and a plain message for
/// the screen ([`StaffError::text`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    /// Not a staff code, or a damaged one (prefix, Base45, zlib, CBOR, COSE, a field missing or
    /// of the wrong type, a lifetime over [`MAX_LIFETIME`], bound to no site or kiosk). Scan it
    /// again or make a new one.
    #[error("not a readable staff code ({0}); scan it again or make a new one")]
    Malformed(String),
    /// No trust-list key valid now has the code's key id (or there is no trust list yet). The
    /// kiosk needs the platform's current trust list; a code from elsewhere is never trusted.
    #[error("the staff code's key is not in the trust list; wait for the trust list or ask the platform")]
    Untrusted,
    /// The key is trusted, but not for staff codes (its usage lacks `staff`).
    #[error("the staff code is signed by a key not allowed to sign staff codes")]
    WrongUsage,
    /// The signature does not verify with the trusted key: the code was altered.
    #[error("the staff code's signature does not verify; it was altered")]
    Signature,
    /// Past its expiry (plus the skew): make a new code.
    #[error("the staff code expired {ago} s ago; make a new one")]
    Expired {
        /// Seconds since it expired.
        ago: i64,
    },
    /// Issued in the future (beyond the skew): the kiosk's or the issuer's clock is wrong.
    #[error("the staff code is not valid yet; check the kiosk's clock")]
    NotYetValid,
    /// Bound to another site.
    #[error("the staff code is for another site")]
    OtherSite,
    /// Bound to another kiosk.
    #[error("the staff code is for another kiosk")]
    OtherKiosk,
    /// Its code id was used here before: each code signs in once.
    #[error("the staff code was already used; make a new one")]
    Replayed,
    /// The journal could not record the code's use, so it cannot be accepted (replay could not be
    /// ruled out). Check the disk.
    #[error("the staff code's use could not be recorded: {0}")]
    Storage(String),
}

impl StaffError {
    /// A stable kind for logs, JSON and tests.
    pub fn kind(&self) -> &'static str {
        match self {
            StaffError::Malformed(_) => "malformed",
            StaffError::Untrusted => "untrusted",
            StaffError::WrongUsage => "wrong-usage",
            StaffError::Signature => "signature",
            StaffError::Expired { .. } => "expired",
            StaffError::NotYetValid => "not-yet-valid",
            StaffError::OtherSite => "other-site",
            StaffError::OtherKiosk => "other-kiosk",
            StaffError::Replayed => "replayed",
            StaffError::Storage(_) => "storage",
        }
    }

    /// What the helper is told on the screen.
    pub fn text(&self) -> Text {
        match self {
            StaffError::Malformed(_) => Text::StaffMalformed,
            StaffError::Untrusted | StaffError::WrongUsage | StaffError::Signature => {
                Text::StaffUntrusted
            }
            StaffError::Expired { .. } | StaffError::NotYetValid => Text::StaffExpired,
            StaffError::OtherSite => Text::StaffOtherSite,
            StaffError::OtherKiosk => Text::StaffOtherKiosk,
            StaffError::Replayed => Text::StaffReplayed,
            StaffError::Storage(_) => Text::StaffStorage,
        }
    }

    /// [`StaffError::text`] in `lang`.
    pub fn message(&self, lang: Lang) -> &'static str {
        self.text().get(lang)
    }
}

/// What goes into a staff code when issuing one.
#[derive(Debug, Clone)]
pub struct StaffClaims {
    /// Code id (16 random bytes; see [`random_code_id`]).
    pub code_id: [u8; 16],
    /// 工号.
    pub staff_id: String,
    /// The helper's name.
    pub name: String,
    /// The site it may be used at (the kiosk's `[kiosk] site`), if bound to one.
    pub site: Option<String>,
    /// The kiosk it may be used at (`[kiosk] id`), if bound to one.
    pub kiosk: Option<String>,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expires at (Unix seconds).
    pub exp: i64,
}

/// A fresh random code id.
pub fn random_code_id() -> Result<[u8; 16], StaffError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| StaffError::Storage(format!("no randomness: {e}")))?;
    Ok(b)
}

fn ik(k: i64) -> Value {
    Value::Integer(k.into())
}

/// Signs a staff code with `key` (the platform's staff key) and wraps it for a QR code. The
/// claims are checked as the kiosk will check them, so an issuer cannot make a code every kiosk
/// refuses.
pub fn issue(key: &SecretKey, c: &StaffClaims) -> Result<String, StaffError> {
    check_claims(c)?;
    let mut m = vec![
        (ik(1), Value::Bytes(c.code_id.to_vec())),
        (ik(2), Value::Text(c.staff_id.clone())),
        (ik(3), Value::Text(c.name.clone())),
    ];
    if let Some(s) = &c.site {
        m.push((ik(4), Value::Text(s.clone())));
    }
    if let Some(k) = &c.kiosk {
        m.push((ik(5), Value::Text(k.clone())));
    }
    m.push((ik(6), ik(c.iat)));
    m.push((ik(7), ik(c.exp)));
    let mut payload = Vec::new();
    ciborium::into_writer(&Value::Map(m), &mut payload)
        .map_err(|e| StaffError::Malformed(format!("encoding: {e}")))?;
    let raw = cose::sign_cose(
        key,
        key.alg().cose_id(),
        Some(&key.public_key().kid()),
        payload,
    )
    .map_err(|e| StaffError::Malformed(e.to_string()))?;
    codec::wrap_transport(PREFIX, &raw).map_err(|e| StaffError::Malformed(e.to_string()))
}

fn check_text(what: &str, s: &str) -> Result<(), StaffError> {
    let n = s.chars().count();
    if n == 0 || n > MAX_FIELD || s.chars().any(char::is_control) {
        return Err(StaffError::Malformed(format!(
            "{what} must be 1 to {MAX_FIELD} printable characters"
        )));
    }
    Ok(())
}

fn check_claims(c: &StaffClaims) -> Result<(), StaffError> {
    check_text("the staff id", &c.staff_id)?;
    check_text("the name", &c.name)?;
    if c.site.is_none() && c.kiosk.is_none() {
        return Err(StaffError::Malformed(
            "bound to no site and no kiosk".into(),
        ));
    }
    if let Some(s) = &c.site {
        check_text("the site", s)?;
    }
    if let Some(k) = &c.kiosk {
        check_text("the kiosk", k)?;
    }
    if c.exp <= c.iat || c.exp - c.iat > MAX_LIFETIME {
        return Err(StaffError::Malformed(format!(
            "it must expire after it is issued and live at most {MAX_LIFETIME} s"
        )));
    }
    Ok(())
}

/// Where a code is being used: this kiosk's site and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The kiosk's site (`[kiosk] site`).
    pub site: String,
    /// The kiosk's id (`[kiosk] id`).
    pub kiosk_id: String,
}

/// A verified staff code. The name is held in memory only and zeroized on drop; `Debug` masks it.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct StaffCode {
    /// Code id, hex (32 characters).
    #[zeroize(skip)]
    pub code_id: String,
    /// 工号.
    #[zeroize(skip)]
    pub staff_id: String,
    /// The helper's name (memory only).
    pub name: String,
    /// The site it is bound to.
    #[zeroize(skip)]
    pub site: Option<String>,
    /// The kiosk it is bound to.
    #[zeroize(skip)]
    pub kiosk: Option<String>,
    /// Issued at (Unix seconds).
    #[zeroize(skip)]
    pub iat: i64,
    /// Expires at (Unix seconds).
    #[zeroize(skip)]
    pub exp: i64,
    /// The signing key's id, hex.
    #[zeroize(skip)]
    pub kid: String,
}

impl std::fmt::Debug for StaffCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaffCode")
            .field("code_id", &self.code_id)
            .field("staff_id", &self.staff_id)
            .field("name", &mask_staff_name(&self.name))
            .field("site", &self.site)
            .field("kiosk", &self.kiosk)
            .field("exp", &self.exp)
            .finish_non_exhaustive()
    }
}

/// A helper's name masked for the banner: the surname (first character) and `*` (张*).
pub fn mask_staff_name(name: &str) -> String {
    match name.chars().next() {
        Some(c) => format!("{c}*"),
        None => String::new(),
    }
}

fn text_of(m: &[(Value, Value)], k: i64, what: &str) -> Result<Option<String>, StaffError> {
    match map_get(m, k) {
        None => Ok(None),
        Some(Value::Text(t)) => Ok(Some(t.clone())),
        Some(_) => Err(StaffError::Malformed(format!("{what} is not text"))),
    }
}

fn int_of(m: &[(Value, Value)], k: i64, what: &str) -> Result<i64, StaffError> {
    map_get(m, k)
        .and_then(Value::as_integer)
        .and_then(|i| i64::try_from(i).ok())
        .ok_or_else(|| StaffError::Malformed(format!("{what} missing or not an integer")))
}

/// Verifies a scanned or typed staff code against the trust-list `keys` for use at `binding` at
/// `now` (Unix seconds). Does not consult the replay record: [`sign_in`] does both.
pub fn verify(
    text: &str,
    keys: &[TrustedKey],
    binding: &Binding,
    now: i64,
) -> Result<StaffCode, StaffError> {
    let text = text.trim();
    if text.len() > codec::MAX_TEXT {
        return Err(StaffError::Malformed("too long".into()));
    }
    let Some(body) = text.strip_prefix(PREFIX) else {
        return Err(StaffError::Malformed("not an ST1: code".into()));
    };
    let mal = |e: crate::elicense::Error| StaffError::Malformed(e.to_string());
    let raw = codec::unwrap_transport(body).map_err(mal)?;
    let s = codec::parse_sign1(&raw, LIMITS).map_err(mal)?;
    let alg = cose::alg_of(&s.protected.header).map_err(mal)?;
    let kid = &s.protected.header.key_id;
    let Some(key) = keys
        .iter()
        .find(|k| !kid.is_empty() && k.kid == *kid && k.valid_at(now))
    else {
        return Err(StaffError::Untrusted);
    };
    if !key.usage.iter().any(|u| u == STAFF_USAGE) {
        return Err(StaffError::WrongUsage);
    }
    if key.key.alg() != alg || key.key.verify(&s.tbs_data(b""), &s.signature).is_err() {
        return Err(StaffError::Signature);
    }
    // Only a signed payload is read.
    let payload = s.payload.as_deref().unwrap_or_default();
    codec::check_cbor(payload, LIMITS).map_err(mal)?;
    let v: Value =
        ciborium::from_reader(payload).map_err(|e| StaffError::Malformed(e.to_string()))?;
    let m = v
        .as_map()
        .ok_or_else(|| StaffError::Malformed("the payload is not a map".into()))?;
    let code_id = map_get(m, 1)
        .and_then(Value::as_bytes)
        .filter(|b| b.len() == 16)
        .ok_or_else(|| StaffError::Malformed("the code id is not 16 bytes".into()))?;
    let claims = StaffClaims {
        code_id: <[u8; 16]>::try_from(code_id.as_slice())
            .map_err(|_| StaffError::Malformed("the code id is not 16 bytes".into()))?,
        staff_id: text_of(m, 2, "the staff id")?
            .ok_or_else(|| StaffError::Malformed("no staff id".into()))?,
        name: text_of(m, 3, "the name")?.ok_or_else(|| StaffError::Malformed("no name".into()))?,
        site: text_of(m, 4, "the site")?,
        kiosk: text_of(m, 5, "the kiosk")?,
        iat: int_of(m, 6, "iat")?,
        exp: int_of(m, 7, "exp")?,
    };
    check_claims(&claims)?;
    if now < claims.iat - SKEW {
        return Err(StaffError::NotYetValid);
    }
    if now > claims.exp + SKEW {
        return Err(StaffError::Expired {
            ago: now - claims.exp,
        });
    }
    if claims.site.as_ref().is_some_and(|s| *s != binding.site) {
        return Err(StaffError::OtherSite);
    }
    if claims
        .kiosk
        .as_ref()
        .is_some_and(|k| *k != binding.kiosk_id)
    {
        return Err(StaffError::OtherKiosk);
    }
    Ok(StaffCode {
        code_id: hex::encode(claims.code_id),
        staff_id: claims.staff_id.clone(),
        name: claims.name.clone(),
        site: claims.site.clone(),
        kiosk: claims.kiosk.clone(),
        iat: claims.iat,
        exp: claims.exp,
        kid: hex::encode(&key.kid),
    })
}

/// The trust-list keys, for [`verify`]: every key of the list (usage is checked per code, so a
/// code signed by a licence key is refused as [`StaffError::WrongUsage`], not as untrusted).
pub fn keys_of(trust: &crate::elicense::Trust) -> Vec<TrustedKey> {
    match trust {
        crate::elicense::Trust::List(l) => l.keys.clone(),
        crate::elicense::Trust::Keys(k) => k.clone(),
        _ => Vec::new(),
    }
}

/// Verifies a code ([`verify`]) and records its use in the journal, refusing one used before;
/// on success writes `staff.sign_in` to the audit trail. Returns the helper now signed in.
pub fn sign_in(
    text: &str,
    keys: &[TrustedKey],
    binding: &Binding,
    now: i64,
    journal: &Journal,
) -> Result<Helper, StaffError> {
    let code = match verify(text, keys, binding, now) {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(kind = e.kind(), "staff code refused: {e}");
            audit_refusal(journal, &e);
            return Err(e);
        }
    };
    let keep_until = (code.exp + SKEW).saturating_mul(1000);
    match journal.claim_staff_code(&code.code_id, &code.staff_id, keep_until) {
        Ok(true) => {}
        Ok(false) => {
            let e = StaffError::Replayed;
            tracing::info!(kind = e.kind(), staff = %code.staff_id, "staff code refused: {e}");
            audit_refusal(journal, &e);
            return Err(e);
        }
        Err(e) => return Err(StaffError::Storage(e.to_string())),
    }
    let helper = Helper::from_code(&code);
    if let Err(e) = journal.audit(
        &helper.actor(),
        "staff.sign_in",
        Some(&format!("code={} kid={}", code.code_id, code.kid)),
    ) {
        tracing::error!("audit: staff sign-in not recorded: {e}");
    }
    tracing::info!(staff = %helper.staff_id, "staff signed in");
    Ok(helper)
}

fn audit_refusal(journal: &Journal, e: &StaffError) {
    if let Err(err) = journal.audit("staff", "staff.refused", Some(e.kind())) {
        tracing::error!("audit: staff refusal not recorded: {err}");
    }
}

/// Why a helper's sign-in ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignOut {
    /// The sign-out button.
    Press,
    /// The visit ended.
    EndOfVisit,
    /// The kiosk went idle.
    Idle,
    /// Another helper signed in for the visit.
    Replaced,
}

impl SignOut {
    /// The word in the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            SignOut::Press => "press",
            SignOut::EndOfVisit => "end-of-visit",
            SignOut::Idle => "idle",
            SignOut::Replaced => "replaced",
        }
    }
}

/// The staff member signed in at the kiosk: what an assisted visit carries. The name is kept
/// only masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Helper {
    /// 工号 (sent with every submission, recorded in the audit trail).
    pub staff_id: String,
    /// The name masked (张*).
    pub name_masked: String,
    /// The code id it signed in with (hex).
    pub code_id: String,
}

impl Helper {
    /// The helper of a verified code.
    pub fn from_code(code: &StaffCode) -> Helper {
        Helper {
            staff_id: code.staff_id.clone(),
            name_masked: mask_staff_name(&code.name),
            code_id: code.code_id.clone(),
        }
    }

    /// The audit trail's actor for this helper (`staff:0012`).
    pub fn actor(&self) -> String {
        format!("staff:{}", self.staff_id)
    }

    /// The banner: 张* · 工号 0012.
    pub fn banner(&self, lang: Lang) -> String {
        Text::StaffBanner.fill(lang, &[("name", &self.name_masked), ("id", &self.staff_id)])
    }

    /// Records one action of the assisted visit in the audit trail (`staff.<action>`, with a
    /// detail that is never personal data: a service id, an outcome).
    pub fn audit(&self, journal: &Journal, action: &str, detail: Option<&str>) {
        if let Err(e) = journal.audit(&self.actor(), &format!("staff.{action}"), detail) {
            tracing::error!("audit: staff action not recorded: {e}");
        }
    }

    /// Signs out, recording why.
    pub fn sign_out(self, journal: &Journal, why: SignOut) {
        self.audit(journal, "sign_out", Some(why.as_str()));
        tracing::info!(staff = %self.staff_id, why = why.as_str(), "staff signed out");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elicense::crypto::Alg;

    const NOW: i64 = 1_796_000_000;

    fn key(seed: &str) -> SecretKey {
        SecretKey::from_seed(Alg::Es256, seed).expect("key")
    }

    fn claims() -> StaffClaims {
        StaffClaims {
            code_id: [7; 16],
            staff_id: "0012".into(),
            name: "张三丰".into(),
            site: Some("梅江区邮政支局".into()),
            kiosk: None,
            iat: NOW - 30,
            exp: NOW + 270,
        }
    }

    fn binding() -> Binding {
        Binding {
            site: "梅江区邮政支局".into(),
            kiosk_id: "MZ-0042".into(),
        }
    }

    fn trusted(k: &SecretKey, usage: &str) -> TrustedKey {
        TrustedKey::new(k.public_key(), "GD-DEMO", vec![usage.into()])
    }

    #[test]
    fn a_good_code_verifies_and_the_name_is_masked() {
        let k = key("staff");
        let code = issue(&k, &claims()).expect("issue");
        assert!(code.starts_with(PREFIX));
        let v = verify(&code, &[trusted(&k, STAFF_USAGE)], &binding(), NOW).expect("verify");
        assert_eq!(v.staff_id, "0012");
        assert_eq!(v.code_id, "07".repeat(16));
        let dbg = format!("{v:?}");
        assert!(!dbg.contains("张三丰") && dbg.contains("张*"), "{dbg}");
        let h = Helper::from_code(&v);
        assert_eq!(h.banner(Lang::Zh), "张* · 工号 0012");
        assert_eq!(h.actor(), "staff:0012");
    }

    #[test]
    fn every_refusal_has_its_reason() {
        let k = key("staff");
        let keys = [trusted(&k, STAFF_USAGE)];
        let kind = |r: Result<StaffCode, StaffError>| r.map(|_| ()).unwrap_err().kind();
        let good = issue(&k, &claims()).expect("issue");
        // Malformed: not a staff code, damaged, truncated.
        assert_eq!(kind(verify("EL1:ABC", &keys, &binding(), NOW)), "malformed");
        assert_eq!(kind(verify("ST1:", &keys, &binding(), NOW)), "malformed");
        assert_eq!(
            kind(verify(&good[..good.len() - 5], &keys, &binding(), NOW)),
            "malformed"
        );
        assert_eq!(
            kind(verify("ST1:%%%%", &keys, &binding(), NOW)),
            "malformed"
        );
        // Expired and not yet valid.
        assert_eq!(
            kind(verify(&good, &keys, &binding(), NOW + 270 + SKEW + 1)),
            "expired"
        );
        assert_eq!(
            kind(verify(&good, &keys, &binding(), NOW - 30 - SKEW - 1)),
            "not-yet-valid"
        );
        // Another site's, another kiosk's.
        let mut c = claims();
        c.site = Some("另一个网点".into());
        let foreign = issue(&k, &c).expect("issue");
        assert_eq!(kind(verify(&foreign, &keys, &binding(), NOW)), "other-site");
        let mut c = claims();
        c.site = None;
        c.kiosk = Some("MZ-0001".into());
        let foreign = issue(&k, &c).expect("issue");
        assert_eq!(
            kind(verify(&foreign, &keys, &binding(), NOW)),
            "other-kiosk"
        );
        c.kiosk = Some("MZ-0042".into());
        let mine = issue(&k, &c).expect("issue");
        assert!(verify(&mine, &keys, &binding(), NOW).is_ok());
        // Untrusted key, wrong usage, a key outside its validity.
        let stranger = issue(&key("stranger"), &claims()).expect("issue");
        assert_eq!(kind(verify(&stranger, &keys, &binding(), NOW)), "untrusted");
        assert_eq!(kind(verify(&good, &[], &binding(), NOW)), "untrusted");
        assert_eq!(
            kind(verify(&good, &[trusted(&k, "catalog")], &binding(), NOW)),
            "wrong-usage"
        );
        // A licence-type prefix that happens to start like the usage is not the usage.
        assert_eq!(
            kind(verify(&good, &[trusted(&k, "sta")], &binding(), NOW)),
            "wrong-usage"
        );
        let mut old = trusted(&k, STAFF_USAGE);
        old.not_after = Some(NOW - 1);
        assert_eq!(kind(verify(&good, &[old], &binding(), NOW)), "untrusted");
        // A trusted kid over another key's signature: altered.
        let mut imposter = trusted(&key("stranger"), STAFF_USAGE);
        imposter.kid = k.public_key().kid().to_vec();
        assert_eq!(
            kind(verify(&good, &[imposter], &binding(), NOW)),
            "signature"
        );
    }

    #[test]
    fn codes_the_kiosk_would_refuse_are_not_issued() {
        let k = key("staff");
        let mut c = claims();
        c.exp = c.iat + MAX_LIFETIME + 1;
        assert_eq!(issue(&k, &c).unwrap_err().kind(), "malformed");
        let mut c = claims();
        c.site = None;
        assert_eq!(issue(&k, &c).unwrap_err().kind(), "malformed");
        let mut c = claims();
        c.staff_id = String::new();
        assert_eq!(issue(&k, &c).unwrap_err().kind(), "malformed");
    }

    #[test]
    fn the_bytes_of_a_code_are_fixed() {
        // Byte-exact: the payload map as the module documentation gives it.
        let k = key("staff");
        let code = issue(&k, &claims()).expect("issue");
        let raw = codec::unwrap_transport(code.strip_prefix(PREFIX).expect("prefix")).expect("raw");
        let s = codec::parse_sign1(&raw, LIMITS).expect("sign1");
        let payload = s.payload.expect("payload");
        let mut want = vec![0xa6, 0x01, 0x50];
        want.extend([7u8; 16]);
        want.extend([0x02, 0x64, b'0', b'0', b'1', b'2']);
        want.extend([0x03, 0x69]);
        want.extend("张三丰".as_bytes());
        want.extend([0x04, 0x75]);
        want.extend("梅江区邮政支局".as_bytes());
        want.extend([0x06, 0x1a]);
        want.extend(((NOW - 30) as u32).to_be_bytes());
        want.extend([0x07, 0x1a]);
        want.extend(((NOW + 270) as u32).to_be_bytes());
        assert_eq!(hex::encode(&payload), hex::encode(&want));
        // Protected header: {1 (alg): -7 (ES256), 4 (kid): the key's 8-byte kid}.
        let mut header = vec![0xa2, 0x01, 0x26, 0x04, 0x48];
        header.extend(k.public_key().kid());
        assert_eq!(
            hex::encode(s.protected.original_data.as_deref().expect("header bytes")),
            hex::encode(&header)
        );
        // ES256 signatures here are deterministic (RFC 6979): the same claims, the same code.
        assert_eq!(issue(&k, &claims()).expect("again"), code);
    }

    #[test]
    fn sign_in_refuses_a_replayed_code_and_audits() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::open(dir.path()).expect("journal");
        let k = key("staff");
        let keys = [trusted(&k, STAFF_USAGE)];
        let now = chrono::Utc::now().timestamp();
        let mut c = claims();
        c.iat = now - 10;
        c.exp = now + 300;
        let code = issue(&k, &c).expect("issue");
        let h = sign_in(&code, &keys, &binding(), now, &j).expect("first use");
        assert_eq!(h.staff_id, "0012");
        assert_eq!(
            sign_in(&code, &keys, &binding(), now, &j)
                .unwrap_err()
                .kind(),
            "replayed"
        );
        // The journal remembers across a reopen.
        drop(j);
        let j = Journal::open(dir.path()).expect("reopen");
        assert_eq!(
            sign_in(&code, &keys, &binding(), now, &j)
                .unwrap_err()
                .kind(),
            "replayed"
        );
        h.sign_out(&j, SignOut::Press);
        let log = j.audit_log(10).expect("audit");
        let actions: Vec<(&str, &str)> = log
            .iter()
            .map(|e| (e.actor.as_str(), e.action.as_str()))
            .collect();
        assert_eq!(
            actions,
            vec![
                ("staff:0012", "staff.sign_out"),
                ("staff", "staff.refused"),
                ("staff", "staff.refused"),
                ("staff:0012", "staff.sign_in"),
            ]
        );
        assert!(log.iter().all(|e| !format!("{e:?}").contains("张三丰")));
    }

    #[test]
    fn a_use_that_cannot_be_recorded_is_refused_not_accepted() {
        let dir = tempfile::tempdir().expect("tmp");
        let j = Journal::open(dir.path()).expect("journal");
        // The record of used codes is gone (a damaged file): replay cannot be ruled out.
        j.connect()
            .expect("connection")
            .execute_batch("DROP TABLE staff_codes_used")
            .expect("drop");
        let k = key("staff");
        let now = chrono::Utc::now().timestamp();
        let mut c = claims();
        c.iat = now;
        c.exp = now + 60;
        let code = issue(&k, &c).expect("issue");
        let e = sign_in(&code, &[trusted(&k, STAFF_USAGE)], &binding(), now, &j).unwrap_err();
        assert_eq!(e.kind(), "storage");
        assert_eq!(e.text(), Text::StaffStorage);
        assert!(j
            .audit_log(10)
            .expect("audit")
            .iter()
            .all(|e| e.action != "staff.sign_in"));
    }
}
