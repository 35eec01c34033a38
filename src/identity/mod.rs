//! This device's identity as the tenant knows it: hardware serial number,
//! SentinelOne agent UUID, and host facts — each with where it came from, and
//! for every source that failed, why.
//!
//! Parsing (SMBIOS tables, vendor CLI output, plists) is plain functions in
//! this module's shared files; the per-OS files only do I/O:
//!
//! | OS | serial | agent |
//! |---|---|---|
//! | Linux | `linux.rs`: sysfs SMBIOS tables, then `/sys/class/dmi/id/*_serial` | `/opt/sentinelone/bin/sentinelctl`, `basic.conf` |
//! | Windows | `windows.rs`: SMBIOS through `GetSystemFirmwareTable('RSMB')` | service `ImagePath` → `SentinelCtl.exe` |
//! | macOS | `macos.rs`: IOKit `IOPlatformSerialNumber`, then `ioreg` | bundle `Info.plist` (else `sentinelctl version`), `sentinelctl status` |
//!
//! [`read_identity`] runs the reader for this OS and assembles a [`DeviceIdentity`].

pub mod agent;
pub mod command;
pub mod host;
pub mod sentinelctl;
pub mod serial;
pub mod smbios;
pub mod uuid;

#[cfg(target_os = "linux")]
pub mod linux;
#[cfg(target_os = "linux")]
use linux as os;
#[cfg(target_os = "macos")]
pub mod macos;
#[cfg(target_os = "macos")]
use macos as os;
#[cfg(windows)]
pub mod windows;
#[cfg(windows)]
use windows as os;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub mod other;
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
use other as os;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use serial::Serial;

use command::{CommandError, Limits, Program};

mod problem;
mod read;
mod sources;

pub use problem::{Fact, IdentityProblem, ProblemReason, Unsupported};
pub use read::{
    AgentReading, SerialReading, assemble, complete, read_identity, read_quick, run_query,
};
pub use sources::{Sourced, SourcedSerial, Sources};

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
    /// The usable hardware serial, if any.
    pub serial_number: Option<Serial>,
    /// Where it came from, e.g. `smbios:type1`, `sysfs:product_serial`, `iokit`.
    pub serial_source: Option<String>,
    /// Every serial seen, usable or not, in preference order.
    pub serial_candidates: Vec<SerialCandidate>,
    /// The serial looks like a virtual machine's (VMware-, Parallels-, …).
    #[serde(rename = "virtual")]
    pub is_virtual: bool,
    /// Which hypervisor, when known: `vmware`, `parallels`, `virtualbox`, `hyperv`, `qemu`, …
    pub virtual_platform: Option<String>,
    /// The SentinelOne agent is installed.
    pub agent_installed: bool,
    /// What showed it is installed, e.g. `/opt/sentinelone/bin/sentinelctl`.
    pub agent_installed_source: Option<String>,
    /// An agent process is running (None when it could not be checked).
    pub agent_running: Option<bool>,
    /// The agent UUID as read (raw spelling), if registered.
    pub agent_uuid: Option<String>,
    /// Where the UUID came from, e.g. `sentinelctl management status`.
    pub agent_uuid_source: Option<String>,
    /// The agent's version.
    pub agent_version: Option<String>,
    /// Where the version came from.
    pub agent_version_source: Option<String>,
    /// The management console the agent reports to.
    pub management_url: Option<String>,
    /// Where the management URL came from.
    pub management_url_source: Option<String>,
    /// What the agent says about its own state (each `None` when not reported).
    #[serde(default)]
    pub agent_state: AgentState,
    /// The OS's machine identity, hashed ([`host::host_id`]), readable by any user.
    pub host_id: Option<String>,
    /// Where it came from, e.g. `/etc/machine-id`.
    pub host_id_source: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// OS family in SentinelOne's vocabulary.
    pub os_type: Option<OsType>,
    /// OS name and version, e.g. `Ubuntu 24.04`.
    pub os_name: Option<String>,
    /// OS version alone, e.g. `24.04`.
    pub os_version: Option<String>,
    /// CPU architecture, e.g. `x86_64`.
    pub arch: Option<String>,
    /// Sources that failed, and why.
    pub problems: Vec<IdentityProblem>,
}

