//! Windows: the serial from the SMBIOS tables through
//! `GetSystemFirmwareTable('RSMB')` (any user); the agent from the
//! `SentinelAgent` service's `ImagePath` → `SentinelCtl.exe` in that folder
//! (Administrator), else the newest `Sentinel Agent <version>` folder.
//!
//! The registry is read in its 64-bit view so a 32-bit build sees the same keys.

use std::path::{Path, PathBuf};

use windows_registry::{Key, LOCAL_MACHINE};

use super::command::{Program, Query};
use super::sentinelctl;
use super::{
    AgentReading, Fact, IdentityProblem, ProblemReason, SerialReading, Sourced, Sources, agent,
    run_query, smbios,
};

/// Agent process names (the service host and the agent itself).
pub const AGENT_PROCESSES: &[&str] = &["SentinelAgent", "SentinelServiceHost"];

const SERVICE_KEY: &str = r"SYSTEM\CurrentControlSet\Services\SentinelAgent";
const VENDOR_KEY: &str = r"SOFTWARE\Sentinel Labs";
const CURRENT_VERSION_KEY: &str = r"SOFTWARE\Microsoft\Windows\CurrentVersion";
const FIRMWARE_TABLE: &str = "GetSystemFirmwareTable(RSMB)";
const CTL: &str = "SentinelCtl.exe";

/// `HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND)`: the key or value does not exist.
const NOT_FOUND: i32 = 0x8007_0002_u32 as i32;
/// `HRESULT_FROM_WIN32(ERROR_ACCESS_DENIED)`.
const ACCESS_DENIED: i32 = 0x8007_0005_u32 as i32;

const INSTALL_AGENT: &str = "install the SentinelOne agent and register it";
const REGISTER_AGENT: &str =
    "the agent is installed but not registered with a console; register it with your site token";
const RUN_AS_ADMIN: &str = "run from an elevated prompt (Run as administrator); the scheduled `s1trust refresh` runs as SYSTEM";

/// Reads the serial from the firmware's SMBIOS tables.
pub fn read_serial(_sources: &Sources) -> SerialReading {
    let buffer = match smbioslib::raw_smbios_from_device() {
        Ok(buffer) => buffer,
        Err(e) => {
            return SerialReading {
                problems: vec![
                    IdentityProblem::new(Fact::Serial, FIRMWARE_TABLE, ProblemReason::Failed)
                        .detail(e.to_string()),
                ],
                ..SerialReading::default()
            };
        }
    };
    match smbios::from_rsmb(&buffer) {
        Ok(serials) => SerialReading::from_smbios(&serials),
        Err(e) => SerialReading {
            problems: vec![
                IdentityProblem::new(Fact::Serial, FIRMWARE_TABLE, ProblemReason::Unparsable)
                    .detail(e.to_string()),
            ],
            ..SerialReading::default()
        },
    }
}

/// Reads the agent: install folder, then `SentinelCtl.exe agent_id`, `status`
/// and `config server.mgmtServer`.
pub fn read_agent(sources: &Sources) -> AgentReading {
    let mut reading = AgentReading::default();
    let Some(folder) = install_folder(&mut reading) else {
        if reading.installed.is_none() {
            reading.installed = open_hklm(VENDOR_KEY)
                .ok()
                .map(|_| format!(r"HKLM\{VENDOR_KEY}"));
        }
        reading.problems.push(
            IdentityProblem::new(Fact::Agent, CTL, ProblemReason::NotPresent)
                .detail("no SentinelOne agent folder was found (service ImagePath or Program Files\\SentinelOne)")
                .hint(INSTALL_AGENT),
        );
        return reading;
    };
    let ctl = folder.join(CTL);
    let program = match Program::open(&ctl, &sources.root, sources.trusted_owner, sources.limits) {
        Ok(program) => program,
        Err(error) => {
            let source = ctl.display().to_string();
            reading
                .problems
                .push(IdentityProblem::from_command(Fact::Agent, source, &error));
            return reading;
        }
    };
    read_agent_id(&program, &mut reading);
    read_status(&program, &mut reading);
    read_mgmt_server(&program, &mut reading);
    reading
}

