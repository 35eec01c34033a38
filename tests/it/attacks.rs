//! The trust model under attack: a normal user (uid 65534, through `setpriv`) who
//! controls its environment, `--config`, a folder of its own, symbolic links in it
//! (swapped atomically in a loop with `renameat2(RENAME_EXCHANGE)`) and a tenant of
//! its own on loopback must never get `trusted` from a device whose real state is
//! not trusted. Root plays the administrator who set the device up. Each race is
//! bounded (a few hundred attempts). A hostile tenant's text (escape sequences, an
//! echoed token, a huge error body) must not forge what a person reads or leak into
//! files every user reads. docs/security.md states the rules.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

mod system;

use crate::helpers::{
    Config, SERIAL, TOKEN, Tenant, UUID, as_user, device_record, mode, overlay, path_arg, rfc3339,
    root_test, scratch, set_mode, with_system_config, write_identity, write_private,
};
use s1_emulator::{EmulatorConfig, Fault, FaultKind, TokenSpec};
use serde_json::{Value, json};

pub(crate) const NOBODY: u32 = 65534;
/// Attempts per race: enough to have hit the old check-then-read windows dozens of
/// times (they were won 7–29 % of the time), few enough to stay a few seconds.
/// `S1TRUST_RACE_ATTEMPTS` raises it for a longer campaign.
fn race_attempts() -> usize {
    std::env::var("S1TRUST_RACE_ATTEMPTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

pub(crate) fn threatened() -> Value {
    device_record(json!({"activeThreats": 3}))
}

/// A device set up by root: `system/` (config, token, CA, state) owned by root, and
/// `home/` owned by the normal user, everything traversable by that user.
pub(crate) struct Lab {
    _dir: tempfile::TempDir,
    pub(crate) system: PathBuf,
    home: PathBuf,
    pub(crate) config: PathBuf,
    pub(crate) snapshot: PathBuf,
    identity: PathBuf,
}

impl Lab {
    pub(crate) fn new(tenant: &Tenant) -> Self {
        let dir = scratch();
        set_mode(dir.path(), 0o755);
        let system = dir.path().join("system");
        let home = dir.path().join("home");
        for folder in [&system, &system.join("state"), &home] {
            std::fs::create_dir_all(folder).unwrap();
            set_mode(folder, 0o755);
        }
        std::os::unix::fs::chown(&home, Some(NOBODY), Some(NOBODY)).unwrap();
        write_private(&system.join("api.token"), &format!("{TOKEN}\n"));
        std::fs::copy(&tenant.ca_file, system.join("ca.pem")).unwrap();
        set_mode(&system.join("ca.pem"), 0o644);
        let lab = Self {
            config: system.join("config.toml"),
            snapshot: system.join("state").join("posture.json"),
            identity: system.join("identity.json"),
            system,
            home,
            _dir: dir,
        };
        Config::of(tenant)
            .snapshot(&lab.snapshot)
            .write(&lab.config);
        lab.set_identity(json!({}));
        lab
    }

    /// The device's identity ([`SERIAL`], [`UUID`]) with `overrides`, readable by all.
    pub(crate) fn set_identity(&self, overrides: Value) {
        let device = json!({"serialNumber": SERIAL, "agentUuid": UUID});
        write_identity(&self.identity, overlay(device, &overrides));
        set_mode(&self.identity, 0o644);
    }

    /// Runs s1trust as root (`user: None`), or as the normal user on a device whose
    /// OS-path configuration (`/etc/s1trust`) is this lab's `system/` folder.
    pub(crate) fn run(
        &self,
        user: Option<u32>,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, String, String) {
        self.run_with(user, "", args, env)
    }

    /// [`Lab::run`], after `setup` (shell run as root in the user's mount namespace).
    fn run_with(
        &self,
        user: Option<u32>,
        setup: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, String, String) {
        let bin = env!("CARGO_BIN_EXE_s1trust");
        let (mut command, _layer) = if user.is_none() && setup.is_empty() {
            (Command::new(bin), None)
        } else {
            let (mut c, layer) = with_system_config(Some(&self.system), setup);
            if let Some(uid) = user {
                c.args(as_user(uid));
            }
            c.arg(bin);
            (c, Some(layer))
        };
        let output = command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("S1TRUST_TEST_IDENTITY", &self.identity)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .output()
            .expect("s1trust runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
        (output.status.code().unwrap_or(-1), stdout, stderr)
    }

    /// `check --json` as `user` with `config` (none named when it is the lab's own and
    /// the user runs it: the user's check reads the OS path): the `result`, or the exit
    /// code when the command refused to answer.
    fn answer(&self, user: Option<u32>, config: &Path, extra: &[&str]) -> String {
        let config = path_arg(config);
        let mut args = vec!["check", "--json"];
        if user.is_none() || config != path_arg(&self.config) {
            args.splice(0..0, ["--config", config.as_str()]);
        }
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = self.run(user, &args, &[]);
        // Exit 2: the command refused to answer (its `unknown` document on stdout is
        // for clients; the refusal is what is asserted here).
        match serde_json::from_str::<Value>(&stdout) {
            Ok(report) if code != 2 => report["result"].as_str().unwrap_or("?").to_owned(),
            _ => format!("exit {code}: {}", stderr.lines().next().unwrap_or("")),
        }
    }

    /// `--config <the lab's>` for root; nothing for the user, whose check reads the
    /// OS path (which is the lab's, see [`Lab::run`]).
    fn config_args<'a>(&self, user: Option<u32>, config: &'a str) -> Vec<&'a str> {
        match user {
            None => vec!["--config", config],
            Some(_) => Vec::new(),
        }
    }

    /// The user's own `check --json` document (OS-path configuration).
    fn user_report(&self, extra: &[&str]) -> Value {
        let mut args = vec!["check", "--json"];
        args.extend_from_slice(extra);
        let (_, stdout, stderr) = self.run(Some(NOBODY), &args, &[]);
        serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("no JSON: {stderr}"))
    }

    pub(crate) fn refresh(&self) -> (i32, String) {
        let config = path_arg(&self.config);
        let (code, _, stderr) = self.run(None, &["--config", &config, "refresh"], &[]);
        (code, stderr)
    }

    fn snapshot_json(&self) -> Value {
        serde_json::from_slice(&std::fs::read(&self.snapshot).unwrap()).unwrap()
    }
}

