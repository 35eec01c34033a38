//! Linux facts the file-trust rules need beyond owner and mode: whether this process
//! runs in the initial user namespace, and whether a file sits on a file system a
//! normal user mounted.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::OnceLock;

use super::mounts::{self, Mount};

/// The inode of the initial user namespace's nsfs file (`PROC_USER_INIT_INO`), fixed
/// by the kernel.
const INIT_USER_NS_INO: u64 = 0xEFFF_FFFD;
// `statfs.f_type` magics: `c_long` on some targets, `c_uint` on others.
#[allow(clippy::unnecessary_cast)]
const NSFS_MAGIC: i64 = libc::NSFS_MAGIC as i64;
#[allow(clippy::unnecessary_cast)]
const FUSE_MAGIC: i64 = libc::FUSE_SUPER_MAGIC as i64;
/// `PIDFD_GET_USER_NAMESPACE` (`_IO(0xFF, 9)`, Linux 6.11).
const PIDFD_GET_USER_NAMESPACE: libc::c_ulong = 0xFF09;

/// Whether this process runs in the initial user namespace. Anywhere else uid 0 is
/// only root over the namespace's own objects, and files a normal user owns can look
/// root-owned (`unshare -Ur`), so neither root's privileges nor root's files count.
/// Any doubt (no pidfd namespace ioctl and no usable `/proc`) counts as "no".
pub(super) fn in_initial_user_ns() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| match user_ns_by_pidfd() {
        Some(ino) => ino == INIT_USER_NS_INO,
        None => user_ns_by_proc() == Some(INIT_USER_NS_INO),
    })
}

/// The user namespace's inode, asked of the kernel without a path (Linux 6.11+), so
/// a mount namespace the user built (a fake `/proc`) cannot answer for it.
fn user_ns_by_pidfd() -> Option<u64> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let pidfd = unsafe { libc::syscall(libc::SYS_pidfd_open, libc::getpid(), 0) };
    let pidfd = owned(i32::try_from(pidfd).ok()?)?;
    // SAFETY: the ioctl takes no argument and returns a new descriptor or -1.
    let ns = unsafe { libc::ioctl(pidfd.as_raw_fd(), PIDFD_GET_USER_NAMESPACE as _) };
    nsfs_inode(&owned(ns)?)
}

/// Older kernels: `/proc/self/ns/user`, accepted only when it really is an nsfs file.
fn user_ns_by_proc() -> Option<u64> {
    nsfs_inode(&File::open("/proc/self/ns/user").ok()?)
}

fn nsfs_inode(file: &File) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    (fs_magic(file)? == NSFS_MAGIC).then_some(file.metadata().ok()?.ino())
}

fn owned(fd: i32) -> Option<File> {
    use std::os::fd::FromRawFd;
    // SAFETY: a non-negative result of the syscalls above is a new descriptor we own.
    (fd >= 0).then(|| unsafe { File::from_raw_fd(fd) })
}

fn fs_magic(file: &File) -> Option<i64> {
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::uninit();
    // SAFETY: `file` is open and `stat` is a valid out-buffer of the right type.
    if unsafe { libc::fstatfs(file.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstatfs succeeded, so it filled the buffer.
    #[allow(clippy::unnecessary_cast)]
    Some(unsafe { stat.assume_init() }.f_type as i64)
}

/// Why the file system under `file` cannot hold a system file, if it cannot: FUSE,
/// or a mount a user asked for. A mount table that cannot be read counts against it.
pub(super) fn user_mounted(file: &File) -> Option<String> {
    match fs_magic(file) {
        Some(magic) if magic == FUSE_MAGIC => {
            return Some("is on a FUSE file system, whose daemon can claim any owner".into());
        }
        None => return Some("is on a file system that cannot be identified".into()),
        Some(_) => {}
    }
    let table = match mount_table() {
        Ok(table) => table,
        Err(why) => return Some(why.clone()),
    };
    let found: Vec<&Mount> = match mount_id(file) {
        Some(id) => table.mounts.iter().filter(|m| m.id == id).collect(),
        None => {
            let dev = device(file)?;
            table.mounts.iter().filter(|m| m.dev == dev).collect()
        }
    };
    if found.is_empty() {
        return Some("is on a file system missing from the mount table".into());
    }
    found
        .iter()
        .find_map(|m| mounts::user_controlled(m, &table.user_mounts))
}

struct MountTable {
    mounts: Vec<Mount>,
    user_mounts: Vec<u64>,
}

/// Read once per process: the table does not change in ways that matter between the
/// files of one command, and a login-time check reads a handful of files.
fn mount_table() -> &'static Result<MountTable, String> {
    static TABLE: OnceLock<Result<MountTable, String>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let text = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| {
            format!("cannot be checked for user-mounted file systems (/proc/self/mountinfo: {e})")
        })?;
        // Written by libmount only, as root; missing on systems without user mounts.
        let utab = std::fs::read_to_string("/run/mount/utab").unwrap_or_default();
        Ok(MountTable {
            mounts: mounts::parse_mountinfo(&text),
            user_mounts: mounts::parse_utab_user_mounts(&utab),
        })
    })
}

fn statx(file: &File, mask: u32) -> Option<libc::statx> {
    let mut buf = std::mem::MaybeUninit::<libc::statx>::zeroed();
    // SAFETY: an empty, NUL-terminated path with AT_EMPTY_PATH asks about the open
    // descriptor itself; `buf` is a valid out-buffer.
    let rc = unsafe {
        libc::statx(
            file.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_EMPTY_PATH,
            mask,
            buf.as_mut_ptr(),
        )
    };
    // SAFETY: statx succeeded (or the buffer stays zeroed), either way it is initialised.
    (rc == 0).then(|| unsafe { buf.assume_init() })
}

/// The mount the descriptor is on (Linux 5.8+).
fn mount_id(file: &File) -> Option<u64> {
    let stx = statx(file, libc::STATX_MNT_ID)?;
    (stx.stx_mask & libc::STATX_MNT_ID != 0).then_some(stx.stx_mnt_id)
}

fn device(file: &File) -> Option<(u32, u32)> {
    let stx = statx(file, libc::STATX_BASIC_STATS)?;
    Some((stx.stx_dev_major, stx.stx_dev_minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_ways_of_finding_the_user_namespace_agree() {
        let by_proc = user_ns_by_proc();
        assert!(by_proc.is_some(), "/proc/self/ns/user is an nsfs file");
        if let Some(by_pidfd) = user_ns_by_pidfd() {
            assert_eq!(Some(by_pidfd), by_proc);
        }
        assert_eq!(in_initial_user_ns(), by_proc == Some(INIT_USER_NS_INO));
    }

    #[test]
    fn an_ordinary_file_is_not_user_mounted() {
        let file = File::open(env!("CARGO_MANIFEST_DIR")).unwrap();
        assert_eq!(user_mounted(&file), None);
        assert!(mount_id(&file).is_some());
    }
}
