//! The kiosk process: what runs on the device and nothing the technician tools need.
//! - [`runtime`]: the kiosk runtime (devices, journal drain, status server, supervisor, health);
//! - [`kiosk`] (feature `ui`): the Slint UI wiring and the headless renderer behind
//!   `zizhu screenshot`;
//! - [`ime`]: the on-screen keyboard's pinyin input method;
//! - [`systemd`]: readiness and watchdog notifications.
//!
//! The core's modules are imported at the root, so `crate::flow` and the like read as they did
//! when everything was one crate.
pub mod ime;
#[cfg(feature = "ui")]
pub mod kiosk;
pub mod runtime;
pub mod systemd;

#[cfg(feature = "ui")]
pub use zizhu_ui as ui;

use zizhu_core::{catalog, config, flow, help, journal, maintenance, staff, supervisor, text};
use zizhu_demo::{elicense, platform};
use zizhu_status as status;
