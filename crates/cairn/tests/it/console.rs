//! The web console over plain HTTP: routing beside the API (a signed request is always an API
//! request), sign-in and its ConsoleLogin records, session cookie flags, CSRF and origin
//! checks, escaping, security headers, console markers on recorded calls, and an IAM user
//! whose calls are denied seeing the AccessDenied message.

use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::harness::{ACCESS_KEY, SECRET, Server, sign_json};

/// A browser-like client: no automatic redirects, cookies kept by hand.
pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    pub(crate) cookies: Vec<(String, String)>,
    pub(crate) csrf: String,
    /// Headers every request carries (a proxy's `X-Forwarded-Proto`).
    pub(crate) headers: Vec<(String, String)>,
}

fn as_refs(v: &[(String, String)]) -> Vec<(&str, &str)> {
    v.iter().map(|(a, c)| (a.as_str(), c.as_str())).collect()
}

fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_owned())
}

impl Browser {
    pub(crate) fn new(server: &Server) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(Policy::none())
                .build()
                .unwrap(),
            base: format!("http://{}", server.addr),
            cookies: Vec::new(),
            csrf: String::new(),
            headers: Vec::new(),
        }
    }

    fn remember(&mut self, resp: &reqwest::Response) {
        for v in resp.headers().get_all("set-cookie") {
            let text = v.to_str().unwrap();
            let (pair, _) = text.split_once(';').unwrap_or((text, ""));
            let (k, val) = pair.split_once('=').unwrap();
            self.cookies.retain(|(n, _)| n != k);
            if !text.contains("Max-Age=0") {
                self.cookies.push((k.to_owned(), val.to_owned()));
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) async fn get(&mut self, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("accept", "text/html");
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        self.remember(&resp);
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        let body = resp.text().await.unwrap();
        if let Some(t) = hidden(&body, "csrf") {
            self.csrf = t;
        }
        (status, headers, body)
    }

    pub(crate) async fn post(
        &mut self,
        path: &str,
        form: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, String) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .form(form);
        if !self.headers.iter().any(|(k, _)| k == "origin") {
            req = req.header("origin", self.base.clone());
        }
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let resp = req.send().await.unwrap();
        self.remember(&resp);
        let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
        (status, headers, resp.text().await.unwrap())
    }

    /// Signs in; returns the sign-in response's status and headers.
    pub(crate) async fn sign_in(
        &mut self,
        key: &str,
        secret: &str,
    ) -> (u16, reqwest::header::HeaderMap, String) {
        self.get("/console/signin").await;
        let csrf = self.csrf.clone();
        self.post(
            "/console/signin",
            &[
                ("csrf", &csrf),
                ("access_key_id", key),
                ("secret_access_key", secret),
                ("region", "us-east-1"),
            ],
        )
        .await
    }
}

pub(crate) async fn lookup(server: &Server, key: &str, value: &str) -> Vec<Value> {
    let (status, page) = server
        .ct(
            "LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": key, "AttributeValue": value}]}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    page["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn browsers_at_the_root_go_to_the_console_and_signed_requests_stay_api_calls() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    let (status, headers, _) = b.get("/").await;
    assert_eq!(status, 302);
    assert_eq!(headers["location"], "/console/");
    let (status, headers, _) = b.get("/console/").await;
    assert_eq!(status, 303, "signed out: sent to sign in");
    assert_eq!(headers["location"], "/console/signin");
    // A bucket named `console` keeps working for path-style S3 calls.
    let (status, body) = server.s3("PUT", "/console", b"").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.s3("PUT", "/console/signin", b"object bytes").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.s3("GET", "/console/signin", b"").await;
    assert_eq!((status, body.as_str()), (200, "object bytes"));
    let (status, body) = server.s3("GET", "/", b"").await;
    assert_eq!(status, 200);
    assert!(body.contains("<Name>console</Name>"), "{body}");
}

