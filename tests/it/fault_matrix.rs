//! The fault matrix: every fault the emulated tenant injects (plus the two TLS
//! faults a client meets: a CA that is not the tenant's, a host name the
//! certificate does not hold) × every command that talks to a tenant (`lookup`,
//! `check --live`, `refresh`, `integration test`, `doctor`).
//!
//! Each cell asserts the exit status, the reason code where the command reports
//! one, one clear error line naming the cause, no panic, the token in no output
//! and no file (and only in the `Authorization` header on the wire), the
//! deadline honoured (3 s, bounded generously at deadline + 10 s: this guards
//! against hangs, it is not a performance check), and for `refresh` the
//! previous snapshot left byte-identical. Cells run on a few threads so the
//! whole matrix stays well under a minute; every failing cell is listed at the end
//! (`S1TRUST_MATRIX_TIMES=1` with `--nocapture` also prints each cell's time).

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use s1_emulator::{Emulator, EmulatorConfig, Fault, FaultKind, TokenSpec};
use serde_json::{Value, json};

use crate::helpers::{
    Config, Integration, Run, SERIAL, TOKEN, Tenant, UUID, device_record, is_root, path_arg,
    run_s1trust, validate_posture, write_identity,
};

/// `[http] deadline` and `--timeout` of every cell.
const DEADLINE: Duration = Duration::from_secs(3);
/// Allowed on top of the deadline: process start, TLS set-up, a loaded machine.
const SLACK: Duration = Duration::from_secs(10);
/// Cells run at once; most of a cell's time is spent waiting on a deadline.
const THREADS: usize = 8;

const AGENTS: &str = "/web/api/v2.1/agents";

/// A command that talks to a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Command {
    Lookup,
    CheckLive,
    Refresh,
    IntegrationTest,
    Doctor,
}

const COMMANDS: [Command; 5] = [
    Command::Lookup,
    Command::CheckLive,
    Command::Refresh,
    Command::IntegrationTest,
    Command::Doctor,
];

impl Command {
    /// `check`, `refresh` and `doctor` trust only a root-owned configuration.
    fn needs_root(self) -> bool {
        matches!(self, Self::CheckLive | Self::Refresh | Self::Doctor)
    }
}

/// What the client does differently from a healthy set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Client {
    /// The tenant's own CA, its address as the certificate names it.
    Normal,
    /// A CA file that did not sign the tenant's certificate.
    ForeignCa,
    /// The certificate holds only `localhost`; the client connects to `127.0.0.1`.
    WrongHost,
}

/// One fault and what every command must make of it.
struct Case {
    name: &'static str,
    /// The emulator's fault rules; the argument is a bystander tenant's URL
    /// (only the redirect uses it, as the place it points to).
    faults: fn(&str) -> Vec<Fault>,
    client: Client,
    /// The reason code of `check` and of the refresh record.
    reason: &'static str,
    /// Text the error line of `lookup`, `check` and `refresh` contains.
    needle: &'static str,
    /// Text the failed step of `integration test` and `doctor` contains.
    conntest_needle: &'static str,
    /// `integration test` exits 3 (could not reach the tenant) rather than 1.
    unreachable: bool,
    /// Start a bystander tenant and assert it never receives a request.
    bystander: bool,
}

fn everywhere(kind: FaultKind) -> Vec<Fault> {
    vec![Fault::new(kind)]
}

fn status(code: u16, retry_after: Option<&str>) -> FaultKind {
    FaultKind::Status {
        code,
        retry_after: retry_after.map(str::to_owned),
    }
}

/// A timeout names the 3 s deadline, not the 15 s request timeout or the time left.
const TIMEOUT: &str = "no answer from the console within 3s";

