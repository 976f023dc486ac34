//! The member names of each recorded JSON operation's input at every depth (the `shapes`
//! section of `model_rules.json`, generated from botocore's models by
//! `scripts/model_rules.py`), so a request's record keeps only what the model knows.
//!
//! AWS records a request as its service deserialized it: a member the model lacks, at any
//! depth, was never part of the request. Without this, an event selector sent with a
//! misspelt `values` would be recorded as if it selected data events while the trail
//! selected none, and a detection reading the record would be fooled.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

/// What a value of one shape may carry.
enum Shape {
    /// Kept whole (scalars, documents, lists of scalars, shapes cut for depth).
    Whole,
    /// A structure's members, each with its own shape.
    Structure(HashMap<String, Shape>),
    /// A list whose items have this shape.
    List(Box<Shape>),
    /// A map whose values have this shape.
    Map(Box<Shape>),
}

impl Shape {
    fn parse(v: &Value) -> Self {
        let Some(o) = v.as_object() else {
            return Shape::Whole;
        };
        if let Some(Value::Object(members)) = o.get("s") {
            return Shape::Structure(
                members
                    .iter()
                    .map(|(m, s)| (m.clone(), Shape::parse(s)))
                    .collect(),
            );
        }
        match (o.get("l"), o.get("m")) {
            (Some(item), _) => Shape::List(Box::new(Shape::parse(item))),
            (_, Some(value)) => Shape::Map(Box::new(Shape::parse(value))),
            _ => Shape::Whole,
        }
    }

    /// `v` without the members this shape does not name. A value of another JSON type than
    /// the shape's is kept as sent (the type check refuses it before the operation runs).
    fn prune(&self, v: &Value) -> Value {
        match (self, v) {
            (Shape::Structure(members), Value::Object(o)) => Value::Object(
                o.iter()
                    .filter_map(|(k, x)| members.get(k).map(|s| (k.clone(), s.prune(x))))
                    .collect::<Map<_, _>>(),
            ),
            (Shape::List(item), Value::Array(items)) => {
                Value::Array(items.iter().map(|x| item.prune(x)).collect())
            }
            (Shape::Map(value), Value::Object(o)) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.clone(), value.prune(x)))
                    .collect::<Map<_, _>>(),
            ),
            _ => v.clone(),
        }
    }
}

/// service → operation → top-level member → its shape (members with nested shapes only).
type Shapes = HashMap<String, HashMap<String, HashMap<String, Shape>>>;

/// A section of `model_rules.json` of the form service → operation → member → shape, each
/// shape read by `parse` (this module's `shapes`, and `query_shapes`).
pub(crate) fn per_member<S>(
    section: &str,
    parse: fn(&Value) -> S,
) -> HashMap<String, HashMap<String, HashMap<String, S>>> {
    let data: Value =
        serde_json::from_str(crate::model_check::MODEL_RULES).expect("model_rules.json parses");
    let entries = |v: &Value| -> Vec<(String, Value)> {
        v.as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    entries(&data[section])
        .into_iter()
        .map(|(service, ops)| {
            let ops = entries(&ops)
                .into_iter()
                .map(|(op, members)| {
                    let members = entries(&members)
                        .into_iter()
                        .map(|(m, s)| (m, parse(&s)))
                        .collect();
                    (op, members)
                })
                .collect();
            (service, ops)
        })
        .collect()
}

fn shapes() -> &'static Shapes {
    static SHAPES: OnceLock<Shapes> = OnceLock::new();
    SHAPES.get_or_init(|| per_member("shapes", Shape::parse))
}

/// The value of top-level member `member` of `service`'s `op` as the record keeps it: only
/// the nested members the model names.
pub fn modeled_value(service: &str, op: &str, member: &str, v: &Value) -> Value {
    match shapes()
        .get(service)
        .and_then(|ops| ops.get(op))
        .and_then(|members| members.get(member))
    {
        Some(shape) => shape.prune(v),
        None => v.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_members_the_model_lacks_are_dropped_at_every_depth() {
        let selectors = json!([{
            "ReadWriteType": "All",
            "IncludeManagementEvents": false,
            "Injected": true,
            "DataResources": [{"Type": "AWS::S3::Object", "values": ["arn:aws:s3"]}],
        }]);
        let kept = modeled_value(
            "cloudtrail",
            "PutEventSelectors",
            "EventSelectors",
            &selectors,
        );
        assert_eq!(
            kept,
            json!([{
                "ReadWriteType": "All",
                "IncludeManagementEvents": false,
                "DataResources": [{"Type": "AWS::S3::Object"}],
            }])
        );
        let tags = json!([{"TagKey": "k", "TagValue": "v", "Extra": {"a": 1}}]);
        assert_eq!(
            modeled_value("kms", "CreateKey", "Tags", &tags),
            json!([{"TagKey": "k", "TagValue": "v"}])
        );
    }

    #[test]
    fn scalars_maps_and_unknown_operations_are_kept_as_sent() {
        let v = json!({"anything": [1, {"x": 2}]});
        assert_eq!(modeled_value("cloudtrail", "NoSuchOp", "X", &v), v);
        let tags = json!({"k": "v", "k2": "v2"});
        assert_eq!(modeled_value("logs", "CreateLogGroup", "tags", &tags), tags);
        // A value of the wrong JSON type is left for the type check to refuse.
        let wrong = json!("not a list");
        assert_eq!(
            modeled_value("cloudtrail", "PutEventSelectors", "EventSelectors", &wrong),
            wrong
        );
    }
}
