//! What a device and an `s1trust-relay` agree on beyond the Management API's own shape
//! (docs/relay.md): the relay answers `GET /web/api/v2.1/agents` exactly as a console
//! would, and these headers carry what the API has no place for.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synced_at_round_trips() {
        let at = time::macros::datetime!(2026-12-03 16:00:00 UTC);
        assert_eq!(parse_synced_at(&format_synced_at(at)), Some(at));
        assert_eq!(parse_synced_at("yesterday"), None);
    }
}
