//! A generated fleet: `n` agent records, the same for the same seed, for tests and
//! benchmarks that need a tenant the size of a real one (100 000 agents).
//!
//! The variety is what a relay or a device must cope with: every 50th record is a
//! decommissioned duplicate of the record before it (a reinstall: same serial and
//! name, new UUID), about one in a thousand serials is a firmware placeholder, and the
//! operating systems, versions, sites and health flags vary. Ids ascend with the
//! index, so the listing order is the generation order.

use serde_json::{Value, json};
use time::OffsetDateTime;

use crate::config::format_rfc3339;

/// The first generated agent id (19 digits, like a real console's).
pub const FIRST_ID: u64 = 1_900_000_000_000_000_000;

/// Serials firmware leaves in place of a real one.
const PLACEHOLDERS: [&str; 3] = ["To Be Filled By O.E.M.", "Default string", "0"];
/// Every `DUPLICATE_EVERY`th record repeats the one before it, decommissioned.
const DUPLICATE_EVERY: usize = 50;
/// Every `PLACEHOLDER_EVERY`th record carries a placeholder serial.
const PLACEHOLDER_EVERY: usize = 997;

/// SplitMix64: a tiny, well-mixed generator; `mix(seed, i)` is the i-th value of a stream.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed
        .wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The serial of the device behind record `index` (a duplicate shares its original's).
fn serial(seed: u64, device: usize) -> String {
    if device % PLACEHOLDER_EVERY == PLACEHOLDER_EVERY - 1 {
        return PLACEHOLDERS[device / PLACEHOLDER_EVERY % PLACEHOLDERS.len()].to_owned();
    }
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut bits = mix(seed, device as u64 * 4 + 1);
    let mut out = String::from(["C02", "PF", "5CG", "VMW"][device % 4]);
    for _ in 0..9 {
        out.push(ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char);
        bits /= ALPHABET.len() as u64;
    }
    out
}

/// `n` agent records for `seed`; dates are relative to `now`.
pub fn generate_agents(n: usize, seed: u64, now: OffsetDateTime) -> Vec<Value> {
    (0..n).map(|i| agent(seed, i, now)).collect()
}

fn agent(seed: u64, index: usize, now: OffsetDateTime) -> Value {
    let duplicate = index % DUPLICATE_EVERY == DUPLICATE_EVERY - 1 && index > 0;
    let device = if duplicate { index - 1 } else { index };
    let roll = mix(seed, index as u64 * 4 + 2);
    let uuid = format!(
        "{:016x}{:016x}",
        mix(seed, index as u64 * 4),
        mix(seed, index as u64 * 4 + 3)
    );
    let (os_type, os_name, prefix) = match device % 4 {
        0 => ("macos", "macOS Sonoma", "mac"),
        3 => ("linux", "Ubuntu 22.04.4 LTS", "srv"),
        _ => ("windows", "Windows 11 Pro", "win"),
    };
    let site = device % 3;
    let infected = roll.is_multiple_of(200);
    let version = ["24.2.3.471", "24.1.2.200", "23.4.1.120"][(roll >> 16) as usize % 3];
    let site_name = ["Headquarters", "Branch", "Remote"][site];
    let silent_secs = if duplicate {
        86_400 * 30
    } else {
        (roll >> 8) % 900
    };
    json!({
        "id": (FIRST_ID + index as u64).to_string(),
        "uuid": uuid,
        "computerName": format!("{prefix}-{device:06}"),
        "serialNumber": serial(seed, device),
        "osType": os_type,
        "osName": os_name,
        "machineType": if os_type == "linux" { "server" } else { "laptop" },
        "agentVersion": version,
        "isUpToDate": (roll >> 16).is_multiple_of(3),
        "isActive": !duplicate && !(roll >> 20).is_multiple_of(50),
        "lastActiveDate": format_rfc3339(now - time::Duration::seconds(silent_secs as i64)),
        "registeredAt": format_rfc3339(now - time::Duration::days(400 - (device % 365) as i64)),
        "isDecommissioned": duplicate,
        "isUninstalled": false,
        "isPendingUninstall": false,
        "accountId": "1800000000000000001",
        "accountName": "Generated Corp",
        "siteId": format!("180000000000000010{site}"),
        "siteName": site_name,
        "groupId": format!("180000000000000020{site}"),
        "groupName": "Default Group",
        "networkStatus": if (roll >> 24).is_multiple_of(500) { "disconnected" } else { "connected" },
        "activeThreats": u32::from(infected),
        "infected": infected,
        "threatRebootRequired": (roll >> 28).is_multiple_of(300),
        "operationalState": if (roll >> 32).is_multiple_of(400) { "partially_disabled" } else { "na" },
        "mitigationMode": if (roll >> 36).is_multiple_of(100) { "detect" } else { "protect" },
        "firewallEnabled": !(roll >> 40).is_multiple_of(10),
        "encryptedApplications": !(roll >> 44).is_multiple_of(8),
        "domain": "CORP",
        "lastLoggedInUserName": format!("user{device:06}"),
        "externalIp": format!("198.51.100.{}", device % 250 + 1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_fleet() {
        let now = OffsetDateTime::now_utc();
        let a = generate_agents(300, 7, now);
        assert_eq!(a, generate_agents(300, 7, now));
        assert_ne!(a, generate_agents(300, 8, now));
    }

    #[test]
    fn variety() {
        let fleet = generate_agents(2_000, 1, OffsetDateTime::now_utc());
        let field = |a: &Value, k: &str| a[k].as_str().unwrap_or_default().to_owned();
        let duplicates: Vec<&Value> = fleet
            .iter()
            .filter(|a| a["isDecommissioned"] == json!(true))
            .collect();
        assert_eq!(duplicates.len(), 2_000 / DUPLICATE_EVERY);
        let dup = duplicates[0];
        let original = &fleet[DUPLICATE_EVERY - 2];
        assert_eq!(field(dup, "serialNumber"), field(original, "serialNumber"));
        assert_ne!(field(dup, "uuid"), field(original, "uuid"));
        let placeholders = fleet
            .iter()
            .filter(|a| PLACEHOLDERS.contains(&field(a, "serialNumber").as_str()))
            .count();
        assert_eq!(placeholders, 2);
        let mut uuids: Vec<String> = fleet.iter().map(|a| field(a, "uuid")).collect();
        uuids.sort();
        uuids.dedup();
        assert_eq!(uuids.len(), fleet.len());
        let ids: Vec<String> = fleet.iter().map(|a| field(a, "id")).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }
}
