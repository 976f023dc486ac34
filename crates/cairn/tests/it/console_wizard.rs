//! The create-trail wizard's optional resources: a new SSE-KMS key with CloudTrail's key
//! policy under an alias, and a new CloudWatch Logs group with the role CloudTrail assumes,
//! made as the signed-in user; the trail then seals its files with the key and delivers its
//! records to the group. A taken alias or a missing choice is shown next to its field and
//! leaves nothing behind.

use serde_json::{Value, json};

use crate::console::{Browser, iam, lookup, xml_member};
use crate::delivery_notify::keys;
use crate::harness::{ACCESS_KEY, SECRET, Server};
use crate::kms_util::kms;
use crate::logs::ok as logs;

const ACCT: &str = "123456789012";

/// The wizard's last step posted with `extra` fields beside a new bucket named `bucket`.
pub(crate) async fn create(
    b: &mut Browser,
    name: &str,
    bucket: &str,
    extra: &[(&str, &str)],
) -> (u16, String, String) {
    b.get("/console/trails/create").await;
    let csrf = b.csrf.clone();
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("step", "3"),
        ("go", "create"),
        ("name", name),
        ("storage", "new"),
        ("new_bucket", bucket),
        ("validation", "on"),
        ("validation_seen", "1"),
    ];
    form.extend_from_slice(extra);
    let (status, headers, body) = b.post("/console/trails/create", &form).await;
    let location = headers
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, body)
}

