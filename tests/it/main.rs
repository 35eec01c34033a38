//! The integration tests, as one test binary (`cargo test --test it`), so the library
//! and the helpers are linked once. One module per command or area; shared set-up
//! lives in the test kit, [`helpers`]. Modules that need root, Unix file modes or
//! Linux namespaces are built only where those exist.
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
#[cfg(unix)]
mod binding;
#[cfg(unix)]
mod check;
#[cfg(unix)]
mod crash_loop;
mod docs;
#[cfg(unix)]
mod fault_matrix;
#[cfg(unix)]
mod fleet;
#[cfg(target_os = "linux")]
mod identity_linux;
mod identity_smbios;
#[cfg(unix)]
mod integration_admin;
mod integration_test;
mod lookup;
#[cfg(target_os = "linux")]
mod mdm;
mod packaging;
#[cfg(unix)]
mod progress;
#[cfg(unix)]
mod publish;
#[cfg(unix)]
mod relay;
mod sentinelctl_real;
mod smbios_tables;
#[cfg(target_os = "linux")]
mod verdict;
