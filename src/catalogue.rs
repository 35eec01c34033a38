//! The trust factor catalogue (docs/factors.md): one [`Factor`] entry per factor —
//! key, name, defaults, parameters, remediation per reason and the rule — as data.
//! The configuration reads it (which keys and parameters exist, their defaults), and
//! `posture::factors` judges by it; it depends on neither.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::identity::OsType;
use crate::reason::Reason;
use crate::version::Version;

/// A factor's name in config and JSON; what each one means is its [`CATALOGUE`] entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FactorKey {
    RegisteredWith,
    NotActiveThreat,
    AgentActive,
    NotInfected,
    NoPendingReboot,
    Operational,
    ProtectMode,
    AgentUpToDate,
    NotNetworkQuarantined,
    FirewallEnabled,
    DiskEncrypted,
}

/// Everything s1trust knows about one factor.
#[derive(Debug)]
pub struct Factor {
    /// Which factor; entries are in [`FactorKey`] order.
    pub key: FactorKey,
    /// The config and JSON key, e.g. `not_active_threat` (serde's spelling of `key`).
    pub code: &'static str,
    /// The display name, as in the Banyan console (README "Terms").
    pub name: &'static str,
    /// Whether it counts when the config does not mention it.
    pub enabled: bool,
    /// The OSes it applies to when the config does not say.
    pub os: &'static [OsType],
    /// The settings its config table takes besides `enabled`, `os` and `remediation`.
    pub parameters: &'static [Parameter],
    /// How it is decided.
    pub rule: Rule,
    /// What to do when its own rule fails; also carried with results that need nothing done.
    pub remediation: &'static str,
    /// Reasons whose remedy differs from [`Factor::remediation`].
    pub remedies: &'static [Remedy],
}

/// One remedy for the reasons it names.
#[derive(Debug)]
pub struct Remedy {
    /// The reasons it answers.
    pub reasons: &'static [Reason],
    /// What the user should do.
    pub text: &'static str,
}

/// A setting a factor's config table takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parameter {
    /// `max_inactive`: the longest accepted silence, [`DEFAULT_MAX_INACTIVE`] unless set.
    MaxInactive,
    /// `min_version`: the oldest accepted agent version, in place of the console's `isUpToDate`.
    MinVersion,
}

impl Parameter {
    /// Its key in the factor's config table.
    pub fn key(self) -> &'static str {
        match self {
            Self::MaxInactive => "max_inactive",
            Self::MinVersion => "min_version",
        }
    }
}

/// How a factor is decided on the agent record the lookup bound to this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// The lookup itself: a record was found, bound to this device, in the
    /// integration's scope and not retired (`posture::evaluate`).
    Lookup,
    /// A count field is zero.
    Zero {
        /// The record's field.
        field: &'static str,
        /// The reason when it is zero.
        ok: Reason,
        /// The reason when it is not.
        bad: Reason,
    },
    /// A boolean field has the wanted value.
    Flag {
        /// The record's field.
        field: &'static str,
        /// The value that satisfies it.
        want: bool,
        /// The reason when it has that value.
        ok: Reason,
        /// The reason when it has the other.
        bad: Reason,
    },
    /// A text field has the wanted value, ignoring ASCII case.
    Text {
        /// The record's field.
        field: &'static str,
        /// The value that satisfies it.
        want: &'static str,
        /// The reason when it has that value.
        ok: Reason,
        /// The reason when it has another.
        bad: Reason,
    },
    /// `isActive`, and `lastActiveDate` no longer ago than [`Parameter::MaxInactive`].
    RecentlyActive,
    /// `agentVersion` at least [`Parameter::MinVersion`] when that is set, else `isUpToDate`.
    UpToDate,
}

pub(crate) const EVERY_OS: &[OsType] = &[OsType::Macos, OsType::Windows, OsType::Linux];

pub(crate) const INSTALL_AGENT: &str = "Install the SentinelOne agent and register it with the company console, or ask IT to check this device's record";

/// Remedies for what the lookup can answer: `registered_with`'s reasons, and the
/// reason every other factor is unknown for when the lookup bound no record.
pub(crate) const LOOKUP_REMEDIES: &[Remedy] = &[
    Remedy {
        reasons: &[Reason::NotFound, Reason::NoLocalAgent, Reason::Uninstalled],
        text: INSTALL_AGENT,
    },
    Remedy {
        reasons: &[Reason::IdentityMismatch],
        text: "Ask IT to check this device's record: the SentinelOne record found for its agent holds another device's serial number",
    },
    Remedy {
        reasons: &[Reason::ForeignSite],
        text: "Ask IT to move this device's SentinelOne agent to a site or account this integration accepts",
    },
    Remedy {
        reasons: &[Reason::Decommissioned],
        text: "Ask IT to recommission this device in the SentinelOne console",
    },
    Remedy {
        reasons: &[Reason::Ambiguous],
        text: "Ask IT to remove the duplicate SentinelOne records that match this device",
    },
    Remedy {
        reasons: &[Reason::RetirementUnknown],
        text: "Ask IT to check this device's record in the SentinelOne console",
    },
    Remedy {
        reasons: &[
            Reason::SerialUnavailable,
            Reason::PlaceholderSerial,
            Reason::BadLocalUuid,
        ],
        text: "Make sure the SentinelOne agent is running, or contact IT: this device's agent UUID could not be read",
    },
    Remedy {
        reasons: &[Reason::AuthFailed, Reason::Forbidden],
        text: "Ask IT to check this integration's SentinelOne API token and its role",
    },
    Remedy {
        reasons: &[Reason::TokenUnreadable, Reason::ConfigError],
        text: "Ask IT to fix this integration's settings on this device (`s1trust doctor` shows what is wrong)",
    },
    Remedy {
        reasons: &[
            Reason::NetworkError,
            Reason::Timeout,
            Reason::RateLimited,
            Reason::BadResponse,
        ],
        text: "Check this device's connection to the SentinelOne console and try again in a few minutes; contact IT if it persists",
    },
];

