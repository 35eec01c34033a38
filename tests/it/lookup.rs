//! `s1trust lookup` against the emulated tenant.

use std::time::Duration;

use crate::helpers::{self, Config, Tenant, agent, fleet, path_arg, run_s1trust, write_private};
use s1_emulator::{EmulatorConfig, Fault, FaultKind, TokenSpec};
use serde_json::{Value, json};

#[test]
fn exact_serial_is_found_and_partial_or_longer_is_not() {
    let tenant = Tenant::start(fleet());

    let run = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
    run.expect_code(0);
    let object = run.json();
    assert_eq!(object["agentFound"], json!(true));
    assert_eq!(object["serialNumber"], json!("PF2ABCDE"));
    assert_eq!(object["agentId"], json!("1900000000000000001"));
    assert_eq!(object["statusCode"], json!(200));
    assert_eq!(
        object["totalItems"],
        json!(2),
        "both PF2ABCDE and PF2ABCDE1 contain the serial"
    );
    assert_eq!(object["rawResponse"]["data"].as_array().unwrap().len(), 2);
    assert_eq!(object.as_object().unwrap().len(), 18);
    crate::helpers::validate_against(crate::helpers::Schema::Lookup, &object);
    tenant.assert_token_kept_secret(&run);

    let partial = tenant.run(&["lookup", "--serial", "PF2ABC"]);
    partial.expect_code(1);
    assert_eq!(partial.json()["agentFound"], json!(false));
    assert!(
        partial
            .stderr
            .contains("no agent record matches this serial \"PF2ABC\""),
        "not found is said on stderr: {}",
        partial.stderr
    );
    assert_eq!(partial.json()["totalItems"], json!(2));

    let longer = tenant.run(&["lookup", "--serial", "PF2ABCDE12"]);
    longer.expect_code(1);
    assert_eq!(longer.json()["totalItems"], json!(0));
    assert_eq!(longer.json()["uuid"], Value::Null);
}

#[test]
fn serial_case_and_whitespace_do_not_matter() {
    let tenant = Tenant::start(fleet());
    let run = tenant.run(&["lookup", "--serial", "  c02xk1abjg5j\t"]);
    run.expect_code(0);
    assert_eq!(run.json()["serialNumber"], json!("C02XK1ABJG5J"));
    let sent = &tenant.agent_requests()[0];
    assert!(
        sent.params
            .contains(&("serialNumber__contains".into(), "c02xk1abjg5j".into()))
    );
    assert!(
        sent.params
            .contains(&("isDecommissioned".into(), "true,false".into()))
    );
    assert!(
        sent.params
            .contains(&("isUninstalled".into(), "true,false".into()))
    );
    assert!(sent.params.contains(&("limit".into(), "1000".into())));
}

#[test]
fn exact_match_beyond_the_first_page_is_found() {
    let mut agents: Vec<Value> = (0..2300)
        .map(|i| {
            agent(
                10_000 + i,
                &format!("{:032x}", 0xfeed_0000u64 + i),
                Some(&format!("BULK{i:05}")),
                json!({}),
            )
        })
        .collect();
    agents.push(agent(
        99_999,
        "9999aaaa9999aaaa9999aaaa9999aaaa",
        Some("BULK"),
        json!({}),
    ));
    let tenant = Tenant::start(agents);
    let run = tenant.run(&["lookup", "--serial", "bulk"]);
    run.expect_code(0);
    let object = run.json();
    assert_eq!(object["uuid"], json!("9999aaaa9999aaaa9999aaaa9999aaaa"));
    assert_eq!(object["totalItems"], json!(2301));
    let requests = tenant.agent_requests();
    assert_eq!(requests.len(), 3, "three pages of 1000");
    assert!(requests[1].params.iter().any(|(k, _)| k == "cursor"));
}

#[test]
fn live_record_wins_over_decommissioned_duplicate() {
    let tenant = Tenant::start(fleet());
    let run = tenant.run(&["lookup", "--serial", "5CG1234XYZ"]);
    run.expect_code(0);
    let object = run.json();
    assert_eq!(object["uuid"], json!("aaaa000011112222333344445555beef"));
    assert_eq!(object["isDecommissioned"], json!(false));
    assert!(
        run.stderr.contains("2 agent records match"),
        "{}",
        run.stderr
    );
}

