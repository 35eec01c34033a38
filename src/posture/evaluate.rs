//! Live evaluation: local identity → each integration's record → every factor → overall.
//!
//! Every integration is asked concurrently and judged on its own; one tenant
//! failing makes its factors `unknown` but never hides another's results.

use std::time::Duration;

use time::OffsetDateTime;

use super::factors::{FactorKey, FactorResult, FactorSettings, Verdict, judge};
use super::report::{
    AgentSummary, DeviceSummary, FactorReport, IntegrationReport, IntegrationStatus, MatchedBy,
    Overall, PostureReport, SCHEMA_VERSION, Source,
};
use crate::identity::DeviceIdentity;
use crate::identity::serial::serials_equal;
use crate::lookup::{LookupQuery, LookupResult, Selection, lookup};
use crate::settings::Integration;
use crate::tenant::{AgentRecord, TenantClient};

/// An integration ready to be asked, or why it cannot be.
pub struct Target<'a> {
    /// The configured integration.
    pub integration: &'a Integration,
    /// Its client, or a setup failure (reason code, message).
    pub client: Result<TenantClient, (&'static str, String)>,
}

/// Why factors could not be judged on a record, with the result `registered_with` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Blocked {
    result: FactorResult,
    reason: &'static str,
    detail: Option<String>,
}

/// The outcome of one integration's lookup.
struct Assessment {
    report: IntegrationReport,
    gate: Result<AgentRecord, Blocked>,
}