/// The agent's own view of its health, as its command-line tool prints it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentState {
    /// macOS `Ready`.
    pub ready: Option<bool>,
    /// macOS `Protection: enabled`.
    pub protection_enabled: Option<bool>,
    /// macOS `Infected`.
    pub infected: Option<bool>,
    /// Linux `Connectivity On`, macOS `Connected`.
    pub connected: Option<bool>,
    /// Windows `SentinelAgent is loaded`.
    pub loaded: Option<bool>,
    /// Windows `Self-Protection status: On`.
    pub self_protection: Option<bool>,
    /// The command these came from.
    pub source: Option<String>,
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
    /// Why not, when not usable.
    pub reason: Option<CandidateReason>,
}

crate::reason::codes! {
    /// Why a serial candidate cannot identify the device (docs/commands.md `s1trust identity`).
    pub enum CandidateReason {
        /// Nothing left after trimming.
        Empty = "empty",
        /// Shorter than the tenant's minimum filter length.
        TooShort = "too_short",
        /// A firmware template or filler value shared by many devices.
        Placeholder = "placeholder",
        /// The API's filter would read the comma as a list separator.
        Comma = "comma",
        /// The SMBIOS structure names a string that is not in its string table.
        BadString = "bad_string",
    }
}

impl SerialCandidate {
    /// Applies the serial rules ([`serial::check_serial`]) to a value read from `source`.
    pub fn check(source: impl Into<String>, raw: &str) -> Self {
        let (usable, reason) = match serial::check_serial(raw) {
            Ok(_) => (true, None),
            Err(problem) => (false, Some(problem.code())),
        };
        Self {
            source: source.into(),
            value: serial::trim_serial(raw).to_owned(),
            usable,
            reason,
        }
    }

    /// A candidate whose string could not be read at all (bad SMBIOS string number).
    pub fn unreadable(source: impl Into<String>) -> Self {
        Self {
            source: source.into(),
            value: String::new(),
            usable: false,
            reason: Some(CandidateReason::BadString),
        }
    }
}

/// The hint for anything that needs root/Administrator.
const RUN_PRIVILEGED: &str = "run as root or Administrator (e.g. `sudo s1trust identity`); the scheduled `s1trust refresh` does";

/// How far the identity answers "which device is this?" (drives exit codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// The agent UUID was read, and the serial was read or the hardware has no usable one.
    Complete,
    /// The agent is not installed, or installed but not registered.
    AgentMissing,
    /// A needed fact could not be read (permissions, timeouts, unsafe paths, garbage output).
    Unreadable,
}

impl DeviceIdentity {
    /// The agent UUID in comparison form (lowercase hex, no dashes or braces).
    pub fn normalized_uuid(&self) -> Option<String> {
        self.agent_uuid.as_deref().map(uuid::normalize_uuid)
    }

    /// The serials this device can be recognised by, in preference order, each with its
    /// source: the chosen serial, then every other candidate that identifies a device
    /// (SMBIOS Type 1, 3 and 2 as read and trimmed; `IOPlatformSerialNumber` on macOS).
    /// Placeholders, empty and too-short values are left out ([`serial::check_identifying`]);
    /// a serial with a comma counts (it identifies, it just cannot be sent). Values that
    /// differ only in case or surrounding blanks appear once.
    pub fn identifying_serials(&self) -> Vec<SourcedSerial> {
        let chosen = self.serial_number.iter().map(|serial| SourcedSerial {
            serial: serial.clone(),
            source: self
                .serial_source
                .as_deref()
                .unwrap_or("serialNumber")
                .into(),
        });
        let candidates = self.serial_candidates.iter().filter_map(|c| {
            Some(SourcedSerial {
                serial: Serial::parse(&c.value).ok()?,
                source: c.source.clone(),
            })
        });
        let mut out: Vec<SourcedSerial> = Vec::new();
        for found in chosen.chain(candidates) {
            if !out.iter().any(|s| s.serial.is(found.serial.as_str())) {
                out.push(found);
            }
        }
        out
    }

