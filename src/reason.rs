//! Every reason code a posture answer can carry (docs/reasons.md), as one enum
//! serialized to the exact strings of the JSON contract. Whether a code is transient
//! (may clear up by itself, so it never replaces a definitive snapshot) is a property
//! of the code, next to it, not a list kept in step elsewhere.
//!
//! The other code lists of the JSON output (identity problems, serial candidates,
//! binding reasons, connection-test steps) are made with the same `codes!` macro,
//! and one test checks every list against docs/reasons.md.

/// Defines a closed list of stable codes: an enum whose variants serialize to exactly
/// the given strings, with `ALL` (in the order written),
/// `as_str`, `Display`, and comparison with the text as JSON and tests spell it.
macro_rules! codes {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$doc:meta])* $variant:ident = $code:literal,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$doc])* #[serde(rename = $code)] $variant,)*
        }

        impl $name {
            /// Every code, in the order written.
            pub const ALL: &[$name] = &[$($name::$variant,)*];

            /// The code as written in JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use codes;

codes! {
    /// A stable reason code.
    pub enum Reason {
        /// The record was found and bound to this device.
        AgentFound = "agent_found",
        /// No record matches this device.
        NotFound = "not_found",
        /// The agent is not installed here.
        NoLocalAgent = "no_local_agent",
        /// Several records match equally well.
        Ambiguous = "ambiguous",
        /// The record's serial is none of this device's.
        IdentityMismatch = "identity_mismatch",
        /// The record's account or site is not allowed.
        ForeignSite = "foreign_site",
        /// The record is decommissioned.
        Decommissioned = "decommissioned",
        /// The agent was uninstalled.
        Uninstalled = "uninstalled",
        /// The record does not say, in booleans, that it is not retired.
        RetirementUnknown = "retirement_unknown",
        /// No UUID, and no serial could be read.
        SerialUnavailable = "serial_unavailable",
        /// No UUID, and the serial is a placeholder.
        PlaceholderSerial = "placeholder_serial",
        /// The agent printed something that is not a UUID.
        BadLocalUuid = "bad_local_uuid",
        /// The tenant rejected the token (401).
        AuthFailed = "auth_failed",
        /// The token's role cannot read endpoints (403).
        Forbidden = "forbidden",
        /// The tenant asked to slow down (429).
        RateLimited = "rate_limited",
        /// The tenant could not be reached.
        NetworkError = "network_error",
        /// The deadline passed.
        Timeout = "timeout",
        /// The tenant's answer was not usable.
        BadResponse = "bad_response",
        /// The relay's inventory is older than `[relay] max_age`, or undated.
        RelayStale = "relay_stale",
        /// The integration's token file is unusable.
        TokenUnreadable = "token_unreadable",
        /// The integration's CA file or client set-up is unusable.
        ConfigError = "config_error",
        /// The record lacks the field a factor needs.
        FieldMissing = "field_missing",
        /// The factor is not enabled for this OS.
        OsNotSelected = "os_not_selected",
        /// This OS is not one SentinelOne supports.
        OsUnknown = "os_unknown",
        /// There is no snapshot.
        NoSnapshot = "no_snapshot",
        /// The snapshot is too old or past its own expiry.
        StaleSnapshot = "stale_snapshot",
        /// The snapshot is not a valid posture document.
        CorruptSnapshot = "corrupt_snapshot",
        /// Someone but root could have written the snapshot.
        UntrustedSnapshot = "untrusted_snapshot",
        /// The snapshot could not be read.
        SnapshotUnreadable = "snapshot_unreadable",
        /// The snapshot was made for another device.
        WrongDevice = "wrong_device",
        /// The snapshot names a device fact (machine ID, serial) this process could not read.
        DeviceUnverifiable = "device_unverifiable",
        /// A live evaluation was asked for but is not possible here.
        LiveUnavailable = "live_unavailable",
        /// No configuration yet.
        NotConfigured = "not_configured",
        /// No enabled factor applies to this OS.
        NoApplicableFactors = "no_applicable_factors",
        /// The async runtime would not start.
        RuntimeError = "runtime_error",
        /// Not Active Threat: satisfied.
        NoActiveThreats = "no_active_threats",
        /// Not Active Threat: not satisfied.
        ActiveThreats = "active_threats",
        /// Agent Active: satisfied.
        Active = "active",
        /// Agent Active: `isActive` is false.
        Inactive = "inactive",
        /// Agent Active: silent for too long.
        LastActiveTooOld = "last_active_too_old",
        /// Not Infected: satisfied.
        NotInfected = "not_infected",
        /// Not Infected: not satisfied.
        Infected = "infected",
        /// No Pending Reboot: satisfied.
        NoRebootRequired = "no_reboot_required",
        /// No Pending Reboot: not satisfied.
        RebootRequired = "reboot_required",
        /// Operational: satisfied.
        Operational = "operational",
        /// Operational: not satisfied.
        NotOperational = "not_operational",
        /// Protect Mode: satisfied.
        ProtectMode = "protect_mode",
        /// Protect Mode: detect only.
        DetectMode = "detect_mode",
        /// Agent Up To Date: satisfied.
        UpToDate = "up_to_date",
        /// Agent Up To Date: not satisfied.
        Outdated = "outdated",
        /// Not Network Quarantined: satisfied.
        NetworkConnected = "network_connected",
        /// Not Network Quarantined: not satisfied.
        NetworkQuarantined = "network_quarantined",
        /// Firewall Enabled: satisfied.
        FirewallEnabled = "firewall_enabled",
        /// Firewall Enabled: not satisfied.
        FirewallDisabled = "firewall_disabled",
        /// Disk Encrypted: satisfied.
        DiskEncrypted = "disk_encrypted",
        /// Disk Encrypted: not satisfied.
        NotEncrypted = "not_encrypted",
    }
}

impl Reason {
    /// Failures that may clear up by themselves: such an answer never replaces a
    /// snapshot that holds a definitive one.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::NetworkError
                | Self::Timeout
                | Self::RateLimited
                | Self::AuthFailed
                | Self::Forbidden
                | Self::BadResponse
                | Self::RelayStale
        )
    }

    /// The tenant could not be asked, or gave no usable answer: no evaluation took
    /// place (a refresh with only this to write exits 3 and records a failure).
    pub fn is_evaluation_failure(self) -> bool {
        self.is_transient()
            || matches!(
                self,
                Self::TokenUnreadable | Self::ConfigError | Self::RuntimeError
            )
    }
}

