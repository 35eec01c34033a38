//! The test kit every integration test builds on, so a test names only what its
//! scenario changes:
//!
//! - [`tenant`]: an emulated tenant with its token file and CA on disk;
//! - [`run`]: the real `s1trust` binary, run with a clean environment;
//! - [`records`]: agent records as a console serves them, and JSON times;
//! - [`device`]: a device's identity and its files (config, identity, snapshot);
//! - [`config`]: the configuration file's text (`[[integration]]`, `[http]`, `[snapshot]`);
//! - [`smbios`]: SMBIOS structures, tables, entry points and dumps, byte by byte;
//! - [`schema`]: the posture document's JSON Schema;
//! - [`files`]: scratch folders, file modes, fixture files;
//! - [`machine`] (Linux): a fake machine for `s1trust identity`, in a mount namespace;
//! - [`system`] (Unix): root, private mount namespaces, installed tools, another user;
//!
//! and the [`root_test!`] and [`namespace_test!`] macros for tests that need root.

pub mod config;
pub mod device;
pub mod files;
#[cfg(target_os = "linux")]
pub mod machine;
pub mod records;
pub mod run;
pub mod schema;
pub mod smbios;
#[cfg(unix)]
pub mod system;
pub mod tenant;

pub use config::{Config, Integration};
pub use device::{Device, SERIAL, UUID, device_record, write_identity};
pub use files::{fixture, path_arg, scratch, write_private};
#[cfg(unix)]
pub use files::{mode, set_mode};
pub use records::{agent, cloned_pair, fleet, now_rfc3339, overlay, rfc3339, time_of};
pub use run::{Run, STATUS_FRAMES, run_s1trust, s1trust_bin};
#[cfg(unix)]
pub use run::{Screen, on_terminal};
pub use schema::{Schema, posture_violations, validate_against, validate_doctor, validate_posture};
#[cfg(target_os = "linux")]
pub use system::{as_user, can_unshare, with_system_config};
#[cfg(unix)]
pub use system::{have_tool, is_root};
pub use tenant::{TOKEN, Tenant, unused_loopback_port};

/// Prints that a test skips (`notice`); with `CI` set it fails with `ci_failure`
/// instead, so a CI runner cannot go green having tested nothing.
pub fn skip_or_fail_under_ci(ci_failure: &str, notice: &str) {
    assert!(std::env::var_os("CI").is_none(), "{ci_failure}");
    println!("notice: {notice}");
}

/// A `#[test]` that runs its body only when `$gate(<test's name>)` says it can.
#[cfg(unix)]
macro_rules! gated_test {
    ($gate:path, $(#[$attr:meta])* fn $name:ident() $body:block) => {
        $(#[$attr])*
        #[test]
        fn $name() {
            if !$gate(concat!(module_path!(), "::", stringify!($name))) {
                return;
            }
            $body
        }
    };
}
#[cfg(unix)]
pub(crate) use gated_test;

/// A test that needs root: as another user it prints a notice and passes, and with
/// `CI` set it fails instead (see [`system::is_root`]). The notice names the test.
///
/// ```ignore
/// root_test!(
///     /// What the test shows.
///     fn refresh_writes_a_snapshot() {
///         // …
///     }
/// );
/// ```
#[cfg(unix)]
macro_rules! root_test {
    ($($test:tt)*) => {
        $crate::helpers::gated_test!($crate::helpers::is_root, $($test)*);
    };
}
#[cfg(unix)]
pub(crate) use root_test;

/// A [`root_test!`] that also needs private mount namespaces (`unshare -m`): where
/// they are unavailable it prints a notice and passes (see [`system::can_unshare`]).
#[cfg(target_os = "linux")]
macro_rules! namespace_test {
    ($($test:tt)*) => {
        $crate::helpers::gated_test!($crate::helpers::can_unshare, $($test)*);
    };
}
#[cfg(target_os = "linux")]
pub(crate) use namespace_test;
