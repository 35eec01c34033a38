//! The agent-CLI parsers against output captured from a real agent
//! (tests/fixtures/real), not the composed samples.

use s1trust::identity::Sourced;
use s1trust::identity::agent::reconcile_versions;
use s1trust::identity::sentinelctl::{MacStatus, ParseError, parse_mac_status, parse_mac_version};

use crate::helpers::fixture;

/// The agent ID as whoever recorded the capture masked it.
const MASKED_ID: &str = "xxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

/// macOS `sentinelctl status` of agent 23.4.1.7125: sections beyond `Agent` and
/// `Management`, day-first dates, an empty `Missing Authorizations:`.
#[test]
fn real_macos_status_is_read() {
    let Some(path) = fixture("real/glpi-macos-sentinelctl-status.txt") else {
        return;
    };
    let captured = std::fs::read_to_string(path).unwrap();
    // As captured, the masked ID is refused rather than taken for a UUID.
    assert!(
        matches!(
            parse_mac_status(&captured),
            Err(ParseError::BadValue { key: "ID", .. })
        ),
        "{:?}",
        parse_mac_status(&captured)
    );
    // With a real-looking ID in its place, everything else is read from the capture.
    let uuid = "d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb";
    assert_eq!(captured.matches(MASKED_ID).count(), 1);
    let status = parse_mac_status(&captured.replace(MASKED_ID, uuid)).unwrap();
    assert_eq!(
        status,
        MacStatus {
            uuid: Some(uuid.into()),
            version: Some("23.4.1.7125".into()),
            ready: Some(true),
            protection: Some(true),
            infected: Some(false),
            server: Some("https://***SRV***.sentinelone.net".into()),
            connected: Some(true),
        }
    );
}

/// macOS `sentinelctl version` of the same agent says 24.1.2.7444 while its `status`
/// says 23.4.1.7125: both are read, and the report says which one it gives.
#[test]
fn real_macos_version_and_status_disagree_and_the_report_says_which() {
    let (Some(version), Some(status)) = (
        fixture("real/glpi-macos-sentinelctl-version.txt"),
        fixture("real/glpi-macos-sentinelctl-status.txt"),
    ) else {
        return;
    };
    let installed = parse_mac_version(&std::fs::read_to_string(version).unwrap()).unwrap();
    assert_eq!(installed, "24.1.2.7444");
    let captured = std::fs::read_to_string(status).unwrap();
    let running =
        parse_mac_status(&captured.replace(MASKED_ID, "d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb"))
            .unwrap()
            .version
            .unwrap();
    assert_eq!(running, "23.4.1.7125");
    let reported = reconcile_versions(
        Some(Sourced::new(installed, "sentinelctl version")),
        Some(Sourced::new(running, "sentinelctl status")),
    )
    .unwrap();
    assert_eq!(reported.value, "24.1.2.7444");
    assert!(
        reported
            .source
            .starts_with("sentinelctl version (reported; sentinelctl status says 23.4.1.7125"),
        "{}",
        reported.source
    );
}
