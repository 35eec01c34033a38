//! `s1trust integration add | edit | list | remove` against the emulated tenant.

use std::path::Path;

use crate::helpers::{
    self, Config, TOKEN, Tenant, UUID, device_record, fleet, mode, path_arg, root_test,
    run_s1trust, unused_loopback_port, write_private,
};
use serde_json::{Value, json};

fn admin(tenant: &Tenant, config: &Path, args: &[&str]) -> helpers::Run {
    let run = run_s1trust(args, config, &[]);
    assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
    assert!(tenant.requests().iter().all(|r| !r.query.contains(TOKEN)));
    run
}

/// `integration add --name <name> --url <tenant> --token-file <token> --ca-file <its CA>`
/// and `more`.
fn add(tenant: &Tenant, config: &Path, name: &str, token: &Path, more: &[&str]) -> helpers::Run {
    let (url, token, ca) = (
        tenant.emulator.url(),
        path_arg(token),
        path_arg(&tenant.ca_file),
    );
    let mut args = vec![
        "integration",
        "add",
        "--name",
        name,
        "--url",
        &url,
        "--token-file",
        &token,
        "--ca-file",
        &ca,
    ];
    args.extend_from_slice(more);
    admin(tenant, config, &args)
}

#[test]
fn add_refuses_to_save_after_a_failed_test() {
    let tenant = Tenant::start(fleet());
    let etc = tenant.dir.path().join("etc");
    let config = etc.join("config.toml");
    let wrong = tenant.dir.path().join("wrong.token");
    write_private(&wrong, "not-a-valid-token\n");
    let run = add(&tenant, &config, "corp", &wrong, &[]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("✗ Authentication and scope"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("nothing was saved"), "{}", run.stderr);
    assert!(!config.exists(), "no config written");
    assert!(!etc.join("tokens").exists(), "no token stored");
}

#[test]
fn add_list_edit_remove_round_trip() {
    let tenant = Tenant::start(fleet());
    let config = tenant.dir.path().join("etc").join("config.toml");
    let url = tenant.emulator.url();
    let token = path_arg(&tenant.token_file);

    let run = add(
        &tenant,
        &config,
        "corp",
        &tenant.token_file,
        &[
            "--description",
            "Production console",
            "--site-id",
            "1800000000000000001",
        ],
    );
    run.expect_code(0);
    assert!(
        run.stdout.contains("All 3 checks passed."),
        "{}",
        run.stdout
    );
    let stored = tenant.dir.path().join("etc/tokens/corp.token");
    assert_eq!(std::fs::read_to_string(&stored).unwrap().trim(), TOKEN);
    assert_eq!(mode(&stored), 0o600);
    assert_eq!(mode(stored.parent().unwrap()), 0o700);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("token_file = \"tokens/corp.token\""),
        "{text}"
    );
    assert!(!text.contains(TOKEN));

    // The saved integration works for lookups.
    run_s1trust(&["lookup", "--serial", "PF2ABCDE"], &config, &[]).expect_code(0);

    // A hand-written comment survives edits.
    std::fs::write(&config, format!("# managed by IT, do not remove\n{text}")).unwrap();
    let run = admin(
        &tenant,
        &config,
        &[
            "integration",
            "edit",
            "corp",
            "--description",
            "Prod (EU)",
            "--clear-site-ids",
        ],
    );
    run.expect_code(0);
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.starts_with("# managed by IT, do not remove"));
    assert!(text.contains("description = \"Prod (EU)\""));
    assert!(!text.contains("site_ids"));

    // Editing to a broken URL is tested first and refused.
    let closed = unused_loopback_port();
    let bad_url = format!("https://127.0.0.1:{closed}");
    let run = admin(
        &tenant,
        &config,
        &[
            "integration",
            "edit",
            "corp",
            "--url",
            &bad_url,
            "--timeout",
            "5",
        ],
    );
    run.expect_code(3);
    assert!(
        std::fs::read_to_string(&config).unwrap().contains(&url),
        "config unchanged"
    );

    // Nothing to change: no test, no rewrite, and it says so.
    let before = tenant.requests().len();
    let run = admin(&tenant, &config, &["integration", "edit", "corp"]);
    run.expect_code(0);
    assert!(run.stdout.contains("Nothing to change"), "{}", run.stdout);
    assert_eq!(tenant.requests().len(), before, "not re-tested");

    // With --json, stdout is the connection test's document and nothing else.
    let run = admin(
        &tenant,
        &config,
        &[
            "integration",
            "edit",
            "corp",
            "--description",
            "Prod (EU)",
            "--json",
        ],
    );
    run.expect_code(0);
    assert_eq!(run.json()["ok"], true, "{}", run.stdout);
    assert!(
        run.stderr.contains("corp"),
        "the human line went to stderr: {}",
        run.stderr
    );

    let run = admin(&tenant, &config, &["integration", "list", "--json"]);
    run.expect_code(0);
    let listed: Value = run.json();
    helpers::validate_against(helpers::Schema::IntegrationList, &listed);
    assert_eq!(listed["integrations"][0]["name"], "corp");
    assert!(
        listed["integrations"][0]["token"]
            .as_str()
            .unwrap()
            .ends_with("(owner-only)")
    );
    let run = admin(&tenant, &config, &["integration", "list"]);
    assert!(run.stdout.contains("Prod (EU)"), "{}", run.stdout);

    let duplicate = admin(
        &tenant,
        &config,
        &[
            "integration",
            "add",
            "--name",
            "corp",
            "--url",
            &url,
            "--token-file",
            &token,
        ],
    );
    duplicate.expect_code(2);
    assert!(duplicate.stderr.contains("already exists"));

    let run = admin(&tenant, &config, &["integration", "remove", "corp"]);
    run.expect_code(0);
    assert!(!stored.exists(), "token file deleted");
    assert!(
        !std::fs::read_to_string(&config)
            .unwrap()
            .contains("[[integration]]")
    );
    admin(&tenant, &config, &["integration", "remove", "corp"]).expect_code(2);
}

