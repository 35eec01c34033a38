//! TLS for the tenant client: the crypto provider, and the roots a console's certificate
//! must chain to (the OS trust store plus the integration's optional `ca_file`).
//!
//! Linux and the other non-Apple Unixes read the OS trust store the way OpenSSL does: the
//! one bundle file the distribution maintains (`SSL_CERT_FILE` when set), and the
//! certificate directory (`SSL_CERT_DIR`, else e.g. `/etc/ssl/certs`) only when the bundle
//! cannot vouch for a server. A start-up then parses one file instead of the ~150 in the
//! directory, and still trusts exactly what it trusted before: a certificate only the
//! directory holds is found on the second look. macOS and Windows keep the platform
//! verifier (Security.framework, CryptoAPI: their trust settings, revocation, MDM roots).

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::tenant::error::TenantError;
use crate::tenant::relay::ClientIdentity;

/// CA certificates in DER.
pub type Roots = Vec<CertificateDer<'static>>;

/// Every certificate in a PEM file (other PEM sections are skipped).
pub fn parse_pem(pem: &[u8]) -> Result<Roots, String> {
    CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// The crypto provider (key exchange, ciphers, signatures, randomness). See the README's
/// performance section for why this one.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Sets the TLS backend of `builder`: the OS trust store plus `extra`, and the
/// certificate this device presents to a relay that asks for one.
pub fn configure(
    builder: reqwest::ClientBuilder,
    extra: Roots,
    identity: Option<&ClientIdentity>,
) -> Result<reqwest::ClientBuilder, TenantError> {
    let provider = provider();
    #[cfg(all(unix, not(target_vendor = "apple")))]
    let verifier =
        os_store::BundleFirst::new(os_store::StorePaths::from_env(), extra, provider.clone())?;
    #[cfg(not(all(unix, not(target_vendor = "apple"))))]
    let verifier = if extra.is_empty() {
        rustls_platform_verifier::Verifier::new(provider.clone())
    } else {
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
    }
    .map_err(|e| TenantError::Setup(format!("the platform certificate verifier: {e}")))?;
    let config = client_config(provider, Arc::new(verifier), identity)?;
    Ok(builder.tls_backend_preconfigured(config))
}

fn identity_chain(
    identity: &ClientIdentity,
) -> Result<(Roots, PrivateKeyDer<'static>), TenantError> {
    let fail = |what: &str, reason: String| TenantError::ClientIdentity {
        reason: format!("{what}: {reason}"),
    };
    let chain = parse_pem(&identity.cert_pem).map_err(|e| fail("client certificate", e))?;
    if chain.is_empty() {
        return Err(fail(
            "client certificate",
            "no PEM certificate found".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(identity.key_pem())
        .map_err(|e| fail("client key", e.to_string()))?;
    Ok((chain, key))
}

/// The rustls configuration reqwest would build itself, with our provider and verifier.
fn client_config(
    provider: Arc<CryptoProvider>,
    verifier: Arc<dyn ServerCertVerifier>,
    identity: Option<&ClientIdentity>,
) -> Result<ClientConfig, TenantError> {
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TenantError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match identity {
        None => builder.with_no_client_auth(),
        Some(identity) => {
            let (chain, key) = identity_chain(identity)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| TenantError::ClientIdentity {
                    reason: e.to_string(),
                })?
        }
    };
    // What reqwest offers with its `http2` feature.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(all(unix, not(target_vendor = "apple")))]
mod os_store {
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};
    use std::sync::{Arc, OnceLock};

    use rustls::client::WebPkiServerVerifier;
    use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
    use rustls::crypto::CryptoProvider;
    use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
    use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

    use super::Roots;
    use crate::tenant::error::TenantError;

    /// Where the OS keeps its roots.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub(super) struct StorePaths {
        /// The bundle: `SSL_CERT_FILE`, else the first of the distributions' known files.
        pub file: Option<PathBuf>,
        /// Hashed directories: `SSL_CERT_DIR`, else the known ones that exist.
        pub dirs: Vec<PathBuf>,
    }

    impl StorePaths {
        /// `SSL_CERT_FILE` / `SSL_CERT_DIR` when either is set (and then only they, as
        /// rustls-native-certs does), else the system's defaults.
        pub fn from_env() -> Self {
            Self::from_vars(
                std::env::var_os("SSL_CERT_FILE"),
                std::env::var_os("SSL_CERT_DIR"),
            )
        }

        /// [`StorePaths::from_env`] with the variables' values given.
        pub fn from_vars(file: Option<OsString>, dir: Option<OsString>) -> Self {
            let file = file.filter(|v| !v.is_empty()).map(PathBuf::from);
            let dirs: Vec<PathBuf> = dir
                .filter(|v| !v.is_empty())
                .map(|v| {
                    std::env::split_paths(&v)
                        .filter(|p| !p.as_os_str().is_empty())
                        .collect()
                })
                .unwrap_or_default();
            if file.is_some() || !dirs.is_empty() {
                return Self { file, dirs };
            }
            let probe = openssl_probe::probe();
            Self {
                file: probe.cert_file,
                dirs: probe.cert_dir,
            }
        }
    }

    /// WebPKI verification against the bundle (plus the extra roots); a chain that fails
    /// there is checked once more with the certificate directories added.
    #[derive(Debug)]
    pub(super) struct BundleFirst {
        first: Arc<WebPkiServerVerifier>,
        /// The roots of `first`, kept to build the wider verifier from.
        roots: RootCertStore,
        /// Directories not read yet (empty when they already went into `first`).
        dirs: Vec<PathBuf>,
        provider: Arc<CryptoProvider>,
        wider: OnceLock<Option<Arc<WebPkiServerVerifier>>>,
    }

    impl BundleFirst {
        pub fn new(
            paths: StorePaths,
            extra: Roots,
            provider: Arc<CryptoProvider>,
        ) -> Result<Self, TenantError> {
            let mut roots = RootCertStore::empty();
            for cert in extra {
                roots
                    .add(cert)
                    .map_err(|e| TenantError::Setup(format!("extra CA certificate: {e}")))?;
            }
            let system = paths.file.as_deref().map(|f| load(Some(f), None));
            let mut dirs = paths.dirs;
            let mut added = system.map_or(0, |certs| roots.add_parsable_certificates(certs).0);
            if added == 0 {
                // No bundle (or an empty one): the directories are the store.
                for dir in std::mem::take(&mut dirs) {
                    added += roots.add_parsable_certificates(load(None, Some(&dir))).0;
                }
            }
            tracing::debug!(
                roots = roots.len(),
                from_os = added,
                bundle = ?paths.file,
                "TLS roots loaded"
            );
            let first = verifier(&roots, &provider).map_err(|_| {
                TenantError::Setup(
                    "no CA certificates found in the OS trust store (set SSL_CERT_FILE, or pass --ca-file)"
                        .into(),
                )
            })?;
            Ok(Self {
                first,
                roots,
                dirs,
                provider,
                wider: OnceLock::new(),
            })
        }

        /// The bundle plus the directories; `None` when they add nothing.
        fn wider(&self) -> Option<&Arc<WebPkiServerVerifier>> {
            self.wider
                .get_or_init(|| {
                    let mut roots = self.roots.clone();
                    let mut added = 0;
                    for dir in &self.dirs {
                        added += roots.add_parsable_certificates(load(None, Some(dir))).0;
                    }
                    tracing::debug!(added, "TLS roots: read the certificate directories too");
                    (added > 0)
                        .then(|| verifier(&roots, &self.provider).ok())
                        .flatten()
                })
                .as_ref()
        }
    }

    fn verifier(
        roots: &RootCertStore,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>, rustls::client::VerifierBuilderError> {
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots.clone()), provider.clone())
            .build()
    }

    /// PEM certificates from a file or a directory; unreadable entries are skipped (as the
    /// platform verifier skips them), and logged.
    fn load(file: Option<&Path>, dir: Option<&Path>) -> Vec<CertificateDer<'static>> {
        let result = rustls_native_certs::load_certs_from_paths(file, dir);
        for error in &result.errors {
            tracing::debug!("OS trust store: {error}");
        }
        result.certs
    }

    impl ServerCertVerifier for BundleFirst {
        fn verify_server_cert(
            &self,
            end_entity: &CertificateDer<'_>,
            intermediates: &[CertificateDer<'_>],
            server_name: &ServerName<'_>,
            ocsp_response: &[u8],
            now: UnixTime,
        ) -> Result<ServerCertVerified, Error> {
            let verify = |v: &WebPkiServerVerifier| {
                v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            };
            // Any failure, not only UnknownIssuer: a directory root may share its name
            // with a bundle root (a re-keyed CA), which fails as BadSignature. The wider
            // store is a superset, so its answer is what reading everything up front gave.
            match verify(&self.first) {
                Ok(verified) => Ok(verified),
                Err(error) => match self.wider() {
                    Some(wider) => verify(wider),
                    None => Err(error),
                },
            }
        }

        fn verify_tls12_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.first.verify_tls12_signature(message, cert, dss)
        }

        fn verify_tls13_signature(
            &self,
            message: &[u8],
            cert: &CertificateDer<'_>,
            dss: &DigitallySignedStruct,
        ) -> Result<HandshakeSignatureValid, Error> {
            self.first.verify_tls13_signature(message, cert, dss)
        }

        fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
            self.first.supported_verify_schemes()
        }
    }
}

