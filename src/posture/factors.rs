//! The trust factor catalogue (README "Factors"): one [`Factor`] entry per factor, and
//! the one [`judge`] that reads an entry's [`Rule`] against this device's agent record.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::identity::OsType;
use crate::reason::Reason;
use crate::tenant::AgentRecord;
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

const EVERY_OS: &[OsType] = &[OsType::Macos, OsType::Windows, OsType::Linux];

const INSTALL_AGENT: &str = "Install the SentinelOne agent and register it with the company console, or ask IT to check this device's record";

/// Remedies for what the lookup can answer: `registered_with`'s reasons, and the
/// reason every other factor is unknown for when the lookup bound no record.
const LOOKUP_REMEDIES: &[Remedy] = &[
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
const UNDETERMINED_REMEDIES: &[Remedy] = &[
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

/// Judges one factor for a device running `os` (`None`: not one SentinelOne
/// supports). `lookup` is the record the lookup bound to the device, or the lookup's
/// own verdict when it bound none: `registered_with`'s verdict, and the reason every
/// other factor cannot be judged.
pub fn judge(
    settings: &FactorSettings,
    os: Option<OsType>,
    lookup: Result<&AgentRecord, Verdict>,
    now: OffsetDateTime,
) -> Verdict {
    match os {
        None => return Verdict::new(FactorResult::Unknown, Reason::OsUnknown, None),
        Some(os) if !settings.os.contains(&os) => {
            return Verdict::new(FactorResult::NotApplicable, Reason::OsNotSelected, None);
        }
        Some(_) => {}
    }
    let rule = settings.key.factor().rule;
    match lookup {
        Ok(record) => rule.apply(settings, record, now),
        Err(verdict) if rule == Rule::Lookup => verdict,
        Err(verdict) => Verdict::new(FactorResult::Unknown, verdict.reason, None),
    }
}

impl Rule {
    fn apply(
        self,
        settings: &FactorSettings,
        record: &AgentRecord,
        now: OffsetDateTime,
    ) -> Verdict {
        use FactorResult::{NotSatisfied, Satisfied};
        match self {
            Self::Lookup => Verdict::new(Satisfied, Reason::AgentFound, None),
            Self::Zero { field, ok, bad } => match record.count(field) {
                Some(0) => Verdict::new(Satisfied, ok, None),
                Some(n) => Verdict::new(NotSatisfied, bad, format!("{field} is {n}")),
                None => missing(field),
            },
            Self::Flag {
                field,
                want,
                ok,
                bad,
            } => flag(record, field, want, ok, bad),
            Self::Text {
                field,
                want,
                ok,
                bad,
            } => text_is(record, field, want, ok, bad),
            Self::RecentlyActive => agent_active(settings.max_inactive, record, now),
            Self::UpToDate => up_to_date(settings.min_version.as_ref(), record),
        }
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

fn up_to_date(min_version: Option<&Version>, record: &AgentRecord) -> Verdict {
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
    match Version::parse(&version) {
        Some(have) if have >= *min => Verdict::new(FactorResult::Satisfied, Reason::UpToDate, None),
        Some(_) => Verdict::new(
            FactorResult::NotSatisfied,
            Reason::Outdated,
            format!("agentVersion {version} is older than {min}"),
        ),
        None => missing("agentVersion"),
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

    fn on_linux(settings: &FactorSettings, record: &AgentRecord) -> Verdict {
        judge(settings, Some(OsType::Linux), Ok(record), NOW)
    }

    fn verdict(key: FactorKey, v: Value) -> Verdict {
        on_linux(&FactorSettings::default_for(key), &record(v))
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
        assert_eq!(on_linux(&settings, &record).result, FactorResult::Satisfied);
    }

    #[test]
    fn min_version_compares_numerically() {
        let mut settings = FactorSettings::default_for(FactorKey::AgentUpToDate);
        settings.min_version = Version::parse("24.1.10");
        let check = |v: &str| {
            on_linux(
                &settings,
                &record(json!({"agentVersion": v, "isUpToDate": false})),
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
        let old = on_linux(&settings, &record(json!({"agentVersion": "24.1.9"})));
        assert_eq!(
            old.detail.as_deref(),
            Some("agentVersion 24.1.9 is older than 24.1.10")
        );
    }

    #[test]
    fn catalogue_round_trips() {
        assert_eq!(FactorKey::all().count(), CATALOGUE.len());
        for key in FactorKey::all() {
            assert_eq!(key.factor().key, key);
            assert_eq!(FactorKey::parse(key.as_str()), Some(key));
            assert_eq!(serde_json::to_value(key).unwrap(), json!(key.as_str()));
        }
        let on: Vec<_> = CATALOGUE
            .iter()
            .filter(|f| f.enabled)
            .map(|f| f.key)
            .collect();
        assert_eq!(on, [FactorKey::RegisteredWith, FactorKey::NotActiveThreat]);
    }

    #[test]
    fn the_schema_enumerates_the_catalogue() {
        let schema: Value = serde_json::from_str(include_str!("check-v1.schema.json")).unwrap();
        let keys: Vec<&str> = schema
            .pointer("/properties/factors/items/properties/key/enum")
            .and_then(Value::as_array)
            .expect("the schema enumerates factor keys")
            .iter()
            .map(|key| key.as_str().expect("a factor key is a string"))
            .collect();
        let catalogue: Vec<&str> = FactorKey::all().map(FactorKey::as_str).collect();
        assert_eq!(keys, catalogue, "check-v1.schema.json's factor keys");
    }

    /// The rows of README "### Factors": `(key, name)`.
    fn readme_factor_rows() -> Vec<(String, String)> {
        let readme = include_str!("../../README.md");
        let section = readme
            .split("\n### Factors\n")
            .nth(1)
            .expect("README has a \"Factors\" section");
        section
            .lines()
            .skip_while(|line| !line.starts_with('|'))
            .take_while(|line| line.starts_with('|'))
            .skip(2)
            .map(|row| {
                let cells: Vec<&str> = row.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`').to_owned(), cells[2].to_owned())
            })
            .collect()
    }

    #[test]
    fn the_readme_table_lists_the_catalogue() {
        let catalogue: Vec<(String, String)> = CATALOGUE
            .iter()
            .map(|f| (f.code.to_owned(), f.name.to_owned()))
            .collect();
        assert_eq!(readme_factor_rows(), catalogue, "README \"Factors\" table");
    }

    #[test]
    fn a_record_that_exists_is_not_answered_with_installing_the_agent() {
        let registered = FactorKey::RegisteredWith.factor();
        for reason in [Reason::NotFound, Reason::NoLocalAgent, Reason::Uninstalled] {
            assert_eq!(
                registered.remediation_for(reason),
                INSTALL_AGENT,
                "{reason}"
            );
        }
        for reason in [
            Reason::IdentityMismatch,
            Reason::ForeignSite,
            Reason::Decommissioned,
            Reason::Ambiguous,
            Reason::RetirementUnknown,
            Reason::AuthFailed,
            Reason::NetworkError,
            Reason::TokenUnreadable,
            Reason::BadLocalUuid,
        ] {
            let text = registered.remediation_for(reason);
            assert!(!text.contains("Install"), "{reason}: {text}");
        }
    }

    #[test]
    fn a_factor_keeps_its_text_for_its_own_failures_and_borrows_the_rest() {
        let threat = FactorKey::NotActiveThreat.factor();
        assert_eq!(
            threat.remediation_for(Reason::ActiveThreats),
            threat.remediation
        );
        let registered = FactorKey::RegisteredWith.factor();
        for reason in [Reason::NotFound, Reason::IdentityMismatch, Reason::Timeout] {
            assert_eq!(
                threat.remediation_for(reason),
                registered.remediation_for(reason),
                "{reason}"
            );
        }
        assert_ne!(
            threat.remediation_for(Reason::FieldMissing),
            threat.remediation
        );
        let mut custom = FactorSettings::default_for(FactorKey::RegisteredWith);
        custom.remediation = Some("Call the service desk".into());
        for reason in [
            Reason::AgentFound,
            Reason::IdentityMismatch,
            Reason::Timeout,
        ] {
            assert_eq!(custom.remediation_for(reason), "Call the service desk");
        }
    }

    #[test]
    fn each_reason_has_one_remedy_per_table() {
        let tables = CATALOGUE
            .iter()
            .map(|f| f.remedies)
            .chain([LOOKUP_REMEDIES, UNDETERMINED_REMEDIES]);
        for table in tables {
            let reasons: Vec<Reason> = table.iter().flat_map(|r| r.reasons).copied().collect();
            let unique: std::collections::HashSet<&Reason> = reasons.iter().collect();
            assert_eq!(unique.len(), reasons.len(), "{table:?}");
        }
        let shared: Vec<Reason> = LOOKUP_REMEDIES
            .iter()
            .flat_map(|r| r.reasons)
            .copied()
            .collect();
        assert!(
            UNDETERMINED_REMEDIES
                .iter()
                .flat_map(|r| r.reasons)
                .all(|reason| !shared.contains(reason))
        );
    }

    #[test]
    fn os_selection_and_the_lookup_come_before_the_rule() {
        let threat = FactorSettings {
            os: vec![OsType::Macos],
            ..FactorSettings::default_for(FactorKey::NotActiveThreat)
        };
        let clean = record(json!({"activeThreats": 0}));
        let on = |os, lookup| judge(&threat, os, lookup, NOW);
        let outcome = |v: Verdict| (v.result, v.reason);
        assert_eq!(
            outcome(on(Some(OsType::Linux), Ok(&clean))),
            (FactorResult::NotApplicable, Reason::OsNotSelected)
        );
        assert_eq!(
            outcome(on(None, Ok(&clean))),
            (FactorResult::Unknown, Reason::OsUnknown)
        );
        let mismatch = Verdict::new(
            FactorResult::NotSatisfied,
            Reason::IdentityMismatch,
            "another device's serial".to_owned(),
        );
        let blocked = on(Some(OsType::Macos), Err(mismatch.clone()));
        assert_eq!(
            blocked,
            Verdict::new(FactorResult::Unknown, Reason::IdentityMismatch, None)
        );
        let registered = FactorSettings::default_for(FactorKey::RegisteredWith);
        let linux = Some(OsType::Linux);
        assert_eq!(
            judge(&registered, linux, Err(mismatch.clone()), NOW),
            mismatch
        );
        assert_eq!(
            outcome(judge(&registered, linux, Ok(&clean), NOW)),
            (FactorResult::Satisfied, Reason::AgentFound)
        );
    }
}
