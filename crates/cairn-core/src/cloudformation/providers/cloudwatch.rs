//! `AWS::CloudWatch::Alarm`, made with CloudWatch's PutMetricAlarm (which both creates and
//! replaces an alarm's configuration) and removed with DeleteAlarms.

use serde_json::{Map, Value, json};

use super::util::{only, opt_bool, opt_int, opt_str, props, removed_tag_keys, tag_list, tags};
use super::{Cx, Failure, Made, Provider};
use crate::cloudformation::services::{BoxFuture, Service};

const ALARM: &str = "AWS::CloudWatch::Alarm";

/// Properties passed to PutMetricAlarm as they are (strings and lists).
const VERBATIM: &[&str] = &[
    "AlarmDescription",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Unit",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
];

const INTEGERS: &[&str] = &["Period", "EvaluationPeriods", "DatapointsToAlarm"];

/// `AWS::CloudWatch::Alarm`. `Ref` is the alarm's name; `Arn` its ARN. An alarm of the name
/// that exists already fails the create (`AlreadyExists`) instead of being overwritten.
pub struct Alarm;

fn alarm_name(cx: &Cx<'_>, p: &Value) -> Result<String, Failure> {
    Ok(match opt_str(p, "AlarmName", ALARM)? {
        Some(n) => n,
        None => cx.generated_name(255, false),
    })
}

fn supported() -> Vec<&'static str> {
    let mut all: Vec<&'static str> = VERBATIM.to_vec();
    all.extend_from_slice(INTEGERS);
    all.extend_from_slice(&["AlarmName", "ActionsEnabled", "Threshold", "Tags"]);
    all
}

/// PutMetricAlarm's input from the resource's properties.
fn input(cx: &Cx<'_>, name: &str, p: &Value) -> Result<Value, Failure> {
    let mut m = Map::new();
    m.insert("AlarmName".into(), Value::String(name.to_owned()));
    for k in VERBATIM {
        if let Some(v) = props(p).get(*k) {
            m.insert((*k).to_owned(), v.clone());
        }
    }
    for k in INTEGERS {
        if let Some(n) = opt_int(p, k, ALARM)? {
            m.insert((*k).to_owned(), json!(n));
        }
    }
    if let Some(b) = opt_bool(p, "ActionsEnabled", ALARM)? {
        m.insert("ActionsEnabled".into(), Value::Bool(b));
    }
    if let Some(t) = opt_str(p, "Threshold", ALARM)? {
        let n: f64 = t
            .trim()
            .parse()
            .map_err(|_| Failure::schema("#/Threshold: expected type: Number"))?;
        m.insert("Threshold".into(), json!(n));
    }
    let t = tags(p, ALARM, cx.stack_tags)?;
    if !t.is_empty() {
        m.insert("Tags".into(), tag_list(&t));
    }
    Ok(Value::Object(m))
}

fn arn(cx: &Cx<'_>, name: &str) -> String {
    format!(
        "arn:aws:cloudwatch:{}:{}:alarm:{name}",
        cx.region(),
        cx.account
    )
}

impl Provider for Alarm {
    fn required(&self) -> &'static [&'static str] {
        &["ComparisonOperator", "EvaluationPeriods"]
    }

    fn resource_type(&self) -> &'static str {
        ALARM
    }
    fn takes_stack_tags(&self) -> bool {
        true
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["Arn"]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["AlarmName"]
    }

    fn name_property(&self) -> Option<&'static str> {
        Some("AlarmName")
    }

    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        alarm_name(cx, p).ok()
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, ALARM, &supported())?;
            let name = alarm_name(cx, p)?;
            let put = input(cx, &name, p)?;
            // PutMetricAlarm replaces an alarm of the same name: look first, as CloudFormation's
            // handler does, and leave an alarm the stack did not make alone.
            let found = cx
                .call(
                    Service::CloudWatch,
                    "DescribeAlarms",
                    json!({"AlarmNames": [name], "AlarmTypes": ["MetricAlarm"]}),
                )
                .await?;
            if found
                .get("MetricAlarms")
                .and_then(Value::as_array)
                .is_some_and(|a| !a.is_empty())
            {
                return Err(Failure::already_exists(ALARM, &name));
            }
            cx.call(Service::CloudWatch, "PutMetricAlarm", put).await?;
            Ok(Made::id(name.clone()).with("Arn", arn(cx, &name)))
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
            only(new, ALARM, &supported())?;
            let name = &current.physical_id;
            let mut put = input(cx, name, new)?;
            // PutMetricAlarm sets tags but never removes them: drop the ones the template lost.
            let (before, after) = (
                tags(old, ALARM, cx.old_stack_tags)?,
                tags(new, ALARM, cx.stack_tags)?,
            );
            let gone = removed_tag_keys(&before, &after);
            if !gone.is_empty() {
                cx.call(
                    Service::CloudWatch,
                    "UntagResource",
                    json!({"ResourceARN": arn(cx, name), "TagKeys": gone}),
                )
                .await?;
            }
            if let Some(m) = put.as_object_mut() {
                m.remove("Tags");
            }
            cx.call(Service::CloudWatch, "PutMetricAlarm", put).await?;
            if before != after && !after.is_empty() {
                cx.call(
                    Service::CloudWatch,
                    "TagResource",
                    json!({"ResourceARN": arn(cx, name), "Tags": tag_list(&after)}),
                )
                .await?;
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
                Service::CloudWatch,
                "DeleteAlarms",
                json!({"AlarmNames": [current.physical_id]}),
            )
            .await
            .map(|_| ())
        })
    }
}
