//! The one place a tenant client is built: from a console, a token, the `[http]`
//! limits, an integration's CA file and the command's own options.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::live::Credential;
use super::{Error, Missing, Options, load_any};
use crate::config::{Config, HttpSettings, Integration};
use crate::fs_trust;
use crate::tenant::{CaFile, ConsoleUrl, Deadline, TenantClient, TenantError};
use crate::token::{ApiToken, resolve_token};

/// How the caller asked to reach a tenant, besides (or instead of) the config.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// `--url`: a console not in the config.
    pub url: Option<String>,
    /// `--token-file`.
    pub token_file: Option<PathBuf>,
    /// `S1_API_TOKEN`, when set and not blank.
    pub env_token: Option<String>,
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
    /// `--timeout`: the whole command's deadline instead of `[http] deadline`.
    pub timeout: Option<Duration>,
}

/// A tenant client and what it is for.
pub struct ConnectedClient {
    /// The client, with its deadline running.
    pub client: TenantClient,
    /// The integration's name, when it came from the config.
    pub name: Option<String>,
}

/// Builds the client: the command's CA file wins over the integration's, and the
/// deadline counts from the command's start.
pub(crate) fn build(
    console: ConsoleUrl,
    token: ApiToken,
    http: &HttpSettings,
    integration_ca: Option<&Path>,
    connection: &Connection,
    started: Instant,
) -> Result<TenantClient, TenantError> {
    let (ca, deadline) = ca_and_deadline(http, integration_ca, connection, started)?;
    TenantClient::new(console, Some(token), http, ca.as_ref(), deadline)
}

fn ca_and_deadline(
    http: &HttpSettings,
    integration_ca: Option<&Path>,
    connection: &Connection,
    started: Instant,
) -> Result<(Option<CaFile>, Deadline), TenantError> {
    let ca = match (&connection.ca_file, integration_ca) {
        (Some(own), _) => Some(CaFile::read(own, fs_trust::caller())?),
        (None, Some(configured)) => Some(CaFile::read(configured, 0)?),
        (None, None) => None,
    };
    let deadline = Deadline::after(started, connection.timeout.unwrap_or(http.deadline));
    Ok((ca, deadline))
}

/// The client for a configured integration: its console with the token, or its relay
/// with the relay's credentials (`ca_file` then vouches for the relay).
pub(crate) fn for_credential(
    integration: &Integration,
    credential: &Credential,
    http: &HttpSettings,
    connection: &Connection,
    started: Instant,
) -> Result<TenantClient, TenantError> {
    let ca_file = integration.ca_file.as_deref();
    match (credential, &integration.relay) {
        (Credential::Relay(access), Some(relay)) => {
            let (ca, deadline) = ca_and_deadline(http, ca_file, connection, started)?;
            TenantClient::through_relay(relay.url.clone(), access, http, ca.as_ref(), deadline)
        }
        (Credential::Token(token), _) => build(
            integration.url.clone(),
            token.clone(),
            http,
            ca_file,
            connection,
            started,
        ),
        (Credential::Relay(_), None) => Err(TenantError::Setup(
            "relay credentials for an integration without a relay".into(),
        )),
    }
}

/// The client for a configured integration as its config states it, with no
/// command-line overrides (the scheduled refresh, `check`, `doctor`).
pub(crate) fn for_integration(
    integration: &Integration,
    credential: &Credential,
    config: &Config,
    started: Instant,
) -> Result<TenantClient, TenantError> {
    for_credential(
        integration,
        credential,
        &config.http,
        &Connection::default(),
        started,
    )
}

/// The client for `lookup` and `integration test`: the integration called `name`,
/// or `--url`, or the only configured integration.
pub fn connect(
    options: &Options,
    name: Option<&str>,
    connection: &Connection,
) -> Result<ConnectedClient, Error> {
    let missing = if connection.url.is_some() {
        Missing::EmptyUnlessNamed
    } else {
        Missing::Fail
    };
    let config = load_any(options, missing)?;
    let (console, integration) = match (&connection.url, name) {
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
    // A token given on the command line or in the environment asks the console itself,
    // even for an integration that normally goes through a relay.
    let own_token = connection.token_file.is_some() || connection.env_token.is_some();
    let via_relay = integration
        .filter(|_| !own_token)
        .and_then(|i| Some((i, i.relay.as_ref()?)));
    let client = match via_relay {
        Some((integration, relay)) => {
            let access = super::live::read_relay(integration, relay, &config)?;
            for_credential(
                integration,
                &Credential::Relay(access),
                &config.http,
                connection,
                options.started,
            )
        }
        None => {
            let token = resolve_token(
                connection.token_file.as_deref(),
                connection.env_token.as_deref(),
                integration.and_then(|i| i.token_file.as_deref()),
            )?;
            build(
                console.clone(),
                token,
                &config.http,
                // A relay integration's ca_file vouches for the relay, not the console.
                integration
                    .filter(|i| i.relay.is_none())
                    .and_then(|i| i.ca_file.as_deref()),
                connection,
                options.started,
            )
        }
    }
    .map_err(|source| Error::Tenant {
        console: console.to_string(),
        source,
    })?;
    Ok(ConnectedClient {
        client,
        name: integration.map(|i| i.name.to_string()),
    })
}

fn unknown_integration(config: &Config, name: &str) -> Error {
    Error::usage(
        format!(
            "no integration named {} in {}",
            crate::text::quoted(name),
            config_name(config)
        ),
        format!("configured: {}", names(config)),
    )
}

fn only_integration(config: &Config) -> Result<&Integration, Error> {
    match config.integrations.as_slice() {
        [only] => Ok(only),
        [] => Err(Error::usage(
            format!("no integration is configured in {}", config_name(config)),
            "add an [[integration]] table to the config, or pass --url URL with --token-file FILE",
        )),
        _ => Err(Error::usage(
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

/// The configured names, comma-separated, or "none".
pub(crate) fn names(config: &Config) -> String {
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
