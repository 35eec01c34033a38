//! s1trust: is this device registered and healthy in our SentinelOne tenant?
//!
//! The library holds everything the `s1trust` binary does; docs/development.md "Architecture"
//! maps the modules. The public modules are the contract the integration tests and
//! fuzzers use: [`app`] (every command's decisions), [`identity`] (this device and
//! its parsers), [`config`] (with its settings model), [`tenant`] (the API client and its
//! page parser), [`lookup`], [`posture`] (factors, the report, the snapshot),
//! [`token`], [`text`] (limits for tenant text), [`conntest`] and [`exit`]. The rest
//! is internal.

pub mod app;
mod atomic;
pub mod catalogue;
mod cli;
pub mod config;
pub mod conntest;
pub mod exit;
mod fs_trust;
pub mod identity;
pub mod install;
pub mod lookup;
pub mod posture;
pub mod progress;
pub mod publish;
pub mod reason;
#[cfg(unix)]
pub mod relay;
pub mod tenant;
pub mod text;
pub mod token;
pub mod verdict;
pub mod version;

pub use cli::main;

/// A scratch folder for unit tests whose files the trust rules must accept: not in
/// the sticky system temp folder (no sticky exception), but in the build folder.
#[cfg(test)]
pub(crate) fn test_scratch() -> tempfile::TempDir {
    let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-scratch");
    std::fs::create_dir_all(&base).expect("target/test-scratch can be created");
    tempfile::tempdir_in(base).expect("a scratch folder in target/test-scratch")
}
