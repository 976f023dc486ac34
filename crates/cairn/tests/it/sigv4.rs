//! SigV4 positive and negative cases against the running server.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn signed_request_is_accepted_and_bad_ones_are_refused_with_aws_errors() {
    let server = Server::start();
    let now = chrono::Utc::now();
    let body = b"{}".to_vec();
    // DescribeTrails in eu-west-1, signed with the given key, secret, body and time.
    let describe = |key: &str, secret: &str, body: &[u8], when| {
        sign_json(
            &server.addr,
            "eu-west-1",
            key,
            secret,
            "DescribeTrails",
            body.to_vec(),
            when,
        )
    };

    let ok = describe(ACCESS_KEY, SECRET, &body, now);
    assert_eq!(server.send(ok).await.0, 200);

    let forged = describe(ACCESS_KEY, "not-the-secret", &body, now);
    let (status, v) = server.send_json(forged).await;
    assert_eq!((status, error_type(&v)), (400, "InvalidSignatureException"));
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("The request signature we calculated does not match")
    );

    let stale = describe(
        ACCESS_KEY,
        SECRET,
        &body,
        now - chrono::TimeDelta::minutes(10),
    );
    let (status, v) = server.send_json(stale).await;
    assert_eq!((status, error_type(&v)), (400, "InvalidSignatureException"));
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature expired: "),
        "{v}"
    );
    assert!(
        v["message"].as_str().unwrap().ends_with(" - 5 min.)"),
        "{v}"
    );

    let future = describe(
        ACCESS_KEY,
        SECRET,
        &body,
        now + chrono::TimeDelta::minutes(10),
    );
    let (_, v) = server.send_json(future).await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("Signature not yet current: "),
        "{v}"
    );

    let unknown = describe("AKIDUNKNOWN", SECRET, &body, now);
    let (status, v) = server.send_json(unknown).await;
    assert_eq!(
        (status, error_type(&v)),
        (400, "UnrecognizedClientException")
    );
    assert_eq!(
        v["message"],
        "The security token included in the request is invalid."
    );

    let mut altered = describe(ACCESS_KEY, SECRET, br#"{"includeShadowTrails":true}"#, now);
    altered.body = br#"{"includeShadowTrails":false}"#.to_vec();
    let (status, v) = server.send_json(altered).await;
    assert_eq!((status, error_type(&v)), (400, "InvalidSignatureException"));

    let mut unsigned = describe(ACCESS_KEY, SECRET, &body, now);
    unsigned.headers.retain(|(n, _)| n != "authorization");
    let (status, v) = server.send_json(unsigned).await;
    assert_eq!(
        (status, error_type(&v)),
        (400, "MissingAuthenticationTokenException")
    );

    // Only the accepted call reached an operation, so only it was recorded.
    let (_, page) = server.ct_in("eu-west-1", "LookupEvents", json!({"LookupAttributes":[{"AttributeKey":"EventName","AttributeValue":"DescribeTrails"}]})).await;
    assert_eq!(page["Events"].as_array().unwrap().len(), 1);
}

/// An IAM user's key authenticates as that user; with no policies the user may do nothing,
/// and the denied call is recorded with its AccessDenied error and the user's identity.
#[tokio::test]
async fn iam_user_keys_sign_as_iam_user_identities() {
    let server = Server::start();
    let run = |args: &[&str]| server.admin_iam(args);
    run(&["create-user", "alice"]);
    let key = run(&["create-access-key", "alice"]);
    let users = run(&["list-users"]);
    assert_eq!(users["Users"][0]["UserName"], "alice");
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap();
    let secret = key["AccessKey"]["SecretAccessKey"].as_str().unwrap();
    let req = sign_json(
        &server.addr,
        "us-east-1",
        id,
        secret,
        "ListTrails",
        b"{}".to_vec(),
        chrono::Utc::now(),
    );
    let (status, body) = server.send_json(req).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "AccessDeniedException");
    assert_eq!(
        body["Message"],
        "User: arn:aws:iam::123456789012:user/alice is not authorized to perform: cloudtrail:ListTrails because no identity-based policy allows the cloudtrail:ListTrails action"
    );
    let (_, page) = server
        .ct(
            "LookupEvents",
            json!({"LookupAttributes":[{"AttributeKey":"Username","AttributeValue":"alice"}]}),
        )
        .await;
    let record: serde_json::Value =
        serde_json::from_str(page["Events"][0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["userIdentity"]["type"], "IAMUser");
    assert_eq!(record["userIdentity"]["userName"], "alice");
    assert_eq!(
        record["userIdentity"]["arn"],
        "arn:aws:iam::123456789012:user/alice"
    );
    assert_eq!(record["userIdentity"]["accessKeyId"], id);
    assert_eq!(record["eventName"], "ListTrails");
    assert_eq!(record["errorCode"], "AccessDenied");
    assert_eq!(record["errorMessage"], body["Message"]);
    assert!(
        record["userIdentity"]["principalId"]
            .as_str()
            .unwrap()
            .starts_with("AIDA")
    );
}
