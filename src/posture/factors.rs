//! The trust factor catalogue (README "Factors") and how each is judged on an agent record.

use crate::reason::Reason;
use crate::version::Version;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::OsType;
use crate::tenant::AgentRecord;

/// Every factor s1trust knows, in catalogue order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKey {
    /// A matching, bound, not decommissioned agent record exists in the tenant.
    RegisteredWith,
    /// `activeThreats == 0`.
    NotActiveThreat,
    /// `isActive` and `lastActiveDate` within `max_inactive`.
    AgentActive,
    /// `infected == false`.
    NotInfected,
    /// `threatRebootRequired == false`.
    NoPendingReboot,
    /// `operationalState == "na"`.
    Operational,
    /// `mitigationMode == "protect"`.
    ProtectMode,
    /// `isUpToDate`, or `agentVersion >= min_version`.
    AgentUpToDate,
    /// `networkStatus == "connected"`.
    NotNetworkQuarantined,
    /// `firewallEnabled`.
    FirewallEnabled,
    /// `encryptedApplications`.
    DiskEncrypted,
}

impl FactorKey {
    /// The catalogue, in display order.
    pub const ALL: [FactorKey; 11] = [
        Self::RegisteredWith,
        Self::NotActiveThreat,
        Self::AgentActive,
        Self::NotInfected,
        Self::NoPendingReboot,
        Self::Operational,
        Self::ProtectMode,
        Self::AgentUpToDate,
        Self::NotNetworkQuarantined,
        Self::FirewallEnabled,
        Self::DiskEncrypted,
    ];

    /// The config and JSON key, e.g. `not_active_threat`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RegisteredWith => "registered_with",
            Self::NotActiveThreat => "not_active_threat",
            Self::AgentActive => "agent_active",
            Self::NotInfected => "not_infected",
            Self::NoPendingReboot => "no_pending_reboot",
            Self::Operational => "operational",
            Self::ProtectMode => "protect_mode",
            Self::AgentUpToDate => "agent_up_to_date",
            Self::NotNetworkQuarantined => "not_network_quarantined",
            Self::FirewallEnabled => "firewall_enabled",
            Self::DiskEncrypted => "disk_encrypted",
        }
    }

    /// Looks a key up by its config name.
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == key)
    }

    /// The display name, as in the Banyan console (README "Terms").
    pub fn name(self) -> &'static str {
        match self {
            Self::RegisteredWith => "Registered With",
            Self::NotActiveThreat => "Not Active Threat",
            Self::AgentActive => "Agent Active",
            Self::NotInfected => "Not Infected",
            Self::NoPendingReboot => "No Pending Threat Reboot",
            Self::Operational => "Agent Operational",
            Self::ProtectMode => "Protect Mode",
            Self::AgentUpToDate => "Agent Up To Date",
            Self::NotNetworkQuarantined => "Not Network Quarantined",
            Self::FirewallEnabled => "Firewall Control Enabled",
            Self::DiskEncrypted => "Disk Encrypted",
        }
    }

    /// Whether the factor is on when the config does not mention it.
    pub fn enabled_by_default(self) -> bool {
        matches!(self, Self::RegisteredWith | Self::NotActiveThreat)
    }

    /// What the user should do when the factor fails.
    pub fn default_remediation(self) -> &'static str {
        match self {
            Self::RegisteredWith => {
                "Install the SentinelOne agent and register it with the company console, or ask IT to check this device's record"
            }
            Self::NotActiveThreat => {
                "Open the SentinelOne agent or contact IT to resolve the active threat on this device"
            }
            Self::AgentActive => {
                "Make sure the SentinelOne agent is running and this device can reach the management console"
            }
            Self::NotInfected => "Contact IT: SentinelOne reports this device as infected",
            Self::NoPendingReboot => "Reboot to finish threat mitigation",
            Self::Operational => {
                "The SentinelOne agent is disabled or degraded; contact IT to re-enable it"
            }
            Self::ProtectMode => {
                "Ask IT to move this device to a SentinelOne policy in Protect mode"
            }
            Self::AgentUpToDate => {
                "Update the SentinelOne agent (or ask IT to push the latest version)"
            }
            Self::NotNetworkQuarantined => {
                "This device is network-quarantined by SentinelOne; contact IT"
            }
            Self::FirewallEnabled => {
                "Ask IT to enable SentinelOne Firewall Control for this device's group"
            }
            Self::DiskEncrypted => "Turn on disk encryption (BitLocker, FileVault or LUKS)",
        }
    }

    /// The parameters this factor accepts in its config table.
    pub fn parameters(self) -> &'static [&'static str] {
        match self {
            Self::AgentActive => &["max_inactive"],
            Self::AgentUpToDate => &["min_version"],
            _ => &[],
        }
    }
}

