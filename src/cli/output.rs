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
