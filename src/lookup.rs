//! Finding one device's agent record, and the PingOne DaVinci-shaped answer (README "Terms").
//!
//! The API only filters serials by substring, so exactness is enforced here;
//! when several records remain (reinstalls leave old ones behind) one is picked
//! by a fixed rule and the rest are counted, never silently merged.

use std::cmp::Ordering;

use serde_json::{Map, Value, json};

use crate::identity::Serial;
use crate::identity::serial::SerialProblem;
use crate::identity::uuid::{BadUuid, uuid_spellings, uuids_equal};
use crate::tenant::{AgentRecord, TenantClient, TenantError};

/// What to look a device up by, already checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupQuery {
    /// A hardware serial the API's filter can carry.
    Serial(Serial),
    /// An agent UUID as given, with every spelling to send.
    Uuid {
        /// The UUID as given.
        raw: String,
        /// Spellings for the `uuids=` filter.
        spellings: Vec<String>,
    },
}

impl LookupQuery {
    /// A serial query; placeholders and too-short serials are refused here, before any request.
    pub fn serial(raw: &str) -> Result<Self, SerialProblem> {
        Self::for_serial(Serial::parse(raw)?)
    }

    /// A query for a serial already checked; refused when the filter cannot carry it.
    pub fn for_serial(serial: Serial) -> Result<Self, SerialProblem> {
        serial.filter_value()?;
        Ok(Self::Serial(serial))
    }

    /// A UUID query.
    pub fn uuid(raw: &str) -> Result<Self, BadUuid> {
        let spellings = uuid_spellings(raw)?;
        Ok(Self::Uuid {
            raw: raw.trim().to_owned(),
            spellings,
        })
    }

    fn matches(&self, record: &AgentRecord) -> bool {
        match self {
            Self::Serial(serial) => record
                .serial_number()
                .is_some_and(|theirs| serial.is(&theirs)),
            Self::Uuid { raw, .. } => record
                .uuid()
                .is_some_and(|theirs| uuids_equal(&theirs, raw)),
        }
    }
}

/// Which record stands for the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// `matches[index]` was chosen; `others` more records matched too.
    Found {
        /// Index into the matches.
        index: usize,
        /// Other matching records (duplicates).
        others: usize,
    },
    /// No record matched exactly.
    NotFound,
    /// `tied` records are equally good candidates: the answer is unknown.
    Ambiguous {
        /// How many records tie for first place.
        tied: usize,
    },
}

/// Picks the record (README "Lookup rules"): live (not decommissioned, not uninstalled) first,
/// then active, then the latest `lastActiveDate`; a remaining tie is ambiguous.
pub fn select_record(records: &[AgentRecord]) -> Selection {
    let mut order: Vec<usize> = (0..records.len()).collect();
    order.sort_by(|a, b| rank(&records[*b], &records[*a]));
    match order.as_slice() {
        [] => Selection::NotFound,
        [best, rest @ ..] => {
            let tied = 1 + rest
                .iter()
                .take_while(|i| rank(&records[*best], &records[**i]) == Ordering::Equal)
                .count();
            if tied > 1 {
                Selection::Ambiguous { tied }
            } else {
                Selection::Found {
                    index: *best,
                    others: rest.len(),
                }
            }
        }
    }
}

fn rank(a: &AgentRecord, b: &AgentRecord) -> Ordering {
    let key = |r: &AgentRecord| {
        (
            !r.is_retired(),
            r.flag("isActive") == Some(true),
            r.date("lastActiveDate"),
        )
    };
    key(a).cmp(&key(b))
}

/// The answer to one lookup.
#[derive(Debug, Clone)]
pub struct LookupResult {
    /// HTTP status of the (last) agents request.
    pub status: u16,
    /// Serial: the API's `totalItems` for the substring query; UUID: records returned.
    pub total_items: Option<u64>,
    /// Records that match exactly.
    pub matches: Vec<AgentRecord>,
    /// Which of them stands for the device.
    pub selection: Selection,
    /// The API body that held the chosen record (else the first page), as sent; kept as
    /// bytes, a third of the size of the parsed tree, until an answer quotes it.
    pub raw_response: Vec<u8>,
}

