//! `s1trust check` and `s1trust refresh` end to end: the emulated tenant plus a
//! fake device identity (debug builds read it from S1TRUST_TEST_IDENTITY). The check
//! path trusts only root-owned config and snapshots, so most of these need root.

use std::path::Path;

use crate::helpers::{
    self, Config, Device, Integration, SERIAL, TOKEN, Tenant, UUID, agent, device_record, path_arg,
    root_test, run_s1trust, set_mode, validate_posture,
};
use s1_emulator::{EmulatorConfig, Fault, FaultKind, TokenSpec};
use serde_json::{Value, json};

fn factor<'v>(report: &'v Value, key: &str) -> &'v Value {
    report["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no factor {key}: {report:#}"))
}

fn healthy() -> Value {
    device_record(json!({
        "isUpToDate": true, "firewallEnabled": true, "encryptedApplications": true, "threatRebootRequired": false
    }))
}

/// Every optional factor.
const ALL_FACTORS: [&str; 9] = [
    "agent_active",
    "not_infected",
    "no_pending_reboot",
    "operational",
    "protect_mode",
    "agent_up_to_date",
    "not_network_quarantined",
    "firewall_enabled",
    "disk_encrypted",
];

/// The device with every optional factor on.
fn with_every_factor(tenant: &Tenant) -> Device<'_> {
    Device::with_config(tenant, Config::of(tenant).factors(&ALL_FACTORS))
}

root_test!(
    fn healthy_device_is_trusted_live() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = Device::new(&tenant);
        let (run, report) = device.check(&["--live"]);
        run.expect_code(0);
        assert_eq!(report["result"], "trusted");
        assert_eq!(report["source"], "live");
        assert_eq!(report["integrations"][0]["matchedBy"], "uuid");
        assert_eq!(report["integrations"][0]["agent"]["serialNumber"], SERIAL);
        let keys: Vec<&str> = report["factors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap())
            .collect();
        assert_eq!(
            keys,
            ["registered_with", "not_active_threat"],
            "only the two default factors"
        );
        tenant.assert_token_kept_secret(&run);
        // The table form names the answer.
        let table = device.run(&["check", "--live"]);
        table.expect_code(0);
        assert!(table.stdout.contains("TRUSTED"), "{}", table.stdout);
    }
);

