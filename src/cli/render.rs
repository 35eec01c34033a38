//! The one renderer for ✓/✗ lines with their fixes (doctor, integration test, the
//! identity table), the quiet exit on a closed stdout, and the rule that makes a
//! tenant's text harmless on a terminal: every line a person reads, on stdout or
//! stderr, passes through [`terminal_safe`] (JSON output escapes for itself).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::app::checklist::{CheckedItem, Checklist};
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

/// `text` with every character that could move the cursor, rewrite what a terminal
/// shows or reorder it made visible as `\u{..}`: C0 controls (newline and tab
/// included: a line is one line), DEL, C1 controls (and with them every escape
/// sequence, which needs ESC or a C1 introducer), the Unicode bidi overrides,
/// embeddings, isolates and marks, and the line and paragraph separators. A tenant's
/// `computerName` of `"\x1b[2K\rTRUSTED ✓"` would otherwise erase the real answer's
/// line and print its own. Everything else, accents, CJK and emoji included, is kept.
pub(crate) fn terminal_safe(text: &str) -> Cow<'_, str> {
    fn unsafe_char(c: char) -> bool {
        c.is_control()
            || matches!(
                c,
                '\u{061c}'
                    | '\u{200e}'
                    | '\u{200f}'
                    | '\u{2028}'..='\u{202e}'
                    | '\u{2066}'..='\u{2069}'
            )
    }
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Prints one line on stdout, made [`terminal_safe`]. The first failure to write is
/// kept and every later line dropped: `main` turns it into the exit status (a closed
/// stdout, `s1trust doctor | head -1`, quietly, with the answer's status, as ripgrep
/// does), so no printing function needs to end the process itself.
pub(crate) fn line(args: std::fmt::Arguments<'_>) {
    if STDOUT_ERROR.get().is_some() {
        return;
    }
    let text = args.to_string();
    let mut out = std::io::stdout().lock();
    if let Err(e) = writeln!(out, "{}", terminal_safe(&text)) {
        let _ = STDOUT_ERROR.set((e.kind(), e.to_string()));
    }
}

static STDOUT_ERROR: std::sync::OnceLock<(std::io::ErrorKind, String)> = std::sync::OnceLock::new();

/// The first error writing stdout, if one happened.
pub(crate) fn stdout_error() -> Option<&'static (std::io::ErrorKind, String)> {
    STDOUT_ERROR.get()
}

/// Prints one line on stderr, made [`terminal_safe`]; a failing stderr has nowhere
/// to be reported, so it is ignored.
pub(crate) fn error_line(args: std::fmt::Arguments<'_>) {
    let text = args.to_string();
    let _ = writeln!(std::io::stderr().lock(), "{}", terminal_safe(&text));
}

/// `println!` through [`line`].
macro_rules! outln {
    () => { $crate::cli::render::line(format_args!("")) };
    ($($arg:tt)*) => { $crate::cli::render::line(format_args!($($arg)*)) };
}
pub(crate) use outln;

/// `eprintln!` through [`error_line`].
macro_rules! errln {
    ($($arg:tt)*) => { $crate::cli::render::error_line(format_args!($($arg)*)) };
}
pub(crate) use errln;

/// `  ✓ label  detail`, then `      fix: hint` under it when there is one.
pub(crate) fn step(mark: &str, label: &str, detail: &str, hint: Option<&str>) {
    step_to(line, mark, label, detail, hint);
}

