//! Whether a file can be trusted: every "could a normal user have written or swapped
//! this?" rule lives here, for the config, token and CA files, the snapshot, the
//! last-refresh record and the agent's programs.
//!
//! A trusted file is judged by the descriptor that is then read, never by a second
//! look-up of its path: the folders above it are checked top-down (each one owned by
//! the trusted owner and not writable by others, so nobody else can change the next
//! name on the way), then the file is opened without following a final symbolic
//! link, and the open descriptor's owner, mode, type, link count and size decide.
//!
//! No folder writable by group or others is accepted, sticky or not: in a sticky
//! folder such as `/tmp` a user can still create the name first, or mount a file
//! system there. Owner bits mean something only where the kernel vouches for them,
//! so on Linux a system file is also refused on a FUSE file system, on one a user had
//! mounted (libmount's `user`/`uhelper` markers, `/media/<user>/`), and in any user
//! namespace but the initial one (where the user's own files can look root-owned).
//! macOS refuses FUSE and volumes a user mounted (`statfs`'s `f_owner`).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(any(target_os = "linux", test))]
mod mounts;

/// What a file and the folders above it must satisfy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rule<'a> {
    /// Unix uid that must own the file; folders may belong to it or to root. `0`
    /// means the system: root, or on Windows SYSTEM or Administrators (other owners
    /// are not checked on Windows, where files a user names are the user's).
    pub owner: u32,
    /// Check folders from here down (default: the filesystem root).
    pub stop_at: Option<&'a Path>,
    /// Permission bits the file must not have (default: write for group and others).
    /// Token reading checks its stricter rule itself, to say `chmod 600`. Unix only:
    /// Windows judges owners, not modes.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub forbidden_mode: u32,
    /// Largest accepted file.
    pub max_len: u64,
    /// Resolve a final symbolic link first (the config may be a link to the real
    /// file; relative paths in it then resolve against the real location).
    pub follow_final: bool,
    /// Root may own the file too: for files a caller names itself (`--token-file`,
    /// `--ca-file`), where root's file is no less trustworthy than the caller's own.
    /// Unix only: Windows does not judge the owner of a file the caller names.
    #[cfg_attr(not(unix), allow(dead_code))]
    pub root_too: bool,
}

impl Rule<'static> {
    /// A root-owned (SYSTEM/Administrators-owned) file of at most `max_len` bytes.
    pub(crate) const fn system(max_len: u64) -> Self {
        Self {
            owner: 0,
            stop_at: None,
            forbidden_mode: 0o022,
            max_len,
            follow_final: false,
            root_too: false,
        }
    }
}

impl Rule<'_> {
    /// The same rule, following a final symbolic link.
    pub(crate) const fn following(mut self) -> Self {
        self.follow_final = true;
        self
    }
}

/// What is wrong with a file or folder that cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    /// Owned by someone else (Unix; Windows reports its owner rule as `Other`).
    #[cfg_attr(not(unix), allow(dead_code))]
    #[error("is owned by uid {uid}, not {}", owner_name(*.want))]
    Owner {
        /// Its owner.
        uid: u32,
        /// The owner the rule wants.
        want: u32,
    },
    /// Writable by group or others. Unix only.
    #[cfg_attr(not(unix), allow(dead_code))]
    #[error("is writable by its group or by others (mode {mode:04o})")]
    Writable {
        /// Its permission bits.
        mode: u32,
    },
    /// A symbolic link where none may be.
    #[error("is a symbolic link, which is not followed")]
    Link,
    /// Not a regular file (a FIFO, a device, a folder), or not a folder.
    #[error("is not a {0}")]
    Kind(&'static str),
    /// Larger than the rule allows.
    #[error("is larger than {0} bytes")]
    TooLarge(u64),
    /// More than one hard link: another name could be an old copy. Unix only.
    #[cfg_attr(not(unix), allow(dead_code))]
    #[error("has {0} hard links; a trusted file has exactly one")]
    HardLinks(u64),
    /// On a file system whose owners a normal user chose (FUSE, a user's mount).
    #[cfg_attr(not(unix), allow(dead_code))]
    #[error("{0}; system files must be on a file system only root mounted")]
    UserMount(String),
    /// Root's files cannot be told from a user's in this process's user namespace.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    #[error(
        "cannot be trusted from inside a user namespace, where a normal user's files can look root-owned; run s1trust outside it"
    )]
    UserNamespace,
    /// Anything else (Windows owners, paths that name no file).
    #[error("{0}")]
    Other(String),
}

