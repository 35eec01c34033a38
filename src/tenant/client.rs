//! The HTTP client: one tenant, one token, one deadline for the whole command.
//!
//! Retries cover what a tenant or a load balancer does under load (429, 502,
//! 503, 504, dropped connections) and never run past the command's deadline,
//! so a login-time caller always gets an answer in bounded time.

mod tls;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::Value;

use super::error::{TenantError, TimeLimit, parse_envelope};
use super::relay::{self, RelayAccess};
use super::url::ConsoleUrl;
use crate::fs_trust::{self, Rule, TrustError};
use crate::text::Redactor;
use crate::token::ApiToken;

/// Largest response body accepted; a full agents page is a few MiB.
pub const MAX_BODY: usize = 32 * 1024 * 1024;
/// Requests per call, first try included.
const MAX_ATTEMPTS: u32 = 4;
/// A 429 is the tenant asking to come back later, not failing: a fleet sharing one token
/// at its limit gets more tries (still never past the deadline; the fleet model in
/// `tests/it/fleet.rs` measures what this costs in requests).
const MAX_ATTEMPTS_RATE_LIMITED: u32 = 8;
const BACKOFF_BASE: Duration = Duration::from_millis(250);
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// A parsed JSON answer.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// The JSON body.
    pub body: Value,
    /// The body as sent (what a lookup quotes as `rawResponse`): a third the size of
    /// its parsed tree, so this is what is kept when a page must be held.
    pub bytes: Vec<u8>,
    /// Time from the first attempt to the answer.
    pub elapsed: Duration,
    /// Through a relay: when the inventory it answered from was synced.
    pub synced_at: Option<time::OffsetDateTime>,
}

/// When every call of a client must be done, and the budget that instant stands
/// for (`[http] deadline` or `--timeout`, counted from the command's start), so a
/// timeout names the limit the user set rather than the time left when it struck.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The instant.
    pub at: Instant,
    /// The whole budget.
    pub budget: Duration,
}

impl Deadline {
    /// `budget` from `started`.
    pub fn after(started: Instant, budget: Duration) -> Self {
        Self {
            at: started + budget,
            budget,
        }
    }
}

/// Timeouts for talking to a tenant (the configuration's `[http]` table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Time allowed to open a TCP + TLS connection.
    pub connect_timeout: Duration,
    /// Time allowed for one request, body included.
    pub request_timeout: Duration,
    /// Time allowed for the whole command, retries included.
    pub deadline: Duration,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            deadline: Duration::from_secs(30),
        }
    }
}

/// A client bound to one console, one token and one deadline.
#[derive(Debug, Clone)]
pub struct TenantClient {
    http: reqwest::Client,
    console: ConsoleUrl,
    token: Option<ApiToken>,
    /// Set when `console` is an s1trust-relay: `token` is then its bearer secret.
    relay: Option<RelayCheck>,
    /// Knows the token even in an [`TenantClient::anonymous`] copy: what one request
    /// carried, a server may repeat to another.
    redactor: Redactor,
    connect_timeout: Duration,
    request_timeout: Duration,
    deadline: Deadline,
}

/// What a client of a relay sends with each request and demands of each answer.
#[derive(Debug, Clone)]
struct RelayCheck {
    console: HeaderValue,
    max_age: Duration,
}

/// Why one attempt produced no response to interpret.
enum AttemptError {
    Transport(reqwest::Error),
    TooLarge,
}

impl From<reqwest::Error> for AttemptError {
    fn from(e: reqwest::Error) -> Self {
        Self::Transport(e)
    }
}

/// What came back from one attempt, before interpretation.
struct RawResponse {
    status: u16,
    content_type: String,
    retry_after: Option<Duration>,
    location: Option<String>,
    synced_at: Option<String>,
    body: Vec<u8>,
}

impl TenantClient {
    /// Builds a client. `deadline` bounds every call made through it, retries included.
    pub fn new(
        console: ConsoleUrl,
        token: Option<ApiToken>,
        settings: &HttpSettings,
        ca_file: Option<&CaFile>,
        deadline: Deadline,
    ) -> Result<Self, TenantError> {
        Self::build(console, token, None, settings, ca_file, deadline)
    }

