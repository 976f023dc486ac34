//! IAM unique ids and access key ids that embed the account (spec §1.3), so
//! `sts get-access-key-info` and third-party decoders recover the account from them.
//!
//! After the 4-character prefix, 8 base32 characters (`A-Z2-7`) encode the 40-bit integer
//! `account / 2 + 2^39`; the next character comes from the lower half of the alphabet
//! (`A`–`P`) for an even account and from the upper half (`Q`–`7`) for an odd one; the rest
//! is random. Decoding takes the first 6 bytes of the base32-decoded 10 characters after the
//! prefix as a big-endian integer `z`: `account = (z & 0x7fffffffff80) >> 7`.

use rand::Rng;

use cairn_model::AccountId;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// What an id identifies, by its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// `AIDA` user.
    User,
    /// `AGPA` group.
    Group,
    /// `AROA` role.
    Role,
    /// `ANPA` managed policy.
    Policy,
    /// `AKIA` long-term access key.
    AccessKey,
    /// `ASIA` temporary access key.
    TemporaryKey,
}

impl IdKind {
    /// The prefix.
    pub fn prefix(self) -> &'static str {
        match self {
            Self::User => "AIDA",
            Self::Group => "AGPA",
            Self::Role => "AROA",
            Self::Policy => "ANPA",
            Self::AccessKey => "AKIA",
            Self::TemporaryKey => "ASIA",
        }
    }

    /// Total length: 20 for access key ids, 21 for unique ids.
    fn len(self) -> usize {
        match self {
            Self::AccessKey | Self::TemporaryKey => 20,
            _ => 21,
        }
    }
}

/// A new id of `kind` for `account`.
pub fn new_id(kind: IdKind, account: &AccountId) -> String {
    let acct: u64 = account.as_str().parse().unwrap_or(0);
    let mut rng = rand::rng();
    let mut out = String::with_capacity(kind.len());
    out.push_str(kind.prefix());
    let x = acct / 2 + (1u64 << 39);
    for i in (0..8).rev() {
        out.push(char::from(ALPHABET[((x >> (i * 5)) & 31) as usize]));
    }
    let parity_half = if acct.is_multiple_of(2) { 0 } else { 16 };
    out.push(char::from(
        ALPHABET[parity_half + rng.random_range(0..16usize)],
    ));
    while out.len() < kind.len() {
        out.push(char::from(ALPHABET[rng.random_range(0..32usize)]));
    }
    out
}

/// The account embedded in an id (`None` when the characters after the prefix are not
/// base32 or too few).
pub fn decode_account(id: &str) -> Option<String> {
    let chars = id.get(4..14)?;
    let mut bits: u64 = 0;
    for c in chars.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u64;
        bits = (bits << 5) | v;
    }
    // 50 bits; the first 48 are the 6 bytes.
    let z = bits >> 2;
    let account = (z & 0x7fff_ffff_ff80) >> 7;
    Some(format!("{account:012}"))
}

/// A random 40-character secret access key (`[A-Za-z0-9+/]`).
pub fn new_secret() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_embed_the_account() {
        for acct in [
            "123456789012",
            "111122223333",
            "000000000001",
            "999999999999",
        ] {
            let a = AccountId::parse(acct).unwrap();
            for kind in [
                IdKind::User,
                IdKind::AccessKey,
                IdKind::TemporaryKey,
                IdKind::Role,
            ] {
                let id = new_id(kind, &a);
                assert_eq!(id.len(), kind.len());
                assert!(id.starts_with(kind.prefix()));
                assert!(id.bytes().all(|b| ALPHABET.contains(&b)));
                assert_eq!(decode_account(&id).as_deref(), Some(acct), "{id}");
            }
        }
    }

    #[test]
    fn known_public_key_decodes() {
        // A documented example (AWS security blog on key ids): ASIAQNZGKIQY56JQ7WML
        // belongs to account 029608264753.
        assert_eq!(
            decode_account("ASIAQNZGKIQY56JQ7WML").as_deref(),
            Some("029608264753")
        );
        assert_eq!(decode_account("AKIA"), None);
        assert_eq!(decode_account("AKIA0000000000000000"), None);
    }
}
