//! Load generator for `s1trust-relay` (run by `benches/relay.sh`, which starts the emulated
//! tenant and the relay on loopback): keeps `--concurrency` lookups in flight over
//! keep-alive connections, as a fleet of devices would, and reports throughput and
//! latency percentiles as one JSON line.
//!
//!   relay_load --url http://127.0.0.1:PORT --secret-file FILE --keys FILE
//!              [--console URL] [--requests N] [--concurrency C]
//!
//! `--keys` holds one lookup per line: `uuid=<uuid>` or `serial=<serial>`, cycled in order.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

struct Args {
    agents: url::Url,
    secret: String,
    console: Option<String>,
    keys: Vec<(String, String)>,
    requests: usize,
    concurrency: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut secret_file: Option<PathBuf> = None;
    let mut keys_file: Option<PathBuf> = None;
    let mut console = None;
    let mut requests = 20_000;
    let mut concurrency = 64;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--secret-file" => secret_file = Some(value()?.into()),
            "--keys" => keys_file = Some(value()?.into()),
            "--console" => console = Some(value()?),
            "--requests" => requests = value()?.parse().map_err(|e| format!("--requests: {e}"))?,
            "--concurrency" => {
                concurrency = value()?
                    .parse()
                    .map_err(|e| format!("--concurrency: {e}"))?
            }
            // `cargo bench` passes --bench to every harness=false target.
            "--bench" => {}
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let read = |path: Option<PathBuf>, what: &str| {
        let path = path.ok_or(format!("{what} is required"))?;
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    };
    let keys = read(keys_file, "--keys")?
        .lines()
        .filter_map(|line| {
            let (kind, value) = line.split_once('=')?;
            let param = match kind {
                "uuid" => "uuids",
                "serial" => "serialNumber__contains",
                _ => return None,
            };
            Some((param.to_owned(), value.trim().to_owned()))
        })
        .collect::<Vec<_>>();
    if keys.is_empty() {
        return Err("--keys holds no uuid= or serial= line".into());
    }
    let url = url.ok_or("--url is required")?;
    let agents = url::Url::parse(&format!(
        "{}/web/api/v2.1/agents",
        url.trim_end_matches('/')
    ))
    .map_err(|e| format!("--url: {e}"))?;
    Ok(Args {
        agents,
        secret: read(secret_file, "--secret-file")?.trim().to_owned(),
        console,
        keys,
        requests,
        concurrency: concurrency.max(1),
    })
}

async fn one(
    client: &reqwest::Client,
    args: &Args,
    index: usize,
) -> (Duration, Result<u16, String>) {
    let (param, value) = &args.keys[index % args.keys.len()];
    let mut url = args.agents.clone();
    url.query_pairs_mut()
        .append_pair(param, value)
        .append_pair("limit", "100");
    let mut request = client.get(url).bearer_auth(&args.secret);
    if let Some(console) = &args.console {
        request = request.header("x-s1trust-console", console);
    }
    let started = Instant::now();
    let outcome = match request.send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            response
                .bytes()
                .await
                .map(|_| status)
                .map_err(|e| e.to_string())
        }
        Err(e) => Err(e.to_string()),
    };
    (started.elapsed(), outcome)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1000.0
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("relay_load: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // reqwest is built without a default TLS provider; the relay here is plain HTTP,
    // but the client still wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()
        .expect("an HTTP client");
    let started = Instant::now();
    let results = runtime.block_on(async {
        let mut next = 0;
        let mut in_flight = FuturesUnordered::new();
        let mut results = Vec::with_capacity(args.requests);
        while next < args.requests.min(args.concurrency) {
            in_flight.push(one(&client, &args, next));
            next += 1;
        }
        while let Some(result) = in_flight.next().await {
            results.push(result);
            if next < args.requests {
                in_flight.push(one(&client, &args, next));
                next += 1;
            }
        }
        results
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<Duration> = results.iter().map(|(d, _)| *d).collect();
    latencies.sort();
    let ok = results.iter().filter(|(_, r)| matches!(r, Ok(200))).count();
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(_, r)| match r {
            Ok(200) => None,
            Ok(status) => Some(format!("HTTP {status}")),
            Err(e) => Some(e.clone()),
        })
        .take(3)
        .collect();
    println!(
        "{}",
        serde_json::json!({
            "requests": results.len(),
            "ok": ok,
            "concurrency": args.concurrency,
            "seconds": elapsed,
            "perSecond": results.len() as f64 / elapsed,
            "p50Ms": percentile(&latencies, 0.50),
            "p99Ms": percentile(&latencies, 0.99),
            "maxMs": percentile(&latencies, 1.0),
            "firstFailures": failed,
        })
    );
    if ok != results.len() {
        std::process::exit(1);
    }
}
