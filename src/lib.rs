//! Zizhu (自助): firmware and runtime of a government-service self-service kiosk.
//!
//! The library holds everything the `zizhu` binary does, so integration tests drive the same code:
//! - [`catalog`]: the service catalog (embedded data, validation, pinyin/English search);
//! - [`config`]: the one validated kiosk configuration type;
//! - [`flow`]: the flow engine (identify → form → commitment → platform → result → evaluation);
//! - [`cli`]: the command-line surface (`zizhu run`, `zizhu catalog …`, …);
//! - [`kiosk`]: the Slint UI wiring and the headless renderer behind `zizhu screenshot`;
//! - [`maintenance`]: the technician PIN, its lockout and the maintenance screen's pure logic;
//! - [`supervisor`]: when a device that stopped answering is power-cycled through its relay;
//! - [`term`]: the one place that makes device and platform text safe for a terminal.
//!
//! Feature `ui` (default) brings Slint; without it the library has no UI and no Slint dependency.
pub mod catalog;
#[cfg(feature = "ui")]
pub mod cli;
pub mod config;
pub mod elicense;
pub mod error;
pub mod fleet;
pub mod flow;
pub mod image;
pub mod ime;
pub mod journal;
#[cfg(feature = "ui")]
pub mod kiosk;
pub mod maintenance;
pub mod platform;
pub mod runtime;
pub mod status;
pub mod supervisor;
pub mod systemd;
pub mod term;

#[cfg(feature = "ui")]
pub use zizhu_ui as ui;
