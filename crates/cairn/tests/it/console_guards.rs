//! The trail page's selectors, Insights and tags when they cannot be read, and the selector
//! editor's guards: what a user may not read is "Unknown" with the reason, never "Not
//! enabled" or "No tags"; the editor is not offered and a save is refused while the current
//! selectors are unknown; a save leaves Insights alone unless the form showed them; a save
//! that would log nothing at all is refused; failed sign-ins slow the next ones down.

use serde_json::{Value, json};

use crate::console::{Browser, lookup};
use crate::console_fixes::user_with;
use crate::harness::{ACCESS_KEY, SECRET, Server};

/// A trail `guarded` logging management events, S3 data events of `guarded-logs` and API
/// call rate Insights, tagged `team=blue`.
async fn guarded_trail(server: &Server) {
    server.bucket_for_trails("guarded-logs").await;
    let calls = [
        (
            "CreateTrail",
            json!({"Name": "guarded", "S3BucketName": "guarded-logs"}),
        ),
        (
            "PutEventSelectors",
            json!({"TrailName": "guarded", "EventSelectors": [{
                "ReadWriteType": "All", "IncludeManagementEvents": true,
                "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::guarded-logs/"]}]}]}),
        ),
        (
            "PutInsightSelectors",
            json!({"TrailName": "guarded", "InsightSelectors": [{"InsightType": "ApiCallRateInsight"}]}),
        ),
        (
            "AddTags",
            json!({"ResourceId": "arn:aws:cloudtrail:us-east-1:123456789012:trail/guarded", "TagsList": [{"Key": "team", "Value": "blue"}]}),
        ),
    ];
    for (op, body) in calls {
        let (s, out) = server.ct(op, body).await;
        assert_eq!(s, 200, "{op}: {out}");
    }
}

async fn event_selectors(server: &Server) -> Value {
    let (s, out) = server
        .ct("GetEventSelectors", json!({"TrailName": "guarded"}))
        .await;
    assert_eq!(s, 200, "{out}");
    out["EventSelectors"].clone()
}

async fn insight_types(server: &Server) -> Vec<String> {
    let (_, out) = server
        .ct("GetInsightSelectors", json!({"TrailName": "guarded"}))
        .await;
    out["InsightSelectors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| i["InsightType"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn insight_puts(server: &Server) -> usize {
    lookup(server, "EventName", "PutInsightSelectors")
        .await
        .len()
}

async fn save(b: &mut Browser, fields: &[(&str, &str)]) -> (u16, String, String) {
    crate::console_actions::act(b, "/console/trails/guarded/selectors", fields).await
}

#[tokio::test]
async fn selectors_insights_and_tags_that_cannot_be_read_are_unknown_and_not_saved_over() {
    let server = Server::start();
    guarded_trail(&server).await;
    let before = event_selectors(&server).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:*","Resource":"*"},{"Effect":"Deny","Action":["cloudtrail:GetEventSelectors","cloudtrail:GetInsightSelectors","cloudtrail:ListTags"],"Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "frank", policy).await;
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in(&id, &secret).await.0, 303);

    let (status, _, page) = b.get("/console/trails/guarded").await;
    assert_eq!(status, 200);
    for wrong in ["Not enabled", "No data events.", "No tags.", "(0)"] {
        assert!(!page.contains(wrong), "{wrong}: {page}");
    }
    for denied in [
        "cloudtrail:GetEventSelectors",
        "cloudtrail:GetInsightSelectors",
        "cloudtrail:ListTags",
    ] {
        assert!(page.contains(denied), "the reason names {denied}: {page}");
    }
    assert!(page.contains("Unknown (AccessDeniedException"), "{page}");
    assert!(page.contains("id=\"selectors-locked\""), "{page}");
    assert!(!page.contains("id=\"selectors-form\""), "no editor: {page}");

    // The blank form a browser would have posted is refused; nothing changes.
    let (status, _, page) = save(&mut b, &[("s3_scope", "all"), ("s3_buckets", "")]).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Event selectors not saved"), "{page}");
    assert_eq!(event_selectors(&server).await, before);
    assert_eq!(insight_types(&server).await, ["ApiCallRateInsight"]);
    for op in ["PutEventSelectors", "PutInsightSelectors"] {
        let calls = lookup(&server, "EventName", op).await;
        assert!(
            calls.iter().all(|r| r["userIdentity"]["type"] == "Root"),
            "{op} was not called by the console: {calls:?}"
        );
    }
}

