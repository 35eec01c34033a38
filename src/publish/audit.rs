//! `doctor`'s view of the stores: does each enabled one say what the snapshot says?
//! A store cannot expire by itself, so one that still says trusted after its
//! `ExpiresAt` is the sign that refreshes stopped.

use std::path::Path;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{MARKER_CONTENT, Published, Stored, marker_path, plist};
use crate::config::PublishSettings;
use crate::posture::report::PostureReport;

/// One store's line in the checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreLine {
    /// The store, as the checklist names it.
    pub what: &'static str,
    /// What it says, or how it disagrees with the snapshot.
    pub detail: String,
    /// What to do; `None` when the store agrees.
    pub fix: Option<&'static str>,
}

const REFRESH_FIX: &str = "run `s1trust refresh` as root (or SYSTEM): a refresh brings every store in line with the snapshot";
const STOPPED_FIX: &str = "refreshes have stopped: make the scheduled refresh run again (see below), then run `s1trust refresh` as root";
const MARKER_FIX: &str =
    "delete the file and run `s1trust refresh` as root: clients pin the marker's SHA-256";

type Judged = Result<String, (String, &'static str)>;

/// A line for each store `settings` enables on this OS, judged against `snapshot`
/// (the valid snapshot at `now`, if any: what a refresh now would publish).
pub fn audit(
    settings: &PublishSettings,
    snapshot_path: &Path,
    snapshot: Option<&PostureReport>,
    now: OffsetDateTime,
) -> Vec<StoreLine> {
    let expected = Published::new(snapshot, now);
    let mut lines = Vec::new();
    if settings.marker {
        let marker = marker_path(snapshot_path);
        lines.push(line(
            "trusted marker",
            judge_marker(std::fs::read(&marker), &expected)
                .map(|d| format!("{} {d}", marker.display())),
        ));
    }
    if settings.plist
        && let Some(root) = plist::store_root()
    {
        let judged = match plist::read_plist(&root) {
            Ok(stored) => judge_values(Some(&stored), &expected, now),
            Err(e)
                if e.as_io()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound) =>
            {
                judge_values(None, &expected, now)
            }
            Err(e) => Err((format!("cannot be read: {e}"), REFRESH_FIX)),
        };
        let path = plist::plist_path(&root);
        lines.push(line(
            "plist store",
            judged.map(|d| format!("{} {d}", path.display())),
        ));
    }
    #[cfg(windows)]
    if settings.registry {
        let judged = match super::registry::read() {
            Ok(stored) => judge_values(stored.as_ref(), &expected, now),
            Err(e) => Err((e.to_string(), e.hint())),
        };
        lines.push(line(
            "registry store",
            judged.map(|d| format!("HKLM\\{} {d}", super::registry::KEY)),
        ));
    }
    lines
}

fn line(what: &'static str, judged: Judged) -> StoreLine {
    match judged {
        Ok(detail) => StoreLine {
            what,
            detail,
            fix: None,
        },
        Err((detail, fix)) => StoreLine {
            what,
            detail,
            fix: Some(fix),
        },
    }
}

