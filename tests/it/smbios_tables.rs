//! The SMBIOS fixtures of two machines, built in code because their source
//! grants no licence to copy the captured files (tests/fixtures/smbios/README.md,
//! "Machines rebuilt in code"). Each keeps the Type 1, 2 and 3 structures of its
//! original table: the same formatted-area bytes (UUID zeroed) and strings, so the
//! same string numbers, then an end-of-table structure, wrapped the same way as the
//! original. `expected-serials.json` holds what dmidecode printed for the originals.

/// One SMBIOS structure.
struct Structure {
    kind: u8,
    handle: u16,
    /// The formatted area after the 4-byte header.
    formatted: &'static [u8],
    strings: &'static [&'static str],
}

/// The 16 zero bytes standing in for a system UUID.
const NO_UUID: [u8; 16] = [0; 16];

/// InfraSIM `data/dell_r740xd/dell_r740xd_smbios.bin` (76 structures in the original).
const DELL_R740XD: [Structure; 3] = [
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
const INTEL_S2600KP: [Structure; 3] = [
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
        "dell-poweredge-r740xd-smbios3.0-dump.bin" => Some(dump(&DELL_R740XD, 3, 0, 0x30)),
        "intel-s2600kp-raw-table.bin" => Some(table(&INTEL_S2600KP)),
        "intel-s2600kp-smbios2.7-builtep-dump.bin" => Some(dump(&INTEL_S2600KP, 2, 7, 0x27)),
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

/// One structure's bytes: header, formatted area, strings, terminating NUL(s).
fn structure_bytes(kind: u8, handle: u16, formatted: &[u8], strings: &[&str]) -> Vec<u8> {
    let length = u8::try_from(4 + formatted.len()).unwrap();
    let mut out = vec![kind, length];
    out.extend(handle.to_le_bytes());
    out.extend(formatted);
    for s in strings {
        out.extend(s.as_bytes());
        out.push(0);
    }
    if strings.is_empty() {
        out.push(0);
    }
    out.push(0);
    out
}

/// The structures plus a Type 127 end-of-table structure.
fn table(structures: &[Structure]) -> Vec<u8> {
    let mut out: Vec<u8> = structures
        .iter()
        .flat_map(|s| structure_bytes(s.kind, s.handle, s.formatted, s.strings))
        .collect();
    out.extend(structure_bytes(127, 0xfeff, &[], &[]));
    out
}

/// A `dmidecode --dump-bin` style file: a 31-byte `_SM_` entry point with valid
/// checksums, padded to 0x20, then the table.
fn dump(structures: &[Structure], major: u8, minor: u8, bcd_revision: u8) -> Vec<u8> {
    let table = table(structures);
    let count = u16::try_from(structures.len() + 1).unwrap();
    let largest = structures
        .iter()
        .map(|s| structure_bytes(s.kind, s.handle, s.formatted, s.strings).len())
        .max()
        .unwrap();
    let mut ep = vec![0u8; 0x20];
    ep[..4].copy_from_slice(b"_SM_");
    ep[5] = 0x1f;
    ep[6] = major;
    ep[7] = minor;
    ep[8..10].copy_from_slice(&u16::try_from(largest).unwrap().to_le_bytes());
    ep[0x10..0x15].copy_from_slice(b"_DMI_");
    ep[0x16..0x18].copy_from_slice(&u16::try_from(table.len()).unwrap().to_le_bytes());
    ep[0x18..0x1c].copy_from_slice(&0x20u32.to_le_bytes());
    ep[0x1c..0x1e].copy_from_slice(&count.to_le_bytes());
    ep[0x1e] = bcd_revision;
    ep[0x15] = checksum(&ep[0x10..0x1f]);
    ep[4] = checksum(&ep[..0x1f]);
    ep.extend(table);
    ep
}

/// The byte that makes `bytes` add up to 0 modulo 256 (its own slot still 0).
fn checksum(bytes: &[u8]) -> u8 {
    bytes
        .iter()
        .fold(0u8, |sum, b| sum.wrapping_add(*b))
        .wrapping_neg()
}
