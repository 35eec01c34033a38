//! Whether a registry key may carry the verdict: checked like a file, so a key that
//! someone other than SYSTEM, Administrators or TrustedInstaller could write (and so
//! make a device look trusted) is refused. Pure, so it is tested on every OS; the
//! Windows layer only reads the key's owner and DACL into these types.

/// Access rights that let a holder change a key's values, its subkeys or its
/// security (KEY_SET_VALUE, KEY_CREATE_SUB_KEY, KEY_CREATE_LINK, DELETE, WRITE_DAC,
/// WRITE_OWNER, GENERIC_ALL, GENERIC_WRITE; KEY_WRITE and KEY_ALL_ACCESS include
/// them).
pub(crate) const WRITE_RIGHTS: u32 =
    0x0002 | 0x0004 | 0x0020 | 0x0001_0000 | 0x0004_0000 | 0x0008_0000 | 0x1000_0000 | 0x4000_0000;

const SYSTEM: &str = "S-1-5-18";
const ADMINISTRATORS: &str = "S-1-5-32-544";
const TRUSTED_INSTALLER: &str = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464";

/// One entry of a key's DACL that applies to the key itself (inherit-only entries,
/// which apply only to subkeys, are left out by the reader).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ace {
    /// The trustee, as a string SID (`S-1-5-32-545`).
    pub sid: String,
    pub mask: u32,
    /// Whether the entry grants; a deny entry is never credited (see [`judge`]).
    pub allow: bool,
}

/// What [`judge`] needs of a key's security descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeySecurity {
    /// The owner as a string SID; `None` when the descriptor has none.
    pub owner: Option<String>,
    /// `None`: a NULL DACL, which grants everyone everything.
    pub dacl: Option<Vec<Ace>>,
}

/// Why a key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refusal {
    #[error(
        "is owned by {0}, not SYSTEM or Administrators (an owner can always change the key's permissions)"
    )]
    Owner(String),
    #[error("has no owner")]
    NoOwner,
    #[error("has a NULL DACL, which lets everyone write it")]
    NullDacl,
    #[error("can be written by {sid} (access mask {mask:#x})")]
    Writable { sid: String, mask: u32 },
}

/// SYSTEM, Administrators or TrustedInstaller: the accounts that own Windows itself.
fn is_trusted_writer(sid: &str) -> bool {
    [SYSTEM, ADMINISTRATORS, TRUSTED_INSTALLER]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(sid))
}

/// Refuses a key that anyone but a trusted writer owns or could write. Deny entries
/// are not credited: whether one takes effect depends on its order and on group
/// membership, and a key this program sets up never needs one.
pub(crate) fn judge(security: &KeySecurity) -> Result<(), Refusal> {
    match &security.owner {
        None => return Err(Refusal::NoOwner),
        Some(owner) if !is_trusted_writer(owner) => return Err(Refusal::Owner(owner.clone())),
        Some(_) => {}
    }
    let Some(dacl) = &security.dacl else {
        return Err(Refusal::NullDacl);
    };
    match dacl
        .iter()
        .find(|ace| ace.allow && ace.mask & WRITE_RIGHTS != 0 && !is_trusted_writer(&ace.sid))
    {
        Some(ace) => Err(Refusal::Writable {
            sid: ace.sid.clone(),
            mask: ace.mask,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const USERS: &str = "S-1-5-32-545";
    const EVERYONE: &str = "S-1-1-0";
    const KEY_ALL_ACCESS: u32 = 0xF003F;
    const KEY_READ: u32 = 0x20019;

    fn ace(sid: &str, mask: u32, allow: bool) -> Ace {
        Ace {
            sid: sid.into(),
            mask,
            allow,
        }
    }

    /// What the new key's SDDL grants, and what Windows puts on HKLM\SOFTWARE keys.
    fn proper() -> KeySecurity {
        KeySecurity {
            owner: Some(ADMINISTRATORS.into()),
            dacl: Some(vec![
                ace(SYSTEM, KEY_ALL_ACCESS, true),
                ace(ADMINISTRATORS, KEY_ALL_ACCESS, true),
                ace(USERS, KEY_READ, true),
                ace(TRUSTED_INSTALLER, KEY_ALL_ACCESS, true),
            ]),
        }
    }

    fn with_ace(extra: Ace) -> KeySecurity {
        let mut security = proper();
        security.dacl.as_mut().unwrap().push(extra);
        security
    }

    #[test]
    fn a_key_only_system_and_administrators_can_write_is_accepted() {
        assert_eq!(judge(&proper()), Ok(()));
        for owner in [SYSTEM, TRUSTED_INSTALLER, "s-1-5-32-544"] {
            let security = KeySecurity {
                owner: Some(owner.into()),
                ..proper()
            };
            assert_eq!(judge(&security), Ok(()), "owner {owner}");
        }
        // Reading, and denying anything, never makes a key writable.
        assert_eq!(judge(&with_ace(ace(EVERYONE, KEY_READ, true))), Ok(()));
        assert_eq!(judge(&with_ace(ace(USERS, KEY_ALL_ACCESS, false))), Ok(()));
        // An empty DACL grants nobody anything (only the owner can change it).
        let empty = KeySecurity {
            dacl: Some(Vec::new()),
            ..proper()
        };
        assert_eq!(judge(&empty), Ok(()));
    }

    #[test]
    fn each_write_right_granted_to_anyone_else_is_refused() {
        let rights = [
            ("KEY_SET_VALUE", 0x2),
            ("KEY_CREATE_SUB_KEY", 0x4),
            ("KEY_CREATE_LINK", 0x20),
            ("DELETE", 0x1_0000),
            ("WRITE_DAC", 0x4_0000),
            ("WRITE_OWNER", 0x8_0000),
            ("GENERIC_ALL", 0x1000_0000),
            ("GENERIC_WRITE", 0x4000_0000),
            ("KEY_WRITE", 0x2_0006),
            ("KEY_ALL_ACCESS", KEY_ALL_ACCESS),
        ];
        for (name, mask) in rights {
            for sid in [
                USERS,
                EVERYONE,
                "S-1-5-11",
                "S-1-5-21-1-2-3-1001",
                "S-1-3-0",
            ] {
                assert_eq!(
                    judge(&with_ace(ace(sid, KEY_READ | mask, true))),
                    Err(Refusal::Writable {
                        sid: sid.into(),
                        mask: KEY_READ | mask
                    }),
                    "{name} for {sid}"
                );
            }
        }
    }

    #[test]
    fn a_deny_entry_does_not_excuse_a_grant() {
        let mut security = proper();
        security.dacl.as_mut().unwrap().splice(
            0..0,
            [ace(USERS, KEY_ALL_ACCESS, false), ace(USERS, 0x2, true)],
        );
        assert!(matches!(judge(&security), Err(Refusal::Writable { .. })));
    }

    #[test]
    fn a_foreign_or_missing_owner_and_a_null_dacl_are_refused() {
        let user = "S-1-5-21-1-2-3-1001";
        let owned = KeySecurity {
            owner: Some(user.into()),
            ..proper()
        };
        assert_eq!(judge(&owned), Err(Refusal::Owner(user.into())));
        let unowned = KeySecurity {
            owner: None,
            ..proper()
        };
        assert_eq!(judge(&unowned), Err(Refusal::NoOwner));
        let null = KeySecurity {
            dacl: None,
            ..proper()
        };
        assert_eq!(judge(&null), Err(Refusal::NullDacl));
        assert!(Refusal::NullDacl.to_string().contains("NULL DACL"));
    }
}