fn chown_user(path: &Path) {
    std::os::unix::fs::lchown(path, Some(NOBODY), Some(NOBODY)).unwrap();
}

/// Swaps two directory entries atomically, over and over, until dropped.
struct Swapper {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<usize>>,
}

impl Swapper {
    fn start(a: &Path, b: &Path) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (a, b) = (cstring(a), cstring(b));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut swaps = 0;
            while !flag.load(Ordering::Relaxed) {
                // SAFETY: both paths are valid NUL-terminated strings for the whole loop.
                let rc = unsafe {
                    libc::syscall(
                        libc::SYS_renameat2,
                        libc::AT_FDCWD,
                        a.as_ptr(),
                        libc::AT_FDCWD,
                        b.as_ptr(),
                        libc::RENAME_EXCHANGE,
                    )
                };
                assert_eq!(rc, 0, "renameat2: {}", std::io::Error::last_os_error());
                swaps += 1;
            }
            swaps
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

fn cstring(path: &Path) -> CString {
    CString::new(path.as_os_str().as_bytes()).unwrap()
}

/// The real device is not trusted (an active threat); the user holds a forged
/// `trusted` snapshot (a real one from a healthy device, copied into its folder).
fn lab_with_forgery() -> (Tenant, Lab, PathBuf) {
    let healthy_tenant = Tenant::start(vec![device_record(json!({}))]);
    let healthy_lab = Lab::new(&healthy_tenant);
    assert_eq!(healthy_lab.refresh().0, 0);
    let tenant = Tenant::start(vec![threatened()]);
    let lab = Lab::new(&tenant);
    let forged_dir = lab.home.join("forged");
    std::fs::create_dir(&forged_dir).unwrap();
    std::fs::copy(&healthy_lab.snapshot, forged_dir.join("posture.json")).unwrap();
    for path in [&forged_dir, &forged_dir.join("posture.json")] {
        chown_user(path);
    }
    assert_eq!(lab.refresh().0, 0);
    assert_eq!(lab.snapshot_json()["result"], "not_trusted");
    (tenant, lab, forged_dir)
}

fn assert_never_trusted(answers: &[String], what: &str) {
    let mut tally = std::collections::BTreeMap::<&str, usize>::new();
    for answer in answers {
        *tally.entry(answer.as_str()).or_default() += 1;
    }
    eprintln!("{what}: {} attempts: {tally:?}", answers.len());
    let forged = answers.iter().filter(|a| *a == "trusted").count();
    assert_eq!(
        forged,
        0,
        "{what}: {forged} forged trusted of {}",
        answers.len()
    );
}

root_test!(
    fn snapshot_folder_swap_race_never_yields_trusted() {
        let (tenant, lab, forged_dir) = lab_with_forgery();
        let (real, fake) = (lab.home.join("real"), lab.home.join("fake"));
        std::os::unix::fs::symlink(lab.snapshot.parent().unwrap(), &real).unwrap();
        std::os::unix::fs::symlink(&forged_dir, &fake).unwrap();
        let user_config = lab.home.join("config.toml");
        Config::of(&tenant)
            .snapshot(&real.join("posture.json"))
            .write(&user_config);
        for path in [&real, &fake, &user_config] {
            chown_user(path);
        }
        let swapper = Swapper::start(&real, &fake);
        let answers: Vec<String> = (0..race_attempts())
            .map(|i| {
                let user = (i % 2 == 0).then_some(NOBODY);
                lab.answer(user, &user_config, &["--snapshot"])
            })
            .collect();
        assert!(swapper.finish() > 0);
        assert_never_trusted(&answers, "snapshot swap");
        assert!(
            answers.iter().any(|a| a.contains("exit 2")),
            "the user's config is refused: {:?}",
            &answers[..4]
        );
    }
);

root_test!(
    fn config_swap_race_never_yields_trusted() {
        let (_tenant, lab, forged_dir) = lab_with_forgery();
        // The user's own tenant says "healthy", with the user's own token and CA.
        let own = Tenant::start(vec![device_record(json!({}))]);
        let user_config = lab.home.join("mine.toml");
        std::fs::copy(&own.ca_file, lab.home.join("ca.pem")).unwrap();
        write_private(&lab.home.join("api.token"), &format!("{TOKEN}\n"));
        Config::of(&own)
            .snapshot(&forged_dir.join("posture.json"))
            .write(&user_config);
        let (link, other) = (lab.home.join("config-link"), lab.home.join("other-link"));
        std::os::unix::fs::symlink(&lab.config, &link).unwrap();
        std::os::unix::fs::symlink(&user_config, &other).unwrap();
        for path in [&user_config, &link, &other, &lab.home.join("api.token")] {
            chown_user(path);
        }
        let swapper = Swapper::start(&link, &other);
        let answers: Vec<String> = (0..race_attempts())
            .map(|_| lab.answer(Some(NOBODY), &link, &[]))
            .collect();
        assert!(swapper.finish() > 0);
        assert_never_trusted(&answers, "config swap");
        // A normal user's check takes no named configuration at all, root's or its own;
        // the OS-path one gives the real answer.
        assert!(
            answers.iter().all(|a| a.contains("exit 2")),
            "{:?}",
            &answers[..4]
        );
        assert_eq!(lab.user_report(&[])["result"], "not_trusted");
        assert!(
            own.requests().is_empty(),
            "the user's tenant was never asked"
        );
    }
);

root_test!(
    fn symlinked_root_config_with_proxy_and_trust_store_variables_is_not_steered() {
        let (tenant, lab, _) = lab_with_forgery();
        let proxy = Tenant::start(vec![device_record(json!({}))]);
        let link = lab.home.join("config.toml");
        std::os::unix::fs::symlink(&lab.config, &link).unwrap();
        // Relative token_file / ca_file would resolve here if the link's folder counted.
        std::fs::copy(&proxy.ca_file, lab.home.join("ca.pem")).unwrap();
        write_private(&lab.home.join("api.token"), &format!("{TOKEN}\n"));
        for path in [&link, &lab.home.join("ca.pem"), &lab.home.join("api.token")] {
            chown_user(path);
        }
        let ca = path_arg(&lab.home.join("ca.pem"));
        let proxy_url = proxy.emulator.url();
        let env = [
            ("HTTPS_PROXY", proxy_url.as_str()),
            ("https_proxy", proxy_url.as_str()),
            ("SSL_CERT_FILE", ca.as_str()),
            ("SSL_CERT_DIR", path_arg(&lab.home).leak()),
            ("S1_API_TOKEN", TOKEN),
            ("HOME", path_arg(&lab.home).leak()),
        ];
        let link_arg = path_arg(&link);
        let before = tenant.requests().len();
        for extra in [&[][..], &["--live"][..]] {
            let mut args = vec!["--config", link_arg.as_str(), "check", "--json"];
            args.extend_from_slice(extra);
            let (_, stdout, stderr) = lab.run(Some(NOBODY), &args, &env);
            let report: Value =
                serde_json::from_str(&stdout).unwrap_or_else(|_| panic!("{stderr}"));
            assert_ne!(report["result"], "trusted", "{report:#}");
        }
        assert!(
            proxy.requests().is_empty(),
            "nothing went to the user's proxy"
        );
        assert_eq!(
            tenant.requests().len(),
            before,
            "a normal user's check is offline"
        );
    }
);

root_test!(
    fn a_user_max_age_and_an_expired_snapshot_are_refused() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        assert_eq!(lab.refresh().0, 0);
        // Taken two hours ago, before a threat appeared; its writer said 30 minutes.
        let mut old = lab.snapshot_json();
        let then = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
        old["evaluatedAt"] = json!(rfc3339(then));
        old["expiresAt"] = json!(rfc3339(then + time::Duration::minutes(30)));
        std::fs::write(&lab.snapshot, old.to_string()).unwrap();
        let user_config = lab.home.join("config.toml");
        Config::of(&tenant)
            .snapshot(&lab.snapshot)
            .max_age("7days")
            .write(&user_config);
        chown_user(&user_config);
        assert!(
            lab.answer(Some(NOBODY), &user_config, &["--snapshot"])
                .contains("exit 2")
        );
        // A root-owned file is no better when the user names it.
        let root_config = lab.system.join("wide.toml");
        std::fs::copy(&user_config, &root_config).unwrap();
        std::os::unix::fs::chown(&root_config, Some(0), Some(0)).unwrap();
        assert!(
            lab.answer(Some(NOBODY), &root_config, &["--snapshot"])
                .contains("exit 2")
        );
        // Even root's own wider max_age cannot extend what the writer allowed.
        let (_, stdout, _) = lab.run(
            None,
            &[
                "--config",
                &path_arg(&root_config),
                "check",
                "--json",
                "--snapshot",
            ],
            &[],
        );
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["result"], "unknown");
        assert_eq!(report["reason"], "stale_snapshot");
        // A recent evaluation whose own expiresAt passed two seconds ago is refused: the
        // writer and the reader share the clock, so no skew is added.
        let mut expired = lab.snapshot_json();
        let now = time::OffsetDateTime::now_utc();
        expired["evaluatedAt"] = json!(rfc3339(now - time::Duration::minutes(1)));
        expired["expiresAt"] = json!(rfc3339(now - time::Duration::seconds(2)));
        std::fs::write(&lab.snapshot, expired.to_string()).unwrap();
        let report = lab.user_report(&["--snapshot"]);
        assert_eq!(report["reason"], "stale_snapshot", "{report:#}");
    }
);