root_test!(
    fn every_factor_satisfied_not_satisfied_and_unknown() {
        let good = Tenant::start(vec![healthy()]);
        let (run, report) = with_every_factor(&good).check(&["--live"]);
        run.expect_code(0);
        assert_eq!(report["factors"].as_array().unwrap().len(), 11);
        assert!(
            report["factors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["result"] == "satisfied"),
            "{report:#}"
        );

        let bad = Tenant::start(vec![agent(
            1,
            UUID,
            Some(SERIAL),
            json!({
                "activeThreats": 2, "isActive": false, "infected": true, "threatRebootRequired": true,
                "operationalState": "auto_fully_disabled", "mitigationMode": "detect", "isUpToDate": false,
                "networkStatus": "disconnected", "firewallEnabled": false, "encryptedApplications": false
            }),
        )]);
        let (run, report) = with_every_factor(&bad).check(&["--live"]);
        run.expect_code(1);
        assert_eq!(report["result"], "not_trusted");
        for f in report["factors"].as_array().unwrap() {
            let expected = if f["key"] == "registered_with" {
                "satisfied"
            } else {
                "not_satisfied"
            };
            assert_eq!(f["result"], expected, "{f:#}");
        }
        assert_eq!(
            factor(&report, "no_pending_reboot")["remediation"],
            "Reboot to finish threat mitigation"
        );
        let table = with_every_factor(&bad).run(&["check", "--live"]);
        assert!(
            table
                .stdout
                .contains("→ Reboot to finish threat mitigation"),
            "{}",
            table.stdout
        );

        let sparse = Tenant::start(vec![
            json!({"id": "1900000000000000001", "uuid": UUID, "serialNumber": SERIAL,
                   "isDecommissioned": false, "isUninstalled": false}),
        ]);
        let (run, report) = with_every_factor(&sparse).check(&["--live"]);
        run.expect_code(3);
        for f in report["factors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["key"] != "registered_with")
        {
            assert_eq!(f["result"], "unknown", "{f:#}");
            assert_eq!(f["reason"], "field_missing");
        }
    }
);

root_test!(
    fn one_failing_integration_does_not_hide_the_other() {
        let tenant = Tenant::with_config(EmulatorConfig {
            agents: vec![healthy()],
            tokens: vec![
                TokenSpec::viewer(TOKEN),
                TokenSpec::viewer("second-token-value"),
            ],
            faults: vec![
                Fault::new(FaultKind::Status {
                    code: 500,
                    retry_after: None,
                })
                .token("second-token-value"),
            ],
            ..Default::default()
        });
        helpers::write_private(
            &tenant.dir.path().join("second.token"),
            "second-token-value\n",
        );
        let second = Integration::new("lab", &tenant.emulator.url()).token_file("second.token");
        let device = Device::with_config(&tenant, Config::of(&tenant).integration(second));
        let (run, report) = device.check(&["--live"]);
        run.expect_code(3);
        assert_eq!(report["result"], "unknown");
        let integrations = report["integrations"].as_array().unwrap();
        assert_eq!(integrations[0]["status"], "ok");
        assert_eq!(integrations[1]["status"], "error");
        assert_eq!(integrations[1]["reason"], "bad_response");
        let corp: Vec<&Value> = report["factors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["source"] == "corp")
            .collect();
        assert!(corp.iter().all(|f| f["result"] == "satisfied"));
        let lab: Vec<&Value> = report["factors"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["source"] == "lab")
            .collect();
        assert_eq!(lab.len(), 2);
        assert!(lab.iter().all(|f| f["result"] == "unknown"));
    }
);

/// A device whose agent UUID is on record, but under another machine's serial.
fn mismatched(tenant: &Tenant) -> Device<'_> {
    let device = Device::new(tenant);
    device.set_identity(
        json!({"serialNumber": "OTHERSERIAL9", "agentUuid": UUID, "agentInstalled": true}),
    );
    device
}

root_test!(
    fn identity_mismatch_foreign_site_and_decommissioned_are_not_trusted() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = mismatched(&tenant);
        let (run, report) = device.check(&["--live"]);
        run.expect_code(1);
        assert_eq!(
            factor(&report, "registered_with")["reason"],
            "identity_mismatch"
        );
        assert_eq!(factor(&report, "not_active_threat")["result"], "unknown");

        let device = Device::with_config(
            &tenant,
            Config::of(&tenant).extra("site_ids = [\"999999999999999999\"]"),
        );
        let (run, report) = device.check(&["--live"]);
        run.expect_code(1);
        assert_eq!(report["reason"], "foreign_site");

        let retired = Tenant::start(vec![agent(
            1,
            UUID,
            Some(SERIAL),
            json!({"isDecommissioned": true}),
        )]);
        let (run, report) = Device::new(&retired).check(&["--live"]);
        run.expect_code(1);
        assert_eq!(report["reason"], "decommissioned");
    }
);

root_test!(
    fn serial_fallback_not_found_ambiguous_and_no_agent() {
        let mut fleet = helpers::cloned_pair("CLONED01");
        fleet.push(agent(
            3,
            "33330000111122223333444455556666",
            Some("UNIQUE01"),
            json!({}),
        ));
        let tenant = Tenant::start(fleet);
        let device = Device::new(&tenant);
        device.set_identity(json!({"serialNumber": "UNIQUE01", "agentInstalled": true}));
        let (run, report) = device.check(&["--live"]);
        run.expect_code(0);
        assert_eq!(report["integrations"][0]["matchedBy"], "serial");

        device.set_identity(json!({"serialNumber": "CLONED01", "agentInstalled": true}));
        let (run, report) = device.check(&["--live"]);
        run.expect_code(3);
        assert_eq!(report["reason"], "ambiguous");
        assert_eq!(report["integrations"][0]["duplicates"], 1);

        device.set_identity(json!({"serialNumber": "NOSUCH99", "agentInstalled": true}));
        let (run, report) = device.check(&["--live"]);
        run.expect_code(1);
        assert_eq!(report["reason"], "not_found");

        device.set_identity(json!({"serialNumber": null, "agentInstalled": true,
            "serialCandidates": [{"source": "smbios:type1", "value": "Default string", "usable": false, "reason": "placeholder"}]}));
        let (run, report) = device.check(&["--live"]);
        run.expect_code(3);
        assert_eq!(report["reason"], "placeholder_serial");

        tenant.emulator.clear_requests();
        device.set_identity(json!({"serialNumber": "UNIQUE01", "agentInstalled": false}));
        let (run, report) = device.check(&["--live"]);
        run.expect_code(1);
        assert_eq!(report["reason"], "no_local_agent");
        assert!(
            tenant.requests().is_empty(),
            "no lookup without a local agent"
        );
    }
);

root_test!(
    fn os_filter_makes_factors_not_applicable() {
        let tenant = Tenant::start(vec![agent(
            1,
            UUID,
            Some(SERIAL),
            json!({"encryptedApplications": false}),
        )]);
        let device = Device::with_config(
            &tenant,
            Config::of(&tenant).extra(
                "[integration.factors.disk_encrypted]\nenabled = true\nos = [\"windows\", \"macos\"]",
            ),
        );
        let (run, report) = device.check(&["--live"]);
        run.expect_code(0);
        assert_eq!(
            factor(&report, "disk_encrypted")["result"],
            "not_applicable"
        );
        device.set_identity(json!({"serialNumber": SERIAL, "agentUuid": UUID, "agentInstalled": true, "osType": "windows"}));
        let (run, report) = device.check(&["--live"]);
        run.expect_code(1);
        assert_eq!(factor(&report, "disk_encrypted")["result"], "not_satisfied");
    }
);

root_test!(
    fn refresh_writes_a_snapshot_that_check_uses() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = Device::new(&tenant);
        device.run(&["refresh"]).expect_code(0);
        let requests = tenant.requests().len();
        let (run, report) = device.check(&[]);
        run.expect_code(0);
        assert_eq!(report["source"], "snapshot");
        assert_eq!(report["result"], "trusted");
        assert_eq!(
            tenant.requests().len(),
            requests,
            "the snapshot path makes no request"
        );
        let mode = helpers::mode(&device.snapshot);
        assert_eq!(mode, 0o644);
        let on_disk: Value =
            serde_json::from_slice(&std::fs::read(&device.snapshot).unwrap()).unwrap();
        validate_posture(&on_disk);
    }
);

