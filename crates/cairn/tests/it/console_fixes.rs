//! Console behaviour an outside tester found wrong, each over the real server: cookies are
//! `Secure` and `LoginTo` says https only behind a trusted TLS proxy; the wizard checks tags
//! and a new role's name before it makes anything; a trail status that could not be read is
//! "Unknown", never "Off"; the trails page's notice is never text from the address; S3's
//! denials show S3's own code; a custom time range that is not a time is an error.

use serde_json::json;

use crate::console::{Browser, iam, lookup, xml_member};
use crate::console_wizard::create;
use crate::harness::{ACCESS_KEY, SECRET, Server};

/// Every `Set-Cookie` of a response.
fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// An IAM user named `name` with inline policy `policy`; its access key id and secret.
pub(crate) async fn user_with(server: &Server, name: &str, policy: &str) -> (String, String) {
    iam(server, &[("Action", "CreateUser"), ("UserName", name)]).await;
    iam(
        server,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", name),
            ("PolicyName", "console"),
            ("PolicyDocument", policy),
        ],
    )
    .await;
    let key = iam(server, &[("Action", "CreateAccessKey"), ("UserName", name)]).await;
    (
        xml_member(&key, "AccessKeyId"),
        xml_member(&key, "SecretAccessKey"),
    )
}

