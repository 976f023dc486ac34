//! Every named error of the control plane and event history, with AWS's code and status.

use serde_json::json;

use crate::harness::*;

async fn expect(
    server: &Server,
    op: &str,
    body: serde_json::Value,
    code: &str,
) -> serde_json::Value {
    let (status, v) = server.ct(op, body.clone()).await;
    assert_eq!((status, error_type(&v)), (400, code), "{op} {body} -> {v}");
    assert!(v["message"].is_string());
    v
}

#[tokio::test]
async fn trail_errors_are_named_like_aws() {
    let server = Server::start();
    let v = expect(
        &server,
        "GetTrail",
        json!({"Name": "nope"}),
        "TrailNotFoundException",
    )
    .await;
    assert_eq!(
        v["message"],
        "Unknown trail: arn:aws:cloudtrail:us-east-1:123456789012:trail/nope for the user: 123456789012"
    );
    let v = expect(
        &server,
        "CreateTrail",
        json!({"Name": "ab", "S3BucketName": "b1"}),
        "InvalidTrailNameException",
    )
    .await;
    assert_eq!(
        v["message"],
        "Trail name too short. Minimum allowed length: 3 characters. Specified name length: 2 characters."
    );
    expect(
        &server,
        "CreateTrail",
        json!({"Name": "my--trail", "S3BucketName": "b1"}),
        "InvalidTrailNameException",
    )
    .await;
    expect(
        &server,
        "StartLogging",
        json!({"Name": "arn:aws:cloudtrail:us-east-1:12:trail/x"}),
        "CloudTrailARNInvalidException",
    )
    .await;
    expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr1", "S3BucketName": "missing-bucket"}),
        "S3BucketDoesNotExistException",
    )
    .await;
    server.s3("PUT", "/no-policy-bucket", b"").await;
    let v = expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr1", "S3BucketName": "no-policy-bucket"}),
        "InsufficientS3BucketPolicyException",
    )
    .await;
    assert_eq!(
        v["message"],
        "Incorrect S3 bucket policy is detected for bucket: no-policy-bucket"
    );
    expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr1", "S3BucketName": "Bad_Bucket"}),
        "InvalidS3BucketNameException",
    )
    .await;
    server.bucket_for_trails("trail-bucket").await;
    // A prefix outside the policy's AWSLogs path is refused too.
    expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr1", "S3BucketName": "trail-bucket", "S3KeyPrefix": "elsewhere"}),
        "InsufficientS3BucketPolicyException",
    )
    .await;
    expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr1", "S3BucketName": "trail-bucket", "SnsTopicName": "bad topic"}),
        "InvalidSnsTopicNameException",
    )
    .await;
    expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr1", "S3BucketName": "trail-bucket", "KmsKeyId": "not-a-key"}),
        "InvalidKmsKeyIdException",
    )
    .await;
    expect(&server, "CreateTrail", json!({"Name": "tr1", "S3BucketName": "trail-bucket", "CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:123456789012:log-group:g:*"}), "InvalidParameterCombinationException").await;
    expect(&server, "CreateTrail", json!({"Name": "tr1", "S3BucketName": "trail-bucket", "IsMultiRegionTrail": true, "IncludeGlobalServiceEvents": false}), "InvalidParameterCombinationException").await;
    expect(&server, "CreateTrail", json!({"Name": "tr1", "S3BucketName": "trail-bucket", "TagsList": [{"Key": "", "Value": "v"}]}), "InvalidTagParameterException").await;
    let (s, _) = server
        .ct(
            "CreateTrail",
            json!({"Name": "tr1", "S3BucketName": "trail-bucket"}),
        )
        .await;
    assert_eq!(s, 200);
    expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr1", "S3BucketName": "trail-bucket"}),
        "TrailAlreadyExistsException",
    )
    .await;
    for i in 2..=5 {
        let (s, v) = server
            .ct(
                "CreateTrail",
                json!({"Name": format!("tr{i}"), "S3BucketName": "trail-bucket"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let v = expect(
        &server,
        "CreateTrail",
        json!({"Name": "tr6", "S3BucketName": "trail-bucket"}),
        "MaximumNumberOfTrailsExceededException",
    )
    .await;
    assert_eq!(
        v["message"],
        "User: 123456789012 already has 5 trails in us-east-1."
    );
    expect(
        &server,
        "GetInsightSelectors",
        json!({"TrailName": "tr1"}),
        "InsightNotEnabledException",
    )
    .await;
    expect(
        &server,
        "PutEventSelectors",
        json!({"TrailName": "tr1", "EventSelectors": [{"ReadWriteType": "Sometimes"}]}),
        "InvalidEventSelectorsException",
    )
    .await;
    expect(&server, "PutEventSelectors", json!({"TrailName": "tr1", "AdvancedEventSelectors": [{"FieldSelectors": [{"Field": "eventCategory", "StartsWith": ["Man"]}]}]}), "InvalidEventSelectorsException").await;
    expect(
        &server,
        "PutInsightSelectors",
        json!({"TrailName": "tr1", "InsightSelectors": [{"InsightType": "Nope"}]}),
        "InvalidInsightSelectorsException",
    )
    .await;
    expect(&server, "AddTags", json!({"ResourceId": "arn:aws:cloudtrail:us-east-1:123456789012:trail/none", "TagsList": []}), "ResourceNotFoundException").await;
    let tags: Vec<_> = (0..51)
        .map(|i| json!({"Key": format!("k{i}"), "Value": "v"}))
        .collect();
    expect(&server, "AddTags", json!({"ResourceId": "arn:aws:cloudtrail:us-east-1:123456789012:trail/tr1", "TagsList": tags}), "TagsLimitExceededException").await;
    // Home-region rules: a multi-region trail is visible elsewhere but managed only at home.
    server
        .ct(
            "UpdateTrail",
            json!({"Name": "tr1", "IsMultiRegionTrail": true}),
        )
        .await;
    let (s, v) = server
        .ct_in(
            "eu-west-1",
            "StartLogging",
            json!({"Name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/tr1"}),
        )
        .await;
    assert_eq!((s, error_type(&v)), (400, "InvalidHomeRegionException"));
    expect(
        &server,
        "ListPublicKeys",
        json!({}),
        "UnsupportedOperationException",
    )
    .await;
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
    let (s, _, bytes) = server.send(req).await;
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
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
    let (s, _, bytes) = small.send(req).await;
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!((s, error_type(&v)), (413, "RequestEntityTooLargeException"));
}

#[tokio::test]
async fn lookup_errors_are_named_like_aws() {
    let server = Server::start();
    expect(&server, "LookupEvents", json!({"LookupAttributes": [
        {"AttributeKey": "EventName", "AttributeValue": "a"}, {"AttributeKey": "EventName", "AttributeValue": "b"}]}), "InvalidLookupAttributesException").await;
    expect(
        &server,
        "LookupEvents",
        json!({"LookupAttributes": [{"AttributeKey": "Colour", "AttributeValue": "a"}]}),
        "InvalidLookupAttributesException",
    )
    .await;
    expect(
        &server,
        "LookupEvents",
        json!({"StartTime": 1_800_000_000, "EndTime": 1_700_000_000}),
        "InvalidTimeRangeException",
    )
    .await;
    expect(
        &server,
        "LookupEvents",
        json!({"MaxResults": 51}),
        "InvalidMaxResultsException",
    )
    .await;
    expect(
        &server,
        "LookupEvents",
        json!({"MaxResults": 0}),
        "InvalidMaxResultsException",
    )
    .await;
    expect(
        &server,
        "LookupEvents",
        json!({"EventCategory": "management"}),
        "InvalidEventCategoryException",
    )
    .await;
    expect(
        &server,
        "LookupEvents",
        json!({"NextToken": "forged.token"}),
        "InvalidNextTokenException",
    )
    .await;
}
