//! The one integration-test binary (one `mod` per area keeps link times down).
mod architecture;
mod catalog;
mod devices;
mod elicense;
mod faults;
mod fleet;
mod flows;
mod image;
mod journal;
mod maintenance;
mod platform;
mod runtime;
mod status;
mod ui;
mod ui_flow;
mod util;
