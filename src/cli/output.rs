//! Output helpers shared by commands.

use std::io::Write;

use crate::app::Error;
pub(crate) use crate::posture::report::fmt_time;

/// Pretty JSON on stdout, followed by a newline.
pub(crate) fn print_json(value: &serde_json::Value) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}
