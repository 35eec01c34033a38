//! The identity binding: whether a record found by agent UUID belongs to this device,
//! judged by serial numbers (docs/commands.md "Lookup rules").

use super::report::BindingReason;
use crate::identity::serial::SerialProblem;
use crate::identity::{DeviceIdentity, Serial};
use crate::tenant::AgentRecord;

/// How a record found by agent UUID is tied to this device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SerialBinding {
    /// The record's serial equals this device's serial from `source`.
    Bound {
        /// Where the matching device serial was read, e.g. `smbios:type2`.
        source: String,
    },
    /// The record's serial cannot confirm the match; the UUID stands alone.
    Unavailable {
        /// Why the serial cannot confirm it.
        reason: BindingReason,
        /// For people.
        detail: String,
    },
    /// The record holds a usable serial that equals none of this device's.
    Mismatch {
        /// For people.
        detail: String,
    },
}

/// The identity binding (docs/commands.md, `s1trust lookup`): a record found by UUID is bound to this
/// device when its serial equals any serial that identifies the device
/// ([`DeviceIdentity::identifying_serials`]: SMBIOS Type 1, 2 and 3, IOKit), ignoring
/// case and surrounding blanks. When the record's serial is absent, empty or a
/// placeholder (the rules for local serials), or this device read no serial at all,
/// the binding is unavailable and the UUID match stands alone. Only a usable record
/// serial that equals none of the device's serials is a mismatch; a device whose
/// firmware holds placeholders only has no serial to equal.
pub fn serial_binding(record: &AgentRecord, identity: &DeviceIdentity) -> SerialBinding {
    let Some(theirs) = record.serial_number() else {
        return SerialBinding::Unavailable {
            reason: BindingReason::RecordSerialMissing,
            detail: "the record has no serial number".into(),
        };
    };
    if let Err(problem) = Serial::parse(&theirs) {
        let (reason, detail) = match problem {
            SerialProblem::Empty => (
                BindingReason::RecordSerialEmpty,
                "the record's serial number is empty".to_owned(),
            ),
            SerialProblem::TooShort(_) => (
                BindingReason::RecordSerialTooShort,
                format!("the record's serial {theirs:?} is too short to identify a device"),
            ),
            SerialProblem::Placeholder(_) | SerialProblem::Comma(_) | SerialProblem::Control(_) => {
                (
                    BindingReason::RecordSerialPlaceholder,
                    format!("the record's serial {theirs:?} is a placeholder"),
                )
            }
        };
        return SerialBinding::Unavailable { reason, detail };
    }
    let ours = identity.identifying_serials();
    if let Some(same) = ours.iter().find(|s| s.serial.is(&theirs)) {
        return SerialBinding::Bound {
            source: same.source.clone(),
        };
    }
    if identity.serial_number.is_none() && identity.serial_candidates.is_empty() {
        return SerialBinding::Unavailable {
            reason: BindingReason::DeviceSerialUnavailable,
            detail: "this device's hardware serial could not be read".into(),
        };
    }
    let listed: Vec<String> = ours
        .iter()
        .map(|s| format!("{:?} ({})", s.serial.as_str(), s.source))
        .collect();
    let detail = if listed.is_empty() {
        format!(
            "the record's serial {theirs:?} is not this device's: its firmware holds only placeholder serials"
        )
    } else {
        format!(
            "the record's serial {theirs:?} equals none of this device's serials: {}",
            listed.join(", ")
        )
    };
    SerialBinding::Mismatch { detail }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::identity::SerialCandidate;
    use serde_json::json;

    fn record(serial: serde_json::Value) -> AgentRecord {
        let mut fields = serde_json::Map::new();
        fields.insert("uuid".into(), json!("b7b2d39171be4ae1af90f93d7ed20f07"));
        fields.insert("serialNumber".into(), serial);
        AgentRecord::new(fields)
    }

    /// A white-box board: Type 1 and 3 are placeholders, Type 2 holds the serial.
    pub(crate) fn white_box() -> DeviceIdentity {
        let candidates = [
            ("smbios:type1", "To Be Filled By O.E.M."),
            ("smbios:type3", "To Be Filled By O.E.M."),
            ("smbios:type2", "209624590000277"),
        ];
        DeviceIdentity {
            serial_number: Serial::parse("209624590000277").ok(),
            serial_source: Some("smbios:type2".into()),
            serial_candidates: candidates
                .iter()
                .map(|(source, value)| SerialCandidate::check(*source, value))
                .collect(),
            ..DeviceIdentity::default()
        }
    }

    fn unavailable(binding: SerialBinding) -> BindingReason {
        match binding {
            SerialBinding::Unavailable { reason, .. } => reason,
            other => panic!("expected an unavailable binding, got {other:?}"),
        }
    }

    #[test]
    fn any_usable_device_serial_binds() {
        let device = white_box();
        assert_eq!(
            serial_binding(&record(json!(" 209624590000277 ")), &device),
            SerialBinding::Bound {
                source: "smbios:type2".into()
            }
        );
        // The chosen serial is Type 1 here, but the agent recorded the board's.
        let mut laptop = DeviceIdentity {
            serial_number: Serial::parse("PC131TBF").ok(),
            serial_source: Some("smbios:type1".into()),
            ..DeviceIdentity::default()
        };
        laptop.serial_candidates = vec![
            SerialCandidate::check("smbios:type1", "PC131TBF"),
            SerialCandidate::check("smbios:type3", "PC131TBF"),
            SerialCandidate::check("smbios:type2", "L1HF9380025"),
        ];
        assert_eq!(
            serial_binding(&record(json!("l1hf9380025")), &laptop),
            SerialBinding::Bound {
                source: "smbios:type2".into()
            }
        );
    }

    #[test]
    fn unusable_record_serials_leave_the_uuid_alone() {
        let device = white_box();
        let cases = [
            (json!(null), "record_serial_missing"),
            (json!(""), "record_serial_empty"),
            (json!("  "), "record_serial_empty"),
            (json!("X"), "record_serial_too_short"),
            (json!("To Be Filled By O.E.M."), "record_serial_placeholder"),
            (json!("Default string"), "record_serial_placeholder"),
            (json!("None"), "record_serial_placeholder"),
            (json!("Serial Number"), "record_serial_placeholder"),
            (json!(true), "record_serial_missing"),
        ];
        for (serial, reason) in cases {
            assert_eq!(
                unavailable(serial_binding(&record(serial.clone()), &device)),
                reason,
                "{serial}"
            );
        }
        let mut no_key = serde_json::Map::new();
        no_key.insert("uuid".into(), json!("b7b2d39171be4ae1af90f93d7ed20f07"));
        assert_eq!(
            unavailable(serial_binding(&AgentRecord::new(no_key), &device)),
            "record_serial_missing"
        );
        // Nothing read on this device: nothing to compare with.
        assert_eq!(
            unavailable(serial_binding(
                &record(json!("PF2ABCDE")),
                &DeviceIdentity::default()
            )),
            "device_serial_unavailable"
        );
    }

    #[test]
    fn a_usable_serial_of_another_device_is_a_mismatch() {
        let SerialBinding::Mismatch { detail } =
            serial_binding(&record(json!("CSX5YM2")), &white_box())
        else {
            panic!("expected a mismatch");
        };
        assert!(
            detail.contains("\"209624590000277\" (smbios:type2)"),
            "{detail}"
        );
        // Firmware with placeholders only has no serial the record could equal.
        let placeholders = DeviceIdentity {
            serial_candidates: vec![SerialCandidate::check("smbios:type1", "Default string")],
            ..DeviceIdentity::default()
        };
        assert!(matches!(
            serial_binding(&record(json!("CSX5YM2")), &placeholders),
            SerialBinding::Mismatch { .. }
        ));
        assert_eq!(
            unavailable(serial_binding(
                &record(json!("Default string")),
                &placeholders
            )),
            "record_serial_placeholder"
        );
    }
}