#[tokio::test]
async fn sign_in_sets_a_strict_http_only_cookie_and_records_console_logins() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    let (status, _, body) = b.sign_in(ACCESS_KEY, "wrong-secret").await;
    assert_eq!(status, 200);
    assert!(body.contains("not valid"), "{body}");
    assert!(!b.cookies.iter().any(|(k, _)| k == "cairn_console"));
    let (status, _, body) = b.sign_in("AKIDNOSUCHKEY", "x").await;
    assert_eq!(status, 200);
    assert!(body.contains("not valid"));

    let (status, headers, _) = b.sign_in(ACCESS_KEY, SECRET).await;
    assert_eq!(status, 303);
    assert_eq!(headers["location"], "/console/");
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("cairn_console="))
        .expect("session cookie");
    for flag in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=43200",
    ] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    let id = cookie["cairn_console=".len()..].split(';').next().unwrap();
    assert_eq!(id.len(), 64, "256 random bits, hex");
    let (status, _, body) = b.get("/console/").await;
    assert_eq!(status, 200);
    assert!(body.contains("Dashboard"));

    let logins = lookup(&server, "EventName", "ConsoleLogin").await;
    assert_eq!(logins.len(), 3);
    let outcome = |r: &Value| {
        r["responseElements"]["ConsoleLogin"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (ok, failed): (Vec<&Value>, Vec<&Value>) =
        logins.iter().partition(|r| outcome(r) == "Success");
    assert_eq!((ok.len(), failed.len()), (1, 2));
    for r in &logins {
        assert_eq!(r["eventSource"], "signin.amazonaws.com");
        assert_eq!(r["eventType"], "AwsConsoleSignIn");
        assert_eq!(r["additionalEventData"]["MFAUsed"], "No");
        assert_eq!(r["requestParameters"], Value::Null);
        assert!(
            r.get("requestID").is_none(),
            "AWS's ConsoleLogin has no requestID"
        );
    }
    assert_eq!(ok[0]["userIdentity"]["type"], "Root");
    assert_eq!(ok[0]["userIdentity"]["accessKeyId"], "");
    let messages: Vec<&str> = failed
        .iter()
        .map(|r| r["errorMessage"].as_str().unwrap())
        .collect();
    assert!(messages.contains(&"Failed authentication"));
    assert!(messages.contains(&"No username found in supplied account"));
    let hidden_user = failed
        .iter()
        .find(|r| r["errorMessage"] == "No username found in supplied account")
        .unwrap();
    assert_eq!(
        hidden_user["userIdentity"]["userName"],
        "HIDDEN_DUE_TO_SECURITY_REASONS"
    );
    compare_with_dataset(ok[0]);
}

/// The record has the members a real AWS ConsoleLogin record has (from the shared dataset,
/// when it is there).
fn compare_with_dataset(ours: &Value) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/datasets/cloudtrail/stratus-red-team/detonation-logs/aws.initial-access.console-login-without-mfa.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        println!("skipped: {} is absent", path.display());
        return;
    };
    let doc: Value = serde_json::from_str(&text).unwrap();
    let records = doc
        .as_array()
        .cloned()
        .or_else(|| doc["Records"].as_array().cloned())
        .unwrap_or_default();
    let real = records
        .iter()
        .find(|r| r["eventName"] == "ConsoleLogin")
        .expect("a ConsoleLogin record");
    for (k, _) in real.as_object().unwrap() {
        if k != "tlsDetails" {
            assert!(ours.get(k).is_some(), "our ConsoleLogin lacks {k}");
        }
    }
    for k in ["MFAUsed", "LoginTo", "MobileVersion"] {
        assert!(ours["additionalEventData"].get(k).is_some(), "{k}");
    }
}

