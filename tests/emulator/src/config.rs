//! Configuration types: tokens, faults, the emulator config, and loaders for
//! the JSON files the binary accepts.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One API token the emulated tenant knows about.
///
/// Deserialisable from JSON (`--tokens FILE`) with the same field names;
/// `expires_at`, `can_read_agents` and `site_ids` may be omitted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenSpec {
    /// The secret as sent in `Authorization: ApiToken <token>`.
    pub token: String,
    /// Role name reported by `/user` (e.g. `Viewer`).
    pub role: String,
    /// `tenant`, `account` or `site`.
    pub scope: String,
    /// RFC 3339 expiry; `None` means the token never expires. A token whose
    /// expiry is in the past is rejected with 401, like a real console.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Whether the token's role grants Endpoints → View; without it
    /// `/agents` answers 403.
    #[serde(default = "default_true")]
    pub can_read_agents: bool,
    /// When set, the token only sees agents whose `siteId` is listed, the
    /// way a site-scoped service user does.
    #[serde(default)]
    pub site_ids: Option<Vec<String>>,
}

fn default_true() -> bool {
    true
}

impl TokenSpec {
    /// An account-scoped Viewer token that can read agents and expires in
    /// 180 days (the console's usual lifetime for API tokens).
    pub fn viewer(token: &str) -> Self {
        TokenSpec {
            token: token.to_owned(),
            role: "Viewer".to_owned(),
            scope: "account".to_owned(),
            expires_at: Some(format_rfc3339(
                OffsetDateTime::now_utc() + time::Duration::days(180),
            )),
            can_read_agents: true,
            site_ids: None,
        }
    }

    /// Parses `expires_at`, failing with a message that names the token's
    /// position rather than the secret itself.
    pub(crate) fn expiry(&self) -> Result<Option<OffsetDateTime>, String> {
        match &self.expires_at {
            None => Ok(None),
            Some(s) => OffsetDateTime::parse(s, &Rfc3339)
                .map(Some)
                .map_err(|e| format!("expires_at {s:?} is not RFC 3339: {e}")),
        }
    }
}

/// Formats a timestamp the way the console does: RFC 3339, UTC, microseconds.
pub(crate) fn format_rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let micros = t.nanosecond() / 1_000;
    // Real consoles send microsecond precision; nanoseconds would look odd
    // and could trip clients that parse with a fixed format.
    let t = t.replace_nanosecond(micros * 1_000).unwrap_or(t);
    t.format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// What an injected fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// Wait this long, then answer normally.
    Latency(Duration),
    /// Answer with the console's error envelope for `code`, plus a
    /// `Retry-After` header when given. Codes outside 100–999 become 500.
    Status {
        /// HTTP status code.
        code: u16,
        /// Raw `Retry-After` header value (seconds or an HTTP date).
        retry_after: Option<String>,
    },
    /// An HTML page (`content-type: text/html`), as a captive portal,
    /// proxy or SSO login page would send.
    Html {
        /// HTTP status code of the HTML page.
        status: u16,
    },
    /// 200 with `content-type: application/json` but a body that is not JSON.
    MalformedJson,
    /// 200 whose `Content-Length` announces the full body but the connection
    /// closes after half of it.
    TruncatedJson,
    /// 200 with a valid JSON body padded to `bytes` bytes.
    Oversized {
        /// Total body size in bytes.
        bytes: usize,
    },
    /// 200 `application/json` with exactly this body (e.g. an object with a key
    /// twice, which a JSON value cannot hold).
    RawJson(String),
    /// 200 with `content-type: application/json` and valid JSON that is not the
    /// API's shape: `data` is a list of non-objects (no `data.health`, no user, no
    /// records) and `pagination` holds values of the wrong types.
    WrongShape,
    /// The real answer, with its `Content-Length`, sent one byte at a time with
    /// this pause before each byte (a stalled proxy or a saturated link).
    Trickle(Duration),
    /// The real answer's status and headers with a chunked body that stops
    /// after half of it: the connection is cut mid-body (no `Content-Length`,
    /// unlike [`FaultKind::TruncatedJson`]).
    DropMidBody,
    /// A redirect (`status`, normally 301/302/307/308) to `location`.
    Redirect {
        /// HTTP status code.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// The console's error envelope for `status` with this `detail`, in which
    /// `{authorization}` becomes the request's `Authorization` header as received
    /// and `{token}` the token in it: a console or proxy that echoes credentials
    /// (or anything else, escape sequences included) in its errors.
    ErrorDetail {
        /// HTTP status code.
        status: u16,
        /// The envelope's `detail`, before the placeholders are filled in.
        detail: String,
    },
    /// Close the connection without answering.
    Drop,
    /// Never answer; the connection stays open until the emulator stops.
    Hang,
}

