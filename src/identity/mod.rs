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
    /// Why a serial candidate cannot identify the device (README `s1trust identity`).
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

/// Which fact a problem leaves unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Fact {
    /// The hardware serial.
    Serial,
    /// The agent (installed, UUID, version, URL, state).
    Agent,
    /// Host name, OS, architecture, processes.
    Host,
}

/// A source that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityProblem {
    /// The source, e.g. `/sys/firmware/dmi/tables/DMI` or `sentinelctl management status`.
    pub source: String,
    /// Why it could not be read.
    pub reason: ProblemReason,
    /// What to do about it.
    pub hint: Option<String>,
    /// Which fact it affects.
    pub fact: Fact,
    /// What exactly went wrong, e.g. `/opt/sentinelone is owned by uid 998, not root`.
    pub detail: Option<String>,
}

crate::reason::codes! {
    /// Why a source could not be read (README `s1trust identity`).
    pub enum ProblemReason {
        /// The file, program or value does not exist (the agent is not installed).
        NotPresent = "not_present",
        /// The OS refused to read or run it.
        PermissionDenied = "permission_denied",
        /// It did not answer within its time limit.
        TimedOut = "timed_out",
        /// Its output or contents are in a format s1trust does not recognize, or too large.
        Unparsable = "unparsable",
        /// Someone other than root could have replaced the program or a folder above it.
        Unsafe = "unsafe",
        /// Any other failure.
        Failed = "failed",
        /// The agent is installed but has no UUID: not registered with a console.
        NotRegistered = "not_registered",
    }
}

impl ProblemReason {
    /// Whether the source answered that the fact is absent (nothing installed, not
    /// registered): a definite answer. Every other code leaves the fact unknown.
    pub fn is_absence(self) -> bool {
        matches!(self, Self::NotPresent | Self::NotRegistered)
    }
}

/// A fact this OS offers no way to read: the identity is read on macOS, Windows and
/// Linux only, the OSes SentinelOne has an agent for. It becomes a `not_present` problem
/// whose source is the OS's name, so such a device reads as one without an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("s1trust reads the device identity on macOS, Windows and Linux only")]
pub struct Unsupported(pub Fact);

impl From<Unsupported> for IdentityProblem {
    fn from(unsupported: Unsupported) -> Self {
        Self::new(
            unsupported.0,
            std::env::consts::OS,
            ProblemReason::NotPresent,
        )
        .detail(unsupported.to_string())
    }
}

impl IdentityProblem {
    /// A problem without detail or hint.
    pub fn new(fact: Fact, source: impl Into<String>, reason: ProblemReason) -> Self {
        Self {
            source: source.into(),
            reason,
            hint: None,
            fact,
            detail: None,
        }
    }

    /// Adds what exactly went wrong.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds what to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A failed vendor command, with a hint matching the failure.
    pub fn from_command(fact: Fact, source: impl Into<String>, error: &CommandError) -> Self {
        let problem = Self::new(fact, source, error.reason()).detail(error.to_string());
        match error {
            CommandError::PermissionDenied(_) | CommandError::Failed { .. } => {
                problem.hint(RUN_PRIVILEGED)
            }
            CommandError::Unsafe { .. } => problem.hint(
                "fix the ownership and permissions of the agent's folders (root-owned, not writable by group or others), or reinstall the agent",
            ),
            CommandError::TimedOut { .. } => {
                problem.hint("the agent may be upgrading; try again in a few minutes")
            }
            _ => problem,
        }
    }

    /// Output or a file in a format s1trust does not recognize.
    pub fn unparsable(fact: Fact, source: &str, error: &impl std::fmt::Display) -> Self {
        Self::new(fact, source, ProblemReason::Unparsable)
            .detail(error.to_string())
            .hint(format!(
                "the format is not recognized; report this with the output of `{source}`"
            ))
    }

