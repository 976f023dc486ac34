//! Evaluating one closed minute of one trail in one region: continue or end the open
//! insights, start new ones, and append their Insights events. Runs inside a write
//! transaction; the caller advances the trail's progress in the same one.

use std::collections::HashMap;

use cairn_model::insight::InsightRecord;
use cairn_model::trail::{InsightType, Trail};
use cairn_store::events::{self, NewEvent, chain::record_hash};
use cairn_store::insights::{self as store, KIND_CALL, OpenState, SeriesKey};
use cairn_store::{Connection, StoreResult};

use super::detect::{self, Params, Running};
use super::kind_of;
use super::records::{self, AttributionCounts, Facts};

/// The series kinds a trail's Insights measure (management-event insights only), while the
/// trail logs what each needs: write management events for call rate, any management
/// events for error rate ("the trail must log write management events"). A selector change
/// after PutInsightSelectors, which checked this, stops the insight type it starves.
pub fn kinds(trail: &Trail) -> Vec<i64> {
    let (reads, writes) = crate::selectors::management_coverage(trail);
    trail
        .insight_selectors
        .iter()
        .filter(|s| s.event_categories.iter().any(|c| c == "Management"))
        .filter(|s| match s.insight_type {
            InsightType::ApiCallRateInsight => writes,
            InsightType::ApiErrorRateInsight => reads || writes,
        })
        .map(|s| kind_of(s.insight_type))
        .collect()
}

const TOP: usize = 5;

fn attributions(
    conn: &Connection,
    key: &SeriesKey,
    insight: (i64, i64),
    baseline: (i64, i64),
) -> StoreResult<Vec<AttributionCounts>> {
    let names: &[&'static str] = if key.kind == KIND_CALL {
        &["userIdentityArn", "userAgent", "errorCode"]
    } else {
        &["userIdentityArn", "userAgent"]
    };
    names
        .iter()
        .map(|attribute| {
            Ok(AttributionCounts {
                attribute,
                insight: store::attribution_totals(
                    conn, key, attribute, insight.0, insight.1, TOP,
                )?,
                baseline: store::attribution_totals(
                    conn, key, attribute, baseline.0, baseline.1, TOP,
                )?,
            })
        })
        .collect()
}

/// Appends an Insights record to the event log (category `Insight`) and notes it as the
/// trail's. Returns false if an event with its id exists already.
pub fn append_record(
    conn: &Connection,
    trail_arn: &str,
    record: &InsightRecord,
    minute: i64,
) -> StoreResult<bool> {
    if store::event_exists(conn, &record.event_id)? {
        return Ok(false);
    }
    let json = record.to_json();
    let details = &record.insight_details;
    let seq = events::append(
        conn,
        &NewEvent {
            event_id: &record.event_id,
            event_time: minute * 60,
            account: &record.recipient_account_id,
            region: &record.aws_region,
            category: "Insight",
            event_name: &details.event_name,
            event_source: &details.event_source,
            read_only: "false",
            username: "",
            access_key_id: "",
            resources: &[],
            record: &json,
            record_hash: record_hash(&json),
        },
    )?;
    store::add_event(
        conn,
        trail_arn,
        &record.event_id,
        seq,
        minute * 60,
        &record.aws_region,
    )
}

pub(super) fn end_record(
    conn: &Connection,
    state: &OpenState,
    end: i64,
) -> StoreResult<InsightRecord> {
    let (from, _, _) = detect::window(state.start);
    let attributions = attributions(conn, &state.key, (state.start, end), (from, state.start))?;
    Ok(records::build(&Facts {
        key: &state.key,
        state: "End",
        minute: end,
        shared_event_id: &state.shared_event_id,
        baseline_mean: state.baseline_mean,
        baseline_duration: state.baseline_duration,
        insight_sum: state.sum_to_last_active,
        insight_duration: end - state.start,
        attributions,
    }))
}

/// Evaluates minute `t` for one trail and region and kind; returns the records written.
pub fn evaluate_minute(
    conn: &Connection,
    trail: &Trail,
    region: &str,
    kind: i64,
    t: i64,
    p: &Params,
) -> StoreResult<Vec<InsightRecord>> {
    let arn = trail.arn();
    let mut written = Vec::new();
    let mut blocked: HashMap<SeriesKey, ()> = HashMap::new();
    for mut state in store::states(conn, &arn, &trail.account, region, kind)? {
        if !state.open {
            if state.cooldown_until > t {
                blocked.insert(state.key.clone(), ());
            }
            continue;
        }
        blocked.insert(state.key.clone(), ());
        let count = store::count_at(conn, &state.key, t)?;
        let mut run = Running {
            start: state.start,
            last_active: state.last_active,
            sum_to_last_active: state.sum_to_last_active,
            sum_running: state.sum_running,
        };
        let ending = detect::step(&mut run, t, count, state.threshold, p);
        state.last_active = run.last_active;
        state.sum_to_last_active = run.sum_to_last_active;
        state.sum_running = run.sum_running;
        if let Some(ending) = ending {
            let record = end_record(conn, &state, ending.end)?;
            if append_record(conn, &arn, &record, ending.end)? {
                written.push(record);
            }
            state.open = false;
            state.cooldown_until = ending.cooldown_until;
        }
        store::put_state(conn, &arn, &state)?;
    }
    let floor = p.c_min.ceil().max(1.0) as i64;
    for (key, count) in store::busy_at(conn, &trail.account, region, kind, t, floor)? {
        if blocked.contains_key(&key) {
            continue;
        }
        let (from, to, duration) = detect::window(t);
        let (sum, sum_sq) = store::window_sums(conn, &key, from, to)?;
        let base = detect::baseline(sum, sum_sq, duration, p);
        if !detect::breaches(count, base.threshold) {
            continue;
        }
        let shared = records::shared_event_id(&arn, &key, t);
        let attributions = attributions(conn, &key, (t, t + 1), (from, t))?;
        let record = records::build(&Facts {
            key: &key,
            state: "Start",
            minute: t,
            shared_event_id: &shared,
            baseline_mean: base.mean,
            baseline_duration: duration,
            insight_sum: count,
            insight_duration: 1,
            attributions,
        });
        if append_record(conn, &arn, &record, t)? {
            written.push(record);
        }
        store::put_state(
            conn,
            &arn,
            &OpenState {
                key,
                open: true,
                start: t,
                baseline_mean: base.mean,
                baseline_duration: duration,
                threshold: base.threshold,
                last_active: t,
                sum_to_last_active: count,
                sum_running: count,
                cooldown_until: t,
                shared_event_id: shared,
            },
        )?;
    }
    store::drop_cooled(conn, &arn, t + 1)?;
    Ok(written)
}
