//! Form checks for the arguments CloudTrail stores but whose resources come later
//! (SNS topics, KMS keys, CloudWatch Logs), and for bucket names, prefixes and tags.

use cairn_model::trail::Tag;

use crate::error::{ApiError, ApiResult, ErrorKind};

/// S3 bucket naming rules (3–63, lower-case letters, digits, dots, hyphens; alphanumeric ends;
/// no `..`; not an IP address).
pub fn is_valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && !name.contains("..")
        && !name.contains(".-")
        && !name.contains("-.")
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// Prefixes S3 keeps for itself: no new bucket's name starts with one.
const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];

/// Suffixes S3 keeps for access point, Object Lambda, Multi-Region Access Point, directory
/// bucket and table bucket names: no new general purpose bucket's name ends with one.
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Whether a new bucket may take `name`: S3's naming rules, and none of its reserved prefixes
/// and suffixes (which only creation checks: names in use elsewhere are not refused).
pub fn is_valid_new_bucket_name(name: &str) -> bool {
    is_valid_bucket_name(name)
        && !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        && !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Checks a trail's bucket name.
pub fn bucket_name(name: &str) -> ApiResult<()> {
    if is_valid_bucket_name(name) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorKind::InvalidS3BucketName,
            format!("Bucket name {name} is not valid."),
        ))
    }
}

/// Checks an S3 key prefix (≤ 200 characters).
pub fn key_prefix(prefix: &str) -> ApiResult<()> {
    if prefix.chars().count() > 200 || prefix.contains('\0') {
        return Err(ApiError::new(
            ErrorKind::InvalidS3Prefix,
            format!("Prefix {prefix} is not valid."),
        ));
    }
    Ok(())
}

fn arn_parts(arn: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    (parts.len() == 6 && parts[0] == "arn" && !parts[1].is_empty()).then_some(parts)
}

/// Resolves an SNS topic name or ARN to an ARN.
pub fn sns_topic(value: &str, region: &str, account: &str) -> ApiResult<String> {
    let name_ok = |n: &str| {
        (1..=256).contains(&n.len())
            && n.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
    };
    if let Some(p) = arn_parts(value) {
        if p[2] == "sns" && !p[3].is_empty() && p[4].len() == 12 && name_ok(p[5]) {
            return Ok(value.to_owned());
        }
    } else if name_ok(value) {
        return Ok(format!("arn:aws:sns:{region}:{account}:{value}"));
    }
    Err(ApiError::new(
        ErrorKind::InvalidSnsTopicName,
        format!("SNS Topic name {value} is not valid."),
    ))
}

fn is_key_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|c| c.is_ascii_hexdigit()))
        || (s.starts_with("mrk-") && s.len() == 36 && s[4..].bytes().all(|c| c.is_ascii_hexdigit()))
}

/// Resolves a KMS key id (UUID, `alias/x`, alias ARN, key ARN) to a full ARN.
pub fn kms_key(value: &str, region: &str, account: &str) -> ApiResult<String> {
    let invalid = || {
        ApiError::new(
            ErrorKind::InvalidKmsKeyId,
            format!("Invalid KmsKeyId: {value}"),
        )
    };
    if let Some(p) = arn_parts(value) {
        let ok = p[2] == "kms"
            && !p[3].is_empty()
            && p[4].len() == 12
            && (p[5].strip_prefix("key/").is_some_and(is_key_uuid)
                || p[5].strip_prefix("alias/").is_some_and(|a| !a.is_empty()));
        return if ok {
            Ok(value.to_owned())
        } else {
            Err(invalid())
        };
    }
    if let Some(alias) = value.strip_prefix("alias/") {
        if !alias.is_empty() && alias.len() <= 250 {
            return Ok(format!("arn:aws:kms:{region}:{account}:{value}"));
        }
    } else if is_key_uuid(value) {
        return Ok(format!("arn:aws:kms:{region}:{account}:key/{value}"));
    }
    Err(invalid())
}

/// Checks a CloudWatch Logs delivery role ARN.
pub fn role_arn(value: &str) -> ApiResult<()> {
    let ok = arn_parts(value).is_some_and(|p| {
        p[2] == "iam"
            && p[3].is_empty()
            && p[4].len() == 12
            && p[5].starts_with("role/")
            && p[5].len() > 5
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorKind::InvalidCloudWatchLogsRoleArn,
            "You must specify a valid role ARN.",
        ))
    }
}

/// CloudTrail tag rules: ≤ 50 per resource, keys 1–128 and values ≤ 256 characters of
/// `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, keys unique within a request, no `aws:` prefix.
pub fn tags(tags: &[Tag]) -> ApiResult<()> {
    for (i, tag) in tags.iter().enumerate() {
        if tags[..i].iter().any(|t| t.key == tag.key) {
            return Err(ApiError::new(
                ErrorKind::InvalidTagParameter,
                format!("Tag key names must be unique; {} appears twice.", tag.key),
            ));
        }
    }
    for tag in tags {
        if tag.key.is_empty() || tag.key.chars().count() > 128 {
            return Err(ApiError::new(
                ErrorKind::InvalidTagParameter,
                format!(
                    "Tag key {} is invalid: keys must be 1 to 128 characters.",
                    tag.key
                ),
            ));
        }
        if tag
            .value
            .as_deref()
            .is_some_and(|v| v.chars().count() > 256)
        {
            return Err(ApiError::new(
                ErrorKind::InvalidTagParameter,
                format!(
                    "Tag value for key {} is invalid: values must be at most 256 characters.",
                    tag.key
                ),
            ));
        }
        if tag.key.starts_with("aws:") {
            return Err(ApiError::new(
                ErrorKind::InvalidTagParameter,
                "Tag keys cannot start with the reserved prefix aws:.",
            ));
        }
        let allowed = |t: &str| t.chars().all(crate::iam::validate::tag_char);
        if !allowed(&tag.key) || !tag.value.as_deref().is_none_or(allowed) {
            return Err(ApiError::new(
                ErrorKind::InvalidTagParameter,
                format!(
                    "Tag {} is invalid: keys and values may contain only letters, numbers, spaces and _ . : / = + - @.",
                    tag.key
                ),
            ));
        }
    }
    Ok(())
}

/// Merges `add` into `existing` (overwriting values of existing keys) and enforces the limit.
pub fn merge_tags(existing: &mut Vec<Tag>, add: &[Tag]) -> ApiResult<()> {
    tags(add)?;
    for tag in add {
        match existing.iter_mut().find(|t| t.key == tag.key) {
            Some(t) => t.value = tag.value.clone(),
            None => existing.push(tag.clone()),
        }
    }
    if existing.len() > 50 {
        return Err(ApiError::new(
            ErrorKind::TagsLimitExceeded,
            "The number of tags on the resource exceeds the limit of 50.",
        ));
    }
    Ok(())
}
