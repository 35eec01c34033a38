//! `s1trust identity --json` end to end on Linux: the real binary, run as root
//! inside a private mount namespace (`unshare -m`) where `/sys/firmware`,
//! `/sys/class` and `/opt` are tmpfs mounts holding a real SMBIOS table pair, a
//! fake `/sys/class/dmi/id` and a stand-in `/opt/sentinelone/bin/sentinelctl`.
//! Nothing outside that one process tree sees the mounts.
//!
//! Skips with a notice when not root or when `unshare` cannot make a namespace.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::helpers::{fixture, is_root};

/// The UUID and console URL in `linux-management-status.registered.txt`.
const UUID: &str = "8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e";
const URL: &str = "https://usea1-acme.sentinelone.net";

/// What the stand-in prints: the sample outputs in tests/fixtures/sentinelctl,
/// built into the test binary (without them it does not build, louder than a skip).
const REGISTERED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-management-status.registered.txt"
));
const UNREGISTERED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-management-status.unregistered.txt"
));
const VERSION: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-version.txt"
));
const MANY_KEYS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-management-status.many-keys.txt"
));
const RESET: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-management-status.reset.txt"
));

/// Single-quoted for sh: a `'` inside becomes `'\''`.
fn sh_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A stand-in whose `management status` loses its connection to the agent the first
/// `resets` times (it counts its calls in `/opt/sentinelone/calls`), then prints `status`.
fn flaky_sentinelctl(resets: u32, status: &str) -> String {
    format!(
        "#!/bin/sh\n\
         case \"$*\" in\n\
         'management status')\n\
           n=$(cat /opt/sentinelone/calls 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /opt/sentinelone/calls\n\
           if [ $n -le {resets} ]; then printf '%s' {reset}; exit 0; fi\n\
           printf '%s' {status} ;;\n\
         'version') printf '%s' {version} ;;\n\
         *) echo \"unexpected arguments: $*\" >&2; exit 2 ;;\n\
         esac\n",
        reset = sh_quoted(RESET),
        status = sh_quoted(status),
        version = sh_quoted(VERSION)
    )
}

