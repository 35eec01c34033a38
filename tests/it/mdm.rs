//! `check --format intune|jamf|kandji|workspace-one`, each against what its MDM
//! reads; the Intune line is judged by the shipped rules, as Intune would.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::helpers::{Device, Tenant, agent, device_record, namespace_test, root_test};
use serde_json::{Value, json};

const RULES: &str = include_str!("../../packaging/mdm/intune/rules.json");

/// Intune custom compliance: the rules a discovery output fails (their setting
/// names), judged with the documented operators and data types.
fn intune_failures(output: &Value, rules: &Value) -> Vec<String> {
    rules["Rules"]
        .as_array()
        .expect("a Rules array")
        .iter()
        .filter(|rule| !passes(rule, output))
        .map(|rule| rule["SettingName"].as_str().unwrap().to_owned())
        .collect()
}

fn passes(rule: &Value, output: &Value) -> bool {
    let name = rule["SettingName"].as_str().unwrap();
    // Intune: a setting the script did not report is an error, never compliant.
    let actual = output.get(name).unwrap_or_else(|| panic!("{name} missing"));
    let operand = &rule["Operand"];
    let order = match rule["DataType"].as_str().unwrap() {
        "Boolean" => {
            assert!(actual.is_boolean(), "{name}: {actual} is not a Boolean");
            let operand = operand
                .as_bool()
                .or_else(|| operand.as_str().map(|s| s == "true"));
            actual.as_bool().unwrap().cmp(&operand.unwrap())
        }
        "String" => {
            assert!(actual.is_string(), "{name}: {actual} is not a String");
            actual.as_str().unwrap().cmp(operand.as_str().unwrap())
        }
        "Int64" => {
            assert!(actual.is_i64(), "{name}: {actual} is not an Int64");
            let operand = operand.as_i64().or_else(|| operand.as_str()?.parse().ok());
            actual.as_i64().unwrap().cmp(&operand.unwrap())
        }
        "Double" => {
            let operand = operand.as_f64().or_else(|| operand.as_str()?.parse().ok());
            actual.as_f64().unwrap().total_cmp(&operand.unwrap())
        }
        other => panic!("{name}: data type {other} is not one s1trust ships"),
    };
    use std::cmp::Ordering::*;
    match rule["Operator"].as_str().unwrap() {
        "IsEquals" => order == Equal,
        "NotEquals" => order != Equal,
        "GreaterThan" => order == Greater,
        "GreaterEquals" => order != Less,
        "LessThan" => order == Less,
        "LessEquals" => order != Greater,
        other => panic!("{name}: operator {other} is not documented"),
    }
}

#[test]
fn the_evaluator_applies_each_operator_and_type() {
    let rule = |op: &str, ty: &str, operand: Value| json!({"Rules": [{"SettingName": "x", "Operator": op, "DataType": ty, "Operand": operand}]});
    let out = json!({"x": 5});
    assert!(intune_failures(&out, &rule("GreaterThan", "Int64", json!(4))).is_empty());
    assert!(!intune_failures(&out, &rule("LessThan", "Int64", json!(5))).is_empty());
    assert!(intune_failures(&out, &rule("LessEquals", "Int64", json!("5"))).is_empty());
    let out = json!({"x": true});
    assert!(intune_failures(&out, &rule("IsEquals", "Boolean", json!(true))).is_empty());
    assert!(!intune_failures(&out, &rule("NotEquals", "Boolean", json!(true))).is_empty());
    let out = json!({"x": "trusted"});
    assert!(!intune_failures(&out, &rule("IsEquals", "String", json!("unknown"))).is_empty());
}

/// `check --snapshot --format <format>`: the answer the last refresh left.
fn run_format(device: &Device, format: &str) -> (i32, String) {
    let run = device.run(&["check", "--snapshot", "--format", format]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{format}: exactly one line: {:?}",
        run.stdout
    );
    (run.code, lines[0].to_owned())
}

fn every_format(device: &Device, expect: &str, compliant: bool) {
    let rules: Value = serde_json::from_str(RULES).unwrap();
    let (code, line) = run_format(device, "intune");
    assert_eq!(code, 0, "Intune reads no output from a failing script");
    let output: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(line, output.to_string(), "compressed JSON");
    assert_eq!(output["result"], expect);
    let failures = intune_failures(&output, &rules);
    assert_eq!(failures.is_empty(), compliant, "{failures:?} for {line}");
    let (code, line) = run_format(device, "jamf");
    assert_eq!((code, line), (0, format!("<result>{expect}</result>")));
    let (code, line) = run_format(device, "workspace-one");
    assert_eq!((code, line), (0, expect.to_owned()));
    let (code, line) = run_format(device, "kandji");
    assert_eq!(code == 0, compliant, "Kandji passes on exit 0 only: {line}");
    assert!(line.starts_with(&format!("s1trust: {expect}")), "{line}");
}

root_test!(
    fn each_mdm_reads_the_answer_it_expects() {
        let tenant = Tenant::start(vec![
            device_record(json!({})),
            agent(
                2,
                "0c9d0c7e3b8a4f1e9d2a6b5c4e3f2a10",
                Some("INFECTED1"),
                json!({"activeThreats": 1}),
            ),
        ]);
        let device = Device::new(&tenant);
        every_format(&device, "unknown", false);

        device.run(&["refresh"]).expect_code(0);
        every_format(&device, "trusted", true);

        device.set_identity(
            json!({"serialNumber": "INFECTED1", "agentUuid": "0c9d0c7e3b8a4f1e9d2a6b5c4e3f2a10"}),
        );
        device.run(&["refresh"]).expect_code(0);
        every_format(&device, "not_trusted", false);
        let (_, line) = run_format(&device, "intune");
        let failures = intune_failures(
            &serde_json::from_str(&line).unwrap(),
            &serde_json::from_str(RULES).unwrap(),
        );
        assert_eq!(failures, ["result", "not_active_threat"]);
    }
);

