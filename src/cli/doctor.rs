//! `s1trust doctor`: the checklist, printed.

use std::rc::Rc;

use super::Error;
use super::output::print_json;
use super::render::{answer_is, checked_item, checklist, outln, section_title};
use super::status_line::StatusLine;
use crate::app::Options;
use crate::app::checklist::{Checklist, Progress};
use crate::app::doctor::doctor;
use crate::exit::Outcome;

/// Prints every check (or, with `--json`, one document); exit 0 only when all pass.
/// On a terminal each step shows as it finishes, and a status line on stderr counts
/// the seconds of a step that waits; a pipe gets the same text at the end.
pub(crate) fn run(options: &Options, json: bool) -> Result<Outcome, Error> {
    let live = !json && std::io::IsTerminal::is_terminal(&std::io::stdout());
    if live {
        outln!("s1trust {} doctor", env!("CARGO_PKG_VERSION"));
    }
    let list = if live {
        let waiting = Rc::new(StatusLine::on_stderr());
        let shown = Rc::clone(&waiting);
        let list = doctor(
            options,
            Checklist::observed(move |progress| match progress {
                Progress::Waiting(what) => shown.wait(what),
                Progress::Section(title) => {
                    shown.clear();
                    section_title(title);
                }
                Progress::Item(item) => {
                    shown.clear();
                    checked_item(item);
                }
            }),
        );
        waiting.clear();
        list
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
