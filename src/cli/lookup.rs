//! `s1trust lookup`: one device's agent record as the PingOne DaVinci object.

use super::output::print_json;
use super::render::{answer_is, errln};
use super::{Error, LookupArgs, connection};
use crate::app::Options;
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
    let looked = lookup(
        options,
        args.integration.as_deref(),
        &connection(&args.connection),
        key,
    )?;
    let answer = answer_is(looked.outcome);
    if let Some(object) = &looked.object {
        print_json(object)?;
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
