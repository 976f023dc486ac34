//! What the create-trail wizard checks before it makes anything, and what it undoes when a
//! call fails after it began: a "new" bucket that already exists is refused without touching
//! its policy; a bad trail name, bucket, key, topic, role or log group is shown next to its
//! field with nothing made; a failure after creation began removes what that submission made
//! (recorded like any call), so a retry with another name works.

use serde_json::{Value, json};

use crate::console::{Browser, lookup};
use crate::console_wizard::create;
use crate::harness::{ACCESS_KEY, SECRET, Server};

const ACCT: &str = "123456789012";

async fn policy_of(server: &Server, bucket: &str) -> Value {
    let (s, body) = server.s3("GET", &format!("/{bucket}?policy"), b"").await;
    assert_eq!(s, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
async fn a_new_bucket_that_already_exists_is_refused_and_its_policy_kept() {
    let server = Server::start();
    server.bucket_for_trails("shared-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "first", "S3BucketName": "shared-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let before = policy_of(&server, "shared-logs").await;

    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (status, _, body) = create(&mut b, "second", "shared-logs", &[]).await;
    assert_eq!(status, 200, "shown again, not created");
    assert!(body.contains("id=\"bucket-error\""), "{body}");
    assert!(body.contains("already exists"), "{body}");
    assert_eq!(
        policy_of(&server, "shared-logs").await,
        before,
        "the owner's policy is untouched"
    );
    assert!(
        lookup(&server, "EventName", "PutBucketPolicy")
            .await
            .iter()
            .all(|e| e["userAgent"] != "console.amazonaws.com"),
        "the console wrote no policy"
    );
    let (_, trails) = server.ct("DescribeTrails", json!({})).await;
    let names: Vec<&str> = trails["trailList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["Name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first"], "{ACCT}");
}

/// Step 1 posted towards step 2 with `fields` (the wizard's defaults otherwise).
async fn next_from_step1(b: &mut Browser, fields: &[(&str, &str)]) -> (u16, String) {
    b.get("/console/trails/create").await;
    let csrf = b.csrf.clone();
    let mut form = vec![("csrf", csrf.as_str()), ("step", "1"), ("go", "2")];
    form.extend_from_slice(fields);
    let (status, _, body) = b.post("/console/trails/create", &form).await;
    (status, body)
}

/// A trail name, its extra fields, and the id of the error shown.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
);

/// A trail name, its extra fields, and the id of the error shown (fields made at run time).
type Late<'a> = (&'static str, Vec<(&'static str, &'a str)>, &'static str);

/// Step 2's fields for management events and S3 data events of `buckets` (one per line).
fn data_events(buckets: &str) -> Vec<(&'static str, &str)> {
    vec![
        ("selectors_seen", "1"),
        ("management", "on"),
        ("read", "on"),
        ("write", "on"),
        ("s3_data", "on"),
        ("s3_scope", "some"),
        ("s3_buckets", buckets),
        ("s3_read", "on"),
    ]
}

async fn bucket_exists(server: &Server, bucket: &str) -> bool {
    server.s3("HEAD", &format!("/{bucket}"), b"").await.0 == 200
}

#[tokio::test]
async fn bad_fields_are_shown_on_their_field_before_anything_is_made() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;

    // The trail name's format is checked when leaving step 1.
    let (status, body) = next_from_step1(
        &mut b,
        &[
            ("name", "ab"),
            ("storage", "new"),
            ("new_bucket", "ab-logs"),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"name-error\""), "{body}");
    // The field names its error as its description (console5).
    assert!(
        body.contains("aria-invalid=\"true\" aria-describedby=\"name-error\""),
        "{body}"
    );
    assert!(body.contains("Choose trail attributes"), "still step 1");

    // And again at the last step, with nothing made.
    let (status, _, body) = create(&mut b, "ab", "ab-logs", &[]).await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"name-error\""), "{body}");
    assert!(
        !bucket_exists(&server, "ab-logs").await,
        "no bucket left behind"
    );

    // console5: an alias KMS refuses, and more S3 values than PutEventSelectors takes, were
    // found only after a bucket and a key were made (the key left pending deletion).
    let many: Vec<String> = (0..251).map(|i| format!("many-{i:03}")).collect();
    let many = many.join("\n");
    let late: [Late; 4] = [
        (
            "comma-values",
            data_events("one-bucket, Bad Bucket!"),
            "selectors-error",
        ),
        (
            "reserved-alias",
            vec![
                ("kms", "on"),
                ("kms_mode", "new"),
                ("kms_alias", "aws/mine"),
            ],
            "kms-error",
        ),
        (
            "unicode-alias",
            vec![
                ("kms", "on"),
                ("kms_mode", "new"),
                ("kms_alias", "cl\u{e9}"),
            ],
            "kms-error",
        ),
        ("many-values", data_events(&many), "selectors-error"),
    ];
    for (name, extra, field) in late {
        let bucket = format!("{name}-logs");
        let (status, _, body) = create(&mut b, name, &bucket, &extra).await;
        assert_eq!(status, 200, "{name}");
        assert!(body.contains(&format!("id=\"{field}\"")), "{name}: {body}");
        // The field names its error as its description (recheck28: the bucket list did not).
        assert!(
            body.contains(&format!("aria-describedby=\"{field}\"")),
            "{name}: {body}"
        );
        assert!(!bucket_exists(&server, &bucket).await, "{name}: no bucket");
        // Refused before anything was made: no bucket was made and taken back either.
        let made = lookup(&server, "EventName", "CreateBucket").await;
        assert!(
            made.iter()
                .all(|e| e["requestParameters"]["bucketName"] != bucket.as_str()),
            "{name}: nothing made"
        );
    }
    let c = reqwest::Client::new();
    let (_, keys) = crate::kms_util::kms(&c, &server.addr, "ListKeys", json!({})).await;
    assert_eq!(keys["Keys"], json!([]), "no key made");

    let cases: [Case; 3] = [
        (
            "bad-key",
            &[
                ("kms", "on"),
                ("kms_mode", "existing"),
                ("kms_key", "alias/nope"),
            ],
            "kms-error",
        ),
        (
            "bad-topic",
            &[("sns", "on"), ("sns_topic", "no-such-topic")],
            "sns-error",
        ),
        (
            "bad-role",
            &[
                ("cloudwatch", "on"),
                ("cwl_group_mode", "new"),
                ("cwl_group", "bad-role-group"),
                ("cwl_role_mode", "existing"),
                ("cwl_role", "NoSuchRole"),
            ],
            "cloudwatch-error",
        ),
    ];
    for (name, extra, field) in cases {
        let bucket = format!("{name}-logs");
        let (status, _, body) = create(&mut b, name, &bucket, extra).await;
        assert_eq!(status, 200, "{name}");
        assert!(body.contains(&format!("id=\"{field}\"")), "{name}: {body}");
        assert!(!bucket_exists(&server, &bucket).await, "{name}: no bucket");
    }
    let groups = crate::logs::ok(&server, "DescribeLogGroups", json!({})).await;
    assert_eq!(groups["logGroups"], json!([]), "no log group left behind");
    let (_, trails) = server.ct("DescribeTrails", json!({})).await;
    assert_eq!(trails["trailList"], json!([]));
}

