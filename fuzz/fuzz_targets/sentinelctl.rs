//! The agent's command-line output and the other text the identity readers
//! parse: every `sentinelctl` / `SentinelCtl.exe` parser, macOS `ioreg`, and
//! the serial and UUID rules the parsed values then go through.
//!
//! The readers turn command output into text with `String::from_utf8_lossy`,
//! and so does this target. Each parser's result is checked against the
//! promises its documentation makes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s1trust::identity::host::host_id;
use s1trust::identity::sentinelctl::{self, split_line};
use s1trust::identity::serial::{self, check_serial, serial_from_ioreg, trim_serial};
use s1trust::identity::uuid::{normalize_uuid, uuid_spellings, uuids_equal};
use s1trust::version::Version;

fuzz_target!(|data: &[u8]| {
    let output = String::from_utf8_lossy(data);
    let output = output.as_ref();

    if let Ok(status) = sentinelctl::parse_management_status(output) {
        if let Some(uuid) = &status.uuid {
            agent_uuid(uuid);
        }
    }
    if let Ok(version) = sentinelctl::parse_linux_version(output) {
        dotted(&version);
    }
    if let Ok(status) = sentinelctl::parse_mac_status(output) {
        if let Some(uuid) = &status.uuid {
            agent_uuid(uuid);
        }
        if let Some(version) = &status.version {
            dotted(version);
        }
    }
    if let Ok(Some(uuid)) = sentinelctl::parse_windows_agent_id(output) {
        agent_uuid(&uuid);
    }
    if let Ok(status) = sentinelctl::parse_windows_status(output) {
        if let Some(version) = &status.version {
            dotted(version);
        }
    }
    if let Ok(Some(url)) = sentinelctl::parse_windows_mgmt_server(output) {
        assert!(url.starts_with("https://") || url.starts_with("http://"));
    }
    for line in output.lines() {
        if let Some((key, _value)) = split_line(line) {
            assert!(!key.is_empty());
            assert_eq!(key, key.trim());
        }
    }
    if let Ok(serial) = serial_from_ioreg(output) {
        serial_rules(&serial);
    }
    serial_rules(output);
    let _ = serial::virtual_platform(output);
    if let Some((vendor, product)) = output.split_once('\n') {
        let _ = serial::virtual_platform_from_model(vendor, product);
        let _ = serial::serials_equal(vendor, product);
        let _ = uuids_equal(vendor, product);
    }
    uuid_rules(output);
    if let Some(id) = host_id(output) {
        assert!(id.starts_with("sha256:") && id.len() == 7 + 64, "{id:?}");
    }
    version_rules(output);
});

/// A UUID a parser returned: a valid agent UUID, not the all-zero "unregistered" one.
fn agent_uuid(uuid: &str) {
    assert!(
        uuid_spellings(uuid).is_ok(),
        "parser returned a bad UUID {uuid:?}"
    );
    assert!(!uuid.chars().all(|c| matches!(c, '0' | '-')));
}

fn dotted(version: &str) {
    assert!(Version::parse_dotted(version).is_some(), "{version:?}");
    assert!(Version::parse(version).is_some(), "{version:?}");
    let parts: Vec<&str> = version.split('.').collect();
    assert!(parts.len() >= 2, "{version:?}");
    assert!(
        parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
        "{version:?}"
    );
}

fn serial_rules(raw: &str) {
    if let Ok(serial) = check_serial(raw) {
        assert_eq!(serial, trim_serial(raw));
        assert!(!serial.contains(','));
        assert!(serial.chars().count() >= serial::MIN_SERIAL_LEN);
        assert_eq!(check_serial(serial), Ok(serial), "not idempotent");
        assert!(serial::serials_equal(serial, raw));
    }
    // The type agrees with the rules, and what it serializes reads back as itself.
    if let Ok(typed) = serial::Serial::parse(raw) {
        assert_eq!(typed.filter_value().ok(), check_serial(raw).ok());
        let json = serde_json::to_string(&typed).expect("a string");
        let back: serial::Serial = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back.as_str(), typed.as_str());
    } else {
        assert!(check_serial(raw).is_err());
    }
}

fn uuid_rules(raw: &str) {
    let normalized = normalize_uuid(raw);
    if let Ok(spellings) = uuid_spellings(raw) {
        assert!(!spellings.is_empty());
        for spelling in &spellings {
            assert_eq!(normalize_uuid(spelling), normalized, "{spelling:?}");
            assert!(uuids_equal(spelling, raw));
            assert!(uuid_spellings(spelling).is_ok(), "{spelling:?}");
        }
    }
}

/// Versions order consistently: lines as versions, compared pairwise with the first.
fn version_rules(text: &str) {
    let versions: Vec<Version> = text.lines().take(16).filter_map(Version::parse).collect();
    if let Some(first) = versions.first() {
        for other in &versions {
            assert_eq!(first.cmp(other), other.cmp(first).reverse());
            assert_eq!(first == other, first.cmp(other).is_eq());
        }
    }
    for line in text.lines().take(16) {
        if let Some(dotted) = Version::parse_dotted(line) {
            assert_eq!(Version::parse(line), Some(dotted), "{line:?}");
        }
    }
}
