//! The kiosk's core: everything that decides what a visit does, with no UI, no tokio runtime of
//! its own and no knowledge of the kiosk process, the demo platform or the technician tools.
//! - [`catalog`]: the service catalog (embedded data, validation, pinyin/English search);
//! - [`config`]: the one validated kiosk configuration type;
//! - [`flow`]: the flow engine (identify → form → commitment → platform → result → evaluation);
//! - [`help`]: call for help (呼叫帮助): raising, cancelling and following help requests;
//! - [`journal`]: the offline-first SQLite journal, its outbox and its drain;
//! - [`platform`]: the service platform's API types and the kiosk's client;
//! - [`elicense`]: e-licence presentations: decoding, verification, trust lists, replay store;
//! - [`maintenance`]: the technician PIN, its lockout and the maintenance screen's pure logic;
//! - [`staff`]: staff sign-in (帮办员): staff codes, their verification, the assisted visit's helper;
//! - [`supervisor`]: when a device that stopped answering is power-cycled through its relay;
//! - [`text`]: the table of citizen-facing text written in Rust, both languages, by id.
//!
//! docs/architecture.md shows where this crate sits among the others.
pub mod catalog;
pub mod config;
pub mod elicense;
pub mod flow;
pub mod help;
pub mod journal;
pub mod maintenance;
pub mod platform;
pub mod staff;
pub mod supervisor;
pub mod term;
pub mod text;