/// The marker exists exactly while the answer is trusted and unexpired, with the
/// constant content clients pin.
fn judge_marker(content: std::io::Result<Vec<u8>>, expected: &Published) -> Judged {
    match content {
        Ok(bytes) if bytes != MARKER_CONTENT => Err((
            "has content other than the constant clients pin by SHA-256".into(),
            MARKER_FIX,
        )),
        Ok(_) if expected.trusted => Ok(format!(
            "present: the snapshot says trusted until {}",
            expected.expires_at
        )),
        Ok(_) => Err(if refreshes_stopped(expected) {
            (
                format!(
                    "present, but there is no current snapshot ({}): the marker cannot expire by itself",
                    expected.reason
                ),
                STOPPED_FIX,
            )
        } else {
            (
                format!("present, but the snapshot says {}", expected.result),
                REFRESH_FIX,
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if expected.trusted {
                Err(("missing, but the snapshot says trusted".into(), REFRESH_FIX))
            } else {
                Ok(format!("absent: the snapshot says {}", expected.result))
            }
        }
        Err(e) => Err((format!("cannot be read: {e}"), REFRESH_FIX)),
    }
}

/// No snapshot a refresh would keep: none, or one past its expiry.
fn refreshes_stopped(expected: &Published) -> bool {
    expected.result == "unknown" && matches!(expected.reason, "no_snapshot" | "stale_snapshot")
}

/// A plist or registry store says the snapshot's `Result` and `ExpiresAt`; one that
/// says trusted past its `ExpiresAt` was left by refreshes that stopped.
fn judge_values(stored: Option<&Stored>, expected: &Published, now: OffsetDateTime) -> Judged {
    let Some(stored) = stored else {
        return Err(("missing".into(), REFRESH_FIX));
    };
    let expires = parse(&stored.expires_at);
    if stored.result == "trusted" && expires.is_some_and(|t| now >= t) {
        return Err((
            format!(
                "says trusted, but it expired at {}: a store cannot expire by itself",
                stored.expires_at
            ),
            STOPPED_FIX,
        ));
    }
    if stored.result == expected.result && stored.expires_at == expected.expires_at {
        return Ok(match expected.expires_at.as_str() {
            "" => format!("says {}, as the snapshot does", stored.result),
            until => format!("says {} until {until}, as the snapshot does", stored.result),
        });
    }
    let older = match (expires, parse(&expected.expires_at)) {
        (Some(store), Some(snapshot)) if store < snapshot => ", older than the snapshot",
        _ => "",
    };
    Err((
        format!(
            "says {} (expires {}), the snapshot {} (expires {}){older}",
            shown(&stored.result),
            shown(&stored.expires_at),
            expected.result,
            shown(&expected.expires_at)
        ),
        REFRESH_FIX,
    ))
}

fn parse(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

fn shown(value: &str) -> &str {
    if value.is_empty() { "nothing" } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::report::{DeviceSummary, Overall, Source};
    use crate::reason::Reason;
    use time::Duration;

    fn report(result: Overall, expires_in: Duration, now: OffsetDateTime) -> PostureReport {
        PostureReport {
            schema_version: crate::posture::report::SCHEMA_VERSION,
            result,
            reason: (result != Overall::Trusted).then_some(Reason::ActiveThreats),
            evaluated_at: now - Duration::minutes(1),
            expires_at: now + expires_in,
            source: Source::Live,
            device: DeviceSummary::default(),
            integrations: Vec::new(),
            factors: Vec::new(),
            notes: Vec::new(),
            last_refresh: None,
        }
    }

    /// What a refresh at `at` wrote for `report`.
    fn written(report: Option<&PostureReport>, at: OffsetDateTime) -> Stored {
        let published = Published::new(report, at);
        Stored {
            result: published.result.into(),
            expires_at: published.expires_at,
        }
    }

    #[test]
    fn a_store_written_by_the_last_refresh_agrees() {
        let now = OffsetDateTime::now_utc();
        for result in [Overall::Trusted, Overall::NotTrusted] {
            let snapshot = report(result, Duration::minutes(20), now);
            let expected = Published::new(Some(&snapshot), now);
            let stored = written(Some(&snapshot), now - Duration::minutes(1));
            let detail = judge_values(Some(&stored), &expected, now).unwrap();
            assert!(detail.contains(result.as_str()), "{detail}");
        }
        let none = Published::new(None, now);
        assert!(judge_values(Some(&written(None, now)), &none, now).is_ok());
    }

    #[test]
    fn a_store_left_saying_trusted_past_its_expiry_means_refreshes_stopped() {
        let now = OffsetDateTime::now_utc();
        let old = report(Overall::Trusted, -Duration::seconds(5), now);
        let stored = written(Some(&old), now - Duration::minutes(10));
        assert_eq!(stored.result, "trusted");
        // Doctor no longer has a valid snapshot: the expired one is not read.
        let (detail, fix) =
            judge_values(Some(&stored), &Published::new(None, now), now).unwrap_err();
        assert!(detail.contains("expired at"), "{detail}");
        assert_eq!(fix, STOPPED_FIX);
    }

    #[test]
    fn a_store_behind_or_unlike_the_snapshot_is_flagged() {
        let now = OffsetDateTime::now_utc();
        let snapshot = report(Overall::Trusted, Duration::minutes(25), now);
        let expected = Published::new(Some(&snapshot), now);
        let older = report(Overall::Trusted, Duration::minutes(10), now);
        let (detail, fix) =
            judge_values(Some(&written(Some(&older), now)), &expected, now).unwrap_err();
        assert!(detail.ends_with("older than the snapshot"), "{detail}");
        assert_eq!(fix, REFRESH_FIX);
        let bad = report(Overall::NotTrusted, Duration::minutes(25), now);
        let (detail, _) =
            judge_values(Some(&written(Some(&bad), now)), &expected, now).unwrap_err();
        assert!(detail.starts_with("says not_trusted"), "{detail}");
        assert_eq!(judge_values(None, &expected, now).unwrap_err().0, "missing");
    }

    #[test]
    fn the_marker_is_there_exactly_while_trusted_with_its_constant_content() {
        let now = OffsetDateTime::now_utc();
        let trusted = Published::new(
            Some(&report(Overall::Trusted, Duration::minutes(5), now)),
            now,
        );
        let bad = Published::new(
            Some(&report(Overall::NotTrusted, Duration::minutes(5), now)),
            now,
        );
        let none = Published::new(None, now);
        let present = || Ok(MARKER_CONTENT.to_vec());
        let absent = || Err(std::io::ErrorKind::NotFound.into());
        assert!(judge_marker(present(), &trusted).is_ok());
        assert!(judge_marker(absent(), &bad).is_ok());
        assert!(judge_marker(absent(), &none).is_ok());
        assert_eq!(judge_marker(absent(), &trusted).unwrap_err().1, REFRESH_FIX);
        assert_eq!(judge_marker(present(), &bad).unwrap_err().1, REFRESH_FIX);
        assert_eq!(judge_marker(present(), &none).unwrap_err().1, STOPPED_FIX);
        assert_eq!(
            judge_marker(Ok(b"trusted".to_vec()), &trusted)
                .unwrap_err()
                .1,
            MARKER_FIX
        );
    }
}
