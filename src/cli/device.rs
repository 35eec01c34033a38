//! This device's identity for `check`, `refresh` and `doctor`.

use crate::identity::{DeviceIdentity, Sources, read_identity, read_quick};

/// Debug builds only: a JSON `DeviceIdentity` file used instead of the real device, so
/// end-to-end tests can play any device. Release builds ignore it, so nobody can make a
/// packaged s1trust describe another machine.
#[cfg(debug_assertions)]
pub const TEST_IDENTITY_ENV: &str = "S1TRUST_TEST_IDENTITY";

/// Reads this device's identity. With `quick`, only facts that are cheap to read
/// (no vendor CLI) are gathered: enough to tell that a snapshot belongs to this device.
pub fn local_identity(quick: bool) -> DeviceIdentity {
    #[cfg(debug_assertions)]
    if let Some(identity) = test_identity() {
        return identity;
    }
    let sources = Sources::default();
    if quick {
        read_quick(&sources)
    } else {
        read_identity(&sources)
    }
}

#[cfg(debug_assertions)]
fn test_identity() -> Option<DeviceIdentity> {
    let path = std::env::var_os(TEST_IDENTITY_ENV)?;
    let text = std::fs::read_to_string(&path).ok()?;
    match serde_json::from_str(&text) {
        Ok(identity) => Some(identity),
        Err(e) => {
            tracing::error!("{TEST_IDENTITY_ENV}: {e}");
            None
        }
    }
}
