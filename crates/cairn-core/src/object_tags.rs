//! Object tagging: the tag set an object carries (`ObjectMeta::tags`), given by PutObject's,
//! CreateMultipartUpload's and CopyObject's `x-amz-tagging` header or by PutObjectTagging,
//! read by GetObjectTagging, `x-amz-tagging-count`, lifecycle tag filters and the
//! `s3:ExistingObjectTag/<key>` condition key.
//!
//! S3's rules (the S3 user guide's "Categorizing your storage using tags"): at most 10 tags
//! (`BadRequest` "Object tags cannot be greater than 10"), then the same key and value rules
//! as bucket tags (`crate::bucket_tags`). The header is a URL-encoded query string; a key
//! given twice there is `InvalidArgument`, in a PutObjectTagging document `InvalidTag`.

use cairn_store::Connection;
use cairn_store::objects::{self as stored, MetaRow};

use crate::bucket_tags::{Tagger, validate_set};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::objects::{self, ObjectMeta};

/// Most tags an object may carry.
pub const MAX_TAGS: usize = 10;

/// Checks an object's tag set against S3's rules.
pub fn validate(tags: &[(String, String)]) -> ApiResult<()> {
    validate_set(
        tags,
        Tagger::Requester,
        MAX_TAGS,
        &format!("Object tags cannot be greater than {MAX_TAGS}"),
    )
}

/// The tags an `x-amz-tagging` header asks for (`k1=v1&k2=v2`, URL-encoded), checked.
pub fn parse_header(text: &str) -> ApiResult<Vec<(String, String)>> {
    let tags: Vec<(String, String)> = form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut seen = std::collections::HashSet::new();
    if !tags.iter().all(|(k, _)| seen.insert(k.as_str())) {
        return Err(ApiError::new(
            ErrorKind::S3InvalidArgument,
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
        ));
    }
    validate(&tags)?;
    Ok(tags)
}

/// The optional header's tags (none when absent or empty).
pub fn from_header(text: Option<&str>) -> ApiResult<Vec<(String, String)>> {
    match text {
        Some(t) if !t.is_empty() => parse_header(t),
        _ => Ok(Vec::new()),
    }
}

/// GetObjectTagging: the object's tags (an empty set when it has none).
pub fn get(conn: &Connection, bucket: &str, key: &str) -> ApiResult<Vec<(String, String)>> {
    objects::require_bucket(conn, bucket)?;
    Ok(objects::get(conn, bucket, key)?.meta.tags)
}

/// PutObjectTagging: replaces the object's whole tag set.
pub fn put(conn: &Connection, bucket: &str, key: &str, tags: &[(String, String)]) -> ApiResult<()> {
    validate(tags)?;
    set(conn, bucket, key, tags.to_vec())
}

/// DeleteObjectTagging: leaves the object without tags (succeeds when it has none).
pub fn delete(conn: &Connection, bucket: &str, key: &str) -> ApiResult<()> {
    set(conn, bucket, key, Vec::new())
}

fn set(conn: &Connection, bucket: &str, key: &str, tags: Vec<(String, String)>) -> ApiResult<()> {
    objects::require_bucket(conn, bucket)?;
    let object = objects::get(conn, bucket, key)?;
    let meta = ObjectMeta {
        tags,
        ..object.meta
    };
    stored::set_meta(
        conn,
        &MetaRow {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            upload_id: String::new(),
            meta: meta.encode(),
        },
    )?;
    Ok(())
}

/// The tags of the object an S3 object ARN (`arn:aws:s3:::bucket/key`) names, for
/// `s3:ExistingObjectTag/<key>`; none for a bucket ARN or an object that does not exist.
pub fn of_arn(conn: &Connection, arn: &str) -> ApiResult<Vec<(String, String)>> {
    let Some((bucket, key)) = arn
        .strip_prefix("arn:aws:s3:::")
        .and_then(|rest| rest.split_once('/'))
    else {
        return Ok(Vec::new());
    };
    Ok(stored::get(conn, bucket, key)?
        .map(|row| ObjectMeta::decode(&row.meta).tags)
        .unwrap_or_default())
}

/// Whether `action` sees `s3:ExistingObjectTag/<key>`: every object action but writing and
/// deleting the object itself (the S3 user guide: "When granting permissions for the PUT
/// Object and DELETE Object operations, this condition key is not supported").
pub fn action_sees_existing_tags(action: &str) -> bool {
    !matches!(
        action,
        "s3:PutObject"
            | "s3:DeleteObject"
            | "s3:DeleteObjectVersion"
            | "s3:AbortMultipartUpload"
            | "s3:ListMultipartUploadParts"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_header_is_a_url_encoded_query_without_duplicate_keys() {
        assert_eq!(
            parse_header("a=1&b%20c=d%2Be&empty=").unwrap(),
            pairs(&[("a", "1"), ("b c", "d+e"), ("empty", "")])
        );
        assert_eq!(from_header(Some("")).unwrap(), Vec::new());
        assert_eq!(from_header(None).unwrap(), Vec::new());
        let dup = parse_header("a=1&a=2").unwrap_err();
        assert_eq!(dup.kind, ErrorKind::S3InvalidArgument);
        assert!(dup.message.contains("without tag name duplicates"));
    }

    #[test]
    fn ten_tags_at_most_and_the_bucket_rules_for_keys_and_values() {
        let ten: String = (0..10).map(|i| format!("k{i}=v&")).collect();
        assert_eq!(parse_header(&ten).unwrap().len(), 10);
        let eleven = parse_header(&format!("{ten}k10=v")).unwrap_err();
        assert_eq!(
            (eleven.kind, eleven.message.as_str()),
            (
                ErrorKind::S3BadRequest,
                "Object tags cannot be greater than 10"
            )
        );
        let long_key = parse_header(&format!("{}=v", "k".repeat(129))).unwrap_err();
        assert_eq!(long_key.message, "The TagKey you have provided is invalid");
        let bad_value = parse_header("k=a%21").unwrap_err();
        assert_eq!(
            bad_value.message,
            "The TagValue you have provided is invalid"
        );
        let dup = validate(&pairs(&[("a", "1"), ("a", "2")])).unwrap_err();
        assert_eq!(
            (dup.kind, dup.message.as_str()),
            (
                ErrorKind::S3InvalidTag,
                "Cannot provide multiple Tags with the same key"
            )
        );
    }

    #[test]
    fn writing_and_deleting_the_object_do_not_see_its_tags() {
        assert!(action_sees_existing_tags("s3:GetObject"));
        assert!(action_sees_existing_tags("s3:PutObjectTagging"));
        assert!(!action_sees_existing_tags("s3:PutObject"));
        assert!(!action_sees_existing_tags("s3:DeleteObject"));
    }
}
