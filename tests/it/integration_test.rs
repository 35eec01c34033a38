//! `s1trust integration test` and `s1trust config validate`.

use crate::helpers::{
    self, Tenant, fleet, rfc3339, run_s1trust, unused_loopback_port, write_private,
};
use s1_emulator::{EmulatorConfig, Fault, FaultKind, TokenSpec};
use serde_json::json;

fn rfc3339_in_days(days: i64) -> String {
    rfc3339(time::OffsetDateTime::now_utc() + time::Duration::days(days))
}

#[test]
fn all_steps_pass_on_a_healthy_tenant() {
    let tenant = Tenant::start(fleet());
    let run = tenant.run(&["integration", "test"]);
    run.expect_code(0);
    assert!(run.stdout.contains("✓ Reachability"), "{}", run.stdout);
    assert!(run.stdout.contains("✓ Authentication and scope"));
    assert!(run.stdout.contains("role Viewer"));
    // The decommissioned record is hidden by the API's default filter.
    assert!(run.stdout.contains("5 visible"), "{}", run.stdout);
    assert!(run.stdout.contains("All 3 checks passed."));
    tenant.assert_token_kept_secret(&run);
    let paths: Vec<String> = tenant.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/web/api/v2.1/system/status",
            "/web/api/v2.1/user",
            "/web/api/v2.1/agents"
        ]
    );
    assert_eq!(
        tenant.requests()[0].authorization,
        None,
        "status needs no token"
    );
}

#[test]
fn json_report_and_expiry_warning() {
    let mut spec = TokenSpec::viewer(helpers::TOKEN);
    spec.expires_at = Some(rfc3339_in_days(5));
    let tenant = Tenant::with_config(EmulatorConfig {
        agents: fleet(),
        tokens: vec![spec],
        ..Default::default()
    });
    let run = tenant.run(&["integration", "test", "--json"]);
    run.expect_code(0);
    let report = run.json();
    helpers::validate_against(helpers::Schema::IntegrationTest, &report);
    assert_eq!(report["ok"], json!(true));
    assert_eq!(report["steps"].as_array().unwrap().len(), 3);
    assert_eq!(report["steps"][2]["key"], json!("agents_read"));
    assert_eq!(report["steps"][0]["status"], json!("pass"));
    assert!(report["steps"][1]["latencyMs"].is_u64());
    let days = report["token"]["daysLeft"].as_i64().unwrap();
    assert!((4..=5).contains(&days), "{days}");
    assert!(
        report["warnings"][0]
            .as_str()
            .unwrap()
            .contains("expires in")
    );
}

#[test]
fn bad_token_fails_authentication_and_skips_the_rest() {
    let tenant = Tenant::start(fleet());
    write_private(&tenant.token_file, "revoked-token\n");
    let run = tenant.run(&["integration", "test"]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("✗ Authentication and scope"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("fix: create a new API token"));
    assert!(run.stdout.contains("- Read access to agents"));
}

#[test]
fn missing_agent_permission_fails_the_last_step() {
    let mut spec = TokenSpec::viewer(helpers::TOKEN);
    spec.can_read_agents = false;
    let tenant = Tenant::with_config(EmulatorConfig {
        agents: fleet(),
        tokens: vec![spec],
        ..Default::default()
    });
    let run = tenant.run(&["integration", "test", "--json"]);
    run.expect_code(1);
    let report = run.json();
    assert_eq!(report["steps"][2]["status"], json!("fail"));
    assert!(
        report["steps"][2]["hint"]
            .as_str()
            .unwrap()
            .contains("Viewer")
    );
}

#[test]
fn unreachable_tenant_exits_3() {
    // A port that was just free on loopback: nothing listens there.
    let port = unused_loopback_port();
    let tenant = Tenant::start(fleet());
    let mut args: Vec<String> = vec!["integration".into(), "test".into()];
    args.extend(tenant.conn_args());
    let at = args.iter().position(|a| a == "--url").unwrap();
    args[at + 1] = format!("https://127.0.0.1:{port}");
    let run = run_s1trust(&args, &tenant.config_file, &[]);
    run.expect_code(3);
    assert!(run.stdout.contains("✗ Reachability"), "{}", run.stdout);
}

#[test]
fn html_front_page_fails_reachability_as_not_a_console() {
    let tenant = Tenant::start(fleet());
    tenant
        .emulator
        .add_fault(Fault::new(FaultKind::Html { status: 200 }).path("/web/api/v2.1/system"));
    let run = tenant.run(&["integration", "test"]);
    run.expect_code(1);
    assert!(
        run.stdout.contains("not a SentinelOne console"),
        "{}",
        run.stdout
    );
}

#[test]
fn config_validate_reports_every_problem_with_lines() {
    let dir = crate::helpers::scratch();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "[[integration]]\nname = \"corp\"\nurl = \"http://console.example\"\ncolour = \"blue\"\n\n[http]\ndeadline = \"forever\"\n",
    )
    .unwrap();
    let args = vec![
        "config".to_string(),
        "validate".into(),
        helpers::path_arg(&path),
    ];
    let run = run_s1trust(&args, &path, &[]);
    run.expect_code(2);
    let shown = helpers::path_arg(&path);
    assert!(
        run.stderr
            .contains(&format!("{shown}:3: refusing plain http://")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("{shown}:4: unknown key `colour`")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!("{shown}:7: `deadline`")),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("config validate"),
        "it does not send the user to itself: {}",
        run.stderr
    );

    std::fs::write(
        &path,
        "[[integration]]\nname = \"corp\"\nurl = \"https://console.example\"\n",
    )
    .unwrap();
    let run = run_s1trust(&["config".to_string(), "validate".into()], &path, &[]);
    run.expect_code(0);
    assert!(
        run.stdout.contains("valid (1 integration(s): corp)"),
        "{}",
        run.stdout
    );

    // Files it names must exist.
    std::fs::write(
        &path,
        "[[integration]]\nname = \"corp\"\nurl = \"https://console.example\"\ntoken_file = \"tokens/corp.token\"\n",
    )
    .unwrap();
    let run = run_s1trust(&["config".to_string(), "validate".into()], &path, &[]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("token_file") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );

    let missing = dir.path().join("none.toml");
    let run = run_s1trust(&["config".to_string(), "validate".into()], &missing, &[]);
    run.expect_code(2);
    assert!(
        run.stderr.contains("configuration file") && run.stderr.contains("does not exist"),
        "{}",
        run.stderr
    );
}