/// A case with a healthy client set-up and no bystander.
fn case(
    name: &'static str,
    faults: fn(&str) -> Vec<Fault>,
    reason: &'static str,
    needle: &'static str,
    conntest_needle: &'static str,
    unreachable: bool,
) -> Case {
    Case {
        name,
        faults,
        client: Client::Normal,
        reason,
        needle,
        conntest_needle,
        unreachable,
        bystander: false,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case(
            "latency beyond the deadline",
            |_| everywhere(FaultKind::Latency(Duration::from_secs(30))),
            "timeout",
            TIMEOUT,
            TIMEOUT,
            true,
        ),
        case(
            "hang",
            |_| everywhere(FaultKind::Hang),
            "timeout",
            TIMEOUT,
            TIMEOUT,
            true,
        ),
        case(
            "body trickled byte by byte",
            |_| everywhere(FaultKind::Trickle(Duration::from_millis(250))),
            "timeout",
            TIMEOUT,
            TIMEOUT,
            true,
        ),
        // A console answers 401 to requests carrying a token, not to the open status page.
        case(
            "401",
            |_| vec![Fault::new(status(401, None)).token(TOKEN)],
            "auth_failed",
            "HTTP 401",
            "HTTP 401",
            false,
        ),
        case(
            "403 on agents",
            |_| vec![Fault::new(status(403, None)).path(AGENTS)],
            "forbidden",
            "HTTP 403",
            "HTTP 403",
            false,
        ),
        case(
            "404",
            |_| everywhere(status(404, None)),
            "bad_response",
            "HTTP 404",
            "HTTP 404",
            false,
        ),
        case(
            "429 without Retry-After",
            |_| everywhere(status(429, None)),
            "rate_limited",
            "HTTP 429",
            "HTTP 429",
            true,
        ),
        case(
            "429 with Retry-After 1",
            |_| everywhere(status(429, Some("1"))),
            "rate_limited",
            "HTTP 429",
            "HTTP 429",
            true,
        ),
        case(
            "429 with Retry-After past the deadline",
            |_| everywhere(status(429, Some("3600"))),
            "rate_limited",
            "HTTP 429",
            "HTTP 429",
            true,
        ),
        case(
            "500",
            |_| everywhere(status(500, None)),
            "bad_response",
            "HTTP 500",
            "HTTP 500",
            false,
        ),
        case(
            "502",
            |_| everywhere(status(502, None)),
            "bad_response",
            "HTTP 502",
            "HTTP 502",
            false,
        ),
        case(
            "503",
            |_| everywhere(status(503, None)),
            "bad_response",
            "HTTP 503",
            "HTTP 503",
            false,
        ),
        // A retry the deadline cuts short reports what was being retried, not a timeout.
        case(
            "503, then a hang on the retry",
            |_| {
                vec![
                    Fault::new(status(503, Some("0"))).times(1),
                    Fault::new(FaultKind::Hang),
                ]
            },
            "bad_response",
            "HTTP 503 after 1 attempt(s)",
            "HTTP 503 after 1 attempt(s)",
            false,
        ),
        case(
            "connection dropped, then a hang on the retry",
            |_| {
                vec![
                    Fault::new(FaultKind::Drop).times(1),
                    Fault::new(FaultKind::Hang),
                ]
            },
            "network_error",
            "network error",
            "network error",
            true,
        ),
        case(
            "HTML page",
            |_| everywhere(FaultKind::Html { status: 200 }),
            "bad_response",
            "not a SentinelOne console",
            "not a SentinelOne console",
            false,
        ),
        case(
            "malformed JSON",
            |_| everywhere(FaultKind::MalformedJson),
            "bad_response",
            "invalid JSON",
            "invalid JSON",
            false,
        ),
        case(
            "truncated JSON",
            |_| everywhere(FaultKind::TruncatedJson),
            "network_error",
            "network error",
            "network error",
            true,
        ),
        case(
            "oversized JSON",
            |_| {
                everywhere(FaultKind::Oversized {
                    bytes: 33 * 1024 * 1024,
                })
            },
            "bad_response",
            "larger than the",
            "larger than the",
            false,
        ),
        case(
            "valid JSON of the wrong shape",
            |_| everywhere(FaultKind::WrongShape),
            "bad_response",
            "is not an agent object",
            "does not look like a SentinelOne console",
            false,
        ),
        case(
            "JSON with a duplicate key",
            |_| {
                everywhere(FaultKind::RawJson(
                    r#"{"data": [], "data": [], "pagination": {"totalItems": 0, "nextCursor": null}}"#
                        .into(),
                ))
            },
            "bad_response",
            "duplicate key `data`",
            "duplicate key `data`",
            false,
        ),
        case(
            "connection dropped before the answer",
            |_| everywhere(FaultKind::Drop),
            "network_error",
            "network error",
            "network error",
            true,
        ),
        case(
            "connection dropped mid-body",
            |_| everywhere(FaultKind::DropMidBody),
            "network_error",
            "network error",
            "network error",
            true,
        ),
        Case {
            bystander: true,
            ..case(
                "redirect to another host",
                |elsewhere| {
                    everywhere(FaultKind::Redirect {
                        status: 302,
                        location: format!("{elsewhere}{AGENTS}"),
                    })
                },
                "bad_response",
                "redirecting to",
                "redirecting to",
                false,
            )
        },
        Case {
            client: Client::ForeignCa,
            ..case(
                "untrusted certificate",
                |_| Vec::new(),
                "network_error",
                "TLS with",
                "TLS with",
                true,
            )
        },
        Case {
            client: Client::WrongHost,
            ..case(
                "certificate for another host name",
                |_| Vec::new(),
                "network_error",
                "TLS with",
                "TLS with",
                true,
            )
        },
    ]
}