fn write_snapshot(device: &Device, mutate: impl Fn(&mut Value)) {
    let tenant_snapshot = std::fs::read(&device.snapshot).unwrap();
    let mut value: Value = serde_json::from_slice(&tenant_snapshot).unwrap();
    mutate(&mut value);
    std::fs::write(&device.snapshot, value.to_string()).unwrap();
}

root_test!(
    fn bad_snapshots_are_never_trusted() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = Device::new(&tenant);
        let expect_unknown = |reason: &str| {
            let (run, report) = device.check(&["--snapshot"]);
            run.expect_code(3);
            assert_eq!(report["result"], "unknown");
            assert_eq!(report["reason"], reason, "{report:#}");
            assert!(!run.stderr.contains("panicked"));
        };
        expect_unknown("no_snapshot");

        device.run(&["refresh"]).expect_code(0);
        write_snapshot(&device, |v| {
            v["evaluatedAt"] = json!("2026-01-01T00:00:00Z")
        });
        expect_unknown("stale_snapshot");

        device.run(&["refresh"]).expect_code(0);
        write_snapshot(&device, |v| {
            v["device"]["serialNumber"] = json!("SOMEONE-ELSE")
        });
        expect_unknown("wrong_device");

        device.run(&["refresh"]).expect_code(0);
        set_mode(&device.snapshot, 0o664);
        expect_unknown("untrusted_snapshot");

        device.run(&["refresh"]).expect_code(0);
        std::os::unix::fs::chown(&device.snapshot, Some(65534), None).unwrap();
        expect_unknown("untrusted_snapshot");

        for garbage in [
            &b"{\"schemaVersion\": 1, \"result\": \"trus"[..],
            b"",
            b"\x00\xff",
            b"[]",
            b"{\"schemaVersion\": 2}",
        ] {
            std::fs::remove_file(&device.snapshot).unwrap();
            std::fs::write(&device.snapshot, garbage).unwrap();
            expect_unknown("corrupt_snapshot");
        }

        // A symlink to a good snapshot is refused too.
        device.run(&["refresh"]).expect_code(0);
        let real = device.snapshot.with_file_name("real.json");
        std::fs::rename(&device.snapshot, &real).unwrap();
        std::os::unix::fs::symlink(&real, &device.snapshot).unwrap();
        expect_unknown("untrusted_snapshot");
    }
);

