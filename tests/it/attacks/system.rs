//! The second round of attacks: what a normal user can do to the machine around
//! s1trust rather than to its files — a user namespace, a FUSE file system, a disk
//! image a desktop automounter mounts, a Landlock sandbox, the refresh lock, a dead
//! network, the umask. Where an attack needs a privileged helper a desktop ships
//! (fusermount3, udisks2), root does that one step; every other step is the user's.
//! Mounts happen in private mount namespaces, `/etc` and `/var/lib` there are
//! overlays or scratch copies, so the host is never changed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use super::{HOST_A, Lab, NOBODY, assert_never_trusted, chown_user, lab_with_forgery};
use crate::helpers::{
    Config, TOKEN, Tenant, as_user, device_record, have_tool as have, mode, path_arg, rfc3339,
    root_test, set_mode, time_of, with_system_config, write_private,
};

/// Attempts per attack: each is a separate process tree (namespaces, setpriv), so a
/// handful show the rule holds without making the suite slow.
const ATTEMPTS: usize = 8;

/// Runs `script` with `sh -c` as root; panics with its output when it fails.
fn sh(script: &str, args: &[&str]) -> String {
    let out = Command::new("sh")
        .args(["-c", script, "sh"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script}\n{text}");
    text
}

/// The forged tree a user carries around: a config naming the user's own tenant,
/// token and CA, and a real `trusted` snapshot copied from a healthy device, with the
/// config's snapshot path at `mounted_at` (where the tree will be seen).
fn forged_tree(lab: &Lab, forged: &Path, own: &Tenant, mounted_at: &Path) -> PathBuf {
    let tree = lab.home.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    set_mode(&tree, 0o755);
    std::fs::copy(forged.join("posture.json"), tree.join("posture.json")).unwrap();
    std::fs::copy(&own.ca_file, tree.join("ca.pem")).unwrap();
    write_private(&tree.join("api.token"), &format!("{TOKEN}\n"));
    Config::of(own)
        .snapshot(&mounted_at.join("posture.json"))
        .write(&tree.join("config.toml"));
    sh("chown -R 65534:65534 \"$1\"", &[&path_arg(&tree)]);
    tree
}

/// What the user builds without any privilege: an ext4 image of `tree` whose files
/// (and root folder) say uid 0, as `mke2fs -d` and `debugfs` write it.
fn user_image(lab: &Lab, tree: &Path, name: &str) -> PathBuf {
    let image = lab.home.join(name);
    let script = r#"
set -e
tree=$1; image=$2
mke2fs -q -t ext4 -E root_owner=0:0 -d "$tree" "$image" 8M
for f in config.toml posture.json api.token ca.pem; do
    debugfs -w -R "set_inode_field /$f uid 0" "$image" >/dev/null 2>&1
    debugfs -w -R "set_inode_field /$f gid 0" "$image" >/dev/null 2>&1
done
"#;
    let status = Command::new("setpriv")
        .args(as_user(NOBODY).iter().skip(1))
        .args(["sh", "-c", script, "sh"])
        .arg(tree)
        .arg(&image)
        .status()
        .unwrap();
    assert!(status.success(), "the user builds the image");
    image
}

/// The `check --json` answer as the user sees it: the result, or the refusal.
fn verdict(code: i32, stdout: &str, stderr: &str) -> String {
    match serde_json::from_str::<Value>(stdout) {
        Ok(report) if code != 2 => report["result"].as_str().unwrap_or("?").to_owned(),
        _ => format!("exit {code}: {}", stderr.lines().next().unwrap_or("")),
    }
}

root_test!(
    fn root_of_a_user_namespace_is_a_normal_user() {
        let (_tenant, lab, forged) = lab_with_forgery();
        let own = Tenant::start(vec![device_record(json!({}))]);
        let tree = forged_tree(&lab, &forged, &own, Path::new("/etc/s1trust"));
        // Inside its own user namespace the user is uid 0 and its files look root-owned;
        // over /etc it mounts a tmpfs holding its tree, at the OS path.
        let script = r#"
set -e
tree=$1; shift
mount -t tmpfs -o mode=0755 none /etc
mkdir /etc/s1trust
cp -a "$tree"/. /etc/s1trust/
exec "$@"
"#;
        let bin = env!("CARGO_BIN_EXE_s1trust");
        let answers: Vec<String> = (0..ATTEMPTS)
            .map(|i| {
                let mode = ["", "--live", "--snapshot", ""][i % 4];
                let mut command = Command::new("setpriv");
                command
                    .args(as_user(NOBODY).iter().skip(1))
                    .args(["unshare", "--user", "--map-root-user", "--mount", "--"])
                    .args(["sh", "-c", script, "sh"])
                    .arg(&tree)
                    .args([bin, "check", "--json"])
                    .args((!mode.is_empty()).then_some(mode));
                let out = command
                    .env_clear()
                    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                    .env("S1TRUST_TEST_IDENTITY", &lab.identity)
                    .stdin(Stdio::null())
                    .output()
                    .unwrap();
                let (stdout, stderr) = (
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr),
                );
                assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
                assert!(
                    out.status.code() != Some(2) || stderr.contains("user namespace"),
                    "{stderr}"
                );
                verdict(out.status.code().unwrap_or(-1), &stdout, &stderr)
            })
            .collect();
        assert_never_trusted(&answers, "user namespace");
        assert!(
            answers.iter().all(|a| a.starts_with("exit 2")),
            "{answers:?}"
        );
        assert!(
            own.requests().is_empty(),
            "the user's tenant was never asked"
        );
    }
);

