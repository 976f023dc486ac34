//! Domain values rendered as CloudTrail wire shapes (PascalCase members), and wire inputs
//! decoded into domain values.

use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::selectors::{BasicSelectorInput, InsightSelectorInput};
use cairn_core::trails::TrailArgs;
use cairn_model::trail::{AdvancedEventSelector, FieldSelector, Selectors, Tag, Trail};
use serde_json::{Map, Value, json};

use crate::wire::{as_object, epoch, opt_bool, opt_list, opt_str, opt_str_list, req_str};

fn put_opt(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), Value::String(v.to_owned()));
    }
}

/// The `Trail` structure of GetTrail and DescribeTrails.
pub fn trail(t: &Trail) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), json!(t.name));
    m.insert("S3BucketName".into(), json!(t.s3_bucket_name));
    put_opt(&mut m, "S3KeyPrefix", t.s3_key_prefix.as_deref());
    put_opt(&mut m, "SnsTopicName", t.sns_topic_name());
    put_opt(&mut m, "SnsTopicARN", t.sns_topic_arn.as_deref());
    m.insert(
        "IncludeGlobalServiceEvents".into(),
        json!(t.include_global_service_events),
    );
    m.insert("IsMultiRegionTrail".into(), json!(t.is_multi_region_trail));
    m.insert("HomeRegion".into(), json!(t.home_region));
    m.insert("TrailARN".into(), json!(t.arn()));
    m.insert(
        "LogFileValidationEnabled".into(),
        json!(t.log_file_validation_enabled),
    );
    put_opt(
        &mut m,
        "CloudWatchLogsLogGroupArn",
        t.cloud_watch_logs_log_group_arn.as_deref(),
    );
    put_opt(
        &mut m,
        "CloudWatchLogsRoleArn",
        t.cloud_watch_logs_role_arn.as_deref(),
    );
    put_opt(&mut m, "KmsKeyId", t.kms_key_id.as_deref());
    m.insert(
        "HasCustomEventSelectors".into(),
        json!(t.has_custom_event_selectors),
    );
    m.insert(
        "HasInsightSelectors".into(),
        json!(!t.insight_selectors.is_empty()),
    );
    m.insert("IsOrganizationTrail".into(), json!(t.is_organization_trail));
    Value::Object(m)
}

/// The output of CreateTrail and UpdateTrail.
pub fn trail_write_output(t: &Trail) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), json!(t.name));
    m.insert("S3BucketName".into(), json!(t.s3_bucket_name));
    put_opt(&mut m, "S3KeyPrefix", t.s3_key_prefix.as_deref());
    put_opt(&mut m, "SnsTopicName", t.sns_topic_name());
    put_opt(&mut m, "SnsTopicARN", t.sns_topic_arn.as_deref());
    m.insert(
        "IncludeGlobalServiceEvents".into(),
        json!(t.include_global_service_events),
    );
    m.insert("IsMultiRegionTrail".into(), json!(t.is_multi_region_trail));
    m.insert("TrailARN".into(), json!(t.arn()));
    m.insert(
        "LogFileValidationEnabled".into(),
        json!(t.log_file_validation_enabled),
    );
    put_opt(
        &mut m,
        "CloudWatchLogsLogGroupArn",
        t.cloud_watch_logs_log_group_arn.as_deref(),
    );
    put_opt(
        &mut m,
        "CloudWatchLogsRoleArn",
        t.cloud_watch_logs_role_arn.as_deref(),
    );
    put_opt(&mut m, "KmsKeyId", t.kms_key_id.as_deref());
    m.insert("IsOrganizationTrail".into(), json!(t.is_organization_trail));
    Value::Object(m)
}

