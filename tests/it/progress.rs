//! Progress on a terminal: each step shown as it ends and a status line (spinner and
//! elapsed seconds) while one waits, for `integration test | add`, `lookup` and
//! `refresh -v`; through a pipe, nothing of it. A latency fault on one endpoint
//! makes one step wait long enough to be seen.

use std::time::Duration;

use s1_emulator::{Fault, FaultKind};
use serde_json::json;

use crate::helpers::{
    Device, Run, STATUS_FRAMES, Screen, TOKEN, Tenant, device_record, fleet, on_terminal, path_arg,
    root_test,
};

const WAIT: Duration = Duration::from_millis(800);

fn slow(tenant: &Tenant, path: &str) {
    tenant
        .emulator
        .add_fault(Fault::new(FaultKind::Latency(WAIT)).path(path));
}

fn args(words: &[&str], more: Vec<String>) -> Vec<String> {
    let mut all: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    all.extend(more);
    all
}

/// Latencies differ run to run: the numbers before " ms" go.
fn without_latencies(text: &str) -> String {
    text.split(" ms")
        .map(|part| part.trim_end_matches(|c: char| c.is_ascii_digit() || c == ' '))
        .collect::<Vec<_>>()
        .join(" ms")
}

fn assert_nothing_of_a_terminal(run: &Run) {
    for (name, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(!text.contains('\r'), "\\r on {name}:\n{text}");
        assert!(!text.contains('\x1b'), "an escape on {name}:\n{text}");
        assert!(
            !text.contains(STATUS_FRAMES),
            "a spinner on {name}:\n{text}"
        );
    }
}

/// `earlier` is on the screen before `later` first is.
fn assert_before(screen: &Screen, earlier: &str, later: &str) {
    let at = |what: &str| {
        screen
            .raw
            .find(what)
            .unwrap_or_else(|| panic!("{what:?} is not on the screen:\n{:?}", screen.raw))
    };
    assert!(
        at(earlier) < at(later),
        "{earlier:?} after {later:?}:\n{:?}",
        screen.raw
    );
}

/// The status line was drawn for `what` and redrawn while it waited.
fn assert_waited_on(screen: &Screen, what: &str) {
    let drawn = screen
        .status_lines()
        .into_iter()
        .filter(|line| line.contains(what))
        .count();
    assert!(
        drawn >= 2,
        "{what:?} drawn {drawn} time(s):\n{:?}",
        screen.raw
    );
}

#[test]
fn integration_test_shows_each_step_as_it_ends() {
    let tenant = Tenant::start(fleet());
    slow(&tenant, "/web/api/v2.1/user");
    let Some(screen) = on_terminal(
        &args(&["integration", "test"], tenant.conn_args()),
        &tenant.config_file,
        &[],
    ) else {
        return;
    };
    assert_eq!(screen.code, 0, "{:?}", screen.raw);
    // Reachability is on the screen while authentication still waits, with its
    // seconds counting; the line is erased before the step's own line.
    assert_before(&screen, "✓ Reachability", "Authentication and scope …");
    assert_waited_on(&screen, "Authentication and scope … ");
    assert_before(&screen, "Authentication and scope … 0.", "✓ Authentication");
    assert!(!screen.raw.contains(TOKEN));
    // Once the status line is gone the screen holds what a pipe gets, and a pipe
    // gets nothing else.
    let piped = tenant.run(&["integration", "test"]);
    piped.expect_code(0);
    assert_nothing_of_a_terminal(&piped);
    assert_eq!(
        without_latencies(&screen.lines()),
        without_latencies(&piped.stdout)
    );
    let json = tenant.run(&["integration", "test", "--json"]);
    assert_nothing_of_a_terminal(&json);
}

#[test]
fn a_dumb_terminal_or_no_color_gets_no_status_line() {
    let tenant = Tenant::start(fleet());
    for env in [("TERM", "dumb"), ("NO_COLOR", "1")] {
        let Some(screen) = on_terminal(
            &args(&["integration", "test"], tenant.conn_args()),
            &tenant.config_file,
            &[env],
        ) else {
            return;
        };
        assert_eq!(screen.code, 0, "{:?}", screen.raw);
        assert!(!screen.raw.contains('\x1b'), "{env:?}: {:?}", screen.raw);
        assert!(
            screen.raw.contains("All 3 checks passed."),
            "{:?}",
            screen.raw
        );
    }
}

#[test]
fn integration_add_shows_the_test_as_it_runs_then_saves() {
    let tenant = Tenant::start(fleet());
    slow(&tenant, "/web/api/v2.1/agents");
    let config = tenant.dir.path().join("etc").join("config.toml");
    let Some(screen) = on_terminal(
        &args(&["integration", "add", "--name", "lab"], tenant.conn_args()),
        &config,
        &[],
    ) else {
        return;
    };
    assert_eq!(screen.code, 0, "{:?}", screen.raw);
    assert_before(
        &screen,
        "✓ Authentication and scope",
        "Read access to agents …",
    );
    assert_waited_on(&screen, "Read access to agents … ");
    assert_before(
        &screen,
        "✓ Read access to agents",
        "Saved integration \"lab\"",
    );
    let lines = screen.lines();
    assert!(
        lines.starts_with("Testing integration \"lab\" at "),
        "{lines}"
    );
    assert!(!screen.raw.contains(TOKEN));
    assert!(config.exists());
}

