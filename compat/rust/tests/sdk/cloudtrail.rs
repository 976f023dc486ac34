//! CloudTrail with the AWS SDK for Rust: a bucket with CloudTrail's policy, a trail, logging
//! on and off, paginated event history, event selectors, a typed error, deletion, and the
//! log files `cairn flush` delivers, read back through S3, gunzipped and parsed.

use std::io::Read;

use aws_sdk_cloudtrail::operation::get_trail::GetTrailError;
use aws_sdk_cloudtrail::types::{
    DataResource, EventSelector, LookupAttribute, LookupAttributeKey, ReadWriteType, Tag,
};

use crate::cairn::{ACCESS_KEY, ACCOUNT, Cairn, cloudtrail_policy};

const BUCKET: &str = "rust-sdk-trail-bucket";
const TRAIL: &str = "rust-sdk-trail";

/// Every event named `name` in event history, through the SDK's paginator; with the pages.
async fn lookup_all(
    ct: &aws_sdk_cloudtrail::Client,
    name: &str,
    page_size: i32,
) -> (Vec<aws_sdk_cloudtrail::types::Event>, usize) {
    let attribute = LookupAttribute::builder()
        .attribute_key(LookupAttributeKey::EventName)
        .attribute_value(name)
        .build()
        .expect("a complete lookup attribute");
    let mut pages = ct
        .lookup_events()
        .lookup_attributes(attribute)
        .max_results(page_size)
        .into_paginator()
        .send();
    let (mut events, mut count) = (Vec::new(), 0);
    while let Some(page) = pages.next().await {
        let page = page.expect("a LookupEvents page");
        count += 1;
        assert!(
            page.events().len() <= page_size as usize,
            "a page holds at most MaxResults"
        );
        events.extend(page.events().iter().cloned());
    }
    (events, count)
}

