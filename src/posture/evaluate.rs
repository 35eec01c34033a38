//! Live evaluation: local identity → each integration's record → every factor → overall.
//!
//! Every integration is asked concurrently and judged on its own; one tenant
//! failing makes its factors `unknown` but never hides another's results.

use crate::reason::Reason;
use std::time::Duration;

use time::OffsetDateTime;

use super::binding::{SerialBinding, serial_binding};
use super::factors::{FactorKey, FactorResult, Verdict, judge};
use super::report::{
    AgentSummary, Binding, DeviceSummary, FactorReport, IntegrationReport, IntegrationStatus,
    MatchedBy, Overall, PostureReport, SCHEMA_VERSION, Source,
};
use crate::config::Integration;
use crate::identity::{DeviceIdentity, SourcedSerial};
use crate::lookup::{LookupQuery, LookupResult, Selection, lookup};
use crate::tenant::{AgentRecord, TenantClient, TenantError};

/// An integration ready to be asked, or why it cannot be.
pub struct IntegrationClient<'a> {
    /// The configured integration.
    pub integration: &'a Integration,
    /// Its client, or a setup failure (reason code, message).
    pub client: Result<TenantClient, (Reason, String)>,
}

/// Why factors could not be judged on a record, with the result `registered_with` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Blocked {
    result: FactorResult,
    reason: Reason,
    detail: Option<String>,
}

/// The outcome of one integration's lookup.
struct Assessment {
    report: IntegrationReport,
    gate: Result<AgentRecord, Blocked>,
    /// How the record is bound, for people, when it is worth saying (`registered_with`'s detail).
    binding_note: Option<String>,
}

