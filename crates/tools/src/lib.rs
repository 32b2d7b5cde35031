//! Technician and operator tools, which a kiosk never runs:
//! - [`fleet`]: poll many kiosks' status endpoints, rank what needs a visit, write Prometheus
//!   file-based service-discovery targets;
//! - [`image`]: inspect and provision the kiosk's OS image, and flash it with verification.
//!
//! This crate imports the core and the status types, never the kiosk (docs/architecture.md).
pub mod fleet;
pub mod image;

use zizhu_core::{config, maintenance};
use zizhu_status as status;
