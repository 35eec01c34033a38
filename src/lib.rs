//! s1trust: is this device registered and healthy in our SentinelOne tenant?
//!
//! The library holds everything the `s1trust` binary does, split by job:
//! [`config`] reads and validates the TOML configuration, [`token`] loads the
//! API token without ever revealing it, [`tenant`] talks to the SentinelOne
//! Management API, [`identity`] holds the rules for serial numbers and agent
//! UUIDs, and [`lookup`] finds one device's agent record and renders it.

pub mod app;
pub mod atomic;
mod cli;
pub mod config;
pub mod config_edit;
pub mod conntest;
pub mod exit;
pub mod fs_trust;
pub mod identity;
pub mod lookup;
pub mod posture;
pub mod settings;
pub mod tenant;
pub mod token;

pub use cli::main;
