//! What a relay reads from strangers and from its tenant: a device's query string
//! (`parse_query`), an agents page becoming an inventory, and the answer a device then
//! parses; also the relay's configuration text. Input: the query on the first line,
//! an agents page after it.
//!
//! Invariants: every record answered matches the query exactly, by the device's own
//! rules (never a substring, never a placeholder serial), the answer counts what it
//! holds, and the device's page reader accepts it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s1trust::identity::serial::{check_identifying, serials_equal};
use s1trust::identity::uuid::uuids_equal;
use s1trust::relay::inventory::{InventoryBuilder, Query};
use s1trust::relay::server::parse_query;
use s1trust::tenant::agents::parse_agent_page;
use s1trust::tenant::json::parse_strict;
use time::OffsetDateTime;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = s1trust::relay::config::parse(text);
    let (line, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(query) = parse_query(Some(line)) else {
        return;
    };
    let mut builder = InventoryBuilder::default();
    if let Ok(body) = parse_strict(rest.as_bytes())
        && let Ok(page) = parse_agent_page(200, body)
    {
        for record in &page.records {
            builder.add(record);
        }
    }
    let inventory = builder.finish(OffsetDateTime::UNIX_EPOCH);
    let (answer, count) = inventory.answer(&query);
    let body = parse_strict(&answer).expect("the relay answers JSON");
    let page = parse_agent_page(200, body).expect("the device reads the relay's answer");
    assert_eq!(page.records.len(), count);
    assert_eq!(page.total_items, Some(count as u64));
    assert_eq!(page.next_cursor, None);
    for record in &page.records {
        match &query {
            Query::Serial(serial) => {
                assert!(check_identifying(serial).is_ok(), "a placeholder answered");
                let theirs = record.serial_number().expect("a matched serial");
                assert!(serials_equal(serial, &theirs), "{serial:?} ≠ {theirs:?}");
            }
            Query::Uuid(spellings) => {
                let theirs = record.uuid().expect("a matched UUID");
                assert!(spellings.iter().any(|s| uuids_equal(s, &theirs)));
            }
        }
    }
});
