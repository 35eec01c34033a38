//! The SMBIOS fixtures of two machines, built in code because their source
//! grants no licence to copy the captured files (tests/fixtures/smbios/README.md,
//! "Machines rebuilt in code"). Each keeps the Type 1, 2 and 3 structures of its
//! original table: the same formatted-area bytes (UUID zeroed) and strings, so the
//! same string numbers, then an end-of-table structure, wrapped the same way as the
//! original. `expected-serials.json` holds what dmidecode printed for the originals.

use crate::helpers::smbios::{Sm2EntryPoint, Structure, dump, end_of_table};

/// The 16 zero bytes standing in for a system UUID.
const NO_UUID: [u8; 16] = [0; 16];

/// InfraSIM `data/dell_r740xd/dell_r740xd_smbios.bin` (76 structures in the original).
const DELL_R740XD: [Structure<'static>; 3] = [
    Structure {
        kind: 1,
        handle: 0x0100,
        // manufacturer, product, version (none), serial; UUID; wake-up type, SKU, family
        formatted: &concat_bytes([0x01, 0x02, 0x00, 0x03], NO_UUID, [0x06, 0x05, 0x04]),
        strings: &[
            "Dell Inc.",
            "PowerEdge R740xd",
            "CSX5YM2",
            "PowerEdge",
            "SKU=NotProvided;ModelName=PowerEdge R740xd",
        ],
    },
    Structure {
        kind: 2,
        handle: 0x0200,
        formatted: &[0x01, 0x02, 0x03, 0x04],
        strings: &["Dell Inc.", "0RR8YK", "A03", ".CSX5YM2.CNIVC007B80015."],
    },
    Structure {
        kind: 3,
        handle: 0x0300,
        // manufacturer, type (locked rack mount chassis), version (none), serial, asset tag (none), …
        formatted: &[
            0x01, 0x97, 0x00, 0x02, 0x00, 0x03, 0x03, 0x03, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02,
            0x00, 0x00, 0x00, 0x00,
        ],
        strings: &["Dell Inc.", "CSX5YM2"],
    },
];

/// InfraSIM `data/s2600kp/s2600kp_smbios.bin`, a bare table (78 structures in the original).
const INTEL_S2600KP: [Structure<'static>; 3] = [
    Structure {
        kind: 1,
        handle: 0x0001,
        formatted: &concat_bytes([0x01, 0x02, 0x03, 0x04], NO_UUID, [0x06, 0x05, 0x06]),
        strings: &[
            "EMC",
            "S2600KP",
            "FFF",
            "FC6PL151200002",
            "SKU Number",
            "Family",
        ],
    },
    Structure {
        kind: 2,
        handle: 0x0002,
        formatted: &[
            0x01, 0x02, 0x03, 0x04, 0x05, 0x09, 0x06, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00,
        ],
        strings: &[
            "Intel Corporation",
            "S2600KP",
            "H13888-351",
            "BQKP45000489",
            "Base Board Asset Tag",
            "Part Component",
        ],
    },
    Structure {
        kind: 3,
        handle: 0x0003,
        formatted: &[
            0x01, 0x17, 0x02, 0x03, 0x04, 0x03, 0x03, 0x03, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ],
        strings: &[
            "...............................",
            "..................",
            "..................",
            "FC6PL151200002_100-564-404-00",
        ],
    },
];

/// The bytes of fixture `name` when it is one of the files built here.
pub fn rebuilt(name: &str) -> Option<Vec<u8>> {
    match name {
        // A 2.x-style entry point announcing 3.0, as in the original.
        "dell-poweredge-r740xd-smbios3.0-dump.bin" => Some(dumped(&DELL_R740XD, 3, 0, 0x30)),
        "intel-s2600kp-raw-table.bin" => Some(table(&INTEL_S2600KP)),
        "intel-s2600kp-smbios2.7-builtep-dump.bin" => Some(dumped(&INTEL_S2600KP, 2, 7, 0x27)),
        _ => None,
    }
}

const fn concat_bytes(head: [u8; 4], uuid: [u8; 16], tail: [u8; 3]) -> [u8; 23] {
    let mut out = [0; 23];
    let mut i = 0;
    while i < 23 {
        out[i] = if i < 4 {
            head[i]
        } else if i < 20 {
            uuid[i - 4]
        } else {
            tail[i - 20]
        };
        i += 1;
    }
    out
}

/// The structures plus an end-of-table structure.
fn table(structures: &[Structure]) -> Vec<u8> {
    let mut out: Vec<u8> = structures.iter().flat_map(Structure::bytes).collect();
    out.extend(end_of_table(0xfeff));
    out
}

/// The table as a dump behind a `_SM_` entry point of SMBIOS `major`.`minor`.
fn dumped(structures: &[Structure], major: u8, minor: u8, bcd_revision: u8) -> Vec<u8> {
    let table = table(structures);
    let largest = structures.iter().map(|s| s.bytes().len()).max().unwrap();
    let entry_point = Sm2EntryPoint {
        major,
        minor,
        max_structure: u16::try_from(largest).unwrap(),
        table_length: u16::try_from(table.len()).unwrap(),
        table_address: 0x20,
        structures: u16::try_from(structures.len() + 1).unwrap(),
        bcd_revision,
    };
    dump(&entry_point.bytes(), &table)
}
