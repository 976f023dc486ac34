//! Every named error of the control plane and event history, with AWS's code and status.
//! Cases are tables of (operation, body, expected `__type`) run in order against one server,
//! so each case sees the state the earlier ones left.

use serde_json::{Value, json};

use crate::harness::*;

async fn expect(server: &Server, op: &str, body: Value, code: &str) -> Value {
    let (status, v) = server.ct(op, body.clone()).await;
    assert_eq!((status, error_type(&v)), (400, code), "{op} {body} -> {v}");
    assert!(v["Message"].is_string());
    v
}

async fn expect_all(server: &Server, cases: &[(&str, Value, &str)]) {
    for (op, body, code) in cases {
        expect(server, op, body.clone(), code).await;
    }
}

async fn ok(server: &Server, op: &str, body: Value) {
    let (status, v) = server.ct(op, body.clone()).await;
    assert_eq!(status, 200, "{op} {body} -> {v}");
}

#[tokio::test]
async fn trail_errors_are_named_like_aws() {
    let server = Server::start();
    let arn1 = "arn:aws:cloudtrail:us-east-1:123456789012:trail/tr1";
    let v = expect(
        &server,
        "GetTrail",
        json!({"Name": "nope"}),
        "TrailNotFoundException",
    )
    .await;
    assert_eq!(
        v["Message"], "Unknown trail: nope for the user: 123456789012",
        "GetTrail names the trail as given"
    );
    let v = expect(
        &server,
        "GetTrailStatus",
        json!({"Name": "nope"}),
        "TrailNotFoundException",
    )
    .await;
    assert_eq!(
        v["Message"],
        "Unknown trail: arn:aws:cloudtrail:us-east-1:123456789012:trail/nope for the user: 123456789012",
        "GetTrailStatus names its ARN"
    );
    // The first and last characters are checked before the character set.
    let v = expect(
        &server,
        "CreateTrail",
        json!({"Name": "-bad$name", "S3BucketName": "b1"}),
        "InvalidTrailNameException",
    )
    .await;
    assert!(
        v["Message"]
            .as_str()
            .unwrap()
            .contains("must starts with a letter or number"),
        "{v}"
    );
    let v = expect(
        &server,
        "CreateTrail",
        json!({"Name": "ab", "S3BucketName": "b1"}),
        "InvalidTrailNameException",
    )
    .await;
    assert_eq!(
        v["Message"],
        "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."
    );
    server.s3("PUT", "/no-policy-bucket", b"").await;
    let v = expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr1", "S3BucketName": "no-policy-bucket"}),
        "InsufficientS3BucketPolicyException",
    )
    .await;
    assert_eq!(
        v["Message"],
        "Incorrect S3 bucket policy is detected for bucket: no-policy-bucket"
    );
    server.bucket_for_trails("trail-bucket").await;
    let create = |extra: Value| {
        let mut body = json!({"Name": "tr1", "S3BucketName": "trail-bucket"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    expect_all(&server, &[
        ("CreateTrail", json!({"Name": "my--trail", "S3BucketName": "b1"}), "InvalidTrailNameException"),
        ("StartLogging", json!({"Name": "arn:aws:cloudtrail:us-east-1:12:trail/x"}), "CloudTrailARNInvalidException"),
        ("CreateTrail", json!({"Name": "tr1", "S3BucketName": "missing-bucket"}), "S3BucketDoesNotExistException"),
        ("CreateTrail", json!({"Name": "tr1", "S3BucketName": "Bad_Bucket"}), "InvalidS3BucketNameException"),
        // A prefix outside the policy's AWSLogs path is refused too.
        ("CreateTrail", create(json!({"S3KeyPrefix": "elsewhere"})), "InsufficientS3BucketPolicyException"),
        ("CreateTrail", create(json!({"SnsTopicName": "bad topic"})), "InvalidSnsTopicNameException"),
        ("CreateTrail", create(json!({"KmsKeyId": "not-a-key"})), "InvalidKmsKeyIdException"),
        ("CreateTrail", create(json!({"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"})), "InvalidCloudWatchLogsRoleArnException"),
        ("CreateTrail", create(json!({"IsMultiRegionTrail": true, "IncludeGlobalServiceEvents": false})), "InvalidParameterCombinationException"),
        ("CreateTrail", create(json!({"TagsList": [{"Key": "", "Value": "v"}]})), "InvalidTagParameterException"),
    ]).await;
    ok(&server, "CreateTrail", create(json!({}))).await;
    expect(
        &server,
        "CreateTrail",
        create(json!({})),
        "TrailAlreadyExistsException",
    )
    .await;
    for i in 2..=5 {
        ok(
            &server,
            "CreateTrail",
            json!({"Name": format!("tr{i}"), "S3BucketName": "trail-bucket"}),
        )
        .await;
    }
    let v = expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr6", "S3BucketName": "trail-bucket"}),
        "MaximumNumberOfTrailsExceededException",
    )
    .await;
    assert_eq!(
        v["Message"],
        "User: 123456789012 already has 5 trails in us-east-1."
    );
    let too_many_tags: Vec<Value> = (0..51)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    expect_all(&server, &[
        ("GetInsightSelectors", json!({"TrailName": "tr1"}), "InsightNotEnabledException"),
        ("PutEventSelectors", json!({"TrailName": "tr1", "EventSelectors": [{"ReadWriteType": "Sometimes"}]}), "InvalidEventSelectorsException"),
        ("PutEventSelectors", json!({"TrailName": "tr1", "AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "StartsWith": ["Man"]}]}]}), "InvalidEventSelectorsException"),
        ("PutInsightSelectors", json!({"TrailName": "tr1", "InsightSelectors": [{"InsightType": "Nope"}]}), "InvalidInsightSelectorsException"),
        ("AddTags", json!({"ResourceId": "arn:aws:cloudtrail:us-east-1:123456789012:trail/none", "TagsList": []}), "ResourceNotFoundException"),
        ("AddTags", json!({"ResourceId": arn1, "TagsList": too_many_tags}), "TagsLimitExceededException"),
        // An operation Cairn does not carry out is checked against the model first.
        ("ListInsightsData", json!({}), "ValidationException"),
        ("ListInsightsData", json!({"InsightSource": "s3.amazonaws.com", "DataType": "InsightsEvents"}), "UnsupportedOperationException"),
    ]).await;
    // Home-region rules: a multi-region trail is visible elsewhere but managed only at home.
    ok(
        &server,
        "UpdateTrail",
        json!({"Name": "tr1", "IsMultiRegionTrail": true}),
    )
    .await;
    let (s, v) = server
        .ct_in("eu-west-1", "StartLogging", json!({"Name": arn1}))
        .await;
    assert_eq!((s, error_type(&v)), (400, "InvalidHomeRegionException"));
}

#[tokio::test]
async fn protocol_errors_are_aws_shaped() {
    let server = Server::start();
    let (s, v) = server.ct("NoSuchOperation", json!({})).await;
    assert_eq!((s, error_type(&v)), (400, "UnknownOperationException"));
    let req = sign_json(
        &server.addr,
        "us-east-1",
        ACCESS_KEY,
        SECRET,
        "DescribeTrails",
        b"{not json".to_vec(),
        chrono::Utc::now(),
    );
    let (s, v) = server.send_json(req).await;
    assert_eq!((s, error_type(&v)), (400, "SerializationException"));
    let (s, v) = server.ct("GetTrail", json!({"Name": 5})).await;
    assert_eq!((s, error_type(&v)), (400, "SerializationException"));
    let small = Server::start_with(&["--max-body-bytes", "4096"]);
    let big = vec![b' '; 8192];
    let req = sign_json(
        &small.addr,
        "us-east-1",
        ACCESS_KEY,
        SECRET,
        "DescribeTrails",
        big,
        chrono::Utc::now(),
    );
    let (s, v) = small.send_json(req).await;
    assert_eq!((s, error_type(&v)), (413, "RequestEntityTooLargeException"));
}

#[tokio::test]
async fn lookup_errors_are_named_like_aws() {
    let server = Server::start();
    let one = |key: &str, value: &str| json!({"AttributeKey": key, "AttributeValue": value});
    expect_all(
        &server,
        &[
            (
                "LookupEvents",
                json!({"LookupAttributes": [one("EventName", "a"), one("EventName", "b")]}),
                "InvalidLookupAttributesException",
            ),
            (
                "LookupEvents",
                json!({"LookupAttributes": [one("Colour", "a")]}),
                "InvalidLookupAttributesException",
            ),
            (
                "LookupEvents",
                json!({"StartTime": 1_800_000_000, "EndTime": 1_700_000_000}),
                "InvalidTimeRangeException",
            ),
            (
                "LookupEvents",
                json!({"MaxResults": 51}),
                "InvalidMaxResultsException",
            ),
            (
                "LookupEvents",
                json!({"MaxResults": 0}),
                "InvalidMaxResultsException",
            ),
            (
                "LookupEvents",
                json!({"EventCategory": "management"}),
                "InvalidEventCategoryException",
            ),
            (
                "LookupEvents",
                json!({"NextToken": "forged.token"}),
                "InvalidNextTokenException",
            ),
        ],
    )
    .await;
}
