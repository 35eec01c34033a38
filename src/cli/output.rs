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

/// [`print_json`] for a document whose shape is s1trust's own: `schemaVersion` first,
/// so a consumer can tell an incompatible change (docs/schemas/).
pub(crate) fn print_versioned(value: &serde_json::Value) -> Result<(), Error> {
    let mut document = serde_json::Map::new();
    document.insert("schemaVersion".into(), serde_json::json!(1));
    if let serde_json::Value::Object(fields) = value {
        document.extend(fields.clone());
    }
    print_json(&serde_json::Value::Object(document))
}
