//! The two listeners: devices' agent lookups (TLS, authenticated, rate limited) and
//! the operators' `/healthz`, `/readyz` and `/metrics` (plain HTTP, loopback by default).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use super::auth::{Secrets, fingerprint};
use super::config::IntegrationSettings;
use super::inventory::{Inventory, Query};
use super::limits::RateLimiter;
use super::metrics::{Metrics, Outcome};
use crate::identity::uuid::normalize_uuid;
use crate::tenant::ConsoleUrl;
use crate::tenant::relay::{CONSOLE_HEADER, SYNCED_AT_HEADER, format_synced_at};

/// The one path devices may ask.
pub const AGENTS_PATH: &str = "/web/api/v2.1/agents";
/// Time a client has to finish its TLS handshake or its request head.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// `Retry-After` before the first complete sync.
const NOT_READY_RETRY: &str = "30";

type Body = Full<Bytes>;

/// One integration as the server sees it.
#[derive(Debug)]
pub struct Held {
    /// Its configuration.
    pub settings: IntegrationSettings,
    /// The last complete inventory; replaced whole, never edited.
    pub inventory: RwLock<Option<Arc<Inventory>>>,
}

impl Held {
    /// The inventory being served.
    pub fn current(&self) -> Option<Arc<Inventory>> {
        self.inventory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// What every request handler shares.
#[derive(Debug)]
pub struct State {
    /// The integrations, in configuration order (metrics use the same order).
    pub held: Vec<Held>,
    /// Bearer secrets; empty when only mutual TLS authenticates.
    pub secrets: Secrets,
    /// Per-client limits.
    pub limiter: RateLimiter,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
}

/// An answer before it becomes HTTP.
struct Answer {
    status: StatusCode,
    body: Vec<u8>,
    retry_after: Option<String>,
    synced_at: Option<String>,
    outcome: Outcome,
}

impl Answer {
    /// The API's error envelope.
    fn error(status: StatusCode, outcome: Outcome, detail: &str) -> Self {
        let (code, title) = match status.as_u16() {
            401 => (4010010, "Authentication Failed"),
            404 => (4040010, "Not Found"),
            429 => (4290010, "Too Many Requests"),
            503 => (5030010, "Service Unavailable"),
            _ => (4000010, "Validation Error"),
        };
        let body =
            serde_json::json!({"errors": [{"code": code, "title": title, "detail": detail}]});
        Self {
            status,
            body: body.to_string().into_bytes(),
            retry_after: None,
            synced_at: None,
            outcome,
        }
    }

    fn bad(detail: &str) -> Self {
        Self::error(StatusCode::BAD_REQUEST, Outcome::BadRequest, detail)
    }

    fn retry_after(mut self, seconds: String) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Full::new(Bytes::from(self.body)));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let extra = [
            (RETRY_AFTER, self.retry_after),
            (
                SYNCED_AT_HEADER.parse().expect("a valid header name"),
                self.synced_at,
            ),
        ];
        for (name, value) in extra {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                headers.insert(name, value);
            }
        }
        response
    }
}

/// Reads the query string of an agents request: one agent by UUID (`uuid`, or
/// `uuids` holding spellings of one UUID) or by one serial (`serialNumber__contains`,
/// answered as an exact match), plus the parameters a device always sends.
pub fn parse_query(raw: Option<&str>) -> Result<Query, String> {
    let mut seen: Vec<(String, String)> = Vec::new();
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if seen.iter().any(|(k, _)| *k == key) {
            return Err(format!("`{key}` is given twice"));
        }
        seen.push((key.into_owned(), value.into_owned()));
    }
    let get = |key: &str| seen.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    for (key, value) in &seen {
        check_parameter(key, value)?;
    }
    match (get("uuid"), get("uuids"), get("serialNumber__contains")) {
        (Some(one), None, None) if !one.contains(',') => uuid_query(vec![one.to_owned()]),
        (None, Some(list), None) => {
            uuid_query(list.split(',').map(|s| s.trim().to_owned()).collect())
        }
        (None, None, Some(serial)) if serial.contains(',') => {
            Err("the relay answers one serial per request".into())
        }
        (None, None, Some(serial)) if serial.trim().is_empty() => {
            Err("`serialNumber__contains` is empty".into())
        }
        (None, None, Some(serial)) => Ok(Query::Serial(serial.to_owned())),
        (None, None, None) => {
            Err("ask for one agent: `uuid`, `uuids` or `serialNumber__contains`".into())
        }
        _ => Err("ask for one agent: by UUID or by serial, not both".into()),
    }
}