/// The user's forged tree as an image, served over FUSE at `point`: fusermount3's one
/// privileged step done by root, the daemon claiming root owns the image's files.
fn fuse_mount(lab: &Lab, forged: &Path, own: &Tenant, point: &Path) -> FuseMount {
    let tree = forged_tree(lab, forged, own, point);
    let name = format!("{}.img", point.file_name().unwrap().to_string_lossy());
    let image = user_image(lab, &tree, &name);
    sh(
        "fuse2fs -o ro,fakeroot,allow_other \"$1\" \"$2\"",
        &[&path_arg(&image), &path_arg(point)],
    );
    let mounted = FuseMount(point.to_owned());
    sh(
        "test \"$(stat -c %u \"$1\")\" = 0",
        &[&path_arg(&point.join("config.toml"))],
    );
    mounted
}

/// Root's `check --json --snapshot` with the config in `folder`, after `setup` (shell,
/// in a private mount namespace; empty: none).
fn root_snapshot_answer(lab: &Lab, folder: &Path, setup: &str) -> Value {
    let config = path_arg(&folder.join("config.toml"));
    let (_, stdout, stderr) = lab.run_with(
        None,
        setup,
        &["--config", &config, "check", "--json", "--snapshot"],
        &[],
    );
    serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stderr}"))
}

/// A token file of the user's own (the valid token, so only the rules can refuse it).
fn users_own_token(lab: &Lab) -> PathBuf {
    let token = lab.home.join("mine.token");
    write_private(&token, &format!("{TOKEN}\n"));
    chown_user(&token);
    token
}

/// Unmounts a FUSE mount when the test ends, however it ends.
struct FuseMount(PathBuf);

impl Drop for FuseMount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

root_test!(
    fn a_fuse_file_system_in_a_sticky_folder_is_refused() {
        if !have("fuse2fs") {
            return;
        }
        let (_tenant, lab, forged) = lab_with_forgery();
        let own = Tenant::start(vec![device_record(json!({}))]);
        // A sticky, world-writable folder like /tmp, and the user's mount point in it.
        let tmp = lab.home.parent().unwrap().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        set_mode(&tmp, 0o1777);
        let point = tmp.join("mnt");
        std::fs::create_dir(&point).unwrap();
        chown_user(&point);
        let _mounted = fuse_mount(&lab, &forged, &own, &point);
        let config = path_arg(&point.join("config.toml"));
        let answers: Vec<String> = (0..ATTEMPTS)
            .map(|i| {
                let (code, stdout, stderr) = if i % 2 == 0 {
                    lab.run(Some(NOBODY), &["--config", &config, "check", "--json"], &[])
                } else {
                    lab.run(
                        Some(NOBODY),
                        &["check", "--json"],
                        &[("S1TRUST_CONFIG", config.as_str())],
                    )
                };
                verdict(code, &stdout, &stderr)
            })
            .collect();
        assert_never_trusted(&answers, "FUSE config");
        assert!(
            answers.iter().all(|a| a.starts_with("exit 2")),
            "{answers:?}"
        );
        // Root may name any config; the sticky folder above it already disqualifies it.
        let report = root_snapshot_answer(&lab, &point, "");
        assert_eq!(report["reason"], "untrusted_snapshot", "{report:#}");
        assert!(report["notes"].to_string().contains("1777"), "{report:#}");
        // Mounted where every folder above is root's (a helper's mount point, say), the
        // FUSE file system itself is what gets it refused.
        let sealed = lab.home.parent().unwrap().join("sealed");
        std::fs::create_dir(&sealed).unwrap();
        set_mode(&sealed, 0o755);
        let _sealed = fuse_mount(&lab, &forged, &own, &sealed);
        let report = root_snapshot_answer(&lab, &sealed, "");
        assert_eq!(report["reason"], "untrusted_snapshot", "{report:#}");
        assert!(report["notes"].to_string().contains("FUSE"), "{report:#}");
        assert!(
            own.requests().is_empty(),
            "the user's tenant was never asked"
        );
    }
);

