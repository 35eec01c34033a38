//! Agent records from `GET /web/api/v2.1/agents`, read leniently.
//!
//! Field types drift between console releases (booleans sent as `"True"`,
//! enums growing, nulls), so a record keeps the raw JSON object and typed
//! accessors interpret it; nothing the API adds is lost for `rawResponse`.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::client::TenantClient;
use super::error::TenantError;

/// Records per page when listing (the API's maximum).
pub const PAGE_LIMIT: usize = 1000;
/// Pages followed for one serial before giving up (20 000 records).
pub const MAX_PAGES: usize = 20;

/// One agent object as the API sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentRecord(Map<String, Value>);

impl AgentRecord {
    /// Wraps a JSON object.
    pub fn new(fields: Map<String, Value>) -> Self {
        Self(fields)
    }

    /// Every field as sent.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.0
    }

    /// A string field; numbers are rendered as strings (IDs sometimes arrive as numbers).
    pub fn text(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A boolean field; `"true"`/`"True"` strings count (seen in recorded responses).
    pub fn flag(&self, key: &str) -> Option<bool> {
        match self.0.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// An integer field; numeric strings count.
    pub fn count(&self, key: &str) -> Option<i64> {
        match self.0.get(key)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// An RFC 3339 timestamp field (with or without fractional seconds).
    pub fn date(&self, key: &str) -> Option<OffsetDateTime> {
        let text = self.0.get(key)?.as_str()?;
        OffsetDateTime::parse(text.trim(), &Rfc3339).ok()
    }

    /// `uuid`.
    pub fn uuid(&self) -> Option<String> {
        self.text("uuid")
    }

    /// `serialNumber`.
    pub fn serial_number(&self) -> Option<String> {
        self.text("serialNumber")
    }

    /// Decommissioned or uninstalled: the record no longer stands for a protected device.
    pub fn is_retired(&self) -> bool {
        self.flag("isDecommissioned") == Some(true) || self.flag("isUninstalled") == Some(true)
    }
}

/// One page of `GET /agents`.
#[derive(Debug, Clone)]
pub struct AgentPage {
    /// HTTP status.
    pub status: u16,
    /// The records on this page.
    pub records: Vec<AgentRecord>,
    /// `pagination.totalItems`: all records matching the filters.
    pub total_items: Option<u64>,
    /// `pagination.nextCursor`: present when more pages follow.
    pub next_cursor: Option<String>,
    /// The body as sent (empty when the page was parsed from a tree).
    pub raw: Vec<u8>,
}

/// Reads an agents list body; anything but `{"data": [objects], ...}` is refused.
/// The records are moved out of the tree, not copied: a page is the largest thing
/// s1trust holds.
pub fn parse_agent_page(status: u16, mut body: Value) -> Result<AgentPage, TenantError> {
    let bad = |reason: &str| TenantError::BadResponse {
        status,
        reason: reason.to_owned(),
    };
    let data = body
        .get_mut("data")
        .and_then(Value::as_array_mut)
        .ok_or_else(|| bad("no `data` list in the agents response"))?;
    let records = std::mem::take(data)
        .into_iter()
        .map(|item| match item {
            Value::Object(fields) => Some(AgentRecord::new(fields)),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad("an entry of `data` is not an agent object"))?;
    let pagination = body.get("pagination");
    let total_items = pagination
        .and_then(|p| p.get("totalItems"))
        .and_then(Value::as_u64);
    let next_cursor = pagination
        .and_then(|p| p.get("nextCursor"))
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
        .map(str::to_owned);
    Ok(AgentPage {
        status,
        records,
        total_items,
        next_cursor,
        raw: Vec::new(),
    })
}

/// [`parse_agent_page`] on a response, keeping the bytes it came from.
fn read_page(response: super::ApiResponse) -> Result<AgentPage, TenantError> {
    let page = parse_agent_page(response.status, response.body)?;
    Ok(AgentPage {
        raw: response.bytes,
        ..page
    })
}

/// Shows decommissioned and uninstalled records too, so they are reported rather than
/// looking like "not registered".
pub const INCLUDE_RETIRED: [(&str, &str); 2] = [
    ("isDecommissioned", "true,false"),
    ("isUninstalled", "true,false"),
];

impl TenantClient {
    /// Agents whose `uuid` is any of `spellings` (one request).
    pub async fn agents_by_uuid(&self, spellings: &[String]) -> Result<AgentPage, TenantError> {
        let uuids = spellings.join(",");
        let mut query = vec![("uuids", uuids.as_str()), ("limit", "100")];
        query.extend(INCLUDE_RETIRED);
        read_page(self.get("/agents", &query).await?)
    }

    /// Every page of agents whose serial contains `serial`, following cursors up to
    /// [`MAX_PAGES`], handed to `visit` one at a time so that no more than one page
    /// needs to be held.
    pub async fn agents_by_serial_contains(
        &self,
        serial: &str,
        mut visit: impl FnMut(AgentPage),
    ) -> Result<(), TenantError> {
        let limit = PAGE_LIMIT.to_string();
        let mut pages = 0;
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![
                ("serialNumber__contains", serial),
                ("limit", limit.as_str()),
            ];
            query.extend(INCLUDE_RETIRED);
            if let Some(c) = cursor.as_deref() {
                query.push(("cursor", c));
            }
            let page = read_page(self.get("/agents", &query).await?)?;
            cursor = page.next_cursor.clone();
            visit(page);
            pages += 1;
            match cursor {
                None => return Ok(()),
                Some(_) if pages >= MAX_PAGES => {
                    return Err(TenantError::BadResponse {
                        status: 200,
                        reason: format!(
                            "more than {} agent records contain serial {serial:?}; refusing to page further",
                            MAX_PAGES * PAGE_LIMIT
                        ),
                    });
                }
                Some(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lenient_fields() {
        let record = AgentRecord::new(
            json!({
                "id": 657613730168123595u64, "isActive": "True", "infected": false,
                "activeThreats": "2", "lastActiveDate": "2019-06-27T08:01:05.571895Z",
                "osStartTime": "2019-06-27T08:00:31Z", "serialNumber": null,
                "networkStatus": "some_future_value"
            })
            .as_object()
            .unwrap()
            .clone(),
        );
        assert_eq!(record.text("id").as_deref(), Some("657613730168123595"));
        assert_eq!(record.flag("isActive"), Some(true));
        assert_eq!(record.flag("infected"), Some(false));
        assert_eq!(record.count("activeThreats"), Some(2));
        assert!(record.date("lastActiveDate").is_some());
        assert!(record.date("osStartTime").is_some());
        assert_eq!(record.serial_number(), None);
        assert_eq!(
            record.text("networkStatus").as_deref(),
            Some("some_future_value")
        );
        assert!(!record.is_retired());
    }

    #[test]
    fn page_shape_is_checked() {
        let page = parse_agent_page(
            200,
            json!({"data": [{"id": "1"}], "pagination": {"totalItems": 7, "nextCursor": "abc"}}),
        )
        .unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.total_items, Some(7));
        assert_eq!(page.next_cursor.as_deref(), Some("abc"));
        assert!(parse_agent_page(200, json!({"data": {"id": "1"}})).is_err());
        assert!(parse_agent_page(200, json!({"data": [1, 2]})).is_err());
        assert!(parse_agent_page(200, json!([])).is_err());
    }
}
