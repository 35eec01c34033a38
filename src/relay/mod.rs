//! `s1trust-relay` (docs/relay.md): holds the tenants' tokens and agent inventories,
//! and answers devices' agent lookups in the Management API's own shape, so devices
//! hold no token and a fleet costs the tenant one listing per sync interval.
//!
//! [`config`] reads the file, [`sync`] lists a tenant into an [`inventory`], [`server`]
//! answers devices (authenticated by [`auth`], limited by [`limits`]) and operators
//! ([`metrics`]); [`log`] writes JSON lines.

pub mod auth;
pub mod config;
pub mod inventory;
pub mod limits;
pub mod log;
pub mod metrics;
pub mod server;
pub mod sync;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

use self::config::{RelayConfig, SyncSettings};
use self::metrics::{Metrics, SyncMetrics};
use self::server::{Held, Role, State};

/// Longest wait for in-flight requests at shutdown.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait before retrying a failed sync (shorter than the interval when that is
/// long, so a relay that started while its tenant was down becomes ready soon after).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

/// Keeps SentinelOne API tokens off devices: holds each tenant's agent inventory and
/// answers devices' lookups in the Management API's shape.
#[derive(Debug, Parser)]
#[command(name = "s1trust-relay", version)]
struct Cli {
    /// The configuration file
    #[arg(long, global = true, value_name = "PATH", default_value = config::DEFAULT_CONFIG)]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve (the default)
    Run,
    /// Check the configuration and the files it names, then exit
    CheckConfig,
}

/// The binary's entry point.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match config::load(&cli.config) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("s1trust-relay: {e}");
            return ExitCode::from(2);
        }
    };
    let checked = match check_files(&config) {
        Ok(checked) => checked,
        Err(e) => {
            eprintln!("s1trust-relay: {e}");
            return ExitCode::from(2);
        }
    };
    match cli.command {
        Some(Command::CheckConfig) => {
            println!(
                "{}: ok ({} integration(s))",
                cli.config.display(),
                config.integrations.len()
            );
            ExitCode::SUCCESS
        }
        Some(Command::Run) | None => run(config, checked),
    }
}

/// What the files a configuration names turn into.
struct Checked {
    tls: Option<TlsAcceptor>,
    secrets: auth::Secrets,
}

/// Reads every file the configuration names, under the rules that apply to it, so
/// `check-config` finds what a start would.
fn check_files(config: &RelayConfig) -> Result<Checked, String> {
    let server = &config.server;
    let tls = match (&server.cert_file, &server.key_file) {
        (Some(cert), Some(key)) if !server.plain_http_on_loopback => Some(TlsAcceptor::from(
            auth::server_config(
                cert,
                key,
                server.client_ca_file.as_deref(),
                &server.client_crl_files,
            )
            .map_err(|e| e.to_string())?,
        )),
        _ => None,
    };
    let secrets = auth::Secrets::load(&server.secret_files).map_err(|e| e.to_string())?;
    for integration in &config.integrations {
        crate::token::read_system_token(&integration.token_file)
            .map_err(|e| format!("integration {:?}: {e}", integration.name))?;
        if let Some(ca) = &integration.ca_file {
            crate::tenant::CaFile::read(ca, 0)
                .map_err(|e| format!("integration {:?}: {e}", integration.name))?;
        }
    }
    Ok(Checked { tls, secrets })
}

fn run(config: RelayConfig, checked: Checked) -> ExitCode {
    let metrics = Arc::new(Metrics::new(
        config.integrations.iter().map(|i| i.name.clone()),
    ));
    log::install(tracing::Level::INFO, metrics.clone());
    let signals = match block_shutdown_signals() {
        Ok(signals) => signals,
        Err(e) => {
            tracing::error!(error = %e, "cannot take over SIGTERM and SIGINT");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the runtime");
            return ExitCode::FAILURE;
        }
    };
    let state = Arc::new(State {
        held: config
            .integrations
            .iter()
            .map(|settings| Held {
                settings: settings.clone(),
                inventory: RwLock::new(None),
            })
            .collect(),
        secrets: checked.secrets,
        limiter: limits::RateLimiter::new(
            config.server.per_client_rate,
            config.server.per_client_burst,
        ),
        metrics,
    });
    match runtime.block_on(serve(&config, checked.tls, state, signals)) {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot serve");
            ExitCode::FAILURE
        }
    }
}

