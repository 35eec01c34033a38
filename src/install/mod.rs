//! Where the packages put s1trust's scheduled refresh and its event source, defined once
//! for the installers' own steps (`windows.rs`, which the MSI runs through the hidden
//! `s1trust setup`) and for `doctor`, which looks for what they registered. The .deb and
//! .pkg do the same work in their maintainer scripts (packaging/), which name the same
//! files; `tests/it/packaging.rs` holds them to these names.

use std::path::PathBuf;

#[cfg(any(windows, test))]
pub mod windows;

/// The Windows Scheduled Task's name.
pub const TASK_NAME: &str = "s1trust-refresh";
/// The Windows event source name.
pub const EVENT_SOURCE: &str = "s1trust";
/// The event source's registry key, under HKLM.
pub const EVENT_SOURCE_KEY: &str =
    r"SYSTEM\CurrentControlSet\Services\EventLog\Application\s1trust";
/// The macOS launchd job that runs the refresh.
pub const LAUNCHD_PLIST: &str = "/Library/LaunchDaemons/com.s1trust.refresh.plist";
/// The systemd timer that starts the refresh, in the folders a package or an admin
/// may have put it.
pub const SYSTEMD_TIMERS: [&str; 3] = [
    "/lib/systemd/system/s1trust-refresh.timer",
    "/usr/lib/systemd/system/s1trust-refresh.timer",
    "/etc/systemd/system/s1trust-refresh.timer",
];

/// The files whose presence shows that this OS's scheduled refresh is registered.
pub fn scheduler_entries() -> Vec<PathBuf> {
    if cfg!(windows) {
        vec![system32().join("Tasks").join(TASK_NAME)]
    } else if cfg!(target_os = "macos") {
        vec![PathBuf::from(LAUNCHD_PLIST)]
    } else {
        SYSTEMD_TIMERS.iter().map(PathBuf::from).collect()
    }
}

/// `%SystemRoot%\System32` (Windows).
pub fn system32() -> PathBuf {
    PathBuf::from(std::env::var_os("SystemRoot").unwrap_or_else(|| r"C:\Windows".into()))
        .join("System32")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The packages' own scripts name the same files `doctor` looks for.
    #[test]
    fn the_packages_register_what_doctor_looks_for() {
        let deb_rules = include_str!("../../packaging/deb/debian/rules");
        assert!(deb_rules.contains(&format!("{TASK_NAME}.timer")));
        assert!(
            SYSTEMD_TIMERS
                .iter()
                .all(|t| t.ends_with(&format!("/{TASK_NAME}.timer")))
        );
        let pkg = include_str!("../../packaging/macos/build-pkg.sh");
        assert!(
            pkg.contains(&format!("$PAYLOAD{LAUNCHD_PLIST}")),
            "build-pkg.sh installs {LAUNCHD_PLIST}"
        );
        let msi = include_str!("../../packaging/windows/s1trust.wxs");
        assert!(
            msi.contains("setup install"),
            "the MSI runs `s1trust setup install`"
        );
    }
}
