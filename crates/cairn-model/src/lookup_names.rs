//! The resources LookupEvents shows for calls whose records carry no `resources` (IAM and
//! SNS management calls): CloudTrail derives them from the call's parameters, so a
//! `ResourceName` lookup for a user, role or topic finds its CreateUser or CreateTopic.
//!
//! The derivation reads the record alone, so it lives here, below both recording
//! (`cairn_core::record`) and the store, whose schema migration rebuilds the index of events
//! recorded before a name was derived.

use serde_json::Value;

/// (request member, resource type) for IAM: the names a call acts on.
const IAM_MEMBERS: &[(&str, &str)] = &[
    ("userName", "AWS::IAM::User"),
    ("roleName", "AWS::IAM::Role"),
    ("groupName", "AWS::IAM::Group"),
    ("policyArn", "AWS::IAM::Policy"),
    ("instanceProfileName", "AWS::IAM::InstanceProfile"),
    ("accessKeyId", "AWS::IAM::AccessKey"),
];

/// (type, name) pairs for LookupEvents, derived from a call's request and response.
pub fn derived(event_source: &str, request: &Value, response: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut add = |kind: &str, v: Option<&Value>| {
        if let Some(name) = v.and_then(Value::as_str).filter(|s| !s.is_empty()) {
            let pair = (kind.to_owned(), name.to_owned());
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    };
    match event_source {
        "iam.amazonaws.com" => {
            for (member, kind) in IAM_MEMBERS {
                add(kind, request.get(member));
            }
            add(
                "AWS::IAM::AccessKey",
                response.pointer("/accessKey/accessKeyId"),
            );
            add("AWS::IAM::User", response.pointer("/accessKey/userName"));
            add("AWS::IAM::Policy", response.pointer("/policy/arn"));
        }
        "sns.amazonaws.com" => {
            add("AWS::SNS::Topic", request.get("topicArn"));
            add("AWS::SNS::Topic", response.get("topicArn"));
        }
        _ => {}
    }
    out
}

/// Whether a record's JSON `text` mentions `name` (as a JSON string's contents): the rule
/// every resource row must pass, and the one recording applies to the rows it writes, so a
/// name the record's size bounds left out is never indexed.
pub fn mentions(text: &str, name: &str) -> bool {
    if name.is_empty() {
        return false;
    }
    let quoted = Value::String(name.to_owned()).to_string();
    text.contains(&quoted[1..quoted.len() - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn iam_and_sns_calls_name_what_they_act_on() {
        let pairs = derived(
            "iam.amazonaws.com",
            &json!({"userName": "bob"}),
            &json!({"accessKey": {"accessKeyId": "AKIAEXAMPLE", "userName": "bob"}}),
        );
        assert_eq!(
            pairs,
            [
                ("AWS::IAM::User".to_owned(), "bob".to_owned()),
                ("AWS::IAM::AccessKey".to_owned(), "AKIAEXAMPLE".to_owned()),
            ]
        );
        let topic = "arn:aws:sns:us-east-1:123456789012:alerts";
        assert_eq!(
            derived(
                "sns.amazonaws.com",
                &json!({"name": "alerts"}),
                &json!({"topicArn": topic})
            ),
            [("AWS::SNS::Topic".to_owned(), topic.to_owned())]
        );
        assert!(
            derived(
                "s3.amazonaws.com",
                &json!({"bucketName": "b"}),
                &Value::Null
            )
            .is_empty()
        );
    }
}
