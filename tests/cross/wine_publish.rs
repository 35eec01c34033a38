//! TEST-ONLY helper for `.ci/wine-identity`: brings the native stores in line with a
//! snapshot through the code a privileged refresh runs (`s1trust::publish::publish`:
//! the marker beside the snapshot and, on Windows, `HKLM\SOFTWARE\s1trust\Posture`),
//! so `reg query` can read the values back under Wine.
//!
//! `s1trust.exe refresh` itself cannot run there: Wine 8 reports every file as owned
//! by the Unix user's SID and cannot record another owner (SetNamedSecurityInfoW
//! succeeds and changes nothing), so the trust rules refuse every configuration.
//!
//! Usage: `wine-publish SNAPSHOT.json`; store errors are logged on stderr as a
//! refresh logs them. Exit 0 when the snapshot was read, 2 otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use s1trust::config::PublishSettings;
use s1trust::posture::report::PostureReport;

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: wine-publish SNAPSHOT.json");
        return ExitCode::from(2);
    };
    let report: PostureReport = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
    {
        Ok(report) => report,
        Err(e) => {
            eprintln!("wine-publish: {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    s1trust::publish::publish(
        &PublishSettings::default(),
        &path,
        Some(&report),
        time::OffsetDateTime::now_utc(),
    );
    ExitCode::SUCCESS
}
