//! Talking to a SentinelOne tenant's Management API.

pub mod agents;
pub mod client;
pub mod error;
pub mod url;

pub use agents::{AgentPage, AgentRecord};
pub use client::{ApiResponse, TenantClient};
pub use error::TenantError;
pub use url::ConsoleUrl;
