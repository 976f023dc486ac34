//! The one ingest path (spec monitoring.md §1.3 PutLogEvents, §2.8): PutLogEvents and the
//! trail's CloudWatch Logs delivery both call [`ingest`], which applies AWS's batch rules,
//! stores the accepted events, and runs the group's metric filters into the metric store.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use cairn_store::Connection;
use cairn_store::logs::{LogGroup, events as store_events, filters as store_filters};
use cairn_store::metrics::MetricKey;

use super::metric_filters::{self, Compiled};
use super::{GroupKey, invalid, load_group, load_stream};
use crate::error::ApiResult;
use crate::metrics;

/// Most events in one batch.
pub const MAX_BATCH_EVENTS: usize = 10_000;
/// Most bytes in one batch, counting 26 bytes per event.
pub const MAX_BATCH_BYTES: usize = 1_048_576;
/// Bytes AWS adds per event when sizing a batch.
pub const EVENT_OVERHEAD: usize = 26;
/// The widest time span of one batch.
pub const MAX_SPAN_MS: i64 = 24 * 3_600_000;
/// How far in the future an event may be.
pub const MAX_FUTURE_MS: i64 = 2 * 3_600_000;
/// How old an event may be.
pub const MAX_AGE_MS: i64 = 14 * 86_400_000;

/// One event to ingest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputEvent {
    /// Event time, ms.
    pub timestamp: i64,
    /// The message (≥ 1 character).
    pub message: String,
}

/// Which events of a batch were refused (indexes as AWS reports them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rejected {
    /// Events before this index were older than 14 days.
    pub too_old_end: Option<usize>,
    /// Events from this index on were more than 2 hours in the future.
    pub too_new_start: Option<usize>,
    /// Events before this index were older than the group's retention.
    pub expired_end: Option<usize>,
}

impl Rejected {
    /// Whether nothing was refused.
    pub fn is_empty(&self) -> bool {
        *self == Rejected::default()
    }
}

/// What an ingest did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    /// The legacy `nextSequenceToken`.
    pub next_sequence_token: String,
    /// Refused events.
    pub rejected: Rejected,
    /// Events stored.
    pub stored: usize,
    /// Datapoints emitted by metric filters (after aggregation).
    pub datapoints: usize,
}

/// Stores a batch in `stream` of `group` as of `now_ms` and applies the group's metric filters
/// and, for a batch sent as `json/emf`, its events' embedded metrics ([`super::emf`]).
///
/// Errors: the group or stream does not exist (`ResourceNotFoundException`); the batch breaks a
/// rule (`InvalidParameterException`: too many events, too large, out of order, spans more
/// than 24 hours). Events too old, expired or too new are refused individually.
pub fn ingest(
    conn: &Connection,
    group: &GroupKey,
    stream: &str,
    events: &[InputEvent],
    now_ms: i64,
) -> ApiResult<Ingested> {
    ingest_as(conn, group, stream, events, now_ms, false)
}

