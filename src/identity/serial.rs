//! Hardware serial numbers: which values are usable and how they compare.
//!
//! Firmware often ships template strings instead of a real serial; sending
//! one to the tenant would match every board of that vendor, so such values
//! are refused before any request (design §3, `reference/local-identity.md` A5).

/// Why a serial number cannot identify a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SerialProblem {
    /// Nothing left after trimming.
    #[error("the serial number is empty")]
    Empty,
    /// Shorter than the tenant's minimum filter length.
    #[error("the serial number {0:?} is too short to identify a device")]
    TooShort(String),
    /// A firmware template or filler value shared by many devices.
    #[error("{0:?} is a placeholder serial number that many devices share")]
    Placeholder(String),
    /// The API's filter treats commas as list separators.
    #[error("the serial number {0:?} contains a comma, which the API reads as a list separator")]
    Comma(String),
}

/// Shortest serial the API's `serialNumber__contains` filter accepts.
pub const MIN_SERIAL_LEN: usize = 2;

/// Template strings shipped by firmware instead of a serial (compared case-insensitively,
/// with spaces and dots removed so `To be filled by O.E.M.` and `To Be Filled By OEM` match).
const PLACEHOLDERS: &[&str] = &[
    "tobefilledbyoem",
    "defaultstring",
    "systemserialnumber",
    "chassisserialnumber",
    "baseboardserialnumber",
    "serialnumber",
    "notspecified",
    "notapplicable",
    "notavailable",
    "none",
    "n/a",
    "na",
    "unknown",
    "null",
    "invalid",
    "-",
    "oem",
    "123456789",
    "0123456789",
    "1234567890",
    "12345678",
];

/// Trims whitespace and NUL padding the way firmware tables need.
pub fn trim_serial(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || c == '\0')
}

/// Returns the trimmed serial when it can identify a device, or why it cannot.
pub fn check_serial(raw: &str) -> Result<&str, SerialProblem> {
    let serial = trim_serial(raw);
    if serial.is_empty() {
        return Err(SerialProblem::Empty);
    }
    if serial.chars().count() < MIN_SERIAL_LEN {
        return Err(SerialProblem::TooShort(serial.to_owned()));
    }
    if is_placeholder(serial) {
        return Err(SerialProblem::Placeholder(serial.to_owned()));
    }
    if serial.contains(',') {
        return Err(SerialProblem::Comma(serial.to_owned()));
    }
    Ok(serial)
}

fn is_placeholder(serial: &str) -> bool {
    let squashed: String = serial
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .flat_map(char::to_lowercase)
        .collect();
    if PLACEHOLDERS.contains(&squashed.as_str()) {
        return true;
    }
    // All zeros, all F, any one repeated character; dashes ignored so that
    // UUID-shaped fillers like 00000000-0000-... are caught too.
    let mut significant = squashed.chars().filter(|c| *c != '-');
    match significant.next() {
        Some(first) => significant.all(|c| c == first),
        None => true,
    }
}

/// Whether a serial reported by the tenant is the same as the local one:
/// equal after trimming, ignoring case. A substring never matches.
pub fn serials_equal(a: &str, b: &str) -> bool {
    let (a, b) = (trim_serial(a), trim_serial(b));
    !a.is_empty() && a.to_lowercase() == b.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_serials_pass_trimmed() {
        assert_eq!(check_serial("  C02XK1ABJG5J \0\0"), Ok("C02XK1ABJG5J"));
        assert_eq!(check_serial("PF2ABCDE"), Ok("PF2ABCDE"));
        assert_eq!(check_serial("VMware-56 4d 12 34"), Ok("VMware-56 4d 12 34"));
        assert_eq!(check_serial("AB"), Ok("AB"));
    }

    #[test]
    fn placeholders_refused() {
        for bad in [
            "To Be Filled By O.E.M.",
            "To be filled by OEM",
            "Default string",
            "DEFAULT STRING",
            "System Serial Number",
            "Not Specified",
            "N/A",
            "0",
            "00000000",
            "FFFFFFFF",
            "ffff",
            "0123456789",
            "00000000-0000-0000-0000-000000000000",
            "O.E.M.",
            "--",
        ] {
            let result = check_serial(bad);
            assert!(
                matches!(
                    result,
                    Err(SerialProblem::Placeholder(_)) | Err(SerialProblem::TooShort(_))
                ),
                "{bad:?} gave {result:?}"
            );
        }
    }

    #[test]
    fn empty_short_and_comma() {
        assert_eq!(check_serial(" \t"), Err(SerialProblem::Empty));
        assert_eq!(check_serial("X"), Err(SerialProblem::TooShort("X".into())));
        assert_eq!(
            check_serial("AB,CD"),
            Err(SerialProblem::Comma("AB,CD".into()))
        );
    }

    #[test]
    fn equality_is_exact_after_trim_and_case() {
        assert!(serials_equal("pf2abcde ", "PF2ABCDE"));
        assert!(!serials_equal("PF2ABCDE1", "PF2ABCDE"));
        assert!(!serials_equal("PF2ABC", "PF2ABCDE"));
        assert!(!serials_equal("", ""));
    }
}
