//! HTTP plumbing: accepting connections, TLS, the hyper service, and turning
//! fault kinds into what goes (or does not go) over the wire.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Frame, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;
use tokio_rustls::TlsAcceptor;

use crate::api::{ApiRequest, Reply, Tenant, bearer_token};
use crate::config::FaultKind;
use crate::faults::{self, FaultSet};
use crate::log::{LoggedRequest, Outcome};
use crate::ratelimit::RateLimiter;

/// Error type of response bodies (a truncated body ends with one).
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;
type ResponseBody = BoxBody<Bytes, BoxError>;

/// Callback invoked for every logged request.
pub type RequestObserver = Arc<dyn Fn(&LoggedRequest) + Send + Sync>;

/// Largest request body read (only the token-details POST has one).
const MAX_REQUEST_BODY: usize = 64 * 1024;
/// A client that connects but never finishes the handshake is dropped.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a truncated body waits after its first half, so the half is
/// flushed to the socket before the connection is torn down.
const TRUNCATE_FLUSH_DELAY: Duration = Duration::from_millis(50);

/// State shared by every connection.
pub(crate) struct Shared {
    pub(crate) tenant: Tenant,
    pub(crate) faults: FaultSet,
    pub(crate) limiter: Option<RateLimiter>,
    pub(crate) log: Mutex<Vec<LoggedRequest>>,
    pub(crate) observer: Mutex<Option<RequestObserver>>,
}

impl Shared {
    fn record(&self, entry: LoggedRequest) {
        let observer = self
            .observer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(observe) = observer {
            observe(&entry);
        }
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
    }
}

/// Returned by the service to make hyper close the connection unanswered.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DropConnection {}

/// Accepts connections until the runtime is shut down.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    tls: Option<TlsAcceptor>,
) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                tokio::spawn(serve_connection(stream, shared.clone(), tls.clone()));
            }
            // Accept errors are per-connection or transient (e.g. out of file
            // descriptors); back off briefly instead of spinning.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn serve_connection(stream: TcpStream, shared: Arc<Shared>, tls: Option<TlsAcceptor>) {
    let _ = stream.set_nodelay(true);
    match tls {
        None => serve_http(TokioIo::new(stream), shared).await,
        Some(acceptor) => {
            if let Ok(Ok(tls_stream)) =
                tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await
            {
                serve_http(TokioIo::new(tls_stream), shared).await;
            }
        }
    }
}

async fn serve_http<I>(io: I, shared: Arc<Shared>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |req| handle(shared.clone(), req));
    // Errors here are the client going away or an injected drop/truncation:
    // nothing to report.
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(io, service)
        .await;
}

/// The parts of a request that are logged and routed on.
struct RequestInfo {
    method: String,
    path: String,
    query: String,
    params: Vec<(String, String)>,
    authorization: Option<String>,
}

