//! What the trail's event history (LookupEvents) says about its digests, which someone with
//! only access to the bucket cannot change:
//! - when log file validation was off (UpdateTrail and CreateTrail with
//!   `enableLogFileValidation`): CloudTrail creates no digest for the log files delivered
//!   then, so they are not "unlisted";
//! - when logging stopped (StopLogging, DeleteTrail) while validation was on, or validation
//!   was turned off (UpdateTrail) while logging: the chain then ends with a final digest,
//!   whose period holds the stop. A stop with no such digest means the final digest was
//!   deleted, and the gap after it is no longer a legitimate one.
//!
//! Event history's times are whole seconds and the calls are read name by name, so the
//! order of calls sharing a second is unknown: `order` reports only what every possible
//! order requires.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::client::CloudTrail;

use super::extra::Finding;
use super::report::line;
use super::time::{display, parse_digest_time};
use super::traverse::{Step, key_date};

/// The events this module reads.
const NAMES: [&str; 5] = [
    "CreateTrail",
    "UpdateTrail",
    "StartLogging",
    "StopLogging",
    "DeleteTrail",
];
/// How far before the range the history is read, to learn the state the range began in.
const LOOKBACK: i64 = 90 * 86_400;
/// The longest a final digest may take after its stop before its absence is an error (the
/// trail's digest period counts when longer): CloudTrail delivers within about 15 minutes.
const FINAL_DIGEST_LATENCY: i64 = 900;

/// One successful call on this trail.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// Epoch seconds.
    pub time: i64,
    /// Event name.
    pub name: String,
    /// `enableLogFileValidation` as the call set it (CreateTrail: false when absent).
    pub validation: Option<bool>,
    /// `s3BucketName` as the call set it (CreateTrail, UpdateTrail).
    pub bucket: Option<String>,
    /// `s3KeyPrefix` as the call set it (CreateTrail: none when absent; empty: none).
    pub prefix: Option<String>,
    /// The region the call was made in (a trail's calls are made in its home region).
    pub region: Option<String>,
    /// `isMultiRegionTrail` as the call set it (CreateTrail: false when absent).
    pub multi_region: Option<bool>,
}

/// The trail's calls, oldest first, and the validation state before the first of them.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Calls on this trail.
    pub calls: Vec<Call>,
    /// Validation as DescribeTrails reports it now (when the trail exists).
    pub validation_now: Option<bool>,
    /// Other trails that CreateTrail or UpdateTrail pointed at this trail's bucket and
    /// prefix without log file validation (deleted ones too, which DescribeTrails no longer
    /// shows): their files are listed by no digest.
    pub unvalidated_sharers: Vec<String>,
    /// Spans in which another trail delivering to this bucket and prefix had log file
    /// validation off (turned off for a while and on again): its files delivered then are
    /// listed by no digest (digest7 G2).
    pub others_off: Vec<(i64, i64)>,
    /// The other places (bucket, prefix) trails that delivered here moved to (digest7 G3).
    pub others_places: Vec<(String, Option<String>)>,
    /// Other trails' calls in the window, oldest first, by trail name.
    pub other_calls: BTreeMap<String, Vec<Call>>,
}

/// Whether a CreateTrail or UpdateTrail of another trail (`params`) delivers to `place`
/// (bucket, prefix) without turning log file validation on.
fn shares_unvalidated(params: &Value, place: (&str, Option<&str>)) -> bool {
    let prefix = |p: Option<&str>| p.filter(|p| !p.is_empty()).map(str::to_owned);
    params["s3BucketName"].as_str() == Some(place.0)
        && prefix(params["s3KeyPrefix"].as_str()) == prefix(place.1)
        && params["enableLogFileValidation"].as_bool() != Some(true)
}

/// A trail's name from a call's `name` (a name, or a trail ARN).
fn trail_name(name_or_arn: &str) -> &str {
    match name_or_arn.strip_prefix("arn:") {
        Some(_) => name_or_arn
            .rsplit_once(":trail/")
            .map_or(name_or_arn, |(_, n)| n),
        None => name_or_arn,
    }
}