    /// A file that could not be read.
    pub fn from_io(fact: Fact, source: impl Into<String>, error: &std::io::Error) -> Self {
        let reason = match error.kind() {
            std::io::ErrorKind::NotFound => ProblemReason::NotPresent,
            std::io::ErrorKind::PermissionDenied => ProblemReason::PermissionDenied,
            std::io::ErrorKind::TimedOut => ProblemReason::TimedOut,
            _ => ProblemReason::Failed,
        };
        let problem = Self::new(fact, source, reason);
        match reason {
            ProblemReason::NotPresent => problem,
            ProblemReason::PermissionDenied => {
                problem.detail(error.to_string()).hint(RUN_PRIVILEGED)
            }
            _ => problem.detail(error.to_string()),
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

/// Where the readers look, so tests can point them at fake trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// Prefix of every Unix path read or run: `/` on a device, a temp folder in tests.
    /// The folders above it are trusted as they are.
    pub root: PathBuf,
    /// Unix user id that must own the agent's tool and every folder above it (0, root).
    pub trusted_owner: u32,
    /// Time and output limits for the agent's tool.
    pub limits: Limits,
}

impl Default for Sources {
    fn default() -> Self {
        Self {
            root: PathBuf::from("/"),
            trusted_owner: 0,
            limits: Limits::default(),
        }
    }
}

impl Sources {
    /// This machine, every agent-CLI call of the read ending within
    /// [`command::IDENTITY_BUDGET`] of `started` (the command's start).
    pub fn budgeted(started: std::time::Instant) -> Self {
        Self {
            limits: Limits::until(started + command::IDENTITY_BUDGET),
            ..Self::default()
        }
    }

    /// Sources under another root (tests, or inspecting a mounted image).
    pub fn under(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            ..Self::default()
        }
    }

    /// An absolute path (`/opt/sentinelone/...`) under the root.
    pub fn path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    /// A program at an absolute path under the root, after the safety checks.
    pub fn program(&self, absolute: &str) -> Result<Program, CommandError> {
        Program::open(
            &self.path(absolute),
            &self.root,
            self.trusted_owner,
            self.limits,
        )
    }

    /// Reads a file under the root, refusing anything larger than the output limit.
    pub fn read(&self, absolute: &str) -> std::io::Result<Vec<u8>> {
        read_capped(&self.path(absolute), self.limits.max_output)
    }
}

fn read_capped(path: &Path, cap: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut bytes)?;
    if bytes.len() > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok(bytes)
}

/// A value and the source that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    /// The value.
    pub value: String,
    /// Where it came from.
    pub source: String,
}

impl Sourced {
    /// Pairs a value with its source.
    pub fn new(value: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            source: source.into(),
        }
    }
}

/// A serial of this device, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedSerial {
    /// The serial.
    pub serial: Serial,
    /// Where it was read, e.g. `smbios:type2`.
    pub source: String,
}

/// What an OS reader learned about the hardware serial.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SerialReading {
    /// Every serial seen, in preference order (Type 1, Type 3, Type 2 on SMBIOS).
    pub candidates: Vec<SerialCandidate>,
    /// The hypervisor the firmware's vendor/product names, if any.
    pub model_platform: Option<&'static str>,
    /// Sources that failed.
    pub problems: Vec<IdentityProblem>,
}

impl SerialReading {
    /// The candidates and hypervisor hint of a decoded SMBIOS table.
    pub fn from_smbios(serials: &smbios::SmbiosSerials) -> Self {
        Self {
            candidates: smbios::candidates(serials),
            model_platform: serial::virtual_platform_from_model(
                serials.system_vendor.as_deref().unwrap_or_default(),
                serials.system_product.as_deref().unwrap_or_default(),
            ),
            problems: Vec::new(),
        }
    }
}

/// What an OS reader learned about the SentinelOne agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentReading {
    /// What showed the agent is installed; `None` when nothing did.
    pub installed: Option<String>,
    /// The agent UUID as printed.
    pub uuid: Option<Sourced>,
    /// The agent version.
    pub version: Option<Sourced>,
    /// The management console URL.
    pub management_url: Option<Sourced>,
    /// The agent's own state.
    pub state: AgentState,
    /// Sources that failed.
    pub problems: Vec<IdentityProblem>,
}