/// Evaluates every integration for `identity` and combines the results.
pub async fn evaluate(
    targets: &[Target<'_>],
    identity: &DeviceIdentity,
    now: OffsetDateTime,
    max_age: Duration,
) -> PostureReport {
    let assessments =
        futures_util::future::join_all(targets.iter().map(|target| assess(target, identity))).await;
    let mut factors = Vec::new();
    for (target, assessment) in targets.iter().zip(&assessments) {
        factors.extend(judge_all(
            target.integration,
            &assessment.gate,
            identity,
            now,
        ));
    }
    let (result, reason) = overall(targets.is_empty(), &factors);
    PostureReport {
        schema_version: SCHEMA_VERSION,
        result,
        reason,
        evaluated_at: now,
        expires_at: now + max_age,
        source: Source::Live,
        device: DeviceSummary::from(identity),
        integrations: assessments.into_iter().map(|a| a.report).collect(),
        factors,
        notes: Vec::new(),
        last_refresh: None,
    }
}

/// Combines factor results: any not satisfied → not trusted; all satisfied → trusted.
pub fn overall(no_integrations: bool, factors: &[FactorReport]) -> (Overall, Option<String>) {
    if no_integrations {
        return (Overall::Unknown, Some("not_configured".into()));
    }
    let applicable: Vec<&FactorReport> = factors
        .iter()
        .filter(|f| f.result != FactorResult::NotApplicable)
        .collect();
    let first = |wanted: FactorResult| {
        applicable
            .iter()
            .find(|f| f.result == wanted)
            .map(|f| f.reason.clone())
    };
    if let Some(reason) = first(FactorResult::NotSatisfied) {
        (Overall::NotTrusted, Some(reason))
    } else if let Some(reason) = first(FactorResult::Unknown) {
        (Overall::Unknown, Some(reason))
    } else if applicable.is_empty() {
        (Overall::Unknown, Some("no_applicable_factors".into()))
    } else {
        (Overall::Trusted, None)
    }
}

async fn assess(target: &Target<'_>, identity: &DeviceIdentity) -> Assessment {
    let integration = target.integration;
    let mut report = IntegrationReport {
        name: integration.name.clone(),
        url: integration.url.to_string(),
        status: IntegrationStatus::Ok,
        reason: String::new(),
        matched_by: None,
        agent: None,
        duplicates: 0,
        error: None,
    };
    let client = match &target.client {
        Ok(client) => client,
        Err((reason, message)) => {
            report.status = IntegrationStatus::Error;
            report.error = Some(message.clone());
            return finish(report, Err(blocked(FactorResult::Unknown, reason, None)));
        }
    };
    let (query, matched_by) = match local_query(identity) {
        Ok(found) => found,
        Err(gate) => return finish(report, Err(gate)),
    };
    report.matched_by = Some(matched_by);
    let found = match lookup(client, &query).await {
        Ok(found) => found,
        Err(e) => {
            report.status = IntegrationStatus::Error;
            report.error = Some(format!("{}: {e}", integration.url));
            return finish(
                report,
                Err(blocked(FactorResult::Unknown, e.reason_code(), None)),
            );
        }
    };
    let gate = bind(&found, identity, integration, &mut report);
    finish(report, gate)
}

fn finish(mut report: IntegrationReport, gate: Result<AgentRecord, Blocked>) -> Assessment {
    report.reason = match &gate {
        Ok(_) => "agent_found".into(),
        Err(blocked) => blocked.reason.into(),
    };
    Assessment { report, gate }
}

fn blocked(result: FactorResult, reason: &'static str, detail: Option<String>) -> Blocked {
    Blocked {
        result,
        reason,
        detail,
    }
}

/// What to ask the tenant: the UUID when the agent gave one, else the serial.
fn local_query(identity: &DeviceIdentity) -> Result<(LookupQuery, MatchedBy), Blocked> {
    if let Some(uuid) = &identity.agent_uuid {
        return LookupQuery::uuid(uuid)
            .map(|q| (q, MatchedBy::Uuid))
            .map_err(|e| blocked(FactorResult::Unknown, "bad_local_uuid", Some(e.to_string())));
    }
    if !identity.agent_installed {
        return Err(blocked(
            FactorResult::NotSatisfied,
            "no_local_agent",
            Some("the SentinelOne agent is not installed on this device".into()),
        ));
    }
    match &identity.serial_number {
        Some(serial) => LookupQuery::serial(serial)
            .map(|q| (q, MatchedBy::Serial))
            .map_err(|e| {
                blocked(
                    FactorResult::Unknown,
                    "placeholder_serial",
                    Some(e.to_string()),
                )
            }),
        None if identity.serial_candidates.iter().any(|c| !c.usable) => Err(blocked(
            FactorResult::Unknown,
            "placeholder_serial",
            Some("the agent UUID is unavailable and the firmware serial is a placeholder".into()),
        )),
        None => Err(blocked(
            FactorResult::Unknown,
            "serial_unavailable",
            Some("neither the agent UUID nor the hardware serial could be read".into()),
        )),
    }
}

/// Checks the chosen record against the device and the integration's allow-lists.
fn bind(
    found: &LookupResult,
    identity: &DeviceIdentity,
    integration: &Integration,
    report: &mut IntegrationReport,
) -> Result<AgentRecord, Blocked> {
    let record = match found.selection {
        Selection::NotFound => return Err(blocked(FactorResult::NotSatisfied, "not_found", None)),
        Selection::Ambiguous { tied } => {
            report.duplicates = found.matches.len().saturating_sub(1) as u32;
            let detail = format!("{tied} agent records match equally well");
            return Err(blocked(FactorResult::Unknown, "ambiguous", Some(detail)));
        }
        Selection::Found { index, others } => {
            report.duplicates = others as u32;
            found.matches[index].clone()
        }
    };
    report.agent = Some(AgentSummary::from(&record));
    if let (Some(theirs), Some(ours)) = (record.serial_number(), &identity.serial_number)
        && report.matched_by == Some(MatchedBy::Uuid)
        && !theirs.trim().is_empty()
        && !serials_equal(&theirs, ours)
    {
        let detail = format!("the record's serial {theirs:?} differs from this device's {ours:?}");
        return Err(blocked(
            FactorResult::NotSatisfied,
            "identity_mismatch",
            Some(detail),
        ));
    }
    check_scope(&record, integration)?;
    check_retirement(&record)?;
    Ok(record)
}

/// A record stands for a protected device only when it says, in booleans, that it is
/// neither decommissioned nor uninstalled: a missing, null or odd flag is not "no".
fn check_retirement(record: &AgentRecord) -> Result<(), Blocked> {
    let decommissioned = record.flag("isDecommissioned");
    let uninstalled = record.flag("isUninstalled");
    if decommissioned == Some(true) {
        return Err(blocked(FactorResult::NotSatisfied, "decommissioned", None));
    }
    if uninstalled == Some(true) {
        return Err(blocked(FactorResult::NotSatisfied, "uninstalled", None));
    }
    let unclear: Vec<&str> = [
        ("isDecommissioned", decommissioned),
        ("isUninstalled", uninstalled),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_none())
    .map(|(field, _)| field)
    .collect();
    if unclear.is_empty() {
        return Ok(());
    }
    let detail = format!(
        "the record's {} is missing or not a boolean",
        unclear.join(" and ")
    );
    Err(blocked(
        FactorResult::Unknown,
        "retirement_unknown",
        Some(detail),
    ))
}

fn check_scope(record: &AgentRecord, integration: &Integration) -> Result<(), Blocked> {
    let outside = |allowed: &[String], field: &str| {
        !allowed.is_empty() && !record.text(field).is_some_and(|id| allowed.contains(&id))
    };
    for (allowed, field) in [
        (&integration.account_ids, "accountId"),
        (&integration.site_ids, "siteId"),
    ] {
        if outside(allowed, field) {
            let seen = record.text(field).unwrap_or_else(|| "none".into());
            let detail =
                format!("the record's {field} {seen} is not in the integration's allow-list");
            return Err(blocked(
                FactorResult::NotSatisfied,
                "foreign_site",
                Some(detail),
            ));
        }
    }
    Ok(())
}

fn judge_all(
    integration: &Integration,
    gate: &Result<AgentRecord, Blocked>,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
) -> Vec<FactorReport> {
    integration
        .factors
        .iter()
        .filter(|settings| settings.enabled)
        .map(|settings| {
            let verdict = judge_one(settings, gate, identity, now);
            FactorReport {
                key: settings.key,
                name: settings.key.name().into(),
                source: integration.name.clone(),
                result: verdict.result,
                reason: verdict.reason.into(),
                detail: verdict.detail,
                remediation: settings.remediation.clone(),
            }
        })
        .collect()
}

fn judge_one(
    settings: &FactorSettings,
    gate: &Result<AgentRecord, Blocked>,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
) -> Verdict {
    let applies = identity.os_type.is_some_and(|os| settings.os.contains(&os));
    if !applies {
        let reason = if identity.os_type.is_some() {
            "os_not_selected"
        } else {
            "os_unknown"
        };
        let result = if identity.os_type.is_some() {
            FactorResult::NotApplicable
        } else {
            FactorResult::Unknown
        };
        return Verdict {
            result,
            reason,
            detail: None,
        };
    }
    match gate {
        Ok(record) => judge(settings, record, now),
        Err(b) if settings.key == FactorKey::RegisteredWith => Verdict {
            result: b.result,
            reason: b.reason,
            detail: b.detail.clone(),
        },
        Err(b) => Verdict {
            result: FactorResult::Unknown,
            reason: b.reason,
            detail: None,
        },
    }
}
