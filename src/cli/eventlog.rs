//! Windows: the scheduled refresh's warnings and errors go to the Application event
//! log, source `s1trust`, because Task Scheduler throws a task's stderr away. The
//! installer's `setup install` registers the source with `EventCreate.exe` as its
//! message file (as `eventcreate` does for its own sources), whose messages 1–1000 are
//! just "%1": the event shows s1trust's text as written.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use windows_sys::Win32::Foundation::HANDLE;
use windows_sys::Win32::System::EventLog::{
    DeregisterEventSource, EVENTLOG_ERROR_TYPE, EVENTLOG_WARNING_TYPE, REPORT_EVENT_TYPE,
    RegisterEventSourceW, ReportEventW,
};

/// Event IDs (any in 1–1000 prints "%1" through EventCreate.exe).
const WARNING_ID: u32 = 100;
const ERROR_ID: u32 = 200;

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

/// Writes one event; best effort (logging must never fail the refresh).
fn report(kind: REPORT_EVENT_TYPE, id: u32, message: &str) {
    let source = wide(crate::install::EVENT_SOURCE);
    // SAFETY: `source` is NUL-terminated and outlives the call; a null server is this machine.
    let handle: HANDLE = unsafe { RegisterEventSourceW(std::ptr::null(), source.as_ptr()) };
    if handle.is_null() {
        return;
    }
    let text = wide(message);
    let strings = [text.as_ptr()];
    // SAFETY: `handle` is open; `strings` holds one NUL-terminated string alive for the call.
    unsafe {
        ReportEventW(
            handle,
            kind,
            0,
            id,
            std::ptr::null_mut(),
            1,
            0,
            strings.as_ptr(),
            std::ptr::null(),
        );
        DeregisterEventSource(handle);
    }
}

/// Records the error that ended the command.
pub(crate) fn report_error(message: &str) {
    report(EVENTLOG_ERROR_TYPE, ERROR_ID, message);
}

/// A `tracing` layer sending warnings and errors to the event log.
pub(crate) struct EventLogLayer;

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.0, "{value:?}");
        } else {
            let _ = write!(self.0, " {}={value:?}", field.name());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            let _ = write!(self.0, " {}={value}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for EventLogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let (kind, id) = match *event.metadata().level() {
            Level::ERROR => (EVENTLOG_ERROR_TYPE, ERROR_ID),
            Level::WARN => (EVENTLOG_WARNING_TYPE, WARNING_ID),
            _ => return,
        };
        let mut message = Message(String::new());
        event.record(&mut message);
        report(kind, id, &message.0);
    }
}