/// Default for `agent_active.max_inactive`: the agent checks in far more often.
pub const DEFAULT_MAX_INACTIVE: Duration = Duration::from_secs(3600);

/// One factor's settings for one integration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorSettings {
    /// Which factor.
    pub key: FactorKey,
    /// Whether it counts.
    pub enabled: bool,
    /// The OSes it applies to.
    pub os: Vec<OsType>,
    /// Text shown when it fails.
    pub remediation: String,
    /// `agent_active`: longest accepted silence.
    pub max_inactive: Duration,
    /// `agent_up_to_date`: minimum dotted version instead of `isUpToDate`.
    pub min_version: Option<String>,
}

impl FactorSettings {
    /// The built-in settings for `key`.
    pub fn default_for(key: FactorKey) -> Self {
        Self {
            key,
            enabled: key.enabled_by_default(),
            os: vec![OsType::Macos, OsType::Windows, OsType::Linux],
            remediation: key.default_remediation().to_owned(),
            max_inactive: DEFAULT_MAX_INACTIVE,
            min_version: None,
        }
    }

    /// Built-in settings for the whole catalogue.
    pub fn defaults() -> Vec<Self> {
        FactorKey::ALL.into_iter().map(Self::default_for).collect()
    }
}

/// A factor's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorResult {
    /// The device meets it.
    Satisfied,
    /// The device does not meet it.
    NotSatisfied,
    /// It could not be determined.
    Unknown,
    /// Not selected for this device's OS.
    NotApplicable,
}

/// A judgement: result, stable reason code, and a short human detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The outcome.
    pub result: FactorResult,
    /// Stable reason code (see README "Reason codes").
    pub reason: Reason,
    /// What was seen, e.g. `activeThreats is 2`.
    pub detail: Option<String>,
}

impl Verdict {
    fn new(result: FactorResult, reason: Reason, detail: impl Into<Option<String>>) -> Self {
        Self {
            result,
            reason,
            detail: detail.into(),
        }
    }
}

/// Judges one factor (other than `registered_with`) on the bound record.
pub fn judge(settings: &FactorSettings, record: &AgentRecord, now: OffsetDateTime) -> Verdict {
    use FactorResult::{NotSatisfied, Satisfied};
    match settings.key {
        FactorKey::RegisteredWith => Verdict::new(Satisfied, Reason::AgentFound, None),
        FactorKey::NotActiveThreat => match record.count("activeThreats") {
            Some(0) => Verdict::new(Satisfied, Reason::NoActiveThreats, None),
            Some(n) => Verdict::new(
                NotSatisfied,
                Reason::ActiveThreats,
                format!("activeThreats is {n}"),
            ),
            None => missing("activeThreats"),
        },
        FactorKey::AgentActive => agent_active(settings.max_inactive, record, now),
        FactorKey::NotInfected => flag(
            record,
            "infected",
            false,
            Reason::NotInfected,
            Reason::Infected,
        ),
        FactorKey::NoPendingReboot => flag(
            record,
            "threatRebootRequired",
            false,
            Reason::NoRebootRequired,
            Reason::RebootRequired,
        ),
        FactorKey::Operational => text_is(
            record,
            "operationalState",
            "na",
            Reason::Operational,
            Reason::NotOperational,
        ),
        FactorKey::ProtectMode => text_is(
            record,
            "mitigationMode",
            "protect",
            Reason::ProtectMode,
            Reason::DetectMode,
        ),
        FactorKey::AgentUpToDate => up_to_date(settings.min_version.as_deref(), record),
        FactorKey::NotNetworkQuarantined => text_is(
            record,
            "networkStatus",
            "connected",
            Reason::NetworkConnected,
            Reason::NetworkQuarantined,
        ),
        FactorKey::FirewallEnabled => flag(
            record,
            "firewallEnabled",
            true,
            Reason::FirewallEnabled,
            Reason::FirewallDisabled,
        ),
        FactorKey::DiskEncrypted => flag(
            record,
            "encryptedApplications",
            true,
            Reason::DiskEncrypted,
            Reason::NotEncrypted,
        ),
    }
}