/// Whether `params` (a call's requestParameters) names this trail.
fn names_trail(params: &Value, region: &str, arn: &cairn_model::trail::TrailArn) -> bool {
    match params["name"].as_str() {
        Some(n) if n.starts_with("arn:") => {
            cairn_model::trail::TrailArn::parse(n).is_some_and(|a| a == *arn)
        }
        Some(n) => n == arn.name && region == arn.region,
        None => false,
    }
}

/// Reads the trail's calls from `from` to `to` through LookupEvents (in the trail's home
/// region). `None` when event history cannot be read (the checks are then skipped).
pub async fn lookup(
    ct: &CloudTrail,
    arn: &cairn_model::trail::TrailArn,
    (from, to): (i64, i64),
    validation_now: Option<bool>,
    place: (&str, Option<&str>),
    (validated, stopped_now): (&str, &[String]),
) -> Result<History, String> {
    let mut calls = Vec::new();
    let mut unvalidated_sharers: Vec<String> = Vec::new();
    // Other trails' calls, by name, for the spans their validation was off.
    let mut others: BTreeMap<String, Vec<Call>> = BTreeMap::new();
    // Other trails that started logging: only those can have delivered a file.
    let mut started: Vec<String> = Vec::new();
    for name in NAMES {
        let mut token: Option<String> = None;
        loop {
            let mut body = json!({
                "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": name}],
                "StartTime": from - LOOKBACK,
                "EndTime": to,
                "MaxResults": 50,
            });
            if let Some(t) = &token {
                body["NextToken"] = json!(t);
            }
            let page = match call_patiently(ct, &body).await {
                Ok(p) => p,
                Err(e) => return Err(format!("{e:#}")),
            };
            for e in page["Events"].as_array().into_iter().flatten() {
                let Some(record) = e["CloudTrailEvent"]
                    .as_str()
                    .and_then(|r| serde_json::from_str::<Value>(r).ok())
                else {
                    continue;
                };
                let region = record["awsRegion"].as_str().unwrap_or_default();
                if record.get("errorCode").is_some_and(|c| !c.is_null()) {
                    continue;
                }
                let params = &record["requestParameters"];
                if !names_trail(params, region, arn)
                    && let Some(other) = params["name"].as_str()
                    && let Some(time) = record["eventTime"].as_str().and_then(parse_digest_time)
                {
                    others
                        .entry(trail_name(other).to_owned())
                        .or_default()
                        .push(call_of(name, time, params, region));
                }
                if !names_trail(params, region, arn) {
                    if name == "StartLogging"
                        && let Some(other) = params["name"].as_str()
                    {
                        started.push(trail_name(other).to_owned());
                    }
                    if matches!(name, "CreateTrail" | "UpdateTrail")
                        && shares_unvalidated(params, place)
                        && let Some(other) = params["name"].as_str()
                        && !unvalidated_sharers.iter().any(|o| o == other)
                    {
                        unvalidated_sharers.push(other.to_owned());
                    }
                    continue;
                }
                let Some(time) = record["eventTime"].as_str().and_then(parse_digest_time) else {
                    continue;
                };
                calls.push(call_of(name, time, params, region));
            }
            match page["NextToken"].as_str() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
    }
    // Calls of one second keep the order of `NAMES` (their order within a second is unknown:
    // `order` and `stopped_sharers` take each second's calls together).
    calls.sort_by_key(|c| c.time);
    // A trail pointed at the bucket that never started logging delivered nothing there: it
    // must not excuse the bucket's unlisted files.
    // recheck34: and one that logged only elsewhere (started after it moved away) did not;
    // nor one that never writes the validated region's folder (recheck34b).
    others.retain(|_, calls| reaches(calls, validated));
    for calls in others.values_mut() {
        calls.sort_by_key(|c| c.time);
    }
    unvalidated_sharers.retain(|s| {
        started.iter().any(|n| n == trail_name(s))
            && others
                .get(trail_name(s))
                .is_some_and(|calls| logged_here_unvalidated(calls, place))
    });
    let others_places = others_places(&others, place);
    let other_calls = others.clone();
    let others_off = others_off(others, place, &started, stopped_now);
    Ok(History {
        calls,
        validation_now,
        unvalidated_sharers,
        others_off,
        others_places,
        other_calls,
    })
}

