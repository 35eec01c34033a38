//! A live evaluation: every integration asked now, for this device. `check` (for root),
//! `refresh` and `doctor` all evaluate through here.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use time::OffsetDateTime;

use super::check::unusable_with;
use super::checklist::{CheckedItem, Progress};
use super::client::for_integration;
use super::{Options, runtime};
use crate::config::RelayEndpoint;
use crate::config::{Config, Integration};
use crate::identity::DeviceIdentity;
use crate::posture::evaluate::{IntegrationClient, evaluate_observed};
use crate::posture::report::{IntegrationReport, IntegrationStatus, PostureReport};
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
    live_observed(options, config, tokens, identity, now, &mut |_| {})
}

/// [`live`], telling `progress` of each tenant's answer, and how long it took, as it
/// comes (`refresh -v`).
pub(crate) fn live_observed(
    options: &Options,
    config: &Config,
    tokens: &Tokens,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
    progress: &mut dyn FnMut(Progress<'_>),
) -> PostureReport {
    let started = std::time::Instant::now();
    let targets: Vec<IntegrationClient<'_>> = config
        .integrations
        .iter()
        .zip(tokens)
        .map(|(i, token)| target(options, config, i, token))
        .collect();
    let waiting = Cell::new(targets.len());
    let progress = RefCell::new(progress);
    if !targets.is_empty() {
        progress.borrow_mut()(Progress::Waiting(&asking(waiting.get(), targets.len())));
    }
    // The lookups run concurrently on one thread and none holds the borrow across an
    // await, so the borrows never overlap.
    let answered = |tenant: &IntegrationReport, duration: Duration| {
        let mut progress = progress.borrow_mut();
        progress(Progress::Item(&tenant_step(tenant, duration)));
        waiting.set(waiting.get() - 1);
        if waiting.get() > 0 {
            progress(Progress::Waiting(&asking(waiting.get(), targets.len())));
        }
    };
    let max_age = config.snapshot.max_age;
    let mut report = match runtime() {
        Ok(runtime) => runtime.block_on(evaluate_observed(
            &targets, identity, now, max_age, &answered,
        )),
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

/// What the status line says while `left` of `all` tenants have yet to answer.
fn asking(left: usize, all: usize) -> String {
    match (left, all) {
        (_, 1) => "asking the tenant".into(),
        (left, all) if left == all => format!("asking {all} tenants"),
        (left, all) => format!("waiting for {left} of {all} tenants"),
    }
}

/// One tenant's answer as a step: its reason code, and what it matched.
fn tenant_step(tenant: &IntegrationReport, duration: Duration) -> CheckedItem {
    let matched = tenant
        .matched_by
        .map(|m| format!(" by {}", m.describe()))
        .unwrap_or_default();
    let error = tenant
        .error
        .as_deref()
        .map(|e| format!(": {e}"))
        .unwrap_or_default();
    CheckedItem {
        ok: tenant.status == IntegrationStatus::Ok,
        what: format!("tenant {}", crate::text::quoted(&tenant.name)),
        detail: format!(
            "{}{matched}{error} ({})",
            tenant.reason.as_str(),
            took(duration)
        ),
        hint: None,
    }
}

/// "12 ms", as the steps of doctor and `integration test` show it.
pub(crate) fn took(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
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
