//! The trail control plane: the setup recipe, shadows, status, selectors, tags.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn recipe_shadows_status_selectors_and_tags() {
    let server = Server::start();
    server.bucket_for_trails("bucket-for-cloudtrail").await;
    let (s, v) = server.ct("CreateTrail", json!({"Name": "test-trail", "S3BucketName": "bucket-for-cloudtrail",
        "IsMultiRegionTrail": true, "EnableLogFileValidation": true, "TagsList": [{"Key": "createdBy", "Value": "ayush"}]})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["TrailARN"],
        "arn:aws:cloudtrail:us-east-1:123456789012:trail/test-trail"
    );
    assert!(
        v.get("KmsKeyId").is_none(),
        "absent members are omitted, not null"
    );
    // Visible as a shadow from another region, and hidden when shadows are excluded.
    let (_, d) = server.ct_in("eu-west-1", "DescribeTrails", json!({})).await;
    assert_eq!(d["trailList"][0]["HomeRegion"], "us-east-1");
    let (_, d) = server
        .ct_in(
            "eu-west-1",
            "DescribeTrails",
            json!({"includeShadowTrails": false}),
        )
        .await;
    assert_eq!(d["trailList"].as_array().unwrap().len(), 0);
    // New trails do not log until started.
    let (_, st) = server
        .ct("GetTrailStatus", json!({"Name": "test-trail"}))
        .await;
    assert_eq!(st["IsLogging"], false);
    server
        .ct(
            "StartLogging",
            json!({"Name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/test-trail"}),
        )
        .await;
    let (_, st) = server
        .ct("GetTrailStatus", json!({"Name": "test-trail"}))
        .await;
    assert_eq!(st["IsLogging"], true);
    assert!(st["StartLoggingTime"].as_f64().is_some());
    server
        .ct("StopLogging", json!({"Name": "test-trail"}))
        .await;
    let (_, st) = server
        .ct("GetTrailStatus", json!({"Name": "test-trail"}))
        .await;
    assert_eq!(st["IsLogging"], false);
    assert!(st["StopLoggingTime"].as_f64().is_some());
    // Default selectors, then advanced ones replace them.
    let (_, sel) = server
        .ct("GetEventSelectors", json!({"TrailName": "test-trail"}))
        .await;
    assert_eq!(
        sel["EventSelectors"],
        json!([{"ReadWriteType": "All", "IncludeManagementEvents": true, "DataResources": [], "ExcludeManagementEventSources": []}])
    );
    let adv = json!([{"Name": "mgmt", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}, {"Field": "readOnly", "Equals": ["false"]}]}]);
    let (s, put) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "test-trail", "AdvancedEventSelectors": adv}),
        )
        .await;
    assert_eq!(s, 200, "{put}");
    let (_, sel) = server
        .ct("GetEventSelectors", json!({"TrailName": "test-trail"}))
        .await;
    assert_eq!(sel["AdvancedEventSelectors"], adv);
    assert!(sel.get("EventSelectors").is_none());
    let (_, t) = server.ct("GetTrail", json!({"Name": "test-trail"})).await;
    assert_eq!(t["Trail"]["HasCustomEventSelectors"], true);
    // Insights need write management events: the write-only selector allows both types.
    let (s, ins) = server.ct("PutInsightSelectors", json!({"TrailName": "test-trail", "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]})).await;
    assert_eq!(s, 200, "{ins}");
    assert_eq!(
        ins["InsightSelectors"][0]["EventCategories"],
        json!(["Management"])
    );
    server
        .ct(
            "PutInsightSelectors",
            json!({"TrailName": "test-trail", "InsightSelectors": []}),
        )
        .await;
    let (s, _) = server
        .ct("GetInsightSelectors", json!({"TrailName": "test-trail"}))
        .await;
    assert_eq!(s, 400);
    // Tags.
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/test-trail";
    server
        .ct(
            "AddTags",
            json!({"ResourceId": arn, "TagsList": [{"Key": "env", "Value": "dev"}]}),
        )
        .await;
    server
        .ct(
            "RemoveTags",
            json!({"ResourceId": arn, "TagsList": [{"Key": "createdBy"}]}),
        )
        .await;
    let (_, tags) = server
        .ct("ListTags", json!({"ResourceIdList": [arn]}))
        .await;
    assert_eq!(
        tags["ResourceTagList"][0]["TagsList"],
        json!([{"Key": "env", "Value": "dev"}])
    );
    // ListTrails and DeleteTrail.
    let (_, list) = server.ct_in("eu-west-1", "ListTrails", json!({})).await;
    assert_eq!(list["Trails"][0]["Name"], "test-trail");
    let (s, _) = server
        .ct("DeleteTrail", json!({"Name": "test-trail"}))
        .await;
    assert_eq!(s, 200);
    let (_, d) = server.ct("DescribeTrails", json!({})).await;
    assert_eq!(d["trailList"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn bucket_calls_are_s3_shaped_and_recorded() {
    let server = Server::start();
    let (s, body) = server.s3("GET", "/nope?location", b"").await;
    assert_eq!(s, 404);
    assert!(body.contains("<Code>NoSuchBucket</Code>"), "{body}");
    let (s, _) = server.s3("PUT", "/bkt-one", b"").await;
    assert_eq!(s, 200);
    let (s, _) = server.s3("PUT", "/bkt-one", b"").await;
    assert_eq!(s, 200, "us-east-1 answers BucketAlreadyOwnedByYou with 200");
    let (s, body) = server.s3("GET", "/", b"").await;
    assert_eq!(s, 200);
    assert!(body.contains("<Name>bkt-one</Name>"));
    let (s, body) = server.s3("GET", "/bkt-one?policy", b"").await;
    assert_eq!(s, 404);
    assert!(body.contains("NoSuchBucketPolicy"));
    let (s, body) = server.s3("PUT", "/bkt-one?policy", b"{not json").await;
    assert_eq!(s, 400);
    assert!(body.contains("MalformedPolicy"));
    let (s, _) = server.s3("DELETE", "/bkt-one", b"").await;
    assert_eq!(s, 204);
    let (_, page) = server.ct("LookupEvents", json!({"LookupAttributes": [{"AttributeKey": "EventSource", "AttributeValue": "s3.amazonaws.com"}]})).await;
    assert_eq!(
        event_names(&page),
        [
            "DeleteBucket",
            "PutBucketPolicy",
            "GetBucketPolicy",
            "ListBuckets",
            "CreateBucket",
            "CreateBucket",
            "GetBucketLocation"
        ]
    );
}

/// A multi-Region trail is visible in every Region, so its name may not be taken by a trail
/// of another Region, whether it is created multi-Region or becomes one.
#[tokio::test]
async fn a_multi_region_trail_name_is_unique_in_every_region() {
    let server = Server::start();
    server.bucket_for_trails("names-bucket").await;
    let create = |name: &str, multi: bool| json!({"Name": name, "S3BucketName": "names-bucket", "IsMultiRegionTrail": multi});
    let (s, v) = server
        .ct_in("us-west-2", "CreateTrail", create("taken", false))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = server.ct("CreateTrail", create("taken", true)).await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        crate::harness::error_type(&v),
        "TrailAlreadyExistsException"
    );
    // A single-Region trail of the same name in another Region is fine...
    let (s, v) = server.ct("CreateTrail", create("taken", false)).await;
    assert_eq!(s, 200, "{v}");
    // ...until it would become visible in us-west-2.
    let (s, v) = server
        .ct(
            "UpdateTrail",
            json!({"Name": "taken", "IsMultiRegionTrail": true}),
        )
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        crate::harness::error_type(&v),
        "TrailAlreadyExistsException"
    );
    let (_, d) = server.ct_in("us-west-2", "DescribeTrails", json!({})).await;
    let names: Vec<&str> = d["trailList"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["Name"].as_str())
        .collect();
    assert_eq!(names, ["taken"], "{d}");
}

/// Insights on data events need a trail that logs data events.
#[tokio::test]
async fn data_events_insights_need_data_events() {
    let server = Server::start();
    server.bucket_for_trails("insight-bucket").await;
    let (s, v) = server
        .ct(
            "CreateTrail",
            json!({"Name": "mgmt", "S3BucketName": "insight-bucket"}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let data_insights = json!({"TrailName": "mgmt", "InsightSelectors": [
        {"InsightType": "ApiErrorRateInsight", "EventCategories": ["Data"]}]});
    let (s, v) = server
        .ct("PutInsightSelectors", data_insights.clone())
        .await;
    assert_eq!(s, 400, "{v}");
    assert_eq!(
        crate::harness::error_type(&v),
        "InvalidInsightSelectorsException"
    );
    let (s, v) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "mgmt", "AdvancedEventSelectors": [{"FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}]}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = server.ct("PutInsightSelectors", data_insights).await;
    assert_eq!(s, 200, "{v}");
}

/// Tags follow AWS's rules: keys unique within a request, AWS's character set, and no
/// `aws:` prefix (IAM tags too).
#[tokio::test]
async fn tags_follow_aws_rules() {
    let server = Server::start();
    server.bucket_for_trails("tags-bucket").await;
    for tags in [
        json!([{"Key": "dup", "Value": "1"}, {"Key": "dup", "Value": "2"}]),
        json!([{"Key": "k#!", "Value": "v"}]),
        json!([{"Key": "k", "Value": "v%^"}]),
    ] {
        let (s, v) = server
            .ct(
                "CreateTrail",
                json!({"Name": "tagged", "S3BucketName": "tags-bucket", "TagsList": tags}),
            )
            .await;
        assert_eq!(s, 400, "{tags}: {v}");
        assert_eq!(
            crate::harness::error_type(&v),
            "InvalidTagParameterException"
        );
    }
    let out = server.admin_iam(&["create-user", "tagged-user"]);
    assert!(out.get("User").is_some(), "{out}");
    let (s, text) = server
        .query(
            "iam",
            "Action=TagUser&Version=2010-05-08&UserName=tagged-user&Tags.member.1.Key=aws%3Ax&Tags.member.1.Value=v",
        )
        .await;
    assert_eq!(s, 400, "{text}");
    assert!(text.contains("<Code>InvalidInput</Code>"), "{text}");
}

/// Reads of a shadow trail (a multi-region trail seen from another region): a name finds
/// only the region's own trails (AWS answers GetEventSelectors by name elsewhere with
/// TrailNotFoundException), the ARN reaches the shadow, and ListTags lists only the
/// region's own trails (AWS: CloudTrailARNInvalidException "Region in ARN is wrong").
#[tokio::test]
async fn shadow_reads_take_the_arn_and_list_tags_stays_in_its_region() {
    let server = Server::start();
    server.bucket_for_trails("shadow-reads").await;
    let (s, v) = server
        .ct(
            "CreateTrail",
            json!({"Name": "shadowed", "S3BucketName": "shadow-reads",
        "IsMultiRegionTrail": true, "TagsList": [{"Key": "team", "Value": "audit"}]}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    server
        .ct(
            "PutInsightSelectors",
            json!({"TrailName": "shadowed", "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}),
        )
        .await;
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/shadowed";
    for op in ["GetEventSelectors", "GetInsightSelectors"] {
        let (s, e) = server
            .ct_in("eu-west-1", op, json!({"TrailName": "shadowed"}))
            .await;
        assert_eq!(
            (s, e["__type"].as_str()),
            (400, Some("TrailNotFoundException")),
            "{op}: {e}"
        );
        assert_eq!(
            e["Message"],
            "Unknown trail: arn:aws:cloudtrail:eu-west-1:123456789012:trail/shadowed for the user: 123456789012"
        );
        let (s, out) = server
            .ct_in("eu-west-1", op, json!({"TrailName": arn}))
            .await;
        assert_eq!(
            (s, out["TrailARN"].as_str()),
            (200, Some(arn)),
            "{op}: {out}"
        );
    }
    let (s, e) = server
        .ct_in("eu-west-1", "ListTags", json!({"ResourceIdList": [arn]}))
        .await;
    assert_eq!(s, 400);
    assert_eq!(e["__type"], "CloudTrailARNInvalidException");
    assert_eq!(
        e["Message"],
        "Region in ARN is wrong, you can only access resources in region eu-west-1."
    );
    let (s, tags) = server
        .ct("ListTags", json!({"ResourceIdList": [arn]}))
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        tags["ResourceTagList"][0]["TagsList"],
        json!([{"Key": "team", "Value": "audit"}])
    );
}
