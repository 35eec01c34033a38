//! The verdict token: a JWS compact ES256 token over the snapshot's answer, and the
//! verifier backends and `s1trust verify` use. docs/verdicts.md and
//! `src/verdict/verdict-v1.schema.json` describe the claims.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::key::{DeviceKey, KeyError, PublicKey};
use crate::posture::report::{Overall, PostureReport};

/// The JOSE `typ` of a verdict.
pub const TYP: &str = "s1trust-verdict+jwt";
/// The `iss` of a verdict.
pub const ISSUER: &str = "s1trust";
/// Largest token accepted; a real one is 1–3 KiB.
pub const MAX_TOKEN: usize = 16 * 1024;
/// Clock skew tolerated for `nbf`, `exp` and `iat`.
pub const SKEW: Duration = Duration::from_secs(60);
/// Header members that would let a token name its own key; never honoured, refused.
const SELF_KEYED: [&str; 5] = ["jwk", "jku", "x5c", "x5u", "crit"];

/// The claims of a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    /// Always [`ISSUER`].
    pub iss: String,
    /// The agent UUID, when the snapshot has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The hardware serial, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The hashed OS machine identity, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<String>,
    /// When it was signed (NumericDate).
    pub iat: i64,
    /// Not valid before (NumericDate).
    pub nbf: i64,
    /// Not valid from (NumericDate): the snapshot's `expiresAt`, or sooner.
    pub exp: i64,
    /// Random, unique per token.
    pub jti: String,
    /// `trusted`, `not_trusted` or `unknown`.
    pub result: Overall,
    /// The reason code for a result other than `trusted`.
    #[serde(default)]
    pub reason: Option<String>,
    /// When the snapshot's evaluation ran (NumericDate).
    pub evaluated_at: i64,
    /// SHA-256 (hex) of the snapshot file this verdict was made from.
    pub snapshot_sha256: String,
    /// Each factor's outcome.
    pub factors: Vec<FactorClaim>,
    /// Each integration (tenant) asked.
    pub integrations: Vec<IntegrationClaim>,
    /// Where the key lives: `software` (a root-only file).
    pub key_protection: String,
    /// The verifier's challenge (nonce mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// The audience named by the requester (nonce mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

/// One factor in [`Claims`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FactorClaim {
    /// Catalogue key.
    pub key: String,
    /// The integration that judged it.
    pub source: String,
    /// `satisfied`, `not_satisfied`, `unknown`, `not_applicable`.
    pub result: String,
    /// Stable reason code.
    pub reason: String,
}

/// One integration in [`Claims`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationClaim {
    /// The integration's name.
    pub name: String,
    /// The console's host name.
    pub console_host: Option<String>,
    /// The record's account.
    pub account_id: Option<String>,
    /// The record's site.
    pub site_id: Option<String>,
    /// The record's agent id.
    pub agent_id: Option<String>,
}

/// What a signature covers besides the snapshot.
#[derive(Debug, Clone, Default)]
pub struct Binding {
    /// The requester's nonce.
    pub nonce: Option<String>,
    /// The requester's audience.
    pub aud: Option<String>,
    /// Expire no later than this (nonce mode: a few minutes).
    pub lifetime: Option<Duration>,
}

