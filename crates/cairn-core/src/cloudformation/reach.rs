//! What a replacement reaches: a change set lists every resource whose properties refer to a
//! resource the update replaces (or may replace), since the reference's value (a new
//! physical id or attribute) changes with it. AWS lists each such property as a detail with
//! `ChangeSource` `ResourceReference` (a `Ref`) or `ResourceAttribute` (`Fn::GetAtt`), the
//! `CausingEntity` `Topic` or `Topic.Arn`, and `Evaluation` `Dynamic`; a property that
//! requires recreation makes the resource's `Replacement` `Conditional` (not `True`: the
//! value is not known until the update runs), which in turn reaches the resources that
//! refer to it. New stack tags reach every resource that takes tags ([`retag`]).

use serde_json::Value;

use super::model::Change;
use super::providers::Registry;

/// `(ChangeSource, CausingEntity)` of each reference in `v` to one of `targets`.
fn references(v: &Value, targets: &[String], out: &mut Vec<(String, String)>) {
    let mut found: Vec<(&str, String)> = Vec::new();
    match v {
        Value::Object(m) => {
            if let Some(Value::String(name)) = m.get("Ref") {
                found.push(("ResourceReference", name.clone()));
            }
            match m.get("Fn::GetAtt") {
                Some(Value::Array(a)) => {
                    if let (Some(Value::String(r)), Some(Value::String(att))) =
                        (a.first(), a.get(1))
                    {
                        found.push(("ResourceAttribute", format!("{r}.{att}")));
                    }
                }
                Some(Value::String(s)) => found.push(("ResourceAttribute", s.clone())),
                _ => {}
            }
            for name in super::prepare::sub_names(m) {
                let source = if name.contains('.') {
                    "ResourceAttribute"
                } else {
                    "ResourceReference"
                };
                found.push((source, name.to_owned()));
            }
        }
        Value::Array(_) => {}
        _ => return,
    }
    for (source, entity) in found {
        let logical = entity.split('.').next().unwrap_or_default();
        let pair = (source.to_owned(), entity.clone());
        if targets.iter().any(|t| t == logical) && !out.contains(&pair) {
            out.push(pair);
        }
    }
    match v {
        Value::Object(m) => m.values().for_each(|x| references(x, targets, out)),
        Value::Array(items) => items.iter().for_each(|x| references(x, targets, out)),
        _ => {}
    }
}

/// One resource of the new template that exists now: its logical id, type, physical id and
/// raw (unresolved) properties.
pub struct Existing<'a> {
    /// Logical id.
    pub logical_id: &'a str,
    /// Resource type.
    pub resource_type: &'a str,
    /// Physical id.
    pub physical_id: Option<&'a str>,
    /// The template's properties, intrinsic functions unresolved.
    pub properties: &'a Value,
}

fn may_be_replaced(c: &Change) -> bool {
    c.action == "Modify" && matches!(c.replacement.as_deref(), Some("True" | "Conditional"))
}