/// Evaluates every integration for `identity` and combines the results.
pub async fn evaluate(
    targets: &[IntegrationClient<'_>],
    identity: &DeviceIdentity,
    now: OffsetDateTime,
    max_age: Duration,
) -> PostureReport {
    evaluate_observed(targets, identity, now, max_age, &|_, _| {}).await
}

/// [`evaluate`], telling `answered` of each integration's lookup, and how long it
/// took, as it ends (they run concurrently, so in the order they end).
pub async fn evaluate_observed(
    targets: &[IntegrationClient<'_>],
    identity: &DeviceIdentity,
    now: OffsetDateTime,
    max_age: Duration,
    answered: &dyn Fn(&IntegrationReport, Duration),
) -> PostureReport {
    let assessments = futures_util::future::join_all(targets.iter().map(|target| async move {
        let started = std::time::Instant::now();
        let assessment = assess(target, identity).await;
        answered(&assessment.report, started.elapsed());
        assessment
    }))
    .await;
    let mut factors = Vec::new();
    for (target, assessment) in targets.iter().zip(&assessments) {
        factors.extend(judge_all(target.integration, assessment, identity, now));
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
pub fn overall(no_integrations: bool, factors: &[FactorReport]) -> (Overall, Option<Reason>) {
    if no_integrations {
        return (Overall::Unknown, Some(Reason::NotConfigured));
    }
    let applicable: Vec<&FactorReport> = factors
        .iter()
        .filter(|f| f.result != FactorResult::NotApplicable)
        .collect();
    let first = |wanted: FactorResult| {
        applicable
            .iter()
            .find(|f| f.result == wanted)
            .map(|f| f.reason)
    };
    if let Some(reason) = first(FactorResult::NotSatisfied) {
        (Overall::NotTrusted, Some(reason))
    } else if let Some(reason) = first(FactorResult::Unknown) {
        (Overall::Unknown, Some(reason))
    } else if applicable.is_empty() {
        (Overall::Unknown, Some(Reason::NoApplicableFactors))
    } else {
        (Overall::Trusted, None)
    }
}

async fn assess(target: &IntegrationClient<'_>, identity: &DeviceIdentity) -> Assessment {
    let integration = target.integration;
    let mut report = IntegrationReport {
        name: integration.name.to_string(),
        url: integration.url.to_string(),
        status: IntegrationStatus::Ok,
        reason: Reason::AgentFound,
        matched_by: None,
        agent: None,
        binding: None,
        binding_reason: None,
        binding_source: None,
        duplicates: 0,
        error: None,
    };
    let client = match &target.client {
        Ok(client) => client,
        Err((reason, message)) => {
            report.status = IntegrationStatus::Error;
            report.error = Some(message.clone());
            return finish(report, Err(blocked(FactorResult::Unknown, *reason, None)));
        }
    };
    let plan = match local_query(identity) {
        Ok(plan) => plan,
        Err(gate) => return finish(report, Err(gate)),
    };
    report.matched_by = Some(plan.matched_by());
    let found = match run_plan(client, &plan).await {
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
    let mut note = None;
    let gate = bind(&found, identity, integration, &mut report, &mut note);
    let mut assessment = finish(report, gate);
    assessment.binding_note = note;
    assessment
}

/// What to ask the tenant: the agent UUID when the agent gave one, else each
/// serial of the device that can be sent, in preference order.
enum Plan {
    Uuid(LookupQuery),
    Serials {
        first: (LookupQuery, SourcedSerial),
        more: Vec<(LookupQuery, SourcedSerial)>,
    },
}

impl Plan {
    fn matched_by(&self) -> MatchedBy {
        match self {
            Self::Uuid(_) => MatchedBy::Uuid,
            Self::Serials { .. } => MatchedBy::Serial,
        }
    }
}

/// The lookup's answer, and for a serial lookup which of the device's serials found it.
struct Found {
    result: LookupResult,
    serial: Option<SourcedSerial>,
}

/// Runs the plan: one UUID query, or the serials in order until one has a match
/// (found or ambiguous); when none has, the last answer (not found) stands.
async fn run_plan(client: &TenantClient, plan: &Plan) -> Result<Found, TenantError> {
    match plan {
        Plan::Uuid(query) => Ok(Found {
            result: lookup(client, query).await?,
            serial: None,
        }),
        Plan::Serials { first, more } => {
            let mut found = by_serial(client, first).await?;
            for next in more {
                if !matches!(found.result.selection, Selection::NotFound) {
                    break;
                }
                found = by_serial(client, next).await?;
            }
            Ok(found)
        }
    }
}

async fn by_serial(
    client: &TenantClient,
    (query, serial): &(LookupQuery, SourcedSerial),
) -> Result<Found, TenantError> {
    Ok(Found {
        result: lookup(client, query).await?,
        serial: Some(serial.clone()),
    })
}

fn finish(mut report: IntegrationReport, gate: Result<AgentRecord, Blocked>) -> Assessment {
    report.reason = match &gate {
        Ok(_) => Reason::AgentFound,
        Err(blocked) => blocked.reason,
    };
    Assessment {
        report,
        gate,
        binding_note: None,
    }
}

fn blocked(result: FactorResult, reason: Reason, detail: Option<String>) -> Blocked {
    Blocked {
        result,
        reason,
        detail,
    }
}

/// What to ask the tenant: the UUID when the agent gave one, else every serial of the
/// device that the API's filter can carry ([`DeviceIdentity::identifying_serials`]).
fn local_query(identity: &DeviceIdentity) -> Result<Plan, Blocked> {
    if let Some(uuid) = &identity.agent_uuid {
        return LookupQuery::uuid(uuid).map(Plan::Uuid).map_err(|e| {
            blocked(
                FactorResult::Unknown,
                Reason::BadLocalUuid,
                Some(e.to_string()),
            )
        });
    }
    if !identity.agent_installed {
        return Err(blocked(
            FactorResult::NotSatisfied,
            Reason::NoLocalAgent,
            Some("the SentinelOne agent is not installed on this device".into()),
        ));
    }
    let mut serials = identity
        .identifying_serials()
        .into_iter()
        .filter_map(|found| Some((LookupQuery::for_serial(found.serial.clone()).ok()?, found)));
    if let Some(first) = serials.next() {
        return Ok(Plan::Serials {
            first,
            more: serials.collect(),
        });
    }
    let seen_any = identity.serial_number.is_some() || !identity.serial_candidates.is_empty();
    if seen_any {
        let detail = match &identity.serial_number {
            Some(serial) => LookupQuery::for_serial(serial.clone())
                .err()
                .map_or_else(|| "no serial can be sent".into(), |e| e.to_string()),
            None => "the agent UUID is unavailable and the firmware serial is a placeholder".into(),
        };
        return Err(blocked(
            FactorResult::Unknown,
            Reason::PlaceholderSerial,
            Some(detail),
        ));
    }
    Err(blocked(
        FactorResult::Unknown,
        Reason::SerialUnavailable,
        Some("neither the agent UUID nor the hardware serial could be read".into()),
    ))
}

/// Checks the chosen record against the device and the integration's allow-lists.
/// `note` gets what `registered_with` should say about the binding: that the UUID
/// stands alone, or that another of the device's serials than the reported one matched.
fn bind(
    found: &Found,
    identity: &DeviceIdentity,
    integration: &Integration,
    report: &mut IntegrationReport,
    note: &mut Option<String>,
) -> Result<AgentRecord, Blocked> {
    let found_serial = &found.serial;
    let found = &found.result;
    let record = match found.selection {
        Selection::NotFound => {
            return Err(blocked(FactorResult::NotSatisfied, Reason::NotFound, None));
        }
        Selection::Ambiguous { tied } => {
            report.duplicates = found.matches.len().saturating_sub(1) as u32;
            let detail = format!("{tied} agent records match equally well");
            return Err(blocked(
                FactorResult::Unknown,
                Reason::Ambiguous,
                Some(detail),
            ));
        }
        Selection::Found { index, others } => {
            report.duplicates = others as u32;
            found.matches[index].clone()
        }
    };
    report.agent = Some(AgentSummary::from(&record));
    let bound_by = match found_serial {
        // Found by one of this device's serials: that serial is the binding.
        Some(serial) => Ok(serial.source.clone()),
        None => match serial_binding(&record, identity) {
            SerialBinding::Bound { source } => Ok(source),
            SerialBinding::Unavailable { reason, detail } => Err((reason, detail)),
            SerialBinding::Mismatch { detail } => {
                return Err(blocked(
                    FactorResult::NotSatisfied,
                    Reason::IdentityMismatch,
                    Some(detail),
                ));
            }
        },
    };
    match bound_by {
        Ok(source) => {
            report.binding = Some(Binding::Serial);
            if identity.serial_source.as_deref() != Some(source.as_str()) {
                *note = Some(format!("bound by this device's serial from {source}"));
            }
            report.binding_source = Some(source);
        }
        Err((reason, detail)) => {
            report.binding = Some(Binding::UuidOnly);
            report.binding_reason = Some(reason);
            *note = Some(format!("bound by agent UUID only: {detail}"));
        }
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
        return Err(blocked(
            FactorResult::NotSatisfied,
            Reason::Decommissioned,
            None,
        ));
    }
    if uninstalled == Some(true) {
        return Err(blocked(
            FactorResult::NotSatisfied,
            Reason::Uninstalled,
            None,
        ));
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
        Reason::RetirementUnknown,
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
                Reason::ForeignSite,
                Some(detail),
            ));
        }
    }
    Ok(())
}

fn judge_all(
    integration: &Integration,
    assessment: &Assessment,
    identity: &DeviceIdentity,
    now: OffsetDateTime,
) -> Vec<FactorReport> {
    integration
        .factors
        .iter()
        .filter(|settings| settings.enabled)
        .map(|settings| {
            let lookup = assessment.gate.as_ref().map_err(|b| Verdict {
                result: b.result,
                reason: b.reason,
                detail: b.detail.clone(),
            });
            let mut verdict = judge(settings, identity.os_type, lookup, now);
            if settings.key == FactorKey::RegisteredWith
                && verdict.result == FactorResult::Satisfied
            {
                verdict.detail = assessment.binding_note.clone();
            }
            FactorReport {
                key: settings.key,
                name: settings.key.name().into(),
                source: integration.name.to_string(),
                result: verdict.result,
                reason: verdict.reason,
                detail: verdict.detail,
                remediation: settings.remediation_for(verdict.reason).to_owned(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::SerialCandidate;
    use crate::posture::binding::tests::white_box;

    #[test]
    fn serial_lookups_try_every_sendable_serial_in_order() {
        let mut device = white_box();
        device.agent_installed = true;
        device
            .serial_candidates
            .insert(0, SerialCandidate::check("smbios:type1", "CHS-3"));
        let Ok(Plan::Serials { first, more }) = local_query(&device) else {
            panic!("expected a serial plan");
        };
        let order: Vec<&str> = std::iter::once(&first)
            .chain(&more)
            .map(|(_, s)| s.serial.as_str())
            .collect();
        assert_eq!(order, ["209624590000277", "CHS-3"]);
        device.serial_number = None;
        device.serial_candidates = vec![SerialCandidate::check("smbios:type1", "0123456789")];
        let Err(gate) = local_query(&device) else {
            panic!("a placeholder is never sent");
        };
        assert_eq!(gate.reason, "placeholder_serial");
    }
}