impl Claims {
    /// The claims for `report`, read from a snapshot file whose SHA-256 is `sha256`,
    /// signed at `now`.
    pub fn new(
        report: &PostureReport,
        sha256: &str,
        now: OffsetDateTime,
        binding: Binding,
    ) -> Self {
        let mut exp = report.expires_at;
        if let Some(limit) = binding
            .lifetime
            .and_then(|l| now.checked_add(l.try_into().ok()?))
        {
            exp = exp.min(limit);
        }
        let device = &report.device;
        Self {
            iss: ISSUER.into(),
            sub: device.agent_uuid.clone(),
            serial: device.serial_number.clone(),
            host_id: device.host_id.clone(),
            iat: now.unix_timestamp(),
            nbf: now.unix_timestamp(),
            exp: exp.unix_timestamp(),
            jti: random_id(),
            result: report.result,
            reason: report.reason.map(|r| r.as_str().to_owned()),
            evaluated_at: report.evaluated_at.unix_timestamp(),
            snapshot_sha256: sha256.to_owned(),
            factors: report
                .factors
                .iter()
                .map(|f| FactorClaim {
                    key: f.key.as_str().to_owned(),
                    source: f.source.clone(),
                    result: enum_name(&f.result),
                    reason: f.reason.as_str().to_owned(),
                })
                .collect(),
            integrations: report
                .integrations
                .iter()
                .map(|i| IntegrationClaim {
                    name: i.name.clone(),
                    console_host: url::Url::parse(&i.url)
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_owned)),
                    account_id: i.agent.as_ref().and_then(|a| a.account_id.clone()),
                    site_id: i.agent.as_ref().and_then(|a| a.site_id.clone()),
                    agent_id: i.agent.as_ref().and_then(|a| a.id.clone()),
                })
                .collect(),
            key_protection: "software".into(),
            nonce: binding.nonce,
            aud: binding.aud,
        }
    }
}

fn enum_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// 128 random bits, base64url.
fn random_id() -> String {
    let bytes: [u8; 16] = std::array::from_fn(|_| fastrand::u8(..));
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The hex SHA-256 that binds a verdict to its snapshot file.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Signs `claims` with `key`: `header.payload.signature`, each base64url.
pub fn sign(key: &DeviceKey, claims: &Claims) -> Result<String, KeyError> {
    let header = serde_json::json!({"alg": "ES256", "typ": TYP, "kid": key.public().thumbprint()});
    let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Encode(e.to_string()))?;
    let mut token = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

/// Why a token is not a valid verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    /// Not three base64url parts of JSON, or over [`MAX_TOKEN`].
    #[error("malformed token: {0}")]
    Malformed(String),
    /// Anything but `alg: ES256`.
    #[error("algorithm {0:?} is not accepted (ES256 only)")]
    Algorithm(String),
    /// Not `typ: s1trust-verdict+jwt`.
    #[error("typ {0:?} is not {TYP}")]
    Type(String),
    /// The header names a key or extension of its own.
    #[error("the header carries `{0}`; keys come only from the verifier")]
    SelfKeyed(String),
    /// No given key has the token's `kid`.
    #[error("no key given has kid {0:?}")]
    UnknownKey(String),
    /// The signature does not verify.
    #[error("the signature does not verify")]
    Signature,
    /// Not an s1trust verdict's claims.
    #[error("the claims are not a verdict's: {0}")]
    Claims(String),
    /// Past `exp`.
    #[error("expired at {0}")]
    Expired(i64),
    /// Before `nbf`, or `iat` in the future.
    #[error("not valid yet (nbf {0})")]
    NotYet(i64),
    /// `iat` older than `--max-age`.
    #[error("issued {0} s ago, more than the allowed {1} s")]
    TooOld(i64, u64),
    /// The nonce differs or is missing (either side).
    #[error("{0}")]
    Nonce(String),
    /// The audience differs or is missing (either side).
    #[error("{0}")]
    Audience(String),
}

/// What the verifier expects.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// The nonce the verifier sent; a token with a nonce needs one.
    pub nonce: Option<String>,
    /// The verifier's audience; a token with an audience needs one.
    pub aud: Option<String>,
    /// Largest accepted age of `iat`.
    pub max_age: Option<Duration>,
}

