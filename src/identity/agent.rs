//! Agent facts that come from files rather than the agent's command-line tool:
//! the macOS bundle's `Info.plist`, Linux `basic.conf`, and where the Windows
//! agent is installed (service `ImagePath`, `Sentinel Agent <version>` folders).
//! Plain functions over bytes and strings, so they are tested on every OS.

use crate::version::Version;
use std::io::Cursor;

/// Why an agent file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// Not the expected format at all.
    #[error("not a valid {format}: {reason}")]
    Format {
        /// "property list", "JSON document".
        format: &'static str,
        /// The parser's message.
        reason: String,
    },
    /// The format is right but the key is missing or has the wrong type.
    #[error("no {0} string in it")]
    MissingKey(&'static str),
}

/// `CFBundleShortVersionString` of the agent bundle's `Info.plist` (XML or binary).
pub fn bundle_version(plist_bytes: &[u8]) -> Result<String, FileError> {
    let value =
        plist::Value::from_reader(Cursor::new(plist_bytes)).map_err(|e| FileError::Format {
            format: "property list",
            reason: e.to_string(),
        })?;
    value
        .as_dictionary()
        .and_then(|d| d.get("CFBundleShortVersionString"))
        .and_then(plist::Value::as_string)
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or(FileError::MissingKey("CFBundleShortVersionString"))
}

/// `mgmt_url` of Linux `/opt/sentinelone/configuration/basic.conf` (JSON).
pub fn basic_conf_url(json: &[u8]) -> Result<String, FileError> {
    let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| FileError::Format {
        format: "JSON document",
        reason: e.to_string(),
    })?;
    value
        .get("mgmt_url")
        .and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|v| !v.is_empty() && *v != "undefined")
        .map(str::to_owned)
        .ok_or(FileError::MissingKey("mgmt_url"))
}

