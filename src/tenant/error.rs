//! Typed failures of tenant requests, each with one line for the user and a fix.

use crate::reason::Reason;
use std::time::Duration;

use serde_json::{Value, json};

use crate::text::{CLIPPED, Redactor, clip, clip_strings};

/// The most of any one piece of text from a tenant's error (a title with its detail,
/// a content type, a `Location`) that is shown or kept: a body may be megabytes.
pub const MAX_ERROR_TEXT: usize = 1024;
/// The most of an error envelope kept whole (it is quoted in `lookup`'s JSON); a
/// larger one keeps only its first error's code, title and detail.
pub const MAX_ERROR_ENVELOPE: usize = 4 * MAX_ERROR_TEXT;

/// Why a request to a tenant did not produce a usable answer.
#[derive(Debug, thiserror::Error)]
pub enum TenantError {
    /// HTTP 401: the token is wrong, revoked or expired.
    #[error("the tenant rejected the API token (HTTP 401{}): it is wrong, revoked or expired", detail_suffix(.envelope))]
    Unauthorized {
        /// The API's error envelope, when it sent one.
        envelope: Option<Value>,
    },
    /// HTTP 403: the token's role cannot read endpoints.
    #[error("the API token's role lacks read access to endpoints (HTTP 403{})", detail_suffix(.envelope))]
    Forbidden {
        /// The API's error envelope, when it sent one.
        envelope: Option<Value>,
    },
    /// HTTP 429 on every attempt.
    #[error("the tenant is rate limiting this token (HTTP 429 after {attempts} attempt(s){})", retry_suffix(.retry_after))]
    RateLimited {
        /// Requests made.
        attempts: u32,
        /// The last `Retry-After` the tenant asked for.
        retry_after: Option<Duration>,
        /// The API's error envelope, when it sent one.
        envelope: Option<Value>,
    },
    /// HTTP 5xx on every attempt.
    #[error("the console failed with HTTP {status} after {attempts} attempt(s){}", detail_suffix(.envelope))]
    Server {
        /// The last status.
        status: u16,
        /// Requests made.
        attempts: u32,
        /// The API's error envelope, when it sent one.
        envelope: Option<Value>,
    },
    /// Another HTTP error with the API's error envelope (e.g. 400 Validation Error).
    #[error("the API refused the request (HTTP {status}{})", detail_suffix(.envelope))]
    Api {
        /// The status.
        status: u16,
        /// The API's error envelope.
        envelope: Option<Value>,
    },
    /// The answer is HTML or otherwise not the API's JSON.
    #[error(
        "HTTP {status} with {what} instead of SentinelOne API JSON: the URL is probably not a SentinelOne console, or a proxy answered"
    )]
    NotSentinelOne {
        /// The status.
        status: u16,
        /// What came back, e.g. "an HTML page".
        what: String,
    },
    /// JSON that does not have the documented shape, or broken JSON.
    #[error("the tenant sent a malformed response (HTTP {status}): {reason}")]
    BadResponse {
        /// The status.
        status: u16,
        /// What is wrong with it.
        reason: String,
    },
    /// The body exceeded the size cap.
    #[error("the response is larger than the {limit}-byte limit")]
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// The console redirected; the token is not sent after redirects.
    #[error("the console answered HTTP {status} redirecting to {location}")]
    Redirect {
        /// The status.
        status: u16,
        /// The `Location` header.
        location: String,
    },
    /// No answer within the request timeout or the command's deadline.
    #[error("no answer from the console within {} ({limit})", humantime::format_duration(*.after))]
    Timeout {
        /// How long that was.
        after: Duration,
        /// Which limit struck, so the hint names the setting that moves it.
        limit: TimeLimit,
    },
    /// The TLS handshake failed (untrusted or wrong certificate).
    #[error("TLS with {host} failed: {reason}")]
    Tls {
        /// The console host.
        host: String,
        /// The underlying error chain.
        reason: String,
    },
    /// The connection could not be made or broke before an answer.
    #[error("network error talking to {host}: {reason}")]
    Network {
        /// The console host.
        host: String,
        /// The underlying error chain.
        reason: String,
    },
    /// The extra CA file is unusable.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
    /// The relay's answer is too old, or does not say how old it is.
    #[error("the relay's answer cannot be used: {why}")]
    RelayStale {
        /// When the relay's inventory was synced, when it said.
        synced_at: Option<time::OffsetDateTime>,
        /// What is wrong with it.
        why: String,
    },
    /// The relay refused this device's credentials (401 or 403 from a relay).
    #[error("the relay refused this device's credentials (HTTP {status})")]
    RelayRefused {
        /// The status it answered.
        status: u16,
    },
    /// The device's client certificate or key for the relay is unusable.
    #[error("the client certificate for the relay cannot be used: {reason}")]
    ClientIdentity {
        /// Why.
        reason: String,
    },
}

