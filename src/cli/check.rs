//! `s1trust check` (the login-time answer) and `s1trust refresh` (the privileged writer).

use std::path::Path;
use std::time::Instant;

use time::OffsetDateTime;

use super::device::local_identity;
use super::output::{fmt_time, print_json};
use super::target::{config_path, runtime};
use super::{CheckArgs, Cli, CliError};
use crate::config::{self, Config, ConfigError, Integration};
use crate::exit::Outcome;
use crate::identity::DeviceIdentity;
use crate::ownership::untrusted_reason;
use crate::posture::evaluate::{Target, evaluate};
use crate::posture::report::{
    DeviceSummary, Overall, PostureReport, RefreshAttempt, SCHEMA_VERSION, Source,
};
use crate::posture::snapshot::{self, SnapshotProblem};
use crate::tenant::TenantClient;
use crate::token::read_token_file;

/// Runs `check`: the snapshot when it is fresh and trustworthy, else a live evaluation
/// when this process can do one, else `unknown` with the reason.
pub fn check(cli: &Cli, args: &CheckArgs) -> Result<Outcome, CliError> {
    let now = OffsetDateTime::now_utc();
    let (path, _) = config_path(cli);
    let report = match config::load(&path) {
        Ok(config) => decide(&config, &path, args, now)?,
        Err(ConfigError::NotFound(_)) => not_configured(&path, now),
        Err(e) => return Err(e.into()),
    };
    if args.json {
        print_json(&serde_json::to_value(&report).map_err(std::io::Error::from)?)?;
    } else {
        super::check_table::print(&report);
    }
    Ok(outcome(report.result))
}

/// The exit status for a result (design §5).
pub fn outcome(result: Overall) -> Outcome {
    match result {
        Overall::Trusted => Outcome::Ok,
        Overall::NotTrusted => Outcome::Negative,
        Overall::Unknown => Outcome::Unknown,
    }
}

fn decide(
    config: &Config,
    config_file: &Path,
    args: &CheckArgs,
    now: OffsetDateTime,
) -> Result<PostureReport, CliError> {
    let blocker = || live_blocker(config, config_file);
    if args.live {
        return Ok(match blocker() {
            Some(why_not) => {
                unusable_with("live_unavailable", &why_not, &local_identity(false), now)
            }
            None => live(config, now),
        });
    }
    // The fast login path reads only cheap facts; the full identity is gathered only
    // when the answer has to explain why the snapshot could not be used.
    let problem = match from_snapshot(config, &local_identity(true), now) {
        Ok(report) => return Ok(report),
        Err(problem) => problem,
    };
    if args.snapshot {
        return Ok(unusable(&problem, &local_identity(false), now, Vec::new()));
    }
    Ok(match blocker() {
        Some(why_not) => unusable(&problem, &local_identity(false), now, vec![why_not]),
        None => {
            let mut report = live(config, now);
            report
                .notes
                .insert(0, format!("{problem}; evaluated live instead"));
            report
        }
    })
}

fn from_snapshot(
    config: &Config,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
) -> Result<PostureReport, SnapshotProblem> {
    let path = &config.snapshot.path;
    let mut report = snapshot::read_snapshot(path, now, config.snapshot.max_age)?;
    snapshot::check_device(&report, identity)?;
    report.source = Source::Snapshot;
    let failed_since =
        snapshot::read_last_refresh(path).filter(|a| !a.ok && a.at > report.evaluated_at);
    if let Some(attempt) = failed_since {
        report.notes.push(format!(
            "the last refresh failed at {} ({}); this answer is from {}",
            fmt_time(attempt.at),
            attempt.message.as_deref().unwrap_or("no detail"),
            fmt_time(report.evaluated_at)
        ));
        report.last_refresh = Some(attempt);
    }
    Ok(report)
}

/// Why this process cannot evaluate live, if it cannot.
fn live_blocker(config: &Config, config_file: &Path) -> Option<String> {
    if let Some(why) = untrusted_config(config_file) {
        return Some(why);
    }
    let readable = config.integrations.iter().any(|i| {
        i.token_file
            .as_deref()
            .is_some_and(|f| read_token_file(f).is_ok())
    });
    if config.integrations.is_empty() || readable {
        None
    } else {
        Some("a live evaluation needs an integration's API token, which only root (or SYSTEM) can read".into())
    }
}

/// A config anyone but root could have written must not steer a live answer
/// (it could point at a fake tenant).
fn untrusted_config(path: &Path) -> Option<String> {
    untrusted_reason(path).map(|why| {
        format!(
            "the configuration {} cannot be trusted for a live evaluation: {why}",
            path.display()
        )
    })
}

/// Evaluates every integration now.
pub fn live(config: &Config, now: OffsetDateTime) -> PostureReport {
    let identity = local_identity(false);
    let started = Instant::now();
    let deadline = started + config.http.deadline;
    let targets: Vec<Target<'_>> = config
        .integrations
        .iter()
        .map(|i| target(config, i, deadline))
        .collect();
    let mut report = match runtime() {
        Ok(runtime) => {
            runtime.block_on(evaluate(&targets, &identity, now, config.snapshot.max_age))
        }
        Err(e) => unusable_with(
            "runtime_error",
            &format!("cannot start the async runtime: {e}"),
            &identity,
            now,
        ),
    };
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        result = report.result.as_str(),
        "live evaluation"
    );
    report.notes.extend(identity_notes(&identity));
    report
}

