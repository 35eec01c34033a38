//! The emulated tenant: authentication and the endpoints, as pure
//! request → reply functions (no I/O, no shared mutable state).

use bytes::Bytes;
use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::agents::{self, AgentQuery};
use crate::config::{TokenSpec, format_rfc3339};
use crate::envelope::error_body;

/// Base path of every Management API v2.1 endpoint.
pub const BASE_PATH: &str = "/web/api/v2.1";

/// A response before it is turned into HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// `content-type` header value.
    pub content_type: &'static str,
    /// Complete body.
    pub body: Bytes,
    /// `Retry-After` header value, if any.
    pub retry_after: Option<String>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            content_type: "application/json",
            body: Bytes::from(value.to_string()),
            retry_after: None,
        }
    }

    /// The console's error envelope for `status`.
    pub fn error(status: u16, detail: Option<&str>) -> Reply {
        Reply::json(status, &error_body(status, detail))
    }

    /// Adds a `Retry-After` header.
    pub fn with_retry_after(mut self, value: Option<String>) -> Reply {
        self.retry_after = value;
        self
    }
}

/// What the tenant needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct ApiRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path without query.
    pub path: &'a str,
    /// Decoded query pairs.
    pub params: &'a [(String, String)],
    /// Raw `Authorization` header.
    pub authorization: Option<&'a str>,
    /// Request body (only read for POST).
    pub body: &'a [u8],
}

/// Extracts the token from `Authorization: ApiToken <token>`. The scheme is
/// matched case-insensitively (HTTP auth schemes are), the token exactly.
pub fn bearer_token(authorization: Option<&str>) -> Option<&str> {
    let value = authorization?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("ApiToken") && !token.is_empty()).then_some(token)
}

struct KnownToken {
    spec: TokenSpec,
    expiry: Option<OffsetDateTime>,
}

/// The emulated tenant's data.
pub struct Tenant {
    agents: Vec<Value>,
    tokens: Vec<KnownToken>,
    started: OffsetDateTime,
}

enum Route {
    Status,
    Info,
    User,
    TokenDetails,
    Agents,
    AgentsCount,
}

fn route(method: &str, path: &str) -> Option<Route> {
    let rest = path.strip_prefix(BASE_PATH)?;
    match (method, rest) {
        ("GET", "/system/status") => Some(Route::Status),
        ("GET", "/system/info") => Some(Route::Info),
        ("GET", "/user") => Some(Route::User),
        ("POST", "/users/api-token-details") => Some(Route::TokenDetails),
        ("GET", "/agents") => Some(Route::Agents),
        ("GET", "/agents/count") => Some(Route::AgentsCount),
        _ => None,
    }
}

impl Tenant {
    /// Builds a tenant, sorting agents into listing order and validating
    /// token expiry dates.
    pub fn new(mut agents: Vec<Value>, tokens: Vec<TokenSpec>) -> Result<Tenant, String> {
        agents::sort_agents(&mut agents);
        let tokens = tokens
            .into_iter()
            .enumerate()
            .map(|(i, spec)| {
                let expiry = spec.expiry().map_err(|e| format!("token #{i}: {e}"))?;
                Ok(KnownToken { spec, expiry })
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Tenant {
            agents,
            tokens,
            started: OffsetDateTime::now_utc(),
        })
    }

    /// Answers one request.
    pub fn respond(&self, req: &ApiRequest<'_>) -> Reply {
        let Some(route) = route(req.method, req.path) else {
            return Reply::error(404, None);
        };
        // The health probe is the one endpoint that works without a token.
        if let Route::Status = route {
            return health();
        }
        let token = match self.authenticate(req.authorization) {
            Ok(t) => t,
            Err(reply) => return reply,
        };
        match route {
            Route::Status => health(),
            Route::Info => Reply::json(200, &system_info()),
            Route::User => Reply::json(200, &json!({"data": self.user(token)})),
            Route::TokenDetails => self.token_details(req.body),
            Route::Agents => self.agents(token, req.params, false),
            Route::AgentsCount => self.agents(token, req.params, true),
        }
    }

    fn authenticate(&self, authorization: Option<&str>) -> Result<&KnownToken, Reply> {
        let presented = bearer_token(authorization).ok_or_else(|| Reply::error(401, None))?;
        let known = self
            .tokens
            .iter()
            .find(|t| t.spec.token == presented)
            .ok_or_else(|| Reply::error(401, None))?;
        // The console reports an expired token exactly like an unknown one.
        if known.expiry.is_some_and(|e| e <= OffsetDateTime::now_utc()) {
            return Err(Reply::error(401, None));
        }
        Ok(known)
    }

    fn agents(&self, token: &KnownToken, params: &[(String, String)], count: bool) -> Reply {
        if !token.spec.can_read_agents {
            return Reply::error(403, None);
        }
        let query = match AgentQuery::parse(params) {
            Ok(q) => q,
            Err(e) => return Reply::error(400, Some(&e.0)),
        };
        let page = agents::run_query(&self.agents, &query, token.spec.site_ids.as_deref());
        if count {
            return Reply::json(200, &json!({"data": {"total": page.total_items}}));
        }
        Reply::json(200, &page.to_json())
    }

    fn token_dates(&self, token: &KnownToken) -> Value {
        json!({
            "createdAt": format_rfc3339(self.started - time::Duration::days(1)),
            "expiresAt": token.expiry.map(format_rfc3339),
        })
    }

    fn token_details(&self, body: &[u8]) -> Reply {
        let requested = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| v.pointer("/data/apiToken")?.as_str().map(str::to_owned));
        let Some(requested) = requested else {
            return Reply::error(400, Some("data.apiToken: Missing data for required field."));
        };
        match self.tokens.iter().find(|t| t.spec.token == requested) {
            Some(t) => Reply::json(200, &json!({"data": self.token_dates(t)})),
            None => Reply::error(400, Some("data.apiToken: Invalid API token.")),
        }
    }