const HOST_A: &str = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HOST_B: &str = "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

root_test!(
    fn a_snapshot_from_another_device_is_refused_and_never_kept() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        lab.set_identity(json!({"hostId": HOST_A, "hostIdSource": "/etc/machine-id"}));
        assert_eq!(lab.refresh().0, 0);
        assert_eq!(lab.snapshot_json()["device"]["hostId"], HOST_A);
        // The disk is cloned onto device B, which has no agent and whose serial root alone
        // can read: only the machine identity tells the two apart.
        lab.set_identity(json!({
            "hostId": HOST_B, "serialNumber": null, "agentUuid": null, "agentInstalled": false
        }));
        let report = lab.user_report(&[]);
        assert_eq!(report["result"], "unknown");
        assert_eq!(report["reason"], "wrong_device");
        // A failing refresh on B does not keep A's snapshot.
        tenant.emulator.add_fault(Fault {
            path_prefix: None,
            token: None,
            times: None,
            after: 0,
            kind: FaultKind::Status {
                code: 503,
                retry_after: None,
            },
        });
        lab.refresh();
        let kept = lab.snapshot_json();
        assert_eq!(kept["device"]["hostId"], HOST_B, "{kept:#}");
        assert_ne!(kept["result"], "trusted");
    }
);

root_test!(
    fn overlapping_refreshes_run_one_at_a_time() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        tenant.emulator.add_fault(Fault {
            path_prefix: Some("/web/api/v2.1/agents".into()),
            token: None,
            times: Some(1),
            after: 0,
            kind: FaultKind::Latency(std::time::Duration::from_secs(3)),
        });
        let config = path_arg(&lab.config);
        let slow = Command::new(env!("CARGO_BIN_EXE_s1trust"))
            .args(["--config", &config, "refresh"])
            .env("S1TRUST_TEST_IDENTITY", &lab.identity)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The slow one takes the lock within milliseconds, then waits 3 s for its answer.
        let lock = lab.snapshot.with_file_name("posture.lock");
        let waited = std::time::Instant::now();
        while !lock.exists() && waited.elapsed().as_secs() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        // The second waits for the first (well within its bounded wait), then runs.
        let (code, stderr) = lab.refresh();
        assert_eq!(code, 0, "{stderr}");
        let out = slow.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        let asked: Vec<_> = tenant.agent_requests();
        assert_eq!(asked.len(), 2, "both refreshes ran");
        assert_eq!(lab.snapshot_json()["result"], "trusted");
        assert_eq!(mode(&lock), 0o600, "only root can open the lock");
    }
);

