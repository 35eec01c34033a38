//! Hardware serial numbers: which values are usable, how they compare, and
//! which ones betray a virtual machine.
//!
//! Firmware often ships template strings instead of a real serial; sending
//! one to the tenant would match every board of that vendor, so such values
//! are refused before any request (docs/commands.md "Lookup rules").
//! Hypervisors fill the serial with their own patterns (`VMware-56 4d …`);
//! those are unique per VM and stay usable, but are flagged as virtual.

use super::CandidateReason;

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
    /// Control characters: no firmware or console serial holds them, and they must not
    /// travel to the tenant or a terminal.
    #[error("the serial number {0:?} contains control characters")]
    Control(String),
}

impl SerialProblem {
    /// The code a serial candidate with this problem carries.
    pub fn code(&self) -> CandidateReason {
        match self {
            Self::Empty => CandidateReason::Empty,
            Self::TooShort(_) => CandidateReason::TooShort,
            Self::Placeholder(_) => CandidateReason::Placeholder,
            Self::Comma(_) => CandidateReason::Comma,
            Self::Control(_) => CandidateReason::BadString,
        }
    }
}

/// A serial number that can identify a device: trimmed of blanks and NUL padding, not
/// empty, not too short, not a placeholder. Only [`Serial::parse`] makes one, so code
/// that holds a `Serial` (the device's serials, a lookup query) never checks or trims it
/// again; the one rule left for later is the API filter's (no comma), applied where the
/// filter is built ([`Serial::filter_value`]). Serials compare ignoring case
/// ([`Serial::is`]).
#[derive(Clone)]
pub struct Serial(String);

/// Quoted like the string it holds, as messages show serials.
impl std::fmt::Debug for Serial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl PartialEq for Serial {
    fn eq(&self, other: &Self) -> bool {
        serials_equal(&self.0, &other.0)
    }
}

impl Eq for Serial {}

impl Serial {
    /// Applies the rules ([`check_identifying`]) to a value as read.
    pub fn parse(raw: &str) -> Result<Self, SerialProblem> {
        check_identifying(raw).map(|s| Self(s.to_owned()))
    }

    /// The serial as the API's `serialNumber__contains` filter can carry it: refused
    /// when it holds a comma, which the filter reads as a list separator.
    pub fn filter_value(&self) -> Result<&str, SerialProblem> {
        if self.0.contains(',') {
            return Err(SerialProblem::Comma(self.0.clone()));
        }
        Ok(&self.0)
    }

    /// The serial, trimmed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other`, as read anywhere (a record, a snapshot), is this serial.
    pub fn is(&self, other: &str) -> bool {
        serials_equal(&self.0, other)
    }
}

impl std::fmt::Display for Serial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl serde::Serialize for Serial {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// A document that names a serial (a test identity, a snapshot's device) is held to
/// the same rules: a placeholder there is an error, not a serial.
impl<'de> serde::Deserialize<'de> for Serial {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
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
    "noassettag",
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

/// Fragments of firmware templates that never occur in a real serial, e.g.
/// `Type2 - Board Serial Number`, `OEM Chassis Serial Number`, `To Be Filled By O.E.M. 1`.
const TEMPLATE_FRAGMENTS: &[&str] = &["serialnumber", "tobefilledbyoem", "defaultstring"];

/// Length of an ascending digit run (`12345678`) that marks a made-up serial
/// such as ASUS's `BSN12345678901234567`.
const COUNTING_RUN: usize = 8;

/// Trims whitespace and NUL padding the way firmware tables need.
pub fn trim_serial(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || c == '\0')
}

/// Returns the trimmed serial when it can identify a device and be sent to the
/// tenant's filter, or why it cannot.
pub fn check_serial(raw: &str) -> Result<&str, SerialProblem> {
    let serial = check_identifying(raw)?;
    if serial.contains(',') {
        return Err(SerialProblem::Comma(serial.to_owned()));
    }
    Ok(serial)
}

/// Returns the trimmed serial when it can identify a device (not empty, not too
/// short, not a placeholder), whether or not the API's filter could carry it: the
/// rule for comparing a record's serial with this device's, where a comma is harmless.
pub fn check_identifying(raw: &str) -> Result<&str, SerialProblem> {
    let serial = trim_serial(raw);
    if serial.is_empty() {
        return Err(SerialProblem::Empty);
    }
    if serial.chars().count() < MIN_SERIAL_LEN {
        return Err(SerialProblem::TooShort(serial.to_owned()));
    }
    if serial.chars().any(char::is_control) {
        return Err(SerialProblem::Control(serial.to_owned()));
    }
    if is_placeholder(serial) {
        return Err(SerialProblem::Placeholder(serial.to_owned()));
    }
    Ok(serial)
}

fn is_placeholder(serial: &str) -> bool {
    let squashed: String = serial
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .flat_map(char::to_lowercase)
        .collect();
    if PLACEHOLDERS.contains(&squashed.as_str())
        || TEMPLATE_FRAGMENTS.iter().any(|f| squashed.contains(f))
        || has_counting_run(&squashed)
    {
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

/// Whether the text holds `COUNTING_RUN` or more digits counting up by one.
fn has_counting_run(text: &str) -> bool {
    let mut run = 0;
    let mut previous: Option<u32> = None;
    for digit in text.chars().map(|c| c.to_digit(10)) {
        run = match (previous, digit) {
            (Some(p), Some(d)) if d == p + 1 => run + 1,
            (_, Some(_)) => 1,
            (_, None) => 0,
        };
        if run >= COUNTING_RUN {
            return true;
        }
        previous = digit;
    }
    false
}

/// The virtualization platform a serial number's shape points to
/// (`vmware`, `parallels`, `virtualbox`, `hyperv`, `aws`, `gcp`, `corellium`).
///
/// VirtualBox guests report `0`, which is also refused as a placeholder.
pub fn virtual_platform(serial: &str) -> Option<&'static str> {
    let serial = trim_serial(serial);
    let lower = serial.to_ascii_lowercase();
    let by_prefix = [
        ("vmware-", "vmware"),
        ("parallels-", "parallels"),
        ("googlecloud-", "gcp"),
        ("corellium-", "corellium"),
    ];
    if let Some((_, platform)) = by_prefix.iter().find(|(p, _)| lower.starts_with(p)) {
        return Some(platform);
    }
    if serial == "0" {
        return Some("virtualbox");
    }
    if is_hyperv_serial(serial) {
        return Some("hyperv");
    }
    // EC2 puts its instance UUID, which always starts with "ec2", in the serial.
    let hex = crate::identity::uuid::normalize_uuid(&lower);
    if hex.starts_with("ec2") && hex.len() == 32 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Some("aws");
    }
    None
}

/// Hyper-V and Azure: `dddd-dddd-dddd-dddd-dddd-dddd-dd`.
fn is_hyperv_serial(serial: &str) -> bool {
    let groups: Vec<&str> = serial.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    lengths == [4, 4, 4, 4, 4, 4, 2] && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_digit()))
}