    fn user(&self, token: &KnownToken) -> Value {
        let spec = &token.spec;
        json!({
            "id": numeric_id(&spec.token, 0),
            "email": format!("{}@s1-emulator.example", spec.role.to_lowercase()),
            "fullName": format!("Emulated {} user", spec.role),
            "scope": spec.scope,
            "scopeRoles": self.scope_roles(spec),
            "apiToken": self.token_dates(token),
            "lowestRole": spec.role,
            "canGenerateApiToken": true,
            "source": "mgmt",
            "twoFaEnabled": false,
        })
    }

    /// One entry per scope the token covers: its sites for a site-scoped
    /// token, the accounts seen in the data for an account-scoped one.
    fn scope_roles(&self, spec: &TokenSpec) -> Value {
        let (id_key, name_key) = match spec.scope.as_str() {
            "site" => ("siteId", "siteName"),
            "account" => ("accountId", "accountName"),
            _ => return json!([]),
        };
        let ids: Vec<String> = match (&spec.site_ids, spec.scope.as_str()) {
            (Some(sites), "site") => sites.clone(),
            _ => self.distinct(id_key),
        };
        let roles: Vec<Value> = ids
            .iter()
            .map(|id| {
                json!({
                    "id": id,
                    "name": self.name_of(id_key, id, name_key),
                    "accountName": self.account_name(id_key, id),
                    "roleName": spec.role,
                    "roleId": numeric_id(&spec.role, 1),
                    "roles": [spec.role],
                })
            })
            .collect();
        Value::Array(roles)
    }

    fn distinct(&self, key: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for id in self.agents.iter().filter_map(|a| agents::str_field(a, key)) {
            if !out.iter().any(|x| x == id) {
                out.push(id.to_owned());
            }
        }
        out
    }

    fn agent_with(&self, key: &str, id: &str) -> Option<&Value> {
        self.agents
            .iter()
            .find(|a| agents::str_field(a, key) == Some(id))
    }

    fn name_of(&self, key: &str, id: &str, name_key: &str) -> String {
        self.agent_with(key, id)
            .and_then(|a| agents::str_field(a, name_key))
            .map_or_else(|| format!("Scope {id}"), str::to_owned)
    }

    fn account_name(&self, key: &str, id: &str) -> Value {
        self.agent_with(key, id)
            .and_then(|a| agents::str_field(a, "accountName"))
            .map_or(Value::Null, |s| Value::String(s.to_owned()))
    }
}

fn health() -> Reply {
    Reply::json(200, &json!({"data": {"health": "ok"}}))
}

fn system_info() -> Value {
    json!({"data": {
        "build": "41",
        "version": "Z SP2",
        "release": "24.2.2",
        "patch": "41",
        "latestAgentVersion": "24.2.3.471",
    }})
}