/// The install folder from the `SentinelAgent` service's `ImagePath`:
/// `"C:\Program Files\SentinelOne\Sentinel Agent 24.1.2.6\SentinelServiceHost.exe"`,
/// possibly unquoted, with arguments, a `\??\` prefix, or `%ProgramFiles%`
/// (the value is REG_EXPAND_SZ and is not expanded by the registry API).
pub fn folder_from_image_path(image_path: &str, program_files: &str) -> Option<String> {
    let raw = image_path.trim();
    let exe = match raw.strip_prefix('"') {
        Some(rest) => rest.split('"').next()?,
        None => {
            let end = raw.to_ascii_lowercase().find(".exe")? + ".exe".len();
            &raw[..end]
        }
    };
    let exe = exe.strip_prefix(r"\??\").unwrap_or(exe);
    let exe = expand_program_files(exe, program_files)?;
    let (folder, file) = exe.rsplit_once('\\')?;
    let absolute =
        folder.len() >= 3 && folder.as_bytes()[1] == b':' && folder.as_bytes()[2] == b'\\';
    (absolute && !file.is_empty()).then(|| folder.to_owned())
}

/// Replaces a leading `%ProgramFiles%` / `%ProgramW6432%`; other variables are refused.
fn expand_program_files(path: &str, program_files: &str) -> Option<String> {
    if !path.starts_with('%') {
        return Some(path.to_owned());
    }
    let lower = path.to_ascii_lowercase();
    ["%programfiles%", "%programw6432%"]
        .iter()
        .find(|v| lower.starts_with(*v))
        .map(|v| format!("{program_files}{}", &path[v.len()..]))
}

/// Among folder names under `Program Files\SentinelOne`, the
/// `Sentinel Agent <version>` one with the highest version, and that version.
pub fn newest_agent_folder<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Option<(&'a str, String)> {
    names
        .into_iter()
        .filter_map(|name| {
            let version = name.strip_prefix("Sentinel Agent ")?.trim();
            let key = Version::parse_dotted(version)?;
            Some((key, name, version.to_owned()))
        })
        .max_by(|a, b| a.0.cmp(&b.0))
        .map(|(_, name, version)| (name, version))
}

/// The agent version to report when two sources give one: the installed agent's
/// (`installed`: the bundle's `Info.plist`, which macOS `sentinelctl version` also
/// prints) over the running one's (`running`: `sentinelctl status`). They differ
/// after an upgrade until the agent restarts (one real machine printed 24.1.2.7444
/// and 23.4.1.7125), and then the source says which one is reported and what the
/// other said.
pub fn reconcile_versions(
    installed: Option<super::Sourced>,
    running: Option<super::Sourced>,
) -> Option<super::Sourced> {
    match (installed, running) {
        (Some(installed), Some(running)) if installed.value != running.value => {
            Some(super::Sourced {
                source: format!(
                    "{} (reported; {} says {}: the running agent, which may need a restart)",
                    installed.source, running.source, running.value
                ),
                value: installed.value,
            })
        }
        (Some(installed), _) => Some(installed),
        (None, running) => running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundle_version_from_xml_and_binary_plists() {
        let xml = br#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
  <key>CFBundleIdentifier</key><string>com.sentinelone.sentinel-agent</string>
  <key>CFBundleShortVersionString</key><string>25.3.4.8365</string>
</dict></plist>"#;
        assert_eq!(bundle_version(xml).unwrap(), "25.3.4.8365");
        let mut dict = plist::Dictionary::new();
        dict.insert("CFBundleShortVersionString".into(), "24.1.2.6".into());
        let mut binary = Vec::new();
        plist::Value::Dictionary(dict)
            .to_writer_binary(&mut binary)
            .unwrap();
        assert_eq!(bundle_version(&binary).unwrap(), "24.1.2.6");
        assert!(matches!(
            bundle_version(b"not a plist"),
            Err(FileError::Format { .. })
        ));
        let empty = br#"<plist version="1.0"><dict/></plist>"#;
        assert_eq!(
            bundle_version(empty),
            Err(FileError::MissingKey("CFBundleShortVersionString"))
        );
    }

    #[test]
    fn basic_conf() {
        let conf = br#"{"mgmt_url": "https://usea1-acme.sentinelone.net", "mgmt_site-key": "x", "mgmt_device-type": "server"}"#;
        assert_eq!(
            basic_conf_url(conf).unwrap(),
            "https://usea1-acme.sentinelone.net"
        );
        assert_eq!(
            basic_conf_url(br#"{"mgmt_url": ""}"#),
            Err(FileError::MissingKey("mgmt_url"))
        );
        assert!(matches!(
            basic_conf_url(b"mgmt_url=x"),
            Err(FileError::Format { .. })
        ));
    }

    #[test]
    fn image_path_forms() {
        let pf = r"C:\Program Files";
        let folder = r"C:\Program Files\SentinelOne\Sentinel Agent 24.1.2.6";
        for image in [
            r#""C:\Program Files\SentinelOne\Sentinel Agent 24.1.2.6\SentinelServiceHost.exe""#,
            r#""C:\Program Files\SentinelOne\Sentinel Agent 24.1.2.6\SentinelServiceHost.exe" -service"#,
            r"C:\Program Files\SentinelOne\Sentinel Agent 24.1.2.6\SentinelAgent.EXE",
            r"\??\C:\Program Files\SentinelOne\Sentinel Agent 24.1.2.6\SentinelAgent.exe",
            r"%ProgramFiles%\SentinelOne\Sentinel Agent 24.1.2.6\SentinelServiceHost.exe",
        ] {
            assert_eq!(
                folder_from_image_path(image, pf).as_deref(),
                Some(folder),
                "{image}"
            );
        }
        for bad in [
            "",
            "SentinelAgent.exe",
            r"%TEMP%\x\SentinelAgent.exe",
            r#""unterminated"#,
            "no exe here",
        ] {
            assert_eq!(folder_from_image_path(bad, pf), None, "{bad}");
        }
    }

    #[test]
    fn disagreeing_versions_say_which_is_reported() {
        use crate::identity::Sourced;
        let installed = || Some(Sourced::new("24.1.2.7444", "sentinelctl version"));
        let running = |v: &str| Some(Sourced::new(v, "sentinelctl status"));
        let reported = reconcile_versions(installed(), running("23.4.1.7125")).unwrap();
        assert_eq!(reported.value, "24.1.2.7444");
        assert_eq!(
            reported.source,
            "sentinelctl version (reported; sentinelctl status says 23.4.1.7125: the running agent, which may need a restart)"
        );
        assert_eq!(
            reconcile_versions(installed(), running("24.1.2.7444")),
            installed()
        );
        assert_eq!(reconcile_versions(installed(), None), installed());
        assert_eq!(
            reconcile_versions(None, running("23.4.1.7125")),
            running("23.4.1.7125")
        );
        assert_eq!(reconcile_versions(None, None), None);
    }

    #[test]
    fn newest_folder_compares_numerically() {
        let names = [
            "Sentinel Agent 24.9.1.3",
            "Sentinel Agent 24.10.0.1",
            "Sentinel Agent beta",
            "Other",
            "Sentinel Agent 23.4.2.7",
        ];
        assert_eq!(
            newest_agent_folder(names),
            Some(("Sentinel Agent 24.10.0.1", "24.10.0.1".to_owned()))
        );
        assert_eq!(newest_agent_folder(["Other"]), None);
    }
}
