//! The "test connection" an admin runs before saving an integration:
//! reachability, authentication and scope, read access to agents.

use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::progress::Progress;
use crate::tenant::{TenantClient, TenantError};

/// A token expiring sooner than this draws a warning.
pub const EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 3600);

/// The state of one step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// The step succeeded.
    Pass,
    /// The step failed.
    Fail,
    /// Not attempted because an earlier step failed.
    Skipped,
}

crate::reason::codes! {
    /// Which step (docs/commands.md `s1trust integration test`).
    pub enum StepKey {
        /// `GET /system/status` without the token: is this a SentinelOne console?
        Reachability = "reachability",
        /// `GET /user`: does the console accept the token, and with which role and scope?
        Authentication = "authentication",
        /// `GET /agents?limit=1`: can the token read agent records?
        AgentsRead = "agents_read",
        /// Through a relay, one lookup: does the relay accept this device, answer for
        /// its tenant, and from a fresh enough inventory?
        Relay = "relay",
    }
}

impl StepKey {
    /// The step's name for people.
    pub fn name(self) -> &'static str {
        match self {
            Self::Reachability => "Reachability",
            Self::Authentication => "Authentication and scope",
            Self::AgentsRead => "Read access to agents",
            Self::Relay => "Lookup through the relay",
        }
    }
}

/// One checked step.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    /// Which step.
    pub key: StepKey,
    /// Readable name.
    pub name: &'static str,
    /// Outcome.
    pub status: StepStatus,
    /// Time the step's request took.
    pub latency_ms: Option<u64>,
    /// What was found, or what went wrong.
    pub detail: String,
    /// What to do when it failed.
    pub hint: Option<String>,
    /// Whether the failure means the tenant could not be reached (vs. answered "no").
    #[serde(skip)]
    pub unreachable: bool,
}

/// The API token's lifetime as reported by `/user`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// Expiry timestamp as sent by the API.
    pub expires_at: Option<String>,
    /// Whole days left (negative when expired).
    pub days_left: Option<i64>,
}

/// The whole test.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionReport {
    /// The console tested.
    pub url: String,
    /// The integration's name, when it came from the config.
    pub integration: Option<String>,
    /// True when every step passed.
    pub ok: bool,
    /// The steps in order.
    pub steps: Vec<Step>,
    /// Token lifetime, when known.
    pub token: Option<TokenInfo>,
    /// Things that pass today but need attention.
    pub warnings: Vec<String>,
}

impl ConnectionReport {
    /// Whether a failed step means the tenant could not be reached at all.
    pub fn unreachable(&self) -> bool {
        self.steps
            .iter()
            .any(|s| s.status == StepStatus::Fail && s.unreachable)
    }

    /// The exit status: 0 all passed, 3 unreachable, 1 any other failure.
    pub fn outcome(&self) -> crate::exit::Outcome {
        use crate::exit::Outcome;
        if self.ok {
            Outcome::Ok
        } else if self.unreachable() {
            Outcome::Unknown
        } else {
            Outcome::Negative
        }
    }
}

/// The line above the steps: "Testing integration "prod" at https://…".
pub fn heading(url: &str, integration: Option<&str>) -> String {
    match integration {
        Some(name) => format!("Testing integration {} at {url}", crate::text::quoted(name)),
        None => format!("Testing {url}"),
    }
}

