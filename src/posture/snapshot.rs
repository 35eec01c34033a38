//! The posture snapshot: written atomically by the privileged `refresh`, read by
//! anyone through `check`, and trusted only when root (or SYSTEM) wrote it.
//!
//! Beside it, `<name>.last-refresh.json` records the latest refresh attempt so a
//! failed refresh can be reported without throwing away the last good answer.

use crate::reason::Reason;
use std::path::{Path, PathBuf};
use std::time::Duration;

use time::OffsetDateTime;

use super::report::{Overall, PostureReport, RefreshAttempt, SCHEMA_VERSION};
pub use crate::atomic::LockError;
use crate::atomic::write_atomic;
use crate::fs_trust::{self, Fault, Rule, TrustError, file_message, io_wrong};
use crate::identity::DeviceIdentity;
use crate::identity::uuid::uuids_equal;
use crate::text::{Redactor, clip_strings};

/// Largest snapshot written or read; a real one is a few KiB.
pub const MAX_SNAPSHOT: u64 = 4 * 1024 * 1024;
/// Longest string copied into a snapshot (a record's `computerName`, a detail):
/// longer ones are cut and marked, so one odd record cannot outgrow the snapshot.
pub const MAX_SNAPSHOT_STRING: usize = 4096;
/// Clock skew tolerated for a snapshot "from the future".
const SKEW: time::Duration = time::Duration::minutes(5);

/// Why a snapshot cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotProblem {
    /// There is no snapshot yet.
    #[error(
        "{}",
        file_message("posture snapshot", .0, "does not exist", "the scheduled `s1trust refresh` writes it; run it now as root (or SYSTEM)")
    )]
    Missing(PathBuf),
    /// It could not be read.
    #[error(
        "{}",
        file_message("posture snapshot", path, &io_wrong(source), "`s1trust doctor` as root shows its owner and permissions")
    )]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Someone other than root/SYSTEM could have written it.
    #[error(
        "{}",
        file_message(
            "posture snapshot",
            path,
            why,
            "only a snapshot root wrote, below folders only root can change, is used; run `s1trust refresh` as root (or SYSTEM)"
        )
    )]
    Untrusted {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong with its owner or permissions.
        why: String,
    },
    /// It is not a valid posture document.
    #[error(
        "{}",
        file_message("posture snapshot", path, &format!("corrupt ({why})"), "run `s1trust refresh` as root (or SYSTEM) to write a new one")
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// It is older than `max_age`.
    #[error("the posture snapshot is {} old (allowed: {})", humantime::format_duration(*age), humantime::format_duration(*max_age))]
    Stale {
        /// Its age, rounded to seconds.
        age: Duration,
        /// The configured limit.
        max_age: Duration,
    },
    /// It is past the `expiresAt` its writer gave it.
    #[error("the posture snapshot expired at {0}")]
    Expired(OffsetDateTime),
    /// It describes another device.
    #[error("the posture snapshot was made for another device ({0})")]
    WrongDevice(String),
    /// It names a device fact this process should be able to read but could not.
    #[error(
        "the posture snapshot cannot be matched to this device: it carries a {0}, and this process could not read this device's"
    )]
    Unverifiable(&'static str),
}

impl SnapshotProblem {
    /// The stable reason code.
    pub fn reason_code(&self) -> Reason {
        match self {
            Self::Missing(_) => Reason::NoSnapshot,
            Self::Unreadable { .. } => Reason::SnapshotUnreadable,
            Self::Untrusted { .. } => Reason::UntrustedSnapshot,
            Self::Corrupt { .. } => Reason::CorruptSnapshot,
            Self::Stale { .. } | Self::Expired(_) => Reason::StaleSnapshot,
            Self::WrongDevice(_) => Reason::WrongDevice,
            Self::Unverifiable(_) => Reason::DeviceUnverifiable,
        }
    }
}

/// Reads a snapshot that root wrote, that is valid, and that is not older than `max_age`.
pub fn read_snapshot(
    path: &Path,
    now: OffsetDateTime,
    max_age: Duration,
) -> Result<PostureReport, SnapshotProblem> {
    read_snapshot_bytes(path, now, max_age).map(|(_, report)| report)
}

