//! Linux: the serial from the SMBIOS tables in sysfs, falling back to
//! `/sys/class/dmi/id/*_serial` (both readable by root only); the agent from
//! `/opt/sentinelone/bin/sentinelctl` (root) and `basic.conf`.

use super::command::{CommandError, Program, Query};
use super::sentinelctl::{self, ParseError};
use super::{
    AgentReading, Fact, IdentityProblem, ProblemReason, SerialCandidate, SerialReading, Sourced,
    Sources, agent, run_query, serial, smbios,
};

/// Agent process names (the `sentinelctl control status` process table).
pub const AGENT_PROCESSES: &[&str] = &["s1-agent", "s1-orchestrator", "s1-network", "s1-scanner"];

const TABLE: &str = "/sys/firmware/dmi/tables/DMI";
const ENTRY_POINT: &str = "/sys/firmware/dmi/tables/smbios_entry_point";
const DMI_ID: &str = "/sys/class/dmi/id";
const SENTINELCTL: &str = "/opt/sentinelone/bin/sentinelctl";
const BASIC_CONF: &str = "/opt/sentinelone/configuration/basic.conf";

const SERIAL_NEEDS_ROOT: &str = "the kernel lets only root read the hardware serial on Linux; run `sudo s1trust identity` (the scheduled `s1trust refresh` runs as root)";
const INSTALL_AGENT: &str =
    "install the SentinelOne agent (package sentinelagent / SentinelAgent) and register it";
const REGISTER_AGENT: &str =
    "the agent is installed but not registered with a console; register it with your site token";
const AGENT_BUSY: &str = "the agent's service did not answer its tool; it may be starting or upgrading, try again in a minute (`systemctl status sentinelone`)";

/// Reads the serial: the SMBIOS tables, else the per-field sysfs files.
pub fn read_serial(sources: &Sources) -> SerialReading {
    match read_tables(sources) {
        Ok(serials) => SerialReading::from_smbios(&serials),
        Err(problem) => {
            let mut reading = read_dmi_id(sources);
            reading.problems.insert(0, problem);
            reading
        }
    }
}

fn read_tables(sources: &Sources) -> Result<smbios::SmbiosSerials, IdentityProblem> {
    let table = sources
        .read(TABLE)
        .map_err(|e| serial_io_problem(TABLE, &e))?;
    let decoded = match sources.read(ENTRY_POINT) {
        Ok(entry_point) => smbios::from_sysfs(&entry_point, &table),
        // The table decodes without its entry point; only the version is unknown.
        Err(_) => smbios::from_table(&table, None),
    };
    decoded.map_err(|e| {
        IdentityProblem::new(Fact::Serial, TABLE, ProblemReason::Unparsable).detail(e.to_string())
    })
}

