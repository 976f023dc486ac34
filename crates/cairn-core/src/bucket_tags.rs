//! Bucket tagging: Put/Get/DeleteBucketTagging.
//!
//! PutBucketTagging replaces the bucket's whole tag set; an empty set leaves the bucket
//! without one, and GetBucketTagging then answers `NoSuchTagSet`, as S3 does. S3's rules
//! (the S3 API reference and the tag restrictions of the Billing user guide): at most 50 tags
//! (`BadRequest`), a key of 1–128 and a value of 0–256 Unicode characters made of letters,
//! digits, spaces and `_ . : / = + - @` (`InvalidTag`), no key twice (`InvalidTag`), and no
//! key under the `aws:` prefix (any case) from a requester (`InvalidTag`). CloudFormation's
//! own calls may set its `aws:cloudformation:*` tags; those do not count toward the 50.

use cairn_store::Connection;
use cairn_store::buckets;

use crate::CallContext;
use crate::buckets::owned;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Most tags a bucket may carry (system tags aside).
pub const MAX_TAGS: usize = 50;
/// Longest key, in characters.
pub const MAX_KEY_CHARS: usize = 128;
/// Longest value, in characters.
pub const MAX_VALUE_CHARS: usize = 256;

/// Who is tagging: a requester, or CloudFormation adding its system tags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tagger {
    /// A signed request: `aws:` keys are refused.
    Requester,
    /// The CloudFormation engine: `aws:` keys are allowed.
    CloudFormation,
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(ErrorKind::S3InvalidTag, message)
}

