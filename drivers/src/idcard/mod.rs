//! The second-generation ID-card reader (SAM protocol of GA 467).
//!
//! - [`protocol`]: frames, commands, SW3 codes (pure);
//! - [`card`]: the card data model, the text-block layouts of every card kind, code tables,
//!   GB 11643 (pure);
//! - [`serial`]: [`SamReader`], the real reader over any [`Port`](crate::transport::Port), and
//!   [`spawn_worker`], the polling thread with debounce, health and reconnect;
//! - [`sim`]: a simulated reader on a pseudo-terminal.
//!
//! Wiring: USB-serial or UART at 115200 8N1, no flow control. Troubleshooting: `zizhu idcard read
//! --port DEV` talks to the reader directly; permissions come from the `dialout` group.
pub mod card;
pub mod protocol;
pub mod serial;
pub mod sim;

pub use card::{CardData, CardKind, CardRead, IdCheck, Sex};
pub use serial::{spawn_worker, ReaderHandle, SamReader, WorkerConfig};

use crate::health::Health;
use crate::DeviceErrorKind;

/// Errors of the ID-card reader.
#[derive(Debug, thiserror::Error)]
pub enum IdCardError {
    /// The port could not be opened or went away (unplugged, wrong path, no permission). Remedy:
    /// check the cable and the `--port` path; the worker reopens it with backoff.
    #[error("reader port {port}: {source}")]
    Port {
        /// The path.
        port: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Reading or writing failed (the device was unplugged mid-transfer). Remedy: as above.
    #[error("reader I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// No complete answer within the timeout. Remedy: check power and baud rate (115200);
    /// power-cycle the reader through the relay if it stays silent.
    #[error("the reader did not answer within {0:?}")]
    Timeout(std::time::Duration),
    /// The answer did not fit the protocol (bad checksum, length). Remedy: retry; check the line.
    #[error("bad frame from the reader: {0}")]
    Frame(#[from] protocol::FrameError),
    /// The SAM answered with a failure code. Remedy: see [`protocol::SamCode`].
    #[error(transparent)]
    Sam(#[from] protocol::SamCode),
    /// The read response could not be parsed. Remedy: see [`card::ParseError`].
    #[error(transparent)]
    Parse(#[from] card::ParseError),
}

impl From<protocol::ResponseError> for IdCardError {
    fn from(e: protocol::ResponseError) -> Self {
        match e {
            protocol::ResponseError::Frame(f) => IdCardError::Frame(f),
            protocol::ResponseError::Sam(s) => IdCardError::Sam(s),
        }
    }
}

impl IdCardError {
    /// The category the runtime maps to UI state.
    pub fn kind(&self) -> DeviceErrorKind {
        match self {
            IdCardError::Port { .. } | IdCardError::Io(_) => DeviceErrorKind::Disconnected,
            IdCardError::Timeout(_) => DeviceErrorKind::Timeout,
            IdCardError::Frame(_) => DeviceErrorKind::Protocol,
            IdCardError::Sam(c) => c.kind(),
            IdCardError::Parse(p) => p.kind(),
        }
    }
}

/// The reader in domain terms. Object-safe; the runtime can hold `Box<dyn CardReader>`.
pub trait CardReader: Send {
    /// Checks the SAM (self-test result).
    fn sam_status(&mut self) -> Result<(), IdCardError>;
    /// The SAM ID (management number).
    fn sam_id(&mut self) -> Result<String, IdCardError>;
    /// Whether a card is in the field.
    fn find(&mut self) -> Result<bool, IdCardError>;
    /// Selects the card found.
    fn select(&mut self) -> Result<(), IdCardError>;
    /// Reads text and photo (and the fingerprint when `fingerprint`).
    fn read(&mut self, fingerprint: bool) -> Result<CardRead, IdCardError>;
}

/// What the reader worker reports.
#[derive(Debug, Clone)]
pub enum ReaderEvent {
    /// A card was placed and read (once per placement).
    CardRead(Box<CardRead>),
    /// The card that was read left the reader.
    CardRemoved,
    /// A card is there but could not be read (the kind says why).
    ReadFailed {
        /// Category.
        kind: DeviceErrorKind,
        /// Plain-words reason (no personal data).
        reason: String,
    },
    /// Health changed.
    Health(Health),
}
