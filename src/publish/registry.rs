//! The Windows store, `HKLM\SOFTWARE\s1trust\Posture`: what registry checks (Cloud
//! Secure Edge, Zscaler, GlobalProtect HIP, Netskope, Fleet's `registry` table) read.
//! The key and its parent are checked like a file before anything is written (see
//! [`super::key_security`]); a missing one is created with its own DACL rather than
//! whatever `HKLM\SOFTWARE` passes down.

use windows_registry::Key;
use windows_sys::Win32::Foundation::{ERROR_FILE_NOT_FOUND, ERROR_SUCCESS, LocalFree};
use windows_sys::Win32::Security::Authorization::{
    ConvertSidToStringSidW, ConvertStringSecurityDescriptorToSecurityDescriptorW, SDDL_REVISION_1,
};
use windows_sys::Win32::Security::{
    ACCESS_ALLOWED_ACE, ACE_HEADER, ACL, DACL_SECURITY_INFORMATION, GetAce,
    GetSecurityDescriptorDacl, GetSecurityDescriptorOwner, INHERIT_ONLY_ACE,
    OWNER_SECURITY_INFORMATION, PSECURITY_DESCRIPTOR, PSID, SECURITY_ATTRIBUTES,
};
use windows_sys::Win32::System::Registry::{
    HKEY, HKEY_LOCAL_MACHINE, KEY_ALL_ACCESS, KEY_READ, KEY_WOW64_64KEY, REG_OPTION_NON_VOLATILE,
    RegCreateKeyExW, RegGetKeySecurity, RegOpenKeyExW,
};

use super::key_security::{Ace, KeySecurity, Refusal, judge};
use super::{Published, Stored};

/// The key below HKLM.
pub(crate) const KEY: &str = r"SOFTWARE\s1trust\Posture";
/// Its parent, checked too: whoever can write it can replace the key.
const PARENT: &str = r"SOFTWARE\s1trust";

/// The descriptor a missing key is created with, in SDDL: owned by Administrators,
/// SYSTEM and Administrators full control, Users read, inherited by subkeys and
/// protected from what `HKLM\SOFTWARE` passes down.
const NEW_KEY_SDDL: &str = "O:BAG:SYD:P(A;CI;KA;;;SY)(A;CI;KA;;;BA)(A;CI;KR;;;BU)";

const ACCESS_ALLOWED_ACE_TYPE: u8 = 0;
const ACCESS_DENIED_ACE_TYPE: u8 = 1;
const ACCESS_ALLOWED_CALLBACK_ACE_TYPE: u8 = 9;
const ACCESS_DENIED_CALLBACK_ACE_TYPE: u8 = 10;
const DENY_TYPES: [u8; 4] = [
    ACCESS_DENIED_ACE_TYPE,
    6,
    ACCESS_DENIED_CALLBACK_ACE_TYPE,
    12,
];

/// Why the store was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RegistryError {
    #[error("HKLM\\{key} {refusal}")]
    Refused { key: &'static str, refusal: Refusal },
    #[error("HKLM\\{key}: {what} (Windows error {code})")]
    Os {
        key: &'static str,
        what: &'static str,
        code: u32,
    },
    #[error(transparent)]
    Value(#[from] windows_result::Error),
}

impl RegistryError {
    /// What the administrator does about it.
    pub(crate) fn hint(&self) -> &'static str {
        match self {
            Self::Refused { .. } => {
                "let only SYSTEM and Administrators write HKLM\\SOFTWARE\\s1trust and its Posture key (or delete both: the next refresh recreates them)"
            }
            _ => "run `s1trust refresh` as SYSTEM or an administrator; the scheduled task does",
        }
    }
}

/// Writes every value: `Result` and the strings as REG_SZ, `Trusted` as REG_DWORD 1/0
/// (first: it is the value most checks read). Refuses, writing nothing, when the key
/// or its parent could be written by anyone but SYSTEM or Administrators.
pub(crate) fn write(published: &Published) -> Result<(), RegistryError> {
    let parent = create_checked(HKEY_LOCAL_MACHINE, PARENT, PARENT)?;
    let key = create_checked(parent.as_raw(), "Posture", KEY)?;
    key.set_u32("Trusted", u32::from(published.trusted))?;
    for (name, value) in published.strings() {
        key.set_string(name, value)?;
    }
    Ok(key.set_string("Result", published.result)?)
}

/// `Result` and `ExpiresAt` as checks read them, after the same security check as
/// [`write`]; `None` when the key does not exist.
pub(crate) fn read() -> Result<Option<Stored>, RegistryError> {
    let Some(parent) = open(PARENT)? else {
        return Ok(None);
    };
    check(&parent, PARENT)?;
    let Some(key) = open(KEY)? else {
        return Ok(None);
    };
    check(&key, KEY)?;
    let value = |name| key.get_string(name).unwrap_or_default();
    Ok(Some(Stored {
        result: value("Result"),
        expires_at: value("ExpiresAt"),
    }))
}

