//! ListInsightsMetricData: the per-minute series of one API (and error code), bucketed by
//! `Period`, as per-minute rates (count / minutes in the period), ascending.

use cairn_model::trail::InsightType;
use cairn_store::Connection;
use cairn_store::insights::{self as store, SeriesKey};
use sha2::{Digest, Sha256};

use super::kind_of;
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::token::TokenKey;

/// Largest and default `MaxResults`.
pub const MAX_RESULTS: i64 = 21_600;

/// ListInsightsMetricData arguments, as supplied.
#[derive(Clone, Debug, Default)]
pub struct MetricDataInput {
    /// `EventSource`.
    pub event_source: String,
    /// `EventName`.
    pub event_name: String,
    /// `InsightType`.
    pub insight_type: String,
    /// `ErrorCode`.
    pub error_code: Option<String>,
    /// `StartTime`, epoch seconds.
    pub start: Option<f64>,
    /// `EndTime`, epoch seconds.
    pub end: Option<f64>,
    /// `Period` in seconds.
    pub period: Option<i64>,
    /// `DataType`.
    pub data_type: Option<String>,
    /// `MaxResults`.
    pub max_results: Option<i64>,
    /// `NextToken`.
    pub next_token: Option<String>,
    /// `TrailName` (name or ARN): the data-event series of that trail.
    pub trail: Option<String>,
}

/// One page of datapoints.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricDataOutput {
    /// The subject's type.
    pub insight_type: InsightType,
    /// Bucket starts, epoch seconds, ascending.
    pub timestamps: Vec<i64>,
    /// Per-minute rates, one per timestamp.
    pub values: Vec<f64>,
    /// Token for the next page.
    pub next_token: Option<String>,
    /// `TrailARN`: the named trail's, when it has Insights on data events ("only returned
    /// when Insights is enabled on a trail logging data events").
    pub trail_arn: Option<String>,
}

fn invalid(m: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidParameter, m)
}

fn matches(text: &str, ok: impl Fn(char) -> bool) -> bool {
    !text.is_empty() && text.chars().all(ok)
}

/// Checks `EventSource`, `EventName` and `ErrorCode` against the model's lengths and
/// patterns (`^[a-z0-9_-]+\.amazonaws\.com$` ≤ 256, `^[A-Za-z0-9_]+$` ≤ 128, and
/// `^[\w\d\s_.,\-:\[\]]+$` ≤ 128, each non-empty).
fn check_names(input: &MetricDataInput) -> ApiResult<()> {
    let source_ok = input.event_source.chars().count() <= 256
        && input
            .event_source
            .strip_suffix(".amazonaws.com")
            .is_some_and(|s| {
                matches(s, |c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
                })
            });
    if !source_ok {
        return Err(invalid(format!(
            "EventSource {} is not valid. It must match ^[a-z0-9_-]+\\.amazonaws\\.com$ and be at most 256 characters.",
            input.event_source
        )));
    }
    let name_ok = input.event_name.chars().count() <= 128
        && matches(&input.event_name, |c| c.is_ascii_alphanumeric() || c == '_');
    if !name_ok {
        return Err(invalid(format!(
            "EventName {} is not valid. It must match ^[A-Za-z0-9_]+$ and be at most 128 characters.",
            input.event_name
        )));
    }
    if let Some(code) = &input.error_code {
        // Java's `\w` and `\s` (AWS's validators), without Unicode classes.
        let code_ok = code.chars().count() <= 128
            && matches(code, |c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '_' | '.' | ',' | '-' | ':' | '[' | ']')
                    || matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
            });
        if !code_ok {
            return Err(invalid(format!(
                "ErrorCode {code} is not valid. It must match ^[\\w\\d\\s_.,\\-:\\[\\]]+$ and be at most 128 characters."
            )));
        }
    }
    Ok(())
}

/// The half-open range of seconds `[from, to)` whose buckets a request covers, or `None`
/// when none of it is available. `StartTime` is inclusive and `EndTime` exclusive (full
/// precision: a bucket at `t` is before an `EndTime` of `t + 0.5`); they default to 90 days
/// before now and now, and a start at or after the end is refused. The range is then
/// clipped to what exists: nothing after now (those minutes have not happened) and nothing
/// older than the period's availability (`availability_days`, each cutoff inclusive), so a
/// range wholly outside it is an empty series, not an error.
fn window(
    now: f64,
    start: Option<f64>,
    end: Option<f64>,
    availability_days: i64,
) -> ApiResult<Option<(i64, i64)>> {
    let end = end.unwrap_or(now);
    let start = match start {
        Some(start) if start >= end => {
            return Err(invalid(format!(
                "StartTime {} must be earlier than EndTime {}.",
                stamp(start),
                stamp(end)
            )));
        }
        Some(start) => start,
        // A defaulted start never makes an error: with an EndTime older than 90 days the
        // window is simply empty.
        None => (now - 90.0 * 86_400.0).min(end),
    };
    let now_secs = now.floor() as i64;
    let from = (start.floor() as i64).max(now_secs - availability_days * 86_400);
    // Up to now at full precision: a bucket of the current minute that began before now
    // holds calls already made (clipping at the whole second dropped it in a minute's first).
    let to = end.min(now).ceil() as i64;
    Ok((from < to).then_some((from, to)))
}