root_test!(
    fn a_users_disk_image_on_removable_media_or_a_marked_mount_is_refused() {
        if !have("mke2fs") || !have("debugfs") {
            return;
        }
        let (_tenant, lab, forged) = lab_with_forgery();
        let own = Tenant::start(vec![device_record(json!({}))]);
        let stick = Path::new("/media/nobody/STICK");
        let tree = forged_tree(&lab, &forged, &own, stick);
        let image = path_arg(&user_image(&lab, &tree, "stick.img"));
        // udisks2's step, done by root in the test's namespace: the image attached like a
        // USB stick, mounted nosuid,nodev under the user's media folder.
        // (udisks2 makes /media/<user> 0750 with an ACL for the user; 0755 is the same
        // to the trust rules: root-owned and not writable by others.)
        let media = format!(
            "mount -t tmpfs -o mode=0755 none /media; mkdir -m 0755 /media/nobody; \
         mkdir /media/nobody/STICK; mount -o loop,ro,nosuid,nodev {image} /media/nobody/STICK"
        );
        let config = path_arg(&stick.join("config.toml"));
        let answers: Vec<String> = (0..ATTEMPTS)
            .map(|_| {
                let (code, stdout, stderr) = lab.run_with(
                    Some(NOBODY),
                    &media,
                    &["--config", &config, "check", "--json"],
                    &[],
                );
                verdict(code, &stdout, &stderr)
            })
            .collect();
        assert_never_trusted(&answers, "automounted image");
        assert!(
            answers.iter().all(|a| a.starts_with("exit 2")),
            "{answers:?}"
        );
        let report = root_snapshot_answer(&lab, stick, &media);
        assert_eq!(report["reason"], "untrusted_snapshot", "{report:#}");
        assert!(
            report["notes"].to_string().contains("removable media"),
            "{report:#}"
        );
        // The same image anywhere else, marked by the helper that mounted it (libmount's
        // utab, as udisks2 writes it), is refused for that mark.
        let forged_at_mnt = forged_tree(&lab, &forged, &own, Path::new("/mnt/usb"));
        let image = path_arg(&user_image(&lab, &forged_at_mnt, "usb.img"));
        let mount_at_mnt = format!(
            "mount -t tmpfs -o mode=0755 none /mnt; mkdir /mnt/usb; mount -o loop,ro,nosuid,nodev {image} /mnt/usb"
        );
        let marked = format!(
            "{mount_at_mnt}; mount -t tmpfs -o mode=0755 none /run; mkdir /run/mount; \
         id=$(awk '$5 == \"/mnt/usb\" {{ print $1 }}' /proc/self/mountinfo); \
         echo \"ID=$id SRC=/dev/loop0 TARGET=/mnt/usb ROOT=/ OPTS=uhelper=udisks2\" > /run/mount/utab"
        );
        let report = root_snapshot_answer(&lab, Path::new("/mnt/usb"), &marked);
        assert_eq!(report["reason"], "untrusted_snapshot", "{report:#}");
        assert!(
            report["notes"].to_string().contains("mounted for a user"),
            "{report:#}"
        );
        // Without the mark, the same mount is root's own: the snapshot's file system is
        // not what refuses it (so the mark is what counted above).
        let report = root_snapshot_answer(&lab, Path::new("/mnt/usb"), &mount_at_mnt);
        assert!(
            !report["notes"].to_string().contains("mounted for a user"),
            "{report:#}"
        );
        assert!(
            !report["notes"].to_string().contains("removable media"),
            "{report:#}"
        );
    }
);

