//! The packaging sources (packaging/) agree with what the program expects: the example
//! config validates, the macOS LaunchDaemon plist parses with the plist crate and has
//! the expected keys, the systemd units and the WiX source carry the settings the
//! docs/install.md documents. The packages themselves are built and installed by .ci/packages.

use std::path::{Path, PathBuf};
use std::process::Command;

fn packaging(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging")
        .join(file)
}

fn read(file: &str) -> String {
    std::fs::read_to_string(packaging(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

#[test]
fn example_config_validates_as_shipped() {
    let out = Command::new(env!("CARGO_BIN_EXE_s1trust"))
        .args(["config", "validate"])
        .arg(packaging("config.example.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("valid (0 integration(s))"), "{stdout}");
}

/// The commented-out examples are real settings: uncommented they validate too.
#[test]
fn example_config_examples_validate_when_uncommented() {
    let text: String = read("config.example.toml")
        .lines()
        .map(|line| match line.strip_prefix('#') {
            Some(rest) if rest.starts_with(|c: char| c == '[' || c.is_ascii_lowercase()) => {
                rest.to_string()
            }
            _ => line.to_string(),
        })
        .map(|line| line + "\n")
        .collect();
    assert!(text.contains("\n[[integration]]\n"), "{text}");
    let config = s1trust::config::from_text(&text, Path::new("/etc/s1trust/config.toml"))
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(config.integrations.len(), 1);
    assert_eq!(config.integrations[0].name.as_str(), "corp");
    assert_eq!(
        config.integrations[0].token_file.as_deref(),
        Some(Path::new("/etc/s1trust/tokens/corp.token"))
    );
}

#[test]
fn launch_daemon_plist_runs_refresh_as_root_every_15_minutes() {
    let value = plist::Value::from_file(packaging("macos/com.s1trust.refresh.plist")).unwrap();
    let dict = value.as_dictionary().expect("a dictionary at the top");
    let string = |key: &str| dict.get(key).and_then(plist::Value::as_string);
    assert_eq!(string("Label"), Some("com.s1trust.refresh"));
    let args: Vec<&str> = dict
        .get("ProgramArguments")
        .and_then(plist::Value::as_array)
        .expect("ProgramArguments")
        .iter()
        .map(|v| v.as_string().unwrap())
        .collect();
    assert_eq!(args, ["/usr/local/bin/s1trust", "refresh"]);
    assert_eq!(
        dict.get("RunAtLoad").and_then(plist::Value::as_boolean),
        Some(true)
    );
    assert_eq!(
        dict.get("StartInterval")
            .and_then(plist::Value::as_unsigned_integer),
        Some(900)
    );
    assert_eq!(string("UserName"), Some("root"));
    assert_eq!(string("GroupName"), Some("wheel"));
    // launchd writes the log here; postinstall creates the folder.
    assert_eq!(
        string("StandardErrorPath"),
        Some("/Library/Logs/s1trust/refresh.log")
    );
    assert!(
        !dict.contains_key("KeepAlive"),
        "a periodic job, not a daemon"
    );
}

/// `Key=Value` lines of a systemd unit (last one wins, like systemd for these keys).
fn unit_value<'a>(unit: &'a str, key: &str) -> Option<&'a str> {
    unit.lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| k.trim() == key)
        .map(|(_, v)| v.trim())
        .next_back()
}

#[test]
fn systemd_service_is_hardened_oneshot_refresh() {
    let unit = read("deb/s1trust-refresh.service");
    for (key, want) in [
        ("Type", "oneshot"),
        ("ExecStart", "/usr/bin/s1trust refresh"),
        ("ProtectSystem", "strict"),
        ("ReadWritePaths", "/var/lib/s1trust"),
        ("StateDirectory", "s1trust"),
        ("StateDirectoryMode", "0755"),
        ("NoNewPrivileges", "yes"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
    ] {
        assert_eq!(unit_value(&unit, key), Some(want), "{key}");
    }
    // Runs as root: reading the serial and the tokens needs it.
    assert_eq!(unit_value(&unit, "User"), None);
    assert!(!unit.contains("[Install]"), "started by the timer only");
}

#[test]
fn systemd_timer_fires_after_boot_and_every_15_minutes_with_jitter() {
    let timer = read("deb/s1trust-refresh.timer");
    assert_eq!(unit_value(&timer, "OnBootSec"), Some("2min"));
    assert_eq!(unit_value(&timer, "OnUnitActiveSec"), Some("15min"));
    assert_eq!(unit_value(&timer, "RandomizedDelaySec"), Some("3min"));
    assert_eq!(unit_value(&timer, "WantedBy"), Some("timers.target"));
}

#[test]
fn wix_source_keeps_its_upgrade_code_and_runs_setup() {
    let wxs = read("windows/s1trust.wxs");
    // Changing it would make new versions install beside old ones instead of replacing them.
    assert!(wxs.contains(r#"UpgradeCode="F0242CA8-280B-4F9D-9694-E7DBCAD95D8B""#));
    assert!(
        wxs.contains(r#"<Product Id="*""#),
        "a new ProductCode per build"
    );
    assert!(wxs.contains("<MajorUpgrade "));
    for command in [
        r#"ExeCommand="setup install""#,
        r#"ExeCommand="setup uninstall""#,
        r#"ExeCommand="setup uninstall --keep-data""#,
    ] {
        assert!(wxs.contains(command), "{command}");
    }
    assert_eq!(wxs.matches(r#"Impersonate="no""#).count(), 3);
    assert!(wxs.contains("NOT UPGRADINGPRODUCTCODE"));
}

#[test]
fn the_signer_socket_is_for_every_user_and_its_service_is_hardened() {
    let socket = read("deb/s1trust-attest.socket");
    assert_eq!(
        unit_value(&socket, "ListenStream"),
        Some("/run/s1trust/attest.sock")
    );
    assert_eq!(unit_value(&socket, "SocketMode"), Some("0666"));
    assert_eq!(unit_value(&socket, "DirectoryMode"), Some("0755"));
    assert_eq!(unit_value(&socket, "Accept"), Some("no"));
    assert_eq!(unit_value(&socket, "WantedBy"), Some("sockets.target"));
    let service = read("deb/s1trust-attest.service");
    assert_eq!(
        unit_value(&service, "ExecStart"),
        Some("/usr/bin/s1trust attest")
    );
    assert!(!service.contains("[Install]"), "started by the socket only");
    // Every hardening setting of the refresh unit, except the state folder's write access.
    let refresh = read("deb/s1trust-refresh.service");
    let hardening = refresh
        .split("# Hardening.")
        .nth(1)
        .expect("the refresh unit's hardening block");
    for (key, value) in hardening
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
    {
        if [
            "StateDirectory",
            "StateDirectoryMode",
            "ReadWritePaths",
            "RestrictAddressFamilies",
        ]
        .contains(&key)
        {
            continue;
        }
        assert_eq!(unit_value(&service, key), Some(value.trim()), "{key}");
    }
    assert_eq!(
        unit_value(&service, "ReadWritePaths"),
        None,
        "it writes nothing"
    );
    assert_eq!(unit_value(&service, "PrivateNetwork"), Some("yes"));
    assert_eq!(
        unit_value(&service, "RestrictAddressFamilies"),
        Some("AF_UNIX")
    );
    assert!(
        read("deb/debian/rules")
            .contains("dh_installsystemd --name=s1trust-attest s1trust-attest.socket")
    );
}

#[test]
fn launch_daemon_plist_keeps_the_signer_running_on_its_socket() {
    let value = plist::Value::from_file(packaging("macos/com.s1trust.attest.plist")).unwrap();
    let dict = value.as_dictionary().expect("a dictionary at the top");
    let args: Vec<&str> = dict
        .get("ProgramArguments")
        .and_then(plist::Value::as_array)
        .expect("ProgramArguments")
        .iter()
        .map(|v| v.as_string().unwrap())
        .collect();
    assert_eq!(
        args,
        [
            "/usr/local/bin/s1trust",
            "attest",
            "--listen",
            "/var/run/s1trust/attest.sock"
        ]
    );
    assert_eq!(
        dict.get("UserName").and_then(plist::Value::as_string),
        Some("root")
    );
    assert_eq!(
        dict.get("KeepAlive").and_then(plist::Value::as_boolean),
        Some(true)
    );
}

#[test]
fn the_deb_and_the_pkg_ship_the_mdm_scripts_and_rules() {
    assert!(read("deb/build-deb.sh").contains(r#"cp -R packaging/mdm "$STAGE/build/mdm""#));
    assert!(read("deb/debian/s1trust.install").contains("build/mdm usr/share/s1trust\n"));
    assert!(
        read("macos/build-pkg.sh")
            .contains(r#"cp -R packaging/mdm "$PAYLOAD/usr/local/share/s1trust/mdm""#)
    );
    // The scripts call the binary where each package installs it.
    assert!(read("deb/debian/s1trust.install").contains("build/s1trust usr/bin\n"));
    assert!(read("mdm/intune/s1trust-compliance.sh").contains("exec /usr/bin/s1trust "));
    assert!(read("macos/build-pkg.sh").contains(r#""$PAYLOAD/usr/local/bin/s1trust""#));
    for script in [
        "jamf/s1trust-extension-attribute.sh",
        "kandji/s1trust-audit.sh",
    ] {
        assert!(read(&format!("mdm/{script}")).contains("exec /usr/local/bin/s1trust "));
    }
}