/// One cell's tenant, device files and client settings.
struct Lab {
    tenant: Tenant,
    bystander: Option<Tenant>,
    config: PathBuf,
    identity: PathBuf,
    snapshot: PathBuf,
    /// The URL a healthy client uses, and the one this cell's client uses.
    good_url: String,
    url: String,
    /// The CA file this cell's client trusts.
    ca_file: PathBuf,
}

impl Lab {
    fn new(case: &Case) -> Self {
        let tenant = Tenant::with_config(EmulatorConfig {
            agents: vec![device_record(json!({}))],
            tokens: vec![TokenSpec::viewer(TOKEN)],
            cert_names: (case.client == Client::WrongHost).then(|| vec!["localhost".into()]),
            ..EmulatorConfig::default()
        });
        let dir = tenant.dir.path().to_owned();
        let url = tenant.emulator.url();
        let good_url = match case.client {
            Client::WrongHost => url.replace("127.0.0.1", "localhost"),
            _ => url.clone(),
        };
        let ca_file = match case.client {
            Client::ForeignCa => {
                let foreign = dir.join("foreign-ca.pem");
                Emulator::start(EmulatorConfig::default())
                    .unwrap()
                    .write_ca_pem(&foreign)
                    .unwrap();
                foreign
            }
            _ => tenant.ca_file.clone(),
        };
        let bystander = case
            .bystander
            .then(|| Tenant::start(vec![device_record(json!({}))]));
        let identity = dir.join("identity.json");
        write_identity(
            &identity,
            json!({"serialNumber": SERIAL, "agentUuid": UUID}),
        );
        let lab = Self {
            config: dir.join("s1trust.toml"),
            snapshot: dir.join("state").join("posture.json"),
            identity,
            good_url,
            url,
            ca_file,
            tenant,
            bystander,
        };
        lab.write_config(&lab.good_url, &lab.tenant.ca_file);
        lab
    }

    fn write_config(&self, url: &str, ca: &Path) {
        Config::default()
            .integration(Integration::new("corp", url).ca_file(&path_arg(ca)))
            .deadline(&format!("{}s", DEADLINE.as_secs()))
            .snapshot(&self.snapshot)
            .write(&self.config);
    }

    /// Points the configuration at this cell's client settings.
    fn use_cell_client(&self) {
        self.write_config(&self.url, &self.ca_file);
    }

    fn run_configured(&self, args: &[&str]) -> Run {
        let identity = path_arg(&self.identity);
        run_s1trust(
            args,
            &self.config,
            &[("S1TRUST_TEST_IDENTITY", identity.as_str())],
        )
    }