    /// A client of the s1trust-relay at `relay_url`, which answers for `access.console`
    /// (docs/relay.md): no API token, the relay's credentials instead, and every answer
    /// checked for the age of the inventory it came from.
    pub fn through_relay(
        relay_url: ConsoleUrl,
        access: &RelayAccess,
        settings: &HttpSettings,
        ca_file: Option<&CaFile>,
        deadline: Deadline,
    ) -> Result<Self, TenantError> {
        let console = HeaderValue::from_str(access.console.as_str())
            .map_err(|e| TenantError::Setup(e.to_string()))?;
        let check = RelayCheck {
            console,
            max_age: access.max_age,
        };
        let identity = access.identity.as_ref();
        let relay = Some((check, identity));
        Self::build(
            relay_url,
            access.secret.clone(),
            relay,
            settings,
            ca_file,
            deadline,
        )
    }

    fn build(
        console: ConsoleUrl,
        token: Option<ApiToken>,
        relay: Option<(RelayCheck, Option<&relay::ClientIdentity>)>,
        settings: &HttpSettings,
        ca_file: Option<&CaFile>,
        deadline: Deadline,
    ) -> Result<Self, TenantError> {
        let builder = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("s1trust/", env!("CARGO_PKG_VERSION")))
            .https_only(!console.is_plain_http());
        let extra = match ca_file {
            Some(ca) => parse_ca_file(ca)?,
            None => Vec::new(),
        };
        let (relay, identity) = relay.unzip();
        let http = tls::configure(builder, extra, identity.flatten())?
            .build()
            .map_err(|e| TenantError::Setup(error_chain(&e)))?;
        Ok(Self {
            http,
            console,
            redactor: Redactor::new(token.clone()),
            token,
            relay,
            connect_timeout: settings.connect_timeout,
            request_timeout: settings.request_timeout,
            deadline,
        })
    }

    /// The same client without the token, for endpoints that need none.
    pub fn anonymous(&self) -> Self {
        Self {
            token: None,
            ..self.clone()
        }
    }

    /// The console this client talks to (the relay, for a relay's client).
    pub fn console(&self) -> &ConsoleUrl {
        &self.console
    }

    /// Whether this client asks an s1trust-relay rather than the console.
    pub fn is_relay(&self) -> bool {
        self.relay.is_some()
    }

    /// `GET /web/api/v2.1{path}?{query}`, authenticated when the client has a token.
    /// An error's text from the tenant comes back redacted and clipped
    /// ([`TenantError::sanitized`]), so no caller can show or store it raw.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<ApiResponse, TenantError> {
        self.get_unsanitized(path, query)
            .await
            .map_err(|e| self.relay_refusal(e).sanitized(&self.redactor))
    }

    /// A relay's 401 or 403 is about this device's relay credentials, not an API token.
    fn relay_refusal(&self, error: TenantError) -> TenantError {
        match (&self.relay, error.status()) {
            (Some(_), Some(status @ (401 | 403))) => TenantError::RelayRefused { status },
            _ => error,
        }
    }

    async fn get_unsanitized(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<ApiResponse, TenantError> {
        let mut url = self.console.api(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let started = Instant::now();
        let raw = self.send_with_retries(&url).await?;
        let synced_at = match &self.relay {
            Some(check) if (200..300).contains(&raw.status) => Some(relay::check_synced_at(
                raw.synced_at.as_deref(),
                check.max_age,
                time::OffsetDateTime::now_utc(),
            )?),
            _ => None,
        };
        let (status, body, bytes) = interpret(raw)?;
        Ok(ApiResponse {
            status,
            body,
            bytes,
            elapsed: started.elapsed(),
            synced_at,
        })
    }

    async fn send_with_retries(&self, url: &reqwest::Url) -> Result<RawResponse, TenantError> {
        let mut attempt = 0;
        // The failure being retried: when the deadline then cuts the retry short,
        // it says more than "timeout" (the tenant answered 503, the connection broke).
        let mut retrying: Option<Result<RawResponse, reqwest::Error>> = None;
        loop {
            attempt += 1;
            let remaining = self.deadline.at.saturating_duration_since(Instant::now());
            let cut_short =
                |retrying: Option<Result<RawResponse, reqwest::Error>>, after| match retrying {
                    Some(Ok(raw)) => final_status_error(raw, attempt - 1),
                    Some(Err(e)) => self.map_transport(&e),
                    None => TenantError::Timeout {
                        after,
                        limit: TimeLimit::Deadline,
                    },
                };
            if remaining.is_zero() {
                return Err(cut_short(retrying, self.deadline.budget));
            }
            // The limit named is the one that strikes: the request timeout, or the
            // command's whole budget when less than a request timeout is left of it.
            let (limit, named) = if remaining < self.request_timeout {
                (remaining, self.deadline.budget)
            } else {
                (self.request_timeout, self.request_timeout)
            };
            let outcome = tokio::time::timeout(limit, self.send_once(url)).await;
            let (result, wait) = match outcome {
                Err(_) if limit < self.request_timeout => {
                    return Err(cut_short(retrying, named));
                }
                Err(_) => {
                    return Err(TenantError::Timeout {
                        after: named,
                        limit: TimeLimit::Request,
                    });
                }
                Ok(Ok(raw)) if is_retryable_status(raw.status) => {
                    let left = self.deadline.at.saturating_duration_since(Instant::now());
                    let wait = pause(raw.retry_after, attempt, left);
                    (Ok(raw), wait)
                }
                Ok(Ok(raw)) => return Ok(raw),
                Ok(Err(AttemptError::TooLarge)) => {
                    return Err(TenantError::TooLarge { limit: MAX_BODY });
                }
                Ok(Err(AttemptError::Transport(e))) if is_transient(&e) => {
                    (Err(e), backoff(attempt))
                }
                Ok(Err(AttemptError::Transport(e))) => return Err(self.map_transport(&e)),
            };
            // Checked: a huge Retry-After from the server must not overflow the clock.
            let fits = Instant::now()
                .checked_add(wait)
                .is_some_and(|until| until < self.deadline.at);
            tracing::debug!(
                attempt,
                wait_ms = wait.as_millis() as u64,
                fits,
                "request failed, may retry"
            );
            let most = match &result {
                Ok(raw) if raw.status == 429 => MAX_ATTEMPTS_RATE_LIMITED,
                _ => MAX_ATTEMPTS,
            };
            if attempt >= most || !fits {
                return match result {
                    Ok(raw) => Err(final_status_error(raw, attempt)),
                    Err(e) => Err(self.map_transport(&e)),
                };
            }
            retrying = Some(result);
            tokio::time::sleep(wait).await;
        }
    }

    async fn send_once(&self, url: &reqwest::Url) -> Result<RawResponse, AttemptError> {
        let mut request = self
            .http
            .get(url.clone())
            .header(header::ACCEPT, "application/json");
        let scheme = match &self.relay {
            Some(check) => {
                request = request.header(relay::CONSOLE_HEADER, check.console.clone());
                "Bearer"
            }
            None => "ApiToken",
        };
        if let Some(token) = &self.token {
            request = request.headers(auth_header(scheme, token));
        }
        let started = Instant::now();
        let mut response = request.send().await?;
        let status = response.status().as_u16();
        tracing::debug!(%url, status, elapsed_ms = started.elapsed().as_millis() as u64, "response");
        if response
            .content_length()
            .is_some_and(|len| len > MAX_BODY as u64)
        {
            return Err(AttemptError::TooLarge);
        }
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(AttemptError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status,
            content_type: header_str(&headers, header::CONTENT_TYPE).unwrap_or_default(),
            retry_after: header_str(&headers, header::RETRY_AFTER)
                .and_then(|v| parse_retry_after(&v)),
            location: header_str(&headers, header::LOCATION),
            synced_at: header_str(&headers, relay::SYNCED_AT_HEADER),
            body,
        })
    }

    fn map_transport(&self, e: &reqwest::Error) -> TenantError {
        let host = self.console.as_str().to_owned();
        let reason = error_chain(e);
        if e.is_timeout() {
            // The only timeout reqwest itself enforces here is the connect timeout.
            TenantError::Timeout {
                after: self.connect_timeout,
                limit: TimeLimit::Connect,
            }
        } else if is_tls_setup_failure(e) {
            TenantError::Tls { host, reason }
        } else {
            TenantError::Network { host, reason }
        }
    }
}