/// An epoch time as the API's ISO 8601 form, for messages.
fn stamp(t: f64) -> String {
    chrono::DateTime::from_timestamp_millis((t * 1000.0).round() as i64)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        .unwrap_or_else(|| t.to_string())
}

fn ceil_div(n: i64, d: i64) -> i64 {
    n.div_euclid(d) + i64::from(n.rem_euclid(d) != 0)
}

/// Sums per-minute `rows` into `period` buckets whose start lies in the bucket of `from`
/// up to (not including) `to`, ascending; with `fill`, every such bucket, zero when empty.
fn buckets(rows: Vec<(i64, i64)>, period: i64, from: i64, to: i64, fill: bool) -> Vec<(i64, i64)> {
    let first = from.div_euclid(period) * period;
    let mut sums: Vec<(i64, i64)> = Vec::new();
    for (minute, count) in rows {
        let b = (minute * 60).div_euclid(period) * period;
        if b < first || b >= to {
            continue;
        }
        match sums.last_mut() {
            Some((last, sum)) if *last == b => *sum += count,
            _ => sums.push((b, count)),
        }
    }
    if !fill {
        return sums;
    }
    let mut all = Vec::new();
    let mut it = sums.into_iter().peekable();
    let mut b = first;
    while b < to {
        let n = it.next_if(|(t, _)| *t == b).map_or(0, |(_, n)| n);
        all.push((b, n));
        b += period;
    }
    all
}

