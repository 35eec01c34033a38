//! Rules for the two facts that identify a device to the tenant: the hardware
//! serial number and the SentinelOne agent UUID.

pub mod serial;
pub mod uuid;
