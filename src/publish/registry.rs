//! The Windows store, `HKLM\SOFTWARE\s1trust\Posture`: what registry checks (Cloud
//! Secure Edge, Zscaler, GlobalProtect HIP, Netskope, Fleet's `registry` table) read.
//! Below HKLM\SOFTWARE a new key inherits write access for SYSTEM and Administrators
//! only; users can read it.

use super::Published;

/// The key below HKLM.
pub(crate) const KEY: &str = r"SOFTWARE\s1trust\Posture";

/// Writes every value: `Result` and the strings as REG_SZ, `Trusted` as REG_DWORD 1/0
/// (first: it is the value most checks read).
pub(crate) fn write(published: &Published) -> windows_registry::Result<()> {
    let key = windows_registry::LOCAL_MACHINE.create(KEY)?;
    key.set_u32("Trusted", u32::from(published.trusted))?;
    for (name, value) in published.strings() {
        key.set_string(name, value)?;
    }
    key.set_string("Result", published.result)
}
