//! The device key: an ECDSA P-256 key pair (JWS ES256), and its public half in the
//! three forms a backend meets: JWK, SPKI PEM and the RFC 7638 thumbprint (`kid`).
//!
//! P-256 is the one curve the Secure Enclave, TPM 2.0 and Windows' Platform Crypto
//! Provider all offer, so this software key can move into hardware later unchanged
//! for every verifier.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair,
    UnparsedPublicKey,
};

/// DER of SubjectPublicKeyInfo up to the point: id-ecPublicKey, prime256v1, and the
/// BIT STRING header for a 65-byte uncompressed point.
const SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
/// An uncompressed P-256 point: `04 || x || y`.
const POINT_LEN: usize = 65;

/// Why a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Not a P-256 public key in PEM (SPKI) or JWK form.
    #[error("not a P-256 public key (PEM `PUBLIC KEY` or JWK with kty EC, crv P-256): {0}")]
    BadPublic(String),
    /// Not a PKCS#8 P-256 private key.
    #[error("not a PKCS#8 P-256 private key: {0}")]
    BadPrivate(String),
    /// The claims could not be encoded.
    #[error("cannot encode the verdict's claims: {0}")]
    Encode(String),
    /// The system's random source failed.
    #[error("cannot generate a key: the system's random source failed")]
    Random,
}

/// A P-256 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    point: [u8; POINT_LEN],
}

impl PublicKey {
    /// From an uncompressed point (`04 || x || y`). The point is checked when it is
    /// first used to verify, by ring; a point off the curve verifies nothing.
    pub fn from_point(bytes: &[u8]) -> Result<Self, KeyError> {
        let point: [u8; POINT_LEN] = bytes
            .try_into()
            .map_err(|_| KeyError::BadPublic(format!("{} bytes, not 65", bytes.len())))?;
        if point[0] != 0x04 {
            return Err(KeyError::BadPublic("not an uncompressed point".into()));
        }
        Ok(Self { point })
    }

    /// From PEM (`-----BEGIN PUBLIC KEY-----`) or a JWK object, whichever `text` is.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            let value: serde_json::Value =
                serde_json::from_str(trimmed).map_err(|e| KeyError::BadPublic(e.to_string()))?;
            Self::from_jwk(&value)
        } else {
            Self::from_pem(trimmed)
        }
    }

    /// From SPKI PEM.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let der = pem_body(text, "PUBLIC KEY")
            .ok_or_else(|| KeyError::BadPublic("no `-----BEGIN PUBLIC KEY-----` block".into()))?;
        let point = der
            .strip_prefix(&SPKI_PREFIX[..])
            .ok_or_else(|| KeyError::BadPublic("not a P-256 SubjectPublicKeyInfo".into()))?;
        Self::from_point(point)
    }

    /// From a JWK (`kty` EC, `crv` P-256, `x`, `y`); a `kid`, `use` or `alg` member is
    /// allowed and ignored.
    pub fn from_jwk(jwk: &serde_json::Value) -> Result<Self, KeyError> {
        let member = |name: &str| {
            jwk.get(name)
                .and_then(|v| v.as_str())
                .ok_or_else(|| KeyError::BadPublic(format!("the JWK has no string `{name}`")))
        };
        if member("kty")? != "EC" || member("crv")? != "P-256" {
            return Err(KeyError::BadPublic(
                "the JWK is not kty EC, crv P-256".into(),
            ));
        }
        let coordinate = |name: &str| -> Result<Vec<u8>, KeyError> {
            let bytes = URL_SAFE_NO_PAD
                .decode(member(name)?)
                .map_err(|e| KeyError::BadPublic(format!("`{name}`: {e}")))?;
            if bytes.len() != 32 {
                return Err(KeyError::BadPublic(format!("`{name}` is not 32 bytes")));
            }
            Ok(bytes)
        };
        let mut point = vec![0x04];
        point.extend(coordinate("x")?);
        point.extend(coordinate("y")?);
        Self::from_point(&point)
    }

    fn coordinates(&self) -> (String, String) {
        (
            URL_SAFE_NO_PAD.encode(&self.point[1..33]),
            URL_SAFE_NO_PAD.encode(&self.point[33..]),
        )
    }

    /// The JWK, with `kid` (the thumbprint), `use` and `alg` so a JWKS built from many
    /// devices' keys needs no editing.
    pub fn jwk(&self) -> serde_json::Value {
        let (x, y) = self.coordinates();
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "x": x, "y": y,
            "kid": self.thumbprint(), "use": "sig", "alg": "ES256",
        })
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexical order,
    /// base64url without padding. It is the `kid` of every verdict this key signs.
    pub fn thumbprint(&self) -> String {
        use sha2::Digest;
        let (x, y) = self.coordinates();
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes()))
    }

    /// SubjectPublicKeyInfo PEM, as `openssl pkey -pubin` and most JWT libraries read.
    pub fn pem(&self) -> String {
        let mut der = SPKI_PREFIX.to_vec();
        der.extend_from_slice(&self.point);
        pem_encode("PUBLIC KEY", &der)
    }

    /// Whether `signature` (64-byte r||s) is this key's ES256 signature of `message`.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &self.point[..])
            .verify(message, signature)
            .is_ok()
    }
}

