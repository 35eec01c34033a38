//! `s1trust doctor`: the checklist, printed.

use super::Error;
use super::render::{checklist, outln};
use crate::app::Options;
use crate::app::doctor::doctor;
use crate::exit::Outcome;

/// Prints every check; exit 0 only when all pass.
pub(crate) fn run(options: &Options) -> Result<Outcome, Error> {
    outln!("s1trust {} doctor", env!("CARGO_PKG_VERSION"));
    let list = doctor(options);
    checklist(&list);
    outln!();
    let failures = list.failures();
    if failures == 0 {
        outln!("Everything checks out.");
        Ok(Outcome::Ok)
    } else {
        outln!("{failures} problem(s) found; each has a fix above.");
        Ok(Outcome::Negative)
    }
}
