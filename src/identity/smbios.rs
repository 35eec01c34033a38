//! SMBIOS tables → the serial numbers of structure types 1 (system),
//! 2 (baseboard) and 3 (chassis), plus the system vendor and product.
//!
//! The bytes come in four wrappings: the Linux sysfs pair (`smbios_entry_point`
//! and `DMI`), a `dmidecode --dump-bin` file (entry point, then the table at the
//! address the entry point names), a Windows `GetSystemFirmwareTable('RSMB')`
//! buffer (8-byte header, then the table) and a bare table. Each is unwrapped
//! here and the structures are decoded by smbios-lib, so every format is
//! tested on Linux with captured tables.

use super::SerialCandidate;
use smbioslib::{
    SMBiosBaseboardInformation, SMBiosData, SMBiosEntryPoint32, SMBiosEntryPoint64, SMBiosString,
    SMBiosStringError, SMBiosSystemChassisInformation, SMBiosSystemInformation, SMBiosVersion,
};

/// Why SMBIOS bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmbiosError {
    /// The entry point is missing its anchor, too short, or fails its checksum.
    #[error("not a valid SMBIOS entry point: {0}")]
    EntryPoint(String),
    /// A dump's entry point names a table that is not inside the file.
    #[error("the entry point places the table at {address:#x}, outside the {size}-byte file")]
    TableOutsideDump {
        /// Table address from the entry point.
        address: u64,
        /// Size of the dump.
        size: usize,
    },
    /// A Windows RSMB buffer shorter than its header.
    #[error("the firmware table buffer is {0} bytes, shorter than its 8-byte header")]
    ShortRsmb(usize),
    /// No structure could be decoded.
    #[error("the table holds no SMBIOS structures")]
    NoStructures,
}

/// A string field of an SMBIOS structure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableString {
    /// The string as stored (not trimmed; invalid UTF-8 replaced).
    Text(String),
    /// String number 0 or a structure too short to hold the field: no string.
    Absent,
    /// The string number points past the structure's strings.
    BadIndex,
}

/// The serial numbers (and system model) found in one SMBIOS table.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmbiosSerials {
    /// Type 1 (System Information) serials, in table order.
    pub system: Vec<TableString>,
    /// Type 2 (Baseboard) serials; boards with several modules have several.
    pub baseboard: Vec<TableString>,
    /// Type 3 (Chassis) serials.
    pub chassis: Vec<TableString>,
    /// Type 1 manufacturer, e.g. `VMware, Inc.`.
    pub system_vendor: Option<String>,
    /// Type 1 product name, e.g. `VMware Virtual Platform`.
    pub system_product: Option<String>,
}

/// Where the structure table sits, as an entry point describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct EntryPoint {
    version: SMBiosVersion,
    address: u64,
    /// Exact length for 2.x entry points, an upper bound for 3.x ones.
    length: usize,
}

/// Size every dump's entry point is padded to (`dmidecode --dump-bin`).
const DUMP_TABLE_OFFSET: usize = 0x20;
/// The legacy 15-byte `_DMI_` entry point (no `_SM_` in front).
const LEGACY_EP_LEN: usize = 0x0F;
/// The Windows `RawSMBIOSData` header.
const RSMB_HEADER_LEN: usize = 8;

/// Decodes the Linux sysfs pair: `/sys/firmware/dmi/tables/smbios_entry_point`
/// and `/sys/firmware/dmi/tables/DMI`. The entry point's address is a physical
/// one and ignored; the table is the whole `DMI` file, cut to the entry point's length.
pub fn from_sysfs(entry_point: &[u8], table: &[u8]) -> Result<SmbiosSerials, SmbiosError> {
    let ep = parse_entry_point(entry_point)?;
    let end = ep.length.min(table.len());
    from_table(&table[..end], Some(ep.version))
}