/// The device's private key.
pub struct DeviceKey {
    pair: EcdsaKeyPair,
    public: PublicKey,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey({})", self.public.thumbprint())
    }
}

impl DeviceKey {
    /// A new key, and its PKCS#8 PEM to store.
    pub fn generate() -> Result<(Self, String), KeyError> {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| KeyError::Random)?;
        let key = Self::from_pkcs8(pkcs8.as_ref())?;
        Ok((key, pem_encode("PRIVATE KEY", pkcs8.as_ref())))
    }

    /// From the stored PKCS#8 PEM.
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        let der = pem_body(text, "PRIVATE KEY")
            .ok_or_else(|| KeyError::BadPrivate("no `-----BEGIN PRIVATE KEY-----` block".into()))?;
        Self::from_pkcs8(&der)
    }

    fn from_pkcs8(der: &[u8]) -> Result<Self, KeyError> {
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &SystemRandom::new())
                .map_err(|e| KeyError::BadPrivate(e.to_string()))?;
        let public = PublicKey::from_point(pair.public_key().as_ref())?;
        Ok(Self { pair, public })
    }

    /// Its public half.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The ES256 signature of `message`: 64 bytes, r||s (RFC 7518 section 3.4).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.pair
            .sign(&SystemRandom::new(), message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|_| KeyError::Random)
    }
}

fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let start = text.find(&begin)? + begin.len();
    let stop = start + text[start..].find(&end)?;
    let body: String = text[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_the_public_key_names_the_same_key() {
        let (key, pem) = DeviceKey::generate().unwrap();
        let again = DeviceKey::from_pem(&pem).unwrap();
        assert_eq!(again.public(), key.public());
        let public = key.public();
        assert_eq!(&PublicKey::parse(&public.pem()).unwrap(), public);
        assert_eq!(
            &PublicKey::parse(&public.jwk().to_string()).unwrap(),
            public
        );
        assert_eq!(public.jwk()["kid"], public.thumbprint());
        let signature = key.sign(b"message").unwrap();
        assert_eq!(signature.len(), 64);
        assert!(public.verifies(b"message", &signature));
        assert!(!public.verifies(b"massage", &signature));
    }

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // The EC key of RFC 7517 appendix A.1; the thumbprint was computed outside
        // this code (Python hashlib over the RFC 7638 member string).
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "enc", "kid": "1",
            "x": "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",
            "y": "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM",
        });
        let key = PublicKey::from_jwk(&jwk).unwrap();
        assert_eq!(
            key.thumbprint(),
            "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s"
        );
    }

    #[test]
    fn keys_of_other_kinds_are_refused() {
        assert!(PublicKey::parse(r#"{"kty":"oct","k":"c2VjcmV0"}"#).is_err());
        assert!(PublicKey::parse(r#"{"kty":"EC","crv":"P-384","x":"AA","y":"AA"}"#).is_err());
        assert!(
            PublicKey::parse("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err()
        );
        assert!(PublicKey::from_point(&[4; 33]).is_err());
        assert!(
            DeviceKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
    }
}