/// Applies a Landlock ruleset that allows reading every file except the ones named
/// in `$1` (colon-separated), then runs the rest of the command line. Landlock is
/// unprivileged and inherited across exec: any user can do this to s1trust.
const LANDLOCK_HIDE: &str = r#"
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
hide = set(sys.argv[1].split(":"))
READ_FILE = 1 << 2
class Ruleset(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]
class Beneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]
attr = Ruleset(READ_FILE)
ruleset = libc.syscall(444, ctypes.byref(attr), ctypes.sizeof(attr), 0)
if ruleset < 0:
    sys.exit("landlock_create_ruleset failed: errno %d" % ctypes.get_errno())
def allow(path):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    rule = Beneath(READ_FILE, fd)
    libc.syscall(445, ruleset, 1, ctypes.byref(rule), 0)
    os.close(fd)
def walk(folder):
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        if path in hide:
            continue
        if any(h.startswith(path + "/") for h in hide):
            walk(path)
        else:
            allow(path)
walk("/")
if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.syscall(446, ruleset, 0) != 0:
    sys.exit("landlock_restrict_self failed: errno %d" % ctypes.get_errno())
os.execvp(sys.argv[2], sys.argv[2:])
"#;

root_test!(
    fn a_sandbox_hiding_the_machine_id_fails_closed() {
        // The system's Python (a per-user one, like pyenv's, is not the normal user's).
        if !have("/usr/bin/python3") {
            return;
        }
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        // Device A's trusted snapshot, copied onto this device (B).
        lab.set_identity(json!({"hostId": HOST_A, "hostIdSource": "/etc/machine-id"}));
        assert_eq!(lab.refresh().0, 0);
        assert_eq!(lab.snapshot_json()["result"], "trusted");
        // B's own machine ID, in the namespace's /etc (an overlay: the host's is untouched).
        let setup = "echo 0123456789abcdef0123456789abcdef > /etc/machine-id; \
                 mount -t tmpfs none /var/lib/dbus 2>/dev/null || true";
        let hidden = "/etc/machine-id:/var/lib/dbus/machine-id";
        let bin = env!("CARGO_BIN_EXE_s1trust");
        let run = |sandboxed: bool| -> Value {
            // The real device reader this time (no test identity): only the machine ID
            // tells A from B, as on a device whose serial only root can read.
            let (mut command, _layer) = with_system_config(Some(&lab.system), setup);
            command.args(as_user(NOBODY));
            if sandboxed {
                command.args(["/usr/bin/python3", "-c", LANDLOCK_HIDE, hidden]);
            }
            let out = command
                .args([bin, "check", "--json"])
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .stdin(Stdio::null())
                .output()
                .unwrap();
            serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
        };
        let report = run(false);
        assert_eq!(report["reason"], "wrong_device", "{report:#}");
        let answers: Vec<String> = (0..ATTEMPTS)
            .map(|_| {
                let report = run(true);
                assert_eq!(report["device"]["hostId"], Value::Null, "{report:#}");
                format!(
                    "{}/{}",
                    report["result"].as_str().unwrap_or("?"),
                    report["reason"]
                )
            })
            .collect();
        assert_never_trusted(&answers, "Landlock");
        assert!(
            answers
                .iter()
                .all(|a| a == "unknown/\"device_unverifiable\""),
            "{answers:?}"
        );
    }
);

/// Points the lab at another tenant (its CA included), as if the device's record
/// changed in the console.
fn point_at(lab: &Lab, tenant: &Tenant) {
    std::fs::copy(&tenant.ca_file, lab.system.join("ca.pem")).unwrap();
    Config::of(tenant)
        .snapshot(&lab.snapshot)
        .write(&lab.config);
}

fn threats(count: u32) -> Value {
    device_record(json!({ "activeThreats": count }))
}

