//! `AWS::CloudTrail::Trail`: every property of the resource reference, through CreateTrail,
//! UpdateTrail, Put{Event,Insight}Selectors, Start/StopLogging, AddTags/RemoveTags and
//! DeleteTrail.

use serde_json::{Map, Value, json};

use super::util::{only, opt_bool, opt_str, props, req_str, tag_list, tags};
use super::{Cx, Failure, Made, Provider};
use crate::cloudformation::services::{BoxFuture, Service};

const TYPE: &str = "AWS::CloudTrail::Trail";

const PROPERTIES: &[&str] = &[
    "AdvancedEventSelectors",
    "CloudWatchLogsLogGroupArn",
    "CloudWatchLogsRoleArn",
    "EnableLogFileValidation",
    "EventSelectors",
    "IncludeGlobalServiceEvents",
    "InsightSelectors",
    "IsLogging",
    "IsMultiRegionTrail",
    "IsOrganizationTrail",
    "KMSKeyId",
    "S3BucketName",
    "S3KeyPrefix",
    "SnsTopicName",
    "Tags",
    "TrailName",
];

/// The trail resource.
pub struct Trail;

/// String members of CreateTrail/UpdateTrail and the property each comes from.
const STRINGS: &[(&str, &str)] = &[
    ("S3BucketName", "S3BucketName"),
    ("S3KeyPrefix", "S3KeyPrefix"),
    ("SnsTopicName", "SnsTopicName"),
    ("CloudWatchLogsLogGroupArn", "CloudWatchLogsLogGroupArn"),
    ("CloudWatchLogsRoleArn", "CloudWatchLogsRoleArn"),
    ("KmsKeyId", "KMSKeyId"),
];

const BOOLEANS: &[&str] = &[
    "IncludeGlobalServiceEvents",
    "IsMultiRegionTrail",
    "EnableLogFileValidation",
    "IsOrganizationTrail",
];

fn trail_name(cx: &Cx<'_>, p: &Value) -> Result<String, Failure> {
    Ok(match opt_str(p, "TrailName", TYPE)? {
        Some(n) => n,
        None => cx.generated_name(128, false),
    })
}

/// The trail settings members (for CreateTrail, or UpdateTrail with `clear` to remove
/// optional strings that are gone).
fn settings(p: &Value, clear: bool) -> Result<Map<String, Value>, Failure> {
    let mut out = Map::new();
    for (member, prop) in STRINGS {
        match opt_str(p, prop, TYPE)? {
            Some(v) => {
                out.insert((*member).to_owned(), json!(v));
            }
            None if clear && *member != "S3BucketName" => {
                out.insert((*member).to_owned(), json!(""));
            }
            None => {}
        }
    }
    for b in BOOLEANS {
        if let Some(v) = opt_bool(p, b, TYPE)? {
            out.insert((*b).to_owned(), json!(v));
        } else if clear {
            let default = *b == "IncludeGlobalServiceEvents";
            out.insert((*b).to_owned(), json!(default));
        }
    }
    Ok(out)
}

/// Booleans written as text inside selectors become booleans: `true` or `false` in any case,
/// anything else a schema violation (cfn5: `"yes"` became `false`, and the trail stopped
/// recording management events without a word).
fn coerce(v: &Value) -> Result<Value, Failure> {
    Ok(match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, x)| {
                    let x = match (k.as_str(), x) {
                        ("IncludeManagementEvents", Value::String(s)) => {
                            match s.to_ascii_lowercase().as_str() {
                                "true" => json!(true),
                                "false" => json!(false),
                                _ => {
                                    return Err(Failure::schema(
                                        "#/EventSelectors/IncludeManagementEvents: expected type: Boolean, found: String",
                                    ));
                                }
                            }
                        }
                        _ => coerce(x)?,
                    };
                    Ok((k.clone(), x))
                })
                .collect::<Result<_, Failure>>()?,
        ),
        Value::Array(items) => Value::Array(items.iter().map(coerce).collect::<Result<_, _>>()?),
        other => other.clone(),
    })
}

