//! PutLogEvents, GetLogEvents and FilterLogEvents on the wire.

use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::logs::ingest::{InputEvent, ingest_as};
use cairn_core::logs::read::{self, FilterEvents, GetEvents, event_id};
use cairn_core::logs::{self, GroupKey, now_ms, stream_arn};
use cairn_model::event::EventResource;
use cairn_store::Connection;
use serde_json::{Map, Value, json};

use super::ops::{OpEnv, OpOutput, group_of, group_resource, out_group};
use super::wire::{
    limit, open_event_token, opt_bool, opt_list, opt_str, opt_str_list, opt_time, req_str,
    token_scope,
};

fn stream_resource(key: &GroupKey, stream: &str) -> Vec<(EventResource, String)> {
    let arn = stream_arn(&key.region, &key.account, &key.name, stream);
    vec![(
        EventResource {
            arn: arn.clone(),
            account_id: Some(key.account.clone()),
            resource_type: "AWS::Logs::LogStream".into(),
            arn_prefix: None,
        },
        arn,
    )]
}

/// The log stream (or group) a data-event call names, read from its request alone: the
/// record of a call that fails (refused, a missing stream, a rejected batch) names it too, so
/// a trail that selects it takes the failure as it takes the success.
pub fn named_resources(env: &OpEnv, body: &Value) -> Vec<(EventResource, String)> {
    let Ok(key) = group_of(env, body) else {
        return Vec::new();
    };
    match opt_str(body, "logStreamName") {
        Ok(Some(stream)) => stream_resource(&key, &stream),
        _ => group_resource(&key),
    }
}

fn decode_events(body: &Value) -> ApiResult<Vec<InputEvent>> {
    let items = opt_list(body, "logEvents")?.ok_or_else(|| super::wire::missing("logEvents"))?;
    let bad = |what: &str| {
        ApiError::new(
            ErrorKind::Serialization,
            format!("Cannot deserialize member logEvents: {what}."),
        )
    };
    items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let obj = item
                .as_object()
                .ok_or_else(|| bad("expected a list of structures"))?;
            let timestamp = match obj.get("timestamp") {
                Some(Value::Number(n)) => n
                    .as_i64()
                    .ok_or_else(|| bad("timestamp must be an integer"))?,
                None | Some(Value::Null) => {
                    return Err(super::wire::missing(&format!(
                        "logEvents.{}.member.timestamp",
                        k + 1
                    )));
                }
                Some(_) => return Err(bad("timestamp must be an integer")),
            };
            if timestamp < 0 {
                return Err(logs::constraint(
                    &timestamp.to_string(),
                    &format!("logEvents.{}.member.timestamp", k + 1),
                    "Member must have value greater than or equal to 0",
                ));
            }
            let message = match obj.get("message") {
                Some(Value::String(s)) => s.clone(),
                None | Some(Value::Null) => {
                    return Err(super::wire::missing(&format!(
                        "logEvents.{}.member.message",
                        k + 1
                    )));
                }
                Some(_) => return Err(bad("message must be a string")),
            };
            Ok(InputEvent { timestamp, message })
        })
        .collect()
}

/// PutLogEvents.
pub fn put_log_events(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let group = req_str(body, "logGroupName")?;
    logs::check_group_name(&group, "logGroupName")?;
    let stream = req_str(body, "logStreamName")?;
    logs::check_stream_name(&stream, "logStreamName")?;
    let _ignored = opt_str(body, "sequenceToken")?;
    let events = decode_events(body)?;
    let key = GroupKey::of(&env.ctx, &group);
    logs::kms_use::check_group_key(conn, env.evaluator.as_ref(), &env.ctx, &key)?;
    let done = ingest_as(conn, &key, &stream, &events, now_ms(&env.ctx), env.emf)?;
    let mut output = json!({"nextSequenceToken": done.next_sequence_token});
    if !done.rejected.is_empty() {
        let mut info = Map::new();
        if let Some(k) = done.rejected.too_new_start {
            info.insert("tooNewLogEventStartIndex".into(), k.into());
        }
        if let Some(k) = done.rejected.too_old_end {
            info.insert("tooOldLogEventEndIndex".into(), k.into());
        }
        if let Some(k) = done.rejected.expired_end {
            info.insert("expiredLogEventEndIndex".into(), k.into());
        }
        output["rejectedLogEventsInfo"] = Value::Object(info);
    }
    Ok(OpOutput {
        output,
        resources: stream_resource(&key, &stream),
        pending_query: None,
    })
}

