//! The `/agents` query language: parsing query parameters into an
//! [`AgentQuery`] and evaluating it over agent records. Pure functions, so the
//! filter semantics can be unit-tested without a server.

use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

/// Largest `limit` (and `skip`) the console accepts.
pub const MAX_LIMIT: usize = 1000;
/// `limit` when the parameter is omitted.
pub const DEFAULT_LIMIT: usize = 10;
/// Minimum length of each item of a `__contains` filter.
pub const MIN_CONTAINS_LEN: usize = 2;

const CURSOR_PREFIX: &str = "offset:";

/// A rejected query parameter; becomes a 400 `Validation Error` whose
/// `detail` is this message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError(pub String);

impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValidationError {}

fn reject(param: &str, msg: impl std::fmt::Display) -> ValidationError {
    ValidationError(format!("{param}: {msg}"))
}

/// A parsed `GET /agents` query. Filters that are `None` do not restrict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentQuery {
    /// `uuid`: exact, case-insensitive.
    pub uuid: Option<String>,
    /// `uuids`: any of these, exact, case-insensitive.
    pub uuids: Option<Vec<String>>,
    /// `ids`: any of these agent ids.
    pub ids: Option<Vec<String>>,
    /// `serialNumber__contains`: any item is a case-insensitive substring.
    pub serial_contains: Option<Vec<String>>,
    /// `uuid__contains`: any item is a case-insensitive substring.
    pub uuid_contains: Option<Vec<String>>,
    /// `computerName__contains`: any item is a case-insensitive substring.
    pub computer_name_contains: Option<Vec<String>>,
    /// `computerName`: exact.
    pub computer_name: Option<String>,
    /// `siteIds`, `accountIds`, `groupIds`: any of these.
    pub site_ids: Option<Vec<String>>,
    /// See [`AgentQuery::site_ids`].
    pub account_ids: Option<Vec<String>>,
    /// See [`AgentQuery::site_ids`].
    pub group_ids: Option<Vec<String>>,
    /// `isDecommissioned`: allowed values. `None` hides decommissioned
    /// agents, which is what the console shows by default.
    pub is_decommissioned: Option<Vec<bool>>,
    /// `isUninstalled`: allowed values; `None` = no filter.
    pub is_uninstalled: Option<Vec<bool>>,
    /// `isActive`.
    pub is_active: Option<bool>,
    /// Page size, 1..=1000.
    pub limit: usize,
    /// Offset decoded from `cursor`.
    pub cursor_offset: Option<usize>,
    /// `skip`, 0..=1000, applied after the cursor.
    pub skip: usize,
    /// `countOnly`: return no records, only `totalItems`.
    pub count_only: bool,
    /// `skipCount`: report `totalItems` as 0.
    pub skip_count: bool,
}

impl Default for AgentQuery {
    fn default() -> Self {
        AgentQuery {
            uuid: None,
            uuids: None,
            ids: None,
            serial_contains: None,
            uuid_contains: None,
            computer_name_contains: None,
            computer_name: None,
            site_ids: None,
            account_ids: None,
            group_ids: None,
            is_decommissioned: None,
            is_uninstalled: None,
            is_active: None,
            limit: DEFAULT_LIMIT,
            cursor_offset: None,
            skip: 0,
            count_only: false,
            skip_count: false,
        }
    }
}

/// First value of `name`; later repeats are ignored because the API takes
/// lists as one comma-joined value, never as repeated keys.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn csv(value: &str) -> Vec<String> {
    value
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn parse_list(
    params: &[(String, String)],
    name: &str,
) -> Result<Option<Vec<String>>, ValidationError> {
    match param(params, name) {
        None => Ok(None),
        Some(v) => {
            let items = csv(v);
            if items.is_empty() {
                return Err(reject(name, "Must not be empty."));
            }
            Ok(Some(items))
        }
    }
}

