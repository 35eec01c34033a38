//! Whether a file was written by the system (root / SYSTEM / Administrators) and
//! cannot be changed by anyone else: the condition for trusting a snapshot or a
//! configuration that a normal user's process reads.

use std::path::Path;

/// Returns why `path` is not trustworthy, or `None` when it is.
pub fn untrusted_reason(path: &Path) -> Option<String> {
    match std::fs::metadata(path) {
        Ok(meta) => platform::untrusted_reason(path, &meta),
        Err(e) => Some(format!("cannot inspect it: {e}")),
    }
}

#[cfg(unix)]
mod platform {
    use std::os::unix::fs::MetadataExt;
    use std::path::Path;

    /// Owned by root and not writable by group or others.
    pub fn untrusted_reason(_path: &Path, meta: &std::fs::Metadata) -> Option<String> {
        let mode = meta.mode() & 0o7777;
        if meta.uid() != 0 {
            Some(format!("it is owned by uid {}, not root", meta.uid()))
        } else if mode & 0o022 != 0 {
            Some(format!(
                "its permissions {mode:04o} let other users change it"
            ))
        } else {
            None
        }
    }
}

#[cfg(windows)]
mod platform {
    use std::os::windows::ffi::OsStrExt;
    use std::path::Path;

    use windows_sys::Win32::Foundation::{ERROR_SUCCESS, LocalFree};
    use windows_sys::Win32::Security::Authorization::{GetNamedSecurityInfoW, SE_FILE_OBJECT};
    use windows_sys::Win32::Security::{
        IsWellKnownSid, OWNER_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID,
        WinBuiltinAdministratorsSid, WinLocalSystemSid,
    };

    /// Owned by SYSTEM or the Administrators group. A normal user cannot give a file
    /// such an owner, and the installer's folder ACL keeps them from editing one.
    pub fn untrusted_reason(path: &Path, _meta: &std::fs::Metadata) -> Option<String> {
        let wide: Vec<u16> = path
            .as_os_str()
            .encode_wide()
            .chain(std::iter::once(0))
            .collect();
        let mut owner: PSID = std::ptr::null_mut();
        let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `wide` is NUL-terminated and outlives the call; the out-pointers are
        // valid; on success `descriptor` owns `owner` and is freed below with LocalFree.
        let status = unsafe {
            GetNamedSecurityInfoW(
                wide.as_ptr(),
                SE_FILE_OBJECT,
                OWNER_SECURITY_INFORMATION,
                &mut owner,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                &mut descriptor,
            )
        };
        if status != ERROR_SUCCESS {
            return Some(format!("cannot read its owner (Windows error {status})"));
        }
        // SAFETY: `owner` points into `descriptor`, which is still alive here.
        let trusted = unsafe {
            IsWellKnownSid(owner, WinLocalSystemSid) != 0
                || IsWellKnownSid(owner, WinBuiltinAdministratorsSid) != 0
        };
        // SAFETY: `descriptor` was allocated by GetNamedSecurityInfoW and is not used after this.
        unsafe { LocalFree(descriptor) };
        (!trusted).then(|| "it is not owned by SYSTEM or Administrators".to_string())
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    use std::path::Path;

    /// No ownership model is known for this OS: nothing is trusted.
    pub fn untrusted_reason(_path: &Path, _meta: &std::fs::Metadata) -> Option<String> {
        Some("file ownership cannot be checked on this OS".into())
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn group_writable_and_foreign_files_are_untrusted() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
        assert!(
            untrusted_reason(&file).unwrap().contains("0664")
                || untrusted_reason(&file).unwrap().contains("uid")
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let as_root = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
            .unwrap_or(false);
        assert_eq!(untrusted_reason(&file).is_none(), as_root);
        assert!(
            untrusted_reason(&dir.path().join("missing"))
                .unwrap()
                .contains("cannot inspect")
        );
    }
}
