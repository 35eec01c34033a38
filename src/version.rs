//! Agent version numbers (`24.1.2.6`): one type for the three places that read them
//! (the agent's CLI, its install folders, the API record against `min_version`).

use std::cmp::Ordering;

/// A dotted version, compared part by part as numbers, with trailing zeros not
/// counting (`24.10` > `24.9`, `24.1` == `24.1.0`); shown as it was written.
#[derive(Debug, Clone)]
pub struct Version {
    parts: Vec<u64>,
    written: String,
}

impl Version {
    /// Exactly a dotted version: two or more parts, digits only (what the agent's
    /// own tools print).
    pub fn parse_dotted(text: &str) -> Option<Self> {
        let parts: Option<Vec<u64>> = text
            .split('.')
            .map(|p| {
                (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse().ok())
                    .flatten()
            })
            .collect();
        parts
            .filter(|p| p.len() >= 2)
            .map(|parts| Self::new(parts, text))
    }

    /// A version as the API or an admin writes it: surrounding space and a build
    /// suffix after `+`, `-` or a space are ignored (`25.1.4.434+8d4a…-Release.x64`);
    /// a single number is accepted.
    pub fn parse(text: &str) -> Option<Self> {
        let core = text.trim().split(['+', '-', ' ']).next()?;
        core.split('.')
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<u64>>>()
            .map(|parts| Self::new(parts, text))
    }

    fn new(parts: Vec<u64>, written: &str) -> Self {
        Self {
            parts,
            written: written.to_owned(),
        }
    }

    fn significant(&self) -> &[u64] {
        let end = self
            .parts
            .iter()
            .rposition(|&p| p != 0)
            .map_or(1, |i| i + 1);
        &self.parts[..end.min(self.parts.len())]
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.written)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}

impl Eq for Version {}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.significant().cmp(other.significant())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_is_strict_and_lenient_drops_build_suffixes() {
        assert!(Version::parse_dotted("24.1.2.6").is_some());
        for bad in ["24", "24.", ".1", "24.1a", "24 .1", "", "24.1+x"] {
            assert!(Version::parse_dotted(bad).is_none(), "{bad:?}");
        }
        assert_eq!(
            Version::parse("25.1.4.434+8d4abf01154f6752-Release.x64"),
            Version::parse_dotted("25.1.4.434")
        );
        assert!(Version::parse("24").is_some());
        assert!(Version::parse("x.1").is_none());
        let written = "24.01.2-beta";
        assert_eq!(Version::parse(written).unwrap().to_string(), written);
    }

    #[test]
    fn numeric_order_and_trailing_zeros() {
        let v = |t| Version::parse(t).unwrap();
        assert!(v("24.10") > v("24.9"));
        assert_eq!(v("24.1"), v("24.1.0.0"));
        assert!(v("24.1.0.1") > v("24.1"));
        assert_eq!(v("0"), v("0.0"));
    }
}