/// Runs the three steps; a step is skipped once an earlier one failed. `progress`
/// is told when each request starts and when each step ends, for a terminal.
pub async fn test_connection(
    client: &TenantClient,
    integration: Option<&str>,
    progress: &mut dyn FnMut(Progress<'_, Step>),
) -> ConnectionReport {
    if client.is_relay() {
        return test_relay(client, integration, progress).await;
    }
    let mut steps = Vec::new();
    let mut warnings = Vec::new();
    let mut token = None;

    let url = client.console().to_string();
    progress(Progress::Section(&heading(&url, integration)));
    progress(Progress::Waiting(StepKey::Reachability.name()));
    let reach = client.anonymous().get("/system/status", &[]).await;
    finished(
        &mut steps,
        step(StepKey::Reachability, reach, describe_status),
        progress,
    );

    let user = if passed(&steps) {
        progress(Progress::Waiting(StepKey::Authentication.name()));
        Some(client.get("/user", &[]).await)
    } else {
        None
    };
    if let Some(Ok(response)) = &user {
        let info = token_info(&response.body, OffsetDateTime::now_utc());
        warnings.extend(expiry_warning(&info));
        token = Some(info);
    }
    let user = maybe(user, StepKey::Authentication, describe_user);
    finished(&mut steps, user, progress);

    let agents = if passed(&steps) {
        progress(Progress::Waiting(StepKey::AgentsRead.name()));
        Some(client.get("/agents", &[("limit", "1")]).await)
    } else {
        None
    };
    let agents = maybe(agents, StepKey::AgentsRead, describe_agents);
    finished(&mut steps, agents, progress);

    ConnectionReport {
        url,
        integration: integration.map(str::to_owned),
        ok: steps.iter().all(|s| s.status == StepStatus::Pass),
        steps,
        token,
        warnings,
    }
}

/// A UUID no agent has: the relay's answer to it proves access and freshness, and
/// names no device.
const NO_AGENT: &str = "00000000000000000000000000000000";

/// Through a relay there is one thing to test (it serves nothing but lookups): a lookup.
async fn test_relay(
    client: &TenantClient,
    integration: Option<&str>,
    progress: &mut dyn FnMut(Progress<'_, Step>),
) -> ConnectionReport {
    progress(Progress::Waiting(StepKey::Relay.name()));
    let answer = client
        .get("/agents", &[("uuids", NO_AGENT), ("limit", "1")])
        .await;
    let synced_at = answer.as_ref().ok().and_then(|r| r.synced_at);
    let mut step = step(StepKey::Relay, answer, describe_agents);
    if let Some(at) = synced_at.filter(|_| step.status == StepStatus::Pass) {
        step.detail = format!(
            "the relay answered; its inventory was synced at {}",
            crate::tenant::relay::format_synced_at(at)
        );
    }
    progress(Progress::Item(&step));
    ConnectionReport {
        url: client.console().to_string(),
        integration: integration.map(str::to_owned),
        ok: step.status == StepStatus::Pass,
        steps: vec![step],
        token: None,
        warnings: Vec::new(),
    }
}

fn finished(steps: &mut Vec<Step>, step: Step, progress: &mut dyn FnMut(Progress<'_, Step>)) {
    progress(Progress::Item(&step));
    steps.push(step);
}

type Answer = Result<crate::tenant::ApiResponse, TenantError>;

fn passed(steps: &[Step]) -> bool {
    steps.iter().all(|s| s.status == StepStatus::Pass)
}

fn maybe(
    answer: Option<Answer>,
    key: StepKey,
    describe: fn(&Value) -> Result<String, String>,
) -> Step {
    match answer {
        Some(answer) => step(key, answer, describe),
        None => Step {
            key,
            name: key.name(),
            status: StepStatus::Skipped,
            latency_ms: None,
            detail: "skipped: an earlier step failed".into(),
            hint: None,
            unreachable: false,
        },
    }
}

fn step(key: StepKey, answer: Answer, describe: fn(&Value) -> Result<String, String>) -> Step {
    let failed = |detail: String, hint: String, latency_ms, unreachable| Step {
        key,
        name: key.name(),
        status: StepStatus::Fail,
        latency_ms,
        detail,
        hint: Some(hint),
        unreachable,
    };
    match answer {
        Ok(response) => {
            let latency = Some(response.elapsed.as_millis() as u64);
            match describe(&response.body) {
                Ok(detail) => Step {
                    key,
                    name: key.name(),
                    status: StepStatus::Pass,
                    latency_ms: latency,
                    detail,
                    hint: None,
                    unreachable: false,
                },
                Err(detail) => failed(
                    detail,
                    "check that the URL is the SentinelOne console".into(),
                    latency,
                    false,
                ),
            }
        }
        Err(e) => {
            let unreachable = e.is_unreachable() || matches!(e, TenantError::RateLimited { .. });
            failed(e.to_string(), e.hint().into(), None, unreachable)
        }
    }
}

fn describe_status(body: &Value) -> Result<String, String> {
    match body.pointer("/data/health").and_then(Value::as_str) {
        Some("ok") => Ok("the console answered: health ok".into()),
        Some(other) => Err(format!("the console reports health {other:?}")),
        None => Err(
            "the answer has no data.health: this does not look like a SentinelOne console".into(),
        ),
    }
}

fn describe_user(body: &Value) -> Result<String, String> {
    let data = body
        .get("data")
        .filter(|d| d.is_object())
        .ok_or("the /user answer has no data object")?;
    let text = |key: &str| {
        data.get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let who = text("email")
        .or(text("fullName"))
        .unwrap_or("(unnamed user)");
    let roles: Vec<&str> = data
        .get("scopeRoles")
        .and_then(Value::as_array)
        .map(|roles| {
            roles
                .iter()
                .filter_map(|r| r.get("roleName").or(r.get("name")).and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    let roles = if roles.is_empty() {
        text("lowestRole").unwrap_or("unknown role").to_owned()
    } else {
        roles.join(", ")
    };
    let scope = text("scope").unwrap_or("unknown");
    Ok(format!(
        "token accepted: user {who}, role {roles}, scope {scope}"
    ))
}

fn describe_agents(body: &Value) -> Result<String, String> {
    if !body.get("data").is_some_and(Value::is_array) {
        return Err("the /agents answer has no data list".into());
    }
    match body
        .pointer("/pagination/totalItems")
        .and_then(Value::as_u64)
    {
        Some(n) => Ok(format!(
            "the token can list agents ({n} visible in its scope)"
        )),
        None => Ok("the token can list agents".into()),
    }
}

/// Reads `data.apiToken.expiresAt` from a `/user` answer.
pub fn token_info(user: &Value, now: OffsetDateTime) -> TokenInfo {
    let expires_at = user
        .pointer("/data/apiToken/expiresAt")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let days_left = expires_at
        .as_deref()
        .and_then(|s| OffsetDateTime::parse(s, &Rfc3339).ok())
        .map(|when| (when - now).whole_days());
    TokenInfo {
        expires_at,
        days_left,
    }
}

fn expiry_warning(info: &TokenInfo) -> Option<String> {
    let days = info.days_left?;
    let when = info.expires_at.as_deref().unwrap_or("?");
    let limit = (EXPIRY_WARNING.as_secs() / 86_400) as i64;
    if days < 0 {
        Some(format!("the API token expired on {when}; create a new one"))
    } else if days < limit {
        Some(format!(
            "the API token expires in {days} day(s) ({when}); create a new one before then"
        ))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use time::macros::datetime;

    #[test]
    fn expiry_warnings() {
        let now = datetime!(2026-11-22 00:00 UTC);
        let user = |when: &str| json!({"data": {"apiToken": {"expiresAt": when}}});
        let soon = token_info(&user("2026-11-27T00:00:00Z"), now);
        assert_eq!(soon.days_left, Some(5));
        assert!(
            expiry_warning(&soon)
                .unwrap()
                .contains("expires in 5 day(s)")
        );
        let later = token_info(&user("2027-05-01T00:00:00.000000Z"), now);
        assert!(expiry_warning(&later).is_none());
        let gone = token_info(&user("2026-11-01T00:00:00Z"), now);
        assert!(expiry_warning(&gone).unwrap().contains("expired"));
        assert_eq!(token_info(&json!({"data": {}}), now).days_left, None);
    }

    #[test]
    fn user_description() {
        let body = json!({"data": {"email": "reader@corp.example", "scope": "site",
            "scopeRoles": [{"id": "1", "roleName": "Viewer"}]}});
        assert_eq!(
            describe_user(&body).unwrap(),
            "token accepted: user reader@corp.example, role Viewer, scope site"
        );
        assert!(describe_user(&json!({"data": []})).is_err());
        assert!(describe_status(&json!({"data": {"health": "ok"}})).is_ok());
        assert!(describe_status(&json!({"ok": true})).is_err());
    }
}
