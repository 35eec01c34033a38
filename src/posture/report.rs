//! The versioned posture document (`check --json`, and the snapshot on disk).
//! Its JSON Schema is `src/posture/check-v1.schema.json`.

use crate::reason::Reason;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::factors::{FactorKey, FactorResult};
use crate::identity::{DeviceIdentity, OsType};
use crate::tenant::AgentRecord;

/// A timestamp for people: `2026-11-22 03:31:07 UTC`.
pub fn fmt_time(at: OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    utc.format(&format).unwrap_or_else(|_| utc.to_string())
}

/// The document's schema version; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overall {
    /// Every enabled, applicable factor is satisfied.
    Trusted,
    /// At least one factor is not satisfied.
    NotTrusted,
    /// The answer could not be determined.
    Unknown,
}

impl Overall {
    /// The lowercase name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trusted => "trusted",
            Self::NotTrusted => "not_trusted",
            Self::Unknown => "unknown",
        }
    }
}

/// Where a report came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Evaluated just now.
    Live,
    /// Read from the snapshot written by `refresh`.
    Snapshot,
    /// Neither: no usable snapshot and no live evaluation (the `unknown` says why).
    None,
}

/// The posture document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PostureReport {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The overall answer.
    pub result: Overall,
    /// Stable reason code for a result other than `trusted`.
    pub reason: Option<Reason>,
    /// When the evaluation ran.
    #[serde(with = "time::serde::rfc3339")]
    pub evaluated_at: OffsetDateTime,
    /// When the answer stops being usable.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// Live evaluation or snapshot.
    pub source: Source,
    /// This device as it was identified.
    pub device: DeviceSummary,
    /// One entry per configured integration.
    pub integrations: Vec<IntegrationReport>,
    /// One entry per enabled factor per integration.
    pub factors: Vec<FactorReport>,
    /// Why the answer is what it is, for people (e.g. "snapshot is 45m old").
    #[serde(default)]
    pub notes: Vec<String>,
    /// The latest refresh attempt, when it failed after this snapshot was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_refresh: Option<RefreshAttempt>,
}

/// The device facts the answer was computed for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeviceSummary {
    /// Usable hardware serial.
    pub serial_number: Option<String>,
    /// Agent UUID as read locally.
    pub agent_uuid: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// OS family.
    pub os_type: Option<OsType>,
    /// OS name and version.
    pub os_name: Option<String>,
    /// Local agent version.
    pub agent_version: Option<String>,
    /// Whether the agent is installed.
    pub agent_installed: bool,
    /// The OS's own machine identity, hashed (see `identity::host::host_id`): what ties
    /// a snapshot to one device for a reader who cannot read the serial.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
}

impl From<&DeviceIdentity> for DeviceSummary {
    fn from(identity: &DeviceIdentity) -> Self {
        Self {
            serial_number: identity
                .serial_number
                .as_ref()
                .map(|s| s.as_str().to_owned()),
            agent_uuid: identity.agent_uuid.clone(),
            hostname: identity.hostname.clone(),
            os_type: identity.os_type,
            os_name: identity.os_name.clone(),
            agent_version: identity.agent_version.clone(),
            agent_installed: identity.agent_installed,
            host_id: identity.host_id.clone(),
        }
    }
}

/// How a record was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// By the local agent UUID.
    Uuid,
    /// By the hardware serial (no UUID available).
    Serial,
}

impl MatchedBy {
    /// For people: `agent UUID` or `serial number`.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Uuid => "agent UUID",
            Self::Serial => "serial number",
        }
    }
}

/// One integration's lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntegrationReport {
    /// The integration's name.
    pub name: String,
    /// Its console.
    pub url: String,
    /// `ok` when the tenant answered, `error` when it could not be asked.
    pub status: IntegrationStatus,
    /// Stable reason code of the lookup (`agent_found`, `not_found`, `auth_failed`, …).
    pub reason: Reason,
    /// How the record was found.
    pub matched_by: Option<MatchedBy>,
    /// The record standing for this device.
    pub agent: Option<AgentSummary>,
    /// How the record is tied to this device; `None` when no record is (not found,
    /// ambiguous, an error, or `identity_mismatch`). Added after schema version 1 was
    /// published, so older documents lack it.
    #[serde(default)]
    pub binding: Option<Binding>,
    /// Why the binding is `uuid_only`.
    #[serde(default)]
    pub binding_reason: Option<BindingReason>,
    /// For a `serial` binding, the source of this device's serial that the record's
    /// serial equals, e.g. `smbios:type2` or `iokit`.
    #[serde(default)]
    pub binding_source: Option<String>,
    /// Other records that matched too (reinstalls, clones).
    pub duplicates: u32,
    /// The error, when the tenant could not be asked.
    pub error: Option<String>,
}

