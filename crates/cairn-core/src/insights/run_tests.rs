//! Counting from recorded events and running to a clock on a real store: a burst becomes
//! one Start/End pair, and running again (or past the same minutes) writes nothing twice.

use cairn_model::event::{EVENT_VERSION, EventRecord};
use cairn_store::insights as store;
use cairn_store::{Store, events, trails};
use serde_json::{Value, json};

use super::detect::Params;
use super::run::{Report, run_once};
use super::tests::trail;
use crate::record::{PreparedEvent, append};

const S: i64 = 26_589_416;

fn call(minute: i64, name: &str, read_only: bool, error: Option<&str>) -> PreparedEvent {
    call_in("us-east-1", minute, name, read_only, error)
}

/// Appends `batch` to the event log in one write.
fn append_all(store: &Store, batch: Vec<PreparedEvent>) {
    store
        .write_blocking(move |c| {
            for e in &batch {
                append(c, e)?;
            }
            Ok::<_, cairn_store::StoreError>(())
        })
        .unwrap()
        .unwrap();
}

fn call_in(
    region: &str,
    minute: i64,
    name: &str,
    read_only: bool,
    error: Option<&str>,
) -> PreparedEvent {
    let record = EventRecord {
        event_version: EVENT_VERSION.into(),
        user_identity: json!({"type": "IAMUser", "arn": "arn:aws:iam::123456789012:user/alice"}),
        event_time: super::records::minute_time(minute),
        event_source: "ec2.amazonaws.com".into(),
        event_name: name.into(),
        aws_region: region.into(),
        source_ip_address: "127.0.0.1".into(),
        user_agent: "aws-cli/2.15.0".into(),
        error_code: error.map(str::to_owned),
        error_message: error.map(|_| "denied".to_owned()),
        request_parameters: Value::Null,
        response_elements: Value::Null,
        additional_event_data: None,
        request_id: "r".into(),
        event_id: uuid_like(minute, name),
        read_only,
        resources: vec![],
        event_type: "AwsApiCall".into(),
        management_event: true,
        recipient_account_id: "123456789012".into(),
        event_category: "Management".into(),
    };
    PreparedEvent::new(&record, minute * 60 + 7, "alice", vec![])
}

fn uuid_like(minute: i64, name: &str) -> String {
    super::records::uuid_v5(&format!("{minute}{name}{}", rand::random::<u64>()))
}

