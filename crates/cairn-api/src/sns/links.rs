//! SNS's unsigned links: `SubscribeURL` (ConfirmSubscription by token) and `UnsubscribeURL`
//! (Unsubscribe by subscription ARN), fetched by subscribers with a plain GET. They pass the
//! gate like any call, with an anonymous identity and no permission to check (the token or
//! ARN is the authorization), and are recorded, once they name a subscription or topic that
//! exists (a link naming nothing is answered unrecorded: no one's store fills with made-up
//! ARNs or made-up tokens).

use axum::response::Response;
use cairn_core::error::ApiResult;
use cairn_core::sns;
use serde_json::{Value, json};

use super::{Done, XMLNS, send_after_commit, topic_voice, xml_done, xml_error, xml_response};
use crate::errors::{WireError, xml_escape};
use crate::protocol::Protocol;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received};

/// An unsigned SNS link: ConfirmSubscription by token, as a subscriber does by fetching
/// `SubscribeURL`, or Unsubscribe by a message's `UnsubscribeURL`. It changes state, so it is
/// recorded like any call, with an anonymous identity (the token itself is never recorded).
pub(super) async fn confirm_by_token(
    state: &AppState,
    req: &Received,
    params: &crate::query::Params,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let rid = req.request_id.clone();
    let action = params.action().to_owned();
    let topic = params.get("TopicArn").unwrap_or_default().to_owned();
    let token = params.get("Token").unwrap_or_default().to_owned();
    let subscription = params.get("SubscriptionArn").unwrap_or_default().to_owned();
    let region = topic
        .split(':')
        .nth(3)
        .or_else(|| subscription.split(':').nth(3))
        .and_then(|r| cairn_model::Region::parse(r).ok())
        .unwrap_or_else(|| cairn_model::Region::parse("us-east-1").expect("us-east-1 exists"));
    let info = CallInfo {
        ctx: cairn_core::CallContext {
            principal: cairn_model::Principal::Anonymous {
                account: state.settings.account.clone(),
            },
            region,
            now: now.timestamp_millis() as f64 / 1000.0,
            origin: cairn_core::context::Origin {
                source_ip: req.source_ip.clone(),
                user_agent: req.header("user-agent").unwrap_or("").to_owned(),
                secure_transport: false,
                sigv2: false,
                console: false,
            },
        },
        request_id: rid.clone(),
        source_ip: req.source_ip.clone(),
        user_agent: req.header("user-agent").unwrap_or("").to_owned(),
        console: None,
        invoked_by: None,
        signing: None,
        owner_conditions: Vec::new(),
        started: std::time::Instant::now(),
    };
    let unsubscribing = action == "Unsubscribe";
    let (named_sub, named_topic) = if unsubscribing {
        (Some(subscription.clone()), None)
    } else {
        (None, Some((topic.clone(), token.clone())))
    };
    let now_secs = now.timestamp();
    let exists = state
        .store
        .read(move |c| {
            Ok(cairn_core::sns_pending::link_names_something(
                c,
                named_sub.as_deref(),
                named_topic.as_ref().map(|(t, k)| (t.as_str(), k.as_str())),
                now_secs,
            ))
        })
        .await;
    match exists {
        Ok(Ok(true)) => {}
        // Nothing to change: answered as SNS answers it, and not recorded.
        Ok(Ok(false)) => {
            let e = if unsubscribing {
                WireError::sns(&cairn_core::ApiError::new(
                    cairn_core::ErrorKind::SnsNotFound,
                    "Subscription does not exist",
                ))
            } else {
                let t = topic.clone();
                let topic_there = state
                    .store
                    .read(move |c| Ok(cairn_core::sns_pending::topic_exists(c, &t)))
                    .await;
                match topic_there {
                    // A token no subscription of the topic has: refused as the signed call
                    // refuses it.
                    Ok(Ok(true)) => WireError::sns(&cairn_core::ApiError::new(
                        cairn_core::ErrorKind::SnsInvalidParameter,
                        "Invalid parameter: Token",
                    )),
                    _ => WireError::sns(&cairn_core::ApiError::new(
                        cairn_core::ErrorKind::SnsNotFound,
                        "Topic does not exist",
                    )),
                }
            };
            return xml_error(&e, &rid);
        }
        _ => return xml_error(&WireError::internal(Protocol::Query), &rid),
    }
    // Every link call is recorded within the bound of unsigned calls, and past it answered as
    // SNS answers a throttled call, unrecorded: a confirmation followed again (recheck35:
    // 6,000 replays of one link were recorded in 7 s), a restore link, and an unsubscribe
    // link (recheck36: a restore link and the UnsubscribeURL replayed in turn were each a
    // first use, 200 records in 12 s). Only the first confirmation of a pending
    // subscription is never throttled.
    let first_confirmation = !unsubscribing && {
        let (t, k) = (topic.clone(), token.clone());
        let repeat = state
            .store
            .read(move |c| Ok(cairn_core::sns_pending::link_repeats(c, &t, &k)))
            .await;
        matches!(repeat, Ok(Ok(false)))
    };
    if !first_confirmation && !crate::unsigned_rate::allow(&req.source_ip, now) {
        let e = WireError {
            code: "Throttled",
            status: http::StatusCode::TOO_MANY_REQUESTS,
            message: "Rate exceeded".to_owned(),
        };
        return xml_error(&e, &rid);
    }
    let request_parameters = if unsubscribing {
        json!({ "subscriptionArn": subscription })
    } else {
        json!({ "topicArn": topic })
    };
    let event_name = action.clone();
    let describe = move |r: &ApiResult<Done>| Outcome {
        event_source: "sns.amazonaws.com",
        event_name,
        read_only: false,
        management: true,
        request_parameters,
        response_elements: match r {
            Ok(d) if !unsubscribing => json!({ "subscriptionArn": d.xml }),
            _ => Value::Null,
        },
        error: r.as_ref().err().map(|e| {
            let w = WireError::sns(e);
            (w.code.to_owned(), w.message)
        }),
        resources: Vec::new(),
        additional_event_data: None,
    };
    let secs = now.timestamp();
    let op = move |c: &cairn_store::Connection| -> ApiResult<Done> {
        if unsubscribing {
            let mut sub = sns::unsubscribe_by_link(c, &subscription)?;
            // The UnsubscribeConfirmation's link restores the subscription.
            sub.token = cairn_core::sns_resubscribe::token(c, &sub, secs)?;
            let version = topic_voice(c, &sub.topic_arn)?;
            Ok(Done {
                confirmation: Some((sub, version, true)),
                ..Default::default()
            })
        } else {
            let (id, fresh_token) = (
                uuid::Uuid::new_v4().to_string(),
                cairn_core::sns_pending::new_token(secs),
            );
            let fresh = cairn_core::sns_resubscribe::Fresh {
                id: &id,
                token: &fresh_token,
            };
            sns::confirm(c, &topic, &token, false, secs, &fresh).map(|arn| Done {
                confirmed: Some(arn.clone()),
                ..xml_done(arn)
            })
        }
    };
    let done = state
        .gate
        .execute(info, false, |_, _| Ok(Vec::new()), op, describe)
        .await;
    match done {
        Ok(d) => {
            send_after_commit(state, &d, now.timestamp_millis());
            if unsubscribing {
                crate::query::ok(XMLNS, "Unsubscribe", None, &rid)
            } else {
                xml_response(
                    "ConfirmSubscription",
                    &format!("<SubscriptionArn>{}</SubscriptionArn>", xml_escape(&d.xml)),
                    &rid,
                )
            }
        }
        Err(e) if e.kind == cairn_core::ErrorKind::Internal => {
            xml_error(&WireError::internal(Protocol::Query), &rid)
        }
        Err(e) => xml_error(&WireError::sns(&e), &rid),
    }
}
