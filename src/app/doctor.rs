//! `doctor`: every step a support engineer would check, each with a fix.

use crate::reason::Reason;

use time::OffsetDateTime;

use super::checklist::{Checklist, Progress};
use super::client::for_integration;
use super::live::{Credential, live, read_tokens};
use super::{Device, LoadedConfig, Missing, Options, load_config, runtime};
use crate::config::shell_word;
use crate::config::{Config, Integration};
use crate::conntest::{Step, StepStatus, test_connection};
use crate::identity::DeviceIdentity;
use crate::posture::factors::FactorResult;
use crate::posture::report::{Binding, IntegrationReport, PostureReport, fmt_time};
use crate::posture::snapshot;
use crate::token::TokenError;

/// Runs every check, in order, into `report` (which may show each step as it is
/// added); the caller prints the checklist.
pub fn doctor(options: &Options, mut report: Checklist) -> Checklist {
    let config = check_config(options, &mut report);
    let mut device = Device::quick(options.started);
    report.waiting("reading this device's identity");
    let identity = device.full();
    check_identity(identity, options.privileged, &mut report);
    if let Some(config) = &config {
        let tokens = read_tokens(config);
        for (integration, token) in config.integrations.iter().zip(&tokens) {
            check_integration(options, config, integration, token, &mut report);
        }
        if !config.integrations.is_empty() {
            report.waiting("asking the tenants for this device's record");
            let posture = live(
                options,
                config,
                &tokens,
                identity,
                OffsetDateTime::now_utc(),
            );
            check_posture(&posture, &mut report);
        }
        let snapshot = check_snapshot(config, &mut report);
        check_stores(config, snapshot.as_ref(), &mut report);
    }
    check_scheduler(&mut report);
    report
}

fn check_config(options: &Options, report: &mut Checklist) -> Option<Config> {
    report.section("Configuration");
    let path = &options.config_path;
    match load_config(options, Missing::Fail) {
        Ok(LoadedConfig { config, untrusted }) => {
            if let Some(why) = untrusted {
                report.fail(
                    "config trust",
                    why,
                    "make it root-owned and not writable by others, like every folder above it",
                );
            }
            report.pass(
                "config file",
                format!(
                    "{} ({} integration(s))",
                    path.display(),
                    config.integrations.len()
                ),
            );
            if let Some(why) = crate::fs_trust::hidden_from_users(path) {
                report.fail(
                    "config readable by users",
                    format!("{why}, so every normal user's check ends config_error"),
                    "chmod 644 the file and 755 the folders above it (the tokens folder stays 700)",
                );
            }
            if config.integrations.is_empty() {
                report.fail(
                    "integrations",
                    "none configured",
                    "add one: s1trust integration add --name NAME --url URL --token-file FILE",
                );
            }
            Some(config)
        }
        Err(e) => {
            report.fail(
                "config file",
                e.to_string(),
                "create or fix it; `s1trust config validate` lists problems with their lines",
            );
            None
        }
    }
}

