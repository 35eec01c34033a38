//! One tenant's agents as the relay holds them: each record's kept fields serialized
//! once, indexed by UUID and by serial, so a lookup is a hash probe and a copy of bytes.
//! Pure: records in, answers out.

use std::collections::HashMap;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::catalogue::RECORD_FIELDS;
use crate::identity::serial::{check_identifying, trim_serial};
use crate::identity::uuid::normalize_uuid;
use crate::tenant::AgentRecord;

/// What a device asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// Records whose UUID is any of these spellings (one agent's).
    Uuid(Vec<String>),
    /// Records whose serial equals this one (trimmed, ignoring case).
    Serial(String),
}

/// A complete inventory, built from every page of one sync; never changed afterwards.
#[derive(Debug)]
pub struct Inventory {
    /// Each record's kept fields as JSON.
    records: Vec<Box<[u8]>>,
    by_uuid: HashMap<Box<str>, Vec<u32>>,
    by_serial: HashMap<Box<str>, Vec<u32>>,
    /// When the sync that produced it finished.
    pub synced_at: OffsetDateTime,
}

/// Builds an [`Inventory`] one page at a time.
#[derive(Debug, Default)]
pub struct InventoryBuilder {
    records: Vec<Box<[u8]>>,
    by_uuid: HashMap<Box<str>, Vec<u32>>,
    by_serial: HashMap<Box<str>, Vec<u32>>,
    /// Agent IDs seen: a record the listing offers twice (pages shifting under a
    /// cursor) is kept once, or the device would see two equal records, ambiguous.
    ids: std::collections::HashSet<Box<str>>,
}

/// The serial index's key: the device's comparison rule (`serials_equal`) as a key.
fn serial_key(serial: &str) -> String {
    trim_serial(serial).to_lowercase()
}

impl InventoryBuilder {
    /// Adds one record, keeping only [`RECORD_FIELDS`].
    pub fn add(&mut self, record: &AgentRecord) {
        if let Some(id) = record.text("id")
            && !self.ids.insert(id.into())
        {
            return;
        }
        let index = u32::try_from(self.records.len()).unwrap_or(u32::MAX);
        if let Some(uuid) = record.uuid().map(|u| normalize_uuid(&u))
            && !uuid.is_empty()
        {
            self.by_uuid.entry(uuid.into()).or_default().push(index);
        }
        if let Some(serial) = record.serial_number().map(|s| serial_key(&s))
            && !serial.is_empty()
        {
            self.by_serial.entry(serial.into()).or_default().push(index);
        }
        self.records.push(kept_fields(record).into_boxed_slice());
    }

    /// Records added so far.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether none were added.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The finished inventory.
    pub fn finish(mut self, synced_at: OffsetDateTime) -> Inventory {
        drop(std::mem::take(&mut self.ids));
        self.records.shrink_to_fit();
        self.by_uuid.shrink_to_fit();
        self.by_serial.shrink_to_fit();
        Inventory {
            records: self.records,
            by_uuid: self.by_uuid,
            by_serial: self.by_serial,
            synced_at,
        }
    }
}

fn kept_fields(record: &AgentRecord) -> Vec<u8> {
    let full = record.fields();
    let kept: Map<String, Value> = RECORD_FIELDS
        .iter()
        .filter_map(|key| Some(((*key).to_owned(), full.get(*key)?.clone())))
        .collect();
    serde_json::to_vec(&Value::Object(kept)).unwrap_or_else(|_| b"{}".to_vec())
}

impl Inventory {
    /// Records held.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The records answering `query`, in listing order, without repeats. A serial that
    /// cannot identify a device (a placeholder, too short) answers nothing: it would
    /// match every device whose firmware left the same placeholder.
    pub fn lookup(&self, query: &Query) -> Vec<&[u8]> {
        let mut hits: Vec<u32> = match query {
            Query::Serial(serial) => match check_identifying(serial) {
                Ok(serial) => self
                    .by_serial
                    .get(serial_key(serial).as_str())
                    .cloned()
                    .unwrap_or_default(),
                Err(_) => Vec::new(),
            },
            Query::Uuid(spellings) => spellings
                .iter()
                .map(|s| normalize_uuid(s))
                .filter_map(|key| self.by_uuid.get(key.as_str()))
                .flatten()
                .copied()
                .collect(),
        };
        hits.sort_unstable();
        hits.dedup();
        hits.iter()
            .filter_map(|&i| self.records.get(i as usize).map(|r| &r[..]))
            .collect()
    }