fn missing(field: &str) -> Verdict {
    Verdict::new(
        FactorResult::Unknown,
        Reason::FieldMissing,
        format!("the agent record has no usable {field}"),
    )
}

fn flag(record: &AgentRecord, field: &str, want: bool, ok: Reason, bad: Reason) -> Verdict {
    match record.flag(field) {
        Some(value) if value == want => Verdict::new(FactorResult::Satisfied, ok, None),
        Some(value) => Verdict::new(
            FactorResult::NotSatisfied,
            bad,
            format!("{field} is {value}"),
        ),
        None => missing(field),
    }
}

fn text_is(record: &AgentRecord, field: &str, want: &str, ok: Reason, bad: Reason) -> Verdict {
    match record.text(field) {
        Some(value) if value.eq_ignore_ascii_case(want) => {
            Verdict::new(FactorResult::Satisfied, ok, None)
        }
        Some(value) => Verdict::new(
            FactorResult::NotSatisfied,
            bad,
            format!("{field} is {value:?}"),
        ),
        None => missing(field),
    }
}

fn agent_active(max_inactive: Duration, record: &AgentRecord, now: OffsetDateTime) -> Verdict {
    let Some(active) = record.flag("isActive") else {
        return missing("isActive");
    };
    if !active {
        return Verdict::new(
            FactorResult::NotSatisfied,
            Reason::Inactive,
            "isActive is false".to_owned(),
        );
    }
    let Some(last) = record.date("lastActiveDate") else {
        return missing("lastActiveDate");
    };
    let silence = now - last;
    if silence > time::Duration::try_from(max_inactive).unwrap_or(time::Duration::MAX) {
        let detail = format!(
            "last active {} ago (allowed {})",
            humantime::format_duration(Duration::from_secs(silence.whole_seconds().max(0) as u64)),
            humantime::format_duration(max_inactive)
        );
        return Verdict::new(FactorResult::NotSatisfied, Reason::LastActiveTooOld, detail);
    }
    Verdict::new(FactorResult::Satisfied, Reason::Active, None)
}

