//! The readable form of a posture report, for a person at a terminal.

use super::output::fmt_time;
use super::render::outln;
use crate::posture::factors::FactorResult;
use crate::posture::report::{Binding, Overall, PostureReport, Source};

/// Prints the report: the answer, the device, each integration, each factor, and what to do.
pub(crate) fn print(report: &PostureReport) {
    let answer = match report.result {
        Overall::Trusted => "TRUSTED",
        Overall::NotTrusted => "NOT TRUSTED",
        Overall::Unknown => "UNKNOWN",
    };
    let source = match report.source {
        Source::Live => "evaluated live at",
        Source::Snapshot => "from the snapshot of",
        Source::None => "no snapshot used and nothing evaluated; checked at",
    };
    let reason = report.reason.map(|r| format!(" — {r}")).unwrap_or_default();
    outln!(
        "s1trust: {answer}{reason} ({source} {})",
        fmt_time(report.evaluated_at)
    );
    print_device(report);
    for integration in &report.integrations {
        let found = match (&integration.agent, integration.matched_by) {
            (Some(agent), Some(by)) => format!(
                "agent {} ({}) found by {}",
                agent.computer_name.as_deref().unwrap_or("?"),
                agent.id.as_deref().unwrap_or("?"),
                by.describe()
            ),
            _ => integration
                .error
                .clone()
                .unwrap_or_else(|| integration.reason.to_string()),
        };
        outln!(
            "Integration {} ({}): {found}",
            integration.name,
            integration.url
        );
        match (integration.binding, integration.binding_reason) {
            (Some(Binding::UuidOnly), reason) => outln!(
                "  bound by agent UUID only ({}): the record's serial cannot confirm it",
                reason.map_or("no reason", |r| r.as_str())
            ),
            (Some(Binding::Serial), _) => {
                if let Some(source) = &integration.binding_source {
                    outln!("  bound by serial number ({source})");
                }
            }
            (None, _) => {}
        }
        if integration.duplicates > 0 {
            outln!(
                "  {} other record(s) match this device (old installs?)",
                integration.duplicates
            );
        }
    }
    print_factors(report);
    for note in &report.notes {
        outln!("note: {note}");
    }
}

fn print_device(report: &PostureReport) {
    let device = &report.device;
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".into());
    let agent = if device.agent_installed {
        format!(
            "agent {} (version {})",
            show(&device.agent_uuid),
            show(&device.agent_version)
        )
    } else {
        "SentinelOne agent not installed".into()
    };
    let os = device.os_type.map_or("unknown OS", |o| o.as_str());
    outln!(
        "Device: {} · serial {} · {os} · {agent}",
        show(&device.hostname),
        show(&device.serial_number)
    );
}

fn print_factors(report: &PostureReport) {
    let width = report
        .factors
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    for factor in &report.factors {
        let (mark, what) = match factor.result {
            FactorResult::Satisfied => ("✓", "satisfied".to_string()),
            FactorResult::NotSatisfied => ("✗", format!("not satisfied: {}", factor.reason)),
            FactorResult::Unknown => ("?", format!("unknown: {}", factor.reason)),
            FactorResult::NotApplicable => ("-", "not applicable to this OS".to_string()),
        };
        let detail = factor
            .detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default();
        outln!(
            "  {mark} {:<width$}  [{}] {what}{detail}",
            factor.name,
            factor.source
        );
        if factor.result == FactorResult::NotSatisfied {
            outln!("      → {}", factor.remediation);
        }
    }
}
