//! CloudWatch metrics and alarms end to end: a metric filter on a log group turns PutLogEvents
//! into a metric, an alarm on it reaches ALARM when `cairn alarms run` steps the clock, and an
//! HTTP subscriber of the alarm's topic receives AWS's alarm message; a quiet period with
//! `notBreaching` returns it to OK. Also the Query protocol and its errors.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::Server;

fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).expect("read request");
        assert!(n > 0, "connection closed mid-request");
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map(|v| v.trim().parse().unwrap())
                .unwrap_or(0);
            while buf.len() < end + 4 + length {
                let n = stream.read(&mut chunk).expect("read body");
                assert!(n > 0, "connection closed mid-body");
                buf.extend_from_slice(&chunk[..n]);
            }
            return buf[end + 4..end + 4 + length].to_vec();
        }
    }
}

/// An HTTP endpoint that answers 200 to everything and passes each body on.
fn subscriber() -> (String, mpsc::Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut stream) = conn else { return };
            let body = read_request(&mut stream);
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                return;
            }
        }
    });
    (url, rx)
}

fn received(rx: &mpsc::Receiver<Value>) -> Value {
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the subscriber received a message")
}

async fn cw(server: &Server, op: &str, body: Value) -> (u16, Value, Option<String>) {
    let (status, headers, bytes) = server
        .post(
            "monitoring",
            vec![
                ("content-type".into(), "application/x-amz-json-1.0".into()),
                (
                    "x-amz-target".into(),
                    format!("GraniteServiceVersion20100801.{op}"),
                ),
            ],
            body.to_string().into_bytes(),
        )
        .await;
    let query_error = headers
        .get("x-amzn-query-error")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        serde_json::from_slice(&bytes).expect("JSON"),
        query_error,
    )
}

pub(crate) async fn cw_ok(server: &Server, op: &str, body: Value) -> Value {
    let (status, v, _) = cw(server, op, body).await;
    assert_eq!(status, 200, "{op}: {v}");
    v
}

