//! Signed verdicts (docs/verdicts.md): what `refresh` signs beside the
//! snapshot, what `check --jwt` serves, `key show | rotate`, and the `attest`
//! signer's answer to one request.

use std::path::Path;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::check::refuse_a_users_config;
use super::{Device, Error, Missing, Options, load_config};
use crate::config::Config;
use crate::config::ConfigError;
use crate::posture::report::{Overall, PostureReport};
use crate::posture::snapshot;
use crate::verdict::jwt::{self, Binding, Claims, Expect};
use crate::verdict::{self, FileError, Paths, PublicKey};

/// How long a nonce-bound verdict lives at most.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// A verdict and the answer it carries.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The JWS compact token.
    pub token: String,
    /// Its `result` claim.
    pub result: Overall,
}

/// Signs the snapshot `bytes` (parsed: `report`) with the device key, creating the
/// key on first use.
pub(crate) fn sign_snapshot(
    paths: &Paths,
    bytes: &[u8],
    report: &PostureReport,
    now: OffsetDateTime,
    binding: Binding,
) -> Result<String, FileError> {
    let key = verdict::load_or_create(paths)?;
    let claims = Claims::new(report, &jwt::sha256_hex(bytes), now, binding);
    jwt::sign(&key, &claims).map_err(|source| FileError::Key {
        path: paths.private.clone(),
        source,
    })
}

/// After a refresh kept the snapshot: re-signs it unless `verdict.jwt` already is its
/// verdict under the current key (first refresh after an upgrade, after `key rotate`,
/// or after a refresh that died between the snapshot and the verdict).
pub(crate) fn keep_signed(snapshot_path: &Path, bytes: &[u8], report: &PostureReport) {
    let paths = Paths::beside(snapshot_path);
    let sha = jwt::sha256_hex(bytes);
    let current = verdict::read_public(&paths)
        .ok()
        .zip(verdict::read_token(&paths).ok());
    let signed = current.is_some_and(|(key, token)| {
        jwt::verify(&token, &[key], &Expect::default(), now_secs())
            .is_ok_and(|c| c.snapshot_sha256 == sha)
    });
    if signed {
        return;
    }
    let now = OffsetDateTime::now_utc();
    match sign_snapshot(&paths, bytes, report, now, Binding::default()) {
        Ok(token) => store(&paths, &token),
        Err(e) => unsigned(&paths, &e),
    }
}

/// Writes a verdict made by [`sign_snapshot`]; on failure none is left to disagree.
pub(crate) fn store(paths: &Paths, token: &str) {
    if let Err(e) = verdict::write_token(paths, token) {
        unsigned(paths, &e);
    }
}

/// No verdict for this snapshot: say why where the refresh logs, and leave none.
pub(crate) fn unsigned(paths: &Paths, why: &FileError) {
    verdict::remove_token(paths);
    if matches!(why, FileError::Unsupported) {
        // Expected on every Windows refresh: not worth an event-log warning each time.
        tracing::debug!("no signed verdict: {why}");
    } else {
        tracing::warn!("no signed verdict for this snapshot: {why}");
    }
}

fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// `check --jwt`: the stored verdict, when the snapshot passes every rule `check`
/// applies and the verdict was made from that very snapshot file.
pub fn stored(options: &Options) -> Result<Signed, Error> {
    refuse_a_users_config(options)?;
    // Like `check` on a fresh machine: no tenant yet is an `unknown`, not a usage error.
    let loaded = match load_config(options, Missing::Fail) {
        Err(Error::Config(e @ ConfigError::NotFound(_))) => {
            return Err(unavailable(format!("{e}: no snapshot and no verdict yet")));
        }
        other => other?,
    };
    let path = &loaded.config.snapshot.path;
    let (bytes, _) = usable_snapshot(&loaded.config, options.started)?;
    let paths = Paths::beside(path);
    let token = verdict::read_token(&paths).map_err(|e| unavailable(e.to_string()))?;
    let key = verdict::read_public(&paths).map_err(|e| unavailable(e.to_string()))?;
    let claims = jwt::verify(&token, &[key], &Expect::default(), now_secs())
        .map_err(|e| unavailable(format!("{}: {e}", paths.token.display())))?;
    if claims.snapshot_sha256 != jwt::sha256_hex(&bytes) {
        return Err(unavailable(format!(
            "{} was not made from the current snapshot (a refresh was interrupted, or the key was rotated); the next refresh signs it",
            paths.token.display()
        )));
    }
    Ok(Signed {
        token,
        result: claims.result,
    })
}

/// The snapshot's bytes and report, when it passes every rule `check` applies.
fn usable_snapshot(config: &Config, started: Instant) -> Result<(Vec<u8>, PostureReport), Error> {
    let path = &config.snapshot.path;
    let now = OffsetDateTime::now_utc();
    let (bytes, report) = snapshot::read_snapshot_bytes(path, now, config.snapshot.max_age)
        .map_err(|e| unavailable(e.to_string()))?;
    let device = Device::quick(started);
    snapshot::check_device(&report, device.known()).map_err(|e| unavailable(e.to_string()))?;
    Ok((bytes, report))
}

