//! The agent-CLI parsers against output captured from a real agent
//! (tests/fixtures/real), not the composed samples.

use s1trust::identity::sentinelctl::{MacStatus, ParseError, parse_mac_status};

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
