//! The macOS preferences store, `/Library/Preferences/com.s1trust.posture.plist`:
//! what plist checks (Cloud Secure Edge, GlobalProtect HIP, Fleet's `plist` table)
//! read. Written below a root folder so a test can write and read it anywhere.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::posture::report::PostureReport;

/// The store's path below `/`.
pub const PLIST_PATH: &str = "Library/Preferences/com.s1trust.posture.plist";

/// Debug builds only: the folder the store is written below instead of `/`, on any
/// OS, so end-to-end tests on Linux see what a Mac's refresh and `doctor` do with it.
/// Release builds ignore it.
#[cfg(debug_assertions)]
pub const TEST_ROOT_ENV: &str = "S1TRUST_TEST_PLIST_ROOT";

/// The store below `root` (`/` on a Mac).
pub fn plist_path(root: &Path) -> PathBuf {
    root.join(PLIST_PATH)
}

/// The root the store lives below on this device: `/` on a Mac, none elsewhere.
pub fn store_root() -> Option<PathBuf> {
    #[cfg(debug_assertions)]
    if let Some(root) = std::env::var_os(TEST_ROOT_ENV) {
        return Some(root.into());
    }
    cfg!(target_os = "macos").then(|| PathBuf::from("/"))
}

/// The store's content for `report` ([`super::Published`]).
pub fn posture_plist(report: Option<&PostureReport>, now: OffsetDateTime) -> plist::Dictionary {
    let published = super::Published::new(report, now);
    let mut dict = plist::Dictionary::new();
    dict.insert("Result".into(), published.result.into());
    dict.insert("Trusted".into(), published.trusted.into());
    for (key, value) in published.strings() {
        dict.insert(key.into(), value.into());
    }
    dict
}

/// Writes the store below `root` atomically, root's and 0644 like the snapshot.
pub fn write_plist(
    root: &Path,
    report: Option<&PostureReport>,
    now: OffsetDateTime,
) -> std::io::Result<()> {
    let mut bytes = Vec::new();
    plist::Value::Dictionary(posture_plist(report, now))
        .to_writer_xml(&mut bytes)
        .map_err(std::io::Error::other)?;
    crate::atomic::write_atomic(&plist_path(root), &bytes, 0o644, 0o755)
}

/// `Result` and `ExpiresAt` of the store below `root`.
pub fn read_plist(root: &Path) -> Result<super::Stored, plist::Error> {
    let value = plist::Value::from_file(plist_path(root))?;
    let dict = value.as_dictionary();
    let text = |key: &str| {
        dict.and_then(|d| d.get(key))
            .and_then(plist::Value::as_string)
            .unwrap_or_default()
            .to_owned()
    };
    Ok(super::Stored {
        result: text("Result"),
        expires_at: text("ExpiresAt"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::report::{DeviceSummary, Overall, Source};
    use crate::reason::Reason;

    fn report(result: Overall, expires_in: time::Duration) -> PostureReport {
        let now = OffsetDateTime::now_utc();
        PostureReport {
            schema_version: crate::posture::report::SCHEMA_VERSION,
            result,
            reason: (result != Overall::Trusted).then_some(Reason::ActiveThreats),
            evaluated_at: now - time::Duration::minutes(1),
            expires_at: now + expires_in,
            source: Source::Live,
            device: DeviceSummary {
                serial_number: Some("PF2ABCDE".into()),
                agent_uuid: Some("b7b2d39171be4ae1af90f93d7ed20f07".into()),
                ..DeviceSummary::default()
            },
            integrations: Vec::new(),
            factors: Vec::new(),
            notes: Vec::new(),
            last_refresh: None,
        }
    }

    fn read_back(root: &Path) -> plist::Dictionary {
        plist::Value::from_file(plist_path(root))
            .unwrap()
            .into_dictionary()
            .unwrap()
    }

    fn string<'d>(dict: &'d plist::Dictionary, key: &str) -> &'d str {
        dict.get(key).and_then(plist::Value::as_string).unwrap()
    }

    /// The Mac's store, written below a scratch root by the code the Mac runs.
    #[test]
    fn the_store_says_what_the_snapshot_says_and_never_trusts_an_expired_answer() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc();
        let trusted = report(Overall::Trusted, time::Duration::minutes(29));
        write_plist(dir.path(), Some(&trusted), now).unwrap();
        let dict = read_back(dir.path());
        assert_eq!(
            dict.get("Trusted").and_then(plist::Value::as_boolean),
            Some(true)
        );
        assert_eq!(string(&dict, "Result"), "trusted");
        assert_eq!(string(&dict, "Reason"), "");
        assert_eq!(
            string(&dict, "AgentUuid"),
            "b7b2d39171be4ae1af90f93d7ed20f07"
        );
        assert_eq!(string(&dict, "Serial"), "PF2ABCDE");
        let expires = string(&dict, "ExpiresAt");
        let parsed =
            OffsetDateTime::parse(expires, &time::format_description::well_known::Rfc3339).unwrap();
        assert_eq!(parsed, trusted.expires_at);
        assert!(!string(&dict, "EvaluatedAt").is_empty());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(plist_path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o644);
        }

        let bad = report(Overall::NotTrusted, time::Duration::minutes(29));
        write_plist(dir.path(), Some(&bad), now).unwrap();
        let dict = read_back(dir.path());
        assert_eq!(
            dict.get("Trusted").and_then(plist::Value::as_boolean),
            Some(false)
        );
        assert_eq!(
            (string(&dict, "Result"), string(&dict, "Reason")),
            ("not_trusted", "active_threats")
        );

        let expired = report(Overall::Trusted, -time::Duration::seconds(1));
        write_plist(dir.path(), Some(&expired), now).unwrap();
        let dict = read_back(dir.path());
        assert_eq!(
            dict.get("Trusted").and_then(plist::Value::as_boolean),
            Some(false)
        );
        assert_eq!(
            (string(&dict, "Result"), string(&dict, "Reason")),
            ("unknown", "stale_snapshot")
        );

        write_plist(dir.path(), None, now).unwrap();
        let dict = read_back(dir.path());
        assert_eq!(
            (string(&dict, "Result"), string(&dict, "Serial")),
            ("unknown", "")
        );
    }
}
