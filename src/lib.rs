//! Zizhu (自助): firmware and runtime of a government-service self-service kiosk.
//!
//! This crate is the `zizhu` command line ([`cli`]) and a facade over the workspace's crates, so
//! integration tests, benches and the CLI reach every part by one path (docs/architecture.md):
//! - `zizhu-core`: [`catalog`], [`config`], [`flow`], [`journal`], [`platform`], [`elicense`],
//!   [`maintenance`], [`staff`], [`supervisor`], [`term`], [`text`];
//! - `zizhu-status`: [`status`];
//! - `zizhu-voice`: [`voice`];
//! - `zizhu-demo`: [`platform::demo`], [`elicense::demo`];
//! - `zizhu-kiosk`: [`runtime`], [`kiosk`], [`ime`], [`systemd`];
//! - `zizhu-tools`: [`fleet`], [`image`] (feature `tools`; without it only the first-boot step).
//!
//! Feature `ui` (default) brings Slint; without it the library has no UI and no Slint dependency.
#[cfg(feature = "ui")]
pub mod cli;
pub mod error;

pub use zizhu_core::{
    catalog, config, flow, help, journal, maintenance, staff, supervisor, term, text,
};
pub use zizhu_demo::{elicense, platform};
#[cfg(feature = "ui")]
pub use zizhu_kiosk::kiosk;
pub use zizhu_kiosk::{ime, runtime, systemd};
pub use zizhu_status as status;
#[cfg(feature = "tools")]
pub use zizhu_tools::fleet;
pub use zizhu_tools::image;
pub use zizhu_voice as voice;

#[cfg(feature = "ui")]
pub use zizhu_ui as ui;