/// A stable 18-digit numeric id derived from `seed` (FNV-1a), so `/user`
/// answers the same across runs without storing anything.
fn numeric_id(seed: &str, salt: u8) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes().chain([salt]) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (100_000_000_000_000_000 + h % 900_000_000_000_000_000).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        let agents = vec![
            json!({"id":"2","uuid":"u2","siteId":"s2","siteName":"Two","accountId":"a1","accountName":"Acme"}),
            json!({"id":"1","uuid":"u1","siteId":"s1","siteName":"One","accountId":"a1","accountName":"Acme"}),
        ];
        let mut site = TokenSpec::viewer("site");
        site.scope = "site".into();
        site.site_ids = Some(vec!["s2".into()]);
        let mut noread = TokenSpec::viewer("noread");
        noread.can_read_agents = false;
        let mut expired = TokenSpec::viewer("old");
        expired.expires_at = Some("2020-01-01T00:00:00Z".into());
        Tenant::new(
            agents,
            vec![TokenSpec::viewer("good"), site, noread, expired],
        )
        .unwrap()
    }

    fn get(t: &Tenant, path: &str, auth: Option<&str>) -> (u16, Value) {
        let req = ApiRequest {
            method: "GET",
            path,
            params: &[],
            authorization: auth,
            body: b"",
        };
        let r = t.respond(&req);
        (r.status, serde_json::from_slice(&r.body).unwrap())
    }

    #[test]
    fn auth_rules() {
        let t = tenant();
        let agents = "/web/api/v2.1/agents";
        assert_eq!(get(&t, agents, None).0, 401);
        assert_eq!(get(&t, agents, Some("ApiToken nope")).0, 401);
        assert_eq!(get(&t, agents, Some("Bearer good")).0, 401);
        assert_eq!(get(&t, agents, Some("ApiToken old")).0, 401);
        assert_eq!(get(&t, agents, Some("apitoken good")).0, 200);
        let (s, body) = get(&t, agents, Some("ApiToken noread"));
        assert_eq!(s, 403);
        assert_eq!(body["errors"][0]["code"], json!(4030010));
        assert_eq!(get(&t, "/web/api/v2.1/system/status", None).0, 200);
        assert_eq!(get(&t, "/web/api/v2.1/nope", Some("ApiToken good")).0, 404);
    }

    #[test]
    fn site_token_sees_its_site_only() {
        let t = tenant();
        let (_, body) = get(&t, "/web/api/v2.1/agents", Some("ApiToken site"));
        assert_eq!(body["data"].as_array().unwrap().len(), 1);
        assert_eq!(body["data"][0]["id"], json!("2"));
        let (_, user) = get(&t, "/web/api/v2.1/user", Some("ApiToken site"));
        assert_eq!(user["data"]["scope"], json!("site"));
        assert_eq!(user["data"]["scopeRoles"][0]["id"], json!("s2"));
        assert_eq!(user["data"]["scopeRoles"][0]["name"], json!("Two"));
        assert!(user["data"]["apiToken"]["expiresAt"].is_string());
    }

    #[test]
    fn token_details_endpoint() {
        let t = tenant();
        let post = |body: &[u8]| {
            t.respond(&ApiRequest {
                method: "POST",
                path: "/web/api/v2.1/users/api-token-details",
                params: &[],
                authorization: Some("ApiToken good"),
                body,
            })
        };
        let ok = post(br#"{"data":{"apiToken":"site"}}"#);
        assert_eq!(ok.status, 200);
        let v: Value = serde_json::from_slice(&ok.body).unwrap();
        assert!(v["data"]["createdAt"].is_string());
        assert_eq!(post(b"{}").status, 400);
        assert_eq!(post(b"garbage").status, 400);
        assert_eq!(post(br#"{"data":{"apiToken":"x"}}"#).status, 400);
    }

    #[test]
    fn bearer_token_parsing() {
        assert_eq!(bearer_token(Some("ApiToken abc")), Some("abc"));
        assert_eq!(bearer_token(Some("ApiToken ")), None);
        assert_eq!(bearer_token(Some("abc")), None);
        assert_eq!(bearer_token(None), None);
    }

    #[test]
    fn ids_are_stable_18_digits() {
        assert_eq!(numeric_id("x", 0), numeric_id("x", 0));
        assert_eq!(numeric_id("x", 0).len(), 18);
    }
}
