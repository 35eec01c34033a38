//! `s1trust identity`: this device's serial, agent UUID and host facts, read
//! locally without the network.

use std::fmt::Write as _;

use super::output::print_versioned;
use super::render::{answer_is, outln};
use super::{Error, IdentityArgs};
use crate::exit::Outcome;
use crate::identity::{Completeness, DeviceIdentity, Sources, read_identity};

/// Reads the identity and prints it (a table, or JSON with `--json`).
pub(crate) fn run(args: &IdentityArgs) -> Result<Outcome, Error> {
    let identity = read_identity(&Sources::budgeted(std::time::Instant::now()));
    let answer = answer_is(outcome(identity.completeness()));
    if args.json {
        print_versioned(&serde_json::to_value(&identity).map_err(std::io::Error::from)?)?;
    } else {
        // Line by line through the renderer: the agent's CLI and the OS supply some
        // of these values.
        for line in table(&identity).lines() {
            outln!("{line}");
        }
    }
    Ok(answer)
}

/// 0 serial and UUID read, 1 agent missing or unregistered, 3 something unreadable.
fn outcome(completeness: Completeness) -> Outcome {
    match completeness {
        Completeness::Complete => Outcome::Ok,
        Completeness::AgentMissing => Outcome::Negative,
        Completeness::Unreadable => Outcome::Unknown,
    }
}

const WIDTH: usize = 17;

fn table(id: &DeviceIdentity) -> String {
    let mut out = String::new();
    let mut row = |label: &str, value: String| {
        let _ = writeln!(out, "{label:<WIDTH$} {value}");
    };
    row(
        "Serial number",
        sourced(
            id.serial_number.as_ref().map(|s| s.as_str()),
            id.serial_source.as_deref(),
            "none usable",
        ),
    );
    if let Some(platform) = &id.virtual_platform {
        row("Virtual machine", format!("yes ({platform})"));
    }
    for (i, c) in id.serial_candidates.iter().enumerate() {
        let mark = if c.usable { "✓" } else { "✗" };
        let why = c.reason.map(|r| format!(" ({r})")).unwrap_or_default();
        let label = if i == 0 { "Serial candidates" } else { "" };
        row(label, format!("{mark} {:<14} {:?}{why}", c.source, c.value));
    }
    let installed = match (&id.agent_installed, &id.agent_installed_source) {
        (true, Some(source)) => format!("installed ({source})"),
        (true, None) => "installed".into(),
        (false, _) => "not installed".into(),
    };
    let running = match id.agent_running {
        Some(true) => ", running",
        Some(false) => ", not running",
        None => "",
    };
    row("Agent", format!("{installed}{running}"));
    row(
        "Agent UUID",
        sourced(
            id.agent_uuid.as_deref(),
            id.agent_uuid_source.as_deref(),
            "unknown",
        ),
    );
    row(
        "Agent version",
        sourced(
            id.agent_version.as_deref(),
            id.agent_version_source.as_deref(),
            "unknown",
        ),
    );
    row(
        "Management URL",
        sourced(
            id.management_url.as_deref(),
            id.management_url_source.as_deref(),
            "unknown",
        ),
    );
    if let Some(state) = agent_state(id) {
        row("Agent state", state);
    }
    let host = [
        id.hostname.as_deref(),
        id.os_type.map(|t| t.as_str()),
        id.os_name.as_deref(),
        id.arch.as_deref(),
    ];
    row(
        "Host",
        host.iter()
            .flatten()
            .copied()
            .collect::<Vec<_>>()
            .join(", "),
    );
    if !id.problems.is_empty() {
        let _ = writeln!(out, "Problems");
        for p in &id.problems {
            let detail = p
                .detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  ✗ {} — {}{detail}", p.source, p.reason);
            if let Some(hint) = &p.hint {
                let _ = writeln!(out, "      fix: {hint}");
            }
        }
    }
    let _ = writeln!(out, "{}", summary(id.completeness()));
    out
}

fn sourced(value: Option<&str>, source: Option<&str>, missing: &str) -> String {
    match (value, source) {
        (Some(value), Some(source)) => format!("{value}  ({source})"),
        (Some(value), None) => value.to_owned(),
        (None, _) => missing.to_owned(),
    }
}

fn agent_state(id: &DeviceIdentity) -> Option<String> {
    let s = &id.agent_state;
    let flags = [
        ("ready", s.ready),
        ("protection", s.protection_enabled),
        ("infected", s.infected),
        ("connected", s.connected),
        ("loaded", s.loaded),
        ("self-protection", s.self_protection),
    ];
    let shown: Vec<String> = flags
        .iter()
        .filter_map(|(name, value)| {
            value.map(|v| format!("{name}: {}", if v { "yes" } else { "no" }))
        })
        .collect();
    (!shown.is_empty()).then(|| shown.join(", "))
}

fn summary(completeness: Completeness) -> &'static str {
    match completeness {
        Completeness::Complete => "Identity read.",
        Completeness::AgentMissing => "The SentinelOne agent is not installed or not registered.",
        Completeness::Unreadable => "Some facts could not be read; see the problems above.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Fact, IdentityProblem, OsType, ProblemReason, Serial, SerialCandidate};

    #[test]
    fn table_shows_facts_sources_and_fixes() {
        let identity = DeviceIdentity {
            serial_number: Serial::parse("VMware-56 4d").ok(),
            serial_source: Some("smbios:type1".into()),
            serial_candidates: vec![
                SerialCandidate::check("smbios:type1", "VMware-56 4d"),
                SerialCandidate::check("smbios:type3", "None"),
            ],
            is_virtual: true,
            virtual_platform: Some("vmware".into()),
            agent_installed: true,
            agent_installed_source: Some("/opt/sentinelone/bin/sentinelctl".into()),
            agent_running: Some(false),
            hostname: Some("box".into()),
            os_type: Some(OsType::Linux),
            problems: vec![
                IdentityProblem::new(
                    Fact::Agent,
                    "sentinelctl management status",
                    ProblemReason::TimedOut,
                )
                .hint("try again"),
            ],
            ..DeviceIdentity::default()
        };
        let text = table(&identity);
        for expected in [
            "Serial number     VMware-56 4d  (smbios:type1)",
            "Virtual machine   yes (vmware)",
            "✗ smbios:type3   \"None\" (placeholder)",
            "Agent             installed (/opt/sentinelone/bin/sentinelctl), not running",
            "Agent UUID        unknown",
            "Host              box, linux",
            "  ✗ sentinelctl management status — timed_out",
            "      fix: try again",
            "Some facts could not be read",
        ] {
            assert!(text.contains(expected), "{expected:?} missing from\n{text}");
        }
        assert_eq!(outcome(identity.completeness()), Outcome::Unknown);
    }
}
