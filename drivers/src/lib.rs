//! Device drivers for the Zizhu kiosk: the SAM ID-card reader (GA 467), the ESC/POS receipt
//! printer, the serial QR / barcode scanner and GPIO (LEDs, buzzer, presence sensor, power relay).
//!
//! Every device has the same shape (see docs/devices.md):
//! - a trait in domain terms ([`idcard::CardReader`], [`printer::ReceiptPrinter`],
//!   [`scanner::Scanner`], [`gpio::Gpio`]);
//! - a pure protocol module, bytes in and bytes out, with no I/O ([`idcard::protocol`],
//!   [`printer::escpos`], [`printer::status`], [`scanner::protocol`]);
//! - a real implementation over any byte stream ([`transport::Port`]; a serial port in
//!   production, a pseudo-terminal in tests) plus a worker that owns the port on its own thread,
//!   reopens it with backoff, reports [`health::Health`] and sends events to an
//!   [`events::EventSink`] (its own `std::sync::mpsc` channel, or one shared by every device);
//! - a simulator that speaks the same wire protocol on a pseudo-terminal ([`idcard::sim`],
//!   [`printer::sim`], [`scanner::sim`]), startable in-process or as `zizhu sim …`.
//!
//! Personal data: [`privacy::mask`] is the one masking rule of the project; buffers holding card
//! data are zeroized when dropped.
#![deny(missing_docs)]

pub mod backoff;
pub mod events;
pub mod gpio;
pub mod health;
pub mod idcard;
pub mod printer;
pub mod privacy;
pub mod pty;
pub mod scanner;
pub mod transport;

pub use health::{DeviceErrorKind, Health, HealthState};
