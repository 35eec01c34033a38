//! Signed verdicts: the snapshot's answer as an ES256 JWT a backend can check
//! (docs/verdicts.md).
//!
//! Files in the snapshot's folder, all written by root:
//! - `keys/verdict.key`: the device's private key, PKCS#8 PEM, 0600 in a 0700 folder,
//!   read under the token files' rules (root-owned, owner-only, no symbolic links,
//!   one hard link, every folder above root's and not writable by others);
//! - `verdict-key.jwk` and `verdict-key.pem`: its public half, 0644, for `key show`;
//! - `verdict.jwt`: the snapshot's verdict, 0644, bound to the snapshot file by its
//!   SHA-256, so a refresh that died between the two renames is caught by `check --jwt`.

pub mod jwt;
pub mod key;

use std::path::{Path, PathBuf};

use crate::atomic::write_atomic;
use crate::fs_trust::{self, Rule, TrustError, file_message, io_wrong};
pub use key::{DeviceKey, KeyError, PublicKey};

/// Largest key file read (a P-256 PKCS#8 PEM is about 250 bytes, a JWK about 200).
const MAX_KEY_FILE: u64 = 16 * 1024;

/// Where the verdict files of a snapshot live.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The private key.
    pub private: PathBuf,
    /// The public key as JWK.
    pub jwk: PathBuf,
    /// The public key as SPKI PEM.
    pub pem: PathBuf,
    /// The snapshot's verdict.
    pub token: PathBuf,
}

impl Paths {
    /// The files beside `snapshot`.
    pub fn beside(snapshot: &Path) -> Self {
        let folder = snapshot
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        Self {
            private: folder.join("keys").join("verdict.key"),
            jwk: folder.join("verdict-key.jwk"),
            pem: folder.join("verdict-key.pem"),
            token: folder.join("verdict.jwt"),
        }
    }
}

/// Why the device key or a verdict file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Missing, unreadable, or failing the file-trust rules.
    #[error(transparent)]
    Trust(#[from] TrustError),
    /// The private key file can be read by others than root.
    #[error(
        "{}",
        file_message(
            "device key",
            path,
            &format!("permissions {mode:04o} let other users read it, and a key anyone read signs for anyone"),
            &format!("run `chmod 600 {}`, or `s1trust key rotate`", path.display()),
        )
    )]
    Readable {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The content is not a key.
    #[error(
        "{}",
        file_message("key file", path, &source.to_string(), "`s1trust key rotate` (as root) makes a new device key")
    )]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: KeyError,
    },
    /// Writing failed.
    #[error(
        "{}",
        file_message("file", path, &format!("cannot be written ({})", io_wrong(source)), "run as root (or SYSTEM)")
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// This platform has no protected place for the key yet.
    #[error("signed verdicts are not available on this platform yet (Linux and macOS only)")]
    Unsupported,
}

/// Reads the private key under the token files' rules.
pub fn load_private(paths: &Paths) -> Result<DeviceKey, FileError> {
    if cfg!(windows) {
        return Err(FileError::Unsupported);
    }
    let opened = fs_trust::open(&paths.private, &Rule::system(MAX_KEY_FILE))?;
    owner_only(&paths.private, &opened.meta)?;
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(&opened.file, MAX_KEY_FILE),
        &mut text,
    )
    .map_err(|source| TrustError::Io {
        path: paths.private.clone(),
        source,
    })?;
    DeviceKey::from_pem(&text).map_err(|source| FileError::Key {
        path: paths.private.clone(),
        source,
    })
}