/// Decodes a `dmidecode --dump-bin` file: the entry point at offset 0, the
/// table at the offset the entry point names (0x20 in dumps dmidecode writes).
pub fn from_dump(dump: &[u8]) -> Result<SmbiosSerials, SmbiosError> {
    let ep = parse_entry_point(dump)?;
    let outside = SmbiosError::TableOutsideDump {
        address: ep.address,
        size: dump.len(),
    };
    let start = usize::try_from(ep.address).map_err(|_| outside.clone())?;
    if start < LEGACY_EP_LEN || start >= dump.len() {
        return Err(outside);
    }
    // A 3.x length is only a maximum and captured tables are often shorter.
    let end = start.saturating_add(ep.length).min(dump.len());
    from_table(&dump[start..end], Some(ep.version))
}

/// Decodes a Windows `GetSystemFirmwareTable('RSMB')` buffer: an 8-byte
/// `RawSMBIOSData` header (calling method, major, minor, DMI revision, length)
/// followed by the table.
pub fn from_rsmb(buffer: &[u8]) -> Result<SmbiosSerials, SmbiosError> {
    let Some((header, rest)) = buffer.split_at_checked(RSMB_HEADER_LEN) else {
        return Err(SmbiosError::ShortRsmb(buffer.len()));
    };
    let version = SMBiosVersion::new(header[1], header[2], header[3]);
    let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let end = usize::try_from(length)
        .unwrap_or(usize::MAX)
        .min(rest.len());
    from_table(&rest[..end], Some(version))
}

/// Decodes a bare structure table (no entry point, so the version may be unknown).
pub fn from_table(
    table: &[u8],
    version: Option<SMBiosVersion>,
) -> Result<SmbiosSerials, SmbiosError> {
    let data = SMBiosData::from_vec_and_version(table.to_vec(), version);
    if data.iter().next().is_none() {
        return Err(SmbiosError::NoStructures);
    }
    let systems: Vec<SMBiosSystemInformation<'_>> = data.collect();
    let first_system = systems.first();
    Ok(SmbiosSerials {
        system_vendor: first_system.and_then(|s| text(s.manufacturer())),
        system_product: first_system.and_then(|s| text(s.product_name())),
        system: systems
            .iter()
            .map(|s| table_string(s.serial_number()))
            .collect(),
        baseboard: data
            .collect::<SMBiosBaseboardInformation<'_>>()
            .iter()
            .map(|s| table_string(s.serial_number()))
            .collect(),
        chassis: data
            .collect::<SMBiosSystemChassisInformation<'_>>()
            .iter()
            .map(|s| table_string(s.serial_number()))
            .collect(),
    })
}

/// Serial candidates in preference order (Type 1 system, Type 3 chassis, Type 2
/// board: the order dmidecode-based agents and asset tools report them), sources
/// `smbios:type1` etc.; a value
/// repeated within one type (six empty baseboards) is listed once.
pub fn candidates(serials: &SmbiosSerials) -> Vec<SerialCandidate> {
    let ordered = [
        ("smbios:type1", &serials.system),
        ("smbios:type3", &serials.chassis),
        ("smbios:type2", &serials.baseboard),
    ];
    let mut out: Vec<SerialCandidate> = Vec::new();
    // A set, not `out.contains`: a hostile table of 1 MiB holds ~24 000 Type 1
    // structures, and a linear search per candidate took 40 s on those.
    let mut seen = std::collections::HashSet::new();
    for (source, values) in ordered {
        for value in values {
            let candidate = match value {
                TableString::Text(text) => SerialCandidate::check(source, text),
                TableString::Absent => SerialCandidate::check(source, ""),
                TableString::BadIndex => SerialCandidate::unreadable(source),
            };
            let key = (
                candidate.source.clone(),
                candidate.value.clone(),
                candidate.usable,
                candidate.reason,
            );
            if seen.insert(key) {
                out.push(candidate);
            }
        }
    }
    out
}