/// The `LoginTo` of the latest successful ConsoleLogin.
async fn login_to(server: &Server) -> String {
    lookup(server, "EventName", "ConsoleLogin")
        .await
        .iter()
        .find(|r| r["responseElements"]["ConsoleLogin"] == "Success")
        .map(|r| {
            r["additionalEventData"]["LoginTo"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .expect("a successful ConsoleLogin")
}

#[tokio::test]
async fn behind_a_trusted_tls_proxy_cookies_are_secure_and_login_to_says_https() {
    let server = Server::start_with(&["--trusted-proxies", "127.0.0.1/32"]);
    let mut b = Browser::new(&server);
    b.headers.extend([
        ("x-forwarded-proto".to_owned(), "https".to_owned()),
        ("origin".to_owned(), format!("https://{}", server.addr)),
    ]);
    let (_, headers, _) = b.get("/console/signin").await;
    let mut seen = set_cookies(&headers);
    let (status, headers, _) = b.sign_in(ACCESS_KEY, SECRET).await;
    assert_eq!(status, 303);
    seen.extend(set_cookies(&headers));
    assert!(
        seen.iter().any(|c| c.starts_with("cairn_console=")),
        "{seen:?}"
    );
    let csrf = {
        b.get("/console/").await;
        b.csrf.clone()
    };
    let (status, headers, _) = b.post("/console/signout", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    seen.extend(set_cookies(&headers));
    assert!(
        seen.len() >= 4,
        "sign-in form, session, their removals: {seen:?}"
    );
    for c in &seen {
        assert!(c.ends_with("; Secure") || c.contains("; Secure;"), "{c}");
    }
    let to = login_to(&server).await;
    assert!(to.starts_with("https://"), "{to}");
    assert!(to.ends_with("/console/"), "{to}");

    // The same header from a peer that is not a trusted proxy counts for nothing.
    let plain = Server::start();
    let mut b = Browser::new(&plain);
    b.headers
        .push(("x-forwarded-proto".to_owned(), "https".to_owned()));
    let (status, headers, _) = b.sign_in(ACCESS_KEY, SECRET).await;
    assert_eq!(status, 303);
    for c in set_cookies(&headers) {
        assert!(!c.contains("Secure"), "{c}");
    }
    assert!(login_to(&plain).await.starts_with("http://"));
}

#[tokio::test]
async fn bad_tags_and_role_names_are_shown_before_anything_is_made() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    let new_key_and_group: [(&str, &str); 6] = [
        ("kms", "on"),
        ("kms_mode", "new"),
        ("kms_alias", "fix-key"),
        ("cloudwatch", "on"),
        ("cwl_group_mode", "new"),
        ("cwl_group", "fix-group"),
    ];
    let tag_cases: [(&str, &str); 5] = [
        ("aws:reserved", "v"),
        ("bad#key", "v"),
        ("k", "bad<value>"),
        (&long_key, "v"),
        ("k", &long_value),
    ];
    for (i, (key, value)) in tag_cases.iter().enumerate() {
        let bucket = format!("fix-tag-{i}");
        let mut extra = new_key_and_group.to_vec();
        extra.extend([
            ("cwl_role_mode", "new"),
            ("cwl_role", "FixRole"),
            ("tag_key", *key),
            ("tag_value", *value),
        ]);
        let (status, _, body) = create(&mut b, "fix-trail", &bucket, &extra).await;
        assert_eq!(status, 200, "{key}");
        assert!(body.contains("id=\"tags-error\""), "{key}: {body}");
        assert!(
            body.contains("InvalidTagParameterException"),
            "{key}: {body}"
        );
    }
    // More than 50 tags.
    let keys: Vec<String> = (0..51).map(|i| format!("k{i}")).collect();
    let mut extra = new_key_and_group.to_vec();
    extra.extend([("cwl_role_mode", "new"), ("cwl_role", "FixRole")]);
    for k in &keys {
        extra.extend([("tag_key", k.as_str()), ("tag_value", "v")]);
    }
    let (status, _, body) = create(&mut b, "fix-trail", "fix-many-tags", &extra).await;
    assert_eq!(status, 200);
    assert!(body.contains("id=\"tags-error\""), "{body}");

    let long_role = "R".repeat(65);
    for role in [
        "bad role",
        "bad/role",
        long_role.as_str(),
        "arn:aws:iam::123456789012:role/x",
    ] {
        let mut extra = new_key_and_group.to_vec();
        extra.extend([("cwl_role_mode", "new"), ("cwl_role", role)]);
        let (status, _, body) = create(&mut b, "fix-trail", "fix-role", &extra).await;
        assert_eq!(status, 200, "{role}");
        assert!(body.contains("id=\"cloudwatch-error\""), "{role}: {body}");
        assert!(body.contains("ValidationError"), "{role}: {body}");
    }
    // A bad tag is already shown when leaving step 1.
    b.get("/console/trails/create").await;
    let csrf = b.csrf.clone();
    let form = [
        ("csrf", csrf.as_str()),
        ("step", "1"),
        ("go", "2"),
        ("name", "fix-trail"),
        ("storage", "new"),
        ("new_bucket", "fix-step1"),
        ("tag_key", "aws:x"),
        ("tag_value", ""),
    ];
    let (status, _, body) = b.post("/console/trails/create", &form).await;
    assert_eq!(status, 200, "not redirected to step 2");
    assert!(body.contains("id=\"tags-error\""), "{body}");

    // Nothing was made, so nothing was rolled back either.
    for made in [
        "CreateBucket",
        "CreateKey",
        "CreateLogGroup",
        "CreateRole",
        "CreateTrail",
        "ScheduleKeyDeletion",
    ] {
        assert!(
            lookup(&server, "EventName", made).await.is_empty(),
            "{made}"
        );
    }
    let (_, keys) =
        crate::kms_util::kms(&reqwest::Client::new(), &server.addr, "ListKeys", json!({})).await;
    assert_eq!(keys["Keys"], json!([]), "no key pending deletion");

    // The good version of the same form creates the trail.
    let mut extra = new_key_and_group.to_vec();
    extra.extend([
        ("cwl_role_mode", "new"),
        ("cwl_role", "Fix+Role=,.@-_1"),
        ("tag_key", "team: a/b=c+d-e@f_g."),
        ("tag_value", ""),
    ]);
    let (status, location, body) = create(&mut b, "fix-trail", "fix-good", &extra).await;
    assert_eq!(status, 303, "{body}");
    assert!(location.contains("done=created"), "{location}");
}

#[tokio::test]
async fn a_status_that_could_not_be_read_is_unknown_never_off() {
    let server = Server::start();
    server.bucket_for_trails("status-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "busy", "S3BucketName": "status-logs", "IsMultiRegionTrail": true}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let (s, out) = server.ct("StartLogging", json!({"Name": "busy"})).await;
    assert_eq!(s, 200, "{out}");
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:DescribeTrails","cloudtrail:GetTrail","cloudtrail:LookupEvents","cloudtrail:GetEventSelectors","cloudtrail:GetInsightSelectors","cloudtrail:ListTags"],"Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "nostatus", policy).await;
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in(&id, &secret).await.0, 303);

    let (_, _, body) = b.get("/console/trails").await;
    assert!(body.contains("busy"), "{body}");
    assert!(body.contains("class=\"badge unknown\""), "{body}");
    assert!(body.contains(">Unknown<"), "{body}");
    assert!(!body.contains(">Off<"), "never Off: {body}");
    assert!(
        body.contains("cloudtrail:GetTrailStatus"),
        "the reason: {body}"
    );

    let (_, _, body) = b.get("/console/").await;
    assert!(body.contains("id=\"status-unknown\""), "{body}");
    assert!(!body.contains(">Off<"), "{body}");
    assert!(
        !body.contains("id=\"no-multi-region\""),
        "no claim that no multi-region trail logs: {body}"
    );

    let (_, _, body) = b.get("/console/trails/busy").await;
    assert!(body.contains(">Unknown<"), "{body}");
    assert!(!body.contains(">Off<"), "{body}");
    assert!(body.contains("Unknown (AccessDeniedException"), "{body}");

    // Root reads the status: Logging.
    let mut root = Browser::new(&server);
    root.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, body) = root.get("/console/trails").await;
    assert!(body.contains("class=\"badge ok\">Logging<"), "{body}");
    assert!(!body.contains("badge unknown"), "{body}");
}

#[tokio::test]
async fn the_trails_notice_is_never_text_from_the_address() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    for spoof in [
        "/console/trails?done=created&name=Your%20account%20is%20locked.%20Call%20us",
        "/console/trails?done=deleted&name=Your%20account%20is%20locked.%20Call%20us",
        "/console/trails?done=created&name=x&sig=00",
    ] {
        let (status, _, body) = b.get(spoof).await;
        assert_eq!(status, 200);
        assert!(!body.contains("account is locked"), "{spoof}: {body}");
        assert!(!body.contains("created and logging"), "{spoof}");
    }

    // The wizard's own redirect shows it.
    let (status, location, body) = create(&mut b, "noticed", "noticed-logs", &[]).await;
    assert_eq!(status, 303, "{body}");
    let (_, _, body) = b.get(&location).await;
    assert!(
        body.contains("Trail noticed created and logging."),
        "{body}"
    );
    // A link naming the existing trail without this session's signature shows nothing.
    let (_, _, body) = b.get("/console/trails?done=created&name=noticed").await;
    assert!(!body.contains("created and logging"), "{body}");
    // Nor does another session's use of this session's link.
    let mut other = Browser::new(&server);
    other.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, body) = other.get(&location).await;
    assert!(!body.contains("created and logging"), "{body}");

    // Deleting through the console shows its notice; the same link for another name does not.
    b.get("/console/trails/noticed/delete").await;
    let csrf = b.csrf.clone();
    let (status, headers, _) = b
        .post(
            "/console/trails/noticed/delete",
            &[("csrf", &csrf), ("confirm", "noticed")],
        )
        .await;
    assert_eq!(status, 303);
    let location = headers["location"].to_str().unwrap().to_owned();
    let (_, _, body) = b.get(&location).await;
    assert!(body.contains("Trail noticed deleted."), "{body}");
    let forged = location.replace("name=noticed", "name=evil");
    let (_, _, body) = b.get(&forged).await;
    assert!(!body.contains("deleted."), "{body}");
}