/// Remedies for a factor left unknown by something other than the lookup: the same
/// whatever the factor.
pub(crate) const UNDETERMINED_REMEDIES: &[Remedy] = &[
    Remedy {
        reasons: &[Reason::FieldMissing],
        text: "Ask IT to check this device's record: the SentinelOne console does not report what this factor needs",
    },
    Remedy {
        reasons: &[Reason::OsUnknown],
        text: "Use a macOS, Windows or Linux device: SentinelOne supports no other system",
    },
];

/// The catalogue, in display order.
pub const CATALOGUE: &[Factor] = &[
    Factor {
        key: FactorKey::RegisteredWith,
        code: "registered_with",
        name: "Registered With",
        enabled: true,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Lookup,
        remediation: INSTALL_AGENT,
        remedies: LOOKUP_REMEDIES,
    },
    Factor {
        key: FactorKey::NotActiveThreat,
        code: "not_active_threat",
        name: "Not Active Threat",
        enabled: true,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Zero {
            field: "activeThreats",
            ok: Reason::NoActiveThreats,
            bad: Reason::ActiveThreats,
        },
        remediation: "Open the SentinelOne agent or contact IT to resolve the active threat on this device",
        remedies: &[],
    },
    Factor {
        key: FactorKey::AgentActive,
        code: "agent_active",
        name: "Agent Active",
        enabled: false,
        os: EVERY_OS,
        parameters: &[Parameter::MaxInactive],
        rule: Rule::RecentlyActive,
        remediation: "Make sure the SentinelOne agent is running and this device can reach the management console",
        remedies: &[],
    },
    Factor {
        key: FactorKey::NotInfected,
        code: "not_infected",
        name: "Not Infected",
        enabled: false,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Flag {
            field: "infected",
            want: false,
            ok: Reason::NotInfected,
            bad: Reason::Infected,
        },
        remediation: "Contact IT: SentinelOne reports this device as infected",
        remedies: &[],
    },
    Factor {
        key: FactorKey::NoPendingReboot,
        code: "no_pending_reboot",
        name: "No Pending Threat Reboot",
        enabled: false,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Flag {
            field: "threatRebootRequired",
            want: false,
            ok: Reason::NoRebootRequired,
            bad: Reason::RebootRequired,
        },
        remediation: "Reboot to finish threat mitigation",
        remedies: &[],
    },
    Factor {
        key: FactorKey::Operational,
        code: "operational",
        name: "Agent Operational",
        enabled: false,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Text {
            field: "operationalState",
            want: "na",
            ok: Reason::Operational,
            bad: Reason::NotOperational,
        },
        remediation: "The SentinelOne agent is disabled or degraded; contact IT to re-enable it",
        remedies: &[],
    },
    Factor {
        key: FactorKey::ProtectMode,
        code: "protect_mode",
        name: "Protect Mode",
        enabled: false,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Text {
            field: "mitigationMode",
            want: "protect",
            ok: Reason::ProtectMode,
            bad: Reason::DetectMode,
        },
        remediation: "Ask IT to move this device to a SentinelOne policy in Protect mode",
        remedies: &[],
    },
    Factor {
        key: FactorKey::AgentUpToDate,
        code: "agent_up_to_date",
        name: "Agent Up To Date",
        enabled: false,
        os: EVERY_OS,
        parameters: &[Parameter::MinVersion],
        rule: Rule::UpToDate,
        remediation: "Update the SentinelOne agent (or ask IT to push the latest version)",
        remedies: &[],
    },
    Factor {
        key: FactorKey::NotNetworkQuarantined,
        code: "not_network_quarantined",
        name: "Not Network Quarantined",
        enabled: false,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Text {
            field: "networkStatus",
            want: "connected",
            ok: Reason::NetworkConnected,
            bad: Reason::NetworkQuarantined,
        },
        remediation: "This device is network-quarantined by SentinelOne; contact IT",
        remedies: &[],
    },
    Factor {
        key: FactorKey::FirewallEnabled,
        code: "firewall_enabled",
        name: "Firewall Control Enabled",
        enabled: false,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Flag {
            field: "firewallEnabled",
            want: true,
            ok: Reason::FirewallEnabled,
            bad: Reason::FirewallDisabled,
        },
        remediation: "Ask IT to enable SentinelOne Firewall Control for this device's group",
        remedies: &[],
    },
    Factor {
        key: FactorKey::DiskEncrypted,
        code: "disk_encrypted",
        name: "Disk Encrypted",
        enabled: false,
        os: EVERY_OS,
        parameters: &[],
        rule: Rule::Flag {
            field: "encryptedApplications",
            want: true,
            ok: Reason::DiskEncrypted,
            bad: Reason::NotEncrypted,
        },
        remediation: "Turn on disk encryption (BitLocker, FileVault or LUKS)",
        remedies: &[],
    },
];

