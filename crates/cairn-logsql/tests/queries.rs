//! Logs Insights queries over CloudTrail-shaped records: each command and function family.

use cairn_logsql::{Record, parse, run};
use proptest::prelude::*;

fn records() -> Vec<(i64, String)> {
    let mk = |ts: i64, name: &str, source: &str, user: &str, err: Option<&str>, latency: f64| {
        let mut v = serde_json::json!({
            "eventName": name, "eventSource": source,
            "userIdentity": {"type": user, "arn": format!("arn:aws:iam::123456789012:user/{user}")},
            "resources": [{"ARN": format!("arn:aws:s3:::{name}")}],
            "latency": latency,
        });
        if let Some(e) = err {
            v["errorCode"] = e.into();
        }
        (ts, v.to_string())
    };
    vec![
        mk(
            1_767_607_200_000,
            "CreateTrail",
            "cloudtrail.amazonaws.com",
            "IAMUser",
            None,
            10.0,
        ),
        mk(
            1_767_607_260_000,
            "ListBuckets",
            "s3.amazonaws.com",
            "Root",
            None,
            30.0,
        ),
        mk(
            1_767_607_320_000,
            "PutUserPolicy",
            "iam.amazonaws.com",
            "IAMUser",
            Some("AccessDenied"),
            20.0,
        ),
        mk(
            1_767_607_500_000,
            "StopLogging",
            "cloudtrail.amazonaws.com",
            "IAMUser",
            None,
            40.0,
        ),
        mk(
            1_767_610_800_000,
            "ListBuckets",
            "s3.amazonaws.com",
            "IAMUser",
            None,
            50.0,
        ),
        (
            1_767_610_900_000,
            "plain text line user=bob latency=7".to_owned(),
        ),
    ]
}

fn answer(q: &str) -> Vec<Vec<(String, String)>> {
    let data = records();
    let recs = data.iter().enumerate().map(|(k, (ts, m))| Record {
        timestamp: *ts,
        ingestion_time: *ts + 5,
        message: m,
        log_stream: if k % 2 == 0 { "a" } else { "b" },
        log: "123456789012:trail",
        ptr: "p",
    });
    run(&parse(q).unwrap_or_else(|e| panic!("{q}: {e}")), recs).rows
}

fn col(rows: &[Vec<(String, String)>], name: &str) -> Vec<String> {
    rows.iter()
        .filter_map(|r| r.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
        .collect()
}

#[test]
fn fields_filter_sort_limit() {
    let rows = answer(
        "fields @timestamp, eventName, userIdentity.type | filter eventSource = 's3.amazonaws.com' | sort @timestamp desc | limit 1",
    );
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0][0],
        ("@timestamp".into(), "2026-01-05 11:00:00.000".into())
    );
    assert_eq!(rows[0][1], ("eventName".into(), "ListBuckets".into()));
    assert_eq!(rows[0][2], ("userIdentity.type".into(), "IAMUser".into()));
    assert_eq!(rows[0][3].0, "@ptr");
}

#[test]
fn default_columns_are_timestamp_and_message() {
    let rows = answer("filter eventName like /Logging/");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["@timestamp", "@message", "@ptr"]
    );
}

#[test]
fn comparisons_like_in_and_regex() {
    assert_eq!(
        col(
            &answer("filter latency > 25 | fields eventName | sort latency"),
            "eventName"
        ),
        ["ListBuckets", "StopLogging", "ListBuckets"]
    );
    assert_eq!(
        col(
            &answer(
                "filter eventName in ['CreateTrail', 'StopLogging'] | fields eventName | sort eventName"
            ),
            "eventName"
        ),
        ["CreateTrail", "StopLogging"]
    );
    assert_eq!(
        col(
            &answer(
                "filter eventName not in ['ListBuckets'] and ispresent(eventName) | fields eventName | sort eventName"
            ),
            "eventName"
        ),
        ["CreateTrail", "PutUserPolicy", "StopLogging"]
    );
    assert_eq!(
        col(
            &answer("filter eventName =~ /^(?i)put/ | fields eventName"),
            "eventName"
        ),
        ["PutUserPolicy"]
    );
    assert_eq!(
        col(
            &answer("filter eventName like 'Bucket' | stats count(*) as n"),
            "n"
        ),
        ["2"]
    );
    assert_eq!(
        col(
            &answer(
                "filter eventName not like 'Bucket' and ispresent(eventName) | stats count(*) as n"
            ),
            "n"
        ),
        ["3"]
    );
    assert_eq!(
        col(
            &answer("filter errorCode != 'x' | fields eventName"),
            "eventName"
        ),
        ["PutUserPolicy"],
        "absent fields never compare"
    );
    assert_eq!(
        col(
            &answer("filter resources.0.ARN = 'arn:aws:s3:::CreateTrail' | fields eventName"),
            "eventName"
        ),
        ["CreateTrail"]
    );
}