async fn put_selectors(
    cx: &Cx<'_>,
    name: &str,
    old: Option<&Value>,
    new: &Value,
) -> Result<(), Failure> {
    let np = props(new);
    let get = |v: Option<&Value>, k: &str| v.and_then(|o| props(o).get(k).cloned());
    let (old_basic, old_adv) = (
        get(old, "EventSelectors"),
        get(old, "AdvancedEventSelectors"),
    );
    let (basic, adv) = (
        np.get("EventSelectors").cloned(),
        np.get("AdvancedEventSelectors").cloned(),
    );
    if basic != old_basic || adv != old_adv {
        let input = match (&basic, &adv) {
            // Both are sent, for CloudTrail to refuse as it refuses the pair ("You cannot
            // apply both…"): dropping the basic ones made a trail log less than its template
            // says (cfn11 F2).
            (Some(b), Some(a)) => Some(json!({"TrailName": name, "EventSelectors": coerce(b)?,
                "AdvancedEventSelectors": coerce(a)?})),
            (None, Some(a)) => {
                Some(json!({"TrailName": name, "AdvancedEventSelectors": coerce(a)?}))
            }
            (Some(b), None) => Some(json!({"TrailName": name, "EventSelectors": coerce(b)?})),
            (None, None) if old.is_some() => Some(json!({"TrailName": name, "EventSelectors": [
                {"ReadWriteType": "All", "IncludeManagementEvents": true}]})),
            (None, None) => None,
        };
        if let Some(input) = input {
            cx.call(Service::CloudTrail, "PutEventSelectors", input)
                .await?;
        }
    }
    let insights = np.get("InsightSelectors").cloned();
    if insights != get(old, "InsightSelectors") && (insights.is_some() || old.is_some()) {
        cx.call(
            Service::CloudTrail,
            "PutInsightSelectors",
            json!({"TrailName": name, "InsightSelectors": insights.unwrap_or(json!([]))}),
        )
        .await?;
    }
    Ok(())
}

fn made(name: &str, out: &Value, fallback_arn: Option<&str>) -> Made {
    let arn = out
        .get("TrailARN")
        .and_then(Value::as_str)
        .or(fallback_arn)
        .unwrap_or_default()
        .to_owned();
    let mut m = Made::id(name).with("Arn", arn);
    if let Some(t) = out.get("SnsTopicARN").and_then(Value::as_str) {
        m = m.with("SnsTopicArn", t);
    }
    m
}

impl Provider for Trail {
    fn required(&self) -> &'static [&'static str] {
        &["S3BucketName", "IsLogging"]
    }

    fn resource_type(&self) -> &'static str {
        TYPE
    }
    fn takes_stack_tags(&self) -> bool {
        true
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["Arn", "SnsTopicArn"]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["TrailName"]
    }

    fn name_property(&self) -> Option<&'static str> {
        Some("TrailName")
    }

    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        trail_name(cx, p).ok()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, TYPE, PROPERTIES)?;
            req_str(p, "S3BucketName", TYPE)?;
            let logging = opt_bool(p, "IsLogging", TYPE)?
                .ok_or_else(|| Failure::schema("#: required key [IsLogging] not found"))?;
            let name = trail_name(cx, p)?;
            let mut input = settings(p, false)?;
            input.insert("Name".into(), json!(name));
            let all_tags = tags(p, TYPE, cx.stack_tags)?;
            if !all_tags.is_empty() {
                input.insert("TagsList".into(), tag_list(&all_tags));
            }
            let out = cx
                .call(Service::CloudTrail, "CreateTrail", Value::Object(input))
                .await?;
            put_selectors(cx, &name, None, p)
                .await
                .map_err(|f| f.made(&name))?;
            if logging {
                cx.call(Service::CloudTrail, "StartLogging", json!({"Name": name}))
                    .await
                    .map_err(|f| f.made(&name))?;
            }
            Ok(made(&name, &out, None))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        old: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(new, TYPE, PROPERTIES)?;
            let name = current.physical_id.clone();
            let arn = current
                .attributes
                .get("Arn")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let mut result = current.clone();
            let (before, after) = (settings(old, true)?, settings(new, true)?);
            if before != after {
                let mut input = after;
                input.insert("Name".into(), json!(name));
                let out = cx
                    .call(Service::CloudTrail, "UpdateTrail", Value::Object(input))
                    .await?;
                result = made(&name, &out, arn.as_deref());
            }
            put_selectors(cx, &name, Some(old), new).await?;
            let (old_tags, new_tags) = (
                tags(old, TYPE, cx.old_stack_tags)?,
                tags(new, TYPE, cx.stack_tags)?,
            );
            if old_tags != new_tags
                && let Some(arn) = &arn
            {
                let removed: Vec<(String, String)> = old_tags
                    .iter()
                    .filter(|(k, _)| !new_tags.iter().any(|(n, _)| n == k))
                    .cloned()
                    .collect();
                if !removed.is_empty() {
                    cx.call(
                        Service::CloudTrail,
                        "RemoveTags",
                        json!({"ResourceId": arn, "TagsList": tag_list(&removed)}),
                    )
                    .await?;
                }
                if !new_tags.is_empty() {
                    cx.call(
                        Service::CloudTrail,
                        "AddTags",
                        json!({"ResourceId": arn, "TagsList": tag_list(&new_tags)}),
                    )
                    .await?;
                }
            }
            let (was, is) = (
                opt_bool(old, "IsLogging", TYPE)?,
                opt_bool(new, "IsLogging", TYPE)?,
            );
            if was != is {
                let action = if is == Some(true) {
                    "StartLogging"
                } else {
                    "StopLogging"
                };
                cx.call(Service::CloudTrail, action, json!({"Name": name}))
                    .await?;
            }
            Ok(result)
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            cx.call(
                Service::CloudTrail,
                "DeleteTrail",
                json!({"Name": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}
