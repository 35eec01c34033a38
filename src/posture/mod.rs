//! Posture: trust factors judged on this device's agent record, per integration.

pub mod binding;
pub mod evaluate;
pub mod factors;
pub mod report;
pub mod snapshot;