#[test]
fn token_from_stdin() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let tenant = Tenant::start(fleet());
    let config = tenant.dir.path().join("etc").join("config.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_s1trust"))
        .args([
            "integration",
            "add",
            "--name",
            "lab",
            "--url",
            &tenant.emulator.url(),
            "--token-stdin",
            "--ca-file",
        ])
        .arg(&tenant.ca_file)
        .env_clear()
        .env("S1TRUST_CONFIG", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{TOKEN}\n").as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains(TOKEN));
    let stored = tenant.dir.path().join("etc/tokens/lab.token");
    assert_eq!(std::fs::read_to_string(stored).unwrap().trim(), TOKEN);
}

#[test]
fn token_stdin_on_a_terminal_prompts_without_echo() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    if !helpers::have_tool("script") {
        return;
    }
    let tenant = Tenant::start(fleet());
    let config = tenant.dir.path().join("etc").join("config.toml");
    let command = format!(
        "{} integration add --name tty --url {} --token-stdin --ca-file {}",
        env!("CARGO_BIN_EXE_s1trust"),
        tenant.emulator.url(),
        path_arg(&tenant.ca_file)
    );
    // `script` gives the command a terminal; what we write is what a person types.
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("S1TRUST_CONFIG", &config)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{TOKEN}\n").as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(shown.contains("API token (not shown):"), "{shown}");
    assert!(!shown.contains(TOKEN), "the token was echoed:\n{shown}");
    let stored = tenant.dir.path().join("etc/tokens/tty.token");
    assert_eq!(
        std::fs::read_to_string(stored).unwrap().trim(),
        TOKEN,
        "{shown}"
    );
}

