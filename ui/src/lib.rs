//! Generated Rust types for the kiosk UI (`ui/app.slint`). Everything Rust touches is
//! re-exported from the root Slint file: the `KioskWindow` component, its globals and structs.
slint::include_modules!();

#[cfg(feature = "linuxkms")]
pub mod kms;
