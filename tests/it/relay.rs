//! `s1trust-relay` against the emulated tenant: the sync (pages, not devices, cost
//! requests), the lookups devices make (exact serials only, UUIDs in any spelling,
//! retired duplicates included), who may ask (device certificates from the named CA,
//! bearer secrets), per-client limits, a tenant that is down or dies mid-sync, the
//! token kept out of every answer, log line and metric, `check-config`, and a
//! graceful stop. The relay runs as its own process, as in production.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DnType,
    ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevokedCertParams, SerialNumber,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use s1_emulator::{EmulatorConfig, Fault, FaultKind, TokenSpec, generate_agents};
use serde_json::{Value, json};

use crate::helpers::{
    TOKEN, Tenant, path_arg, root_test, scratch, unused_loopback_port, write_private,
};

const AGENTS: &str = "/web/api/v2.1/agents";
const RETIRED: &str = "isDecommissioned=true,false&isUninstalled=true,false";
const SECRET: &str = "relay-secret-4f9a1c7e2b";

/// A CA and a certificate it issued, as PEM, and the CA's list revoking that certificate.
struct Issued {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
    revoked_pem: String,
}

fn issue(ca_name: &str, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> Issued {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, names[0]);
    leaf.extended_key_usages = vec![purpose];
    leaf.serial_number = Some(SerialNumber::from(4242u64));
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let revoked = CertificateRevocationListParams {
        this_update: now - time::Duration::minutes(1),
        next_update: now + time::Duration::days(1),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(4242u64),
            revocation_time: now - time::Duration::minutes(1),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    Issued {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        revoked_pem: revoked.pem().unwrap(),
    }
}

/// Who the relay is and how it lets devices in.
#[derive(Clone, Copy, PartialEq)]
enum Access {
    /// Device certificates from the relay's device CA.
    MutualTls,
    /// `Authorization: Bearer` [`SECRET`], over TLS without client certificates.
    Secret,
}

/// A relay process and what a device needs to reach it.
struct Relay {
    child: Child,
    log: Arc<Mutex<Vec<String>>>,
    devices: SocketAddr,
    ops: SocketAddr,
    server: Issued,
    device: Issued,
    _dir: tempfile::TempDir,
}

struct Setup<'a> {
    tenant_url: String,
    tenant_ca: Option<&'a Path>,
    token_file: &'a Path,
    access: Access,
    extra_server: &'a str,
    interval: &'a str,
}

impl<'a> Setup<'a> {
    fn for_tenant(tenant: &'a Tenant) -> Self {
        Self {
            tenant_url: tenant.emulator.url(),
            tenant_ca: Some(&tenant.ca_file),
            token_file: &tenant.token_file,
            access: Access::MutualTls,
            extra_server: "",
            interval: "1h",
        }
    }
}

fn relay_bin() -> &'static str {
    env!("CARGO_BIN_EXE_s1trust-relay")
}

fn write_config(dir: &Path, setup: &Setup<'_>, server: &Issued, device: &Issued) -> PathBuf {
    std::fs::write(dir.join("server.pem"), &server.cert_pem).unwrap();
    write_private(&dir.join("server.key"), &server.key_pem);
    std::fs::write(dir.join("devices-ca.pem"), &device.ca_pem).unwrap();
    std::fs::write(dir.join("devices.crl"), &device.revoked_pem).unwrap();
    write_private(&dir.join("device.secret"), &format!("{SECRET}\n"));
    let access = match setup.access {
        Access::MutualTls => "client_ca_file = \"devices-ca.pem\"",
        Access::Secret => "secret_files = [\"device.secret\"]",
    };
    let ca = setup
        .tenant_ca
        .map(|ca| format!("ca_file = \"{}\"\n", path_arg(ca)))
        .unwrap_or_default();
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nops_listen = \"127.0.0.1:0\"\ncert_file = \"server.pem\"\nkey_file = \"server.key\"\n{access}\n{}\n\n[sync]\ninterval = \"{}\"\nmax_requests_per_second = 1000\n\n[[integration]]\nname = \"corp\"\nurl = \"{}\"\ntoken_file = \"{}\"\n{ca}",
        setup.extra_server,
        setup.interval,
        setup.tenant_url,
        path_arg(setup.token_file),
    );
    let config = dir.join("relay.toml");
    std::fs::write(&config, text).unwrap();
    config
}

