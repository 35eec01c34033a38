//! Helpers shared by the integration tests: an emulated tenant with a token
//! file and CA on disk, a way to run the real `s1trust` binary against it,
//! realistic agent records, and small file and environment checks.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use s1_emulator::{Emulator, EmulatorConfig, LoggedRequest, TokenSpec};
use serde_json::{Value, json};

/// The token every test tenant accepts; it must never show up in any output.
pub const TOKEN: &str = "s1t-Sup3rS3cr3t-7f1c2a9e4b8d0c6e5f3a1b2c3d4e5f60";
/// Upper bound for one command, so a bug cannot hang the test suite (not a performance check).
const RUN_GUARD: Duration = Duration::from_secs(90);

/// A scratch folder whose files the trust rules can accept: the system temp folder is
/// sticky and writable by everyone, which no trusted file may be below, so scratch
/// folders live in the build folder (`target/tmp/scratch`, root-owned on CI).
pub fn scratch() -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scratch");
    std::fs::create_dir_all(&base).expect("target/tmp/scratch can be created");
    tempfile::tempdir_in(&base).expect("a scratch folder in target/tmp/scratch")
}

/// An emulated tenant plus the files a client needs to reach it.
pub struct Tenant {
    /// The running emulator.
    pub emulator: Emulator,
    /// Scratch folder holding the CA, token file and config.
    pub dir: tempfile::TempDir,
    /// The emulator's CA certificate.
    pub ca_file: PathBuf,
    /// A 0600 file holding [`TOKEN`].
    pub token_file: PathBuf,
    /// An empty config file, so the host's own config never interferes.
    pub config_file: PathBuf,
}

impl Tenant {
    /// Starts a tenant serving `agents`, with [`TOKEN`] as a Viewer token.
    pub fn start(agents: Vec<Value>) -> Self {
        Self::with_config(EmulatorConfig {
            agents,
            tokens: vec![TokenSpec::viewer(TOKEN)],
            ..EmulatorConfig::default()
        })
    }

    /// Starts a tenant from a full emulator configuration.
    pub fn with_config(config: EmulatorConfig) -> Self {
        let emulator = Emulator::start(config).expect("emulator starts on loopback");
        let dir = crate::helpers::scratch();
        let ca_file = dir.path().join("ca.pem");
        if emulator.url().starts_with("https:") {
            emulator.write_ca_pem(&ca_file).unwrap();
        }
        let token_file = dir.path().join("api.token");
        write_private(&token_file, &format!("{TOKEN}\n"));
        let config_file = dir.path().join("config.toml");
        std::fs::write(&config_file, "# empty\n").unwrap();
        Self {
            emulator,
            dir,
            ca_file,
            token_file,
            config_file,
        }
    }

    /// `--url … --token-file … [--ca-file …]` for this tenant.
    pub fn conn_args(&self) -> Vec<String> {
        let mut args = vec![
            "--url".into(),
            self.emulator.url(),
            "--token-file".into(),
            path_arg(&self.token_file),
        ];
        if self.ca_file.exists() {
            args.extend(["--ca-file".into(), path_arg(&self.ca_file)]);
        }
        args
    }

    /// Runs `s1trust <args> <conn_args>` with this tenant's empty config.
    pub fn run(&self, args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend(self.conn_args());
        run_s1trust(&all, &self.config_file, &[])
    }

    /// Requests the emulator received.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.emulator.requests()
    }

    /// Requests to the agents endpoint.
    pub fn agent_requests(&self) -> Vec<LoggedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == "/web/api/v2.1/agents")
            .collect()
    }

    /// Asserts the token appears in no output and no URL, and travelled only in the header.
    pub fn assert_token_kept_secret(&self, run: &Run) {
        assert!(
            !run.stdout.contains(TOKEN),
            "token on stdout:\n{}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(TOKEN),
            "token on stderr:\n{}",
            run.stderr
        );
        for request in self.requests() {
            assert!(
                !request.query.contains(TOKEN),
                "token in URL {}",
                request.query
            );
            assert!(
                !request.path.contains(TOKEN),
                "token in path {}",
                request.path
            );
            if let Some(auth) = &request.authorization {
                assert_eq!(auth, &format!("ApiToken {TOKEN}"));
            }
        }
    }
}

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    /// Exit status.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Time the run took (reported, never asserted on).
    pub elapsed: Duration,
}

