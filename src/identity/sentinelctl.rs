//! Parsers for the SentinelOne agent's command-line output, one per command.
//!
//! The formats are only publicly described, not specified, and differ between
//! OSes and agent versions, so every parser is tolerant: CRLF or LF, keys
//! matched case-insensitively, a value after the first `:` or after a run of
//! spaces, surrounding quotes and spaces trimmed, unknown lines ignored, and
//! `undefined`/empty values read as absent. What a parser needs but cannot find
//! is an error, so a changed format shows up as `unparsable`, never as a wrong
//! answer.

use super::uuid::is_printed_uuid;

/// Why a command's output could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A line the parser needs is missing (e.g. no `UUID` line).
    #[error("the output has no {0:?} line")]
    Missing(&'static str),
    /// A value that does not have the expected shape.
    #[error("{key:?} is {value:?}, which is not {expected}")]
    BadValue {
        /// The key.
        key: &'static str,
        /// The value as printed.
        value: String,
        /// What was expected, e.g. "an agent UUID".
        expected: &'static str,
    },
    /// Nothing recognizable at all.
    #[error("the output has none of the expected lines")]
    Unrecognized,
    /// The tool could not reach the agent this time, e.g. Linux `Error: receive
    /// failed: Connection reset by peer`; worth one more try.
    #[error("the agent did not answer: {0:?}")]
    Transient(String),
}

/// The line in which the Linux tool says it lost its connection to the agent's
/// daemon (`Error: receive failed: Connection reset by peer`), if any.
fn transient(output: &str) -> Option<ParseError> {
    output
        .lines()
        .map(str::trim)
        .find(|line| {
            line.to_ascii_lowercase()
                .contains("connection reset by peer")
        })
        .map(|line| ParseError::Transient(line.chars().take(120).collect()))
}

/// `sentinelctl management status` (Linux).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementStatus {
    /// Agent UUID as printed; `None` when `undefined` (not registered).
    pub uuid: Option<String>,
    /// Management console URL.
    pub url: Option<String>,
    /// `Connectivity On|Off`.
    pub connected: Option<bool>,
}

/// `sentinelctl status` (macOS): the `Agent` and `Management` sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MacStatus {
    /// `Agent` → `ID`; `None` when empty or `undefined`.
    pub uuid: Option<String>,
    /// `Agent` → `Version`.
    pub version: Option<String>,
    /// `Agent` → `Ready`.
    pub ready: Option<bool>,
    /// `Agent` → `Protection`.
    pub protection: Option<bool>,
    /// `Agent` → `Infected`.
    pub infected: Option<bool>,
    /// `Management` → `Server`.
    pub server: Option<String>,
    /// `Management` → `Connected`.
    pub connected: Option<bool>,
}

/// `SentinelCtl.exe status` (Windows): no UUID, no URL.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowsStatus {
    /// Version: the `Monitor Build id` up to `+`.
    pub version: Option<String>,
    /// `SentinelAgent is loaded` / `is not loaded`.
    pub agent_loaded: Option<bool>,
    /// `Self-Protection status: On|Off`.
    pub self_protection: Option<bool>,
}

/// Parses `sentinelctl management status` (`UUID  <value>`, `URL  <url>`, `Connectivity  On`,
/// among many other keys). A lost connection to the agent is [`ParseError::Transient`].
pub fn parse_management_status(output: &str) -> Result<ManagementStatus, ParseError> {
    if let Some(error) = transient(output) {
        return Err(error);
    }
    let fields = key_values(output);
    let uuid = find(&fields, "uuid").ok_or(ParseError::Missing("UUID"))?;
    Ok(ManagementStatus {
        uuid: checked_uuid("UUID", uuid)?,
        url: find(&fields, "url").and_then(present).map(str::to_owned),
        connected: find(&fields, "connectivity").and_then(flag),
    })
}

/// Parses `sentinelctl version` (`Agent version: 24.1.2.6`).
pub fn parse_linux_version(output: &str) -> Result<String, ParseError> {
    if let Some(error) = transient(output) {
        return Err(error);
    }
    let fields = key_values(output);
    let version = find(&fields, "agent version").ok_or(ParseError::Missing("Agent version"))?;
    checked_version("Agent version", version)
}

