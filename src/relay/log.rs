//! JSON logs on stderr, one object per line, and the one debug event the relay
//! listens to besides: the tenant client's per-attempt status, so `/metrics` counts
//! every 429 the tenant sends, the ones the client retried past included.

use std::fmt::Debug;
use std::io::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt as _};

use super::metrics::Metrics;

/// The tenant client's module, whose `response` events carry each attempt's status.
const CLIENT_TARGET: &str = "s1trust::tenant::client";

tokio::task_local! {
    /// The integration (its index) a sync task works for, so a tenant event is
    /// counted against the right one.
    pub static INTEGRATION: usize;
}

/// Installs the JSON logger (`level` and above) and the 429 counter.
pub fn install(level: Level, metrics: Arc<Metrics>) {
    let subscriber = tracing_subscriber::registry().with(JsonLayer { level, metrics });
    // Only fails when a logger is already installed (a test that started twice).
    let _ = tracing::subscriber::set_global_default(subscriber);
}

struct JsonLayer {
    level: Level,
    metrics: Arc<Metrics>,
}

impl<S: Subscriber> Layer<S> for JsonLayer {
    fn enabled(&self, meta: &Metadata<'_>, _: Context<'_, S>) -> bool {
        *meta.level() <= self.level || meta.target() == CLIENT_TARGET
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        if meta.target() == CLIENT_TARGET && fields.0.get("status") == Some(&Value::from(429)) {
            // Outside a sync task there is no integration to count against.
            let _ = INTEGRATION.try_with(|i| {
                if let Some(m) = self.metrics.integrations.get(*i) {
                    m.tenant_rate_limited.fetch_add(1, Relaxed);
                }
            });
        }
        if *meta.level() > self.level {
            return;
        }
        let mut line = Map::new();
        let now = time::OffsetDateTime::now_utc();
        line.insert(
            "ts".into(),
            crate::tenant::relay::format_synced_at(now).into(),
        );
        line.insert("level".into(), meta.level().as_str().into());
        line.insert("target".into(), meta.target().into());
        line.extend(fields.0);
        let mut text = Value::Object(line).to_string();
        text.push('\n');
        // A log line that cannot be written has nowhere else to go.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }
}

/// An event's fields as JSON; the message is `msg`.
#[derive(Default)]
struct Fields(Map<String, Value>);

impl Fields {
    fn put(&mut self, field: &Field, value: Value) {
        let name = match field.name() {
            "message" => "msg",
            other => other,
        };
        self.0.insert(name.to_owned(), value);
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.put(field, format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, value.into());
    }
}