fn check_parameter(key: &str, value: &str) -> Result<(), String> {
    match key {
        "uuid" | "uuids" | "serialNumber__contains" | "cursor" => Ok(()),
        "limit" => match value.parse::<u32>() {
            Ok(1..=1000) => Ok(()),
            _ => Err("`limit` must be between 1 and 1000".into()),
        },
        "isDecommissioned" | "isUninstalled" => {
            let mut values: Vec<String> =
                value.split(',').map(|v| v.trim().to_lowercase()).collect();
            values.sort();
            if values == ["false", "true"] {
                Ok(())
            } else {
                Err(format!(
                    "the relay always includes retired records: send `{key}=true,false`"
                ))
            }
        }
        other => Err(format!("the relay does not take `{other}`")),
    }
}

fn uuid_query(spellings: Vec<String>) -> Result<Query, String> {
    let first = spellings
        .first()
        .map(|s| normalize_uuid(s))
        .unwrap_or_default();
    if first.is_empty() || spellings.iter().any(|s| normalize_uuid(s) != first) {
        return Err("the relay answers one agent per request: every UUID given must be a spelling of the same one".into());
    }
    Ok(Query::Uuid(spellings))
}

impl State {
    fn integration(&self, console: Option<&str>) -> Result<&Held, Answer> {
        let Some(console) = console else {
            return match self.held.as_slice() {
                [only] => Ok(only),
                _ => Err(Answer::bad(&format!(
                    "name the tenant: this relay holds several; send `{CONSOLE_HEADER}: <console URL>`"
                ))),
            };
        };
        let wanted = ConsoleUrl::parse(console)
            .map_err(|e| Answer::bad(&format!("`{CONSOLE_HEADER}`: {e}")))?;
        self.held
            .iter()
            .find(|h| h.settings.url == wanted)
            .ok_or_else(|| {
                Answer::error(
                    StatusCode::NOT_FOUND,
                    Outcome::BadRequest,
                    "this relay holds no inventory for that tenant",
                )
            })
    }

    fn answer(&self, client: &str, req: &Request<Incoming>) -> Answer {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        if !self.secrets.is_empty() && !self.secrets.admit(header(AUTHORIZATION.as_str())) {
            // Debug, not info: anyone who can connect could otherwise fill the log.
            tracing::debug!(client, "refused: no valid bearer secret");
            return Answer::error(
                StatusCode::UNAUTHORIZED,
                Outcome::Unauthorized,
                "send Authorization: Bearer <relay secret>",
            );
        }
        // After authentication: a stranger behind the same address (a NAT, a load
        // balancer that does not keep source addresses) cannot spend devices' budget.
        if let Err(wait) = self.limiter.check(client, Instant::now()) {
            let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
            return Answer::error(
                StatusCode::TOO_MANY_REQUESTS,
                Outcome::RateLimited,
                "too many requests from this client",
            )
            .retry_after(seconds.to_string());
        }
        if req.uri().path() != AGENTS_PATH {
            return Answer::error(
                StatusCode::NOT_FOUND,
                Outcome::BadRequest,
                "the relay answers GET /web/api/v2.1/agents only",
            );
        }
        if req.method() != Method::GET {
            return Answer::bad("the relay answers GET only");
        }
        let held = match self.integration(header(CONSOLE_HEADER)) {
            Ok(held) => held,
            Err(answer) => return answer,
        };
        let query = match parse_query(req.uri().query()) {
            Ok(query) => query,
            Err(why) => return Answer::bad(&why),
        };
        let Some(inventory) = held.current() else {
            return Answer::error(
                StatusCode::SERVICE_UNAVAILABLE,
                Outcome::NotReady,
                "the relay has not completed its first sync of this tenant yet",
            )
            .retry_after(NOT_READY_RETRY.into());
        };
        let (body, count) = inventory.answer(&query);
        Answer {
            status: StatusCode::OK,
            body,
            retry_after: None,
            synced_at: Some(format_synced_at(inventory.synced_at)),
            outcome: if count > 0 {
                Outcome::Found
            } else {
                Outcome::NotFound
            },
        }
    }

