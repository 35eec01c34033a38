//! Signing cost of a verdict, in process (`cargo bench --bench verdict_sign`): what a
//! refresh adds after its evaluation (hash the snapshot, build the claims, sign) and
//! what the signer spends per nonce request beside reading the snapshot and key, plus
//! what a backend spends verifying. docs/verdicts.md "Cost" quotes the numbers; the
//! end-to-end costs (refresh, `check --jwt`, a socket round trip) are in
//! benches/verdict.sh.

use std::time::{Duration, Instant};

use s1trust::posture::report::PostureReport;
use s1trust::verdict::DeviceKey;
use s1trust::verdict::jwt::{self, Binding, Claims, Expect};

const ROUNDS: u32 = 2000;

fn report() -> PostureReport {
    serde_json::from_value(serde_json::json!({
        "schemaVersion": 1, "result": "trusted", "reason": null,
        "evaluatedAt": "2026-11-22T12:00:00Z", "expiresAt": "2099-11-22T12:30:00Z",
        "source": "live",
        "device": { "serialNumber": "PF2ABCDE", "agentUuid": "b7b2d39171be4ae1af90f93d7ed20f07",
                    "hostname": "host", "osType": "linux", "osName": "Debian 12",
                    "agentVersion": "24.1.2.6", "agentInstalled": true, "hostId": "sha256:aa" },
        "integrations": [ { "name": "corp", "url": "https://usea1.sentinelone.net", "status": "ok",
            "reason": "agent_found", "matchedBy": "uuid", "duplicates": 0, "error": null,
            "agent": { "id": "1", "uuid": "b7b2d39171be4ae1af90f93d7ed20f07", "computerName": "host",
                       "serialNumber": "PF2ABCDE", "siteId": "9", "accountId": "7",
                       "agentVersion": "24.1.2.6", "isActive": true, "lastActiveDate": null,
                       "isDecommissioned": false } } ],
        "factors": [ { "key": "registered_with", "name": "Registered", "source": "corp",
                       "result": "satisfied", "reason": "agent_found", "detail": null,
                       "remediation": "-" },
                     { "key": "not_active_threat", "name": "Not Active Threat", "source": "corp",
                       "result": "satisfied", "reason": "no_active_threats", "detail": null,
                       "remediation": "-" } ],
        "notes": []
    }))
    .expect("a valid report")
}

fn time(what: &str, mut run: impl FnMut()) -> Duration {
    run();
    let started = Instant::now();
    for _ in 0..ROUNDS {
        run();
    }
    let each = started.elapsed() / ROUNDS;
    println!("{what:<44} {:>8.1} µs", each.as_secs_f64() * 1e6);
    each
}

fn main() {
    let report = report();
    let bytes = serde_json::to_vec_pretty(&report).expect("encodes");
    let (key, pem) = DeviceKey::generate().expect("a key");
    let now = time::OffsetDateTime::now_utc();
    let mut token = String::new();
    time("parse the PKCS#8 key", || {
        DeviceKey::from_pem(&pem).expect("parses");
    });
    time("sign a stored verdict (hash, claims, ES256)", || {
        let claims = Claims::new(&report, &jwt::sha256_hex(&bytes), now, Binding::default());
        token = jwt::sign(&key, &claims).expect("signs");
    });
    time("sign a nonce-bound verdict", || {
        let binding = Binding {
            nonce: Some("q3Jx0c9vTg2pS1Jk".into()),
            aud: Some("zt.example.com".into()),
            lifetime: Some(Duration::from_secs(300)),
        };
        let claims = Claims::new(&report, &jwt::sha256_hex(&bytes), now, binding);
        jwt::sign(&key, &claims).expect("signs");
    });
    let keys = [key.public().clone()];
    time("verify (ring)", || {
        jwt::verify(&token, &keys, &Expect::default(), now.unix_timestamp()).expect("valid");
    });
    println!(
        "token: {} bytes; snapshot: {} bytes",
        token.len(),
        bytes.len()
    );
}
