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
            auth::server_config(cert, key, server.client_ca_file.as_deref())
                .map_err(|e| e.to_string())?,
        )),
        _ => None,
    };
    let secrets = auth::Secrets::load(&server.secret_files).map_err(|e| e.to_string())?;
    for integration in &config.integrations {
        crate::token::read_system_token(&integration.token_file)
            .map_err(|e| format!("integration {:?}: {e}", integration.name))?;
        if let Some(ca) = &integration.ca_file {
            std::fs::metadata(ca).map_err(|e| {
                format!(
                    "integration {:?}: CA file {}: {e}",
                    integration.name,
                    ca.display()
                )
            })?;
        }
    }
    Ok(Checked { tls, secrets })
}

fn run(config: RelayConfig, checked: Checked) -> ExitCode {
    let metrics = Arc::new(Metrics::new(
        config.integrations.iter().map(|i| i.name.clone()),
    ));
    log::install(tracing::Level::INFO, metrics.clone());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
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
    match runtime.block_on(serve(&config, checked.tls, state)) {
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
) -> std::io::Result<()> {
    let devices = bind(config.server.listen).await?;
    let ops = bind(config.server.ops_listen).await?;
    let (stop_tx, stop) = watch::channel(false);
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
    let loops = [
        tokio::spawn(server::accept_loop(
            devices,
            Role::Devices(tls),
            state.clone(),
            graceful.clone(),
            stop.clone(),
        )),
        tokio::spawn(server::accept_loop(
            ops,
            Role::Ops,
            state,
            graceful.clone(),
            stop,
        )),
    ];
    shutdown_signal().await?;
    tracing::info!("shutting down: no new connections, finishing requests in flight");
    let _ = stop_tx.send(true);
    for accept in loops {
        let _ = accept.await;
    }
    // Every accept loop has ended, so this is the only handle left.
    if let Ok(graceful) = Arc::try_unwrap(graceful)
        && tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
    {
        tracing::warn!("requests still in flight after the drain timeout were cut");
    }
    Ok(())
}

async fn bind(addr: std::net::SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("binding {addr}: {e}")))
}

#[cfg(unix)]
async fn shutdown_signal() -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::select! {
        _ = term.recv() => {},
        _ = int.recv() => {},
    }
    Ok(())
}

#[cfg(not(unix))]
async fn shutdown_signal() -> std::io::Result<()> {
    tokio::signal::ctrl_c().await
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
    *held.inventory.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(inventory));
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

fn record_failure(held: &Held, metrics: &SyncMetrics, error: &sync::SyncError, took: Duration) {
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