impl FaultKind {
    /// Short snake_case name used in the request log.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Latency(_) => "latency",
            FaultKind::Status { .. } => "status",
            FaultKind::Html { .. } => "html",
            FaultKind::MalformedJson => "malformed_json",
            FaultKind::TruncatedJson => "truncated_json",
            FaultKind::Oversized { .. } => "oversized",
            FaultKind::RawJson(_) => "raw_json",
            FaultKind::WrongShape => "wrong_shape",
            FaultKind::Trickle(_) => "trickle",
            FaultKind::DropMidBody => "drop_mid_body",
            FaultKind::Redirect { .. } => "redirect",
            FaultKind::ErrorDetail { .. } => "error_detail",
            FaultKind::Drop => "drop",
            FaultKind::Hang => "hang",
        }
    }
}

/// A fault-injection rule. Rules are checked in order; the first one that
/// matches and still has uses left applies.
///
/// Faults act in front of the tenant, like a flaky network or proxy would:
/// a faulted request is not authenticated and does not count against the
/// rate limit (a `Latency` fault is the exception: after the delay the
/// request proceeds normally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// Only requests whose path starts with this prefix match.
    pub path_prefix: Option<String>,
    /// Only requests presenting this token match.
    pub token: Option<String>,
    /// What happens to a matching request.
    pub kind: FaultKind,
    /// Apply to the first N matching requests only; `None` = always.
    pub times: Option<u32>,
    /// Let this many matching requests through untouched first (a sync that dies
    /// after page k: `after: k`).
    pub after: u32,
}

impl Fault {
    /// A rule that matches every request, forever.
    pub fn new(kind: FaultKind) -> Self {
        Fault {
            path_prefix: None,
            token: None,
            kind,
            times: None,
            after: 0,
        }
    }

    /// Restricts the rule to paths starting with `p`
    /// (e.g. `/web/api/v2.1/agents`).
    pub fn path(mut self, p: &str) -> Self {
        self.path_prefix = Some(p.to_owned());
        self
    }

    /// Restricts the rule to requests carrying token `t`.
    pub fn token(mut self, t: &str) -> Self {
        self.token = Some(t.to_owned());
        self
    }

    /// Applies the rule to the first `n` matching requests only.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    /// Lets the first `n` matching requests through before the rule applies.
    pub fn after(mut self, n: u32) -> Self {
        self.after = n;
        self
    }
}

/// Everything [`crate::Emulator::start`] needs.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Agent records, returned verbatim.
    pub agents: Vec<Value>,
    /// Tokens the tenant accepts.
    pub tokens: Vec<TokenSpec>,
    /// Serve HTTPS with a freshly generated CA (default) or plain HTTP.
    pub tls: bool,
    /// Per-token limit in requests per second; `None` = unlimited.
    pub rate_limit_per_sec: Option<u32>,
    /// Initial fault rules.
    pub faults: Vec<Fault>,
    /// Address to listen on (must be loopback); `None` = `127.0.0.1:0`.
    pub bind: Option<SocketAddr>,
    /// The names the server certificate holds; `None` = `localhost`, `127.0.0.1`
    /// and `::1`. Leave one out to test a client reaching the server by a name
    /// its certificate does not cover.
    pub cert_names: Option<Vec<String>>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            agents: Vec::new(),
            tokens: Vec::new(),
            tls: true,
            rate_limit_per_sec: None,
            faults: Vec::new(),
            bind: None,
            cert_names: None,
        }
    }
}