#[cfg(unix)]
fn owner_only(path: &Path, meta: &std::fs::Metadata) -> Result<(), FileError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(FileError::Readable {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), FileError> {
    Ok(())
}

/// Makes a new key and writes it (0600 in a 0700 folder) and its public files (0644).
pub fn create(paths: &Paths) -> Result<DeviceKey, FileError> {
    if cfg!(windows) {
        return Err(FileError::Unsupported);
    }
    let (key, pem) = DeviceKey::generate().map_err(|source| FileError::Key {
        path: paths.private.clone(),
        source,
    })?;
    write(&paths.private, pem.as_bytes(), 0o600, 0o700)?;
    write_public(paths, key.public())?;
    Ok(key)
}

/// The device key, created when there is none yet. A key that exists but fails the
/// rules is an error, never silently replaced: whoever could touch it is the problem.
pub fn load_or_create(paths: &Paths) -> Result<DeviceKey, FileError> {
    match load_private(paths) {
        Err(FileError::Trust(TrustError::Missing(_))) => create(paths),
        Ok(key) => {
            if read_public(paths).ok().as_ref() != Some(key.public()) {
                write_public(paths, key.public())?;
            }
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

fn write_public(paths: &Paths, public: &PublicKey) -> Result<(), FileError> {
    let jwk = format!("{}\n", public.jwk());
    write(&paths.jwk, jwk.as_bytes(), 0o644, 0o755)?;
    write(&paths.pem, public.pem().as_bytes(), 0o644, 0o755)
}

/// The public key, from the root-written JWK (any user).
pub fn read_public(paths: &Paths) -> Result<PublicKey, FileError> {
    let (bytes, _) = fs_trust::read(&paths.jwk, &Rule::system(MAX_KEY_FILE))?;
    PublicKey::parse(&String::from_utf8_lossy(&bytes)).map_err(|source| FileError::Key {
        path: paths.jwk.clone(),
        source,
    })
}

/// The stored verdict (any user), under the snapshot's rules.
pub fn read_token(paths: &Paths) -> Result<String, FileError> {
    let (bytes, _) = fs_trust::read(&paths.token, &Rule::system(jwt::MAX_TOKEN as u64))?;
    Ok(String::from_utf8_lossy(&bytes).trim().to_owned())
}

/// Replaces the stored verdict.
pub fn write_token(paths: &Paths, token: &str) -> Result<(), FileError> {
    write(&paths.token, format!("{token}\n").as_bytes(), 0o644, 0o755)
}

/// Removes the stored verdict (it no longer matches the snapshot).
pub fn remove_token(paths: &Paths) {
    let _ = std::fs::remove_file(&paths.token);
}

/// Removes temp files a killed writer left (call under the refresh lock).
pub fn remove_stale_temps(paths: &Paths) -> usize {
    [&paths.private, &paths.jwk, &paths.pem, &paths.token]
        .iter()
        .map(|p| crate::atomic::remove_stale_temps(p))
        .sum()
}

fn write(path: &Path, bytes: &[u8], mode: u32, folder_mode: u32) -> Result<(), FileError> {
    write_atomic(path, bytes, mode, folder_mode).map_err(|source| FileError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn is_root() -> bool {
        // SAFETY: geteuid has no preconditions.
        unsafe { libc::geteuid() == 0 }
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn the_key_is_root_only_and_a_key_others_could_touch_is_refused() {
        if !is_root() {
            eprintln!("notice: key file rules need root; skipped");
            return;
        }
        let dir = crate::test_scratch();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let paths = Paths::beside(&dir.path().join("state").join("posture.json"));
        let key = load_or_create(&paths).unwrap();
        assert_eq!(mode(&paths.private), 0o600);
        assert_eq!(mode(paths.private.parent().unwrap()), 0o700);
        assert_eq!((mode(&paths.jwk), mode(&paths.pem)), (0o644, 0o644));
        assert_eq!(&read_public(&paths).unwrap(), key.public());
        assert_eq!(
            load_or_create(&paths).unwrap().public(),
            key.public(),
            "kept, not replaced"
        );

        std::fs::set_permissions(&paths.private, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = load_private(&paths).unwrap_err();
        assert!(
            matches!(err, FileError::Readable { mode: 0o640, .. }),
            "{err}"
        );
        assert!(
            load_or_create(&paths).is_err(),
            "a readable key is never silently replaced"
        );
        std::fs::set_permissions(&paths.private, std::fs::Permissions::from_mode(0o600)).unwrap();

        std::os::unix::fs::chown(&paths.private, Some(65534), None).unwrap();
        assert!(matches!(
            load_private(&paths),
            Err(FileError::Trust(TrustError::Untrusted { .. }))
        ));
        std::os::unix::fs::chown(&paths.private, Some(0), None).unwrap();

        let folder = paths.private.parent().unwrap();
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(
            load_private(&paths).is_err(),
            "a folder others can write lets them replace the key"
        );
        std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).unwrap();

        let real = folder.join("real.key");
        std::fs::rename(&paths.private, &real).unwrap();
        std::os::unix::fs::symlink(&real, &paths.private).unwrap();
        assert!(matches!(
            load_private(&paths),
            Err(FileError::Trust(TrustError::Untrusted { .. }))
        ));
        std::fs::remove_file(&paths.private).unwrap();
        std::fs::hard_link(&real, &paths.private).unwrap();
        assert!(
            load_private(&paths).is_err(),
            "a second hard link could be an old copy"
        );
    }
}