/// How a record is tied to this device (the identity binding, docs/commands.md `s1trust lookup`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// The record's serial equals one of this device's serials.
    Serial,
    /// Found by agent UUID; the record's serial cannot confirm it (absent, empty or a
    /// placeholder), so the UUID match stands alone.
    UuidOnly,
}

impl Binding {
    /// The JSON name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Serial => "serial",
            Self::UuidOnly => "uuid_only",
        }
    }
}

crate::reason::codes! {
    /// Why a record found by UUID is bound by the UUID alone: the serial cannot confirm it
    /// (docs/commands.md "Lookup rules").
    pub enum BindingReason {
        /// The record has no serial (absent, `null`, not a string).
        RecordSerialMissing = "record_serial_missing",
        /// The record's serial is empty.
        RecordSerialEmpty = "record_serial_empty",
        /// The record's serial is too short to identify a device.
        RecordSerialTooShort = "record_serial_too_short",
        /// The record's serial is a placeholder.
        RecordSerialPlaceholder = "record_serial_placeholder",
        /// This device's hardware serial could not be read.
        DeviceSerialUnavailable = "device_serial_unavailable",
    }
}

/// Whether the tenant was asked successfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntegrationStatus {
    /// The tenant answered.
    Ok,
    /// It could not be asked, or did not answer usefully.
    Error,
}

/// The matched agent record, summarised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentSummary {
    /// `id`.
    pub id: Option<String>,
    /// `uuid`.
    pub uuid: Option<String>,
    /// `computerName`.
    pub computer_name: Option<String>,
    /// `serialNumber`.
    pub serial_number: Option<String>,
    /// `siteId`.
    pub site_id: Option<String>,
    /// `accountId`.
    pub account_id: Option<String>,
    /// `agentVersion`.
    pub agent_version: Option<String>,
    /// `isActive`.
    pub is_active: Option<bool>,
    /// `lastActiveDate`.
    pub last_active_date: Option<String>,
    /// `isDecommissioned`.
    pub is_decommissioned: Option<bool>,
}

impl From<&AgentRecord> for AgentSummary {
    fn from(record: &AgentRecord) -> Self {
        Self {
            id: record.text("id"),
            uuid: record.uuid(),
            computer_name: record.text("computerName"),
            serial_number: record.serial_number(),
            site_id: record.text("siteId"),
            account_id: record.text("accountId"),
            agent_version: record.text("agentVersion"),
            is_active: record.flag("isActive"),
            last_active_date: record.text("lastActiveDate"),
            is_decommissioned: record.flag("isDecommissioned"),
        }
    }
}

/// One factor's outcome for one integration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FactorReport {
    /// Catalogue key.
    pub key: FactorKey,
    /// Display name.
    pub name: String,
    /// The integration that judged it.
    pub source: String,
    /// The outcome.
    pub result: FactorResult,
    /// Stable reason code.
    pub reason: Reason,
    /// What was seen.
    pub detail: Option<String>,
    /// What to do when it is not satisfied.
    pub remediation: String,
}

/// A refresh that ran (successfully or not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RefreshAttempt {
    /// When it ran.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Whether it produced the current snapshot.
    pub ok: bool,
    /// The result it reached.
    pub result: Overall,
    /// Its reason code.
    pub reason: Option<Reason>,
    /// Why the snapshot was kept, for people.
    pub message: Option<String>,
    /// When refreshes started failing without a success since (absent after a success).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "time::serde::rfc3339::option"
    )]
    pub failing_since: Option<OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Snapshots written before the binding fields existed still read (same schema
    /// version); new documents always carry them.
    #[test]
    fn binding_fields_are_additive() {
        let old = serde_json::json!({
            "name": "corp", "url": "https://usea1.sentinelone.net", "status": "ok",
            "reason": "agent_found", "matchedBy": "uuid", "agent": null, "duplicates": 0,
            "error": null
        });
        let report: IntegrationReport = serde_json::from_value(old).unwrap();
        assert_eq!(report.binding, None);
        let json = serde_json::to_value(IntegrationReport {
            binding: Some(Binding::UuidOnly),
            binding_reason: Some(BindingReason::RecordSerialPlaceholder),
            ..report
        })
        .unwrap();
        assert_eq!(json["binding"], "uuid_only");
        assert_eq!(json["bindingReason"], "record_serial_placeholder");
        assert_eq!(json["bindingSource"], serde_json::Value::Null);
        assert_eq!(Binding::Serial.as_str(), "serial");
    }
}