/// Reads agent records from a JSON file holding either an array or a
/// `{"data": [...]}` envelope (so a captured API response can be used as-is).
pub fn load_agents(path: &Path) -> io::Result<Vec<Value>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))?;
    parse_agents(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

/// Parses agent records from JSON text; see [`load_agents`].
pub fn parse_agents(text: &str) -> Result<Vec<Value>, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not valid JSON: {e}"))?;
    let list = match value {
        Value::Array(items) => items,
        Value::Object(mut map) => match map.remove("data") {
            Some(Value::Array(items)) => items,
            _ => return Err("expected an array or an object with a \"data\" array".to_owned()),
        },
        _ => return Err("expected an array or an object with a \"data\" array".to_owned()),
    };
    if let Some(i) = list.iter().position(|v| !v.is_object()) {
        return Err(format!("record #{i} is not a JSON object"));
    }
    Ok(list)
}

/// Reads token specs from a JSON array of [`TokenSpec`] objects.
pub fn load_tokens(path: &Path) -> io::Result<Vec<TokenSpec>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))?;
    serde_json::from_str(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

/// One fault rule as written in a `--faults` file. Flat on purpose: it keeps
/// `deny_unknown_fields` working (serde cannot combine it with a flattened
/// tagged enum), so a misspelt key is an error instead of a silent no-op.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultFileEntry {
    kind: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    times: Option<u32>,
    #[serde(default)]
    after: u32,
    #[serde(default)]
    ms: Option<u64>,
    #[serde(default)]
    code: Option<u16>,
    #[serde(default)]
    retry_after: Option<String>,
    #[serde(default)]
    status: Option<u16>,
    #[serde(default)]
    bytes: Option<usize>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

impl FaultFileEntry {
    fn into_fault(self, index: usize) -> Result<Fault, String> {
        let missing = |field: &str| format!("fault #{index} ({}): missing \"{field}\"", self.kind);
        let kind = match self.kind.as_str() {
            "latency" => {
                FaultKind::Latency(Duration::from_millis(self.ms.ok_or_else(|| missing("ms"))?))
            }
            "status" => FaultKind::Status {
                code: self.code.ok_or_else(|| missing("code"))?,
                retry_after: self.retry_after.clone(),
            },
            "html" => FaultKind::Html {
                status: self.status.unwrap_or(200),
            },
            "malformed_json" => FaultKind::MalformedJson,
            "truncated_json" => FaultKind::TruncatedJson,
            "oversized" => FaultKind::Oversized {
                bytes: self.bytes.ok_or_else(|| missing("bytes"))?,
            },
            "raw_json" => FaultKind::RawJson(self.body.clone().ok_or_else(|| missing("body"))?),
            "wrong_shape" => FaultKind::WrongShape,
            "trickle" => {
                FaultKind::Trickle(Duration::from_millis(self.ms.ok_or_else(|| missing("ms"))?))
            }
            "drop_mid_body" => FaultKind::DropMidBody,
            "redirect" => FaultKind::Redirect {
                status: self.status.unwrap_or(302),
                location: self.location.clone().ok_or_else(|| missing("location"))?,
            },
            "error_detail" => FaultKind::ErrorDetail {
                status: self.status.unwrap_or(500),
                detail: self.detail.clone().ok_or_else(|| missing("detail"))?,
            },
            "drop" => FaultKind::Drop,
            "hang" => FaultKind::Hang,
            other => {
                return Err(format!(
                    "fault #{index}: unknown kind {other:?} (expected latency, status, html, \
                     malformed_json, truncated_json, oversized, raw_json, wrong_shape, trickle, \
                     drop_mid_body, redirect, error_detail, drop or hang)"
                ));
            }
        };
        Ok(Fault {
            path_prefix: self.path,
            token: self.token,
            kind,
            times: self.times,
            after: self.after,
        })
    }
}

/// Parses a JSON list of fault rules, e.g.
/// `[{"kind":"status","code":503,"retry_after":"2","path":"/web/api/v2.1/agents","times":1}]`.
/// See the binary's `--help` for every kind.
pub fn parse_faults(text: &str) -> Result<Vec<Fault>, String> {
    let entries: Vec<FaultFileEntry> =
        serde_json::from_str(text).map_err(|e| format!("invalid faults JSON: {e}"))?;
    entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| e.into_fault(i))
        .collect()
}