impl Relay {
    fn start(setup: Setup<'_>) -> Self {
        let dir = scratch();
        let server = issue(
            "relay test CA",
            &["localhost", "127.0.0.1"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let device = issue(
            "device CA",
            &["device-1"],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        let config = write_config(dir.path(), &setup, &server, &device);
        let mut child = Command::new(relay_bin())
            .args(["--config", &path_arg(&config), "run"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the relay starts");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("\"listening\"") {
                    let _ = tx.send(line.clone());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let listening = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("the relay never listened: {:?}", log.lock().unwrap()));
        let listening: Value = serde_json::from_str(&listening).unwrap();
        let addr = |key: &str| listening[key].as_str().unwrap().parse().unwrap();
        Self {
            devices: addr("devices"),
            ops: addr("ops"),
            child,
            log,
            server,
            device,
            _dir: dir,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    fn ops_get(&self, path: &str) -> (u16, String) {
        let client = self.client(None);
        let url = format!("http://{}{path}", self.ops);
        block_on(async {
            let response = client.get(url).send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        })
    }

    fn wait_ready(&self) {
        let until = Instant::now() + Duration::from_secs(30);
        while self.ops_get("/readyz").0 != 200 {
            assert!(Instant::now() < until, "never ready:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn metric(&self, line_start: &str) -> f64 {
        let (_, text) = self.ops_get("/metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {line_start} in\n{text}"))
    }

    /// A TLS client trusting the relay; presenting `identity` (PEM cert, key) when given.
    fn client(&self, identity: Option<(&str, &str)>) -> reqwest::Client {
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(self.server.ca_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
        let config = match identity {
            Some((cert, key)) => {
                let chain = CertificateDer::pem_slice_iter(cert.as_bytes())
                    .collect::<Result<Vec<_>, _>>()
                    .unwrap();
                builder
                    .with_client_auth_cert(
                        chain,
                        PrivateKeyDer::from_pem_slice(key.as_bytes()).unwrap(),
                    )
                    .unwrap()
            }
            None => builder.with_no_client_auth(),
        };
        reqwest::Client::builder()
            .use_preconfigured_tls(config)
            .build()
            .unwrap()
    }

    fn device_client(&self) -> reqwest::Client {
        self.client(Some((&self.device.cert_pem, &self.device.key_pem)))
    }

    /// `GET /web/api/v2.1/agents?<query>` as `client`, with these headers.
    fn ask(
        &self,
        client: &reqwest::Client,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Answer, reqwest::Error> {
        let url = format!("https://localhost:{}{AGENTS}?{query}", self.devices.port());
        let mut request = client.get(url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        block_on(async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let headers = format!("{:?}", response.headers());
            let synced_at = response
                .headers()
                .get("x-s1trust-synced-at")
                .map(|v| v.to_str().unwrap().to_owned());
            let retry_after = response
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            let text = response.text().await?;
            Ok(Answer {
                status,
                body: serde_json::from_str(&text).unwrap_or(Value::Null),
                text,
                headers,
                synced_at,
                retry_after,
            })
        })
    }

    fn lookup(&self, query: &str) -> Answer {
        self.ask(&self.device_client(), query, &[])
            .expect("the relay answers")
    }

    /// SIGTERM, then the exit status (within seconds).
    fn stop(&mut self) -> ExitStatus {
        let pid = self.child.id() as i32;
        // SAFETY: signals our own child, which has not been reaped yet.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let until = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < until,
                "no exit after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Answer {
    status: u16,
    body: Value,
    text: String,
    headers: String,
    synced_at: Option<String>,
    retry_after: Option<String>,
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn generated_tenant(n: usize) -> (Tenant, Vec<Value>) {
    let agents = generate_agents(n, 7, time::OffsetDateTime::now_utc());
    let tenant = Tenant::with_config(EmulatorConfig {
        agents: agents.clone(),
        tokens: vec![TokenSpec::viewer(TOKEN)],
        ..EmulatorConfig::default()
    });
    (tenant, agents)
}

fn text<'v>(record: &'v Value, key: &str) -> &'v str {
    record[key].as_str().unwrap()
}

root_test!(
    /// 10 000 agents cost 10 tenant requests; devices then get exact answers.
    fn a_sync_pages_the_tenant_and_lookups_are_exact() {
        let (tenant, agents) = generated_tenant(10_000);
        let mut relay = Relay::start(Setup::for_tenant(&tenant));
        relay.wait_ready();
        let listing = tenant.agent_requests();
        assert_eq!(listing.len(), 10, "{listing:?}");
        assert!(
            listing.iter().all(|r| r.query.contains("limit=1000")
                && r.query.contains("isDecommissioned=true%2Cfalse"))
        );
        assert_eq!(
            relay.metric("s1trust_relay_agents{integration=\"corp\"}"),
            10_000.0
        );
        assert_eq!(
            relay.metric("s1trust_relay_tenant_pages_total{integration=\"corp\"}"),
            10.0
        );

        let mut answers = Vec::new();
        // A UUID in the dashed, upper-case spelling a macOS agent prints.
        let agent = &agents[1234];
        let uuid = text(agent, "uuid").to_uppercase();
        let dashed = format!(
            "{}-{}-{}-{}-{}",
            &uuid[..8],
            &uuid[8..12],
            &uuid[12..16],
            &uuid[16..20],
            &uuid[20..]
        );
        let by_uuid = relay.lookup(&format!("uuids={dashed},{uuid}&limit=100&{RETIRED}"));
        assert_eq!(by_uuid.status, 200, "{}", by_uuid.text);
        assert_eq!(
            by_uuid.body["pagination"],
            json!({"totalItems": 1, "nextCursor": null})
        );
        assert_eq!(by_uuid.body["data"][0]["id"], agent["id"]);
        assert!(
            by_uuid.body["data"][0]
                .get("lastLoggedInUserName")
                .is_none(),
            "only the fields devices read"
        );
        assert!(
            by_uuid
                .synced_at
                .as_deref()
                .is_some_and(|s| s1trust::tenant::relay::parse_synced_at(s).is_some())
        );
        let single = relay.lookup(&format!("uuid={}", text(agent, "uuid")));
        assert_eq!(single.body["data"][0]["id"], agent["id"]);

        // Record 49 is a decommissioned duplicate of record 48: both come back.
        let serial = text(&agents[48], "serialNumber").to_lowercase();
        let both = relay.lookup(&format!(
            "serialNumber__contains={serial}&limit=1000&{RETIRED}"
        ));
        let ids: Vec<&Value> = both.body["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| &r["id"])
            .collect();
        assert_eq!(ids, [&agents[48]["id"], &agents[49]["id"]], "{}", both.text);
        assert_eq!(both.body["data"][1]["isDecommissioned"], json!(true));

        // Never a substring list, never a placeholder's crowd.
        let part = relay.lookup(&format!(
            "serialNumber__contains={}&limit=1000&{RETIRED}",
            &serial[..5]
        ));
        assert_eq!(
            part.body,
            json!({"data": [], "pagination": {"totalItems": 0, "nextCursor": null}})
        );
        let placeholder = relay.lookup(&format!(
            "serialNumber__contains=Default%20string&{RETIRED}"
        ));
        assert_eq!(placeholder.body["data"], json!([]));
        assert!(agents.iter().any(|a| a["serialNumber"] == "Default string"));

        // Naming the tenant: its console URL, however spelt; another tenant is unknown.
        let console = format!("{}/", tenant.emulator.url());
        let named = relay
            .ask(
                &relay.device_client(),
                &format!("serialNumber__contains={serial}"),
                &[("x-s1trust-console", &console)],
            )
            .unwrap();
        assert_eq!(named.body["pagination"]["totalItems"], json!(2));
        let other = relay
            .ask(
                &relay.device_client(),
                &format!("serialNumber__contains={serial}"),
                &[("x-s1trust-console", "https://other.sentinelone.net")],
            )
            .unwrap();
        assert_eq!(other.status, 404);
        assert_eq!(other.body["errors"][0]["code"], json!(4040010));

        // Nothing else of the API.
        let bad = relay.lookup("computerName__contains=mac");
        assert_eq!(
            (bad.status, bad.body["errors"][0]["code"].clone()),
            (400, json!(4000010))
        );
        let several = relay.lookup("serialNumber__contains=AB1234,CD5678");
        assert_eq!(several.status, 400);

        answers.extend([
            by_uuid,
            single,
            both,
            part,
            placeholder,
            named,
            other,
            bad,
            several,
        ]);
        assert_eq!(
            relay.metric("s1trust_relay_lookups_total{outcome=\"found\"}"),
            4.0
        );
        let (_, metrics) = relay.ops_get("/metrics");
        let status = relay.stop();
        assert!(status.success(), "{status:?}");
        for answer in &answers {
            assert!(!answer.text.contains(TOKEN) && !answer.headers.contains(TOKEN));
        }
        assert!(!metrics.contains(TOKEN));
        let log = relay.log();
        assert!(!log.contains(TOKEN), "{log}");
        assert!(
            log.lines()
                .all(|l| serde_json::from_str::<Value>(l).is_ok()),
            "JSON lines only:\n{log}"
        );
        assert!(log.contains("shutting down"), "{log}");
    }
);

root_test!(
    /// Mutual TLS: no certificate, or one from another CA, never gets a TLS session.
    fn devices_need_a_certificate_from_the_named_ca() {
        let (tenant, agents) = generated_tenant(20);
        let mut relay = Relay::start(Setup::for_tenant(&tenant));
        relay.wait_ready();
        let query = format!(
            "serialNumber__contains={}",
            text(&agents[0], "serialNumber")
        );
        assert_eq!(relay.lookup(&query).status, 200);
        assert!(
            relay.ask(&relay.client(None), &query, &[]).is_err(),
            "no certificate"
        );
        let stranger = issue(
            "another CA",
            &["device-2"],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        let wrong = relay.client(Some((&stranger.cert_pem, &stranger.key_pem)));
        assert!(
            relay.ask(&wrong, &query, &[]).is_err(),
            "a certificate from another CA"
        );
        assert!(relay.log().contains("TLS handshake refused"));
        assert!(relay.stop().success());

        // The same device once its certificate is on the CA's revocation list.
        let revoking = Relay::start(Setup {
            extra_server: "client_crl_files = [\"devices.crl\"]",
            ..Setup::for_tenant(&tenant)
        });
        revoking.wait_ready();
        assert!(
            revoking
                .ask(&revoking.device_client(), &query, &[])
                .is_err(),
            "a revoked certificate"
        );
        assert!(revoking.log().contains("Revoked"), "{}", revoking.log());
    }
);

root_test!(
    /// Bearer secrets: a missing or wrong one is 401 and costs the client's rate budget
    /// nothing; over the per-client rate, 429.
    /// (And the tenant's own 429, retried by the client, is counted.)
    fn bearer_secrets_and_rate_limits() {
        let (tenant, agents) = generated_tenant(20);
        tenant.emulator.add_fault(
            Fault::new(FaultKind::Status {
                code: 429,
                retry_after: Some("1".into()),
            })
            .path(AGENTS)
            .times(1),
        );
        let mut relay = Relay::start(Setup {
            access: Access::Secret,
            extra_server: "per_client_rate = 0.2\nper_client_burst = 4",
            ..Setup::for_tenant(&tenant)
        });
        relay.wait_ready();
        assert_eq!(
            relay.metric("s1trust_relay_tenant_rate_limited_total{integration=\"corp\"}"),
            1.0
        );
        assert_eq!(tenant.agent_requests().len(), 2);
        let client = relay.client(None);
        let query = format!(
            "serialNumber__contains={}",
            text(&agents[3], "serialNumber")
        );
        let bearer = format!("Bearer {SECRET}");
        let ask = |headers: &[(&str, &str)]| relay.ask(&client, &query, headers).unwrap();
        let missing = ask(&[]);
        assert_eq!(
            (missing.status, missing.body["errors"][0]["code"].clone()),
            (401, json!(4010010))
        );
        assert_eq!(
            ask(&[("authorization", "Bearer not-the-secret")]).status,
            401
        );
        assert_eq!(ask(&[("authorization", TOKEN)]).status, 401);
        // The refused requests spent none of the client's burst of 4.
        for _ in 0..4 {
            let good = ask(&[("authorization", &bearer)]);
            assert_eq!(good.body["data"][0]["id"], agents[3]["id"]);
        }
        let limited = ask(&[("authorization", &bearer)]);
        assert_eq!(limited.status, 429);
        let wait: u64 = limited.retry_after.as_deref().unwrap().parse().unwrap();
        assert!((1..=5).contains(&wait), "{wait}");
        assert_eq!(
            relay.metric("s1trust_relay_lookups_total{outcome=\"unauthorized\"}"),
            3.0
        );
        assert_eq!(
            relay.metric("s1trust_relay_lookups_total{outcome=\"rate_limited\"}"),
            1.0
        );
        assert!(relay.stop().success());
    }
);

root_test!(
    /// A tenant that cannot be reached at start: alive, not ready, and 503 to devices.
    fn tenant_down_at_start_means_not_ready() {
        let (tenant, _) = generated_tenant(5);
        let mut relay = Relay::start(Setup {
            tenant_url: format!("https://127.0.0.1:{}", unused_loopback_port()),
            ..Setup::for_tenant(&tenant)
        });
        let until = Instant::now() + Duration::from_secs(20);
        while !relay.log().contains("sync failed") {
            assert!(Instant::now() < until, "{}", relay.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(relay.ops_get("/healthz").0, 200);
        assert_eq!(relay.ops_get("/readyz").0, 503);
        let answer = relay.lookup("serialNumber__contains=C02ABCDEFGH");
        assert_eq!(answer.status, 503);
        assert_eq!(answer.retry_after.as_deref(), Some("30"));
        assert!(answer.synced_at.is_none());
        assert_eq!(
            relay.metric("s1trust_relay_sync_last_result{integration=\"corp\"}"),
            0.0
        );
        assert!(relay.stop().success());
    }
);

root_test!(
    /// A sync that dies after its first of three pages leaves the previous inventory in service,
    /// and a tenant that echoes the token in its error never gets it into the log.
    fn a_sync_that_dies_half_way_keeps_the_previous_inventory() {
        let (tenant, agents) = generated_tenant(3_000);
        let mut relay = Relay::start(Setup {
            interval: "1s",
            ..Setup::for_tenant(&tenant)
        });
        relay.wait_ready();
        let query = format!(
            "serialNumber__contains={}&{RETIRED}",
            text(&agents[2_500], "serialNumber")
        );
        let before = relay.lookup(&query);
        assert_eq!(before.body["pagination"]["totalItems"], json!(1));
        // The next sync gets its first page, then errors that echo the token.
        tenant.emulator.add_fault(
            Fault::new(FaultKind::ErrorDetail {
                status: 400,
                detail: "bad token {token}".into(),
            })
            .path(AGENTS)
            .after(1),
        );
        let until = Instant::now() + Duration::from_secs(20);
        while relay.metric("s1trust_relay_syncs_failed_total{integration=\"corp\"}") < 2.0 {
            assert!(Instant::now() < until, "{}", relay.log());
            std::thread::sleep(Duration::from_millis(100));
        }
        let after = relay.lookup(&query);
        assert_eq!(after.synced_at, before.synced_at);
        assert_eq!(after.text, before.text);
        assert_eq!(
            relay.metric("s1trust_relay_agents{integration=\"corp\"}"),
            3_000.0
        );
        let log = relay.log();
        assert!(
            log.contains("sync failed; the previous inventory stays"),
            "{log}"
        );
        assert!(!log.contains(TOKEN), "{log}");
        assert!(relay.stop().success());
    }
);

root_test!(
    /// `check-config`: ok, or each problem on one line with its line number.
    fn check_config_names_problems_by_line() {
        let tenant = Tenant::start(Vec::new());
        let dir = scratch();
        let server = issue(
            "relay CA",
            &["localhost"],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let device = issue("device CA", &["d"], ExtendedKeyUsagePurpose::ClientAuth);
        let config = write_config(dir.path(), &Setup::for_tenant(&tenant), &server, &device);
        let check = |path: &Path| {
            let out = Command::new(relay_bin())
                .args(["check-config", "--config", &path_arg(path)])
                .output()
                .unwrap();
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stdout).into_owned()
                    + &String::from_utf8_lossy(&out.stderr),
            )
        };
        let (code, out) = check(&config);
        assert_eq!(code, Some(0), "{out}");
        assert!(out.contains("ok (1 integration(s))"), "{out}");

        let text = std::fs::read_to_string(&config).unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, text.replace("[sync]\n", "[sync]\nevery = \"5m\"\n")).unwrap();
        let line = text.lines().position(|l| l == "[sync]").unwrap() + 2;
        let (code, out) = check(&bad);
        assert_eq!(code, Some(2), "{out}");
        assert_eq!(
            out.trim(),
            format!(
                "s1trust-relay: {}:{line}: unknown key `every` in [sync] (allowed: interval, max_requests_per_second, request_timeout, timeout)",
                bad.display()
            )
        );

        // What decides where the token goes, and who is believed, must be root's alone.
        for file in ["relay.toml", "devices-ca.pem", "server.pem"] {
            let path = dir.path().join(file);
            crate::helpers::set_mode(&path, 0o664);
            let (code, out) = check(&config);
            assert_eq!(code, Some(2), "{file}: {out}");
            assert!(
                out.contains("writable by its group or by others"),
                "{file}: {out}"
            );
            crate::helpers::set_mode(&path, 0o644);
        }
        crate::helpers::set_mode(&dir.path().join("server.key"), 0o640);
        let (code, out) = check(&config);
        assert_eq!(code, Some(2), "{out}");
        crate::helpers::set_mode(&dir.path().join("server.key"), 0o600);
        assert_eq!(check(&config).0, Some(0));

        crate::helpers::set_mode(&tenant.token_file, 0o644);
        let (code, out) = check(&config);
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains("chmod 600"), "{out}");
        assert!(!out.contains(TOKEN));
    }
);

/// The annotated example in packaging/ is a configuration the relay accepts.
#[test]
fn the_example_configuration_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/relay/relay.example.toml");
    let config = s1trust::relay::config::parse(&std::fs::read_to_string(path).unwrap())
        .unwrap_or_else(|problems| panic!("{problems:?}"));
    assert_eq!(config.server.listen.to_string(), "0.0.0.0:8443");
    assert_eq!(config.sync.interval, Duration::from_secs(300));
    assert_eq!(config.integrations.len(), 1);
}

mod devices;