/// Runs one ListInsightsMetricData page over the caller's account and region.
pub fn list(
    conn: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    input: &MetricDataInput,
) -> ApiResult<MetricDataOutput> {
    check_names(input)?;
    let insight_type = InsightType::parse(&input.insight_type).ok_or_else(|| {
        invalid(format!(
            "Invalid InsightType: {}. Valid values are ApiCallRateInsight, ApiErrorRateInsight.",
            input.insight_type
        ))
    })?;
    let error_code = match (insight_type, &input.error_code) {
        (InsightType::ApiErrorRateInsight, None) => {
            return Err(invalid("ErrorCode is required for ApiErrorRateInsight."));
        }
        (InsightType::ApiErrorRateInsight, Some(code)) => code.clone(),
        (InsightType::ApiCallRateInsight, _) => String::new(),
    };
    let period = input.period.unwrap_or(3600);
    let availability_days = match period {
        60 => 15,
        300 => 63,
        3600 => 90,
        other => {
            return Err(invalid(format!(
                "Period {other} is not valid. Valid values are 60, 300 and 3600."
            )));
        }
    };
    let fill = match input.data_type.as_deref() {
        None | Some("NonZeroData") => false,
        Some("FillWithZeros") => true,
        Some(other) => {
            return Err(invalid(format!(
                "DataType {other} is not valid. Valid values are FillWithZeros and NonZeroData."
            )));
        }
    };
    let limit = input.max_results.unwrap_or(MAX_RESULTS);
    if !(1..=MAX_RESULTS).contains(&limit) {
        return Err(invalid(format!(
            "MaxResults must be between 1 and {MAX_RESULTS}; {limit} is not valid."
        )));
    }
    // `TrailName` asks for a trail's data-event series: the trail must exist, and its series
    // are empty because Insights on data events detect nothing yet (README).
    let (data_events, trail_arn) = match &input.trail {
        Some(name) => {
            let trail = crate::trails::resolve(conn, ctx, name)?;
            let data_insights = trail
                .insight_selectors
                .iter()
                .any(|s| s.event_categories.iter().any(|c| c == "Data"));
            (true, data_insights.then(|| trail.arn()))
        }
        None => (false, None),
    };
    let range = window(ctx.now, input.start, input.end, availability_days)?;
    let series_key = SeriesKey {
        account: ctx.account().as_str().to_owned(),
        region: ctx.region.as_str().to_owned(),
        kind: kind_of(insight_type),
        source: input.event_source.clone(),
        name: input.event_name.clone(),
        error_code,
    };
    let points = match range {
        Some((from, to)) => {
            let rows = if data_events {
                Vec::new()
            } else {
                let first = from.div_euclid(period) * period;
                store::series(conn, &series_key, first.div_euclid(60), ceil_div(to, 60))?
            };
            buckets(rows, period, from, to, fill)
        }
        None => Vec::new(),
    };
    let scope = {
        let mut h = Sha256::new();
        h.update(format!(
            "insights-metric\n{}\n{}\n{:?}",
            ctx.account(),
            ctx.region,
            (
                &input.event_source,
                &input.event_name,
                &input.insight_type,
                &input.error_code,
                input.start,
                input.end,
                period,
                fill,
                &input.trail
            )
        ));
        hex::encode(h.finalize())
    };
    // The token holds the last timestamp returned, and a page resumes after it ("starting
    // from the last evaluated point"): a count of points skipped drifted when the window's
    // start moved with the clock between pages, and a point was lost (insights3).
    let after = match &input.next_token {
        None => None,
        Some(token) => Some(
            key.open(&scope, token)
                .and_then(|p| p.parse::<i64>().ok())
                .ok_or_else(|| invalid("Invalid NextToken."))?,
        ),
    };
    let rest: Vec<(i64, i64)> = points
        .into_iter()
        .filter(|(t, _)| after.is_none_or(|a| *t > a))
        .collect();
    let take = limit as usize;
    let next_token = (rest.len() > take).then(|| key.seal(&scope, &rest[take - 1].0.to_string()));
    let per_minute = (period / 60) as f64;
    let page = &rest[..rest.len().min(take)];
    Ok(MetricDataOutput {
        insight_type,
        timestamps: page.iter().map(|(t, _)| *t).collect(),
        values: page.iter().map(|(_, n)| *n as f64 / per_minute).collect(),
        next_token,
        trail_arn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_store::insights::{KIND_CALL, SeriesDelta};

    const DAY: f64 = 86_400.0;
    /// A whole hour, so minute and hour buckets line up with it.
    const NOW: f64 = 1_700_002_800.0;

    fn ctx() -> CallContext {
        crate::context::root_call_at(NOW + 30.0)
    }

    fn input() -> MetricDataInput {
        MetricDataInput {
            event_source: "cloudtrail.amazonaws.com".into(),
            event_name: "AddTags".into(),
            insight_type: "ApiCallRateInsight".into(),
            ..MetricDataInput::default()
        }
    }

    fn key() -> TokenKey {
        TokenKey::from_hex(&TokenKey::generate_hex()).unwrap()
    }

    /// Three calls in the minute `minutes_ago` before NOW.
    fn store_with_calls(minutes_ago: i64) -> Connection {
        let conn = cairn_store::in_memory().unwrap();
        let minute = (NOW as i64) / 60 - minutes_ago;
        let series = SeriesKey {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            kind: KIND_CALL,
            source: "cloudtrail.amazonaws.com".into(),
            name: "AddTags".into(),
            error_code: String::new(),
        };
        let delta = SeriesDelta {
            key: series,
            minute,
            count: 3,
        };
        store::apply_counts(&conn, 0, 1, &[delta], &[]).unwrap();
        conn
    }

    fn refused(conn: &Connection, input: &MetricDataInput) -> ApiError {
        list(conn, &ctx(), &key(), input).unwrap_err()
    }

    #[test]
    fn ranges_outside_availability_are_empty_not_refused() {
        let now = NOW + 30.0;
        // In the future; 100-95 days ago (hours); 20-16 days ago (minutes).
        assert_eq!(
            window(now, Some(now + DAY), Some(now + 2.0 * DAY), 90),
            Ok(None)
        );
        assert_eq!(
            window(now, Some(now - 100.0 * DAY), Some(now - 95.0 * DAY), 90),
            Ok(None)
        );
        assert_eq!(
            window(now, Some(now - 20.0 * DAY), Some(now - 16.0 * DAY), 15),
            Ok(None)
        );
        // A range across a cutoff keeps what is available.
        let n = now.floor() as i64;
        assert_eq!(
            window(now, Some(now - 20.0 * DAY), Some(now + DAY), 15),
            Ok(Some((n - 15 * 86_400, n)))
        );
        // EndTime is exclusive at full precision: a bucket at t is before t + 0.5.
        assert_eq!(
            window(now, Some(NOW - 60.0), Some(NOW - 59.5), 15),
            Ok(Some((n - 30 - 60, n - 30 - 59)))
        );
        // The current minute's bucket, begun before now, is in a window ending now.
        let minute = (n / 60 * 60) as f64;
        assert_eq!(
            window(minute + 0.4, Some(minute - 60.0), None, 15),
            Ok(Some((minute as i64 - 60, minute as i64 + 1)))
        );
        // An old EndTime alone is an empty window, never an error.
        assert_eq!(window(now, None, Some(now - 200.0 * DAY), 90), Ok(None));
    }

    #[test]
    fn a_start_at_or_after_the_end_is_an_invalid_parameter() {
        let now = NOW + 30.0;
        for (start, end) in [
            (Some(now - 10.0), Some(now - 20.0)),
            (Some(now - 10.0), Some(now - 10.0)),
            (Some(now + DAY), None),
        ] {
            let e = window(now, start, end, 90).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidParameter, "{e:?}");
            assert!(e.message.contains("must be earlier than EndTime"), "{e:?}");
        }
    }

    #[test]
    fn zeros_fill_only_the_available_minutes() {
        // Three calls 14.5 days ago, inside the 15 days of minute data.
        let conn = store_with_calls(20_880);
        let filled = |start: f64, end: f64| {
            let page = list(
                &conn,
                &ctx(),
                &key(),
                &MetricDataInput {
                    period: Some(60),
                    data_type: Some("FillWithZeros".into()),
                    start: Some(start),
                    end: Some(end),
                    ..input()
                },
            )
            .unwrap();
            assert_eq!(page.timestamps.len(), page.values.len());
            (page.timestamps, page.values.iter().sum::<f64>())
        };
        // 20-14 days ago: only the available last day of it, from the 15-day cutoff.
        let (stamps, total) = filled(NOW - 20.0 * DAY, NOW - 14.0 * DAY);
        assert_eq!(stamps.len(), 1440);
        assert_eq!(stamps[0], NOW as i64 - 15 * 86_400);
        assert_eq!(total, 3.0);
        // Wholly outside: empty, not zeros.
        assert_eq!(filled(NOW - 20.0 * DAY, NOW - 16.0 * DAY), (vec![], 0.0));
        assert_eq!(filled(NOW + DAY, NOW + 2.0 * DAY), (vec![], 0.0));
        // Into the future: up to the current minute only.
        let n = NOW as i64;
        assert_eq!(filled(NOW - 60.0, NOW + DAY), (vec![n - 60, n], 0.0));
    }

    #[test]
    fn names_codes_tokens_and_max_results_are_invalid_parameters() {
        let conn = cairn_store::in_memory().unwrap();
        let error_rate = |code: &str| MetricDataInput {
            insight_type: "ApiErrorRateInsight".into(),
            error_code: Some(code.into()),
            ..input()
        };
        let long = "a".repeat(129);
        let cases = [
            error_rate(""),
            error_rate("a/b"),
            error_rate("<script>"),
            error_rate(&long),
            MetricDataInput {
                event_name: long.clone(),
                ..input()
            },
            MetricDataInput {
                event_name: String::new(),
                ..input()
            },
            MetricDataInput {
                max_results: Some(0),
                ..input()
            },
            MetricDataInput {
                next_token: Some("bogus".into()),
                ..input()
            },
        ];
        for case in &cases {
            let e = refused(&conn, case);
            assert_eq!(e.kind, ErrorKind::InvalidParameter, "{case:?}: {e:?}");
        }
        for code in [
            "AccessDenied",
            "Client.Unauthorized",
            "Throttling: [rate] x,y-z",
            &"a".repeat(128),
        ] {
            assert!(
                list(&conn, &ctx(), &key(), &error_rate(code)).is_ok(),
                "{code}"
            );
        }
        let name = MetricDataInput {
            event_name: "A".repeat(128),
            ..input()
        };
        assert!(list(&conn, &ctx(), &key(), &name).is_ok());
    }

    #[test]
    fn a_page_resumes_after_its_last_point_when_the_window_moves() {
        // insights3: the token held a count of points, so a window that began one minute
        // later on the next page (no StartTime: it starts 15 days before now) lost a point.
        let conn = store_with_calls(3);
        let mut input = input();
        input.data_type = Some("FillWithZeros".into());
        input.period = Some(60);
        let all = list(&conn, &ctx(), &key(), &input).unwrap();
        let at = all.values.iter().position(|v| *v > 0.0).unwrap();
        let key = key();
        input.max_results = Some(at as i64);
        let first = list(&conn, &ctx(), &key, &input).unwrap();
        assert_eq!(first.timestamps.len(), at);
        input.next_token = first.next_token;
        input.max_results = Some(5);
        let later = crate::context::root_call_at(NOW + 90.0);
        let second = list(&conn, &later, &key, &input).unwrap();
        assert_eq!(
            second.timestamps[0], all.timestamps[at],
            "the next point, not one later"
        );
        assert_eq!(second.values[0], all.values[at]);
    }
}