/// [`read_snapshot`], with the file's bytes (a signed verdict is bound to them).
pub fn read_snapshot_bytes(
    path: &Path,
    now: OffsetDateTime,
    max_age: Duration,
) -> Result<(Vec<u8>, PostureReport), SnapshotProblem> {
    let bytes = read_trusted(path)?;
    let report = parse_snapshot(&bytes, path, now, max_age)?;
    Ok((bytes, report))
}

/// Judges a snapshot's bytes (read from `path`, named in errors): valid, of this
/// schema, not from the future, younger than `max_age` and not past its own expiry.
pub fn parse_snapshot(
    bytes: &[u8],
    path: &Path,
    now: OffsetDateTime,
    max_age: Duration,
) -> Result<PostureReport, SnapshotProblem> {
    let corrupt = |why: String| SnapshotProblem::Corrupt {
        path: path.to_owned(),
        why,
    };
    let report: PostureReport =
        serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if report.schema_version != SCHEMA_VERSION {
        return Err(corrupt(format!(
            "schemaVersion {} is not {SCHEMA_VERSION}",
            report.schema_version
        )));
    }
    // Checked: a timestamp near year 9999 must be refused, not overflow.
    if now
        .checked_add(SKEW)
        .is_none_or(|limit| report.evaluated_at > limit)
    {
        return Err(corrupt(format!(
            "it claims to come from the future ({})",
            report.evaluated_at
        )));
    }
    let age = now - report.evaluated_at;
    let max = time::Duration::try_from(max_age).unwrap_or(time::Duration::MAX);
    if age > max {
        let age = Duration::from_secs(age.whole_seconds().max(0) as u64);
        return Err(SnapshotProblem::Stale { age, max_age });
    }
    // The writer's own limit, on the clock both share: a reader's settings can
    // shorten it, never extend it. Skew is tolerated only for "from the future".
    if now >= report.expires_at {
        return Err(SnapshotProblem::Expired(report.expires_at));
    }
    Ok(report)
}

/// Checks that the snapshot was made for this device. Every fact the snapshot carries
/// and this process can normally read must match; one it carries but this process
/// failed to read (a sandbox can hide `/etc/machine-id`) fails closed, never skips.
pub fn check_device(
    report: &PostureReport,
    identity: &DeviceIdentity,
) -> Result<(), SnapshotProblem> {
    let device = &report.device;
    match (&identity.host_id, &device.host_id) {
        (Some(ours), Some(theirs)) if ours != theirs => {
            return Err(SnapshotProblem::WrongDevice(format!(
                "its machine identity differs from this device's ({})",
                identity.host_id_source.as_deref().unwrap_or("machine ID")
            )));
        }
        (Some(_), None) => {
            return Err(SnapshotProblem::WrongDevice(
                "it carries no machine identity, and this device has one".into(),
            ));
        }
        (None, Some(_)) => return Err(SnapshotProblem::Unverifiable("machine identity")),
        _ => {}
    }
    match (&identity.serial_number, &device.serial_number) {
        (Some(ours), Some(theirs)) if !ours.is(theirs) => {
            return Err(SnapshotProblem::WrongDevice(format!(
                "serial {theirs:?}, this device has {ours:?}"
            )));
        }
        (None, Some(_)) if serial_readable_here() => {
            return Err(SnapshotProblem::Unverifiable("serial number"));
        }
        _ => {}
    }
    if let (Some(ours), Some(theirs)) = (&identity.agent_uuid, &device.agent_uuid)
        && !uuids_equal(ours, theirs)
    {
        return Err(SnapshotProblem::WrongDevice(format!(
            "agent {theirs}, this device has {ours}"
        )));
    }
    Ok(())
}

/// Whether this process can normally read the hardware serial: any user can on
/// macOS (IOKit) and Windows (the SMBIOS API); on Linux the firmware tables are
/// root's only. The agent UUID is not checked the same way: a normal user's check
/// does not ask the agent's CLI for it.
fn serial_readable_here() -> bool {
    !cfg!(target_os = "linux") || fs_trust::is_privileged()
}

fn read_trusted(path: &Path) -> Result<Vec<u8>, SnapshotProblem> {
    match fs_trust::read(path, &Rule::system(MAX_SNAPSHOT)) {
        Ok((bytes, _)) => Ok(bytes),
        Err(TrustError::Missing(_)) => Err(SnapshotProblem::Missing(path.to_owned())),
        Err(TrustError::Io { source, .. }) => Err(SnapshotProblem::Unreadable {
            path: path.to_owned(),
            source,
        }),
        Err(TrustError::Untrusted { path, fault }) => Err(SnapshotProblem::Untrusted {
            path,
            why: untrusted_because(&fault),
        }),
    }
}

