//! Where the readers look (a root path, so tests can point them at fake trees), and
//! values with the source they came from.

use super::*;

/// Where the readers look, so tests can point them at fake trees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// Prefix of every Unix path read or run: `/` on a device, a temp folder in tests.
    /// The folders above it are trusted as they are.
    pub root: PathBuf,
    /// Unix user id that must own the agent's tool and every folder above it (0, root).
    pub trusted_owner: u32,
    /// Time and output limits for the agent's tool.
    pub limits: Limits,
}

impl Default for Sources {
    fn default() -> Self {
        Self {
            root: PathBuf::from("/"),
            trusted_owner: 0,
            limits: Limits::default(),
        }
    }
}

impl Sources {
    /// This machine, every agent-CLI call of the read ending within
    /// [`command::IDENTITY_BUDGET`] of `started` (the command's start).
    pub fn budgeted(started: std::time::Instant) -> Self {
        Self {
            limits: Limits::until(started + command::IDENTITY_BUDGET),
            ..Self::default()
        }
    }

    /// Sources under another root (tests, or inspecting a mounted image).
    pub fn under(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            ..Self::default()
        }
    }

    /// An absolute path (`/opt/sentinelone/...`) under the root.
    pub fn path(&self, absolute: &str) -> PathBuf {
        self.root.join(absolute.trim_start_matches('/'))
    }

    /// A program at an absolute path under the root, after the safety checks.
    pub fn program(&self, absolute: &str) -> Result<Program, CommandError> {
        Program::open(
            &self.path(absolute),
            &self.root,
            self.trusted_owner,
            self.limits,
        )
    }

    /// Reads a file under the root, refusing anything larger than the output limit.
    pub fn read(&self, absolute: &str) -> std::io::Result<Vec<u8>> {
        read_capped(&self.path(absolute), self.limits.max_output)
    }
}

fn read_capped(path: &Path, cap: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    std::fs::File::open(path)?
        .take(limit)
        .read_to_end(&mut bytes)?;
    if bytes.len() > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {cap} bytes"),
        ));
    }
    Ok(bytes)
}

/// A value and the source that gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced {
    /// The value.
    pub value: String,
    /// Where it came from.
    pub source: String,
}

impl Sourced {
    /// Pairs a value with its source.
    pub fn new(value: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            source: source.into(),
        }
    }
}

/// A serial of this device, and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedSerial {
    /// The serial.
    pub serial: Serial,
    /// Where it was read, e.g. `smbios:type2`.
    pub source: String,
}