impl RequestInfo {
    fn from_request<B>(req: &Request<B>) -> RequestInfo {
        let query = req.uri().query().unwrap_or("").to_owned();
        RequestInfo {
            method: req.method().as_str().to_owned(),
            path: req.uri().path().to_owned(),
            params: form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
            query,
            authorization: req
                .headers()
                .get(hyper::header::AUTHORIZATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
        }
    }

    fn token(&self) -> Option<&str> {
        bearer_token(self.authorization.as_deref())
    }

    fn logged(
        &self,
        status: Option<u16>,
        outcome: Outcome,
        fault: Option<&FaultKind>,
    ) -> LoggedRequest {
        LoggedRequest {
            method: self.method.clone(),
            path: self.path.clone(),
            query: self.query.clone(),
            params: self.params.clone(),
            authorization: self.authorization.clone(),
            status,
            outcome,
            fault: fault.map(|f| f.name().to_owned()),
            at: SystemTime::now(),
        }
    }
}

async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<ResponseBody>, DropConnection> {
    let info = RequestInfo::from_request(&req);
    let fault = shared.faults.take(&info.path, info.token());
    let body = read_body(req).await;
    match &fault {
        Some(FaultKind::Drop) => {
            shared.record(info.logged(None, Outcome::Dropped, fault.as_ref()));
            return Err(DropConnection);
        }
        Some(FaultKind::Hang) => {
            shared.record(info.logged(None, Outcome::Hung, fault.as_ref()));
            // Pending forever: the task (and the socket) go away only when the
            // emulator's runtime shuts down.
            return std::future::pending().await;
        }
        Some(FaultKind::Latency(delay)) => tokio::time::sleep(*delay).await,
        _ => {}
    }
    let reply = match (&fault, body) {
        (Some(kind), _) if is_canned(kind) => canned_reply(kind),
        (Some(FaultKind::ErrorDetail { status, detail }), _) => {
            faults::error_detail(*status, detail, info.authorization.as_deref())
        }
        (_, Ok(body)) => normal_reply(&shared, &info, &body),
        (_, Err(detail)) => Reply::error(400, Some(&detail)),
    };
    let (response, outcome) = match &fault {
        Some(FaultKind::TruncatedJson) => (truncated(&reply), Outcome::Truncated),
        Some(FaultKind::DropMidBody) => (cut_mid_body(&reply), Outcome::Truncated),
        Some(FaultKind::Trickle(pause)) => (trickled(&reply, *pause), Outcome::Answered),
        Some(FaultKind::Redirect { status, location }) => {
            let body = Bytes::from(format!(
                "<html><body>Moved to <a href=\"{location}\">{location}</a></body></html>\n"
            ));
            let mut response = full_response(
                faults::valid_status(*status),
                "text/html; charset=utf-8",
                body,
                None,
            );
            set_header(&mut response, LOCATION, location);
            (response, Outcome::Answered)
        }
        Some(FaultKind::Oversized { bytes }) => {
            let padded = faults::pad_json(&faults::success_body(&reply), *bytes);
            (
                full_response(200, reply.content_type, padded, None),
                Outcome::Answered,
            )
        }
        _ => (to_response(&reply), Outcome::Answered),
    };
    shared.record(info.logged(Some(response.status().as_u16()), outcome, fault.as_ref()));
    Ok(response)
}

/// Fault kinds whose reply does not depend on the request at all (a redirect's
/// response is built in [`handle`]; it is listed so the tenant never sees it).
fn is_canned(kind: &FaultKind) -> bool {
    matches!(
        kind,
        FaultKind::Status { .. }
            | FaultKind::Redirect { .. }
            | FaultKind::Html { .. }
            | FaultKind::MalformedJson
            | FaultKind::RawJson(_)
            | FaultKind::WrongShape
    )
}

fn canned_reply(kind: &FaultKind) -> Reply {
    match kind {
        FaultKind::Status { code, retry_after } => {
            Reply::error(faults::valid_status(*code), None).with_retry_after(retry_after.clone())
        }
        FaultKind::Html { status } => faults::html_page(*status),
        FaultKind::RawJson(body) => Reply {
            status: 200,
            content_type: "application/json",
            body: bytes::Bytes::from(body.clone()),
            retry_after: None,
        },
        FaultKind::WrongShape => faults::wrong_shape(),
        _ => faults::malformed_json(),
    }
}

/// Rate limit, then the tenant proper.
fn normal_reply(shared: &Shared, info: &RequestInfo, body: &[u8]) -> Reply {
    if let Some(limiter) = &shared.limiter
        && !limiter.allow(info.token(), Instant::now())
    {
        return Reply::error(429, None).with_retry_after(Some("1".to_owned()));
    }
    shared.tenant.respond(&ApiRequest {
        method: &info.method,
        path: &info.path,
        params: &info.params,
        authorization: info.authorization.as_deref(),
        body,
    })
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, String> {
    Limited::new(req.into_body(), MAX_REQUEST_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| format!("request body: {e}"))
}

fn full_response(
    status: u16,
    content_type: &str,
    body: Bytes,
    retry_after: Option<&str>,
) -> Response<ResponseBody> {
    let body = Full::new(body)
        .map_err(|never: Infallible| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    set_header(&mut response, CONTENT_TYPE, content_type);
    if let Some(value) = retry_after {
        set_header(&mut response, RETRY_AFTER, value);
    }
    response
}

/// Sets a header, skipping values HTTP cannot carry (a user-supplied
/// `Retry-After` with a newline, say) rather than failing the request.
fn set_header(response: &mut Response<ResponseBody>, name: hyper::header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, v);
    }
}

fn to_response(reply: &Reply) -> Response<ResponseBody> {
    full_response(
        reply.status,
        reply.content_type,
        reply.body.clone(),
        reply.retry_after.as_deref(),
    )
}

/// A 200 announcing the full length but delivering only the first half.
fn truncated(reply: &Reply) -> Response<ResponseBody> {
    let full = faults::success_body(reply);
    let half = full.slice(..full.len() / 2);
    let body = TruncatedBody {
        first: Some(half),
        wait: Box::pin(tokio::time::sleep(TRUNCATE_FLUSH_DELAY)),
    };
    let mut response = Response::new(body.boxed());
    set_header(&mut response, CONTENT_TYPE, reply.content_type);
    // hyper frames by this header, so it cannot "fix" the length; when the
    // body then errors, hyper aborts the connection mid-body.
    set_header(&mut response, CONTENT_LENGTH, &full.len().to_string());
    response
}

/// The reply's status and type with a chunked body (no `Content-Length`) that
/// delivers the first half of the body, then breaks the connection.
fn cut_mid_body(reply: &Reply) -> Response<ResponseBody> {
    let half = reply.body.slice(..reply.body.len() / 2);
    let body = TruncatedBody {
        first: Some(half),
        wait: Box::pin(tokio::time::sleep(TRUNCATE_FLUSH_DELAY)),
    };
    let mut response = Response::new(body.boxed());
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    set_header(&mut response, CONTENT_TYPE, reply.content_type);
    response
}

/// The reply with its full `Content-Length`, one byte after each `pause`.
fn trickled(reply: &Reply, pause: Duration) -> Response<ResponseBody> {
    let body = TrickleBody {
        data: reply.body.clone(),
        sent: 0,
        pause,
        wait: Box::pin(tokio::time::sleep(pause)),
    };
    let mut response = Response::new(body.boxed());
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    set_header(&mut response, CONTENT_TYPE, reply.content_type);
    set_header(&mut response, CONTENT_LENGTH, &reply.body.len().to_string());
    response
}

/// Yields its data one byte per `pause`.
struct TrickleBody {
    data: Bytes,
    sent: usize,
    pause: Duration,
    wait: Pin<Box<Sleep>>,
}

impl Body for TrickleBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if this.sent >= this.data.len() {
            return Poll::Ready(None);
        }
        match this.wait.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => {
                let byte = this.data.slice(this.sent..this.sent + 1);
                this.sent += 1;
                let next = tokio::time::Instant::now() + this.pause;
                this.wait.as_mut().reset(next);
                Poll::Ready(Some(Ok(Frame::data(byte))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.data.len()
    }
}

/// Yields one chunk, waits a moment, then fails.
struct TruncatedBody {
    first: Option<Bytes>,
    wait: Pin<Box<Sleep>>,
}

impl Body for TruncatedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        if let Some(chunk) = this.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        match this.wait.as_mut().poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(()) => Poll::Ready(Some(Err("body truncated by fault injection".into()))),
        }
    }
}
