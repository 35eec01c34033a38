//! Talking to a SentinelOne tenant's Management API.

pub mod agents;
pub mod client;
pub mod error;
pub mod json;
pub mod relay;
pub mod url;

pub use agents::{AgentPage, AgentRecord};
pub use client::{ApiResponse, CaFile, Deadline, TenantClient};
pub use error::TenantError;
pub use url::ConsoleUrl;