/// `product_serial` (Type 1), `chassis_serial` (Type 3), `board_serial` (Type 2),
/// plus the world-readable vendor and product name for spotting VMs.
fn read_dmi_id(sources: &Sources) -> SerialReading {
    let mut reading = SerialReading::default();
    if !sources.path(DMI_ID).is_dir() {
        reading.problems.push(
            IdentityProblem::new(Fact::Serial, DMI_ID, ProblemReason::NotPresent)
                .detail("this machine exposes no DMI/SMBIOS data (common in containers, some VMs and ARM boards)"),
        );
        return reading;
    }
    for (file, source) in [
        ("product_serial", "sysfs:product_serial"),
        ("chassis_serial", "sysfs:chassis_serial"),
        ("board_serial", "sysfs:board_serial"),
    ] {
        let path = format!("{DMI_ID}/{file}");
        match sources.read(&path) {
            Ok(bytes) => reading.candidates.push(SerialCandidate::check(
                source,
                &String::from_utf8_lossy(&bytes),
            )),
            Err(e) => reading.problems.push(serial_io_problem(&path, &e)),
        }
    }
    let text = |file: &str| {
        sources
            .read(&format!("{DMI_ID}/{file}"))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    reading.model_platform =
        serial::virtual_platform_from_model(&text("sys_vendor"), &text("product_name"));
    reading
}

fn serial_io_problem(source: &str, error: &std::io::Error) -> IdentityProblem {
    let problem = IdentityProblem::from_io(Fact::Serial, source, error);
    if problem.reason == ProblemReason::PermissionDenied {
        problem.hint(SERIAL_NEEDS_ROOT)
    } else {
        problem
    }
}

/// The systemd machine ID (any user may read it), else D-Bus's copy of it.
pub fn read_host_id(sources: &Sources) -> Option<Sourced> {
    ["/etc/machine-id", "/var/lib/dbus/machine-id"]
        .into_iter()
        .find_map(|file| {
            let bytes = sources.read(file).ok()?;
            let text = std::str::from_utf8(&bytes).ok()?.trim();
            let valid = text.len() == 32 && text.chars().all(|c| c.is_ascii_hexdigit());
            let id = super::host::host_id(text).filter(|_| valid)?;
            Some(Sourced::new(id, file))
        })
}

/// Reads the agent: `sentinelctl management status` and `version`, and
/// `basic.conf` when the status gave no URL.
pub fn read_agent(sources: &Sources) -> AgentReading {
    let mut reading = AgentReading::default();
    let program = match sources.program(SENTINELCTL) {
        Ok(program) => program,
        Err(CommandError::NotPresent(_)) => {
            reading.problems.push(
                IdentityProblem::new(Fact::Agent, SENTINELCTL, ProblemReason::NotPresent)
                    .hint(INSTALL_AGENT),
            );
            return reading;
        }
        Err(error) => {
            if matches!(error, CommandError::Unsafe { .. }) {
                reading.installed = Some(SENTINELCTL.to_owned());
            }
            reading.problems.push(IdentityProblem::from_command(
                Fact::Agent,
                SENTINELCTL,
                &error,
            ));
            return reading;
        }
    };
    reading.installed = Some(SENTINELCTL.to_owned());
    read_management_status(&program, &mut reading);
    read_version(&program, &mut reading);
    if reading.management_url.is_none() {
        read_basic_conf(sources, &mut reading);
    }
    reading
}

const STATUS_SOURCE: &str = "sentinelctl management status";

/// One run of `management status`: the status, or the problem and whether it may be
/// transient. The tool sometimes loses its connection to the agent's daemon and says
/// `Error: receive failed: Connection reset by peer`; printed on stdout, the parser
/// recognizes it. A non-zero exit counts too, because the tool's stderr and the output
/// of a failed run are not kept, so a reset reported there looks like any failure.
fn management_status_once(
    program: &Program,
) -> Result<sentinelctl::ManagementStatus, (IdentityProblem, bool)> {
    let output = program.run(Query::ManagementStatus).map_err(|e| {
        let transient = matches!(e, CommandError::Failed { .. });
        (
            IdentityProblem::from_command(Fact::Agent, STATUS_SOURCE, &e),
            transient,
        )
    })?;
    sentinelctl::parse_management_status(&output).map_err(|e| match e {
        ParseError::Transient(_) => (
            IdentityProblem::new(Fact::Agent, STATUS_SOURCE, ProblemReason::Failed)
                .detail(e.to_string())
                .hint(AGENT_BUSY),
            true,
        ),
        _ => (
            IdentityProblem::unparsable(Fact::Agent, STATUS_SOURCE, &e),
            false,
        ),
    })
}

/// `management status`, tried once more when the first answer may be transient: one
/// extra call at most, so the identity read stays within its time.
fn management_status(program: &Program) -> Result<sentinelctl::ManagementStatus, IdentityProblem> {
    match management_status_once(program) {
        Ok(status) => Ok(status),
        Err((problem, false)) => Err(problem),
        Err((_, true)) => management_status_once(program).map_err(|(problem, _)| {
            let detail = problem.detail.clone().unwrap_or_default();
            problem.detail(format!("{detail} (also when tried again)"))
        }),
    }
}

fn read_management_status(program: &Program, reading: &mut AgentReading) {
    const SOURCE: &str = STATUS_SOURCE;
    let status = match management_status(program) {
        Ok(status) => status,
        Err(problem) => return reading.problems.push(problem),
    };
    match status.uuid {
        Some(uuid) => reading.uuid = Some(Sourced::new(uuid, SOURCE)),
        None => reading.problems.push(
            IdentityProblem::new(Fact::Agent, SOURCE, ProblemReason::NotRegistered)
                .detail("UUID is undefined")
                .hint(REGISTER_AGENT),
        ),
    }
    reading.management_url = status.url.map(|url| Sourced::new(url, SOURCE));
    reading.state.connected = status.connected;
    reading.state.source = Some(SOURCE.to_owned());
}

fn read_version(program: &Program, reading: &mut AgentReading) {
    const SOURCE: &str = "sentinelctl version";
    match run_query(
        Fact::Agent,
        program,
        Query::Version,
        SOURCE,
        sentinelctl::parse_linux_version,
    ) {
        Ok(version) => reading.version = Some(Sourced::new(version, SOURCE)),
        Err(problem) => reading.problems.push(problem),
    }
}

fn read_basic_conf(sources: &Sources, reading: &mut AgentReading) {
    let bytes = match sources.read(BASIC_CONF) {
        Ok(bytes) => bytes,
        Err(e) => {
            return reading
                .problems
                .push(IdentityProblem::from_io(Fact::Agent, BASIC_CONF, &e));
        }
    };
    match agent::basic_conf_url(&bytes) {
        Ok(url) => reading.management_url = Some(Sourced::new(url, BASIC_CONF)),
        Err(e) => reading
            .problems
            .push(IdentityProblem::unparsable(Fact::Agent, BASIC_CONF, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use crate::identity::smbios::tests::sample_table;

    /// A fake root; the trusted owner is whoever runs the tests.
    fn fake_root() -> (tempfile::TempDir, Sources) {
        let dir = tempfile::tempdir().unwrap();
        let mut sources = Sources::under(dir.path());
        sources.trusted_owner = std::fs::metadata(dir.path()).unwrap().uid();
        (dir, sources)
    }

    fn write(sources: &Sources, path: &str, bytes: &[u8], mode: u32) {
        let full = sources.path(path);
        for folder in full
            .ancestors()
            .skip(1)
            .take_while(|p| p.starts_with(&sources.root))
        {
            std::fs::create_dir_all(folder).unwrap();
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(&full, bytes).unwrap();
        std::fs::set_permissions(&full, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn stand_in_sentinelctl(sources: &Sources, management: &str) {
        let script = format!(
            "#!/bin/sh\ncase \"$1 $2\" in\n  'management status') printf '%s' '{management}' ;;\n  'version ') printf 'Agent version: 24.1.2.6\\nSentinelCTL version: 24.1.2.6\\n' ;;\n  *) exit 2 ;;\nesac\n"
        );
        write(sources, SENTINELCTL, script.as_bytes(), 0o755);
    }

    #[test]
    fn serial_from_sysfs_tables() {
        let (_dir, sources) = fake_root();
        write(
            &sources,
            TABLE,
            &sample_table("To Be Filled By O.E.M.", "BRD-2", "CHS-3"),
            0o400,
        );
        let reading = read_serial(&sources);
        assert!(reading.problems.is_empty(), "{:?}", reading.problems);
        let sources: Vec<_> = reading
            .candidates
            .iter()
            .map(|c| (c.source.as_str(), c.usable))
            .collect();
        assert_eq!(
            sources,
            [
                ("smbios:type1", false),
                ("smbios:type3", true),
                ("smbios:type2", true),
                ("smbios:type2", false)
            ]
        );
    }

    #[test]
    fn serial_falls_back_to_dmi_id_files() {
        let (_dir, sources) = fake_root();
        write(
            &sources,
            "/sys/class/dmi/id/product_serial",
            b"VMware-56 4d e2 c3\n",
            0o400,
        );
        write(
            &sources,
            "/sys/class/dmi/id/chassis_serial",
            b"No Asset Tag\n",
            0o400,
        );
        write(
            &sources,
            "/sys/class/dmi/id/sys_vendor",
            b"VMware, Inc.\n",
            0o444,
        );
        let reading = read_serial(&sources);
        assert_eq!(reading.candidates[0].value, "VMware-56 4d e2 c3");
        assert!(reading.candidates[0].usable);
        assert_eq!(
            reading.candidates[1].reason,
            Some(crate::identity::CandidateReason::Placeholder)
        );
        assert_eq!(reading.model_platform, Some("vmware"));
        let reasons: Vec<_> = reading
            .problems
            .iter()
            .map(|p| (p.source.as_str(), p.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (TABLE, "not_present"),
                ("/sys/class/dmi/id/board_serial", "not_present")
            ]
        );
    }

    #[test]
    fn no_dmi_at_all() {
        let (_dir, sources) = fake_root();
        let reading = read_serial(&sources);
        assert!(reading.candidates.is_empty());
        assert_eq!(reading.problems.len(), 2);
        assert!(reading.problems.iter().all(|p| p.reason == "not_present"));
    }

    #[test]
    fn corrupt_tables_fall_back_too() {
        let (_dir, sources) = fake_root();
        write(&sources, TABLE, b"\x01\x02", 0o400);
        write(
            &sources,
            "/sys/class/dmi/id/product_serial",
            b"PF2ABCDE\n",
            0o400,
        );
        let reading = read_serial(&sources);
        assert_eq!(reading.problems[0].reason, "unparsable");
        assert_eq!(reading.candidates[0].value, "PF2ABCDE");
    }

    #[test]
    fn agent_registered() {
        let (_dir, sources) = fake_root();
        stand_in_sentinelctl(
            &sources,
            "Connectivity   On\nURL   https://usea1-acme.sentinelone.net\nUUID   8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e\n",
        );
        let reading = read_agent(&sources);
        assert!(reading.problems.is_empty(), "{:?}", reading.problems);
        assert_eq!(reading.installed.as_deref(), Some(SENTINELCTL));
        assert_eq!(
            reading.uuid,
            Some(Sourced::new(
                "8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e",
                "sentinelctl management status"
            ))
        );
        assert_eq!(
            reading.version,
            Some(Sourced::new("24.1.2.6", "sentinelctl version"))
        );
        assert_eq!(
            reading.management_url.unwrap().value,
            "https://usea1-acme.sentinelone.net"
        );
        assert_eq!(reading.state.connected, Some(true));
    }

    /// A stand-in whose `management status` fails the first `failures` times with
    /// `fail` (shell), then prints `ok`; it counts its calls in `<root>/calls`.
    fn flaky_sentinelctl(sources: &Sources, failures: u32, fail: &str, ok: &str) {
        let calls = sources.root.join("calls");
        let script = format!(
            "#!/bin/sh
case \"$1 $2\" in
  'management status')
    n=$(cat '{calls}' 2>/dev/null || echo 0); n=$((n + 1)); echo $n > '{calls}'
    if [ $n -le {failures} ]; then {fail}; fi
    printf '%s' '{ok}' ;;
  'version ') printf 'Agent version: 24.1.2.6\\n' ;;
  *) exit 2 ;;
esac
",
            calls = calls.display()
        );
        write(sources, SENTINELCTL, script.as_bytes(), 0o755);
    }

    fn calls(sources: &Sources) -> u32 {
        std::fs::read_to_string(sources.root.join("calls")).map_or(0, |n| n.trim().parse().unwrap())
    }

    const RESET: &str = "Error: receive failed: Connection reset by peer";
    const MANY_KEYS: &str = "Agent state      Enabled\nAnti Tamper      On\nConnectivity     On\nCustomer id      undefined\nDevice type      server\nSite-Key         3f9c1e2ab4d5c6e7a8b9c0d1e2f3a4b5\nURL              https://usea1-acme.sentinelone.net\nUUID             6f1d3c2a-8b4e-4c9d-a1e2-3b4c5d6e7f80\n";

    #[test]
    fn a_connection_reset_is_retried_once() {
        let on_stdout = format!("echo '{RESET}'; exit 0");
        let on_stderr = format!("echo '{RESET}' >&2; exit 1");
        for fail in [on_stdout.as_str(), on_stderr.as_str()] {
            let (_dir, sources) = fake_root();
            flaky_sentinelctl(&sources, 1, fail, MANY_KEYS);
            let reading = read_agent(&sources);
            assert!(
                reading.problems.is_empty(),
                "{fail}: {:?}",
                reading.problems
            );
            assert_eq!(
                reading.uuid.map(|u| u.value).as_deref(),
                Some("6f1d3c2a-8b4e-4c9d-a1e2-3b4c5d6e7f80")
            );
            assert_eq!(reading.state.connected, Some(true));
            assert_eq!(calls(&sources), 2, "one extra call");
        }
    }

    #[test]
    fn a_reset_that_persists_is_a_problem_after_one_retry() {
        let (_dir, sources) = fake_root();
        flaky_sentinelctl(&sources, 99, &format!("echo '{RESET}'; exit 0"), MANY_KEYS);
        let reading = read_agent(&sources);
        assert_eq!(calls(&sources), 2, "never more than one extra call");
        assert_eq!(reading.uuid, None);
        let status: Vec<&IdentityProblem> = reading
            .problems
            .iter()
            .filter(|p| p.source == STATUS_SOURCE)
            .collect();
        assert_eq!(status.len(), 1, "{:?}", reading.problems);
        let problem = status[0];
        assert_eq!(problem.reason, "failed");
        let detail = problem.detail.as_deref().unwrap();
        assert!(detail.contains("Connection reset by peer"), "{detail}");
        assert!(detail.contains("also when tried again"), "{detail}");
        assert!(problem.hint.as_deref().unwrap().contains("try again"));
        // Output that is simply not understood is not retried.
        let (_dir, sources) = fake_root();
        flaky_sentinelctl(&sources, 99, "echo 'Hello, world'; exit 0", MANY_KEYS);
        let reading = read_agent(&sources);
        assert_eq!(calls(&sources), 1);
        assert_eq!(reading.problems[0].reason, "unparsable");
    }

    #[test]
    fn a_masked_uuid_is_an_error_not_a_uuid() {
        let (_dir, sources) = fake_root();
        stand_in_sentinelctl(
            &sources,
            "Connectivity   On\nUUID   xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx\n",
        );
        let reading = read_agent(&sources);
        assert_eq!(reading.uuid, None);
        assert_eq!(reading.problems[0].reason, "unparsable");
        assert!(
            reading.problems[0]
                .detail
                .as_deref()
                .unwrap()
                .contains("not an agent UUID")
        );
    }

    #[test]
    fn agent_unregistered_uses_basic_conf() {
        let (_dir, sources) = fake_root();
        stand_in_sentinelctl(
            &sources,
            "Connectivity   Off\nURL   undefined\nUUID   undefined\n",
        );
        write(
            &sources,
            BASIC_CONF,
            br#"{"mgmt_url": "https://conf.sentinelone.net"}"#,
            0o600,
        );
        let reading = read_agent(&sources);
        assert_eq!(reading.uuid, None);
        assert_eq!(reading.problems.len(), 1);
        assert_eq!(reading.problems[0].reason, "not_registered");
        assert_eq!(
            reading.management_url,
            Some(Sourced::new("https://conf.sentinelone.net", BASIC_CONF))
        );
    }

    #[test]
    fn agent_missing_unsafe_and_garbage() {
        let (_dir, sources) = fake_root();
        let reading = read_agent(&sources);
        assert_eq!(reading.installed, None);
        assert_eq!(reading.problems[0].reason, "not_present");

        stand_in_sentinelctl(&sources, "Hello, world\n");
        let reading = read_agent(&sources);
        assert_eq!(reading.problems[0].reason, "unparsable");
        assert!(
            reading.problems[0]
                .detail
                .as_deref()
                .unwrap()
                .contains("UUID")
        );

        let bin = sources.path("/opt/sentinelone/bin");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o775)).unwrap();
        let reading = read_agent(&sources);
        assert_eq!(reading.installed.as_deref(), Some(SENTINELCTL));
        assert_eq!(reading.problems.len(), 1);
        assert_eq!(reading.problems[0].reason, "unsafe");
        let detail = reading.problems[0].detail.as_deref().unwrap();
        assert!(
            detail.contains(&format!("{} is writable", bin.display())),
            "{detail}"
        );
    }
}
