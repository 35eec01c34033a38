//! SentinelOne agent UUIDs: spellings and comparison.
//!
//! The API shows 32 lowercase hex digits, macOS `sentinelctl` prints the dashed
//! 8-4-4-4-12 form, and some tools add braces; all name the same agent.

/// Why a string cannot be an agent UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a SentinelOne agent UUID (expected hex digits, optionally with dashes or braces)"
)]
pub struct BadUuid(pub String);

/// Shortest and longest hex length accepted (API examples use 32 and 40 digits).
const HEX_LEN: std::ops::RangeInclusive<usize> = 16..=64;

/// The comparison form: lowercase hex without dashes or braces.
pub fn normalize_uuid(raw: &str) -> String {
    raw.trim()
        .chars()
        .filter(|c| !matches!(c, '-' | '{' | '}'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether two spellings name the same agent.
pub fn uuids_equal(a: &str, b: &str) -> bool {
    let a = normalize_uuid(a);
    !a.is_empty() && a == normalize_uuid(b)
}

/// Every plausible spelling of a UUID for the API's `uuids=` filter: as given
/// (trimmed, braces removed), lowercase, without dashes, and dashed when it has 32 digits.
/// The order is stable and duplicates are removed.
pub fn uuid_spellings(raw: &str) -> Result<Vec<String>, BadUuid> {
    let normalized = normalize_uuid(raw);
    let hex_ok = normalized.chars().all(|c| c.is_ascii_hexdigit());
    let dashes_ok = raw
        .trim()
        .trim_matches(['{', '}'])
        .split('-')
        .all(|part| !part.is_empty());
    if !hex_ok || !HEX_LEN.contains(&normalized.len()) || !dashes_ok {
        return Err(BadUuid(raw.to_owned()));
    }
    let as_given = raw.trim().trim_matches(['{', '}']).to_owned();
    let mut spellings = vec![
        as_given.clone(),
        as_given.to_lowercase(),
        normalized.clone(),
    ];
    if normalized.len() == 32 {
        spellings.push(dashed(&normalized));
    }
    let mut seen = std::collections::HashSet::new();
    spellings.retain(|s| seen.insert(s.clone()));
    Ok(spellings)
}

/// Whether `raw` is an agent UUID as an agent's own tool prints it: hex digits only
/// (16 to 64 of them), or the dashed 8-4-4-4-12 form, either optionally in braces.
/// A masked (`xxxxxxx-xxxx-…`, `****`), truncated or oddly grouped value is not:
/// taking it for a UUID would make one up.
pub fn is_printed_uuid(raw: &str) -> bool {
    let value = raw.trim();
    let value = value
        .strip_prefix('{')
        .and_then(|v| v.strip_suffix('}'))
        .unwrap_or(value);
    let hex = |part: &str| part.chars().all(|c| c.is_ascii_hexdigit());
    if !value.contains('-') {
        return hex(value) && HEX_LEN.contains(&value.len());
    }
    let groups: Vec<&str> = value.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12]) && groups.iter().all(|g| hex(g))
}

fn dashed(hex32: &str) -> String {
    let parts = [
        &hex32[0..8],
        &hex32[8..12],
        &hex32[12..16],
        &hex32[16..20],
        &hex32[20..32],
    ];
    parts.join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_cover_api_and_dashed_forms() {
        let s = uuid_spellings("{D7F94B33-7F99-4C43-9C6B-1C6E0D01AABB}").unwrap();
        assert_eq!(
            s,
            vec![
                "D7F94B33-7F99-4C43-9C6B-1C6E0D01AABB",
                "d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb",
                "d7f94b337f994c439c6b1c6e0d01aabb",
            ]
        );
        let s = uuid_spellings("b7b2d39171be4ae1af90f93d7ed20f07").unwrap();
        assert_eq!(
            s,
            vec![
                "b7b2d39171be4ae1af90f93d7ed20f07",
                "b7b2d391-71be-4ae1-af90-f93d7ed20f07"
            ]
        );
    }

    #[test]
    fn rejects_non_uuids() {
        for bad in [
            "",
            "abc",
            "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
            "a,b",
            "b7b2d391--71be4ae1af90f93d7ed20f07",
        ] {
            assert!(uuid_spellings(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn printed_uuids_are_hex_or_dashed_8_4_4_4_12() {
        for good in [
            "8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e",
            "D7F94B33-7F99-4C43-9C6B-1C6E0D01AABB",
            "{d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb}",
            "0123456789abcdef0123456789abcdef01234567",
        ] {
            assert!(is_printed_uuid(good), "{good:?}");
        }
        for bad in [
            "xxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            "XXX35XXX8Xfb4aX0X1X8X12X343X8X30",
            "********-****-****-****-************",
            "<redacted>",
            "8b3c2d1e-0f9a4b5c8d7e6f5a4b3c2d1e",
            "d7f94b33-7f99-4c43-9c6b-1c6e0d01aab",
            "d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb-00",
            "8b3c2d1e…",
            "8b3c2d1e0f9a",
            "{8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e",
        ] {
            assert!(!is_printed_uuid(bad), "{bad:?}");
        }
    }

    #[test]
    fn equality_ignores_case_dashes_braces() {
        assert!(uuids_equal(
            "{B7B2D391-71BE-4AE1-AF90-F93D7ED20F07}",
            "b7b2d39171be4ae1af90f93d7ed20f07"
        ));
        assert!(!uuids_equal("", ""));
        assert!(!uuids_equal("b7b2d391", "b7b2d392"));
    }
}