/// The device's facts. One root cause gets one ✗: a missing agent is not also a
/// missing UUID, version and process; and "run as root" is said only to those who are not.
fn check_identity(identity: &DeviceIdentity, privileged: bool, report: &mut Checklist) {
    report.section("This device");
    let as_root = |fix: &'static str| if privileged { None } else { Some(fix) };
    match (&identity.serial_number, &identity.serial_source) {
        (Some(serial), source) => {
            let virt = if identity.is_virtual {
                " — a virtual machine's serial"
            } else {
                ""
            };
            report.pass(
                "hardware serial",
                format!("{serial} ({}){virt}", source.as_deref().unwrap_or("?")),
            );
        }
        (None, _) => {
            let seen: Vec<String> = identity
                .serial_candidates
                .iter()
                .map(|c| {
                    format!(
                        "{:?} ({})",
                        c.value,
                        c.reason.map_or("unusable", |r| r.as_str())
                    )
                })
                .collect();
            let (detail, hint) = if seen.is_empty() {
                (
                    "none could be read".to_string(),
                    as_root("run as root: the firmware tables are root-only on Linux")
                        .unwrap_or("the firmware reports no serial; ask the vendor for a BIOS/firmware fix, or look the device up by agent UUID"),
                )
            } else {
                (
                    format!("only placeholders: {}", seen.join(", ")),
                    "a placeholder serial needs a firmware/BIOS fix by the vendor; the agent UUID still identifies the device",
                )
            };
            report.fail("hardware serial", detail, hint);
        }
    }
    if !identity.agent_installed {
        // The root cause of every agent fact below: one ✗, one fix.
        return report.fail(
            "agent installed",
            "the SentinelOne agent was not found",
            "install the SentinelOne agent from the company console",
        );
    }
    report.pass(
        "agent installed",
        identity.agent_installed_source.clone().unwrap_or_default(),
    );
    match &identity.agent_uuid {
        Some(uuid) => report.pass(
            "agent UUID",
            format!(
                "{uuid} ({})",
                identity.agent_uuid_source.as_deref().unwrap_or("?")
            ),
        ),
        None => report.fail(
            "agent UUID",
            "not read",
            as_root("run as root; if it still fails the agent may not be registered (see below)")
                .unwrap_or("the agent may not be registered: see the problems below, or register it from the console"),
        ),
    }
    match &identity.agent_version {
        Some(version) => report.pass("agent version", version.clone()),
        None => report.fail(
            "agent version",
            "not read",
            as_root("run as root").unwrap_or("see the problems below"),
        ),
    }
    match identity.agent_running {
        Some(true) => report.pass("agent running", "yes"),
        Some(false) => report.fail(
            "agent running",
            "no agent process found",
            "start the SentinelOne service or reboot",
        ),
        None => report.fail(
            "agent running",
            "could not be checked",
            as_root("run as root")
                .unwrap_or("the process list could not be read; see `s1trust identity -v`"),
        ),
    }
    for problem in &identity.problems {
        let detail = match &problem.detail {
            Some(detail) => format!("{}: {detail}", problem.reason),
            None => problem.reason.to_string(),
        };
        let hint = problem.hint.clone().unwrap_or_else(|| {
            "`s1trust identity` lists every source it read and why one failed".into()
        });
        report.fail(&problem.source, detail, hint);
    }
}

fn check_integration(
    options: &Options,
    config: &Config,
    integration: &Integration,
    token: &Option<Result<Credential, TokenError>>,
    report: &mut Checklist,
) {
    let through = integration
        .relay
        .as_ref()
        .map(|r| format!(", through the relay {}", r.url))
        .unwrap_or_default();
    report.section(&format!(
        "Integration {} ({}{through})",
        integration.name, integration.url
    ));
    let edit = format!(
        "`s1trust integration edit {} --token-stdin`",
        shell_word(&integration.name)
    );
    let what = if integration.relay.is_some() {
        "relay credentials"
    } else {
        "token file"
    };
    let credential = match token {
        Some(Ok(credential)) => {
            let detail = match credential {
                Credential::Token(_) => "readable by its owner only",
                Credential::Relay(_) => "readable by root only (docs/relay.md)",
            };
            report.pass(what, detail);
            credential
        }
        Some(Err(e)) => {
            let hint = match (options.privileged, integration.relay.is_some()) {
                (true, false) => format!("fix the token file, or re-add it with {edit}"),
                (true, true) => "fix the file named in the message (docs/relay.md)".into(),
                (false, _) => format!(
                    "only root can read the {what}: run `sudo s1trust doctor` to check them"
                ),
            };
            return report.fail(what, e.to_string(), hint);
        }
        None => {
            return report.fail(
                "token file",
                "token_file is not set",
                format!("set token_file, or use {edit}"),
            );
        }
    };
    let client = match for_integration(integration, credential, config, options.started) {
        Ok(client) => client,
        Err(e) => return report.fail("HTTP client", e.to_string(), e.hint()),
    };
    let Ok(rt) = runtime() else {
        return report.fail(
            "runtime",
            "cannot start the async runtime",
            "report this with -vv output",
        );
    };
    let test = rt.block_on(test_connection(
        &client,
        Some(&integration.name),
        &mut |progress| match progress {
            Progress::Waiting(what) => report.waiting(what),
            Progress::Item(step) => connection_step(step, report),
            Progress::Section(_) => {}
        },
    ));
    match test.token.as_ref().and_then(|t| {
        t.days_left
            .map(|d| (d, t.expires_at.clone().unwrap_or_default()))
    }) {
        Some((days, when)) if days >= 14 => {
            report.pass("token expiry", format!("{when} ({days} days)"))
        }
        Some((days, when)) => report.fail(
            "token expiry",
            format!("{when} ({days} days left)"),
            format!("create a new API token and update it with {edit}"),
        ),
        // Through a relay the token is the relay's to watch (its /metrics and logs).
        None if test.ok && integration.relay.is_none() => {
            report.pass("token expiry", "not reported by the console")
        }
        None => {}
    }
}

