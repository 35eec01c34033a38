//! This device's identity, read once per command: the quick facts first, completed
//! (not re-read) when a command needs the agent's identity too.

use std::time::Instant;

use crate::identity::{DeviceIdentity, Sources, complete, read_quick};

/// Debug builds only: a JSON `DeviceIdentity` file used instead of the real device, so
/// end-to-end tests can play any device. Release builds ignore it, so nobody can make a
/// packaged s1trust describe another machine.
#[cfg(debug_assertions)]
pub const TEST_IDENTITY_ENV: &str = "S1TRUST_TEST_IDENTITY";

/// The device as far as it has been read.
#[derive(Debug)]
pub struct Device {
    identity: DeviceIdentity,
    complete: bool,
    sources: Sources,
}

impl Device {
    /// Reads the cheap facts (no agent CLI): enough to tell that a snapshot belongs
    /// to this device. Completing it later runs the agent's CLI, all calls together
    /// within `IDENTITY_BUDGET` of the command's start.
    pub fn quick(started: Instant) -> Self {
        Self::quick_from(Sources::budgeted(started))
    }

    fn quick_from(sources: Sources) -> Self {
        #[cfg(debug_assertions)]
        if let Some(identity) = test_identity() {
            return Self {
                identity,
                complete: true,
                sources,
            };
        }
        Self {
            identity: read_quick(&sources),
            complete: false,
            sources,
        }
    }

    /// What has been read so far.
    pub fn known(&self) -> &DeviceIdentity {
        &self.identity
    }

    /// Everything, reading the agent's identity the first time it is asked for.
    pub fn full(&mut self) -> &DeviceIdentity {
        if !self.complete {
            complete(&mut self.identity, &self.sources);
            self.complete = true;
        }
        &self.identity
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