root_test!(
    fn default_check_falls_back_to_live_when_the_snapshot_is_unusable() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = Device::new(&tenant);
        let (run, report) = device.check(&[]);
        run.expect_code(0);
        assert_eq!(report["source"], "live");
        assert!(
            report["notes"][0]
                .as_str()
                .unwrap()
                .contains("evaluated live instead"),
            "{report:#}"
        );
    }
);

root_test!(
    fn failed_refresh_keeps_the_last_good_snapshot() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = Device::new(&tenant);
        device.run(&["refresh"]).expect_code(0);
        let before = std::fs::read(&device.snapshot).unwrap();
        tenant
            .emulator
            .set_faults(vec![Fault::new(FaultKind::Status {
                code: 503,
                retry_after: Some("0".into()),
            })]);
        let run = device.run(&["refresh"]);
        run.expect_code(3);
        assert_eq!(
            std::fs::read(&device.snapshot).unwrap(),
            before,
            "the good snapshot is kept"
        );
        let (run, report) = device.check(&["--snapshot"]);
        run.expect_code(0);
        assert_eq!(report["result"], "trusted");
        assert_eq!(report["lastRefresh"]["ok"], false);
        assert_eq!(report["lastRefresh"]["reason"], "bad_response");
        let first_failure = report["lastRefresh"]["failingSince"].clone();
        assert_eq!(first_failure, report["lastRefresh"]["at"]);
        assert!(
            report["notes"]
                .to_string()
                .contains("refreshes have failed since"),
            "{report:#}"
        );
        // A second failure keeps the time the failures began.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        device.run(&["refresh"]).expect_code(3);
        let (_, report) = device.check(&["--snapshot"]);
        assert_eq!(report["lastRefresh"]["failingSince"], first_failure);
        assert_ne!(report["lastRefresh"]["at"], first_failure);

        // A definitive change (the record now shows a threat) does replace it.
        tenant.emulator.clear_faults();
        drop(tenant);
        let threat = Tenant::start(vec![agent(
            1,
            UUID,
            Some(SERIAL),
            json!({"activeThreats": 1}),
        )]);
        let device = Device::new(&threat);
        device.run(&["refresh"]).expect_code(0);
        let (run, _) = device.check(&["--snapshot"]);
        run.expect_code(1);
    }
);

root_test!(
    fn readers_never_see_a_torn_snapshot_while_refresh_runs() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = Device::new(&tenant);
        device.run(&["refresh"]).expect_code(0);
        let config = device.config.clone();
        let identity = path_arg(&device.identity);
        let writer = std::thread::spawn(move || {
            for _ in 0..15 {
                let run = run_s1trust(
                    &["refresh".to_string()],
                    &config,
                    &[("S1TRUST_TEST_IDENTITY", identity.as_str())],
                );
                assert_eq!(run.code, 0, "{}", run.stderr);
            }
        });
        let mut reads = 0;
        while !writer.is_finished() {
            let bytes = std::fs::read(&device.snapshot).unwrap();
            let parsed: Value = serde_json::from_slice(&bytes).expect("never a partial file");
            assert_eq!(parsed["result"], "trusted");
            let (run, report) = device.check(&["--snapshot"]);
            run.expect_code(0);
            assert_eq!(report["source"], "snapshot");
            reads += 1;
        }
        writer.join().unwrap();
        eprintln!("{reads} consistent reads during 15 refreshes");
        assert!(reads > 0);
    }
);

