//! The native stores a privileged refresh keeps in step with the snapshot: the
//! `trusted` marker beside it, which zero-trust clients pin by SHA-256.

use std::path::{Path, PathBuf};

use crate::helpers::{
    Config, Device, Integration, SERIAL, Tenant, UUID, agent, device_record, mode, root_test,
    unused_loopback_port,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// SHA-256 of `s1trust: trusted\n`, as an administrator pins it (docs/adapters.md).
const MARKER_SHA256: &str = "b6cd99a9bff76789e063e4b50520a6f3ffb515c69284567895a9f5842969ff13";

const OTHER_UUID: &str = "0c9d0c7e3b8a4f1e9d2a6b5c4e3f2a10";
const OTHER_SERIAL: &str = "INFECTED1";

fn marker(device: &Device) -> PathBuf {
    device.snapshot.with_file_name("trusted")
}

fn assert_marked(path: &Path) {
    let bytes = std::fs::read(path).expect("the marker is there while trusted");
    assert_eq!(hex(&Sha256::digest(&bytes)), MARKER_SHA256);
    assert_eq!(mode(path), 0o644);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn expire(snapshot: &Path) {
    let mut value: Value = serde_json::from_slice(&std::fs::read(snapshot).unwrap()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    value["evaluatedAt"] = json!(crate::helpers::rfc3339(now - time::Duration::minutes(2)));
    value["expiresAt"] = json!(crate::helpers::rfc3339(now - time::Duration::seconds(5)));
    std::fs::write(snapshot, value.to_string()).unwrap();
}

root_test!(
    fn the_marker_follows_the_answer_and_never_outlives_it() {
        let tenant = Tenant::start(vec![
            device_record(json!({})),
            agent(
                2,
                OTHER_UUID,
                Some(OTHER_SERIAL),
                json!({"activeThreats": 2}),
            ),
        ]);
        let device = Device::new(&tenant);
        let trusted = || device.set_identity(json!({"serialNumber": SERIAL, "agentUuid": UUID}));
        let infected =
            || device.set_identity(json!({"serialNumber": OTHER_SERIAL, "agentUuid": OTHER_UUID}));

        device.run(&["refresh"]).expect_code(0);
        assert_marked(&marker(&device));

        infected();
        device.run(&["refresh"]).expect_code(0);
        assert_eq!(device.check(&[]).1["result"], "not_trusted");
        assert!(
            !marker(&device).exists(),
            "withdrawn with the trusted answer"
        );

        trusted();
        device.run(&["refresh"]).expect_code(0);
        assert_marked(&marker(&device));

        // The tenant out of reach and the snapshot past its expiry: this refresh
        // cannot renew the answer, so the marker goes.
        expire(&device.snapshot);
        Config::default()
            .integration(Integration::new(
                "corp",
                &format!("https://127.0.0.1:{}", unused_loopback_port()),
            ))
            .deadline("3s")
            .snapshot(&device.snapshot)
            .write(&device.config);
        device.run(&["refresh"]).expect_code(3);
        assert!(
            !marker(&device).exists(),
            "an expired answer is not trusted"
        );

        Config::of(&tenant)
            .snapshot(&device.snapshot)
            .write(&device.config);
        device.run(&["refresh"]).expect_code(0);
        assert_marked(&marker(&device));
    }
);

root_test!(
    fn a_switched_off_marker_is_neither_written_nor_touched() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let device = Device::new(&tenant);
        let text = Config::of(&tenant).snapshot(&device.snapshot).text();
        std::fs::write(
            &device.config,
            format!("{text}\n[publish]\nmarker = false\n"),
        )
        .unwrap();
        device.run(&["refresh"]).expect_code(0);
        assert!(!marker(&device).exists());
    }
);

/// `doctor --json`'s "Published stores" lines as (what, ok, detail, hint), with the
/// plist store below `plist_root` (debug builds write it there on any OS).
fn store_lines(device: &Device, plist_root: &str) -> Vec<(String, bool, String, String)> {
    let run = device.run_with(&["doctor", "--json"], &[(PLIST_ROOT_ENV, plist_root)]);
    let report = run.json();
    crate::helpers::validate_doctor(&report);
    let section = report["sections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["title"] == "Published stores")
        .unwrap_or_else(|| panic!("no Published stores section:\n{}", run.stdout));
    section["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| {
            let text = |key: &str| step[key].as_str().unwrap_or_default().to_owned();
            (
                text("what"),
                step["ok"].as_bool().unwrap(),
                text("detail"),
                text("hint"),
            )
        })
        .collect()
}

const PLIST_ROOT_ENV: &str = "S1TRUST_TEST_PLIST_ROOT";

root_test!(
    fn doctor_says_whether_each_store_agrees_with_the_snapshot() {
        let tenant = Tenant::start(vec![
            device_record(json!({})),
            agent(
                2,
                OTHER_UUID,
                Some(OTHER_SERIAL),
                json!({"activeThreats": 2}),
            ),
        ]);
        let device = Device::new(&tenant);
        let root = tenant.dir.path().join("mac");
        let root = root.to_str().unwrap();
        let refresh = || {
            device
                .run_with(&["refresh"], &[(PLIST_ROOT_ENV, root)])
                .expect_code(0);
        };

        refresh();
        let plist = std::fs::read_to_string(
            Path::new(root).join("Library/Preferences/com.s1trust.posture.plist"),
        )
        .expect("a refresh writes the plist below the test root");
        assert!(plist.contains("<key>Trusted</key>\n\t<true/>"), "{plist}");
        let lines = store_lines(&device, root);
        let whats: Vec<&str> = lines.iter().map(|l| l.0.as_str()).collect();
        assert_eq!(whats, ["trusted marker", "plist store"], "{lines:#?}");
        assert!(lines.iter().all(|l| l.1), "{lines:#?}");
        assert!(
            lines[0]
                .2
                .contains("present: the snapshot says trusted until"),
            "{lines:#?}"
        );
        assert!(lines[1].2.contains("says trusted until"), "{lines:#?}");

        device.set_identity(json!({"serialNumber": OTHER_SERIAL, "agentUuid": OTHER_UUID}));
        refresh();
        let lines = store_lines(&device, root);
        assert!(lines.iter().all(|l| l.1), "{lines:#?}");
        assert!(
            lines[0]
                .2
                .ends_with("absent: the snapshot says not_trusted"),
            "{lines:#?}"
        );
        assert!(lines[1].2.contains("says not_trusted until"), "{lines:#?}");

        // The last refresh's answer is good for 2 s, and then refreshes stop: the
        // stores still say trusted, which only doctor can tell.
        device.set_identity(json!({"serialNumber": SERIAL, "agentUuid": UUID}));
        Config::of(&tenant)
            .snapshot(&device.snapshot)
            .max_age("2s")
            .write(&device.config);
        refresh();
        std::thread::sleep(std::time::Duration::from_millis(2500));
        let lines = store_lines(&device, root);
        assert!(lines.iter().all(|l| !l.1), "{lines:#?}");
        assert!(lines[0].2.contains("cannot expire by itself"), "{lines:#?}");
        assert!(
            lines[1].2.contains("says trusted, but it expired at"),
            "{lines:#?}"
        );
        assert!(
            lines
                .iter()
                .all(|l| l.3.starts_with("refreshes have stopped")),
            "{lines:#?}"
        );

        // A switched-off store is not listed.
        let text = Config::of(&tenant).snapshot(&device.snapshot).text();
        std::fs::write(
            &device.config,
            format!("{text}\n[publish]\nplist = false\n"),
        )
        .unwrap();
        refresh();
        let lines = store_lines(&device, root);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert_eq!((lines[0].0.as_str(), lines[0].1), ("trusted marker", true));
    }
);
