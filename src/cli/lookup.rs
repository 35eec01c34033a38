//! `s1trust lookup`: one device's agent record as the PingOne DaVinci object.

use super::output::print_json;
use super::render::{answer_is, errln};
use super::{Error, LookupArgs, connection};
use crate::app::{Options, connect, runtime};
use crate::exit::Outcome;
use crate::lookup::{LookupQuery, Selection, davinci_error, davinci_object, lookup};

/// Runs the lookup and prints the object on stdout.
pub(crate) fn run(options: &Options, args: &LookupArgs) -> Result<Outcome, Error> {
    // The key is checked before anything else so a placeholder is never sent anywhere.
    let query = match (&args.serial, &args.uuid) {
        (Some(serial), _) => LookupQuery::serial(serial)?,
        (None, Some(uuid)) => LookupQuery::uuid(uuid)?,
        (None, None) => {
            return Err(Error::usage(
                "give --serial or --uuid",
                "see `s1trust lookup --help`",
            ));
        }
    };
    let target = connect(
        options,
        args.integration.as_deref(),
        &connection(&args.connection),
    )?;
    let console = target.client.console().to_string();
    let answer = runtime()?.block_on(lookup(&target.client, &query));
    match answer {
        Ok(result) => {
            let answer = answer_is(explain_selection(result.selection, result.matches.len()));
            print_json(&davinci_object(&result))?;
            Ok(answer)
        }
        Err(source) => {
            let object = davinci_error(&source);
            let error = Error::Tenant { console, source };
            answer_is(error.outcome());
            if let Some(object) = object {
                print_json(&object)?;
            }
            Err(error)
        }
    }
}

fn explain_selection(selection: Selection, matches: usize) -> Outcome {
    match selection {
        Selection::Found { others: 0, .. } => Outcome::Ok,
        Selection::Found { others, .. } => {
            tracing::warn!(
                "{matches} agent records match; chose the live, most recently active one ({others} duplicate(s), e.g. left behind by a reinstall)"
            );
            Outcome::Ok
        }
        Selection::NotFound => Outcome::Negative,
        Selection::Ambiguous { tied } => {
            errln!(
                "s1trust: {tied} agent records match equally well (same state and last activity); the device cannot be told apart"
            );
            errln!(
                "  hint: decommission the stale records in the console, or look the device up by --uuid"
            );
            Outcome::Unknown
        }
    }
}