/// [`lookup`] in the trail's home region (`home`), with other trails' calls in the region
/// validated (`local`, when another) too: a single-region trail sharing the place there
/// records its UpdateTrail calls only in that region's event history (digest8 H4: its
/// validation-off files were reported as unlisted on an untouched bucket).
pub async fn lookup_with(
    (home, local): (&CloudTrail, Option<&CloudTrail>),
    arn: &cairn_model::trail::TrailArn,
    window: (i64, i64),
    validation_now: Option<bool>,
    place: (&str, Option<&str>),
    stopped_now: &[String],
) -> Result<History, String> {
    let validated = local.map_or(home.region.as_str(), |l| l.region.as_str());
    let scope = (validated, stopped_now);
    let mut h = lookup(home, arn, window, validation_now, place, scope).await?;
    if let Some(local) = local
        && let Ok(there) = lookup(local, arn, window, validation_now, place, scope).await
    {
        h.others_off.extend(there.others_off);
        for s in there.unvalidated_sharers {
            if !h.unvalidated_sharers.contains(&s) {
                h.unvalidated_sharers.push(s);
            }
        }
        for p in there.others_places {
            if !h.others_places.contains(&p) {
                h.others_places.push(p);
            }
        }
        for (name, calls) in there.other_calls {
            let mine = h.other_calls.entry(name).or_default();
            for c in calls {
                if !mine.contains(&c) {
                    mine.push(c);
                }
            }
            mine.sort_by_key(|c| c.time);
        }
    }
    Ok(h)
}

/// A call on a trail as event history records it (`params`: its `requestParameters`).
fn call_of(name: &str, time: i64, params: &Value, region: &str) -> Call {
    let given = params["enableLogFileValidation"].as_bool();
    let multi = params["isMultiRegionTrail"].as_bool();
    let placed = matches!(name, "CreateTrail" | "UpdateTrail");
    let member = |m: &str| params[m].as_str().filter(|_| placed).map(str::to_owned);
    Call {
        time,
        name: name.to_owned(),
        validation: match name {
            "CreateTrail" => Some(given.unwrap_or(false)),
            "UpdateTrail" => given,
            _ => None,
        },
        bucket: member("s3BucketName"),
        prefix: match name {
            "CreateTrail" => Some(member("s3KeyPrefix").unwrap_or_default()),
            _ => member("s3KeyPrefix"),
        },
        region: Some(region.to_owned()).filter(|r| !r.is_empty()),
        multi_region: match name {
            "CreateTrail" => Some(multi.unwrap_or(false)),
            "UpdateTrail" => multi,
            _ => None,
        },
    }
}

/// A call with only its time, name and validation (tests build the rest on it).
#[cfg(test)]
pub(crate) fn bare_call(time: i64, name: &str, validation: Option<bool>) -> Call {
    Call {
        time,
        name: name.to_owned(),
        validation,
        bucket: None,
        prefix: None,
        region: None,
        multi_region: None,
    }
}

/// Whether a trail's calls say it can deliver to `region`'s folder: made there (its home
/// region) or multi-region at some point. recheck34b: a single-region trail of another
/// region sharing the bucket turned the check off for a region it never writes.
fn reaches(calls: &[Call], region: &str) -> bool {
    calls
        .iter()
        .any(|c| c.region.as_deref() == Some(region) || c.multi_region == Some(true))
}

