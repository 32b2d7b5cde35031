//! The serial QR / barcode scanner (USB-CDC or RS-232, CR LF suffix).
//!
//! - [`protocol`]: line splitting, charset, duplicate suppression, trigger commands (pure);
//! - [`serial`]: [`spawn_worker`], the thread that owns the port, emits scans, reports health and
//!   reopens the port with backoff;
//! - [`sim`]: a simulated scanner on a pseudo-terminal.
//!
//! Set the scanner (with its configuration barcodes) to suffix CR LF and no prefix; prefer
//! USB-CDC over keyboard mode. Troubleshooting: `zizhu scanner listen --port DEV`.
pub mod protocol;
pub mod serial;
pub mod sim;

pub use protocol::{Charset, Trigger};
pub use serial::{spawn_worker, ScannerHandle, WorkerConfig};

use crate::health::Health;
use crate::DeviceErrorKind;

/// Errors of the scanner.
#[derive(Debug, thiserror::Error)]
pub enum ScannerError {
    /// The port could not be opened or went away. Remedy: check the cable and `--port`; the
    /// worker reopens it with backoff.
    #[error("scanner port {port}: {source}")]
    Port {
        /// The path.
        port: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Reading failed. Remedy: as above.
    #[error("scanner I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

impl ScannerError {
    /// The category the runtime maps to UI state.
    pub fn kind(&self) -> DeviceErrorKind {
        DeviceErrorKind::Disconnected
    }
}

/// The scanner in domain terms.
pub trait Scanner: Send {
    /// Waits up to `timeout` for the next code (after duplicate suppression).
    fn next_code(&mut self, timeout: std::time::Duration) -> Result<Option<Scan>, ScannerError>;
}

/// One scanned code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Scan {
    /// The decoded text.
    pub text: String,
    /// How it was decoded.
    pub charset: Charset,
}

/// What the scanner worker reports.
#[derive(Debug, Clone)]
pub enum ScannerEvent {
    /// A code (once per presentation).
    Code(Scan),
    /// A message over 4 KiB was dropped.
    Dropped {
        /// Its length in bytes.
        len: usize,
    },
    /// Health changed.
    Health(Health),
}