/// A lab with a good snapshot, and its refresh lock held by `user` (root: `None`)
/// through `flock(1)` until the returned process is killed.
fn lab_with_lock_held(
    tenant: &Tenant,
    lock_mode: u32,
    user: Option<u32>,
) -> (Lab, PathBuf, Holder) {
    let lab = Lab::new(tenant);
    assert_eq!(lab.refresh().0, 0);
    let lock = lab.snapshot.with_file_name("posture.lock");
    set_mode(&lock, lock_mode);
    let mut command = Command::new("flock");
    if let Some(uid) = user {
        command = Command::new("setpriv");
        command.args(as_user(uid).iter().skip(1)).arg("flock");
    }
    let holder = command
        .arg("--exclusive")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    (lab, lock, Holder(holder))
}

/// Kills the lock holder when the test ends, however it ends.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

root_test!(
    fn a_lock_file_others_could_open_is_replaced_and_never_blocks_a_refresh() {
        if !have("flock") {
            return;
        }
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        // As an older version left it: readable by everyone. The user opens it read-only
        // and holds the lock.
        let (lab, lock, holder) = lab_with_lock_held(&tenant, 0o644, Some(NOBODY));
        let threatened = Tenant::start(vec![threats(2)]);
        point_at(&lab, &threatened);
        let (code, stderr) = lab.refresh();
        drop(holder);
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(lab.snapshot_json()["reason"], "active_threats");
        assert_eq!(mode(&lock), 0o600);
        let status = Command::new("setpriv")
            .args(as_user(NOBODY).iter().skip(1))
            .args(["flock", "--nonblock", "--shared"])
            .arg(&lock)
            .arg("true")
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "the user cannot open the new lock");
    }
);

root_test!(
    fn a_lock_held_too_long_is_waited_for_then_reported() {
        if !have("flock") {
            return;
        }
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        // Only root can hold it now: a hung refresh, say.
        let (lab, _lock, holder) = lab_with_lock_held(&tenant, 0o600, None);
        let (code, stderr) = lab.refresh();
        drop(holder);
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.contains("held the lock for 10 s"), "{stderr}");
        let report = lab.user_report(&[]);
        assert_eq!(
            report["result"], "trusted",
            "the answer stands until it expires"
        );
        assert_eq!(report["lastRefresh"]["ok"], false, "{report:#}");
        assert!(
            report["lastRefresh"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("held the lock")),
            "{report:#}"
        );
    }
);

root_test!(
    fn a_kept_trusted_answer_after_failed_refreshes_is_visible_and_bounded() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        assert_eq!(lab.refresh().0, 0);
        // The user cuts the device off the tenant (every ephemeral port bound, say): the
        // refresh fails with network_error while the console would say "threat".
        drop(tenant);
        for _ in 0..2 {
            let (code, stderr) = lab.refresh();
            assert_eq!(code, 3, "{stderr}");
        }
        let report = lab.user_report(&[]);
        assert_eq!(report["result"], "trusted");
        assert_eq!(
            report["lastRefresh"]["reason"], "network_error",
            "{report:#}"
        );
        let attempt = &report["lastRefresh"];
        assert!(
            time_of(&attempt["failingSince"]) < time_of(&attempt["at"]),
            "{attempt:#}"
        );
        let (_, table, _) = lab.run(Some(NOBODY), &["check"], &[]);
        assert!(table.contains("refreshes have failed since"), "{table}");
        assert!(table.contains("expires at"), "{table}");
        // The bound: the snapshot's own expiresAt (its writer's max_age, 30 minutes).
        let mut snap = lab.snapshot_json();
        assert_eq!(
            time_of(&snap["expiresAt"]) - time_of(&snap["evaluatedAt"]),
            time::Duration::minutes(30)
        );
        let now = time::OffsetDateTime::now_utc();
        snap["evaluatedAt"] = json!(rfc3339(now - time::Duration::minutes(31)));
        snap["expiresAt"] = json!(rfc3339(now - time::Duration::minutes(1)));
        std::fs::write(&lab.snapshot, snap.to_string()).unwrap();
        let report = lab.user_report(&[]);
        assert_eq!(report["result"], "unknown");
        assert_eq!(report["reason"], "stale_snapshot");
    }
);

