//! Agent facts read from files: the macOS bundle `Info.plist` (XML or binary),
//! Linux `basic.conf` (JSON), and the Windows service `ImagePath` and
//! `Sentinel Agent <version>` folder names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s1trust::identity::agent;

fuzz_target!(|data: &[u8]| {
    if let Ok(version) = agent::bundle_version(data) {
        assert!(!version.is_empty());
        assert_eq!(version, version.trim());
    }
    if let Ok(url) = agent::basic_conf_url(data) {
        assert!(!url.is_empty() && url != "undefined");
    }
    let text = String::from_utf8_lossy(data);
    for program_files in [r"C:\Program Files", ""] {
        if let Some(folder) = agent::folder_from_image_path(&text, program_files) {
            let bytes = folder.as_bytes();
            assert!(bytes.len() >= 3 && bytes[1] == b':' && bytes[2] == b'\\');
        }
    }
    if let Some((name, version)) = agent::newest_agent_folder(text.lines()) {
        assert!(name.starts_with("Sentinel Agent "));
        assert_eq!(name["Sentinel Agent ".len()..].trim(), version);
    }
});
