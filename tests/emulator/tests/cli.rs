//! The binary: help text, refusal messages, and a real run on loopback.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_s1-emulator");

fn emulator() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("S1_EMULATOR_TOKEN");
    cmd
}

/// Kills the child (by its own handle) even when an assertion fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn help_documents_every_option_and_the_faults_format() {
    let out = emulator().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "--agents",
        "--listen",
        "--ca-out",
        "--token",
        "--tokens-file",
        "--plain-http",
        "--rate-limit",
        "--faults",
        "--url-file",
        "S1_EMULATOR_TOKEN",
        "truncated_json",
        "retry_after",
    ] {
        assert!(help.contains(needle), "help lacks {needle}");
    }
}

#[test]
fn refuses_without_token_and_off_loopback() {
    let out = emulator().output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no API token"));

    let out = emulator()
        .args(["--token", "t", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
}

#[test]
fn serves_and_announces_url() {
    let dir = tempfile::tempdir().unwrap();
    let url_file = dir.path().join("url");
    let child = emulator()
        .args(["--plain-http", "--url-file"])
        .arg(&url_file)
        .env("S1_EMULATOR_TOKEN", "env-token")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let mut first_line = String::new();
    BufReader::new(running.0.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let url = first_line.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(std::fs::read_to_string(&url_file).unwrap().trim(), url);

    let addr = url.trim_start_matches("http://");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(
        s,
        "GET /web/api/v2.1/agents?countOnly=true HTTP/1.1\r\nHost: localhost\r\n\
         Authorization: ApiToken env-token\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""totalItems":12"#), "{reply}");
}