root_test!(
    fn doubtful_records_are_never_trusted() {
        let mut shapes: Vec<Value> = Vec::new();
        for field in ["isDecommissioned", "isUninstalled"] {
            for value in [json!("yes"), json!(1), json!(null)] {
                shapes.push(device_record(json!({ field: value })));
            }
            let mut missing = device_record(json!({}));
            missing.as_object_mut().unwrap().remove(field);
            shapes.push(missing);
        }
        for record in shapes {
            let tenant = Tenant::start(vec![record.clone()]);
            let lab = Lab::new(&tenant);
            let answer = lab.answer(None, &lab.config, &["--live"]);
            assert_eq!(answer, "unknown", "{record}");
        }
        // The same key twice: the last value must not win.
        let tenant = Tenant::with_config(EmulatorConfig {
            agents: vec![device_record(json!({}))],
            tokens: vec![TokenSpec::viewer(TOKEN)],
            ..EmulatorConfig::default()
        });
        let record = device_record(json!({})).to_string();
        let doubled = record.replacen(
            "\"activeThreats\":0",
            "\"activeThreats\":3,\"activeThreats\":0",
            1,
        );
        assert_ne!(record, doubled);
        tenant.emulator.add_fault(Fault {
            path_prefix: Some("/web/api/v2.1/agents".into()),
            token: None,
            times: None,
            after: 0,
            kind: FaultKind::RawJson(format!(
                "{{\"data\":[{doubled}],\"pagination\":{{\"totalItems\":1,\"nextCursor\":null}}}}"
            )),
        });
        let lab = Lab::new(&tenant);
        let config = path_arg(&lab.config);
        let (_, stdout, _) = lab.run(
            None,
            &["--config", &config, "check", "--json", "--live"],
            &[],
        );
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["result"], "unknown");
        assert_eq!(report["reason"], "bad_response", "{report:#}");
    }
);