/// The agent's folder from the service registration, else the newest
/// `Sentinel Agent <version>` folder (whose name also gives a version).
fn install_folder(reading: &mut AgentReading) -> Option<PathBuf> {
    let program_files = program_files_dirs();
    let service_source = format!(r"HKLM\{SERVICE_KEY}\ImagePath");
    match open_hklm(SERVICE_KEY).and_then(|key| key.get_string("ImagePath")) {
        Ok(image_path) => {
            reading.installed = Some(service_source.clone());
            match agent::folder_from_image_path(&image_path, &program_files[0]) {
                Some(folder) => return Some(PathBuf::from(folder)),
                None => reading.problems.push(
                    IdentityProblem::new(Fact::Agent, service_source, ProblemReason::Unparsable)
                        .detail(format!("ImagePath {image_path:?} names no program folder")),
                ),
            }
        }
        Err(e) if e.code().0 == NOT_FOUND => {}
        Err(e) => {
            reading
                .problems
                .push(registry_problem(&service_source, e.code().0, &e.message()))
        }
    }
    let (folder, version) = program_files
        .iter()
        .find_map(|dir| newest_folder(Path::new(dir)))?;
    let source = folder.display().to_string();
    reading.installed.get_or_insert_with(|| source.clone());
    reading.version = Some(Sourced::new(version, format!("{source} (folder name)")));
    Some(folder)
}

fn newest_folder(program_files: &Path) -> Option<(PathBuf, String)> {
    let vendor = program_files.join("SentinelOne");
    let names: Vec<String> = std::fs::read_dir(&vendor)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    let (name, version) = agent::newest_agent_folder(names.iter().map(String::as_str))?;
    Some((vendor.join(name), version))
}

/// `Program Files` (and `Program Files (x86)`) as the registry records them;
/// environment variables are not trusted for this.
fn program_files_dirs() -> Vec<String> {
    let mut dirs: Vec<String> = open_hklm(CURRENT_VERSION_KEY)
        .map(|key| {
            ["ProgramFilesDir", "ProgramFilesDir (x86)"]
                .iter()
                .filter_map(|name| key.get_string(name).ok())
                .filter(|dir| !dir.trim().is_empty())
                .collect()
        })
        .unwrap_or_default();
    if dirs.is_empty() {
        dirs.push(r"C:\Program Files".to_owned());
    }
    dirs
}

/// `MachineGuid`, which Windows sets at install time and any user may read.
pub fn read_host_id(_sources: &Sources) -> Option<Sourced> {
    let guid = open_hklm(r"SOFTWARE\Microsoft\Cryptography")
        .and_then(|key| key.get_string("MachineGuid"))
        .ok()?;
    Some(Sourced::new(
        super::host::host_id(&guid)?,
        r"HKLM\SOFTWARE\Microsoft\Cryptography\MachineGuid",
    ))
}

fn open_hklm(path: &str) -> windows_registry::Result<Key> {
    LOCAL_MACHINE.options().read().wow64_64().open(path)
}

fn registry_problem(source: &str, code: i32, message: &str) -> IdentityProblem {
    let reason = match code {
        NOT_FOUND => ProblemReason::NotPresent,
        ACCESS_DENIED => ProblemReason::PermissionDenied,
        _ => ProblemReason::Failed,
    };
    let problem = IdentityProblem::new(Fact::Agent, source, reason).detail(message);
    if reason == ProblemReason::PermissionDenied {
        problem.hint(RUN_AS_ADMIN)
    } else {
        problem
    }
}

fn read_agent_id(program: &Program, reading: &mut AgentReading) {
    const SOURCE: &str = "SentinelCtl.exe agent_id";
    match run_query(
        Fact::Agent,
        program,
        Query::AgentId,
        SOURCE,
        sentinelctl::parse_windows_agent_id,
    ) {
        Ok(Some(uuid)) => reading.uuid = Some(Sourced::new(uuid, SOURCE)),
        Ok(None) => reading.problems.push(
            IdentityProblem::new(Fact::Agent, SOURCE, ProblemReason::NotRegistered)
                .detail("agent_id printed no UUID")
                .hint(REGISTER_AGENT),
        ),
        Err(problem) => reading.problems.push(problem),
    }
}

fn read_status(program: &Program, reading: &mut AgentReading) {
    const SOURCE: &str = "SentinelCtl.exe status";
    match run_query(
        Fact::Agent,
        program,
        Query::Status,
        SOURCE,
        sentinelctl::parse_windows_status,
    ) {
        Ok(status) => {
            if let Some(version) = status.version {
                reading.version = Some(Sourced::new(version, SOURCE));
            }
            reading.state.loaded = status.agent_loaded;
            reading.state.self_protection = status.self_protection;
            reading.state.source = Some(SOURCE.to_owned());
        }
        Err(problem) => reading.problems.push(problem),
    }
}

fn read_mgmt_server(program: &Program, reading: &mut AgentReading) {
    const SOURCE: &str = "SentinelCtl.exe config server.mgmtServer";
    match run_query(
        Fact::Agent,
        program,
        Query::MgmtServer,
        SOURCE,
        sentinelctl::parse_windows_mgmt_server,
    ) {
        Ok(url) => reading.management_url = url.map(|url| Sourced::new(url, SOURCE)),
        Err(problem) => reading.problems.push(problem),
    }
}
