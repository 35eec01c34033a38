//! The posture snapshot reader: bytes from `posture.json` → `parse_snapshot`
//! at several clocks and age limits, then what `check` does with an accepted
//! snapshot (device check, replacement rule, timestamps for people), and the
//! `posture.last-refresh.json` record beside it.
//!
//! The clocks are a fixed date and, so that fuzzed documents also reach the
//! "accepted" path, times around the document's own `evaluatedAt` — but only
//! realistic ones (before 2200): a device clock is wrong, not at year 9999.
#![no_main]

use std::path::Path;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use s1trust::identity::DeviceIdentity;
use s1trust::posture::report::{PostureReport, RefreshAttempt, fmt_time};
use s1trust::posture::snapshot::{check_device, parse_snapshot, should_replace};
use time::OffsetDateTime;

/// 2026-11-22T12:00:00Z.
const FIXED_NOW: i64 = 1_795_348_800;
/// 2200-01-01T00:00:00Z: no later clock is tried.
const LATEST_CLOCK: i64 = 7_258_118_400;

const MAX_AGES: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_secs(30 * 60),
    Duration::from_secs(7 * 24 * 3600),
    Duration::MAX,
];

fuzz_target!(|data: &[u8]| {
    let path = Path::new("/var/lib/s1trust/posture.json");
    if let Ok(attempt) = serde_json::from_slice::<RefreshAttempt>(data) {
        // `check` shows a failed attempt's time beside the snapshot's.
        let _ = fmt_time(attempt.at);
    }
    let mut clocks = vec![OffsetDateTime::from_unix_timestamp(FIXED_NOW).unwrap()];
    if let Ok(report) = serde_json::from_slice::<PostureReport>(data) {
        let at = report.evaluated_at;
        for minutes in [-10, 0, 1, 10, 40, 60 * 24 * 8] {
            if let Some(now) = at.checked_add(time::Duration::minutes(minutes))
                && now.unix_timestamp() < LATEST_CLOCK
            {
                clocks.push(now);
            }
        }
    }
    for now in clocks {
        for max_age in MAX_AGES {
            match parse_snapshot(data, path, now, max_age) {
                Ok(report) => accepted(&report, now, max_age),
                Err(problem) => {
                    let _ = problem.to_string();
                    let _ = problem.reason_code();
                }
            }
        }
    }
});

fn accepted(report: &PostureReport, now: OffsetDateTime, max_age: Duration) {
    let _ = fmt_time(report.evaluated_at);
    let _ = fmt_time(report.expires_at);
    let _ = check_device(report, &DeviceIdentity::default());
    let identity = DeviceIdentity {
        serial_number: s1trust::identity::Serial::parse("PF2ABCDE").ok(),
        agent_uuid: Some("a3f1c9e2b7d84e6f9a0b1c2d3e4f5a6b".into()),
        ..DeviceIdentity::default()
    };
    let _ = check_device(report, &identity);
    let with_host = DeviceIdentity {
        host_id: Some("sha256:00".into()),
        ..identity
    };
    let _ = check_device(report, &with_host);
    assert!(should_replace(None, report));
    let _ = should_replace(Some(report), report);
    // What the writer writes, the reader reads back the same.
    let written = serde_json::to_vec_pretty(report).expect("serializable");
    let path = Path::new("/var/lib/s1trust/posture.json");
    let again =
        parse_snapshot(&written, path, now, max_age).expect("a written snapshot reads back");
    assert_eq!(&again, report);
}
