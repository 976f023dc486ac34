//! LookupEvents: every attribute, pagination, tokens, ordering, immediate visibility.
//!
//! The attribute and time-range tests run over a few thousand events with varied values
//! (`cairn bench populate`), so a filter that were ignored, or applied to the wrong column,
//! would return a different set than the exact one each test expects.

use std::collections::{BTreeMap, BTreeSet, HashSet};

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
    let stored =
        crate::events_log::cairn(&["events", "--data-dir", server.data_dir().to_str().unwrap()]);
    let line = String::from_utf8(stored.stdout)
        .unwrap()
        .lines()
        .find(|l| l.contains(event["EventId"].as_str().unwrap()))
        .expect("the event is stored")
        .to_owned();
    assert_eq!(
        event["CloudTrailEvent"].as_str().unwrap(),
        line,
        "CloudTrailEvent is the stored record, byte for byte"
    );
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

/// Every page of a LookupEvents query in us-east-1.
async fn query(server: &Server, body: Value) -> Vec<Value> {
    all_pages(server, "us-east-1", body).await
}

fn ids(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["EventId"].as_str().unwrap().to_owned())
        .collect()
}

/// The attribute values LookupEvents can filter an event on.
fn attributes(e: &Value) -> Vec<(&'static str, String)> {
    let text = |k: &str| e[k].as_str().unwrap_or("").to_owned();
    let mut out = vec![
        ("EventId", text("EventId")),
        ("EventName", text("EventName")),
        ("ReadOnly", text("ReadOnly")),
        ("Username", text("Username")),
        ("EventSource", text("EventSource")),
        ("AccessKeyId", text("AccessKeyId")),
    ];
    for r in e["Resources"].as_array().into_iter().flatten() {
        out.push((
            "ResourceType",
            r["ResourceType"].as_str().unwrap().to_owned(),
        ));
        out.push((
            "ResourceName",
            r["ResourceName"].as_str().unwrap().to_owned(),
        ));
    }
    out
}