#[tokio::test]
async fn s3_denials_show_s3s_own_code() {
    let server = Server::start();
    server.bucket_for_trails("guarded-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "guarded", "S3BucketName": "guarded-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    // Reads trails, but no S3 at all.
    let reader = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:*"],"Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "s3less", reader).await;
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in(&id, &secret).await.0, 303);
    let (_, _, body) = b.get("/console/trails/guarded/logs").await;
    assert!(body.contains("AccessDenied: "), "ListBucket: {body}");
    assert!(!body.contains("AccessDeniedException"), "{body}");
    let (status, _, body) = create(&mut b, "s3less-trail", "s3less-logs", &[]).await;
    assert_eq!(status, 403, "a denial");
    assert!(body.contains("AccessDenied: "), "CreateBucket: {body}");
    assert!(!body.contains("AccessDeniedException"), "{body}");
    let denied = lookup(&server, "EventName", "CreateBucket").await;
    assert_eq!(denied[0]["errorCode"], "AccessDenied", "as recorded");

    // Everything but s3:DeleteBucket: the rollback's failure names S3's code too.
    let (s, body) = server
        .query("sns", "Action=CreateTopic&Name=closed&Version=2010-03-31")
        .await;
    assert_eq!(s, 200, "{body}");
    let keeper = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "keeper", keeper).await;
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in(&id, &secret).await.0, 303);
    let extra = [("sns", "on"), ("sns_topic", "closed")];
    let (status, _, body) = create(&mut b, "kept-trail", "kept-logs", &extra).await;
    assert_eq!(status, 200);
    assert!(body.contains("could not be removed"), "{body}");
    assert!(
        body.contains("S3 bucket kept-logs: AccessDenied: "),
        "{body}"
    );
    assert!(!body.contains("AccessDeniedException"), "{body}");
}