root_test!(
    /// The Banyan page's own example name, end to end: add, test, refresh, check,
    /// doctor, lookup and remove all take it as written and show it as written. Check
    /// trusts only root-owned files: root only.
    fn production_sentinelone_end_to_end() {
        const NAME: &str = "Production SentinelOne";
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let etc = tenant.dir.path().join("etc");
        let config = etc.join("config.toml");
        let identity = tenant.dir.path().join("identity.json");
        helpers::write_identity(
            &identity,
            json!({"serialNumber": "PF2ABCDE", "agentUuid": UUID}),
        );
        let identity_arg = path_arg(&identity);
        let device = |args: &[&str]| {
            let run = run_s1trust(
                args,
                &config,
                &[("S1TRUST_TEST_IDENTITY", identity_arg.as_str())],
            );
            assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
            run
        };
        let add = |name: &str| add(&tenant, &config, name, &tenant.token_file, &[]);

        // add: the token file is named after the name, and add says where it is.
        let run = add(NAME);
        run.expect_code(0);
        let stored = etc.join("tokens/production-sentinelone.token");
        assert!(
            run.stdout.contains(&format!(
                "Saved integration \"Production SentinelOne\" to {}; its token is in {} (owner-only).",
                config.display(),
                stored.display()
            )),
            "{}",
            run.stdout
        );
        assert_eq!(std::fs::read_to_string(&stored).unwrap().trim(), TOKEN);
        assert_eq!(mode(&stored), 0o600);
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.contains("name = \"Production SentinelOne\""), "{text}");
        assert!(
            text.contains("token_file = \"tokens/production-sentinelone.token\""),
            "{text}"
        );
        // The same name in another case is the same integration.
        let again = add(" production sentinelone ");
        again.expect_code(2);
        assert!(
            again
                .stderr
                .contains("an integration named \"Production SentinelOne\" already exists"),
            "{}",
            again.stderr
        );
        assert!(
            again
                .stderr
                .contains("s1trust integration edit \"Production SentinelOne\""),
            "{}",
            again.stderr
        );
        // The snapshot stays in the test's folder.
        let snapshot = tenant.dir.path().join("state/posture.json");
        let added = std::fs::read_to_string(&config).unwrap();
        let snapshot_section = Config::default().snapshot(&snapshot).text();
        std::fs::write(&config, format!("{added}\n{snapshot_section}")).unwrap();

        // test, by the name as written and in another case.
        for name in [NAME, "production sentinelone"] {
            let run = device(&["integration", "test", name]);
            run.expect_code(0);
            assert!(
                run.stdout
                    .contains("Testing integration \"Production SentinelOne\""),
                "{}",
                run.stdout
            );
        }

        // refresh, then check from the snapshot: every output shows the name as written.
        device(&["refresh"]).expect_code(0);
        let run = device(&["check", "--json", "--snapshot"]);
        run.expect_code(0);
        let report = run.json();
        helpers::validate_posture(&report);
        assert_eq!(report["result"], "trusted");
        assert_eq!(report["integrations"][0]["name"], NAME);
        assert_eq!(report["integrations"][0]["binding"], "serial");
        for factor in report["factors"].as_array().unwrap() {
            assert_eq!(factor["source"], NAME, "{factor:#}");
        }
        let table = device(&["check", "--live"]);
        table.expect_code(0);
        assert!(
            table
                .stdout
                .contains("Integration Production SentinelOne ("),
            "{}",
            table.stdout
        );
        assert!(
            table.stdout.contains("[Production SentinelOne] satisfied"),
            "{}",
            table.stdout
        );

        // doctor names it as written (the scheduler entry is missing here, so it exits 1).
        let run = device(&["doctor"]);
        for expected in [
            "Integration Production SentinelOne (",
            "✓ record in Production SentinelOne",
            "bound to this device by its serial (test)",
            "✓ Registered With [Production SentinelOne]",
            "✓ Not Active Threat [Production SentinelOne]",
        ] {
            assert!(
                run.stdout.contains(expected),
                "{expected:?} in:\n{}",
                run.stdout
            );
        }

        // lookup --integration takes the name in any case.
        let run = device(&[
            "lookup",
            "--uuid",
            UUID,
            "--integration",
            "PRODUCTION SENTINELONE",
        ]);
        run.expect_code(0);
        assert_eq!(run.json()["agentFound"], true);

        // A name whose slug is taken gets its own token file.
        let run = add("Production-SentinelOne");
        run.expect_code(0);
        let second = etc.join("tokens/production-sentinelone-2.token");
        assert!(second.exists(), "{}", run.stdout);

        // remove, by the name in another case; its token file goes with it.
        let run = admin(
            &tenant,
            &config,
            &["integration", "remove", "production sentinelone"],
        );
        run.expect_code(0);
        assert!(
            run.stdout
                .contains("Removed integration \"Production SentinelOne\""),
            "{}",
            run.stdout
        );
        assert!(!stored.exists(), "token file deleted");
        assert!(second.exists(), "the other integration's token stays");
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(
            !text.contains("name = \"Production SentinelOne\""),
            "{text}"
        );
        assert!(text.contains("name = \"Production-SentinelOne\""), "{text}");
    }
);

#[test]
fn concurrent_adds_keep_every_entry_and_no_orphaned_token() {
    let tenant = Tenant::start(fleet());
    let etc = tenant.dir.path().join("etc");
    let config = etc.join("config.toml");
    let url = tenant.emulator.url();
    let ca = path_arg(&tenant.ca_file);
    let token = path_arg(&tenant.token_file);
    let (tenant, config) = (&tenant, &config);
    let (url, ca, token) = (url.as_str(), ca.as_str(), token.as_str());
    let add_all = |names: &[&'static str]| -> Vec<helpers::Run> {
        std::thread::scope(|scope| {
            let runs: Vec<_> = names
                .iter()
                .map(|name| {
                    let args = [
                        "integration",
                        "add",
                        "--name",
                        name,
                        "--url",
                        url,
                        "--token-file",
                        token,
                        "--ca-file",
                        ca,
                    ];
                    scope.spawn(move || admin(tenant, config, &args))
                })
                .collect();
            runs.into_iter().map(|r| r.join().unwrap()).collect()
        })
    };
    let runs = add_all(&["one", "two", "three", "four"]);
    assert!(runs.iter().all(|r| r.code == 0), "{runs:#?}");
    let text = std::fs::read_to_string(config).unwrap();
    for name in ["one", "two", "three", "four"] {
        assert!(
            text.contains(&format!("name = \"{name}\"")),
            "{name} lost:\n{text}"
        );
    }
    // The same name three times: one is saved, the others are refused and leave no token.
    let runs = add_all(&["dup", "dup", "dup"]);
    assert_eq!(runs.iter().filter(|r| r.code == 0).count(), 1, "{runs:#?}");
    let tokens: Vec<String> = std::fs::read_dir(etc.join("tokens"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("dup"))
        .collect();
    assert_eq!(tokens, ["dup.token"], "no orphaned token files");
}
