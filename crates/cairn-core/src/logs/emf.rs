//! Embedded Metric Format: a PutLogEvents call sent with `x-amzn-logs-format: json/emf`
//! turns each event's `_aws.CloudWatchMetrics` directives into CloudWatch metrics (the
//! CloudWatch User Guide's EMF specification; sdk7: the events were stored and no metric
//! came). An event that is not valid EMF is stored and makes no metric, as on AWS.
//!
//! Each directive names a `Namespace`, `Dimensions` (sets of member names whose string
//! values are the dimension values; no set, or an empty one, is a metric without
//! dimensions) and `Metrics` (each `Name` a member holding a number or up to 100 numbers,
//! with an optional `Unit` and a `StorageResolution` of 1 or 60); `_aws.Timestamp` (epoch
//! milliseconds) is when.

use cairn_store::Connection;
use cairn_store::logs::LogGroup;
use cairn_store::metrics::MetricKey;
use serde_json::{Map, Value};

use std::collections::BTreeMap;

use crate::error::ApiResult;
use crate::metrics::api::{UNITS, check_dimensions, check_metric_name, check_namespace, storable};

/// Directives per event, metrics per directive and values per metric EMF allows.
const MAX_DIRECTIVES: usize = 10;
const MAX_METRICS: usize = 100;
const MAX_VALUES: usize = 100;
/// Most (metric, dimension set) pairs one event may make; an event making more is not EMF
/// Cairn extracts (recheck32b: 100 sets × 100 metrics × 100 values in a 31 KB event made a
/// million writes and held the writer for 47 s).
const MAX_SERIES_PER_EVENT: usize = 1000;
/// Most datapoints one PutLogEvents call writes (values of a series in one second are written
/// together); the rest of the batch's metrics are dropped, its events still stored.
const MAX_WRITES_PER_BATCH: usize = 20_000;
/// The times PutMetricData takes: two weeks back, two hours ahead.
const MAX_PAST_MS: i64 = 14 * 86_400_000;
const MAX_FUTURE_MS: i64 = 2 * 3_600_000;

/// One datapoint an event makes.
#[derive(Clone, Debug, PartialEq)]
pub struct Datapoint {
    /// Namespace.
    pub namespace: String,
    /// Metric name.
    pub name: String,
    /// Dimensions, (name, value).
    pub dimensions: Vec<(String, String)>,
    /// Epoch milliseconds.
    pub timestamp: i64,
    /// The values.
    pub values: Vec<f64>,
    /// Unit (`None` when not given).
    pub unit: String,
    /// 1 or 60.
    pub resolution: i64,
}

/// The datapoints of one log message; none when it is not valid EMF.
pub fn datapoints(message: &str) -> Vec<Datapoint> {
    let Ok(Value::Object(root)) = serde_json::from_str::<Value>(message) else {
        return Vec::new();
    };
    parse(&root).unwrap_or_default()
}

fn parse(root: &Map<String, Value>) -> Option<Vec<Datapoint>> {
    let aws = root.get("_aws")?.as_object()?;
    let timestamp = aws.get("Timestamp")?.as_i64()?;
    let directives = aws.get("CloudWatchMetrics")?.as_array()?;
    if directives.len() > MAX_DIRECTIVES {
        return None;
    }
    let mut out = Vec::new();
    for d in directives {
        // The namespace and names PutMetricData takes: not AWS's own `AWS/`, no control
        // characters (recheck32b: EMF wrote where PutMetricData refuses to).
        let namespace = d.get("Namespace")?.as_str()?;
        check_namespace(namespace).ok()?;
        let sets: Vec<Vec<(String, String)>> = match d.get("Dimensions") {
            None => vec![Vec::new()],
            Some(v) => {
                let sets = v.as_array()?;
                if sets.is_empty() {
                    vec![Vec::new()]
                } else {
                    sets.iter()
                        .map(|set| dimension_set(root, set))
                        .collect::<Option<_>>()?
                }
            }
        };
        let metrics = d.get("Metrics")?.as_array()?;
        if metrics.len() > MAX_METRICS {
            return None;
        }
        for m in metrics {
            let name = m.get("Name")?.as_str()?;
            check_metric_name(name).ok()?;
            let unit = match m.get("Unit") {
                None => "None",
                Some(u) => u.as_str().filter(|u| UNITS.contains(u))?,
            };
            let resolution = match m.get("StorageResolution") {
                None => 60,
                Some(r) => r.as_i64().filter(|r| *r == 1 || *r == 60)?,
            };
            let values = match root.get(name)? {
                Value::Number(n) => vec![n.as_f64()?],
                Value::Array(a) if !a.is_empty() && a.len() <= MAX_VALUES => {
                    a.iter().map(Value::as_f64).collect::<Option<_>>()?
                }
                _ => return None,
            };
            if !values.iter().all(|v| storable(*v)) {
                return None;
            }
            for dims in &sets {
                out.push(Datapoint {
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                    dimensions: dims.clone(),
                    timestamp,
                    values: values.clone(),
                    unit: unit.to_owned(),
                    resolution,
                });
            }
        }
    }
    (out.len() <= MAX_SERIES_PER_EVENT).then_some(out)
}