fn connection_step(step: &Step, report: &mut Checklist) {
    let latency = step
        .latency_ms
        .map(|ms| format!(" ({ms} ms)"))
        .unwrap_or_default();
    match step.status {
        StepStatus::Pass => report.pass(step.name, format!("{}{latency}", step.detail)),
        StepStatus::Fail => report.fail(
            step.name,
            step.detail.clone(),
            step.hint.clone().unwrap_or_default(),
        ),
        StepStatus::Skipped => report.fail(
            step.name,
            "skipped: an earlier step failed",
            "fix the step above first",
        ),
    }
}

/// The live posture. A lookup that found no record is one ✗ (none at all when the
/// cause, a missing agent, is already listed); the factors it left unknown or
/// unsatisfied for that same reason are its consequences and are not listed again.
fn check_posture(posture: &PostureReport, report: &mut Checklist) {
    let found = |i: &IntegrationReport| {
        i.reason == Reason::AgentFound && i.agent.is_some() && i.matched_by.is_some()
    };
    // Lookups that bound no record: the factors they left unjudged are not listed again.
    let blocked: Vec<(&str, Reason)> = posture
        .integrations
        .iter()
        .filter(|i| !found(i))
        .map(|i| (i.name.as_str(), i.reason))
        .collect();
    let only_the_missing_agent = blocked.len() == posture.integrations.len()
        && blocked.iter().all(|(_, r)| *r == Reason::NoLocalAgent)
        && posture
            .factors
            .iter()
            .all(|f| blocked.contains(&(f.source.as_str(), f.reason)));
    if only_the_missing_agent {
        // Every line would repeat the missing agent already listed above.
        return;
    }
    report.section("Posture (evaluated live)");
    for integration in &posture.integrations {
        let what = format!("record in {}", integration.name);
        match (&integration.agent, integration.matched_by) {
            (Some(agent), Some(by)) if found(integration) => report.pass(
                &what,
                format!(
                    "{} (id {}) found by {}, {}",
                    agent.computer_name.as_deref().unwrap_or("?"),
                    agent.id.as_deref().unwrap_or("?"),
                    by.describe(),
                    bound(integration)
                ),
            ),
            _ if integration.reason == Reason::NoLocalAgent => {}
            _ => report.fail(&what, integration.error.clone().unwrap_or_else(|| integration.reason.to_string()), "`s1trust lookup --uuid/--serial` shows the record the tenant holds for this device"),
        }
    }
    for factor in &posture.factors {
        if blocked.contains(&(factor.source.as_str(), factor.reason)) {
            continue;
        }
        let what = format!("{} [{}]", factor.name, factor.source);
        let detail = factor
            .detail
            .clone()
            .map(|d| format!("{}: {d}", factor.reason))
            .unwrap_or_else(|| factor.reason.to_string());
        match factor.result {
            FactorResult::Satisfied => report.pass(&what, "satisfied"),
            FactorResult::NotApplicable => report.pass(&what, "not applicable to this OS"),
            FactorResult::NotSatisfied => report.fail(
                &what,
                format!("not satisfied ({detail})"),
                factor.remediation.clone(),
            ),
            FactorResult::Unknown => report.fail(
                &what,
                format!("unknown ({detail})"),
                "fix the problems above; unknown factors never count as satisfied",
            ),
        }
    }
}