/// The time limits a request can hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeLimit {
    /// Connecting (`[http] connect_timeout`).
    #[error("connect timeout")]
    Connect,
    /// One request (`[http] request_timeout`).
    #[error("request timeout")]
    Request,
    /// The whole command (`[http] deadline`, or `--timeout`).
    #[error("the command's deadline")]
    Deadline,
}

impl TenantError {
    /// What the user can do about it.
    pub fn hint(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => {
                "create a new API token (console: My User > Actions > API Token Operations, or a service user) and store it in the token file"
            }
            Self::Forbidden { .. } => {
                "give the token's user or service user the Viewer role (Endpoints: View) on the account or site"
            }
            Self::RateLimited { .. } => {
                "wait a minute and try again; other tools may be sharing this token"
            }
            Self::Server { .. } => "the console had an internal error; try again later",
            Self::Api { .. } | Self::BadResponse { .. } | Self::TooLarge { .. } => {
                "check that the URL is the SentinelOne console; if it is, report this with -vv output"
            }
            Self::NotSentinelOne { .. } | Self::Redirect { .. } => {
                "use the console address (https://<tenant>.sentinelone.net) and check any proxy between this device and the console"
            }
            Self::Timeout {
                limit: TimeLimit::Connect,
                ..
            } => "check the network and proxy, or allow more time with `[http] connect_timeout`",
            Self::Timeout {
                limit: TimeLimit::Request,
                ..
            } => "check the network and proxy, or allow more time with `[http] request_timeout`",
            Self::Timeout {
                limit: TimeLimit::Deadline,
                ..
            } => {
                "check the network and proxy, or allow more time with `[http] deadline` (`lookup` and `integration test` also take --timeout)"
            }
            Self::Tls { .. } => {
                "if the console or a TLS-inspecting proxy uses a private CA, pass --ca-file (or set ca_file for the integration)"
            }
            Self::Network { .. } => {
                "check the URL, DNS, proxy settings (HTTPS_PROXY) and that this device can reach the console"
            }
            Self::CaFile { .. } => "give a readable PEM file with one or more CA certificates",
            Self::Setup(_) => "report this with -vv output",
            Self::RelayStale { .. } => {
                "the relay cannot sync with the tenant: check its /readyz and /metrics, or its logs (docs/relay.md)"
            }
            Self::ClientIdentity { .. } => {
                "give client_cert a PEM certificate chain and client_key its PEM private key"
            }
            Self::RelayRefused { .. } => {
                "the relay refused this device: check relay_secret_file, or client_cert and client_key, against the relay's [server] settings (docs/relay.md)"
            }
        }
    }

    /// The stable reason code used in posture results.
    pub fn reason_code(&self) -> Reason {
        match self {
            Self::Unauthorized { .. } | Self::RelayRefused { .. } => Reason::AuthFailed,
            Self::Forbidden { .. } => Reason::Forbidden,
            Self::RateLimited { .. } => Reason::RateLimited,
            Self::Timeout { .. } => Reason::Timeout,
            Self::Tls { .. } | Self::Network { .. } => Reason::NetworkError,
            Self::CaFile { .. } | Self::Setup(_) | Self::ClientIdentity { .. } => {
                Reason::ConfigError
            }
            Self::RelayStale { .. } => Reason::RelayStale,
            _ => Reason::BadResponse,
        }
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { .. } => Some(401),
            Self::Forbidden { .. } => Some(403),
            Self::RateLimited { .. } => Some(429),
            Self::Server { status, .. }
            | Self::Api { status, .. }
            | Self::NotSentinelOne { status, .. }
            | Self::BadResponse { status, .. }
            | Self::Redirect { status, .. }
            | Self::RelayRefused { status } => Some(*status),
            _ => None,
        }
    }

    /// The API's JSON error body, when there was one.
    pub fn envelope(&self) -> Option<&Value> {
        match self {
            Self::Unauthorized { envelope }
            | Self::Forbidden { envelope }
            | Self::RateLimited { envelope, .. }
            | Self::Server { envelope, .. }
            | Self::Api { envelope, .. } => envelope.as_ref(),
            _ => None,
        }
    }

    /// The error with every piece of text the tenant sent made fit to show and keep:
    /// credentials (`redactor`'s secrets, echoed `Authorization` values) replaced, and
    /// each piece cut to [`MAX_ERROR_TEXT`] (an envelope to [`MAX_ERROR_ENVELOPE`]).
    /// The client applies it to every error it returns.
    pub fn sanitized(mut self, redactor: &Redactor) -> Self {
        let text = match &mut self {
            Self::Unauthorized { envelope }
            | Self::Forbidden { envelope }
            | Self::RateLimited { envelope, .. }
            | Self::Server { envelope, .. }
            | Self::Api { envelope, .. } => {
                if let Some(value) = envelope {
                    sanitize_envelope(value, redactor);
                }
                None
            }
            Self::NotSentinelOne { what: text, .. }
            | Self::BadResponse { reason: text, .. }
            | Self::Redirect { location: text, .. }
            | Self::Tls { reason: text, .. }
            | Self::Network { reason: text, .. } => Some(text),
            // No text from the tenant: a limit, a local file, the client's own set-up.
            // The relay's date is parsed before it is quoted; the key is local.
            Self::TooLarge { .. }
            | Self::Timeout { .. }
            | Self::CaFile { .. }
            | Self::Setup(_)
            | Self::RelayStale { .. }
            | Self::RelayRefused { .. }
            | Self::ClientIdentity { .. } => None,
        };
        if let Some(text) = text {
            redactor.redact(text);
            clip(text, MAX_ERROR_TEXT);
        }
        self
    }

    /// Whether the tenant could not be reached at all (as opposed to answering badly).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Timeout { .. } | Self::Tls { .. } | Self::Network { .. }
        )
    }
}