// `FactorKey::factor` indexes the catalogue by variant: entries must be in variant order.
const _: () = {
    let mut i = 0;
    while i < CATALOGUE.len() {
        assert!(
            CATALOGUE[i].key as usize == i,
            "CATALOGUE is out of FactorKey order"
        );
        i += 1;
    }
};

impl FactorKey {
    /// Its catalogue entry.
    pub fn factor(self) -> &'static Factor {
        &CATALOGUE[self as usize]
    }

    /// Every key, in catalogue order.
    pub fn all() -> impl Iterator<Item = FactorKey> {
        CATALOGUE.iter().map(|factor| factor.key)
    }

    /// The config and JSON key, e.g. `not_active_threat`.
    pub fn as_str(self) -> &'static str {
        self.factor().code
    }

    /// The display name, e.g. `Not Active Threat`.
    pub fn name(self) -> &'static str {
        self.factor().name
    }

    /// Looks a key up by its config name.
    pub fn parse(code: &str) -> Option<Self> {
        CATALOGUE.iter().find(|f| f.code == code).map(|f| f.key)
    }
}

impl Factor {
    /// What to do about `reason`: the entry's own remedy for it, else the lookup's (a
    /// factor the lookup left unknown is fixed by fixing the lookup), else the remedy
    /// shared by every factor, else [`Factor::remediation`].
    pub fn remediation_for(&self, reason: Reason) -> &'static str {
        [self.remedies, LOOKUP_REMEDIES, UNDETERMINED_REMEDIES]
            .into_iter()
            .flatten()
            .find(|remedy| remedy.reasons.contains(&reason))
            .map_or(self.remediation, |remedy| remedy.text)
    }
}

/// Every agent-record field a device reads: the factors' rules, the binding and scope
/// checks, the lookup's selection and the `lookup` command's output (README "Lookup").
/// A relay keeps these and drops the rest (host users, IP addresses, tags), so what it
/// holds and serves is what the devices need and no more.
pub const RECORD_FIELDS: &[&str] = &[
    // Identity and binding (`posture::binding`, `lookup`).
    "id",
    "uuid",
    "serialNumber",
    "computerName",
    "osType",
    "osName",
    // Retirement and scope (`posture::evaluate`).
    "isDecommissioned",
    "isUninstalled",
    "siteId",
    "accountId",
    "groupId",
    // The factors (the rules below).
    "isActive",
    "lastActiveDate",
    "agentVersion",
    "isUpToDate",
    "activeThreats",
    "infected",
    "threatRebootRequired",
    "operationalState",
    "mitigationMode",
    "networkStatus",
    "firewallEnabled",
    "encryptedApplications",
];

/// Default for [`Parameter::MaxInactive`]: the agent checks in far more often.
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
    /// The admin's text, shown in place of the catalogue's whatever the reason.
    pub remediation: Option<String>,
    /// [`Parameter::MaxInactive`].
    pub max_inactive: Duration,
    /// [`Parameter::MinVersion`].
    pub min_version: Option<Version>,
}

impl FactorSettings {
    /// The catalogue's settings for `key`.
    pub fn default_for(key: FactorKey) -> Self {
        let factor = key.factor();
        Self {
            key,
            enabled: factor.enabled,
            os: factor.os.to_vec(),
            remediation: None,
            max_inactive: DEFAULT_MAX_INACTIVE,
            min_version: None,
        }
    }

    /// The catalogue's settings for every factor.
    pub fn defaults() -> Vec<Self> {
        FactorKey::all().map(Self::default_for).collect()
    }

    /// What to do about `reason`.
    pub fn remediation_for(&self, reason: Reason) -> &str {
        match &self.remediation {
            Some(text) => text,
            None => self.key.factor().remediation_for(reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relay_keeps_every_field_a_rule_reads() {
        for factor in CATALOGUE {
            let fields = match factor.rule {
                Rule::Lookup => vec![
                    "id",
                    "uuid",
                    "serialNumber",
                    "isDecommissioned",
                    "isUninstalled",
                    "siteId",
                    "accountId",
                ],
                Rule::Zero { field, .. } | Rule::Flag { field, .. } | Rule::Text { field, .. } => {
                    vec![field]
                }
                Rule::RecentlyActive => vec!["isActive", "lastActiveDate"],
                Rule::UpToDate => vec!["agentVersion", "isUpToDate"],
            };
            for field in &fields {
                assert!(RECORD_FIELDS.contains(field), "{}: {field}", factor.code);
            }
        }
    }
}
