//! A minimal SNS (Query protocol, XML) on the same listener: CreateTopic, DeleteTopic,
//! ListTopics, Get/SetTopicAttributes, Subscribe (http/https; `ReturnSubscriptionArn`),
//! ConfirmSubscription and Unsubscribe.
//! Enough for CloudTrail's delivery notifications and for tools that create topics first.

use std::sync::Arc;

use axum::response::Response;
use cairn_core::error::ApiResult;
use cairn_core::{ApiError, sns};
use serde_json::{Map, Value, json};

use crate::errors::{WireError, xml_escape};
use crate::protocol::Protocol;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate};
use cairn_core::authz::{Permission, ResourcePolicy};

mod outbound;

pub use outbound::{OutboundRules, Vetted, vet};

const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// Whether an unsigned request is an SNS subscription confirmation (which SNS authorises by
/// token, so the subscriber can simply GET the SubscribeURL).
pub fn is_confirmation(raw_query: &str) -> bool {
    form_urlencoded::parse(raw_query.as_bytes())
        .any(|(k, v)| k == "Action" && v == "ConfirmSubscription")
}

fn xml_response(action: &str, result: &str, rid: &str) -> Response {
    crate::query::ok(XMLNS, action, Some(result), rid)
}

fn xml_error(e: &WireError, rid: &str) -> Response {
    crate::query::error(XMLNS, e, rid)
}

fn lower_first(key: &str) -> String {
    let mut c = key.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// Answers one SNS request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let params = crate::query::Params::parse(&req.raw_query, &req.body);
    let get = |name: &str| params.get(name).map(str::to_owned);
    let action = get("Action").unwrap_or_default();
    let now = chrono::Utc::now();
    if action == "ConfirmSubscription" && req.header("authorization").is_none() {
        return confirm_by_token(state, &req, &params, now).await;
    }
    let authed = match authenticate(state, &req, Protocol::Query, now).await {
        Ok(a) => a,
        Err(e) => return xml_error(&e, &rid),
    };
    let info = CallInfo::new(authed, &req, now);
    let host = req.header("host").unwrap_or("127.0.0.1").to_owned();
    match call_internal(state, info, &params, host).await {
        Ok(result) => xml_response(&action, &result, &rid),
        Err(e) if e.kind == cairn_core::ErrorKind::Internal => {
            xml_error(&WireError::internal(Protocol::Query), &rid)
        }
        Err(e) => xml_error(&WireError::from(&e), &rid),
    }
}