/// [`ingest`], for a batch sent as `json/emf` (`emf`) too.
pub fn ingest_as(
    conn: &Connection,
    group: &GroupKey,
    stream: &str,
    events: &[InputEvent],
    now_ms: i64,
    emf: bool,
) -> ApiResult<Ingested> {
    let group = load_group(conn, group)?;
    let stream = load_stream(conn, &group, stream)?;
    if events.is_empty() {
        return Err(super::constraint(
            "",
            "logEvents",
            "Member must have length greater than or equal to 1",
        ));
    }
    if events.len() > MAX_BATCH_EVENTS {
        return Err(invalid(format!(
            "The batch of log events in a single PutLogEvents request cannot have more than {MAX_BATCH_EVENTS} events."
        )));
    }
    let size: usize = events
        .iter()
        .map(|e| e.message.len() + EVENT_OVERHEAD)
        .sum();
    if size > MAX_BATCH_BYTES {
        return Err(invalid(format!(
            "Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}"
        )));
    }
    if let Some(k) = events.iter().position(|e| e.message.is_empty()) {
        return Err(super::constraint(
            "",
            &format!("logEvents.{}.member.message", k + 1),
            "Member must have length greater than or equal to 1",
        ));
    }
    if events.windows(2).any(|w| w[1].timestamp < w[0].timestamp) {
        return Err(invalid(
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let too_old = events
        .iter()
        .take_while(|e| e.timestamp < now_ms - MAX_AGE_MS)
        .count();
    let expired = group.retention_days.map_or(0, |days| {
        events
            .iter()
            .take_while(|e| e.timestamp < now_ms - days * 86_400_000)
            .count()
    });
    let too_new_start = events
        .iter()
        .position(|e| e.timestamp > now_ms + MAX_FUTURE_MS);
    let first_valid = too_old.max(expired);
    let end_valid = too_new_start.unwrap_or(events.len()).max(first_valid);
    let valid = &events[first_valid..end_valid];
    if let (Some(first), Some(last)) = (valid.first(), valid.last())
        && last.timestamp - first.timestamp > MAX_SPAN_MS
    {
        return Err(invalid(
            "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
        ));
    }
    let rejected = Rejected {
        too_old_end: (too_old > 0).then_some(too_old),
        too_new_start,
        expired_end: (expired > 0).then_some(expired),
    };
    let rows: Vec<(i64, &str)> = valid
        .iter()
        .map(|e| (e.timestamp, e.message.as_str()))
        .collect();
    if !rows.is_empty() {
        store_events::append(conn, group.id, stream.id, &rows, now_ms)?;
    }
    let mut datapoints = apply_metric_filters(conn, &group, &rows)?;
    if emf {
        datapoints += super::emf::apply(conn, &group, &rows, now_ms)?;
    }
    Ok(Ingested {
        next_sequence_token: format!("{:056}", stream.upload_seq + 1),
        rejected,
        stored: rows.len(),
        datapoints,
    })
}

/// The most dimension sets a filter's metric gets within an hour (see [`apply_metric_filters`]).
const MAX_DIMENSION_SETS_PER_HOUR: i64 = 1000;

/// One aggregated datapoint: (filter index, dimension values, minute start, value).
type PointKey = (usize, Vec<(String, String)>, i64, u64);

/// A filter's series in one minute: (filter index, dimension values, minute).
type SeriesMinute<'a> = (usize, &'a [(String, String)], i64);

/// Runs the group's metric filters over stored events, aggregating per filter, dimension
/// values and UTC minute of the event (each point keeping its distinct values and their
/// counts); returns how many points were written.
fn apply_metric_filters(
    conn: &Connection,
    group: &LogGroup,
    events: &[(i64, &str)],
) -> ApiResult<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    let stored = store_filters::of_group(conn, group.id)?;
    if stored.is_empty() {
        return Ok(0);
    }
    let compiled = metric_filters::compile(&stored)?;
    let mut points: BTreeMap<PointKey, f64> = BTreeMap::new();
    let mut unmatched = BTreeSet::new();
    for (ts, message) in events {
        collect(&compiled, *ts, message, &mut points, &mut unmatched);
    }
    // A filter's default value is reported once per minute in which events came and none
    // matched (CloudWatch Logs user guide, "defaultValue": "the value reported to the metric
    // filter during a period when logs are ingested but no matching logs are found"), not
    // once per event: it would otherwise drag Average, Minimum and SampleCount down.
    for (index, minute) in unmatched {
        let matched = points
            .range((index, Vec::new(), i64::MIN, 0)..)
            .take_while(|((i, _, _, _), _)| *i == index)
            .any(|((_, _, m, _), _)| *m == minute);
        let t = &compiled.transformations[index];
        if let (false, Some(default)) = (matched, t.default_value) {
            // Nor when an earlier batch already reported this minute (a match, or the
            // default itself).
            let key = MetricKey {
                account: &group.account,
                region: &group.region,
                namespace: &t.namespace,
                name: &t.name,
                dimensions: &[],
            };
            let reported = match cairn_store::metrics::metric_id(conn, &key, minute, false)? {
                Some(id) => {
                    !cairn_store::metrics::points(conn, id, minute, minute + 60_000)?.is_empty()
                }
                None => false,
            };
            if !reported {
                points.insert((index, Vec::new(), minute, default.to_bits()), 1.0);
            }
        }
    }
    // One point per filter, dimension values and minute, keeping its distinct values and
    // their counts (hostile15: a point per distinct value let one PutLogEvents of 10,000
    // events under 100 filters write a million rows).
    let mut grouped: BTreeMap<SeriesMinute<'_>, Vec<(f64, f64)>> = BTreeMap::new();
    for ((index, dims, minute, bits), count) in &points {
        grouped
            .entry((*index, dims.as_slice(), *minute))
            .or_default()
            .push((f64::from_bits(*bits), *count));
    }
    let mut written = 0;
    // Active dimension sets per metric, counted once a call and kept up to date as sets are
    // added (hostile17: counting again for every refused set held the writer for minutes).
    let mut active: HashMap<(&str, &str, i64), i64> = HashMap::new();
    for ((index, dims, minute), values) in &grouped {
        let (index, minute) = (*index, *minute);
        let t = &compiled.transformations[index];
        let key = MetricKey {
            account: &group.account,
            region: &group.region,
            namespace: &t.namespace,
            name: &t.name,
            dimensions: dims,
        };
        // A filter's dimensions make at most 1,000 new dimension sets of a metric an hour
        // (the model: Logs "might disable a metric filter if it generates 1,000 different
        // name/value pairs for your specified dimensions within one hour"): beyond that a
        // new set is dropped, so log data cannot grow the store without bound (alarms4).
        if !dims.is_empty() && cairn_store::metrics::metric_id(conn, &key, minute, false)?.is_none()
        {
            // Counted per hour of data: the sets active from the hour before the set's hour
            // to the end of its hour (recheck36: one count for the whole call let an event
            // dated ahead open 1,000 more sets a call, and one dated back refuse fresh ones).
            let hour = minute - minute.rem_euclid(3_600_000);
            let count = match active.entry((t.namespace.as_str(), t.name.as_str(), hour)) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(cairn_store::metrics::count_active(
                    conn,
                    (&group.account, &group.region, &t.namespace, &t.name),
                    (hour - 3_600_000, hour + 3_600_000),
                )?),
            };
            if *count >= MAX_DIMENSION_SETS_PER_HOUR {
                continue;
            }
            *count += 1;
        }
        metrics::put_values(conn, &key, minute, values, &t.unit, 60)?;
        written += 1;
    }
    Ok(written)
}

