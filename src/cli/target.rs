//! Turning `--integration` / `--url` and the config into a ready tenant client.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Cli, CliError, ConnectionArgs};
use crate::config::{self, CONFIG_ENV, Config, ConfigError};
use crate::tenant::{ConsoleUrl, TenantClient};
use crate::token::{TOKEN_ENV, resolve_token};

/// The config file in effect: `--config`, else `$S1TRUST_CONFIG`, else the OS default.
/// The flag says whether the user named it (then it must exist).
pub fn config_path(cli: &Cli) -> (PathBuf, bool) {
    if let Some(path) = &cli.config {
        return (path.clone(), true);
    }
    match std::env::var_os(CONFIG_ENV).filter(|v| !v.is_empty()) {
        Some(path) => (PathBuf::from(path), true),
        None => (config::default_config_path(), false),
    }
}

/// Loads the config; with `optional`, a missing default file yields an empty config.
fn load_config(cli: &Cli, optional: bool) -> Result<Config, CliError> {
    let (path, named) = config_path(cli);
    match config::load(&path) {
        Err(ConfigError::NotFound(_)) if optional && !named => Ok(Config::default()),
        other => Ok(other?),
    }
}

/// A tenant client and what it is for.
pub struct Target {
    /// The client, with its deadline running.
    pub client: TenantClient,
    /// The integration's name, when it came from the config.
    pub name: Option<String>,
}

/// Builds the client for `--integration NAME` / positional NAME, or `--url`, or the only
/// configured integration.
pub fn resolve(cli: &Cli, name: Option<&str>, conn: &ConnectionArgs) -> Result<Target, CliError> {
    let started = Instant::now();
    let config = load_config(cli, conn.url.is_some())?;
    let (console, integration) = match (&conn.url, name) {
        (Some(url), _) => (ConsoleUrl::parse(url)?, None),
        (None, Some(name)) => {
            let found = config
                .integration(name)
                .ok_or_else(|| unknown_integration(&config, name))?;
            (found.url.clone(), Some(found))
        }
        (None, None) => {
            let only = only_integration(&config)?;
            (only.url.clone(), Some(only))
        }
    };
    let env_token = std::env::var(TOKEN_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty());
    let token = resolve_token(
        conn.token_file.as_deref(),
        env_token.as_deref(),
        integration.and_then(|i| i.token_file.as_deref()),
    )?;
    let ca_file: Option<&Path> = conn
        .ca_file
        .as_deref()
        .or(integration.and_then(|i| i.ca_file.as_deref()));
    let deadline = started + conn.timeout.unwrap_or(config.http.deadline);
    let client = TenantClient::new(
        console.clone(),
        Some(token),
        &config.http,
        ca_file,
        deadline,
    )
    .map_err(|source| CliError::Tenant {
        console: console.to_string(),
        source,
    })?;
    Ok(Target {
        client,
        name: integration.map(|i| i.name.clone()),
    })
}

fn unknown_integration(config: &Config, name: &str) -> CliError {
    CliError::usage(
        format!("no integration named {name:?} in {}", config_name(config)),
        format!("configured: {}", names(config)),
    )
}

fn only_integration(config: &Config) -> Result<&crate::config::Integration, CliError> {
    match config.integrations.as_slice() {
        [only] => Ok(only),
        [] => Err(CliError::usage(
            format!("no integration is configured in {}", config_name(config)),
            "add an [[integration]] table to the config, or pass --url URL with --token-file FILE",
        )),
        _ => Err(CliError::usage(
            "several integrations are configured; say which one",
            format!("use --integration NAME (one of: {})", names(config)),
        )),
    }
}

fn config_name(config: &Config) -> String {
    config
        .path
        .as_ref()
        .map_or("the configuration".into(), |p| p.display().to_string())
}

fn names(config: &Config) -> String {
    let names: Vec<&str> = config
        .integrations
        .iter()
        .map(|i| i.name.as_str())
        .collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// A single-threaded runtime: commands make a handful of requests at most.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Output)
}
