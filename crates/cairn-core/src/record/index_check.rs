//! What `cairn verify-store` checks of the LookupEvents index beyond the columns the store
//! compares itself: the `Username` and `Resources` an event is found by must follow from its
//! record, which the event chain protects. An edited username or resource row would hide an
//! event from a lookup, or show it under another user's name.
//!
//! The rules are the ones recording follows, kept conservative so an untampered store never
//! fails: a username is checked only for identities whose lookup name the record states
//! (root, IAM users, role sessions, called directly); every resource row must name something
//! the record mentions; the names [`super::lookup_names::derived`] draws from the record, and
//! one row per type of the record's `resources`, must be present.

use serde_json::Value;

use super::lookup_names::derived;
pub use cairn_model::lookup_names::mentions;

/// The index entries of one event that disagree with its record, as short descriptions
/// (`username`, `event_resources (…)`); empty when they agree.
pub fn disagreements(
    record: &Value,
    username: &str,
    resources: &[(String, String)],
) -> Vec<String> {
    if record.get("eventCategory").and_then(Value::as_str) == Some("Insight") {
        return Vec::new();
    }
    let mut out = Vec::new();
    if expected_username(record).is_some_and(|u| u != username) {
        out.push("username".to_owned());
    }
    let text = record.to_string();
    for (kind, name) in resources {
        if !mentions(&text, name) {
            out.push(format!(
                "event_resources ({kind} {name} is not in the record)"
            ));
        }
    }
    let source = record
        .get("eventSource")
        .and_then(Value::as_str)
        .unwrap_or("");
    let null = Value::Null;
    let request = record.get("requestParameters").unwrap_or(&null);
    let response = record.get("responseElements").unwrap_or(&null);
    for pair in derived(source, request, response) {
        if !resources.contains(&pair) {
            out.push(format!("event_resources ({} {} missing)", pair.0, pair.1));
        }
    }
    let listed = record.get("resources").and_then(Value::as_array);
    for kind in listed
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("type")?.as_str())
    {
        if !resources.iter().any(|(k, _)| k == kind) {
            out.push(format!("event_resources ({kind} missing)"));
        }
    }
    out.dedup();
    out
}

/// The LookupEvents username the record implies, for identities whose name it states.
fn expected_username(record: &Value) -> Option<&str> {
    let identity = record.get("userIdentity")?;
    if identity.get("invokedBy").is_some() {
        return None;
    }
    match identity.get("type")?.as_str()? {
        "Root" => Some("root"),
        "IAMUser" => identity.get("userName")?.as_str(),
        "AssumedRole" => identity.get("arn")?.as_str()?.rsplit('/').next(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pair(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn an_index_that_follows_from_its_record_agrees() {
        let record = json!({
            "eventSource": "iam.amazonaws.com", "eventCategory": "Management",
            "userIdentity": {"type": "IAMUser", "userName": "alice"},
            "requestParameters": {"userName": "bob"}, "responseElements": null,
        });
        assert!(disagreements(&record, "alice", &[pair("AWS::IAM::User", "bob")]).is_empty());
        let session = json!({"userIdentity": {"type": "AssumedRole",
            "arn": "arn:aws:sts::123456789012:assumed-role/ops/s1"}, "resources": [
            {"type": "AWS::CloudTrail::Trail", "ARN": "arn:aws:cloudtrail:us-east-1:123456789012:trail/t"}]});
        let trail = pair(
            "AWS::CloudTrail::Trail",
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/t",
        );
        assert!(disagreements(&session, "s1", &[trail]).is_empty());
    }

    #[test]
    fn edited_usernames_and_resource_rows_disagree() {
        let record = json!({
            "eventSource": "sns.amazonaws.com", "eventCategory": "Management",
            "userIdentity": {"type": "Root"},
            "responseElements": {"topicArn": "arn:aws:sns:us-east-1:123456789012:t"},
            "resources": [{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::b"}],
        });
        let topic = pair("AWS::SNS::Topic", "arn:aws:sns:us-east-1:123456789012:t");
        let bucket = pair("AWS::S3::Bucket", "arn:aws:s3:::b");
        assert!(disagreements(&record, "root", &[topic.clone(), bucket.clone()]).is_empty());
        assert_eq!(
            disagreements(&record, "someoneelse", &[topic.clone(), bucket.clone()]),
            ["username"]
        );
        assert_eq!(
            disagreements(&record, "root", std::slice::from_ref(&bucket)).len(),
            1
        );
        assert_eq!(
            disagreements(&record, "root", std::slice::from_ref(&topic)).len(),
            1
        );
        let renamed = pair("AWS::SNS::Topic", "other");
        assert_eq!(
            disagreements(&record, "root", &[topic, bucket, renamed]).len(),
            1
        );
    }
}
