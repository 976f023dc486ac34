//! The tags of the resource a permission names. Every call's request context carries them as
//! `aws:ResourceTag/<key>` (IAM users and roles also as `iam:ResourceTag/<key>`), whichever
//! service the call came through: a CloudTrail trail, an SNS topic, a CloudWatch Logs log
//! group, a CloudWatch alarm, a KMS key, a CloudFormation stack, an IAM customer managed
//! policy, user or role (so `sts:AssumeRole` on a role sees the role's tags, as IAM's ABAC
//! tutorial needs). The evaluator fills them in one place;
//! without them a `Deny` on a resource tag would never apply. A resource that does not exist
//! (or an ARN of another kind) has none.

use cairn_store::Connection;

use crate::error::ApiResult;

/// The parts of an ARN: service, region, account and resource.
fn parts(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut p = arn.splitn(6, ':');
    match (p.next(), p.next(), p.next(), p.next(), p.next(), p.next()) {
        (Some("arn"), Some(_), Some(service), Some(region), Some(account), Some(resource)) => {
            Some((service, region, account, resource))
        }
        _ => None,
    }
}

/// The account that owns the bucket of an S3 ARN (`s3:ResourceAccount`); `None` for other
/// ARNs or a bucket that does not exist.
pub fn s3_owner(conn: &Connection, arn: &str) -> ApiResult<Option<String>> {
    let Some(rest) = arn.strip_prefix("arn:aws:s3:::") else {
        return Ok(None);
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    Ok(cairn_store::buckets::get(conn, bucket)?.map(|b| b.account))
}

/// The tags of the resource `arn` names, and whether IAM also names them `iam:ResourceTag`.
pub fn of(conn: &Connection, arn: &str) -> ApiResult<(Vec<(String, String)>, bool)> {
    let Some((service, region, account, resource)) = parts(arn) else {
        return Ok((Vec::new(), false));
    };
    let tags = match (service, resource.split_once(['/', ':'])) {
        ("cloudtrail", Some(("trail", name))) => {
            cairn_store::trails::get(conn, account, region, name)?
                .map(|t| {
                    t.tags
                        .into_iter()
                        .map(|t| (t.key, t.value.unwrap_or_default()))
                        .collect()
                })
                .unwrap_or_default()
        }
        ("sns", None) => cairn_store::sns::topic_tags(conn, arn)?,
        // A group by its ARN, or by its streams' form (`…:log-stream:`, no stream named),
        // which group-level calls are authorized on.
        ("logs", Some(("log-group", rest)))
            if !rest.contains(":log-stream:") || rest.ends_with(":log-stream:") =>
        {
            let rest = rest.strip_suffix(":log-stream:").unwrap_or(rest);
            let name = rest.strip_suffix(":*").unwrap_or(rest);
            match cairn_store::logs::get_group(conn, account, region, name)? {
                Some(g) => cairn_store::logs::tags(conn, g.id)?,
                None => Vec::new(),
            }
        }
        ("cloudwatch", Some(("alarm", name))) => {
            match cairn_store::alarms::get(conn, account, region, name)? {
                // An alarm that cannot be read has no tags to offer, not an error for every
                // call on it.
                Some(body) => crate::alarms::Alarm::decode(&body)
                    .map(|a| a.tags)
                    .unwrap_or_else(|e| {
                        tracing::warn!(alarm = name, error = %e.message, "unreadable alarm");
                        Vec::new()
                    }),
                None => Vec::new(),
            }
        }
        // Key ids are unique, but the ARN must be the key's own (its account and region).
        ("kms", Some(("key", id))) => match cairn_store::kms::get_key(conn, id)? {
            Some(k) if k.arn == arn => cairn_store::kms::list_tags(conn, id, "", 50)?
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect(),
            _ => Vec::new(),
        },
        // A stack's id is its ARN (`stack/<name>/<uuid>`); a name not yet made has none.
        ("cloudformation", Some(("stack", _))) => {
            match cairn_store::cloudformation::get_stack(conn, arn)? {
                // A stack that cannot be read has no tags to offer, as an alarm.
                Some(row) if !row.deleted => crate::cloudformation::model::from_body::<
                    crate::cloudformation::model::Stack,
                >(&row.body)
                .map(|s| s.tags)
                .unwrap_or_else(|e| {
                    tracing::warn!(stack = arn, error = %e.message, "unreadable stack");
                    Vec::new()
                }),
                _ => Vec::new(),
            }
        }
        ("iam", Some(("policy", _))) => match cairn_store::iam::policies::get_policy(conn, arn)? {
            Some(p) => cairn_store::iam::tags::tags(conn, &p.policy_id)?,
            None => Vec::new(),
        },
        ("iam", Some(("user" | "role", _))) => {
            let found = match crate::iam::named_by_arn(conn, arn)? {
                Some(named) => cairn_store::iam::tags::tags(conn, named.id())?,
                None => Vec::new(),
            };
            return Ok((found, true));
        }
        _ => Vec::new(),
    };
    Ok((tags, false))
}

#[cfg(test)]
mod tests {
    use super::parts;

    #[test]
    fn arns_split_into_service_region_account_and_resource() {
        assert_eq!(
            parts("arn:aws:logs:us-east-1:111122223333:log-group:/a/b:*"),
            Some(("logs", "us-east-1", "111122223333", "log-group:/a/b:*"))
        );
        assert_eq!(
            parts("arn:aws:iam::111122223333:user/path/to/alice"),
            Some(("iam", "", "111122223333", "user/path/to/alice"))
        );
        assert_eq!(
            parts("arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a:b/c"),
            Some(("cloudwatch", "eu-west-1", "111122223333", "alarm:a:b/c"))
        );
        assert_eq!(parts("*"), None);
        assert_eq!(parts("arn:aws:s3"), None);
    }
}
