//! The one renderer for ✓/✗ lines with their fixes (doctor, integration test, the
//! identity table), and the quiet exit on a closed stdout.

use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::app::steps::{Checklist, Step};
use crate::exit::Outcome;

/// The exit status when stdout closes before the output is written. It stays 0 for
/// commands that only show things; a command whose status is its answer sets it with
/// [`answer_is`] before printing, so a reader that stops reading never turns "not
/// trusted" into 0.
static CLOSED_STDOUT_STATUS: AtomicU8 = AtomicU8::new(0);

/// Records the command's answer as the status of a closed stdout, and returns it.
pub(crate) fn answer_is(outcome: Outcome) -> Outcome {
    CLOSED_STDOUT_STATUS.store(outcome.code(), Ordering::Relaxed);
    outcome
}

/// The status to exit with when stdout closed early.
pub(crate) fn closed_stdout_status() -> u8 {
    CLOSED_STDOUT_STATUS.load(Ordering::Relaxed)
}

/// Prints one line on stdout; a closed stdout (`s1trust doctor | head -1`) ends the
/// process quietly, as ripgrep does, with the answer's status (see [`answer_is`]).
pub(crate) fn line(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{args}") {
        exit_on_write_error(&e);
    }
}

/// Ends the process for an error writing stdout: quietly for a closed pipe.
pub(crate) fn exit_on_write_error(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(closed_stdout_status()));
    }
    eprintln!("s1trust: error: cannot write output: {e}");
    std::process::exit(i32::from(crate::exit::Outcome::Unknown.code()));
}

/// `println!` that exits quietly when stdout is closed.
macro_rules! outln {
    () => { $crate::cli::render::line(format_args!("")) };
    ($($arg:tt)*) => { $crate::cli::render::line(format_args!($($arg)*)) };
}
pub(crate) use outln;

/// `  ✓ label  detail`, then `      fix: hint` under it when there is one.
pub(crate) fn step(mark: &str, label: &str, detail: &str, hint: Option<&str>) {
    outln!("  {mark} {label} {detail}");
    if let Some(hint) = hint {
        outln!("      fix: {hint}");
    }
}

/// A checklist: each section's title after a blank line, then its steps (fixes only
/// for failed steps).
pub(crate) fn checklist(list: &Checklist) {
    for section in &list.sections {
        outln!("\n{}", section.title);
        for s in &section.steps {
            let Step {
                ok,
                what,
                detail,
                hint,
            } = s;
            let mark = if *ok { "✓" } else { "✗" };
            let hint = hint.as_deref().filter(|_| !ok);
            step(mark, &format!("{what:<26}"), detail, hint);
        }
    }
}