fn target<'a>(config: &Config, integration: &'a Integration, deadline: Instant) -> Target<'a> {
    let client = integration
        .token_file
        .as_deref()
        .ok_or_else(|| {
            (
                "token_unreadable",
                format!("integration {:?} has no token_file", integration.name),
            )
        })
        .and_then(|file| read_token_file(file).map_err(|e| ("token_unreadable", e.to_string())))
        .and_then(|token| {
            TenantClient::new(
                integration.url.clone(),
                Some(token),
                &config.http,
                integration.ca_file.as_deref(),
                deadline,
            )
            .map_err(|e| ("config_error", e.to_string()))
        });
    Target {
        integration,
        client,
    }
}

fn identity_notes(identity: &DeviceIdentity) -> Vec<String> {
    identity
        .problems
        .iter()
        .map(|p| match &p.hint {
            Some(hint) => format!("{}: {} ({hint})", p.source, p.reason),
            None => format!("{}: {}", p.source, p.reason),
        })
        .collect()
}

fn unusable(
    problem: &SnapshotProblem,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
    mut notes: Vec<String>,
) -> PostureReport {
    let mut report = unusable_with(problem.reason_code(), &problem.to_string(), identity, now);
    report.notes.append(&mut notes);
    report
}

fn unusable_with(
    reason: &str,
    message: &str,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
) -> PostureReport {
    PostureReport {
        schema_version: SCHEMA_VERSION,
        result: Overall::Unknown,
        reason: Some(reason.into()),
        evaluated_at: now,
        expires_at: now,
        source: Source::Snapshot,
        device: DeviceSummary::from(identity),
        integrations: Vec::new(),
        factors: Vec::new(),
        notes: vec![message.to_owned()],
        last_refresh: None,
    }
}

/// A fresh machine: say what was found, what is missing, and how to go on.
fn not_configured(path: &Path, now: OffsetDateTime) -> PostureReport {
    let identity = local_identity(false);
    let mut report = unusable_with(
        "not_configured",
        &format!(
            "no configuration at {}: no SentinelOne tenant to ask yet",
            path.display()
        ),
        &identity,
        now,
    );
    report.source = Source::Live;
    report.notes.extend(identity_notes(&identity));
    report.notes.push(
        "add a tenant with `s1trust integration add --name NAME --url https://<tenant>.sentinelone.net --token-file FILE` (as root), or try the emulated tenant: `bash tests/demo.sh` in the source tree".into(),
    );
    report
}

/// Runs `refresh`: evaluates live and writes the snapshot, keeping a definitive
/// snapshot when the new answer is only a transient failure.
pub fn refresh(cli: &Cli) -> Result<Outcome, CliError> {
    let (path, _) = config_path(cli);
    let config = config::load(&path)?;
    let now = OffsetDateTime::now_utc();
    let report = live(&config, now);
    let snapshot_path = &config.snapshot.path;
    let current = snapshot::read_snapshot(snapshot_path, now, config.snapshot.max_age).ok();
    let write_error = |e: std::io::Error| {
        CliError::usage(
            format!(
                "cannot write the posture snapshot {}: {e}",
                snapshot_path.display()
            ),
            "run `s1trust refresh` as root (or SYSTEM); the scheduled task does",
        )
    };
    if snapshot::should_replace(current.as_ref(), &report) {
        snapshot::write_snapshot(snapshot_path, &report).map_err(write_error)?;
        record_attempt(snapshot_path, &report, true, None).map_err(write_error)?;
        tracing::info!(
            result = report.result.as_str(),
            "snapshot written to {}",
            snapshot_path.display()
        );
        return Ok(Outcome::Ok);
    }
    let kept = current
        .map(|c| fmt_time(c.evaluated_at))
        .unwrap_or_default();
    let message = format!(
        "kept the snapshot from {kept}: this refresh ended {} ({})",
        report.result.as_str(),
        report.reason.as_deref().unwrap_or("no reason")
    );
    tracing::warn!("{message}");
    record_attempt(snapshot_path, &report, false, Some(message)).map_err(write_error)?;
    Ok(Outcome::Unknown)
}

fn record_attempt(
    path: &Path,
    report: &PostureReport,
    ok: bool,
    message: Option<String>,
) -> std::io::Result<()> {
    let errors: Vec<&str> = report
        .integrations
        .iter()
        .filter_map(|i| i.error.as_deref())
        .collect();
    let message = message.map(|m| {
        if errors.is_empty() {
            m
        } else {
            format!("{m}: {}", errors.join("; "))
        }
    });
    let attempt = RefreshAttempt {
        at: report.evaluated_at,
        ok,
        result: report.result,
        reason: report.reason.clone(),
        message,
    };
    snapshot::write_last_refresh(path, &attempt)
}
