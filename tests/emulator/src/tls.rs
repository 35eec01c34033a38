//! A throwaway CA and a leaf certificate for loopback names, generated per run,
//! and the rustls server config that serves them.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// Generated TLS material: the CA (for clients to trust) and the server config.
pub struct TlsMaterial {
    /// PEM of the CA certificate clients should trust.
    pub ca_pem: String,
    /// Ready-to-use rustls config presenting leaf + CA.
    pub server_config: Arc<ServerConfig>,
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("TLS setup ({what}): {e}"))
}

/// Validity window. Starts in the past so a client whose clock is a little
/// behind still accepts it; short-lived because the key dies with the process.
fn validity(params: &mut CertificateParams) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(365);
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "s1-emulator test CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "s1-emulator");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params);
    params
}

/// The names a leaf holds unless the configuration says otherwise.
pub const DEFAULT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

fn leaf_params(names: &[String]) -> io::Result<CertificateParams> {
    let common_name = names.first().cloned().unwrap_or_default();
    let mut params =
        CertificateParams::new(names.to_vec()).map_err(|e| tls_err("leaf names", e))?;
    params
        .distinguished_name
        .push(DnType::CommonName, common_name);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    validity(&mut params);
    Ok(params)
}

/// Generates a CA and a leaf for `names` (host names or IP addresses).
pub fn generate(names: &[String]) -> io::Result<TlsMaterial> {
    let ca_key = KeyPair::generate().map_err(|e| tls_err("CA key", e))?;
    let ca_params = ca_params();
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| tls_err("CA certificate", e))?;
    let issuer = Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(|e| tls_err("leaf key", e))?;
    let leaf_cert = leaf_params(names)?
        .signed_by(&leaf_key, &issuer)
        .map_err(|e| tls_err("leaf certificate", e))?;

    let chain: Vec<CertificateDer<'static>> = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    Ok(TlsMaterial {
        ca_pem: ca_cert.pem(),
        server_config: server_config(chain, key)?,
    })
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> io::Result<Arc<ServerConfig>> {
    // An explicit provider: relying on the process-level default panics when
    // no provider (or more than one) was installed by the embedding process.
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("protocol versions", e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| tls_err("server certificate", e))?;
    // Only HTTP/1.1 is served; advertising it stops h2-capable clients from
    // trying HTTP/2 over this connection.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    #[test]
    fn generates_pem_ca() {
        let names = super::DEFAULT_NAMES.map(String::from);
        let m = super::generate(&names).unwrap();
        assert!(m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(m.server_config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
