//! The parameter names each Query operation's input can have, at every depth (the
//! `query_shapes` section of `model_rules.json`, generated from botocore's models by
//! `scripts/model_rules.py`).
//!
//! The Query protocol spells a nested input as dotted names: `AlarmNames.member.1`,
//! `Tags.member.2.Key`, `Attributes.entry.1.value`. AWS reads a request by walking its
//! input shape and ignores a name that shape has not. Cairn did not: a name nested under a
//! list item (`AlarmNames.member.1.x`, `AlarmNames.1`) turned the list into an object, so
//! the call was authorized on `*` rather than on the alarms it named, and its record held a
//! structure of the caller's choosing (hostile6). [`name_fits`] walks a name the same way,
//! and [`crate::query::Params::own_members`] keeps only the names that fit.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::Value;

/// What the names below one shape may be.
enum QueryShape {
    /// A scalar: the name ends here.
    Scalar,
    /// A shape cut for depth by the generator: any name below it is kept.
    Any,
    /// A structure's members, each with its own shape.
    Structure(HashMap<String, QueryShape>),
    /// A list: `member`, an index, then the item's shape.
    List(Box<QueryShape>),
    /// A map: `entry`, an index, then the key's name (a scalar) or the value's name and
    /// the value's shape.
    Map {
        key: String,
        value: String,
        item: Box<QueryShape>,
    },
}

impl QueryShape {
    fn parse(v: &Value) -> Self {
        match v {
            Value::Number(n) if n.as_u64() == Some(1) => QueryShape::Any,
            Value::Object(o) => {
                if let Some(Value::Object(members)) = o.get("s") {
                    QueryShape::Structure(
                        members
                            .iter()
                            .map(|(m, s)| (m.clone(), QueryShape::parse(s)))
                            .collect(),
                    )
                } else if let Some(item) = o.get("l") {
                    QueryShape::List(Box::new(QueryShape::parse(item)))
                } else if let Some(item) = o.get("m") {
                    let name = |k: &str, default: &str| {
                        o.get(k)
                            .and_then(Value::as_str)
                            .unwrap_or(default)
                            .to_owned()
                    };
                    QueryShape::Map {
                        key: name("k", "key"),
                        value: name("v", "value"),
                        item: Box::new(QueryShape::parse(item)),
                    }
                } else {
                    QueryShape::Any
                }
            }
            _ => QueryShape::Scalar,
        }
    }

    /// Whether the rest of a parameter name (`rest`, the segments after this shape's own)
    /// names a part of this shape. A list may end at its own name (`Names=`, the empty
    /// list the SDKs send); a structure or a map may not.
    fn fits(&self, rest: &[&str]) -> bool {
        match self {
            QueryShape::Any => true,
            QueryShape::Scalar => rest.is_empty(),
            QueryShape::Structure(members) => match rest.split_first() {
                Some((m, rest)) => members.get(*m).is_some_and(|s| s.fits(rest)),
                None => false,
            },
            QueryShape::List(item) => match rest {
                [] => true,
                ["member", index, rest @ ..] => is_index(index) && item.fits(rest),
                _ => false,
            },
            QueryShape::Map { key, value, item } => match rest {
                ["entry", index, part, rest @ ..] if is_index(index) => {
                    (part == key && rest.is_empty()) || (part == value && item.fits(rest))
                }
                _ => false,
            },
        }
    }
}

/// A list or map index as the SDKs write it: digits, without a leading zero (its range is
/// checked by [`crate::query::Params::malformed`]).
fn is_index(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())
}

/// service → operation → top-level member → its shape (non-scalar members only).
type Shapes = HashMap<String, HashMap<String, HashMap<String, QueryShape>>>;

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    SHAPES.get_or_init(|| crate::model_shapes::per_member("query_shapes", QueryShape::parse))
}

/// Whether parameter `name` of Query operation `action` of `service` (its model's name)
/// names a part of the operation's input, given that its first segment is a top-level
/// member: a scalar member takes no further segments, and a nested one takes only the
/// segments its shape has. A service or operation without shapes keeps every name.
pub fn name_fits(service: &str, action: &str, name: &str) -> bool {
    let Some(ops) = shapes().get(service) else {
        return true;
    };
    let segments: Vec<&str> = name.split('.').collect();
    let Some((top, rest)) = segments.split_first() else {
        return true;
    };
    match ops.get(action).and_then(|members| members.get(*top)) {
        Some(shape) => shape.fits(rest),
        None => rest.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::name_fits;

    #[test]
    fn list_items_take_only_their_own_shape() {
        let fits = |n| name_fits("cloudwatch", "DisableAlarmActions", n);
        assert!(fits("AlarmNames"));
        assert!(fits("AlarmNames.member.1"));
        assert!(fits("AlarmNames.member.100"));
        for bad in [
            "AlarmNames.member.1.x",
            "AlarmNames.1",
            "AlarmNames.member",
            "AlarmNames.member.01",
            "AlarmNames.entry.1",
        ] {
            assert!(!fits(bad), "{bad}");
        }
    }

    #[test]
    fn structures_maps_and_scalars_are_walked() {
        let put = |n| name_fits("cloudwatch", "PutMetricAlarm", n);
        assert!(put("AlarmName"));
        assert!(!put("AlarmName.x"));
        assert!(put("Dimensions.member.1.Name"));
        assert!(put(
            "Metrics.member.1.MetricStat.Metric.Dimensions.member.1.Name"
        ));
        assert!(!put("Dimensions.member.1.Nam"));
        assert!(!put("Dimensions.member.1"));
        let set = |n| name_fits("sns", "SetTopicAttributes", n);
        assert!(set("AttributeName"));
        let create = |n| name_fits("sns", "CreateTopic", n);
        assert!(create("Attributes.entry.1.key"));
        assert!(create("Attributes.entry.1.value"));
        assert!(!create("Attributes.entry.1.Name"));
        assert!(!create("Attributes.entry.1.value.x"));
        assert!(!create("Attributes.member.1.key"));
        assert!(!create("Attributes"));
        let publish = |n| name_fits("sns", "Publish", n);
        assert!(publish("MessageAttributes.entry.1.Name"));
        assert!(publish("MessageAttributes.entry.1.Value.DataType"));
        assert!(!publish("MessageAttributes.entry.1.key"));
    }

    #[test]
    fn services_without_shapes_keep_every_name() {
        assert!(name_fits("kms", "Encrypt", "KeyId.x"));
        assert!(name_fits("cloudwatch", "NoSuchAction", "A"));
    }
}