/// A dimension set: member names whose values are strings (at most 30, as CloudWatch allows).
fn dimension_set(root: &Map<String, Value>, set: &Value) -> Option<Vec<(String, String)>> {
    let dims = set
        .as_array()?
        .iter()
        .map(|n| {
            let name = n.as_str()?;
            let value = root.get(name)?.as_str()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect::<Option<Vec<_>>>()?;
    check_dimensions(&dims).ok()?;
    Some(dims)
}

/// One series at one time: (namespace, name, dimensions, epoch ms, unit, resolution).
type SeriesAt = (String, String, Vec<(String, String)>, i64, String, i64);

/// Stores the metrics of a batch's EMF events as of `now_ms`, each series' values of one time
/// together; returns how many datapoints were written.
pub fn apply(
    conn: &Connection,
    group: &LogGroup,
    events: &[(i64, &str)],
    now_ms: i64,
) -> ApiResult<usize> {
    // Each series' values at one time, with their counts (by the value's bits): stored as one
    // point that keeps them, so percentiles stay exact (alarms7: a p90 alarm on EMF latency
    // stayed INSUFFICIENT_DATA).
    let mut points: BTreeMap<SeriesAt, BTreeMap<u64, f64>> = BTreeMap::new();
    'events: for (_, message) in events {
        for p in datapoints(message) {
            if p.timestamp < now_ms - MAX_PAST_MS || p.timestamp > now_ms + MAX_FUTURE_MS {
                continue;
            }
            let key = (
                p.namespace,
                p.name,
                p.dimensions,
                p.timestamp,
                p.unit,
                p.resolution,
            );
            if !points.contains_key(&key) && points.len() >= MAX_WRITES_PER_BATCH {
                tracing::warn!(
                    group = %group.name,
                    "Embedded Metric Format: the batch makes more than {MAX_WRITES_PER_BATCH} datapoints; the rest are dropped"
                );
                break 'events;
            }
            let entry = points.entry(key).or_default();
            for v in &p.values {
                *entry.entry(v.to_bits()).or_insert(0.0) += 1.0;
            }
        }
    }
    for ((namespace, name, dimensions, timestamp, unit, resolution), counted) in &points {
        let key = MetricKey {
            account: &group.account,
            region: &group.region,
            namespace,
            name,
            dimensions,
        };
        let values: Vec<(f64, f64)> = counted
            .iter()
            .map(|(bits, n)| (f64::from_bits(*bits), *n))
            .collect();
        crate::metrics::put_values(conn, &key, *timestamp, &values, unit, *resolution)?;
    }
    Ok(points.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directive_makes_one_datapoint_per_metric_and_dimension_set() {
        let m = r#"{"_aws":{"Timestamp":1574109732004,"CloudWatchMetrics":[{"Namespace":"app",
            "Dimensions":[["service"],[]],"Metrics":[{"Name":"time","Unit":"Milliseconds"}]}]},
            "service":"api","time":[100,200]}"#;
        let points = datapoints(m);
        assert_eq!(points.len(), 2);
        assert_eq!(
            points[0].dimensions,
            [("service".to_owned(), "api".to_owned())]
        );
        assert!(points[1].dimensions.is_empty());
        assert_eq!(points[0].values, [100.0, 200.0]);
        assert_eq!(
            (points[0].unit.as_str(), points[0].resolution),
            ("Milliseconds", 60)
        );
        assert_eq!(points[0].timestamp, 1574109732004);
    }

    #[test]
    fn anything_but_valid_emf_makes_nothing() {
        for m in [
            "plain text",
            r#"{"_aws":{"CloudWatchMetrics":[]}}"#,
            r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"a","Metrics":[{"Name":"x"}]}]}}"#,
            r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"a","Metrics":[{"Name":"x","Unit":"Parsecs"}]}]},"x":1}"#,
            r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"a","Dimensions":[["d"]],"Metrics":[{"Name":"x"}]}]},"x":1,"d":5}"#,
            r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"a","Metrics":[{"Name":"x","StorageResolution":5}]}]},"x":1}"#,
            // PutMetricData's namespace rules (recheck32b).
            r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"AWS/CloudTrail","Metrics":[{"Name":"x"}]}]},"x":1}"#,
            r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"a\u0001b","Metrics":[{"Name":"x"}]}]},"x":1}"#,
        ] {
            assert!(datapoints(m).is_empty(), "{m}");
        }
    }

    #[test]
    fn an_event_making_too_many_series_makes_none() {
        let sets: Vec<String> = (0..101).map(|_| "[]".to_owned()).collect();
        let metrics: Vec<String> = (0..10).map(|i| format!(r#"{{"Name":"m{i}"}}"#)).collect();
        let values: Vec<String> = (0..10).map(|i| format!(r#""m{i}":1"#)).collect();
        let m = format!(
            r#"{{"_aws":{{"Timestamp":1,"CloudWatchMetrics":[{{"Namespace":"a","Dimensions":[{}],"Metrics":[{}]}}]}},{}}}"#,
            sets.join(","),
            metrics.join(","),
            values.join(",")
        );
        assert!(datapoints(&m).is_empty());
        let fewer = m.replacen("[],", "", 2);
        assert_eq!(datapoints(&fewer).len(), 990);
    }
}
