//! CloudWatch responses as a small tree ([`Out`]) rendered in the request's protocol: AWS JSON
//! 1.0 (timestamps as epoch seconds) or AWS Query XML (`<member>` lists, ISO 8601 timestamps,
//! numbers as CloudWatch prints them).

use cairn_core::alarms::reason::java_double;
use chrono::TimeZone;
use serde_json::{Map, Value};

use crate::errors::xml_escape;

/// A response value.
#[derive(Clone, Debug, PartialEq)]
pub enum Out {
    /// A string.
    S(String),
    /// A double.
    F(f64),
    /// An integer.
    I(i64),
    /// A boolean.
    B(bool),
    /// A timestamp, ms.
    T(i64),
    /// A list.
    L(Vec<Out>),
    /// A structure (members in order; absent members are not listed).
    M(Vec<(&'static str, Out)>),
    /// A string → double map.
    Map(Vec<(String, f64)>),
}

impl Out {
    /// An optional string member value.
    pub fn opt_s(s: &Option<String>) -> Option<Out> {
        s.as_ref().map(|s| Out::S(s.clone()))
    }

    /// A list of strings.
    pub fn strings(items: &[String]) -> Out {
        Out::L(items.iter().map(|s| Out::S(s.clone())).collect())
    }

    /// As JSON.
    pub fn json(&self) -> Value {
        match self {
            Out::S(s) => Value::String(s.clone()),
            Out::F(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Out::I(i) => Value::from(*i),
            Out::B(b) => Value::Bool(*b),
            Out::T(ms) => {
                if ms % 1000 == 0 {
                    Value::from(ms / 1000)
                } else {
                    serde_json::Number::from_f64(*ms as f64 / 1000.0)
                        .map_or(Value::Null, Value::Number)
                }
            }
            Out::L(items) => Value::Array(items.iter().map(Out::json).collect()),
            Out::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Out::F(*v).json()))
                    .collect::<Map<_, _>>(),
            ),
            Out::M(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.json()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }

    /// As the inside of a Query XML element.
    pub fn xml(&self) -> String {
        match self {
            Out::S(s) => xml_escape(s),
            Out::F(f) => java_double(*f),
            Out::I(i) => i.to_string(),
            Out::B(b) => b.to_string(),
            Out::T(ms) => chrono::Utc
                .timestamp_millis_opt(*ms)
                .single()
                .unwrap_or_default()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
            Out::L(items) => items
                .iter()
                .map(|i| format!("<member>{}</member>", i.xml()))
                .collect(),
            Out::M(members) => members
                .iter()
                .map(|(k, v)| format!("<{k}>{}</{k}>", v.xml()))
                .collect(),
            Out::Map(entries) => entries
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<entry><key>{}</key><value>{}</value></entry>",
                        xml_escape(k),
                        java_double(*v)
                    )
                })
                .collect(),
        }
    }
}

/// Builds a structure from optional members.
pub fn members(items: Vec<(&'static str, Option<Out>)>) -> Out {
    Out::M(
        items
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_renderings() {
        let o = members(vec![
            ("Label", Some(Out::S("a<b".into()))),
            (
                "Datapoints",
                Some(Out::L(vec![Out::M(vec![
                    ("Timestamp", Out::T(1_704_067_200_000)),
                    ("Sum", Out::F(2.0)),
                ])])),
            ),
            ("Absent", None),
        ]);
        assert_eq!(
            o.json().to_string(),
            r#"{"Label":"a<b","Datapoints":[{"Timestamp":1704067200,"Sum":2.0}]}"#
        );
        assert_eq!(
            o.xml(),
            "<Label>a&lt;b</Label><Datapoints><member><Timestamp>2024-01-01T00:00:00.000Z</Timestamp><Sum>2.0</Sum></member></Datapoints>"
        );
    }
}
