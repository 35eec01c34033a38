//! A fake Linux machine for `s1trust identity`: the real binary, run as root in a
//! private mount namespace (`unshare -m`) where `/sys/firmware`, `/sys/class` and
//! `/opt` are tmpfs mounts holding what the test puts there — an SMBIOS table pair, a
//! `/sys/class/dmi/id`, and a stand-in `/opt/sentinelone/bin/sentinelctl`. Nothing
//! outside that one process tree sees the mounts.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::files::scratch;
use super::run::{capture, s1trust_bin};

/// What the stand-in prints: the sample outputs in tests/fixtures/sentinelctl, built
/// into the test binary (without them it does not build, louder than a skip).
pub const REGISTERED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-management-status.registered.txt"
));
pub const UNREGISTERED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-management-status.unregistered.txt"
));
pub const VERSION: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-version.txt"
));
/// The agent UUID in [`REGISTERED`].
pub const REGISTERED_UUID: &str = "8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e";

/// Single-quoted for sh: a `'` inside becomes `'\''`.
pub fn sh_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A stand-in `sentinelctl` that prints the fixture outputs for the two read-only
/// queries it is asked, and refuses anything else.
pub fn stand_in_sentinelctl(registered: bool) -> String {
    let status = if registered { REGISTERED } else { UNREGISTERED };
    format!(
        "#!/bin/sh\n\
         case \"$*\" in\n\
         'management status') printf '%s' {} ;;\n\
         'version') printf '%s' {} ;;\n\
         *) echo \"unexpected arguments: $*\" >&2; exit 2 ;;\n\
         esac\n",
        sh_quoted(status),
        sh_quoted(VERSION)
    )
}

/// Sets up the fake machine, then runs `s1trust identity --json` in it.
/// `$1` holds the files to install, `$2` the binary, the rest an optional prefix.
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

/// The files a fake machine is set up from, in a scratch folder: the agent's tool
/// (the [`stand_in_sentinelctl`] until replaced) and whatever the builders add.
pub struct Machine {
    dir: tempfile::TempDir,
}

impl Machine {
    pub fn new(registered: bool) -> Self {
        let dir = scratch();
        std::fs::write(
            dir.path().join("sentinelctl"),
            stand_in_sentinelctl(registered),
        )
        .unwrap();
        Self { dir }
    }

    /// The sysfs SMBIOS pair (`smbios_entry_point`, `DMI`) from `sysfs_pair`.
    pub fn with_tables(self, sysfs_pair: &Path) -> Self {
        for name in ["smbios_entry_point", "DMI"] {
            std::fs::copy(sysfs_pair.join(name), self.dir.path().join(name)).unwrap();
        }
        self
    }

    /// A `/sys/class/dmi/id` with this product serial and vendor, and a placeholder
    /// board serial.
    pub fn with_dmi_id(self, product_serial: &str, vendor: &str) -> Self {
        let id = self.dir.path().join("id");
        std::fs::create_dir(&id).unwrap();
        std::fs::write(id.join("product_serial"), format!("{product_serial}\n")).unwrap();
        std::fs::write(id.join("board_serial"), "Default string\n").unwrap();
        std::fs::write(id.join("sys_vendor"), format!("{vendor}\n")).unwrap();
        self
    }

    /// `script` as the agent's tool.
    pub fn with_sentinelctl(self, script: &str) -> Self {
        std::fs::write(self.dir.path().join("sentinelctl"), script).unwrap();
        self
    }

    /// The agent's folder writable by its group (mode 0775).
    pub fn unsafe_folder(self) -> Self {
        std::fs::write(self.dir.path().join("unsafe"), "").unwrap();
        self
    }

    /// `s1trust identity --json` in the fake machine, through `prefix` (`setpriv …`).
    pub fn command(&self, prefix: &[&str]) -> Command {
        let mut command = Command::new("unshare");
        command
            .args(["-m", "sh", "-c", SETUP, "sh"])
            .arg(self.dir.path())
            .arg(s1trust_bin())
            .args(prefix);
        command
    }

    /// Runs [`Machine::command`]: its exit status and JSON.
    pub fn identity(&self, prefix: &[&str]) -> (i32, Value) {
        let out = self.command(prefix).output().unwrap();
        capture(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\nstderr: {stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        super::validate_against(super::Schema::Identity, &json);
        (out.status.code().unwrap_or(-1), json)
    }
}