/// The places (bucket, prefix) other trails that delivered to `place` delivered to besides,
/// followed through their calls (an UpdateTrail naming only one of the two keeps the other).
fn others_places(
    others: &BTreeMap<String, Vec<Call>>,
    place: (&str, Option<&str>),
) -> Vec<(String, Option<String>)> {
    let norm = |p: Option<&str>| p.filter(|p| !p.is_empty()).map(str::to_owned);
    let here = (place.0.to_owned(), norm(place.1));
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for calls in others.values() {
        let mut calls = calls.clone();
        calls.sort_by_key(|c| c.time);
        let (mut bucket, mut prefix): (Option<String>, Option<String>) = (None, None);
        let mut visited: Vec<(String, Option<String>)> = Vec::new();
        for c in &calls {
            if c.bucket.is_none() && c.prefix.is_none() {
                continue;
            }
            if let Some(b) = &c.bucket {
                bucket = Some(b.clone());
            }
            if c.prefix.is_some() {
                prefix = norm(c.prefix.as_deref());
            }
            if let Some(b) = &bucket {
                visited.push((b.clone(), prefix.clone()));
            }
        }
        if visited.contains(&here) {
            for p in visited {
                if p != here && !out.contains(&p) {
                    out.push(p);
                }
            }
        }
    }
    out
}

/// The spans in which other trails delivered to `place` with validation off, from their
/// calls: only while their calls had them in that bucket and prefix (recheck34: a trail
/// moved elsewhere, one only in the bucket's other prefix, or a deleted one re-created
/// elsewhere under the same name, excused files planted here), and only trails whose
/// validation was turned off at some point (a trail sharing the place without validation now
/// is skipped with a notice instead).
fn others_off(
    others: BTreeMap<String, Vec<Call>>,
    place: (&str, Option<&str>),
    started: &[String],
    stopped_now: &[String],
) -> Vec<(i64, i64)> {
    let mut spans = Vec::new();
    for (name, mut calls) in others {
        // Only a trail that logged can have delivered a file (a trail pointed here without
        // validation and deleted unstarted excuses nothing).
        if !started.contains(&name) {
            continue;
        }
        calls.sort_by_key(|c| c.time);
        let here = here_spans(&calls, place);
        // Turned off for a while: a trail that never had validation is an unvalidated
        // sharer, for which the check is skipped with a notice instead.
        let toggled = calls.iter().any(|c| c.validation == Some(false))
            && calls.iter().any(|c| c.validation == Some(true));
        if here.is_empty() || !toggled {
            continue;
        }
        // A deleted trail delivers nothing after its DeleteTrail.
        let deletions: Vec<i64> = calls
            .iter()
            .filter(|c| c.name == "DeleteTrail")
            .map(|c| c.time)
            .collect();
        // Only while it may have been logging (recheck35: validation turned off once it had
        // stopped excused every later file).
        let logging_now = stopped_now.contains(&name).then_some(false);
        let logging = super::order::maybe_logging(&calls, logging_now);
        for (a, b) in super::order::maybe_off(&calls, Some(true)) {
            let end = deletions
                .iter()
                .filter(|&&d| d >= a && d < b)
                .map(|d| d + 1)
                .min()
                .unwrap_or(b);
            for (h0, h1) in &here {
                for (l0, l1) in &logging {
                    let (from, to) = (a.max(*h0).max(*l0), end.min(*h1).min(*l1));
                    if from < to {
                        spans.push((from, to));
                    }
                }
            }
        }
    }
    spans
}

/// Whether a trail's calls (oldest first) had it logging at `place` without validation at
/// the end of some second. Before its first call it exists, at an unknown place; it was
/// logging then only when its first StartLogging/StopLogging is a stop; validation it had
/// then is unknown (taken as off). Calls of one second are taken together
/// ([`super::stopped_sharers::ever_delivering`]).
fn logged_here_unvalidated(calls: &[Call], place: (&str, Option<&str>)) -> bool {
    let norm = |p: Option<&str>| p.filter(|p| !p.is_empty()).map(str::to_owned);
    let want = (Some(place.0.to_owned()), norm(place.1));
    let start = super::stopped_sharers::State {
        exists: true,
        logging: false,
        place: (None, None),
        validation: None,
    };
    super::stopped_sharers::ever_delivering(calls, start, want, None)
}