#[test]
fn stats_by_and_bin() {
    let rows = answer(
        "filter ispresent(eventSource) | stats count(*) as n, sum(latency) as total, avg(latency), min(latency), max(latency), count_distinct(eventName) by eventSource | sort eventSource",
    );
    assert_eq!(
        col(&rows, "eventSource"),
        [
            "cloudtrail.amazonaws.com",
            "iam.amazonaws.com",
            "s3.amazonaws.com"
        ]
    );
    assert_eq!(col(&rows, "n"), ["2", "1", "2"]);
    assert_eq!(col(&rows, "total"), ["50", "20", "80"]);
    assert_eq!(col(&rows, "avg(latency)"), ["25", "20", "40"]);
    assert_eq!(col(&rows, "min(latency)"), ["10", "20", "30"]);
    assert_eq!(col(&rows, "max(latency)"), ["40", "20", "50"]);
    assert_eq!(col(&rows, "count_distinct(eventName)"), ["2", "1", "1"]);
    assert!(rows.iter().all(|r| r.iter().all(|c| c.0 != "@ptr")));
    let rows =
        answer("filter ispresent(eventName) | stats count(*) by bin(1h) as hour | sort hour");
    assert_eq!(
        col(&rows, "hour"),
        ["2026-01-05 10:00:00.000", "2026-01-05 11:00:00.000"]
    );
    assert_eq!(col(&rows, "count(*)"), ["4", "1"]);
    let rows = answer("stats pct(latency, 50) as p50, stddev(latency) as sd");
    assert_eq!(col(&rows, "p50"), ["30"]);
    let rows = answer("stats count(*) as n by eventSource | sort n desc, eventSource");
    assert_eq!(
        col(&rows, "n"),
        ["2", "2", "1", "1"],
        "records without the field form their own group"
    );
    // Sorting on an unnamed aggregate names its column as written.
    let rows = answer("stats count(*) by eventSource | sort count(*) desc, eventSource");
    assert_eq!(col(&rows, "count(*)"), ["2", "2", "1", "1"]);
    // So does an unnamed group such as `bin(1h)`: sorting or showing it reads the column (it
    // was computed again from `@timestamp`, which a stats row has not, so `desc` did nothing
    // and `display` showed empty rows).
    let rows =
        answer("filter ispresent(eventName) | stats count(*) by bin(1h) | sort bin(1h) desc");
    assert_eq!(
        col(&rows, "bin(1h)"),
        ["2026-01-05 11:00:00.000", "2026-01-05 10:00:00.000"]
    );
    let rows = answer("filter ispresent(eventName) | stats count(*) by bin(1h) | display bin(1h)");
    assert_eq!(
        col(&rows, "bin(1h)"),
        ["2026-01-05 10:00:00.000", "2026-01-05 11:00:00.000"]
    );
    assert!(rows.iter().all(|r| r.len() == 1), "{rows:?}");
    // A number against text that is not one is neither greater nor smaller ("CreateTrail" > 5
    // held, comparing "C" with "5").
    assert!(answer("filter eventName > 5 or eventName < 5 or eventName >= 5").is_empty());
    assert_eq!(answer("filter latency > 25").len(), 3);
    // A second stats computes its own aggregates and groups.
    let rows = answer("stats count(*) by eventSource | stats count(*)");
    assert_eq!(col(&rows, "count(*)"), ["4"]);
    // Before any stats, a function is computed as always.
    let rows = answer("filter ispresent(eventName) | fields bin(1h) | sort bin(1h) desc | limit 1");
    assert_eq!(col(&rows, "bin(1h)"), ["2026-01-05 11:00:00.000"]);
    let rows = answer("stats count(*) by eventSource | sort count(*) asc, eventSource");
    assert_eq!(col(&rows, "count(*)"), ["1", "1", "2", "2"]);
}

