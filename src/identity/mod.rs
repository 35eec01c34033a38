//! This device's identity as the tenant knows it: hardware serial number,
//! SentinelOne agent UUID, and host facts — each with where it came from, and
//! for every source that failed, why.
//!
//! Parsing (SMBIOS tables, vendor CLI output, plists) is plain functions in
//! this module's shared files; the per-OS files only do I/O.

pub mod serial;
pub mod uuid;

use serde::{Deserialize, Serialize};

/// SentinelOne's `osType` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OsType {
    /// macOS.
    Macos,
    /// Windows.
    Windows,
    /// Linux.
    Linux,
}

impl OsType {
    /// The OS this binary was built for, if it is one SentinelOne supports.
    pub fn current() -> Option<Self> {
        if cfg!(target_os = "macos") {
            Some(Self::Macos)
        } else if cfg!(windows) {
            Some(Self::Windows)
        } else if cfg!(target_os = "linux") {
            Some(Self::Linux)
        } else {
            None
        }
    }

    /// The lowercase name used in config files and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Macos => "macos",
            Self::Windows => "windows",
            Self::Linux => "linux",
        }
    }
}

/// Everything known about this device, with provenance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceIdentity {
    /// The usable hardware serial (trimmed), if any.
    pub serial_number: Option<String>,
    /// Where it came from, e.g. `smbios:type1`, `sysfs:product_serial`, `iokit`.
    pub serial_source: Option<String>,
    /// Every serial seen, usable or not.
    pub serial_candidates: Vec<SerialCandidate>,
    /// The serial looks like a virtual machine's (VMware-, Parallels-, …).
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
    /// The SentinelOne agent is installed.
    pub agent_installed: bool,
    /// An agent process is running (None when it could not be checked).
    pub agent_running: Option<bool>,
    /// The agent UUID as read (raw spelling), if registered.
    pub agent_uuid: Option<String>,
    /// Where the UUID came from, e.g. `sentinelctl management status`.
    pub agent_uuid_source: Option<String>,
    /// The agent's version.
    pub agent_version: Option<String>,
    /// The management console the agent reports to.
    pub management_url: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// OS family in SentinelOne's vocabulary.
    pub os_type: Option<OsType>,
    /// OS name and version, e.g. `Ubuntu 24.04`.
    pub os_name: Option<String>,
    /// CPU architecture, e.g. `x86_64`.
    pub arch: Option<String>,
    /// Sources that failed, and why.
    pub problems: Vec<IdentityProblem>,
}

/// One serial number seen in one source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SerialCandidate {
    /// Where it was read, e.g. `smbios:type3`.
    pub source: String,
    /// The value as read (trimmed).
    pub value: String,
    /// Whether it can identify the device.
    pub usable: bool,
    /// Why not, when not usable (e.g. `placeholder`).
    pub reason: Option<String>,
}

/// A source that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProblem {
    /// The source, e.g. `/sys/firmware/dmi/tables/DMI` or `sentinelctl management status`.
    pub source: String,
    /// Stable code: `not_present`, `permission_denied`, `timed_out`, `unparsable`, `unsafe`, …
    pub reason: String,
    /// What to do about it.
    pub hint: Option<String>,
}