    /// The API's list body for `query` (`{"data":[…],"pagination":{…}}`) and the
    /// number of records in it.
    pub fn answer(&self, query: &Query) -> (Vec<u8>, usize) {
        let hits = self.lookup(query);
        let size: usize = hits.iter().map(|r| r.len() + 1).sum();
        let mut body = Vec::with_capacity(size + 64);
        body.extend_from_slice(b"{\"data\":[");
        for (i, record) in hits.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(record);
        }
        body.extend_from_slice(
            format!(
                "],\"pagination\":{{\"totalItems\":{},\"nextCursor\":null}}}}",
                hits.len()
            )
            .as_bytes(),
        );
        (body, hits.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(uuid: &str, serial: Value, decommissioned: bool) -> AgentRecord {
        let value = json!({
            "id": uuid, "uuid": uuid, "serialNumber": serial, "isDecommissioned": decommissioned,
            "lastLoggedInUserName": "alice", "networkInterfaces": [{"inet": ["10.0.0.1"]}],
            "infected": false,
        });
        AgentRecord::new(value.as_object().unwrap().clone())
    }

    fn inventory() -> Inventory {
        let mut builder = InventoryBuilder::default();
        for r in [
            record(
                "ABCDEF0123456789ABCDEF0123456789",
                json!("C02XYZ12345"),
                true,
            ),
            record(
                "11112222333344445555666677778888",
                json!(" c02xyz12345 "),
                false,
            ),
            record(
                "99990000999900009999000099990000",
                json!("C02XYZ123456"),
                false,
            ),
            record(
                "aaaabbbbccccddddeeeeffff00001111",
                json!("To Be Filled By O.E.M."),
                false,
            ),
            record("bbbbbbbbccccddddeeeeffff00001111", Value::Null, false),
        ] {
            builder.add(&r);
        }
        builder.finish(OffsetDateTime::UNIX_EPOCH)
    }

    fn answer(inv: &Inventory, query: Query) -> Value {
        serde_json::from_slice(&inv.answer(&query).0).unwrap()
    }

    #[test]
    fn serials_match_exactly_ignoring_case_never_as_substrings() {
        let inv = inventory();
        let both = answer(&inv, Query::Serial("c02XYZ12345".into()));
        assert_eq!(
            both["pagination"],
            json!({"totalItems": 2, "nextCursor": null})
        );
        assert_eq!(both["data"][0]["isDecommissioned"], json!(true));
        let part = answer(&inv, Query::Serial("C02XYZ".into()));
        assert_eq!(part["data"], json!([]));
        let placeholder = answer(&inv, Query::Serial("To Be Filled By O.E.M.".into()));
        assert_eq!(placeholder["data"], json!([]));
        assert_eq!(answer(&inv, Query::Serial("x".into()))["data"], json!([]));
    }

    #[test]
    fn uuids_match_in_any_spelling_once() {
        let inv = inventory();
        let spellings = vec![
            "abcdef01-2345-6789-abcd-ef0123456789".to_owned(),
            "ABCDEF0123456789ABCDEF0123456789".to_owned(),
        ];
        let found = answer(&inv, Query::Uuid(spellings));
        assert_eq!(found["pagination"]["totalItems"], json!(1));
        assert_eq!(found["data"][0]["serialNumber"], json!("C02XYZ12345"));
        assert_eq!(
            answer(&inv, Query::Uuid(vec!["ab".into()]))["data"],
            json!([])
        );
    }

    #[test]
    fn a_record_offered_twice_is_kept_once() {
        let mut builder = InventoryBuilder::default();
        let twice = record(
            "ABCDEF0123456789ABCDEF0123456789",
            json!("C02TWICE1"),
            false,
        );
        builder.add(&twice);
        builder.add(&twice);
        let inv = builder.finish(OffsetDateTime::UNIX_EPOCH);
        assert_eq!(inv.len(), 1);
        let found = answer(&inv, Query::Serial("C02TWICE1".into()));
        assert_eq!(found["pagination"]["totalItems"], json!(1));
    }

    #[test]
    fn only_the_fields_devices_read_are_kept() {
        let inv = inventory();
        let found = answer(&inv, Query::Serial("C02XYZ123456".into()));
        let record = found["data"][0].as_object().unwrap();
        assert!(record.contains_key("infected"));
        assert!(!record.contains_key("lastLoggedInUserName"));
        assert!(!record.contains_key("networkInterfaces"));
        assert!(record.keys().all(|k| RECORD_FIELDS.contains(&k.as_str())));
    }
}
