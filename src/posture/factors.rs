//! Judging the trust factors: the one [`judge`] that reads a catalogue entry's
//! [`Rule`] (`crate::catalogue`, docs/factors.md) against this device's agent record.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use crate::catalogue::*;
use crate::identity::OsType;
use crate::reason::Reason;
use crate::tenant::AgentRecord;
use crate::version::Version;

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
    /// Stable reason code (see docs/reasons.md).
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

    /// The rows of the first table of docs/factors.md: `(key, name)`.
    fn documented_factor_rows() -> Vec<(String, String)> {
        include_str!("../../docs/factors.md")
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
    fn the_documented_table_lists_the_catalogue() {
        let catalogue: Vec<(String, String)> = CATALOGUE
            .iter()
            .map(|f| (f.code.to_owned(), f.name.to_owned()))
            .collect();
        assert_eq!(
            documented_factor_rows(),
            catalogue,
            "docs/factors.md's table"
        );
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
