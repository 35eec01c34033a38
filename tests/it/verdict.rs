//! Signed verdicts end to end (docs/verdicts.md): refresh signs, any user
//! reads and verifies, a verdict that disagrees with its snapshot or a key others
//! could touch is refused, and the `attest` signer answers nonce requests. Root
//! plays the administrator and uid 65534 the user, as in `attacks`.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::attacks::{Lab, NOBODY, threatened};
use crate::helpers::device_record as healthy;
use crate::helpers::root_test;
use crate::helpers::{Tenant, path_arg, set_mode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// A healthy device whose first refresh signed a verdict.
fn refreshed_lab() -> (Tenant, Lab) {
    let tenant = Tenant::start(vec![healthy(json!({}))]);
    let lab = Lab::new(&tenant);
    assert_eq!(lab.refresh().0, 0);
    (tenant, lab)
}

fn state(lab: &Lab) -> PathBuf {
    lab.snapshot.parent().unwrap().to_owned()
}

fn claims(token: &str) -> Value {
    let payload = token.trim().split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// `check --jwt` as the normal user: exit code, token, first stderr line.
fn user_jwt(lab: &Lab, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["check", "--jwt"];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = lab.run(Some(NOBODY), &args, &[]);
    (
        code,
        stdout.trim().to_owned(),
        stderr.lines().next().unwrap_or("").to_owned(),
    )
}

/// `verify TOKEN` with `extra` arguments as the normal user.
fn verify(lab: &Lab, token: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["verify", token];
    args.extend_from_slice(extra);
    lab.run(Some(NOBODY), &args, &[])
}

/// The public key as the user sees it, saved where the user's verifier reads it.
fn public_key(lab: &Lab, format: &str) -> PathBuf {
    let (code, stdout, stderr) = lab.run(Some(NOBODY), &["key", "show", "--format", format], &[]);
    assert_eq!(code, 0, "{stderr}");
    let path = state(lab)
        .parent()
        .unwrap()
        .join(format!("public.{format}"));
    std::fs::write(&path, stdout).unwrap();
    set_mode(&path, 0o644);
    path
}

root_test!(
    fn refresh_signs_a_verdict_any_user_reads_and_verifies() {
        let (_tenant, lab) = refreshed_lab();
        let mode = |p: PathBuf| crate::helpers::mode(&p);
        assert_eq!(mode(state(&lab).join("verdict.jwt")), 0o644);
        assert_eq!(mode(state(&lab).join("keys/verdict.key")), 0o600);
        assert_eq!(mode(state(&lab).join("keys")), 0o700);
        assert_eq!(mode(state(&lab).join("verdict-key.jwk")), 0o644);

        let (code, token, stderr) = user_jwt(&lab, &[]);
        assert_eq!(code, 0, "{stderr}");
        let snapshot: Value =
            serde_json::from_slice(&std::fs::read(&lab.snapshot).unwrap()).unwrap();
        let claims = claims(&token);
        assert_eq!(claims["result"], "trusted");
        assert_eq!(claims["sub"], crate::helpers::UUID);
        assert_eq!(
            claims["exp"],
            crate::helpers::time_of(&snapshot["expiresAt"]).unix_timestamp()
        );

        let jwk = public_key(&lab, "jwk");
        let pem = public_key(&lab, "pem");
        for key in [&jwk, &pem] {
            let (code, stdout, stderr) = verify(&lab, &token, &["--key", &path_arg(key), "--json"]);
            assert_eq!(code, 0, "{stderr}");
            assert_eq!(
                serde_json::from_str::<Value>(&stdout).unwrap()["result"],
                "trusted"
            );
        }
        let (_, thumbprint, _) = lab.run(
            Some(NOBODY),
            &["key", "show", "--format", "thumbprint"],
            &[],
        );
        let header = token.split('.').next().unwrap();
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header["kid"], thumbprint.trim());
        let jwks = state(&lab).parent().unwrap().join("fleet.jwks");
        let one: Value = serde_json::from_slice(&std::fs::read(&jwk).unwrap()).unwrap();
        std::fs::write(
            &jwks,
            json!({"keys": [{"kty": "oct", "k": "AA"}, one]}).to_string(),
        )
        .unwrap();
        set_mode(&jwks, 0o644);
        assert_eq!(verify(&lab, &token, &["--jwks", &path_arg(&jwks)]).0, 0);

        let mut tampered = token.clone();
        tampered.insert(token.find('.').unwrap() + 5, 'A');
        let (code, stdout, stderr) = verify(&lab, &tampered, &["--key", &path_arg(&jwk)]);
        assert_eq!((code, stdout.as_str()), (4, ""), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line says why: {stderr}");
        let (code, _, stderr) = verify(
            &lab,
            &token,
            &["--key", &path_arg(&jwk), "--nonce", "abcdefgh"],
        );
        assert_eq!(code, 4, "{stderr}");
    }
);

root_test!(
    fn check_jwt_and_verify_exit_with_the_verdicts_result() {
        let tenant = Tenant::start(vec![threatened()]);
        let lab = Lab::new(&tenant);
        assert_eq!(lab.refresh().0, 0);
        let (code, token, _) = user_jwt(&lab, &[]);
        assert_eq!(code, 1);
        assert_eq!(claims(&token)["result"], "not_trusted");
        assert_eq!(claims(&token)["reason"], "active_threats");
        let key = public_key(&lab, "jwk");
        assert_eq!(verify(&lab, &token, &["--key", &path_arg(&key)]).0, 1);
    }
);

root_test!(
    fn a_verdict_that_disagrees_with_the_snapshot_is_never_served() {
        let (_tenant, lab) = refreshed_lab();
        let verdict = state(&lab).join("verdict.jwt");
        let old = std::fs::read(&verdict).unwrap();
        std::thread::sleep(Duration::from_millis(1100));
        assert_eq!(lab.refresh().0, 0);
        // A refresh that died after renaming the snapshot, before the verdict.
        std::fs::write(&verdict, &old).unwrap();
        let (code, token, why) = user_jwt(&lab, &[]);
        assert_eq!((code, token.as_str()), (3, ""));
        assert!(why.contains("not made from the current snapshot"), "{why}");
        assert_eq!(lab.refresh().0, 0);
        assert_eq!(user_jwt(&lab, &[]).0, 0, "the next refresh signs it again");

        // The snapshot itself fails a rule: no verdict, however well signed.
        set_mode(&lab.snapshot, 0o666);
        let (code, _, why) = user_jwt(&lab, &[]);
        assert_eq!(code, 3);
        assert!(why.contains("only a snapshot root wrote"), "{why}");
        set_mode(&lab.snapshot, 0o644);
        lab.set_identity(json!({"serialNumber": "OTHER1234", "agentUuid": null}));
        let (code, _, why) = user_jwt(&lab, &[]);
        assert_eq!(code, 3);
        assert!(why.contains("another device"), "{why}");
    }
);

root_test!(
    fn a_key_a_user_could_read_or_replace_signs_nothing() {
        let (_tenant, lab) = refreshed_lab();
        let key = state(&lab).join("keys/verdict.key");
        for (what, spoil, restore) in [
            ("readable", "chmod 644", "chmod 600"),
            ("the user's", "chown 65534", "chown 0"),
        ] {
            Command::new("sh")
                .arg("-c")
                .arg(format!("{spoil} '{}'", key.display()))
                .status()
                .unwrap();
            let (code, stderr) = lab.refresh();
            assert_eq!(code, 0, "the snapshot is still written: {stderr}");
            assert!(stderr.contains("no signed verdict"), "{what}: {stderr}");
            assert!(!state(&lab).join("verdict.jwt").exists(), "{what}");
            assert_eq!(user_jwt(&lab, &[]).0, 3, "{what}");
            Command::new("sh")
                .arg("-c")
                .arg(format!("{restore} '{}'", key.display()))
                .status()
                .unwrap();
        }
        assert_eq!(lab.refresh().0, 0);
        let old_key = public_key(&lab, "jwk");
        let (_, old_token, _) = user_jwt(&lab, &[]);
        let config = path_arg(&lab.config);
        let (code, stdout, _) = lab.run(None, &["--config", &config, "key", "rotate"], &[]);
        assert_eq!(code, 0);
        assert!(stdout.contains("run `s1trust refresh`"), "{stdout}");
        assert_eq!(
            user_jwt(&lab, &[]).0,
            3,
            "nothing is served until a refresh signs"
        );
        assert_eq!(lab.refresh().0, 0);
        let (code, token, _) = user_jwt(&lab, &[]);
        assert_eq!(code, 0);
        assert_eq!(verify(&lab, &token, &["--key", &path_arg(&old_key)]).0, 4);
        assert_eq!(
            verify(
                &lab,
                &old_token,
                &["--key", &path_arg(&public_key(&lab, "jwk"))]
            )
            .0,
            4
        );
        let (code, _, stderr) = lab.run(Some(NOBODY), &["key", "rotate"], &[]);
        assert_ne!(code, 0, "a normal user cannot rotate: {stderr}");
    }
);

/// `s1trust attest --listen` as root, until dropped.
struct Signer {
    child: Child,
    socket: PathBuf,
}

impl Signer {
    fn start(lab: &Lab) -> Self {
        let socket = state(lab).parent().unwrap().join("run").join("attest.sock");
        let child = Command::new(env!("CARGO_BIN_EXE_s1trust"))
            .args([
                "--config",
                &path_arg(&lab.config),
                "attest",
                "--listen",
                &path_arg(&socket),
            ])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("S1TRUST_TEST_IDENTITY", lab.system.join("identity.json"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while UnixStream::connect(&socket).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "attest did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, socket }
    }

    fn threads(&self) -> usize {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
        line[8..].trim().parse().unwrap()
    }
}

impl Drop for Signer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw exchange on the socket.
fn exchange(socket: &Path, request: &[u8]) -> Value {
    let mut stream = UnixStream::connect(socket).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _ = stream.write_all(request);
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    serde_json::from_str(answer.trim()).unwrap_or_else(|_| panic!("not JSON: {answer:?}"))
}

root_test!(
    fn the_signer_binds_nonce_and_audience_and_refuses_bad_requests() {
        let (_tenant, lab) = refreshed_lab();
        let signer = Signer::start(&lab);
        let socket = path_arg(&signer.socket);
        let args = [
            "--nonce",
            "n0nce-abcdef",
            "--aud",
            "zt.example",
            "--socket",
            socket.as_str(),
        ];
        let (code, token, why) = user_jwt(&lab, &args);
        assert_eq!(code, 0, "{why}");
        let claims = claims(&token);
        assert_eq!(
            (claims["nonce"].as_str(), claims["aud"].as_str()),
            (Some("n0nce-abcdef"), Some("zt.example"))
        );
        assert!(claims["exp"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap() + 300);
        let key = path_arg(&public_key(&lab, "jwk"));
        let good = [
            "--key",
            key.as_str(),
            "--nonce",
            "n0nce-abcdef",
            "--aud",
            "zt.example",
        ];
        assert_eq!(verify(&lab, &token, &good).0, 0);
        let wrong_nonce = [
            "--key",
            key.as_str(),
            "--nonce",
            "n0nce-OTHER",
            "--aud",
            "zt.example",
        ];
        assert_eq!(verify(&lab, &token, &wrong_nonce).0, 4);
        let wrong_aud = [
            "--key",
            key.as_str(),
            "--nonce",
            "n0nce-abcdef",
            "--aud",
            "other",
        ];
        assert_eq!(verify(&lab, &token, &wrong_aud).0, 4);

        let error = |answer: Value| answer["error"].as_str().unwrap_or_default().to_owned();
        assert!(error(exchange(&signer.socket, b"{\"nonce\":\"short\"}\n")).contains("8-256"));
        assert!(error(exchange(&signer.socket, b"not json\n")).contains("not {"));
        let long = format!("{{\"nonce\":\"{}\"}}\n", "a".repeat(5000));
        assert!(error(exchange(&signer.socket, long.as_bytes())).contains("longer than"));
        let started = Instant::now();
        assert!(error(exchange(&signer.socket, b"{\"nonce\":")).contains("in time"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a silent client is cut off"
        );
        assert!(exchange(&signer.socket, b"{\"nonce\":\"abcdefgh\"}\n")["token"].is_string());

        set_mode(&lab.snapshot, 0o666);
        assert!(
            error(exchange(&signer.socket, b"{\"nonce\":\"abcdefgh\"}\n"))
                .contains("only a snapshot root wrote")
        );
        let (code, token, why) = user_jwt(&lab, &args);
        assert_eq!((code, token.as_str()), (3, ""));
        assert!(why.contains("signer refused"), "{why}");
    }
);

root_test!(
    fn fifty_clients_at_once_are_all_answered_by_a_fixed_pool() {
        let (_tenant, lab) = refreshed_lab();
        let signer = Signer::start(&lab);
        let before = signer.threads();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(50));
        let clients: Vec<_> = (0..50)
            .map(|i| {
                let socket = signer.socket.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    exchange(
                        &socket,
                        format!("{{\"nonce\":\"client-{i:04}\"}}\n").as_bytes(),
                    )
                })
            })
            .collect();
        let mut peak = before;
        let answers: Vec<Value> = clients
            .into_iter()
            .map(|c| {
                peak = peak.max(signer.threads());
                c.join().unwrap()
            })
            .collect();
        for (i, answer) in answers.iter().enumerate() {
            let token = answer["token"]
                .as_str()
                .unwrap_or_else(|| panic!("client {i}: {answer}"));
            assert_eq!(claims(token)["nonce"], format!("client-{i:04}"));
        }
        // The accepting thread and four workers (src/app/attest.rs WORKERS), however
        // many clients come.
        assert!(peak <= 5, "{peak} threads for 50 clients");
    }
);

root_test!(
    fn the_signer_replaces_only_a_socket() {
        let tenant = Tenant::start(vec![healthy(json!({}))]);
        let lab = Lab::new(&tenant);
        let precious = state(&lab).join("precious");
        std::fs::write(&precious, "data").unwrap();
        let config = path_arg(&lab.config);
        let (code, _, stderr) = lab.run(
            None,
            &[
                "--config",
                &config,
                "attest",
                "--listen",
                &path_arg(&precious),
            ],
            &[],
        );
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains("not a socket"), "{stderr}");
        assert_eq!(std::fs::read_to_string(&precious).unwrap(), "data");
    }
);

#[test]
fn the_signer_serves_a_socket_systemd_passes() {
    if !crate::helpers::is_root("the signer under socket activation")
        || !crate::helpers::have_tool("systemd-socket-activate")
    {
        return;
    }
    let (_tenant, lab) = refreshed_lab();
    let socket = state(&lab).join("activated.sock");
    let mut child = Command::new("systemd-socket-activate")
        .arg("--listen")
        .arg(&socket)
        .arg("-E")
        .arg(format!(
            "S1TRUST_TEST_IDENTITY={}",
            path_arg(&lab.system.join("identity.json"))
        ))
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_s1trust"))
        .args(["--config", &path_arg(&lab.config), "attest"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !socket.exists() {
        assert!(started.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let answer = exchange(&socket, b"{\"nonce\":\"activated\"}\n");
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        claims(answer["token"].as_str().unwrap())["nonce"],
        "activated",
        "{answer}"
    );
}

root_test!(
    fn a_refresh_that_keeps_the_snapshot_signs_it_when_its_verdict_is_missing() {
        let (tenant, lab) = refreshed_lab();
        let verdict = state(&lab).join("verdict.jwt");
        let snapshot = std::fs::read(&lab.snapshot).unwrap();
        // As after an upgrade from a version without verdicts, during a tenant outage.
        std::fs::remove_file(&verdict).unwrap();
        tenant.emulator.set_faults(vec![s1_emulator::Fault::new(
            s1_emulator::FaultKind::Status {
                code: 503,
                retry_after: Some("0".into()),
            },
        )]);
        assert_eq!(lab.refresh().0, 3, "the snapshot is kept");
        assert_eq!(std::fs::read(&lab.snapshot).unwrap(), snapshot);
        let (code, token, why) = user_jwt(&lab, &[]);
        assert_eq!(code, 0, "{why}");
        let signed = std::fs::read(&verdict).unwrap();
        assert_eq!(lab.refresh().0, 3);
        assert_eq!(
            std::fs::read(&verdict).unwrap(),
            signed,
            "a current verdict is left alone"
        );

        // `verify` reads the token from stdin too.
        let key = public_key(&lab, "pem");
        let mut child = Command::new(env!("CARGO_BIN_EXE_s1trust"))
            .args(["verify", "-", "--key", &path_arg(&key), "--json"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{token}").unwrap();
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let claims: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(claims["result"], "trusted");
    }
);