#[tokio::test]
async fn every_attribute_and_the_time_range_select_exactly_their_events() {
    // Populated before the server starts (populate is refused beside a running server).
    let data = tempfile::tempdir().unwrap();
    let out = crate::events_log::cairn(&[
        "bench",
        "populate",
        "--data-dir",
        data.path().to_str().unwrap(),
        "--events",
        "2400",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = Server::start_in_with_env(data, &[]);
    let dir = server.data_dir();
    // The synthetic events lie 80 days back; this test's own calls are now.
    let cut = chrono::Utc::now().timestamp() - 60 * 86_400;
    let everything = query(&server, json!({"EndTime": cut})).await;
    assert_eq!(everything.len(), 2400);
    let times: Vec<i64> = everything
        .iter()
        .map(|e| e["EventTime"].as_f64().unwrap() as i64)
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first");

    // The unfiltered listing is exactly the stored log: same events, same bytes, and the
    // summary fields agree with the record.
    let stored = crate::events_log::cairn(&["events", "--data-dir", dir.to_str().unwrap()]);
    let stored: BTreeMap<String, String> = String::from_utf8(stored.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["eventID"].as_str().unwrap().to_owned(), l.to_owned())
        })
        .collect();
    for e in &everything {
        let id = e["EventId"].as_str().unwrap();
        let line = stored.get(id).expect("listed event is stored");
        assert_eq!(
            e["CloudTrailEvent"].as_str().unwrap(),
            line,
            "byte for byte"
        );
        let r: Value = serde_json::from_str(line).unwrap();
        assert_eq!(e["EventName"], r["eventName"]);
        assert_eq!(e["EventSource"], r["eventSource"]);
        assert_eq!(
            e["ReadOnly"],
            json!(r["readOnly"].as_bool().unwrap().to_string())
        );
        assert_eq!(e["Username"], r["userIdentity"]["userName"]);
        assert_eq!(e["AccessKeyId"], r["userIdentity"]["accessKeyId"]);
    }

    // Each attribute: its most and least common values, each an exact, proper subset.
    let mut by_value: BTreeMap<(&str, String), BTreeSet<String>> = BTreeMap::new();
    for e in &everything {
        for (k, v) in attributes(e) {
            by_value
                .entry((k, v))
                .or_default()
                .insert(e["EventId"].as_str().unwrap().to_owned());
        }
    }
    for key in [
        "EventId",
        "EventName",
        "ReadOnly",
        "Username",
        "ResourceType",
        "ResourceName",
        "EventSource",
        "AccessKeyId",
    ] {
        let mut values: Vec<(&String, &BTreeSet<String>)> = by_value
            .iter()
            .filter(|((k, _), _)| *k == key)
            .map(|((_, v), set)| (v, set))
            .collect();
        values.sort_by_key(|(v, set)| (set.len(), (*v).clone()));
        let picks = [values[0], values[values.len() - 1]];
        for (value, expected) in picks {
            assert!(
                !expected.is_empty() && expected.len() < everything.len(),
                "{key}={value} would not tell an ignored filter apart"
            );
            let got = query(
                &server,
                json!({"EndTime": cut, "LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]}),
            )
            .await;
            let got_ids = ids(&got);
            assert_eq!(
                got_ids.iter().cloned().collect::<BTreeSet<_>>(),
                *expected,
                "{key}={value}"
            );
            assert_eq!(
                got_ids.len(),
                expected.len(),
                "{key}={value}: no duplicates"
            );
        }
    }

    // Time range: both bounds inclusive, each bound alone, and with an attribute.
    let mut distinct: Vec<i64> = times.clone();
    distinct.dedup();
    let (t1, t2) = (
        distinct[distinct.len() * 2 / 3],
        distinct[distinct.len() / 3],
    );
    assert!(t1 < t2);
    let within = |lo: i64, hi: i64| -> BTreeSet<String> {
        everything
            .iter()
            .zip(&times)
            .filter(|(_, t)| lo <= **t && **t <= hi)
            .map(|(e, _)| e["EventId"].as_str().unwrap().to_owned())
            .collect()
    };
    for (start, end) in [(t1, t2), (t1, t1), (t2, cut), (i64::MIN, t1)] {
        let mut body = json!({"EndTime": end});
        if start != i64::MIN {
            body["StartTime"] = json!(start);
        }
        let got: BTreeSet<String> = ids(&query(&server, body).await).into_iter().collect();
        let expected = within(start, end);
        assert!(!expected.is_empty() && expected.len() < everything.len());
        assert_eq!(got, expected, "StartTime {start} EndTime {end}");
    }
    let name = everything[0]["EventName"].as_str().unwrap();
    let got: BTreeSet<String> = ids(&query(
        &server,
        json!({"StartTime": t1, "EndTime": t2, "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}]}),
    )
    .await)
    .into_iter()
    .collect();
    let expected: BTreeSet<String> = within(t1, t2)
        .intersection(&by_value[&("EventName", name.to_owned())])
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(got, expected);
}

/// Peak resident memory of a process since its last reset, in KiB, if Linux tells us.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[tokio::test]
async fn an_oversized_member_is_bounded_and_lookup_stays_small() {
    let server = Server::start();
    let junk = "x".repeat(4 * 1024 * 1024);
    for _ in 0..12 {
        let (s, v) = server
            .ct_in(
                "sa-east-1",
                "DescribeTrails",
                // A member of the operation (one unknown to it is never recorded at all).
                json!({"trailNameList": [junk], "includeShadowTrails": true}),
            )
            .await;
        assert!(s == 200 || s == 400, "{v}");
    }
    // Reset the peak RSS counter (Linux: 5 > clear_refs), then look the events up.
    let pid = server.child.id();
    let reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
    let before = peak_rss_kib(pid);
    let req = sign_json(
        &server.addr,
        "sa-east-1",
        ACCESS_KEY,
        SECRET,
        "LookupEvents",
        json!({"MaxResults": 50}).to_string().into_bytes(),
        chrono::Utc::now(),
    );
    let (s, _, body) = server.send(req).await;
    assert_eq!(s, 200);
    assert!(
        body.len() < 1024 * 1024,
        "LookupEvents answered {} bytes for 12 events",
        body.len()
    );
    let page: Value = serde_json::from_slice(&body).unwrap();
    let events = page["Events"].as_array().unwrap();
    assert_eq!(events.len(), 12);
    for e in events {
        let text = e["CloudTrailEvent"].as_str().unwrap();
        assert!(text.len() <= 256 * 1024);
        let record: Value = serde_json::from_str(text).unwrap();
        assert_eq!(
            record["requestParameters"],
            json!({"includeShadowTrails": true, "omitted": true}),
            "the junk member is dropped, the rest kept, and the truncation flagged"
        );
    }
    match (reset, before, peak_rss_kib(pid)) {
        (true, Some(before), Some(after)) => assert!(
            after < before + 32 * 1024,
            "LookupEvents raised peak RSS from {before} KiB to {after} KiB"
        ),
        _ => eprintln!("peak RSS not measurable here; checked the response size only"),
    }
}

/// IAM and SNS records carry no `resources`; LookupEvents still names what a call acted on,
/// derived from its parameters as CloudTrail does, so a ResourceName lookup finds it.
#[tokio::test]
async fn iam_and_sns_calls_are_found_by_the_resources_they_name() {
    let server = Server::start();
    let (s, body) = server
        .query(
            "iam",
            "Action=CreateUser&Version=2010-05-08&UserName=mallory",
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = server
        .query(
            "iam",
            "Action=CreateAccessKey&Version=2010-05-08&UserName=mallory",
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = server
        .query("sns", "Action=CreateTopic&Version=2010-03-31&Name=alerts")
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = server
        .query(
            "sns",
            "Action=GetTopicAttributes&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3Aalerts",
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let by_name = |name: &'static str| {
        query(
            &server,
            json!({"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": name}]}),
        )
    };
    let names: BTreeSet<String> = by_name("mallory")
        .await
        .iter()
        .map(|e| e["EventName"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["CreateUser".to_owned(), "CreateAccessKey".to_owned()])
    );
    // CreateTopic names the topic in its response elements, GetTopicAttributes in its request.
    let topic = by_name("arn:aws:sns:us-east-1:123456789012:alerts").await;
    let names: Vec<&str> = topic
        .iter()
        .map(|e| e["EventName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["GetTopicAttributes", "CreateTopic"], "{topic:?}");
    let created: Value =
        serde_json::from_str(topic[1]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(
        created["responseElements"]["topicArn"],
        "arn:aws:sns:us-east-1:123456789012:alerts"
    );
    assert_eq!(
        topic[0]["Resources"],
        json!([{"ResourceType": "AWS::SNS::Topic",
                "ResourceName": "arn:aws:sns:us-east-1:123456789012:alerts"}])
    );
    // The record itself is unchanged: IAM records have no `resources` member.
    let create = &by_name("mallory").await[1];
    let record: Value = serde_json::from_str(create["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert!(record.get("resources").is_none(), "{record}");
}
