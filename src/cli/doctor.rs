//! `s1trust doctor`: the checklist, printed.

use super::Error;
use super::output::print_json;
use super::render::{answer_is, checklist, outln};
use crate::app::Options;
use crate::app::doctor::doctor;
use crate::exit::Outcome;

/// Prints every check (or, with `--json`, one document); exit 0 only when all pass.
pub(crate) fn run(options: &Options, json: bool) -> Result<Outcome, Error> {
    let list = doctor(options);
    let failures = list.failures();
    let answer = answer_is(if failures == 0 {
        Outcome::Ok
    } else {
        Outcome::Negative
    });
    if json {
        print_json(&list.to_json(env!("CARGO_PKG_VERSION")))?;
        return Ok(answer);
    }
    outln!("s1trust {} doctor", env!("CARGO_PKG_VERSION"));
    checklist(&list);
    outln!();
    if failures == 0 {
        outln!("Everything checks out.");
    } else {
        outln!("{failures} problem(s) found; each has a fix above.");
    }
    Ok(answer)
}