/// Reads `errors[]` from a body, if it is the API's error envelope.
pub fn parse_envelope(body: &[u8]) -> Option<Value> {
    let value: Value = serde_json::from_slice(body).ok()?;
    value.get("errors")?.as_array()?;
    Some(value)
}

/// Redacts and clips an envelope's strings; one still over [`MAX_ERROR_ENVELOPE`]
/// keeps its first error's code, title and detail, the detail marked as cut.
fn sanitize_envelope(envelope: &mut Value, redactor: &Redactor) {
    redactor.redact_strings(envelope);
    clip_strings(envelope, MAX_ERROR_TEXT);
    let size = serde_json::to_vec(envelope).map_or(usize::MAX, |b| b.len());
    if size <= MAX_ERROR_ENVELOPE {
        return;
    }
    let first = envelope.get("errors").and_then(|e| e.get(0));
    let field = |key| first.and_then(|f| f.get(key)).cloned();
    let mut detail = field("detail")
        .and_then(|d| d.as_str().map(str::to_owned))
        .unwrap_or_default();
    if !detail.ends_with(CLIPPED) {
        clip(&mut detail, MAX_ERROR_TEXT - CLIPPED.len());
        if !detail.ends_with(CLIPPED) {
            detail.push_str(CLIPPED);
        }
    }
    *envelope = json!({"errors": [{
        "code": field("code").filter(|c| c.is_number()),
        "title": field("title").filter(|t| t.is_string()),
        "detail": detail,
    }]});
}