impl std::str::FromStr for Reason {
    type Err = String;

    fn from_str(code: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == code)
            .ok_or_else(|| format!("{code:?} is not a reason code"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conntest::StepKey;
    use crate::identity::{CandidateReason, ProblemReason};
    use crate::posture::report::BindingReason;

    /// Each code serializes to its string and back, and docs/reasons.md names it in backticks.
    fn documented<T>(all: &[T], as_str: fn(T) -> &'static str)
    where
        T: Copy + std::fmt::Debug + PartialEq + serde::Serialize + serde::de::DeserializeOwned,
    {
        let reference = include_str!("../docs/reasons.md");
        for &code in all {
            let json = serde_json::to_value(code).unwrap();
            assert_eq!(json, as_str(code));
            assert_eq!(serde_json::from_value::<T>(json).unwrap(), code);
            assert!(
                reference.contains(&format!("`{}`", as_str(code))),
                "{code:?} ({}) is not in docs/reasons.md",
                as_str(code)
            );
        }
    }

    #[test]
    fn serialized_as_the_documented_codes() {
        documented(Reason::ALL, Reason::as_str);
        documented(ProblemReason::ALL, ProblemReason::as_str);
        documented(CandidateReason::ALL, CandidateReason::as_str);
        documented(BindingReason::ALL, BindingReason::as_str);
        documented(StepKey::ALL, StepKey::as_str);
    }
}
