//! Agent records as a console serves them, and the times JSON documents carry.

use serde_json::{Value, json};

/// `base` with each field of `overrides` replacing or adding its own.
pub fn overlay(mut base: Value, overrides: &Value) -> Value {
    if let (Some(base), Some(extra)) = (base.as_object_mut(), overrides.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    base
}

/// A realistic agent record; `overrides` replace or add fields.
pub fn agent(id: u64, uuid: &str, serial: Option<&str>, overrides: Value) -> Value {
    let record = json!({
        "id": format!("{}", 1_900_000_000_000_000_000u64 + id),
        "uuid": uuid,
        "computerName": format!("HOST-{id}"),
        "serialNumber": serial,
        "osType": "windows",
        "osName": "Windows 11 Pro",
        "agentVersion": "24.1.2.6",
        "isActive": true,
        "isDecommissioned": false,
        "isUninstalled": false,
        "lastActiveDate": "2026-11-21T10:00:00.123456Z",
        "siteId": "1800000000000000001",
        "accountId": "1700000000000000001",
        "groupId": "1600000000000000001",
        "networkStatus": "connected",
        "activeThreats": 0,
        "infected": false,
        "operationalState": "na",
        "mitigationMode": "protect"
    });
    overlay(record, &overrides)
}

/// Two records for one cloned serial that no rule can tell apart (same state and
/// last activity): the lookup is ambiguous.
pub fn cloned_pair(serial: &str) -> Vec<Value> {
    let twin = json!({"lastActiveDate": "2026-11-21T10:00:00Z"});
    vec![
        agent(
            1,
            "11110000111122223333444455556666",
            Some(serial),
            twin.clone(),
        ),
        agent(2, "22220000111122223333444455556666", Some(serial), twin),
    ]
}

/// A small fleet covering the serial and UUID cases the tests need.
pub fn fleet() -> Vec<Value> {
    vec![
        agent(
            1,
            "b7b2d39171be4ae1af90f93d7ed20f07",
            Some("PF2ABCDE"),
            json!({}),
        ),
        agent(
            2,
            "0c9e8a71d2f64b3a9e5d1c2b3a4f5e6d",
            Some("PF2ABCDE1"),
            json!({}),
        ),
        agent(
            3,
            "d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb",
            Some("C02XK1ABJG5J"),
            json!({"osType": "macos", "osName": "macOS 15.1"}),
        ),
        agent(
            4,
            "aaaa000011112222333344445555dead",
            Some("5CG1234XYZ"),
            json!({"isDecommissioned": true, "isActive": false, "lastActiveDate": "2026-01-01T00:00:00Z"}),
        ),
        agent(
            5,
            "aaaa000011112222333344445555beef",
            Some("5CG1234XYZ"),
            json!({}),
        ),
        agent(
            6,
            "1111222233334444555566667777abcd",
            None,
            json!({"osType": "linux"}),
        ),
    ]
}

/// A time as the JSON documents write it.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// Now, as the JSON documents write it.
pub fn now_rfc3339() -> String {
    rfc3339(time::OffsetDateTime::now_utc())
}

/// A JSON document's RFC 3339 time.
pub fn time_of(value: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        value.as_str().expect("a time string"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("an RFC 3339 time")
}