root_test!(
    fn modes_do_not_depend_on_the_umask() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        let token = path_arg(&lab.system.join("api.token"));
        let ca = path_arg(&lab.system.join("ca.pem"));
        let bin = env!("CARGO_BIN_EXE_s1trust");
        // A machine without /etc/s1trust or /var/lib/s1trust; root works under umask 077.
        let user = as_user(NOBODY).join(" ");
        let script = format!(
            r#"
mount -t tmpfs -o mode=0755 none /var/lib
umask 077
{bin} integration add --name corp --url {url} --token-file {token} --ca-file {ca} >/dev/null
{bin} refresh
stat -c '%n %a' /etc/s1trust /etc/s1trust/config.toml /etc/s1trust/tokens /etc/s1trust/tokens/corp.token /var/lib/s1trust /var/lib/s1trust/posture.json /var/lib/s1trust/posture.last-refresh.json
{user} {bin} check --json
"#,
            url = tenant.emulator.url()
        );
        let (mut command, _layer) = with_system_config(None, &script);
        let out = command
            .arg("true")
            .env("S1TRUST_TEST_IDENTITY", &lab.identity)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let modes: Vec<&str> = stdout.lines().take(7).collect();
        assert_eq!(
            modes,
            [
                "/etc/s1trust 755",
                "/etc/s1trust/config.toml 644",
                "/etc/s1trust/tokens 700",
                "/etc/s1trust/tokens/corp.token 600",
                "/var/lib/s1trust 755",
                "/var/lib/s1trust/posture.json 644",
                "/var/lib/s1trust/posture.last-refresh.json 644",
            ],
            "{stdout}\n{stderr}"
        );
        let report: Value = serde_json::from_str(&stdout.lines().skip(7).collect::<String>())
            .unwrap_or_else(|_| panic!("{stdout}\n{stderr}"));
        assert_eq!(
            report["result"], "trusted",
            "every user can read it: {report:#}"
        );
    }
);

root_test!(
    fn a_normal_users_answer_says_where_it_came_from() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        // No snapshot yet, and a normal user never evaluates live: the answer came from
        // nowhere, and says so.
        for mode in ["--live", "--snapshot"] {
            let report = lab.user_report(&[mode]);
            assert_eq!(report["result"], "unknown");
            assert_eq!(report["source"], "none", "{report:#}");
        }
        let (_, table, _) = lab.run(Some(NOBODY), &["check", "--live"], &[]);
        assert!(
            table.contains("UNKNOWN — live_unavailable (no snapshot used"),
            "{table}"
        );
        assert_eq!(lab.refresh().0, 0);
        assert_eq!(lab.user_report(&[])["source"], "snapshot");
    }
);

root_test!(
    fn files_a_user_names_may_be_roots_and_links_resolve_to_the_real_folder() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        // The user's own token, with the administrator's root-owned CA file.
        let token = users_own_token(&lab);
        let url = tenant.emulator.url();
        let (token, ca) = (path_arg(&token), path_arg(&lab.system.join("ca.pem")));
        let args = [
            "lookup",
            "--serial",
            super::SERIAL,
            "--url",
            &url,
            "--token-file",
            &token,
            "--ca-file",
            &ca,
        ];
        let (code, stdout, stderr) = lab.run(Some(NOBODY), &args, &[]);
        assert_eq!(code, 0, "{stdout}{stderr}");
        // A link to root's config, beside a decoy token: `token_file = "api.token"` means
        // the one beside the real file, for lookup as for check.
        let link = lab.home.join("link.toml");
        std::os::unix::fs::symlink(&lab.config, &link).unwrap();
        write_private(&lab.home.join("api.token"), "decoy-token-that-fails\n");
        let (code, stdout, stderr) = lab.run(
            None,
            &[
                "--config",
                &path_arg(&link),
                "lookup",
                "--serial",
                super::SERIAL,
            ],
            &[],
        );
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
);

root_test!(
    fn a_normal_users_add_fails_on_permissions_before_any_test() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        let token = users_own_token(&lab);
        let url = tenant.emulator.url();
        let before = tenant.requests().len();
        let (code, _, stderr) = lab.run(
            Some(NOBODY),
            &[
                "integration",
                "add",
                "--name",
                "mine",
                "--url",
                &url,
                "--token-file",
                &path_arg(&token),
            ],
            &[],
        );
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("ermission denied"), "{stderr}");
        assert_eq!(
            tenant.requests().len(),
            before,
            "no connection test was run"
        );
    }
);
