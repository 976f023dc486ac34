//! A topic's tags (TagResource, UntagResource, ListTagsForResource, CreateTopic's `Tags`)
//! with AWS's limits (CloudFormation alone may set its `aws:cloudformation:*` tags, which do
//! not count toward the 50), and its access policy's statements by label (AddPermission,
//! RemovePermission: the label is the statement's `Sid`).

use cairn_store::Connection;
use cairn_store::sns;
use serde_json::{Value, json};

use crate::CallContext;
pub use crate::bucket_tags::Tagger;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Most tags a topic may carry.
pub const MAX_TAGS: usize = 50;

/// The actions a topic policy may grant, by AddPermission or in its `Policy` (SNS Developer
/// Guide, "Amazon SNS API permissions: Actions and resources reference"), and `Receive`,
/// which older default topic policies carry and AddPermission takes. SNS refuses any other
/// as "out of service scope" (sns6: every SNS operation, or `s3:GetObject`, was taken).
pub const ACTIONS: [&str; 12] = [
    "AddPermission",
    "DeleteTopic",
    "GetDataProtectionPolicy",
    "GetTopicAttributes",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "Publish",
    "PutDataProtectionPolicy",
    "Receive",
    "RemovePermission",
    "SetTopicAttributes",
    "Subscribe",
];

/// Whether a topic policy's action pattern (`SNS:Publish`, `sns:Get*`, `*`) names at least
/// one of [`ACTIONS`], and no other service's.
pub fn in_topic_scope(pattern: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let Some((service, name)) = pattern.split_once(':') else {
        return false;
    };
    service.eq_ignore_ascii_case("sns")
        && ACTIONS
            .iter()
            .any(|a| crate::wildcard::matches(&name.to_ascii_lowercase(), &a.to_ascii_lowercase()))
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::SnsInvalidParameter, message)
}

fn resource_not_found() -> ApiError {
    ApiError::new(ErrorKind::SnsResourceNotFound, "Resource does not exist")
}

/// Checks tags as a request gives them: key 1–128 characters and not `aws:`-prefixed,
/// value at most 256 characters, at most [`MAX_TAGS`].
pub fn check_tags(tags: &[(String, String)]) -> ApiResult<()> {
    for (k, v) in tags {
        let reason = if !(1..=128).contains(&k.chars().count()) {
            Some("Tag keys must be between 1 and 128 characters in length")
        } else if k.to_ascii_lowercase().starts_with("aws:") {
            Some("Tag keys starting with 'aws:' are reserved for AWS use")
        } else if v.chars().count() > 256 {
            Some("Tag values must be at most 256 characters in length")
        } else {
            None
        };
        if let Some(r) = reason {
            return Err(invalid(format!("Invalid parameter: Tags Reason: {r}")));
        }
    }
    // SNS refuses a request that names a key twice rather than keep the last value.
    let mut seen = std::collections::HashSet::new();
    if !tags.iter().all(|(k, _)| seen.insert(k.as_str())) {
        return Err(invalid(
            "Invalid parameter: Duplicated keys are not allowed.",
        ));
    }
    if distinct(tags) > MAX_TAGS {
        return Err(tag_limit());
    }
    Ok(())
}

