//! The ESC/POS receipt printer (80 mm, 576 dots).
//!
//! - [`escpos`]: the encoder (pure); [`status`]: DLE EOT status (pure);
//! - [`bitmap`], [`text`], [`receipt`]: the receipt model and its layout into a 1-bit bitmap;
//! - [`parse`]: an ESC/POS parser and renderer (the simulator's, and for tests);
//! - [`serial`]: [`EscPosPrinter`], the real printer over any [`Port`](crate::transport::Port),
//!   and [`spawn_worker`], the job queue thread (status before and after every job, a job waits
//!   through paper end or an open cover and is printed exactly once);
//! - [`sim`]: a simulated printer on a pseudo-terminal that saves each job as `.bin` and `.png`.
//!
//! Wiring: USB printer class (`/dev/usb/lp0`), USB-CDC or RS-232; status bytes come back on the
//! same node. Troubleshooting: `zizhu printer status --port DEV`.
pub mod bitmap;
pub mod escpos;
pub mod parse;
pub mod receipt;
pub mod serial;
pub mod sim;
pub mod status;
pub mod text;

pub use receipt::{Block, Mode, Receipt};
pub use serial::{spawn_worker, EscPosPrinter, JobId, PrinterHandle, WorkerConfig};
pub use status::PrinterStatus;

use crate::health::Health;
use crate::DeviceErrorKind;

/// Errors of the receipt printer.
#[derive(Debug, thiserror::Error)]
pub enum PrinterError {
    /// The port could not be opened or went away. Remedy: check the cable, power and `--port`;
    /// the worker reopens it with backoff and keeps queued jobs.
    #[error("printer port {port}: {source}")]
    Port {
        /// The path.
        port: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Reading or writing failed. Remedy: as above.
    #[error("printer I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// No status reply in time. Remedy: check power; a USB printer that stopped answering can be
    /// power-cycled through the relay.
    #[error("the printer did not answer the status request")]
    Timeout,
    /// A byte came back that is not a status reply. Remedy: check that the device is an ESC/POS
    /// printer and that automatic status back (`GS a`) is off.
    #[error(transparent)]
    NotAStatus(#[from] status::NotAStatus),
    /// The printer cannot print now (paper, cover, error). Remedy: the message says what to fix.
    #[error("printer not ready: {0}")]
    NotReady(&'static str, DeviceErrorKind),
    /// The receipt could not be laid out. Remedy: see [`receipt::ReceiptError`].
    #[error(transparent)]
    Receipt(#[from] receipt::ReceiptError),
}

impl PrinterError {
    /// The category the runtime maps to UI state.
    pub fn kind(&self) -> DeviceErrorKind {
        match self {
            PrinterError::Port { .. } | PrinterError::Io(_) => DeviceErrorKind::Disconnected,
            PrinterError::Timeout => DeviceErrorKind::Timeout,
            PrinterError::NotAStatus(_) => DeviceErrorKind::Protocol,
            PrinterError::NotReady(_, k) => *k,
            PrinterError::Receipt(r) => r.kind(),
        }
    }
}

/// The printer in domain terms. Object-safe.
pub trait ReceiptPrinter: Send {
    /// Queries the real-time status (DLE EOT 1..4).
    fn status(&mut self) -> Result<PrinterStatus, PrinterError>;
    /// Sends the bytes of one job.
    fn send(&mut self, job: &[u8]) -> Result<(), PrinterError>;
}

/// What the printer worker reports.
#[derive(Debug, Clone)]
pub enum PrinterEvent {
    /// A job cannot print yet (paper, cover, offline); it waits and will print once.
    JobWaiting {
        /// The job.
        id: JobId,
        /// Category.
        kind: DeviceErrorKind,
        /// Plain words.
        reason: String,
    },
    /// A job was printed (status checked after it).
    JobPrinted {
        /// The job.
        id: JobId,
    },
    /// The printer status changed.
    Status(PrinterStatus),
    /// Health changed.
    Health(Health),
}
