//! Console forms never save less than they say, nor over what changed since they were
//! shown (console3): S3 data events with neither Read nor Write, or with no bucket, are
//! refused; the selector editor refuses a save when Insights changed meanwhile, and Edit when
//! the trail's settings did; Edit checks only what the form changes, so a user with
//! CloudTrail permissions alone can edit a trail that has an SNS topic.

use serde_json::json;

use crate::console::Browser;
use crate::console_actions::act;
use crate::console_fixes::user_with;
use crate::harness::{ACCESS_KEY, SECRET, Server};

async fn trail(server: &Server, name: &str) {
    server.bucket_for_trails("stale-logs").await;
    let (s, out) = server
        .ct(
            "CreateTrail",
            json!({"Name": name, "S3BucketName": "stale-logs"}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
}

/// A topic `name` whose policy lets CloudTrail publish to it; its ARN.
async fn topic_for_trails(server: &Server, name: &str) -> String {
    let (s, body) = server
        .query(
            "sns",
            &format!("Action=CreateTopic&Name={name}&Version=2010-03-31"),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let topic = format!("arn:aws:sns:us-east-1:123456789012:{name}");
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "SNS:Publish",
        "Resource": topic}]})
    .to_string();
    let params = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "SetTopicAttributes")
        .append_pair("TopicArn", &topic)
        .append_pair("AttributeName", "Policy")
        .append_pair("AttributeValue", &policy)
        .append_pair("Version", "2010-03-31")
        .finish();
    let (s, body) = server.query("sns", &params).await;
    assert_eq!(s, 200, "{body}");
    topic
}

/// The value of the hidden input `name` on `page`.
fn hidden(page: &str, name: &str) -> String {
    let at = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&at)
        .unwrap_or_else(|| panic!("no {name}: {page}"))
        + at.len();
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn data_events_the_selectors_would_drop_are_refused() {
    let server = Server::start();
    trail(&server, "drops").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    b.get("/console/trails/drops").await;
    let mgmt = [("management", "on"), ("read", "on"), ("write", "on")];
    let cases: [(&[(&str, &str)], &str); 2] = [
        (
            &[
                ("s3_data", "on"),
                ("s3_scope", "some"),
                ("s3_buckets", "stale-logs"),
            ],
            "S3 data events need Read, Write, or both",
        ),
        (
            &[
                ("s3_data", "on"),
                ("s3_scope", "some"),
                ("s3_buckets", " "),
                ("s3_read", "on"),
            ],
            "Enter at least one S3 bucket",
        ),
    ];
    for (data, why) in cases {
        let mut fields = mgmt.to_vec();
        fields.extend_from_slice(data);
        let (status, _, page) = act(&mut b, "/console/trails/drops/selectors", &fields).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains(why), "{why}: {page}");
    }
    let (_, out) = server
        .ct("GetEventSelectors", json!({"TrailName": "drops"}))
        .await;
    assert_eq!(
        out["EventSelectors"][0]["DataResources"],
        json!([]),
        "{out}"
    );
}

#[tokio::test]
async fn a_selector_editor_shown_before_insights_changed_does_not_turn_them_off() {
    let server = Server::start();
    trail(&server, "insightful").await;
    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, page) = b.get("/console/trails/insightful").await;
    let version = hidden(&page, "selectors_version");
    // Another admin turns Insights on while the page is open.
    let (s, out) = server
        .ct(
            "PutInsightSelectors",
            json!({"TrailName": "insightful", "InsightSelectors": [{"InsightType": "ApiErrorRateInsight"}]}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let fields = [
        ("selectors_version", version.as_str()),
        ("management", "on"),
        ("read", "on"),
        ("write", "on"),
        ("insights_shown", "1"),
    ];
    let (status, _, page) = act(&mut b, "/console/trails/insightful/selectors", &fields).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("changed since this page was shown"), "{page}");
    let (_, out) = server
        .ct("GetInsightSelectors", json!({"TrailName": "insightful"}))
        .await;
    assert_eq!(
        out["InsightSelectors"][0]["InsightType"], "ApiErrorRateInsight",
        "{out}"
    );
}