/// Parses macOS `sentinelctl status`, full or `--filters Agent|Management`.
///
/// Section headers are lines without a value; keys are looked up in their
/// section first, and anywhere when the output has no such section.
pub fn parse_mac_status(output: &str) -> Result<MacStatus, ParseError> {
    let lines = sectioned(output);
    let get = |section: &str, key: &str| {
        let in_section = lines
            .iter()
            .any(|(s, _, _)| s.eq_ignore_ascii_case(section));
        lines
            .iter()
            .find(|(s, k, _)| {
                k.eq_ignore_ascii_case(key) && (!in_section || s.eq_ignore_ascii_case(section))
            })
            .map(|(_, _, v)| v.as_str())
    };
    let id = get("Agent", "ID").ok_or(ParseError::Missing("ID"))?;
    let version = get("Agent", "Version").and_then(present);
    Ok(MacStatus {
        uuid: checked_uuid("ID", id)?,
        version: version.map(|v| checked_version("Version", v)).transpose()?,
        ready: get("Agent", "Ready").and_then(flag),
        protection: get("Agent", "Protection").and_then(flag),
        infected: get("Agent", "Infected").and_then(flag),
        server: get("Management", "Server")
            .and_then(present)
            .map(str::to_owned),
        connected: get("Management", "Connected").and_then(flag),
    })
}

/// Parses macOS `sentinelctl version`: one line, `SentinelOne 24.1.2.7444` (the
/// installed agent, which can be newer than the running one `status` reports).
pub fn parse_mac_version(output: &str) -> Result<String, ParseError> {
    let line = output
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or(ParseError::Missing("SentinelOne <version>"))?;
    let version = line
        .split_whitespace()
        .last()
        .filter(|_| line.to_ascii_lowercase().starts_with("sentinelone"))
        .ok_or(ParseError::Missing("SentinelOne <version>"))?;
    checked_version("version", version)
}

/// Parses `SentinelCtl.exe agent_id`: the UUID alone, on the last non-empty
/// line (older builds may print a label first). `None` when it prints nothing
/// or an all-zero id (not registered).
pub fn parse_windows_agent_id(output: &str) -> Result<Option<String>, ParseError> {
    if output.to_ascii_lowercase().contains("error") {
        return Err(ParseError::BadValue {
            key: "agent_id",
            value: first_line(output),
            expected: "an agent UUID",
        });
    }
    let Some(last) = output.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let value = split_line(last).map_or(last, |(_, v)| v);
    checked_uuid("agent_id", value)
}

/// Parses `SentinelCtl.exe status` (`Monitor Build id: 24.1.2.6+…`, `SentinelAgent is loaded`).
pub fn parse_windows_status(output: &str) -> Result<WindowsStatus, ParseError> {
    let fields = key_values(output);
    let version = find(&fields, "monitor build id")
        .and_then(present)
        .map(|build| {
            let version = build.split('+').next().unwrap_or(build).trim();
            checked_version("Monitor Build id", version)
        })
        .transpose()?;
    let status = WindowsStatus {
        version,
        agent_loaded: loaded_state(output, "sentinelagent"),
        self_protection: find(&fields, "self-protection status").and_then(flag),
    };
    if status == WindowsStatus::default() {
        return Err(ParseError::Unrecognized);
    }
    Ok(status)
}

/// Parses `SentinelCtl.exe config server.mgmtServer`: the URL in double quotes.
/// `None` when it prints nothing or `undefined`.
pub fn parse_windows_mgmt_server(output: &str) -> Result<Option<String>, ParseError> {
    let Some(last) = output.lines().map(str::trim).rfind(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let value = match split_line(last) {
        Some((key, value)) if !key.contains("//") => value,
        _ => unquote(last),
    };
    match present(value) {
        None => Ok(None),
        Some(url) if url.starts_with("https://") || url.starts_with("http://") => {
            Ok(Some(url.to_owned()))
        }
        Some(other) => Err(ParseError::BadValue {
            key: "server.mgmtServer",
            value: other.to_owned(),
            expected: "an http(s) URL",
        }),
    }
}

/// Splits one line into key and value: at the first `:` that ends a word
/// (so `https://…` stays whole) or at the first run of two or more blanks,
/// whichever comes first; failing both, at the first blank.
pub fn split_line(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let colon = line
        .char_indices()
        .find(|&(i, c)| c == ':' && line[i + 1..].chars().next().is_none_or(char::is_whitespace))
        .map(|(i, _)| (i, i + 1));
    let gap = blank_run(line, 2);
    let (key_end, value_start) = match (colon, gap) {
        (Some(c), Some(g)) => {
            if c.0 <= g.0 {
                c
            } else {
                g
            }
        }
        (Some(c), None) => c,
        (None, Some(g)) => g,
        (None, None) => blank_run(line, 1)?,
    };
    let key = line[..key_end].trim();
    let value = unquote(&line[value_start..]);
    (!key.is_empty()).then_some((key, value))
}

/// The first run of at least `min` blanks (spaces or tabs; a tab counts as a run), as (start, end).
fn blank_run(line: &str, min: usize) -> Option<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' || bytes[i] == b'\t' {
            let start = i;
            while i < bytes.len() && (bytes[i] == b' ' || bytes[i] == b'\t') {
                i += 1;
            }
            if i - start >= min || bytes[start] == b'\t' {
                return Some((start, i));
            }
        } else {
            i += 1;
        }
    }
    None
}