/// The spans (epoch seconds, end exclusive) a trail's calls had it delivering to `place`:
/// from the call that put it there to the second of the call that took it away (a file
/// delivered in that second may precede the call). CreateTrail sets both bucket and prefix,
/// UpdateTrail what it names, DeleteTrail ends the trail. A trail whose calls never name
/// the place is never here.
fn here_spans(calls: &[Call], place: (&str, Option<&str>)) -> Vec<(i64, i64)> {
    let norm = |p: Option<&str>| p.filter(|p| !p.is_empty()).map(str::to_owned);
    let want = (Some(place.0.to_owned()), norm(place.1));
    let (mut bucket, mut prefix, mut exists) = (None::<String>, None::<String>, false);
    let mut since: Option<i64> = None;
    let mut out = Vec::new();
    for c in calls {
        match c.name.as_str() {
            "CreateTrail" => {
                (bucket, prefix, exists) = (c.bucket.clone(), norm(c.prefix.as_deref()), true);
            }
            "UpdateTrail" => {
                if c.bucket.is_some() {
                    bucket = c.bucket.clone();
                }
                if c.prefix.is_some() {
                    prefix = norm(c.prefix.as_deref());
                }
            }
            "DeleteTrail" => exists = false,
            _ => continue,
        }
        let here = exists && (bucket.clone(), prefix.clone()) == want;
        match (here, since) {
            (true, None) => since = Some(c.time),
            (false, Some(from)) => {
                out.push((from, c.time + 1));
                since = None;
            }
            _ => {}
        }
    }
    if let Some(from) = since {
        out.push((from, i64::MAX / 2));
    }
    out
}

/// LookupEvents, waited out when throttled (AWS allows two calls a second).
async fn call_patiently(ct: &CloudTrail, body: &Value) -> anyhow::Result<Value> {
    let mut attempt = 0;
    loop {
        match ct.call("LookupEvents", body).await {
            Err(e) if attempt < 5 && format!("{e:#}").contains("Throttling") => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(500 << attempt)).await;
            }
            other => return other,
        }
    }
}

impl History {
    /// Spans during which validation was, or may have been, off (epoch seconds, end
    /// exclusive): whole-second event history leaves the order within a second open, and
    /// a file delivered in the second validation came back on may predate it
    /// ([`super::order::maybe_off`]).
    pub fn validation_off(&self) -> Vec<(i64, i64)> {
        super::order::maybe_off(&self.calls, self.validation_now)
    }

    /// Spans (epoch seconds) in which the trail was certainly not logging: from the second
    /// after a StopLogging or DeleteTrail to the second of the next StartLogging (of the
    /// trail, or of a trail of the same name created again), when no StartLogging shares the
    /// stop's second; a trail deleted for good is stopped from its deletion on (digest9 E2:
    /// a file planted between a DeleteTrail and the re-created trail's StartLogging passed).
    pub fn stopped_spans(&self) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let mut stopped: Option<i64> = None;
        for call in &self.calls {
            match call.name.as_str() {
                "StopLogging" | "DeleteTrail" => {
                    let same_second_start = self
                        .calls
                        .iter()
                        .any(|c| c.name == "StartLogging" && c.time == call.time);
                    if !same_second_start {
                        stopped = stopped.or(Some(call.time + 1));
                    }
                }
                "StartLogging" => {
                    if let Some(s) = stopped.take()
                        && call.time >= s
                    {
                        out.push((s, call.time));
                    }
                }
                // A new trail of the same name starts stopped.
                _ => {}
            }
        }
        if let Some(s) = stopped
            && self.calls.last().is_some_and(|c| c.name == "DeleteTrail")
        {
            out.push((s, i64::MAX / 2));
        }
        out
    }

    /// Times in `[start, end]` at which logging stopped (StopLogging, DeleteTrail) while it
    /// was on and validation was on, in whatever order calls sharing a second came: each
    /// owes a final digest ([`super::order::certain_stops`]).
    pub fn stops_owing_digests(&self, start: i64, end: i64) -> Vec<(i64, &str)> {
        super::order::certain_stops(&self.calls, self.validation_now, start, end)
    }

    /// Whether the trail may have delivered to `place` (bucket, prefix) when logging stopped
    /// at `stop`: false only when the calls before it (CreateTrail, UpdateTrail) certainly
    /// put it elsewhere, its final digest then being owed there. Calls in the stop's own
    /// second may come before or after it, so either place counts.
    fn may_deliver_to(&self, stop: i64, place: (&str, Option<&str>)) -> bool {
        let norm = |p: Option<&str>| p.unwrap_or_default().trim_end_matches('/').to_owned();
        let (want_bucket, want_prefix) = (place.0, norm(place.1));
        let (mut bucket, mut prefix): (Option<&str>, Option<String>) = (None, None);
        let here = |b: Option<&str>, p: &Option<String>| {
            b.is_none_or(|b| b == want_bucket) && p.as_ref().is_none_or(|p| *p == want_prefix)
        };
        let mut possible = false;
        for call in self.calls.iter().filter(|c| c.time <= stop) {
            if call.time == stop {
                possible |= here(bucket, &prefix);
            }
            if let Some(b) = &call.bucket {
                bucket = Some(b);
            }
            if let Some(p) = &call.prefix {
                prefix = Some(norm(Some(p)));
            }
        }
        possible || here(bucket, &prefix)
    }
}

