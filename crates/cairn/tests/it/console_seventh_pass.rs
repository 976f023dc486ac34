//! Console fixes found by outside tester console7: a cookie of another application whose
//! value is not ASCII no longer hides the console's own cookies (it locked the user out: every
//! sign-in "expired", every session was sent back to sign-in); an edit that keeps the trail's
//! bucket does not look at it again (a HeadBucket refused for want of `s3:ListBucket` was
//! recorded as an `AccessDenied` at every save, tripping the CIS unauthorized-call alarm).

use serde_json::json;

use crate::console::{Browser, lookup};
use crate::console_actions::act;
use crate::harness::{ACCESS_KEY, SECRET, Server};

#[tokio::test]
async fn a_foreign_cookie_that_is_not_ascii_locks_no_one_out() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    // Another application on this host (browsers share cookies across ports) set it.
    b.cookies.push(("lang".into(), "français".into()));
    let (status, headers, page) = b.sign_in(ACCESS_KEY, SECRET).await;
    assert_eq!(status, 303, "{page}");
    assert_eq!(headers["location"], "/console/", "{page}");
    let (status, _, page) = b.get("/console/trails").await;
    assert_eq!(status, 200, "{page}");
    // Set after sign-in, and before the session cookie, it hides nothing either.
    b.cookies.insert(0, ("z".into(), "é".into()));
    let (status, _, _) = b.get("/console/trails").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn an_edit_keeping_the_bucket_does_not_check_it_again() {
    let server = Server::start();
    server.bucket_for_trails("kept-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "kept", "S3BucketName": "kept-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    // CloudTrail only, as AWSCloudTrail_FullAccess gives: no s3:ListBucket.
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"}]});
    let (key, secret) =
        crate::console_fixes::user_with(&server, "ct-admin", &policy.to_string()).await;
    let mut b = Browser::new(&server);
    b.sign_in(&key, &secret).await;
    b.get("/console/trails/kept/edit").await;
    let (status, location, page) = act(
        &mut b,
        "/console/trails/kept/edit",
        &[
            ("storage", "existing"),
            ("existing_bucket", "kept-logs"),
            ("validation_seen", "1"),
            ("validation", "on"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    assert!(location.starts_with("/console/trails/kept?done=updated"));
    let (_, t) = server.ct("GetTrail", json!({"Name": "kept"})).await;
    assert_eq!(t["Trail"]["LogFileValidationEnabled"], true, "{t}");
    let refused: Vec<_> = lookup(&server, "Username", "ct-admin")
        .await
        .into_iter()
        .filter(|r| r.get("errorCode").is_some())
        .collect();
    assert!(refused.is_empty(), "refused calls recorded: {refused:?}");
    assert!(!lookup(&server, "EventName", "UpdateTrail").await.is_empty());
}

/// Saving only Insights in the selector editor sends no PutEventSelectors: a user allowed
/// PutInsightSelectors but denied PutEventSelectors was refused (and recorded as refused),
/// though the CLI lets them change Insights.
#[tokio::test]
async fn an_insights_only_save_does_not_rewrite_the_event_selectors() {
    let server = Server::start();
    server.bucket_for_trails("ins-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": "ins", "S3BucketName": "ins-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:PutEventSelectors", "Resource": "*"}]});
    let (key, secret) =
        crate::console_fixes::user_with(&server, "insights-only", &policy.to_string()).await;
    let mut b = Browser::new(&server);
    b.sign_in(&key, &secret).await;
    b.get("/console/trails/ins").await;
    let (status, location, page) = act(
        &mut b,
        "/console/trails/ins/selectors",
        &[
            ("management", "on"),
            ("read", "on"),
            ("write", "on"),
            ("insights_shown", "1"),
            ("insights_error_rate", "on"),
        ],
    )
    .await;
    assert_eq!(status, 303, "{page}");
    assert!(
        location.starts_with("/console/trails/ins?done=selectors"),
        "{location}"
    );
    let (_, now) = server
        .ct("GetInsightSelectors", json!({"TrailName": "ins"}))
        .await;
    assert_eq!(
        now["InsightSelectors"][0]["InsightType"], "ApiErrorRateInsight",
        "{now}"
    );
    assert!(
        lookup(&server, "EventName", "PutEventSelectors")
            .await
            .is_empty()
    );
    // A change of the event selectors themselves is still sent (and refused for this user).
    b.get("/console/trails/ins").await;
    let (status, _, _) = act(
        &mut b,
        "/console/trails/ins/selectors",
        &[("management", "on"), ("write", "on")],
    )
    .await;
    assert_eq!(status, 403);
}

/// A refused LookupEvents is shown as the refusal, with its status, never as "no events".
#[tokio::test]
async fn a_refused_lookup_is_not_shown_as_no_events() {
    let server = Server::start();
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "cloudtrail:LookupEvents", "Resource": "*"}]});
    let (key, secret) =
        crate::console_fixes::user_with(&server, "no-lookup", &policy.to_string()).await;
    let mut b = Browser::new(&server);
    b.sign_in(&key, &secret).await;
    for path in ["/console/events", "/console/timeline?name=anything"] {
        let (status, _, page) = b.get(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(page.contains("cloudtrail:LookupEvents"), "{path}: {page}");
        assert!(!page.contains("No event"), "{path}: {page}");
        assert!(!page.contains("Events <span"), "{path}: {page}");
    }
    let (status, _, page) = b.get("/console/").await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"recent-unknown\""), "{page}");
    assert!(!page.contains("Recent events shown"), "{page}");
}

/// At the region's five trails the wizard says so at step 1, before it makes a bucket, a key,
/// a log group or a role (it made them all, then CreateTrail refused, and a KMS key was left
/// pending deletion per attempt).
#[tokio::test]
async fn the_wizard_refuses_a_sixth_trail_at_step_one() {
    let server = Server::start();
    server.bucket_for_trails("five-logs").await;
    for n in 0..5 {
        let (s, out) = server
            .ct(
                "CreateTrail",
                json!({"Name": format!("trail-{n}"), "S3BucketName": "five-logs"}),
            )
            .await;
        assert_eq!(s, 200, "{out}");
    }
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/create").await;
    let (status, _, page) = act(
        &mut b,
        "/console/trails/create",
        &[
            ("step", "1"),
            ("go", "2"),
            ("name", "sixth"),
            ("storage", "new"),
            ("new_bucket", "sixth-logs"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("MaximumNumberOfTrailsExceededException"),
        "{page}"
    );
    let (s, _) = server.s3("HEAD", "/sixth-logs", b"").await;
    assert_eq!(s, 404, "no bucket was made");
}
