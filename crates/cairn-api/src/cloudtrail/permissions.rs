//! What each CloudTrail operation must be allowed to do (Service Authorization Reference,
//! spec iam-kms.md §5.1): the action is `cloudtrail:<Operation>`; trail operations are
//! authorized against the trail's home-region ARN, tag operations against each resource they
//! name, and the rest against `*`. A trail's tags are its `aws:ResourceTag/<key>` values. CreateTrail/UpdateTrail also need `iam:PassRole` for a
//! CloudWatch Logs role, and CreateTrail `cloudtrail:AddTags` when it tags.

use cairn_core::authz::Permission;
use cairn_core::error::ApiResult;
use cairn_core::{CallContext, trails};
use cairn_store::Connection;
use serde_json::Value;

/// The member naming the trail, for operations with a trail resource.
fn trail_member(op: &str) -> Option<&'static str> {
    Some(match op {
        "CreateTrail" | "UpdateTrail" | "DeleteTrail" | "GetTrail" | "GetTrailStatus"
        | "StartLogging" | "StopLogging" => "Name",
        "PutEventSelectors"
        | "GetEventSelectors"
        | "PutInsightSelectors"
        | "GetInsightSelectors"
        | "ListInsightsData"
        | "ListInsightsMetricData" => "TrailName",
        _ => return None,
    })
}

fn text<'a>(body: &'a Value, member: &str) -> Option<&'a str> {
    body.get(member).and_then(Value::as_str)
}

fn tag_keys(body: &Value) -> Vec<String> {
    body.get("TagsList")
        .and_then(Value::as_array)
        .map(|tags| {
            tags.iter()
                .filter_map(|t| t.get("Key").and_then(Value::as_str).map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn with_request_tags(mut p: Permission, body: &Value) -> Permission {
    if let Some(tags) = body.get("TagsList").and_then(Value::as_array) {
        for t in tags {
            if let (Some(k), Some(v)) = (
                t.get("Key").and_then(Value::as_str),
                t.get("Value").and_then(Value::as_str),
            ) {
                p = p.with(&format!("aws:RequestTag/{k}"), v);
            }
        }
        p = p.with_values("aws:TagKeys", tag_keys(body));
    }
    p
}

/// The permissions `op` needs for request `body`.
pub fn of(
    conn: &Connection,
    ctx: &CallContext,
    op: &str,
    body: &Value,
) -> ApiResult<Vec<Permission>> {
    let action = format!("cloudtrail:{op}");
    if let Some(member) = trail_member(op) {
        let name = text(body, member).unwrap_or("");
        let arn = trails::arn_for_authz(conn, ctx, name)?;
        let mut needed = vec![with_request_tags(Permission::new(action, &arn), body)];
        if op == "CreateTrail" && !tag_keys(body).is_empty() {
            needed.push(with_request_tags(
                Permission::new("cloudtrail:AddTags", &arn),
                body,
            ));
        }
        if matches!(op, "CreateTrail" | "UpdateTrail")
            && let Some(role) = text(body, "CloudWatchLogsRoleArn").filter(|r| !r.is_empty())
        {
            needed.push(
                Permission::new("iam:PassRole", role)
                    .with("iam:PassedToService", "cloudtrail.amazonaws.com")
                    .with("iam:AssociatedResourceArn", &arn),
            );
        }
        return Ok(needed);
    }
    match op {
        "AddTags" | "RemoveTags" | "ListTags" => {
            let ids: Vec<String> = match body.get("ResourceIdList").and_then(Value::as_array) {
                Some(list) => list
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
                None => text(body, "ResourceId")
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
            };
            ids.iter()
                .map(|id| {
                    let arn = trails::arn_for_authz(conn, ctx, id)?;
                    Ok(with_request_tags(Permission::new(&action, arn), body))
                })
                .collect()
        }
        _ => Ok(vec![Permission::any(action)]),
    }
}
