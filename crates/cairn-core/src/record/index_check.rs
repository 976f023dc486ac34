//! What `cairn verify-store` checks of the LookupEvents index beyond the columns the store
//! compares itself: the `Username` and `Resources` an event is found by must follow from its
//! record, which the event chain protects. An edited username or resource row would hide an
//! event from a lookup, or show it under another user's name.
//!
//! The rules are the ones recording follows, kept conservative so an untampered store never
//! fails: a username is checked only for identities whose lookup name the record states
//! (root, IAM users, role sessions, whether or not a service called for them, and services
//! themselves); every resource row must name something the record mentions; the names
//! [`super::lookup_names::derived`] draws from the record must be present, and so must each of
//! the record's `resources`, under its type and by its ARN or the short name LookupEvents
//! shows for it (an S3 bucket's or object's name, a log group's name).

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
    for resource in listed.into_iter().flatten() {
        let Some(kind) = resource.get("type").and_then(Value::as_str) else {
            continue;
        };
        let arn = resource
            .get("ARN")
            .or_else(|| resource.get("ARNPrefix"))
            .and_then(Value::as_str)
            .unwrap_or("");
        let found = resources
            .iter()
            .any(|(k, name)| k == kind && (arn.is_empty() || name == lookup_name_of(kind, arn)));
        if !found {
            out.push(format!("event_resources ({kind} {arn} missing)"));
        }
    }
    out.dedup();
    out
}

/// The name LookupEvents shows for a resource of the record, as recording gives it: the
/// short name of S3 buckets and objects (the ARN after `arn:<partition>:s3:::`) and of log
/// groups (the name after `:log-group:`), else the ARN.
fn lookup_name_of<'a>(kind: &str, arn: &'a str) -> &'a str {
    let rest = arn.splitn(6, ':').nth(5).unwrap_or(arn);
    match kind {
        "AWS::S3::Bucket" | "AWS::S3::Object" => rest,
        "AWS::Logs::LogGroup" => rest.strip_prefix("log-group:").unwrap_or(arn),
        _ => arn,
    }
}

/// The LookupEvents username the record implies, for identities whose name it states: a
/// service's is the service itself; a principal's is the same whether or not a service called
/// for it (`invokedBy`).
fn expected_username(record: &Value) -> Option<&str> {
    let identity = record.get("userIdentity")?;
    match identity.get("type")?.as_str()? {
        "AWSService" => identity.get("invokedBy")?.as_str(),
        // An unsigned call (an SNS subscription link): `anonymous`.
        "AWSAccount" if identity.get("accountId")?.as_str()? == "anonymous" => Some("anonymous"),
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
        let bucket = pair("AWS::S3::Bucket", "b");
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

    #[test]
    fn a_resource_row_renamed_to_part_of_its_name_disagrees() {
        let trail_arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/t4";
        let stop = json!({"eventSource": "cloudtrail.amazonaws.com",
            "userIdentity": {"type": "Root"}, "requestParameters": {"name": "t4"},
            "resources": [{"type": "AWS::CloudTrail::Trail", "ARN": trail_arn}]});
        assert!(
            disagreements(&stop, "root", &[pair("AWS::CloudTrail::Trail", trail_arn)]).is_empty()
        );
        // The bare name is in the record, but the trail is indexed by its ARN.
        assert_eq!(
            disagreements(&stop, "root", &[pair("AWS::CloudTrail::Trail", "t4")]).len(),
            1
        );
        let put = json!({"eventSource": "s3.amazonaws.com", "userIdentity": {"type": "Root"},
            "requestParameters": {"bucketName": "t4-bucket"},
            "resources": [{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::t4-bucket"}]});
        assert!(disagreements(&put, "root", &[pair("AWS::S3::Bucket", "t4-bucket")]).is_empty());
        // Renamed to its ARN, the row no longer finds the event by the name it was recorded
        // with.
        assert_eq!(
            disagreements(
                &put,
                "root",
                &[pair("AWS::S3::Bucket", "arn:aws:s3:::t4-bucket")]
            )
            .len(),
            1
        );
        assert_eq!(
            disagreements(&put, "root", &[pair("AWS::S3::Bucket", "t4")]).len(),
            1
        );
        let group = json!({"eventSource": "logs.amazonaws.com", "userIdentity": {"type": "Root"},
            "requestParameters": {"logGroupName": "g"}, "resources": [{"type": "AWS::Logs::LogGroup",
            "ARN": "arn:aws:logs:us-east-1:123456789012:log-group:g"}]});
        assert!(disagreements(&group, "root", &[pair("AWS::Logs::LogGroup", "g")]).is_empty());
    }

    #[test]
    fn a_services_username_is_the_service_and_a_callers_stays_theirs() {
        let admin = json!({"eventSource": "iam.amazonaws.com",
            "userIdentity": {"type": "AWSService", "invokedBy": "cairn-admin"}});
        assert!(disagreements(&admin, "cairn-admin", &[]).is_empty());
        assert_eq!(disagreements(&admin, "root", &[]), ["username"]);
        let via = json!({"eventSource": "kms.amazonaws.com",
            "userIdentity": {"type": "IAMUser", "userName": "bob", "invokedBy": "s3.amazonaws.com"}});
        assert!(disagreements(&via, "bob", &[]).is_empty());
        assert_eq!(disagreements(&via, "root", &[]), ["username"]);
    }
}
