//! `check`: where the login-time answer comes from.
//!
//! The rule: the snapshot, when root wrote it, it is fresh, and it belongs to this
//! device; else a live evaluation when this process may do one (root or SYSTEM, with
//! a configuration only root could have written); else `unknown` with the reason.
//! A normal user's check never evaluates live: nothing the user controls (a config,
//! a CA, a proxy, trust-store variables) can reach a live answer.

use crate::reason::Reason;
use time::OffsetDateTime;

use super::live::{Tokens, identity_notes, live, read_tokens};
use super::{Device, Error, LoadedConfig, Missing, Options, load_config};
use crate::config::Config;
use crate::config::{CONFIG_ENV, ConfigError};
use crate::identity::DeviceIdentity;
use crate::posture::report::{
    DeviceSummary, Overall, PostureReport, SCHEMA_VERSION, Source, fmt_time,
};
use crate::posture::snapshot::{self, SnapshotProblem};

/// What the caller asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The snapshot, else live when possible.
    Auto,
    /// Always live.
    Live,
    /// Only the snapshot.
    Snapshot,
}

/// Runs `check`.
pub fn check(options: &Options, mode: Mode) -> Result<PostureReport, Error> {
    refuse_a_users_config(options)?;
    let now = OffsetDateTime::now_utc();
    let mut device = Device::quick(options.started);
    let loaded = match load_config(options, Missing::Fail) {
        Ok(loaded) => loaded,
        Err(Error::Config(ConfigError::NotFound(_))) => {
            return Ok(not_configured(options, &mut device, now));
        }
        Err(e) => return Err(e),
    };
    Ok(decide(options, &loaded, mode, &mut device, now))
}

/// A verdict for a normal user comes only from the OS-path configuration: any file
/// the user names, even a root-owned one, is one the user picked (on a mount of the
/// user's, from a namespace of the user's, or an old copy), so it is refused outright.
pub(crate) fn refuse_a_users_config(options: &Options) -> Result<(), Error> {
    if options.config_named && !options.privileged {
        return Err(Error::usage(
            format!(
                "a normal user's check reads only the system configuration, not {} (named by --config or {CONFIG_ENV})",
                options.config_path.display()
            ),
            format!("drop --config and unset {CONFIG_ENV}; root (or SYSTEM) may name another file"),
        ));
    }
    Ok(())
}

fn decide(
    options: &Options,
    loaded: &LoadedConfig,
    mode: Mode,
    device: &mut Device,
    now: OffsetDateTime,
) -> PostureReport {
    let config = &loaded.config;
    if mode == Mode::Live {
        return match live_tokens(options, loaded) {
            Err(why_not) => unusable_with(Reason::LiveUnavailable, &why_not, device.known(), now),
            Ok(tokens) => live(options, config, &tokens, device.full(), now),
        };
    }
    let problem = match from_snapshot(config, device.known(), now) {
        Ok(report) => return report,
        Err(problem) => problem,
    };
    if mode == Mode::Snapshot {
        return unusable(&problem, device.known(), now, Vec::new());
    }
    match live_tokens(options, loaded) {
        Err(why_not) => unusable(&problem, device.known(), now, vec![why_not]),
        Ok(tokens) => {
            let mut report = live(options, config, &tokens, device.full(), now);
            report
                .notes
                .insert(0, format!("{problem}; evaluated live instead"));
            report
        }
    }
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
        let since = attempt.failing_since.unwrap_or(attempt.at);
        report.notes.push(format!(
            "refreshes have failed since {}, the last at {} ({}); this answer is from {} and stands until it expires at {}",
            fmt_time(since),
            fmt_time(attempt.at),
            attempt.message.as_deref().unwrap_or("no detail"),
            fmt_time(report.evaluated_at),
            fmt_time(report.expires_at)
        ));
        report.last_refresh = Some(attempt);
    }
    Ok(report)
}

/// The tokens a live evaluation will use, or why this process cannot evaluate live.
/// A normal user's process reads none: it is never allowed to.
fn live_tokens(options: &Options, loaded: &LoadedConfig) -> Result<Tokens, String> {
    if let Some(why) = &loaded.untrusted {
        return Err(format!("{why}, so it cannot steer a live evaluation"));
    }
    let config = &loaded.config;
    if config.integrations.is_empty() {
        return Ok(Vec::new());
    }
    let tokens = if options.privileged {
        read_tokens(config)
    } else {
        Vec::new()
    };
    if tokens.iter().any(|t| matches!(t, Some(Ok(_)))) {
        Ok(tokens)
    } else {
        Err("a live evaluation needs an integration's API token, which only root (or SYSTEM) can read".into())
    }
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

pub(crate) fn unusable_with(
    reason: Reason,
    message: &str,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
) -> PostureReport {
    PostureReport {
        schema_version: SCHEMA_VERSION,
        result: Overall::Unknown,
        reason: Some(reason),
        evaluated_at: now,
        expires_at: now,
        source: Source::None,
        device: DeviceSummary::from(identity),
        integrations: Vec::new(),
        factors: Vec::new(),
        notes: vec![message.to_owned()],
        last_refresh: None,
    }
}

/// The document for a check that could not run (its configuration is unusable): a
/// client that reads only stdout still gets an answer, `unknown`.
pub fn refused(error: &Error) -> PostureReport {
    let device = Device::quick(std::time::Instant::now());
    let mut report = unusable_with(
        Reason::ConfigError,
        &error.to_string(),
        device.known(),
        OffsetDateTime::now_utc(),
    );
    if let Some(hint) = error.hint() {
        report.notes.push(hint);
    }
    report
}

/// A fresh machine: say what was found, what is missing, and how to go on.
fn not_configured(options: &Options, device: &mut Device, now: OffsetDateTime) -> PostureReport {
    // Only an administrator's check reads the agent's CLI here: a normal user's check
    // sits on the login path.
    let identity = if options.privileged {
        device.full()
    } else {
        device.known()
    };
    let mut report = unusable_with(
        Reason::NotConfigured,
        &format!(
            "no configuration at {}: no SentinelOne tenant to ask yet",
            options.config_path.display()
        ),
        identity,
        now,
    );
    report.notes.extend(identity_notes(identity));
    report.notes.push(
        "add a tenant with `s1trust integration add --name NAME --url https://<tenant>.sentinelone.net --token-file FILE` (as root); `s1trust integration test --url URL --token-file FILE` tries one without saving it, and `s1trust doctor` checks every step".into(),
    );
    report
}
