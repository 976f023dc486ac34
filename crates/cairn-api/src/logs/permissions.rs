//! What each CloudWatch Logs operation must be allowed to do (spec iam-kms.md §5.2): the action
//! is `logs:<Operation>`; stream-level calls are authorized against the stream ARN
//! (`…:log-group:<g>:log-stream:<s>`), most group-level calls against the group's streams
//! (`…:log-group:<g>:log-stream:`, the resource CloudWatch Logs' denials name, which the
//! guide's `…:log-group:<g>:*` statements match), deleting, protecting, tagging by name and
//! the KMS key of a group too; TagResource, UntagResource and ListTagsForResource against the
//! ARN they name (the guide's exception), the rest against `*`.

use cairn_core::CallContext;
use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_core::logs::{group_arn, stream_arn};
use cairn_store::Connection;
use serde_json::Value;

fn text<'a>(body: &'a Value, member: &str) -> Option<&'a str> {
    body.get(member).and_then(Value::as_str)
}

/// The group a request names, by name or by ARN (with or without `:*`).
fn group_name(body: &Value) -> Option<String> {
    if let Some(n) = text(body, "logGroupName") {
        return Some(n.to_owned());
    }
    let id = text(body, "logGroupIdentifier")
        .or_else(|| text(body, "resourceIdentifier").filter(|id| id.contains(":log-group:")))?;
    Some(match id.split_once(":log-group:") {
        Some((_, rest)) => rest.strip_suffix(":*").unwrap_or(rest).to_owned(),
        None => id.to_owned(),
    })
}

fn with_request_tags(mut p: Permission, body: &Value) -> Permission {
    if let Some(tags) = body.get("tags").and_then(Value::as_object) {
        for (k, v) in tags {
            if let Some(v) = v.as_str() {
                p = p.with(&format!("aws:RequestTag/{k}"), v);
            }
        }
        p = p.with_values("aws:TagKeys", tags.keys().cloned().collect());
    }
    p
}

/// `p` with `aws:TagKeys`: the keys listed in `member` of an untag call.
fn with_removed_keys(p: Permission, body: &Value, member: &str) -> Permission {
    let keys = crate::wire::strings_of(body, member);
    if keys.is_empty() {
        p
    } else {
        p.with_values("aws:TagKeys", keys)
    }
}

