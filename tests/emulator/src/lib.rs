//! An emulated SentinelOne tenant (Management API v2.1) for tests and demos.
//!
//! [`Emulator::start`] serves HTTPS (or plain HTTP) on a loopback port with a
//! CA generated for the run, answers `/agents`, `/user`, `/system/*` and
//! `/users/api-token-details` from in-memory records, and can inject faults
//! (latency, error statuses, HTML pages, broken, wrongly shaped, trickled or
//! huge bodies, redirects, dropped and hung connections) and rate limits. Every request is logged for assertions.
//!
//! ```no_run
//! use s1_emulator::{Emulator, EmulatorConfig, TokenSpec};
//! let emu = Emulator::start(EmulatorConfig {
//!     agents: s1_emulator::load_agents(std::path::Path::new("fixtures/agents.json"))?,
//!     tokens: vec![TokenSpec::viewer("secret")],
//!     ..Default::default()
//! })?;
//! println!("{} trusts {}", emu.url(), emu.ca_pem());
//! # Ok::<(), std::io::Error>(())
//! ```

#![warn(missing_docs)]

pub mod agents;
mod api;
mod config;
pub mod envelope;
mod faults;
mod generate;
mod log;
mod ratelimit;
mod server;
mod tls;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::runtime::Runtime;
use tokio_rustls::TlsAcceptor;

pub use api::BASE_PATH;
pub use config::{
    EmulatorConfig, Fault, FaultKind, TokenSpec, load_agents, load_faults, load_tokens,
    parse_agents, parse_faults,
};
pub use generate::generate_agents;
pub use log::{LoggedRequest, Outcome};
pub use server::RequestObserver;

use config::invalid;
use faults::FaultSet;
use ratelimit::RateLimiter;
use server::Shared;

/// A running emulated tenant. It owns a multi-thread tokio runtime, so
/// synchronous tests can use it directly; dropping it stops the server and
/// closes every connection (including hung ones).
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tls: bool,
    ca_pem: String,
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

/// Refuses anything but loopback: the emulator must never be reachable
/// from, or send traffic to, another machine.
fn check_loopback(addr: SocketAddr) -> io::Result<()> {
    if addr.ip().is_loopback() {
        Ok(())
    } else {
        Err(invalid(format!(
            "refusing to listen on {addr}: the emulator only serves loopback addresses \
             (127.0.0.0/8 or [::1])"
        )))
    }
}

fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    check_loopback(addr)?;
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| io::Error::new(e.kind(), format!("binding {addr}: {e}")))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

fn build_runtime() -> io::Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("s1-emulator")
        .enable_all()
        .build()
}

impl Emulator {
    /// Binds (default `127.0.0.1:0`), generates TLS material when `tls` is
    /// on, and starts serving in the background. Fails on a non-loopback
    /// address, an invalid token expiry date, or bind/TLS errors.
    pub fn start(config: EmulatorConfig) -> io::Result<Emulator> {
        let tenant = api::Tenant::new(config.agents, config.tokens).map_err(invalid)?;
        let std_listener = bind(
            config
                .bind
                .unwrap_or(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
        )?;
        let addr = std_listener.local_addr()?;
        let names = config
            .cert_names
            .unwrap_or_else(|| tls::DEFAULT_NAMES.map(String::from).to_vec());
        let tls_material = config.tls.then(|| tls::generate(&names)).transpose()?;
        let shared = Arc::new(Shared {
            tenant,
            faults: FaultSet::new(config.faults),
            limiter: config.rate_limit_per_sec.map(RateLimiter::new),
            log: Mutex::new(Vec::new()),
            observer: Mutex::new(None),
        });

        let runtime = build_runtime()?;
        let listener = {
            // from_std needs a runtime context to register with the reactor.
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let acceptor = tls_material
            .as_ref()
            .map(|m| TlsAcceptor::from(m.server_config.clone()));
        runtime.spawn(server::accept_loop(listener, shared.clone(), acceptor));

        Ok(Emulator {
            shared,
            addr,
            tls: config.tls,
            ca_pem: tls_material.map(|m| m.ca_pem).unwrap_or_default(),
            runtime: Some(runtime),
        })
    }

    /// Base URL, e.g. `https://127.0.0.1:41234`, without a trailing slash.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        // SocketAddr's Display already brackets IPv6 hosts.
        format!("{scheme}://{}", self.addr)
    }

    /// The address actually listened on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// PEM of the generated CA; empty when serving plain HTTP.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// Writes the CA PEM to `path`. Fails when serving plain HTTP, since a
    /// file without a certificate would only confuse the client under test.
    pub fn write_ca_pem(&self, path: &Path) -> io::Result<()> {
        if !self.tls {
            return Err(invalid(
                "the emulator serves plain HTTP: there is no CA to write".to_owned(),
            ));
        }
        std::fs::write(path, &self.ca_pem)
            .map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
    }

    /// Replaces all fault rules.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.shared.faults.set(faults);
    }

    /// Appends a fault rule (checked after the existing ones).
    pub fn add_fault(&self, f: Fault) {
        self.shared.faults.add(f);
    }

    /// Removes all fault rules.
    pub fn clear_faults(&self) {
        self.shared.faults.set(Vec::new());
    }

    /// Every request logged so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forgets logged requests.
    pub fn clear_requests(&self) {
        self.shared
            .log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    /// Calls `observer` for each request as it is logged (the binary prints
    /// them). It runs on the server's threads, so it should be quick.
    pub fn set_request_observer(&self, observer: RequestObserver) {
        *self
            .shared
            .observer
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(observer);
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        // Blocking until the workers exit guarantees the port is closed when
        // drop returns, but blocking is forbidden inside an async context
        // (e.g. a #[tokio::test]); there, shut down in the background.
        if tokio::runtime::Handle::try_current().is_ok() {
            runtime.shutdown_background();
        } else {
            runtime.shutdown_timeout(Duration::from_secs(2));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_non_loopback() {
        for addr in ["0.0.0.0:0", "192.0.2.1:0", "[::]:0"] {
            let err = Emulator::start(EmulatorConfig {
                bind: Some(addr.parse().unwrap()),
                ..Default::default()
            })
            .unwrap_err();
            assert!(err.to_string().contains("loopback"), "{addr}: {err}");
        }
    }

    #[test]
    fn rejects_bad_token_expiry() {
        let mut t = TokenSpec::viewer("x");
        t.expires_at = Some("tomorrow".into());
        let err = Emulator::start(EmulatorConfig {
            tokens: vec![t],
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
    }

    #[test]
    fn url_and_ca() {
        let emu = Emulator::start(EmulatorConfig::default()).unwrap();
        assert!(emu.url().starts_with("https://127.0.0.1:"));
        assert!(!emu.url().ends_with('/'));
        assert!(emu.ca_pem().contains("BEGIN CERTIFICATE"));
        let plain = Emulator::start(EmulatorConfig {
            tls: false,
            ..Default::default()
        })
        .unwrap();
        assert!(plain.url().starts_with("http://127.0.0.1:"));
        assert_eq!(plain.ca_pem(), "");
        assert!(
            plain
                .write_ca_pem(Path::new("/nonexistent/ca.pem"))
                .is_err()
        );
    }
}