/// Evaluates every filter of a group against one message, adding its datapoints to `points`
/// and, for a filter with a default value that the message does not match, its minute to
/// `unmatched` (the default is reported once per such minute, see [`apply_metric_filters`]).
pub fn collect(
    compiled: &Compiled,
    ts: i64,
    message: &str,
    points: &mut BTreeMap<PointKey, f64>,
    unmatched: &mut BTreeSet<(usize, i64)>,
) {
    let scan = compiled.matcher.scan(message);
    let minute = ts.div_euclid(60_000) * 60_000;
    for (index, t) in compiled.transformations.iter().enumerate() {
        let emitted = if scan.results[index].is_some() {
            // A value CloudWatch would not store (beyond ±2^360) is dropped, as PutMetricData
            // refuses it: two such lines would make a minute's Sum infinite and the alarm
            // would read that minute as missing (alarms4).
            let Some(value) = t
                .value
                .value(&scan, index)
                .filter(|v| crate::metrics::api::storable(*v))
            else {
                continue;
            };
            let mut dims = Vec::with_capacity(t.dimensions.len());
            for (name, selector) in &t.dimensions {
                match scan.resolve(index, selector) {
                    Some(v) if !v.is_empty() => dims.push((name.clone(), v)),
                    _ => break,
                }
            }
            // A dimension value CloudWatch would refuse (not ASCII, blank, over 1,024
            // characters) makes no datapoint: no alarm could be set on its metric (alarms4).
            if dims.len() != t.dimensions.len()
                || crate::metrics::api::check_dimensions(&dims).is_err()
            {
                continue;
            }
            (value, dims)
        } else {
            if t.default_value.is_some() {
                unmatched.insert((index, minute));
            }
            continue;
        };
        *points
            .entry((index, emitted.1, minute, emitted.0.to_bits()))
            .or_insert(0.0) += 1.0;
    }
}
