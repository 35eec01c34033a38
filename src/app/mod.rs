//! The application layer: every decision a command makes, as plain functions over
//! library values. `cli/` turns arguments into an [`Options`] once, calls one
//! function here and renders what comes back; nothing here prints or knows clap.
//!
//! - [`check`]: snapshot or live, and the trust rule for unprivileged callers.
//! - [`refresh`]: evaluate, replace or keep the snapshot, record the attempt.
//! - [`doctor`]: the support checklist, as data.
//! - [`admin`]: `integration add | edit | remove | list | test` on the config file.
//! - [`lookup`]: one device's record by serial or UUID.
//! - [`verdict`]: signed verdicts (`check --jwt`, `key`), and [`attest`]'s socket signer.
//!
//! `identity` and `config validate` call the library directly (`identity::read_identity`,
//! `config::load`): each reads one thing and shows it, with no decision to make here.
//! - `live`: a live evaluation, which `check` (for root), `refresh` and `doctor` share.
//! - `client`: the one place a tenant client is built; `device`: the one
//!   identity read per command.

pub mod admin;
#[cfg(unix)]
pub mod attest;
pub mod check;
pub mod checklist;
mod client;
mod device;
pub mod doctor;
mod error;
mod live;
pub mod lookup;
mod options;
pub mod refresh;
pub mod verdict;

pub use client::{ConnectedClient, Connection, connect};
pub use device::Device;
pub use error::Error;
pub use options::{LoadedConfig, Missing, Options, load_any, load_config};

/// A single-threaded runtime: commands make a handful of requests at most.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Output)
}