#[tokio::test]
async fn a_stale_edit_form_is_refused_and_unchanged_resources_are_not_checked_again() {
    let server = Server::start();
    trail(&server, "shared").await;
    let topic = topic_for_trails(&server, "trail-news").await;
    let topic = topic.as_str();

    let mut b = Browser::new(&server);
    b.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, page) = b.get("/console/trails/shared/edit").await;
    let version = hidden(&page, "trail_version");
    // Another admin adds the topic while the form is open: the stale form is refused (409)
    // and the topic stays.
    let (s, out) = server
        .ct(
            "UpdateTrail",
            json!({"Name": "shared", "SnsTopicName": topic, "EnableLogFileValidation": true}),
        )
        .await;
    assert_eq!(s, 200, "{out}");
    let stale = [
        ("trail_version", version.as_str()),
        ("storage", "existing"),
        ("existing_bucket", "stale-logs"),
        ("validation_seen", "1"),
    ];
    let (status, _, page) = act(&mut b, "/console/trails/shared/edit", &stale).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("changed since this page was shown"), "{page}");
    let (_, t) = server.ct("GetTrail", json!({"Name": "shared"})).await;
    assert_eq!(t["Trail"]["SnsTopicARN"], topic, "{t}");
    assert_eq!(t["Trail"]["LogFileValidationEnabled"], true, "{t}");

    // A user who may only use CloudTrail toggles log file validation on the trail with its
    // topic: the topic it keeps is not read again with the user's permissions.
    let cloudtrail_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:*","Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "ctonly", cloudtrail_only).await;
    let mut u = Browser::new(&server);
    assert_eq!(u.sign_in(&id, &secret).await.0, 303);
    let (_, _, page) = u.get("/console/trails/shared/edit").await;
    let version = hidden(&page, "trail_version");
    let fields = [
        ("trail_version", version.as_str()),
        ("storage", "existing"),
        ("existing_bucket", "stale-logs"),
        ("validation_seen", "1"),
        ("sns", "on"),
        ("sns_topic", topic),
    ];
    let (status, location, page) = act(&mut u, "/console/trails/shared/edit", &fields).await;
    assert_eq!(status, 303, "{page}");
    assert!(location.contains("done=updated"), "{location}");
    let (_, t) = server.ct("GetTrail", json!({"Name": "shared"})).await;
    assert_eq!(t["Trail"]["LogFileValidationEnabled"], false, "{t}");
    assert_eq!(t["Trail"]["SnsTopicARN"], topic, "{t}");

    // console5: the same user picks another existing topic, as the CLI lets them; the
    // console's existence check, which they may not make, no longer blocks the save.
    let second = topic_for_trails(&server, "trail-news-2").await;
    let second = second.as_str();
    let (_, _, page) = u.get("/console/trails/shared/edit").await;
    let version = hidden(&page, "trail_version");
    let fields = [
        ("trail_version", version.as_str()),
        ("storage", "existing"),
        ("existing_bucket", "stale-logs"),
        ("validation_seen", "1"),
        ("sns", "on"),
        ("sns_topic", "trail-news-2"),
    ];
    let (status, _, page) = act(&mut u, "/console/trails/shared/edit", &fields).await;
    assert_eq!(status, 303, "{page}");
    let (_, t) = server.ct("GetTrail", json!({"Name": "shared"})).await;
    assert_eq!(t["Trail"]["SnsTopicARN"], second, "{t}");
}

/// Before (console3 #6), a `cairn_console` cookie planted ahead of the session's (by any
/// application on the same host, with a longer `Path`) locked the browser out: only the
/// first was read.
#[tokio::test]
async fn a_planted_session_cookie_does_not_lock_the_user_out() {
    let server = Server::start();
    let mut b = Browser::new(&server);
    assert_eq!(b.sign_in(ACCESS_KEY, SECRET).await.0, 303);
    b.cookies
        .insert(0, ("cairn_console".to_owned(), "0".repeat(64)));
    let (status, _, page) = b.get("/console/trails").await;
    assert_eq!(status, 200, "{page}");
    assert!(!page.contains("class=\"signin\""), "{page}");
}

/// Before (recheck23b F1), Edit resent a CloudWatch Logs role it kept, so UpdateTrail asked
/// for `iam:PassRole`: a user with only `cloudtrail:*` could not toggle log file validation
/// on a trail with CloudWatch Logs, though the CLI could.
#[tokio::test]
async fn an_unchanged_cloudwatch_logs_role_is_not_passed_again() {
    let server = Server::start();
    trail(&server, "watched").await;
    let mut root = Browser::new(&server);
    root.sign_in(ACCESS_KEY, SECRET).await;
    let (_, _, page) = root.get("/console/trails/watched/edit").await;
    let version = hidden(&page, "trail_version");
    let with_logs = [
        ("trail_version", version.as_str()),
        ("storage", "existing"),
        ("existing_bucket", "stale-logs"),
        ("validation_seen", "1"),
        ("validation", "on"),
        ("cloudwatch", "on"),
        ("cwl_group_mode", "new"),
        ("cwl_group", "watched-group"),
        ("cwl_role_mode", "new"),
        ("cwl_role", "WatchedRole"),
    ];
    let (status, _, page) = act(&mut root, "/console/trails/watched/edit", &with_logs).await;
    assert_eq!(status, 303, "{page}");

    let cloudtrail_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:*","Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "ctlogs", cloudtrail_only).await;
    let mut u = Browser::new(&server);
    assert_eq!(u.sign_in(&id, &secret).await.0, 303);
    let (_, _, page) = u.get("/console/trails/watched/edit").await;
    let version = hidden(&page, "trail_version");
    let role = "arn:aws:iam::123456789012:role/WatchedRole";
    let toggle = [
        ("trail_version", version.as_str()),
        ("storage", "existing"),
        ("existing_bucket", "stale-logs"),
        ("validation_seen", "1"),
        ("cloudwatch", "on"),
        ("cwl_group_mode", "existing"),
        ("cwl_group", "watched-group"),
        ("cwl_role_mode", "existing"),
        ("cwl_role", role),
    ];
    let (status, _, page) = act(&mut u, "/console/trails/watched/edit", &toggle).await;
    assert_eq!(status, 303, "{page}");
    let (_, t) = server.ct("GetTrail", json!({"Name": "watched"})).await;
    assert_eq!(t["Trail"]["LogFileValidationEnabled"], false, "{t}");
    assert_eq!(t["Trail"]["CloudWatchLogsRoleArn"], role, "{t}");
}

