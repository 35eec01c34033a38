//! A misbehaving agent CLI: `s1trust identity --json` run in a fake machine (see
//! [`crate::helpers::machine`]), where
//! `/opt/sentinelone/bin/sentinelctl` is a stand-in that hangs, hangs after
//! printing, prints 100 MB, prints invalid UTF-8, exits non-zero, or forks a
//! grandchild that keeps stdout open. Each must end in bounded time (under 15 s
//! for the whole command, generous: it guards against hangs) with a problem
//! named in the JSON, no panic, and no process left behind: the processes the
//! stand-in starts carry a marker argument (`sleep 86400.<marker>`), and none
//! may survive the command.
//!
//! Skips with a notice when not root or when `unshare` cannot make a namespace.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::machine::{Machine, REGISTERED, REGISTERED_UUID as UUID, VERSION, sh_quoted};
use crate::helpers::namespace_test;

/// The whole `s1trust identity` run, however the agent's tool behaves.
const BOUND: Duration = Duration::from_secs(15);

const STATUS_SOURCE: &str = "sentinelctl management status";

/// `case` arms printing the two fixture outputs.
fn answers() -> String {
    format!(
        "case \"$*\" in\n'management status') printf '%s' {} ;;\n'version') printf '%s' {} ;;\nesac\n",
        sh_quoted(REGISTERED),
        sh_quoted(VERSION)
    )
}

/// A marker unique to one test: the fractional part of a `sleep` argument.
fn marker(test: u32) -> String {
    format!("86400.{}{test:03}", std::process::id())
}

/// Processes whose command line holds `marker` (zombies have none, so they do not count).
fn survivors(marker: &str) -> Vec<(u32, String)> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(marker) {
            found.push((pid, cmdline));
        }
    }
    found
}

/// What one run produced.
struct Outcome {
    code: i32,
    json: Value,
    elapsed: Duration,
    /// Marked processes still alive after the command (already killed by the test).
    leftovers: Vec<(u32, String)>,
}

/// Runs `s1trust identity --json` with `script` as the agent's tool; `marker` is
/// what the processes it starts carry.
fn identity_with(script: &str, marker: &str) -> Outcome {
    let machine = Machine::new(true)
        .with_dmi_id("PF2ABCDE", "LENOVO")
        .with_sentinelctl(script);
    let started = Instant::now();
    let output = run_bounded(&machine);
    let elapsed = started.elapsed();
    // A process killed a moment ago may still be on its way out.
    let mut leftovers = survivors(marker);
    let grace = Instant::now();
    while !leftovers.is_empty() && grace.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(50));
        leftovers = survivors(marker);
    }
    for (pid, _) in &leftovers {
        // Never leave them running after the test, whatever it concludes.
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("panicked"),
        "a panic after {elapsed:?}:\n{stderr}"
    );
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}) after {elapsed:?}: {stdout}\nstderr: {stderr}"));
    Outcome {
        code: output.status.code().unwrap_or(-1),
        json,
        elapsed,
        leftovers,
    }
}

/// Runs the machine; a run far past the bound is killed so the suite cannot hang.
fn run_bounded(machine: &Machine) -> std::process::Output {
    let mut child = machine
        .command(&[])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn problem<'j>(json: &'j Value, source: &str) -> Option<&'j Value> {
    json["problems"]
        .as_array()?
        .iter()
        .find(|p| p["source"] == source)
}

/// The promises every misbehaviour shares: bounded time, nothing left running.
fn assert_contained(outcome: &Outcome) {
    let mut broken = Vec::new();
    if outcome.elapsed >= BOUND {
        broken.push(format!(
            "s1trust identity took {:?} (bound {BOUND:?})",
            outcome.elapsed
        ));
    }
    if !outcome.leftovers.is_empty() {
        broken.push(format!(
            "processes the agent's tool started outlived the command: {:?}",
            outcome.leftovers
        ));
    }
    assert!(
        broken.is_empty(),
        "{}\n{:#}",
        broken.join("\n"),
        outcome.json
    );
}

namespace_test!(
    fn a_hung_cli_is_bounded() {
        let mark = marker(1);
        let outcome = identity_with(&format!("#!/bin/sh\nexec sleep {mark}\n"), &mark);
        assert_contained(&outcome);
        assert_eq!(outcome.code, 3, "{:#}", outcome.json);
        assert_eq!(outcome.json["agentUuid"], Value::Null);
        let status = problem(&outcome.json, STATUS_SOURCE).expect("the status query is a problem");
        assert_eq!(status["reason"], "timed_out", "{status:#}");
        assert_eq!(
            outcome.json["serialNumber"], "PF2ABCDE",
            "the serial still reads"
        );
    }
);

