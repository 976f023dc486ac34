//! LookupEvents: every attribute, pagination, tokens, ordering, immediate visibility.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::harness::*;

async fn all_pages(server: &Server, region: &str, mut body: Value) -> Vec<Value> {
    let mut out = Vec::new();
    let mut seen_tokens = HashSet::new();
    loop {
        let (s, page) = server.ct_in(region, "LookupEvents", body.clone()).await;
        assert_eq!(s, 200, "{page}");
        out.extend(page["Events"].as_array().unwrap().iter().cloned());
        match page["NextToken"].as_str() {
            Some(t) => {
                assert!(seen_tokens.insert(t.to_owned()), "a NextToken was repeated");
                body["NextToken"] = json!(t);
            }
            None => return out,
        }
    }
}

#[tokio::test]
async fn every_attribute_finds_its_events_and_the_record_is_the_stored_one() {
    let server = Server::start();
    server.bucket_for_trails("lookup-bucket").await;
    let (s, created) = server
        .ct(
            "CreateTrail",
            json!({"Name": "look", "S3BucketName": "lookup-bucket"}),
        )
        .await;
    assert_eq!(s, 200, "{created}");
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/look";
    // Visible at once: no delay between the call returning and its event.
    let (_, page) = server.ct("LookupEvents", json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}]})).await;
    let event = page["Events"][0].clone();
    assert_eq!(event["EventName"], "CreateTrail");
    assert_eq!(event["ReadOnly"], "false");
    assert_eq!(event["Username"], "root");
    assert_eq!(event["AccessKeyId"], ACCESS_KEY);
    assert_eq!(event["EventSource"], "cloudtrail.amazonaws.com");
    assert_eq!(
        event["Resources"][0]["ResourceType"],
        "AWS::CloudTrail::Trail"
    );
    assert_eq!(event["Resources"][0]["ResourceName"], arn);
    let record: Value = serde_json::from_str(event["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["eventID"], event["EventId"]);
    assert_eq!(
        record["requestParameters"],
        json!({"name": "look", "s3BucketName": "lookup-bucket"})
    );
    assert_eq!(record["responseElements"]["trailARN"], arn);
    assert_eq!(record["eventType"], "AwsApiCall");
    assert_eq!(record["managementEvent"], true);
    assert_eq!(record["eventCategory"], "Management");
    assert_eq!(record["recipientAccountId"], "123456789012");
    assert_eq!(record["sourceIPAddress"], "127.0.0.1");
    assert!(record["eventTime"].as_str().unwrap().ends_with('Z'));
    let event_id = event["EventId"].as_str().unwrap();

    for (key, value, expect_name) in [
        ("EventId", event_id, "CreateTrail"),
        ("EventName", "CreateTrail", "CreateTrail"),
        ("ReadOnly", "false", "CreateTrail"),
        ("Username", "root", "CreateTrail"),
        ("ResourceType", "AWS::CloudTrail::Trail", "CreateTrail"),
        ("ResourceName", arn, "CreateTrail"),
        ("EventSource", "cloudtrail.amazonaws.com", "CreateTrail"),
        ("AccessKeyId", ACCESS_KEY, "CreateTrail"),
        ("ResourceName", "lookup-bucket", "PutBucketPolicy"),
        ("EventSource", "s3.amazonaws.com", "PutBucketPolicy"),
    ] {
        let (s, page) = server
            .ct(
                "LookupEvents",
                json!({"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]}),
            )
            .await;
        assert_eq!(s, 200);
        let names = event_names(&page);
        assert!(
            names.iter().any(|n| n == expect_name),
            "{key}={value} gave {names:?}"
        );
    }
    // Failed calls are recorded with their error.
    server.ct("GetTrail", json!({"Name": "missing"})).await;
    let (_, page) = server.ct("LookupEvents", json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "GetTrail"}]})).await;
    let record: Value =
        serde_json::from_str(page["Events"][0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["errorCode"], "TrailNotFoundException");
    assert_eq!(record["readOnly"], true);
    // Per region: nothing from us-east-1 shows in eu-west-1.
    let (_, page) = server.ct_in("eu-west-1", "LookupEvents", json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "CreateTrail"}]})).await;
    assert_eq!(page["Events"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn pagination_is_newest_first_complete_and_tokens_bind_to_parameters() {
    let server = Server::start();
    for _ in 0..120 {
        let (s, _) = server.ct_in("ap-south-1", "ListTrails", json!({})).await;
        assert_eq!(s, 200);
    }
    let events = all_pages(&server, "ap-south-1", json!({"MaxResults": 7, "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "ListTrails"}]})).await;
    assert_eq!(events.len(), 120);
    let ids: HashSet<&str> = events
        .iter()
        .map(|e| e["EventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 120, "no event appears twice");
    let times: Vec<f64> = events
        .iter()
        .map(|e| e["EventTime"].as_f64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    let (_, first) = server
        .ct_in("ap-south-1", "LookupEvents", json!({"MaxResults": 5}))
        .await;
    let token = first["NextToken"].as_str().unwrap();
    let (s, v) = server.ct_in("ap-south-1", "LookupEvents", json!({"MaxResults": 5, "NextToken": token, "LookupAttributes": [{"AttributeKey": "ReadOnly", "AttributeValue": "true"}]})).await;
    assert_eq!(
        (s, error_type(&v)),
        (400, "InvalidNextTokenException"),
        "a token reused with other parameters"
    );
    let mut forged = token.to_owned();
    forged.replace_range(0..2, "zz");
    let (s, v) = server
        .ct_in(
            "ap-south-1",
            "LookupEvents",
            json!({"MaxResults": 5, "NextToken": forged}),
        )
        .await;
    assert_eq!((s, error_type(&v)), (400, "InvalidNextTokenException"));
    // Time range bounds are inclusive and respected.
    let (_, v) = server
        .ct_in("ap-south-1", "LookupEvents", json!({"EndTime": 1_000_000}))
        .await;
    assert_eq!(v["Events"].as_array().unwrap().len(), 0);
}
