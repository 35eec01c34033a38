//! Scratch folders, file modes and fixture files.

use std::path::{Path, PathBuf};

use super::skip_or_fail_under_ci;

/// A scratch folder whose files the trust rules can accept: the system temp folder is
/// sticky and writable by everyone, which no trusted file may be below, so scratch
/// folders live in the build folder (`target/tmp/scratch`, root-owned on CI).
pub fn scratch() -> tempfile::TempDir {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scratch");
    std::fs::create_dir_all(&base).expect("target/tmp/scratch can be created");
    tempfile::tempdir_in(&base).expect("a scratch folder in target/tmp/scratch")
}

/// Writes a file readable by its owner only.
pub fn write_private(path: &Path, content: &str) {
    std::fs::write(path, content).unwrap();
    #[cfg(unix)]
    set_mode(path, 0o600);
}

/// Sets Unix permission bits.
#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The Unix permission bits of a file.
#[cfg(unix)]
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A path as a command-line argument.
pub fn path_arg(path: &Path) -> String {
    path.to_str().expect("temp paths are UTF-8").to_owned()
}

/// `tests/fixtures/<relative>` (see tests/fixtures/README.md), when it exists.
/// When it is missing this prints a notice and returns `None`, so the test skips;
/// with the `CI` environment variable set it panics instead, so CI cannot pass
/// without having read the data.
pub fn fixture(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    if path.exists() {
        return Some(path);
    }
    skip_or_fail_under_ci(
        &format!(
            "{} is missing, and CI is set: fixture tests must not be skipped",
            path.display()
        ),
        &format!(
            "{} is missing; skipping (with CI set this fails)",
            path.display()
        ),
    );
    None
}