/// Runs one SNS operation for a caller inside the server (a CloudFormation stack): the same
/// permissions, gate and record a signed request reaches. `host` is where subscription
/// confirmations point. Returns the XML inside `<{Action}Result>`.
pub(crate) async fn call_internal(
    state: &AppState,
    info: CallInfo,
    params: &crate::query::Params,
    host: String,
) -> ApiResult<String> {
    let get = |name: &str| params.get(name).map(str::to_owned);
    let action = get("Action").unwrap_or_default();
    let ctx = info.ctx.clone();
    let read_only = matches!(action.as_str(), "ListTopics" | "GetTopicAttributes");
    let mut request_parameters = Map::new();
    for (k, v) in params.iter() {
        if k != "Action" && k != "Version" {
            request_parameters.insert(lower_first(k), json!(v));
        }
    }
    let token = uuid::Uuid::new_v4().simple().to_string();
    let confirmation_token = token.clone();
    let sub_id = uuid::Uuid::new_v4().to_string();
    let (topic, name) = (
        get("TopicArn").unwrap_or_default(),
        get("Name").unwrap_or_default(),
    );
    let (attr, value) = (
        get("AttributeName").unwrap_or_default(),
        get("AttributeValue").unwrap_or_default(),
    );
    let (protocol, endpoint) = (
        get("Protocol").unwrap_or_default(),
        get("Endpoint").unwrap_or_default(),
    );
    let rules = outbound::OutboundRules {
        allowed: state.settings.sns_allowed_networks.clone(),
        own: state.settings.listen_addr,
    };
    let endpoint_refused = if action == "Subscribe" {
        outbound::vet(&endpoint, &rules).await.err()
    } else {
        None
    };
    let return_arn = get("ReturnSubscriptionArn").as_deref() == Some("true");
    let subscription = get("SubscriptionArn").unwrap_or_default();
    let act = action.clone();
    let event_name = action.clone();
    let op = move |c: &cairn_store::Connection| -> ApiResult<String> {
        match act.as_str() {
            "CreateTopic" => sns::create_topic(c, &ctx, &name)
                .map(|arn| format!("<TopicArn>{}</TopicArn>", xml_escape(&arn))),
            "DeleteTopic" => sns::delete_topic(c, &ctx, &topic).map(|()| String::new()),
            "ListTopics" => sns::list_topics(c, &ctx).map(|list| {
                let members: String = list
                    .iter()
                    .map(|a| format!("<member><TopicArn>{}</TopicArn></member>", xml_escape(a)))
                    .collect();
                format!("<Topics>{members}</Topics>")
            }),
            "GetTopicAttributes" => sns::get_attributes(c, &ctx, &topic).map(|attrs| {
                let entries: String = attrs
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "<entry><key>{}</key><value>{}</value></entry>",
                            xml_escape(k),
                            xml_escape(v)
                        )
                    })
                    .collect();
                format!("<Attributes>{entries}</Attributes>")
            }),
            "SetTopicAttributes" => {
                sns::set_attribute(c, &ctx, &topic, &attr, &value).map(|()| String::new())
            }
            "Subscribe" => {
                if let Some(why) = &endpoint_refused {
                    return Err(ApiError::new(
                        cairn_core::ErrorKind::SnsInvalidParameter,
                        format!("Invalid parameter: Endpoint: {why}"),
                    ));
                }
                sns::subscribe(c, &ctx, &topic, &protocol, &endpoint, &token, &sub_id).map(|sub| {
                    let shown = if return_arn {
                        sub.arn
                    } else {
                        "pending confirmation".to_owned()
                    };
                    format!("<SubscriptionArn>{}</SubscriptionArn>", xml_escape(&shown))
                })
            }
            "Unsubscribe" => sns::unsubscribe(c, &ctx, &subscription).map(|()| String::new()),
            other => Err(ApiError::new(
                cairn_core::ErrorKind::SnsInvalidParameter,
                format!("Invalid action: {other}"),
            )),
        }
    };
    let describe = move |r: &ApiResult<String>| Outcome {
        event_source: "sns.amazonaws.com",
        event_name,
        read_only,
        management: true,
        request_parameters: Value::Object(request_parameters),
        response_elements: Value::Null,
        error: r.as_ref().err().map(|e| {
            let w = WireError::from(e);
            (w.code.to_owned(), w.message)
        }),
        resources: Vec::new(),
        additional_event_data: None,
    };
    let permission = {
        let action = format!("sns:{action}");
        let topic_of_subscription =
            get("SubscriptionArn").and_then(|a| a.rsplit_once(':').map(|(t, _)| t.to_owned()));
        match (action.as_str(), get("TopicArn").or(topic_of_subscription)) {
            ("sns:CreateTopic", _) => Permission::new(
                action,
                format!(
                    "arn:aws:sns:{}:{}:{}",
                    info.ctx.region,
                    info.ctx.account(),
                    get("Name").unwrap_or_default()
                ),
            ),
            (_, Some(topic)) => {
                Permission::new(action, topic.clone()).under(ResourcePolicy::Topic(topic))
            }
            _ => Permission::any(action),
        }
    };
    let result = state
        .gate
        .execute(
            info,
            read_only,
            move |_, _| Ok(vec![permission]),
            op,
            describe,
        )
        .await?;
    if action == "Subscribe" {
        send_confirmation(
            get("TopicArn").unwrap_or_default(),
            get("Endpoint").unwrap_or_default(),
            host,
            confirmation_token,
            rules,
        );
    }
    Ok(result)
}