#[tokio::test]
async fn a_custom_range_that_is_not_a_time_is_an_error_and_lists_nothing() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, body) = b.get("/console/events").await;
    assert!(
        body.contains("ConsoleLogin"),
        "the sign-in is listed: {body}"
    );
    for q in [
        "range=custom&start=2026-13-45T99:99:99",
        "range=custom&start=-1&end=1e999",
        "range=custom&start=2026-01-01T00:00&end=tomorrow",
    ] {
        let (status, _, body) = b.get(&format!("/console/events?{q}")).await;
        assert_eq!(status, 200, "{q}");
        assert!(body.contains("InvalidTimeRangeException"), "{q}: {body}");
        assert!(
            !body.contains("ConsoleLogin"),
            "nothing listed: {q}: {body}"
        );
        let (status, _, body) = b
            .get(&format!("/console/events/download?format=json&{q}"))
            .await;
        assert_eq!(status, 400, "{q}: {body}");
        assert!(body.contains("InvalidTimeRangeException"), "{q}: {body}");
    }
    // The start > end case answers the same way.
    let (_, _, body) = b
        .get("/console/events?range=custom&start=2026-02-01T00:00&end=2026-01-01T00:00")
        .await;
    assert!(body.contains("InvalidTimeRangeException"), "{body}");
}

/// console10 F1: tag keys and values are sent as typed, outer blanks kept: a key with a
/// trailing blank can be removed (the console asked to remove the trimmed key, which did not
/// exist, and said "Tag removed.").
#[tokio::test]
async fn tags_keep_their_outer_blanks() {
    let server = Server::start();
    server.bucket_for_trails("blank-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "blank", "S3BucketName": "blank-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/blank").await;
    let tags = || async {
        let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/blank";
        let (_, out) = server
            .ct("ListTags", json!({"ResourceIdList": [arn]}))
            .await;
        out["ResourceTagList"][0]["TagsList"].clone()
    };
    let add = [("op", "add"), ("key", "team "), ("value", " blue")];
    crate::console_actions::act(&mut b, "/console/trails/blank/tags", &add).await;
    assert_eq!(tags().await, json!([{"Key": "team ", "Value": " blue"}]));
    let remove = [("op", "remove"), ("key", "team ")];
    crate::console_actions::act(&mut b, "/console/trails/blank/tags", &remove).await;
    assert_eq!(tags().await, json!([]));
}
