//! Integration names: what a valid one is, when two are the same name, the token file
//! name derived from one, and how one is written for the shell. One place for every
//! rule about names, which the reader, the editor and `integration add` share.

/// What a valid integration name is, for messages.
pub const NAME_RULE: &str = "1-64 printable characters (letters, digits, spaces, punctuation), not only spaces and without control characters";

/// Whether `name` is a valid integration name: 1-64 characters of any printable
/// Unicode, spaces included (e.g. "Production SentinelOne", the name the Banyan
/// integration page suggests), not only spaces, and no control characters or
/// invisible formatting characters (bidirectional overrides, zero-width spaces…)
/// that would make the name print differently from how it compares.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.chars().count())
        && !name.trim().is_empty()
        && !name
            .chars()
            .any(|c| c.is_control() || is_invisible_format(c))
}

/// Unicode format characters (category Cf) and separators that change how text is
/// shown without being seen: bidirectional marks and overrides, zero-width
/// characters, the byte-order mark, line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}'
        | '\u{2028}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{E0000}'..='\u{E007F}')
}

/// The token file name s1trust derives from an integration name, without the
/// `.token` extension: lowercase ASCII letters and digits, with every run of other
/// characters turned into one `-` (`Production SentinelOne` → `production-sentinelone`).
/// `.` and `_` are kept inside the name, so names valid before (`corp`, `eu_prod`,
/// `corp.eu`) keep their file names. Never empty, never hidden, never a path.
pub fn token_slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '_') {
            slug.push(c);
        } else if let Some(plain) = latin_letter(c) {
            slug.push_str(plain);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches(|c| matches!(c, '-' | '.' | '_'));
    let slug: String = slug.chars().take(64).collect();
    let slug = slug.trim_end_matches(['-', '.', '_']);
    if slug.is_empty() || is_reserved_on_windows(slug) {
        format!("integration-{slug}")
            .trim_end_matches('-')
            .to_owned()
    } else {
        slug.to_owned()
    }
}

/// The plain letters of a lowercase accented Latin letter (`é` → `e`, `ß` → `ss`).
fn latin_letter(c: char) -> Option<&'static str> {
    const LETTERS: [(&str, &str); 14] = [
        ("àáâãäåāă", "a"),
        ("çćč", "c"),
        ("ďđ", "d"),
        ("èéêëēěę", "e"),
        ("ìíîïī", "i"),
        ("ľłĺ", "l"),
        ("ñńň", "n"),
        ("òóôõöøō", "o"),
        ("řŕ", "r"),
        ("śšş", "s"),
        ("ťţ", "t"),
        ("ùúûüūů", "u"),
        ("ýÿ", "y"),
        ("źżž", "z"),
    ];
    let pairs = [("ß", "ss"), ("æ", "ae"), ("œ", "oe"), ("þ", "th")];
    LETTERS
        .iter()
        .chain(pairs.iter())
        .find(|(from, _)| from.contains(c))
        .map(|(_, to)| *to)
}

/// Windows refuses these file names with any extension (`con.token`).
fn is_reserved_on_windows(slug: &str) -> bool {
    let stem = slug.split('.').next().unwrap_or(slug);
    matches!(stem, "con" | "prn" | "aux" | "nul")
        || ((stem.starts_with("com") || stem.starts_with("lpt"))
            && stem.len() == 4
            && stem.as_bytes()[3].is_ascii_digit())
}

/// An integration name as a word for the shell in a hint: as is when it needs no
/// quoting, else in double quotes (`"Production SentinelOne"`).
pub fn shell_word(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if plain {
        return name.to_owned();
    }
    let mut quoted = String::from('"');
    for c in name.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    quoted
}

/// Whether two integration names are the same name: equal ignoring case and
/// surrounding spaces. Names are unique under this rule.
pub fn same_name(a: &str, b: &str) -> bool {
    name_key(a) == name_key(b)
}

/// The form integration names are compared in: trimmed and lowercased.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// An integration's name, as the admin wrote it: only made by [`IntegrationName::parse`]
/// (the [`valid_name`] rule), compared as [`same_name`] does, and derefs to the text.
#[derive(Debug, Clone, Eq)]
pub struct IntegrationName(String);

impl IntegrationName {
    /// A valid name, or why not (the rule in words).
    pub fn parse(name: &str) -> Result<Self, String> {
        if valid_name(name) {
            Ok(Self(name.to_owned()))
        } else {
            Err(format!(
                "integration name {} must be {NAME_RULE}",
                crate::text::quoted(name)
            ))
        }
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The token file name derived from it ([`token_slug`]).
    pub fn slug(&self) -> String {
        token_slug(&self.0)
    }
}

impl PartialEq for IntegrationName {
    fn eq(&self, other: &Self) -> bool {
        same_name(&self.0, &other.0)
    }
}

impl serde::Serialize for IntegrationName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl std::ops::Deref for IntegrationName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IntegrationName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