fn parse_contains(
    params: &[(String, String)],
    name: &str,
) -> Result<Option<Vec<String>>, ValidationError> {
    let items = parse_list(params, name)?;
    if let Some(short) = items
        .iter()
        .flatten()
        .find(|s| s.chars().count() < MIN_CONTAINS_LEN)
    {
        return Err(reject(
            name,
            format!("Shorter than minimum length {MIN_CONTAINS_LEN}: {short:?}."),
        ));
    }
    Ok(items)
}

fn parse_single(
    params: &[(String, String)],
    name: &str,
) -> Result<Option<String>, ValidationError> {
    match param(params, name) {
        Some("") => Err(reject(name, "Must not be empty.")),
        other => Ok(other.map(str::to_owned)),
    }
}

fn parse_bool_value(name: &str, v: &str) -> Result<bool, ValidationError> {
    if v.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(reject(name, format!("Not a valid boolean: {v:?}.")))
    }
}

fn parse_bool(params: &[(String, String)], name: &str) -> Result<Option<bool>, ValidationError> {
    param(params, name)
        .map(|v| parse_bool_value(name, v))
        .transpose()
}

fn parse_bool_list(
    params: &[(String, String)],
    name: &str,
) -> Result<Option<Vec<bool>>, ValidationError> {
    parse_list(params, name)?
        .map(|items| items.iter().map(|v| parse_bool_value(name, v)).collect())
        .transpose()
}

fn parse_bounded(
    params: &[(String, String)],
    name: &str,
    min: usize,
    max: usize,
    default: usize,
) -> Result<usize, ValidationError> {
    let Some(v) = param(params, name) else {
        return Ok(default);
    };
    let n: usize = v
        .parse()
        .map_err(|_| reject(name, format!("Not a valid integer: {v:?}.")))?;
    if !(min..=max).contains(&n) {
        return Err(reject(name, format!("Must be between {min} and {max}.")));
    }
    Ok(n)
}

/// Encodes a paging position as an opaque cursor (base64, like the console's).
pub fn encode_cursor(offset: usize) -> String {
    B64.encode(format!("{CURSOR_PREFIX}{offset}"))
}

/// Decodes a cursor produced by [`encode_cursor`].
pub fn decode_cursor(cursor: &str) -> Result<usize, ValidationError> {
    let bad = || reject("cursor", "Invalid cursor.");
    let bytes = B64.decode(cursor).map_err(|_| bad())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
    text.strip_prefix(CURSOR_PREFIX)
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)
}

impl AgentQuery {
    /// Parses decoded query pairs. Unknown parameters are ignored, as the
    /// real API does; malformed known ones are a [`ValidationError`].
    pub fn parse(params: &[(String, String)]) -> Result<AgentQuery, ValidationError> {
        Ok(AgentQuery {
            uuid: parse_single(params, "uuid")?,
            uuids: parse_list(params, "uuids")?,
            ids: parse_list(params, "ids")?,
            serial_contains: parse_contains(params, "serialNumber__contains")?,
            uuid_contains: parse_contains(params, "uuid__contains")?,
            computer_name_contains: parse_contains(params, "computerName__contains")?,
            computer_name: parse_single(params, "computerName")?,
            site_ids: parse_list(params, "siteIds")?,
            account_ids: parse_list(params, "accountIds")?,
            group_ids: parse_list(params, "groupIds")?,
            is_decommissioned: parse_bool_list(params, "isDecommissioned")?,
            is_uninstalled: parse_bool_list(params, "isUninstalled")?,
            is_active: parse_bool(params, "isActive")?,
            limit: parse_bounded(params, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)?,
            cursor_offset: param(params, "cursor").map(decode_cursor).transpose()?,
            skip: parse_bounded(params, "skip", 0, MAX_LIMIT, 0)?,
            count_only: parse_bool(params, "countOnly")?.unwrap_or(false),
            skip_count: parse_bool(params, "skipCount")?.unwrap_or(false),
        })
    }