#[cfg(all(test, unix, not(target_vendor = "apple")))]
mod tests {
    use std::path::PathBuf;
    use std::sync::Arc;

    use s1_emulator::{Emulator, EmulatorConfig};

    use super::os_store::{BundleFirst, StorePaths};
    use super::{Roots, client_config, parse_pem, provider};

    struct Tenant {
        emulator: Emulator,
        ca: Roots,
    }

    fn tenant() -> Tenant {
        let emulator = Emulator::start(EmulatorConfig::default()).expect("emulator starts");
        let ca = parse_pem(emulator.ca_pem().as_bytes()).unwrap();
        assert_eq!(ca.len(), 1);
        Tenant { emulator, ca }
    }

    /// `GET /system/status` with the given store: the status, or the error chain.
    fn reach(paths: &StorePaths, extra: &Roots, tenant: &Tenant) -> Result<u16, String> {
        let verifier = BundleFirst::new(paths.clone(), extra.clone(), provider())
            .map_err(|e| e.to_string())?;
        let config =
            client_config(provider(), Arc::new(verifier), None).map_err(|e| e.to_string())?;
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .build()
            .map_err(|e| e.to_string())?;
        let url = format!("{}/web/api/v2.1/system/status", tenant.emulator.url());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime
            .block_on(client.get(url).send())
            .map(|r| r.status().as_u16())
            .map_err(|e| crate::tenant::client::error_chain(&e))
    }

