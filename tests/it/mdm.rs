//! `check --format intune|jamf|kandji|workspace-one`, each against what its MDM
//! reads; the Intune line is judged by the shipped rules, as Intune would.

use crate::helpers::{Device, Tenant, agent, device_record, root_test};
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