#[test]
fn parse_glob_and_regex() {
    let rows = answer(
        "parse @message 'user=* latency=*' as who, lat | filter ispresent(who) | fields who, lat * 2 as double",
    );
    assert_eq!(col(&rows, "who"), ["bob"]);
    assert_eq!(col(&rows, "double"), ["14"]);
    // A `*` followed by text stops at its first occurrence (the common CloudTrail idiom).
    let rows = answer(r#"parse @message '"eventName":"*"' as en | display en"#);
    let names = col(&rows, "en");
    assert!(!names.is_empty());
    assert!(
        names.iter().all(|n| !n.contains('"') && !n.is_empty()),
        "{names:?}"
    );
    let rows = answer("parse @message /user=(?<who>[a-z]+)/ | filter ispresent(who) | display who");
    assert_eq!(
        rows,
        vec![vec![
            ("who".to_owned(), "bob".to_owned()),
            ("@ptr".to_owned(), "p".to_owned())
        ]]
    );
}

#[test]
fn functions_and_arithmetic() {
    let rows = answer(
        "filter eventName = 'CreateTrail' | fields toupper(eventName) as up, strlen(eventName) as len, concat(eventSource, '/', eventName) as both, substr(eventName, 0, 6) as sub, replace(eventName, 'Trail', 'X') as rep, abs(0 - latency) as a, 2 ^ 3 as p, 10 % 3 as m, coalesce(errorCode, 'none') as c",
    );
    let r = &rows[0];
    let get = |k: &str| r.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("up"), Some("CREATETRAIL"));
    assert_eq!(get("len"), Some("11"));
    assert_eq!(get("both"), Some("cloudtrail.amazonaws.com/CreateTrail"));
    assert_eq!(get("sub"), Some("Create"));
    assert_eq!(get("rep"), Some("CreateX"));
    assert_eq!(get("a"), Some("10"));
    assert_eq!(get("p"), Some("8"));
    assert_eq!(get("m"), Some("1"));
    assert_eq!(get("c"), Some("none"));
}

#[test]
fn malformed_queries_are_refused() {
    for q in [
        "",
        "fields",
        "filter (a = 1",
        "stats foo(a)",
        "bogus x",
        "fields a |",
        "limit 0",
        "limit x",
        "filter a like 5",
        "parse @message 'a*b*' as x",
        "fields nosuchfn(a)",
        "stats count(*) by",
        "filter a = /x/",
        // Known functions with the wrong number of arguments (they used to evaluate to
        // nothing, or to their first argument).
        "fields substr(s) as a",
        "fields abs() as b",
        "fields abs(v, 2) as c",
        "fields replace(s, 'l') as d",
        "stats count(*) by bin()",
    ] {
        assert!(parse(q).is_err(), "{q:?} should not parse");
    }
    // Optional and repeated arguments stay accepted.
    for q in [
        "fields trim(s, 'x') as a",
        "fields substr(s, 1, 2) as b",
        "fields concat(a, b, c) as c",
        "stats count(*) by bin(5m)",
    ] {
        assert!(parse(q).is_ok(), "{q:?} should parse");
    }
}

#[test]
fn dedup_keeps_the_newest_and_the_nulls_and_only_limit_follows() {
    // logs4: without a sort, dedup kept the oldest event of each value; events without the
    // field were folded into one row; and any command was accepted after it.
    let rows = answer("fields @timestamp, eventName | dedup eventName");
    let names = col(&rows, "eventName");
    assert_eq!(
        names,
        ["ListBuckets", "StopLogging", "PutUserPolicy", "CreateTrail"],
        "newest first, one row a name"
    );
    let list = rows
        .iter()
        .find(|r| {
            r.iter()
                .any(|(k, v)| k == "eventName" && v == "ListBuckets")
        })
        .unwrap();
    assert_eq!(
        list[0],
        ("@timestamp".into(), "2026-01-05 11:00:00.000".into()),
        "the newest ListBuckets"
    );
    // The plain-text line has no eventName: it is kept, never a duplicate.
    assert_eq!(rows.len(), 5, "{rows:?}");
    // An explicit sort is the one used.
    let oldest = answer("fields @timestamp, eventName | sort @timestamp asc | dedup eventName");
    assert_eq!(
        col(&oldest, "@timestamp")[0],
        "2026-01-05 10:00:00.000",
        "{oldest:?}"
    );
    assert_eq!(answer("dedup eventName | limit 2").len(), 2);
    for q in [
        "dedup eventName | stats count()",
        "dedup eventName | sort @timestamp desc",
    ] {
        assert!(parse(q).is_err(), "{q:?} should not parse");
    }
}

proptest! {
    #[test]
    fn the_parser_never_panics(q in any::<String>(), parts in prop::collection::vec(prop::sample::select(vec![
        "fields", "filter", "stats", "sort", "limit", "parse", "by", "as", "|", ",", "(", ")", "[", "]", "a", "@message",
        "count(*)", "bin(5m)", "'x'", "/r/", "like", "in", "not", "and", "or", "=", "!=", "<", "+", "-", "*", "^", "10", "`q`", " ",
    ]), 0..30)) {
        let _ = parse(&q);
        let text = parts.join(" ");
        if let Ok(query) = parse(&text) {
            let data = records();
            let recs = data.iter().map(|(ts, m)| Record { timestamp: *ts, ingestion_time: *ts, message: m, log_stream: "s", log: "l", ptr: "p" });
            let _ = run(&query, recs);
        }
    }
}

#[test]
fn a_named_ptr_comes_once() {
    // sdk7: `fields …, @ptr` gave every row two `@ptr` columns.
    let rows = answer("fields @timestamp, @ptr | limit 1");
    assert_eq!(
        rows[0].iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
        ["@timestamp", "@ptr"]
    );
}
