//! Bucket versioning state and the bucket-level public access block: PutBucketVersioning
//! is one way (a versioned bucket can be suspended, never unversioned), MFA delete is only
//! accepted as `Disabled`, Put/Get/DeletePublicAccessBlock keep the four settings, and
//! `BlockPublicPolicy` makes PutBucketPolicy refuse public policies with `AccessDenied`.
//! PutBucketTagging replaces the whole tag set under S3's rules (`InvalidTag`, `BadRequest`),
//! GetBucketTagging answers `NoSuchTagSet` for a bucket without one.
//! Every call is a management event under the IAM action AWS names.

use serde_json::{Value, json};

use crate::harness::*;
use crate::s3_util::*;

/// A PUT with a body and the checksum S3 requires for configuration calls.
async fn put_with_checksum(
    server: &Server,
    path: &str,
    headers: Vec<(String, String)>,
    xml: &str,
) -> (u16, String) {
    let crc = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crc32fast::hash(xml.as_bytes()).to_be_bytes(),
    );
    let mut headers = headers;
    headers.push(("x-amz-checksum-crc32".into(), crc));
    let req = s3_request(&server.addr, "PUT", path, headers, xml.as_bytes().to_vec());
    let (status, _, body) = server.send(req).await;
    (status, String::from_utf8_lossy(&body).into_owned())
}

fn versioning(status: &str, mfa: Option<&str>) -> String {
    let mfa = mfa
        .map(|m| format!("<MfaDelete>{m}</MfaDelete>"))
        .unwrap_or_default();
    format!(
        "<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>{status}</Status>{mfa}</VersioningConfiguration>"
    )
}

fn block(acls: bool, ignore: bool, policy: bool, restrict: bool) -> String {
    format!(
        "<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><BlockPublicAcls>{acls}</BlockPublicAcls><IgnorePublicAcls>{ignore}</IgnorePublicAcls><BlockPublicPolicy>{policy}</BlockPublicPolicy><RestrictPublicBuckets>{restrict}</RestrictPublicBuckets></PublicAccessBlockConfiguration>"
    )
}

/// The records of `bucket`'s management events, oldest first.
async fn records(server: &Server, bucket: &str) -> Vec<Value> {
    let (_, page) = server
        .ct(
            "LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": bucket}], "MaxResults": 50}),
        )
        .await;
    let mut out: Vec<Value> = page["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect();
    out.reverse();
    out
}

