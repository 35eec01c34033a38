//! Who may ask: the TLS server configuration (with device certificates verified
//! against the admin's CA when one is named) and the bearer secrets.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use sha2::{Digest, Sha256};

use crate::fs_trust::{self, Rule};

/// Largest certificate, key or CA file read.
const MAX_PEM: u64 = 1024 * 1024;

/// Why the relay's TLS or secrets cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A file could not be read or is not what it should be.
    #[error("{}: {why}", path.display())]
    File {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        why: String,
    },
    /// rustls refused the combination.
    #[error("TLS setup: {0}")]
    Tls(String),
}

fn file_error(path: &Path, why: impl ToString) -> AuthError {
    AuthError::File {
        path: path.to_owned(),
        why: why.to_string(),
    }
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The relay's certificate and key decide who it is, and the device CA who may ask:
/// like its configuration, root's files in folders only root can change.
/// A private key, like a token file, must also be unreadable by others.
fn read_pem(path: &Path, private: bool) -> Result<Vec<u8>, AuthError> {
    let rule = Rule {
        forbidden_mode: if private { 0o077 } else { 0o022 },
        ..Rule::system(MAX_PEM)
    };
    fs_trust::read(path, &rule)
        .map(|(bytes, _)| bytes)
        .map_err(|e| file_error(path, e.why()))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, AuthError> {
    let pem = read_pem(path, false)?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_error(path, e))?;
    if certs.is_empty() {
        return Err(file_error(path, "no PEM certificate in it"));
    }
    Ok(certs)
}

/// The TLS configuration devices connect with: the relay's certificate, and when
/// `client_ca` is named, a device certificate chaining to it and revoked by none of
/// `crl_files` (a lost or retired device's) is required.
pub fn server_config(
    cert_file: &Path,
    key_file: &Path,
    client_ca: Option<&Path>,
    crl_files: &[std::path::PathBuf],
) -> Result<Arc<ServerConfig>, AuthError> {
    let chain = certificates(cert_file)?;
    let key = PrivateKeyDer::from_pem_slice(&read_pem(key_file, true)?)
        .map_err(|e| file_error(key_file, format!("no usable private key: {e}")))?;
    let builder = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| AuthError::Tls(e.to_string()))?;
    let builder = match client_ca {
        Some(path) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in certificates(path)? {
                roots.add(cert).map_err(|e| file_error(path, e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
                .with_crls(revocations(crl_files)?)
                .build()
                .map_err(|e| file_error(path, e))?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| AuthError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn revocations(
    files: &[std::path::PathBuf],
) -> Result<Vec<CertificateRevocationListDer<'static>>, AuthError> {
    let mut crls = Vec::new();
    for path in files {
        let pem = read_pem(path, false)?;
        let found = CertificateRevocationListDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| file_error(path, e))?;
        if found.is_empty() {
            return Err(file_error(path, "no PEM certificate revocation list in it"));
        }
        crls.extend(found);
    }
    Ok(crls)
}

/// A device certificate's SHA-256 fingerprint (hex): the client's key for rate limits.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The bearer secrets devices may present, kept as digests.
#[derive(Debug, Default)]
pub struct Secrets(Vec<[u8; 32]>);

impl Secrets {
    /// Reads each file under the token file rules (root's, 0600, root's folders).
    pub fn load(files: &[std::path::PathBuf]) -> Result<Self, AuthError> {
        files
            .iter()
            .map(|path| {
                crate::token::read_system_token(path)
                    .map(|secret| digest(secret.expose().as_bytes()))
                    .map_err(|e| file_error(path, e))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether none are configured (then no header is required).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether `authorization` is `Bearer <a configured secret>`. Digests of equal
    /// length are compared without an early exit, so timing reveals nothing of a secret.
    pub fn admit(&self, authorization: Option<&str>) -> bool {
        let Some((scheme, presented)) = authorization.and_then(|v| v.trim().split_once(' ')) else {
            return false;
        };
        if !scheme.eq_ignore_ascii_case("bearer") {
            return false;
        }
        let presented = digest(presented.trim().as_bytes());
        self.0.iter().fold(false, |found, known| {
            let diff = known
                .iter()
                .zip(&presented)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b));
            found | (diff == 0)
        })
    }
}

fn digest(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_secrets() {
        let secrets = Secrets(vec![digest(b"s3cret-one"), digest(b"s3cret-two")]);
        assert!(secrets.admit(Some("Bearer s3cret-two")));
        assert!(secrets.admit(Some("bearer  s3cret-one ")));
        assert!(!secrets.admit(Some("Bearer s3cret")));
        assert!(!secrets.admit(Some("ApiToken s3cret-one")));
        assert!(!secrets.admit(Some("s3cret-one")));
        assert!(!secrets.admit(None));
    }
}