    /// Whether every record passes: no identity, scope or activity filter, and both
    /// retired states asked for.
    pub fn selects_everything(&self) -> bool {
        let both = |list: &Option<Vec<bool>>| {
            list.as_ref()
                .is_some_and(|l| l.contains(&true) && l.contains(&false))
        };
        self.uuid.is_none()
            && self.uuids.is_none()
            && self.ids.is_none()
            && self.serial_contains.is_none()
            && self.uuid_contains.is_none()
            && self.computer_name_contains.is_none()
            && self.computer_name.is_none()
            && self.site_ids.is_none()
            && self.account_ids.is_none()
            && self.group_ids.is_none()
            && both(&self.is_decommissioned)
            && (self.is_uninstalled.is_none() || both(&self.is_uninstalled))
            && self.is_active.is_none()
    }

    /// Whether `agent` passes every filter (paging aside).
    pub fn matches(&self, agent: &Value) -> bool {
        self.matches_identity(agent) && self.matches_scope(agent) && self.matches_state(agent)
    }

    fn matches_identity(&self, agent: &Value) -> bool {
        let uuid = str_field(agent, "uuid");
        let name = str_field(agent, "computerName");
        let eq_uuid = |want: &String| uuid.is_some_and(|u| u.eq_ignore_ascii_case(want));
        self.uuid.as_ref().is_none_or(eq_uuid)
            && self.uuids.as_ref().is_none_or(|l| l.iter().any(eq_uuid))
            && self
                .ids
                .as_ref()
                .is_none_or(|l| l.iter().any(|id| *id == agent_id(agent)))
            && contains_any(
                self.serial_contains.as_deref(),
                str_field(agent, "serialNumber"),
            )
            && contains_any(self.uuid_contains.as_deref(), uuid)
            && contains_any(self.computer_name_contains.as_deref(), name)
            && self
                .computer_name
                .as_ref()
                .is_none_or(|want| name == Some(want.as_str()))
    }

    fn matches_scope(&self, agent: &Value) -> bool {
        in_list(self.site_ids.as_deref(), str_field(agent, "siteId"))
            && in_list(self.account_ids.as_deref(), str_field(agent, "accountId"))
            && in_list(self.group_ids.as_deref(), str_field(agent, "groupId"))
    }

    fn matches_state(&self, agent: &Value) -> bool {
        let decommissioned = bool_field(agent, "isDecommissioned");
        let decommissioned_ok = match &self.is_decommissioned {
            // The console hides decommissioned agents unless asked for them.
            None => !decommissioned,
            Some(allowed) => allowed.contains(&decommissioned),
        };
        decommissioned_ok
            && self
                .is_uninstalled
                .as_ref()
                .is_none_or(|allowed| allowed.contains(&bool_field(agent, "isUninstalled")))
            && self
                .is_active
                .is_none_or(|want| want == bool_field(agent, "isActive"))
    }
}

fn contains_any(needles: Option<&[String]>, hay: Option<&str>) -> bool {
    let Some(needles) = needles else {
        return true;
    };
    let Some(hay) = hay else {
        return false;
    };
    let hay = hay.to_lowercase();
    needles.iter().any(|n| hay.contains(&n.to_lowercase()))
}

fn in_list(list: Option<&[String]>, value: Option<&str>) -> bool {
    list.is_none_or(|l| value.is_some_and(|v| l.iter().any(|x| x == v)))
}

/// A string field, or `None` when absent, null or not a string.
pub fn str_field<'a>(agent: &'a Value, key: &str) -> Option<&'a str> {
    agent.get(key).and_then(Value::as_str)
}

