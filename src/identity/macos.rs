//! macOS: the serial from IOKit (`IOPlatformExpertDevice` →
//! `IOPlatformSerialNumber`; any user, Intel and Apple Silicon), falling back
//! to `ioreg`; the agent from the bundle's `Info.plist` (version, any user; else
//! `sentinelctl version`) and `sentinelctl status` (UUID, console, state, the running
//! version; the full status needs root). When the installed and running versions
//! differ, the installed one is reported and its source says so.

use super::command::{Program, Query};
use super::sentinelctl::{self, ParseError};
use super::{
    AgentReading, Fact, IdentityProblem, ProblemReason, SerialCandidate, SerialReading, Sourced,
    Sources, agent, run_query, serial,
};

/// Agent daemon names.
pub const AGENT_PROCESSES: &[&str] = &["sentineld"];

const BUNDLE: &str = "/Library/Sentinel/sentinel-agent.bundle";
const INFO_PLIST: &str = "/Library/Sentinel/sentinel-agent.bundle/Contents/Info.plist";
const SENTINELCTL: &str = "/Library/Sentinel/sentinel-agent.bundle/Contents/MacOS/sentinelctl";
const IOREG: &str = "/usr/sbin/ioreg";
const IOKIT_SOURCE: &str = "iokit:IOPlatformSerialNumber";
const IOREG_SOURCE: &str = "ioreg -rd1 -c IOPlatformExpertDevice";
const PLIST_SOURCE: &str = "Info.plist CFBundleShortVersionString";
const STATUS_SOURCE: &str = "sentinelctl status";
const VERSION_SOURCE: &str = "sentinelctl version";

const INSTALL_AGENT: &str = "install the SentinelOne agent and register it";
const REGISTER_AGENT: &str =
    "the agent is installed but not registered with a console; register it with your site token";
const STATUS_NEEDS_ROOT: &str = "sentinelctl prints the agent ID only to root; run `sudo s1trust identity` (the scheduled `s1trust refresh` runs as root)";

/// Reads the serial from IOKit, else from `ioreg` output.
pub fn read_serial(sources: &Sources) -> SerialReading {
    let mut reading = SerialReading::default();
    if let Some(value) = iokit::platform_serial() {
        reading
            .candidates
            .push(SerialCandidate::check("iokit", &value));
        return reading;
    }
    reading.problems.push(
        IdentityProblem::new(Fact::Serial, IOKIT_SOURCE, ProblemReason::NotPresent)
            .detail("IOKit returned no IOPlatformSerialNumber"),
    );
    let program = match sources.program(IOREG) {
        Ok(program) => program,
        Err(e) => {
            let problem = IdentityProblem::from_command(Fact::Serial, IOREG_SOURCE, &e);
            reading.problems.push(problem);
            return reading;
        }
    };
    let query = Query::PlatformExpert;
    match run_query(
        Fact::Serial,
        &program,
        query,
        IOREG_SOURCE,
        serial::serial_from_ioreg,
    ) {
        Ok(value) => reading
            .candidates
            .push(SerialCandidate::check("ioreg", &value)),
        Err(problem) => reading.problems.push(problem),
    }
    reading
}

/// Reads the agent: bundle present, `Info.plist` version, `sentinelctl status`.
pub fn read_agent(sources: &Sources) -> AgentReading {
    let mut reading = AgentReading::default();
    if !sources.path(BUNDLE).is_dir() {
        reading.problems.push(
            IdentityProblem::new(Fact::Agent, BUNDLE, ProblemReason::NotPresent)
                .hint(INSTALL_AGENT),
        );
        return reading;
    }
    reading.installed = Some(BUNDLE.to_owned());
    let mut installed = match sources.read(INFO_PLIST) {
        Ok(bytes) => match agent::bundle_version(&bytes) {
            Ok(version) => Some(Sourced::new(version, PLIST_SOURCE)),
            Err(e) => {
                let problem = IdentityProblem::unparsable(Fact::Agent, INFO_PLIST, &e);
                reading.problems.push(problem);
                None
            }
        },
        Err(e) => {
            let problem = IdentityProblem::from_io(Fact::Agent, INFO_PLIST, &e);
            reading.problems.push(problem);
            None
        }
    };
    let program = match sources.program(SENTINELCTL) {
        Ok(program) => program,
        Err(e) => {
            let problem = IdentityProblem::from_command(Fact::Agent, SENTINELCTL, &e);
            reading.problems.push(problem);
            reading.version = installed;
            return reading;
        }
    };
    // Only when the bundle did not say: one more call, for the installed version.
    if installed.is_none() {
        match run_query(
            Fact::Agent,
            &program,
            Query::Version,
            VERSION_SOURCE,
            sentinelctl::parse_mac_version,
        ) {
            Ok(version) => installed = Some(Sourced::new(version, VERSION_SOURCE)),
            Err(problem) => reading.problems.push(problem),
        }
    }
    let running = read_status(&program, &mut reading);
    reading.version = agent::reconcile_versions(installed, running);
    reading
}