/// GetTrailStatus output.
pub fn trail_status(t: &Trail) -> Value {
    let iso = |s: f64| {
        chrono::DateTime::from_timestamp(s.floor() as i64, 0)
            .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_default()
    };
    let mut m = Map::new();
    m.insert("IsLogging".into(), json!(t.status.is_logging));
    // AWS always returns both Time* strings, empty when unset.
    m.insert(
        "TimeLoggingStarted".into(),
        json!(t.status.start_logging_time.map(iso).unwrap_or_default()),
    );
    m.insert(
        "TimeLoggingStopped".into(),
        json!(t.status.stop_logging_time.map(iso).unwrap_or_default()),
    );
    if let Some(s) = t.status.start_logging_time {
        m.insert("StartLoggingTime".into(), epoch(s));
    }
    if let Some(s) = t.status.stop_logging_time {
        m.insert("StopLoggingTime".into(), epoch(s));
    }
    let d = &t.status.delivery;
    if let Some(s) = d.latest_delivery_time {
        m.insert("LatestDeliveryTime".into(), epoch(s));
    }
    if let Some(e) = &d.latest_delivery_error {
        m.insert("LatestDeliveryError".into(), json!(e));
    }
    if let Some(s) = d.latest_cloud_watch_logs_delivery_time {
        m.insert("LatestCloudWatchLogsDeliveryTime".into(), epoch(s));
    }
    if let Some(e) = &d.latest_cloud_watch_logs_delivery_error {
        m.insert("LatestCloudWatchLogsDeliveryError".into(), json!(e));
    }
    if let Some(s) = d.latest_digest_delivery_time {
        m.insert("LatestDigestDeliveryTime".into(), epoch(s));
    }
    if let Some(e) = &d.latest_digest_delivery_error {
        m.insert("LatestDigestDeliveryError".into(), json!(e));
    }
    m.insert(
        "LatestDeliveryAttemptTime".into(),
        json!(d.latest_delivery_attempt_time.map(iso).unwrap_or_default()),
    );
    if let Some(s) = d.latest_notification_time {
        m.insert("LatestNotificationTime".into(), epoch(s));
    }
    if let Some(e) = &d.latest_notification_error {
        m.insert("LatestNotificationError".into(), json!(e));
    }
    // The model calls both "no longer in use"; the CLI's get-trail-status example shows them
    // filled like their delivery twins (empty until a notification is sent).
    let attempted = d.latest_notification_time.map(iso).unwrap_or_default();
    let succeeded = if d.latest_notification_error.is_none() {
        attempted.clone()
    } else {
        String::new()
    };
    m.insert("LatestNotificationAttemptTime".into(), json!(attempted));
    m.insert(
        "LatestNotificationAttemptSucceeded".into(),
        json!(succeeded),
    );
    m.insert(
        "LatestDeliveryAttemptSucceeded".into(),
        json!(
            match (d.latest_delivery_attempt_time, &d.latest_delivery_error) {
                (Some(_), None) => d.latest_delivery_time.map(iso).unwrap_or_default(),
                _ => String::new(),
            }
        ),
    );
    Value::Object(m)
}