fn is_system(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// Letters, digits, spaces and `_ . : / = + - @`.
fn allowed(c: char) -> bool {
    c.is_alphanumeric() || (c.is_whitespace() && !c.is_control()) || "_.:/=+-@".contains(c)
}

/// Checks a bucket's tag set against S3's rules.
pub fn validate(tags: &[(String, String)], tagger: Tagger) -> ApiResult<()> {
    validate_set(
        tags,
        tagger,
        MAX_TAGS,
        &format!("Bucket tag count cannot be greater than {MAX_TAGS}"),
    )
}

/// Checks a tag set (a bucket's or an object's) against S3's rules: at most `max` tags
/// besides system ones (`BadRequest` with `too_many`), then each key and value.
pub fn validate_set(
    tags: &[(String, String)],
    tagger: Tagger,
    max: usize,
    too_many: &str,
) -> ApiResult<()> {
    let counted = tags.iter().filter(|(k, _)| !is_system(k)).count();
    if counted > max {
        return Err(ApiError::new(ErrorKind::S3BadRequest, too_many));
    }
    let mut seen = std::collections::HashSet::new();
    for (k, v) in tags {
        let key_chars = k.chars().count();
        if key_chars == 0 || key_chars > MAX_KEY_CHARS || !k.chars().all(allowed) {
            return Err(invalid("The TagKey you have provided is invalid"));
        }
        if v.chars().count() > MAX_VALUE_CHARS || !v.chars().all(allowed) {
            return Err(invalid("The TagValue you have provided is invalid"));
        }
        if !seen.insert(k.as_str()) {
            return Err(invalid("Cannot provide multiple Tags with the same key"));
        }
        if tagger == Tagger::Requester && is_system(k) {
            return Err(invalid("System tags cannot be added/updated by requester"));
        }
    }
    Ok(())
}

/// PutBucketTagging: replaces the tag set.
pub fn put(
    conn: &Connection,
    ctx: &CallContext,
    bucket: &str,
    tags: &[(String, String)],
    tagger: Tagger,
) -> ApiResult<()> {
    owned(conn, ctx, bucket)?;
    if tagger == Tagger::Requester {
        // A requester's tag set must carry the bucket's system tags as they are (the
        // CloudFormation stack's): S3 refuses one that adds, changes or drops any.
        let held: Vec<(String, String)> = buckets::tags(conn, bucket)?
            .into_iter()
            .filter(|(k, _)| is_system(k))
            .collect();
        let asked: Vec<&(String, String)> = tags.iter().filter(|(k, _)| is_system(k)).collect();
        if asked.iter().any(|t| !held.contains(t)) {
            return Err(invalid("System tags cannot be added/updated by requester"));
        }
        if held.iter().any(|t| !asked.contains(&t)) {
            return Err(invalid("System tags cannot be removed by requester"));
        }
        validate(tags, Tagger::CloudFormation)?;
    } else {
        validate(tags, tagger)?;
    }
    buckets::set_tags(conn, bucket, tags)?;
    Ok(())
}

/// GetBucketTagging: `NoSuchTagSet` when the bucket has none.
pub fn get(conn: &Connection, ctx: &CallContext, bucket: &str) -> ApiResult<Vec<(String, String)>> {
    owned(conn, ctx, bucket)?;
    let tags = buckets::tags(conn, bucket)?;
    if tags.is_empty() {
        return Err(ApiError::new(
            ErrorKind::S3NoSuchTagSet,
            "The TagSet does not exist",
        ));
    }
    Ok(tags)
}

/// DeleteBucketTagging (succeeds when the bucket has none): the requester's tags; the
/// system tags of the stack that made the bucket stay (no requester removes them).
pub fn delete(conn: &Connection, ctx: &CallContext, bucket: &str) -> ApiResult<()> {
    owned(conn, ctx, bucket)?;
    let kept: Vec<(String, String)> = buckets::tags(conn, bucket)?
        .into_iter()
        .filter(|(k, _)| is_system(k))
        .collect();
    buckets::set_tags(conn, bucket, &kept)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn message(tags: &[(String, String)], tagger: Tagger) -> Option<(ErrorKind, String)> {
        validate(tags, tagger).err().map(|e| (e.kind, e.message))
    }

    #[test]
    fn s3_rules_and_messages() {
        let ok = set(&[
            ("env", "prod"),
            ("empty", ""),
            ("a b_c.d:e/f=g+h-i@j", "é 1"),
        ]);
        assert!(validate(&ok, Tagger::Requester).is_ok());
        let fifty: Vec<_> = (0..50).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert!(validate(&fifty, Tagger::Requester).is_ok());
        let mut many = fifty.clone();
        many.push(("k50".into(), "v".into()));
        assert_eq!(
            message(&many, Tagger::Requester),
            Some((
                ErrorKind::S3BadRequest,
                "Bucket tag count cannot be greater than 50".into()
            ))
        );
        let invalid_key = Some((
            ErrorKind::S3InvalidTag,
            "The TagKey you have provided is invalid".to_owned(),
        ));
        let invalid_value = Some((
            ErrorKind::S3InvalidTag,
            "The TagValue you have provided is invalid".to_owned(),
        ));
        assert_eq!(message(&set(&[("", "v")]), Tagger::Requester), invalid_key);
        let long_key = "k".repeat(129);
        assert_eq!(
            message(&set(&[(&long_key, "v")]), Tagger::Requester),
            invalid_key
        );
        assert!(validate(&set(&[(&"é".repeat(128), "v")]), Tagger::Requester).is_ok());
        assert_eq!(
            message(&set(&[("a#b", "v")]), Tagger::Requester),
            invalid_key
        );
        let long_value = "v".repeat(257);
        assert_eq!(
            message(&set(&[("k", &long_value)]), Tagger::Requester),
            invalid_value
        );
        assert_eq!(
            message(&set(&[("k", "a\tb")]), Tagger::Requester),
            invalid_value
        );
        assert_eq!(
            message(&set(&[("k", "1"), ("k", "2")]), Tagger::Requester),
            Some((
                ErrorKind::S3InvalidTag,
                "Cannot provide multiple Tags with the same key".into()
            ))
        );
        for key in ["aws:owner", "AWS:owner"] {
            assert_eq!(
                message(&set(&[(key, "x")]), Tagger::Requester),
                Some((
                    ErrorKind::S3InvalidTag,
                    "System tags cannot be added/updated by requester".into()
                ))
            );
        }
        assert!(validate(&set(&[("team:aws:x", "ok")]), Tagger::Requester).is_ok());
    }

    #[test]
    fn cloudformation_may_add_system_tags_beyond_the_fifty() {
        let mut tags: Vec<_> = (0..50).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        tags.push(("aws:cloudformation:stack-name".into(), "s".into()));
        assert!(validate(&tags, Tagger::CloudFormation).is_ok());
        assert!(validate(&tags, Tagger::Requester).is_err());
    }
}