fn unavailable(message: String) -> Error {
    Error::Unavailable(message)
}

/// The public key for `key show` (any user; from the root-written public file).
pub fn public_key(options: &Options) -> Result<PublicKey, Error> {
    refuse_a_users_config(options)?;
    let loaded = load_config(options, Missing::Fail)?;
    let paths = Paths::beside(&loaded.config.snapshot.path);
    verdict::read_public(&paths).map_err(|e| {
        Error::usage(
            e.to_string(),
            "the first `s1trust refresh` (as root) creates the device key",
        )
    })
}

/// `key rotate`: a new device key (root). Verdicts signed by the old one stop
/// verifying against the new public key; the next refresh signs with the new key.
pub fn rotate(options: &Options) -> Result<PublicKey, Error> {
    let loaded = load_config(options, Missing::Fail)?;
    if let Some(why) = &loaded.untrusted {
        return Err(Error::usage(
            format!("{why}; the device key lives beside the snapshot it names"),
            "keep the configuration root-owned and not writable by others (chmod 644, chown root)",
        ));
    }
    let snapshot_path = &loaded.config.snapshot.path;
    let _lock = snapshot::lock(snapshot_path, snapshot::LOCK_WAIT).map_err(|e| {
        Error::usage(
            format!("cannot lock the state folder: {e}"),
            "run `s1trust key rotate` as root",
        )
    })?;
    let paths = Paths::beside(snapshot_path);
    let key = verdict::create(&paths)
        .map_err(|e| Error::usage(e.to_string(), "run `s1trust key rotate` as root"))?;
    verdict::remove_token(&paths);
    Ok(key.public().clone())
}

/// The `attest` signer: the configuration it serves, read once at start.
#[derive(Debug)]
pub struct Signer {
    config: Config,
}

impl Signer {
    /// Loads the configuration; only one only root could have written will do.
    pub fn new(options: &Options) -> Result<Self, Error> {
        let loaded = load_config(options, Missing::Fail)?;
        if let Some(why) = loaded.untrusted {
            return Err(Error::usage(
                format!("{why}; the signer answers for every user"),
                "keep the configuration root-owned and not writable by others (chmod 644, chown root)",
            ));
        }
        Ok(Self {
            config: loaded.config,
        })
    }

    /// A verdict signed now over the current snapshot, bound to `nonce` and `aud`;
    /// the snapshot is read and judged afresh for every request.
    pub fn sign(&self, nonce: &str, aud: Option<&str>) -> Result<String, String> {
        check_nonce(nonce)?;
        if let Some(aud) = aud {
            check_audience(aud)?;
        }
        let (bytes, report) =
            usable_snapshot(&self.config, Instant::now()).map_err(|e| e.to_string())?;
        let binding = Binding {
            nonce: Some(nonce.to_owned()),
            aud: aud.map(str::to_owned),
            lifetime: Some(NONCE_LIFETIME),
        };
        let paths = Paths::beside(&self.config.snapshot.path);
        let key = verdict::load_private(&paths).map_err(|e| e.to_string())?;
        let claims = Claims::new(
            &report,
            &jwt::sha256_hex(&bytes),
            OffsetDateTime::now_utc(),
            binding,
        );
        jwt::sign(&key, &claims).map_err(|e| e.to_string())
    }
}

/// Nonces are 8–256 characters of base64url, base64 and `.~`: enough for any random
/// challenge, nothing that needs escaping anywhere.
pub fn check_nonce(nonce: &str) -> Result<(), String> {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_.~+/=".contains(c);
    if !(8..=256).contains(&nonce.len()) || !nonce.chars().all(safe) {
        return Err("the nonce must be 8-256 characters of A-Z a-z 0-9 - _ . ~ + / =".into());
    }
    Ok(())
}

/// Audiences are 1–256 printable ASCII characters (a URL or a name).
pub fn check_audience(aud: &str) -> Result<(), String> {
    let safe = |c: char| c.is_ascii_graphic() && c != '"' && c != '\\';
    if !(1..=256).contains(&aud.len()) || !aud.chars().all(safe) {
        return Err(
            "the audience must be 1-256 printable ASCII characters, no quotes or backslashes"
                .into(),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_and_audiences_are_bounded_and_plain() {
        assert!(check_nonce("abcdefgh").is_ok());
        assert!(check_nonce(&"a".repeat(256)).is_ok());
        assert!(check_nonce("short").is_err());
        assert!(check_nonce(&"a".repeat(257)).is_err());
        assert!(check_nonce("abcdefgh\"}").is_err());
        assert!(check_nonce("abcd efgh").is_err());
        assert!(check_audience("https://zt.example.com/device").is_ok());
        assert!(check_audience("").is_err());
        assert!(check_audience("a\u{7f}").is_err());
    }
}