impl LookupResult {
    /// The chosen record, if any.
    pub fn selected(&self) -> Option<&AgentRecord> {
        match self.selection {
            Selection::Found { index, .. } => self.matches.get(index),
            _ => None,
        }
    }
}

/// Runs the query against one tenant.
pub async fn lookup(
    client: &TenantClient,
    query: &LookupQuery,
) -> Result<LookupResult, TenantError> {
    let mut found = Collected::default();
    match query {
        LookupQuery::Serial(serial) => {
            client
                .agents_by_serial_contains(serial.as_str(), |page| found.add(page, query))
                .await?;
        }
        LookupQuery::Uuid { spellings, .. } => {
            let page = client.agents_by_uuid(spellings).await?;
            let returned = page.records.len() as u64;
            found.add(page, query);
            found.total_items = Some(returned);
        }
    }
    Ok(found.finish())
}

/// What the pages held, kept as they arrive: the exact matches, the first page's
/// body and the body of the page holding the best match so far (the `rawResponse`),
/// and nothing else, so memory stays within about one page.
#[derive(Default)]
struct Collected {
    pages: usize,
    status: u16,
    total_items: Option<u64>,
    matches: Vec<AgentRecord>,
    best: Option<usize>,
    first_body: Option<Vec<u8>>,
    best_body: Option<Vec<u8>>,
}

impl Collected {
    fn add(&mut self, page: crate::tenant::AgentPage, query: &LookupQuery) {
        if self.pages == 0 {
            self.total_items = page.total_items;
        }
        self.pages += 1;
        self.status = page.status;
        let mut best_here = false;
        for record in page.records.into_iter().filter(|r| query.matches(r)) {
            let better = self
                .best
                .is_none_or(|b| rank(&record, &self.matches[b]) == Ordering::Greater);
            self.matches.push(record);
            if better {
                self.best = Some(self.matches.len() - 1);
                best_here = true;
            }
        }
        if self.pages == 1 {
            self.first_body = Some(page.raw);
            if best_here {
                self.best_body = None;
            }
        } else if best_here {
            self.best_body = Some(page.raw);
        }
    }

    fn finish(self) -> LookupResult {
        let selection = select_record(&self.matches);
        // The running best is the record the rule selects (ties keep the first).
        let raw_response = match selection {
            Selection::Found { .. } => self.best_body.or(self.first_body),
            _ => self.first_body,
        };
        LookupResult {
            status: if self.pages == 0 { 200 } else { self.status },
            total_items: self.total_items,
            matches: self.matches,
            selection,
            raw_response: raw_response.unwrap_or_default(),
        }
    }
}

/// Fields of the DaVinci object copied from the agent record, in output order.
const RECORD_FIELDS: [(&str, &str); 14] = [
    ("agentId", "id"),
    ("computerName", "computerName"),
    ("uuid", "uuid"),
    ("serialNumber", "serialNumber"),
    ("osType", "osType"),
    ("osName", "osName"),
    ("agentVersion", "agentVersion"),
    ("isActive", "isActive"),
    ("isDecommissioned", "isDecommissioned"),
    ("lastActiveDate", "lastActiveDate"),
    ("siteId", "siteId"),
    ("accountId", "accountId"),
    ("groupId", "groupId"),
    ("networkStatus", "networkStatus"),
];

/// The PingOne DaVinci "Get Agent by Serial Number" object: exactly its 18 keys.
pub fn davinci_object(result: &LookupResult) -> Value {
    render(
        Some(result.status),
        result.selected(),
        result.total_items,
        quoted(&result.raw_response),
    )
}

/// A body kept as bytes, as JSON again (`null` when there is none; it parsed strictly
/// when it arrived).
fn quoted(raw: &[u8]) -> Value {
    serde_json::from_slice(raw).unwrap_or(Value::Null)
}

/// The same object for a request the tenant answered with an HTTP error.
pub fn davinci_error(error: &TenantError) -> Option<Value> {
    let status = error.status()?;
    Some(render(
        Some(status),
        None,
        None,
        error.envelope().cloned().unwrap_or(Value::Null),
    ))
}

