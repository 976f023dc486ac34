//! Property test of the request edge: random bodies, headers and targets, signed or not,
//! always get an AWS-shaped 4xx and never a panic or a 5xx.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};

use crate::harness::*;

fn targets() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("CreateTrail".to_owned()),
        Just("UpdateTrail".to_owned()),
        Just("LookupEvents".to_owned()),
        Just("PutEventSelectors".to_owned()),
        Just("AddTags".to_owned()),
        Just("DescribeTrails".to_owned()),
        "[A-Za-z]{0,20}",
    ]
}

fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        "\\{\"[A-Za-z]{1,12}\":(\"[ -~]{0,20}\"|[0-9]{1,5}|true|null|\\[\\]|\\{\\})\\}".prop_map(String::into_bytes),
        Just(br#"{"Name":"x"}"#.to_vec()),
        Just(br#"{"LookupAttributes":[{"AttributeKey":"EventName"}]}"#.to_vec()),
        Just(br#"{"EventSelectors":[{"DataResources":[{"Type":"AWS::S3::Object","Values":[1]}]}],"TrailName":"abc"}"#.to_vec()),
        Just(br#"{"TagsList":"nope","ResourceId":"arn:aws:cloudtrail:us-east-1:123456789012:trail/abc"}"#.to_vec()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn random_requests_get_aws_shaped_client_errors() {
    let server = Server::start();
    let mut runner = TestRunner::new(Config {
        cases: 300,
        ..Config::default()
    });
    let strategy = (targets(), bodies(), any::<bool>(), "[ -~]{0,30}");
    let cases: Vec<_> = (0..300)
        .map(|_| {
            strategy
                .new_tree(&mut runner)
                .expect("generate a case")
                .current()
        })
        .collect();
    for (target, body, signed, junk_header) in cases {
        let mut req = sign_json(
            &server.addr,
            "us-east-1",
            ACCESS_KEY,
            SECRET,
            &target,
            body.clone(),
            chrono::Utc::now(),
        );
        if !signed {
            req.headers.retain(|(n, _)| n != "authorization");
            req.headers
                .push(("authorization".into(), junk_header.clone()));
        }
        let (status, headers, bytes) = server.send(req).await;
        assert!(status < 500, "{target} {body:?} -> {status}");
        assert!(headers.contains_key("x-amzn-requestid"));
        if status >= 400 {
            let v: serde_json::Value = serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| panic!("non-JSON error for {target} {body:?}"));
            assert!(v["__type"].as_str().is_some_and(|t| !t.is_empty()), "{v}");
            // The front end's errors say `message`; an operation's (CloudTrail's modeled
            // exceptions) `Message`.
            assert!(v["message"].is_string() || v["Message"].is_string(), "{v}");
        }
    }
    // The server is still healthy after all of that.
    let health = reqwest::get(server.url("/health")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn random_s3_requests_never_fail_the_server() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/fuzz-bucket", b"").await.0, 200);
    let mut runner = TestRunner::new(Config {
        cases: 200,
        ..Config::default()
    });
    let strategy = (
        prop_oneof![
            Just("GET"),
            Just("PUT"),
            Just("POST"),
            Just("DELETE"),
            Just("HEAD")
        ],
        prop_oneof![
            Just("/fuzz-bucket".to_owned()),
            "/[a-z0-9.-]{0,12}",
            "/fuzz-bucket/[ -~]{0,20}"
        ],
        prop_oneof![
            Just(String::new()),
            Just("uploads".to_owned()),
            Just("policy".to_owned()),
            Just("lifecycle".to_owned()),
            Just("delete".to_owned()),
            "list-type=2&max-keys=[0-9]{1,4}&prefix=[a-z]{0,3}",
            "uploadId=[a-z0-9]{0,8}&partNumber=[0-9]{1,6}",
            "[a-z-]{1,10}=[a-z0-9]{0,5}",
        ],
        proptest::collection::vec(any::<u8>(), 0..300),
    );
    for _ in 0..200 {
        let (method, path, query, body) = strategy.new_tree(&mut runner).expect("case").current();
        let pq = if query.is_empty() {
            path.clone()
        } else {
            format!("{path}?{query}")
        };
        let req = sign_s3(
            &server.addr,
            "us-east-1",
            method,
            &pq,
            body,
            chrono::Utc::now(),
        );
        let (status, _, _) = server.send(req).await;
        assert!(status != 500 && status < 502, "{method} {pq} -> {status}");
    }
    let health = reqwest::get(server.url("/health")).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
}