    /// How complete the identity is: a missing or unregistered agent is a
    /// definite answer and wins over an unreadable serial.
    pub fn completeness(&self) -> Completeness {
        let blocked = |fact: Fact| {
            self.problems
                .iter()
                .any(|p| p.fact == fact && !p.reason.is_absence())
        };
        let not_registered = self
            .problems
            .iter()
            .any(|p| p.fact == Fact::Agent && p.reason == ProblemReason::NotRegistered);
        if self.agent_uuid.is_none() {
            let definite = if self.agent_installed {
                not_registered
            } else {
                !blocked(Fact::Agent)
            };
            return if definite {
                Completeness::AgentMissing
            } else {
                Completeness::Unreadable
            };
        }
        let serial_unknown = self.serial_number.is_none() && self.serial_candidates.is_empty();
        if serial_unknown && blocked(Fact::Serial) {
            Completeness::Unreadable
        } else {
            Completeness::Complete
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent_with(uuid: Option<&str>, problems: Vec<IdentityProblem>) -> AgentReading {
        AgentReading {
            installed: Some("/opt/sentinelone/bin/sentinelctl".into()),
            uuid: uuid.map(|u| Sourced::new(u, "sentinelctl management status")),
            problems,
            ..AgentReading::default()
        }
    }

    fn serial_with(candidates: &[(&str, &str)], problems: Vec<IdentityProblem>) -> SerialReading {
        SerialReading {
            candidates: candidates
                .iter()
                .map(|(source, value)| SerialCandidate::check(*source, value))
                .collect(),
            model_platform: None,
            problems,
        }
    }

    fn problem(fact: Fact, reason: ProblemReason) -> IdentityProblem {
        IdentityProblem::new(fact, "somewhere", reason)
    }

    const UUID: &str = "8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e";

    #[test]
    fn first_usable_candidate_wins_and_any_candidate_can_mark_a_vm() {
        let serial = serial_with(
            &[
                ("smbios:type1", "0"),
                ("smbios:type3", "CHS-3"),
                ("smbios:type2", "BRD-2"),
            ],
            vec![],
        );
        let id = assemble(
            serial,
            agent_with(Some(UUID), vec![]),
            Some(true),
            host::HostFacts::default(),
        );
        assert_eq!(id.serial_number.as_ref().map(Serial::as_str), Some("CHS-3"));
        assert_eq!(id.serial_source.as_deref(), Some("smbios:type3"));
        assert_eq!(id.serial_candidates.len(), 3);
        assert!(id.is_virtual);
        assert_eq!(id.virtual_platform.as_deref(), Some("virtualbox"));
        assert_eq!(
            id.agent_uuid_source.as_deref(),
            Some("sentinelctl management status")
        );
        assert_eq!(id.normalized_uuid().as_deref(), Some(UUID));
        assert_eq!(id.os_type, OsType::current());
        assert_eq!(id.completeness(), Completeness::Complete);
    }

    #[test]
    fn identifying_serials_are_every_usable_candidate_once() {
        let serial = serial_with(
            &[
                ("smbios:type1", "To Be Filled By O.E.M."),
                ("smbios:type3", "chs-3 "),
                ("smbios:type2", "BRD,2"),
                ("smbios:type2", "CHS-3"),
                ("smbios:type2", "Default string"),
            ],
            vec![],
        );
        let id = assemble(
            serial,
            agent_with(Some(UUID), vec![]),
            None,
            host::HostFacts::default(),
        );
        let identifying = id.identifying_serials();
        let pairs: Vec<(&str, &str)> = identifying
            .iter()
            .map(|s| (s.serial.as_str(), s.source.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("chs-3", "smbios:type3"), ("BRD,2", "smbios:type2")]
        );
        // A serial given without candidates (an identity written by hand) still counts.
        let bare = DeviceIdentity {
            serial_number: Serial::parse("PF2ABCDE").ok(),
            ..DeviceIdentity::default()
        };
        assert_eq!(bare.identifying_serials()[0].source, "serialNumber");
        assert!(DeviceIdentity::default().identifying_serials().is_empty());
    }

    #[test]
    fn completeness_decides_the_exit_code() {
        let read = |candidates: &[(&str, &str)], serial_problems, agent: AgentReading| {
            assemble(
                serial_with(candidates, serial_problems),
                agent,
                None,
                host::HostFacts::default(),
            )
            .completeness()
        };
        let denied = || vec![problem(Fact::Serial, ProblemReason::PermissionDenied)];
        let absent = || vec![problem(Fact::Serial, ProblemReason::NotPresent)];
        let ok_agent = || agent_with(Some(UUID), vec![]);
        // Serial unreadable → unknown; absent or only placeholders → settled.
        assert_eq!(read(&[], denied(), ok_agent()), Completeness::Unreadable);
        assert_eq!(read(&[], absent(), ok_agent()), Completeness::Complete);
        assert_eq!(
            read(&[("smbios:type1", "Default string")], vec![], ok_agent()),
            Completeness::Complete
        );
        // Agent: not installed, not registered → missing; anything else → unknown.
        let missing = AgentReading {
            problems: vec![problem(Fact::Agent, ProblemReason::NotPresent)],
            ..AgentReading::default()
        };
        assert_eq!(read(&[], denied(), missing), Completeness::AgentMissing);
        let unregistered = agent_with(
            None,
            vec![problem(Fact::Agent, ProblemReason::NotRegistered)],
        );
        assert_eq!(
            read(&[("x", "PF2ABCDE")], vec![], unregistered),
            Completeness::AgentMissing
        );
        let hung = agent_with(None, vec![problem(Fact::Agent, ProblemReason::TimedOut)]);
        assert_eq!(
            read(&[("x", "PF2ABCDE")], vec![], hung),
            Completeness::Unreadable
        );
        let blocked = AgentReading {
            problems: vec![problem(Fact::Agent, ProblemReason::PermissionDenied)],
            ..AgentReading::default()
        };
        assert_eq!(read(&[], vec![], blocked), Completeness::Unreadable);
    }

    #[test]
    fn an_unsupported_os_reads_as_a_device_without_an_agent() {
        let serial = SerialReading {
            problems: vec![Unsupported(Fact::Serial).into()],
            ..SerialReading::default()
        };
        let agent = AgentReading {
            problems: vec![Unsupported(Fact::Agent).into()],
            ..AgentReading::default()
        };
        let id = assemble(serial, agent, None, host::HostFacts::default());
        assert_eq!(id.completeness(), Completeness::AgentMissing);
        assert_eq!(
            serde_json::to_value(&id.problems[1]).unwrap(),
            serde_json::json!({
                "source": std::env::consts::OS,
                "reason": "not_present",
                "hint": null,
                "fact": "agent",
                "detail": "s1trust reads the device identity on macOS, Windows and Linux only",
            })
        );
    }

    #[test]
    fn json_has_the_documented_keys() {
        let id = assemble(
            serial_with(&[("smbios:type1", "PF2ABCDE")], vec![]),
            agent_with(
                Some(UUID),
                vec![problem(Fact::Agent, ProblemReason::Unsafe).hint("fix it")],
            ),
            Some(false),
            host::HostFacts::default(),
        );
        let json = serde_json::to_value(&id).unwrap();
        for key in [
            "serialNumber",
            "serialSource",
            "serialCandidates",
            "virtual",
            "agentInstalled",
            "agentRunning",
            "agentUuid",
            "agentUuidSource",
            "agentVersion",
            "managementUrl",
            "hostname",
            "osType",
            "osName",
            "problems",
        ] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        assert_eq!(
            json["serialCandidates"][0],
            serde_json::json!({"source": "smbios:type1", "value": "PF2ABCDE", "usable": true, "reason": null})
        );
        assert_eq!(json["problems"][0]["reason"], "unsafe");
        assert_eq!(json["problems"][0]["hint"], "fix it");
        let back: DeviceIdentity = serde_json::from_value(json).unwrap();
        assert_eq!(back, id);
    }

    #[test]
    fn sources_map_absolute_paths_under_the_root() {
        let sources = Sources::under("/tmp/fake");
        assert_eq!(
            sources.path("/opt/sentinelone/bin/sentinelctl"),
            PathBuf::from("/tmp/fake/opt/sentinelone/bin/sentinelctl")
        );
        assert_eq!(
            Sources::default().path("/sys/class/dmi/id"),
            PathBuf::from("/sys/class/dmi/id")
        );
    }
}