#[test]
fn only_decommissioned_record_is_still_reported() {
    let tenant = Tenant::start(vec![agent(
        7,
        "77770000111122223333444455556666",
        Some("OLDBOX123"),
        json!({"isDecommissioned": true, "isActive": false}),
    )]);
    let run = tenant.run(&["lookup", "--serial", "OLDBOX123"]);
    run.expect_code(0);
    assert_eq!(run.json()["isDecommissioned"], json!(true));
}

#[test]
fn identical_duplicates_are_ambiguous() {
    let tenant = Tenant::start(helpers::cloned_pair("CLONED01"));
    let run = tenant.run(&["lookup", "--serial", "CLONED01"]);
    run.expect_code(3);
    assert_eq!(run.json()["agentFound"], json!(false));
    assert!(
        run.stderr.contains("2 agent records match equally"),
        "{}",
        run.stderr
    );
}

#[test]
fn uuid_in_any_spelling_finds_the_record() {
    let tenant = Tenant::start(fleet());
    for spelling in [
        "b7b2d39171be4ae1af90f93d7ed20f07",
        "B7B2D391-71BE-4AE1-AF90-F93D7ED20F07",
        "{b7b2d391-71be-4ae1-af90-f93d7ed20f07}",
    ] {
        let run = tenant.run(&["lookup", "--uuid", spelling]);
        run.expect_code(0);
        assert_eq!(run.json()["serialNumber"], json!("PF2ABCDE"), "{spelling}");
        assert_eq!(run.json()["totalItems"], json!(1));
    }
    // The Mac's record is stored dashed; the plain spelling must still reach it.
    let run = tenant.run(&["lookup", "--uuid", "D7F94B337F994C439C6B1C6E0D01AABB"]);
    run.expect_code(0);
    assert_eq!(run.json()["osType"], json!("macos"));
    let uuids = tenant
        .agent_requests()
        .last()
        .unwrap()
        .params
        .iter()
        .find(|(k, _)| k == "uuids")
        .unwrap()
        .1
        .clone();
    assert!(
        uuids
            .split(',')
            .any(|u| u == "d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb"),
        "{uuids}"
    );

    tenant
        .run(&["lookup", "--uuid", "0000111122223333444455556666ffff"])
        .expect_code(1);
    let bad = tenant.run(&["lookup", "--uuid", "not-a-uuid"]);
    bad.expect_code(2);
}

#[test]
fn placeholder_and_short_serials_are_never_sent() {
    let tenant = Tenant::start(fleet());
    for serial in [
        "To Be Filled By O.E.M.",
        "Default string",
        "0000000000",
        "X",
        "  ",
    ] {
        let run = tenant.run(&["lookup", "--serial", serial]);
        run.expect_code(2);
        assert!(run.stdout.is_empty());
        assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
    }
    assert!(tenant.requests().is_empty(), "{:?}", tenant.requests());
}

#[test]
fn rejected_token_is_401_with_the_object() {
    let tenant = Tenant::start(fleet());
    let wrong = tenant.dir.path().join("wrong.token");
    write_private(&wrong, "not-the-right-token\n");
    let mut args = vec!["lookup".to_string(), "--serial".into(), "PF2ABCDE".into()];
    args.extend(tenant.conn_args());
    let at = args.iter().position(|a| a == "--token-file").unwrap();
    args[at + 1] = path_arg(&wrong);
    let run = run_s1trust(&args, &tenant.config_file, &[]);
    run.expect_code(3);
    let object = run.json();
    assert_eq!(object["statusCode"], json!(401));
    assert_eq!(object["agentFound"], json!(false));
    assert_eq!(object["rawResponse"]["errors"][0]["code"], json!(4010010));
    assert!(
        run.stderr.contains("rejected the API token"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not-the-right-token"));
}

#[test]
fn token_without_agent_access_is_403() {
    let mut viewer = TokenSpec::viewer(helpers::TOKEN);
    viewer.can_read_agents = false;
    let tenant = Tenant::with_config(EmulatorConfig {
        agents: fleet(),
        tokens: vec![viewer],
        ..Default::default()
    });
    let run = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
    run.expect_code(3);
    assert_eq!(run.json()["statusCode"], json!(403));
    assert!(
        run.stderr.contains("lacks read access to endpoints"),
        "{}",
        run.stderr
    );
}

#[test]
fn rate_limit_then_success_is_retried() {
    let tenant = Tenant::start(fleet());
    tenant.emulator.add_fault(
        Fault::new(FaultKind::Status {
            code: 429,
            retry_after: Some("1".into()),
        })
        .path("/web/api/v2.1/agents")
        .times(1),
    );
    let run = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
    run.expect_code(0);
    let statuses: Vec<Option<u16>> = tenant.agent_requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(200)]);
}