fn step_to(
    print: fn(std::fmt::Arguments<'_>),
    mark: &str,
    label: &str,
    detail: &str,
    hint: Option<&str>,
) {
    print(format_args!("  {mark} {label} {detail}"));
    if let Some(hint) = hint {
        print(format_args!("      fix: {hint}"));
    }
}

/// A checklist: each section's title after a blank line, then its steps (fixes only
/// for failed steps).
pub(crate) fn checklist(list: &Checklist) {
    for section in &list.sections {
        section_title(&section.title);
        section.steps.iter().for_each(checked_item);
    }
}

/// A section's title, after a blank line.
pub(crate) fn section_title(title: &str) {
    outln!();
    outln!("{title}");
}

/// One ✓/✗ line (and its fix).
pub(crate) fn checked_item(item: &CheckedItem) {
    checked_item_to(line, item);
}

/// [`checked_item`] on stderr (`refresh -v`, whose stdout stays empty).
pub(crate) fn checked_item_on_stderr(item: &CheckedItem) {
    checked_item_to(error_line, item);
}

fn checked_item_to(print: fn(std::fmt::Arguments<'_>), item: &CheckedItem) {
    let CheckedItem {
        ok,
        what,
        detail,
        hint,
    } = item;
    let mark = if *ok { "✓" } else { "✗" };
    let hint = hint.as_deref().filter(|_| !ok);
    step_to(print, mark, &format!("{what:<26}"), detail, hint);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_and_cursor_tricks_become_visible() {
        assert_eq!(
            terminal_safe("HOST\x1b[2K\rs1trust: TRUSTED ✓"),
            "HOST\\u{1b}[2K\\u{d}s1trust: TRUSTED ✓"
        );
        assert_eq!(terminal_safe("ok\x08\x08no"), "ok\\u{8}\\u{8}no");
        assert_eq!(
            terminal_safe("a\nb\tc\x00d\x7fe"),
            "a\\u{a}b\\u{9}c\\u{0}d\\u{7f}e"
        );
        // An OSC sequence (a hyperlink or a window title) ends with BEL or ST.
        assert_eq!(
            terminal_safe("\x1b]8;;https://x\x07link\x1b\\"),
            "\\u{1b}]8;;https://x\\u{7}link\\u{1b}\\"
        );
    }

    #[test]
    fn c1_controls_are_escaped() {
        // U+009B is an 8-bit CSI: "\u{9b}2K" clears a line on terminals that take it.
        assert_eq!(terminal_safe("x\u{9b}2Ky\u{85}"), "x\\u{9b}2Ky\\u{85}");
        assert_eq!(terminal_safe("\u{80}\u{9f}"), "\\u{80}\\u{9f}");
    }

    #[test]
    fn bidi_controls_are_escaped() {
        for (c, shown) in [
            ('\u{202a}', "\\u{202a}"),
            ('\u{202b}', "\\u{202b}"),
            ('\u{202c}', "\\u{202c}"),
            ('\u{202d}', "\\u{202d}"),
            ('\u{202e}', "\\u{202e}"),
            ('\u{2066}', "\\u{2066}"),
            ('\u{2067}', "\\u{2067}"),
            ('\u{2068}', "\\u{2068}"),
            ('\u{2069}', "\\u{2069}"),
            ('\u{200e}', "\\u{200e}"),
            ('\u{200f}', "\\u{200f}"),
            ('\u{061c}', "\\u{61c}"),
            ('\u{2028}', "\\u{2028}"),
        ] {
            assert_eq!(terminal_safe(&format!("a{c}b")), format!("a{shown}b"));
        }
        // Under a RIGHT-TO-LEFT OVERRIDE the bytes "detsurt" display as "trusted".
        assert_eq!(
            terminal_safe("\u{202e}detsurt\u{202c}"),
            "\\u{202e}detsurt\\u{202c}"
        );
    }

    #[test]
    fn ordinary_text_is_kept_as_it_is() {
        for text in [
            "Zoë's MacBook — café",
            "東京-ノートPC · 서울",
            "laptop 🚀👩‍💻 ✓ ✗ → …",
            "مرحبا עברית",
            "C:\\ProgramData\\s1trust",
            "",
        ] {
            assert!(
                matches!(terminal_safe(text), Cow::Borrowed(t) if t == text),
                "{text}"
            );
        }
    }
}
