//! IAM's input rules (the model's lengths and patterns, which botocore leaves to the server)
//! with AWS's `ValidationError` wording, tag rules, and policy documents checked with
//! `cairn-policy` (`MalformedPolicyDocument`).

use cairn_policy::{Document, PolicyKind};

use super::{Tag, err};
use crate::error::{ApiError, ApiResult, ErrorKind};

/// "1 validation error detected: Value '…' at '…' failed to satisfy constraint: …".
pub fn violation(value: &str, field: &str, constraint: &str) -> ApiError {
    err(
        ErrorKind::IamValidation,
        format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"
        ),
    )
}

/// A required member that is absent.
pub fn missing(field: &str) -> ApiError {
    err(
        ErrorKind::IamValidation,
        format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ),
    )
}

/// The value of a required member.
pub fn required<'a>(value: Option<&'a str>, field: &str) -> ApiResult<&'a str> {
    value.ok_or_else(|| missing(field))
}

/// Length in characters within `min..=max`.
pub fn length(value: &str, field: &str, min: usize, max: usize) -> ApiResult<()> {
    let n = value.chars().count();
    if n < min {
        return Err(violation(
            value,
            field,
            &format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if n > max {
        return Err(violation(
            value,
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// An integer within `min..=max`.
pub fn range(value: i64, field: &str, min: i64, max: i64) -> ApiResult<()> {
    if value < min {
        return Err(violation(
            &value.to_string(),
            field,
            &format!("Member must have value greater than or equal to {min}"),
        ));
    }
    if value > max {
        return Err(violation(
            &value.to_string(),
            field,
            &format!("Member must have value less than or equal to {max}"),
        ));
    }
    Ok(())
}

fn pattern(value: &str, field: &str, ok: bool, regex: &str) -> ApiResult<()> {
    if ok {
        Ok(())
    } else {
        Err(violation(
            value,
            field,
            &format!("Member must satisfy regular expression pattern: {regex}"),
        ))
    }
}

fn word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// A user, group, role or policy name: `[\w+=,.@-]+`, 1–`max` characters.
pub fn name(value: &str, field: &str, max: usize) -> ApiResult<()> {
    length(value, field, 1, max)?;
    pattern(
        value,
        field,
        value.chars().all(|c| word_char(c) || "+=,.@-".contains(c)),
        r"[\w+=,.@-]+",
    )
}

/// A name that looks an existing user up (`existingUserNameType`: up to 128).
pub fn existing_user_name(value: &str) -> ApiResult<()> {
    name(value, "userName", 128)
}

/// An entity path: `/` or `/…/` with characters `!`–`~`, up to 512.
pub fn path(value: &str, field: &str) -> ApiResult<()> {
    length(value, field, 1, 512)?;
    let ok = value == "/"
        || (value.len() >= 3
            && value.starts_with('/')
            && value.ends_with('/')
            && value[1..value.len() - 1]
                .chars()
                .all(|c| ('\u{21}'..='\u{7E}').contains(&c)));
    pattern(value, field, ok, r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)")
}

/// A `PathPrefix` of a list call.
pub fn path_prefix(value: &str, field: &str) -> ApiResult<()> {
    length(value, field, 1, 512)?;
    pattern(
        value,
        field,
        value.starts_with('/') && value.chars().all(|c| ('\u{21}'..='\u{7F}').contains(&c)),
        r"\u002F[\u0021-\u007F]*",
    )
}

/// A managed-policy path: `((/[A-Za-z0-9\.,\+@=_-]+)*)/`.
pub fn policy_path(value: &str, field: &str) -> ApiResult<()> {
    length(value, field, 1, 512)?;
    let segment_ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".,+@=_-".contains(c))
    };
    let ok = value.starts_with('/')
        && value.ends_with('/')
        && (value == "/" || value[1..value.len() - 1].split('/').all(segment_ok));
    pattern(value, field, ok, r"((/[A-Za-z0-9\.,\+@=_-]+)*)/")
}

/// A description of at most `max` characters.
pub fn description(value: &str, field: &str, max: usize) -> ApiResult<()> {
    length(value, field, 0, max)
}

/// A role's description: at most 1000 characters of
/// `[\t\n\r\u0020-\u007E\u00A1-\u00FF]` (the model's `roleDescriptionType`).
pub fn role_description(value: &str) -> ApiResult<()> {
    description(value, "description", 1000)?;
    pattern(
        value,
        "description",
        value
            .chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7E}' | '\u{A1}'..='\u{FF}')),
        r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*",
    )
}

/// A character AWS allows in tag keys and values (`[\p{L}\p{Z}\p{N}_.:/=+\-@]`).
pub fn tag_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Tags of one request: key 1–128 and value 0–256 characters of `[\p{L}\p{Z}\p{N}_.:/=+\-@]`,
/// keys unique case-insensitively, and at most 50 on the entity once added (`existing`
/// counts the keys it already has that the request does not replace).
pub fn tags(tags: &[Tag], existing: usize, quota_name: &str) -> ApiResult<()> {
    for (i, (k, v)) in tags.iter().enumerate() {
        let n = i + 1;
        length(k, &format!("tags.{n}.member.key"), 1, 128)?;
        pattern(
            k,
            &format!("tags.{n}.member.key"),
            k.chars().all(tag_char),
            r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+",
        )?;
        length(v, &format!("tags.{n}.member.value"), 0, 256)?;
        pattern(
            v,
            &format!("tags.{n}.member.value"),
            v.chars().all(tag_char),
            r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*",
        )?;
    }
    if let Some((k, _)) = tags
        .iter()
        .find(|(k, _)| k.to_lowercase().starts_with("aws:"))
    {
        return Err(err(
            ErrorKind::InvalidInput,
            format!("Tag key {k} is invalid: the aws: prefix is reserved for AWS use."),
        ));
    }
    for (i, (k, _)) in tags.iter().enumerate() {
        if tags[..i]
            .iter()
            .any(|(o, _)| o.to_lowercase() == k.to_lowercase())
        {
            return Err(err(
                ErrorKind::InvalidInput,
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            ));
        }
    }
    if existing + tags.len() > 50 {
        return Err(err(
            ErrorKind::LimitExceeded,
            format!("Cannot exceed quota for {quota_name}: 50"),
        ));
    }
    Ok(())
}

/// Tag keys of an Untag call.
pub fn tag_keys(keys: &[String]) -> ApiResult<()> {
    length_list(keys.len(), "tagKeys", 50)?;
    for (i, k) in keys.iter().enumerate() {
        length(k, &format!("tagKeys.{}.member", i + 1), 1, 128)?;
    }
    Ok(())
}

fn length_list(n: usize, field: &str, max: usize) -> ApiResult<()> {
    if n > max {
        return Err(violation(
            "[…]",
            field,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// The text of a policy document: 1–131072 characters of `[\t\n\r\u0020-\u00FF]`.
pub fn document_text(text: &str, field: &str) -> ApiResult<()> {
    length(text, field, 1, 131_072)?;
    pattern(
        "…",
        field,
        text.chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}')),
        r"[\u0009\u000A\u000D\u0020-\u00FF]+",
    )
}

/// Parses and validates a policy document of `kind`, refusing it with
/// `MalformedPolicyDocument` and IAM's message.
pub fn policy(text: &str, kind: PolicyKind, field: &str) -> ApiResult<Document> {
    document_text(text, field)?;
    Document::parse(text, kind).map_err(|m| err(ErrorKind::MalformedPolicyDocument, m.message()))
}

/// `Active` or `Inactive`. The model's enum also has `Expired`, which IAM sets and a caller
/// cannot: it gets a message of its own, so the enum's message (from the model's rules,
/// before this) stays the one message of a value outside the set.
pub fn key_status(value: &str) -> ApiResult<()> {
    match value {
        "Active" | "Inactive" => Ok(()),
        "Expired" => Err(err(
            ErrorKind::InvalidInput,
            "An access key's status can be set to Active or Inactive only; IAM sets Expired.",
        )),
        _ => Err(violation(
            value,
            "status",
            "Member must satisfy enum value set: [Active, Inactive, Expired]",
        )),
    }
}

/// The new name and path of a rename (UpdateUser, UpdateGroup): `field` names the new-name
/// member (`newUserName`, `newGroupName`) with its longest length.
pub fn rename(
    new_name: Option<&str>,
    (field, max): (&str, usize),
    new_path: Option<&str>,
) -> ApiResult<()> {
    if let Some(n) = new_name {
        name(n, field, max)?;
    }
    if let Some(p) = new_path {
        path(p, "newPath")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_model() {
        assert!(name("alice.b@x+y=z,w-1_", "userName", 64).is_ok());
        let e = name("a b", "userName", 64).unwrap_err();
        assert_eq!(e.kind, ErrorKind::IamValidation);
        assert_eq!(
            e.message,
            r"1 validation error detected: Value 'a b' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+"
        );
        assert!(name(&"a".repeat(65), "userName", 64).is_err());
        assert!(name("", "userName", 64).is_err());
    }

    #[test]
    fn paths() {
        assert!(path("/", "path").is_ok());
        assert!(path("/div/team/", "path").is_ok());
        assert!(path("/div", "path").is_err());
        assert!(path("div/", "path").is_err());
        assert!(policy_path("/a/b/", "path").is_ok());
        assert!(policy_path("/a//", "path").is_err());
        assert!(path_prefix("/div", "pathPrefix").is_ok());
    }

    #[test]
    fn tag_rules() {
        let t = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert!(
            tags(
                &[t("team", "audit"), t("cost center", "1")],
                0,
                "TagsPerUser"
            )
            .is_ok()
        );
        let e = tags(&[t("A", "1"), t("a", "2")], 0, "TagsPerUser").unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidInput);
        assert_eq!(
            tags(&[t("k", "v")], 50, "TagsPerUser").unwrap_err().kind,
            ErrorKind::LimitExceeded
        );
        assert!(tags(&[t("k", "v!")], 0, "TagsPerUser").is_err());
    }

    #[test]
    fn role_descriptions_follow_the_model_pattern() {
        assert!(role_description("Allows EC2 — café\tok").is_err());
        assert!(role_description("Allows EC2 to call café\tok").is_ok());
        let e = role_description("snowman \u{2603}").unwrap_err();
        assert!(
            e.message
                .contains("Member must satisfy regular expression pattern"),
            "{}",
            e.message
        );
        assert!(role_description("\u{7F}").is_err());
        assert!(role_description(&"a".repeat(1001)).is_err());
    }

    #[test]
    fn documents_are_checked_by_the_policy_crate() {
        let e = policy("{", PolicyKind::Identity, "policyDocument").unwrap_err();
        assert_eq!(e.kind, ErrorKind::MalformedPolicyDocument);
        assert_eq!(e.message, "Syntax errors in policy.");
        assert!(
            policy(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#,
                PolicyKind::Identity,
                "policyDocument"
            )
            .is_ok()
        );
    }
}
