//! The SMBIOS reader against the dumps of 20 real machines
//! (`tests/fixtures/smbios`): every Type 1/2/3 serial must be what
//! dmidecode printed (`expected-serials.json`), every original format (sysfs
//! pair, Windows RSMB buffer, bare table) must decode like its derived dump,
//! and the device serial chosen from each must be the right one.

use std::path::{Path, PathBuf};

use s1trust::identity::host::HostFacts;
use s1trust::identity::serial::virtual_platform_from_model;
use s1trust::identity::smbios::{self, SmbiosSerials, TableString};
use s1trust::identity::{AgentReading, SerialReading, assemble};
use serde_json::Value;

use crate::helpers::fixture;
use crate::smbios_tables;

fn fixtures() -> Option<PathBuf> {
    fixture("smbios/expected-serials.json").map(|file| file.parent().unwrap().to_owned())
}

/// A fixture file; two machines' files are built in code (see `smbios_tables`).
fn read(dir: &Path, name: &str) -> Vec<u8> {
    smbios_tables::rebuilt(name)
        .unwrap_or_else(|| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}")))
}

/// dmidecode's view: string number 0 is "no string", anything else the raw text.
fn expected(entries: Option<&Value>) -> Vec<TableString> {
    let Some(entries) = entries.and_then(Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|e| match e["string_index"].as_u64() {
            Some(0) => TableString::Absent,
            _ => TableString::Text(e["serial"].as_str().unwrap().to_owned()),
        })
        .collect()
}

