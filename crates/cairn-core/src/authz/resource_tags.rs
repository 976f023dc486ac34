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
        ("logs", Some(("log-group", rest))) if !rest.contains(":log-stream:") => {
            let name = rest.strip_suffix(":*").unwrap_or(rest);
            match cairn_store::logs::get_group(conn, account, region, name)? {
                Some(g) => cairn_store::logs::tags(conn, g.id)?,
                None => Vec::new(),
            }
        }
        ("cloudwatch", Some(("alarm", name))) => {
            match cairn_store::alarms::get(conn, account, region, name)? {
                Some(body) => crate::alarms::Alarm::decode(&body)?.tags,
                None => Vec::new(),
            }
        }
        ("kms", Some(("key", id))) => cairn_store::kms::list_tags(conn, id, "", 50)?
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect(),
        // A stack's id is its ARN (`stack/<name>/<uuid>`); a name not yet made has none.
        ("cloudformation", Some(("stack", _))) => {
            match cairn_store::cloudformation::get_stack(conn, arn)? {
                Some(row) if !row.deleted => {
                    crate::cloudformation::model::from_body::<crate::cloudformation::model::Stack>(
                        &row.body,
                    )?
                    .tags
                }
                _ => Vec::new(),
            }
        }
        ("iam", Some(("policy", _))) => match cairn_store::iam::policies::get_policy(conn, arn)? {
            Some(p) => cairn_store::iam::tags::tags(conn, &p.policy_id)?,
            None => Vec::new(),
        },
        ("iam", Some(("user" | "role", rest))) => {
            use cairn_store::iam::{roles, tags, users};
            let name = rest.rsplit('/').next().unwrap_or_default();
            let owner = if resource.starts_with("user/") {
                users::get_user(conn, account, name)?.map(|u| u.user_id)
            } else {
                roles::get_role(conn, account, name)?.map(|r| r.role_id)
            };
            let found = match owner {
                Some(id) => tags::tags(conn, &id)?,
                None => Vec::new(),
            };
            return Ok((found, true));
        }
        _ => Vec::new(),
    };
    Ok((tags, false))
}
