//! Output helpers shared by commands.

use std::io::Write;

use crate::app::Error;
pub(crate) use crate::posture::report::fmt_time;

/// Pretty JSON on stdout, followed by a newline, in one write: stdout is line-buffered,
/// and a report written line by line costs one system call per line on the login path.
pub(crate) fn print_json(value: &serde_json::Value) -> Result<(), Error> {
    let mut text = serde_json::to_vec_pretty(value).map_err(std::io::Error::from)?;
    text.push(b'\n');
    std::io::stdout().lock().write_all(&text)?;
    Ok(())
}