#[tokio::test]
async fn forms_need_the_session_token_and_this_origin() {
    let server = Server::start();
    server.bucket_for_trails("csrf-bucket").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (status, headers, body) = b.get("/console/trails").await;
    assert_eq!(status, 200);
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(!body.contains("style=\""), "no inline styles");
    let create = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("step".to_owned(), "3".to_owned()),
            ("go".to_owned(), "create".to_owned()),
            ("name".to_owned(), "csrf-trail".to_owned()),
            ("storage".to_owned(), "existing".to_owned()),
            ("existing_bucket".to_owned(), "csrf-bucket".to_owned()),
        ]
    };
    // No token, a wrong token: refused, nothing created.
    for token in ["", "0000"] {
        let form = create(token);
        let (status, _, body) = b.post("/console/trails/create", &as_refs(&form)).await;
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("CSRF"));
    }
    // The right token from another origin: refused.
    let form = create(&b.csrf.clone());
    let resp = b
        .http
        .post(format!("{}/console/trails/create", b.base))
        .header("cookie", b.cookie_header())
        .header("origin", "http://evil.example")
        .form(&as_refs(&form))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let (_, trails) = server.ct("DescribeTrails", json!({})).await;
    assert_eq!(trails["trailList"], json!([]), "nothing was created");
    // The right token from this origin: created.
    let (status, headers, body) = b.post("/console/trails/create", &as_refs(&form)).await;
    assert_eq!(status, 303, "{body}");
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/console/trails?done=created")
    );
    let (_, trails) = server.ct("DescribeTrails", json!({})).await;
    assert_eq!(trails["trailList"][0]["Name"], "csrf-trail");
    assert_eq!(trails["trailList"][0]["IsMultiRegionTrail"], true);
    let (_, status) = server
        .ct("GetTrailStatus", json!({"Name": "csrf-trail"}))
        .await;
    assert_eq!(status["IsLogging"], true);
    // The console's calls carry AWS's console markers.
    let created = lookup(&server, "EventName", "CreateTrail").await;
    assert_eq!(created[0]["sessionCredentialFromConsole"], "true");
    assert_eq!(created[0]["userAgent"], "console.amazonaws.com");
    assert_eq!(
        created[0]["userIdentity"]["sessionContext"]["attributes"]["mfaAuthenticated"],
        "false"
    );
    let last_key = created[0]
        .as_object()
        .unwrap()
        .keys()
        .next_back()
        .unwrap()
        .clone();
    assert_eq!(last_key, "sessionCredentialFromConsole");
    // Sign out ends the session server-side: the old cookie no longer works.
    let old = b.cookie_header();
    let csrf = b.csrf.clone();
    let (status, _, _) = b.post("/console/signout", &[("csrf", &csrf)]).await;
    assert_eq!(status, 303);
    let resp = b
        .http
        .get(format!("{}/console/trails", b.base))
        .header("cookie", old)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 303);
}

#[tokio::test]
async fn html_in_event_fields_is_escaped() {
    let server = Server::start();
    let evil = "<script>alert(1)</script>";
    let (status, _) = server
        .ct(
            "CreateTrail",
            json!({"Name": evil, "S3BucketName": "<img src=x onerror=alert(2)>"}),
        )
        .await;
    assert_eq!(status, 400);
    let events = lookup(&server, "EventName", "CreateTrail").await;
    let id = events[0]["eventID"].as_str().unwrap().to_owned();
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    for path in [
        format!("/console/events/{id}"),
        "/console/events?q=alert".to_owned(),
    ] {
        let (status, _, body) = b.get(&path).await;
        assert_eq!(status, 200);
        assert!(!body.contains("<script>alert"), "{path}: unescaped script");
        assert!(!body.contains("<img src=x"), "{path}: unescaped img");
    }
    let (_, _, body) = b.get(&format!("/console/events/{id}")).await;
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || body.contains("&#60;script&#62;"),
        "shown as text"
    );
    let (_, _, body) = b.get("/console/timeline?name=%3Cscript%3E").await;
    assert!(!body.contains("<script>"), "the timeline's name is escaped");
}