/// The snapshot's own wording for a file-trust fault (it names the file already).
fn untrusted_because(fault: &Fault) -> String {
    match fault {
        Fault::Owner { uid, .. } => format!("owned by uid {uid}, not root"),
        Fault::Writable { mode } => format!("permissions {mode:04o} let other users change it"),
        Fault::Link | Fault::Kind(_) | Fault::TooLarge(_) => {
            "not a regular file of at most 4 MiB (symbolic links are not followed)".into()
        }
        other => other.to_string(),
    }
}

/// Writes `report` to `path` atomically: a temp file in the same folder, fsync, rename.
/// Readers see the old file or the new one, never a mix. The folder is created 0755.
/// See [`encode`] for what is changed on the way.
pub fn write_snapshot(
    path: &Path,
    report: &PostureReport,
    redactor: &Redactor,
) -> std::io::Result<()> {
    write_snapshot_bytes(path, &encode_snapshot(report, redactor)?)
}

/// The bytes [`write_snapshot`] writes (see [`encode`]).
pub fn encode_snapshot(report: &PostureReport, redactor: &Redactor) -> std::io::Result<Vec<u8>> {
    encode(report, redactor, "snapshot")
}

/// Writes bytes from [`encode_snapshot`] as [`write_snapshot`] does.
pub fn write_snapshot_bytes(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic(path, bytes, 0o644, 0o755)
}

/// A document every user may read, as written beside the snapshot: credentials
/// `redactor` knows of are replaced (a last defence: tenant errors come redacted),
/// strings longer than [`MAX_SNAPSHOT_STRING`] are cut, and a document still over
/// [`MAX_SNAPSHOT`] is refused, since no reader would accept it.
fn encode(
    document: &impl serde::Serialize,
    redactor: &Redactor,
    what: &str,
) -> std::io::Result<Vec<u8>> {
    let mut value = serde_json::to_value(document).map_err(std::io::Error::other)?;
    redactor.redact_strings(&mut value);
    clip_strings(&mut value, MAX_SNAPSHOT_STRING);
    let mut bytes = serde_json::to_vec_pretty(&value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    if bytes.len() as u64 > MAX_SNAPSHOT {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the {what} would be {} bytes, over the {} KiB every reader accepts",
                bytes.len(),
                MAX_SNAPSHOT / 1024
            ),
        ));
    }
    Ok(bytes)
}

/// Why `refresh` will not write to a path.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}",
    file_message(
        "snapshot path",
        path,
        why,
        "refresh replaces only its own files: move this away or set another [snapshot] path"
    )
)]
pub struct NotOurs {
    /// The path.
    pub path: PathBuf,
    /// What is there.
    pub why: String,
}

/// Checks that what `refresh` is about to replace is absent or a document of its own:
/// a device, a FIFO or someone else's file named by mistake is never renamed over.
pub fn check_targets(snapshot: &Path) -> Result<(), NotOurs> {
    let targets = [
        (snapshot.to_owned(), "schemaVersion"),
        (last_refresh_path(snapshot), "at"),
    ];
    if let Some(folder) = snapshot.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(meta) = std::fs::symlink_metadata(folder)
        && !meta.is_dir()
    {
        return Err(NotOurs {
            path: folder.to_owned(),
            why: "not a folder".into(),
        });
    }
    for (path, key) in targets {
        let not_ours = |why: &str| NotOurs {
            path: path.clone(),
            why: why.into(),
        };
        let meta = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(not_ours(&e.to_string())),
            Ok(meta) => meta,
        };
        if !meta.is_file() {
            return Err(not_ours("not a regular file"));
        }
        let file = crate::fs_trust::open_regular(&path).map_err(|e| not_ours(&io_wrong(&e)))?;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_SNAPSHOT), &mut bytes)
            .map_err(|e| not_ours(&io_wrong(&e)))?;
        let ours =
            serde_json::from_slice::<serde_json::Value>(&bytes).is_ok_and(|v| v.get(key).is_some());
        if !ours {
            return Err(not_ours("not an s1trust snapshot"));
        }
    }
    Ok(())
}