/// Reads every delivered CloudTrail log file of the bucket (not digests) through S3 and
/// returns their records.
async fn delivered_records(s3: &aws_sdk_s3::Client) -> (Vec<String>, Vec<serde_json::Value>) {
    let prefix = format!("AWSLogs/{ACCOUNT}/CloudTrail/");
    let listed = s3
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix(&prefix)
        .into_paginator()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("ListObjectsV2 pages");
    let keys: Vec<String> = listed
        .iter()
        .flat_map(|page| page.contents())
        .filter_map(|object| object.key().map(str::to_string))
        .collect();
    let mut records = Vec::new();
    for key in &keys {
        let object = s3
            .get_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .expect("GetObject");
        let gz = object
            .body
            .collect()
            .await
            .expect("the log file's body")
            .into_bytes();
        let mut json = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut json)
            .unwrap_or_else(|e| panic!("{key} is gzip: {e}"));
        let file: serde_json::Value = serde_json::from_str(&json).expect("a log file is JSON");
        let file_records = file["Records"].as_array().expect("a Records array");
        assert!(!file_records.is_empty(), "{key} holds records");
        records.extend(file_records.iter().cloned());
    }
    (keys, records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trail_lifecycle_history_and_delivered_log_files() {
    let mut cairn = Cairn::start();
    let config = cairn.config().await;
    let ct = aws_sdk_cloudtrail::Client::new(&config);
    let s3 = cairn.s3().await;
    let trail_arn = format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{TRAIL}");

    s3.create_bucket()
        .bucket(BUCKET)
        .send()
        .await
        .expect("CreateBucket");
    s3.put_bucket_policy()
        .bucket(BUCKET)
        .policy(cloudtrail_policy(BUCKET))
        .send()
        .await
        .expect("PutBucketPolicy");

    let created = ct
        .create_trail()
        .name(TRAIL)
        .s3_bucket_name(BUCKET)
        .is_multi_region_trail(true)
        .enable_log_file_validation(true)
        .tags_list(
            Tag::builder()
                .key("createdBy")
                .value("rust-sdk")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateTrail");
    assert_eq!(created.name(), Some(TRAIL));
    assert_eq!(created.trail_arn(), Some(trail_arn.as_str()));
    assert_eq!(created.s3_bucket_name(), Some(BUCKET));
    assert_eq!(created.is_multi_region_trail(), Some(true));
    assert_eq!(created.log_file_validation_enabled(), Some(true));

    let described = ct
        .describe_trails()
        .trail_name_list(TRAIL)
        .send()
        .await
        .expect("Describe");
    let [trail] = described.trail_list() else {
        panic!("one trail: {described:?}")
    };
    assert_eq!(trail.trail_arn(), Some(trail_arn.as_str()));
    assert_eq!(trail.home_region(), Some("us-east-1"));
    assert_eq!(trail.is_multi_region_trail(), Some(true));
    let got = ct
        .get_trail()
        .name(&trail_arn)
        .send()
        .await
        .expect("GetTrail");
    let trail = got.trail().expect("GetTrail's Trail");
    assert_eq!(trail.name(), Some(TRAIL));
    assert_eq!(trail.s3_bucket_name(), Some(BUCKET));
    assert_eq!(trail.log_file_validation_enabled(), Some(true));

    ct.start_logging()
        .name(TRAIL)
        .send()
        .await
        .expect("StartLogging");
    let status = ct
        .get_trail_status()
        .name(TRAIL)
        .send()
        .await
        .expect("GetTrailStatus");
    assert_eq!(status.is_logging(), Some(true));
    assert!(
        status.start_logging_time().is_some(),
        "StartLoggingTime parses as a timestamp"
    );

    // History: the CreateTrail event, through the paginator, with its record.
    let (creates, _) = lookup_all(&ct, "CreateTrail", 50).await;
    let [create] = &creates[..] else {
        panic!("one CreateTrail event: {creates:?}")
    };
    assert_eq!(create.username(), Some("root"));
    assert_eq!(create.access_key_id(), Some(ACCESS_KEY));
    assert_eq!(create.event_source(), Some("cloudtrail.amazonaws.com"));
    let resources: Vec<_> = create
        .resources()
        .iter()
        .map(|r| (r.resource_type(), r.resource_name()))
        .collect();
    assert_eq!(
        resources,
        [(Some("AWS::CloudTrail::Trail"), Some(trail_arn.as_str()))]
    );
    let record: serde_json::Value =
        serde_json::from_str(create.cloud_trail_event().expect("CloudTrailEvent")).unwrap();
    assert_eq!(record["eventName"], "CreateTrail");
    assert_eq!(record["responseElements"]["trailARN"], trail_arn.as_str());
    let agent = record["userAgent"].as_str().unwrap_or_default();
    assert!(
        agent.contains("aws-sdk-rust"),
        "the record keeps the SDK's user agent: {agent}"
    );

    // Several pages, newest first, each event once.
    for _ in 0..6 {
        ct.get_trail_status()
            .name(&trail_arn)
            .send()
            .await
            .expect("GetTrailStatus");
    }
    let (statuses, pages) = lookup_all(&ct, "GetTrailStatus", 3).await;
    assert_eq!(statuses.len(), 7);
    assert_eq!(pages, 3);
    let times: Vec<_> = statuses
        .iter()
        .map(|e| {
            e.event_time()
                .map(|t| (t.secs(), t.subsec_nanos()))
                .expect("EventTime")
        })
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "newest first: {times:?}"
    );
    let mut ids: Vec<_> = statuses.iter().map(|e| e.event_id().unwrap()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7);

    // A typed error, matched through the SDK's error enum.
    let err = ct
        .get_trail()
        .name("no-such-trail")
        .send()
        .await
        .expect_err("unknown trail");
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));
    match err.into_service_error() {
        GetTrailError::TrailNotFoundException(e) => {
            assert!(
                e.message().is_some_and(|m| !m.is_empty()),
                "a message: {e:?}"
            );
        }
        other => panic!("expected TrailNotFoundException, got {other:?}"),
    }

    // Event selectors: write-only management events plus the bucket's object writes.
    let data = DataResource::builder()
        .r#type("AWS::S3::Object")
        .values(format!("arn:aws:s3:::{BUCKET}/"))
        .build();
    let selector = EventSelector::builder()
        .read_write_type(ReadWriteType::WriteOnly)
        .include_management_events(true)
        .data_resources(data)
        .build();
    let put = ct
        .put_event_selectors()
        .trail_name(TRAIL)
        .event_selectors(selector)
        .send()
        .await
        .expect("PutEventSelectors");
    assert_eq!(put.trail_arn(), Some(trail_arn.as_str()));
    let got = ct
        .get_event_selectors()
        .trail_name(TRAIL)
        .send()
        .await
        .expect("GetEventSelectors");
    let [selector] = got.event_selectors() else {
        panic!("one selector: {got:?}")
    };
    assert_eq!(selector.read_write_type(), Some(&ReadWriteType::WriteOnly));
    assert_eq!(selector.include_management_events(), Some(true));
    let [data] = selector.data_resources() else {
        panic!("one data resource: {selector:?}")
    };
    assert_eq!(data.r#type(), Some("AWS::S3::Object"));
    assert_eq!(data.values(), [format!("arn:aws:s3:::{BUCKET}/")]);

    // A data event the selector picks: a write to the bucket, outside the log prefix.
    s3.put_object()
        .bucket(BUCKET)
        .key("data/selected.txt")
        .body("selected".as_bytes().to_vec().into())
        .send()
        .await
        .expect("PutObject");

    ct.stop_logging()
        .name(TRAIL)
        .send()
        .await
        .expect("StopLogging");
    let status = ct
        .get_trail_status()
        .name(TRAIL)
        .send()
        .await
        .expect("GetTrailStatus");
    assert_eq!(status.is_logging(), Some(false));
    assert!(
        status.stop_logging_time().is_some(),
        "StopLoggingTime parses as a timestamp"
    );
    ct.delete_trail()
        .name(&trail_arn)
        .send()
        .await
        .expect("DeleteTrail");
    assert!(
        ct.describe_trails()
            .send()
            .await
            .expect("Describe")
            .trail_list()
            .is_empty()
    );
    let (deletes, _) = lookup_all(&ct, "DeleteTrail", 50).await;
    assert_eq!(deletes.len(), 1, "the deletion itself is in event history");

    // Deliver what the trail selected while it logged, then read it back through S3.
    let report = cairn.flush();
    assert_eq!(report["Failed"], 0, "flush report: {report}");
    let (keys, records) = delivered_records(&s3).await;
    let prefix = format!("AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/");
    assert!(!keys.is_empty(), "flush delivered log files");
    for key in &keys {
        assert!(
            key.starts_with(&prefix) && key.ends_with(".json.gz"),
            "log file key {key}"
        );
        assert!(
            key.contains(&format!("{ACCOUNT}_CloudTrail_us-east-1_")),
            "file name {key}"
        );
    }
    let names: Vec<&str> = records
        .iter()
        .filter_map(|r| r["eventName"].as_str())
        .collect();
    for name in ["PutEventSelectors", "StopLogging", "PutObject"] {
        assert!(names.contains(&name), "{name} delivered, in {names:?}");
    }
    // Write-only management events: none of the trail's reads were delivered after the
    // selector was put (GetEventSelectors is a read).
    assert!(
        !names.contains(&"GetEventSelectors"),
        "reads filtered out: {names:?}"
    );
    let put_record = records
        .iter()
        .find(|r| r["eventName"] == "PutEventSelectors")
        .unwrap();
    assert_eq!(put_record["requestParameters"]["trailName"], TRAIL);
    assert_eq!(put_record["userIdentity"]["accessKeyId"], ACCESS_KEY);
    assert_eq!(put_record["recipientAccountId"], ACCOUNT);
    let object_write = records
        .iter()
        .find(|r| r["eventName"] == "PutObject")
        .unwrap();
    assert_eq!(object_write["eventCategory"], "Data");
    assert_eq!(
        object_write["requestParameters"]["key"],
        "data/selected.txt"
    );

    drop(s3);
    drop(ct);
    cairn.stop_and_verify();
}