fn interpret(raw: RawResponse) -> Result<(u16, Value, Vec<u8>), TenantError> {
    match raw.status {
        200..=299 => parse_json_body(&raw).map(|body| (raw.status, body, raw.body)),
        300..=399 => Err(TenantError::Redirect {
            status: raw.status,
            location: raw.location.unwrap_or_else(|| "nowhere".into()),
        }),
        _ => Err(final_status_error(raw, 1)),
    }
}

fn parse_json_body(raw: &RawResponse) -> Result<Value, TenantError> {
    match super::json::parse_strict(&raw.body) {
        Ok(value) => Ok(value),
        Err(_) if !looks_like_json(raw) => Err(TenantError::NotSentinelOne {
            status: raw.status,
            what: describe_body(raw),
        }),
        Err(e) => Err(TenantError::BadResponse {
            status: raw.status,
            reason: format!("invalid JSON ({e})"),
        }),
    }
}

fn final_status_error(raw: RawResponse, attempts: u32) -> TenantError {
    let envelope = parse_envelope(&raw.body);
    match raw.status {
        401 if envelope.is_some() => TenantError::Unauthorized { envelope },
        403 if envelope.is_some() => TenantError::Forbidden { envelope },
        429 => TenantError::RateLimited {
            attempts,
            retry_after: raw.retry_after,
            envelope,
        },
        500..=599 => TenantError::Server {
            status: raw.status,
            attempts,
            envelope,
        },
        status if envelope.is_some() => TenantError::Api { status, envelope },
        status => TenantError::NotSentinelOne {
            status,
            what: describe_body(&raw),
        },
    }
}