fn owner_name(uid: u32) -> String {
    if uid == 0 {
        "root".into()
    } else {
        format!("uid {uid}")
    }
}

/// A file error for people, in the one form every file message takes:
/// `<what file> <path>: <what is wrong>; <what to do>`.
pub(crate) fn file_message(what: &str, path: &Path, wrong: &str, todo: &str) -> String {
    format!("{what} {}: {wrong}; {todo}", path.display())
}

/// What an I/O error says is wrong with a file, in the words of [`file_message`].
pub(crate) fn io_wrong(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "does not exist".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => error.to_string(),
    }
}

/// Why a file cannot be trusted.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// It does not exist.
    #[error("{} does not exist", .0.display())]
    Missing(PathBuf),
    /// It could not be opened or read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Someone other than the trusted owner could have written or swapped it.
    #[error("{} {fault}", path.display())]
    Untrusted {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong with it.
        fault: Fault,
    },
}

impl TrustError {
    fn untrusted(path: &Path, fault: Fault) -> Self {
        Self::Untrusted {
            path: path.to_owned(),
            fault,
        }
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            Self::Missing(path.to_owned())
        } else {
            Self::Io {
                path: path.to_owned(),
                source,
            }
        }
    }

    /// What is wrong, for a [`file_message`] about the file named `named`: the path
    /// at fault (absolute, where `named` may be relative) is repeated only when it is
    /// another one, such as a folder above it.
    pub(crate) fn wrong(&self, named: &Path) -> String {
        match self {
            Self::Missing(_) => "does not exist".into(),
            Self::Io { source, .. } => io_wrong(source),
            Self::Untrusted { path, fault } if path.ends_with(named) => fault.to_string(),
            Self::Untrusted { path, fault } => format!("{} {fault}", path.display()),
        }
    }

    /// Just the reason, without the path (for messages that name the file already).
    pub fn why(&self) -> String {
        match self {
            Self::Missing(_) => "it does not exist".into(),
            Self::Io { source, .. } => format!("cannot read it: {source}"),
            Self::Untrusted { path, fault } => format!("{} {fault}", path.display()),
        }
    }
}

/// A file that passed its rule, open for reading.
#[derive(Debug)]
pub(crate) struct Opened {
    /// The open descriptor the rule was checked on.
    pub file: File,
    /// Its metadata, from that descriptor.
    pub meta: std::fs::Metadata,
    /// The real location (symbolic links in the folders above resolved).
    pub path: PathBuf,
}

/// Opens `path` and checks it (and every folder above it) against `rule`.
pub(crate) fn open(path: &Path, rule: &Rule<'_>) -> Result<Opened, TrustError> {
    let real = real_location(path, rule.follow_final)?;
    let folder = real.parent().unwrap_or(Path::new("/"));
    check_folders(folder, rule)?;
    let file = platform::open_no_follow(&real).map_err(|e| match e.raw_os_error() {
        Some(code) if platform::is_link_error(code) => TrustError::untrusted(&real, Fault::Link),
        _ => TrustError::io(&real, e),
    })?;
    let meta = file.metadata().map_err(|e| TrustError::io(&real, e))?;
    if !meta.is_file() {
        return Err(TrustError::untrusted(&real, Fault::Kind("regular file")));
    }
    if meta.len() > rule.max_len {
        return Err(TrustError::untrusted(&real, Fault::TooLarge(rule.max_len)));
    }
    platform::judge_file(&file, &meta, rule)
        .map_err(|fault| TrustError::untrusted(&real, fault))?;
    Ok(Opened {
        file,
        meta,
        path: real,
    })
}