async fn serve(
    config: &RelayConfig,
    tls: Option<TlsAcceptor>,
    state: Arc<State>,
    signals: libc::sigset_t,
) -> std::io::Result<()> {
    let devices = bind(config.server.listen)?;
    let ops = tokio::net::TcpListener::from_std(bind(config.server.ops_listen)?)?;
    let (stop_tx, stop) = watch::channel(false);
    let (drained_tx, drained) = watch::channel(false);
    let graceful = Arc::new(GracefulShutdown::new());
    for index in 0..state.held.len() {
        tokio::spawn(keep_synced(state.clone(), index, config.sync, stop.clone()));
    }
    tracing::info!(
        devices = %devices.local_addr()?,
        ops = %ops.local_addr()?,
        tls = tls.is_some(),
        mutual_tls = config.server.client_ca_file.is_some(),
        bearer_secrets = !state.secrets.is_empty(),
        "listening"
    );
    let workers = (0..worker_count())
        .map(|n| {
            let listener = devices.try_clone()?;
            let (role, state) = (Role::Devices(tls.clone()), state.clone());
            let (graceful, stop, drained) = (graceful.clone(), stop.clone(), drained.clone());
            std::thread::Builder::new()
                .name(format!("devices-{n}"))
                .spawn(move || devices_worker(listener, role, state, graceful, stop, drained))
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    let ops_loop = tokio::spawn(server::accept_loop(
        ops,
        Role::Ops,
        state,
        graceful.clone(),
        stop,
    ));
    shutdown_signal(signals).await?;
    tracing::info!("shutting down: no new connections, finishing requests in flight");
    let _ = stop_tx.send(true);
    let _ = ops_loop.await;
    // The workers drop their handles as their accept loops end.
    let until = Instant::now() + DRAIN_TIMEOUT;
    while Arc::strong_count(&graceful) > 1 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if let Ok(graceful) = Arc::try_unwrap(graceful)
        && tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
    {
        tracing::warn!("requests still in flight after the drain timeout were cut");
    }
    let _ = drained_tx.send(true);
    for worker in workers {
        let _ = worker.join();
    }
    Ok(())
}

/// Threads answering devices. Each runs its own single-threaded runtime on the same
/// listening socket, rather than one multi-threaded runtime for all: tokio's
/// `rt-multi-thread` feature would add its scheduler to the endpoint binary too
/// (tokio's features are the package's), about 43 KB of it.
fn worker_count() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Serves devices on `listener` until `stop`, then keeps its connections' tasks
/// running until `drained` (the graceful shutdown has let them finish).
fn devices_worker(
    listener: std::net::TcpListener,
    role: Role,
    state: Arc<State>,
    graceful: Arc<GracefulShutdown>,
    stop: watch::Receiver<bool>,
    mut drained: watch::Receiver<bool>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            tracing::error!(error = %e, "cannot start a devices worker");
            return;
        }
    };
    runtime.block_on(async move {
        match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => server::accept_loop(listener, role, state, graceful, stop).await,
            Err(e) => {
                drop(graceful);
                tracing::error!(error = %e, "a devices worker cannot listen");
            }
        }
        server::stopped(&mut drained).await;
    });
}

fn bind(addr: std::net::SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)
        .map_err(|e| std::io::Error::new(e.kind(), format!("binding {addr}: {e}")))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// SIGTERM and SIGINT, blocked in every thread (so call this before the runtime
/// starts its threads) and awaited by [`shutdown_signal`]. Not tokio's `signal`
/// feature: it would add a signal driver to every tokio runtime of the package,
/// the endpoint binary's included.
fn block_shutdown_signals() -> std::io::Result<libc::sigset_t> {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        match libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) {
            0 => Ok(set),
            errno => Err(std::io::Error::from_raw_os_error(errno)),
        }
    }
}

/// Returns when one of the blocked `signals` arrives.
async fn shutdown_signal(signals: libc::sigset_t) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut received = 0;
            // SAFETY: `signals` is an initialised set; sigwait writes one int.
            let _ = unsafe { libc::sigwait(&signals, &mut received) };
            let _ = tx.send(received);
        })?;
    let _ = rx.await;
    Ok(())
}

/// Syncs integration `index` now and every interval until `stop`.
async fn keep_synced(
    state: Arc<State>,
    index: usize,
    settings: SyncSettings,
    mut stop: watch::Receiver<bool>,
) {
    let held = &state.held[index];
    let metrics = &state.metrics.integrations[index];
    loop {
        let started = Instant::now();
        let sync = sync::sync_once(&held.settings, &settings, metrics);
        let next = match log::INTEGRATION.scope(index, sync).await {
            Ok(inventory) => {
                record_success(held, metrics, inventory, started.elapsed());
                settings.interval
            }
            Err(e) => {
                record_failure(held, metrics, &e, started.elapsed());
                settings.interval.min(RETRY_AFTER_FAILURE)
            }
        };
        let wake = tokio::time::Instant::from_std(started) + next;
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {},
            () = server::stopped(&mut stop) => return,
        }
    }
}

fn record_success(
    held: &Held,
    metrics: &SyncMetrics,
    inventory: inventory::Inventory,
    took: Duration,
) {
    let agents = inventory.len() as u64;
    let synced_at = inventory.synced_at;
    let previous = held
        .inventory
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .replace(Arc::new(inventory));
    drop(previous);
    release_free_memory();
    metrics.agents.store(agents, Relaxed);
    metrics.syncs_ok.fetch_add(1, Relaxed);
    metrics.last_result.store(1, Relaxed);
    metrics
        .last_duration_ms
        .store(took.as_millis() as u64, Relaxed);
    metrics
        .last_success_unix
        .store(synced_at.unix_timestamp(), Relaxed);
    tracing::info!(
        integration = held.settings.name.as_str(),
        agents,
        duration_ms = took.as_millis() as u64,
        "sync complete"
    );
}

/// Hands the sync's freed memory (the pages' parse trees, the previous inventory) back
/// to the system: glibc keeps it in per-thread arenas otherwise, and the relay's
/// resident size would show the peak of a sync rather than what it holds.
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}

fn record_failure(held: &Held, metrics: &SyncMetrics, error: &sync::SyncError, took: Duration) {
    release_free_memory();
    metrics.syncs_failed.fetch_add(1, Relaxed);
    metrics.last_result.store(0, Relaxed);
    metrics
        .last_duration_ms
        .store(took.as_millis() as u64, Relaxed);
    tracing::warn!(
        integration = held.settings.name.as_str(),
        error = %error,
        serving_previous = held.current().is_some(),
        duration_ms = took.as_millis() as u64,
        "sync failed; the previous inventory stays"
    );
}