/// ConfirmSubscription without a signature, as a subscriber does by fetching `SubscribeURL`:
/// the token is the authorization. It changes state, so it is recorded like any call, with an
/// anonymous identity (the token itself is never recorded).
async fn confirm_by_token(
    state: &AppState,
    req: &Received,
    params: &crate::query::Params,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let rid = req.request_id.clone();
    let topic = params.get("TopicArn").unwrap_or_default().to_owned();
    let token = params.get("Token").unwrap_or_default().to_owned();
    let region = topic
        .split(':')
        .nth(3)
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
            },
        },
        request_id: rid.clone(),
        source_ip: req.source_ip.clone(),
        user_agent: req.header("user-agent").unwrap_or("").to_owned(),
        console: None,
        invoked_by: None,
    };
    let topic_for_event = topic.clone();
    let describe = move |r: &ApiResult<String>| Outcome {
        event_source: "sns.amazonaws.com",
        event_name: "ConfirmSubscription".to_owned(),
        read_only: false,
        management: true,
        request_parameters: json!({ "topicArn": topic_for_event }),
        response_elements: match r {
            Ok(arn) => json!({ "subscriptionArn": arn }),
            Err(_) => Value::Null,
        },
        error: r.as_ref().err().map(|e| {
            let w = WireError::from(e);
            (w.code.to_owned(), w.message)
        }),
        resources: Vec::new(),
        additional_event_data: None,
    };
    let confirmed = state
        .gate
        .execute(
            info,
            false,
            |_, _| Ok(Vec::new()),
            move |c| sns::confirm(c, &topic, &token),
            describe,
        )
        .await;
    match confirmed {
        Ok(arn) => xml_response(
            "ConfirmSubscription",
            &format!("<SubscriptionArn>{}</SubscriptionArn>", xml_escape(&arn)),
            &rid,
        ),
        Err(e) if e.kind == cairn_core::ErrorKind::Internal => {
            xml_error(&WireError::internal(Protocol::Query), &rid)
        }
        Err(e) => xml_error(&WireError::from(&e), &rid),
    }
}

/// Posts the SubscriptionConfirmation message to a new endpoint, in the background. The
/// subscriber confirms by fetching `SubscribeURL` (or calling ConfirmSubscription).
fn send_confirmation(
    topic: String,
    endpoint: String,
    host: String,
    token: String,
    rules: outbound::OutboundRules,
) {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "ConfirmSubscription")
        .append_pair("TopicArn", &topic)
        .append_pair("Token", &token)
        .finish();
    let message = json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": uuid::Uuid::new_v4().to_string(),
        "Token": token,
        "TopicArn": topic,
        "Message": format!("You have chosen to subscribe to the topic {topic}.\nTo confirm the subscription, visit the SubscribeURL included in this message."),
        "SubscribeURL": format!("http://{host}/?{query}"),
        "Timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
        "SignatureVersion": "1",
    });
    tokio::spawn(async move {
        // Checked again at send time: the name may resolve elsewhere now.
        let vetted = match outbound::vet(&endpoint, &rules).await {
            Ok(v) => v,
            Err(why) => {
                tracing::warn!(endpoint = %endpoint, reason = %why, "subscription confirmation not sent");
                return;
            }
        };
        let sent = vetted
            .client
            .post(vetted.url)
            .header("x-amz-sns-message-type", "SubscriptionConfirmation")
            .header("x-amz-sns-topic-arn", topic.as_str())
            .header("content-type", "text/plain; charset=UTF-8")
            .body(message.to_string())
            .send()
            .await;
        if let Err(e) = sent {
            tracing::warn!(endpoint = %endpoint, error = %e, "subscription confirmation not delivered");
        }
    });
}