/// The permissions `op` needs for request `body`.
pub fn of(_: &Connection, ctx: &CallContext, op: &str, body: &Value) -> ApiResult<Vec<Permission>> {
    let action = format!("logs:{op}");
    let (region, account) = (ctx.region.as_str(), ctx.account().as_str());
    let group = group_name(body);
    let group_resource = || {
        group
            .as_deref()
            .map_or_else(|| "*".to_owned(), |g| group_arn(region, account, g))
    };
    // Most calls on a group are authorized on its streams' form,
    // `…:log-group:<name>:log-stream:` (the resource CloudWatch Logs' denials name, which the
    // usual `…:log-group:<name>:*` statements match); without a group, on the account's,
    // `…:log-group::log-stream:`.
    let group_streams = || stream_arn(region, account, group.as_deref().unwrap_or(""), "");
    // A named group's calls are also judged on its bare ARN, the form some policies name it
    // by: a Deny of either form applies, an Allow of either allows.
    let on_group = |action: &str| {
        let p = Permission::new(action, group_streams());
        match &group {
            Some(g) => p.also_named(group_arn(region, account, g)),
            None => p,
        }
    };
    let needed = match op {
        "PutLogEvents" | "GetLogEvents" | "CreateLogStream" | "DeleteLogStream" => {
            match (&group, text(body, "logStreamName")) {
                (Some(g), Some(s)) => {
                    vec![Permission::new(action, stream_arn(region, account, g, s))]
                }
                _ => vec![Permission::new(action, group_resource())],
            }
        }
        // "To assign tags when you create a log group, you must have either the
        // logs:TagResource or logs:TagLogGroup permission" (the API reference; logs8: a Deny
        // on both did not stop tagging at creation).
        "CreateLogGroup" => {
            let mut needed = vec![with_request_tags(on_group(&action), body)];
            if body
                .get("tags")
                .and_then(Value::as_object)
                .is_some_and(|t| !t.is_empty())
            {
                needed.push(
                    with_request_tags(on_group("logs:TagResource"), body).or("logs:TagLogGroup"),
                );
            }
            needed
        }
        "TagLogGroup" => vec![with_request_tags(on_group(&action), body)],
        "DescribeLogStreams"
        | "FilterLogEvents"
        | "PutRetentionPolicy"
        | "DeleteRetentionPolicy"
        | "PutMetricFilter"
        | "DeleteMetricFilter"
        | "DescribeMetricFilters" => vec![on_group(&action)],
        "DescribeLogGroups" => vec![Permission::new(action, stream_arn(region, account, "", ""))],
        // As AWS's denials name them (iamapi6: a Deny on `…:log-group:CloudTrail/*:*`, the
        // form the CloudWatch Logs guide asks for, did not stop DeleteLogGroup, judged
        // against the bare group ARN).
        "DeleteLogGroup" | "PutLogGroupDeletionProtection" | "ListTagsLogGroup" => {
            vec![on_group(&action)]
        }
        // The keys an untag call removes are `aws:TagKeys`.
        "UntagLogGroup" => vec![with_removed_keys(on_group(&action), body, "tags")],
        // A log group, or the account's query results (`…:query-result:*`) by their ARN.
        "AssociateKmsKey" | "DisassociateKmsKey" => match text(body, "resourceIdentifier") {
            Some(arn) if group.is_none() && arn.starts_with("arn:") => {
                vec![Permission::new(action, arn)]
            }
            // Anything else names a group (the call then refuses a bare name).
            Some(name) if group.is_none() => {
                vec![
                    Permission::new(action, stream_arn(region, account, name, ""))
                        .also_named(group_arn(region, account, name)),
                ]
            }
            _ => vec![on_group(&action)],
        },
        "TagResource" | "UntagResource" | "ListTagsForResource" => {
            let arn = text(body, "resourceArn").unwrap_or("*");
            let arn = arn.strip_suffix(":*").unwrap_or(arn);
            let p = Permission::new(action, arn);
            vec![match op {
                "TagResource" => with_request_tags(p, body),
                "UntagResource" => with_removed_keys(p, body, "tagKeys"),
                _ => p,
            }]
        }
        "StartQuery" => {
            let mut names: Vec<String> = Vec::new();
            if let Some(n) = text(body, "logGroupName") {
                names.push(n.to_owned());
            }
            for member in ["logGroupNames", "logGroupIdentifiers"] {
                if let Some(list) = body.get(member).and_then(Value::as_array) {
                    for id in list.iter().filter_map(Value::as_str) {
                        names.push(match id.split_once(":log-group:") {
                            Some((_, rest)) => rest.strip_suffix(":*").unwrap_or(rest).to_owned(),
                            None => id.to_owned(),
                        });
                    }
                }
            }
            if names.is_empty() {
                vec![Permission::any(action)]
            } else {
                // On each group's streams, as FilterLogEvents: the resource AWS's denials
                // name (`…:log-group:<g>:log-stream:`), which `log-group:<g>:*` matches.
                names
                    .iter()
                    .map(|n| {
                        Permission::new(&action, stream_arn(region, account, n, ""))
                            .also_named(group_arn(region, account, n))
                    })
                    .collect()
            }
        }
        // Any other call that names a group, served or not (PutSubscriptionFilter, …), on its
        // streams too: a Deny naming the group applies to it, and a refusal is `AccessDenied`
        // before `UnsupportedOperationException` (iamapi6: judged on `*`, a denied attempt to
        // send the trail's group elsewhere was not an unauthorized call).
        _ if group.is_some() => vec![on_group(&action)],
        _ => vec![Permission::any(action)],
    };
    // "If you specify true for unmask, you must have the logs:Unmask permission" (the API
    // reference of GetLogEvents and FilterLogEvents; sdk9).
    let mut needed = needed;
    if matches!(op, "GetLogEvents" | "FilterLogEvents")
        && body.get("unmask").and_then(Value::as_bool) == Some(true)
    {
        needed.push(on_group("logs:Unmask"));
    }
    Ok(needed)
}
