//! Console fixes found by outside tester console6: saving Insights keeps each type's event
//! categories (the form shows only the types, and saving them bare turned Insights on data
//! events into Insights on management events); a trail named `create`, whose name is the
//! wizard's address, is linked and reached by its ARN.

use serde_json::json;

use crate::console::Browser;
use crate::console_actions::act;
use crate::harness::{ACCESS_KEY, SECRET, Server};

const ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/create";

#[tokio::test]
async fn saving_insights_keeps_their_event_categories() {
    let server = Server::start();
    server.bucket_for_trails("cat-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "cats", "S3BucketName": "cat-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let (s, out) = server
        .ct(
            "PutEventSelectors",
            json!({"TrailName": "cats", "EventSelectors": [{"ReadWriteType": "All",
                "IncludeManagementEvents": true, "DataResources": [
                    {"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}]}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let (s, out) = server
        .ct(
            "PutInsightSelectors",
            json!({"TrailName": "cats", "InsightSelectors": [
                {"InsightType": "ApiCallRateInsight", "EventCategories": ["Data"]}]}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/cats").await;
    let (status, _, page) = act(
        &mut b,
        "/console/trails/cats/selectors",
        &[
            ("insights_only", "on"),
            ("insights_call_rate", "on"),
            ("insights_error_rate", "on"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let (_, now) = server
        .ct("GetInsightSelectors", json!({"TrailName": "cats"}))
        .await;
    let call_rate = now["InsightSelectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["InsightType"] == "ApiCallRateInsight")
        .cloned()
        .unwrap();
    assert_eq!(call_rate["EventCategories"], json!(["Data"]), "{now}");
}

#[tokio::test]
async fn a_trail_named_create_is_reached_by_its_arn() {
    let server = Server::start();
    server.bucket_for_trails("create-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "create", "S3BucketName": "create-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, list) = b.get("/console/trails").await;
    let href = "/console/trails/arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012%3Atrail%2Fcreate";
    assert!(list.contains(href), "{list}");
    let (status, _, page) = b.get(href).await;
    assert_eq!(status, 200);
    assert!(page.contains(ARN), "the trail's own page");
    let (status, location, _) = act(&mut b, "/console/trails/create/start", &[]).await;
    assert_eq!(status, 303);
    assert!(location.starts_with(href), "{location}");
}

#[tokio::test]
async fn trails_that_cannot_be_listed_are_unknown_not_none() {
    let server = Server::start();
    server.bucket_for_trails("unknown-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "hidden", "S3BucketName": "unknown-logs", "IsMultiRegionTrail": true}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let (s, out) = server.ct("StartLogging", json!({"Name": "hidden"})).await;
    assert_eq!(s, 200, "{out}");
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudtrail:LookupEvents", "Resource": "*"}]});
    let (key, secret) =
        crate::console_fixes::user_with(&server, "no-describe", &policy.to_string()).await;
    let mut b = Browser::new(&server);
    b.sign_in(&key, &secret).await;
    for path in ["/console/", "/console/trails"] {
        let (_, _, page) = b.get(path).await;
        assert!(page.contains("could not be listed"), "{path}: {page}");
        assert!(!page.contains("No trails."), "{path}");
        assert!(!page.contains("No multi-region trail is logging"), "{path}");
    }
}