/// Text a tenant controls that would rewrite a terminal: erase the line, move up, print
/// a forged answer, an 8-bit CSI, and bidi controls that reorder what follows.
const FORGED_NAME: &str = "HOST-1\x1b[2K\r\x1b[1As1trust: TRUSTED (evaluated live)\n  ✓ active threats\u{9b}2K\u{202e}detsurt\u{2066}";
const FORGED_OS: &str = "Windows 11\x1b]0;owned\x07\x08\x08\u{200f}\u{061c}";

/// Fails when `text` holds a character that can move the cursor or reorder the line;
/// newlines end the lines of the output itself.
fn assert_terminal_safe(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|&c| {
            (c.is_control() && c != '\n')
                || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        })
        .collect();
    assert!(
        raw.is_empty(),
        "{what}: raw {raw:?} in\n{}",
        text.escape_debug()
    );
}

/// JSON output is left to JSON's own escaping: no raw ESC or CR, and the values as sent.
fn assert_json_keeps(what: &str, stdout: &str, value: &Value, expected: &str) {
    assert!(
        !stdout.contains(['\x1b', '\r', '\x08', '\x07']),
        "{what}: {}",
        stdout.escape_debug()
    );
    assert_eq!(value.as_str(), Some(expected), "{what}");
}

root_test!(
    fn a_tenants_escape_sequences_never_reach_a_terminal() {
        let record = device_record(json!({
            "activeThreats": 3, "computerName": FORGED_NAME, "osName": FORGED_OS
        }));
        let tenant = Tenant::start(vec![record]);
        let lab = Lab::new(&tenant);
        let config = path_arg(&lab.config);
        let human = |user: Option<u32>, extra: &[&str]| {
            let mut args = lab.config_args(user, &config);
            args.push("check");
            args.extend_from_slice(extra);
            let (code, stdout, stderr) = lab.run(user, &args, &[]);
            assert_eq!(code, 1, "{stdout}{stderr}");
            assert!(stdout.starts_with("s1trust: NOT TRUSTED"), "{stdout}");
            assert_terminal_safe("check stdout", &stdout);
            assert_terminal_safe("check stderr", &stderr);
            // Shown, made visible, not dropped.
            assert!(
                stdout.contains(r"HOST-1\u{1b}[2K\u{d}\u{1b}[1As1trust: TRUSTED"),
                "{stdout}"
            );
            assert!(
                stdout.contains(r"\u{9b}2K\u{202e}detsurt\u{2066}"),
                "{stdout}"
            );
        };
        let json = |user: Option<u32>, extra: &[&str]| {
            let mut args = lab.config_args(user, &config);
            args.extend(["check", "--json"]);
            args.extend_from_slice(extra);
            let (_, stdout, _) = lab.run(user, &args, &[]);
            let report: Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(report["result"], "not_trusted");
            let name = &report["integrations"][0]["agent"]["computerName"];
            assert_json_keeps("check --json", &stdout, name, FORGED_NAME);
        };
        human(None, &["--live"]);
        json(None, &["--live"]);
        assert_eq!(lab.refresh().0, 0);
        let stored = lab.snapshot_json();
        assert_eq!(
            stored["integrations"][0]["agent"]["computerName"],
            FORGED_NAME
        );
        human(Some(NOBODY), &[]);
        json(Some(NOBODY), &[]);

        let (code, stdout, stderr) = lab.run(
            None,
            &["--config", &config, "lookup", "--serial", SERIAL],
            &[],
        );
        assert_eq!(code, 0, "{stderr}");
        assert_terminal_safe("lookup stderr", &stderr);
        let object: Value = serde_json::from_str(&stdout).unwrap();
        assert_json_keeps("lookup", &stdout, &object["computerName"], FORGED_NAME);
        assert_json_keeps("lookup", &stdout, &object["osName"], FORGED_OS);

        // The same text in an error: it reaches people as the error line and in notes.
        tenant
            .emulator
            .add_fault(Fault::new(FaultKind::ErrorDetail {
                status: 400,
                detail: FORGED_NAME.into(),
            }));
        let (code, stdout, stderr) = lab.run(
            None,
            &["--config", &config, "lookup", "--serial", SERIAL],
            &[],
        );
        assert_eq!(code, 3, "{stderr}");
        assert_terminal_safe("lookup error", &stderr);
        assert!(stderr.contains(r"HOST-1\u{1b}[2K\u{d}"), "{stderr}");
        let object: Value = serde_json::from_str(&stdout).unwrap();
        let detail = &object["rawResponse"]["errors"][0]["detail"];
        assert_json_keeps("lookup error", &stdout, detail, FORGED_NAME);
        let (code, stdout, stderr) = lab.run(None, &["--config", &config, "check", "--live"], &[]);
        assert_eq!(code, 3, "{stdout}{stderr}");
        assert!(stdout.starts_with("s1trust: UNKNOWN"), "{stdout}");
        assert!(stdout.contains(r"HOST-1\u{1b}[2K\u{d}"), "{stdout}");
        assert_terminal_safe("check error", &stdout);
    }
);