/// Adds to `changes` the details of every property of `resources` that refers to a
/// resource that may be replaced, until no more resources are reached.
pub fn extend(registry: &Registry, resources: &[Existing<'_>], changes: &mut Vec<Change>) {
    // Each round can only add replacements, and there are finitely many resources.
    for _ in 0..=resources.len() {
        let replaced: Vec<String> = changes
            .iter()
            .filter(|c| may_be_replaced(c))
            .map(|c| c.logical_id.clone())
            .collect();
        let mut grew = false;
        for r in resources {
            let Some(props) = r.properties.as_object() else {
                continue;
            };
            let replaces = registry
                .get(r.resource_type)
                .map(|p| p.replaces())
                .unwrap_or(&[]);
            let mut found = Vec::new();
            for (k, v) in props {
                let mut refs = Vec::new();
                references(v, &replaced, &mut refs);
                for (source, entity) in refs {
                    if entity.split('.').next() != Some(r.logical_id) {
                        found.push((k.clone(), replaces.contains(&k.as_str()), source, entity));
                    }
                }
            }
            if found.is_empty() {
                continue;
            }
            let (i, added) = modify_entry(changes, r, "Properties");
            grew |= added;
            let c = &mut changes[i];
            if c.action != "Modify" {
                continue;
            }
            for (k, recreate, source, entity) in found {
                let reference = Some((source, entity));
                let known = c
                    .details
                    .iter()
                    .zip(&c.references)
                    .any(|((n, _), r)| *n == k && *r == reference);
                if known {
                    continue;
                }
                let recreation = if recreate { "Always" } else { "Never" };
                push_detail(c, (k, recreation.to_owned()), reference, None);
                if recreate && c.replacement.as_deref() == Some("False") {
                    c.replacement = Some("Conditional".into());
                    grew = true;
                }
            }
        }
        if !grew {
            return;
        }
    }
}

/// Adds to `changes` the change of the stack's tags (an update with new `Tags`): as
/// CloudFormation propagates stack tags, every resource of `resources` that takes tags is
/// modified, its `Scope` gains `Tags` and its details one with `Target.Attribute` `Tags` that
/// never requires recreation.
pub fn retag(registry: &Registry, resources: &[Existing<'_>], changes: &mut Vec<Change>) {
    for r in resources {
        if !registry
            .get(r.resource_type)
            .is_some_and(|p| p.takes_stack_tags())
        {
            continue;
        }
        let (i, _) = modify_entry(changes, r, "");
        let c = &mut changes[i];
        if c.action != "Modify" {
            continue;
        }
        c.scope.push("Tags".to_owned());
        let tags = (String::new(), "Never".to_owned());
        push_detail(c, tags, None, Some("Tags".to_owned()));
    }
}

/// The index of `r`'s change in `changes`, adding a `Modify` without replacement (with
/// `scope` unless empty) when it has none; and whether it was added.
fn modify_entry(changes: &mut Vec<Change>, r: &Existing<'_>, scope: &str) -> (usize, bool) {
    if let Some(i) = changes.iter().position(|c| c.logical_id == r.logical_id) {
        return (i, false);
    }
    changes.push(Change {
        action: "Modify".into(),
        logical_id: r.logical_id.to_owned(),
        physical_id: r.physical_id.map(str::to_owned),
        resource_type: r.resource_type.to_owned(),
        replacement: Some("False".into()),
        scope: [scope]
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| (*s).to_owned())
            .collect(),
        details: Vec::new(),
        causes: Vec::new(),
        references: Vec::new(),
        attributes: Vec::new(),
    });
    (changes.len() - 1, true)
}

/// Adds one detail to a change; its cause, reference and attribute are kept index by index
/// with the details (missing ones filled with `None` first).
fn push_detail(
    c: &mut Change,
    detail: (String, String),
    reference: Option<(String, String)>,
    attribute: Option<String>,
) {
    c.causes.resize(c.details.len(), None);
    c.references.resize(c.details.len(), None);
    c.attributes.resize(c.details.len(), None);
    c.details.push(detail);
    c.causes.push(None);
    c.references.push(reference);
    c.attributes.push(attribute);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replaced(logical_id: &str) -> Change {
        Change {
            action: "Modify".into(),
            logical_id: logical_id.into(),
            physical_id: Some("old".into()),
            resource_type: "AWS::SNS::Topic".into(),
            replacement: Some("True".into()),
            scope: vec!["Properties".into()],
            details: vec![("TopicName".into(), "Always".into())],
            causes: vec![None],
            references: Vec::new(),
            attributes: Vec::new(),
        }
    }

    #[test]
    fn new_stack_tags_modify_the_tags_of_each_resource_that_takes_them() {
        let registry = Registry::standard();
        let none = json!({});
        let existing = |logical_id, resource_type| Existing {
            logical_id,
            resource_type,
            physical_id: Some("id"),
            properties: &none,
        };
        let resources = [
            existing("Topic", "AWS::SNS::Topic"),
            existing("Policy", "AWS::SNS::TopicPolicy"),
            existing("Bucket", "AWS::S3::Bucket"),
        ];
        let mut changes = vec![replaced("Topic")];
        retag(&registry, &resources, &mut changes);
        let got: Vec<(&str, &str, &[String])> = changes
            .iter()
            .map(|c| {
                (
                    c.logical_id.as_str(),
                    c.replacement.as_deref().unwrap_or_default(),
                    c.scope.as_slice(),
                )
            })
            .collect();
        let scope = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            got,
            [
                ("Topic", "True", scope(&["Properties", "Tags"]).as_slice()),
                ("Bucket", "False", scope(&["Tags"]).as_slice()),
            ]
        );
        assert_eq!(
            changes[0].details,
            [
                ("TopicName".to_owned(), "Always".to_owned()),
                (String::new(), "Never".to_owned())
            ]
        );
        assert_eq!(changes[0].attributes, [None, Some("Tags".to_owned())]);
        assert_eq!(changes[0].causes, [None, None]);
        assert_eq!(changes[1].attributes, [Some("Tags".to_owned())]);
    }

    #[test]
    fn references_name_their_source_and_entity() {
        let v = json!({"A": {"Ref": "Topic"}, "B": {"Fn::GetAtt": ["Topic", "TopicName"]},
                       "C": {"Fn::Sub": "${Topic.TopicName}-${Other}-${!Topic}"},
                       "D": {"Fn::GetAtt": "Topic.Arn"}, "E": {"Ref": "Other"}});
        let mut out = Vec::new();
        references(&v, &["Topic".to_owned()], &mut out);
        out.sort();
        assert_eq!(
            out,
            [
                ("ResourceAttribute".to_owned(), "Topic.Arn".to_owned()),
                ("ResourceAttribute".to_owned(), "Topic.TopicName".to_owned()),
                ("ResourceReference".to_owned(), "Topic".to_owned()),
            ]
        );
    }

    #[test]
    fn a_replacement_reaches_dependents_and_theirs() {
        let registry = Registry::standard();
        let sub = json!({"TopicArn": {"Ref": "Topic"}, "Protocol": "sqs", "Endpoint": "x"});
        let policy = json!({"Topics": [{"Ref": "Topic"}], "PolicyDocument": {}});
        let alarm = json!({"AlarmActions": [{"Ref": "Sub"}]});
        let resources = [
            Existing {
                logical_id: "Sub",
                resource_type: "AWS::SNS::Subscription",
                physical_id: Some("sub-arn"),
                properties: &sub,
            },
            Existing {
                logical_id: "Policy",
                resource_type: "AWS::SNS::TopicPolicy",
                physical_id: Some("policy"),
                properties: &policy,
            },
            Existing {
                logical_id: "Alarm",
                resource_type: "AWS::CloudWatch::Alarm",
                physical_id: Some("alarm"),
                properties: &alarm,
            },
        ];
        let mut changes = vec![replaced("Topic")];
        extend(&registry, &resources, &mut changes);
        type Row<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);
        let got: Vec<Row<'_>> = changes
            .iter()
            .map(|c| {
                (
                    c.logical_id.as_str(),
                    c.replacement.as_deref().unwrap_or_default(),
                    c.details
                        .iter()
                        .map(|(n, r)| (n.as_str(), r.as_str()))
                        .collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("Topic", "True", vec![("TopicName", "Always")]),
                ("Sub", "Conditional", vec![("TopicArn", "Always")]),
                ("Policy", "False", vec![("Topics", "Never")]),
                ("Alarm", "False", vec![("AlarmActions", "Never")]),
            ]
        );
        assert_eq!(
            changes[1].references,
            [Some(("ResourceReference".to_owned(), "Topic".to_owned()))]
        );
        assert_eq!(
            changes[3].references,
            [Some(("ResourceReference".to_owned(), "Sub".to_owned()))]
        );
    }
}