/// Tags as `TagsList`.
pub fn tags(tags: &[Tag]) -> Value {
    Value::Array(
        tags.iter()
            .map(|t| {
                let mut m = Map::new();
                m.insert("Key".into(), json!(t.key));
                if let Some(v) = &t.value {
                    m.insert("Value".into(), json!(v));
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// The most items a `TagsList` may hold (the model's `max`).
const MAX_TAGS_LIST: usize = 200;

/// Decodes a `TagsList`, refusing more items than the model allows before any is looked at.
pub fn decode_tags(body: &Value, member: &str) -> ApiResult<Vec<Tag>> {
    let Some(items) = opt_list(body, member)? else {
        return Ok(Vec::new());
    };
    if items.len() > MAX_TAGS_LIST {
        return Err(ApiError::new(
            ErrorKind::Validation,
            format!(
                "1 validation error detected: Value at 'tagsList' failed to satisfy constraint: Member must have length less than or equal to {MAX_TAGS_LIST}"
            ),
        ));
    }
    items
        .iter()
        .map(|item| {
            let item = as_object(item, member)?;
            Ok(Tag {
                key: req_str(item, "Key")?,
                value: opt_str(item, "Value")?,
            })
        })
        .collect()
}

/// Decodes the members CreateTrail and UpdateTrail share.
pub fn decode_trail_args(body: &Value) -> ApiResult<TrailArgs> {
    Ok(TrailArgs {
        s3_bucket_name: opt_str(body, "S3BucketName")?,
        s3_key_prefix: opt_str(body, "S3KeyPrefix")?,
        sns_topic_name: opt_str(body, "SnsTopicName")?,
        include_global_service_events: opt_bool(body, "IncludeGlobalServiceEvents")?,
        is_multi_region_trail: opt_bool(body, "IsMultiRegionTrail")?,
        enable_log_file_validation: opt_bool(body, "EnableLogFileValidation")?,
        cloud_watch_logs_log_group_arn: opt_str(body, "CloudWatchLogsLogGroupArn")?,
        cloud_watch_logs_role_arn: opt_str(body, "CloudWatchLogsRoleArn")?,
        kms_key_id: opt_str(body, "KmsKeyId")?,
        is_organization_trail: opt_bool(body, "IsOrganizationTrail")?,
    })
}

/// Decodes `EventSelectors`.
pub fn decode_basic_selectors(items: &[Value]) -> ApiResult<Vec<BasicSelectorInput>> {
    items
        .iter()
        .map(|item| {
            let item = as_object(item, "EventSelectors")?;
            let mut data_resources = Vec::new();
            for dr in opt_list(item, "DataResources")?.into_iter().flatten() {
                let dr = as_object(dr, "DataResources")?;
                data_resources.push((
                    opt_str(dr, "Type")?,
                    opt_str_list(dr, "Values")?.unwrap_or_default(),
                ));
            }
            Ok(BasicSelectorInput {
                read_write_type: opt_str(item, "ReadWriteType")?,
                include_management_events: opt_bool(item, "IncludeManagementEvents")?,
                data_resources,
                exclude_management_event_sources: opt_str_list(
                    item,
                    "ExcludeManagementEventSources",
                )?
                .unwrap_or_default(),
            })
        })
        .collect()
}

/// Decodes `AdvancedEventSelectors`.
pub fn decode_advanced_selectors(items: &[Value]) -> ApiResult<Vec<AdvancedEventSelector>> {
    items
        .iter()
        .map(|item| {
            let item = as_object(item, "AdvancedEventSelectors")?;
            let mut field_selectors = Vec::new();
            for fs in opt_list(item, "FieldSelectors")?.into_iter().flatten() {
                let fs = as_object(fs, "FieldSelectors")?;
                field_selectors.push(FieldSelector {
                    field: req_str(fs, "Field")?,
                    equals: opt_str_list(fs, "Equals")?,
                    starts_with: opt_str_list(fs, "StartsWith")?,
                    ends_with: opt_str_list(fs, "EndsWith")?,
                    not_equals: opt_str_list(fs, "NotEquals")?,
                    not_starts_with: opt_str_list(fs, "NotStartsWith")?,
                    not_ends_with: opt_str_list(fs, "NotEndsWith")?,
                });
            }
            Ok(AdvancedEventSelector {
                name: opt_str(item, "Name")?,
                field_selectors,
            })
        })
        .collect()
}

/// Decodes `InsightSelectors`.
pub fn decode_insight_selectors(items: &[Value]) -> ApiResult<Vec<InsightSelectorInput>> {
    items
        .iter()
        .map(|item| {
            let item = as_object(item, "InsightSelectors")?;
            Ok(InsightSelectorInput {
                insight_type: opt_str(item, "InsightType")?,
                event_categories: opt_str_list(item, "EventCategories")?,
            })
        })
        .collect()
}

/// The selectors part of Put/GetEventSelectors output.
pub fn selectors(trail: &Trail) -> (&'static str, Value) {
    match &trail.selectors {
        Selectors::Basic(list) => (
            "EventSelectors",
            Value::Array(
                list.iter()
                    .map(|s| {
                        json!({
                            "ReadWriteType": s.read_write_type.as_str(),
                            "IncludeManagementEvents": s.include_management_events,
                            "DataResources": s.data_resources.iter().map(|d| json!({"Type": d.resource_type, "Values": d.values})).collect::<Vec<_>>(),
                            "ExcludeManagementEventSources": s.exclude_management_event_sources,
                        })
                    })
                    .collect(),
            ),
        ),
        Selectors::Advanced(list) => (
            "AdvancedEventSelectors",
            Value::Array(
                list.iter()
                    .map(|s| {
                        let mut m = Map::new();
                        if let Some(n) = &s.name {
                            m.insert("Name".into(), json!(n));
                        }
                        let fields: Vec<Value> = s
                            .field_selectors
                            .iter()
                            .map(|f| {
                                let mut fm = Map::new();
                                fm.insert("Field".into(), json!(f.field));
                                for (op, values) in f.operators() {
                                    if let Some(v) = values {
                                        fm.insert(op.into(), json!(v));
                                    }
                                }
                                Value::Object(fm)
                            })
                            .collect();
                        m.insert("FieldSelectors".into(), Value::Array(fields));
                        Value::Object(m)
                    })
                    .collect(),
            ),
        ),
    }
}

/// `InsightSelectors` output.
pub fn insight_selectors(trail: &Trail) -> Value {
    Value::Array(
        trail
            .insight_selectors
            .iter()
            .map(|s| json!({"InsightType": s.insight_type.as_str(), "EventCategories": s.event_categories}))
            .collect(),
    )
}
