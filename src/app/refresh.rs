//! `refresh`: evaluate live, then replace the snapshot or keep it, and record the
//! attempt beside it. One refresh runs at a time (a lock in the state folder), and
//! a snapshot is never replaced by an older evaluation.

use std::path::Path;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::checklist::{CheckedItem, Progress};
use super::live::{live_observed, read_tokens, took};
use super::verdict;
use super::{Device, Error, Missing, Options, load_config};
use crate::config::Config;
use crate::exit::Outcome;
use crate::fs_trust::{file_message, io_wrong};
use crate::identity::DeviceIdentity;
use crate::posture::report::{PostureReport, RefreshAttempt, fmt_time};
use crate::posture::snapshot;
use crate::publish;
use crate::reason::Reason;
use crate::text::Redactor;
use crate::verdict::jwt::Binding;

/// What a refresh did.
#[derive(Debug)]
pub struct Refreshed {
    /// Exit status: 0 evaluated and written, 3 kept the previous snapshot or could
    /// not evaluate.
    pub outcome: Outcome,
    /// The warning to log when the snapshot was kept or the evaluation failed.
    pub kept: Option<String>,
    /// The new evaluation.
    pub report: PostureReport,
}

/// Runs `refresh`, telling `progress` what each step waits for and then how it ended,
/// with how long it took: the identity read, each tenant's answer, the evaluation,
/// the snapshot written (or kept) and the stores published.
pub fn refresh(
    options: &Options,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Refreshed, Error> {
    let loaded = load_config(options, Missing::Fail)?;
    if let Some(why) = &loaded.untrusted {
        return Err(Error::usage(
            format!("{why}; refresh writes the posture every user relies on"),
            "keep the configuration root-owned and not writable by others (chmod 644, chown root)",
        ));
    }
    let config = &loaded.config;
    let snapshot_path = &config.snapshot.path;
    snapshot::check_targets(snapshot_path).map_err(|e| {
        Error::usage(
            e.to_string(),
            "point `[snapshot] path` at the state folder (default /var/lib/s1trust/posture.json)",
        )
    })?;
    let _lock = match snapshot::lock(snapshot_path, snapshot::LOCK_WAIT) {
        Ok(lock) => lock,
        Err(e) => return Err(lock_failed(snapshot_path, e)),
    };
    let verdict_paths = crate::verdict::Paths::beside(snapshot_path);
    let removed = snapshot::remove_stale_temps(snapshot_path)
        + crate::verdict::remove_stale_temps(&verdict_paths)
        + publish::remove_stale_temps(snapshot_path);
    if removed > 0 {
        tracing::info!("removed {removed} temp file(s) left by an interrupted refresh");
    }
    let mut device = Device::quick(options.started);
    let now = OffsetDateTime::now_utc();
    let tokens = read_tokens(config);
    let identity = timed(
        progress,
        "reading this device's identity",
        || device.full(),
        |identity| {
            (
                "identity read",
                identity.problems.is_empty(),
                describe(identity),
            )
        },
    );
    let started = Instant::now();
    let report = live_observed(options, config, &tokens, identity, now, progress);
    progress(Progress::Item(&step(
        "evaluation",
        !could_not_evaluate(&report),
        format!(
            "{}{}",
            report.result.as_str(),
            report
                .reason
                .map(|r| format!(", {}", r.as_str()))
                .unwrap_or_default()
        ),
        started.elapsed(),
    )));
    let redactor = Redactor::new(
        tokens
            .iter()
            .flatten()
            .flatten()
            .filter_map(|c| c.secret().cloned()),
    );
    let current = snapshot::read_snapshot_bytes(snapshot_path, now, config.snapshot.max_age)
        .ok()
        .filter(|(_, c)| snapshot::check_device(c, device.known()).is_ok());
    let write_error = |e: std::io::Error| Error::Usage {
        message: file_message(
            "posture snapshot",
            snapshot_path,
            &format!("cannot be written ({})", io_wrong(&e)),
            "run `s1trust refresh` as root (or SYSTEM); the scheduled task does",
        ),
        hint: None,
    };
    if snapshot::should_replace(current.as_ref().map(|(_, c)| c), &report) {
        let bytes = snapshot::encode_snapshot(&report, &redactor).map_err(write_error)?;
        // Signed over what readers will read (redacted, clipped), before the rename:
        // the verdict follows the snapshot, and `check --jwt` refuses one that does
        // not match the snapshot it sits beside.
        let written: PostureReport =
            serde_json::from_slice(&bytes).map_err(|e| write_error(std::io::Error::other(e)))?;
        let signed =
            verdict::sign_snapshot(&verdict_paths, &bytes, &written, now, Binding::default());
        // A store never says trusted while the snapshot beneath it says otherwise:
        // withdrawn before the new snapshot lands, granted after.
        if !publish::is_trusted(Some(&written), now) {
            publish::publish(&config.publish, snapshot_path, None, now);
        }
        timed(
            progress,
            "writing the snapshot",
            || snapshot::write_snapshot_bytes(snapshot_path, &bytes),
            |written| match written {
                Ok(()) => (
                    "snapshot written",
                    true,
                    snapshot_path.display().to_string(),
                ),
                Err(e) => ("snapshot written", false, e.to_string()),
            },
        )
        .map_err(write_error)?;
        publish_stores(progress, config, snapshot_path, Some(&written), now);
        match signed {
            Ok(token) => verdict::store(&verdict_paths, &token),
            Err(e) => verdict::unsigned(&verdict_paths, &e),
        }
        // Written, but an answer the tenant was never asked for (a first refresh that
        // timed out, say) is not an evaluation: exit 3 and a failed record say so.
        let failed = could_not_evaluate(&report).then(|| {
            format!(
                "this refresh could not evaluate ({}); the snapshot says unknown",
                report.reason.map_or("no reason", |r| r.as_str())
            )
        });
        let outcome = if failed.is_some() {
            Outcome::Unknown
        } else {
            Outcome::Ok
        };
        record_attempt(
            snapshot_path,
            &report,
            failed.is_none(),
            failed.clone(),
            &redactor,
        )
        .map_err(write_error)?;
        tracing::info!(
            result = report.result.as_str(),
            "snapshot written to {}",
            snapshot_path.display()
        );
        return Ok(Refreshed {
            outcome,
            kept: failed,
            report,
        });
    }
    if let Some((bytes, current)) = &current {
        verdict::keep_signed(snapshot_path, bytes, current);
    }
    let kept = current
        .as_ref()
        .map(|(_, c)| fmt_time(c.evaluated_at))
        .unwrap_or_default();
    progress(Progress::Item(&CheckedItem {
        ok: false,
        what: "snapshot kept".into(),
        detail: if current.is_some() {
            format!("the one from {kept} stays")
        } else {
            "there is none to keep".into()
        },
        hint: None,
    }));
    // An expired or foreign snapshot was not read back (`current` is None): the
    // stores stop saying trusted even though the file stays.
    let current = current.map(|(_, c)| c);
    publish_stores(progress, config, snapshot_path, current.as_ref(), now);
    let message = format!(
        "kept the snapshot from {kept}: this refresh ended {} ({})",
        report.result.as_str(),
        report.reason.map_or("no reason", |r| r.as_str())
    );
    record_attempt(
        snapshot_path,
        &report,
        false,
        Some(message.clone()),
        &redactor,
    )
    .map_err(write_error)?;
    Ok(Refreshed {
        outcome: Outcome::Unknown,
        kept: Some(message),
        report,
    })
}

/// Runs one step: tells `progress` what it waits for, then the step `ended` makes of
/// its result (what, whether it went well, what came of it), with how long it took.
fn timed<T>(
    progress: &mut dyn FnMut(Progress<'_>),
    waiting: &str,
    work: impl FnOnce() -> T,
    ended: impl FnOnce(&T) -> (&'static str, bool, String),
) -> T {
    progress(Progress::Waiting(waiting));
    let started = Instant::now();
    let result = work();
    let (what, ok, detail) = ended(&result);
    progress(Progress::Item(&step(what, ok, detail, started.elapsed())));
    result
}

fn step(what: &str, ok: bool, detail: String, duration: Duration) -> CheckedItem {
    CheckedItem {
        ok,
        what: what.into(),
        detail: format!("{detail} ({})", took(duration)),
        hint: None,
    }
}

/// The identity read's step: what the tenant will be asked by, or how many problems.
fn describe(identity: &DeviceIdentity) -> String {
    let serial = identity
        .serial_number
        .as_ref()
        .map_or("none".into(), ToString::to_string);
    let uuid = identity.agent_uuid.as_deref().unwrap_or("none");
    let problems = match identity.problems.len() {
        0 => String::new(),
        n => format!(", {n} problem(s)"),
    };
    format!("serial {serial}, agent UUID {uuid}{problems}")
}

/// Tells the stores (marker, plist, registry) the posture `report` gives.
fn publish_stores(
    progress: &mut dyn FnMut(Progress<'_>),
    config: &Config,
    snapshot_path: &Path,
    report: Option<&PostureReport>,
    now: OffsetDateTime,
) {
    timed(
        progress,
        "publishing to the stores",
        || publish::publish(&config.publish, snapshot_path, report, now),
        |()| {
            let says = if publish::is_trusted(report, now) {
                "trusted"
            } else {
                "not trusted"
            };
            ("stores published", true, format!("they say {says}"))
        },
    );
}

/// An `unknown` that means the tenant could not be asked or did not answer usefully,
/// as opposed to one the tenant's answer decided (no record, ambiguous records).
fn could_not_evaluate(report: &PostureReport) -> bool {
    report.result == crate::posture::report::Overall::Unknown
        && report.reason.is_some_and(Reason::is_evaluation_failure)
}

/// A refresh that could not lock records that, so `check` and `doctor` can say the
/// posture is not being refreshed (the lock is root's alone: only another refresh,
/// or root, can hold it).
fn lock_failed(path: &Path, e: snapshot::LockError) -> Error {
    match e {
        snapshot::LockError::Busy(_) => {
            let message = format!(
                "{e} ({}); this refresh did nothing",
                snapshot::lock_path(path).display()
            );
            let attempt = failed_attempt(path, OffsetDateTime::now_utc(), None, message.clone());
            if let Err(e) = snapshot::write_last_refresh(path, &attempt, &Redactor::default()) {
                tracing::warn!("cannot record the refresh attempt: {e}");
            }
            Error::Busy(message)
        }
        snapshot::LockError::Io(e) => Error::usage(
            format!("cannot lock the state folder of {}: {e}", path.display()),
            "run `s1trust refresh` as root (or SYSTEM); the scheduled task does",
        ),
    }
}

/// A failed attempt, carrying when the failures began from the previous record.
fn failed_attempt(
    path: &Path,
    at: OffsetDateTime,
    report: Option<&PostureReport>,
    message: String,
) -> RefreshAttempt {
    let previous = snapshot::read_last_refresh(path);
    let failing_since = match previous {
        Some(p) if !p.ok => p.failing_since.or(Some(p.at)).filter(|since| *since <= at),
        _ => None,
    };
    RefreshAttempt {
        at,
        ok: false,
        result: report.map_or(crate::posture::report::Overall::Unknown, |r| r.result),
        reason: report.and_then(|r| r.reason),
        message: Some(message),
        failing_since: failing_since.or(Some(at)),
    }
}

fn record_attempt(
    path: &Path,
    report: &PostureReport,
    ok: bool,
    message: Option<String>,
    redactor: &Redactor,
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
    let attempt = match message {
        Some(message) if !ok => failed_attempt(path, report.evaluated_at, Some(report), message),
        message => RefreshAttempt {
            at: report.evaluated_at,
            ok,
            result: report.result,
            reason: report.reason,
            message,
            failing_since: None,
        },
    };
    snapshot::write_last_refresh(path, &attempt, redactor)
}
