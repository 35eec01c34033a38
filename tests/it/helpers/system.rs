//! What a test needs from the machine: root, private mount namespaces, installed
//! tools, and another user. Each check prints a notice when the test must skip; a
//! missing root or tool fails instead when `CI` is set, so a CI runner cannot go
//! green having tested nothing.

#[cfg(target_os = "linux")]
use std::path::Path;
use std::process::{Command, Stdio};

use super::skip_or_fail_under_ci;

#[cfg(target_os = "linux")]
use super::files::scratch;

/// Whether the tests run as root; when not, prints that `skipped` is skipped.
pub fn is_root(skipped: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        skip_or_fail_under_ci(
            &format!("CI is set but not running as root: {skipped} cannot run"),
            &format!("not root; skipping {skipped}"),
        );
    }
    root
}

/// Whether `tool` (a name on PATH or a path) is installed; under CI its absence is a
/// failure, not a skip, like [`is_root`].
pub fn have_tool(tool: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", "command -v \"$1\"", "sh", tool])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        skip_or_fail_under_ci(
            &format!("CI is set but {tool} is missing (.ci/run installs it)"),
            &format!("{tool} is not installed; skipping"),
        );
    }
    found
}

/// Whether `skipped` can run: root (see [`is_root`]) and `unshare -m` making a private
/// mount namespace. A kernel or container without namespaces is a skip with a notice.
#[cfg(target_os = "linux")]
pub fn can_unshare(skipped: &str) -> bool {
    if !is_root(skipped) {
        return false;
    }
    let works = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    if !works {
        println!("notice: `unshare -m` is unavailable here; skipping {skipped}");
    }
    works
}

/// Sets up the OS paths in a private mount namespace, then runs `"$@"`: `/etc` becomes an
/// overlay (the host's `/etc` below a scratch layer, so nothing real changes) with
/// `$1` bound at `/etc/s1trust`, where a normal user's check finds its configuration.
/// `$3` is more shell to run as root in that namespace (a mount an attack needs).
#[cfg(target_os = "linux")]
const SYSTEM_NS: &str = r#"
set -e
system=$1; layer=$2; setup=$3; shift 3
mkdir -p "$layer/upper" "$layer/work"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$layer/upper,workdir=$layer/work" /etc
if [ -n "$system" ]; then
    mkdir -p /etc/s1trust
    mount --bind "$system" /etc/s1trust
fi
eval "$setup"
exec "$@"
"#;

/// A command run in a private mount namespace whose `/etc/s1trust` is `system` (see
/// [`SYSTEM_NS`]; none: a machine without one), after `setup` (shell, as root); the
/// caller adds the program and its arguments. Keep the returned folder (the overlay's
/// layer, where what the command wrote to `/etc` lands) until the command has finished.
#[cfg(target_os = "linux")]
pub fn with_system_config(system: Option<&Path>, setup: &str) -> (Command, tempfile::TempDir) {
    let layer = scratch();
    let mut command = Command::new("unshare");
    command
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            SYSTEM_NS,
            "sh",
        ])
        .arg(system.unwrap_or(Path::new("")))
        .arg(layer.path())
        .arg(setup);
    (command, layer)
}

/// `setpriv` arguments that make the rest of the command line run as `uid`.
#[cfg(target_os = "linux")]
pub fn as_user(uid: u32) -> Vec<String> {
    vec![
        "setpriv".into(),
        format!("--reuid={uid}"),
        format!("--regid={uid}"),
        "--clear-groups".into(),
        "--".into(),
    ]
}
