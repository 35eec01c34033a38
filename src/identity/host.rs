//! Host facts from the OS (through sysinfo): host name, OS name and version,
//! CPU architecture, and whether an agent process is running.

use std::ffi::OsStr;

use sysinfo::{ProcessRefreshKind, ProcessesToUpdate, System};

use super::{Fact, IdentityProblem, ProblemReason};

/// What the OS says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostFacts {
    /// Host name.
    pub hostname: Option<String>,
    /// OS name and version, e.g. `Ubuntu 24.04`, `Darwin 15.1.1`, `Windows 10 (20348)`.
    pub os_name: Option<String>,
    /// OS version alone, e.g. `24.04`.
    pub os_version: Option<String>,
    /// CPU architecture as the running OS reports it, e.g. `x86_64`, `arm64`.
    pub arch: Option<String>,
    /// The OS's machine identity, hashed with [`host_id`], and where it came from.
    pub host_id: Option<super::Sourced>,
    /// Facts the OS would not give.
    pub problems: Vec<IdentityProblem>,
}

/// The machine identity as stored and compared: `sha256:` and the hex digest of an
/// s1trust-specific prefix and the raw ID (trimmed, lower case), so the snapshot,
/// which every user may read, does not carry the raw ID that other software keys on
/// (systemd asks for exactly this: an application-specific hash of the machine ID).
/// `None` for an empty or all-zero ID, which a template image may hold.
pub fn host_id(raw: &str) -> Option<String> {
    use sha2::{Digest, Sha256};
    let id = raw.trim().to_ascii_lowercase();
    if id.is_empty() || id.chars().all(|c| matches!(c, '0' | '-' | '{' | '}')) {
        return None;
    }
    let digest = Sha256::new()
        .chain_update(b"s1trust host id\0")
        .chain_update(id.as_bytes())
        .finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Some(format!("sha256:{hex}"))
}

/// Reads the host facts; each one that fails becomes a problem, never an error.
pub fn read_host() -> HostFacts {
    let mut problems = Vec::new();
    let mut fact = |what: &str, value: Result<String, sysinfo::Error>| match value {
        Ok(v) if !v.trim().is_empty() => Some(v.trim().to_owned()),
        Ok(_) => None,
        Err(e) => {
            problems.push(
                IdentityProblem::new(Fact::Host, format!("sysinfo {what}"), ProblemReason::Failed)
                    .detail(e.to_string()),
            );
            None
        }
    };
    let hostname = fact("host name", System::host_name());
    let name = fact("OS name", System::name());
    let os_version = fact("OS version", System::os_version());
    let os_name = match (name, &os_version) {
        (Some(name), Some(version)) => Some(format!("{name} {version}")),
        (name, _) => name,
    };
    let arch = Some(System::cpu_arch()).filter(|a| !a.is_empty() && a != "unknown");
    HostFacts {
        hostname,
        os_name,
        os_version,
        arch: arch.or_else(|| Some(std::env::consts::ARCH.to_owned())),
        host_id: None,
        problems,
    }
}

/// Whether a process with one of `names` is running (`None` when the process
/// list cannot be read). Names match case-insensitively, with or without `.exe`.
pub fn agent_running(names: &[&str]) -> Option<bool> {
    let mut system = System::new().ok()?;
    // Threads are not processes here: skipping them reads a tenth of the files on Linux.
    system.refresh_processes_specifics(
        ProcessesToUpdate::All,
        true,
        ProcessRefreshKind::nothing().without_tasks(),
    );
    Some(
        system
            .processes()
            .values()
            .any(|p| is_one_of(p.name(), names)),
    )
}

fn is_one_of(process: &OsStr, names: &[&str]) -> bool {
    let process = process.to_string_lossy().to_ascii_lowercase();
    let process = process.strip_suffix(".exe").unwrap_or(&process);
    names.iter().any(|n| n.eq_ignore_ascii_case(process))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_names_match_loosely() {
        let names = ["SentinelAgent", "sentineld"];
        assert!(is_one_of(OsStr::new("SentinelAgent.exe"), &names));
        assert!(is_one_of(OsStr::new("SENTINELD"), &names));
        assert!(!is_one_of(OsStr::new("sentineld_helper"), &names));
    }

    #[test]
    fn host_facts_are_present_here() {
        let host = read_host();
        assert!(host.arch.is_some());
        assert_eq!(agent_running(&["no-such-process-s1trust"]), Some(false));
    }
}
