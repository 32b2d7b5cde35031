//! Technician and operator tools, which a kiosk never runs:
//! - [`fleet`]: poll many kiosks' status endpoints, rank what needs a visit, write Prometheus
//!   file-based service-discovery targets;
//! - [`image`]: inspect and provision the kiosk's OS image, and flash it with verification.
//!
//! Without the default feature `workbench` only the first-boot provisioning step is built: it runs
//! on the kiosk (zizhu-provision.service), so the kiosk's package links that and nothing else.
//!
//! This crate imports the core and the status types, never the kiosk (docs/architecture.md).
#[cfg(feature = "workbench")]
pub mod fleet;
pub mod image;

use zizhu_core::{config, maintenance};
#[cfg(feature = "workbench")]
use zizhu_status as status;
