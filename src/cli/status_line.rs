//! The one line on stderr that says what a command is waiting for and for how long,
//! `⠹ asking "prod" … 1.2s`, redrawn in place with `\r` and erased before anything
//! else is printed, log lines included. It is drawn only where colour would be (stderr a terminal, no
//! `NO_COLOR`, `TERM` not `dumb`); anywhere else it does nothing, so piped output is
//! what it would be without it.
//!
//! A small thread redraws it: the waits it covers are not all async (the agent's tool
//! during an identity read, a snapshot write), and the commands that use it
//! (`integration test | add | edit`, `lookup`, `refresh -v`) are not `check`, whose
//! path stays free of extra threads.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::render::terminal_safe;

const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const TICK: Duration = Duration::from_millis(100);
/// A step done sooner is not worth a line that flickers and vanishes.
const SHOW_AFTER: Duration = Duration::from_millis(250);
/// `\r` redraws only the last row, so the line must fit an 80-column terminal.
const LABEL_CHARS: usize = 60;

/// What is being waited for; `None` while nothing is. One per process, as stderr is:
/// log lines erase it too (see [`log_writer`]).
static SHOWN: Mutex<Option<Waiting>> = Mutex::new(None);

struct Waiting {
    what: String,
    since: Instant,
    drawn: bool,
}

/// The status line; dropping it erases it and stops its thread.
pub(crate) struct StatusLine {
    ticker: Option<Ticker>,
}

struct Ticker {
    /// Dropped to stop the thread.
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl StatusLine {
    /// A status line on stderr when stderr is a terminal that takes one, else a no-op.
    pub(crate) fn on_stderr() -> Self {
        Self {
            ticker: super::colour_allowed().then(Ticker::start).flatten(),
        }
    }

    /// Shows that `what` is being waited for, from now.
    pub(crate) fn wait(&self, what: &str) {
        if self.ticker.is_some() {
            let waiting = Waiting {
                what: clipped(what),
                since: Instant::now(),
                drawn: false,
            };
            // A wait that replaces one on the screen takes its place at once.
            let mut shown = lock();
            if shown.replace(waiting).is_some_and(|w| w.drawn) {
                draw(&mut shown);
            }
        }
    }

    /// Erases the line (before a line is printed, or once the wait is over).
    pub(crate) fn clear(&self) {
        if self.ticker.is_some() && lock().take().is_some_and(|w| w.drawn) {
            let _ = std::io::stderr().lock().write_all(b"\r\x1b[2K");
        }
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        self.clear();
        if let Some(ticker) = &mut self.ticker {
            ticker.stop.take();
            if let Some(thread) = ticker.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

impl Ticker {
    fn start() -> Option<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("status-line".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(TICK) {
                    let mut shown = lock();
                    if shown
                        .as_ref()
                        .is_some_and(|w| w.since.elapsed() >= SHOW_AFTER)
                    {
                        draw(&mut shown);
                    }
                }
            })
            .ok()?;
        Some(Self {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

fn lock() -> MutexGuard<'static, Option<Waiting>> {
    // Every change is one assignment, so a poisoned lock holds a whole value.
    SHOWN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Stderr for one log line: a status line on the screen is erased first and not
/// redrawn until the line is written (the next tick draws it again below).
pub(crate) fn log_writer() -> LogWriter {
    let mut shown = lock();
    if let Some(waiting) = shown.as_mut().filter(|w| w.drawn) {
        waiting.drawn = false;
        let _ = std::io::stderr().lock().write_all(b"\r\x1b[2K");
    }
    LogWriter { _held: shown }
}

/// Stderr, with the status line held off while it is written to.
pub(crate) struct LogWriter {
    _held: MutexGuard<'static, Option<Waiting>>,
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr().write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Draws the line while the lock is held, so an erase never races a redraw.
fn draw(shown: &mut Option<Waiting>) {
    if let Some(waiting) = shown {
        waiting.drawn = true;
        let _ = std::io::stderr()
            .lock()
            .write_all(line(&waiting.what, waiting.since.elapsed()).as_bytes());
    }
}

fn line(what: &str, elapsed: Duration) -> String {
    let frame = FRAMES[(elapsed.as_millis() / TICK.as_millis()) as usize % FRAMES.len()];
    format!("\r\x1b[2K{frame} {what} … {:.1}s", elapsed.as_secs_f64())
}

/// `what` made terminal-safe and short enough for one row.
fn clipped(what: &str) -> String {
    let safe = terminal_safe(what);
    if safe.chars().count() <= LABEL_CHARS {
        return safe.into_owned();
    }
    let mut short: String = safe.chars().take(LABEL_CHARS - 1).collect();
    short.push('…');
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_redraws_in_place_with_the_elapsed_time() {
        assert_eq!(
            line("asking \"prod\"", Duration::from_millis(1300)),
            "\r\x1b[2K⠸ asking \"prod\" … 1.3s"
        );
        assert!(line("x", Duration::ZERO).starts_with("\r\x1b[2K⠋ x"));
    }

    #[test]
    fn labels_fit_one_row_and_cannot_move_the_cursor() {
        assert_eq!(clipped("a\rb"), "a\\u{d}b");
        let long = clipped(&"é".repeat(100));
        assert_eq!(long.chars().count(), LABEL_CHARS);
        assert!(long.ends_with('…'));
    }
}