async fn logs_ok(server: &Server, op: &str, body: Value) -> Value {
    let (status, _, bytes) = server
        .post(
            "logs",
            vec![
                ("content-type".into(), "application/x-amz-json-1.1".into()),
                ("x-amz-target".into(), format!("Logs_20140328.{op}")),
            ],
            body.to_string().into_bytes(),
        )
        .await;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert_eq!(status, 200, "{op}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

fn form(params: &[(&str, &str)]) -> Vec<u8> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

async fn query(server: &Server, service: &str, params: &[(&str, &str)]) -> (u16, String) {
    let (status, _, bytes) = server
        .post(
            service,
            vec![(
                "content-type".into(),
                "application/x-www-form-urlencoded; charset=utf-8".into(),
            )],
            form(params),
        )
        .await;
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    text.split(open)
        .nth(1)
        .unwrap()
        .split(close)
        .next()
        .unwrap()
}

/// `cairn alarms run --now <secs>` on the server's data dir (beside the running server).
fn alarms_run(server: &Server, now_secs: i64) -> Value {
    alarms_run_with(server, now_secs, &[])
}

/// [`alarms_run`] with more flags.
pub(crate) fn alarms_run_with(server: &Server, now_secs: i64, extra: &[&str]) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cairn"))
        .args(["alarms", "run", "--data-dir"])
        .arg(server.data_dir())
        .args(["--now", &now_secs.to_string()])
        .args(extra)
        .env("CAIRN_LOG", "warn")
        .output()
        .expect("run cairn alarms");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("alarms run prints JSON")
}

#[tokio::test]
async fn metric_filter_to_alarm_to_http_subscriber_and_back_to_ok() {
    // Evaluation off in the server: the test steps the clock with `cairn alarms run`.
    let server = Server::start_with(&["--alarm-tick-secs", "0"]);
    let (url, inbox) = subscriber();
    let (_, created) = query(
        &server,
        "sns",
        &[
            ("Action", "CreateTopic"),
            ("Version", "2010-03-31"),
            ("Name", "alerts"),
        ],
    )
    .await;
    let topic = between(&created, "<TopicArn>", "</TopicArn>").to_owned();
    let (status, text) = query(
        &server,
        "sns",
        &[
            ("Action", "Subscribe"),
            ("Version", "2010-03-31"),
            ("TopicArn", &topic),
            ("Protocol", "http"),
            ("Endpoint", &url),
        ],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let confirmation = received(&inbox);
    assert_eq!(confirmation["Type"], "SubscriptionConfirmation");
    let token = confirmation["Token"].as_str().unwrap();
    let confirm = format!(
        "/?Action=ConfirmSubscription&TopicArn={}&Token={token}",
        topic.replace(':', "%3A")
    );
    let resp = reqwest::get(server.url(&confirm)).await.unwrap();
    assert_eq!(resp.status(), 200);

    logs_ok(&server, "CreateLogGroup", json!({"logGroupName": "app"})).await;
    logs_ok(
        &server,
        "CreateLogStream",
        json!({"logGroupName": "app", "logStreamName": "s"}),
    )
    .await;
    logs_ok(&server, "PutMetricFilter", json!({"logGroupName": "app", "filterName": "errors",
        "filterPattern": "ERROR",
        "metricTransformations": [{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1"}]})).await;
    // Read before the alarm exists, so the OK transition below (at `minute + 600`) is always
    // older than the alarm's creation, whatever minute boundary passes meanwhile.
    let minute = (chrono::Utc::now().timestamp() / 60 - 10) * 60;
    cw_ok(
        &server,
        "PutMetricAlarm",
        json!({"AlarmName": "app-errors", "MetricName": "Errors",
        "Namespace": "App", "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1,
        "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching", "AlarmActions": [topic], "OKActions": [topic]}),
    )
    .await;
    let described = cw_ok(
        &server,
        "DescribeAlarms",
        json!({"AlarmNames": ["app-errors"]}),
    )
    .await;
    assert_eq!(
        described["MetricAlarms"][0]["StateValue"],
        "INSUFFICIENT_DATA"
    );
    assert_eq!(
        described["MetricAlarms"][0]["StateReason"],
        "Unchecked: Initial alarm creation"
    );

    // Two matching events ten minutes ago, in one minute.
    let ts = minute * 1000 + 5_000;
    logs_ok(
        &server,
        "PutLogEvents",
        json!({"logGroupName": "app", "logStreamName": "s", "logEvents": [
        {"timestamp": ts, "message": "ERROR disk full"},
        {"timestamp": ts + 1, "message": "INFO fine"},
        {"timestamp": ts + 2, "message": "ERROR again"}]}),
    )
    .await;
    let listed = cw_ok(&server, "ListMetrics", json!({"Namespace": "App"})).await;
    assert_eq!(
        listed["Metrics"][0]["MetricName"], "Errors",
        "listed at once: {listed}"
    );

    // The minute after the datapoints: 2 ≥ 1 → ALARM, and the topic's subscriber hears it.
    let run = alarms_run(&server, minute + 60);
    assert_eq!(run["Published"], 1, "{run}");
    let n = received(&inbox);
    assert_eq!(n["Type"], "Notification");
    assert_eq!(n["TopicArn"], topic.as_str());
    assert_eq!(
        n["Subject"],
        "ALARM: \"app-errors\" in US East (N. Virginia)"
    );
    let m: Value = serde_json::from_str(n["Message"].as_str().unwrap()).unwrap();
    assert_eq!(m["NewStateValue"], "ALARM");
    assert_eq!(m["OldStateValue"], "INSUFFICIENT_DATA");
    let stamp = chrono::DateTime::from_timestamp(minute, 0)
        .unwrap()
        .format("%d/%m/%y %H:%M:%S");
    assert_eq!(
        m["NewStateReason"],
        format!(
            "Threshold Crossed: 1 datapoint [2.0 ({stamp})] was greater than or equal to the threshold (1.0)."
        )
    );
    assert_eq!(m["Trigger"]["Statistic"], "SUM");
    assert_eq!(m["Trigger"]["TreatMissingData"], "notBreaching");
    assert_eq!(
        m["AlarmArn"],
        "arn:aws:cloudwatch:us-east-1:123456789012:alarm:app-errors"
    );
    let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "AlarmName");
    assert_eq!(keys[keys.len() - 1], "Trigger");
    let described = cw_ok(&server, "DescribeAlarms", json!({"StateValue": "ALARM"})).await;
    assert_eq!(described["MetricAlarms"][0]["AlarmName"], "app-errors");
    let data: Value = serde_json::from_str(
        described["MetricAlarms"][0]["StateReasonData"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(data["recentDatapoints"], json!([2.0]));

    // The same minute again changes nothing: no second notification.
    let again = alarms_run(&server, minute + 61);
    assert_eq!(again["Published"], 0, "{again}");

    // A quiet period: the missing datapoint is not breaching → OK.
    let run = alarms_run(&server, minute + 600);
    assert_eq!(run["Published"], 1, "{run}");
    let n = received(&inbox);
    let m: Value = serde_json::from_str(n["Message"].as_str().unwrap()).unwrap();
    assert_eq!(m["NewStateValue"], "OK");
    assert_eq!(m["OldStateValue"], "ALARM");
    assert_eq!(
        m["NewStateReason"],
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
    );

    let history = cw_ok(
        &server,
        "DescribeAlarmHistory",
        json!({"AlarmName": "app-errors", "ScanBy": "TimestampAscending"}),
    )
    .await;
    let summaries: Vec<&str> = history["AlarmHistoryItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["HistorySummary"].as_str().unwrap())
        .collect();
    assert_eq!(
        summaries,
        // Evaluation items carry the stepped clock (minutes ago); the creation, real time.
        [
            "Alarm updated from INSUFFICIENT_DATA to ALARM".to_owned(),
            format!("Successfully executed action {topic}"),
            "Alarm updated from ALARM to OK".to_owned(),
            format!("Successfully executed action {topic}"),
            "Alarm \"app-errors\" created".to_owned(),
        ]
    );

    // Disabled actions: a manual state change is recorded but publishes nothing.
    cw_ok(
        &server,
        "DisableAlarmActions",
        json!({"AlarmNames": ["app-errors"]}),
    )
    .await;
    cw_ok(
        &server,
        "SetAlarmState",
        json!({"AlarmName": "app-errors", "StateValue": "ALARM", "StateReason": "drill"}),
    )
    .await;
    assert!(
        inbox.recv_timeout(Duration::from_millis(500)).is_err(),
        "actions are disabled"
    );
    cw_ok(
        &server,
        "DeleteAlarms",
        json!({"AlarmNames": ["app-errors"]}),
    )
    .await;
    let described = cw_ok(&server, "DescribeAlarms", json!({})).await;
    assert_eq!(described["MetricAlarms"], json!([]));
}

#[tokio::test]
async fn query_protocol_and_aws_errors() {
    let server = Server::start_with(&["--alarm-tick-secs", "0"]);
    let now = chrono::Utc::now();
    let stamp = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let (status, text) = query(
        &server,
        "monitoring",
        &[
            ("Action", "PutMetricData"),
            ("Version", "2010-08-01"),
            ("Namespace", "Shop"),
            ("MetricData.member.1.MetricName", "Latency"),
            ("MetricData.member.1.Value", "250"),
            ("MetricData.member.1.Unit", "Milliseconds"),
            ("MetricData.member.1.Timestamp", &stamp),
            ("MetricData.member.1.Dimensions.member.1.Name", "Page"),
            ("MetricData.member.1.Dimensions.member.1.Value", "cart"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.starts_with(
            "<PutMetricDataResponse xmlns=\"http://monitoring.amazonaws.com/doc/2010-08-01/\">"
        ),
        "{text}"
    );
    let start = (now - chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let end = (now + chrono::Duration::minutes(5))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let (status, text) = query(
        &server,
        "monitoring",
        &[
            ("Action", "GetMetricStatistics"),
            ("Version", "2010-08-01"),
            ("Namespace", "Shop"),
            ("MetricName", "Latency"),
            ("Dimensions.member.1.Name", "Page"),
            ("Dimensions.member.1.Value", "cart"),
            ("StartTime", &start),
            ("EndTime", &end),
            ("Period", "60"),
            ("Statistics.member.1", "Maximum"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("<Maximum>250.0</Maximum><Unit>Milliseconds</Unit>"),
        "{text}"
    );
    assert!(text.contains("<Label>Latency</Label>"), "{text}");

    let (status, text) = query(
        &server,
        "monitoring",
        &[
            ("Action", "GetMetricStatistics"),
            ("Version", "2010-08-01"),
            ("Namespace", "Shop"),
            ("MetricName", "Latency"),
            ("StartTime", &start),
            ("EndTime", &end),
            ("Period", "61"),
            ("Statistics.member.1", "Maximum"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("<Code>InvalidParameterValue</Code><Message>The parameter Period must be a multiple of 60.</Message>"), "{text}");

    // JSON errors carry the Query code for query-compatible SDKs.
    let (status, body, code) = cw(
        &server,
        "SetAlarmState",
        json!({"AlarmName": "none", "StateValue": "OK", "StateReason": "x"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(body["__type"], "com.amazonaws.cloudwatch#ResourceNotFound");
    assert_eq!(code.as_deref(), Some("ResourceNotFound;Sender"));
    let (status, body, code) = cw(
        &server,
        "PutMetricAlarm",
        json!({"AlarmName": "w", "MetricName": "m", "Namespace": "n",
        "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1441, "Threshold": 1,
        "ComparisonOperator": "GreaterThanThreshold"}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(code.as_deref(), Some("ValidationError;Sender"));
    assert_eq!(
        body["message"],
        "Metrics cannot be checked across more than a day (EvaluationPeriods * Period must be <= 86400)."
    );
    let (status, _, code) = cw(
        &server,
        "PutMetricData",
        json!({"Namespace": "AWS/EC2", "MetricData": [{"MetricName": "x", "Value": 1}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(code.as_deref(), Some("InvalidParameterValue;Sender"));
    let (status, _, code) = cw(
        &server,
        "PutMetricData",
        json!({"MetricData": [{"MetricName": "x", "Value": 1}]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(code.as_deref(), Some("MissingParameter;Sender"));
    // alarms3: JSON sends a non-finite double as a string; it is the parameter's error, as
    // over Query, not a type error.
    for threshold in ["NaN", "Infinity", "-Infinity"] {
        let (status, body, code) = cw(
            &server,
            "PutMetricAlarm",
            json!({"AlarmName": "nan", "MetricName": "m", "Namespace": "n",
            "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold"}),
        )
        .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            code.as_deref(),
            Some("InvalidParameterValue;Sender"),
            "{body}"
        );
        assert_eq!(
            body["message"],
            "The parameter Threshold must be a finite number."
        );
    }
}