    /// `s1trust <args> --url … --token-file … --ca-file … --timeout 3` with an empty config.
    fn run_direct(&self, args: &[&str]) -> Run {
        let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        all.extend([
            "--url".into(),
            self.url.clone(),
            "--token-file".into(),
            path_arg(&self.tenant.token_file),
            "--ca-file".into(),
            path_arg(&self.ca_file),
            "--timeout".into(),
            DEADLINE.as_secs().to_string(),
        ]);
        run_s1trust(&all, &self.tenant.config_file, &[])
    }

    fn set_faults(&self, case: &Case) {
        let elsewhere = self
            .bystander
            .as_ref()
            .map(|b| b.emulator.url())
            .unwrap_or_default();
        self.tenant.emulator.set_faults((case.faults)(&elsewhere));
    }
}

/// Lines of `text` holding `mark`.
fn lines_with<'t>(text: &'t str, mark: &str) -> Vec<&'t str> {
    text.lines().filter(|l| l.contains(mark)).collect()
}

/// Runs one cell; panics (caught by the caller) on the first broken promise.
fn run_cell(case: &Case, command: Command) -> Duration {
    let lab = Lab::new(case);
    let mut before = None;
    if command == Command::Refresh {
        let first = lab.run_configured(&["refresh"]);
        first.expect_code(0);
        before = Some(std::fs::read(&lab.snapshot).unwrap());
        lab.tenant.emulator.clear_requests();
    }
    lab.set_faults(case);
    lab.use_cell_client();
    let run = match command {
        Command::Lookup => lab.run_direct(&["lookup", "--serial", SERIAL]),
        Command::IntegrationTest => lab.run_direct(&["integration", "test"]),
        Command::CheckLive => lab.run_configured(&["check", "--live", "--json"]),
        Command::Refresh => lab.run_configured(&["refresh"]),
        Command::Doctor => lab.run_configured(&["doctor"]),
    };
    let all_output = format!("{}\n{}", run.stdout, run.stderr);
    assert!(
        !all_output.contains("panicked") && !all_output.contains("RUST_BACKTRACE"),
        "a panic:\n{all_output}"
    );
    assert!(
        run.elapsed < DEADLINE + SLACK,
        "took {:?} with a {DEADLINE:?} deadline",
        run.elapsed
    );

    match command {
        Command::Lookup => {
            run.expect_code(3);
            let errors = lines_with(&run.stderr, "s1trust: error:");
            assert_eq!(errors.len(), 1, "one error line:\n{}", run.stderr);
            assert!(
                errors[0].contains(case.needle),
                "{:?} not in {:?}",
                case.needle,
                errors[0]
            );
            if !run.stdout.trim().is_empty() {
                assert_eq!(run.json()["agentFound"], json!(false), "{}", run.stdout);
            }
        }
        Command::CheckLive => {
            run.expect_code(3);
            assert!(
                run.stderr.trim().is_empty(),
                "the JSON says it all:\n{}",
                run.stderr
            );
            let report = run.json();
            validate_posture(&report);
            assert_eq!(report["result"], "unknown");
            assert_eq!(report["reason"], case.reason, "{report:#}");
            let integration = &report["integrations"][0];
            assert_eq!(integration["status"], "error");
            assert_eq!(integration["reason"], case.reason);
            let error = integration["error"].as_str().unwrap_or_default();
            assert!(
                error.contains(case.needle) && !error.contains('\n'),
                "{:?} not in one line {error:?}",
                case.needle
            );
        }
        Command::Refresh => {
            run.expect_code(3);
            assert_eq!(
                std::fs::read(&lab.snapshot).unwrap(),
                before.unwrap(),
                "the previous snapshot is untouched"
            );
            let warnings: Vec<&str> = run.stderr.lines().filter(|l| !l.is_empty()).collect();
            assert_eq!(warnings.len(), 1, "one line:\n{}", run.stderr);
            assert!(
                warnings[0].contains("kept the snapshot")
                    && warnings[0].contains(&format!("({})", case.reason)),
                "{}",
                warnings[0]
            );
            let record_path = lab.snapshot.with_file_name("posture.last-refresh.json");
            let record: Value =
                serde_json::from_slice(&std::fs::read(&record_path).unwrap()).unwrap();
            assert_eq!(record["ok"], false);
            assert_eq!(record["reason"], case.reason, "{record:#}");
            let message = record["message"].as_str().unwrap_or_default();
            assert!(
                message.contains(case.needle),
                "{:?} not in {message:?}",
                case.needle
            );
        }
        Command::IntegrationTest => {
            run.expect_code(if case.unreachable { 3 } else { 1 });
            let failed = lines_with(&run.stdout, "✗");
            assert_eq!(failed.len(), 1, "one failed step:\n{}", run.stdout);
            assert!(
                failed[0].contains(case.conntest_needle),
                "{:?} not in {:?}",
                case.conntest_needle,
                failed[0]
            );
        }
        Command::Doctor => {
            run.expect_code(1);
            let section: Vec<&str> = run
                .stdout
                .lines()
                .skip_while(|l| !l.starts_with("Integration corp"))
                .skip(1)
                .take_while(|l| l.starts_with(' '))
                .collect();
            let first = section.iter().find(|l| l.contains('✗'));
            assert!(
                first.is_some_and(|l| l.contains(case.conntest_needle)),
                "{:?} not in the first failed step:\n{}",
                case.conntest_needle,
                run.stdout
            );
            let record = lines_with(&run.stdout, "record in corp");
            assert!(
                record.len() == 1
                    && record[0].contains('✗')
                    && (record[0].contains(case.needle) || record[0].contains(TIMEOUT)),
                "{:?} not in the record line:\n{}",
                case.needle,
                run.stdout
            );
        }
    }

    // The token: in no output, in no file, and on the wire only in the header.
    lab.tenant.assert_token_kept_secret(&run);
    lab.tenant.assert_token_in_no_file();
    if let Some(bystander) = &lab.bystander {
        assert!(
            bystander.requests().is_empty(),
            "a redirect was followed: {:?}",
            bystander.requests()
        );
    }
    run.elapsed
}

