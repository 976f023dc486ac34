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
}

fn invalid(m: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::InvalidParameter, m)
}

fn matches(text: &str, ok: impl Fn(char) -> bool) -> bool {
    !text.is_empty() && text.chars().all(ok)
}

/// Runs one ListInsightsMetricData page over the caller's account and region.
pub fn list(
    conn: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    input: &MetricDataInput,
) -> ApiResult<MetricDataOutput> {
    let source_ok = input
        .event_source
        .strip_suffix(".amazonaws.com")
        .is_some_and(|s| {
            matches(s, |c| {
                c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
            })
        });
    if !source_ok {
        return Err(invalid(format!(
            "EventSource {} is not valid. It must match ^[a-z0-9_-]+\\.amazonaws\\.com$.",
            input.event_source
        )));
    }
    if !matches(&input.event_name, |c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(invalid(format!(
            "EventName {} is not valid. It must match ^[A-Za-z0-9_]+$.",
            input.event_name
        )));
    }
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
    let retention_days = match period {
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
        return Err(ApiError::new(
            ErrorKind::InvalidMaxResults,
            format!("MaxResults must be between 1 and {MAX_RESULTS}; {limit} is not valid."),
        ));
    }
    // `TrailName` asks for a trail's data-event series: the trail must exist, and its series
    // are empty because Insights on data events detect nothing yet (README).
    let data_events = match &input.trail {
        Some(name) => {
            crate::trails::resolve(conn, ctx, name)?;
            true
        }
        None => false,
    };
    let now = ctx.now_secs();
    // No datapoints after now, not even zeros (the minutes have not happened).
    let end = input.end.map(|e| e.floor() as i64).unwrap_or(now).min(now);
    let start = input
        .start
        .map(|s| s.floor() as i64)
        .unwrap_or(now - 90 * 86_400)
        .max(now - retention_days * 86_400);
    if input.start.is_some() && input.end.is_some() && start >= end {
        return Err(ApiError::new(
            ErrorKind::InvalidTimeRange,
            "Start time must be earlier than end time.",
        ));
    }
    let first_bucket = start.div_euclid(period) * period;
    let series_key = SeriesKey {
        account: ctx.account().as_str().to_owned(),
        region: ctx.region.as_str().to_owned(),
        kind: kind_of(insight_type),
        source: input.event_source.clone(),
        name: input.event_name.clone(),
        error_code,
    };
    let rows = if data_events {
        Vec::new()
    } else {
        store::series(
            conn,
            &series_key,
            first_bucket.div_euclid(60),
            end.div_euclid(60) + i64::from(end.rem_euclid(60) != 0),
        )?
    };
    let mut buckets: Vec<(i64, i64)> = Vec::new();
    for (minute, count) in rows {
        let b = (minute * 60).div_euclid(period) * period;
        if b < start.div_euclid(period) * period || b >= end {
            continue;
        }
        match buckets.last_mut() {
            Some((last, sum)) if *last == b => *sum += count,
            _ => buckets.push((b, count)),
        }
    }
    let mut points: Vec<(i64, i64)> = if fill {
        let mut all = Vec::new();
        let mut it = buckets.into_iter().peekable();
        let mut b = first_bucket;
        while b < end {
            let n = match it.peek() {
                Some((t, n)) if *t == b => {
                    let n = *n;
                    it.next();
                    n
                }
                _ => 0,
            };
            all.push((b, n));
            b += period;
        }
        all
    } else {
        buckets
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
                fill
            )
        ));
        hex::encode(h.finalize())
    };
    let skip = match &input.next_token {
        None => 0,
        Some(token) => key
            .open(&scope, token)
            .and_then(|p| p.parse::<usize>().ok())
            .ok_or_else(|| ApiError::new(ErrorKind::InvalidNextToken, "Invalid NextToken."))?,
    };
    let rest: Vec<(i64, i64)> = points.drain(..).skip(skip).collect();
    let take = limit as usize;
    let next_token = (rest.len() > take).then(|| key.seal(&scope, &(skip + take).to_string()));
    let per_minute = (period / 60) as f64;
    let page = &rest[..rest.len().min(take)];
    Ok(MetricDataOutput {
        insight_type,
        timestamps: page.iter().map(|(t, _)| *t).collect(),
        values: page.iter().map(|(_, n)| *n as f64 / per_minute).collect(),
        next_token,
    })
}
