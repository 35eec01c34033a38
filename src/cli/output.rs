//! Output helpers shared by commands.

use std::io::Write;

use super::CliError;

/// Pretty JSON on stdout, followed by a newline.
pub fn print_json(value: &serde_json::Value) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value).map_err(std::io::Error::from)?;
    writeln!(out)?;
    Ok(())
}

/// A timestamp for people: `2026-11-22 03:31:07 UTC`.
pub fn fmt_time(at: time::OffsetDateTime) -> String {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let format =
        time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    utc.format(&format).unwrap_or_else(|_| utc.to_string())
}