/// A cell (case index, command) and its run time or why it failed.
type CellResult = (usize, Command, Result<Duration, String>);

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "a panic".into())
}

#[test]
fn every_fault_against_every_command() {
    let root = is_root("the check, refresh and doctor columns of the fault matrix");
    let cases = cases();
    let cells: VecDeque<(usize, Command)> = (0..cases.len())
        .flat_map(|c| COMMANDS.iter().map(move |&command| (c, command)))
        .filter(|(_, command)| root || !command.needs_root())
        .collect();
    let total = cells.len();
    let queue = Mutex::new(cells);
    let results: Mutex<Vec<CellResult>> = Mutex::new(Vec::new());
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                loop {
                    let Some((index, command)) = queue.lock().unwrap().pop_front() else {
                        break;
                    };
                    let case = &cases[index];
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_cell(case, command)
                    }))
                    .map_err(|p| panic_text(p.as_ref()));
                    results.lock().unwrap().push((index, command, outcome));
                }
            });
        }
    });
    let wall = started.elapsed();
    let results = results.into_inner().unwrap();
    let failures: Vec<String> = results
        .iter()
        .filter_map(|(index, command, outcome)| {
            outcome
                .as_ref()
                .err()
                .map(|why| format!("[{} × {command:?}] {why}", cases[*index].name))
        })
        .collect();
    if std::env::var_os("S1TRUST_MATRIX_TIMES").is_some() {
        for (index, command, outcome) in &results {
            eprintln!("{:>45} × {command:?}: {outcome:?}", cases[*index].name);
        }
    }
    let slowest = results
        .iter()
        .filter_map(|(index, command, outcome)| {
            outcome.as_ref().ok().map(|d| (*d, *index, *command))
        })
        .max();
    eprintln!(
        "fault matrix: {} faults × {} commands = {total} cells in {wall:?} on {THREADS} threads; slowest {:?}",
        cases.len(),
        total / cases.len(),
        slowest.map(|(d, i, c)| format!("{} × {c:?}: {d:?}", cases[i].name))
    );
    assert_eq!(results.len(), total);
    assert!(
        failures.is_empty(),
        "{} of {total} cells failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