#[tokio::test]
async fn a_taken_trail_name_is_refused_before_a_key_or_log_group_is_made() {
    let server = Server::start();
    server.bucket_for_trails("taken-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "taken", "S3BucketName": "taken-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let extra = [
        ("kms", "on"),
        ("kms_mode", "new"),
        ("kms_alias", "retry-key"),
        ("cloudwatch", "on"),
        ("cwl_group_mode", "new"),
        ("cwl_group", "retry-group"),
        ("cwl_role_mode", "new"),
        ("cwl_role", "RetryRole"),
    ];
    let (status, _, body) = create(&mut b, "taken", "retry-logs", &extra).await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"name-error\""), "{body}");
    assert!(body.contains("already exists"), "{body}");
    assert!(!bucket_exists(&server, "retry-logs").await);
    assert!(lookup(&server, "EventName", "CreateKey").await.is_empty());
    assert!(
        lookup(&server, "EventName", "CreateLogGroup")
            .await
            .is_empty()
    );
    let (status, location, body) = create(&mut b, "fresh", "retry-logs", &extra).await;
    assert_eq!(status, 303, "{body}");
    assert!(location.contains("done=created"), "{location}");
}

#[tokio::test]
async fn a_failure_after_creation_began_removes_what_the_submission_made() {
    let server = Server::start();
    // A topic that exists but does not let CloudTrail publish: only CreateTrail finds out.
    let (s, body) = server
        .query("sns", "Action=CreateTopic&Name=closed&Version=2010-03-31")
        .await;
    assert_eq!(s, 200, "{body}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let extra = [
        ("kms", "on"),
        ("kms_mode", "new"),
        ("kms_alias", "undo-key"),
        ("cloudwatch", "on"),
        ("cwl_group_mode", "new"),
        ("cwl_group", "undo-group"),
        ("cwl_role_mode", "new"),
        ("cwl_role", "UndoRole"),
        ("sns", "on"),
        ("sns_topic", "closed"),
    ];
    let (status, _, body) = create(&mut b, "undo-trail", "undo-logs", &extra).await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"sns-error\""), "{body}");
    assert!(!body.contains("could not be removed"), "{body}");

    assert!(!bucket_exists(&server, "undo-logs").await, "bucket removed");
    let c = reqwest::Client::new();
    let (s, _) = crate::kms_util::kms(
        &c,
        &server.addr,
        "DescribeKey",
        json!({"KeyId": "alias/undo-key"}),
    )
    .await;
    assert_eq!(s, 400, "alias removed");
    let (_, keys) = crate::kms_util::kms(&c, &server.addr, "ListKeys", json!({})).await;
    for k in keys["Keys"].as_array().unwrap() {
        let (_, d) = crate::kms_util::kms(
            &c,
            &server.addr,
            "DescribeKey",
            json!({"KeyId": k["KeyId"]}),
        )
        .await;
        assert_eq!(d["KeyMetadata"]["KeyState"], "PendingDeletion", "{d}");
    }
    let groups = crate::logs::ok(&server, "DescribeLogGroups", json!({})).await;
    assert_eq!(groups["logGroups"], json!([]), "log group removed");
    let role = crate::console::iam(&server, &[("Action", "ListRoles")]).await;
    assert!(!role.contains("UndoRole"), "role removed: {role}");
    // The removals are the user's recorded console calls.
    for undone in [
        "DeleteBucket",
        "DeleteAlias",
        "ScheduleKeyDeletion",
        "DeleteLogGroup",
        "DeleteRolePolicy",
        "DeleteRole",
    ] {
        let found = lookup(&server, "EventName", undone).await;
        assert_eq!(found.len(), 1, "{undone}");
        assert_eq!(found[0]["userAgent"], "console.amazonaws.com", "{undone}");
    }

    // A retry with the same alias, group and role works.
    let retry: Vec<(&str, &str)> = extra[..8].to_vec();
    let (status, location, body) = create(&mut b, "undo-trail", "undo-logs", &retry).await;
    assert_eq!(status, 303, "{body}");
    assert!(location.contains("done=created"), "{location}");
}

#[tokio::test]
async fn fields_longer_than_create_trail_takes_are_refused_at_step_1() {
    // Step 1 used to check only the name and tags: a 70,000-character prefix went into the
    // next step's address, past what the listener reads (HTTP 414), and the form was lost.
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let long = "p".repeat(70_000);
    let (status, body) = next_from_step1(
        &mut b,
        &[
            ("name", "long-fields"),
            ("storage", "new"),
            ("new_bucket", "long-fields-logs"),
            ("prefix", &long),
        ],
    )
    .await;
    assert_eq!(status, 200, "shown again with the error");
    assert!(body.contains("id=\"prefix-error\""), "{}", &body[..500]);
    assert!(body.contains("at most 200 characters"));
    let bucket = "b".repeat(64);
    let (status, body) = next_from_step1(
        &mut b,
        &[
            ("name", "long-fields"),
            ("storage", "new"),
            ("new_bucket", &bucket),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"bucket-error\""));
    assert!(!bucket_exists(&server, &bucket).await);
}
