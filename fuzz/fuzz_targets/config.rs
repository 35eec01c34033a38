//! The configuration reader: TOML text → `Config`, every problem collected.
//! Whatever the text, the reader answers with a config or problems, and a
//! config it accepts keeps every duration within its documented maximum.
#![no_main]

use std::path::Path;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use s1trust::config;
use s1trust::version::Version;

const HOUR: u64 = 3600;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match config::parse(text) {
        Ok(config) => {
            assert!(config.snapshot.max_age <= Duration::from_secs(7 * 24 * HOUR));
            for timeout in [
                config.http.connect_timeout,
                config.http.request_timeout,
                config.http.deadline,
            ] {
                assert!(timeout <= Duration::from_secs(HOUR));
            }
            let mut names = std::collections::HashSet::new();
            for integration in &config.integrations {
                assert!(config::valid_name(&integration.name));
                assert!(names.insert(integration.name.as_str()), "duplicate name");
                let _ = integration.url.api("/agents");
                for factor in &integration.factors {
                    assert!(factor.max_inactive <= Duration::from_secs(30 * 24 * HOUR));
                    if let Some(version) = &factor.min_version {
                        let written = version.to_string();
                        assert_eq!(Version::parse(&written).as_ref(), Some(version), "{written:?}");
                    }
                }
            }
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "an error without a problem");
            let lines = text.lines().count().max(1);
            for problem in &problems {
                assert!(!problem.message.is_empty());
                if let Some(line) = problem.line {
                    assert!(line >= 1 && line <= lines + 1, "line {line} of {lines}");
                }
            }
        }
    }
    let _ = config::from_text(text, Path::new("/etc/s1trust/config.toml"));
});