fn table_string(value: SMBiosString) -> TableString {
    match value.as_ref() {
        Ok(s) if s.is_empty() => TableString::Absent,
        Err(SMBiosStringError::FieldOutOfBounds) => TableString::Absent,
        Err(SMBiosStringError::InvalidStringNumber(_)) => TableString::BadIndex,
        _ => value
            .to_utf8_lossy()
            .map_or(TableString::BadIndex, TableString::Text),
    }
}

fn text(value: SMBiosString) -> Option<String> {
    match table_string(value) {
        TableString::Text(s) => Some(s),
        TableString::Absent | TableString::BadIndex => None,
    }
}

fn parse_entry_point(bytes: &[u8]) -> Result<EntryPoint, SmbiosError> {
    if bytes.starts_with(&SMBiosEntryPoint64::SM3_ANCHOR) {
        parse_sm3(bytes)
    } else if bytes.starts_with(&SMBiosEntryPoint32::SM_ANCHOR) {
        parse_sm(bytes)
    } else if bytes.starts_with(&SMBiosEntryPoint32::DMI_ANCHOR) {
        parse_legacy_dmi(bytes)
    } else {
        Err(SmbiosError::EntryPoint(
            "no _SM3_, _SM_ or _DMI_ anchor".into(),
        ))
    }
}

fn parse_sm3(bytes: &[u8]) -> Result<EntryPoint, SmbiosError> {
    let head = &bytes[..bytes.len().min(DUMP_TABLE_OFFSET)];
    let ep = SMBiosEntryPoint64::try_from(head.to_vec())
        .map_err(|e| SmbiosError::EntryPoint(e.to_string()))?;
    Ok(EntryPoint {
        version: SMBiosVersion::new(ep.major_version(), ep.minor_version(), ep.docrev()),
        address: ep.structure_table_address(),
        length: usize::try_from(ep.structure_table_maximum_size()).unwrap_or(usize::MAX),
    })
}

fn parse_sm(bytes: &[u8]) -> Result<EntryPoint, SmbiosError> {
    // smbios-lib wants exactly the 31 bytes (it slices the intermediate part to the end).
    let head = bytes
        .get(..SMBiosEntryPoint32::MINIMUM_SIZE)
        .ok_or_else(|| {
            SmbiosError::EntryPoint(format!("_SM_ entry point of {} bytes", bytes.len()))
        })?;
    let ep = SMBiosEntryPoint32::try_from(head.to_vec())
        .map_err(|e| SmbiosError::EntryPoint(e.to_string()))?;
    Ok(EntryPoint {
        version: SMBiosVersion::new(ep.major_version(), ep.minor_version(), 0),
        address: u64::from(ep.structure_table_address()),
        length: usize::from(ep.structure_table_length()),
    })
}

