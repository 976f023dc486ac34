//! CloudTrail Insights against a week of history made through the public API: the server
//! runs on a test clock (`--clock-file`), the test makes background calls spread over eight
//! days, signed at the clock's time, then bursts; the Insights events carry the baseline that
//! week defines (spec monitoring.md §7.2: the window starts at UTC midnight seven days before
//! the burst's day, and the mean counts the quiet minutes).

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{ACCESS_KEY, SECRET, Server, sign_json};
use crate::insights::insights_run;

const DAY: i64 = 86_400;

/// Sets the server's clock and makes one CloudTrail call signed at that time.
async fn call_at(
    server: &Server,
    clock: &Path,
    at: i64,
    key: (&str, &str),
    op: &str,
    body: Value,
) -> (u16, Value) {
    std::fs::write(clock, at.to_string()).unwrap();
    let when = chrono::DateTime::from_timestamp(at, 0).unwrap();
    let req = sign_json(
        &server.addr,
        "us-east-1",
        key.0,
        key.1,
        op,
        body.to_string().into_bytes(),
        when,
    );
    server.send_json(req).await
}

fn round10(x: f64) -> f64 {
    (x * 1e10).round() / 1e10
}

#[tokio::test]
async fn a_week_of_background_calls_sets_the_baseline_of_the_insights() {
    let clock_dir = tempfile::tempdir().unwrap();
    let clock = clock_dir.path().join("clock");
    let server = Server::start_with(&[
        "--insights-warm-up",
        "0",
        "--delivery-interval",
        "86400",
        "--clock-file",
        clock.to_str().unwrap(),
    ]);
    // S3 keeps the system clock: the bucket is made before the clock file exists.
    server.bucket_for_trails("baseline-bucket").await;
    let user = server.admin_iam(&["create-user", "mallory"]);
    assert_eq!(user["User"]["UserName"], "mallory");
    let made = server.admin_iam(&["create-access-key", "mallory"]);
    let mallory = (
        made["AccessKey"]["AccessKeyId"]
            .as_str()
            .unwrap()
            .to_owned(),
        made["AccessKey"]["SecretAccessKey"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let root = (ACCESS_KEY, SECRET);

    // Day 0 starts at a UTC midnight nine days back; the trail is made a minute after it.
    let now = chrono::Utc::now().timestamp();
    let day0 = now - now.rem_euclid(DAY) - 9 * DAY;
    let arn = "arn:aws:cloudtrail:us-east-1:123456789012:trail/baseline";
    for (op, body) in [
        (
            "CreateTrail",
            json!({"Name": "baseline", "S3BucketName": "baseline-bucket"}),
        ),
        ("StartLogging", json!({"Name": "baseline"})),
        (
            "PutInsightSelectors",
            json!({"TrailName": "baseline", "InsightSelectors": [
                {"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}]}),
        ),
    ] {
        assert_eq!(
            call_at(&server, &clock, day0 + 60, root, op, body).await.0,
            200,
            "{op}"
        );
    }

    // Background: at 02:00, 08:00, 14:00 and 20:00 each day, one AddTags, and half an hour
    // later one ListTrails that mallory may not make; up to the burst at 10:00 on day 8.
    let burst = day0 + 8 * DAY + 10 * 3600;
    let mut in_window = 0;
    for day in 0..=8 {
        for hour in [2, 8, 14, 20] {
            let at = day0 + day * DAY + hour * 3600;
            if at >= burst {
                continue;
            }
            let tag = json!({"ResourceId": arn, "TagsList": [{"Key": format!("d{day}h{hour}"), "Value": "v"}]});
            assert_eq!(
                call_at(&server, &clock, at, root, "AddTags", tag).await.0,
                200
            );
            let denied = call_at(
                &server,
                &clock,
                at + 1800,
                (&mallory.0, &mallory.1),
                "ListTrails",
                json!({}),
            )
            .await;
            assert_eq!(denied.0, 400);
            // The baseline window of a burst on day 8 starts at midnight of day 1.
            if day >= 1 {
                in_window += 1;
            }
        }
    }
    assert_eq!(in_window, 30);

    // The bursts: twelve of each in the minute of 10:00 on day 8.
    for i in 0..12 {
        let tag =
            json!({"ResourceId": arn, "TagsList": [{"Key": format!("burst{i}"), "Value": "v"}]});
        assert_eq!(
            call_at(&server, &clock, burst + 5, root, "AddTags", tag)
                .await
                .0,
            200
        );
        let denied = call_at(
            &server,
            &clock,
            burst + 10,
            (&mallory.0, &mallory.1),
            "ListTrails",
            json!({}),
        )
        .await;
        assert_eq!(denied.0, 400);
    }

    let report = insights_run(&server, burst + 1800);
    assert_eq!(report["Written"], 4, "{report}");
    let (status, page) = call_at(
        &server,
        &clock,
        burst + 1800,
        root,
        "LookupEvents",
        json!({"EventCategory": "insight", "StartTime": burst - 60, "EndTime": burst + 1800}),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let records: Vec<Value> = page["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["CloudTrailEvent"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(records.len(), 4, "{records:#?}");

    // D = 10080 + the burst's minute of the day (600); 30 calls of each kind fell inside.
    let duration = 10_080 + 600;
    let mean = round10(30.0 / duration as f64);
    for r in &records {
        let d = &r["insightDetails"];
        let stats = &d["insightContext"]["statistics"];
        assert_eq!(stats["baselineDuration"], duration, "{r}");
        assert_eq!(stats["baseline"]["average"].as_f64().unwrap(), mean, "{r}");
        if d["state"] == "Start" {
            assert_eq!(
                r["eventTime"],
                chrono::DateTime::from_timestamp(burst, 0)
                    .unwrap()
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string()
            );
            assert_eq!(stats["insight"]["average"].as_f64().unwrap(), 12.0, "{r}");
        }
        // The baseline's attribution: one identity made every background call of its kind.
        let who = d["insightContext"]["attributions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["attribute"] == "userIdentityArn")
            .unwrap();
        let baseline = who["baseline"].as_array().unwrap();
        assert_eq!(baseline.len(), 1, "{who}");
        assert_eq!(baseline[0]["average"].as_f64().unwrap(), mean, "{who}");
        let expected = if d["insightType"] == "ApiErrorRateInsight" {
            "arn:aws:iam::123456789012:user/mallory"
        } else {
            "arn:aws:iam::123456789012:root"
        };
        assert_eq!(baseline[0]["value"], expected, "{who}");
    }
}