/// Opens a file whoever owns it, refusing what is not a regular file (a FIFO or a
/// device given as a config must neither block nor be read).
pub(crate) fn open_regular(path: &Path) -> std::io::Result<File> {
    let file = platform::open_follow(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

/// Opens, checks and reads `path` (at most `rule.max_len` bytes, even if it grows).
pub(crate) fn read(path: &Path, rule: &Rule<'_>) -> Result<(Vec<u8>, PathBuf), TrustError> {
    let opened = open(path, rule)?;
    let mut bytes = Vec::new();
    opened
        .file
        .take(rule.max_len.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| TrustError::io(&opened.path, e))?;
    if bytes.len() as u64 > rule.max_len {
        return Err(TrustError::untrusted(
            &opened.path,
            Fault::TooLarge(rule.max_len),
        ));
    }
    Ok((bytes, opened.path))
}

/// Checks a program the agent ships (the file and the folders above it, up to
/// `rule.stop_at`) without opening it: it is run by path afterwards, which is safe
/// because nobody but the owner can change any name on that path.
pub(crate) fn check_program(path: &Path, rule: &Rule<'_>) -> Result<(), TrustError> {
    if !path.is_absolute() {
        return Err(TrustError::untrusted(
            path,
            Fault::Other("is not an absolute path".into()),
        ));
    }
    // Windows: the program comes from the service registration or Program Files (see
    // CHECK_PROGRAM_FOLDERS), so only the file itself is judged.
    if platform::CHECK_PROGRAM_FOLDERS {
        if let Some(stop) = rule.stop_at.filter(|stop| !path.starts_with(stop)) {
            return Err(TrustError::untrusted(
                path,
                Fault::Other(format!("is not inside {}", stop.display())),
            ));
        }
        check_folders(path.parent().unwrap_or(Path::new("/")), rule)?;
    }
    let meta = std::fs::symlink_metadata(path).map_err(|e| TrustError::io(path, e))?;
    if meta.file_type().is_symlink() {
        return Err(TrustError::untrusted(path, Fault::Link));
    }
    if !meta.is_file() {
        return Err(TrustError::untrusted(path, Fault::Kind("regular file")));
    }
    platform::judge_owner_and_mode(&meta, rule).map_err(|fault| TrustError::untrusted(path, fault))
}

/// `path` with the folders above it resolved (and the file itself when `follow`).
fn real_location(path: &Path, follow: bool) -> Result<PathBuf, TrustError> {
    if follow {
        return std::fs::canonicalize(path).map_err(|e| TrustError::io(path, e));
    }
    let name = path
        .file_name()
        .ok_or_else(|| TrustError::untrusted(path, Fault::Other("does not name a file".into())))?;
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let folder = std::fs::canonicalize(folder).map_err(|e| TrustError::io(folder, e))?;
    Ok(folder.join(name))
}

/// Top-down: each folder is checked before the name below it is looked up, so once
/// a folder passes nobody else can change what the next name refers to.
fn check_folders(folder: &Path, rule: &Rule<'_>) -> Result<(), TrustError> {
    let mut chain: Vec<&Path> = folder.ancestors().collect();
    chain.reverse();
    if let Some(stop) = rule.stop_at {
        chain.retain(|p| p.starts_with(stop));
    }
    for dir in chain.into_iter().filter(|d| platform::is_checked_folder(d)) {
        let meta = std::fs::symlink_metadata(dir).map_err(|e| TrustError::io(dir, e))?;
        if meta.file_type().is_symlink() {
            return Err(TrustError::untrusted(dir, Fault::Link));
        }
        if !meta.is_dir() {
            return Err(TrustError::untrusted(dir, Fault::Kind("folder")));
        }
        platform::judge_folder(dir, &meta, rule)
            .map_err(|fault| TrustError::untrusted(dir, fault))?;
    }
    Ok(())
}

/// Why a normal user's `check` could not read `path` (a system file every user's
/// check needs: the configuration, the snapshot), if it could not: the file must be
/// readable by others and every folder above it searchable by others. Unix only;
/// Windows leaves this to the installer's ACL.
pub fn hidden_from_users(path: &Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let real = std::fs::canonicalize(path).ok()?;
        let mode = |p: &Path| std::fs::metadata(p).ok().map(|m| m.permissions().mode());
        if mode(&real).is_some_and(|m| m & 0o004 == 0) {
            return Some(format!("{} is not readable by other users", real.display()));
        }
        real.ancestors().skip(1).find_map(|dir| {
            mode(dir).filter(|m| m & 0o001 == 0).map(|m| {
                format!(
                    "{} (mode {:04o}) cannot be entered by other users",
                    dir.display(),
                    m & 0o7777
                )
            })
        })
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}

/// The owner rule for files the caller names itself (e.g. `--token-file`): its own.
pub(crate) fn caller() -> u32 {
    platform::euid()
}

/// Whether this process runs as root (Unix) or elevated / as SYSTEM (Windows): the
/// only callers whose own settings (`--config`, environment) may steer a live answer.
pub fn is_privileged() -> bool {
    platform::is_privileged()
}

#[cfg(unix)]
mod platform {
    use std::fs::{File, Metadata, OpenOptions};
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    use std::path::Path;

    use super::{Fault, Rule};

    pub(super) const CHECK_PROGRAM_FOLDERS: bool = true;

    pub(super) fn open_no_follow(path: &Path) -> std::io::Result<File> {
        // O_NONBLOCK: a FIFO put in the file's place must not block the open.
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
    }

    pub(super) fn open_follow(path: &Path) -> std::io::Result<File> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
            .open(path)
    }

    pub(super) fn is_link_error(code: i32) -> bool {
        code == libc::ELOOP || code == libc::EMLINK
    }

    pub(super) fn is_checked_folder(_dir: &Path) -> bool {
        true
    }

    pub(super) fn judge_owner_and_mode(meta: &Metadata, rule: &Rule<'_>) -> Result<(), Fault> {
        let mode = meta.mode() & 0o7777;
        system_owner_means_root(rule)?;
        if meta.uid() != rule.owner && !(rule.root_too && meta.uid() == 0) {
            return Err(Fault::Owner {
                uid: meta.uid(),
                want: rule.owner,
            });
        }
        if mode & rule.forbidden_mode != 0 {
            return Err(Fault::Writable { mode });
        }
        Ok(())
    }

    /// Uid 0 is root only in the initial user namespace (Linux).
    fn system_owner_means_root(rule: &Rule<'_>) -> Result<(), Fault> {
        #[cfg(target_os = "linux")]
        if rule.owner == 0 && !super::linux::in_initial_user_ns() {
            return Err(Fault::UserNamespace);
        }
        let _ = rule;
        Ok(())
    }

    pub(super) fn judge_file(file: &File, meta: &Metadata, rule: &Rule<'_>) -> Result<(), Fault> {
        judge_owner_and_mode(meta, rule)?;
        // A hard link elsewhere could be an old copy the owner has since replaced.
        if meta.nlink() > 1 {
            return Err(Fault::HardLinks(meta.nlink()));
        }
        judge_mount(file, rule)
    }

    pub(super) fn judge_folder(dir: &Path, meta: &Metadata, rule: &Rule<'_>) -> Result<(), Fault> {
        let mode = meta.mode() & 0o7777;
        system_owner_means_root(rule)?;
        if meta.uid() != rule.owner && meta.uid() != 0 {
            return Err(Fault::Owner {
                uid: meta.uid(),
                want: rule.owner,
            });
        }
        if mode & 0o022 != 0 {
            return Err(Fault::Writable { mode });
        }
        let folder = open_folder(dir, meta)?;
        judge_mount(&folder, rule)
    }

    /// The folder just judged by path, opened without following a link and
    /// confirmed to be the same one, so its file system is judged by descriptor.
    fn open_folder(dir: &Path, meta: &Metadata) -> Result<File, Fault> {
        #[cfg(target_os = "linux")]
        let flags = libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        #[cfg(not(target_os = "linux"))]
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        let folder = OpenOptions::new()
            .read(true)
            .custom_flags(flags)
            .open(dir)
            .map_err(|e| Fault::Other(format!("cannot be opened to check it: {e}")))?;
        let opened = folder
            .metadata()
            .map_err(|e| Fault::Other(format!("cannot be checked: {e}")))?;
        if (opened.dev(), opened.ino()) != (meta.dev(), meta.ino()) {
            return Err(Fault::Other("changed while it was checked".into()));
        }
        Ok(folder)
    }

    /// System files only on file systems whose owners the kernel vouches for; a
    /// normal user's own files may be anywhere.
    fn judge_mount(file: &File, rule: &Rule<'_>) -> Result<(), Fault> {
        if rule.owner != 0 {
            return Ok(());
        }
        match user_mounted(file) {
            Some(why) => Err(Fault::UserMount(why)),
            None => Ok(()),
        }
    }

    #[cfg(target_os = "linux")]
    fn user_mounted(file: &File) -> Option<String> {
        super::linux::user_mounted(file)
    }

    #[cfg(target_vendor = "apple")]
    fn user_mounted(file: &File) -> Option<String> {
        use std::os::fd::AsRawFd;
        let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
        // SAFETY: `file` is open and `stat` is a valid out-buffer of the right type.
        if unsafe { libc::fstatfs(file.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
            return Some("is on a file system that cannot be identified".into());
        }
        // SAFETY: fstatfs succeeded, so it filled the buffer.
        let stat = unsafe { stat.assume_init() };
        let kind: String = stat
            .f_fstypename
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8 as char)
            .collect();
        if kind.contains("fuse") {
            return Some(format!(
                "is on a FUSE file system ({kind}), whose daemon can claim any owner"
            ));
        }
        (stat.f_owner != 0).then(|| {
            format!(
                "is on a volume that uid {} mounted, whose owners that user chose",
                stat.f_owner
            )
        })
    }

    #[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
    fn user_mounted(_file: &File) -> Option<String> {
        None
    }

    pub(super) fn euid() -> u32 {
        // SAFETY: geteuid has no preconditions and cannot fail.
        unsafe { libc::geteuid() }
    }

    /// Root, and on Linux root of the initial user namespace: uid 0 in a namespace
    /// a normal user made (`unshare -Ur`) is that user.
    pub(super) fn is_privileged() -> bool {
        // SAFETY: geteuid has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() == 0 };
        #[cfg(target_os = "linux")]
        let root = root && super::linux::in_initial_user_ns();
        root
    }
}

#[cfg(windows)]
mod platform {
    use std::fs::{File, Metadata, OpenOptions};
    use std::os::windows::fs::OpenOptionsExt;
    use std::os::windows::io::AsRawHandle;
    use std::path::{Component, Path};

    use windows_sys::Win32::Foundation::{ERROR_SUCCESS, HANDLE, LocalFree};
    use windows_sys::Win32::Security::Authorization::{GetSecurityInfo, SE_FILE_OBJECT};
    use windows_sys::Win32::Security::{
        GetTokenInformation, IsWellKnownSid, OWNER_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR,
        PSID, TOKEN_ELEVATION, TOKEN_QUERY, TokenElevation, WinBuiltinAdministratorsSid,
        WinLocalSystemSid,
    };
    use windows_sys::Win32::System::Threading::{GetCurrentProcess, OpenProcessToken};

    use super::{Fault, Rule};

    const FILE_FLAG_BACKUP_SEMANTICS: u32 = 0x0200_0000;
    const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
    const ERROR_CANT_ACCESS_FILE: i32 = 1920;

    /// Program Files belongs to TrustedInstaller and only administrators can change
    /// it; the agent's folder under it is not owner-checked.
    pub(super) const CHECK_PROGRAM_FOLDERS: bool = false;

    pub(super) fn open_no_follow(path: &Path) -> std::io::Result<File> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(path)?;
        if file.metadata()?.file_type().is_symlink() {
            return Err(std::io::Error::from_raw_os_error(ERROR_CANT_ACCESS_FILE));
        }
        Ok(file)
    }

    pub(super) fn open_follow(path: &Path) -> std::io::Result<File> {
        File::open(path)
    }

    pub(super) fn is_link_error(code: i32) -> bool {
        code == ERROR_CANT_ACCESS_FILE
    }

    /// The volume root's owner varies (TrustedInstaller on current Windows) and only
    /// administrators can write to it; every folder below it is checked.
    pub(super) fn is_checked_folder(dir: &Path) -> bool {
        dir.components().any(|c| matches!(c, Component::Normal(_)))
    }

    fn system_owned(handle: HANDLE) -> Result<(), Fault> {
        let mut owner: PSID = std::ptr::null_mut();
        let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
        // SAFETY: `handle` is an open file handle; the out-pointers are valid; on success
        // `descriptor` owns `owner` and is freed below with LocalFree.
        let status = unsafe {
            GetSecurityInfo(
                handle,
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
            return Err(Fault::Other(format!(
                "has an owner that cannot be read (Windows error {status})"
            )));
        }
        // SAFETY: `owner` points into `descriptor`, which is still alive here.
        let trusted = unsafe {
            IsWellKnownSid(owner, WinLocalSystemSid) != 0
                || IsWellKnownSid(owner, WinBuiltinAdministratorsSid) != 0
        };
        // SAFETY: `descriptor` was allocated by GetSecurityInfo and is not used after this.
        unsafe { LocalFree(descriptor) };
        if trusted {
            Ok(())
        } else {
            Err(Fault::Other(
                "is not owned by SYSTEM or Administrators".into(),
            ))
        }
    }

    pub(super) fn judge_owner_and_mode(_meta: &Metadata, _rule: &Rule<'_>) -> Result<(), Fault> {
        // Programs come from the service registration or Program Files, which only
        // administrators can change.
        Ok(())
    }

    pub(super) fn judge_file(file: &File, _meta: &Metadata, rule: &Rule<'_>) -> Result<(), Fault> {
        if rule.owner != 0 {
            return Ok(());
        }
        system_owned(file.as_raw_handle() as HANDLE)
    }

    pub(super) fn judge_folder(dir: &Path, _meta: &Metadata, rule: &Rule<'_>) -> Result<(), Fault> {
        if rule.owner != 0 {
            return Ok(());
        }
        let folder = OpenOptions::new()
            .read(true)
            .custom_flags(FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT)
            .open(dir)
            .map_err(|e| Fault::Other(format!("cannot be opened to check its owner: {e}")))?;
        system_owned(folder.as_raw_handle() as HANDLE)
    }

    /// Not a system owner: files the caller names are not owner-checked on Windows.
    pub(super) fn euid() -> u32 {
        u32::MAX
    }

    pub(super) fn is_privileged() -> bool {
        let mut token: HANDLE = std::ptr::null_mut();
        // SAFETY: GetCurrentProcess returns a pseudo-handle; `token` is a valid out-pointer.
        if unsafe { OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &mut token) } == 0 {
            return false;
        }
        let mut elevation = TOKEN_ELEVATION { TokenIsElevated: 0 };
        let mut len = 0u32;
        // SAFETY: `token` is open; the buffer is a TOKEN_ELEVATION of the size passed.
        let ok = unsafe {
            GetTokenInformation(
                token,
                TokenElevation,
                (&raw mut elevation).cast(),
                std::mem::size_of::<TOKEN_ELEVATION>() as u32,
                &mut len,
            )
        };
        // SAFETY: `token` was opened above and is not used after this.
        unsafe { windows_sys::Win32::Foundation::CloseHandle(token) };
        ok != 0 && elevation.TokenIsElevated != 0
    }
}

