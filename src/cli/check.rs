//! `s1trust check` and `s1trust refresh`: the answer, rendered.

use super::output::print_json;
use super::render::{answer_is, checked_item_on_stderr};
use super::status_line::StatusLine;
use super::{CheckArgs, Error, MdmFormat};
use crate::app::Options;
use crate::app::check::{Mode, check as run_check, refused};
use crate::app::checklist::Progress;
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
    if let Some(format) = args.format {
        return for_mdm(options, mode, format);
    }
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

/// `check --format`: one line on stdout. Kandji reads the exit code; the others read
/// the line and take a failing script for no data, so they exit 0 with `unknown`.
fn for_mdm(options: &Options, mode: Mode, format: MdmFormat) -> Result<Outcome, Error> {
    let report = run_check(options, mode);
    if let Err(e) = &report {
        eprintln!("s1trust: {e}");
    }
    let report = report.ok();
    println!("{}", super::mdm::render(format, report.as_ref()));
    let answer = report.map_or(Outcome::Unknown, |r| outcome(r.result));
    Ok(match format {
        MdmFormat::Kandji => answer,
        MdmFormat::Intune | MdmFormat::Jamf | MdmFormat::WorkspaceOne => Outcome::Ok,
    })
}

/// The exit status for a result (docs/reasons.md "Exit codes").
pub(super) fn outcome(result: Overall) -> Outcome {
    match result {
        Overall::Trusted => Outcome::Ok,
        Overall::NotTrusted => Outcome::Negative,
        Overall::Unknown => Outcome::Unknown,
    }
}

/// Runs `refresh`; a kept snapshot is a warning where the OS keeps logs. With `-v`
/// each step is a line on stderr as it ends, and on a terminal the status line says
/// what the step under way waits for.
pub(crate) fn refresh(options: &Options, verbose: bool) -> Result<Outcome, Error> {
    let done = if verbose {
        let waiting = StatusLine::on_stderr();
        run_refresh(options, &mut |progress| match progress {
            Progress::Waiting(what) => waiting.wait(what),
            Progress::Item(item) => {
                waiting.clear();
                checked_item_on_stderr(item);
            }
            Progress::Section(_) => {}
        })
    } else {
        run_refresh(options, &mut |_| {})
    }?;
    if let Some(message) = &done.kept {
        tracing::warn!("{message}");
    }
    Ok(done.outcome)
}
