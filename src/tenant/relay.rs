//! What a device and an `s1trust-relay` agree on beyond the Management API's own shape
//! (docs/relay.md): the relay answers `GET /web/api/v2.1/agents` exactly as a console
//! would, and these headers carry what the API has no place for.

use std::time::Duration;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::error::TenantError;
use super::url::ConsoleUrl;
use crate::token::ApiToken;

/// Response header: when the relay's inventory was last synced completely (RFC 3339).
pub const SYNCED_AT_HEADER: &str = "x-s1trust-synced-at";

/// Request header: the console URL of the device's integration, so one relay can hold
/// several tenants and answer each device only from the tenant its configuration names.
pub const CONSOLE_HEADER: &str = "x-s1trust-console";

/// Parses the synced-at header's value; `None` when it is not RFC 3339.
pub fn parse_synced_at(value: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(value.trim(), &Rfc3339).ok()
}

/// The header value for `at`.
pub fn format_synced_at(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

/// A relay's clock may run this far ahead of the device's before its answer is doubted.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// What a device presents to its relay and demands of the answers, already read.
#[derive(Debug, Clone)]
pub struct RelayAccess {
    /// The tenant the device's integration names (sent as [`CONSOLE_HEADER`]).
    pub console: ConsoleUrl,
    /// The relay's bearer secret.
    pub secret: Option<ApiToken>,
    /// The device's certificate for mutual TLS.
    pub identity: Option<ClientIdentity>,
    /// Oldest inventory an answer may come from.
    pub max_age: Duration,
}

/// A client certificate chain and its private key, in PEM. `Debug` leaves out the key.
#[derive(Clone)]
pub struct ClientIdentity {
    /// The certificate chain, leaf first.
    pub cert_pem: Vec<u8>,
    key_pem: Vec<u8>,
}

impl ClientIdentity {
    /// Pairs a certificate chain with its key.
    pub fn new(cert_pem: Vec<u8>, key_pem: Vec<u8>) -> Self {
        Self { cert_pem, key_pem }
    }

    pub(crate) fn key_pem(&self) -> &[u8] {
        &self.key_pem
    }
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientIdentity(<certificate and redacted key>)")
    }
}

/// Judges the age of the inventory an answer came from: it must say when it was
/// synced, not be older than `max_age`, and not be from the future beyond clock skew.
pub fn check_synced_at(
    header: Option<&str>,
    max_age: Duration,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, TenantError> {
    let stale =
        |synced_at: Option<OffsetDateTime>, why: String| TenantError::RelayStale { synced_at, why };
    let Some(value) = header else {
        return Err(stale(
            None,
            format!("the answer has no {SYNCED_AT_HEADER} header; is this an s1trust-relay?"),
        ));
    };
    let Some(at) = parse_synced_at(value) else {
        return Err(stale(
            None,
            format!("its {SYNCED_AT_HEADER} header is not an RFC 3339 time"),
        ));
    };
    if at > now + CLOCK_SKEW {
        return Err(stale(
            Some(at),
            "its inventory is dated in the future; check the relay's and this device's clocks"
                .into(),
        ));
    }
    let age = (now - at).max(time::Duration::ZERO).unsigned_abs();
    if age > max_age {
        return Err(stale(
            Some(at),
            format!(
                "its inventory is {} old, older than [relay] max_age ({})",
                humantime::format_duration(Duration::from_secs(age.as_secs())),
                humantime::format_duration(max_age)
            ),
        ));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_must_say_how_old_it_is_and_be_young_enough() {
        let now = time::macros::datetime!(2026-12-03 16:00:00 UTC);
        let minute = time::Duration::minutes(1);
        let max = Duration::from_secs(15 * 60);
        let at = |t: OffsetDateTime| format_synced_at(t);
        assert_eq!(
            check_synced_at(Some(&at(now - 14 * minute)), max, now).unwrap(),
            now - 14 * minute
        );
        assert!(check_synced_at(Some(&at(now + 4 * minute)), max, now).is_ok());
        for bad in [
            None,
            Some("soon".to_owned()),
            Some(at(now - 16 * minute)),
            Some(at(now + 6 * minute)),
        ] {
            let err = check_synced_at(bad.as_deref(), max, now).unwrap_err();
            assert_eq!(
                err.reason_code(),
                crate::reason::Reason::RelayStale,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn synced_at_round_trips() {
        let at = time::macros::datetime!(2026-12-03 16:00:00 UTC);
        assert_eq!(parse_synced_at(&format_synced_at(at)), Some(at));
        assert_eq!(parse_synced_at("yesterday"), None);
    }
}
