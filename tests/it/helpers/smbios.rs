//! SMBIOS tables byte by byte: structures (well-formed or with a header length as
//! given), tables, the SMBIOS 2 and 3 entry points, and `dmidecode --dump-bin` files,
//! for the machines rebuilt in code and for hostile tables alike.

/// One well-formed SMBIOS structure.
#[derive(Debug, Clone, Copy)]
pub struct Structure<'a> {
    pub kind: u8,
    pub handle: u16,
    /// The formatted area after the 4-byte header.
    pub formatted: &'a [u8],
    pub strings: &'a [&'a str],
}

impl Structure<'_> {
    /// Header (its length computed), formatted area, strings, terminating NUL(s).
    pub fn bytes(&self) -> Vec<u8> {
        let length = u8::try_from(4 + self.formatted.len()).unwrap();
        let mut set = Vec::new();
        for s in self.strings {
            set.extend_from_slice(s.as_bytes());
            set.push(0);
        }
        if self.strings.is_empty() {
            set.push(0);
        }
        set.push(0);
        raw_structure(self.kind, length, self.handle, self.formatted, &set)
    }
}

/// One structure as given: the header's `length` is not computed, and `strings` is
/// the raw string set (the caller decides the terminators).
pub fn raw_structure(
    kind: u8,
    length: u8,
    handle: u16,
    formatted: &[u8],
    strings: &[u8],
) -> Vec<u8> {
    let mut out = vec![kind, length];
    out.extend(handle.to_le_bytes());
    out.extend_from_slice(formatted);
    out.extend_from_slice(strings);
    out
}

/// A Type 127 end-of-table structure.
pub fn end_of_table(handle: u16) -> Vec<u8> {
    Structure {
        kind: 127,
        handle,
        formatted: &[],
        strings: &[],
    }
    .bytes()
}

/// Sets `bytes[at]` so that `bytes` add up to 0 modulo 256.
pub fn fix_checksum(bytes: &mut [u8], at: usize) {
    bytes[at] = 0;
    let sum = bytes.iter().fold(0u8, |s, b| s.wrapping_add(*b));
    bytes[at] = 0u8.wrapping_sub(sum);
}

/// A 24-byte SMBIOS 3 (`_SM3_`) entry point, version 3.2.
pub fn sm3_entry_point(max_size: u32, address: u64) -> Vec<u8> {
    let mut ep = b"_SM3_".to_vec();
    ep.extend_from_slice(&[0, 0x18, 3, 2, 0, 1, 0]);
    ep.extend_from_slice(&max_size.to_le_bytes());
    ep.extend_from_slice(&address.to_le_bytes());
    fix_checksum(&mut ep, 5);
    ep
}

/// The fields of a 31-byte SMBIOS 2 (`_SM_`) entry point with its `_DMI_` part.
#[derive(Debug, Clone, Copy)]
pub struct Sm2EntryPoint {
    pub major: u8,
    pub minor: u8,
    /// The size of the largest structure.
    pub max_structure: u16,
    pub table_length: u16,
    pub table_address: u32,
    pub structures: u16,
    /// The version again, as BCD (0x28 for 2.8).
    pub bcd_revision: u8,
}

impl Sm2EntryPoint {
    /// The entry point, both checksums valid.
    pub fn bytes(&self) -> Vec<u8> {
        let mut ep = b"_SM_".to_vec();
        ep.extend_from_slice(&[0, 0x1F, self.major, self.minor]);
        ep.extend_from_slice(&self.max_structure.to_le_bytes());
        ep.extend_from_slice(&[0; 6]);
        ep.extend_from_slice(b"_DMI_");
        ep.push(0);
        ep.extend_from_slice(&self.table_length.to_le_bytes());
        ep.extend_from_slice(&self.table_address.to_le_bytes());
        ep.extend_from_slice(&self.structures.to_le_bytes());
        ep.push(self.bcd_revision);
        fix_checksum(&mut ep[0x10..], 5);
        fix_checksum(&mut ep, 4);
        ep
    }
}

/// A `dmidecode --dump-bin` file: the entry point padded to 0x20, then the table.
pub fn dump(entry_point: &[u8], table: &[u8]) -> Vec<u8> {
    let mut out = entry_point.to_vec();
    out.resize(0x20, 0);
    out.extend_from_slice(table);
    out
}
