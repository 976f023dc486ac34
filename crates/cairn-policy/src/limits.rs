//! Size limits of policy documents (spec §2.7). IAM counts characters without whitespace;
//! KMS counts bytes.

/// Aggregate size of a user's inline policies (characters, whitespace not counted).
pub const USER_INLINE_AGGREGATE: usize = 2048;
/// Aggregate size of a group's inline policies.
pub const GROUP_INLINE_AGGREGATE: usize = 5120;
/// Aggregate size of a role's inline policies.
pub const ROLE_INLINE_AGGREGATE: usize = 10240;
/// A customer managed policy document.
pub const MANAGED_POLICY: usize = 6144;
/// A role trust policy (default quota; raisable to 4096).
pub const TRUST_POLICY: usize = 2048;
/// A KMS key policy (bytes).
pub const KEY_POLICY_BYTES: usize = 32 * 1024;

/// The size IAM checks against its quotas: characters that are not whitespace.
pub fn non_whitespace_len(text: &str) -> usize {
    text.chars().filter(|c| !c.is_whitespace()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_not_counted() {
        assert_eq!(non_whitespace_len("{ \"a\" :\n\t\"b c\" }"), 10);
        assert_eq!(non_whitespace_len(""), 0);
        assert_eq!(non_whitespace_len("é"), 1);
    }
}