/// ": <title> — <detail>" for the first entry of an error envelope, at most
/// [`MAX_ERROR_TEXT`] long.
fn detail_suffix(envelope: &Option<Value>) -> String {
    let Some(first) = envelope
        .as_ref()
        .and_then(|e| e.get("errors"))
        .and_then(|e| e.get(0))
    else {
        return String::new();
    };
    let text = |key| {
        first
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut suffix = match (text("title"), text("detail")) {
        (Some(title), Some(detail)) => format!(" {title}: {detail}"),
        (Some(one), None) | (None, Some(one)) => format!(" {one}"),
        (None, None) => String::new(),
    };
    clip(&mut suffix, MAX_ERROR_TEXT);
    suffix
}

fn retry_suffix(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|d| format!("; it asked to wait {}", humantime::format_duration(d)))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timeout_names_the_limit_that_struck() {
        let hint = |limit| {
            let e = TenantError::Timeout {
                after: Duration::from_secs(15),
                limit,
            };
            (e.to_string(), e.hint())
        };
        let (message, request) = hint(TimeLimit::Request);
        assert!(
            message.ends_with("within 15s (request timeout)"),
            "{message}"
        );
        assert!(request.contains("[http] request_timeout") && !request.contains("--timeout"));
        assert!(
            hint(TimeLimit::Connect)
                .1
                .contains("[http] connect_timeout")
        );
        assert!(hint(TimeLimit::Deadline).1.contains("[http] deadline"));
    }

    #[test]
    fn messages_carry_the_envelope_title() {
        let envelope = parse_envelope(
            br#"{"errors":[{"code":4010010,"detail":null,"title":"Authentication Failed"}]}"#,
        );
        let err = TenantError::Unauthorized { envelope };
        assert_eq!(
            err.to_string(),
            "the tenant rejected the API token (HTTP 401 Authentication Failed): it is wrong, revoked or expired"
        );
        assert_eq!(err.reason_code(), "auth_failed");
        assert_eq!(err.status(), Some(401));
    }

    const SECRET: &str = "s1t-Sup3rS3cr3t-7f1c";

    fn redactor() -> Redactor {
        Redactor::new([crate::token::ApiToken::new(SECRET).unwrap()])
    }

    #[test]
    fn an_echoed_token_is_redacted_everywhere_in_the_error() {
        let body = json!({"errors": [{
            "code": 4010010,
            "title": "Authentication Failed",
            "detail": format!("header was Authorization: ApiToken {SECRET}"),
        }], "echo": {SECRET: [format!("raw {SECRET}")]}});
        let err = TenantError::Unauthorized {
            envelope: parse_envelope(body.to_string().as_bytes()),
        }
        .sanitized(&redactor());
        let shown = err.to_string();
        let kept = err.envelope().unwrap().to_string();
        for text in [&shown, &kept] {
            assert!(!text.contains(SECRET), "{text}");
            assert!(text.contains("ApiToken [redacted]"), "{text}");
        }
        let redirect = TenantError::Redirect {
            status: 302,
            location: format!("https://evil.example/?t={SECRET}"),
        }
        .sanitized(&redactor());
        assert!(!redirect.to_string().contains(SECRET));
    }

    #[test]
    fn a_huge_error_body_is_clipped_and_marked() {
        let detail = format!("Authorization: Bearer abc {}", "日本".repeat(200_000));
        let body = json!({"errors": [{"code": 5000010, "title": "Internal server error", "detail": detail}]});
        let err = TenantError::Server {
            status: 500,
            attempts: 1,
            envelope: parse_envelope(body.to_string().as_bytes()),
        }
        .sanitized(&redactor());
        let shown = err.to_string();
        assert!(shown.len() < MAX_ERROR_TEXT + 100, "{} bytes", shown.len());
        assert!(shown.ends_with(CLIPPED), "{shown}");
        assert!(shown.contains("Bearer [redacted]"), "{shown}");
        let detail = err.envelope().unwrap()["errors"][0]["detail"]
            .as_str()
            .unwrap();
        assert!(detail.len() <= MAX_ERROR_TEXT && detail.ends_with(CLIPPED));
        // Many small errors add up: the envelope keeps the first, marked as cut.
        let many: Vec<Value> = (0..500)
            .map(|i| json!({"code": i, "title": "Validation Error", "detail": "field x"}))
            .collect();
        let err = TenantError::Api {
            status: 400,
            envelope: Some(json!({ "errors": many })),
        }
        .sanitized(&redactor());
        let kept = err.envelope().unwrap();
        assert!(kept.to_string().len() <= MAX_ERROR_ENVELOPE);
        assert_eq!(kept["errors"].as_array().unwrap().len(), 1);
        assert_eq!(kept["errors"][0]["detail"], format!("field x{CLIPPED}"));
        assert_eq!(kept["errors"][0]["code"], 0);
    }

    #[test]
    fn other_tenant_texts_are_clipped() {
        let err = TenantError::NotSentinelOne {
            status: 200,
            what: format!("a non-JSON body ({})", "x".repeat(10_000)),
        }
        .sanitized(&Redactor::default());
        assert!(err.to_string().len() < MAX_ERROR_TEXT + 200);
        let err = TenantError::BadResponse {
            status: 200,
            reason: "é".repeat(5_000),
        }
        .sanitized(&Redactor::default());
        assert!(err.to_string().ends_with(CLIPPED));
    }

    #[test]
    fn non_envelopes_are_ignored() {
        assert!(parse_envelope(b"<html>").is_none());
        assert!(parse_envelope(br#"{"data":[]}"#).is_none());
    }
}
