//! `s1trust lookup`: one device's agent record as the PingOne DaVinci object.

use super::output::print_json;
use super::render::{answer_is, errln, outln};
use super::status_line::StatusLine;
use super::{Error, LookupArgs, connection};
use crate::app::Options;
use crate::app::checklist::Progress;
use crate::app::lookup::{LookupKey, lookup};
use crate::exit::Outcome;

/// Runs the lookup and prints the object on stdout.
pub(crate) fn run(options: &Options, args: &LookupArgs) -> Result<Outcome, Error> {
    let key = match (&args.serial, &args.uuid) {
        (Some(serial), _) => LookupKey::Serial(serial),
        (None, Some(uuid)) => LookupKey::Uuid(uuid),
        (None, None) => {
            return Err(Error::usage(
                "give --serial or --uuid",
                "see `s1trust lookup --help`",
            ));
        }
    };
    let waiting = StatusLine::on_stderr();
    let looked = lookup(
        options,
        args.integration.as_deref(),
        &connection(&args.connection),
        key,
        &mut |progress| {
            if let Progress::Waiting(what) = progress {
                waiting.wait(what);
            }
        },
    )?;
    drop(waiting);
    let answer = answer_is(looked.outcome);
    let json = args.json || !std::io::IsTerminal::is_terminal(&std::io::stdout());
    match &looked.object {
        Some(object) if json => print_json(object)?,
        Some(object) => summary(object, looked.relay.as_deref()),
        None => {}
    }
    if looked.outcome == Outcome::Negative {
        let through = looked
            .relay
            .as_ref()
            .map(|relay| format!(" (asked through the relay {relay})"))
            .unwrap_or_default();
        errln!(
            "s1trust: no agent record matches this {}{through}",
            key.describe()
        );
    }
    if let Some((what, hint)) = &looked.ambiguous {
        errln!("s1trust: {what}");
        errln!("  hint: {hint}");
    }
    match looked.failure {
        Some(failure) => Err(failure),
        None => Ok(answer),
    }
}

/// A person's view of the object: found or not, which record, its state.
fn summary(object: &serde_json::Value, relay: Option<&str>) {
    if let Some(relay) = relay {
        outln!("Answered by the relay {relay}, from its copy of the tenant's inventory.");
    }
    if object["agentFound"] != true {
        outln!("No agent record found.");
        return;
    }
    let field = |key: &str| match &object[key] {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    };
    outln!(
        "Found {} (agent id {})",
        field("computerName"),
        field("agentId")
    );
    for (label, key) in [
        ("UUID", "uuid"),
        ("Serial", "serialNumber"),
        ("OS", "osName"),
        ("Agent version", "agentVersion"),
        ("Active", "isActive"),
        ("Last active", "lastActiveDate"),
        ("Decommissioned", "isDecommissioned"),
        ("Site", "siteId"),
    ] {
        outln!("  {label:<15} {}", field(key));
    }
    outln!("(--json for the whole object)");
}