/// A boolean field, tolerating `"True"`/`"true"` strings (seen in recorded
/// console output); anything else counts as false.
pub fn bool_field(agent: &Value, key: &str) -> bool {
    match agent.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// The agent's `id` as a string (ids are numeric strings, but tolerate numbers).
pub fn agent_id(agent: &Value) -> String {
    match agent.get("id") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Orders agents by `id` ascending: numerically when both ids are integers
/// (so 19-digit ids sort after 18-digit ones), otherwise as strings.
pub fn compare_ids(a: &Value, b: &Value) -> Ordering {
    let (a, b) = (agent_id(a), agent_id(b));
    match (a.parse::<u128>(), b.parse::<u128>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(&b),
    }
}

/// Sorts records into the order every listing uses. Stable, so records with
/// equal ids keep their file order.
pub fn sort_agents(agents: &mut [Value]) {
    agents.sort_by(compare_ids);
}

/// One page of results.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentPage {
    /// Records on this page, verbatim.
    pub data: Vec<Value>,
    /// Records matching the filters (0 with `skipCount`).
    pub total_items: usize,
    /// Cursor for the next page, when more records follow.
    pub next_cursor: Option<String>,
    /// The whole answer fits on this one page (no cursor was given, none follows).
    pub single_page: bool,
}

impl AgentPage {
    /// The console's list envelope. `nextCursor` is `null` on the last page of
    /// several and, as real consoles do, left out of a single-page answer.
    pub fn to_json(&self) -> Value {
        let mut pagination = serde_json::Map::new();
        pagination.insert("totalItems".into(), json!(self.total_items));
        if !self.single_page {
            pagination.insert("nextCursor".into(), json!(self.next_cursor));
        }
        json!({
            "data": self.data,
            "pagination": pagination,
        })
    }
}

/// Evaluates `query` over `agents` (which must already be in
/// [`sort_agents`] order). `visible_sites` restricts a site-scoped token to
/// its own sites.
pub fn run_query(
    agents: &[Value],
    query: &AgentQuery,
    visible_sites: Option<&[String]>,
) -> AgentPage {
    // A full listing (a relay's sync) slices the records as they are: with 100 000
    // agents, filtering them all again for every page would cost more than the page.
    let everything = visible_sites.is_none() && query.selects_everything();
    let matching: Vec<&Value> = if everything {
        Vec::new()
    } else {
        agents
            .iter()
            .filter(|a| in_list(visible_sites, str_field(a, "siteId")))
            .filter(|a| query.matches(a))
            .collect()
    };
    let matching_len = if everything {
        agents.len()
    } else {
        matching.len()
    };
    let total_items = if query.skip_count { 0 } else { matching_len };
    let first = query.cursor_offset.is_none();
    if query.count_only {
        return AgentPage {
            data: Vec::new(),
            total_items,
            next_cursor: None,
            single_page: first,
        };
    }
    let start = query
        .cursor_offset
        .unwrap_or(0)
        .saturating_add(query.skip)
        .min(matching_len);
    let end = start.saturating_add(query.limit).min(matching_len);
    let next_cursor = (end < matching_len).then(|| encode_cursor(end));
    let data = if everything {
        agents[start..end].to_vec()
    } else {
        matching[start..end].iter().map(|v| (*v).clone()).collect()
    };
    AgentPage {
        data,
        total_items,
        single_page: first && next_cursor.is_none(),
        next_cursor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(q.as_bytes()).into_owned().collect()
    }

    fn query(q: &str) -> AgentQuery {
        AgentQuery::parse(&params(q)).expect("valid query")
    }

    fn agent(id: &str, uuid: &str, serial: Value, decom: bool, uninst: bool, site: &str) -> Value {
        json!({
            "id": id, "uuid": uuid, "serialNumber": serial, "computerName": format!("host-{id}"),
            "isDecommissioned": decom, "isUninstalled": uninst, "isActive": !decom,
            "siteId": site, "extra": {"kept": true}
        })
    }

    fn fixture() -> Vec<Value> {
        let mut v = vec![
            agent(
                "1000000000000000005",
                "AAAA1111",
                json!("PF2ABCDE"),
                false,
                false,
                "s1",
            ),
            agent(
                "100000000000000003",
                "bbbb-2222",
                json!("PF2ABCDE1"),
                false,
                false,
                "s2",
            ),
            agent(
                "100000000000000004",
                "cccc3333",
                json!("5CG1234XYZ"),
                true,
                false,
                "s1",
            ),
            agent(
                "100000000000000001",
                "dddd4444",
                json!("5CG1234XYZ"),
                false,
                false,
                "s1",
            ),
            agent(
                "100000000000000002",
                "eeee5555",
                json!(null),
                false,
                true,
                "s2",
            ),
        ];
        sort_agents(&mut v);
        v
    }

    fn ids(page: &AgentPage) -> Vec<String> {
        page.data.iter().map(agent_id).collect()
    }

    #[test]
    fn sorted_numerically_by_id() {
        let page = run_query(&fixture(), &query("isDecommissioned=true,false"), None);
        assert_eq!(
            ids(&page),
            [
                "100000000000000001",
                "100000000000000002",
                "100000000000000003",
                "100000000000000004",
                "1000000000000000005"
            ]
        );
    }

    #[test]
    fn decommissioned_hidden_by_default() {
        let all = fixture();
        let page = run_query(&all, &query("serialNumber__contains=5CG1234XYZ"), None);
        assert_eq!(ids(&page), ["100000000000000001"]);
        let page = run_query(
            &all,
            &query("serialNumber__contains=5CG1234XYZ&isDecommissioned=True,FALSE"),
            None,
        );
        assert_eq!(ids(&page), ["100000000000000001", "100000000000000004"]);
        let page = run_query(&all, &query("isDecommissioned=true"), None);
        assert_eq!(ids(&page), ["100000000000000004"]);
    }

    #[test]
    fn serial_contains_is_case_insensitive_substring() {
        let all = fixture();
        let page = run_query(&all, &query("serialNumber__contains=pf2abcde"), None);
        assert_eq!(ids(&page), ["100000000000000003", "1000000000000000005"]);
        let page = run_query(&all, &query("serialNumber__contains=zz,cde1"), None);
        assert_eq!(ids(&page), ["100000000000000003"]);
        assert_eq!(page.total_items, 1);
        assert!(page.next_cursor.is_none());
    }

    #[test]
    fn contains_items_need_two_chars() {
        let err = AgentQuery::parse(&params("serialNumber__contains=PF2,X")).unwrap_err();
        assert!(err.0.starts_with("serialNumber__contains:"), "{err}");
        assert!(AgentQuery::parse(&params("serialNumber__contains=")).is_err());
    }

    #[test]
    fn uuid_filters_are_exact_and_case_insensitive() {
        let all = fixture();
        let page = run_query(&all, &query("uuid=aaaa1111"), None);
        assert_eq!(ids(&page), ["1000000000000000005"]);
        assert!(run_query(&all, &query("uuid=aaaa"), None).data.is_empty());
        let page = run_query(&all, &query("uuids=BBBB-2222,aaaa1111,nope"), None);
        assert_eq!(ids(&page), ["100000000000000003", "1000000000000000005"]);
        let page = run_query(&all, &query("ids=100000000000000003"), None);
        assert_eq!(page.data[0]["extra"]["kept"], json!(true));
    }

    #[test]
    fn uninstalled_filter() {
        let all = fixture();
        assert_eq!(run_query(&all, &query(""), None).total_items, 4);
        let page = run_query(&all, &query("isUninstalled=true"), None);
        assert_eq!(ids(&page), ["100000000000000002"]);
        assert!(AgentQuery::parse(&params("isUninstalled=yes")).is_err());
    }

    #[test]
    fn null_serial_never_matches_contains() {
        let page = run_query(&fixture(), &query("serialNumber__contains=nu,ll"), None);
        assert!(page.data.is_empty());
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(query("").limit, DEFAULT_LIMIT);
        assert_eq!(query("limit=1").limit, 1);
        assert_eq!(query("limit=1000").limit, 1000);
        for bad in [
            "limit=0",
            "limit=1001",
            "limit=-1",
            "limit=ten",
            "limit=",
            "skip=1001",
        ] {
            let err = AgentQuery::parse(&params(bad)).unwrap_err();
            assert!(err.0.contains(':'), "{bad}: {err}");
        }
    }

    #[test]
    fn cursor_paging_across_three_pages() {
        let all = fixture();
        let base = "isDecommissioned=true,false&limit=2";
        let p1 = run_query(&all, &query(base), None);
        assert_eq!(ids(&p1), ["100000000000000001", "100000000000000002"]);
        assert_eq!(p1.total_items, 5);
        let c1 = p1.next_cursor.clone().expect("more pages");
        let p2 = run_query(&all, &query(&format!("{base}&cursor={c1}")), None);
        assert_eq!(ids(&p2), ["100000000000000003", "100000000000000004"]);
        let c2 = p2.next_cursor.clone().expect("more pages");
        let p3 = run_query(&all, &query(&format!("{base}&cursor={c2}")), None);
        assert_eq!(ids(&p3), ["1000000000000000005"]);
        assert_eq!(p3.next_cursor, None);
        assert_eq!(p3.total_items, 5);
    }

    #[test]
    fn invalid_cursor_rejected() {
        for bad in ["cursor=!!!", "cursor=aGVsbG8=", "cursor="] {
            assert!(AgentQuery::parse(&params(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn count_only_and_skip_count() {
        let all = fixture();
        let page = run_query(&all, &query("countOnly=true"), None);
        assert!(page.data.is_empty());
        assert_eq!(page.total_items, 4);
        assert_eq!(page.next_cursor, None);
        let page = run_query(&all, &query("skipCount=TRUE&limit=1"), None);
        assert_eq!(page.total_items, 0);
        assert_eq!(page.data.len(), 1);
        assert!(page.next_cursor.is_some());
        assert!(AgentQuery::parse(&params("countOnly=1")).is_err());
    }

    #[test]
    fn skip_and_computer_name() {
        let all = fixture();
        let page = run_query(&all, &query("skip=3"), None);
        assert_eq!(ids(&page), ["1000000000000000005"]);
        let page = run_query(&all, &query("computerName=host-100000000000000001"), None);
        assert_eq!(ids(&page), ["100000000000000001"]);
        let page = run_query(&all, &query("computerName=HOST-100000000000000001"), None);
        assert!(page.data.is_empty());
    }

    #[test]
    fn site_scope_restricts_visibility() {
        let sites = vec!["s2".to_owned()];
        let page = run_query(&fixture(), &query(""), Some(&sites));
        assert_eq!(ids(&page), ["100000000000000002", "100000000000000003"]);
    }

    #[test]
    fn unknown_params_ignored() {
        assert_eq!(query("sortBy=id&whatever=1"), AgentQuery::default());
    }

    #[test]
    fn envelope_shape() {
        let page = run_query(&fixture(), &query("limit=1"), None);
        let v = page.to_json();
        assert_eq!(v["pagination"]["totalItems"], json!(4));
        assert!(v["pagination"]["nextCursor"].is_string());
        assert_eq!(v["data"].as_array().unwrap().len(), 1);
        // The last of several pages says null; a single-page answer leaves it out.
        let cursor = v["pagination"]["nextCursor"].as_str().unwrap().to_owned();
        let last = run_query(
            &fixture(),
            &query(&format!("limit=3&cursor={cursor}")),
            None,
        );
        assert_eq!(
            last.to_json()["pagination"],
            json!({"totalItems": 4, "nextCursor": null})
        );
        let single = run_query(&fixture(), &query("limit=10"), None).to_json();
        assert_eq!(single["pagination"], json!({"totalItems": 4}));
    }

    #[test]
    fn a_full_listing_pages_like_the_filtered_path() {
        let all = fixture();
        let full = query("isDecommissioned=true,false&isUninstalled=true,false&limit=3");
        assert!(full.selects_everything());
        assert!(!query("isDecommissioned=true&limit=3").selects_everything());
        assert!(!query("isDecommissioned=true,false&uuid=u1").selects_everything());
        let mut seen = Vec::new();
        let mut page = run_query(&all, &full, None);
        loop {
            assert_eq!(page.total_items, all.len());
            seen.extend(ids(&page));
            let Some(cursor) = page.next_cursor.clone() else {
                break;
            };
            let next = query(&format!(
                "isDecommissioned=true,false&isUninstalled=true,false&limit=3&cursor={cursor}"
            ));
            page = run_query(&all, &next, None);
        }
        let mut sorted = all.clone();
        sort_agents(&mut sorted);
        let want: Vec<String> = sorted.iter().map(agent_id).collect();
        assert_eq!(seen, want);
    }
}
