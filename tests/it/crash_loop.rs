//! `refresh` killed with SIGKILL at random points, a few hundred times: after
//! every kill the snapshot must be the previous one or a complete new one (valid
//! JSON, valid against the schema, the answer the tenant gave in that round), the
//! record of the last attempt must be valid JSON, the lock must not stay taken,
//! and `check --snapshot` must keep accepting what is on disk. Half the kills are
//! spread over the whole run, half aimed at its end, where the files are written.
//! Afterwards a complete refresh still runs, and the temp files
//! (`.<name>.s1trust-*.tmp`) that kills mid-write leave do not pile up: each
//! refresh sweeps them. Refresh trusts only a root-owned configuration: root only.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use s1_emulator::{Fault, FaultKind};
use serde_json::{Value, json};

use crate::helpers::{Config, Device, Run, Tenant, device_record, posture_violations, root_test};

/// Kills per loop; `S1TRUST_CRASH_KILLS` changes it for a longer campaign.
fn kills() -> usize {
    std::env::var("S1TRUST_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

fn record(threats: u32) -> Value {
    device_record(json!({ "activeThreats": threats }))
}

fn spawn_refresh(device: &Device) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_s1trust"))
        .arg("refresh")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("S1TRUST_CONFIG", &device.config)
        .env("S1TRUST_TEST_IDENTITY", &device.identity)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn check_snapshot(device: &Device) -> Run {
    device.run(&["check", "--snapshot", "--json"])
}

/// What the tenant answers this round: every other round a threat appears.
fn serve(device: &Device, round: usize) -> &'static str {
    if round.is_multiple_of(2) {
        device.tenant.emulator.clear_faults();
        "trusted"
    } else {
        let body =
            json!({"data": [record(2)], "pagination": {"totalItems": 1, "nextCursor": null}});
        device.tenant.emulator.set_faults(vec![
            Fault::new(FaultKind::RawJson(body.to_string())).path("/web/api/v2.1/agents"),
        ]);
        "not_trusted"
    }
}

/// The temp files (`.<name>.s1trust-*.tmp`) in the snapshot's folder.
fn temp_files(device: &Device) -> Vec<String> {
    std::fs::read_dir(device.snapshot.parent().unwrap())
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.starts_with('.') && n.contains(".s1trust-") && n.ends_with(".tmp"))
        .collect()
}

/// What the loop saw.
#[derive(Debug, Default)]
struct Tally {
    kills: usize,
    /// Runs that finished before their kill came.
    finished: usize,
    /// Kills after which a new snapshot was on disk.
    replaced: usize,
    /// Kills after which the previous snapshot was still there.
    kept: usize,
    /// Most temp files (`.<name>.s1trust-*.tmp`) seen after a kill.
    most_temps: usize,
    elapsed: Duration,
}

/// A complete refresh after the kills: the lock died with the processes.
fn finish(device: &Device) {
    serve(device, 0);
    let last = device.run(&["refresh"]);
    last.expect_code(0);
    assert!(!last.stderr.contains("another"), "{}", last.stderr);
    assert_eq!(check_snapshot(device).json()["result"], "trusted");
}

/// `kills` rounds of: serve an answer, start a refresh, kill it, inspect the disk.
fn kill_rounds(device: &Device, kills: usize) -> Tally {
    serve(device, 0);
    device.run(&["refresh"]).expect_code(0);
    // How long a whole refresh takes here, so the kills land inside one.
    let mut runs: Vec<Duration> = (0..3)
        .map(|_| {
            let started = Instant::now();
            device.run(&["refresh"]).expect_code(0);
            started.elapsed()
        })
        .collect();
    runs.sort();
    let typical = runs[1];
    eprintln!("crash loop: a whole refresh takes about {typical:?} here");
    let mut previous = std::fs::read(&device.snapshot).unwrap();
    let mut tally = Tally::default();
    let started = Instant::now();
    for round in 1..=kills {
        let expected = serve(device, round);
        // Half anywhere in a run, half around its end (where the files are written).
        let fraction = if round.is_multiple_of(2) {
            fastrand::f64() * 1.2
        } else {
            0.75 + fastrand::f64() * 0.35
        };
        let mut child = spawn_refresh(device);
        std::thread::sleep(typical.mul_f64(fraction));
        if child.try_wait().unwrap().is_some() {
            tally.finished += 1;
        }
        let _ = child.kill();
        child.wait().unwrap();
        tally.kills += 1;

        let now = std::fs::read(&device.snapshot)
            .unwrap_or_else(|e| panic!("round {round}: the snapshot is gone: {e}"));
        if now == previous {
            tally.kept += 1;
        } else {
            let parsed: Value = serde_json::from_slice(&now).unwrap_or_else(|e| {
                panic!(
                    "round {round}: a torn snapshot ({e}):\n{}",
                    String::from_utf8_lossy(&now)
                )
            });
            let violations = posture_violations(&parsed);
            assert!(
                violations.is_empty(),
                "round {round}: {}\n{parsed:#}",
                violations.join("; ")
            );
            assert_eq!(
                parsed["result"], expected,
                "round {round}: a new snapshot holds this round's answer"
            );
            let old: Value = serde_json::from_slice(&previous).unwrap();
            assert!(
                parsed["evaluatedAt"].as_str() > old["evaluatedAt"].as_str(),
                "round {round}: never older than the one it replaced"
            );
            tally.replaced += 1;
            previous = now;
        }
        tally.most_temps = tally.most_temps.max(temp_files(device).len());
        let attempt = device.snapshot.with_file_name("posture.last-refresh.json");
        if let Ok(bytes) = std::fs::read(&attempt) {
            serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|e| {
                panic!(
                    "round {round}: a torn refresh record ({e}): {}",
                    String::from_utf8_lossy(&bytes)
                )
            });
        }
        if round.is_multiple_of(25) {
            let run = check_snapshot(device);
            let report = run.json();
            assert_eq!(report["source"], "snapshot", "round {round}: {report:#}");
            assert!(
                [0, 1].contains(&run.code),
                "round {round}: check gave {}:\n{report:#}",
                run.code
            );
        }
    }
    tally.elapsed = started.elapsed();
    tally
}

root_test!(
    fn refresh_killed_at_random_points_leaves_the_old_or_the_new_snapshot() {
        let tenant = Tenant::start(vec![record(0)]);
        let device = Device::with_config(&tenant, Config::of(&tenant).deadline("10s"));
        let tally = kill_rounds(&device, kills());
        finish(&device);
        let left = temp_files(&device);
        eprintln!(
            "crash loop: {} kills in {:?} ({} runs finished first, {} snapshots replaced, {} kept); at most {} temp file(s) after a kill, {} after a complete refresh",
            tally.kills,
            tally.elapsed,
            tally.finished,
            tally.replaced,
            tally.kept,
            tally.most_temps,
            left.len()
        );
        assert_eq!(tally.kills, kills());
        assert!(
            tally.replaced > 0 && tally.kept > 0,
            "the kills landed both before and after the write: {tally:?}"
        );
        // Temp files of killed writes do not pile up: each refresh sweeps them.
        assert!(
            left.is_empty(),
            "temp files left after a complete refresh: {left:?}"
        );
        assert!(tally.most_temps <= 5, "temp files piled up: {tally:?}");
        tenant.assert_token_in_no_file();
    }
);
