//! Devices through the relay, end to end: device → s1trust-relay → emulated tenant.
//! The device holds no API token, only the relay's credentials; its lookup, binding and
//! factor rules are the ones it applies to a console, and an answer from an inventory
//! older than `[relay] max_age` is `unknown`/`relay_stale`.

use serde_json::{Value, json};

use super::{Access, Relay, SECRET, Setup};
use crate::helpers::{
    Config, Device, Integration, SERIAL, TOKEN, Tenant, UUID, agent, device_record, now_rfc3339,
    root_test, validate_against, validate_doctor, write_private,
};

/// Records for the identities the tests play, beside the device's own ([`UUID`], [`SERIAL`]).
const INFECTED: &str = "c0ffee00c0ffee00c0ffee00c0ffee00";
const RETIRED_SERIAL: &str = "PF9RETIRE";
const MISMATCH: &str = "d00dfeedd00dfeedd00dfeedd00dfeed";

fn tenant() -> Tenant {
    let now = now_rfc3339();
    Tenant::start(vec![
        device_record(json!({})),
        agent(
            2,
            INFECTED,
            Some("PF2INFECT"),
            json!({"activeThreats": 2, "lastActiveDate": now}),
        ),
        // A reinstall: the old record decommissioned, the new one live.
        agent(
            3,
            "aaaa0000aaaa0000aaaa0000aaaa0000",
            Some(RETIRED_SERIAL),
            json!({"isDecommissioned": true, "isActive": false}),
        ),
        agent(
            4,
            "bbbb0000bbbb0000bbbb0000bbbb0000",
            Some(RETIRED_SERIAL),
            json!({"lastActiveDate": now}),
        ),
        // Found by UUID, but the record's serial is another machine's.
        agent(
            5,
            MISMATCH,
            Some("PF7OTHER"),
            json!({"lastActiveDate": now}),
        ),
    ])
}

/// A device configured to ask `relay` for `tenant`'s records with the relay's device
/// certificate (or, with [`Access::Secret`], `secret`), trusting the relay's CA.
fn device<'t>(tenant: &'t Tenant, relay: &Relay, secret: &str, config: Config) -> Device<'t> {
    let dir = tenant.dir.path();
    std::fs::write(dir.join("relay-ca.pem"), &relay.server.ca_pem).unwrap();
    std::fs::write(dir.join("device.pem"), &relay.device.cert_pem).unwrap();
    write_private(&dir.join("device.key"), &relay.device.key_pem);
    write_private(&dir.join("relay.secret"), &format!("{secret}\n"));
    let credentials = "client_cert = \"device.pem\"\nclient_key = \"device.key\"\nrelay_secret_file = \"relay.secret\"";
    let integration = Integration::of(tenant)
        .relay(
            &format!("https://localhost:{}", relay.devices.port()),
            credentials,
        )
        .ca_file("relay-ca.pem");
    Device::with_config(tenant, config.integration(integration))
}

fn start(tenant: &Tenant, access: Access) -> Relay {
    let relay = Relay::start(Setup {
        access,
        ..Setup::for_tenant(tenant)
    });
    relay.wait_ready();
    relay
}