#[test]
fn bursts_become_pairs_once_whoever_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    let mut t = trail(&["ApiCallRateInsight", "ApiErrorRateInsight"]);
    t.status.start_logging_time = Some(((S - 600) * 60) as f64);
    let arn = t.arn();
    store
        .write_blocking(move |c| {
            trails::put(c, &t)?;
            store::arm(c, &t.arn(), (S - 600) * 60)
        })
        .unwrap()
        .unwrap();
    let mut batch = Vec::new();
    for m in S..S + 3 {
        for _ in 0..4 {
            batch.push(call(m, "AuthorizeSecurityGroupIngress", false, None));
            batch.push(call(m, "DescribeInstances", true, Some("AccessDenied")));
        }
        batch.push(call(m, "DescribeInstances", true, None));
    }
    append_all(&store, batch);
    let p = Params {
        warm_up_secs: 0,
        ..Params::default()
    };
    // Before the minutes settle nothing is evaluated past them.
    let early = run_once(&store, (S + 1) * 60, &p).unwrap();
    // 27 recorded; the 3 successful reads count in no series and are not read out.
    assert_eq!(early.counted, 24);
    assert_eq!(early.written, 0);
    let now = (S + 20) * 60 + p.settle_lag_secs;
    let report = run_once(&store, now, &p).unwrap();
    assert_eq!(report.written, 4, "{report:?}");
    assert_eq!(
        run_once(&store, now, &p).unwrap(),
        Report {
            counted: 0,
            minutes: 0,
            written: 0
        }
    );
    let found = store
        .read_blocking(|c| {
            events::lookup(
                c,
                &events::LookupQuery {
                    account: "123456789012",
                    region: "us-east-1",
                    category: "Insight",
                    filter: &events::LookupFilter::All,
                    start: 0,
                    end: i64::MAX,
                    after: None,
                    limit: 50,
                },
            )
        })
        .unwrap();
    let mut kinds: Vec<(String, String, String)> = found
        .iter()
        .map(|e| {
            let r: Value = serde_json::from_str(&e.record).unwrap();
            let d = &r["insightDetails"];
            (
                d["insightType"].as_str().unwrap().to_owned(),
                d["eventName"].as_str().unwrap().to_owned(),
                d["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![
            (
                "ApiCallRateInsight".into(),
                "AuthorizeSecurityGroupIngress".into(),
                "End".into()
            ),
            (
                "ApiCallRateInsight".into(),
                "AuthorizeSecurityGroupIngress".into(),
                "Start".into()
            ),
            (
                "ApiErrorRateInsight".into(),
                "DescribeInstances".into(),
                "End".into()
            ),
            (
                "ApiErrorRateInsight".into(),
                "DescribeInstances".into(),
                "Start".into()
            ),
        ]
    );
    let pending = store
        .read_blocking(move |c| store::undelivered(c, &arn, 100))
        .unwrap();
    assert_eq!(pending.len(), 4);
}

#[test]
fn a_plan_stops_where_it_is_told_and_adds_up_per_series_minute_and_value() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    let calls = [
        call(S, "RunInstances", false, None),
        call(S, "RunInstances", false, Some("AccessDenied")),
        call(S, "RunInstances", false, None),
        call(S + 1, "RunInstances", false, None),
        call(S, "DescribeInstances", true, None),
        call(S, "DescribeInstances", true, Some("AccessDenied")),
    ];
    for c in calls {
        store
            .write_blocking(move |w| append(w, &c))
            .unwrap()
            .unwrap();
    }
    let batch = store
        .read_blocking(|c| super::count::plan(c, 100, 2))
        .unwrap();
    assert_eq!((batch.from, batch.to, batch.events), (0, 2, 2));
    let batch = store
        .read_blocking(|c| super::count::plan(c, 100, i64::MAX))
        .unwrap();
    assert_eq!(
        (batch.to, batch.events),
        (6, 5),
        "the successful read is not read out"
    );
    let count = |kind, name: &str, code: &str, minute| {
        batch
            .series
            .iter()
            .find(|d| {
                d.key.kind == kind
                    && d.key.name == name
                    && d.key.error_code == code
                    && d.minute == minute
            })
            .map(|d| d.count)
    };
    assert_eq!(count(store::KIND_CALL, "RunInstances", "", S), Some(3));
    assert_eq!(count(store::KIND_CALL, "RunInstances", "", S + 1), Some(1));
    assert_eq!(
        count(store::KIND_ERROR, "RunInstances", "AccessDenied", S),
        Some(1)
    );
    assert_eq!(
        count(store::KIND_ERROR, "DescribeInstances", "AccessDenied", S),
        Some(1)
    );
    assert_eq!(count(store::KIND_CALL, "DescribeInstances", "", S), None);
    let attr = |attribute: &str, value: &str| {
        batch
            .attributions
            .iter()
            .filter(|a| {
                a.key.kind == store::KIND_CALL
                    && a.key.name == "RunInstances"
                    && a.minute == S
                    && a.attribute == attribute
                    && a.value == value
            })
            .map(|a| a.count)
            .sum::<i64>()
    };
    assert_eq!(attr("errorCode", "null"), 2);
    assert_eq!(attr("errorCode", "AccessDenied"), 1);
    assert_eq!(
        attr("userIdentityArn", "arn:aws:iam::123456789012:user/alice"),
        3
    );
    assert_eq!(attr("userAgent", "aws-cli/2.15.0"), 3);
}

#[test]
fn nothing_is_counted_until_a_trail_has_insights_and_then_the_backlog_is() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    let p = Params {
        warm_up_secs: 0,
        ..Params::default()
    };
    let plain = trail(&[]);
    store
        .write_blocking(move |c| trails::put(c, &plain))
        .unwrap()
        .unwrap();
    for m in [S, S + 1] {
        let e = call(m, "RunInstances", false, None);
        store
            .write_blocking(move |c| append(c, &e))
            .unwrap()
            .unwrap();
    }
    let idle = run_once(&store, (S + 30) * 60, &p).unwrap();
    assert_eq!(idle.counted, 0, "no trail has Insights: nothing counted");
    assert_eq!(store.read_blocking(store::counted_seq).unwrap(), 0);

    let with = trail(&["ApiCallRateInsight"]);
    store
        .write_blocking(move |c| trails::put(c, &with))
        .unwrap()
        .unwrap();
    let report = run_once(&store, (S + 30) * 60, &p).unwrap();
    assert_eq!(report.counted, 2, "the events from before Insights count");
    let key = store::SeriesKey {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        kind: store::KIND_CALL,
        source: "ec2.amazonaws.com".into(),
        name: "RunInstances".into(),
        error_code: String::new(),
    };
    let at = |m| {
        let k = key.clone();
        store
            .read_blocking(move |c| store::count_at(c, &k, m))
            .unwrap()
    };
    assert_eq!((at(S), at(S + 1)), (1, 1));
}

