//! The integration tests, as one test binary (`cargo test --test it`), so the library
//! and the helpers are linked once. One module per command or area; shared set-up
//! lives in [`helpers`].
//!
//! Every test talks only to loopback (the emulated tenant in `tests/emulator`) and
//! writes only to temporary folders; the Linux identity tests change `/sys` and `/opt`
//! only inside a private mount namespace.

mod helpers;

#[cfg(target_os = "linux")]
mod agent_cli_faults;
#[cfg(target_os = "linux")]
mod attacks;
mod bad_input;
mod binding;
mod check;
#[cfg(unix)]
mod crash_loop;
mod fault_matrix;
mod fleet;
#[cfg(target_os = "linux")]
mod identity_linux;
mod identity_smbios;
mod integration_admin;
mod integration_test;
mod lookup;
mod packaging;
mod sentinelctl_real;
mod smbios_tables;
#[cfg(target_os = "linux")]
mod verdict;