    /// `/healthz`, `/readyz`, `/metrics`.
    fn ops(&self, req: &Request<Incoming>) -> Response<Body> {
        let (status, content_type, body) = match req.uri().path() {
            "/healthz" => (StatusCode::OK, "text/plain", "ok\n".to_owned()),
            "/readyz" => {
                let waiting: Vec<&str> = self
                    .held
                    .iter()
                    .filter(|h| h.current().is_none())
                    .map(|h| h.settings.name.as_str())
                    .collect();
                if waiting.is_empty() {
                    (StatusCode::OK, "text/plain", "ready\n".to_owned())
                } else {
                    let text = format!("no complete inventory yet: {}\n", waiting.join(", "));
                    (StatusCode::SERVICE_UNAVAILABLE, "text/plain", text)
                }
            }
            "/metrics" => (
                StatusCode::OK,
                "text/plain; version=0.0.4",
                self.metrics.render(),
            ),
            _ => (
                StatusCode::NOT_FOUND,
                "text/plain",
                "not found\n".to_owned(),
            ),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}

/// Which listener a connection came in on.
#[derive(Clone)]
pub enum Role {
    /// Devices: TLS (unless plain HTTP on loopback was configured).
    Devices(Option<TlsAcceptor>),
    /// Operators: plain HTTP.
    Ops,
}

/// Accepts connections until `stop` turns true; each is served until it ends or the
/// graceful shutdown asks it to finish its request and close.
pub async fn accept_loop(
    listener: TcpListener,
    role: Role,
    state: Arc<State>,
    graceful: Arc<GracefulShutdown>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = stopped(&mut stop) => return,
        };
        let watcher = graceful.watcher();
        let (state, role) = (state.clone(), role.clone());
        tokio::spawn(async move { serve(stream, peer, role, state, watcher).await });
    }
}

async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    role: Role,
    state: Arc<State>,
    watcher: Watcher,
) {
    let _ = stream.set_nodelay(true);
    match role {
        Role::Ops => {
            let service = service_fn(move |req| {
                let response = state.ops(&req);
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = watcher.watch(http(TokioIo::new(stream), service)).await;
        }
        Role::Devices(None) => {
            let client: Arc<str> = peer.ip().to_string().into();
            let _ = watcher
                .watch(http(TokioIo::new(stream), devices(state, client)))
                .await;
        }
        Role::Devices(Some(acceptor)) => {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::info!(peer = %peer, error = %e, "TLS handshake refused");
                    return;
                }
                Err(_) => return,
            };
            let client: Arc<str> = match tls.get_ref().1.peer_certificates() {
                Some([cert, ..]) => fingerprint(cert).into(),
                _ => peer.ip().to_string().into(),
            };
            let _ = watcher
                .watch(http(TokioIo::new(tls), devices(state, client)))
                .await;
        }
    }
}

/// Returns once `stop` turns true (or its sender is gone).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

fn http<I, S>(io: I, service: S) -> http1::Connection<I, S>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin,
    S: hyper::service::HttpService<Incoming, ResBody = Body, Error = Infallible>,
{
    http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HANDSHAKE_TIMEOUT)
        .serve_connection(io, service)
}

fn devices(
    state: Arc<State>,
    client: Arc<str>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = std::future::Ready<Result<Response<Body>, Infallible>>,
> + Clone {
    service_fn(move |req: Request<Incoming>| {
        let started = Instant::now();
        let answer = state.answer(&client, &req);
        state.metrics.observe(answer.outcome, started.elapsed());
        std::future::ready(Ok(answer.into_response()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETIRED: &str = "&isDecommissioned=true,false&isUninstalled=true,false";

    #[test]
    fn what_devices_send_is_understood() {
        let uuids = parse_query(Some(&format!(
            "uuids=abcdef01-2345-6789-abcd-ef0123456789,abcdef0123456789abcdef0123456789&limit=100{RETIRED}"
        )));
        assert!(matches!(uuids, Ok(Query::Uuid(s)) if s.len() == 2));
        let serial = parse_query(Some(&format!(
            "serialNumber__contains=C02XYZ&limit=1000{RETIRED}&cursor=abc"
        )));
        assert_eq!(serial, Ok(Query::Serial("C02XYZ".into())));
        assert_eq!(
            parse_query(Some("uuid=ABCDEF0123456789ABCDEF0123456789")),
            Ok(Query::Uuid(vec!["ABCDEF0123456789ABCDEF0123456789".into()]))
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "limit=10",
            "serialNumber__contains=A1234,B5678",
            "serialNumber__contains=A1234&uuid=abcdef0123456789",
            "uuids=abcdef0123456789abcd,1234567890abcdef1234",
            "uuid=abcdef0123456789abcd&uuid=abcdef0123456789abcd",
            "uuid=abcdef0123456789abcd&computerName__contains=mac",
            "serialNumber__contains=A1234&limit=5000",
            "serialNumber__contains=A1234&isDecommissioned=false",
            "serialNumber__contains=%20",
        ] {
            assert!(parse_query(Some(bad)).is_err(), "{bad}");
        }
    }
}
