//! The service platform: its HTTP API types ([`api`]), the kiosk's client ([`client`]) and the
//! demo platform ([`demo`]) that serves deterministic synthetic data for every catalog service.
//! docs/platform-api.md is the reference of the API.
//!
//! # Using it from the flow engine
//! ```no_run
//! # fn demo() -> Result<(), zizhu_core::platform::PlatformError> {
//! use zizhu_core::platform::{api, client::{new_key, Client, ClientConfig}};
//! let client = Client::new(ClientConfig::new("http://127.0.0.1:8700", "token", "kiosk-1"))?;
//! // 1. The ID number is exchanged for a subject token before anything is journaled.
//! let tok = client.subject(&api::SubjectRequest {
//!     id_number: "11010519491231002X".into(),
//!     kind: api::SubjectKind::IdCard,
//! })?;
//! // 2. The request (token form) goes to the journal's outbox, then to the platform with the
//! //    outbox item's idempotency key (`zizhu_core::journal::Journal::submit` does both).
//! let req = api::ServiceRequest {
//!     subject: Some(api::Subject::token(tok.subject_token, api::SubjectKind::IdCard, false)),
//!     fields: Default::default(),
//!     elicense: vec![],
//!     face_check_id: None,
//!     commitment_accepted: true,
//!     lang: Default::default(),
//!     identity_method: None,
//!     staff_id: None,
//! };
//! let resp = client.submit("ss-insured-cert-print", &new_key()?, &req)?;
//! # let _ = resp; Ok(()) }
//! ```
pub mod api;
pub mod client;

pub use api::ApiError;
pub use client::{Client, ClientConfig, Fetched};

/// What went wrong talking to the platform.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The client could not be set up (bad URL, no runtime, no random source). Fix the
    /// `[platform]` section of the config.
    #[error("platform client setup: {0}")]
    Setup(String),
    /// No connection (refused, reset, DNS, dropped mid-answer). Check the network; queued
    /// submissions are re-sent by the outbox when it is back.
    #[error("the platform is unreachable: {0}")]
    Unreachable(String),
    /// No answer within the timeout. Retried for idempotent calls; otherwise try again later.
    #[error("the platform did not answer in time")]
    Timeout,
    /// The platform answered with an error (see `error.code`; docs/platform-api.md lists them).
    /// Show `error.message_zh/en`; retry only if `error.retryable`.
    // The code and message are the platform's own text: shown through term::safe, so logs and
    // terminals never receive its control characters raw.
    #[error(
        "platform error {status} {}: {}",
        crate::term::safe(&error.code),
        crate::term::safe(&error.message_en)
    )]
    Api {
        /// HTTP status.
        status: u16,
        /// The error body.
        error: ApiError,
    },
    /// The answer was not what the API promises (bad JSON, wrong shape). The platform and the
    /// kiosk disagree on the API version; update one of them.
    #[error("malformed platform answer: {0}")]
    Malformed(String),
    /// The answer was larger than the client accepts. The platform is misbehaving; report it.
    #[error("the platform's answer exceeds {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
}

/// Result alias of this module.
pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// What the flow engine does about a [`PlatformError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The platform cannot be reached or timed out: say "try later", keep the outbox item.
    Unavailable,
    /// The request was refused for a reason the citizen can act on (bad ID number, no record,
    /// missing face check…): show the platform's message.
    Rejected,
    /// A conflict (ticket already used, slot taken): show the message, let them choose again.
    Conflict,
    /// The kiosk is not allowed (bad token): out of service until a technician fixes it.
    Unauthorized,
    /// Anything else (bad answer, setup): out of service, log it.
    Internal,
}

impl PlatformError {
    /// The flow engine's view of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            PlatformError::Unreachable(_) | PlatformError::Timeout => ErrorKind::Unavailable,
            PlatformError::Api { status, error } => match *status {
                401 | 403 => ErrorKind::Unauthorized,
                409 => ErrorKind::Conflict,
                _ if error.retryable || *status >= 500 => ErrorKind::Unavailable,
                _ => ErrorKind::Rejected,
            },
            PlatformError::Setup(_)
            | PlatformError::Malformed(_)
            | PlatformError::TooLarge { .. } => ErrorKind::Internal,
        }
    }

    /// Whether the same call (same idempotency key) may succeed later.
    pub fn retryable(&self) -> bool {
        match self {
            PlatformError::Unreachable(_) | PlatformError::Timeout => true,
            PlatformError::Api { error, .. } => error.retryable,
            PlatformError::Setup(_)
            | PlatformError::Malformed(_)
            | PlatformError::TooLarge { .. } => false,
        }
    }

    /// The platform's error code, if it answered with one.
    pub fn code(&self) -> Option<&str> {
        match self {
            PlatformError::Api { error, .. } => Some(&error.code),
            _ => None,
        }
    }
}
