//! Native stores that zero-trust clients and MDMs read without running s1trust,
//! kept in step with the snapshot by every privileged refresh.
//!
//! A store says what the snapshot says only while refreshes run: none of them can
//! expire by itself (`doctor` reports a refresh that stopped).

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::config::PublishSettings;
use crate::posture::report::{Overall, PostureReport};

mod audit;
#[cfg(any(windows, test))]
mod key_security;
pub mod plist;
#[cfg(windows)]
mod registry;

pub use audit::{StoreLine, audit};

use crate::reason::Reason;

/// The marker's content: constant, so a client can pin its SHA-256.
pub const MARKER_CONTENT: &[u8] = b"s1trust: trusted\n";

/// The marker file beside `snapshot`, present only while the answer is trusted.
pub fn marker_path(snapshot: &Path) -> PathBuf {
    snapshot.with_file_name("trusted")
}

/// Whether `report` (the snapshot readers now see, if any) is a trusted answer
/// that has not expired at `now`.
pub fn is_trusted(report: Option<&PostureReport>, now: OffsetDateTime) -> bool {
    report.is_some_and(|r| r.result == Overall::Trusted && now < r.expires_at)
}

/// Brings every enabled store in line with `report`, the snapshot as it stands after
/// this refresh (`None`: none valid). A store that cannot be updated is reported
/// where the refresh logs; `doctor` sees the refresh that keeps failing.
pub fn publish(
    settings: &PublishSettings,
    snapshot: &Path,
    report: Option<&PostureReport>,
    now: OffsetDateTime,
) {
    let trusted = is_trusted(report, now);
    if settings.marker
        && let Err(e) = set_marker(snapshot, trusted)
    {
        tracing::warn!(
            "cannot update the marker {}: {e}",
            marker_path(snapshot).display()
        );
    }
    if settings.plist
        && let Some(root) = plist::store_root()
        && let Err(e) = plist::write_plist(&root, report, now)
    {
        tracing::warn!("cannot update {}: {e}", plist::plist_path(&root).display());
    }
    #[cfg(windows)]
    if settings.registry
        && let Err(e) = registry::write(&Published::new(report, now))
    {
        tracing::warn!("the registry store was not written: {e} ({})", e.hint());
    }
}

/// What the plist and registry stores say, from the snapshot after a refresh
/// (`None`: none valid). A trusted answer past its expiry is `unknown`, never trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// `trusted`, `not_trusted` or `unknown`.
    pub result: &'static str,
    /// Whether the answer is trusted and unexpired.
    pub trusted: bool,
    /// The reason code, empty when trusted.
    pub reason: &'static str,
    /// RFC 3339, empty without a snapshot.
    pub evaluated_at: String,
    /// RFC 3339, empty without a snapshot.
    pub expires_at: String,
    /// As the snapshot names the device; empty when it does not.
    pub agent_uuid: String,
    /// As the snapshot names the device; empty when it does not.
    pub serial: String,
}

impl Published {
    /// The values for `report` at `now`.
    pub fn new(report: Option<&PostureReport>, now: OffsetDateTime) -> Self {
        let trusted = is_trusted(report, now);
        let (result, reason) = match report {
            None => (Overall::Unknown, Some(Reason::NoSnapshot)),
            Some(r) if r.result == Overall::Trusted && !trusted => {
                (Overall::Unknown, Some(Reason::StaleSnapshot))
            }
            Some(r) => (r.result, r.reason),
        };
        let time = |t: Option<OffsetDateTime>| {
            t.and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
        };
        let device = report.map(|r| &r.device);
        let text = |v: Option<&String>| v.cloned().unwrap_or_default();
        Self {
            result: result.as_str(),
            trusted,
            reason: reason.map_or("", Reason::as_str),
            evaluated_at: time(report.map(|r| r.evaluated_at)),
            expires_at: time(report.map(|r| r.expires_at)),
            agent_uuid: text(device.and_then(|d| d.agent_uuid.as_ref())),
            serial: text(device.and_then(|d| d.serial_number.as_ref())),
        }
    }

    /// The string values by the name both stores give them (`Result` and `Trusted` aside).
    pub fn strings(&self) -> [(&'static str, &str); 5] {
        [
            ("Reason", self.reason),
            ("EvaluatedAt", &self.evaluated_at),
            ("ExpiresAt", &self.expires_at),
            ("AgentUuid", &self.agent_uuid),
            ("Serial", &self.serial),
        ]
    }
}

/// What a plist or registry store says, as `doctor` compares it with the snapshot
/// (a value that is missing reads as empty).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stored {
    /// `Result`.
    pub result: String,
    /// `ExpiresAt`, RFC 3339.
    pub expires_at: String,
}

/// Writes or removes the marker beside `snapshot`.
pub fn set_marker(snapshot: &Path, trusted: bool) -> std::io::Result<()> {
    if trusted {
        crate::atomic::write_atomic(&marker_path(snapshot), MARKER_CONTENT, 0o644, 0o755)
    } else {
        remove_marker(snapshot)
    }
}

fn remove_marker(snapshot: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(marker_path(snapshot)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// Removes temp files a killed refresh left for the stores (under the refresh lock).
pub fn remove_stale_temps(snapshot: &Path) -> usize {
    crate::atomic::remove_stale_temps(&marker_path(snapshot))
}
