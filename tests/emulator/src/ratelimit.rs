//! Per-token request limit with fixed one-second windows: simple, and
//! deterministic enough for tests to provoke a 429 on purpose.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(1);

/// Counts requests per token (requests without a token share one bucket).
pub(crate) struct RateLimiter {
    per_sec: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub(crate) fn new(per_sec: u32) -> RateLimiter {
        RateLimiter {
            per_sec,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Records one request; `false` when it exceeds the limit.
    pub(crate) fn allow(&self, token: Option<&str>, now: Instant) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        let entry = windows
            .entry(token.unwrap_or("").to_owned())
            .or_insert((now, 0));
        if now.duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        entry.1 <= self.per_sec
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_per_token() {
        let rl = RateLimiter::new(2);
        let t0 = Instant::now();
        assert!(rl.allow(Some("a"), t0));
        assert!(rl.allow(Some("a"), t0));
        assert!(!rl.allow(Some("a"), t0));
        assert!(rl.allow(Some("b"), t0));
        assert!(rl.allow(Some("a"), t0 + WINDOW));
    }
}