/// Before (recheck23b F2), a save whose PutInsightSelectors was denied left the event
/// selectors it had already changed.
#[tokio::test]
async fn a_save_whose_insights_are_denied_changes_nothing() {
    let server = Server::start();
    trail(&server, "halfway").await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:*","Resource":"*"},{"Effect":"Deny","Action":"cloudtrail:PutInsightSelectors","Resource":"*"}]}"#;
    let (id, secret) = user_with(&server, "noinsights", policy).await;
    let mut u = Browser::new(&server);
    assert_eq!(u.sign_in(&id, &secret).await.0, 303);
    let (_, _, page) = u.get("/console/trails/halfway").await;
    let version = hidden(&page, "selectors_version");
    let fields = [
        ("selectors_version", version.as_str()),
        ("management", "on"),
        ("read", "on"),
        ("insights_shown", "1"),
        ("insights_error_rate", "on"),
    ];
    let (status, _, page) = act(&mut u, "/console/trails/halfway/selectors", &fields).await;
    assert_eq!(status, 403, "{page}");
    let (_, out) = server
        .ct("GetEventSelectors", json!({"TrailName": "halfway"}))
        .await;
    assert_eq!(out["EventSelectors"][0]["ReadWriteType"], "All", "{out}");
}

/// console5: two admins saving the same trail's selectors at once, from pages showing the
/// same selectors, were both told "saved" while the second overwrote the first. Saves are
/// served one after the other, so the second finds the selectors changed and gets 409.
#[tokio::test]
async fn two_selector_saves_at_once_save_one_and_refuse_the_other() {
    let server = Server::start();
    trail(&server, "raced").await;
    for round in 0..5 {
        let buckets = [format!("raced-a{round}"), format!("raced-b{round}")];
        for bucket in &buckets {
            let (s, out) = server.s3("PUT", &format!("/{bucket}"), b"").await;
            assert_eq!(s, 200, "{out}");
        }
        let mut a = Browser::new(&server);
        let mut b = Browser::new(&server);
        a.sign_in(ACCESS_KEY, SECRET).await;
        b.sign_in(ACCESS_KEY, SECRET).await;
        let (_, _, page) = a.get("/console/trails/raced").await;
        let version = hidden(&page, "selectors_version");
        b.get("/console/trails/raced").await;
        let form = |bucket: &str| -> Vec<(String, String)> {
            [
                ("selectors_version", version.as_str()),
                ("management", "on"),
                ("read", "on"),
                ("write", "on"),
                ("s3_data", "on"),
                ("s3_scope", "some"),
                ("s3_buckets", bucket),
                ("s3_read", "on"),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
        };
        let (fa, fb) = (form(&buckets[0]), form(&buckets[1]));
        let ra: Vec<(&str, &str)> = fa.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let rb: Vec<(&str, &str)> = fb.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (first, second) = tokio::join!(
            act(&mut a, "/console/trails/raced/selectors", &ra),
            act(&mut b, "/console/trails/raced/selectors", &rb)
        );
        let mut statuses = [first.0, second.0];
        statuses.sort_unstable();
        assert_eq!(statuses, [303, 409], "round {round}");
        // What was saved is what the saved one asked for.
        let (_, out) = server
            .ct("GetEventSelectors", json!({"TrailName": "raced"}))
            .await;
        let saved = out["EventSelectors"].to_string();
        let (winner, loser) = match first.0 {
            303 => (&buckets[0], &buckets[1]),
            _ => (&buckets[1], &buckets[0]),
        };
        assert!(
            saved.contains(&format!(":::{winner}/")) && !saved.contains(&format!(":::{loser}/")),
            "{saved}"
        );
    }
}