#[tokio::test]
async fn the_wizard_makes_a_kms_key_and_cloudwatch_logs_resources_the_trail_uses() {
    let mut server = Server::start();
    let mut b = Browser::new(&server);
    let (status, _, _) = b.sign_in(ACCESS_KEY, SECRET).await;
    assert_eq!(status, 303);
    let (status, _, page) = b.get("/console/trails/create").await;
    assert_eq!(status, 200);
    for field in [
        "name=\"kms_alias\"",
        "name=\"kms_key\"",
        "name=\"cwl_group\"",
        "name=\"cwl_role\"",
    ] {
        assert!(page.contains(field), "step 1 offers {field}");
    }
    assert!(
        !page.contains("does not include yet"),
        "no feature is missing"
    );

    let (status, location, body) = create(
        &mut b,
        "wiz-trail",
        "wiz-logs",
        &[
            ("kms", "on"),
            ("kms_mode", "new"),
            ("kms_alias", "wiz-key"),
            ("cloudwatch", "on"),
            ("cwl_group_mode", "new"),
            ("cwl_group", "wiz-group"),
            ("cwl_role_mode", "new"),
            ("cwl_role", "WizRole"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{body}");
    assert!(
        location.starts_with("/console/trails?done=created"),
        "{location}"
    );

    // The trail names the new key, group and role.
    let (_, trails) = server.ct("DescribeTrails", json!({})).await;
    let t = &trails["trailList"][0];
    let key_arn = t["KmsKeyId"].as_str().unwrap().to_owned();
    assert!(
        key_arn.starts_with(&format!("arn:aws:kms:us-east-1:{ACCT}:key/")),
        "{t}"
    );
    assert_eq!(
        t["CloudWatchLogsLogGroupArn"],
        format!("arn:aws:logs:us-east-1:{ACCT}:log-group:wiz-group:*")
    );
    assert_eq!(
        t["CloudWatchLogsRoleArn"],
        format!("arn:aws:iam::{ACCT}:role/WizRole")
    );

    // The key has CloudTrail's key policy for this trail and the alias.
    let c = reqwest::Client::new();
    let (s, v) = kms(
        &c,
        &server.addr,
        "GetKeyPolicy",
        json!({"KeyId": key_arn, "PolicyName": "default"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let policy: Value = serde_json::from_str(v["Policy"].as_str().unwrap()).unwrap();
    let encrypt = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|st| st["Sid"] == "Allow CloudTrail to encrypt logs")
        .expect("CloudTrail may encrypt");
    assert_eq!(
        encrypt["Condition"]["StringEquals"]["AWS:SourceArn"],
        format!("arn:aws:cloudtrail:us-east-1:{ACCT}:trail/wiz-trail")
    );
    let (s, v) = kms(
        &c,
        &server.addr,
        "DescribeKey",
        json!({"KeyId": "alias/wiz-key"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["KeyMetadata"]["Arn"], key_arn);

    // The role trusts CloudTrail and may write the trail's streams of this group only.
    let role = iam(&server, &[("Action", "GetRole"), ("RoleName", "WizRole")]).await;
    let trust = urlencoding_decode(&xml_member(&role, "AssumeRolePolicyDocument"));
    assert!(trust.contains("cloudtrail.amazonaws.com"), "{trust}");
    let inline = iam(
        &server,
        &[
            ("Action", "GetRolePolicy"),
            ("RoleName", "WizRole"),
            ("PolicyName", "CloudTrailPolicyForCloudWatchLogs"),
        ],
    )
    .await;
    let doc = urlencoding_decode(&xml_member(&inline, "PolicyDocument"));
    assert!(
        doc.contains(&format!(
            "log-group:wiz-group:log-stream:{ACCT}_CloudTrail_*"
        )),
        "{doc}"
    );

    // Delivery: files sealed with the key, records in the group's stream.
    let now = chrono::Utc::now().timestamp() as f64 + 2.0;
    server.flush(&["--now", &now.to_string()]);
    let files = keys(&server, "wiz-logs", &format!("AWSLogs/{ACCT}/CloudTrail/")).await;
    assert!(!files.is_empty());
    for key in &files {
        let req = crate::harness::sign_s3(
            &server.addr,
            "us-east-1",
            "HEAD",
            &format!("/wiz-logs/{key}"),
            Vec::new(),
            chrono::Utc::now(),
        );
        let (s, h, _) = server.send(req).await;
        assert_eq!(s, 200);
        assert_eq!(h["x-amz-server-side-encryption"], "aws:kms");
        assert_eq!(
            h["x-amz-server-side-encryption-aws-kms-key-id"]
                .to_str()
                .unwrap(),
            key_arn
        );
    }
    let events = logs(
        &server,
        "FilterLogEvents",
        json!({"logGroupName": "wiz-group", "logStreamNames": [format!("{ACCT}_CloudTrail_us-east-1")]}),
    )
    .await;
    let names: Vec<String> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(e["message"].as_str().unwrap()).unwrap()["eventName"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    // What the trail selected once logging: the calls after StartLogging, in order.
    let at = names
        .iter()
        .position(|n| n == "StartLogging")
        .expect("StartLogging delivered");
    assert_eq!(
        names[at + 1..].first().map(String::as_str),
        Some("DescribeTrails"),
        "{names:?}"
    );
    // The console's calls are recorded as the user's console calls.
    for made in [
        "CreateKey",
        "CreateAlias",
        "CreateLogGroup",
        "CreateRole",
        "PutRolePolicy",
    ] {
        let found = lookup(&server, "EventName", made).await;
        assert_eq!(found.len(), 1, "{made}");
        assert_eq!(found[0]["userAgent"], "console.amazonaws.com", "{made}");
        assert_eq!(found[0]["sessionCredentialFromConsole"], "true", "{made}");
    }
}

#[tokio::test]
async fn a_taken_alias_or_a_missing_choice_is_shown_and_leaves_nothing_behind() {
    let server = Server::start();
    let c = reqwest::Client::new();
    let (s, v) = kms(&c, &server.addr, "CreateKey", json!({})).await;
    assert_eq!(s, 200, "{v}");
    let key = v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned();
    let (s, v) = kms(
        &c,
        &server.addr,
        "CreateAlias",
        json!({"AliasName": "alias/taken", "TargetKeyId": key}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;

    let (status, _, body) = create(
        &mut b,
        "taken-trail",
        "taken-logs",
        &[("kms", "on"), ("kms_mode", "new"), ("kms_alias", "taken")],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"kms-error\""), "{body}");
    assert!(body.contains("alias/taken already exists"), "{body}");
    let (_, keys_now) = kms(&c, &server.addr, "ListKeys", json!({})).await;
    assert_eq!(
        keys_now["Keys"].as_array().unwrap().len(),
        1,
        "no second key"
    );
    let (_, trails) = server.ct("DescribeTrails", json!({})).await;
    assert_eq!(trails["trailList"], json!([]));

    let (status, _, body) = create(
        &mut b,
        "empty-trail",
        "empty-logs",
        &[
            ("kms", "on"),
            ("kms_mode", "existing"),
            ("kms_key", ""),
            ("cloudwatch", "on"),
            ("cwl_group", ""),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("Choose an AWS KMS key"), "{body}");
    assert!(body.contains("id=\"cloudwatch-error\""), "{body}");
    let (s, _) = server.s3("HEAD", "/empty-logs", b"").await;
    assert_eq!(s, 404, "nothing was made before the checks passed");
}

/// Decodes the URL-encoded policy documents IAM returns.
fn urlencoding_decode(s: &str) -> String {
    form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
        .replace("&quot;", "\"")
}
