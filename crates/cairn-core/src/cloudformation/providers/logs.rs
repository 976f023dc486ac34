//! `AWS::Logs::LogGroup` and `AWS::Logs::MetricFilter`, made through CloudWatch Logs'
//! operations (CreateLogGroup, PutRetentionPolicy, TagResource, PutMetricFilter, …).

use serde_json::{Map, Value, json};

use super::util::{
    only, opt_int, opt_str, props, removed_tag_keys, req_str, tags, tags_with_system,
};
use super::{Cx, Failure, Made, Provider};
use crate::cloudformation::services::{BoxFuture, Service};

const GROUP: &str = "AWS::Logs::LogGroup";
const FILTER: &str = "AWS::Logs::MetricFilter";

const GROUP_PROPERTIES: &[&str] = &[
    "LogGroupName",
    "RetentionInDays",
    "KmsKeyId",
    "LogGroupClass",
    "Tags",
];

/// `AWS::Logs::LogGroup`: `LogGroupName`, `RetentionInDays`, `KmsKeyId`, `LogGroupClass` and
/// `Tags`. `Ref` is the name; `Arn` ends in `:*`, as AWS's does.
pub struct LogGroup;

fn group_name(cx: &Cx<'_>, p: &Value) -> Result<String, Failure> {
    Ok(match opt_str(p, "LogGroupName", GROUP)? {
        Some(n) => n,
        None => cx.generated_name(512, false),
    })
}

fn group_arn(cx: &Cx<'_>, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        cx.region(),
        cx.account
    )
}

fn tag_map(t: &[(String, String)]) -> Value {
    Value::Object(
        t.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect::<Map<String, Value>>(),
    )
}

async fn set_retention(cx: &Cx<'_>, name: &str, days: Option<i64>) -> Result<(), Failure> {
    match days {
        Some(d) => cx.call(
            Service::Logs,
            "PutRetentionPolicy",
            json!({"logGroupName": name, "retentionInDays": d}),
        ),
        None => cx.call(
            Service::Logs,
            "DeleteRetentionPolicy",
            json!({"logGroupName": name}),
        ),
    }
    .await
    .map(|_| ())
}