/// GetLogEvents.
pub fn get_log_events(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let key = group_of(env, body)?;
    logs::kms_use::check_group_key(conn, env.evaluator.as_ref(), &env.ctx, &key)?;
    let stream = req_str(body, "logStreamName")?;
    let input = GetEvents {
        group: key.clone(),
        stream: stream.clone(),
        start: opt_time(body, "startTime")?,
        end: opt_time(body, "endTime")?,
        limit: Some(limit(body, "limit", 10_000, 10_000)?),
        start_from_head: opt_bool(body, "startFromHead")?.unwrap_or(false),
        token: None,
    };
    // The core's tokens name the stream and position; on the wire they are sealed with the
    // time they were issued, so they expire after a day. A page at the end of the stream
    // answers the token it was given unchanged, as AWS does (clients stop on a repeat).
    let now = env.ctx.now_secs();
    let given = opt_str(body, "nextToken")?;
    // Like AWS's, a token starts with its direction (`f/`, `b/`).
    let opened = |t: &str| {
        let sealed = t
            .strip_prefix("f/")
            .or_else(|| t.strip_prefix("b/"))
            .ok_or_else(|| logs::invalid("The specified nextToken is invalid."))?;
        open_event_token(&env.token_key, "GetLogEvents", sealed, now)
    };
    let input = GetEvents {
        token: given.as_deref().map(opened).transpose()?,
        ..input
    };
    let page = read::get_log_events(conn, &input)?;
    let wire_token = |raw: &str| match (&input.token, &given) {
        (Some(g), Some(t)) if g == raw => t.clone(),
        _ => format!(
            "{}{}",
            &raw[..2.min(raw.len())],
            env.token_key.seal_timed("GetLogEvents", raw, now)
        ),
    };
    let events: Vec<Value> = page
        .events
        .iter()
        .map(|e| json!({"timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingested}))
        .collect();
    Ok(OpOutput {
        output: json!({
            "events": events,
            "nextForwardToken": wire_token(&page.forward),
            "nextBackwardToken": wire_token(&page.backward),
        }),
        resources: stream_resource(&key, &stream),
        pending_query: None,
    })
}

/// FilterLogEvents.
pub fn filter_log_events(conn: &Connection, env: &OpEnv, body: &Value) -> ApiResult<OpOutput> {
    let key = group_of(env, body)?;
    logs::kms_use::check_group_key(conn, env.evaluator.as_ref(), &env.ctx, &key)?;
    let stream_names = opt_str_list(body, "logStreamNames")?;
    if stream_names
        .as_ref()
        .is_some_and(|n| n.is_empty() || n.len() > 100)
    {
        return Err(logs::constraint(
            "",
            "logStreamNames",
            "Member must have length less than or equal to 100 and greater than or equal to 1",
        ));
    }
    let scope = token_scope("FilterLogEvents", body);
    let now = env.ctx.now_secs();
    let after = match opt_str(body, "nextToken")? {
        None => None,
        Some(t) => {
            let p = open_event_token(&env.token_key, &scope, &t, now)?;
            let (t, i) = p
                .split_once(':')
                .and_then(|(t, i)| Some((t.parse().ok()?, i.parse().ok()?)))
                .ok_or_else(|| logs::invalid("The specified nextToken is invalid."))?;
            Some((t, i))
        }
    };
    let _ = opt_bool(body, "interleaved")?;
    let input = FilterEvents {
        group: key.clone(),
        stream_names,
        stream_prefix: opt_str(body, "logStreamNamePrefix")?,
        start: opt_time(body, "startTime")?,
        end: opt_time(body, "endTime")?,
        pattern: opt_str(body, "filterPattern")?,
        limit: Some(limit(body, "limit", 10_000, 10_000)?),
        after,
        newest_first: !opt_bool(body, "startFromHead")?.unwrap_or(true),
    };
    let page = read::filter_log_events(conn, &input)?;
    let events: Vec<Value> = page
        .events
        .iter()
        .map(|(e, stream)| {
            json!({
                "logStreamName": stream,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingested,
                "eventId": event_id(e.id),
            })
        })
        .collect();
    let mut output = json!({"events": events, "searchedLogStreams": []});
    if let Some((t, i)) = page.next {
        output["nextToken"] = env
            .token_key
            .seal_timed(&scope, &format!("{t}:{i}"), now)
            .into();
    }
    out_group(output, &key)
}
