//! `check --jwt`, `verify`, `key show | rotate` and `attest`.

use std::io::Read;
use std::path::Path;

use super::output::print_json;
use super::render::{answer_is, errln, outln};
use super::{AttestArgs, CheckArgs, KeyFormat, VerifyArgs};
use crate::app::Error;
use crate::app::Options;
use crate::app::verdict;
use crate::exit::Outcome;
use crate::posture::report::Overall;
use crate::verdict::PublicKey;
use crate::verdict::jwt::{self, Expect, MAX_TOKEN};

/// `check --jwt [--nonce N [--aud A] [--socket PATH]]`: prints the token, exits
/// with its result.
pub(crate) fn check_jwt(options: &Options, args: &CheckArgs) -> Result<Outcome, Error> {
    let (token, result) = match &args.nonce {
        None => {
            let signed = verdict::stored(options)?;
            (signed.token, signed.result)
        }
        Some(nonce) => fresh(args, nonce)?,
    };
    let answer = answer_is(super::check::outcome(result));
    outln!("{token}");
    Ok(answer)
}

#[cfg(unix)]
fn fresh(args: &CheckArgs, nonce: &str) -> Result<(String, Overall), Error> {
    use crate::app::attest;
    let socket = args.socket.clone().unwrap_or_else(attest::default_socket);
    let token = attest::request(&socket, nonce, args.aud.as_deref())?;
    let (_, claims) = jwt::unverified_claims(&token)
        .map_err(|e| Error::Unavailable(format!("the signer's token is malformed: {e}")))?;
    Ok((token, claims.result))
}

#[cfg(not(unix))]
fn fresh(_args: &CheckArgs, _nonce: &str) -> Result<(String, Overall), Error> {
    Err(not_on_windows("check --jwt --nonce"))
}

#[cfg(not(unix))]
fn not_on_windows(what: &str) -> Error {
    Error::usage(
        format!("`{what}` is not available on Windows yet (no named-pipe signer)"),
        "use `s1trust check --jwt` (the refresh's signed verdict), or verify on Linux or macOS",
    )
}

/// `verify`: exit 0/1/3 for a valid token by its result, 4 with one line when invalid.
pub(crate) fn verify(args: &VerifyArgs) -> Result<Outcome, Error> {
    let keys = match (&args.key, &args.jwks) {
        (Some(file), _) => vec![read_key(file)?],
        (None, Some(file)) => read_jwks(file)?,
        (None, None) => {
            return Err(Error::usage(
                "no key given",
                "pass --key FILE or --jwks FILE",
            ));
        }
    };
    let token = read_token_arg(args.token.as_deref())?;
    let expect = Expect {
        nonce: args.nonce.clone(),
        aud: args.aud.clone(),
        max_age: args.max_age,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = match jwt::verify(&token, &keys, &expect, now) {
        Ok(claims) => claims,
        Err(invalid) => {
            errln!("s1trust: invalid token: {invalid}");
            return Ok(answer_is(Outcome::Invalid));
        }
    };
    let answer = answer_is(super::check::outcome(claims.result));
    if args.json {
        print_json(&serde_json::to_value(&claims).map_err(std::io::Error::from)?)?;
    } else {
        outln!(
            "valid: {} ({}), device {}, expires {}",
            claims.result.as_str(),
            claims.reason.as_deref().unwrap_or("no reason"),
            claims
                .sub
                .as_deref()
                .or(claims.serial.as_deref())
                .unwrap_or("unidentified"),
            time::OffsetDateTime::from_unix_timestamp(claims.exp)
                .map(super::output::fmt_time)
                .unwrap_or_default()
        );
    }
    Ok(answer)
}

fn read_limited(path: Option<&Path>, what: &str) -> Result<String, Error> {
    let mut bytes = Vec::new();
    let limit = (MAX_TOKEN as u64) * 64;
    let result = match path {
        Some(path) => crate::fs_trust::open_regular(path)
            .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes)),
        None => std::io::stdin()
            .lock()
            .take(limit + 1)
            .read_to_end(&mut bytes),
    };
    // `<what file> <path>: <what is wrong>; <what to do>`, as every file error.
    let (source, todo) = match path {
        Some(path) => (format!("{what} file {}", path.display()), "check the path"),
        None => (
            format!("{what} on standard input"),
            "pipe in the token alone",
        ),
    };
    let failed = |wrong: String| Error::Usage {
        message: format!("{source}: {wrong}; {todo}"),
        hint: None,
    };
    result.map_err(|e| failed(crate::fs_trust::io_wrong(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(failed(format!("larger than {limit} bytes")));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_key(file: &Path) -> Result<PublicKey, Error> {
    let text = read_limited(Some(file), "key")?;
    PublicKey::parse(&text).map_err(|e| {
        Error::usage(
            format!("{}: {e}", file.display()),
            "use the output of `s1trust key show`",
        )
    })
}

fn read_jwks(file: &Path) -> Result<Vec<PublicKey>, Error> {
    let text = read_limited(Some(file), "JWKS")?;
    let bad = |why: String| {
        Error::usage(
            format!("{}: {why}", file.display()),
            "a JWKS is {\"keys\": [JWK, ...]} of `s1trust key show` outputs",
        )
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    let keys = value
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or_else(|| bad("no `keys` array".into()))?;
    // Keys of other kinds in a shared JWKS are skipped, not fatal; none usable is.
    let usable: Vec<PublicKey> = keys
        .iter()
        .filter_map(|k| PublicKey::from_jwk(k).ok())
        .collect();
    if usable.is_empty() {
        return Err(bad("no P-256 key in it".into()));
    }
    Ok(usable)
}

fn read_token_arg(token: Option<&str>) -> Result<String, Error> {
    match token {
        Some(text) if text != "-" => Ok(text.to_owned()),
        _ => read_limited(None, "token"),
    }
}

/// `key show`.
pub(crate) fn key_show(options: &Options, format: KeyFormat) -> Result<Outcome, Error> {
    let key = verdict::public_key(options)?;
    match format {
        KeyFormat::Jwk => outln!("{}", key.jwk()),
        KeyFormat::Pem => key.pem().lines().for_each(|line| outln!("{line}")),
        KeyFormat::Thumbprint => outln!("{}", key.thumbprint()),
    }
    Ok(Outcome::Ok)
}

/// `key rotate`.
pub(crate) fn key_rotate(options: &Options) -> Result<Outcome, Error> {
    let key = verdict::rotate(options)?;
    outln!("new device key {}", key.thumbprint());
    outln!(
        "run `s1trust refresh` to sign the verdict with it, and give backends the new public key (`s1trust key show`)"
    );
    Ok(Outcome::Ok)
}

/// `attest`.
#[cfg(unix)]
pub(crate) fn attest(options: &Options, args: &AttestArgs) -> Result<Outcome, Error> {
    use crate::app::attest;
    let signer = verdict::Signer::new(options)?;
    let listener = attest::listener(args.listen.as_deref())?;
    tracing::info!("attest: serving nonce-bound verdicts");
    attest::serve(signer, &listener)?;
    Ok(Outcome::Ok)
}

#[cfg(not(unix))]
pub(crate) fn attest(_options: &Options, _args: &AttestArgs) -> Result<Outcome, Error> {
    Err(not_on_windows("attest"))
}