fn open(key: &'static str) -> Result<Option<Key>, RegistryError> {
    let path = wide(key);
    let mut handle: HKEY = std::ptr::null_mut();
    // SAFETY: `path` is NUL-terminated and outlives the call; `handle` is a valid out-pointer.
    let status = unsafe {
        RegOpenKeyExW(
            HKEY_LOCAL_MACHINE,
            path.as_ptr(),
            0,
            KEY_READ | KEY_WOW64_64KEY,
            &mut handle,
        )
    };
    match status {
        ERROR_SUCCESS => {
            // SAFETY: `handle` is an open key this Key now owns and closes.
            Ok(Some(unsafe { Key::from_raw(handle) }))
        }
        ERROR_FILE_NOT_FOUND => Ok(None),
        code => Err(RegistryError::Os {
            key,
            what: "cannot open",
            code,
        }),
    }
}

/// Opens `sub` below `parent`, creating it with [`NEW_KEY_SDDL`] when missing, and
/// refuses it unless [`judge`] accepts its security (`key`: its name below HKLM).
fn create_checked(parent: HKEY, sub: &str, key: &'static str) -> Result<Key, RegistryError> {
    let os = |what, code| RegistryError::Os { key, what, code };
    let sddl = wide(NEW_KEY_SDDL);
    let mut descriptor: PSECURITY_DESCRIPTOR = std::ptr::null_mut();
    // SAFETY: `sddl` is NUL-terminated; on success `descriptor` is freed below with LocalFree.
    if unsafe {
        ConvertStringSecurityDescriptorToSecurityDescriptorW(
            sddl.as_ptr(),
            SDDL_REVISION_1,
            &mut descriptor,
            std::ptr::null_mut(),
        )
    } == 0
    {
        return Err(os("cannot build its security descriptor", last_error()));
    }
    let attributes = SECURITY_ATTRIBUTES {
        nLength: size_of::<SECURITY_ATTRIBUTES>() as u32,
        lpSecurityDescriptor: descriptor,
        bInheritHandle: 0,
    };
    let path = wide(sub);
    let mut handle: HKEY = std::ptr::null_mut();
    // SAFETY: `parent` is an open key; `path` is NUL-terminated; `attributes` and the
    // descriptor it points to live until after the call; out-pointers are valid. The
    // descriptor only applies when the key is created.
    let status = unsafe {
        RegCreateKeyExW(
            parent,
            path.as_ptr(),
            0,
            std::ptr::null(),
            REG_OPTION_NON_VOLATILE,
            KEY_ALL_ACCESS | KEY_WOW64_64KEY,
            &attributes,
            &mut handle,
            std::ptr::null_mut(),
        )
    };
    // SAFETY: allocated by ConvertStringSecurityDescriptorToSecurityDescriptorW, not used after.
    unsafe { LocalFree(descriptor) };
    if status != ERROR_SUCCESS {
        return Err(os("cannot open or create", status));
    }
    // SAFETY: `handle` is an open key this Key now owns and closes.
    let created = unsafe { Key::from_raw(handle) };
    check(&created, key)?;
    Ok(created)
}

/// Refuses `handle` (HKLM\\`key`) unless [`judge`] accepts its owner and DACL.
fn check(handle: &Key, key: &'static str) -> Result<(), RegistryError> {
    let security = security_of(handle).map_err(|code| RegistryError::Os {
        key,
        what: "cannot read its security descriptor",
        code,
    })?;
    judge(&security).map_err(|refusal| RegistryError::Refused { key, refusal })
}

/// The key's owner and the DACL entries that apply to the key itself.
fn security_of(handle: &Key) -> Result<KeySecurity, u32> {
    let wanted = OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION;
    let mut size = 0u32;
    // SAFETY: a size query: a null buffer of length 0, `size` a valid out-pointer.
    unsafe { RegGetKeySecurity(handle.as_raw(), wanted, std::ptr::null_mut(), &mut size) };
    // u64 elements: the descriptor's fields need more than byte alignment.
    let mut buffer = vec![0u64; (size as usize).div_ceil(8).max(1)];
    // SAFETY: `buffer` holds `size` bytes; `size` is a valid in/out-pointer.
    let status = unsafe {
        RegGetKeySecurity(
            handle.as_raw(),
            wanted,
            buffer.as_mut_ptr().cast(),
            &mut size,
        )
    };
    if status != ERROR_SUCCESS {
        return Err(status);
    }
    let descriptor: PSECURITY_DESCRIPTOR = buffer.as_mut_ptr().cast();
    // SAFETY: `descriptor` is the self-relative descriptor in `buffer`, alive for
    // every read below.
    unsafe { parse_descriptor(descriptor) }
}