fn factor<'r>(report: &'r Value, key: &str) -> &'r Value {
    report["factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap_or_else(|| panic!("no {key}: {report:#}"))
}

/// Neither output nor any file the device wrote holds the tenant's token: it never had it.
fn assert_no_token(device: &Device<'_>, outputs: &[&str]) {
    for text in outputs {
        assert!(!text.contains(TOKEN));
    }
    if let Ok(snapshot) = std::fs::read_to_string(&device.snapshot) {
        assert!(!snapshot.contains(TOKEN));
    }
}

root_test!(
    /// Binding and factors through the relay: the device's own record is trusted by UUID,
    /// an infected one is not, a reinstall's live record wins over its decommissioned
    /// one by serial, a UUID record of another machine's serial is refused, and a
    /// placeholder serial is never sent. The tenant sees only the relay's sync.
    fn devices_are_judged_through_the_relay_as_through_the_console() {
        let tenant = tenant();
        let relay = start(&tenant, Access::MutualTls);
        let synced = tenant.agent_requests().len();
        let device = device(&tenant, &relay, SECRET, Config::default());

        let (run, report) = device.check(&["--live"]);
        assert_eq!(run.code, 0, "{report:#}\n{}", run.stderr);
        assert_eq!(report["result"], "trusted");
        assert_eq!(report["integrations"][0]["matchedBy"], "uuid");
        assert_eq!(report["integrations"][0]["binding"], "serial");
        assert_no_token(&device, &[&run.stdout, &run.stderr]);

        device.set_identity(json!({"agentUuid": INFECTED, "serialNumber": "PF2INFECT"}));
        let (run, report) = device.check(&["--live"]);
        assert_eq!((run.code, &report["result"]), (1, &json!("not_trusted")));
        assert_eq!(
            factor(&report, "not_active_threat")["reason"],
            "active_threats"
        );

        device.set_identity(json!({"serialNumber": RETIRED_SERIAL}));
        let (_, report) = device.check(&["--live"]);
        assert_eq!(report["result"], "trusted", "{report:#}");
        assert_eq!(report["integrations"][0]["matchedBy"], "serial");
        assert_eq!(report["integrations"][0]["duplicates"], 1);
        assert_eq!(
            report["integrations"][0]["agent"]["uuid"],
            "bbbb0000bbbb0000bbbb0000bbbb0000"
        );

        device.set_identity(json!({"agentUuid": MISMATCH, "serialNumber": SERIAL}));
        let (_, report) = device.check(&["--live"]);
        assert_eq!(report["result"], "not_trusted");
        assert_eq!(
            factor(&report, "registered_with")["reason"],
            "identity_mismatch"
        );

        device.set_identity(json!({"serialNumber": null, "agentInstalled": true, "serialCandidates": [{"source": "smbios:type1",
            "value": "To Be Filled By O.E.M.", "usable": false, "reason": "placeholder"}]}));
        let (_, report) = device.check(&["--live"]);
        assert_eq!(
            (&report["result"], &report["reason"]),
            (&json!("unknown"), &json!("placeholder_serial"))
        );

        // A privileged refresh through the relay, then a normal check from its snapshot.
        device.set_identity(json!({"agentUuid": UUID, "serialNumber": SERIAL}));
        device.run(&["refresh"]).expect_code(0);
        let (run, report) = device.check(&[]);
        assert_eq!((run.code, &report["source"]), (0, &json!("snapshot")));
        assert_no_token(&device, &[&run.stdout, &run.stderr]);

        let asked = tenant.agent_requests();
        assert_eq!(
            asked.len(),
            synced,
            "only the relay's sync reached the tenant: {asked:?}"
        );
    }
);

root_test!(
    /// `lookup`, `integration test`, `integration list` and `doctor` work through the
    /// relay and say so; a substring of a serial finds nothing.
    fn admin_commands_work_through_the_relay_and_say_so() {
        let tenant = tenant();
        let relay = start(&tenant, Access::MutualTls);
        let device = device(&tenant, &relay, SECRET, Config::default());

        let found = device.run(&["lookup", "--serial", &SERIAL.to_lowercase(), "--json"]);
        found.expect_code(0);
        validate_against(crate::helpers::Schema::Lookup, &found.json());
        assert_eq!(found.json()["uuid"], UUID);
        let part = device.run(&["lookup", "--serial", &SERIAL[..6]]);
        part.expect_code(1);
        assert!(
            part.stderr
                .contains("asked through the relay https://localhost:"),
            "{}",
            part.stderr
        );

        let test = device.run(&["integration", "test", "corp", "--json"]);
        test.expect_code(0);
        let report = test.json();
        validate_against(crate::helpers::Schema::IntegrationTest, &report);
        assert_eq!(report["steps"].as_array().unwrap().len(), 1, "{report:#}");
        assert_eq!(report["steps"][0]["key"], "relay");
        assert!(
            report["steps"][0]["detail"]
                .as_str()
                .unwrap()
                .contains("synced at")
        );

        let list = device.run(&["integration", "list", "--json"]);
        let row = &list.json()["integrations"][0];
        assert!(
            row["relay"]
                .as_str()
                .unwrap()
                .starts_with("https://localhost:")
        );
        assert!(
            row["token"].as_str().unwrap().contains("the relay"),
            "{row:#}"
        );

        let doctor = device.run(&["doctor", "--json"]);
        let report = doctor.json();
        validate_doctor(&report);
        let text = report.to_string();
        assert!(
            text.contains("through the relay https://localhost:"),
            "{report:#}"
        );
        assert!(text.contains("relay credentials"), "{report:#}");
        assert_no_token(&device, &[&found.stdout, &test.stdout, &doctor.stdout]);
    }
);

root_test!(
    /// An inventory older than the device's `[relay] max_age` is `unknown`/`relay_stale`,
    /// never the record it holds; a wrong secret is refused, and said to be the device's
    /// credentials, not the tenant's token.
    fn stale_inventories_and_wrong_secrets_are_unknown() {
        let tenant = tenant();
        let relay = start(&tenant, Access::Secret);
        let stale = device(
            &tenant,
            &relay,
            SECRET,
            Config::default().relay_max_age("1s"),
        );
        std::thread::sleep(std::time::Duration::from_millis(2100));
        let (run, report) = stale.check(&["--live"]);
        assert_eq!(
            (run.code, &report["result"]),
            (3, &json!("unknown")),
            "{report:#}"
        );
        assert_eq!(report["reason"], "relay_stale");
        assert!(
            report["integrations"][0]["error"]
                .as_str()
                .unwrap()
                .contains("older than [relay] max_age (1s)"),
            "{report:#}"
        );

        let wrong = device(&tenant, &relay, "not-the-secret", Config::default());
        let (_, report) = wrong.check(&["--live"]);
        assert_eq!(
            (&report["result"], &report["reason"]),
            (&json!("unknown"), &json!("auth_failed"))
        );
        let test = wrong.run(&["integration", "test", "corp", "--json"]);
        test.expect_code(1);
        let hint = test.json()["steps"][0]["hint"].as_str().unwrap().to_owned();
        assert!(hint.contains("the relay refused this device"), "{hint}");
        assert!(!hint.contains("API token"), "{hint}");
    }
);
