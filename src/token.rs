//! The SentinelOne API token: loading it and keeping it out of every output.
//!
//! A read-only token still lists every device of the tenant, so it is treated
//! like an ssh private key: token files must be readable by their owner only,
//! and the value is never printed, logged or put in a URL.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::fs_trust::{self, Rule, TrustError, file_message, io_wrong};

/// Environment variable that may carry the token (after `--token-file`, before the config).
pub const TOKEN_ENV: &str = "S1_API_TOKEN";

/// Upper bound on a token file; real tokens are well under 1 KiB.
const MAX_TOKEN_FILE: u64 = 16 * 1024;

/// An API token. `Debug` and `Display` redact it; only [`ApiToken::expose`] reveals it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token after trimming surrounding whitespace; rejects empty tokens
    /// and characters that cannot travel in an HTTP header.
    pub fn new(raw: &str) -> Result<Self, TokenError> {
        let token = raw.trim();
        if token.is_empty() {
            return Err(TokenError::Empty);
        }
        if token.chars().any(|c| !c.is_ascii_graphic()) {
            return Err(TokenError::BadCharacters);
        }
        Ok(Self(token.to_owned()))
    }

    /// The secret itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Why a token could not be obtained.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The token is empty after trimming.
    #[error("the API token is empty")]
    Empty,
    /// The token holds spaces or control characters.
    #[error("the API token contains spaces or control characters")]
    BadCharacters,
    /// The token file could not be read.
    #[error("{}", file_message("token file", path, &io_wrong(source), read_fix(source)))]
    Read {
        /// The token file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The token file is readable (or writable) by other users.
    #[error(
        "{}",
        file_message(
            "token file",
            path,
            &format!("permissions {mode:04o} let other users read or change it"),
            &format!("run `chmod 600 {}`", path.display()),
        )
    )]
    TooOpen {
        /// The token file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The token file (or a folder above it) could have been written by someone else,
    /// or is not a regular file of at most 16 KiB.
    #[error("{}", file_message("token file", path, why, UNTRUSTED_FIX))]
    Untrusted {
        /// The token file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// The token file's content is not a usable token.
    #[error("{}", file_message("token file", path, &source.to_string(), "put the API token alone in it"))]
    Invalid {
        /// The token file.
        path: PathBuf,
        /// What is wrong with its content.
        source: Box<TokenError>,
    },
    /// A relay credential file (client certificate or key) is unusable.
    #[error("{}", file_message(what, path, wrong, CREDENTIAL_FIX))]
    Credential {
        /// Which file, for people ("relay client key").
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        wrong: String,
    },
    /// No source provided a token.
    #[error(
        "no API token: pass --token-file FILE, set {TOKEN_ENV}, or set token_file for the integration in the config"
    )]
    Missing,
}

const UNTRUSTED_FIX: &str = "a configured token file and every folder above it must belong to root (one given with --token-file: to you or root) and be writable by their owner only";

fn read_fix(error: &std::io::Error) -> &'static str {
    match error.kind() {
        std::io::ErrorKind::NotFound => {
            "check the integration's token_file in the configuration, or the --token-file path"
        }
        std::io::ErrorKind::PermissionDenied => {
            "run as root (or SYSTEM), or give a token file of your own with --token-file"
        }
        _ => "check the file and the disk it is on",
    }
}

/// Reads a token file the caller named itself (`--token-file`): it must be the
/// caller's own (or root's) and readable by its owner only.
pub fn read_token_file(path: &Path) -> Result<ApiToken, TokenError> {
    read_with(path, fs_trust::caller())
}

/// Reads the token file a trusted configuration names: like the configuration, it
/// and every folder above it must belong to root (SYSTEM or Administrators).
pub fn read_system_token(path: &Path) -> Result<ApiToken, TokenError> {
    read_with(path, 0)
}

/// Reads a relay credential file a trusted configuration names (`client_cert`,
/// `client_key`): root's, like the configuration, and for a key readable by root only.
pub fn read_credential_file(
    path: &Path,
    what: &'static str,
    private: bool,
) -> Result<Vec<u8>, TokenError> {
    let rule = Rule {
        forbidden_mode: if private { 0o077 } else { 0o022 },
        ..Rule::system(MAX_TOKEN_FILE)
    };
    let wrong = |e: TrustError| match e {
        TrustError::Missing(_) => "does not exist".to_owned(),
        TrustError::Io { source, .. } => io_wrong(&source),
        untrusted @ TrustError::Untrusted { .. } => untrusted.wrong(path),
    };
    fs_trust::read(path, &rule)
        .map(|(bytes, _)| bytes)
        .map_err(|e| TokenError::Credential {
            what,
            path: path.to_owned(),
            wrong: wrong(e),
        })
}

