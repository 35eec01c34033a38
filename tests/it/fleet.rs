//! The fleet model: many devices refreshing through one API token against the
//! tenant's per-token rate limit. Every device must end with a correct snapshot or an
//! honest `unknown` (`rate_limited`), the requests must stay within 1.5 × the minimum
//! (one per device), and backoff must spread them out. docs/performance.md "Capacity" turns the
//! numbers into devices per token.
//!
//! `S1TRUST_FLEET_DEVICES`, `S1TRUST_FLEET_SPREAD_SECS` and `S1TRUST_FLEET_LIMIT` scale
//! it. The defaults (60 devices starting over 6 s against 10 requests/s: offered load
//! at the limit, as 200 over 20 s against 10/s would be) keep a debug build on two busy
//! cores well inside its deadlines; `benches/run.sh --fleet` runs the 200-device model
//! (200 devices over 10 s against 20 requests/s).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{
    Config, Device, Integration, TOKEN, Tenant, agent, now_rfc3339, path_arg, root_test,
};
use s1_emulator::{EmulatorConfig, TokenSpec};
use serde_json::{Value, json};

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn uuid(i: usize) -> String {
    format!("{i:08x}aaaabbbbccccddddeeeeffff")
}

/// Device `i`, its files in a folder of its own, the tenant's token and CA named by
/// their full paths.
fn member(tenant: &Tenant, i: usize) -> Device<'_> {
    let dir = tenant.dir.path().join(format!("device-{i}"));
    std::fs::create_dir(&dir).unwrap();
    let integration = Integration::of(tenant)
        .token_file(&path_arg(&tenant.token_file))
        .ca_file(&path_arg(&tenant.ca_file));
    let device = Device::in_folder(tenant, &dir, Config::default().integration(integration));
    device.set_identity(json!({
        "serialNumber": format!("SER{i:05}"), "agentUuid": uuid(i),
        "hostname": format!("device-{i}"), "osType": "windows", "osName": "Windows 11"
    }));
    device
}

fn start(m: &Device) -> Child {
    Command::new(crate::helpers::s1trust_bin())
        .args(["--config", &path_arg(&m.config), "refresh"])
        .env_clear()
        .env("S1TRUST_TEST_IDENTITY", &m.identity)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("s1trust runs")
}

root_test!(
    /// Ignored in the default run: its burst of processes would starve the tests running
    /// beside it. `.ci/run` runs it on its own (`cargo test --test it fleet -- --ignored`).
    /// Refresh trusts only root-owned files.
    #[ignore = "a load test: run alone, as .ci/run does"]
    fn a_fleet_shares_one_token_within_the_rate_limit() {
        let devices = setting("S1TRUST_FLEET_DEVICES", 60) as usize;
        let spread = Duration::from_secs(setting("S1TRUST_FLEET_SPREAD_SECS", 6));
        let limit = setting("S1TRUST_FLEET_LIMIT", 10) as u32;
        let now = now_rfc3339();
        let records = (0..devices)
            .map(|i| {
                agent(
                    i as u64,
                    &uuid(i),
                    Some(&format!("SER{i:05}")),
                    json!({"lastActiveDate": now}),
                )
            })
            .collect();
        let tenant = Tenant::with_config(EmulatorConfig {
            agents: records,
            tokens: vec![TokenSpec::viewer(TOKEN)],
            rate_limit_per_sec: Some(limit),
            ..EmulatorConfig::default()
        });
        let members: Vec<Device> = (0..devices).map(|i| member(&tenant, i)).collect();
        // Start times spread evenly, as the scheduler's random delay spreads a fleet.
        let began = Instant::now();
        let mut running = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let due = spread.mul_f64(i as f64 / devices as f64);
            if let Some(wait) = due.checked_sub(began.elapsed()) {
                std::thread::sleep(wait);
            }
            running.push(start(m));
        }
        for child in &mut running {
            let status = child.wait().unwrap();
            assert!(
                matches!(status.code(), Some(0 | 3)),
                "refresh exit {status:?}"
            );
        }
        let elapsed = began.elapsed();

        let (mut trusted, mut honest) = (0, 0);
        for m in &members {
            let snapshot: Value =
                serde_json::from_slice(&std::fs::read(&m.snapshot).unwrap()).unwrap();
            match snapshot["result"].as_str() {
                Some("trusted") => trusted += 1,
                // Honest: the tenant said "slow down" until the deadline, or (on a starved
                // machine) did not answer in time.
                Some("unknown") => {
                    let reason = snapshot["reason"].as_str().unwrap_or("");
                    assert!(matches!(reason, "rate_limited" | "timeout"), "{snapshot:#}");
                    honest += 1;
                }
                other => panic!("a device ended {other:?}: {snapshot:#}"),
            }
        }
        let requests: Vec<_> = tenant
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/agents"))
            .collect();
        let limited = requests.iter().filter(|r| r.status == Some(429)).count();
        let first = requests.iter().map(|r| r.at).min().unwrap();
        let mut timeline = vec![(0usize, 0usize); 1 + elapsed.as_secs() as usize];
        for r in &requests {
            let second = r.at.duration_since(first).unwrap_or_default().as_secs() as usize;
            let last = timeline.len() - 1;
            let slot = &mut timeline[second.min(last)];
            slot.0 += 1;
            slot.1 += usize::from(r.status == Some(429));
        }
        eprintln!(
            "fleet: {devices} devices over {spread:?}, limit {limit}/s: {trusted} trusted, {honest} honest unknown, \
             {} requests ({limited} answered 429) = {:.2} × the minimum, done in {elapsed:.1?}",
            requests.len(),
            requests.len() as f64 / devices as f64
        );
        for (second, (all, throttled)) in timeline.iter().enumerate() {
            eprintln!("fleet: t={second:>2}s {all:>3} requests, {throttled:>3} × 429");
        }
        assert!(
            requests.len() as f64 <= 1.5 * devices as f64,
            "{} requests for {devices} devices",
            requests.len()
        );
        assert!(
            trusted >= devices * 9 / 10,
            "only {trusted} of {devices} got an answer"
        );
    }
);
