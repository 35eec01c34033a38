//! `s1trust identity --json` end to end on Linux, in a fake machine (see
//! [`crate::helpers::machine`]) holding a real SMBIOS table pair, a fake
//! `/sys/class/dmi/id` and a stand-in `/opt/sentinelone/bin/sentinelctl`.
//!
//! Skips with a notice when not root or when `unshare` cannot make a namespace.

use serde_json::Value;

use crate::helpers::machine::{Machine, REGISTERED_UUID as UUID, VERSION, sh_quoted};
use crate::helpers::{fixture, namespace_test};

/// The console URL in `linux-management-status.registered.txt`.
const URL: &str = "https://usea1-acme.sentinelone.net";

const MANY_KEYS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-management-status.many-keys.txt"
));
const RESET: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/sentinelctl/linux-management-status.reset.txt"
));

/// A stand-in whose `management status` loses its connection to the agent the first
/// `resets` times (it counts its calls in `/opt/sentinelone/calls`), then prints `status`.
fn flaky_sentinelctl(resets: u32, status: &str) -> String {
    format!(
        "#!/bin/sh\n\
         case \"$*\" in\n\
         'management status')\n\
           n=$(cat /opt/sentinelone/calls 2>/dev/null || echo 0); n=$((n + 1)); echo $n > /opt/sentinelone/calls\n\
           if [ $n -le {resets} ]; then printf '%s' {reset}; exit 0; fi\n\
           printf '%s' {status} ;;\n\
         'version') printf '%s' {version} ;;\n\
         *) echo \"unexpected arguments: $*\" >&2; exit 2 ;;\n\
         esac\n",
        reset = sh_quoted(RESET),
        status = sh_quoted(status),
        version = sh_quoted(VERSION)
    )
}