#[test]
fn persistent_rate_limit_gives_up_with_exit_3() {
    let tenant = Tenant::with_config(EmulatorConfig {
        agents: fleet(),
        tokens: vec![TokenSpec::viewer(helpers::TOKEN)],
        faults: vec![Fault::new(FaultKind::Status {
            code: 429,
            retry_after: Some("0".into()),
        })],
        ..Default::default()
    });
    let run = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
    run.expect_code(3);
    assert_eq!(run.json()["statusCode"], json!(429));
    assert!(run.stderr.contains("rate limiting"), "{}", run.stderr);
    assert_eq!(
        tenant.agent_requests().len(),
        8,
        "first try plus seven retries (a 429 gets 8 attempts)"
    );
}

#[test]
fn server_errors_are_retried_then_reported() {
    let tenant = Tenant::start(fleet());
    tenant.emulator.add_fault(
        Fault::new(FaultKind::Status {
            code: 503,
            retry_after: None,
        })
        .times(2),
    );
    tenant
        .run(&["lookup", "--serial", "PF2ABCDE"])
        .expect_code(0);

    tenant
        .emulator
        .set_faults(vec![Fault::new(FaultKind::Status {
            code: 500,
            retry_after: None,
        })]);
    let run = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
    run.expect_code(3);
    assert_eq!(run.json()["statusCode"], json!(500));
    assert!(run.stderr.contains("HTTP 500"), "{}", run.stderr);
}

#[test]
fn html_answer_means_not_a_console() {
    let tenant = Tenant::start(fleet());
    tenant
        .emulator
        .add_fault(Fault::new(FaultKind::Html { status: 200 }));
    let run = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
    run.expect_code(3);
    assert_eq!(run.json()["statusCode"], json!(200));
    assert!(
        run.stderr.contains("not a SentinelOne console"),
        "{}",
        run.stderr
    );
}

#[test]
fn malformed_truncated_oversized_and_dropped_answers_are_unknown() {
    let cases = [
        (FaultKind::MalformedJson, "malformed"),
        (FaultKind::TruncatedJson, "network error"),
        (
            FaultKind::Oversized {
                bytes: 40 * 1024 * 1024,
            },
            "larger than",
        ),
        (FaultKind::Drop, "network error"),
    ];
    for (kind, expected) in cases {
        let tenant = Tenant::start(fleet());
        tenant.emulator.add_fault(Fault::new(kind.clone()));
        let run = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
        run.expect_code(3);
        assert!(run.stderr.contains(expected), "{kind:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"));
    }
}

#[test]
fn hanging_tenant_is_bounded_by_timeout() {
    let tenant = Tenant::start(fleet());
    tenant.emulator.add_fault(Fault::new(FaultKind::Hang));
    let run = tenant.run(&["lookup", "--serial", "PF2ABCDE", "--timeout", "1.5"]);
    run.expect_code(3);
    assert!(run.stdout.is_empty());
    assert!(
        run.stderr.contains("no answer from the console within"),
        "{}",
        run.stderr
    );
    eprintln!(
        "hanging tenant: gave up after {:?} with --timeout 1.5",
        run.elapsed
    );
}

#[test]
fn latency_within_the_deadline_is_fine() {
    let tenant = Tenant::start(fleet());
    tenant
        .emulator
        .add_fault(Fault::new(FaultKind::Latency(Duration::from_millis(300))));
    tenant
        .run(&["lookup", "--serial", "PF2ABCDE"])
        .expect_code(0);
}