#[test]
fn a_region_a_trail_joins_is_evaluated_from_the_join_not_before() {
    // insights3: made multi-region, a trail got Insights events dated days before it covered
    // a region, as that region was evaluated from when Insights were enabled.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    let mut t = trail(&["ApiCallRateInsight"]);
    t.status.start_logging_time = Some(((S - 600) * 60) as f64);
    let stored = t.clone();
    store
        .write_blocking(move |c| {
            trails::put(c, &stored)?;
            store::arm(c, &stored.arn(), (S - 600) * 60)
        })
        .unwrap()
        .unwrap();
    let mut batch = Vec::new();
    for m in S..S + 3 {
        for _ in 0..8 {
            batch.push(call_in(
                "us-west-2",
                m,
                "AuthorizeSecurityGroupIngress",
                false,
                None,
            ));
        }
    }
    append_all(&store, batch);
    let p = Params {
        warm_up_secs: 0,
        ..Params::default()
    };
    // Counted while the trail covers us-east-1 only.
    run_once(&store, (S + 50) * 60, &p).unwrap();
    t.is_multi_region_trail = true;
    let joined = t.clone();
    store
        .write_blocking(move |c| {
            trails::put(c, &joined)?;
            super::close::regions_joined(c, &joined, ((S + 100) * 60) as f64)
        })
        .unwrap()
        .unwrap();
    let report = run_once(&store, (S + 200) * 60 + p.settle_lag_secs, &p).unwrap();
    assert_eq!(report.written, 0, "{report:?}");
    let next = store
        .read_blocking(move |c| store::next_minute(c, &t.arn(), "us-west-2"))
        .unwrap();
    assert!(next.is_some_and(|n| n > S + 100), "{next:?}");
}

#[test]
fn a_region_first_counted_after_the_join_is_evaluated_from_the_join() {
    // insights4: a region whose first events were not counted yet when the trail joined it
    // had no progress to move, and was evaluated from when Insights were enabled.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    let mut t = trail(&["ApiCallRateInsight"]);
    t.status.start_logging_time = Some(((S - 600) * 60) as f64);
    t.is_multi_region_trail = true;
    let stored = t.clone();
    store
        .write_blocking(move |c| {
            trails::put(c, &stored)?;
            store::arm(c, &stored.arn(), (S - 600) * 60)?;
            super::close::regions_joined(c, &stored, ((S + 100) * 60) as f64)
        })
        .unwrap()
        .unwrap();
    // Events of a region never seen before, from before the join, counted only now.
    let mut batch = Vec::new();
    for m in S..S + 3 {
        for _ in 0..8 {
            batch.push(call_in("eu-central-1", m, "CreateTopic", false, None));
        }
    }
    append_all(&store, batch);
    let p = Params {
        warm_up_secs: 0,
        ..Params::default()
    };
    let report = run_once(&store, (S + 200) * 60 + p.settle_lag_secs, &p).unwrap();
    assert_eq!(report.written, 0, "{report:?}");
}

#[test]
fn a_far_future_clock_keeps_the_series_of_the_real_present() {
    // insights3: `cairn insights run --now <a mistyped year>` pruned every per-minute count
    // and attribution counter, as it pruned from the clock it was given.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("cairn.db")).unwrap();
    let with = trail(&["ApiCallRateInsight"]);
    store
        .write_blocking(move |c| trails::put(c, &with))
        .unwrap()
        .unwrap();
    let recent = chrono::Utc::now().timestamp().div_euclid(60) - 30;
    let e = call(recent, "RunInstances", false, None);
    store
        .write_blocking(move |c| append(c, &e))
        .unwrap()
        .unwrap();
    let p = Params {
        warm_up_secs: 0,
        ..Params::default()
    };
    let far = (recent + 200 * 24 * 60) * 60;
    assert_eq!(run_once(&store, far, &p).unwrap().counted, 1);
    let key = store::SeriesKey {
        account: "123456789012".into(),
        region: "us-east-1".into(),
        kind: store::KIND_CALL,
        source: "ec2.amazonaws.com".into(),
        name: "RunInstances".into(),
        error_code: String::new(),
    };
    let count = store
        .read_blocking(move |c| store::count_at(c, &key, recent))
        .unwrap();
    assert_eq!(
        count, 1,
        "the count of a recent minute survives a far-future run"
    );
}