#[test]
fn fresh_machine_without_config_explains_what_to_do() {
    let dir = crate::helpers::scratch();
    let missing: &Path = &dir.path().join("none.toml");
    let identity = dir.path().join("identity.json");
    std::fs::write(
        &identity,
        json!({"agentInstalled": false, "osType": "linux", "serialCandidates": [], "problems": [],
        "virtual": false})
        .to_string(),
    )
    .unwrap();
    let run = run_s1trust(
        &["check"],
        missing,
        &[("S1TRUST_TEST_IDENTITY", &path_arg(&identity))],
    );
    run.expect_code(3);
    assert!(
        run.stdout.contains("UNKNOWN — not_configured"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("no configuration at"));
    assert!(run.stdout.contains("s1trust integration add"));
    assert!(run.stdout.contains("s1trust doctor"));
    assert!(
        !run.stdout.contains("tests/"),
        "an installed binary names no source-tree path: {}",
        run.stdout
    );
    assert!(run.stdout.contains("SentinelOne agent not installed"));
    assert!(
        run.stderr.is_empty(),
        "not a wall of errors: {}",
        run.stderr
    );
    let json = run_s1trust(
        &["check", "--json"],
        missing,
        &[("S1TRUST_TEST_IDENTITY", &path_arg(&identity))],
    );
    validate_posture(&json.json());
    assert_eq!(
        json.json()["source"],
        "none",
        "nothing was read or evaluated"
    );
    assert!(run.stdout.contains("nothing evaluated"), "{}", run.stdout);
}

root_test!(
    fn doctor_walks_through_every_step() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = Device::new(&tenant);
        device.run(&["refresh"]).expect_code(0);
        let run = device.run(&["doctor"]);
        assert!(!run.stdout.contains(TOKEN) && !run.stderr.contains(TOKEN));
        for expected in [
            "✓ config file",
            "✓ hardware serial            PF2ABCDE",
            "✓ agent UUID",
            "✓ token file",
            "✓ Reachability",
            "✓ Authentication and scope",
            "✓ Read access to agents",
            "✓ token expiry",
            "✓ record in corp",
            "✓ Registered With [corp]",
            "✓ Not Active Threat [corp]",
            "✓ posture snapshot",
            "✓ last refresh",
        ] {
            assert!(
                run.stdout.contains(expected),
                "missing {expected:?} in:\n{}",
                run.stdout
            );
        }
        // No package is installed here, so the scheduler entry is missing: doctor must not pass.
        if !Path::new("/lib/systemd/system/s1trust-refresh.timer").exists() {
            run.expect_code(1);
            assert!(run.stdout.contains("✗ scheduler entry"), "{}", run.stdout);
        }

        tenant
            .emulator
            .set_faults(vec![Fault::new(FaultKind::Status {
                code: 401,
                retry_after: None,
            })]);
        let run = device.run(&["doctor"]);
        run.expect_code(1);
        assert!(
            run.stdout.contains("✗ Authentication and scope"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("fix: create a new API token"),
            "{}",
            run.stdout
        );
    }
);

root_test!(
    /// A reader that stops reading (`s1trust check | head -c0`, a client closing its end
    /// early) must not turn an answer into exit 0: the quiet exit keeps the answer's status.
    fn a_closed_stdout_keeps_the_answers_exit_status() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = mismatched(&tenant);
        let closed = |args: &[&str]| {
            let mut child = std::process::Command::new(helpers::s1trust_bin())
                .args(args)
                .env_clear()
                .env("S1TRUST_CONFIG", &device.config)
                .env("S1TRUST_TEST_IDENTITY", &device.identity)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("s1trust runs");
            // Closed before s1trust writes anything: every write gets EPIPE.
            drop(child.stdout.take());
            let output = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            output.status.code()
        };
        assert_eq!(closed(&["check", "--live", "--json"]), Some(1));
        assert_eq!(closed(&["check", "--live"]), Some(1));
        assert_eq!(closed(&["doctor"]), Some(1));
        // Not found.
        assert_eq!(
            closed(&["lookup", "--uuid", "c7b2d39171be4ae1af90f93d7ed20f07"]),
            Some(1)
        );
    }
);

