//! `check --format`: the answer as each MDM reads a script's output.
//!
//! Intune judges one line of JSON against the rules shipped in
//! `packaging/mdm/intune/rules.json`; Jamf reads `<result>`; Kandji the exit code;
//! Workspace ONE one value. Intune, Jamf and Workspace ONE treat a failing script
//! as no data, so those exit 0 and say `unknown` in the value instead.

use serde_json::{Map, Value};

use super::MdmFormat;
use crate::posture::factors::{CATALOGUE, FactorKey, FactorResult};
use crate::posture::report::{Overall, PostureReport};

/// The Intune setting that carries the overall answer.
pub(crate) const RESULT_SETTING: &str = "result";

/// The value a factor not configured for this device shows (an Intune rule needs
/// every setting it names to be present).
const DISABLED: &str = "disabled";

/// The one line `format` prints for `report` (`None`: no answer at all).
pub(crate) fn render(format: MdmFormat, report: Option<&PostureReport>) -> String {
    let result = report.map_or(Overall::Unknown, |r| r.result);
    match format {
        MdmFormat::Intune => intune(report).to_string(),
        MdmFormat::Jamf => format!("<result>{}</result>", result.as_str()),
        MdmFormat::Kandji => kandji(report),
        MdmFormat::WorkspaceOne => result.as_str().to_owned(),
    }
}

fn kandji(report: Option<&PostureReport>) -> String {
    match report {
        Some(r) if r.result == Overall::Trusted => "s1trust: trusted".into(),
        Some(r) => format!(
            "s1trust: {} ({})",
            r.result.as_str(),
            r.reason.map_or("no reason", |r| r.as_str())
        ),
        None => "s1trust: unknown (no answer; run `s1trust check` as an administrator)".into(),
    }
}

/// `{"result": …, "<factor>": …}` with every factor of the catalogue, so every rule
/// finds its setting.
fn intune(report: Option<&PostureReport>) -> Value {
    let mut settings = Map::new();
    let result = report.map_or(Overall::Unknown, |r| r.result);
    settings.insert(RESULT_SETTING.into(), result.as_str().into());
    for factor in CATALOGUE {
        let value = match report {
            None => result_name(FactorResult::Unknown),
            Some(r) => factor_value(r, factor.key),
        };
        settings.insert(factor.code.into(), value.into());
    }
    Value::Object(settings)
}

/// The worst of the factor's results across integrations, or [`DISABLED`].
fn factor_value(report: &PostureReport, key: FactorKey) -> &'static str {
    let rank = |r: FactorResult| match r {
        FactorResult::NotSatisfied => 3,
        FactorResult::Unknown => 2,
        FactorResult::Satisfied => 1,
        FactorResult::NotApplicable => 0,
    };
    report
        .factors
        .iter()
        .filter(|f| f.key == key)
        .map(|f| f.result)
        .max_by_key(|r| rank(*r))
        .map_or(DISABLED, result_name)
}

fn result_name(result: FactorResult) -> &'static str {
    match result {
        FactorResult::Satisfied => "satisfied",
        FactorResult::NotSatisfied => "not_satisfied",
        FactorResult::Unknown => "unknown",
        FactorResult::NotApplicable => "not_applicable",
    }
}

/// Intune's compliance rules for [`intune`]'s output: the overall result must be
/// trusted and no factor not satisfied, each rule linking to `more_info_url` with the
/// factor's remediation (packaging/mdm/intune/rules.json is this, for the default
/// address).
pub(crate) fn intune_rules(more_info_url: &str) -> Value {
    let rule = |setting: &str, operator: &str, operand: &str, title: &str, text: &str| {
        serde_json::json!({
            "SettingName": setting,
            "Operator": operator,
            "DataType": "String",
            "Operand": operand,
            "MoreInfoUrl": more_info_url,
            "RemediationStrings": [{"Language": "en_US", "Title": title, "Description": text}]
        })
    };
    let mut rules = vec![rule(
        RESULT_SETTING,
        "IsEquals",
        "trusted",
        "SentinelOne device trust",
        "s1trust says {ActualValue}. Run `s1trust check` for the reason and what to do.",
    )];
    rules.extend(CATALOGUE.iter().map(|factor| {
        rule(
            factor.code,
            "NotEquals",
            "not_satisfied",
            &format!("SentinelOne: {}", factor.name),
            factor.remediation,
        )
    }));
    serde_json::json!({ "Rules": rules })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHIPPED: &str = include_str!("../../packaging/mdm/intune/rules.json");

    /// The shipped rules are what `generate intune-rules` prints with the default
    /// address (regenerate them with it), and name every setting the output has.
    #[test]
    fn the_shipped_intune_rules_name_every_setting_the_output_has() {
        let generated = intune_rules(crate::config::DEFAULT_MORE_INFO_URL);
        assert_eq!(
            SHIPPED,
            format!("{}\n", serde_json::to_string_pretty(&generated).unwrap())
        );
        let shipped: Value = serde_json::from_str(SHIPPED).unwrap();
        assert_eq!(
            shipped["Rules"].as_array().unwrap().len(),
            CATALOGUE.len() + 1
        );
        let output = intune(None);
        let names: Vec<&str> = shipped["Rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["SettingName"].as_str().unwrap())
            .collect();
        let keys: Vec<&str> = output
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, names);
    }

    #[test]
    fn every_rule_links_to_the_configured_page_and_carries_its_factors_remediation() {
        let rules = intune_rules("https://intranet.contoso.com/trust");
        let rules = rules["Rules"].as_array().unwrap();
        assert!(
            rules
                .iter()
                .all(|r| r["MoreInfoUrl"] == "https://intranet.contoso.com/trust")
        );
        for (rule, factor) in rules[1..].iter().zip(CATALOGUE) {
            assert_eq!(rule["SettingName"], factor.code);
            assert_eq!(
                rule["RemediationStrings"][0]["Description"],
                factor.remediation
            );
        }
        assert_eq!(rules[0]["Operand"], "trusted");
    }

    #[test]
    fn no_answer_is_unknown_in_every_format() {
        assert_eq!(render(MdmFormat::Jamf, None), "<result>unknown</result>");
        assert_eq!(render(MdmFormat::WorkspaceOne, None), "unknown");
        assert!(render(MdmFormat::Kandji, None).starts_with("s1trust: unknown"));
        let intune: Value = serde_json::from_str(&render(MdmFormat::Intune, None)).unwrap();
        assert_eq!(intune[RESULT_SETTING], "unknown");
        assert_eq!(intune["registered_with"], "unknown");
    }
}