/// Trims spaces and one pair of surrounding quotes.
fn unquote(value: &str) -> &str {
    let value = value.trim();
    ['"', '\'']
        .iter()
        .find_map(|q| value.strip_prefix(*q)?.strip_suffix(*q))
        .map_or(value, str::trim)
}

fn key_values(output: &str) -> Vec<(&str, &str)> {
    output.lines().filter_map(split_line).collect()
}

fn find<'a>(fields: &[(&str, &'a str)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| *v)
}

/// (section, key, value) for every key line; a line without a value opens a section.
fn sectioned(output: &str) -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in output.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match split_line(line) {
            Some((key, value)) => out.push((section.clone(), key.to_owned(), value.to_owned())),
            None => section = line.to_owned(),
        }
    }
    out
}

/// The value, unless it is empty or a "no value" word.
fn present(value: &str) -> Option<&str> {
    let value = unquote(value);
    let empty = ["", "undefined", "null", "(null)", "none", "n/a", "-"];
    (!empty.iter().any(|e| value.eq_ignore_ascii_case(e))).then_some(value)
}

/// yes/no, on/off, enabled/disabled, true/false, connected/disconnected.
fn flag(value: &str) -> Option<bool> {
    let value = unquote(value).to_ascii_lowercase();
    match value.as_str() {
        "yes" | "on" | "enabled" | "true" | "connected" => Some(true),
        "no" | "off" | "disabled" | "false" | "disconnected" => Some(false),
        _ => None,
    }
}

/// `<name> is loaded` → true, `<name> is not loaded` / `is unloaded` → false.
fn loaded_state(output: &str, name: &str) -> Option<bool> {
    output.lines().find_map(|line| {
        let line = line.trim().to_ascii_lowercase();
        let rest = line.strip_prefix(name)?.trim_start().strip_prefix("is ")?;
        match rest.trim() {
            "loaded" => Some(true),
            "not loaded" | "unloaded" => Some(false),
            _ => None,
        }
    })
}

/// A UUID value: absent when `undefined`/empty/all zeros; an error when it is not an
/// agent UUID as printed ([`is_printed_uuid`]): a masked or malformed value is never
/// taken for one.
fn checked_uuid(key: &'static str, value: &str) -> Result<Option<String>, ParseError> {
    let Some(value) = present(value) else {
        return Ok(None);
    };
    if !is_printed_uuid(value) {
        return Err(ParseError::BadValue {
            key,
            value: value.to_owned(),
            expected: "an agent UUID",
        });
    }
    let value = value.trim_matches(['{', '}']);
    let unregistered = value.chars().all(|c| matches!(c, '0' | '-'));
    Ok((!unregistered).then(|| value.to_owned()))
}

/// A dotted version such as `24.1.2.6`.
fn checked_version(key: &'static str, value: &str) -> Result<String, ParseError> {
    if crate::version::Version::parse_dotted(value).is_some() {
        Ok(value.to_owned())
    } else {
        Err(ParseError::BadValue {
            key,
            value: value.to_owned(),
            expected: "a dotted version number",
        })
    }
}

