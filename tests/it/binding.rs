//! The identity binding over the shapes real tenants serve: the emulator's bundled
//! records (tests/emulator/fixtures/agents.json: dashed Linux UUIDs, `serialNumber`
//! null or missing, placeholder serials, string booleans, `"None"` strings) and
//! devices read from real SMBIOS dumps (tests/fixtures/smbios), through `lookup`,
//! `check --live`, `refresh` and `check --snapshot`.

use std::path::Path;

use s1trust::identity::host::HostFacts;
use s1trust::identity::{AgentReading, SerialReading, Sourced, assemble, smbios};
use serde_json::{Value, json};

use crate::helpers::{self, Config, Device, Integration, TOKEN, Tenant, fixture, root_test};

/// Bundled records (see the module comment), by the UUID each was registered with.
const RACK_DB_07: &str = "3c9a1f27-5b6e-4d80-9f12-7a4be5c6d019"; // "To Be Filled By O.E.M."
const LT_0311: &str = "5d2e8b7c1a0f4e3d9c8b7a6f5e4d3c2b"; // the board's serial, L1HF9380025
const WS_0042: &str = "8e7d6c5b4a3928171605f4e3d2c1b0a9"; // "Default string"
const K8S_NODE_12: &str = "9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a"; // no serialNumber key
const BUILD_AGENT_03: &str = "2e4f6a8c-0b1d-4e3f-9a7c-9e1b3d5f7a9c"; // serialNumber null
const LT_0500: &str = "b1c2d3e4f5a6478990a1b2c3d4e5f607"; // string booleans, "None" serial
const LT_0142: &str = "a3f1c9e2b7d84e6f9a0b1c2d3e4f5a6b"; // PF2ABCDE

/// The emulator's bundled records, plus `extra`.
fn bundled(extra: Vec<Value>) -> Tenant {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/emulator/fixtures/agents.json"
    );
    let mut agents = s1_emulator::load_agents(Path::new(path)).expect("bundled agents");
    agents.extend(extra);
    Tenant::start(agents)
}

/// A device as s1trust reads it: the serials of a real SMBIOS dump, the agent UUID as
/// its tool prints it. `None` (the test skips) when the dump is missing.
fn device_from_dump(dump: &str, uuid: Option<&str>, os: &str) -> Option<Value> {
    let bytes = std::fs::read(fixture(&format!("smbios/{dump}"))?).unwrap();
    let serials = smbios::from_dump(&bytes).unwrap_or_else(|e| panic!("{dump}: {e}"));
    let agent = AgentReading {
        installed: Some("/opt/sentinelone/bin/sentinelctl".into()),
        uuid: uuid.map(|u| Sourced::new(u, "sentinelctl management status")),
        ..AgentReading::default()
    };
    let identity = assemble(
        SerialReading::from_smbios(&serials),
        agent,
        Some(true),
        HostFacts::default(),
    );
    let mut value = serde_json::to_value(identity).unwrap();
    value["osType"] = json!(os);
    value["hostname"] = json!(dump.split('-').take(2).collect::<Vec<_>>().join("-"));
    Some(value)
}

/// The device with `identity`, configured for `tenant` as "Production SentinelOne"
/// with the `factors` on besides the defaults; every run asserts the token travelled
/// only in the header.
fn device_for<'t>(tenant: &'t Tenant, identity: &Value, factors: &[&str]) -> Device<'t> {
    let integration = Integration::of(tenant)
        .named("Production SentinelOne")
        .factors(factors);
    let device =
        Device::with_config(tenant, Config::default().integration(integration)).watching_requests();
    device.set_identity(identity.clone());
    device
}

