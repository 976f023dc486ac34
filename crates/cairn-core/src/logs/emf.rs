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

use crate::error::ApiResult;
use crate::metrics::api::{UNITS, check_dimensions, check_namespace_start, storable};

/// Directives per event, metrics per directive and values per metric EMF allows.
const MAX_DIRECTIVES: usize = 10;
const MAX_METRICS: usize = 100;
const MAX_VALUES: usize = 100;

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
        let namespace = d.get("Namespace")?.as_str()?;
        if namespace.is_empty()
            || namespace.len() > 255
            || check_namespace_start(namespace).is_err()
        {
            return None;
        }
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
            if name.is_empty() || name.len() > 255 {
                return None;
            }
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
    Some(out)
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

/// Stores the metrics of a batch's EMF events; returns how many datapoints were written.
pub fn apply(conn: &Connection, group: &LogGroup, events: &[(i64, &str)]) -> ApiResult<usize> {
    let mut written = 0;
    for (_, message) in events {
        for p in datapoints(message) {
            let key = MetricKey {
                account: &group.account,
                region: &group.region,
                namespace: &p.namespace,
                name: &p.name,
                dimensions: &p.dimensions,
            };
            for v in &p.values {
                crate::metrics::put_stats(
                    conn,
                    &key,
                    p.timestamp,
                    crate::metrics::StatSet::repeated(*v, 1.0),
                    &p.unit,
                    p.resolution,
                )?;
                written += 1;
            }
        }
    }
    Ok(written)
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
        ] {
            assert!(datapoints(m).is_empty(), "{m}");
        }
    }
}