#[tokio::test]
async fn a_user_without_permissions_sees_access_denied() {
    let server = Server::start();
    let run = |args: &[&str]| server.admin_iam(args);
    run(&["create-user", "carol"]);
    let key = run(&["create-access-key", "carol"]);
    let id = key["AccessKey"]["AccessKeyId"].as_str().unwrap();
    let secret = key["AccessKey"]["SecretAccessKey"].as_str().unwrap();
    let mut b = Browser::new(&server);
    let (status, _, _) = Browser::new(&server).sign_in(id, "not-the-secret").await;
    assert_ne!(status, 303, "a wrong secret does not sign in");
    let (status, _, _) = b.sign_in(id, secret).await;
    assert_eq!(status, 303, "an IAM user signs in with its keys");
    // As in AWS's records: an IAM user's successful sign-in has no accessKeyId, a failed
    // one an empty one.
    let logins = lookup(&server, "EventName", "ConsoleLogin").await;
    let by_outcome = |o: &str| {
        logins
            .iter()
            .find(|r| r["responseElements"]["ConsoleLogin"] == o)
            .unwrap()["userIdentity"]
            .clone()
    };
    assert_eq!(by_outcome("Success")["userName"], "carol");
    assert!(by_outcome("Success").get("accessKeyId").is_none());
    assert_eq!(by_outcome("Failure")["accessKeyId"], "");
    let (status, _, body) = b.get("/console/trails").await;
    assert_eq!(status, 200);
    assert!(body.contains("AccessDeniedException"), "{body}");
    assert!(body.contains("user/carol"));
    let csrf = b.csrf.clone();
    let form = [
        ("csrf", csrf.as_str()),
        ("step", "3"),
        ("go", "create"),
        ("name", "denied"),
        ("storage", "existing"),
        ("existing_bucket", "any-bucket"),
    ];
    let (status, _, body) = b.post("/console/trails/create", &form).await;
    assert_eq!(status, 403, "a denial");
    assert!(body.contains("id=\"wizard-error\""), "shown on the wizard");
    assert!(
        body.contains("is not authorized to perform: cloudtrail:CreateTrail"),
        "{body}"
    );
    // The denied console call is recorded as the user's, from the console.
    let req = sign_json(
        &server.addr,
        "us-east-1",
        ACCESS_KEY,
        SECRET,
        "LookupEvents",
        serde_json::to_vec(
            &json!({"LookupAttributes": [{"AttributeKey": "Username", "AttributeValue": "carol"}]}),
        )
        .unwrap(),
        chrono::Utc::now(),
    );
    let (_, page) = server.send_json(req).await;
    let denied: Vec<Value> = page["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .filter(|r: &Value| r["eventName"] == "CreateTrail")
        .collect();
    assert_eq!(denied[0]["errorCode"], "AccessDenied");
    assert_eq!(denied[0]["sessionCredentialFromConsole"], "true");
}

/// An IAM Query call signed by root.
pub(crate) async fn iam(server: &Server, form: &[(&str, &str)]) -> String {
    let mut all = vec![("Version", "2010-05-08")];
    all.extend_from_slice(form);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all)
        .finish();
    let req = crate::harness::sign(
        &server.addr,
        "us-east-1",
        "iam",
        ACCESS_KEY,
        SECRET,
        "POST",
        "/",
        vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        )],
        body.into_bytes(),
        chrono::Utc::now(),
    );
    let (status, _, body) = server.send(req).await;
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

