//! Fleet tools: the inventory of kiosks ([`inventory`]), the concurrent status poller ([`poll`]),
//! its report ([`report`]) and Prometheus file_sd targets ([`sd`]).
pub mod inventory;
pub mod poll;
pub mod report;
pub mod sd;

pub use inventory::{Inventory, InventoryError, Kiosk};
pub use poll::{poll, KioskResult, Options, Problem, Verdict};