fn reasons(json: &Value) -> Vec<(String, String)> {
    json["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["source"].as_str().unwrap().to_owned(),
                p["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

namespace_test!(
    fn real_smbios_tables_and_a_registered_agent() {
        let Some(pair) = fixture("smbios/dell-xps13-9365-smbios3.0-sysfs") else {
            return;
        };
        let machine = Machine::new(true)
            .with_tables(&pair)
            .with_dmi_id("NOT-USED-WHEN-TABLES-WORK", "Dell Inc.");
        let (code, json) = machine.identity(&[]);
        assert_eq!(code, 0, "{json:#}");
        assert_eq!(json["serialNumber"], "2R0Q2G2");
        assert_eq!(json["serialSource"], "smbios:type1");
        let candidates: Vec<(&str, &str)> = json["serialCandidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["source"].as_str().unwrap(), c["value"].as_str().unwrap()))
            .collect();
        assert_eq!(
            candidates,
            [
                ("smbios:type1", "2R0Q2G2"),
                ("smbios:type3", "2R0Q2G2"),
                ("smbios:type2", "/2R0Q2G2/CN1296374E0065/")
            ]
        );
        assert_eq!(json["virtual"], false);
        assert_eq!(json["agentInstalled"], true);
        assert_eq!(json["agentUuid"], UUID);
        assert_eq!(json["agentUuidSource"], "sentinelctl management status");
        assert_eq!(json["agentVersion"], "24.1.2.6");
        assert_eq!(json["managementUrl"], URL);
        assert_eq!(json["agentState"]["connected"], true);
        assert_eq!(json["osType"], "linux");
        assert!(json["hostname"].is_string());
        assert!(json["osName"].is_string());
        assert_eq!(reasons(&json), Vec::<(String, String)>::new());
    }
);

namespace_test!(
    fn dmi_id_fallback_and_an_unregistered_agent() {
        let machine = Machine::new(false).with_dmi_id("VMware-56 4d e2 c3 c3 c0", "VMware, Inc.");
        let (code, json) = machine.identity(&[]);
        assert_eq!(code, 1, "{json:#}");
        assert_eq!(json["serialNumber"], "VMware-56 4d e2 c3 c3 c0");
        assert_eq!(json["serialSource"], "sysfs:product_serial");
        assert_eq!(json["virtual"], true);
        assert_eq!(json["virtualPlatform"], "vmware");
        assert_eq!(json["serialCandidates"][1]["reason"], "placeholder");
        assert_eq!(json["agentInstalled"], true);
        assert_eq!(json["agentUuid"], Value::Null);
        assert_eq!(json["managementUrl"], Value::Null);
        let reasons = reasons(&json);
        assert!(
            reasons.contains(&("/sys/firmware/dmi/tables/DMI".into(), "not_present".into())),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&(
                "sentinelctl management status".into(),
                "not_registered".into()
            )),
            "{reasons:?}"
        );
    }
);

namespace_test!(
    fn unsafe_agent_folder_is_refused() {
        let machine = Machine::new(true)
            .with_dmi_id("PF2ABCDE", "LENOVO")
            .unsafe_folder();
        let (code, json) = machine.identity(&[]);
        assert_eq!(code, 3, "{json:#}");
        assert_eq!(json["serialNumber"], "PF2ABCDE");
        assert_eq!(json["agentInstalled"], true);
        assert_eq!(json["agentUuid"], Value::Null);
        let problem = &json["problems"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(problem["reason"], "unsafe");
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("/opt/sentinelone/bin is writable by its group or by others (mode 0775)"),
            "{problem:#}"
        );
        assert!(problem["hint"].is_string());
    }
);

namespace_test!(
    fn not_root_cannot_read_the_serial() {
        let machine = Machine::new(true).with_dmi_id("PF2ABCDE", "LENOVO");
        let nobody = [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ];
        let (code, json) = machine.identity(&nobody);
        assert_eq!(code, 3, "{json:#}");
        assert_eq!(json["serialNumber"], Value::Null);
        // The agent's tool is root-owned and safe, so it still runs (as nobody).
        assert_eq!(json["agentUuid"], UUID);
        let denied: Vec<&Value> = json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["reason"] == "permission_denied")
            .collect();
        assert_eq!(denied.len(), 2, "{json:#}");
        assert_eq!(denied[0]["source"], "/sys/class/dmi/id/product_serial");
        assert!(denied[0]["hint"].as_str().unwrap().contains("root"));
    }
);

namespace_test!(
    /// The Linux tool's transient `Connection reset by peer` is tried once more; newer
    /// agents' many extra keys and their dashed UUID are read as they are.
    fn a_connection_reset_is_retried_once_end_to_end() {
        let machine = Machine::new(true)
            .with_dmi_id("PF2ABCDE", "LENOVO")
            .with_sentinelctl(&flaky_sentinelctl(1, MANY_KEYS));
        let (code, json) = machine.identity(&[]);
        assert_eq!(code, 0, "{json:#}");
        assert_eq!(json["agentUuid"], "6f1d3c2a-8b4e-4c9d-a1e2-3b4c5d6e7f80");
        assert_eq!(json["managementUrl"], URL);
        assert_eq!(json["agentState"]["connected"], true);
        let agent_problems: Vec<&Value> = json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["fact"] == "agent")
            .collect();
        assert!(agent_problems.is_empty(), "{json:#}");

        // A reset that lasts is one problem after one retry, and the identity is unknown.
        let machine = Machine::new(true)
            .with_dmi_id("PF2ABCDE", "LENOVO")
            .with_sentinelctl(&flaky_sentinelctl(99, MANY_KEYS));
        let (code, json) = machine.identity(&[]);
        assert_eq!(code, 3, "{json:#}");
        assert_eq!(json["agentUuid"], Value::Null);
        let problem = json["problems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["source"] == "sentinelctl management status")
            .unwrap_or_else(|| panic!("{json:#}"));
        assert_eq!(problem["reason"], "failed");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("Connection reset by peer"), "{detail}");
        assert!(detail.contains("also when tried again"), "{detail}");
    }
);