/// The virtualization platform the firmware's system vendor and product name
/// (SMBIOS Type 1, `/sys/class/dmi/id/{sys_vendor,product_name}`) point to.
pub fn virtual_platform_from_model(vendor: &str, product: &str) -> Option<&'static str> {
    let vendor = vendor.trim().to_ascii_lowercase();
    let product = product.trim().to_ascii_lowercase();
    let known = [
        (vendor.starts_with("vmware"), "vmware"),
        (
            vendor.contains("innotek") || product == "virtualbox",
            "virtualbox",
        ),
        (vendor.starts_with("parallels"), "parallels"),
        (
            vendor == "qemu" || product.starts_with("standard pc"),
            "qemu",
        ),
        (product == "kvm", "kvm"),
        (vendor == "xen", "xen"),
        (
            vendor == "microsoft corporation" && product == "virtual machine",
            "hyperv",
        ),
        (vendor == "amazon ec2", "aws"),
        (product == "google compute engine", "gcp"),
    ];
    known
        .iter()
        .find(|(hit, _)| *hit)
        .map(|(_, platform)| *platform)
}

/// `ioreg` output without the serial line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the output has no \"IOPlatformSerialNumber\" line")]
pub struct NoIoregSerial;

/// The serial from `ioreg -rd1 -c IOPlatformExpertDevice` output, whose line
/// reads `  |   "IOPlatformSerialNumber" = "C02XK1ABJG5J"` (not `IOPlatformUUID`).
pub fn serial_from_ioreg(output: &str) -> Result<String, NoIoregSerial> {
    output
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            let key = key.trim_matches(|c: char| c.is_whitespace() || c == '|');
            (key == "\"IOPlatformSerialNumber\"").then(|| value.trim().trim_matches('"').to_owned())
        })
        .ok_or(NoIoregSerial)
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
    fn a_serial_is_made_only_by_the_rules() {
        let serial = Serial::parse("  PF2ABCDE\0\0").unwrap();
        assert_eq!(serial.as_str(), "PF2ABCDE");
        assert!(serial.is("pf2abcde "));
        assert_eq!(serial, Serial::parse("pf2abcde").unwrap());
        assert_eq!(format!("{serial:?} {serial}"), "\"PF2ABCDE\" PF2ABCDE");
        assert!(!serial.is("PF2ABCDF"));
        for bad in ["", "  ", "X", "To Be Filled By O.E.M.", "0000000000"] {
            assert!(Serial::parse(bad).is_err(), "{bad:?}");
        }
        let comma = Serial::parse("AB,CD").unwrap();
        assert_eq!(
            comma.filter_value(),
            Err(SerialProblem::Comma("AB,CD".into()))
        );
        assert_eq!(serial.filter_value(), Ok("PF2ABCDE"));
        let json = serde_json::to_string(&serial).unwrap();
        assert_eq!(json, "\"PF2ABCDE\"");
        assert_eq!(serde_json::from_str::<Serial>(&json).unwrap(), serial);
        assert!(serde_json::from_str::<Serial>("\"Default string\"").is_err());
    }

    #[test]
    fn real_serials_pass_trimmed() {
        assert_eq!(check_serial("  C02XK1ABJG5J \0\0"), Ok("C02XK1ABJG5J"));
        assert_eq!(check_serial("PF2ABCDE"), Ok("PF2ABCDE"));
        assert_eq!(check_serial("VMware-56 4d 12 34"), Ok("VMware-56 4d 12 34"));
        assert_eq!(check_serial("AB"), Ok("AB"));
    }

    #[test]
    fn control_characters_are_refused_before_anything_is_sent() {
        for bad in ["PF2AB\u{1b}[2KCDE", "PF2AB\u{0}CDE", "PF2\u{85}ABCDE"] {
            assert!(
                matches!(Serial::parse(bad), Err(SerialProblem::Control(_))),
                "{bad:?}"
            );
        }
        assert!(
            Serial::parse("  PF2ABCDE\n").is_ok(),
            "surrounding blanks are trimmed"
        );
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
        // A comma only stops the serial from being sent; it still identifies.
        assert_eq!(check_identifying(" AB,CD "), Ok("AB,CD"));
        assert_eq!(
            check_identifying("None"),
            Err(SerialProblem::Placeholder("None".into()))
        );
        assert_eq!(check_identifying(""), Err(SerialProblem::Empty));
    }

    #[test]
    fn firmware_templates_and_made_up_sequences_refused() {
        for bad in [
            "Type2 - Board Serial Number",
            "OEM Chassis Serial Number",
            "No Asset Tag",
            "BSN12345678901234567",
            "None",
            "..................",
            "To Be Filled By O.E.M. 1",
            "Default string ",
        ] {
            assert!(
                matches!(check_serial(bad), Err(SerialProblem::Placeholder(_))),
                "{bad:?}"
            );
        }
        for good in [
            "FCN0CJ03468352B     ",
            ".CSX5YM2.CNIVC007B80015.",
            "/2R0Q2G2/CN1296374E0065/",
            "1519-7810-4472-8775-7272-8851-12",
            "023078193757",
            "ZM159S017443",
            "1234567",
        ] {
            assert!(check_serial(good).is_ok(), "{good:?}");
        }
        assert_eq!(SerialProblem::Placeholder("x".into()).code(), "placeholder");
    }

    #[test]
    fn virtual_machine_serials() {
        let cases = [
            (
                "VMware-56 4d e2 c3 c3 c0 e1 e2-46 22 55 4d c5 eb 6b a1",
                Some("vmware"),
            ),
            ("Parallels-0D 3D 6E 6E 62 E5 4F A1", Some("parallels")),
            ("0", Some("virtualbox")),
            (" 1519-7810-4472-8775-7272-8851-12 ", Some("hyperv")),
            ("ec2e1916-9099-7caf-fd21-012345abcdef", Some("aws")),
            ("GoogleCloud-1234ABCD", Some("gcp")),
            ("CORELLIUM-1234", Some("corellium")),
            ("C02XK1ABJG5J", None),
            ("00", None),
            ("1519-7810-4472", None),
        ];
        for (serial, platform) in cases {
            assert_eq!(virtual_platform(serial), platform, "{serial:?}");
        }
        assert_eq!(
            virtual_platform_from_model("VMware, Inc.", "VMware Virtual Platform"),
            Some("vmware")
        );
        assert_eq!(
            virtual_platform_from_model("innotek GmbH", "VirtualBox"),
            Some("virtualbox")
        );
        assert_eq!(
            virtual_platform_from_model("QEMU", "Standard PC (Q35 + ICH9, 2009)"),
            Some("qemu")
        );
        assert_eq!(
            virtual_platform_from_model("Microsoft Corporation", "Virtual Machine"),
            Some("hyperv")
        );
        assert_eq!(
            virtual_platform_from_model("Microsoft Corporation", "Surface Laptop 3"),
            None
        );
        assert_eq!(virtual_platform_from_model("", ""), None);
    }

    #[test]
    fn ioreg_output() {
        let output = "+-o J316sAP  <class IOPlatformExpertDevice, id 0x100000244>\n    {\n      \"IOPlatformUUID\" = \"0A1B2C3D-0000-1111-2222-333344445555\"\n      \"IOPlatformSerialNumber\" = \"C02XK1ABJG5J\"\n      \"model\" = <\"MacBookPro18,1\">\n    }\n";
        assert_eq!(serial_from_ioreg(output).as_deref(), Ok("C02XK1ABJG5J"));
        let piped = "  |   \"IOPlatformSerialNumber\" = \"XYZ123\"\r\n";
        assert_eq!(serial_from_ioreg(piped).as_deref(), Ok("XYZ123"));
        assert_eq!(
            serial_from_ioreg("\"IOPlatformUUID\" = \"abc\""),
            Err(NoIoregSerial)
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