#[test]
fn lookup_says_whom_it_asks_then_clears_the_line() {
    let tenant = Tenant::start(fleet());
    slow(&tenant, "/web/api/v2.1/agents");
    let lookup = args(&["lookup", "--serial", "PF2ABCDE"], tenant.conn_args());
    let Some(screen) = on_terminal(&lookup, &tenant.config_file, &[]) else {
        return;
    };
    assert_eq!(screen.code, 0, "{:?}", screen.raw);
    let asking = format!("asking {}", tenant.emulator.url());
    assert_waited_on(&screen, &asking);
    assert_before(&screen, &asking, "Found ");
    // Erased before the summary: the screen starts with it.
    assert!(screen.lines().starts_with("Found "), "{:?}", screen.raw);
    let piped = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
    piped.expect_code(0);
    assert_nothing_of_a_terminal(&piped);
    assert_eq!(piped.json()["agentFound"], true);
}

root_test!(
    /// `refresh -v` lists its steps on stderr, each with its duration, in order, through
    /// a pipe too; plain `refresh` does not; on a terminal the status line counts while
    /// the tenant is asked.
    fn refresh_verbose_lists_each_step_as_it_ends() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let device = Device::new(&tenant);
        let quiet = device.run(&["refresh"]);
        quiet.expect_code(0);
        assert!(!quiet.stderr.contains("identity read"), "{}", quiet.stderr);
        let verbose = device.run(&["refresh", "-v"]);
        verbose.expect_code(0);
        assert_nothing_of_a_terminal(&verbose);
        let steps = [
            "✓ identity read",
            "✓ tenant \"",
            "✓ evaluation",
            "✓ snapshot written",
            "✓ stores published",
        ];
        let mut from = 0;
        for step in steps {
            let at = verbose.stderr[from..]
                .find(step)
                .unwrap_or_else(|| panic!("{step:?} missing or out of order:\n{}", verbose.stderr));
            let line = verbose.stderr[from + at..].lines().next().unwrap();
            assert!(line.ends_with(" ms)"), "{line}");
            from += at;
        }
        assert!(verbose.stdout.is_empty(), "{}", verbose.stdout);

        slow(&tenant, "/web/api/v2.1/agents");
        let identity = path_arg(&device.identity);
        let Some(screen) = on_terminal(
            &["refresh".into(), "-v".into()],
            &device.config,
            &[("S1TRUST_TEST_IDENTITY", identity.as_str())],
        ) else {
            return;
        };
        assert_eq!(screen.code, 0, "{:?}", screen.raw);
        assert_before(&screen, "✓ identity read", "asking the tenant …");
        assert_waited_on(&screen, "asking the tenant … ");
        assert_before(&screen, "asking the tenant … 0.", "✓ tenant \"");
    }
);

root_test!(
    /// doctor already printed each step as it ended; a step that waits now has the
    /// status line too, and what stays on the screen is what a pipe gets.
    fn doctor_counts_the_seconds_of_a_slow_step() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let device = Device::new(&tenant);
        slow(&tenant, "/web/api/v2.1/user");
        let identity = path_arg(&device.identity);
        let Some(screen) = on_terminal(
            &["doctor".into()],
            &device.config,
            &[("S1TRUST_TEST_IDENTITY", identity.as_str())],
        ) else {
            return;
        };
        assert_before(&screen, "✓ Reachability", "Authentication and scope …");
        assert_waited_on(&screen, "Authentication and scope … ");
        let piped = device.run(&["doctor"]);
        assert_eq!(screen.code, piped.code, "{:?}", screen.raw);
        assert_nothing_of_a_terminal(&piped);
        assert_eq!(
            without_latencies(&screen.lines()),
            without_latencies(&piped.stdout)
        );
    }
);

#[test]
fn a_log_line_erases_the_status_line_first() {
    let tenant = Tenant::start(fleet());
    slow(&tenant, "/web/api/v2.1/agents");
    let lookup = args(
        &["-vv", "lookup", "--serial", "PF2ABCDE"],
        tenant.conn_args(),
    );
    let Some(screen) = on_terminal(&lookup, &tenant.config_file, &[]) else {
        return;
    };
    assert_eq!(screen.code, 0, "{:?}", screen.raw);
    assert_waited_on(&screen, "asking ");
    // The slow answer is logged while the status line is up: on a row of its own.
    let lines = screen.lines();
    let logged = lines
        .lines()
        .find(|line| line.contains("response") && line.contains("/agents"))
        .unwrap_or_else(|| panic!("no log line of its own:\n{:?}", screen.raw));
    assert!(!logged.contains('…'), "{logged}");
}