pub(crate) fn xml_member(xml: &str, name: &str) -> String {
    let open = format!("<{name}>");
    let start = xml.find(&open).unwrap() + open.len();
    xml[start..].split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_read_only_user_sees_trails_and_events_but_cannot_create() {
    let server = Server::start();
    server.bucket_for_trails("ro-bucket").await;
    let (status, body) = server
        .ct(
            "CreateTrail",
            json!({"Name": "seen-trail", "S3BucketName": "ro-bucket"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    iam(&server, &[("Action", "CreateUser"), ("UserName", "reader")]).await;
    iam(
        &server,
        &[
            ("Action", "AttachUserPolicy"),
            ("UserName", "reader"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess",
            ),
        ],
    )
    .await;
    let key = iam(
        &server,
        &[("Action", "CreateAccessKey"), ("UserName", "reader")],
    )
    .await;
    let (id, secret) = (
        xml_member(&key, "AccessKeyId"),
        xml_member(&key, "SecretAccessKey"),
    );
    let mut b = Browser::new(&server);
    let (status, _, _) = b.sign_in(&id, &secret).await;
    assert_eq!(status, 303);
    let (_, _, body) = b.get("/console/trails").await;
    assert!(body.contains("seen-trail"), "{body}");
    assert!(!body.contains("AccessDenied"), "{body}");
    let (_, _, body) = b.get("/console/events").await;
    assert!(body.contains("CreateTrail"), "{body}");
    assert!(!body.contains("AccessDenied"));
    let (_, _, body) = b.get("/console/trails/seen-trail").await;
    assert!(body.contains("ro-bucket"));
    let csrf = b.csrf.clone();
    let form = [
        ("csrf", csrf.as_str()),
        ("step", "3"),
        ("go", "create"),
        ("name", "not-allowed"),
        ("storage", "existing"),
        ("existing_bucket", "ro-bucket"),
    ];
    let (status, _, body) = b.post("/console/trails/create", &form).await;
    assert_eq!(status, 403, "a denial");
    assert!(body.contains("id=\"wizard-error\""));
    assert!(
        body.contains("AccessDeniedException: User: arn:aws:iam::123456789012:user/reader is not authorized to perform: cloudtrail:CreateTrail"),
        "{body}"
    );
}

/// An STS Query call signed with `key`/`secret`.
async fn sts(server: &Server, key: &str, secret: &str, form: &[(&str, &str)]) -> String {
    let mut all = vec![("Version", "2011-06-15")];
    all.extend_from_slice(form);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(all)
        .finish();
    let req = crate::harness::sign(
        &server.addr,
        "us-east-1",
        "sts",
        key,
        secret,
        "POST",
        "/",
        vec![(
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        )],
        body.into_bytes(),
        chrono::Utc::now(),
    );
    let (status, _, body) = server.send(req).await;
    let body = String::from_utf8(body).unwrap();
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn assumed_role_keys_sign_in_with_their_session_token() {
    let server = Server::start();
    server.bucket_for_trails("role-bucket").await;
    let (status, body) = server
        .ct(
            "CreateTrail",
            json!({"Name": "role-trail", "S3BucketName": "role-bucket"}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    iam(&server, &[("Action", "CreateUser"), ("UserName", "dev")]).await;
    let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#;
    iam(
        &server,
        &[
            ("Action", "PutUserPolicy"),
            ("UserName", "dev"),
            ("PolicyName", "assume"),
            ("PolicyDocument", allow),
        ],
    )
    .await;
    let key = iam(
        &server,
        &[("Action", "CreateAccessKey"), ("UserName", "dev")],
    )
    .await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/dev"},"Action":"sts:AssumeRole"}]}"#;
    iam(
        &server,
        &[
            ("Action", "CreateRole"),
            ("RoleName", "auditor"),
            ("AssumeRolePolicyDocument", trust),
        ],
    )
    .await;
    iam(
        &server,
        &[
            ("Action", "AttachRolePolicy"),
            ("RoleName", "auditor"),
            (
                "PolicyArn",
                "arn:aws:iam::aws:policy/AWSCloudTrail_ReadOnlyAccess",
            ),
        ],
    )
    .await;
    let assumed = sts(
        &server,
        &xml_member(&key, "AccessKeyId"),
        &xml_member(&key, "SecretAccessKey"),
        &[
            ("Action", "AssumeRole"),
            ("RoleArn", "arn:aws:iam::123456789012:role/auditor"),
            ("RoleSessionName", "console-s"),
        ],
    )
    .await;
    let (id, secret, token) = (
        xml_member(&assumed, "AccessKeyId"),
        xml_member(&assumed, "SecretAccessKey"),
        xml_member(&assumed, "SessionToken"),
    );
    assert!(id.starts_with("ASIA"), "{id}");

    let mut b = Browser::new(&server);
    // Without its token, or with another, a temporary key does not sign in.
    for t in ["", "bm90LWEtdG9rZW4="] {
        b.get("/console/signin").await;
        let csrf = b.csrf.clone();
        let form = [
            ("csrf", csrf.as_str()),
            ("access_key_id", id.as_str()),
            ("secret_access_key", secret.as_str()),
            ("session_token", t),
            ("region", "us-east-1"),
        ];
        let (status, _, body) = b.post("/console/signin", &form).await;
        assert_eq!(status, 200);
        assert!(body.contains("not valid"), "{body}");
    }
    b.get("/console/signin").await;
    let csrf = b.csrf.clone();
    let form = [
        ("csrf", csrf.as_str()),
        ("access_key_id", id.as_str()),
        ("secret_access_key", secret.as_str()),
        ("session_token", token.as_str()),
        ("region", "us-east-1"),
    ];
    let (status, headers, body) = b.post("/console/signin", &form).await;
    assert_eq!(status, 303, "{body}");
    let cookie = headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("cairn_console="))
        .expect("session cookie");
    let max_age: i64 = cookie
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (1..=3600).contains(&max_age),
        "the session ends with the role's credentials: {cookie}"
    );
    let (status, _, body) = b.get("/console/trails").await;
    assert_eq!(status, 200);
    assert!(body.contains("role-trail"), "{body}");
    assert!(body.contains("assumed-role/auditor/console-s"), "{body}");
    assert!(!body.contains("AccessDenied"), "{body}");

    let logins = lookup(&server, "EventName", "ConsoleLogin").await;
    let ok: Vec<&Value> = logins
        .iter()
        .filter(|r| r["responseElements"]["ConsoleLogin"] == "Success")
        .collect();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["userIdentity"]["type"], "AssumedRole");
    assert_eq!(
        ok[0]["userIdentity"]["arn"],
        "arn:aws:sts::123456789012:assumed-role/auditor/console-s"
    );
    assert_eq!(logins.len(), 3, "both refused attempts are recorded too");
    // The console's calls are the role session's.
    let listed = lookup(&server, "EventName", "DescribeTrails").await;
    let console: Vec<&Value> = listed
        .iter()
        .filter(|r| r["sessionCredentialFromConsole"] == "true")
        .collect();
    assert!(!console.is_empty(), "{listed:?}");
    assert_eq!(console[0]["userIdentity"]["type"], "AssumedRole");
}

/// The `href` of the element with `id`, unescaped.
fn href_of(html: &str, id: &str) -> Option<String> {
    let marker = format!("id=\"{id}\" href=\"");
    let start = html.find(&marker)? + marker.len();
    let raw = html[start..].split('"').next()?;
    Some(
        raw.replace("&#38;", "&")
            .replace("&amp;", "&")
            .replace("&#43;", "+")
            .replace("&#61;", "="),
    )
}

#[tokio::test]
async fn event_history_pages_with_next_token_and_keeps_its_time_range() {
    let server = Server::start();
    for i in 0..60 {
        let (status, _) = server
            .ct("DeleteTrail", json!({"Name": format!("missing-{i}")}))
            .await;
        assert_eq!(status, 400);
    }
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let rows = |body: &str| body.matches("class=\"event-link\"").count();
    let (status, _, body) = b
        .get("/console/events?attr=EventName&value=DeleteTrail")
        .await;
    assert_eq!(status, 200);
    assert_eq!(rows(&body), 50, "a full first page");
    let next = href_of(&body, "next-page").expect("a Next page link");
    assert!(next.contains("token="), "{next}");
    let (status, _, body) = b.get(&next).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(rows(&body), 10, "the rest on the second page ({next})");
    assert!(href_of(&body, "next-page").is_none(), "no third page");
    // A custom range that ends before the calls finds none of them.
    let (status, _, body) = b
        .get("/console/events?attr=EventName&value=DeleteTrail&range=custom&start=2020-01-01T00%3A00%3A00&end=2020-01-02T00%3A00%3A00")
        .await;
    assert_eq!(status, 200);
    assert_eq!(rows(&body), 0, "{body}");
    assert!(body.contains("No events match the filter."));
}

/// The console adds `sessionCredentialFromConsole` to its calls' records and leaves
/// `requestID` out of ConsoleLogin: the records the event chain covers are the ones stored.
#[tokio::test]
async fn console_sign_ins_and_calls_keep_the_event_chain_intact() {
    let server = Server::start();
    assert_eq!(server.ct("DescribeTrails", json!({})).await.0, 200);
    let mut browser = Browser::new(&server);
    browser.sign_in(ACCESS_KEY, "not-the-secret").await;
    assert_eq!(browser.sign_in(ACCESS_KEY, SECRET).await.0, 303);
    assert_eq!(browser.get("/console/").await.0, 200);
    assert_eq!(browser.get("/console/trails").await.0, 200);
    let out = crate::events_log::cairn(&[
        "verify-store",
        "--data-dir",
        server.data_dir().to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Chain intact"), "{text}");
}
