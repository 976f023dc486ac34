//! AssociateKmsKey and DisassociateKmsKey: the key a log group reports in DescribeLogGroups
//! changes in place, each call needs its own `logs:` action and is a management event.

use serde_json::{Value, json};

use crate::harness::{Server, error_type};
use crate::logs::{logs, ok};

async fn key_of(server: &Server, group: &str) -> Option<String> {
    let page = ok(
        server,
        "DescribeLogGroups",
        json!({"logGroupNamePrefix": group}),
    )
    .await;
    page["logGroups"][0]
        .get("kmsKeyId")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[tokio::test]
async fn a_group_key_is_associated_and_disassociated_in_place() {
    let s = Server::start();
    // The key must exist and be enabled (AWS: InvalidParameterException otherwise).
    // The key policy must let CloudWatch Logs use the key for the group (logs4: a key only
    // the account's root may use was accepted; AWS refuses it).
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
         "Action": "kms:*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
         "Action": ["kms:GenerateDataKey*", "kms:Decrypt*"], "Resource": "*",
         "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn":
             "arn:aws:logs:us-east-1:123456789012:log-group:trail/*"}}}]});
    let client = reqwest::Client::new();
    let (status, plain) = crate::kms_util::kms(&client, &s.addr, "CreateKey", json!({})).await;
    assert_eq!(status, 200, "{plain}");
    let (status, made) = crate::kms_util::kms(
        &client,
        &s.addr,
        "CreateKey",
        json!({"Policy": policy.to_string()}),
    )
    .await;
    assert_eq!(status, 200, "{made}");
    let key = made["KeyMetadata"]["Arn"].as_str().unwrap().to_owned();
    let key = key.as_str();
    ok(&s, "CreateLogGroup", json!({"logGroupName": "trail/keyed"})).await;
    assert_eq!(key_of(&s, "trail/keyed").await, None);
    let root_only = plain["KeyMetadata"]["Arn"].as_str().unwrap();
    for (op, body) in [
        (
            "AssociateKmsKey",
            json!({"logGroupName": "trail/keyed", "kmsKeyId": root_only}),
        ),
        (
            "CreateLogGroup",
            json!({"logGroupName": "trail/other", "kmsKeyId": root_only}),
        ),
        (
            "CreateLogGroup",
            json!({"logGroupName": "elsewhere", "kmsKeyId": key}),
        ),
    ] {
        let (status, e) = logs(&s, op, body).await;
        assert_eq!(status, 400, "{e}");
        assert_eq!(error_type(&e), "AccessDeniedException", "{e}");
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .starts_with("The specified KMS key does not exist or is not allowed to be used with Arn 'arn:aws:logs:us-east-1:123456789012:log-group:"),
            "{e}"
        );
    }
    assert_eq!(key_of(&s, "trail/keyed").await, None);
    assert_eq!(key_of(&s, "trail/other").await, None, "no group is made");

    ok(
        &s,
        "AssociateKmsKey",
        json!({"logGroupName": "trail/keyed", "kmsKeyId": key}),
    )
    .await;
    assert_eq!(key_of(&s, "trail/keyed").await.as_deref(), Some(key));
    ok(
        &s,
        "DisassociateKmsKey",
        json!({"logGroupName": "trail/keyed"}),
    )
    .await;
    assert_eq!(key_of(&s, "trail/keyed").await, None);

    let (status, e) = logs(
        &s,
        "AssociateKmsKey",
        json!({"logGroupName": "trail/missing", "kmsKeyId": key}),
    )
    .await;
    assert_eq!(status, 400, "{e}");
    assert_eq!(error_type(&e), "ResourceNotFoundException");
    let (status, e) = logs(
        &s,
        "AssociateKmsKey",
        json!({"logGroupName": "trail/keyed"}),
    )
    .await;
    assert_eq!(status, 400, "{e}");

    let (_, page) = s
        .ct(
            "LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "logs.amazonaws.com"}], "MaxResults": 50}),
        )
        .await;
    let names = crate::harness::event_names(&page);
    assert_eq!(
        names.iter().filter(|n| *n == "AssociateKmsKey").count(),
        4,
        "{names:?}"
    );
    assert!(
        names.contains(&"DisassociateKmsKey".to_owned()),
        "{names:?}"
    );
}