#[tokio::test]
async fn versioning_can_be_suspended_but_never_undone_and_mfa_delete_is_not_enabled() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/ver-bkt", b"").await.0, 200);
    let (status, body) = server.s3("GET", "/ver-bkt?versioning", b"").await;
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains("<Status>"), "never versioned: {body}");

    let (status, body) = put_with_checksum(
        &server,
        "/ver-bkt?versioning",
        vec![],
        &versioning("Enabled", None),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server.s3("GET", "/ver-bkt?versioning", b"").await;
    assert!(body.contains("<Status>Enabled</Status>"), "{body}");

    // There is no way back to unversioned: "Disabled" is not a status.
    let (status, body) = put_with_checksum(
        &server,
        "/ver-bkt?versioning",
        vec![],
        &versioning("Disabled", None),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("<Code>MalformedXML</Code>"), "{body}");
    let (status, body) = put_with_checksum(
        &server,
        "/ver-bkt?versioning",
        vec![],
        &versioning("Suspended", None),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server.s3("GET", "/ver-bkt?versioning", b"").await;
    assert!(body.contains("<Status>Suspended</Status>"), "{body}");

    // MFA delete: Disabled is accepted and reported; enabling needs the root's MFA device.
    let (status, body) = put_with_checksum(
        &server,
        "/ver-bkt?versioning",
        vec![],
        &versioning("Enabled", Some("Disabled")),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server.s3("GET", "/ver-bkt?versioning", b"").await;
    assert!(body.contains("<Status>Enabled</Status>"), "{body}");
    assert!(body.contains("<MfaDelete>Disabled</MfaDelete>"), "{body}");
    let (status, body) = put_with_checksum(
        &server,
        "/ver-bkt?versioning",
        vec![],
        &versioning("Enabled", Some("Enabled")),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(body.contains("Mfa Authentication must be used"), "{body}");

    // A new bucket of the same name starts unversioned.
    assert_eq!(server.s3("DELETE", "/ver-bkt", b"").await.0, 204);
    assert_eq!(server.s3("PUT", "/ver-bkt", b"").await.0, 200);
    let (_, body) = server.s3("GET", "/ver-bkt?versioning", b"").await;
    assert!(!body.contains("<Status>"), "{body}");
    let (status, _) = put_with_checksum(
        &server,
        "/no-such-bkt?versioning",
        vec![],
        &versioning("Enabled", None),
    )
    .await;
    assert_eq!(status, 404);

    let recs = records(&server, "ver-bkt").await;
    let puts: Vec<&Value> = recs
        .iter()
        .filter(|r| r["eventName"] == "PutBucketVersioning")
        .collect();
    assert_eq!(puts.len(), 5, "{recs:?}");
    assert_eq!(puts[0]["managementEvent"], true);
    assert_eq!(puts[0]["readOnly"], false);
    assert_eq!(
        puts[0]["requestParameters"]["VersioningConfiguration"]["Status"],
        "Enabled"
    );
    assert_eq!(puts[0]["requestParameters"]["versioning"], "");
    assert_eq!(puts[1]["errorCode"], "MalformedXML");
    assert_eq!(puts[4]["errorCode"], "AccessDenied");
}

#[tokio::test]
async fn the_public_access_block_is_kept_and_blocks_public_policies() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/pab-bkt", b"").await.0, 200);
    let (status, body) = server.s3("GET", "/pab-bkt?publicAccessBlock", b"").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body.contains("<Code>NoSuchPublicAccessBlockConfiguration</Code>"),
        "{body}"
    );

    let (status, body) = put_with_checksum(
        &server,
        "/pab-bkt?publicAccessBlock",
        vec![],
        &block(true, false, true, false),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.s3("GET", "/pab-bkt?publicAccessBlock", b"").await;
    assert_eq!(status, 200, "{body}");
    for want in [
        "<BlockPublicAcls>true</BlockPublicAcls>",
        "<IgnorePublicAcls>false</IgnorePublicAcls>",
        "<BlockPublicPolicy>true</BlockPublicPolicy>",
        "<RestrictPublicBuckets>false</RestrictPublicBuckets>",
    ] {
        assert!(body.contains(want), "{want} in {body}");
    }

    // A public grant is refused; CloudTrail's own (a fixed service principal) is not.
    let public = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Everyone", "Effect": "Allow", "Principal": "*",
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pab-bkt/*"}]})
    .to_string();
    let (status, body) = server.s3("PUT", "/pab-bkt?policy", public.as_bytes()).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("<Code>AccessDenied</Code>"), "{body}");
    assert!(
        body.contains("because public policies are blocked by the BlockPublicPolicy block public access setting"),
        "{body}"
    );
    let (status, _) = server.s3("GET", "/pab-bkt?policy", b"").await;
    assert_eq!(status, 404, "the refused policy was not stored");
    let pinned = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": "arn:aws:s3:::pab-bkt/*",
         "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}]})
    .to_string();
    let (status, body) = server.s3("PUT", "/pab-bkt?policy", pinned.as_bytes()).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = server
        .s3(
            "PUT",
            "/pab-bkt?policy",
            cloudtrail_policy("pab-bkt").as_bytes(),
        )
        .await;
    assert_eq!(status, 204, "{body}");

    // Without BlockPublicPolicy (or with no block at all) the public policy goes in.
    let (status, _) = put_with_checksum(
        &server,
        "/pab-bkt?publicAccessBlock",
        vec![],
        &block(true, true, false, true),
    )
    .await;
    assert_eq!(status, 200);
    let (status, body) = server.s3("PUT", "/pab-bkt?policy", public.as_bytes()).await;
    assert_eq!(status, 204, "{body}");
    let (status, body) = server.s3("DELETE", "/pab-bkt?publicAccessBlock", b"").await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = server.s3("GET", "/pab-bkt?publicAccessBlock", b"").await;
    assert_eq!(status, 404);
    let (status, _) = server.s3("DELETE", "/pab-bkt?publicAccessBlock", b"").await;
    assert_eq!(status, 204, "deleting what is not there succeeds");

    let recs = records(&server, "pab-bkt").await;
    let names: Vec<&str> = recs
        .iter()
        .map(|r| r["eventName"].as_str().unwrap())
        .collect();
    for name in [
        "PutBucketPublicAccessBlock",
        "GetBucketPublicAccessBlock",
        "DeleteBucketPublicAccessBlock",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let put = recs
        .iter()
        .find(|r| r["eventName"] == "PutBucketPublicAccessBlock")
        .unwrap();
    assert_eq!(
        put["requestParameters"]["PublicAccessBlockConfiguration"]["BlockPublicPolicy"],
        true
    );
    let refused = recs
        .iter()
        .find(|r| r["eventName"] == "PutBucketPolicy" && r.get("errorCode").is_some())
        .unwrap();
    assert_eq!(refused["errorCode"], "AccessDenied");
}

#[tokio::test]
async fn the_calls_need_their_own_iam_actions() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/acts-bkt", b"").await.0, 200);
    let run = |args: &[&str]| server.admin_iam(args);
    run(&["create-user", "carol"]);
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": ["s3:GetBucketVersioning", "s3:GetBucketPublicAccessBlock", "s3:GetBucketTagging"],
        "Resource": "arn:aws:s3:::acts-bkt"}]})
    .to_string();
    run(&[
        "put-user-policy",
        "carol",
        "--policy-name",
        "reads",
        "--policy-document",
        &policy,
    ]);
    let key = run(&["create-access-key", "carol"]);
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap().to_owned();
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_owned();
    let as_carol = |method: &str, path: &str, body: &str| {
        let crc = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            crc32fast::hash(body.as_bytes()).to_be_bytes(),
        );
        sign(
            &server.addr,
            "us-east-1",
            "s3",
            &id,
            &secret,
            method,
            path,
            vec![("x-amz-checksum-crc32".into(), crc)],
            body.as_bytes().to_vec(),
            chrono::Utc::now(),
        )
    };
    let (status, _, _) = server
        .send(as_carol("GET", "/acts-bkt?versioning", ""))
        .await;
    assert_eq!(status, 200);
    let (status, _, body) = server
        .send(as_carol(
            "PUT",
            "/acts-bkt?versioning",
            &versioning("Enabled", None),
        ))
        .await;
    assert_eq!(status, 403);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("s3:PutBucketVersioning"), "{body}");
    let (status, _, body) = server
        .send(as_carol(
            "PUT",
            "/acts-bkt?publicAccessBlock",
            &block(true, true, true, true),
        ))
        .await;
    assert_eq!(status, 403);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("s3:PutBucketPublicAccessBlock"), "{body}");
    let (status, _, body) = server
        .send(as_carol("DELETE", "/acts-bkt?publicAccessBlock", ""))
        .await;
    assert_eq!(status, 403);
    let body = String::from_utf8_lossy(&body);
    assert!(body.contains("s3:PutBucketPublicAccessBlock"), "{body}");
    let (status, _, body) = server
        .send(as_carol("GET", "/acts-bkt?publicAccessBlock", ""))
        .await;
    assert_eq!(status, 404, "{}", String::from_utf8_lossy(&body));
    // Tagging: Get under s3:GetBucketTagging, Put and Delete both under s3:PutBucketTagging.
    let (status, _, body) = server.send(as_carol("GET", "/acts-bkt?tagging", "")).await;
    let body = String::from_utf8_lossy(&body);
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("<Code>NoSuchTagSet</Code>"), "{body}");
    for (method, xml) in [("PUT", tagging(&[("k", "v")])), ("DELETE", String::new())] {
        let (status, _, body) = server
            .send(as_carol(method, "/acts-bkt?tagging", &xml))
            .await;
        assert_eq!(status, 403, "{method}");
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("s3:PutBucketTagging"), "{method}: {body}");
    }
}

fn tagging(tags: &[(&str, &str)]) -> String {
    let tags: String = tags
        .iter()
        .map(|(k, v)| format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>"))
        .collect();
    format!(
        "<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet>{tags}</TagSet></Tagging>"
    )
}

#[tokio::test]
async fn bucket_tags_are_replaced_whole_under_s3s_rules() {
    let server = Server::start();
    assert_eq!(server.s3("PUT", "/tag-bkt", b"").await.0, 200);
    let (status, body) = server.s3("GET", "/tag-bkt?tagging", b"").await;
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("<Code>NoSuchTagSet</Code>"), "{body}");
    assert!(
        body.contains("<Message>The TagSet does not exist</Message>"),
        "{body}"
    );

    let put = |xml: String| {
        let server = &server;
        async move { put_with_checksum(server, "/tag-bkt?tagging", vec![], &xml).await }
    };
    let (status, body) = put(tagging(&[("env", "prod"), ("team", "")])).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.s3("GET", "/tag-bkt?tagging", b"").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("<Key>env</Key><Value>prod</Value>"), "{body}");
    assert!(body.contains("<Key>team</Key>"), "{body}");

    // A put replaces the set: keys it does not name are gone.
    let (status, body) = put(tagging(&[("owner", "ops")])).await;
    assert_eq!(status, 200, "{body}");
    let (_, body) = server.s3("GET", "/tag-bkt?tagging", b"").await;
    assert!(
        body.contains("<Key>owner</Key><Value>ops</Value>"),
        "{body}"
    );
    assert!(!body.contains("env"), "{body}");

    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let fifty_one: Vec<(String, String)> =
        (0..51).map(|i| (format!("k{i}"), "v".to_owned())).collect();
    let fifty_one: Vec<(&str, &str)> = fifty_one
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (xml, code, message) in [
        (
            tagging(&[("a", "1"), ("a", "2")]),
            "InvalidTag",
            "Cannot provide multiple Tags with the same key",
        ),
        (
            tagging(&[("aws:owner", "x")]),
            "InvalidTag",
            "System tags cannot be added/updated by requester",
        ),
        (
            tagging(&[(&long_key, "v")]),
            "InvalidTag",
            "The TagKey you have provided is invalid",
        ),
        (
            tagging(&[("k", &long_value)]),
            "InvalidTag",
            "The TagValue you have provided is invalid",
        ),
        (
            tagging(&fifty_one),
            "BadRequest",
            "Bucket tag count cannot be greater than 50",
        ),
    ] {
        let (status, body) = put(xml).await;
        assert_eq!(status, 400, "{body}");
        assert!(body.contains(&format!("<Code>{code}</Code>")), "{body}");
        assert!(
            body.contains(&format!("<Message>{message}</Message>")),
            "{body}"
        );
    }
    let (_, body) = server.s3("GET", "/tag-bkt?tagging", b"").await;
    assert!(
        body.contains("<Key>owner</Key>"),
        "refused puts changed nothing: {body}"
    );
    let fifty = &fifty_one[..50];
    assert_eq!(put(tagging(fifty)).await.0, 200);

    let (status, body) = server.s3("DELETE", "/tag-bkt?tagging", b"").await;
    assert_eq!(status, 204, "{body}");
    let (status, _) = server.s3("GET", "/tag-bkt?tagging", b"").await;
    assert_eq!(status, 404);
    let (status, _) = server.s3("DELETE", "/tag-bkt?tagging", b"").await;
    assert_eq!(status, 204, "deleting what is not there succeeds");
    let (status, _) = put(String::new()).await;
    assert_eq!(status, 400, "a put needs a Tagging document");
    let (status, _) = server.s3("GET", "/no-such-tag-bkt?tagging", b"").await;
    assert_eq!(status, 404);

    // Tags go with their bucket.
    assert_eq!(put(tagging(&[("k", "v")])).await.0, 200);
    assert_eq!(server.s3("DELETE", "/tag-bkt", b"").await.0, 204);
    assert_eq!(server.s3("PUT", "/tag-bkt", b"").await.0, 200);
    assert_eq!(server.s3("GET", "/tag-bkt?tagging", b"").await.0, 404);

    let recs = records(&server, "tag-bkt").await;
    let named = |n: &str| -> Vec<&Value> { recs.iter().filter(|r| r["eventName"] == n).collect() };
    let puts = named("PutBucketTagging");
    assert_eq!(
        puts.last().unwrap()["requestParameters"]["Tagging"]["TagSet"]["Tag"],
        json!({"Key": "k", "Value": "v"}),
        "{recs:?}"
    );
    assert_eq!(puts[0]["managementEvent"], true);
    assert_eq!(puts[0]["readOnly"], false);
    assert_eq!(puts[0]["requestParameters"]["tagging"], "");
    assert_eq!(
        puts[0]["requestParameters"]["Tagging"]["TagSet"]["Tag"][0],
        json!({"Key": "env", "Value": "prod"})
    );
    assert_eq!(
        puts[1]["requestParameters"]["Tagging"]["TagSet"]["Tag"],
        json!({"Key": "owner", "Value": "ops"})
    );
    assert_eq!(puts[2]["errorCode"], "InvalidTag");
    assert_eq!(puts[6]["errorCode"], "BadRequest");
    let gets = named("GetBucketTagging");
    assert_eq!(gets[0]["errorCode"], "NoSuchTagSet");
    assert_eq!(gets[0]["readOnly"], true);
    assert_eq!(named("DeleteBucketTagging").len(), 2);
}