/// Verifies `token` with one of `keys` (picked by `kid`) at `now`, and returns its claims.
pub fn verify(
    token: &str,
    keys: &[PublicKey],
    expect: &Expect,
    now: i64,
) -> Result<Claims, Invalid> {
    let token = token.trim();
    if token.len() > MAX_TOKEN {
        return Err(Invalid::Malformed(format!("longer than {MAX_TOKEN} bytes")));
    }
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err(Invalid::Malformed("not three dot-separated parts".into()));
    };
    let header = decode_json(header, "header")?;
    let key = check_header(&header, keys)?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|e| Invalid::Malformed(format!("signature: {e}")))?;
    let signed = &token[..token.len() - parts[2].len() - 1];
    if !key.verifies(signed.as_bytes(), &signature) {
        return Err(Invalid::Signature);
    }
    let claims: Claims = serde_json::from_value(decode_json(payload, "payload")?)
        .map_err(|e| Invalid::Claims(e.to_string()))?;
    check_claims(&claims, expect, now)?;
    Ok(claims)
}

fn decode_json(part: &str, what: &str) -> Result<serde_json::Value, Invalid> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| Invalid::Malformed(format!("{what}: {e}")))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| Invalid::Malformed(format!("{what}: {e}")))?;
    if !value.is_object() {
        return Err(Invalid::Malformed(format!("{what} is not a JSON object")));
    }
    Ok(value)
}

fn check_header<'k>(
    header: &serde_json::Value,
    keys: &'k [PublicKey],
) -> Result<&'k PublicKey, Invalid> {
    let text = |name: &str| {
        header
            .get(name)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    };
    if text("alg") != "ES256" {
        let alg = header.get("alg");
        return Err(Invalid::Algorithm(alg.map_or_else(String::new, |v| {
            v.as_str().map_or_else(|| v.to_string(), str::to_owned)
        })));
    }
    if text("typ") != TYP {
        return Err(Invalid::Type(text("typ").into()));
    }
    if let Some(member) = SELF_KEYED.iter().find(|m| header.get(**m).is_some()) {
        return Err(Invalid::SelfKeyed((*member).into()));
    }
    let kid = text("kid");
    keys.iter()
        .find(|k| k.thumbprint() == kid)
        .ok_or_else(|| Invalid::UnknownKey(kid.into()))
}

fn check_claims(claims: &Claims, expect: &Expect, now: i64) -> Result<(), Invalid> {
    let skew = SKEW.as_secs() as i64;
    if claims.iss != ISSUER {
        return Err(Invalid::Claims(format!(
            "iss {:?} is not {ISSUER}",
            claims.iss
        )));
    }
    if now >= claims.exp.saturating_add(skew) {
        return Err(Invalid::Expired(claims.exp));
    }
    if now.saturating_add(skew) < claims.nbf.max(claims.iat) {
        return Err(Invalid::NotYet(claims.nbf.max(claims.iat)));
    }
    if let Some(max_age) = expect.max_age {
        let age = now.saturating_sub(claims.iat);
        if age > (max_age.as_secs() as i64).saturating_add(skew) {
            return Err(Invalid::TooOld(age, max_age.as_secs()));
        }
    }
    match (&expect.nonce, &claims.nonce) {
        (Some(want), Some(got)) if want != got => {
            return Err(Invalid::Nonce("the nonce differs from the one sent".into()));
        }
        (Some(_), None) => return Err(Invalid::Nonce("the token carries no nonce".into())),
        (None, Some(_)) => {
            return Err(Invalid::Nonce(
                "the token is bound to a nonce; verify it with --nonce".into(),
            ));
        }
        _ => {}
    }
    match (&expect.aud, &claims.aud) {
        (Some(want), Some(got)) if want != got => Err(Invalid::Audience(format!(
            "audience {got:?} is not {want:?}"
        ))),
        (Some(_), None) => Err(Invalid::Audience("the token names no audience".into())),
        (None, Some(got)) => Err(Invalid::Audience(format!(
            "the token is for audience {got:?}; verify it with --aud"
        ))),
        _ => Ok(()),
    }
}