/// Stops that owe a final digest the walk did not find: the first digest ending at or after
/// the stop must be valid and its period must hold the stop. A stop within the final
/// digest's latency of `now` is let be (its digest may still be on its way), as is one
/// whose first later digest the walk already reported missing or invalid. Returns the
/// findings and the stop times that lack their final digest.
pub fn missing_final_digests(
    history: &History,
    steps: &[Step],
    cx: &super::checks::Context<'_>,
    end: i64,
    now: i64,
) -> (Vec<Finding>, Vec<i64>) {
    let mut findings = Vec::new();
    let mut stops = Vec::new();
    let latency = cx.period.unwrap_or(0).max(FINAL_DIGEST_LATENCY);
    let spans: Vec<(i64, Option<i64>)> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Valid { digest, .. } => {
                let d = &digest.digest;
                let b = parse_digest_time(&d.digest_end_time)?;
                Some((b, parse_digest_time(&d.digest_start_time)))
            }
            Step::Missing { key, .. } | Step::Invalid { key, .. } => Some((key_date(key)?, None)),
            Step::Gap { .. } => None,
        })
        .collect();
    let place = (cx.layout.bucket.as_str(), cx.layout.prefix.as_deref());
    for (stop, name) in history.stops_owing_digests(cx.start, end) {
        // A stop while the trail delivered elsewhere owes its final digest there.
        if !history.may_deliver_to(stop, place) {
            continue;
        }
        // Where a digest is not due every period (another region, account, bucket), only a
        // chain that ran before the stop owes its final digest.
        if !cx.always_digested && !spans.iter().any(|(b, a)| *b < stop && a.is_some()) {
            continue;
        }
        // The first digest (by end time) ending at or after the stop.
        let first = spans
            .iter()
            .filter(|(b, _)| *b >= stop)
            .min_by_key(|(b, _)| *b);
        match first {
            Some((_, Some(a))) if *a <= stop => continue,
            Some((_, None)) => continue,
            // Beyond the digests listed (after the window), or not due yet.
            None if cx.own_after.is_some() => continue,
            None if now - stop < latency && cx.latest_digest.is_none_or(|l| l < stop) => {
                continue;
            }
            _ => {}
        }
        stops.push(stop);
        findings.push(Finding {
            line: line(
                "Digest files",
                &cx.layout.bucket,
                &cx.layout.digest_dir(),
                &format!(
                    "INVALID: no final digest for trail {}, whose {} at {} \
                     ({name} in event history); it has been deleted or moved",
                    cx.arn,
                    match name {
                        "UpdateTrail" => "log file validation was turned off",
                        _ => "logging stopped",
                    },
                    display(stop)
                ),
            ),
            digests: 1,
            logs: 0,
        });
    }
    (findings, stops)
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
