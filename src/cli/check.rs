//! `s1trust check` and `s1trust refresh`: the answer, rendered.

use super::output::print_json;
use super::render::answer_is;
use super::{CheckArgs, Error};
use crate::app::Options;
use crate::app::check::{Mode, check as run_check, refused};
use crate::app::refresh::refresh as run_refresh;
use crate::exit::Outcome;
use crate::posture::report::Overall;

/// Runs `check` and prints the report (table, or JSON with `--json`).
pub(crate) fn check(options: &Options, args: &CheckArgs) -> Result<Outcome, Error> {
    if args.jwt {
        return super::verdict::check_jwt(options, args);
    }
    let mode = if args.live {
        Mode::Live
    } else if args.snapshot {
        Mode::Snapshot
    } else {
        Mode::Auto
    };
    let report = match run_check(options, mode) {
        Ok(report) => report,
        Err(e) => {
            answer_is(e.outcome());
            // A client reading stdout gets a document; stderr and the exit code say why.
            if args.json {
                print_json(&serde_json::to_value(refused(&e)).map_err(std::io::Error::from)?)?;
            }
            return Err(e);
        }
    };
    let answer = answer_is(outcome(report.result));
    if args.json {
        print_json(&serde_json::to_value(&report).map_err(std::io::Error::from)?)?;
    } else {
        super::check_table::print(&report);
    }
    Ok(answer)
}

/// The exit status for a result (README "Exit codes").
pub(super) fn outcome(result: Overall) -> Outcome {
    match result {
        Overall::Trusted => Outcome::Ok,
        Overall::NotTrusted => Outcome::Negative,
        Overall::Unknown => Outcome::Unknown,
    }
}

/// Runs `refresh`; a kept snapshot is a warning where the OS keeps logs.
pub(crate) fn refresh(options: &Options) -> Result<Outcome, Error> {
    let done = run_refresh(options)?;
    if let Some(message) = &done.kept {
        tracing::warn!("{message}");
    }
    Ok(done.outcome)
}