impl Provider for LogGroup {
    fn resource_type(&self) -> &'static str {
        GROUP
    }
    fn takes_stack_tags(&self) -> bool {
        true
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["Arn"]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["LogGroupName", "LogGroupClass"]
    }

    fn name_property(&self) -> Option<&'static str> {
        Some("LogGroupName")
    }

    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        group_name(cx, p).ok()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, GROUP, GROUP_PROPERTIES)?;
            let name = group_name(cx, p)?;
            let days = opt_int(p, "RetentionInDays", GROUP)?;
            let mut input = json!({"logGroupName": name});
            if let Some(k) = opt_str(p, "KmsKeyId", GROUP)? {
                input["kmsKeyId"] = k.into();
            }
            if let Some(c) = opt_str(p, "LogGroupClass", GROUP)? {
                input["logGroupClass"] = c.into();
            }
            // With CloudFormation's `aws:cloudformation:*` tags, as AWS tags a stack's groups.
            let t = tags_with_system(cx, cx.stack_tags, p, GROUP)?;
            input["tags"] = tag_map(&t);
            cx.call(Service::Logs, "CreateLogGroup", input).await?;
            if days.is_some() {
                set_retention(cx, &name, days)
                    .await
                    .map_err(|f| f.made(&name))?;
            }
            Ok(Made::id(name.clone()).with("Arn", format!("{}:*", group_arn(cx, &name))))
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
            only(new, GROUP, GROUP_PROPERTIES)?;
            let name = &current.physical_id;
            if props(old).get("KmsKeyId") != props(new).get("KmsKeyId") {
                match opt_str(new, "KmsKeyId", GROUP)? {
                    Some(k) => {
                        cx.call(
                            Service::Logs,
                            "AssociateKmsKey",
                            json!({"logGroupName": name, "kmsKeyId": k}),
                        )
                        .await?;
                    }
                    None => {
                        cx.call(
                            Service::Logs,
                            "DisassociateKmsKey",
                            json!({"logGroupName": name}),
                        )
                        .await?;
                    }
                }
            }
            if props(old).get("RetentionInDays") != props(new).get("RetentionInDays") {
                set_retention(cx, name, opt_int(new, "RetentionInDays", GROUP)?).await?;
            }
            let (before, after) = (
                tags(old, GROUP, cx.old_stack_tags)?,
                tags(new, GROUP, cx.stack_tags)?,
            );
            if before != after {
                let arn = group_arn(cx, name);
                let gone = removed_tag_keys(&before, &after);
                if !gone.is_empty() {
                    cx.call(
                        Service::Logs,
                        "UntagResource",
                        json!({"resourceArn": arn, "tagKeys": gone}),
                    )
                    .await?;
                }
                if !after.is_empty() {
                    cx.call(
                        Service::Logs,
                        "TagResource",
                        json!({"resourceArn": arn, "tags": tag_map(&after)}),
                    )
                    .await?;
                }
            }
            Ok(current.clone())
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
                Service::Logs,
                "DeleteLogGroup",
                json!({"logGroupName": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}

/// `AWS::Logs::MetricFilter`: `LogGroupName`, `FilterName`, `FilterPattern` and
/// `MetricTransformations`. `Ref` is the filter's name. A filter of the name that exists on the
/// group already fails the create (`AlreadyExists`) instead of being overwritten.
pub struct MetricFilter;

fn filter_name(cx: &Cx<'_>, p: &Value) -> Result<String, Failure> {
    Ok(match opt_str(p, "FilterName", FILTER)? {
        Some(n) => n,
        None => cx.generated_name(512, false),
    })
}

/// `MetricTransformations` as PutMetricFilter takes them (`Dimensions` as a map).
fn transformations(p: &Value) -> Result<Value, Failure> {
    let bad = |what: &str| Failure::schema(format!("#/MetricTransformations: {what}"));
    let Some(Value::Array(items)) = props(p).get("MetricTransformations") else {
        return Err(Failure::schema(
            "#: required key [MetricTransformations] not found",
        ));
    };
    let mut out = Vec::new();
    for t in items {
        let mut m = json!({
            "metricName": req_str(t, "MetricName", FILTER)?,
            "metricNamespace": req_str(t, "MetricNamespace", FILTER)?,
            "metricValue": req_str(t, "MetricValue", FILTER)?,
        });
        if let Some(d) = opt_str(t, "DefaultValue", FILTER)? {
            let n: f64 = d.parse().map_err(|_| bad("expected type: Number"))?;
            m["defaultValue"] = json!(n);
        }
        if let Some(u) = opt_str(t, "Unit", FILTER)? {
            m["unit"] = u.into();
        }
        if let Some(Value::Array(dims)) = props(t).get("Dimensions") {
            let mut map = Map::new();
            for d in dims {
                map.insert(
                    req_str(d, "Key", FILTER)?,
                    Value::String(req_str(d, "Value", FILTER)?),
                );
            }
            m["dimensions"] = Value::Object(map);
        }
        out.push(m);
    }
    Ok(Value::Array(out))
}

async fn put_filter(cx: &Cx<'_>, name: &str, p: &Value) -> Result<(), Failure> {
    cx.call(
        Service::Logs,
        "PutMetricFilter",
        json!({
            "logGroupName": req_str(p, "LogGroupName", FILTER)?,
            "filterName": name,
            // Required by the resource's schema: left out, it is not "" (which matches every
            // event) but a refused resource (cfn8).
            "filterPattern": req_str(p, "FilterPattern", FILTER)?,
            "metricTransformations": transformations(p)?,
        }),
    )
    .await
    .map(|_| ())
}

impl Provider for MetricFilter {
    fn required(&self) -> &'static [&'static str] {
        &["FilterPattern", "LogGroupName", "MetricTransformations"]
    }

    fn resource_type(&self) -> &'static str {
        FILTER
    }

    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["LogGroupName", "FilterName"]
    }

    fn name_property(&self) -> Option<&'static str> {
        Some("FilterName")
    }

    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        filter_name(cx, p).ok()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(
                p,
                FILTER,
                &[
                    "LogGroupName",
                    "FilterName",
                    "FilterPattern",
                    "MetricTransformations",
                ],
            )?;
            let name = filter_name(cx, p)?;
            let group = req_str(p, "LogGroupName", FILTER)?;
            // PutMetricFilter replaces a filter of the same name: look first, as
            // CloudFormation's handler does, and leave one the stack did not make alone.
            let found = cx
                .find(
                    Service::Logs,
                    "DescribeMetricFilters",
                    json!({"logGroupName": group, "filterNamePrefix": name}),
                )
                .await?;
            let exists = found
                .as_ref()
                .and_then(|f| f.get("metricFilters"))
                .and_then(Value::as_array)
                .is_some_and(|l| {
                    l.iter()
                        .any(|f| f.get("filterName").and_then(Value::as_str) == Some(&name))
                });
            if exists {
                return Err(Failure::already_exists(FILTER, &name));
            }
            put_filter(cx, &name, p).await?;
            Ok(Made::id(name))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            put_filter(cx, &current.physical_id, new).await?;
            Ok(current.clone())
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        p: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            cx.call(
                Service::Logs,
                "DeleteMetricFilter",
                json!({
                    "logGroupName": req_str(p, "LogGroupName", FILTER)?,
                    "filterName": current.physical_id,
                }),
            )
            .await
            .map(|_| ())
        })
    }
}