#[tokio::test]
async fn saving_selectors_leaves_insights_alone_and_asks_before_logging_nothing() {
    let server = Server::start();
    guarded_trail(&server).await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, page) = b.get("/console/trails/guarded").await;
    assert!(
        page.contains("name=\"insights_shown\""),
        "the editor shows Insights: {page}"
    );
    let set_up = insight_puts(&server).await;

    // A form that does not carry Insights leaves them as they are.
    let mgmt = [("management", "on"), ("read", "on"), ("write", "on")];
    let (status, location, body) = save(&mut b, &mgmt).await;
    assert_eq!(status, 303, "{body}");
    assert!(location.contains("done=selectors"), "{location}");
    assert_eq!(insight_types(&server).await, ["ApiCallRateInsight"]);
    // Showing them unchanged calls nothing for them.
    let mut shown = mgmt.to_vec();
    shown.extend([("insights_shown", "1"), ("insights_call_rate", "on")]);
    assert_eq!(save(&mut b, &shown).await.0, 303);
    assert_eq!(insight_types(&server).await, ["ApiCallRateInsight"]);
    assert_eq!(
        insight_puts(&server).await,
        set_up,
        "no PutInsightSelectors"
    );
    // Unticked in a form that showed them: that is the user's choice.
    let mut off = mgmt.to_vec();
    off.push(("insights_shown", "1"));
    assert_eq!(save(&mut b, &off).await.0, 303);
    assert!(insight_types(&server).await.is_empty());

    // Management and data events both off: refused, as CloudTrail refuses such selectors,
    // and the selectors stay as they were.
    let nothing = [
        ("s3_scope", "all"),
        ("s3_buckets", ""),
        ("insights_shown", "1"),
    ];
    let (status, _, page) = save(&mut b, &nothing).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"selectors-error\""), "{page}");
    assert!(page.contains("would log no events at all"), "{page}");
    assert_eq!(
        event_selectors(&server).await[0]["IncludeManagementEvents"],
        true
    );
}

#[tokio::test]
async fn denied_and_missing_trails_answer_403_and_404_with_the_call_that_failed() {
    let server = Server::start();
    guarded_trail(&server).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:LookupEvents","Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "looker", policy).await;
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in(&id, &secret).await.0, 303);
    // A page the user may not read is a denial (it was a 404), naming GetTrail.
    let (status, _, page) = b.get("/console/trails/guarded").await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("cloudtrail:GetTrail"), "{page}");
    // Stop logging denied: 403, and the page says StopLogging was refused (it used to show
    // only the GetTrail denial of the page shown after it).
    let (status, _, page) =
        crate::console_actions::act(&mut b, "/console/trails/guarded/stop", &[]).await;
    assert_eq!(status, 403, "{page}");
    assert!(page.contains("cloudtrail:StopLogging"), "{page}");
    assert!(page.contains("cloudtrail:GetTrail"), "{page}");
    // The edit page too (it answered 404), and a refused action on a trail that does not
    // exist (the API answered AccessDenied: nothing is told of the trail).
    let (status, _, page) = b.get("/console/trails/guarded/edit").await;
    assert_eq!(status, 403, "{page}");
    let (status, _, page) =
        crate::console_actions::act(&mut b, "/console/trails/nosuch/stop", &[]).await;
    assert_eq!(status, 403, "{page}");
    let mut root = Browser::new(&server);
    root.sign_in(ACCESS_KEY, SECRET).await;
    for path in [
        "/console/trails/nosuch",
        "/console/trails/nosuch/logs",
        "/console/trails/nosuch/delete",
    ] {
        let (status, _, page) = root.get(path).await;
        assert_eq!(status, 404, "{path}: {page}");
        assert!(page.contains("TrailNotFoundException"), "{path}: {page}");
    }
}