    /// A bundle file trusting `a`, and a directory holding `b`.
    fn store(a: &Tenant, b: &Tenant) -> (tempfile::TempDir, PathBuf, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let bundle = dir.path().join("bundle.crt");
        std::fs::write(&bundle, a.emulator.ca_pem()).unwrap();
        let certs = dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        std::fs::write(certs.join("b.pem"), b.emulator.ca_pem()).unwrap();
        (dir, bundle, certs)
    }

    #[test]
    fn bundle_first_then_the_directories() {
        let (a, b) = (tenant(), tenant());
        let (_dir, bundle, certs) = store(&a, &b);
        let both = StorePaths {
            file: Some(bundle.clone()),
            dirs: vec![certs.clone()],
        };
        assert_eq!(reach(&both, &Vec::new(), &a), Ok(200));
        assert_eq!(
            reach(&both, &Vec::new(), &b),
            Ok(200),
            "found on the second look"
        );

        let bundle_only = StorePaths {
            file: Some(bundle),
            dirs: Vec::new(),
        };
        // Both test CAs have the same name, so webpki says BadSignature, not UnknownIssuer.
        let refused = reach(&bundle_only, &Vec::new(), &b).unwrap_err();
        assert!(refused.contains("invalid peer certificate"), "{refused}");
        assert_eq!(
            reach(&bundle_only, &b.ca, &b),
            Ok(200),
            "the extra CA counts"
        );
    }

    #[test]
    fn directories_are_the_store_without_a_bundle() {
        let (a, b) = (tenant(), tenant());
        let (dir, _bundle, certs) = store(&a, &b);
        for file in [None, Some(dir.path().join("missing.crt"))] {
            let paths = StorePaths {
                file,
                dirs: vec![certs.clone()],
            };
            assert_eq!(reach(&paths, &Vec::new(), &b), Ok(200));
            assert!(reach(&paths, &Vec::new(), &a).is_err());
        }
    }

    #[test]
    fn an_empty_store_needs_an_extra_ca() {
        let a = tenant();
        let nothing = StorePaths {
            file: None,
            dirs: Vec::new(),
        };
        let error = reach(&nothing, &Vec::new(), &a).unwrap_err();
        assert!(error.contains("no CA certificates"), "{error}");
        assert_eq!(reach(&nothing, &a.ca, &a), Ok(200));
    }

    #[test]
    fn environment_overrides_the_defaults() {
        let file = StorePaths::from_vars(Some("/x/bundle.pem".into()), None);
        assert_eq!(file.file, Some(PathBuf::from("/x/bundle.pem")));
        assert!(file.dirs.is_empty(), "only what the variables name");
        let dirs = StorePaths::from_vars(Some("".into()), Some("/a:/b".into()));
        assert_eq!(dirs.file, None);
        assert_eq!(dirs.dirs, [PathBuf::from("/a"), PathBuf::from("/b")]);
        let defaults = StorePaths::from_vars(None, Some("".into()));
        assert_eq!(defaults, StorePaths::from_vars(None, None));
    }

    #[test]
    fn pem_parsing() {
        let a = tenant();
        let two = format!("junk\n{}\n{}", a.emulator.ca_pem(), a.emulator.ca_pem());
        assert_eq!(parse_pem(two.as_bytes()).unwrap().len(), 2);
        assert!(parse_pem(b"not a certificate").unwrap().is_empty());
    }
}