/// Reads fault rules from a file; see [`parse_faults`].
pub fn load_faults(path: &Path) -> io::Result<Vec<Fault>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| io::Error::new(e.kind(), format!("reading {}: {e}", path.display())))?;
    parse_faults(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))
}

pub(crate) fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_expires_in_about_180_days() {
        let t = TokenSpec::viewer("x");
        let exp = t.expiry().unwrap().unwrap();
        let days = (exp - OffsetDateTime::now_utc()).whole_days();
        assert!((179..=180).contains(&days), "{days}");
        assert_eq!(t.scope, "account");
        assert!(t.can_read_agents);
    }

    #[test]
    fn agents_accept_array_or_envelope() {
        assert_eq!(parse_agents(r#"[{"id":"1"}]"#).unwrap().len(), 1);
        assert_eq!(
            parse_agents(r#"{"data":[{"id":"1"},{}]}"#).unwrap().len(),
            2
        );
        assert!(parse_agents(r#"{"items":[]}"#).is_err());
        assert!(parse_agents(r#"[1]"#).is_err());
        assert!(parse_agents("nope").is_err());
    }

    #[test]
    fn faults_file_format() {
        let f = parse_faults(
            r#"[{"kind":"status","code":503,"retry_after":"2","path":"/web","times":1},
                {"kind":"latency","ms":250,"token":"t"},
                {"kind":"html"},{"kind":"malformed_json"},{"kind":"truncated_json"},
                {"kind":"oversized","bytes":1000},{"kind":"drop"},{"kind":"hang"},
                {"kind":"wrong_shape"},{"kind":"trickle","ms":20},{"kind":"drop_mid_body"},
                {"kind":"redirect","location":"https://127.0.0.1:1/x"},
                {"kind":"error_detail","detail":"x {token}"}]"#,
        )
        .unwrap();
        assert_eq!(f.len(), 13);
        assert_eq!(
            f[0],
            Fault::new(FaultKind::Status {
                code: 503,
                retry_after: Some("2".into())
            })
            .path("/web")
            .times(1)
        );
        assert_eq!(
            f[1],
            Fault::new(FaultKind::Latency(Duration::from_millis(250))).token("t")
        );
        assert_eq!(f[2].kind, FaultKind::Html { status: 200 });
        assert_eq!(f[9].kind, FaultKind::Trickle(Duration::from_millis(20)));
        assert_eq!(
            f[11].kind,
            FaultKind::Redirect {
                status: 302,
                location: "https://127.0.0.1:1/x".into()
            }
        );
        assert!(parse_faults(r#"[{"kind":"explode"}]"#).is_err());
        assert!(parse_faults(r#"[{"kind":"redirect"}]"#).is_err());
        assert_eq!(
            f[12].kind,
            FaultKind::ErrorDetail {
                status: 500,
                detail: "x {token}".into()
            }
        );
        assert!(parse_faults(r#"[{"kind":"trickle"}]"#).is_err());
        assert!(parse_faults(r#"[{"kind":"error_detail"}]"#).is_err());
        assert!(parse_faults(r#"[{"kind":"drop","pth":"/x"}]"#).is_err());
        assert!(parse_faults(r#"[{"kind":"latency"}]"#).is_err());
    }
}