/// Sets up the fake machine, then runs `s1trust identity --json` in it.
/// `$1` holds the files to install, `$2` the binary, `$3` an optional `setpriv` prefix.
const SETUP: &str = r#"
set -e
src=$1; bin=$2; shift 2
mount -t tmpfs -o mode=0755 none /sys/firmware
mount -t tmpfs -o mode=0755 none /sys/class
mount -t tmpfs -o mode=0755 none /opt
if [ -f "$src/DMI" ]; then
    mkdir -p /sys/firmware/dmi/tables
    cp "$src/smbios_entry_point" "$src/DMI" /sys/firmware/dmi/tables/
    chmod 0400 /sys/firmware/dmi/tables/*
fi
if [ -d "$src/id" ]; then
    mkdir -p /sys/class/dmi
    cp -r "$src/id" /sys/class/dmi/id
    chmod 0400 /sys/class/dmi/id/*_serial
    chmod 0444 /sys/class/dmi/id/sys_vendor
fi
mkdir -p /opt/sentinelone/bin
cp "$src/sentinelctl" /opt/sentinelone/bin/sentinelctl
chmod 0755 /opt/sentinelone/bin/sentinelctl
if [ -f "$src/unsafe" ]; then chmod 0775 /opt/sentinelone/bin; fi
exec "$@" "$bin" identity --json
"#;

/// A stand-in `sentinelctl` that prints the fixture outputs for the two
/// read-only queries it is asked, and refuses anything else.
fn stand_in_sentinelctl(registered: bool) -> String {
    let status = if registered { REGISTERED } else { UNREGISTERED };
    let quoted = sh_quoted;
    format!(
        "#!/bin/sh\n\
         case \"$*\" in\n\
         'management status') printf '%s' {} ;;\n\
         'version') printf '%s' {} ;;\n\
         *) echo \"unexpected arguments: $*\" >&2; exit 2 ;;\n\
         esac\n",
        quoted(status),
        quoted(VERSION)
    )
}

/// Whether this test can run here; prints why not.
fn can_run() -> bool {
    if !is_root("the unshare end-to-end identity tests") {
        return false;
    }
    let works = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        println!(
            "notice: `unshare -m` is unavailable here; skipping the end-to-end identity tests"
        );
    }
    works
}

struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    fn new(registered: bool) -> Self {
        let dir = crate::helpers::scratch();
        std::fs::write(
            dir.path().join("sentinelctl"),
            stand_in_sentinelctl(registered),
        )
        .unwrap();
        Self { dir }
    }

    fn with_tables(self, sysfs_pair: &Path) -> Self {
        for name in ["smbios_entry_point", "DMI"] {
            std::fs::copy(sysfs_pair.join(name), self.dir.path().join(name)).unwrap();
        }
        self
    }

    fn with_dmi_id(self, product_serial: &str, vendor: &str) -> Self {
        let id = self.dir.path().join("id");
        std::fs::create_dir(&id).unwrap();
        std::fs::write(id.join("product_serial"), format!("{product_serial}\n")).unwrap();
        std::fs::write(id.join("board_serial"), "Default string\n").unwrap();
        std::fs::write(id.join("sys_vendor"), format!("{vendor}\n")).unwrap();
        self
    }

    fn with_sentinelctl(self, script: &str) -> Self {
        std::fs::write(self.dir.path().join("sentinelctl"), script).unwrap();
        self
    }

    fn unsafe_folder(self) -> Self {
        std::fs::write(self.dir.path().join("unsafe"), "").unwrap();
        self
    }

    /// Runs the binary in the fake machine, optionally through `prefix` (e.g. setpriv).
    fn identity(&self, prefix: &[&str]) -> (i32, Value) {
        let bin = crate::helpers::s1trust_bin();
        let out = Command::new("unshare")
            .args(["-m", "sh", "-c", SETUP, "sh"])
            .arg(self.dir.path())
            .arg(bin)
            .args(prefix)
            .output()
            .unwrap();
        crate::helpers::capture(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\nstderr: {stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        (out.status.code().unwrap_or(-1), json)
    }
}

fn reasons(json: &Value) -> Vec<(String, String)> {
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["source"].as_str().unwrap().to_owned(),
                p["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn real_smbios_tables_and_a_registered_agent() {
    let Some(pair) = fixture("smbios/dell-xps13-9365-smbios3.0-sysfs") else {
        return;
    };
    if !can_run() {
        return;
    }
    let machine = Machine::new(true)
        .with_tables(&pair)
        .with_dmi_id("NOT-USED-WHEN-TABLES-WORK", "Dell Inc.");
    let (code, json) = machine.identity(&[]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["serialNumber"], "2R0Q2G2");
    assert_eq!(json["serialSource"], "smbios:type1");
    let candidates: Vec<(&str, &str)> = json["serialCandidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["source"].as_str().unwrap(), c["value"].as_str().unwrap()))
        .collect();
    assert_eq!(
        candidates,
        [
            ("smbios:type1", "2R0Q2G2"),
            ("smbios:type3", "2R0Q2G2"),
            ("smbios:type2", "/2R0Q2G2/CN1296374E0065/")
        ]
    );
    assert_eq!(json["virtual"], false);
    assert_eq!(json["agentInstalled"], true);
    assert_eq!(json["agentUuid"], UUID);
    assert_eq!(json["agentUuidSource"], "sentinelctl management status");
    assert_eq!(json["agentVersion"], "24.1.2.6");
    assert_eq!(json["managementUrl"], URL);
    assert_eq!(json["agentState"]["connected"], true);
    assert_eq!(json["osType"], "linux");
    assert!(json["hostname"].is_string());
    assert!(json["osName"].is_string());
    assert_eq!(reasons(&json), Vec::<(String, String)>::new());
}

#[test]
fn dmi_id_fallback_and_an_unregistered_agent() {
    if !can_run() {
        return;
    }
    let machine = Machine::new(false).with_dmi_id("VMware-56 4d e2 c3 c3 c0", "VMware, Inc.");
    let (code, json) = machine.identity(&[]);
    assert_eq!(code, 1, "{json:#}");
    assert_eq!(json["serialNumber"], "VMware-56 4d e2 c3 c3 c0");
    assert_eq!(json["serialSource"], "sysfs:product_serial");
    assert_eq!(json["virtual"], true);
    assert_eq!(json["virtualPlatform"], "vmware");
    assert_eq!(json["serialCandidates"][1]["reason"], "placeholder");
    assert_eq!(json["agentInstalled"], true);
    assert_eq!(json["agentUuid"], Value::Null);
    assert_eq!(json["managementUrl"], Value::Null);
    let reasons = reasons(&json);
    assert!(
        reasons.contains(&("/sys/firmware/dmi/tables/DMI".into(), "not_present".into())),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&(
            "sentinelctl management status".into(),
            "not_registered".into()
        )),
        "{reasons:?}"
    );
}

#[test]
fn unsafe_agent_folder_is_refused() {
    if !can_run() {
        return;
    }
    let machine = Machine::new(true)
        .with_dmi_id("PF2ABCDE", "LENOVO")
        .unsafe_folder();
    let (code, json) = machine.identity(&[]);
    assert_eq!(code, 3, "{json:#}");
    assert_eq!(json["serialNumber"], "PF2ABCDE");
    assert_eq!(json["agentInstalled"], true);
    assert_eq!(json["agentUuid"], Value::Null);
    let problem = &json["problems"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(problem["reason"], "unsafe");
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("/opt/sentinelone/bin is writable by its group or by others (mode 0775)"),
        "{problem:#}"
    );
    assert!(problem["hint"].is_string());
}

#[test]
fn not_root_cannot_read_the_serial() {
    if !can_run() {
        return;
    }
    let machine = Machine::new(true).with_dmi_id("PF2ABCDE", "LENOVO");
    let nobody = [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
    ];
    let (code, json) = machine.identity(&nobody);
    assert_eq!(code, 3, "{json:#}");
    assert_eq!(json["serialNumber"], Value::Null);
    // The agent's tool is root-owned and safe, so it still runs (as nobody).
    assert_eq!(json["agentUuid"], UUID);
    let denied: Vec<&Value> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["reason"] == "permission_denied")
        .collect();
    assert_eq!(denied.len(), 2, "{json:#}");
    assert_eq!(denied[0]["source"], "/sys/class/dmi/id/product_serial");
    assert!(denied[0]["hint"].as_str().unwrap().contains("root"));
}

/// The Linux tool's transient `Connection reset by peer` is tried once more; newer
/// agents' many extra keys and their dashed UUID are read as they are.
#[test]
fn a_connection_reset_is_retried_once_end_to_end() {
    if !can_run() {
        return;
    }
    let machine = Machine::new(true)
        .with_dmi_id("PF2ABCDE", "LENOVO")
        .with_sentinelctl(&flaky_sentinelctl(1, MANY_KEYS));
    let (code, json) = machine.identity(&[]);
    assert_eq!(code, 0, "{json:#}");
    assert_eq!(json["agentUuid"], "6f1d3c2a-8b4e-4c9d-a1e2-3b4c5d6e7f80");
    assert_eq!(json["managementUrl"], URL);
    assert_eq!(json["agentState"]["connected"], true);
    let agent_problems: Vec<&Value> = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["fact"] == "agent")
        .collect();
    assert!(agent_problems.is_empty(), "{json:#}");

    // A reset that lasts is one problem after one retry, and the identity is unknown.
    let machine = Machine::new(true)
        .with_dmi_id("PF2ABCDE", "LENOVO")
        .with_sentinelctl(&flaky_sentinelctl(99, MANY_KEYS));
    let (code, json) = machine.identity(&[]);
    assert_eq!(code, 3, "{json:#}");
    assert_eq!(json["agentUuid"], Value::Null);
    let problem = json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["source"] == "sentinelctl management status")
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(problem["reason"], "failed");
    let detail = problem["detail"].as_str().unwrap();
    assert!(detail.contains("Connection reset by peer"), "{detail}");
    assert!(detail.contains("also when tried again"), "{detail}");
}