/// # Safety
/// `descriptor` is a valid security descriptor, alive for the whole call.
unsafe fn parse_descriptor(descriptor: PSECURITY_DESCRIPTOR) -> Result<KeySecurity, u32> {
    let mut owner: PSID = std::ptr::null_mut();
    let mut defaulted = 0;
    // SAFETY: per this function's contract; out-pointers are valid.
    if unsafe { GetSecurityDescriptorOwner(descriptor, &mut owner, &mut defaulted) } == 0 {
        return Err(last_error());
    }
    let (mut present, mut dacl) = (0, std::ptr::null_mut::<ACL>());
    // SAFETY: as above.
    if unsafe { GetSecurityDescriptorDacl(descriptor, &mut present, &mut dacl, &mut defaulted) }
        == 0
    {
        return Err(last_error());
    }
    let owner = if owner.is_null() {
        None
    } else {
        // SAFETY: `owner` points into the live descriptor.
        Some(unsafe { sid_string(owner) }?)
    };
    let dacl = if present == 0 || dacl.is_null() {
        None
    } else {
        // SAFETY: `dacl` points into the live descriptor.
        Some(unsafe { entries(dacl) }?)
    };
    Ok(KeySecurity { owner, dacl })
}

/// # Safety
/// `dacl` is a valid ACL, alive for the whole call.
unsafe fn entries(dacl: *const ACL) -> Result<Vec<Ace>, u32> {
    // SAFETY: per this function's contract.
    let count = unsafe { (*dacl).AceCount };
    let mut aces = Vec::with_capacity(count.into());
    for index in 0..u32::from(count) {
        let mut entry: *mut core::ffi::c_void = std::ptr::null_mut();
        // SAFETY: `index` < AceCount; `entry` is a valid out-pointer.
        if unsafe { GetAce(dacl, index, &mut entry) } == 0 {
            return Err(last_error());
        }
        // SAFETY: every ACE starts with an ACE_HEADER.
        let header = unsafe { *entry.cast::<ACE_HEADER>() };
        if u32::from(header.AceFlags) & INHERIT_ONLY_ACE != 0 {
            continue;
        }
        // The allowed, denied and callback entries share ACCESS_ALLOWED_ACE's layout,
        // the SID at SidStart; object entries (never on registry keys) do not, and
        // count as an unknown trustee.
        let simple = [
            ACCESS_ALLOWED_ACE_TYPE,
            ACCESS_DENIED_ACE_TYPE,
            ACCESS_ALLOWED_CALLBACK_ACE_TYPE,
            ACCESS_DENIED_CALLBACK_ACE_TYPE,
        ]
        .contains(&header.AceType);
        let ace = entry.cast::<ACCESS_ALLOWED_ACE>();
        // SAFETY: the mask follows the header in every DACL entry type.
        let mask = unsafe { (*ace).Mask };
        let sid = if simple {
            // SAFETY: for these types SidStart is the first word of the entry's SID.
            unsafe { sid_string(std::ptr::addr_of_mut!((*ace).SidStart).cast()) }?
        } else {
            format!("an entry of type {}", header.AceType)
        };
        aces.push(Ace {
            sid,
            mask,
            allow: !DENY_TYPES.contains(&header.AceType),
        });
    }
    Ok(aces)
}

/// # Safety
/// `sid` is a valid SID.
unsafe fn sid_string(sid: PSID) -> Result<String, u32> {
    let mut text: *mut u16 = std::ptr::null_mut();
    // SAFETY: per this function's contract; on success `text` is freed with LocalFree.
    if unsafe { ConvertSidToStringSidW(sid, &mut text) } == 0 {
        return Err(last_error());
    }
    // SAFETY: `text` is NUL-terminated, allocated by ConvertSidToStringSidW.
    let len = (0..).take_while(|&i| unsafe { *text.add(i) } != 0).count();
    // SAFETY: `len` u16s were just read from `text`.
    let string = String::from_utf16_lossy(unsafe { std::slice::from_raw_parts(text, len) });
    // SAFETY: not used after this.
    unsafe { LocalFree(text.cast()) };
    Ok(string)
}

fn wide(text: &str) -> Vec<u16> {
    text.encode_utf16().chain(std::iter::once(0)).collect()
}

fn last_error() -> u32 {
    // SAFETY: no preconditions.
    unsafe { windows_sys::Win32::Foundation::GetLastError() }
}
