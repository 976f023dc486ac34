//! Wire shapes of CloudWatch Logs: LogGroup, LogStream, MetricFilter, QueryInfo (all member
//! names lowerCamel, all times epoch milliseconds).

use cairn_core::logs::metric_filters::FilterView;
use cairn_core::logs::{GroupKey, group_arn, stream_arn};
use cairn_store::logs::LogGroup;
use cairn_store::logs::filters::StoredQuery;
use cairn_store::logs::streams::LogStream;
use serde_json::{Map, Value, json};

/// A `LogGroup`; with `pattern_only` (a `logGroupNamePattern` search) only the name, creation
/// time and `arn`.
pub fn log_group(g: &LogGroup, pattern_only: bool) -> Value {
    let bare = group_arn(&g.region, &g.account, &g.name);
    let mut m = Map::new();
    m.insert("logGroupName".into(), g.name.clone().into());
    m.insert("creationTime".into(), g.created.into());
    if pattern_only {
        m.insert("arn".into(), format!("{bare}:*").into());
        return Value::Object(m);
    }
    if let Some(d) = g.retention_days {
        m.insert("retentionInDays".into(), d.into());
    }
    m.insert("metricFilterCount".into(), g.metric_filter_count.into());
    m.insert("arn".into(), format!("{bare}:*").into());
    m.insert("storedBytes".into(), g.stored_bytes.into());
    if let Some(k) = &g.kms_key_id {
        m.insert("kmsKeyId".into(), k.clone().into());
    }
    m.insert("logGroupClass".into(), g.class.clone().into());
    m.insert("logGroupArn".into(), bare.into());
    m.insert(
        "deletionProtectionEnabled".into(),
        g.deletion_protection.into(),
    );
    Value::Object(m)
}

/// A `LogStream`.
pub fn log_stream(key: &GroupKey, s: &LogStream) -> Value {
    let mut m = Map::new();
    m.insert("logStreamName".into(), s.name.clone().into());
    m.insert("creationTime".into(), s.created.into());
    if let Some(t) = s.first_event {
        m.insert("firstEventTimestamp".into(), t.into());
    }
    if let Some(t) = s.last_event {
        m.insert("lastEventTimestamp".into(), t.into());
    }
    if let Some(t) = s.last_ingestion {
        m.insert("lastIngestionTime".into(), t.into());
    }
    m.insert(
        "uploadSequenceToken".into(),
        format!("{:056}", s.upload_seq.max(1)).into(),
    );
    m.insert(
        "arn".into(),
        stream_arn(&key.region, &key.account, &key.name, &s.name).into(),
    );
    m.insert("storedBytes".into(), 0.into());
    Value::Object(m)
}

/// A `MetricFilter`.
pub fn metric_filter(v: &FilterView) -> Value {
    let t = &v.transformation;
    let mut tm = Map::new();
    tm.insert("metricName".into(), t.metric_name.clone().into());
    tm.insert("metricNamespace".into(), t.metric_namespace.clone().into());
    tm.insert("metricValue".into(), t.metric_value.clone().into());
    if let Some(d) = t.default_value {
        tm.insert("defaultValue".into(), json!(d));
    }
    if !t.dimensions.is_empty() {
        tm.insert("dimensions".into(), super::wire::map(&t.dimensions));
    }
    if let Some(u) = &t.unit {
        tm.insert("unit".into(), u.clone().into());
    }
    json!({
        "filterName": v.stored.name,
        "filterPattern": v.stored.pattern,
        "metricTransformations": [Value::Object(tm)],
        "creationTime": v.stored.created,
        "logGroupName": v.stored.group_name,
        "applyOnTransformedLogs": false,
    })
}

/// A `QueryInfo`.
pub fn query_info(q: &StoredQuery, bytes_scanned: f64) -> Value {
    json!({
        "queryLanguage": "CWLI",
        "queryId": q.query_id,
        "queryString": q.query_string,
        "status": q.status,
        "createTime": q.created,
        "logGroupName": q.log_group,
        "queryDuration": q.duration,
        "bytesScanned": bytes_scanned,
    })
}
