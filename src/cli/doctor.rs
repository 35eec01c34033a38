//! `s1trust doctor`: the checklist, printed.

use super::Error;
use super::output::print_json;
use super::render::{answer_is, checked_item, checklist, outln, section_title};
use crate::app::Options;
use crate::app::checklist::{Checklist, Progress};
use crate::app::doctor::doctor;
use crate::exit::Outcome;

/// Prints every check (or, with `--json`, one document); exit 0 only when all pass.
/// On a terminal each step shows as it finishes; a pipe gets the same text at the end.
pub(crate) fn run(options: &Options, json: bool) -> Result<Outcome, Error> {
    let live = !json && std::io::IsTerminal::is_terminal(&std::io::stdout());
    if live {
        outln!("s1trust {} doctor", env!("CARGO_PKG_VERSION"));
    }
    let list = if live {
        doctor(
            options,
            Checklist::observed(|progress| match progress {
                Progress::Section(title) => section_title(title),
                Progress::Item(item) => checked_item(item),
                Progress::Waiting(_) => {}
            }),
        )
    } else {
        doctor(options, Checklist::default())
    };
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
    if !live {
        outln!("s1trust {} doctor", env!("CARGO_PKG_VERSION"));
        checklist(&list);
    }
    outln!();
    if failures == 0 {
        outln!("Everything checks out.");
    } else {
        outln!("{failures} problem(s) found; each has a fix above.");
    }
    Ok(answer)
}