impl Run {
    /// Stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// Asserts the exit status, showing the outputs when it differs.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit status\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The binary under test: this build's, or `S1TRUST_BIN` (to run the same scenarios
/// against another build and compare outputs; see `benches/compare-outputs.sh`).
pub fn s1trust_bin() -> PathBuf {
    std::env::var_os("S1TRUST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_s1trust")),
        PathBuf::from,
    )
}

/// With `S1TRUST_CAPTURE_DIR` set, keeps a run's stdout there as
/// `<test name>.<n>.out`, so two builds' outputs can be compared scenario by scenario.
pub fn capture(stdout: &[u8]) {
    use std::sync::Mutex;
    static COUNTS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());
    let Some(dir) = std::env::var_os("S1TRUST_CAPTURE_DIR") else {
        return;
    };
    let test = std::thread::current()
        .name()
        .unwrap_or("unnamed")
        .replace("::", ".");
    let n = {
        let mut counts = COUNTS.lock().unwrap_or_else(|p| p.into_inner());
        match counts.iter_mut().find(|(name, _)| *name == test) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                counts.push((test.clone(), 0));
                0
            }
        }
    };
    let _ = std::fs::write(Path::new(&dir).join(format!("{test}.{n:03}.out")), stdout);
}

/// Runs the `s1trust` binary with a clean environment.
pub fn run_s1trust(args: &[String], config: &Path, env: &[(&str, &str)]) -> Run {
    let started = Instant::now();
    let mut command = Command::new(s1trust_bin());
    command
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("S1TRUST_CONFIG", config)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("s1trust binary runs");
    // Drain both pipes while waiting, or a large answer would block the child forever.
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > RUN_GUARD {
            let _ = child.kill();
            panic!("s1trust {args:?} did not finish within {RUN_GUARD:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = std::process::Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    capture(&output.stdout);
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

fn drain(pipe: Option<impl std::io::Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buffer = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut buffer);
        }
        buffer
    })
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, content: &str) {
    std::fs::write(path, content).unwrap();
    set_mode(path, 0o600);
}

/// Sets Unix permission bits.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The Unix permission bits of a file.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A path as a command-line argument.
pub fn path_arg(path: &Path) -> String {
    path.to_str().expect("temp paths are UTF-8").to_owned()
}

/// A loopback port that was free a moment ago, so nothing listens there.
pub fn unused_loopback_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `tests/fixtures/<relative>` (see tests/fixtures/README.md), when it exists.
/// When it is missing this prints a notice and returns `None`, so the test skips;
/// with the `CI` environment variable set it panics instead, so CI cannot pass
/// without having read the data.
pub fn fixture(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} is missing, and CI is set: fixture tests must not be skipped",
        path.display()
    );
    println!(
        "notice: {} is missing; skipping (with CI set this fails)",
        path.display()
    );
    None
}

/// Whether the tests run as root; when not, prints that `skipped` is skipped.
pub fn is_root(skipped: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        // A CI runner without root must not go green having tested nothing.
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but not running as root: {skipped} cannot run"
        );
        println!("notice: not root; skipping {skipped}");
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
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but {tool} is missing (.ci/run installs it)"
        );
        println!("notice: {tool} is not installed; skipping");
    }
    found
}

/// A time as the JSON documents write it.
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// A JSON document's RFC 3339 time.
pub fn time_of(value: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        value.as_str().expect("a time string"),
        &time::format_description::well_known::Rfc3339,
    )
    .expect("an RFC 3339 time")
}