/// The pre-2.1 entry point: `_DMI_`, checksum, table length (u16 at 6),
/// address (u32 at 8), structure count, BCD revision (byte 14).
fn parse_legacy_dmi(bytes: &[u8]) -> Result<EntryPoint, SmbiosError> {
    let ep = bytes.get(..LEGACY_EP_LEN).ok_or_else(|| {
        SmbiosError::EntryPoint(format!("_DMI_ entry point of {} bytes", bytes.len()))
    })?;
    if ep.iter().fold(0u8, |sum, b| sum.wrapping_add(*b)) != 0 {
        return Err(SmbiosError::EntryPoint(
            "_DMI_ entry point checksum verification failed".into(),
        ));
    }
    let bcd = ep[14];
    Ok(EntryPoint {
        version: SMBiosVersion::new(bcd >> 4, bcd & 0x0F, 0),
        address: u64::from(u32::from_le_bytes([ep[8], ep[9], ep[10], ep[11]])),
        length: usize::from(u16::from_le_bytes([ep[6], ep[7]])),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One SMBIOS structure: header, formatted area after the header, strings.
    fn structure(kind: u8, handle: u16, formatted: &[u8], strings: &[&str]) -> Vec<u8> {
        let length = u8::try_from(4 + formatted.len()).unwrap();
        let mut out = vec![kind, length];
        out.extend_from_slice(&handle.to_le_bytes());
        out.extend_from_slice(formatted);
        for s in strings {
            out.extend_from_slice(s.as_bytes());
            out.push(0);
        }
        if strings.is_empty() {
            out.push(0);
        }
        out.push(0);
        out
    }

    /// A small table: Type 1 (serial string 4), Type 3 before Type 2 as on the
    /// Surface Laptop 3, a second Type 2 without a serial, and the end marker.
    pub(crate) fn sample_table(system: &str, board: &str, chassis: &str) -> Vec<u8> {
        // Type 1 formatted area from offset 4: manufacturer, product, version, serial (0x07).
        let mut type1 = vec![1, 2, 3, 4];
        type1.extend_from_slice(&[0; 16]); // UUID
        type1.push(6); // wake-up type
        let mut table = structure(1, 1, &type1, &["Acme", "Laptop 9", "1.0", system]);
        // Type 3: manufacturer, type, version, serial (0x07), asset tag.
        table.extend(structure(3, 3, &[1, 0x0A, 0, 2, 0], &["Acme", chassis]));
        // Type 2: manufacturer, product, version, serial (0x07).
        table.extend(structure(2, 2, &[1, 2, 0, 3], &["Acme", "Board", board]));
        table.extend(structure(2, 4, &[1, 0, 0, 0], &["Acme"]));
        table.extend(structure(127, 0xFFFF, &[], &[]));
        table
    }

    fn checksum_fix(bytes: &mut [u8], at: usize) {
        bytes[at] = 0;
        let sum = bytes.iter().fold(0u8, |s, b| s.wrapping_add(*b));
        bytes[at] = 0u8.wrapping_sub(sum);
    }

    fn sm3_entry_point(max_size: u32, address: u64) -> Vec<u8> {
        let mut ep = b"_SM3_".to_vec();
        ep.extend_from_slice(&[0, 0x18, 3, 2, 0, 1, 0]);
        ep.extend_from_slice(&max_size.to_le_bytes());
        ep.extend_from_slice(&address.to_le_bytes());
        checksum_fix(&mut ep, 5);
        ep
    }

    fn sm_entry_point(length: u16, address: u32) -> Vec<u8> {
        let mut ep = b"_SM_".to_vec();
        ep.extend_from_slice(&[0, 0x1F, 2, 8, 0x40, 0, 0, 0, 0, 0, 0, 0]);
        ep.extend_from_slice(b"_DMI_");
        ep.push(0);
        ep.extend_from_slice(&length.to_le_bytes());
        ep.extend_from_slice(&address.to_le_bytes());
        ep.extend_from_slice(&5u16.to_le_bytes());
        ep.push(0x28);
        checksum_fix(&mut ep[0x10..], 5);
        checksum_fix(&mut ep, 4);
        ep
    }

    fn dump(ep: &[u8], table: &[u8]) -> Vec<u8> {
        let mut out = ep.to_vec();
        out.resize(DUMP_TABLE_OFFSET, 0);
        out.extend_from_slice(table);
        out
    }

    fn text(s: &str) -> TableString {
        TableString::Text(s.into())
    }

    #[test]
    fn bare_table_gives_all_three_types() {
        let serials = from_table(&sample_table("SYS-1", "BRD-2", "CHS-3"), None).unwrap();
        assert_eq!(serials.system, vec![text("SYS-1")]);
        assert_eq!(serials.chassis, vec![text("CHS-3")]);
        assert_eq!(serials.baseboard, vec![text("BRD-2"), TableString::Absent]);
        assert_eq!(serials.system_vendor.as_deref(), Some("Acme"));
        assert_eq!(serials.system_product.as_deref(), Some("Laptop 9"));
    }

    #[test]
    fn every_wrapping_decodes_the_same_table() {
        let table = sample_table("SYS-1", "BRD-2", "CHS-3");
        let expected = from_table(&table, None).unwrap();
        let len = table.len();
        // sysfs: physical address, exact (2.x) or generous (3.x) length.
        let sm3 = sm3_entry_point(u32::try_from(len).unwrap() + 4000, 0x6A16_2000);
        assert_eq!(from_sysfs(&sm3, &table).unwrap(), expected);
        let sm = sm_entry_point(u16::try_from(len).unwrap(), 0x000F_0000);
        assert_eq!(from_sysfs(&sm, &table).unwrap(), expected);
        // dump-bin: table at 0x20.
        let sm3 = sm3_entry_point(u32::try_from(len).unwrap(), 0x20);
        assert_eq!(from_dump(&dump(&sm3, &table)).unwrap(), expected);
        let sm = sm_entry_point(u16::try_from(len).unwrap(), 0x20);
        assert_eq!(from_dump(&dump(&sm, &table)).unwrap(), expected);
        // RSMB: 8-byte header.
        let mut rsmb = vec![0, 3, 2, 0];
        rsmb.extend_from_slice(&u32::try_from(len).unwrap().to_le_bytes());
        rsmb.extend_from_slice(&table);
        assert_eq!(from_rsmb(&rsmb).unwrap(), expected);
        // Legacy _DMI_ entry point.
        let mut legacy = b"_DMI_".to_vec();
        legacy.push(0);
        legacy.extend_from_slice(&u16::try_from(len).unwrap().to_le_bytes());
        legacy.extend_from_slice(&0x20u32.to_le_bytes());
        legacy.extend_from_slice(&5u16.to_le_bytes());
        legacy.push(0x20);
        checksum_fix(&mut legacy, 5);
        assert_eq!(from_dump(&dump(&legacy, &table)).unwrap(), expected);
    }

    #[test]
    fn string_number_zero_and_bad_numbers() {
        let mut type1 = vec![1, 0, 0, 0];
        type1.extend_from_slice(&[0; 17]);
        let mut table = structure(1, 1, &type1, &["Acme"]);
        table.extend(structure(3, 3, &[1, 1, 0, 9, 0], &["Acme"]));
        let serials = from_table(&table, None).unwrap();
        assert_eq!(serials.system, vec![TableString::Absent]);
        assert_eq!(serials.chassis, vec![TableString::BadIndex]);
        assert_eq!(serials.system_product, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(matches!(
            from_dump(b"hello"),
            Err(SmbiosError::EntryPoint(_))
        ));
        assert!(matches!(
            from_dump(b"_SM_ too short"),
            Err(SmbiosError::EntryPoint(_))
        ));
        assert!(matches!(from_rsmb(&[0, 3]), Err(SmbiosError::ShortRsmb(2))));
        assert_eq!(from_table(&[], None), Err(SmbiosError::NoStructures));
        assert_eq!(from_table(&[1, 2, 3], None), Err(SmbiosError::NoStructures));
        let mut bad_sum = sm3_entry_point(100, 0x20);
        bad_sum[5] ^= 0xFF;
        assert!(matches!(
            from_dump(&dump(&bad_sum, &[0; 8])),
            Err(SmbiosError::EntryPoint(_))
        ));
        let far = sm3_entry_point(100, 0x1_0000);
        assert!(matches!(
            from_dump(&dump(&far, &[0; 8])),
            Err(SmbiosError::TableOutsideDump {
                address: 0x1_0000,
                ..
            })
        ));
        // Every truncation of a valid table decodes or fails cleanly.
        let table = sample_table("SYS-1", "BRD-2", "CHS-3");
        for end in 0..table.len() {
            let _ = from_table(&table[..end], None);
        }
    }
}