/// A console (or proxy) that repeats the request's credentials in its error bodies.
fn echo_token(status: u16, padding: &str) -> Fault {
    Fault::new(FaultKind::ErrorDetail {
        status,
        detail: format!("rejected Authorization: {{authorization}} (token {{token}}){padding}"),
    })
    .path("/web/api/v2.1/agents")
}

fn last_refresh(lab: &Lab) -> String {
    std::fs::read_to_string(lab.snapshot.with_file_name("posture.last-refresh.json")).unwrap()
}

root_test!(
    fn an_echoed_token_reaches_no_output_and_no_file() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        let config = path_arg(&lab.config);
        assert_eq!(lab.refresh().0, 0);
        tenant.emulator.add_fault(echo_token(401, ""));
        // `Lab::run` also fails on the token in any output.
        let (code, stderr) = lab.refresh();
        assert_eq!(code, 3, "{stderr}");
        assert!(!stderr.contains(TOKEN), "{stderr}");
        let echoed = tenant
            .requests()
            .iter()
            .any(|r| r.fault.as_deref() == Some("error_detail"));
        assert!(echoed, "the fault never fired");
        let record = last_refresh(&lab);
        assert!(!record.contains(TOKEN), "{record}");
        // The echo itself got through, minus the credential.
        assert!(
            record.contains("rejected Authorization: ApiToken [redacted] (token [redacted])"),
            "{record}"
        );
        let snapshot = std::fs::read_to_string(&lab.snapshot).unwrap();
        assert!(!snapshot.contains(TOKEN));
        for args in [&["check"][..], &["check", "--json"]] {
            let (_, stdout, stderr) = lab.run(Some(NOBODY), args, &[]);
            assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
            assert!(stdout.contains("ApiToken [redacted]"), "{stdout}");
        }
        let (code, stdout, stderr) = lab.run(
            None,
            &["--config", &config, "lookup", "--serial", SERIAL],
            &[],
        );
        assert_eq!(code, 3);
        assert!(stderr.contains("[redacted]"), "{stderr}");
        assert!(stdout.contains("[redacted]"), "{stdout}");

        // On a first refresh the failure is the snapshot itself.
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        tenant.emulator.add_fault(echo_token(401, ""));
        let lab = Lab::new(&tenant);
        // Written (there was none), but the refresh could not evaluate: exit 3.
        assert_eq!(lab.refresh().0, 3);
        let snapshot = lab.snapshot_json();
        let error = snapshot["integrations"][0]["error"].as_str().unwrap();
        assert!(error.contains("ApiToken [redacted]"), "{error}");
        assert!(!snapshot.to_string().contains(TOKEN));
        assert!(!last_refresh(&lab).contains(TOKEN));
    }
);

root_test!(
    fn a_huge_error_body_is_clipped_where_it_is_kept() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let lab = Lab::new(&tenant);
        assert_eq!(lab.refresh().0, 0);
        let body = " é".repeat(200_000);
        tenant.emulator.add_fault(echo_token(500, &body));
        let (code, stderr) = lab.refresh();
        assert_eq!(code, 3, "{stderr}");
        assert!(stderr.len() < 2048, "{} bytes of stderr", stderr.len());
        let record = last_refresh(&lab);
        assert!(record.len() < 3 * 1024, "{} bytes", record.len());
        let attempt: Value = serde_json::from_str(&record).unwrap();
        let message = attempt["message"].as_str().unwrap();
        assert!(message.contains("HTTP 500"), "{message}");
        assert!(message.contains("ApiToken [redacted]"), "{message}");
        assert!(message.ends_with("…[truncated]"), "{message}");
        let (_, stdout, _) = lab.run(Some(NOBODY), &["check"], &[]);
        assert!(stdout.len() < 4 * 1024, "{stdout}");
        assert!(stdout.contains("…[truncated]"), "{stdout}");
    }
);
