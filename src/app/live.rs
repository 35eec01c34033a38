//! A live evaluation: every integration asked now, for this device. `check` (for root),
//! `refresh` and `doctor` all evaluate through here.

use time::OffsetDateTime;

use super::check::unusable_with;
use super::client::for_integration;
use super::{Options, runtime};
use crate::config::RelayEndpoint;
use crate::config::{Config, Integration};
use crate::identity::DeviceIdentity;
use crate::posture::evaluate::{IntegrationClient, evaluate};
use crate::posture::report::PostureReport;
use crate::reason::Reason;
use crate::tenant::relay::{ClientIdentity, RelayAccess};
use crate::token::{ApiToken, TokenError, read_credential_file, read_system_token};

/// What an integration presents to whoever answers for its tenant.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    /// The console's API token.
    Token(ApiToken),
    /// A relay's credentials: the relay holds the token (docs/relay.md).
    Relay(RelayAccess),
}

impl Credential {
    /// The secret it carries, for redaction.
    pub(crate) fn secret(&self) -> Option<&ApiToken> {
        match self {
            Self::Token(token) => Some(token),
            Self::Relay(access) => access.secret.as_ref(),
        }
    }
}

/// Each integration's credential, read once per command (`None`: neither `token_file`
/// nor `relay`).
pub(crate) type Tokens = Vec<Option<Result<Credential, TokenError>>>;

/// Reads every integration's token file, or its relay credentials.
pub(crate) fn read_tokens(config: &Config) -> Tokens {
    config
        .integrations
        .iter()
        .map(|i| read_credential(i, config))
        .collect()
}

fn read_credential(
    integration: &Integration,
    config: &Config,
) -> Option<Result<Credential, TokenError>> {
    if let Some(relay) = &integration.relay {
        return Some(read_relay(integration, relay, config).map(Credential::Relay));
    }
    let file = integration.token_file.as_deref()?;
    Some(read_system_token(file).map(Credential::Token))
}

pub(crate) fn read_relay(
    integration: &Integration,
    relay: &RelayEndpoint,
    config: &Config,
) -> Result<RelayAccess, TokenError> {
    let secret = relay
        .secret_file
        .as_deref()
        .map(read_system_token)
        .transpose()?;
    let identity = match (&relay.client_cert, &relay.client_key) {
        (Some(cert), Some(key)) => Some(ClientIdentity::new(
            read_credential_file(cert, "relay client certificate", false)?,
            read_credential_file(key, "relay client key", true)?,
        )),
        _ => None,
    };
    Ok(RelayAccess {
        console: integration.url.clone(),
        secret,
        identity,
        max_age: config.relay.max_age,
    })
}

/// Evaluates every integration now, for `identity` (which must be complete).
/// `tokens` are [`read_tokens`]'s, one per integration.
pub(crate) fn live(
    options: &Options,
    config: &Config,
    tokens: &Tokens,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
) -> PostureReport {
    let started = std::time::Instant::now();
    let targets: Vec<IntegrationClient<'_>> = config
        .integrations
        .iter()
        .zip(tokens)
        .map(|(i, token)| target(options, config, i, token))
        .collect();
    let mut report = match runtime() {
        Ok(runtime) => runtime.block_on(evaluate(&targets, identity, now, config.snapshot.max_age)),
        Err(e) => unusable_with(
            Reason::RuntimeError,
            &format!("cannot start the async runtime: {e}"),
            identity,
            now,
        ),
    };
    tracing::info!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        result = report.result.as_str(),
        "live evaluation"
    );
    report.notes.extend(identity_notes(identity));
    report
}

fn target<'a>(
    options: &Options,
    config: &Config,
    integration: &'a Integration,
    token: &Option<Result<Credential, TokenError>>,
) -> IntegrationClient<'a> {
    let client = match token {
        None => Err((
            Reason::TokenUnreadable,
            format!(
                "integration {} has no token_file",
                crate::text::quoted(&integration.name)
            ),
        )),
        Some(Err(e)) => Err((Reason::TokenUnreadable, e.to_string())),
        Some(Ok(token)) => Ok(token.clone()),
    }
    .and_then(|token| {
        for_integration(integration, &token, config, options.started)
            .map_err(|e| (Reason::ConfigError, e.to_string()))
    });
    IntegrationClient {
        integration,
        client,
    }
}

/// The identity read's problems as notes for people.
pub(crate) fn identity_notes(identity: &DeviceIdentity) -> Vec<String> {
    identity
        .problems
        .iter()
        .map(|p| match &p.hint {
            Some(hint) => format!("{}: {} ({hint})", p.source, p.reason),
            None => format!("{}: {}", p.source, p.reason),
        })
        .collect()
}