#[cfg(not(any(unix, windows)))]
mod platform {
    use std::fs::{File, Metadata};
    use std::path::Path;

    use super::{Fault, Rule};

    const NO_MODEL: &str = "cannot be checked: file ownership is unknown on this OS";

    pub(super) const CHECK_PROGRAM_FOLDERS: bool = true;

    pub(super) fn open_no_follow(path: &Path) -> std::io::Result<File> {
        File::open(path)
    }
    pub(super) fn open_follow(path: &Path) -> std::io::Result<File> {
        File::open(path)
    }
    pub(super) fn is_link_error(_code: i32) -> bool {
        false
    }
    pub(super) fn is_checked_folder(_dir: &Path) -> bool {
        true
    }
    pub(super) fn judge_owner_and_mode(_meta: &Metadata, _rule: &Rule<'_>) -> Result<(), Fault> {
        Err(Fault::Other(NO_MODEL.into()))
    }
    pub(super) fn judge_file(_f: &File, _m: &Metadata, _r: &Rule<'_>) -> Result<(), Fault> {
        Err(Fault::Other(NO_MODEL.into()))
    }
    pub(super) fn judge_folder(_d: &Path, _m: &Metadata, _r: &Rule<'_>) -> Result<(), Fault> {
        Err(Fault::Other(NO_MODEL.into()))
    }
    pub(super) fn euid() -> u32 {
        u32::MAX
    }
    pub(super) fn is_privileged() -> bool {
        false
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    fn me() -> u32 {
        std::fs::metadata("/proc/self").unwrap().uid()
    }

    /// A rule for files owned by whoever runs the tests, checked below `root`.
    fn rule(root: &Path) -> Rule<'_> {
        Rule {
            owner: me(),
            stop_at: Some(root),
            forbidden_mode: 0o022,
            max_len: 64,
            follow_final: false,
            root_too: false,
        }
    }