/// How the record is bound to this device, for the checklist.
fn bound(integration: &IntegrationReport) -> String {
    match (integration.binding, &integration.binding_source) {
        (Some(Binding::Serial), Some(source)) => {
            format!("bound to this device by its serial ({source})")
        }
        (Some(Binding::UuidOnly), _) => format!(
            "bound to this device by agent UUID only ({})",
            integration
                .binding_reason
                .map_or("no reason", |r| r.as_str())
        ),
        _ => "bound to this device".into(),
    }
}

/// The snapshot, and the valid one if any.
fn check_snapshot(config: &Config, report: &mut Checklist) -> Option<PostureReport> {
    report.section("Snapshot");
    let path = &config.snapshot.path;
    let now = OffsetDateTime::now_utc();
    let valid = snapshot::read_snapshot(path, now, config.snapshot.max_age);
    match &valid {
        Ok(snap) => {
            let age = (now - snap.evaluated_at).whole_seconds().max(0);
            report.pass(
                "posture snapshot",
                format!(
                    "{} — {} ({age}s old, owner and permissions ok)",
                    path.display(),
                    snap.result.as_str()
                ),
            );
        }
        Err(problem) => report.fail(
            "posture snapshot",
            problem.to_string(),
            "run `s1trust refresh` as root, or check that the scheduled refresh runs",
        ),
    }
    if let Some(why) = crate::fs_trust::hidden_from_users(path) {
        report.fail(
            "snapshot readable by users",
            format!("{why}, so every normal user's check ends snapshot_unreadable"),
            "chmod 755 the folders above it (a refresh writes the snapshot 644 and makes a missing state folder 755)",
        );
    }
    match snapshot::read_last_refresh(path) {
        Some(attempt) if attempt.ok => report.pass(
            "last refresh",
            format!("succeeded at {}", fmt_time(attempt.at)),
        ),
        Some(attempt) => report.fail(
            "last refresh",
            format!(
                "failed at {} (failing since {}): {}",
                fmt_time(attempt.at),
                fmt_time(attempt.failing_since.unwrap_or(attempt.at)),
                attempt.message.unwrap_or_default()
            ),
            "see the integration checks above",
        ),
        None => report.fail(
            "last refresh",
            "no record of a refresh",
            "run `s1trust refresh` as root",
        ),
    }
    valid.ok()
}

/// Each store `[publish]` enables here, against the snapshot a refresh would publish.
fn check_stores(config: &Config, snapshot: Option<&PostureReport>, report: &mut Checklist) {
    let lines = crate::publish::audit(
        &config.publish,
        &config.snapshot.path,
        snapshot,
        OffsetDateTime::now_utc(),
    );
    if lines.is_empty() {
        return;
    }
    report.section("Published stores");
    for line in lines {
        match line.fix {
            None => report.pass(line.what, line.detail),
            Some(fix) => report.fail(line.what, line.detail, fix),
        }
    }
}

fn check_scheduler(report: &mut Checklist) {
    report.section("Scheduled refresh");
    let candidates = crate::install::scheduler_entries();
    match candidates.iter().find(|p| p.exists()) {
        Some(found) => report.pass("scheduler entry", found.display().to_string()),
        None => report.fail(
            "scheduler entry",
            format!(
                "none of {} exists",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "reinstall the s1trust package, which sets up the scheduled refresh",
        ),
    }
}
