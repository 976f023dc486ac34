//! Key tags: TagResource, UntagResource, ListResourceTags (`TagKey`/`TagValue`, at most 50 per
//! key, `aws:` keys reserved).

use cairn_store::Connection;
use cairn_store::kms::Tag;

use super::paging::{self, Page};
use super::{Key, check_len, err, not_pending};
use crate::error::{ApiResult, ErrorKind};

/// Most tags a key may have.
pub const MAX_TAGS: usize = 50;

/// Validates tags to add: lengths (model), no reserved `aws:` keys, no duplicates.
pub fn validate(tags: &[(String, String)]) -> ApiResult<()> {
    for (i, (k, v)) in tags.iter().enumerate() {
        check_len("tagKey", k, 1, 128)?;
        check_len("tagValue", v, 0, 256)?;
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(err(
                ErrorKind::KmsTag,
                format!(
                    "Tag key {k} is not valid: keys beginning with aws: are reserved for AWS use."
                ),
            ));
        }
        if tags[..i].iter().any(|(other, _)| other == k) {
            return Err(err(
                ErrorKind::KmsTag,
                format!("The request contains the tag key {k} more than once."),
            ));
        }
    }
    Ok(())
}

/// Adds or replaces tags (after authorization).
pub fn tag(conn: &Connection, key: &Key, tags: &[(String, String)]) -> ApiResult<()> {
    validate(tags)?;
    not_pending(key)?;
    for (k, v) in tags {
        cairn_store::kms::put_tag(conn, &key.key_id, k, v)?;
    }
    if cairn_store::kms::count_tags(conn, &key.key_id)? as usize > MAX_TAGS {
        return Err(err(
            ErrorKind::KmsLimitExceeded,
            format!("A KMS key can have at most {MAX_TAGS} tags."),
        ));
    }
    Ok(())
}

/// Removes tags (absent keys are ignored).
pub fn untag(conn: &Connection, key: &Key, keys: &[String]) -> ApiResult<()> {
    for k in keys {
        check_len("tagKeys", k, 1, 128)?;
    }
    not_pending(key)?;
    for k in keys {
        cairn_store::kms::delete_tag(conn, &key.key_id, k)?;
    }
    Ok(())
}

/// One page of a key's tags, by tag key.
pub fn list(
    conn: &Connection,
    key: &Key,
    marker: Option<&str>,
    limit: usize,
) -> ApiResult<Page<Tag>> {
    let markers = paging::Markers::new(conn, "ListResourceTags", &[&key.arn])?;
    let after = markers.decode(marker)?;
    let items = cairn_store::kms::list_tags(conn, &key.key_id, &after, limit + 1)?;
    Ok(markers.page(items, limit, |t| t.key.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(k: &str, v: &str) -> (String, String) {
        (k.into(), v.into())
    }

    #[test]
    fn reserved_duplicate_and_long_tags_are_refused() {
        assert!(validate(&[t("a", "1"), t("b", "")]).is_ok());
        assert_eq!(
            validate(&[t("aws:x", "1")]).unwrap_err().kind,
            ErrorKind::KmsTag
        );
        assert_eq!(
            validate(&[t("a", "1"), t("a", "2")]).unwrap_err().kind,
            ErrorKind::KmsTag
        );
        assert_eq!(
            validate(&[t("", "1")]).unwrap_err().kind,
            ErrorKind::Validation
        );
        assert!(validate(&[t("a", &"v".repeat(257))]).is_err());
    }
}