fn first_line(output: &str) -> String {
    output
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .chars()
        .take(120)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX_REGISTERED: &str = "Connectivity            On\n\
        URL                     https://usea1-acme.sentinelone.net\n\
        Site-Key                3f9c1e2ab4d5c6e7a8b9c0d1e2f3a4b5\n\
        UUID                    8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e\n";

    const MAC_STATUS: &str = "Agent\n\
        \x20  Version:                      25.3.4.8365\n\
        \x20  ID:                           d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb\n\
        \x20  Install Date:                 6/1/26, 10:09:51 AM\n\
        \x20  Ready:                        yes\n\
        \x20  Protection:                   enabled\n\
        \x20  Infected:                     no\n\
        Daemons\n\
        \x20  Services\n\
        \x20     sentineld:                 ready\n\
        Management\n\
        \x20  Server:                       https://euce1-109.sentinelone.net\n\
        \x20  Site Key:                     0a1b2c3d4e5f60718293a4b5c6d7e8f9\n\
        \x20  Last Seen:                    11/21/26, 8:14:22 AM\n\
        \x20  Connected:                    yes\n";

    const WINDOWS_STATUS: &str = "Disable State: Not disabled by the user\r\n\
        SentinelMonitor is loaded\r\n\
        Self-Protection status: On\r\n\
        Monitor Build id: 24.1.2.6+8d4abf01154f6752-Release.x64\r\n\
        SentinelAgent is loaded\r\n\
        SentinelAgent is running as PPL\r\n\
        Mitigation policy: none\r\n";

    #[test]
    fn splits_on_colon_or_spaces_but_not_inside_urls() {
        assert_eq!(split_line("UUID   abc"), Some(("UUID", "abc")));
        assert_eq!(split_line("Connectivity: On"), Some(("Connectivity", "On")));
        assert_eq!(
            split_line("URL                     https://x.net:443/a"),
            Some(("URL", "https://x.net:443/a"))
        );
        assert_eq!(
            split_line("URL: https://x.net"),
            Some(("URL", "https://x.net"))
        );
        assert_eq!(
            split_line("   Install Date:     6/1/26, 10:09:51 AM"),
            Some(("Install Date", "6/1/26, 10:09:51 AM"))
        );
        assert_eq!(
            split_line("Agent version: 24.1"),
            Some(("Agent version", "24.1"))
        );
        assert_eq!(split_line("UUID\t\"abc\""), Some(("UUID", "abc")));
        assert_eq!(split_line("UUID abc"), Some(("UUID", "abc")));
        assert_eq!(split_line("Agent"), None);
        assert_eq!(split_line(""), None);
    }

    #[test]
    fn linux_management_status() {
        let status = parse_management_status(LINUX_REGISTERED).unwrap();
        assert_eq!(
            status.uuid.as_deref(),
            Some("8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e")
        );
        assert_eq!(
            status.url.as_deref(),
            Some("https://usea1-acme.sentinelone.net")
        );
        assert_eq!(status.connected, Some(true));
        // CRLF, colons, odd case, unknown lines, quotes.
        let variant = "Agent management status\r\nconnectivity: off\r\nuuid:  \"8B3C2D1E-0F9A-4B5C-8D7E-6F5A4B3C2D1E\" \r\nurl: https://h.sentinelone.net\r\nSomething new   42\r\n";
        let status = parse_management_status(variant).unwrap();
        assert_eq!(
            status.uuid.as_deref(),
            Some("8B3C2D1E-0F9A-4B5C-8D7E-6F5A4B3C2D1E")
        );
        assert_eq!(status.connected, Some(false));
        assert_eq!(status.url.as_deref(), Some("https://h.sentinelone.net"));
    }

    #[test]
    fn linux_unregistered_and_broken() {
        let unregistered = "Connectivity            Off\nURL                     undefined\nSite-Key                undefined\nUUID                    undefined\n";
        let status = parse_management_status(unregistered).unwrap();
        assert_eq!(
            status,
            ManagementStatus {
                uuid: None,
                url: None,
                connected: Some(false)
            }
        );
        assert_eq!(
            parse_management_status("Connectivity On\n"),
            Err(ParseError::Missing("UUID"))
        );
        assert!(matches!(
            parse_management_status("UUID   not-a-uuid!\n"),
            Err(ParseError::BadValue { key: "UUID", .. })
        ));
        assert!(parse_management_status("").is_err());
        assert_eq!(
            parse_management_status("UUID\n"),
            Err(ParseError::Missing("UUID"))
        );
        assert_eq!(parse_management_status("UUID:\n").unwrap().uuid, None);
    }

    #[test]
    fn linux_version() {
        let out = "Agent version: 24.1.2.6\nSentinelCTL version: 24.1.2.6\n";
        assert_eq!(parse_linux_version(out).unwrap(), "24.1.2.6");
        assert_eq!(
            parse_linux_version("agent version   23.4.1.2\r\n").unwrap(),
            "23.4.1.2"
        );
        assert_eq!(
            parse_linux_version("SentinelCTL version: 1.2\n"),
            Err(ParseError::Missing("Agent version"))
        );
        assert!(parse_linux_version("Agent version: banana\n").is_err());
    }

    #[test]
    fn mac_status_full() {
        let status = parse_mac_status(MAC_STATUS).unwrap();
        assert_eq!(
            status,
            MacStatus {
                uuid: Some("d7f94b33-7f99-4c43-9c6b-1c6e0d01aabb".into()),
                version: Some("25.3.4.8365".into()),
                ready: Some(true),
                protection: Some(true),
                infected: Some(false),
                server: Some("https://euce1-109.sentinelone.net".into()),
                connected: Some(true),
            }
        );
        let crlf = MAC_STATUS.replace('\n', "\r\n");
        assert_eq!(parse_mac_status(&crlf).unwrap(), status);
    }

    #[test]
    fn mac_status_filtered_and_unregistered() {
        let filtered =
            "Agent\nID: {D7F94B33-7F99-4C43-9C6B-1C6E0D01AABB}\nVersion: 25.3.4.8365\nReady: no\n";
        let status = parse_mac_status(filtered).unwrap();
        assert_eq!(
            status.uuid.as_deref(),
            Some("D7F94B33-7F99-4C43-9C6B-1C6E0D01AABB")
        );
        assert_eq!(status.ready, Some(false));
        assert_eq!(status.server, None);
        let unregistered = "Agent\n   ID:   undefined\nManagement\n   Server:   \n";
        assert_eq!(parse_mac_status(unregistered).unwrap().uuid, None);
        // A non-root run may leave the ID out entirely: that is not "unregistered".
        assert_eq!(
            parse_mac_status("Agent\n   Version: 25.3.4.8365\n"),
            Err(ParseError::Missing("ID"))
        );
        // An ID key in another section does not count when an Agent section exists.
        let other = "Agent\n   Version: 1.2\nCommand\n   ID: d7f94b337f994c439c6b1c6e0d01aabb\n";
        assert_eq!(parse_mac_status(other), Err(ParseError::Missing("ID")));
    }

    #[test]
    fn masked_or_malformed_uuids_are_errors_in_every_tool() {
        for masked in [
            "xxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
            "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "********-****-****-****-************",
            "8b3c2d1e-0f9a-4b5c-8d7e",
            "8b3c2d1e0f9a4b5c-8d7e6f5a4b3c2d1e",
        ] {
            let linux = parse_management_status(&format!("UUID   {masked}\n"));
            assert!(
                matches!(linux, Err(ParseError::BadValue { key: "UUID", .. })),
                "{masked}: {linux:?}"
            );
            let mac = parse_mac_status(&format!("Agent\n   ID:   {masked}\n"));
            assert!(
                matches!(mac, Err(ParseError::BadValue { key: "ID", .. })),
                "{masked}: {mac:?}"
            );
            let windows = parse_windows_agent_id(&format!("{masked}\r\n"));
            assert!(
                matches!(windows, Err(ParseError::BadValue { .. })),
                "{masked}: {windows:?}"
            );
        }
    }

    #[test]
    fn linux_reset_is_transient() {
        let reset = "Error: receive failed: Connection reset by peer\n";
        assert_eq!(
            parse_management_status(reset),
            Err(ParseError::Transient(
                "Error: receive failed: Connection reset by peer".into()
            ))
        );
        assert!(matches!(
            parse_linux_version(reset),
            Err(ParseError::Transient(_))
        ));
        assert!(
            parse_management_status(reset)
                .unwrap_err()
                .to_string()
                .contains("did not answer")
        );
    }

    #[test]
    fn mac_version() {
        assert_eq!(
            parse_mac_version("SentinelOne 24.1.2.7444\n").unwrap(),
            "24.1.2.7444"
        );
        assert_eq!(
            parse_mac_version("\r\nSentinelOne 25.3.4.8365\r\n").unwrap(),
            "25.3.4.8365"
        );
        assert!(parse_mac_version("").is_err());
        assert!(parse_mac_version("sentinelctl: command not found\n").is_err());
        assert!(parse_mac_version("SentinelOne unknown\n").is_err());
    }

    #[test]
    fn windows_agent_id() {
        assert_eq!(
            parse_windows_agent_id("8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e\r\n")
                .unwrap()
                .as_deref(),
            Some("8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e")
        );
        assert_eq!(
            parse_windows_agent_id("Agent ID: 8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e\n")
                .unwrap()
                .as_deref(),
            Some("8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e")
        );
        assert_eq!(parse_windows_agent_id("  \r\n").unwrap(), None);
        assert_eq!(
            parse_windows_agent_id("00000000000000000000000000000000\r\n").unwrap(),
            None
        );
        assert!(parse_windows_agent_id("Error: Access is denied.\r\n").is_err());
        assert!(parse_windows_agent_id("garbage here\r\n").is_err());
    }

    #[test]
    fn windows_status() {
        let status = parse_windows_status(WINDOWS_STATUS).unwrap();
        assert_eq!(
            status,
            WindowsStatus {
                version: Some("24.1.2.6".into()),
                agent_loaded: Some(true),
                self_protection: Some(true),
            }
        );
        let unloaded = "SentinelAgent is not loaded\nMonitor Build id: undefined\n";
        let status = parse_windows_status(unloaded).unwrap();
        assert_eq!(status.agent_loaded, Some(false));
        assert_eq!(status.version, None);
        assert_eq!(
            parse_windows_status("hello\n"),
            Err(ParseError::Unrecognized)
        );
    }

    #[test]
    fn windows_mgmt_server() {
        let url = Some("https://usea1-acme.sentinelone.net".to_owned());
        assert_eq!(
            parse_windows_mgmt_server("\"https://usea1-acme.sentinelone.net\"\r\n").unwrap(),
            url
        );
        assert_eq!(
            parse_windows_mgmt_server(
                "server.mgmtServer: \"https://usea1-acme.sentinelone.net\"\n"
            )
            .unwrap(),
            url
        );
        assert_eq!(
            parse_windows_mgmt_server("https://usea1-acme.sentinelone.net").unwrap(),
            url
        );
        assert_eq!(parse_windows_mgmt_server("\"\"\r\n").unwrap(), None);
        assert_eq!(parse_windows_mgmt_server("").unwrap(), None);
        assert!(parse_windows_mgmt_server("Access denied\n").is_err());
    }

    /// Every shared fixture parses to the values its README promises.
    #[test]
    fn shared_fixtures() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sentinelctl");
        if !dir.is_dir() {
            // CI must not pass without reading them (tests/fixtures/README.md).
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing, and CI is set: fixture tests must not be skipped",
                dir.display()
            );
            println!(
                "notice: {} is missing; skipping the sentinelctl fixtures (with CI set this fails)",
                dir.display()
            );
            return;
        }
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
        let uuid = Some("8b3c2d1e0f9a4b5c8d7e6f5a4b3c2d1e".to_owned());
        let url = Some("https://usea1-acme.sentinelone.net".to_owned());
        let status =
            parse_management_status(&read("linux-management-status.registered.txt")).unwrap();
        assert_eq!(
            (status.uuid.clone(), status.url.clone(), status.connected),
            (uuid.clone(), url.clone(), Some(true))
        );
        let status =
            parse_management_status(&read("linux-management-status.unregistered.txt")).unwrap();
        assert_eq!(
            (status.uuid, status.url, status.connected),
            (None, None, Some(false))
        );
        let status =
            parse_management_status(&read("linux-management-status.many-keys.txt")).unwrap();
        assert_eq!(
            (status.uuid.as_deref(), status.url, status.connected),
            (
                Some("6f1d3c2a-8b4e-4c9d-a1e2-3b4c5d6e7f80"),
                url.clone(),
                Some(true)
            )
        );
        assert!(matches!(
            parse_management_status(&read("linux-management-status.reset.txt")),
            Err(ParseError::Transient(_))
        ));
        assert_eq!(
            parse_linux_version(&read("linux-version.txt")).unwrap(),
            "24.1.2.6"
        );
        let mac = parse_mac_status(&read("macos-status.txt")).unwrap();
        assert_eq!(mac, parse_mac_status(MAC_STATUS).unwrap());
        assert_eq!(
            parse_windows_agent_id(&read("windows-agent_id.txt")).unwrap(),
            uuid
        );
        assert_eq!(
            parse_windows_mgmt_server(&read("windows-config-server.mgmtServer.txt")).unwrap(),
            url
        );
        assert_eq!(
            parse_windows_status(&read("windows-status.txt")).unwrap(),
            parse_windows_status(WINDOWS_STATUS).unwrap()
        );
    }
}