fn render(
    status: Option<u16>,
    record: Option<&AgentRecord>,
    total: Option<u64>,
    raw: Value,
) -> Value {
    let mut out = Map::new();
    out.insert("statusCode".into(), json!(status));
    out.insert("agentFound".into(), json!(record.is_some()));
    for (name, field) in RECORD_FIELDS {
        let value = record.map_or(Value::Null, |r| copy_field(r, field));
        out.insert(name.into(), value);
    }
    out.insert("totalItems".into(), json!(total));
    out.insert("rawResponse".into(), raw);
    Value::Object(out)
}

fn copy_field(record: &AgentRecord, field: &str) -> Value {
    match field {
        "isActive" | "isDecommissioned" => json!(record.flag(field)),
        _ => json!(record.text(field)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(v: Value) -> AgentRecord {
        AgentRecord::new(v.as_object().unwrap().clone())
    }

    #[test]
    fn live_beats_decommissioned_then_active_then_recent() {
        let records = [
            agent(
                json!({"id": "1", "isDecommissioned": true, "isActive": true, "lastActiveDate": "2026-11-20T00:00:00Z"}),
            ),
            agent(json!({"id": "2", "isActive": false, "lastActiveDate": "2026-11-21T00:00:00Z"})),
            agent(json!({"id": "3", "isActive": true, "lastActiveDate": "2026-10-01T00:00:00Z"})),
            agent(
                json!({"id": "4", "isActive": true, "lastActiveDate": "2026-11-01T00:00:00.123456Z"}),
            ),
        ];
        assert_eq!(
            select_record(&records),
            Selection::Found {
                index: 3,
                others: 3
            }
        );
        assert_eq!(
            select_record(&records[..2]),
            Selection::Found {
                index: 1,
                others: 1
            }
        );
        assert_eq!(select_record(&[]), Selection::NotFound);
    }

    #[test]
    fn exact_ties_are_ambiguous() {
        let twin = json!({"isActive": true, "lastActiveDate": "2026-11-01T00:00:00Z"});
        let records = [
            agent(twin.clone()),
            agent(twin),
            agent(json!({"isUninstalled": true})),
        ];
        assert_eq!(select_record(&records), Selection::Ambiguous { tied: 2 });
    }

    #[test]
    fn davinci_object_has_exactly_the_18_keys_in_order() {
        let result = LookupResult {
            status: 200,
            total_items: Some(3),
            matches: vec![agent(
                json!({"id": "657613730168123595", "uuid": "abc", "isActive": "True", "extra": 1}),
            )],
            selection: Selection::Found {
                index: 0,
                others: 0,
            },
            raw_response: br#"{"data": [], "pagination": {"totalItems": 3}}"#.to_vec(),
        };
        let object = davinci_object(&result);
        assert_eq!(
            object["rawResponse"],
            json!({"data": [], "pagination": {"totalItems": 3}})
        );
        let keys: Vec<&str> = object
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "statusCode",
                "agentFound",
                "agentId",
                "computerName",
                "uuid",
                "serialNumber",
                "osType",
                "osName",
                "agentVersion",
                "isActive",
                "isDecommissioned",
                "lastActiveDate",
                "siteId",
                "accountId",
                "groupId",
                "networkStatus",
                "totalItems",
                "rawResponse"
            ]
        );
        assert_eq!(object["agentFound"], json!(true));
        assert_eq!(object["isActive"], json!(true));
        assert_eq!(object["isDecommissioned"], Value::Null);
        assert_eq!(object["totalItems"], json!(3));
    }

    #[test]
    fn queries_match_exactly() {
        let q = LookupQuery::serial(" pf2abcde ").unwrap();
        assert!(q.matches(&agent(json!({"serialNumber": "PF2ABCDE"}))));
        assert!(!q.matches(&agent(json!({"serialNumber": "PF2ABCDE1"}))));
        assert!(!q.matches(&agent(json!({"serialNumber": null}))));
        let q = LookupQuery::uuid("B7B2D391-71BE-4AE1-AF90-F93D7ED20F07").unwrap();
        assert!(q.matches(&agent(json!({"uuid": "b7b2d39171be4ae1af90f93d7ed20f07"}))));
        assert!(LookupQuery::serial("Default string").is_err());
    }
}