namespace_test!(
    fn a_cli_hanging_after_printing_is_bounded() {
        let mark = marker(2);
        let script = format!("#!/bin/sh\n{}exec sleep {mark}\n", answers());
        let outcome = identity_with(&script, &mark);
        assert_contained(&outcome);
        assert_eq!(outcome.code, 3, "{:#}", outcome.json);
        let status = problem(&outcome.json, STATUS_SOURCE).expect("the status query is a problem");
        assert_eq!(status["reason"], "timed_out", "{status:#}");
    }
);

namespace_test!(
    fn a_grandchild_holding_stdout_is_stopped() {
        let mark = marker(3);
        // The background sleep inherits stdout; the tool itself exits at once.
        let script = format!("#!/bin/sh\nsleep {mark} &\n{}exit 0\n", answers());
        let outcome = identity_with(&script, &mark);
        assert_contained(&outcome);
        // Whether the output is used once the group is gone or the query gives up,
        // the answer is consistent: the UUID as printed, or a named problem.
        match outcome.json["agentUuid"].as_str() {
            Some(uuid) => assert_eq!(uuid, UUID),
            None => {
                let status = problem(&outcome.json, STATUS_SOURCE).expect("a problem");
                assert_eq!(status["reason"], "timed_out", "{status:#}");
            }
        }
    }
);

namespace_test!(
    fn a_cli_printing_100_mb_is_cut_off() {
        let mark = marker(4);
        // `yes` carries the marker, so a flood left running would be seen.
        let script = format!("#!/bin/sh\nyes 'Connectivity On {mark}' | head -c 104857600\n");
        let outcome = identity_with(&script, &mark);
        assert_contained(&outcome);
        assert_eq!(outcome.code, 3, "{:#}", outcome.json);
        let status = problem(&outcome.json, STATUS_SOURCE).expect("the status query is a problem");
        assert_eq!(status["reason"], "unparsable", "{status:#}");
        assert!(
            status["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("printed more than 1048576 bytes"),
            "{status:#}"
        );
    }
);

namespace_test!(
    fn a_cli_printing_invalid_utf8_is_read_or_refused_cleanly() {
        let mark = marker(5);
        // Invalid bytes on a line of their own and inside a value s1trust does not use.
        let status = format!("Agent name              \\377\\376 caf\\351\n{REGISTERED}\\200\\n");
        let script = format!(
            "#!/bin/sh\ncase \"$*\" in\n'management status') printf {} ;;\n'version') printf 'Agent version: 24.1.2.6\\377\\n' ;;\nesac\n",
            sh_quoted(&status)
        );
        let outcome = identity_with(&script, &mark);
        assert_contained(&outcome);
        assert_eq!(outcome.json["agentUuid"], UUID, "{:#}", outcome.json);
        assert!(
            [0, 3].contains(&outcome.code),
            "exit {}: {:#}",
            outcome.code,
            outcome.json
        );

        // Invalid bytes inside the UUID itself: refused, never passed on half-read.
        let broken = REGISTERED.replace(UUID, "8b3c2d1e\\3770f9a4b5c8d7e6f5a4b3c2d1e");
        let script = format!(
            "#!/bin/sh\ncase \"$*\" in\n'management status') printf {} ;;\n'version') printf '%s' {} ;;\nesac\n",
            sh_quoted(&broken),
            sh_quoted(VERSION)
        );
        let outcome = identity_with(&script, &mark);
        assert_contained(&outcome);
        assert_eq!(outcome.code, 3, "{:#}", outcome.json);
        assert_eq!(outcome.json["agentUuid"], Value::Null, "{:#}", outcome.json);
        let problem = problem(&outcome.json, STATUS_SOURCE).expect("the status query is a problem");
        assert!(problem["detail"].is_string(), "{problem:#}");
    }
);

namespace_test!(
    fn a_cli_exiting_non_zero_is_a_failure_even_with_output() {
        let mark = marker(6);
        let script = format!("#!/bin/sh\n{}exit 7\n", answers());
        let outcome = identity_with(&script, &mark);
        assert_contained(&outcome);
        assert_eq!(outcome.code, 3, "{:#}", outcome.json);
        assert_eq!(outcome.json["agentUuid"], Value::Null, "{:#}", outcome.json);
        let status = problem(&outcome.json, STATUS_SOURCE).expect("the status query is a problem");
        assert_eq!(status["reason"], "failed", "{status:#}");
        assert!(
            status["detail"]
                .as_str()
                .unwrap_or_default()
                .contains("exit status: 7"),
            "{status:#}"
        );
    }
);