/// In a private mount namespace, with `/usr/bin` and `/usr/local/bin` overlaid (the
/// host's untouched), puts `$1` at both installed paths unless it is empty, then runs
/// the shipped script `$3`.
const INSTALLED: &str = r#"
set -e
bin=$1; layer=$2; script=$3
for dir in /usr/bin /usr/local/bin; do
    name=$(echo "$dir" | tr / _)
    mkdir -p "$dir" "$layer/$name/upper" "$layer/$name/work"
    mount -t overlay overlay -o "lowerdir=$dir,upperdir=$layer/$name/upper,workdir=$layer/$name/work" "$dir"
    if [ -n "$bin" ]; then cp "$bin" "$dir/s1trust"; fi
done
exec sh "$script"
"#;

/// Runs a script of `packaging/mdm` on `device`, with s1trust installed or not.
fn run_script(device: &Device, script: &str, installed: bool) -> (i32, String) {
    let layer = crate::helpers::scratch();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("packaging/mdm")
        .join(script);
    let bin = if installed {
        crate::helpers::s1trust_bin()
    } else {
        PathBuf::new()
    };
    let out = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            INSTALLED,
            "sh",
        ])
        .arg(&bin)
        .arg(layer.path())
        .arg(&script)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("S1TRUST_CONFIG", &device.config)
        .env("S1TRUST_TEST_IDENTITY", &device.identity)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{script:?}: one line: {stdout:?} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), lines[0].to_owned())
}

namespace_test!(
    fn every_shipped_shell_script_reports_the_device_through_the_installed_binary() {
        let tenant = Tenant::start(vec![device_record(json!({}))]);
        let device = Device::new(&tenant);
        device.run(&["refresh"]).expect_code(0);
        let (code, line) = run_script(&device, "intune/s1trust-compliance.sh", true);
        let output: Value = serde_json::from_str(&line).unwrap();
        let rules: Value = serde_json::from_str(RULES).unwrap();
        assert_eq!(
            (code, intune_failures(&output, &rules)),
            (0, Vec::<String>::new())
        );
        let expect = [
            (
                "jamf/s1trust-extension-attribute.sh",
                0,
                "<result>trusted</result>",
            ),
            ("kandji/s1trust-audit.sh", 0, "s1trust: trusted"),
            ("workspace-one/s1trust-sensor.sh", 0, "trusted"),
        ];
        for (script, code, line) in expect {
            assert_eq!(
                run_script(&device, script, true),
                (code, line.to_owned()),
                "{script}"
            );
        }
        let missing = [
            (
                "intune/s1trust-compliance.sh",
                0,
                r#"{"result":"not_installed"}"#,
            ),
            (
                "jamf/s1trust-extension-attribute.sh",
                0,
                "<result>not_installed</result>",
            ),
            ("kandji/s1trust-audit.sh", 1, "s1trust: not installed"),
            ("workspace-one/s1trust-sensor.sh", 0, "not_installed"),
        ];
        for (script, code, line) in missing {
            assert_eq!(
                run_script(&device, script, false),
                (code, line.to_owned()),
                "{script}"
            );
        }
    }
);

#[test]
fn the_shipped_shell_scripts_are_shellcheck_clean_and_the_powershell_only_runs_the_binary() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/mdm");
    let scripts = [
        "intune/s1trust-compliance.sh",
        "jamf/s1trust-extension-attribute.sh",
        "kandji/s1trust-audit.sh",
        "workspace-one/s1trust-sensor.sh",
    ];
    for ps1 in [
        "intune/s1trust-compliance.ps1",
        "workspace-one/s1trust-sensor.ps1",
    ] {
        let text = std::fs::read_to_string(root.join(ps1)).unwrap();
        let code: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(code.len(), 1, "{ps1}");
        assert!(
            code[0].starts_with(
                r#"& "C:\Program Files\s1trust\s1trust.exe" check --snapshot --format "#
            ),
            "{ps1}"
        );
    }
    if !crate::helpers::have_tool("shellcheck") {
        return;
    }
    let out = Command::new("shellcheck")
        .args(scripts.map(|s| root.join(s)))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

root_test!(
    fn generated_intune_rules_are_the_shipped_ones_with_the_configured_page() {
        let dir = crate::helpers::scratch();
        let config = dir.path().join("s1trust.toml");
        std::fs::write(
            &config,
            "[publish]\nmore_info_url = \"https://intranet.contoso.com/device-trust\"\n",
        )
        .unwrap();
        crate::helpers::set_mode(&config, 0o644);
        let run = crate::helpers::run_s1trust(&["generate", "intune-rules"], &config, &[]);
        run.expect_code(0);
        let generated = run.json();
        let mut shipped: Value = serde_json::from_str(RULES).unwrap();
        for rule in shipped["Rules"].as_array_mut().unwrap() {
            assert_eq!(rule["MoreInfoUrl"], "https://support.example.com/s1trust");
            rule["MoreInfoUrl"] = json!("https://intranet.contoso.com/device-trust");
        }
        assert_eq!(generated, shipped, "the shipped rules but for the address");

        std::fs::write(&config, "[publish]\nmore_info_url = \"intranet\"\n").unwrap();
        let run = crate::helpers::run_s1trust(&["generate", "intune-rules"], &config, &[]);
        run.expect_code(2);
        assert!(
            run.stderr
                .contains("`more_info_url` must be an http(s) address"),
            "{}",
            run.stderr
        );
    }
);