/// A realistic agent record; `overrides` replace or add fields.
pub fn agent(id: u64, uuid: &str, serial: Option<&str>, overrides: Value) -> Value {
    let mut record = json!({
        "id": format!("{}", 1_900_000_000_000_000_000u64 + id),
        "uuid": uuid,
        "computerName": format!("HOST-{id}"),
        "serialNumber": serial,
        "osType": "windows",
        "osName": "Windows 11 Pro",
        "agentVersion": "24.1.2.6",
        "isActive": true,
        "isDecommissioned": false,
        "isUninstalled": false,
        "lastActiveDate": "2026-11-21T10:00:00.123456Z",
        "siteId": "1800000000000000001",
        "accountId": "1700000000000000001",
        "groupId": "1600000000000000001",
        "networkStatus": "connected",
        "activeThreats": 0,
        "infected": false,
        "operationalState": "na",
        "mitigationMode": "protect"
    });
    if let (Some(base), Some(extra)) = (record.as_object_mut(), overrides.as_object()) {
        for (key, value) in extra {
            base.insert(key.clone(), value.clone());
        }
    }
    record
}

/// Two records for one cloned serial that no rule can tell apart (same state and
/// last activity): the lookup is ambiguous.
pub fn cloned_pair(serial: &str) -> Vec<Value> {
    let twin = json!({"lastActiveDate": "2026-11-21T10:00:00Z"});
    vec![
        agent(
            1,
            "11110000111122223333444455556666",
            Some(serial),
            twin.clone(),
        ),
        agent(2, "22220000111122223333444455556666", Some(serial), twin),
    ]
}

/// A small fleet covering the serial and UUID cases the tests need.
pub fn fleet() -> Vec<Value> {
    vec![
        agent(
            1,
            "b7b2d39171be4ae1af90f93d7ed20f07",
            Some("PF2ABCDE"),
            json!({}),
        ),
        agent(
            2,
            "0c9e8a71d2f64b3a9e5d1c2b3a4f5e6d",
            Some("PF2ABCDE1"),
            json!({}),
        ),
        agent(
            3,
            "d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb",
            Some("C02XK1ABJG5J"),
            json!({"osType": "macos", "osName": "macOS 15.1"}),
        ),
        agent(
            4,
            "aaaa000011112222333344445555dead",
            Some("5CG1234XYZ"),
            json!({"isDecommissioned": true, "isActive": false, "lastActiveDate": "2026-01-01T00:00:00Z"}),
        ),
        agent(
            5,
            "aaaa000011112222333344445555beef",
            Some("5CG1234XYZ"),
            json!({}),
        ),
        agent(
            6,
            "1111222233334444555566667777abcd",
            None,
            json!({"osType": "linux"}),
        ),
    ]
}

/// Asserts `document` is valid against the posture document's JSON Schema
/// (`src/posture/check-v1.schema.json`).
pub fn validate_posture(document: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("../../src/posture/check-v1.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations: {errors:#?}\n{document:#}"
    );
}

/// Writes a device identity for `S1TRUST_TEST_IDENTITY` (debug builds): a Linux host
/// with the agent installed, and `overrides` on top.
pub fn write_identity(path: &Path, overrides: Value) {
    let mut identity = json!({
        "serialNumber": null, "serialSource": "test", "serialCandidates": [], "virtual": false,
        "agentInstalled": true, "agentRunning": true, "agentUuid": null, "agentUuidSource": "test",
        "agentVersion": "24.1.2.6", "managementUrl": null, "hostname": "test-host",
        "osType": "linux", "osName": "Debian 12", "arch": "x86_64", "problems": []
    });
    for (key, value) in overrides.as_object().expect("an object of overrides") {
        identity[key] = value.clone();
    }
    std::fs::write(path, identity.to_string()).unwrap();
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
pub fn as_user(uid: u32) -> Vec<String> {
    vec![
        "setpriv".into(),
        format!("--reuid={uid}"),
        format!("--regid={uid}"),
        "--clear-groups".into(),
        "--".into(),
    ]
}
