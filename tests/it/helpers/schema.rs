//! The posture document's JSON Schema (`src/posture/check-v1.schema.json`), the
//! contract `check --json` and the snapshot file keep.

use std::sync::LazyLock;

use serde_json::Value;

static POSTURE: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: Value =
        serde_json::from_str(include_str!("../../../src/posture/check-v1.schema.json")).unwrap();
    jsonschema::validator_for(&schema).unwrap()
});

/// Where `document` breaks the posture schema, one line each; empty when it is valid.
pub fn posture_violations(document: &Value) -> Vec<String> {
    POSTURE
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Asserts `document` is valid against the posture schema.
pub fn validate_posture(document: &Value) {
    let errors = posture_violations(document);
    assert!(
        errors.is_empty(),
        "schema violations: {errors:#?}\n{document:#}"
    );
}

static DOCTOR: LazyLock<jsonschema::Validator> = LazyLock::new(|| {
    let schema: Value =
        serde_json::from_str(include_str!("../../../src/app/doctor-v1.schema.json")).unwrap();
    jsonschema::validator_for(&schema).unwrap()
});

/// Asserts `document` is valid against the `doctor --json` schema.
pub fn validate_doctor(document: &Value) {
    let errors: Vec<String> = DOCTOR
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "schema violations: {errors:#?}\n{document:#}"
    );
}

/// The JSON Schemas of the other `--json` outputs (docs/schemas/).
#[derive(Debug, Clone, Copy)]
pub enum Schema {
    /// `identity --json`.
    Identity,
    /// `integration test | add | edit --json`.
    IntegrationTest,
    /// `integration list --json`.
    IntegrationList,
    /// `lookup --json` (the DaVinci object).
    Lookup,
}

/// Asserts `document` is valid against `schema`.
pub fn validate_against(schema: Schema, document: &Value) {
    let text = match schema {
        Schema::Identity => include_str!("../../../docs/schemas/identity-v1.schema.json"),
        Schema::IntegrationTest => {
            include_str!("../../../docs/schemas/integration-test-v1.schema.json")
        }
        Schema::IntegrationList => {
            include_str!("../../../docs/schemas/integration-list-v1.schema.json")
        }
        Schema::Lookup => include_str!("../../../docs/schemas/lookup.schema.json"),
    };
    let validator = jsonschema::validator_for(&serde_json::from_str(text).unwrap()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{schema:?} schema violations: {errors:#?}\n{document:#}"
    );
}