fn up_to_date(min_version: Option<&str>, record: &AgentRecord) -> Verdict {
    let Some(min) = min_version else {
        return flag(
            record,
            "isUpToDate",
            true,
            Reason::UpToDate,
            Reason::Outdated,
        );
    };
    let Some(version) = record.text("agentVersion") else {
        return missing("agentVersion");
    };
    match (Version::parse(&version), Version::parse(min)) {
        (Some(have), Some(need)) if have >= need => {
            Verdict::new(FactorResult::Satisfied, Reason::UpToDate, None)
        }
        (Some(_), Some(_)) => Verdict::new(
            FactorResult::NotSatisfied,
            Reason::Outdated,
            format!("agentVersion {version} is older than {min}"),
        ),
        _ => missing("agentVersion"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn record(v: Value) -> AgentRecord {
        AgentRecord::new(v.as_object().unwrap().clone())
    }

    fn verdict(key: FactorKey, v: Value) -> Verdict {
        judge(&FactorSettings::default_for(key), &record(v), NOW)
    }

    #[test]
    fn every_factor_has_three_outcomes() {
        use FactorResult::*;
        let cases: [(FactorKey, Value, Value); 10] = [
            (
                FactorKey::NotActiveThreat,
                json!({"activeThreats": 0}),
                json!({"activeThreats": 3}),
            ),
            (
                FactorKey::AgentActive,
                json!({"isActive": true, "lastActiveDate": "2026-11-22T11:30:00Z"}),
                json!({"isActive": false}),
            ),
            (
                FactorKey::NotInfected,
                json!({"infected": false}),
                json!({"infected": "True"}),
            ),
            (
                FactorKey::NoPendingReboot,
                json!({"threatRebootRequired": false}),
                json!({"threatRebootRequired": true}),
            ),
            (
                FactorKey::Operational,
                json!({"operationalState": "na"}),
                json!({"operationalState": "partially_disabled"}),
            ),
            (
                FactorKey::ProtectMode,
                json!({"mitigationMode": "protect"}),
                json!({"mitigationMode": "detect"}),
            ),
            (
                FactorKey::AgentUpToDate,
                json!({"isUpToDate": true}),
                json!({"isUpToDate": false}),
            ),
            (
                FactorKey::NotNetworkQuarantined,
                json!({"networkStatus": "connected"}),
                json!({"networkStatus": "disconnected"}),
            ),
            (
                FactorKey::FirewallEnabled,
                json!({"firewallEnabled": true}),
                json!({"firewallEnabled": false}),
            ),
            (
                FactorKey::DiskEncrypted,
                json!({"encryptedApplications": true}),
                json!({"encryptedApplications": false}),
            ),
        ];
        for (key, good, bad) in cases {
            assert_eq!(verdict(key, good).result, Satisfied, "{key:?}");
            assert_eq!(verdict(key, bad).result, NotSatisfied, "{key:?}");
            let unknown = verdict(key, json!({"activeThreats": null, "isActive": true}));
            assert_eq!(unknown.result, Unknown, "{key:?}");
            assert_eq!(unknown.reason, "field_missing");
        }
    }

    #[test]
    fn agent_active_respects_max_inactive() {
        let stale = verdict(
            FactorKey::AgentActive,
            json!({"isActive": true, "lastActiveDate": "2026-11-22T09:00:00.5Z"}),
        );
        assert_eq!(stale.reason, "last_active_too_old");
        assert!(stale.detail.unwrap().contains("allowed 1h"));
        let mut settings = FactorSettings::default_for(FactorKey::AgentActive);
        settings.max_inactive = Duration::from_secs(4 * 3600);
        let record = record(json!({"isActive": true, "lastActiveDate": "2026-11-22T09:00:00Z"}));
        assert_eq!(
            judge(&settings, &record, NOW).result,
            FactorResult::Satisfied
        );
    }

    #[test]
    fn min_version_compares_numerically() {
        let mut settings = FactorSettings::default_for(FactorKey::AgentUpToDate);
        settings.min_version = Some("24.1.10".into());
        let check = |v: &str| {
            judge(
                &settings,
                &record(json!({"agentVersion": v, "isUpToDate": false})),
                NOW,
            )
            .result
        };
        assert_eq!(check("24.1.10.0"), FactorResult::Satisfied);
        assert_eq!(check("24.2.1.5"), FactorResult::Satisfied);
        assert_eq!(check("24.1.9.99"), FactorResult::NotSatisfied);
        assert_eq!(check("garbage"), FactorResult::Unknown);
        assert_eq!(
            check("25.1.4.434+8d4abf01154f6752-Release.x64"),
            FactorResult::Satisfied
        );
    }

    #[test]
    fn catalogue_round_trips() {
        for key in FactorKey::ALL {
            assert_eq!(FactorKey::parse(key.as_str()), Some(key));
            assert_eq!(serde_json::to_value(key).unwrap(), json!(key.as_str()));
        }
        let on: Vec<_> = FactorKey::ALL
            .into_iter()
            .filter(|k| k.enabled_by_default())
            .collect();
        assert_eq!(on, [FactorKey::RegisteredWith, FactorKey::NotActiveThreat]);
    }
}