const CREDENTIAL_FIX: &str = "it must be root's (SYSTEM's), in folders only root can change, and a key readable by root only (docs/relay.md)";

fn read_with(path: &Path, owner: u32) -> Result<ApiToken, TokenError> {
    let rule = Rule {
        owner,
        forbidden_mode: 0,
        root_too: true,
        ..Rule::system(MAX_TOKEN_FILE)
    };
    let (bytes, real) = match fs_trust::open(path, &rule) {
        Ok(opened) => {
            check_owner_only(path, &opened.meta)?;
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(&opened.file, MAX_TOKEN_FILE),
                &mut bytes,
            )
            .map_err(|source| TokenError::Read {
                path: path.to_owned(),
                source,
            })?;
            (bytes, opened.path)
        }
        Err(TrustError::Missing(_)) => {
            return Err(TokenError::Read {
                path: path.to_owned(),
                source: std::io::ErrorKind::NotFound.into(),
            });
        }
        Err(TrustError::Io { source, .. }) => {
            return Err(TokenError::Read {
                path: path.to_owned(),
                source,
            });
        }
        Err(untrusted @ TrustError::Untrusted { .. }) => {
            return Err(TokenError::Untrusted {
                path: path.to_owned(),
                why: untrusted.wrong(path),
            });
        }
    };
    let text = String::from_utf8(bytes).map_err(|_| TokenError::Invalid {
        path: real.clone(),
        source: Box::new(TokenError::BadCharacters),
    })?;
    ApiToken::new(&text).map_err(|e| TokenError::Invalid {
        path: real,
        source: Box::new(e),
    })
}

#[cfg(unix)]
fn check_owner_only(path: &Path, meta: &std::fs::Metadata) -> Result<(), TokenError> {
    use std::os::unix::fs::PermissionsExt;
    // Same rule as ssh for private keys: no bits at all for group and others.
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(TokenError::TooOpen {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), TokenError> {
    // On Windows the tokens folder's ACL (SYSTEM and Administrators only) is set by the
    // installer, and the file's owner is checked when a configuration names it.
    Ok(())
}

/// Picks the token from, in order: an explicit file, the `S1_API_TOKEN` value, the
/// integration's configured file.
pub fn resolve_token(
    explicit_file: Option<&Path>,
    env_value: Option<&str>,
    config_file: Option<&Path>,
) -> Result<ApiToken, TokenError> {
    if let Some(path) = explicit_file {
        return read_token_file(path);
    }
    if let Some(value) = env_value {
        return ApiToken::new(value);
    }
    match config_file {
        Some(path) => read_system_token(path),
        None => Err(TokenError::Missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let token = ApiToken::new("  s3cr3t-value\n").unwrap();
        assert_eq!(token.expose(), "s3cr3t-value");
        assert!(!format!("{token:?}").contains("s3cr3t"));
        assert!(!format!("{token}").contains("s3cr3t"));
        assert!(!format!("{:?}", Some(&token)).contains("s3cr3t"));
    }

    #[test]
    fn rejects_empty_and_spaces() {
        assert!(matches!(ApiToken::new(" \n"), Err(TokenError::Empty)));
        assert!(matches!(
            ApiToken::new("two words"),
            Err(TokenError::BadCharacters)
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_group_readable_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = crate::test_scratch();
        let path = dir.path().join("t.token");
        std::fs::write(&path, "abc\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let err = read_token_file(&path).unwrap_err();
        assert!(matches!(err, TokenError::TooOpen { mode: 0o640, .. }));
        assert!(err.to_string().contains("chmod 600"));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_token_file(&path).unwrap().expose(), "abc");
    }

    #[test]
    fn source_order() {
        assert_eq!(
            resolve_token(None, Some("from-env"), None)
                .unwrap()
                .expose(),
            "from-env"
        );
        assert!(matches!(
            resolve_token(None, None, None),
            Err(TokenError::Missing)
        ));
    }
}
