//! Which mounts a normal user controls, judged from Linux's mount table
//! (`/proc/self/mountinfo`) and libmount's record of user mounts (`/run/mount/utab`).
//!
//! A user can get a file system in front of us that claims root owns its files: a
//! FUSE daemon answers whatever it likes, and a disk image built without privilege
//! can carry uid 0 files that a desktop automounter (udisks2) mounts under
//! `/media/<user>/` when the image is attached like a USB stick. Owner and mode bits
//! on such a mount prove nothing, so system files there are refused.

/// One line of `/proc/self/mountinfo`: the fields the rules need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mount {
    /// The mount ID (`statx`'s `stx_mnt_id`).
    pub id: u64,
    /// `major:minor` of the file system's device.
    pub dev: (u32, u32),
    /// Where it is mounted, octal escapes decoded.
    pub point: String,
    /// File system type, e.g. `ext4`, `fuse.sshfs`, `fuseblk`.
    pub fstype: String,
}

/// Parses `/proc/self/mountinfo`; lines that do not have its shape are skipped.
pub(crate) fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_mountinfo_line).collect()
}

fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    let (head, tail) = line.split_once(" - ")?;
    let mut fields = head.split(' ');
    let id = fields.next()?.parse().ok()?;
    let _parent = fields.next()?;
    let (major, minor) = fields.next()?.split_once(':')?;
    let dev = (major.parse().ok()?, minor.parse().ok()?);
    let _root = fields.next()?;
    let point = unescape(fields.next()?);
    let fstype = tail.split(' ').next()?.to_owned();
    Some(Mount {
        id,
        dev,
        point,
        fstype,
    })
}

/// The kernel writes space, tab, newline and backslash in paths as `\ooo`.
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|d| bytes[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)))
            .map(|d| d.iter().fold(0u32, |n, c| n * 8 + u32::from(c - b'0')));
        match octal.and_then(|n| u8::try_from(n).ok()) {
            Some(byte) => {
                out.push(byte);
                i += 4;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount IDs libmount recorded as mounted for a user: `user`/`users` from an
/// fstab entry, or a helper's `uhelper=` (udisks2 marks every mount it makes).
pub(crate) fn parse_utab_user_mounts(text: &str) -> Vec<u64> {
    text.lines()
        .filter_map(|line| {
            let mut id = None;
            let mut by_user = false;
            for field in line.split(' ') {
                if let Some(value) = field.strip_prefix("ID=") {
                    id = value.parse().ok();
                } else if let Some(options) = field.strip_prefix("OPTS=") {
                    by_user = unescape(options).split(',').any(is_user_option);
                }
            }
            id.filter(|_| by_user)
        })
        .collect()
}

fn is_user_option(option: &str) -> bool {
    let key = option.split_once('=').map_or(option, |(key, _)| key);
    matches!(key, "user" | "users" | "uhelper")
}

/// Why a mount cannot hold system files, if it cannot.
pub(crate) fn user_controlled(mount: &Mount, user_mounts: &[u64]) -> Option<String> {
    if mount.fstype == "fuse" || mount.fstype == "fuseblk" || mount.fstype.starts_with("fuse.") {
        return Some(format!(
            "is on a FUSE file system ({} at {}), whose daemon can claim any owner",
            mount.fstype, mount.point
        ));
    }
    if user_mounts.contains(&mount.id) {
        return Some(format!(
            "is on a file system mounted for a user ({}), whose owners the user chose",
            mount.point
        ));
    }
    if is_media_folder(&mount.point) {
        return Some(format!(
            "is on removable media mounted for a user ({}), whose owners the user chose",
            mount.point
        ));
    }
    None
}

/// Below `/media/<user>/` or `/run/media/<user>/`, where desktop automounters put
/// what a user plugs in (a bare `/media/<name>` is where older ones did).
fn is_media_folder(point: &str) -> bool {
    ["/media/", "/run/media/"].iter().any(|base| {
        point
            .strip_prefix(base)
            .is_some_and(|rest| !rest.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MOUNTINFO: &str = "\
22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw
45 22 0:40 / /tmp/ft/mnt rw,nosuid,nodev,relatime shared:20 - fuse.ext4 img.ext4 rw,user_id=0,group_id=0
46 22 7:0 / /media/alice/STICK\\040ONE rw,nosuid,nodev,relatime - ext4 /dev/loop0 rw
47 22 0:41 / /srv/disk rw,relatime - fuseblk /dev/sdb1 rw
48 22 8:17 / /mnt/data rw,relatime - ext4 /dev/sdb1 rw
garbage line
";

    #[test]
    fn mountinfo_lines_are_parsed_and_unescaped() {
        let mounts = parse_mountinfo(MOUNTINFO);
        assert_eq!(mounts.len(), 5);
        assert_eq!(mounts[0].point, "/");
        assert_eq!(mounts[1].fstype, "fuse.ext4");
        assert_eq!(mounts[2].point, "/media/alice/STICK ONE");
        assert_eq!(mounts[2].dev, (7, 0));
        assert_eq!(mounts[4].id, 48);
    }

    #[test]
    fn fuse_media_and_marked_mounts_are_user_controlled() {
        let mounts = parse_mountinfo(MOUNTINFO);
        let marked = parse_utab_user_mounts(
            "ID=48 SRC=/dev/sdb1 TARGET=/mnt/data ROOT=/ OPTS=uhelper=udisks2\n\
             ID=22 SRC=/dev/vda TARGET=/ ROOT=/ OPTS=rw\n",
        );
        assert_eq!(marked, [48]);
        let judged: Vec<bool> = mounts
            .iter()
            .map(|m| user_controlled(m, &marked).is_some())
            .collect();
        assert_eq!(judged, [false, true, true, true, true]);
        assert!(parse_utab_user_mounts("ID=9 OPTS=rw,user\n") == [9]);
        assert!(parse_utab_user_mounts("ID=9 OPTS=rw,users\n") == [9]);
        assert!(parse_utab_user_mounts("ID=9 OPTS=rw,username=x\n").is_empty());
    }

    #[test]
    fn only_folders_below_a_media_base_count() {
        assert!(is_media_folder("/media/alice"));
        assert!(is_media_folder("/run/media/alice/STICK"));
        assert!(!is_media_folder("/media/"));
        assert!(!is_media_folder("/mediation"));
        assert!(!is_media_folder("/var/media/x"));
    }

    #[test]
    fn escapes_that_are_not_octal_stay() {
        assert_eq!(unescape("a\\b\\0x"), "a\\b\\0x");
        assert_eq!(unescape("\\134"), "\\");
        assert_eq!(unescape("end\\04"), "end\\04");
    }
}