root_test!(
    fn a_first_refresh_that_could_not_evaluate_says_so() {
        let tenant = Tenant::start(vec![healthy()]);
        // Every request hangs past `[http] request_timeout`, and there is no snapshot yet.
        tenant
            .emulator
            .set_faults(vec![Fault::new(FaultKind::Latency(
                std::time::Duration::from_secs(5),
            ))]);
        let device = Device::new(&tenant);
        std::fs::write(
            &device.config,
            std::fs::read_to_string(&device.config).unwrap()
                + "\n[http]\nrequest_timeout = \"1s\"\ndeadline = \"2s\"\n",
        )
        .unwrap();
        let run = device.run(&["refresh"]);
        run.expect_code(3);
        assert!(
            run.stderr.contains("could not evaluate (timeout)"),
            "{}",
            run.stderr
        );
        let record: Value = serde_json::from_slice(
            &std::fs::read(device.snapshot.with_file_name("posture.last-refresh.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(record["ok"], false, "{record:#}");
        assert_eq!(record["reason"], "timeout");
        // The error names the limit that struck.
        let (_, report) = device.check(&["--live"]);
        let error = report["integrations"][0]["error"]
            .as_str()
            .unwrap_or_default();
        assert!(
            error.contains("request timeout") || error.contains("deadline"),
            "{error}"
        );
    }
);

root_test!(
    fn doctor_gives_one_cause_one_fix() {
        let tenant = Tenant::start(vec![healthy()]);
        let device = Device::new(&tenant);
        device.set_identity(
            json!({"agentInstalled": false, "agentUuid": null, "agentVersion": null}),
        );
        let run = device.run(&["doctor"]);
        let agent_lines: Vec<&str> = run
            .stdout
            .lines()
            .filter(|l| l.contains('✗') && l.to_lowercase().contains("agent"))
            .collect();
        assert_eq!(
            agent_lines.len(),
            1,
            "one ✗ for a missing agent:\n{}",
            run.stdout
        );
        assert!(agent_lines[0].contains("agent installed"), "{}", run.stdout);
        // Root is never told to run as root.
        assert!(!run.stdout.contains("run as root"), "{}", run.stdout);
        // The same checklist as one JSON document, and nothing else on stdout.
        let json = device.run(&["doctor", "--json"]);
        assert_eq!(json.code, run.code);
        let document = json.json();
        crate::helpers::validate_doctor(&document);
        assert_eq!(document["ok"], false);
        let failed = document["sections"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["steps"].as_array().unwrap())
            .filter(|s| s["ok"] == false)
            .count();
        assert_eq!(document["failures"], failed);
        // On a terminal each step is shown as it finishes: once the status line is
        // erased, the same lines as through a pipe.
        let identity = path_arg(&device.identity);
        if let Some(screen) = crate::helpers::on_terminal(
            &["doctor".into()],
            &device.config,
            &[("S1TRUST_TEST_IDENTITY", identity.as_str())],
        ) {
            // Latencies differ run to run.
            let masked = |text: &str| {
                text.split(" ms)")
                    .map(|part| part.trim_end_matches(|c: char| c.is_ascii_digit()))
                    .collect::<Vec<_>>()
                    .join(" ms)")
            };
            let shown = masked(&screen.lines());
            assert_eq!(shown.trim_end(), masked(&run.stdout).trim_end());
        }
    }
);