fn is_system(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// The distinct keys of `tags` that count toward [`MAX_TAGS`] (system tags do not).
fn distinct(tags: &[(String, String)]) -> usize {
    tags.iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !is_system(k))
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

fn tag_limit() -> ApiError {
    ApiError::new(
        ErrorKind::SnsTagLimitExceeded,
        "Could not complete request: tag quota of per resource exceeded",
    )
}

/// The caller's topic for a tagging call (`ResourceNotFound` otherwise).
fn tagged_topic(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<()> {
    crate::sns::owned(conn, ctx, arn).map_err(|_| resource_not_found())?;
    Ok(())
}

/// TagResource: adds tags, replacing the values of existing keys; a topic keeps at most 50.
/// Only CloudFormation (`tagger`) may set `aws:` keys, its stack's system tags.
pub fn tag_resource(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    tags: &[(String, String)],
    tagger: Tagger,
) -> ApiResult<()> {
    tagged_topic(conn, ctx, arn)?;
    match tagger {
        Tagger::Requester => check_tags(tags)?,
        Tagger::CloudFormation => {
            let own: Vec<(String, String)> = tags
                .iter()
                .filter(|(k, _)| !is_system(k))
                .cloned()
                .collect();
            check_tags(&own)?;
        }
    }
    let mut all = sns::topic_tags(conn, arn)?;
    all.extend(tags.iter().cloned());
    if distinct(&all) > MAX_TAGS {
        return Err(tag_limit());
    }
    sns::put_topic_tags(conn, arn, tags)?;
    Ok(())
}

/// UntagResource: removes these keys (absent ones are ignored). `aws:` keys are AWS's own
/// (CloudFormation's stack tags): a requester cannot remove them.
pub fn untag_resource(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    keys: &[String],
    tagger: Tagger,
) -> ApiResult<()> {
    tagged_topic(conn, ctx, arn)?;
    if let Some(k) = keys
        .iter()
        .find(|k| !(1..=128).contains(&k.chars().count()))
    {
        return Err(invalid(format!(
            "Invalid parameter: TagKeys Reason: tag key {k:?} must be between 1 and 128 characters in length"
        )));
    }
    if matches!(tagger, Tagger::Requester) && keys.iter().any(|k| is_system(k)) {
        return Err(invalid(
            "Invalid parameter: TagKeys Reason: Tag keys starting with 'aws:' are reserved for AWS use",
        ));
    }
    sns::delete_topic_tags(conn, arn, keys)?;
    Ok(())
}

/// ListTagsForResource: the topic's tags by key.
pub fn list_tags(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<Vec<(String, String)>> {
    tagged_topic(conn, ctx, arn)?;
    Ok(sns::topic_tags(conn, arn)?)
}

fn statements(policy: &mut Value) -> ApiResult<&mut Vec<Value>> {
    let Some(obj) = policy.as_object_mut() else {
        return Err(ApiError::new(
            ErrorKind::Internal,
            "a stored topic policy is not an object",
        ));
    };
    let entry = obj
        .entry("Statement")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !entry.is_array() {
        *entry = Value::Array(vec![entry.take()]);
    }
    Ok(entry.as_array_mut().expect("made an array"))
}

/// AddPermission: a statement `Sid` = `label` allowing `accounts` (account IDs, as their root
/// ARNs) the SNS `actions` on the topic. A label already in the policy is refused.
pub fn add_permission(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    label: &str,
    accounts: &[String],
    actions: &[String],
) -> ApiResult<()> {
    let topic = crate::sns::owned(conn, ctx, arn)?;
    if label.is_empty() {
        return Err(invalid("Invalid parameter: Label"));
    }
    if accounts.is_empty() {
        return Err(invalid("Invalid parameter: AWSAccountId"));
    }
    if actions.is_empty() {
        return Err(invalid("Invalid parameter: ActionName"));
    }
    let mut principals = Vec::new();
    for a in accounts {
        if a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()) {
            principals.push(format!("arn:aws:iam::{a}:root"));
        } else if a.starts_with("arn:aws:iam::") || a == "*" {
            principals.push(a.clone());
        } else {
            return Err(invalid(format!(
                "Invalid parameter: AWSAccountId Reason: {a} is not a valid account ID"
            )));
        }
    }
    let mut granted = Vec::new();
    for a in actions {
        let name = a
            .strip_prefix("SNS:")
            .or_else(|| a.strip_prefix("sns:"))
            .unwrap_or(a);
        if !ACTIONS.contains(&name) {
            return Err(invalid(format!(
                "Invalid parameter: Policy statement action out of service scope!: {a}"
            )));
        }
        granted.push(format!("SNS:{name}"));
    }
    let mut policy: Value = serde_json::from_str(&topic.policy)
        .map_err(|_| ApiError::new(ErrorKind::Internal, "a stored topic policy does not parse"))?;
    let list = statements(&mut policy)?;
    if list
        .iter()
        .any(|s| s.get("Sid").and_then(Value::as_str) == Some(label))
    {
        return Err(invalid("Invalid parameter: Statement already exists"));
    }
    list.push(json!({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": principals},
        "Action": granted,
        "Resource": arn,
    }));
    let text = policy.to_string();
    crate::sns::check_policy(conn, ctx.account().as_str(), &text)?;
    sns::set_policy(conn, arn, &text)?;
    Ok(())
}

/// RemovePermission: removes the statement `Sid` = `label` (nothing when there is none).
pub fn remove_permission(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    label: &str,
) -> ApiResult<()> {
    let topic = crate::sns::owned(conn, ctx, arn)?;
    if label.is_empty() {
        return Err(invalid("Invalid parameter: Label"));
    }
    let mut policy: Value = serde_json::from_str(&topic.policy)
        .map_err(|_| ApiError::new(ErrorKind::Internal, "a stored topic policy does not parse"))?;
    let list = statements(&mut policy)?;
    let before = list.len();
    list.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label));
    if list.len() != before {
        sns::set_policy(conn, arn, &policy.to_string())?;
    }
    Ok(())
}

/// A `TopicArn` SNS can read: six elements at least, of SNS, in the call's region; else
/// `InvalidParameter` in SNS's words.
pub fn check_topic_arn(ctx: &CallContext, arn: &str) -> ApiResult<()> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() < 6 {
        return Err(ApiError::new(
            ErrorKind::SnsInvalidParameter,
            format!(
                "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not {}",
                parts.len()
            ),
        ));
    }
    if parts[0] != "arn" || parts[2] != "sns" || parts[3] != ctx.region.as_str() {
        return Err(ApiError::new(
            ErrorKind::SnsInvalidParameter,
            "Invalid parameter: TopicArn",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod scope_tests {
    use super::in_topic_scope;

    #[test]
    fn a_topic_policy_names_only_topic_actions() {
        for ok in [
            "SNS:Publish",
            "sns:publish",
            "sns:*",
            "SNS:Get*",
            "*",
            "SNS:Receive",
        ] {
            assert!(in_topic_scope(ok), "{ok}");
        }
        for refused in [
            "sns:CreateTopic",
            "SNS:SetSubscriptionAttributes",
            "sns:Create*",
            "s3:GetObject",
            "Publish",
        ] {
            assert!(!in_topic_scope(refused), "{refused}");
        }
    }
}
