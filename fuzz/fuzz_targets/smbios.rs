//! SMBIOS decoding as the OS readers use it: the Linux sysfs pair (and a bare
//! table when the entry point is unreadable), a `dmidecode --dump-bin` file and
//! a Windows RSMB buffer, each followed by the serial candidates.
//!
//! One input feeds every wrapping: as a dump, as an RSMB buffer, as a bare
//! table, and split at offset 0x20 into a sysfs entry point and `DMI` file
//! (which is exactly what a dump is), so seeds in any format reach all paths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s1trust::identity::host::HostFacts;
use s1trust::identity::smbios::{self, SmbiosSerials, TableString};
use s1trust::identity::{AgentReading, SerialReading, assemble};

const DUMP_TABLE_OFFSET: usize = 0x20;

fuzz_target!(|data: &[u8]| {
    let split = data.len().min(DUMP_TABLE_OFFSET);
    let (entry_point, table) = data.split_at(split);
    let results = [
        smbios::from_sysfs(entry_point, table),
        smbios::from_sysfs(data, data),
        smbios::from_dump(data),
        smbios::from_rsmb(data),
        smbios::from_table(data, None),
    ];
    for serials in results.iter().flatten() {
        check(serials);
    }
});

fn check(serials: &SmbiosSerials) {
    let candidates = smbios::candidates(serials);
    let listed = serials.system.len() + serials.baseboard.len() + serials.chassis.len();
    assert!(candidates.len() <= listed, "more candidates than serials");
    for candidate in &candidates {
        assert!(candidate.source.starts_with("smbios:type"));
        assert_eq!(candidate.usable, candidate.reason.is_none());
        if candidate.usable {
            assert!(!candidate.value.is_empty());
        }
    }
    for value in serials
        .system
        .iter()
        .chain(&serials.baseboard)
        .chain(&serials.chassis)
    {
        if let TableString::Text(text) = value {
            assert!(!text.is_empty(), "an empty string is Absent, not Text");
        }
    }
    // What the Linux and Windows readers do with the table next.
    let reading = SerialReading::from_smbios(serials);
    assert_eq!(reading.candidates, candidates);
    let identity = assemble(reading, AgentReading::default(), None, HostFacts::default());
    if let Some(serial) = &identity.serial_number {
        assert!(
            candidates
                .iter()
                .any(|c| c.usable && c.value == serial.as_str())
        );
    }
    let _ = identity.completeness();
}