#[test]
fn every_dump_decodes_to_dmidecodes_serials() {
    let Some(dir) = fixtures() else { return };
    let json: Value = serde_json::from_slice(&read(&dir, "expected-serials.json")).unwrap();
    let files = json["files"].as_object().unwrap();
    assert_eq!(files.len(), 20, "one dump per machine");
    for (name, want) in files {
        let got = smbios::from_dump(&read(&dir, name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got.system, expected(want.get("type1")), "{name} type 1");
        assert_eq!(got.baseboard, expected(want.get("type2")), "{name} type 2");
        assert_eq!(got.chassis, expected(want.get("type3")), "{name} type 3");
    }
}

#[test]
fn original_formats_decode_like_their_dumps() {
    let Some(dir) = fixtures() else { return };
    let dump = |name: &str| smbios::from_dump(&read(&dir, name)).unwrap();
    for machine in ["dell-xps13-9365-smbios3.0", "supermicro-x10dal-i-smbios3.0"] {
        let sysfs = format!("{machine}-sysfs");
        let got = smbios::from_sysfs(
            &read(&dir, &format!("{sysfs}/smbios_entry_point")),
            &read(&dir, &format!("{sysfs}/DMI")),
        )
        .unwrap();
        assert_eq!(
            got,
            dump(&format!("{machine}-combined-dump.bin")),
            "{machine}"
        );
    }
    let rsmb =
        smbios::from_rsmb(&read(&dir, "microsoft-surface-laptop-3-smbios3.2-rsmb.bin")).unwrap();
    assert_eq!(
        rsmb,
        dump("microsoft-surface-laptop-3-smbios3.2-builtep-dump.bin")
    );
    for (raw, derived) in [
        (
            "asrockrack-x570d4u-raw-table.bin",
            "asrockrack-x570d4u-smbios3.3-builtep-dump.bin",
        ),
        (
            "hyperv-vm-raw-table.bin",
            "hyperv-vm-smbios2.3-builtep-dump.bin",
        ),
        (
            "intel-s2600kp-raw-table.bin",
            "intel-s2600kp-smbios2.7-builtep-dump.bin",
        ),
    ] {
        assert_eq!(
            smbios::from_table(&read(&dir, raw), None).unwrap(),
            dump(derived),
            "{raw}"
        );
    }
}

/// A dump, the (serial, source) the device reports, and its virtualization platform.
type Case = (
    &'static str,
    Option<(&'static str, &'static str)>,
    Option<&'static str>,
);

/// The serial a device reports: first usable of Type 1, Type 3, Type 2.
#[test]
fn device_serial_and_virtual_flag_per_machine() {
    let Some(dir) = fixtures() else { return };
    let cases: [Case; 20] = [
        (
            "asrockrack-x570d4u-smbios3.3-builtep-dump.bin",
            Some(("209624590000277", "smbios:type2")),
            None,
        ),
        (
            "asus-ux305la-smbios2.8-dump.bin",
            Some(("FCN0CJ03468352B", "smbios:type1")),
            None,
        ),
        (
            "dell-poweredge-r740xd-smbios3.0-dump.bin",
            Some(("CSX5YM2", "smbios:type1")),
            None,
        ),
        (
            "dell-xps13-9365-smbios3.0-combined-dump.bin",
            Some(("2R0Q2G2", "smbios:type1")),
            None,
        ),
        ("gigabyte-ga-ma74gmt-s2-smbios2.4-dump.bin", None, None),
        ("gigabyte-x399-aorus-xtreme-smbios3.1-dump.bin", None, None),
        (
            "hp-proliant-dl585-g2-smbios2.4-dump.bin",
            Some(("SGH7102PFA", "smbios:type1")),
            None,
        ),
        (
            "hyperv-vm-smbios2.3-builtep-dump.bin",
            Some(("1519-7810-4472-8775-7272-8851-12", "smbios:type1")),
            Some("hyperv"),
        ),
        (
            "ibm-x3950-m2-smbios2.4-dump.bin",
            Some(("99A3888", "smbios:type1")),
            None,
        ),
        (
            "lenovo-thinkpad-t480-smbios3.0-dump.bin",
            Some(("PC131TBF", "smbios:type1")),
            None,
        ),
        (
            "microsoft-surface-laptop-3-smbios3.2-builtep-dump.bin",
            Some(("023078193757", "smbios:type1")),
            None,
        ),
        ("msi-ms-7816-h87-g43-smbios2.8-dump.bin", None, None),
        (
            "supermicro-x10dal-i-smbios3.0-combined-dump.bin",
            Some(("ZM159S017443", "smbios:type2")),
            None,
        ),
        (
            "vmware-virtual-platform-smbios2.7-dump.bin",
            Some((
                "VMware-56 4d e2 c3 c3 c0 e1 e2-46 22 55 4d c5 eb 6b a1",
                "smbios:type1",
            )),
            Some("vmware"),
        ),
        (
            "beelink-eq12-smbios3.5-dump.bin",
            Some(("BN1004GH10075", "smbios:type1")),
            None,
        ),
        (
            "intel-s2600kp-smbios2.7-builtep-dump.bin",
            Some(("FC6PL151200002", "smbios:type1")),
            None,
        ),
        (
            "parallels-virtual-platform-smbios2.3-dump.bin",
            Some((
                "Parallels-0D 3D 6E 6E 62 E5 4F A1 B9 F4 07 EF C0 1F 4B B2",
                "smbios:type1",
            )),
            Some("parallels"),
        ),
        ("qemu-kvm-smbios2.4-dump.bin", None, None),
        ("synology-rs3614xsp-smbios2.7-dump.bin", None, None),
        (
            "toshiba-satellite-pro-l70-a-smbios2.7-dump.bin",
            Some(("XD198915C", "smbios:type1")),
            None,
        ),
    ];
    for (name, serial, platform) in cases {
        let serials = smbios::from_dump(&read(&dir, name)).unwrap();
        let identity = device(&serials);
        let chosen = identity
            .serial_number
            .as_ref()
            .map(|s| s.as_str())
            .zip(identity.serial_source.as_deref());
        assert_eq!(chosen, serial, "{name}: {:#?}", identity.serial_candidates);
        assert_eq!(identity.virtual_platform.as_deref(), platform, "{name}");
        assert_eq!(identity.is_virtual, platform.is_some(), "{name}");
        // Every candidate is listed, with a reason whenever it is refused.
        assert!(!identity.serial_candidates.is_empty(), "{name}");
        assert!(
            identity
                .serial_candidates
                .iter()
                .all(|c| c.usable != c.reason.is_some()),
            "{name}"
        );
    }
}

fn device(serials: &SmbiosSerials) -> s1trust::identity::DeviceIdentity {
    let reading = SerialReading {
        candidates: smbios::candidates(serials),
        model_platform: virtual_platform_from_model(
            serials.system_vendor.as_deref().unwrap_or_default(),
            serials.system_product.as_deref().unwrap_or_default(),
        ),
        problems: Vec::new(),
    };
    assemble(reading, AgentReading::default(), None, HostFacts::default())
}

/// Truncated and bit-flipped copies of real dumps never panic.
#[test]
fn damaged_dumps_fail_cleanly() {
    let Some(dir) = fixtures() else { return };
    let bytes = read(&dir, "lenovo-thinkpad-t480-smbios3.0-dump.bin");
    for end in (0..bytes.len()).step_by(7) {
        let _ = smbios::from_dump(&bytes[..end]);
        let _ = smbios::from_table(&bytes[0x20.min(end)..end], None);
    }
    let mut flipped = bytes.clone();
    for i in (0x20..flipped.len()).step_by(13) {
        flipped[i] ^= 0x5A;
    }
    let _ = smbios::from_dump(&flipped);
}
