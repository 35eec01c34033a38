//! A page of `GET /web/api/v2.1/agents` as the client reads it: bytes → strict JSON →
//! `parse_agent_page`, then everything done with the records: the typed
//! accessors, the record choice, every trust factor, and the DaVinci object.
//! The same bytes also go through the error-envelope and `Retry-After` readers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s1trust::identity::OsType;
use s1trust::lookup::{
    LookupQuery, LookupResult, Selection, davinci_error, davinci_object, select_record,
};
use s1trust::posture::factors::{FactorKey, FactorSettings, judge};
use s1trust::posture::report::AgentSummary;
use s1trust::tenant::agents::parse_agent_page;
use s1trust::tenant::client::parse_retry_after;
use s1trust::tenant::error::parse_envelope;
use s1trust::tenant::json::parse_strict;
use s1trust::tenant::{AgentRecord, TenantError};
use s1trust::version::Version;
use serde_json::Value;
use time::OffsetDateTime;

/// Keys the lookup, the factors and the DaVinci object read.
const KEYS: &[&str] = &[
    "id",
    "uuid",
    "serialNumber",
    "computerName",
    "osType",
    "agentVersion",
    "isActive",
    "isDecommissioned",
    "isUninstalled",
    "lastActiveDate",
    "activeThreats",
    "infected",
    "networkStatus",
    "siteId",
    "accountId",
];

/// A fixed "now" (2026-11-22T12:00:00Z), so runs are reproducible.
const NOW_UNIX: i64 = 1_795_348_800;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = parse_retry_after(text);
    }
    if let Some(envelope) = parse_envelope(data) {
        for error in [
            TenantError::Unauthorized {
                envelope: Some(envelope.clone()),
            },
            TenantError::Api {
                status: 400,
                envelope: Some(envelope),
            },
        ] {
            let _ = error.to_string();
            let object = davinci_error(&error).expect("an HTTP error has a status");
            assert_eq!(object.as_object().map(|o| o.len()), Some(18));
        }
    }
    // The client reads bodies strictly (a key twice is refused); what it accepts,
    // plain serde_json reads the same.
    let Ok(body) = parse_strict(data) else {
        return;
    };
    let lenient: Value = serde_json::from_slice(data).expect("strict JSON is JSON");
    assert_eq!(lenient, body, "strict and lenient readings differ");
    let Ok(page) = parse_agent_page(200, body) else {
        return;
    };
    let now = OffsetDateTime::from_unix_timestamp(NOW_UNIX).unwrap();
    for record in &page.records {
        accessors(record);
        for key in FactorKey::all() {
            let mut settings = FactorSettings::default_for(key);
            let _ = judge(&settings, Some(OsType::Linux), Ok(record), now);
            settings.min_version = Version::parse("24.1.2");
            let _ = judge(&settings, Some(OsType::Linux), Ok(record), now);
        }
        if let Some(serial) = record.serial_number() {
            let _ = LookupQuery::serial(&serial);
        }
        if let Some(uuid) = record.uuid() {
            let _ = LookupQuery::uuid(&uuid);
        }
    }
    let selection = select_record(&page.records);
    match selection {
        Selection::Found { index, others } => {
            assert!(index < page.records.len());
            assert_eq!(others + 1, page.records.len());
        }
        Selection::NotFound => assert!(page.records.is_empty()),
        Selection::Ambiguous { tied } => assert!(tied >= 2 && tied <= page.records.len()),
    }
    let result = LookupResult {
        status: page.status,
        total_items: page.total_items,
        matches: page.records.clone(),
        selection,
        raw_response: data.to_vec(),
    };
    let object = davinci_object(&result);
    let fields = object.as_object().expect("an object");
    assert_eq!(fields.len(), 18);
    assert_eq!(
        fields["agentFound"],
        Value::Bool(result.selected().is_some())
    );
    serde_json::to_string(&object).expect("serializable");
});

fn accessors(record: &AgentRecord) {
    for key in KEYS {
        let _ = record.text(key);
        let _ = record.flag(key);
        let _ = record.count(key);
        let _ = record.date(key);
    }
    let _ = record.uuid();
    let _ = record.serial_number();
    let _ = record.is_retired();
    // What the posture report keeps of the bound record.
    let summary = AgentSummary::from(record);
    assert_eq!(summary.uuid, record.uuid());
    serde_json::to_string(&summary).expect("serializable");
}