/// The claims of a token without verifying it: for the device's own consistency
/// checks (does `verdict.jwt` describe the snapshot?), never for a trust decision.
pub fn unverified_claims(token: &str) -> Result<(serde_json::Value, Claims), Invalid> {
    let parts: Vec<&str> = token.trim().split('.').collect();
    let [header, payload, _] = parts[..] else {
        return Err(Invalid::Malformed("not three dot-separated parts".into()));
    };
    let header = decode_json(header, "header")?;
    let claims = serde_json::from_value(decode_json(payload, "payload")?)
        .map_err(|e| Invalid::Claims(e.to_string()))?;
    Ok((header, claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::report::{
        AgentSummary, DeviceSummary, IntegrationReport, IntegrationStatus, SCHEMA_VERSION, Source,
    };
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-22 12:00 UTC);

    fn report() -> PostureReport {
        let json = serde_json::json!({
            "key": "registered_with", "name": "Registered", "source": "corp",
            "result": "satisfied", "reason": "agent_found", "detail": null, "remediation": "-"
        });
        PostureReport {
            schema_version: SCHEMA_VERSION,
            result: Overall::Trusted,
            reason: None,
            evaluated_at: NOW,
            expires_at: NOW + time::Duration::minutes(30),
            source: Source::Live,
            device: DeviceSummary {
                serial_number: Some("PF2ABCDE".into()),
                agent_uuid: Some("b7b2d39171be4ae1af90f93d7ed20f07".into()),
                host_id: Some("sha256:aa".into()),
                ..Default::default()
            },
            integrations: vec![IntegrationReport {
                name: "corp".into(),
                url: "https://usea1.sentinelone.net".into(),
                status: IntegrationStatus::Ok,
                reason: "agent_found".parse().unwrap(),
                matched_by: None,
                agent: Some(AgentSummary {
                    id: Some("42".into()),
                    account_id: Some("7".into()),
                    site_id: Some("9".into()),
                    ..Default::default()
                }),
                binding: None,
                binding_reason: None,
                binding_source: None,
                duplicates: 0,
                error: None,
            }],
            factors: vec![serde_json::from_value(json).unwrap()],
            notes: Vec::new(),
            last_refresh: None,
        }
    }

    fn signed(binding: Binding) -> (DeviceKey, String) {
        let (key, _) = DeviceKey::generate().unwrap();
        let claims = Claims::new(&report(), &sha256_hex(b"snapshot"), NOW, binding);
        let token = sign(&key, &claims).unwrap();
        (key, token)
    }

    fn now() -> i64 {
        NOW.unix_timestamp()
    }

    fn check(token: &str, key: &DeviceKey, expect: &Expect) -> Result<Claims, Invalid> {
        verify(token, &[key.public().clone()], expect, now())
    }

    fn b64(bytes: impl AsRef<[u8]>) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The token with its header or payload replaced (signature kept).
    fn swap(token: &str, part: usize, json: &serde_json::Value) -> String {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        parts[part] = b64(json.to_string());
        parts.join(".")
    }

    fn part(token: &str, index: usize) -> serde_json::Value {
        let text = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(index).unwrap())
            .unwrap();
        serde_json::from_slice(&text).unwrap()
    }

    #[test]
    fn an_independent_es256_implementation_verifies_the_token() {
        use p256::ecdsa::signature::Verifier;
        let (key, token) = signed(Binding::default());
        let jwk = key.public().jwk();
        let coordinate = |name: &str| URL_SAFE_NO_PAD.decode(jwk[name].as_str().unwrap()).unwrap();
        let point = p256::EncodedPoint::from_affine_coordinates(
            coordinate("x")[..].into(),
            coordinate("y")[..].into(),
            false,
        );
        let verifying = p256::ecdsa::VerifyingKey::from_encoded_point(&point).unwrap();
        let (input, signature) = token.rsplit_once('.').unwrap();
        let signature =
            p256::ecdsa::Signature::from_slice(&URL_SAFE_NO_PAD.decode(signature).unwrap())
                .unwrap();
        verifying.verify(input.as_bytes(), &signature).unwrap();
        let header = part(&token, 0);
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["typ"], TYP);
        assert_eq!(header["kid"], key.public().thumbprint());
        let pem_key = {
            use p256::pkcs8::DecodePublicKey;
            p256::ecdsa::VerifyingKey::from_public_key_pem(&key.public().pem()).unwrap()
        };
        assert_eq!(pem_key, verifying, "the PEM names the same key");
    }

    #[test]
    fn the_claims_say_what_the_snapshot_says_and_match_the_schema() {
        let (key, token) = signed(Binding::default());
        let claims = check(&token, &key, &Expect::default()).unwrap();
        assert_eq!(
            claims.sub.as_deref(),
            Some("b7b2d39171be4ae1af90f93d7ed20f07")
        );
        assert_eq!(
            claims.exp,
            (NOW + time::Duration::minutes(30)).unix_timestamp()
        );
        assert_eq!(
            claims.integrations[0].console_host.as_deref(),
            Some("usea1.sentinelone.net")
        );
        assert_eq!(claims.integrations[0].agent_id.as_deref(), Some("42"));
        assert_eq!(claims.factors[0].result, "satisfied");
        assert_eq!(claims.key_protection, "software");
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("verdict-v1.schema.json")).unwrap();
        let validator = jsonschema::validator_for(&schema).unwrap();
        let payload = part(&token, 1);
        let errors: Vec<String> = validator
            .iter_errors(&payload)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{payload:#}");
        let (_, nonce_token) = signed(Binding {
            nonce: Some("n0nce-123".into()),
            aud: Some("zt".into()),
            lifetime: Some(Duration::from_secs(300)),
        });
        assert!(validator.is_valid(&part(&nonce_token, 1)));
        assert_eq!(
            part(&nonce_token, 1)["exp"],
            now() + 300,
            "nonce tokens are short-lived"
        );
    }

    #[test]
    fn tampering_with_any_part_breaks_the_signature() {
        let (key, token) = signed(Binding::default());
        let mut claims = part(&token, 1);
        claims["result"] = "trusted".into();
        claims["sub"] = "another-device".into();
        assert_eq!(
            check(&swap(&token, 1, &claims), &key, &Expect::default()),
            Err(Invalid::Signature)
        );
        let mut header = part(&token, 0);
        header["extra"] = 1.into();
        assert_eq!(
            check(&swap(&token, 0, &header), &key, &Expect::default()),
            Err(Invalid::Signature)
        );
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[10] ^= 1;
        let flipped = format!("{input}.{}", b64(&bytes));
        assert_eq!(
            check(&flipped, &key, &Expect::default()),
            Err(Invalid::Signature)
        );
        let (other, _) = DeviceKey::generate().unwrap();
        let err = check(&token, &other, &Expect::default()).unwrap_err();
        assert!(matches!(err, Invalid::UnknownKey(_)), "{err}");
        let mut header = part(&token, 0);
        header["kid"] = other.public().thumbprint().into();
        let relabelled = swap(&token, 0, &header);
        assert_eq!(
            check(&relabelled, &other, &Expect::default()),
            Err(Invalid::Signature)
        );
    }

    #[test]
    fn only_es256_with_the_verifiers_key_is_accepted() {
        let (key, token) = signed(Binding::default());
        let payload = token.split('.').nth(1).unwrap();
        let kid = key.public().thumbprint();
        let none = format!(
            "{}.{payload}.",
            b64(format!(r#"{{"alg":"none","typ":"{TYP}","kid":"{kid}"}}"#))
        );
        assert!(matches!(
            check(&none, &key, &Expect::default()),
            Err(Invalid::Algorithm(_))
        ));
        // The classic confusion: HS256 keyed with the public key a verifier holds.
        let header = b64(format!(r#"{{"alg":"HS256","typ":"{TYP}","kid":"{kid}"}}"#));
        let input = format!("{header}.{payload}");
        for secret in [
            key.public().pem().into_bytes(),
            key.public().jwk().to_string().into_bytes(),
        ] {
            let mac = ring::hmac::sign(
                &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &secret),
                input.as_bytes(),
            );
            let forged = format!("{input}.{}", b64(mac.as_ref()));
            assert!(matches!(
                check(&forged, &key, &Expect::default()),
                Err(Invalid::Algorithm(_))
            ));
        }
        let mut header = part(&token, 0);
        header["jwk"] = key.public().jwk();
        assert!(matches!(
            check(&swap(&token, 0, &header), &key, &Expect::default()),
            Err(Invalid::SelfKeyed(_))
        ));
        let mut header = part(&token, 0);
        header["typ"] = "JWT".into();
        assert!(matches!(
            check(&swap(&token, 0, &header), &key, &Expect::default()),
            Err(Invalid::Type(_))
        ));
    }

    #[test]
    fn time_is_checked_with_a_minutes_skew() {
        let (key, token) = signed(Binding::default());
        let keys = [key.public().clone()];
        let exp = (NOW + time::Duration::minutes(30)).unix_timestamp();
        let skew = SKEW.as_secs() as i64;
        assert!(verify(&token, &keys, &Expect::default(), exp + skew - 1).is_ok());
        assert_eq!(
            verify(&token, &keys, &Expect::default(), exp + skew),
            Err(Invalid::Expired(exp))
        );
        assert!(verify(&token, &keys, &Expect::default(), now() - skew).is_ok());
        assert_eq!(
            verify(&token, &keys, &Expect::default(), now() - skew - 1),
            Err(Invalid::NotYet(now()))
        );
        let young = Expect {
            max_age: Some(Duration::from_secs(60)),
            ..Expect::default()
        };
        assert!(verify(&token, &keys, &young, now() + 120).is_ok());
        assert!(matches!(
            verify(&token, &keys, &young, now() + 121),
            Err(Invalid::TooOld(121, 60))
        ));
    }

    #[test]
    fn nonce_and_audience_must_match_on_both_sides() {
        let binding = Binding {
            nonce: Some("n0nce-123".into()),
            aud: Some("zt".into()),
            lifetime: None,
        };
        let (key, token) = signed(binding);
        let expect = |nonce: Option<&str>, aud: Option<&str>| Expect {
            nonce: nonce.map(str::to_owned),
            aud: aud.map(str::to_owned),
            max_age: None,
        };
        assert!(check(&token, &key, &expect(Some("n0nce-123"), Some("zt"))).is_ok());
        assert!(matches!(
            check(&token, &key, &expect(Some("other-nonce"), Some("zt"))),
            Err(Invalid::Nonce(_))
        ));
        assert!(matches!(
            check(&token, &key, &expect(None, Some("zt"))),
            Err(Invalid::Nonce(_))
        ));
        assert!(matches!(
            check(&token, &key, &expect(Some("n0nce-123"), Some("other"))),
            Err(Invalid::Audience(_))
        ));
        assert!(matches!(
            check(&token, &key, &expect(Some("n0nce-123"), None)),
            Err(Invalid::Audience(_))
        ));
        let (key, plain) = signed(Binding::default());
        assert!(matches!(
            check(&plain, &key, &expect(Some("n0nce-123"), None)),
            Err(Invalid::Nonce(_))
        ));
        assert!(matches!(
            check(&plain, &key, &expect(None, Some("zt"))),
            Err(Invalid::Audience(_))
        ));
    }

    #[test]
    fn truncated_and_huge_tokens_are_malformed() {
        let (key, token) = signed(Binding::default());
        for cut in [
            0,
            10,
            token.find('.').unwrap() + 1,
            token.rfind('.').unwrap(),
            token.len() - 5,
        ] {
            let err = check(&token[..cut], &key, &Expect::default()).unwrap_err();
            assert!(
                matches!(err, Invalid::Malformed(_) | Invalid::Signature),
                "cut {cut}: {err}"
            );
        }
        let huge = format!("{token}{}", "A".repeat(MAX_TOKEN));
        assert!(matches!(
            check(&huge, &key, &Expect::default()),
            Err(Invalid::Malformed(_))
        ));
        assert!(matches!(
            check("a.b.c.d", &key, &Expect::default()),
            Err(Invalid::Malformed(_))
        ));
    }
}
