//! Counters and gauges, rendered in the Prometheus text format for `/metrics`. They
//! hold numbers and integration names only: no token, secret, serial or UUID.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// How one device request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 200 with at least one record.
    Found,
    /// 200 with `data: []`.
    NotFound,
    /// 400 or 404: not a lookup the relay answers.
    BadRequest,
    /// 401.
    Unauthorized,
    /// 429.
    RateLimited,
    /// 503: no complete inventory yet.
    NotReady,
}

const OUTCOMES: [(Outcome, &str); 6] = [
    (Outcome::Found, "found"),
    (Outcome::NotFound, "not_found"),
    (Outcome::BadRequest, "bad_request"),
    (Outcome::Unauthorized, "unauthorized"),
    (Outcome::RateLimited, "rate_limited"),
    (Outcome::NotReady, "not_ready"),
];

/// Upper bounds (seconds) of the request latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

/// Everything `/metrics` shows.
#[derive(Debug)]
pub struct Metrics {
    lookups: [AtomicU64; OUTCOMES.len()],
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_nanos: AtomicU64,
    /// One per integration, in configuration order.
    pub integrations: Vec<SyncMetrics>,
}

/// One integration's sync figures.
#[derive(Debug, Default)]
pub struct SyncMetrics {
    /// The integration's name (a label).
    pub name: String,
    /// Records in the inventory being served.
    pub agents: AtomicU64,
    /// Pages received from the tenant, ever.
    pub pages: AtomicU64,
    /// Tenant answers with status 429, retried ones included.
    pub tenant_rate_limited: AtomicU64,
    /// Complete syncs.
    pub syncs_ok: AtomicU64,
    /// Syncs that failed (the previous inventory stayed).
    pub syncs_failed: AtomicU64,
    /// The last sync's duration, milliseconds.
    pub last_duration_ms: AtomicU64,
    /// 1 when the last sync completed, 0 when it failed, -1 before the first ended.
    pub last_result: AtomicI64,
    /// Unix time of the last complete sync (0: none yet).
    pub last_success_unix: AtomicI64,
}

impl Metrics {
    /// Metrics for integrations named `names`.
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        Self {
            lookups: Default::default(),
            buckets: Default::default(),
            latency_count: AtomicU64::new(0),
            latency_sum_nanos: AtomicU64::new(0),
            integrations: names
                .into_iter()
                .map(|name| SyncMetrics {
                    name,
                    last_result: AtomicI64::new(-1),
                    ..SyncMetrics::default()
                })
                .collect(),
        }
    }

    /// Counts one device request.
    pub fn observe(&self, outcome: Outcome, took: Duration) {
        if let Some(i) = OUTCOMES.iter().position(|(o, _)| *o == outcome) {
            self.lookups[i].fetch_add(1, Relaxed);
        }
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|bound| secs <= *bound) {
            self.buckets[i].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        self.latency_sum_nanos.fetch_add(nanos, Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.render_syncs(&mut out);
        family(
            &mut out,
            "s1trust_relay_lookups_total",
            "counter",
            "Device requests by outcome.",
        );
        for ((_, label), count) in OUTCOMES.iter().zip(&self.lookups) {
            let _ = writeln!(
                out,
                "s1trust_relay_lookups_total{{outcome=\"{label}\"}} {}",
                count.load(Relaxed)
            );
        }
        let name = "s1trust_relay_request_duration_seconds";
        family(
            &mut out,
            name,
            "histogram",
            "Time to answer a device request.",
        );
        let mut cumulative = 0;
        for (bound, count) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += count.load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let total = self.latency_count.load(Relaxed);
        let sum = self.latency_sum_nanos.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {total}");
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {total}");
        out
    }

    fn render_syncs(&self, out: &mut String) {
        type Read = fn(&SyncMetrics) -> String;
        let gauges: [(&str, &str, &str, Read); 8] = [
            (
                "s1trust_relay_agents",
                "gauge",
                "Agent records held.",
                |m| m.agents.load(Relaxed).to_string(),
            ),
            (
                "s1trust_relay_sync_duration_seconds",
                "gauge",
                "Duration of the last sync.",
                |m| (m.last_duration_ms.load(Relaxed) as f64 / 1000.0).to_string(),
            ),
            (
                "s1trust_relay_sync_last_result",
                "gauge",
                "1: the last sync completed; 0: it failed and the previous inventory is served; -1: none ended yet.",
                |m| m.last_result.load(Relaxed).to_string(),
            ),
            (
                "s1trust_relay_sync_last_success_timestamp_seconds",
                "gauge",
                "Unix time of the last complete sync (0: none).",
                |m| m.last_success_unix.load(Relaxed).to_string(),
            ),
            (
                "s1trust_relay_syncs_completed_total",
                "counter",
                "Complete syncs.",
                |m| m.syncs_ok.load(Relaxed).to_string(),
            ),
            (
                "s1trust_relay_syncs_failed_total",
                "counter",
                "Failed syncs.",
                |m| m.syncs_failed.load(Relaxed).to_string(),
            ),
            (
                "s1trust_relay_tenant_pages_total",
                "counter",
                "Agent pages received from the tenant.",
                |m| m.pages.load(Relaxed).to_string(),
            ),
            (
                "s1trust_relay_tenant_rate_limited_total",
                "counter",
                "Tenant answers with status 429 (retried ones included).",
                |m| m.tenant_rate_limited.load(Relaxed).to_string(),
            ),
        ];
        for (name, kind, help, read) in gauges {
            family(out, name, kind, help);
            for m in &self.integrations {
                let _ = writeln!(
                    out,
                    "{name}{{integration=\"{}\"}} {}",
                    escape(&m.name),
                    read(m)
                );
            }
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A label value as the text format needs it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family() {
        let metrics = Metrics::new(["corp \"eu\"".to_owned()]);
        metrics.integrations[0].agents.store(42, Relaxed);
        metrics.observe(Outcome::Found, Duration::from_micros(300));
        metrics.observe(Outcome::RateLimited, Duration::from_secs(2));
        let text = metrics.render();
        assert!(
            text.contains("s1trust_relay_agents{integration=\"corp \\\"eu\\\"\"} 42"),
            "{text}"
        );
        assert!(text.contains("s1trust_relay_lookups_total{outcome=\"found\"} 1"));
        assert!(text.contains("s1trust_relay_lookups_total{outcome=\"rate_limited\"} 1"));
        assert!(text.contains("s1trust_relay_request_duration_seconds_bucket{le=\"0.0005\"} 1"));
        assert!(text.contains("s1trust_relay_request_duration_seconds_bucket{le=\"+Inf\"} 2"));
        assert!(
            text.contains("s1trust_relay_sync_last_result{integration=\"corp \\\"eu\\\"\"} -1")
        );
    }
}