fn registered_with(report: &Value) -> &Value {
    report["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "registered_with")
        .unwrap_or_else(|| panic!("no registered_with: {report:#}"))
}

/// Asserts a trusted live answer bound as `binding` (`reason`, `source`).
fn expect_trusted(report: &Value, binding: &str, reason: Option<&str>, source: Option<&str>) {
    assert_eq!(report["result"], "trusted", "{report:#}");
    let integration = &report["integrations"][0];
    assert_eq!(integration["reason"], "agent_found");
    assert_eq!(integration["binding"], binding, "{integration:#}");
    assert_eq!(
        integration["bindingReason"],
        json!(reason),
        "{integration:#}"
    );
    assert_eq!(
        integration["bindingSource"],
        json!(source),
        "{integration:#}"
    );
}

root_test!(
    /// A white-box server (ASRock Rack X570D4U: SMBIOS Type 1 and 3 say "To Be Filled
    /// By O.E.M.", Type 2 holds the serial) whose agent recorded the Type 1 placeholder:
    /// trusted by UUID at every step, and the report says the UUID stands alone.
    fn white_box_server_is_trusted_through_a_placeholder_record() {
        let Some(identity) = device_from_dump(
            "asrockrack-x570d4u-smbios3.3-builtep-dump.bin",
            Some(RACK_DB_07),
            "linux",
        ) else {
            return;
        };
        assert_eq!(identity["serialNumber"], "209624590000277");
        assert_eq!(identity["serialSource"], "smbios:type2");
        let tenant = bundled(vec![]);
        let device = device_for(&tenant, &identity, &[]);

        let (run, report) = device.check(&["--live"]);
        assert_eq!(run.code, 0, "{report:#}");
        expect_trusted(
            &report,
            "uuid_only",
            Some("record_serial_placeholder"),
            None,
        );
        assert_eq!(
            report["integrations"][0]["agent"]["serialNumber"],
            "To Be Filled By O.E.M."
        );
        assert_eq!(
            registered_with(&report)["detail"],
            "bound by agent UUID only: the record's serial \"To Be Filled By O.E.M.\" is a placeholder"
        );
        let table = device.run(&["check", "--live"]);
        table.expect_code(0);
        assert!(
            table
                .stdout
                .contains("bound by agent UUID only (record_serial_placeholder)"),
            "{}",
            table.stdout
        );

        // refresh writes it, and the login path reads it back unchanged.
        device.run(&["refresh"]).expect_code(0);
        let (run, snapshot) = device.check(&["--snapshot"]);
        assert_eq!(run.code, 0, "{snapshot:#}");
        assert_eq!(snapshot["source"], "snapshot");
        expect_trusted(
            &snapshot,
            "uuid_only",
            Some("record_serial_placeholder"),
            None,
        );
        let doctor = device.run(&["doctor"]);
        assert!(
            doctor.stdout.contains(
                "found by agent UUID, bound to this device by agent UUID only (record_serial_placeholder)"
            ),
            "{}",
            doctor.stdout
        );

        // The same for a desktop whose every SMBIOS serial is "Default string".
        let Some(identity) = device_from_dump(
            "gigabyte-x399-aorus-xtreme-smbios3.1-dump.bin",
            Some(WS_0042),
            "windows",
        ) else {
            return;
        };
        assert_eq!(identity["serialNumber"], Value::Null);
        device.set_identity(identity);
        let (run, report) = device.check(&["--live"]);
        assert_eq!(run.code, 0, "{report:#}");
        expect_trusted(
            &report,
            "uuid_only",
            Some("record_serial_placeholder"),
            None,
        );
    }
);

root_test!(
    /// A laptop whose agent recorded the board's serial (SMBIOS Type 2) while s1trust
    /// reports the system's (Type 1): bound through Type 2, by UUID and by serial alone.
    fn device_is_bound_through_its_type_2_serial() {
        let Some(identity) = device_from_dump(
            "lenovo-thinkpad-t480-smbios3.0-dump.bin",
            Some(LT_0311),
            "windows",
        ) else {
            return;
        };
        assert_eq!(identity["serialNumber"], "PC131TBF");
        let tenant = bundled(vec![]);
        let device = device_for(&tenant, &identity, &[]);
        let (run, report) = device.check(&["--live"]);
        assert_eq!(run.code, 0, "{report:#}");
        expect_trusted(&report, "serial", None, Some("smbios:type2"));
        assert_eq!(
            registered_with(&report)["detail"],
            "bound by this device's serial from smbios:type2"
        );
        device.run(&["refresh"]).expect_code(0);
        let (run, snapshot) = device.check(&["--snapshot"]);
        assert_eq!(run.code, 0);
        expect_trusted(&snapshot, "serial", None, Some("smbios:type2"));

        // Without a readable UUID the serials are tried in order: Type 1 finds nothing,
        // Type 2 finds the record.
        let mut no_uuid = identity.clone();
        no_uuid["agentUuid"] = Value::Null;
        device.set_identity(no_uuid);
        tenant.emulator.clear_requests();
        let (run, report) = device.check(&["--live"]);
        assert_eq!(run.code, 0, "{report:#}");
        assert_eq!(report["integrations"][0]["matchedBy"], "serial");
        expect_trusted(&report, "serial", None, Some("smbios:type2"));
        let asked: Vec<String> = tenant
            .agent_requests()
            .iter()
            .filter_map(|r| r.param("serialNumber__contains").map(str::to_owned))
            .collect();
        assert_eq!(asked, ["PC131TBF", "L1HF9380025"]);
    }
);

root_test!(
    /// Type 3 (chassis) serial: the record holds it, s1trust reports Type 1.
    fn device_is_bound_through_its_type_3_serial() {
        let uuid = "c0ffee00c0ffee00c0ffee00c0ffee01";
        let tenant = bundled(vec![helpers::agent(
            21,
            uuid,
            Some("CHS-3000-7781"),
            json!({"lastActiveDate": "2026-05-20T08:14:03Z"}),
        )]);
        let candidates = json!([
            {"source": "smbios:type1", "value": "SYS-1000-1234", "usable": true, "reason": null},
            {"source": "smbios:type3", "value": "chs-3000-7781", "usable": true, "reason": null},
            {"source": "smbios:type2", "value": "Default string", "usable": false, "reason": "placeholder"}
        ]);
        let identity = json!({"serialNumber": "SYS-1000-1234", "serialSource": "smbios:type1",
            "serialCandidates": candidates, "agentUuid": uuid});
        let device = device_for(&tenant, &identity, &[]);
        let (run, report) = device.check(&["--live"]);
        assert_eq!(run.code, 0, "{report:#}");
        expect_trusted(&report, "serial", None, Some("smbios:type3"));
    }
);

root_test!(
    /// An agent UUID copied onto another machine, whose serials (Type 1, 2 and 3) are all
    /// different from the record's: still not trusted.
    fn copied_uuid_on_another_machine_is_an_identity_mismatch() {
        let tenant = bundled(vec![]);
        for (dump, uuid, theirs) in [
            (
                "dell-xps13-9365-smbios3.0-combined-dump.bin",
                LT_0311,
                "L1HF9380025",
            ),
            (
                "asrockrack-x570d4u-smbios3.3-builtep-dump.bin",
                LT_0142,
                "PF2ABCDE",
            ),
        ] {
            let Some(identity) = device_from_dump(dump, Some(uuid), "windows") else {
                return;
            };
            let device = device_for(&tenant, &identity, &[]);
            let (run, report) = device.check(&["--live"]);
            assert_eq!(run.code, 1, "{dump}: {report:#}");
            assert_eq!(report["result"], "not_trusted");
            assert_eq!(report["reason"], "identity_mismatch");
            assert_eq!(report["integrations"][0]["binding"], Value::Null);
            let detail = registered_with(&report)["detail"].as_str().unwrap();
            assert!(
                detail.contains(&format!("the record's serial {theirs:?} equals none")),
                "{detail}"
            );
            // The refresh records the same answer.
            device.run(&["refresh"]).expect_code(0);
            let (run, snapshot) = device.check(&["--snapshot"]);
            assert_eq!(run.code, 1);
            assert_eq!(snapshot["reason"], "identity_mismatch");
        }
    }
);

root_test!(
    /// Linux records with a dashed UUID and no serial (no key, or `null`): trusted by UUID.
    fn linux_record_with_a_dashed_uuid_and_no_serial_is_trusted_by_uuid() {
        let tenant = bundled(vec![]);
        for uuid in [K8S_NODE_12, BUILD_AGENT_03] {
            let Some(identity) =
                device_from_dump("qemu-kvm-smbios2.4-dump.bin", Some(uuid), "linux")
            else {
                return;
            };
            // QEMU's firmware says "Not Specified": the device has no usable serial either.
            assert_eq!(identity["serialNumber"], Value::Null);
            let device = device_for(&tenant, &identity, &[]);
            let (run, report) = device.check(&["--live"]);
            assert_eq!(run.code, 0, "{uuid}: {report:#}");
            expect_trusted(&report, "uuid_only", Some("record_serial_missing"), None);
            assert_eq!(report["integrations"][0]["agent"]["uuid"], uuid);
            assert_eq!(
                report["integrations"][0]["agent"]["serialNumber"],
                Value::Null
            );
            device.run(&["refresh"]).expect_code(0);
            let (run, snapshot) = device.check(&["--snapshot"]);
            assert_eq!(run.code, 0);
            expect_trusted(&snapshot, "uuid_only", Some("record_serial_missing"), None);
        }
        // The tool may print the UUID in upper case or without dashes: the same record.
        let identity = json!({"agentUuid": K8S_NODE_12.replace('-', "").to_uppercase(),
            "serialCandidates": [{"source": "smbios:type1", "value": "Not Specified", "usable": false, "reason": "placeholder"}]});
        let device = device_for(&tenant, &identity, &[]);
        let (run, report) = device.check(&["--live"]);
        assert_eq!(run.code, 0, "{report:#}");
        assert_eq!(
            report["integrations"][0]["agent"]["computerName"],
            "k8s-node-12"
        );
    }
);

root_test!(
    /// A record carried as some recorded fixtures do: booleans as strings ("True",
    /// "False") and Python-style "None" strings, the serial among them.
    fn record_with_string_booleans_and_none_strings_is_judged() {
        let Some(identity) = device_from_dump(
            "microsoft-surface-laptop-3-smbios3.2-builtep-dump.bin",
            Some(LT_0500),
            "windows",
        ) else {
            return;
        };
        let tenant = bundled(vec![]);
        let device = device_for(
            &tenant,
            &identity,
            &["not_infected", "disk_encrypted", "firewall_enabled"],
        );
        let (run, report) = device.check(&["--live"]);
        assert_eq!(run.code, 1, "{report:#}");
        let integration = &report["integrations"][0];
        assert_eq!(integration["binding"], "uuid_only");
        assert_eq!(integration["bindingReason"], "record_serial_placeholder");
        assert_eq!(integration["agent"]["isActive"], true);
        assert_eq!(integration["agent"]["isDecommissioned"], false);
        let result = |key: &str| {
            report["factors"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["key"] == key)
                .map(|f| f["result"].as_str().unwrap().to_owned())
                .unwrap()
        };
        assert_eq!(result("registered_with"), "satisfied");
        assert_eq!(result("not_infected"), "satisfied", "\"False\" is false");
        assert_eq!(result("disk_encrypted"), "satisfied", "\"True\" is true");
        assert_eq!(result("firewall_enabled"), "not_satisfied");
        assert_eq!(report["reason"], "firewall_disabled");
    }
);

/// `lookup` over the same records: dashed UUIDs, missing and placeholder serials,
/// string booleans, single-page answers without `nextCursor`, `detail: null` errors.
#[test]
fn lookup_reads_real_record_shapes() {
    let tenant = bundled(vec![]);

    let run = tenant.run(&["lookup", "--uuid", K8S_NODE_12]);
    run.expect_code(0);
    let object = run.json();
    assert_eq!(object["computerName"], "k8s-node-12");
    assert_eq!(object["uuid"], K8S_NODE_12);
    assert_eq!(object["serialNumber"], Value::Null);
    assert_eq!(object["osType"], "linux");
    assert_eq!(object["totalItems"], 1);
    assert!(
        object["rawResponse"]["pagination"]
            .get("nextCursor")
            .is_none()
    );

    let run = tenant.run(&["lookup", "--uuid", &LT_0500.to_uppercase()]);
    run.expect_code(0);
    let object = run.json();
    assert_eq!(object["isActive"], true);
    assert_eq!(object["isDecommissioned"], false);
    assert_eq!(object["serialNumber"], "None");

    let run = tenant.run(&["lookup", "--serial", "l1hf9380025"]);
    run.expect_code(0);
    assert_eq!(run.json()["uuid"], LT_0311);

    // Placeholders are refused before any request, whatever records hold them.
    tenant.emulator.clear_requests();
    for placeholder in ["To Be Filled By O.E.M.", "Default string", "None"] {
        let run = tenant.run(&["lookup", "--serial", placeholder]);
        run.expect_code(2);
    }
    assert!(tenant.agent_requests().is_empty());

    // A rejected token: the console's error item, detail null, is passed through.
    tenant.emulator.set_faults(vec![s1_emulator::Fault::new(
        s1_emulator::FaultKind::Status {
            code: 401,
            retry_after: None,
        },
    )]);
    let run = tenant.run(&["lookup", "--uuid", RACK_DB_07]);
    run.expect_code(3);
    let object = run.json();
    assert_eq!(object["statusCode"], 401);
    assert_eq!(
        object["rawResponse"],
        json!({"errors": [{"code": 4010010, "detail": null, "title": "Authentication Failed"}]})
    );
    assert!(!run.stdout.contains(TOKEN));
}
