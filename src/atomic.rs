//! Replacing files so that readers see the old content or the new, never a mix.

use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temp file in the same folder: write, set `mode`,
/// fsync, rename. A missing folder is created with `folder_mode`; a folder that is a
/// symbolic link is refused, and the final rename never follows one.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32, folder_mode: u32) -> std::io::Result<()> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    ensure_folder(folder, folder_mode)?;
    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(".tmp")
        .tempfile_in(folder)?;
    temp.write_all(bytes)?;
    set_mode(temp.as_file(), mode)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    sync_folder(folder);
    Ok(())
}

/// Temp files for `path` are `.<name>.s1trust-XXXXXX.tmp` beside it, so the writer of
/// one file can tell its own leftovers from another's.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy());
    format!(".{name}.s1trust-")
}

/// Removes temp files a killed writer of `path` left beside it; returns how many.
/// Only call while no other writer of `path` can run (the refresh lock).
pub fn remove_stale_temps(path: &Path) -> usize {
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = temp_prefix(path);
    let Ok(entries) = std::fs::read_dir(folder) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".tmp")
        })
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter(|e| std::fs::remove_file(e.path()).is_ok())
        .count()
}

/// Creates `folder` with `mode` unless it exists, and any missing folder above it
/// with 0755 (a private tokens folder must not make the config folder above it
/// private too); refuses non-folders. Modes are set after creation, so the umask
/// (077 under some hardened logins) cannot narrow them.
pub fn ensure_folder(folder: &Path, mode: u32) -> std::io::Result<()> {
    match std::fs::symlink_metadata(folder) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => Err(std::io::Error::other(format!(
            "{} is not a folder (symbolic links are refused)",
            folder.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = folder.parent().filter(|p| !p.as_os_str().is_empty()) {
                ensure_folder(parent, PUBLIC_FOLDER)?;
            }
            create_folder(folder, mode)
        }
        Err(e) => Err(e),
    }
}

/// The mode of folders other users must traverse (config and state folders).
pub const PUBLIC_FOLDER: u32 = 0o755;

#[cfg(unix)]
fn create_folder(folder: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    match std::fs::DirBuilder::new().mode(0o700).create(folder) {
        // Another writer made it first: its mode is that writer's business.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        other => other?,
    }
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn create_folder(folder: &Path, _mode: u32) -> std::io::Result<()> {
    // The installer gives %ProgramData%\s1trust its ACL; children inherit it.
    match std::fs::create_dir(folder) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Someone held it for the whole wait.
    #[error("another run held the lock for {} s", .0.as_secs())]
    Busy(std::time::Duration),
    /// The lock file could not be opened.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Takes an exclusive lock on the file `path` for as long as the returned file lives
/// (the OS drops it if the process dies), waiting up to `wait` for its holder. Only its
/// owner can open the file (0600): anyone who can open a lock file can hold it for
/// ever and stop every writer. A lock file others could open (an older version made
/// the refresh lock 0644) is replaced, so whoever holds the old one holds nothing.
pub fn lock(path: &Path, wait: std::time::Duration) -> Result<std::fs::File, LockError> {
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        ensure_folder(folder, PUBLIC_FOLDER)?;
    }
    let file = open_private_lock(path)?;
    let deadline = std::time::Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::Error(e)) => return Err(LockError::Io(e)),
            Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() >= deadline => {
                return Err(LockError::Busy(wait));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
    }
}

#[cfg(unix)]
fn open_private_lock(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
    let open = |new: bool| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(!new)
            .create_new(new)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
    };
    let file = open(false)?;
    let meta = file.metadata()?;
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let private =
        meta.is_file() && meta.uid() == me && meta.mode() & 0o077 == 0 && meta.nlink() == 1;
    if private {
        return Ok(file);
    }
    drop(file);
    std::fs::remove_file(path)?;
    let file = open(true)?;
    // The mode asked for at creation is cut by the umask, never widened; say it anyway.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

#[cfg(not(unix))]
fn open_private_lock(path: &Path) -> std::io::Result<std::fs::File> {
    // The data folder's ACL (SYSTEM and Administrators) decides who may open it.
    std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
}

#[cfg(unix)]
fn set_mode(file: &std::fs::File, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_file: &std::fs::File, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

/// Makes the rename durable; best effort, as not every filesystem supports it.
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn writes_with_modes_and_refuses_symlinked_folders() {
        let dir = tempfile::tempdir().unwrap();
        let secret = dir.path().join("tokens").join("a.token");
        write_atomic(&secret, b"x", 0o600, 0o700).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&secret), 0o600);
        assert_eq!(mode(secret.parent().unwrap()), 0o700);
        let nested = dir.path().join("etc").join("tokens").join("c.token");
        write_atomic(&nested, b"x", 0o600, 0o700).unwrap();
        assert_eq!(
            mode(&dir.path().join("etc")),
            0o755,
            "only the last folder is private"
        );
        write_atomic(&secret, b"yy", 0o600, 0o700).unwrap();
        assert_eq!(std::fs::read(&secret).unwrap(), b"yy");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(dir.path().join("tokens"), &link).unwrap();
        assert!(write_atomic(&link.join("b"), b"z", 0o600, 0o700).is_err());
        let leftovers = std::fs::read_dir(secret.parent().unwrap()).unwrap().count();
        assert_eq!(leftovers, 1, "no temp files left behind");
    }

    #[test]
    fn stale_temps_of_one_file_are_removed_and_no_others() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("posture.json");
        for name in [
            ".posture.json.s1trust-abc123.tmp",
            ".posture.json.s1trust-zzz999.tmp",
            ".config.toml.s1trust-abc123.tmp",
            "posture.json",
        ] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        assert_eq!(remove_stale_temps(&target), 2);
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".config.toml.s1trust-abc123.tmp", "posture.json"]);
    }
}
