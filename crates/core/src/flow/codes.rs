//! The identify step's scanned codes (扫码亮证): a code from the citizen's phone becomes an
//! [`Identity`]. Routing follows docs/elicense.md: `EL1:` presentations are verified offline by
//! the e-licence [`Verifier`] (an identity presentation carries the platform's subject token in
//! its disclosed field [`elicense::verify::SUBJECT_TOKEN_FIELD`]); `ET1:` tickets are checked offline and consumed once at
//! the platform; anything else, and any `EL1:` while offline verification is off (no or stale
//! trust list, implausible clock), goes to the platform as an opaque identity code.
use chrono::{DateTime, Utc};

use super::identity::Identity;
use super::ports::{Backend, BackendError, CodeIdentity};
use crate::catalog::Lang;
use crate::elicense::{self, Verified, Verifier};
use crate::text::Text;

/// Why a scanned code did not identify the citizen.
#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    /// The code failed a verification step (see [`elicense::Error`] for each).
    #[error("e-licence code rejected: {}", .0.code())]
    Rejected(#[from] elicense::Error),
    /// A valid presentation of a licence that is not an identity document (a marriage
    /// certificate shown at the identify step).
    #[error("the presentation is a licence, not an identity")]
    NotIdentity {
        /// Licence name, Chinese.
        name_zh: String,
        /// Licence name, English.
        name_en: String,
    },
    /// An identity presentation without the platform's subject token cannot be used for
    /// services (it was made for showing only).
    #[error("the identity presentation carries no subject token")]
    NoSubject,
    /// The platform refused the code or could not be reached.
    #[error(transparent)]
    Backend(#[from] BackendError),
}

impl CodeError {
    /// A plain message for the citizen, with a way forward.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            CodeError::Rejected(e) => e.text().get(lang).to_string(),
            CodeError::NotIdentity { name_zh, name_en } => {
                Text::NotIdentity.fill(lang, &[("name", lang.pick(name_zh, name_en))])
            }
            CodeError::NoSubject => Text::NoSubject.get(lang).into(),
            CodeError::Backend(BackendError::Rejected {
                message_zh,
                message_en,
                ..
            }) => lang.pick(message_zh, message_en).to_string(),
            CodeError::Backend(BackendError::Unreachable(_) | BackendError::Unanswered(_)) => {
                Text::CodeUnreachable.get(lang).into()
            }
            CodeError::Backend(BackendError::Protocol(_)) => Text::CodeProtocol.get(lang).into(),
        }
    }

    /// A stable code for logs and the transcript (never the scanned text).
    pub fn code(&self) -> &'static str {
        match self {
            CodeError::Rejected(e) => e.code(),
            CodeError::NotIdentity { .. } => "identify.not_identity",
            CodeError::NoSubject => "identify.no_subject",
            CodeError::Backend(BackendError::Rejected { .. }) => "identify.refused",
            CodeError::Backend(BackendError::Unreachable(_) | BackendError::Unanswered(_)) => {
                "identify.unreachable"
            }
            CodeError::Backend(BackendError::Protocol(_)) => "identify.protocol",
        }
    }
}

/// How a scanned code was checked, for the audit trail and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `EL1:` verified on the kiosk.
    Offline,
    /// `ET1:` checked here, consumed at the platform.
    Ticket,
    /// Resolved by the platform (opaque code, or `EL1:` with offline verification off).
    Platform,
}

/// Turns a scanned text into the citizen's identity. `verifier` is `None` where the kiosk has
/// no e-licence verifier (every code then goes to the platform).
pub fn identify(
    text: &str,
    verifier: Option<&Verifier>,
    backend: &dyn Backend,
    now: DateTime<Utc>,
) -> Result<(Identity, Route), CodeError> {
    let text = text.trim();
    let from = |c: CodeIdentity| Identity::from_code(c.id_masked, c.name, Some(c.subject_token));
    let Some(verifier) = verifier else {
        return Ok((from(backend.resolve_code(text)?), Route::Platform));
    };
    match verifier.verify(text, now) {
        Ok(Verified::Presentation(p)) => {
            if !p.is_identity() {
                let (zh, en) = p
                    .licence_type_name
                    .unwrap_or((Text::AnELicence.zh(), Text::AnELicence.en()));
                return Err(CodeError::NotIdentity {
                    name_zh: zh.into(),
                    name_en: en.into(),
                });
            }
            let token = p.subject_token().ok_or(CodeError::NoSubject)?.to_string();
            // The issuer already masks the holder's number; masking again keeps at most 6 + 4
            // characters whatever it sent.
            let id = Identity::from_code(
                p.licence
                    .holder_id
                    .as_deref()
                    .map(zizhu_drivers::privacy::mask)
                    .unwrap_or_default(),
                p.licence.holder_name.clone(),
                Some(token),
            );
            Ok((id, Route::Offline))
        }
        Ok(Verified::Ticket(t)) => Ok((from(backend.consume_ticket(&t.reference)?), Route::Ticket)),
        Ok(Verified::Opaque(code)) => {
            Ok((from(backend.resolve_code(&code.text)?), Route::Platform))
        }
        Err(e) if e.falls_back_online() => {
            tracing::info!(
                code = e.code(),
                "offline verification off: code sent to the platform"
            );
            Ok((from(backend.resolve_code(text)?), Route::Platform))
        }
        Err(e) => Err(e.into()),
    }
}