    fn tree() -> (tempfile::TempDir, PathBuf) {
        let dir = crate::test_scratch();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "hello").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        (dir, file)
    }

    fn why(result: Result<(Vec<u8>, PathBuf), TrustError>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn reads_a_good_file_and_refuses_modes_links_and_size() {
        let (dir, file) = tree();
        let root = dir.path();
        assert_eq!(read(&file, &rule(root)).unwrap().0, b"hello");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o664)).unwrap();
        assert!(why(read(&file, &rule(root))).contains("0664"));
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let hard = root.join("hard");
        std::fs::hard_link(&file, &hard).unwrap();
        assert!(why(read(&file, &rule(root))).contains("hard links"));
        std::fs::remove_file(&hard).unwrap();
        let link = root.join("link");
        symlink(&file, &link).unwrap();
        assert!(why(read(&link, &rule(root))).contains("symbolic link"));
        assert_eq!(read(&link, &rule(root).following()).unwrap().1, file);
        std::fs::write(&file, [b'x'; 65]).unwrap();
        assert!(why(read(&file, &rule(root))).contains("larger than 64"));
        assert!(matches!(
            read(&root.join("none"), &rule(root)),
            Err(TrustError::Missing(_))
        ));
    }

    #[test]
    fn every_folder_above_counts_and_sticky_ones_too() {
        let (dir, _) = tree();
        let root = dir.path();
        let deep = root.join("a").join("b");
        std::fs::create_dir_all(&deep).unwrap();
        let file = deep.join("f");
        std::fs::write(&file, "x").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        for d in [root.join("a"), deep.clone()] {
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        assert!(read(&file, &rule(root)).is_ok());
        std::fs::set_permissions(root.join("a"), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(why(read(&file, &rule(root))).contains("mode 0777"));
        std::fs::set_permissions(root.join("a"), std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(why(read(&file, &rule(root))).contains("mode 1777"));
        std::fs::set_permissions(root.join("a"), std::fs::Permissions::from_mode(0o755)).unwrap();
        // A folder link on the way resolves to the real folder, which is what is checked.
        let via = root.join("via");
        symlink(&deep, &via).unwrap();
        assert_eq!(read(&via.join("f"), &rule(root)).unwrap().1, file);
    }

    #[test]
    fn files_hidden_from_other_users_are_named() {
        let (dir, file) = tree();
        assert_eq!(hidden_from_users(&file), None);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
        let why = hidden_from_users(&file).unwrap();
        assert!(why.contains("not readable by other users"), "{why}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        let why = hidden_from_users(&file).unwrap();
        assert!(why.contains("(mode 0700) cannot be entered"), "{why}");
    }

    #[test]
    fn a_fifo_neither_blocks_nor_passes() {
        let (dir, _) = tree();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c` is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(why(read(&fifo, &rule(dir.path()))).contains("not a regular file"));
    }
}

#[cfg(test)]
mod message_tests {
    use std::io::ErrorKind;
    use std::path::Path;

    use crate::config::ConfigError;
    use crate::posture::snapshot::SnapshotProblem;
    use crate::token::TokenError;
    use crate::verdict::FileError;

    /// Every file error reads `<what file> <path>: <what is wrong>; <what to do>`.
    #[test]
    fn file_errors_take_one_form() {
        let path = Path::new("/etc/s1trust/tokens/corp.token");
        let messages = [
            (
                "token file",
                TokenError::Read {
                    path: path.into(),
                    source: ErrorKind::NotFound.into(),
                }
                .to_string(),
            ),
            (
                "token file",
                TokenError::TooOpen {
                    path: path.into(),
                    mode: 0o644,
                }
                .to_string(),
            ),
            (
                "token file",
                TokenError::Invalid {
                    path: path.into(),
                    source: Box::new(TokenError::Empty),
                }
                .to_string(),
            ),
            (
                "configuration file",
                ConfigError::NotFound(path.into()).to_string(),
            ),
            (
                "configuration file",
                ConfigError::Read {
                    path: path.into(),
                    source: ErrorKind::PermissionDenied.into(),
                }
                .to_string(),
            ),
            (
                "posture snapshot",
                SnapshotProblem::Missing(path.into()).to_string(),
            ),
            (
                "posture snapshot",
                SnapshotProblem::Corrupt {
                    path: path.into(),
                    why: "not JSON".into(),
                }
                .to_string(),
            ),
            (
                "device key",
                FileError::Readable {
                    path: path.into(),
                    mode: 0o644,
                }
                .to_string(),
            ),
        ];
        for (what, message) in messages {
            let prefix = format!("{what} {}: ", path.display());
            let rest = message
                .strip_prefix(&prefix)
                .unwrap_or_else(|| panic!("{message:?} does not start with {prefix:?}"));
            let (wrong, todo) = rest
                .split_once("; ")
                .unwrap_or_else(|| panic!("{message:?}: no \"; what to do\""));
            assert!(!wrong.is_empty() && !todo.is_empty(), "{message:?}");
            assert!(!wrong.contains(&*path.to_string_lossy()), "{message:?}");
        }
    }

    #[test]
    fn a_denied_read_says_so_and_what_to_do() {
        let denied = TokenError::Read {
            path: "/etc/s1trust/tokens/corp.token".into(),
            source: ErrorKind::PermissionDenied.into(),
        };
        assert_eq!(
            denied.to_string(),
            "token file /etc/s1trust/tokens/corp.token: permission denied; run as root (or SYSTEM), or give a token file of your own with --token-file"
        );
    }
}