/// Reads `sentinelctl status` into `reading`; returns the version it printed (the
/// running agent's).
fn read_status(program: &Program, reading: &mut AgentReading) -> Option<Sourced> {
    let output = match program.run(Query::Status) {
        Ok(output) => output,
        Err(e) => {
            let problem = IdentityProblem::from_command(Fact::Agent, STATUS_SOURCE, &e);
            reading.problems.push(problem);
            return None;
        }
    };
    let status = match sentinelctl::parse_mac_status(&output) {
        Ok(status) => status,
        Err(e) => {
            let problem = IdentityProblem::unparsable(Fact::Agent, STATUS_SOURCE, &e);
            // Without root the status leaves the ID out rather than failing.
            let problem = if e == ParseError::Missing("ID") {
                problem.hint(STATUS_NEEDS_ROOT)
            } else {
                problem
            };
            reading.problems.push(problem);
            return None;
        }
    };
    match status.uuid {
        Some(uuid) => reading.uuid = Some(Sourced::new(uuid, STATUS_SOURCE)),
        None => reading.problems.push(
            IdentityProblem::new(Fact::Agent, STATUS_SOURCE, ProblemReason::NotRegistered)
                .detail("Agent ID is undefined")
                .hint(REGISTER_AGENT),
        ),
    }
    reading.management_url = status.server.map(|url| Sourced::new(url, STATUS_SOURCE));
    reading.state.ready = status.ready;
    reading.state.protection_enabled = status.protection;
    reading.state.infected = status.infected;
    reading.state.connected = status.connected;
    reading.state.source = Some(STATUS_SOURCE.to_owned());
    status.version.map(|v| Sourced::new(v, STATUS_SOURCE))
}

/// `IOPlatformUUID` from IOKit (any user may read it).
pub fn read_host_id(_sources: &Sources) -> Option<Sourced> {
    let uuid = iokit::platform_property("IOPlatformUUID")?;
    Some(Sourced::new(
        super::host::host_id(&uuid)?,
        "iokit:IOPlatformUUID",
    ))
}

/// Properties of the `IOPlatformExpertDevice` service.
mod iokit {
    use core_foundation::base::{CFType, TCFType};
    use core_foundation::string::CFString;
    use io_kit_sys::types::IO_OBJECT_NULL;
    use io_kit_sys::{
        IOObjectRelease, IORegistryEntryCreateCFProperty, IOServiceGetMatchingService,
        IOServiceMatching,
    };

    /// `kIOMainPortDefault` (and the older `kIOMasterPortDefault`) is `MACH_PORT_NULL`.
    const MAIN_PORT_DEFAULT: u32 = 0;

    /// The serial, or `None` when IOKit has no such service or property.
    pub fn platform_serial() -> Option<String> {
        platform_property("IOPlatformSerialNumber")
    }

    /// A string property of the platform expert, or `None`.
    pub fn platform_property(name: &'static str) -> Option<String> {
        // SAFETY: the name is a valid C string; IOServiceMatching returns a new
        // dictionary (or null), and IOServiceGetMatchingService consumes it.
        let service = unsafe {
            let matching = IOServiceMatching(c"IOPlatformExpertDevice".as_ptr());
            if matching.is_null() {
                return None;
            }
            IOServiceGetMatchingService(MAIN_PORT_DEFAULT, matching as _)
        };
        if service == IO_OBJECT_NULL {
            return None;
        }
        let key = CFString::from_static_string(name);
        // SAFETY: `service` is a registry entry we hold a reference to; a null
        // allocator means the default one.
        let value = unsafe {
            IORegistryEntryCreateCFProperty(service, key.as_concrete_TypeRef(), std::ptr::null(), 0)
        };
        // SAFETY: releases the reference IOServiceGetMatchingService returned.
        unsafe { IOObjectRelease(service) };
        if value.is_null() {
            return None;
        }
        // SAFETY: non-null, and ours under the create rule.
        let value = unsafe { CFType::wrap_under_create_rule(value) };
        value.downcast_into::<CFString>().map(|s| s.to_string())
    }
}