/// Runs a read-only query of the agent's tool and parses its output; a failure
/// of either becomes a problem for `source` (e.g. `sentinelctl version`).
pub fn run_query<T, E: std::fmt::Display>(
    fact: Fact,
    program: &Program,
    query: command::Query,
    source: &str,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, IdentityProblem> {
    let output = program
        .run(query)
        .map_err(|e| IdentityProblem::from_command(fact, source, &e))?;
    parse(&output).map_err(|e| IdentityProblem::unparsable(fact, source, &e))
}

/// Reads this device's identity: serial, agent and host facts. Never fails;
/// whatever could not be read is in `problems`.
pub fn read_identity(sources: &Sources) -> DeviceIdentity {
    let serial = os::read_serial(sources);
    let agent = os::read_agent(sources);
    let running = host::agent_running(os::AGENT_PROCESSES);
    assemble(serial, agent, running, read_host(sources))
}

fn read_host(sources: &Sources) -> host::HostFacts {
    let mut facts = host::read_host();
    facts.host_id = os::read_host_id(sources);
    facts
}

/// Only the facts that are cheap to read: the hardware serial and host facts, no
/// vendor tool and no process scan. Enough to tell that a snapshot belongs to this
/// device on the login path; agent facts are left unknown.
pub fn read_quick(sources: &Sources) -> DeviceIdentity {
    assemble(
        os::read_serial(sources),
        AgentReading::default(),
        None,
        read_host(sources),
    )
}

/// Adds what the quick read leaves out (the agent's identity through its CLI, and
/// whether its process runs) to an identity from [`read_quick`], without reading the
/// serial or host facts again.
pub fn complete(identity: &mut DeviceIdentity, sources: &Sources) {
    let agent = os::read_agent(sources);
    let running = host::agent_running(os::AGENT_PROCESSES);
    identity.apply_agent(agent, running);
}

/// Puts the readings together: the first usable candidate is the serial, any
/// candidate or the firmware model can mark the device virtual.
pub fn assemble(
    serial: SerialReading,
    agent: AgentReading,
    agent_running: Option<bool>,
    host: host::HostFacts,
) -> DeviceIdentity {
    let chosen = serial
        .candidates
        .iter()
        .filter(|c| c.usable)
        .find_map(|c| Some((Serial::parse(&c.value).ok()?, c.source.clone())));
    let platform = serial
        .candidates
        .iter()
        .find_map(|c| serial::virtual_platform(&c.value))
        .or(serial.model_platform);
    let mut problems = serial.problems;
    problems.extend(host.problems);
    let mut identity = DeviceIdentity {
        serial_source: chosen.as_ref().map(|(_, source)| source.clone()),
        serial_number: chosen.map(|(serial, _)| serial),
        serial_candidates: serial.candidates,
        is_virtual: platform.is_some(),
        virtual_platform: platform.map(str::to_owned),
        host_id: host.host_id.as_ref().map(|s| s.value.clone()),
        host_id_source: host.host_id.map(|s| s.source),
        hostname: host.hostname,
        os_type: OsType::current(),
        os_name: host.os_name,
        os_version: host.os_version,
        arch: host.arch,
        problems,
        ..DeviceIdentity::default()
    };
    identity.apply_agent(agent, agent_running);
    identity
}

impl DeviceIdentity {
    fn apply_agent(&mut self, agent: AgentReading, running: Option<bool>) {
        let (agent_uuid, agent_uuid_source) = split(agent.uuid);
        let (agent_version, agent_version_source) = split(agent.version);
        let (management_url, management_url_source) = split(agent.management_url);
        self.agent_installed = agent.installed.is_some();
        self.agent_installed_source = agent.installed;
        self.agent_running = running;
        self.agent_uuid = agent_uuid;
        self.agent_uuid_source = agent_uuid_source;
        self.agent_version = agent_version;
        self.agent_version_source = agent_version_source;
        self.management_url = management_url;
        self.management_url_source = management_url_source;
        self.agent_state = agent.state;
        self.problems.extend(agent.problems);
        // Serial, then agent, then host problems, whichever was read first.
        self.problems.sort_by_key(|p| match p.fact {
            Fact::Serial => 0,
            Fact::Agent => 1,
            Fact::Host => 2,
        });
    }
}

fn split(value: Option<Sourced>) -> (Option<String>, Option<String>) {
    value.map_or((None, None), |v| (Some(v.value), Some(v.source)))
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