/// Past five failed sign-ins, the next attempt waits: even the right secret is refused
/// (429) without being checked, and the refusal is recorded as a failed ConsoleLogin of the
/// key's owner.
#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled() {
    let server = Server::start();
    for _ in 0..5 {
        let (status, _, page) = Browser::new(&server).sign_in(ACCESS_KEY, "guess").await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("is not valid"), "{page}");
    }
    // Wrong guesses until the wait is at least 8 s, whatever the machine's speed: a guess made
    // after a wait ended is checked (and doubles the next wait); one made during it is
    // refused with 429 and the wait it has left.
    let mut checked = 0;
    let mut refused = 0;
    loop {
        let (status, _, page) = Browser::new(&server).sign_in(ACCESS_KEY, "guess").await;
        match status {
            200 => checked += 1,
            429 => {
                refused += 1;
                let left: i64 = page
                    .split("Wait ")
                    .nth(1)
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{page}"));
                if left >= 8 {
                    break;
                }
            }
            other => panic!("{other}: {page}"),
        }
        assert!(checked < 12, "the wait never grew");
    }
    // Even the right secret is refused, unchecked, during the wait.
    let (status, _, page) = Browser::new(&server).sign_in(ACCESS_KEY, SECRET).await;
    assert_eq!(status, 429, "{page}");
    assert!(page.contains("Too many failed sign-in attempts"), "{page}");
    // Attempts refused during a wait are recorded one a minute (console4: each one recorded
    // let an unauthenticated client flood the store): the first of them here.
    assert!(refused >= 1);
    let failures: Vec<_> = lookup(&server, "EventName", "ConsoleLogin")
        .await
        .into_iter()
        .filter(|r| r["responseElements"]["ConsoleLogin"] == "Failure")
        .collect();
    assert_eq!(failures.len(), 5 + checked + 1);
    // Each names the key's owner (root) as a failed authentication, the waiting one too, so
    // the CIS "console authentication failures" and root-usage filters count them all.
    for r in &failures {
        assert_eq!(r["userIdentity"]["type"], "Root", "{r}");
        assert_eq!(r["errorMessage"], "Failed authentication", "{r}");
    }
}

/// An IAM user's failed sign-in names the user without an `arn` and with an empty
/// `accessKeyId` (the CloudTrail user guide's failed sign-in example); the successful one
/// names its `arn` and no `accessKeyId`.
#[tokio::test]
async fn an_iam_users_failed_sign_in_names_no_arn() {
    let server = Server::start();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:Describe*","Resource":"*"}]}"#;
    let (key, secret) = user_with(&server, "christophe", policy).await;
    let (status, _, _) = Browser::new(&server).sign_in(&key, "guess").await;
    assert_eq!(status, 200);
    Browser::new(&server).sign_in(&key, &secret).await;
    let logins = lookup(&server, "EventName", "ConsoleLogin").await;
    let by = |outcome: &str| {
        logins
            .iter()
            .find(|r| r["responseElements"]["ConsoleLogin"] == outcome)
            .unwrap_or_else(|| panic!("no {outcome}"))["userIdentity"]
            .clone()
    };
    let failed = by("Failure");
    assert_eq!(failed["type"], "IAMUser");
    assert_eq!(failed["userName"], "christophe");
    assert_eq!(failed["accessKeyId"], "");
    assert!(failed.get("arn").is_none(), "{failed}");
    let ok = by("Success");
    assert_eq!(ok["arn"], "arn:aws:iam::123456789012:user/christophe");
    assert!(ok.get("accessKeyId").is_none(), "{ok}");
}

#[tokio::test]
async fn a_sign_in_page_opened_in_another_tab_leaves_the_first_ones_form_valid() {
    // Each load of the sign-in page replaced the browser's sign-in cookie, so the form of a
    // tab opened earlier failed with "The sign-in form expired".
    let server = Server::start();
    let mut b = Browser::new(&server);
    b.get("/console/signin").await;
    let first_tab = b.csrf.clone();
    b.get("/console/signin").await;
    let (status, _, page) = b
        .post(
            "/console/signin",
            &[
                ("csrf", first_tab.as_str()),
                ("access_key_id", ACCESS_KEY),
                ("secret_access_key", SECRET),
                ("region", "us-east-1"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{page}");
}