/// Removes what killed refreshes left behind (call under the refresh lock).
pub fn remove_stale_temps(snapshot: &Path) -> usize {
    crate::atomic::remove_stale_temps(snapshot)
        + crate::atomic::remove_stale_temps(&last_refresh_path(snapshot))
}

/// The file beside the snapshot that records the latest refresh attempt.
pub fn last_refresh_path(snapshot: &Path) -> PathBuf {
    let stem = snapshot
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("posture");
    snapshot.with_file_name(format!("{stem}.last-refresh.json"))
}

/// Records a refresh attempt beside the snapshot, under the snapshot's limits ([`encode`]).
pub fn write_last_refresh(
    snapshot: &Path,
    attempt: &RefreshAttempt,
    redactor: &Redactor,
) -> std::io::Result<()> {
    let bytes = encode(attempt, redactor, "last-refresh record")?;
    write_atomic(&last_refresh_path(snapshot), &bytes, 0o644, 0o755)
}

/// The latest refresh attempt, when its record is trustworthy and valid.
pub fn read_last_refresh(snapshot: &Path) -> Option<RefreshAttempt> {
    let bytes = read_trusted(&last_refresh_path(snapshot)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// How long a refresh waits for another one to finish before it gives up.
pub const LOCK_WAIT: Duration = Duration::from_secs(10);

/// The refresh lock beside the snapshot.
pub fn lock_path(snapshot: &Path) -> PathBuf {
    let stem = snapshot
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("posture");
    snapshot.with_file_name(format!("{stem}.lock"))
}

/// Takes the exclusive refresh lock, `<name>.lock` beside the snapshot, for as long
/// as the returned file lives (the OS drops it if the process dies), waiting up to
/// `wait` for a running refresh ([`crate::atomic::lock`]: only root can open it).
pub fn lock(snapshot: &Path, wait: Duration) -> Result<std::fs::File, LockError> {
    crate::atomic::lock(&lock_path(snapshot), wait)
}

/// Whether a freshly evaluated report should replace the current (still valid) snapshot.
pub fn should_replace(current: Option<&PostureReport>, new: &PostureReport) -> bool {
    let Some(current) = current else {
        return true;
    };
    if new.evaluated_at < current.evaluated_at {
        return false;
    }
    let definitive = |r: &PostureReport| r.result != Overall::Unknown;
    let transient = new.result == Overall::Unknown && new.reason.is_some_and(Reason::is_transient);
    !(definitive(current) && transient)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Serial;
    use crate::posture::report::{DeviceSummary, Source};
    use crate::text::CLIPPED;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn report(result: Overall, reason: Option<&str>, at: OffsetDateTime) -> PostureReport {
        PostureReport {
            schema_version: SCHEMA_VERSION,
            result,
            reason: reason.map(|r| r.parse().unwrap()),
            evaluated_at: at,
            expires_at: at + time::Duration::minutes(30),
            source: Source::Live,
            device: DeviceSummary {
                serial_number: Some("PF2ABCDE".into()),
                ..Default::default()
            },
            integrations: Vec::new(),
            factors: Vec::new(),
            notes: Vec::new(),
            last_refresh: None,
        }
    }

    #[test]
    fn transient_unknown_never_replaces_a_definitive_answer() {
        let good = report(Overall::Trusted, None, NOW);
        let network = report(Overall::Unknown, Some("network_error"), NOW);
        let ambiguous = report(Overall::Unknown, Some("ambiguous"), NOW);
        let negative = report(Overall::NotTrusted, Some("active_threats"), NOW);
        assert!(!should_replace(Some(&good), &network));
        assert!(should_replace(Some(&good), &ambiguous));
        assert!(should_replace(Some(&good), &negative));
        assert!(should_replace(Some(&network), &network));
        assert!(should_replace(None, &network));
    }

    #[cfg(unix)]
    #[test]
    fn round_trip_and_rejections() {
        use std::os::unix::fs::PermissionsExt;
        if !is_root() {
            eprintln!("notice: snapshot ownership test needs root; skipped");
            return;
        }
        let dir = crate::test_scratch();
        let path = dir.path().join("state").join("posture.json");
        let max = Duration::from_secs(1800);
        assert!(matches!(
            read_snapshot(&path, NOW, max),
            Err(SnapshotProblem::Missing(_))
        ));
        write_snapshot(
            &path,
            &report(Overall::Trusted, None, NOW),
            &Redactor::default(),
        )
        .unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        assert_eq!(
            read_snapshot(&path, NOW, max).unwrap().result,
            Overall::Trusted
        );
        let stale = read_snapshot(&path, NOW + time::Duration::minutes(31), max).unwrap_err();
        assert_eq!(stale.reason_code(), "stale_snapshot");
        let past = read_snapshot(&path, NOW - time::Duration::hours(1), max).unwrap_err();
        assert_eq!(past.reason_code(), "corrupt_snapshot");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o664)).unwrap();
        assert_eq!(
            read_snapshot(&path, NOW, max).unwrap_err().reason_code(),
            "untrusted_snapshot"
        );
        std::fs::write(&path, b"{\"schemaVersion\": 1, \"result\": ").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            read_snapshot(&path, NOW, max).unwrap_err().reason_code(),
            "corrupt_snapshot"
        );
    }

    #[cfg(unix)]
    fn is_root() -> bool {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self")
            .map(|m| m.uid() == 0)
            .unwrap_or(false)
    }

    #[test]
    fn wrong_device_is_detected_only_for_facts_we_can_read() {
        let snap = report(Overall::Trusted, None, NOW);
        let mut identity = DeviceIdentity::default();
        let unreadable_serial = check_device(&snap, &identity);
        if serial_readable_here() {
            assert_eq!(
                unreadable_serial.unwrap_err().reason_code(),
                "device_unverifiable"
            );
        } else {
            assert!(
                unreadable_serial.is_ok(),
                "a normal user cannot read it on Linux"
            );
        }
        identity.serial_number = Serial::parse("pf2abcde").ok();
        assert!(check_device(&snap, &identity).is_ok());
        identity.serial_number = Serial::parse("OTHER123").ok();
        assert_eq!(
            check_device(&snap, &identity).unwrap_err().reason_code(),
            "wrong_device"
        );
    }

    #[test]
    fn a_machine_identity_that_cannot_be_read_fails_closed() {
        let mut snap = report(Overall::Trusted, None, NOW);
        snap.device.host_id = Some("sha256:aa".into());
        let mut identity = DeviceIdentity {
            serial_number: Serial::parse("PF2ABCDE").ok(),
            ..Default::default()
        };
        assert_eq!(
            check_device(&snap, &identity).unwrap_err().reason_code(),
            "device_unverifiable",
            "a sandbox hiding /etc/machine-id must not skip the comparison"
        );
        identity.host_id = Some("sha256:bb".into());
        assert_eq!(
            check_device(&snap, &identity).unwrap_err().reason_code(),
            "wrong_device"
        );
        identity.host_id = Some("sha256:aa".into());
        assert!(check_device(&snap, &identity).is_ok());
    }

    #[test]
    fn long_strings_are_cut_and_marked_so_the_reader_accepts_the_snapshot() {
        let dir = crate::test_scratch();
        let path = dir.path().join("posture.json");
        let mut big = report(Overall::Trusted, None, NOW);
        big.notes.push("é".repeat(3_000_000));
        write_snapshot(&path, &big, &Redactor::default()).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!((bytes.len() as u64) < MAX_SNAPSHOT);
        let back = parse_snapshot(&bytes, &path, NOW, Duration::from_secs(60)).unwrap();
        assert!(back.notes[0].ends_with(CLIPPED));
        assert!(back.notes[0].len() <= MAX_SNAPSHOT_STRING);
    }

    fn attempt(message: String) -> RefreshAttempt {
        RefreshAttempt {
            at: NOW,
            ok: false,
            result: Overall::Unknown,
            reason: Some(Reason::BadResponse),
            message: Some(message),
            failing_since: Some(NOW),
        }
    }

    #[test]
    fn the_last_refresh_record_has_the_snapshots_limits() {
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("posture.json");
        write_last_refresh(
            &snapshot,
            &attempt("日本".repeat(2_000_000)),
            &Redactor::default(),
        )
        .unwrap();
        let bytes = std::fs::read(last_refresh_path(&snapshot)).unwrap();
        assert!(
            bytes.len() < 2 * MAX_SNAPSHOT_STRING,
            "{} bytes",
            bytes.len()
        );
        let back: RefreshAttempt = serde_json::from_slice(&bytes).unwrap();
        let message = back.message.unwrap();
        assert!(message.len() <= MAX_SNAPSHOT_STRING && message.ends_with(CLIPPED));
    }

    #[test]
    fn files_every_user_reads_never_hold_a_known_token() {
        let secret = "s1t-Sup3rS3cr3t-7f1c";
        let redactor = Redactor::new([crate::token::ApiToken::new(secret).unwrap()]);
        let dir = tempfile::tempdir().unwrap();
        let snapshot = dir.path().join("posture.json");
        let echo = format!("HTTP 500: bad header ApiToken {secret}; token {secret}");
        write_last_refresh(&snapshot, &attempt(echo.clone()), &redactor).unwrap();
        let mut report = report(Overall::Unknown, Some("bad_response"), NOW);
        report.notes.push(echo);
        write_snapshot(&snapshot, &report, &redactor).unwrap();
        for path in [last_refresh_path(&snapshot), snapshot] {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!text.contains(secret), "{}:\n{text}", path.display());
            assert!(text.contains("bad header ApiToken [redacted]; token [redacted]"));
        }
    }

    #[cfg(unix)]
    #[test]
    fn refresh_targets_must_be_absent_or_its_own() {
        let dir = crate::test_scratch();
        let path = dir.path().join("posture.json");
        assert!(check_targets(&path).is_ok());
        write_snapshot(
            &path,
            &report(Overall::Trusted, None, NOW),
            &Redactor::default(),
        )
        .unwrap();
        assert!(check_targets(&path).is_ok());
        std::fs::write(&path, "precious data").unwrap();
        let err = check_targets(&path).unwrap_err().to_string();
        assert!(err.contains("not an s1trust snapshot"), "{err}");
        std::fs::remove_file(&path).unwrap();
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let err = check_targets(&path).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        let file_as_folder = dir.path().join("file");
        std::fs::write(&file_as_folder, "x").unwrap();
        assert!(check_targets(&file_as_folder.join("posture.json")).is_err());
    }

    #[test]
    fn timestamps_at_the_end_of_time_neither_panic_nor_extend_an_answer() {
        let mut far = serde_json::to_value(report(Overall::Trusted, None, NOW)).unwrap();
        far["expiresAt"] = serde_json::json!("9999-12-31T23:59:59Z");
        let bytes = serde_json::to_vec(&far).unwrap();
        let path = Path::new("posture.json");
        let hour = Duration::from_secs(3600);
        assert!(parse_snapshot(&bytes, path, NOW, hour).is_ok());
        let later = NOW + time::Duration::hours(2);
        assert_eq!(
            parse_snapshot(&bytes, path, later, hour)
                .unwrap_err()
                .reason_code(),
            "stale_snapshot",
            "the reader's max_age still bounds it"
        );
        far["evaluatedAt"] = serde_json::json!("9999-12-31T23:59:59Z");
        let bytes = serde_json::to_vec(&far).unwrap();
        assert!(parse_snapshot(&bytes, path, NOW, hour).is_err());
    }

    #[test]
    fn expires_at_means_what_it_says_and_skew_only_excuses_the_future() {
        let snap = report(Overall::Trusted, None, NOW);
        let bytes = serde_json::to_vec(&snap).unwrap();
        let path = Path::new("posture.json");
        let day = Duration::from_secs(86_400);
        let just_after = snap.expires_at + time::Duration::seconds(2);
        assert_eq!(
            parse_snapshot(&bytes, path, just_after, day)
                .unwrap_err()
                .reason_code(),
            "stale_snapshot"
        );
        let just_before = snap.expires_at - time::Duration::seconds(2);
        assert!(parse_snapshot(&bytes, path, just_before, day).is_ok());
        let slightly_ahead = NOW - time::Duration::minutes(4);
        assert!(parse_snapshot(&bytes, path, slightly_ahead, day).is_ok());
    }

    #[test]
    fn an_older_evaluation_never_replaces_a_newer_one() {
        let newer = report(Overall::NotTrusted, Some("active_threats"), NOW);
        let older = report(Overall::Trusted, None, NOW - time::Duration::minutes(1));
        assert!(!should_replace(Some(&newer), &older));
        assert!(should_replace(Some(&older), &newer));
    }

    #[test]
    fn last_refresh_sits_beside_the_snapshot() {
        assert_eq!(
            last_refresh_path(Path::new("/var/lib/s1trust/posture.json")),
            Path::new("/var/lib/s1trust/posture.last-refresh.json")
        );
    }
}
