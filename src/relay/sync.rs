//! A full sync of one tenant: every page of `GET /agents` (retired records included),
//! paced under the tenant's rate limit, into a new [`Inventory`] that replaces the old
//! one only when it is complete.

use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use super::config::{IntegrationSettings, SyncSettings};
use super::inventory::{Inventory, InventoryBuilder};
use super::metrics::SyncMetrics;
use crate::tenant::agents::{INCLUDE_RETIRED, PAGE_LIMIT, parse_agent_page};
use crate::tenant::client::{CaFile, Deadline, HttpSettings};
use crate::tenant::{TenantClient, TenantError};
use crate::token::TokenError;

/// Pages followed beyond what the first page's `totalItems` announces before a sync
/// gives up: a cursor that never ends must not page forever.
const EXTRA_PAGES: u64 = 5;

/// Why a sync did not produce an inventory.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The token file could not be read.
    #[error(transparent)]
    Token(#[from] TokenError),
    /// The tenant failed (already redacted by the client).
    #[error(transparent)]
    Tenant(#[from] TenantError),
    /// The pages do not add up to the inventory the tenant announced.
    #[error("incomplete listing: {0}")]
    Incomplete(String),
}

/// Spaces requests at least `1 / rate` seconds apart.
#[derive(Debug)]
pub struct Pacer {
    gap: Duration,
    next: Option<tokio::time::Instant>,
}

impl Pacer {
    /// At most `per_second` requests per second.
    pub fn new(per_second: f64) -> Self {
        Self {
            gap: Duration::from_secs_f64(1.0 / per_second),
            next: None,
        }
    }

    /// Waits until the next request may start.
    pub async fn wait(&mut self) {
        if let Some(next) = self.next {
            tokio::time::sleep_until(next).await;
        }
        self.next = Some(tokio::time::Instant::now() + self.gap);
    }
}

fn client(
    integration: &IntegrationSettings,
    settings: &SyncSettings,
) -> Result<TenantClient, SyncError> {
    let token = crate::token::read_system_token(&integration.token_file)?;
    // It decides which server gets the token: root's, like the configuration.
    let ca = (integration.ca_file.as_deref())
        .map(|path| CaFile::read(path, 0))
        .transpose()?;
    let http = HttpSettings {
        connect_timeout: Duration::from_secs(10).min(settings.request_timeout),
        request_timeout: settings.request_timeout,
        deadline: settings.timeout,
    };
    let deadline = Deadline::after(Instant::now(), settings.timeout);
    Ok(TenantClient::new(
        integration.url.clone(),
        Some(token),
        &http,
        ca.as_ref(),
        deadline,
    )?)
}

/// Lists every agent of `integration`'s tenant.
pub async fn sync_once(
    integration: &IntegrationSettings,
    settings: &SyncSettings,
    metrics: &SyncMetrics,
) -> Result<Inventory, SyncError> {
    let client = client(integration, settings)?;
    // The inventory is as old as its first page: a device's max_age counts from here.
    let started = OffsetDateTime::now_utc();
    let mut pacer = Pacer::new(settings.max_requests_per_second);
    let limit = PAGE_LIMIT.to_string();
    let mut builder = InventoryBuilder::default();
    let mut cursor: Option<String> = None;
    let mut announced: Option<u64> = None;
    let mut last_total: Option<u64> = None;
    let mut pages = 0u64;
    loop {
        let mut query = vec![("limit", limit.as_str())];
        query.extend(INCLUDE_RETIRED);
        if let Some(c) = cursor.as_deref() {
            query.push(("cursor", c));
        }
        pacer.wait().await;
        let response = client.get("/agents", &query).await?;
        let page = parse_agent_page(response.status, response.body)?;
        pages += 1;
        metrics.pages.fetch_add(1, Relaxed);
        for record in &page.records {
            builder.add(record);
        }
        let total = *announced.get_or_insert(page.total_items.unwrap_or(0));
        last_total = page.total_items.or(last_total);
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
        if pages > total.div_ceil(PAGE_LIMIT as u64) + EXTRA_PAGES {
            return Err(SyncError::Incomplete(format!(
                "the tenant announced {total} agents but still offers more after {pages} pages"
            )));
        }
    }
    let received = builder.len() as u64;
    if let Some(total) = last_total {
        check_count(total, received)?;
    }
    Ok(builder.finish(started))
}

/// Whether a listing that ran to its last cursor holds what the tenant announced on
/// its last page. Agents register and leave while a sync pages (a 100 000-agent
/// tenant takes seconds to list), so a small difference is churn, logged; a larger one
/// is a listing cut short, and the previous inventory stays.
fn check_count(total: u64, received: u64) -> Result<(), SyncError> {
    let tolerance = (total / 100).max(50);
    if total.abs_diff(received) > tolerance {
        return Err(SyncError::Incomplete(format!(
            "the tenant announced {total} agents, the pages held {received}"
        )));
    }
    if total != received {
        tracing::warn!(
            announced = total,
            received,
            "agents registered or left while the sync paged"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn churn_is_tolerated_a_cut_listing_is_not() {
        assert!(check_count(100_000, 99_990).is_ok());
        assert!(check_count(100_000, 100_700).is_ok());
        assert!(check_count(100_000, 99_000).is_ok());
        assert!(check_count(100_000, 98_999).is_err());
        assert!(check_count(3_000, 2_000).is_err());
        assert!(check_count(30, 0).is_ok());
        assert!(check_count(120, 20).is_err());
    }

    #[tokio::test]
    async fn the_pacer_spaces_requests() {
        let mut pacer = Pacer::new(50.0);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait().await;
        }
        assert!(start.elapsed() >= Duration::from_millis(80));
    }
}