fn looks_like_json(raw: &RawResponse) -> bool {
    let first = raw.body.iter().find(|b| !b.is_ascii_whitespace());
    raw.content_type.contains("json") && matches!(first, Some(b'{') | Some(b'['))
}

fn describe_body(raw: &RawResponse) -> String {
    let start = String::from_utf8_lossy(&raw.body[..raw.body.len().min(512)]).to_lowercase();
    if raw.content_type.contains("html") || start.contains("<html") || start.contains("<!doctype") {
        "an HTML page".into()
    } else if raw.body.is_empty() {
        "an empty body".into()
    } else if raw.content_type.is_empty() {
        "a non-JSON body".into()
    } else {
        format!("a non-JSON body ({})", raw.content_type)
    }
}

fn auth_header(scheme: &str, token: &ApiToken) -> HeaderMap {
    let mut headers = HeaderMap::new();
    // ApiToken::new only admits visible ASCII, so this cannot fail in practice.
    if let Ok(mut value) = HeaderValue::from_str(&format!("{scheme} {}", token.expose())) {
        value.set_sensitive(true);
        headers.insert(header::AUTHORIZATION, value);
    }
    headers
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers.get(name)?.to_str().ok().map(str::to_owned)
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// Connection resets, connections closed before or during the answer.
fn is_transient(e: &reqwest::Error) -> bool {
    if e.is_timeout() || e.is_builder() || e.is_redirect() || is_tls_setup_failure(e) {
        return false;
    }
    let chain = error_chain(e).to_lowercase();
    [
        "reset",
        "closed",
        "broken pipe",
        "incomplete",
        "end of file",
        "eof",
        "aborted",
    ]
    .iter()
    .any(|needle| chain.contains(needle))
}

/// A handshake or certificate failure while connecting; a connection cut later
/// (even without TLS close_notify) is a network failure, not a trust problem.
fn is_tls_setup_failure(e: &reqwest::Error) -> bool {
    let chain = error_chain(e).to_lowercase();
    e.is_connect()
        && [
            "certificate",
            "handshake",
            "unknownissuer",
            "tls alert",
            "received fatal alert",
        ]
        .iter()
        .any(|needle| chain.contains(needle))
}

/// Exponential backoff with jitter: half the step plus a random share of the other half.
fn backoff(attempt: u32) -> Duration {
    let step = BACKOFF_BASE
        .saturating_mul(1 << attempt.saturating_sub(1).min(8))
        .min(BACKOFF_CAP);
    step / 2 + step.mul_f64(fastrand::f64() / 2.0)
}

/// The wait before the next attempt: what the server asked for (never less) plus our own
/// backoff, cut to half of what the deadline (`left`) leaves after the asked wait, so an
/// honoured `Retry-After` still leaves time for the attempt. The jitter matters most
/// here: a fleet told "1 second" all at once would otherwise come back all at once,
/// every second, and only the limit's worth would get through.
fn pause(retry_after: Option<Duration>, attempt: u32, left: Duration) -> Duration {
    let own = backoff(attempt);
    match retry_after {
        None => own,
        Some(asked) => asked.saturating_add(own.min(left.saturating_sub(asked) / 2)),
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

/// Extra CA certificates, already read (by the caller's file-trust rule) from `path`.
#[derive(Debug, Clone)]
pub struct CaFile {
    /// Where they came from, for messages.
    pub path: PathBuf,
    /// The PEM text.
    pub pem: Vec<u8>,
}

/// Largest CA bundle read; the whole Mozilla bundle is about 220 KiB.
const MAX_CA_FILE: u64 = 4 * 1024 * 1024;

impl CaFile {
    /// Reads a CA file under the file-trust rule for `owner` (0: the system's): a
    /// configured CA steers which servers are believed (and, on a relay, which server
    /// gets the token), so it must be as trustworthy as the configuration.
    pub(crate) fn read(path: &Path, owner: u32) -> Result<Self, TenantError> {
        let rule = Rule {
            owner,
            root_too: true,
            ..Rule::system(MAX_CA_FILE)
        };
        let (pem, _) = fs_trust::read(path, &rule).map_err(|e| TenantError::CaFile {
            path: path.display().to_string(),
            reason: match e {
                TrustError::Missing(_) => "No such file or directory (os error 2)".into(),
                TrustError::Io { source, .. } => source.to_string(),
                untrusted @ TrustError::Untrusted { .. } => untrusted.why(),
            },
        })?;
        Ok(Self {
            path: path.to_owned(),
            pem,
        })
    }
}

fn parse_ca_file(ca: &CaFile) -> Result<tls::Roots, TenantError> {
    let fail = |reason: String| TenantError::CaFile {
        path: ca.path.display().to_string(),
        reason,
    };
    let certs = tls::parse_pem(&ca.pem).map_err(fail)?;
    if certs.is_empty() {
        return Err(fail("no PEM certificate found".into()));
    }
    Ok(certs)
}

/// An error and its sources on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        let soon = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        let wait = parse_retry_after(&soon).unwrap();
        assert!(wait > Duration::from_secs(25) && wait <= Duration::from_secs(30));
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_a_cap() {
        for attempt in 1..12 {
            let step = BACKOFF_BASE
                .saturating_mul(1 << (attempt - 1).min(8))
                .min(BACKOFF_CAP);
            let wait = backoff(attempt);
            assert!(wait >= step / 2 && wait <= step, "{attempt}: {wait:?}");
        }
    }

    #[test]
    fn a_retry_after_is_a_floor_with_jitter_on_top() {
        let asked = Duration::from_secs(1);
        let minute = Duration::from_secs(60);
        let waits: Vec<Duration> = (0..50).map(|_| pause(Some(asked), 1, minute)).collect();
        assert!(
            waits
                .iter()
                .all(|w| *w >= asked && *w <= asked + BACKOFF_BASE)
        );
        assert!(waits.iter().any(|w| *w != waits[0]), "no jitter: {waits:?}");
        assert!(pause(Some(asked), 6, minute) >= asked + BACKOFF_CAP / 2);
        assert_eq!(pause(Some(Duration::MAX), 3, minute), Duration::MAX);
        // Near the deadline the jitter shrinks, so the asked-for retry still happens.
        let tight = pause(Some(Duration::from_secs(2)), 6, Duration::from_secs(3));
        assert!(tight >= Duration::from_secs(2) && tight <= Duration::from_millis(2500));
    }

    fn raw(status: u16, content_type: &str, body: &str) -> RawResponse {
        RawResponse {
            status,
            content_type: content_type.into(),
            retry_after: None,
            location: None,
            synced_at: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn classifies_bodies() {
        let html = interpret(raw(200, "text/html", "<html><body>Login</body></html>")).unwrap_err();
        assert!(
            matches!(html, TenantError::NotSentinelOne { ref what, .. } if what == "an HTML page")
        );
        let broken = interpret(raw(200, "application/json", "{\"data\": [ {\"id\": ")).unwrap_err();
        assert!(matches!(broken, TenantError::BadResponse { .. }));
        let ok = interpret(raw(200, "application/json", "{\"data\": []}")).unwrap();
        assert_eq!(ok.0, 200);
        let proxy401 = interpret(raw(401, "text/html", "<html>SSO</html>")).unwrap_err();
        assert!(matches!(
            proxy401,
            TenantError::NotSentinelOne { status: 401, .. }
        ));
        let forbidden = interpret(raw(403, "application/json", r#"{"errors":[{"code":4030010,"title":"Insufficient permissions","detail":"User does not have required permissions"}]}"#)).unwrap_err();
        assert!(
            forbidden
                .to_string()
                .contains("Insufficient permissions: User does not have required permissions")
        );
        let moved = interpret(raw(302, "", "")).unwrap_err();
        assert!(matches!(moved, TenantError::Redirect { status: 302, .. }));
    }
}