#[test]
fn token_stays_secret_even_at_debug_level() {
    let tenant = Tenant::start(fleet());
    tenant.emulator.add_fault(
        Fault::new(FaultKind::Status {
            code: 503,
            retry_after: None,
        })
        .times(1),
    );
    for verbosity in ["-v", "-vv", "-vvv"] {
        let run = tenant.run(&[verbosity, "lookup", "--serial", "PF2ABCDE"]);
        run.expect_code(0);
        tenant.assert_token_kept_secret(&run);
    }
    let run = tenant.run(&["-vv", "lookup", "--serial", "PF2ABCDE"]);
    assert!(
        run.stderr.contains("/web/api/v2.1/agents"),
        "debug log shows requests:\n{}",
        run.stderr
    );

    // Token from the environment instead of a file.
    let mut args: Vec<String> = [
        "-vvv",
        "lookup",
        "--uuid",
        "b7b2d39171be4ae1af90f93d7ed20f07",
        "--url",
    ]
    .map(String::from)
    .to_vec();
    args.extend([
        tenant.emulator.url(),
        "--ca-file".into(),
        path_arg(&tenant.ca_file),
    ]);
    let run = run_s1trust(
        &args,
        &tenant.config_file,
        &[("S1_API_TOKEN", helpers::TOKEN)],
    );
    run.expect_code(0);
    tenant.assert_token_kept_secret(&run);
}

#[cfg(unix)]
#[test]
fn group_readable_token_file_is_refused_before_any_request() {
    let tenant = Tenant::start(fleet());
    for mode in [0o640, 0o604, 0o660] {
        helpers::set_mode(&tenant.token_file, mode);
        let run = tenant.run(&["lookup", "--serial", "PF2ABCDE"]);
        run.expect_code(2);
        assert!(run.stderr.contains("chmod 600"), "{}", run.stderr);
    }
    assert!(tenant.requests().is_empty());
}

#[test]
fn configured_integration_is_used_by_name() {
    let tenant = Tenant::start(fleet());
    let config = Config::of(&tenant).deadline("20s").text();
    std::fs::write(&tenant.config_file, config).unwrap();
    let by_name = ["lookup", "--serial", "PF2ABCDE", "--integration", "corp"];
    run_s1trust(&by_name, &tenant.config_file, &[]).expect_code(0);
    let only_one = ["lookup", "--serial", "PF2ABCDE"];
    run_s1trust(&only_one, &tenant.config_file, &[]).expect_code(0);
    let unknown = ["lookup", "--serial", "PF2ABCDE", "--integration", "nope"];
    let run = run_s1trust(&unknown, &tenant.config_file, &[]);
    run.expect_code(2);
    assert!(run.stderr.contains("configured: corp"), "{}", run.stderr);
}

#[test]
fn untrusted_certificate_is_a_tls_error() {
    let tenant = Tenant::start(fleet());
    let args: Vec<String> = vec![
        "lookup".into(),
        "--serial".into(),
        "PF2ABCDE".into(),
        "--url".into(),
        tenant.emulator.url(),
        "--token-file".into(),
        path_arg(&tenant.token_file),
    ];
    let run = run_s1trust(&args, &tenant.config_file, &[]);
    run.expect_code(3);
    assert!(run.stderr.contains("TLS"), "{}", run.stderr);
    assert!(run.stderr.contains("--ca-file"), "{}", run.stderr);
}

#[test]
fn plain_http_works_on_loopback_only() {
    let tenant = Tenant::with_config(EmulatorConfig {
        agents: fleet(),
        tokens: vec![TokenSpec::viewer(helpers::TOKEN)],
        tls: false,
        ..Default::default()
    });
    assert!(tenant.emulator.url().starts_with("http://127.0.0.1:"));
    tenant
        .run(&["lookup", "--serial", "PF2ABCDE"])
        .expect_code(0);
    // The same tenant under the name "localhost" is loopback too.
    let localhost = tenant.emulator.url().replace("127.0.0.1", "localhost");
    let args: Vec<String> = vec![
        "lookup".into(),
        "--serial".into(),
        "PF2ABCDE".into(),
        "--url".into(),
        localhost,
        "--token-file".into(),
        path_arg(&tenant.token_file),
    ];
    run_s1trust(&args, &tenant.config_file, &[]).expect_code(0);
}

#[test]
fn on_a_terminal_lookup_prints_a_summary() {
    if !crate::helpers::have_tool("script") {
        return;
    }
    let tenant = Tenant::start(fleet());
    let mut command = format!(
        "{} --config {} lookup --serial PF2ABCDE",
        crate::helpers::s1trust_bin().display(),
        crate::helpers::path_arg(&tenant.config_file)
    );
    for arg in tenant.conn_args() {
        command.push(' ');
        command.push_str(&arg);
    }
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("Found "), "{shown}");
    assert!(shown.contains("Serial          PF2ABCDE"), "{shown}");
    assert!(!shown.contains("rawResponse"), "{shown}");
    assert!(!shown.contains(crate::helpers::TOKEN));
}
