//! `s1trust integration test`, and the report printing `add` and `edit` share.

use super::output::print_json;
use super::target::{resolve, runtime};
use super::{Cli, CliError, IntegrationTestArgs};
use crate::conntest::{ConnectionReport, StepStatus, test_connection};
use crate::exit::Outcome;

/// Tests the connection and prints the report (a table, or JSON with `--json`).
pub fn test(cli: &Cli, args: &IntegrationTestArgs) -> Result<Outcome, CliError> {
    let target = resolve(cli, args.name.as_deref(), &args.connection)?;
    let report = runtime()?.block_on(test_connection(&target.client, target.name.as_deref()));
    show(&report, args.json)?;
    Ok(test_outcome(&report))
}

/// Prints a connection report as a table or JSON.
pub fn show(report: &ConnectionReport, json: bool) -> Result<(), CliError> {
    if json {
        print_json(&serde_json::to_value(report).map_err(std::io::Error::from)?)?;
    } else {
        print_table(report);
    }
    Ok(())
}

/// The exit status of a connection test.
pub fn test_outcome(report: &ConnectionReport) -> Outcome {
    if report.ok {
        Outcome::Ok
    } else if report.unreachable() {
        Outcome::Unknown
    } else {
        Outcome::Negative
    }
}

fn print_table(report: &ConnectionReport) {
    match &report.integration {
        Some(name) => println!("Testing integration {name:?} at {}", report.url),
        None => println!("Testing {}", report.url),
    }
    let width = report.steps.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for step in &report.steps {
        let mark = match step.status {
            StepStatus::Pass => "✓",
            StepStatus::Fail => "✗",
            StepStatus::Skipped => "-",
        };
        let latency = step
            .latency_ms
            .map_or("      ".into(), |ms| format!("{ms:>4} ms"));
        println!("  {mark} {:<width$}  {latency}  {}", step.name, step.detail);
        if let Some(hint) = &step.hint {
            println!("      fix: {hint}");
        }
    }
    if let Some(days) = report
        .token
        .as_ref()
        .and_then(|t| t.days_left.map(|d| (d, t.expires_at.clone())))
    {
        println!(
            "  token expires {} ({} days)",
            days.1.unwrap_or_default(),
            days.0
        );
    }
    for warning in &report.warnings {
        println!("warning: {warning}");
    }
    let failed = report
        .steps
        .iter()
        .filter(|s| s.status == StepStatus::Fail)
        .count();
    if failed == 0 {
        println!("All {} checks passed.", report.steps.len());
    } else {
        println!("{failed} of {} checks failed.", report.steps.len());
    }
}
