//! SNS (Query protocol, XML) on the same listener: topics (Create/Delete/List,
//! Get/SetTopicAttributes, Add/RemovePermission, Tag/UntagResource, ListTagsForResource),
//! subscriptions (Subscribe for http, https, email and email-json; ConfirmSubscription;
//! Unsubscribe; ListSubscriptions(ByTopic); Get/SetSubscriptionAttributes) and
//! `Publish`/`PublishBatch`. Messages leave through `cairn_delivery::publish` after the
//! call's transaction commits, signed with the data dir's key, whose certificate this module
//! serves at `/SimpleNotificationService-<id>.pem`. `SubscribeURL` and `UnsubscribeURL` are
//! plain GET links, authorised by their token or subscription ARN.

use std::sync::Arc;

use axum::response::Response;
use cairn_core::error::ApiResult;
use cairn_core::publish::{self, Publication};
use cairn_core::{ApiError, sns, sns_topic_access as access};
use cairn_store::sns::Subscription;
use serde_json::{Map, Value, json};

use crate::errors::{WireError, xml_escape};
use crate::protocol::Protocol;
use crate::recording::{CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate};
use cairn_core::authz::{Permission, ResourcePolicy};

mod links;
mod outbound;
mod params;
mod render;

pub use outbound::{OutboundRules, check_endpoint};

const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// The actions Cairn's SNS answers; any other is `InvalidAction`.
const ACTIONS: [&str; 19] = [
    "AddPermission",
    "ConfirmSubscription",
    "CreateTopic",
    "DeleteTopic",
    "GetSubscriptionAttributes",
    "GetTopicAttributes",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "ListTopics",
    "Publish",
    "PublishBatch",
    "RemovePermission",
    "SetSubscriptionAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "TagResource",
    "Unsubscribe",
    "UntagResource",
];

/// The actions a topic policy can grant (SNS Developer Guide, "Valid Amazon SNS policy
/// actions"); any other call naming a topic is allowed by identity policies alone.
const TOPIC_POLICY_ACTIONS: [&str; 11] = [
    "sns:AddPermission",
    "sns:DeleteTopic",
    "sns:GetDataProtectionPolicy",
    "sns:GetTopicAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "sns:Publish",
    "sns:PutDataProtectionPolicy",
    "sns:RemovePermission",
    "sns:SetTopicAttributes",
    "sns:Subscribe",
];

/// Whether an unsigned request is an SNS link: a subscription confirmation (authorised by its
/// token) or an `UnsubscribeURL` (by the subscription ARN), so a subscriber can simply GET it.
pub fn is_confirmation(raw_query: &str) -> bool {
    form_urlencoded::parse(raw_query.as_bytes())
        .any(|(k, v)| k == "Action" && (v == "ConfirmSubscription" || v == "Unsubscribe"))
}

/// The notifier settings SNS needs: the signer, the URL links fall back to, the maildir.
pub fn notifier_defaults(
    settings: &crate::server::Settings,
    signer: cairn_delivery::SnsSigner,
) -> cairn_delivery::NotifierConfig {
    let base_url = match settings.listen_addr {
        Some(a) if a.ip().is_unspecified() => format!("http://127.0.0.1:{}", a.port()),
        Some(a) => format!("http://{a}"),
        None => "http://127.0.0.1".to_owned(),
    };
    cairn_delivery::NotifierConfig {
        signer: Some(Arc::new(signer)),
        base_url,
        maildir: Some(settings.data_dir.join("mail")),
        kms_master: Some(settings.kms_master.clone()),
        ..Default::default()
    }
}

/// The base URL a new subscription's links (`SubscribeURL`, `UnsubscribeURL`,
/// `SigningCertURL`) keep: the `Host` the subscribing call reached Cairn by (a proxy, a
/// published container port), or none when that `Host` is this listener itself (its address,
/// or a loopback name, with its port): its links then follow the listener, so a restart on
/// another port does not leave subscribers unable to fetch the certificate.
fn link_base(host: &str, listen: Option<std::net::SocketAddr>) -> String {
    let own = listen.is_some_and(|addr| {
        let Some((name, port)) = host.rsplit_once(':') else {
            return false;
        };
        let name = name.trim_start_matches('[').trim_end_matches(']');
        let loopback = name.eq_ignore_ascii_case("localhost")
            || name
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        port.parse::<u16>().is_ok_and(|p| p == addr.port())
            && (loopback
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip == addr.ip()))
    });
    if own || !host_syntax(host) {
        String::new()
    } else {
        format!("http://{host}")
    }
}

/// Whether `host` is a host name or IP literal with an optional port 1 to 65535: anything
/// else (quotes, spaces, a port of 99999) is no `Host` to build links on, and the links
/// follow the listener (sns8: such a header was copied into every link verbatim).
fn host_syntax(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.ends_with(':') && (!n.starts_with('[') || n.ends_with(']')) => {
            (n, Some(p))
        }
        _ => (host, None),
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    let name_ok = match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => {
            !name.is_empty()
                && name.len() <= 253
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        }
    };
    port_ok && name_ok
}

/// `GET /SimpleNotificationService-<id>.pem`: the signing certificate, unauthenticated.
pub fn signing_certificate(
    state: &AppState,
    method: &http::Method,
    path: &str,
) -> Option<Response> {
    if method != http::Method::GET || !path.starts_with("/SimpleNotificationService-") {
        return None;
    }
    let signer = state.notifier.signer()?;
    let mut resp = if path.trim_start_matches('/') == signer.cert_file_name() {
        Response::new(axum::body::Body::from(signer.cert_pem().to_owned()))
    } else {
        let mut r = Response::new(axum::body::Body::from("Not Found"));
        *r.status_mut() = http::StatusCode::NOT_FOUND;
        r
    };
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/x-x509-ca-cert"),
    );
    Some(resp)
}

fn xml_response(action: &str, result: &str, rid: &str) -> Response {
    crate::query::ok(XMLNS, action, Some(result), rid)
}

fn xml_error(e: &WireError, rid: &str) -> Response {
    crate::query::error(XMLNS, e, rid)
}

/// Answers one SNS request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    // Only the action's own members, for the unsigned links too (a `TopicArn` added to an
    // Unsubscribe link chose the region its record was filed in).
    let params = crate::query::Params::parse(&req.raw_query, &req.body).own_members("sns");
    let get = |name: &str| params.get(name).map(str::to_owned);
    let action = get("Action").unwrap_or_default();
    let now = state.now();
    if (action == "ConfirmSubscription" || action == "Unsubscribe")
        && req.header("authorization").is_none()
    {
        return links::confirm_by_token(state, &req, &params, now).await;
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
        Err(e) => xml_error(&WireError::sns(&e), &rid),
    }
}

/// What an operation leaves to do once its transaction has committed.
#[derive(Default)]
struct Done {
    /// The XML inside `<{Action}Result>`.
    xml: String,
    /// Messages to send.
    publications: Vec<Publication>,
    /// A confirmation to send: the subscription, the topic's signature version, and whether
    /// it is an UnsubscribeConfirmation.
    confirmation: Option<(Subscription, cairn_core::sns::TopicVoice, bool)>,
    /// A subscription this call confirmed (its pending SubscriptionConfirmation stops).
    confirmed: Option<String>,
}

/// The text of `<name>…</name>` in a result this module rendered (ARNs: nothing to unescape).
fn element_text(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{name}>"))?;
    Some(xml[start..end].to_owned())
}

fn xml_done(xml: String) -> Done {
    Done {
        xml,
        ..Default::default()
    }
}

fn entries_xml(name: &str, attrs: &[(String, String)]) -> String {
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
    format!("<{name}>{entries}</{name}>")
}

/// Sends what a committed call left to send.
fn send_after_commit(state: &AppState, done: &Done, now_ms: i64) {
    if let Some(arn) = &done.confirmed {
        state.notifier.confirmed(arn);
    }
    for p in &done.publications {
        cairn_delivery::publish(&state.notifier, p);
    }
    if let Some((sub, version, unsubscribed)) = &done.confirmation {
        let http = sub.protocol.starts_with("http");
        if !*unsubscribed || http {
            cairn_delivery::send_confirmation(&state.notifier, sub, version, *unsubscribed, now_ms);
        }
    }
}

/// The voice of a subscription's topic (signature version "1" and no display name when the
/// topic is gone).
fn topic_voice(c: &cairn_store::Connection, topic: &str) -> ApiResult<cairn_core::sns::TopicVoice> {
    Ok(cairn_store::sns::get_topic(c, topic)?
        .map(|t| sns::voice(&t))
        .unwrap_or_else(|| cairn_core::sns::TopicVoice {
            signature_version: "1".into(),
            display_name: None,
        }))
}

/// Request parameters as the record shows them: never a message's text or attributes.
fn recorded_parameters(params: &crate::query::Params) -> Map<String, Value> {
    let kept = crate::query::Params::from_pairs(
        params
            .iter()
            .filter(|(k, _)| {
                let secret = k == "Message"
                    || k == "Subject"
                    || k.starts_with("MessageAttributes.")
                    || k.starts_with("PublishBatchRequestEntries.")
                    || k == "Token";
                !secret
            })
            .cloned()
            .collect(),
    );
    let mut recorded = match crate::query_record::request_parameters("sns", &kept) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    // A webhook's password is not kept in the record (ListSubscriptions masks it too).
    if let Some(Value::String(e)) = recorded.get_mut("endpoint") {
        *e = cairn_core::sns_subscription_checks::masked_endpoint(e);
    }
    // Publish's record names the members it hides, as AWS's example Publish record does (the
    // CloudTrail user guide's SNS data events).
    if params.get("Action") == Some("Publish") {
        for (member, name) in [("Message", "message"), ("Subject", "subject")] {
            if params.get(member).is_some() {
                recorded.insert(name.to_owned(), Value::from(HIDDEN));
            }
        }
        if params
            .iter()
            .any(|(k, _)| k.starts_with("MessageAttributes."))
        {
            recorded.insert("messageAttributes".to_owned(), Value::from(HIDDEN));
        }
    }
    recorded
}

/// What a record shows in place of a message's text, subject or attributes.
const HIDDEN: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";

/// Runs one SNS operation for a caller inside the server (a CloudFormation stack): the same
/// permissions, gate and record a signed request reaches. `host` is where subscription
/// confirmations point. Returns the XML inside `<{Action}Result>`.
pub(crate) async fn call_internal(
    state: &AppState,
    info: CallInfo,
    params: &crate::query::Params,
    host: String,
) -> ApiResult<String> {
    let params = &params.own_members("sns");
    let get = |name: &str| params.get(name).map(str::to_owned);
    let action = get("Action").unwrap_or_default();
    if !ACTIONS.contains(&action.as_str()) {
        if crate::unserved::is_operation("sns", &action) {
            let service = crate::unserved::Service {
                event_source: "sns.amazonaws.com",
                prefix: "sns",
                wire: WireError::sns,
                resource: crate::unserved::any_resource,
            };
            return Err(crate::unserved::refuse(
                &state.gate,
                info,
                service,
                &action,
                Value::Object(recorded_parameters(params)),
            )
            .await);
        }
        return Err(ApiError::new(
            cairn_core::ErrorKind::InvalidAction,
            format!(
                "The action {} is not valid for this web service.",
                action.chars().take(128).collect::<String>()
            ),
        ));
    }
    let ctx = info.ctx.clone();
    let read_only = matches!(
        action.as_str(),
        "ListTopics"
            | "GetTopicAttributes"
            | "ListSubscriptions"
            | "ListSubscriptionsByTopic"
            | "GetSubscriptionAttributes"
            | "ListTagsForResource"
    );
    let request_parameters = recorded_parameters(params);
    let token = cairn_core::sns_pending::new_token(info.ctx.now as i64);
    let sub_id = uuid::Uuid::new_v4().to_string();
    let base_url = link_base(&host, state.settings.listen_addr);
    let topic = get("TopicArn")
        .or_else(|| get("TargetArn").filter(|_| action == "Publish"))
        .unwrap_or_default();
    // A publish to a topic is a data event on its topic; one that names no topic (a
    // PhoneNumber: SMS, which Cairn does not send) has no resource a data selector could
    // match, so it is recorded as a management event rather than by no trail at all.
    let management = !matches!(action.as_str(), "Publish" | "PublishBatch") || topic.is_empty();
    let name = get("Name").unwrap_or_default();
    let data_protection = get("DataProtectionPolicy").is_some();
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
    let endpoint_refused = if action == "Subscribe" && protocol.starts_with("http") {
        outbound::check_endpoint(&endpoint, &rules).await.err()
    } else {
        None
    };
    let attributes = params::attribute_map(params);
    let publish_input = params::publish_input(params);
    let batch = params::batch_entries(params);
    let phone = get("PhoneNumber");
    let return_arn = get("ReturnSubscriptionArn").as_deref() == Some("true");
    let subscription = get("SubscriptionArn").unwrap_or_default();
    let next_token = get("NextToken");
    let tags = params::tags(params);
    let tag_missing = params::missing_tag_member(params).map(|member| {
        ApiError::new(
            cairn_core::ErrorKind::IamValidation,
            format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"),
        )
    });
    // CloudFormation's own calls add its `aws:cloudformation:*` tags to the topics it makes.
    let tagger =
        if info.invoked_by.as_deref() == Some(crate::cloudformation::services::CLOUDFORMATION) {
            access::Tagger::CloudFormation
        } else {
            access::Tagger::Requester
        };
    let tag_keys = params::members(params, "TagKeys");
    let accounts = params::members(params, "AWSAccountId");
    let action_names = params::members(params, "ActionName");
    let label = get("Label").unwrap_or_default();
    let resource = get("ResourceArn").unwrap_or_default();
    let token_param = get("Token").unwrap_or_default();
    let authenticate_on_unsubscribe =
        get("AuthenticateOnUnsubscribe").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let now_ms = (info.ctx.now * 1000.0) as i64;
    let account = info.ctx.account().to_string();
    // A data event (Publish, PublishBatch) names its topic, which data selectors on
    // `resources.type` `AWS::SNS::Topic` and `resources.ARN` match.
    let data_resources: Vec<(cairn_model::event::EventResource, String)> =
        if management || topic.is_empty() {
            Vec::new()
        } else {
            vec![(
                cairn_model::event::EventResource {
                    arn: topic.clone(),
                    account_id: Some(account.to_string()),
                    resource_type: "AWS::SNS::Topic".into(),
                    arn_prefix: None,
                },
                topic.clone(),
            )]
        };
    let act = action.clone();
    let event_name = action.clone();
    let (kms_master, evaluator) = (state.settings.kms_master.clone(), state.gate.evaluator());
    // A topic with a KMS key: the data key its messages are sealed under, asked of KMS as the
    // publisher through SNS (its KMS event recorded in the same transaction; a refused one,
    // which the failed publish rolls back, is kept aside and recorded after it).
    let refused_kms: std::sync::Arc<std::sync::Mutex<Option<cairn_core::record::PreparedEvent>>> =
        Default::default();
    let refused_slot = refused_kms.clone();
    let seal_for =
        move |c: &cairn_store::Connection, ctx: &cairn_core::CallContext, topic: &str| {
            let kms = cairn_core::sse::KmsAccess {
                master: &kms_master,
                evaluator: evaluator.as_ref(),
            };
            let (seal, event) = cairn_core::sns_sse::for_publish(c, kms, ctx, topic);
            match (&seal, event) {
                (Ok(_), Some(event)) => {
                    cairn_core::record::append(c, &event)?;
                }
                (Err(_), event) => *refused_slot.lock().expect("event slot") = event,
                (Ok(_), None) => {}
            }
            seal
        };
    let op = move |c: &cairn_store::Connection| -> ApiResult<Done> {
        if let (Some(e), "CreateTopic" | "TagResource") = (&tag_missing, act.as_str()) {
            return Err(e.clone());
        }
        match act.as_str() {
            // A data protection policy Cairn would keep and never apply is refused, as
            // PutDataProtectionPolicy and CloudFormation refuse it.
            "CreateTopic" if data_protection => Err(ApiError::new(
                cairn_core::ErrorKind::SnsInvalidParameter,
                "Invalid parameter: DataProtectionPolicy Reason: Cairn does not carry out SNS message data protection policies",
            )),
            "CreateTopic" => sns::create_topic(c, &ctx, &name, &attributes, &tags)
                .map(|arn| xml_done(format!("<TopicArn>{}</TopicArn>", xml_escape(&arn)))),
            "DeleteTopic" => sns::delete_topic(c, &ctx, &topic).map(|()| Done::default()),
            "ListTopics" => sns::list_topics(c, &ctx, next_token.as_deref())
                .map(|(list, next)| xml_done(render::topics(&list, next.as_deref()))),
            "AddPermission" => {
                access::add_permission(c, &ctx, &topic, &label, &accounts, &action_names)
                    .map(|()| Done::default())
            }
            "RemovePermission" => {
                access::remove_permission(c, &ctx, &topic, &label).map(|()| Done::default())
            }
            "TagResource" => {
                access::tag_resource(c, &ctx, &resource, &tags, tagger).map(|()| Done::default())
            }
            "UntagResource" => access::untag_resource(c, &ctx, &resource, &tag_keys, tagger)
                .map(|()| Done::default()),
            "ListTagsForResource" => {
                access::list_tags(c, &ctx, &resource).map(|tags| xml_done(render::tags(&tags)))
            }
            "ConfirmSubscription" => {
                let fresh = cairn_core::sns_resubscribe::Fresh {
                    id: &sub_id,
                    token: &token,
                };
                let arn = sns::confirm(
                    c,
                    &topic,
                    &token_param,
                    authenticate_on_unsubscribe,
                    now_ms / 1000,
                    &fresh,
                )?;
                Ok(Done {
                    xml: format!("<SubscriptionArn>{}</SubscriptionArn>", xml_escape(&arn)),
                    confirmed: Some(arn),
                    ..Default::default()
                })
            }
            "GetTopicAttributes" => sns::get_attributes(c, &ctx, &topic)
                .map(|attrs| xml_done(entries_xml("Attributes", &attrs))),
            "SetTopicAttributes" => {
                sns::set_attribute(c, &ctx, &topic, &attr, &value).map(|()| Done::default())
            }
            "Subscribe" => {
                if let Some(why) = &endpoint_refused {
                    return Err(ApiError::new(
                        cairn_core::ErrorKind::SnsInvalidParameter,
                        format!("Invalid parameter: Endpoint: {why}"),
                    ));
                }
                let s = sns::subscribe(
                    c,
                    &ctx,
                    &topic,
                    &protocol,
                    &endpoint,
                    &attributes,
                    &token,
                    &sub_id,
                    &base_url,
                )?;
                let shown = if return_arn || !s.confirm {
                    s.subscription.arn.clone()
                } else {
                    "pending confirmation".to_owned()
                };
                let version = topic_voice(c, &topic)?;
                Ok(Done {
                    xml: format!("<SubscriptionArn>{}</SubscriptionArn>", xml_escape(&shown)),
                    confirmation: s.confirm.then_some((s.subscription, version, false)),
                    ..Default::default()
                })
            }
            "Unsubscribe" => {
                let Some(mut sub) = sns::unsubscribe(c, &ctx, &subscription)? else {
                    return Ok(Done::default());
                };
                // The UnsubscribeConfirmation's link restores the subscription.
                sub.token = cairn_core::sns_resubscribe::token(c, &sub, now_ms / 1000)?;
                let version = topic_voice(c, &sub.topic_arn)?;
                Ok(Done {
                    confirmation: Some((sub, version, true)),
                    ..Default::default()
                })
            }
            "ListSubscriptions" | "ListSubscriptionsByTopic" => {
                let by_topic = (act == "ListSubscriptionsByTopic").then_some(topic.as_str());
                sns::list_subscriptions(c, &ctx, by_topic, next_token.as_deref())
                    .map(|(subs, next)| xml_done(render::subscriptions(&subs, next.as_deref())))
            }
            "GetSubscriptionAttributes" => sns::get_subscription_attributes(c, &ctx, &subscription)
                .map(|attrs| xml_done(entries_xml("Attributes", &attrs))),
            "SetSubscriptionAttributes" => {
                sns::set_subscription_attribute(c, &ctx, &subscription, &attr, &value)
                    .map(|()| Done::default())
            }
            "Publish" => {
                if phone.is_some() && topic.is_empty() {
                    return Err(ApiError::new(
                        cairn_core::ErrorKind::SnsInvalidParameter,
                        "Invalid parameter: PhoneNumber Reason: Cairn does not send SMS",
                    ));
                }
                if topic.is_empty() {
                    return Err(ApiError::new(
                        cairn_core::ErrorKind::SnsInvalidParameter,
                        "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
                    ));
                }
                sns::check_topic_arn(&ctx, &topic)?;
                let seal = seal_for(c, &ctx, &topic)?;
                let p =
                    publish::accept(c, &account, &topic, &publish_input, now_ms, seal.as_ref())?;
                Ok(Done {
                    xml: format!("<MessageId>{}</MessageId>", p.message_id),
                    publications: vec![p],
                    ..Default::default()
                })
            }
            "PublishBatch" => {
                sns::check_topic_arn(&ctx, &topic)?;
                let seal = seal_for(c, &ctx, &topic)?;
                let results =
                    publish::accept_batch(c, &account, &topic, &batch, now_ms, seal.as_ref())?;
                let (xml, publications) = render::batch(results);
                Ok(Done {
                    xml,
                    publications,
                    ..Default::default()
                })
            }
            other => Err(ApiError::new(
                cairn_core::ErrorKind::InvalidAction,
                format!("The action {other} is not valid for this web service."),
            )),
        }
    };
    // The ARN a create returns is in its CloudTrail record, as on AWS.
    let created = match event_name.as_str() {
        "CreateTopic" => Some(("TopicArn", "topicArn")),
        "Subscribe" | "ConfirmSubscription" => Some(("SubscriptionArn", "subscriptionArn")),
        _ => None,
    };
    let describe = move |r: &ApiResult<Done>| Outcome {
        event_source: "sns.amazonaws.com",
        event_name,
        read_only,
        management,
        request_parameters: Value::Object(request_parameters),
        response_elements: match (r, created) {
            (Ok(d), Some((element, member))) => {
                element_text(&d.xml, element).map_or(Value::Null, |arn| json!({ member: arn }))
            }
            (Ok(d), None) if d.publications.len() == 1 && !d.xml.contains("<Successful>") => {
                json!({ "messageId": d.publications[0].message_id })
            }
            _ => Value::Null,
        },
        error: r.as_ref().err().map(|e| {
            let w = WireError::sns(e);
            (w.code.to_owned(), w.message)
        }),
        resources: data_resources,
        additional_event_data: None,
    };
    let permission = {
        let sns_action = match action.as_str() {
            "PublishBatch" => "sns:Publish".to_owned(),
            other => format!("sns:{other}"),
        };
        let topic_of_subscription =
            get("SubscriptionArn").and_then(|a| a.rsplit_once(':').map(|(t, _)| t.to_owned()));
        let topic_param = get("TopicArn")
            .or_else(|| get("TargetArn"))
            .or_else(|| get("ResourceArn"));
        match (sns_action.as_str(), topic_param.or(topic_of_subscription)) {
            // An unsigned confirmation (the link) is authorized by its token alone; a signed
            // one is the caller's call, judged on the topic like any other (sns8: a caller
            // denied sns:* confirmed with AuthenticateOnUnsubscribe set).
            ("sns:ConfirmSubscription", Some(topic)) => vec![Permission::new(sns_action, topic)],
            ("sns:ConfirmSubscription", None) => Vec::new(),
            ("sns:CreateTopic", _) => {
                let arn = format!(
                    "arn:aws:sns:{}:{}:{}",
                    info.ctx.region,
                    info.ctx.account(),
                    get("Name").unwrap_or_default()
                );
                // Tagging a topic on creation needs sns:TagResource too; both see the tags
                // as `aws:RequestTag/<key>`.
                let tags = params::tags(params);
                let mut needed =
                    vec![Permission::new(sns_action, arn.clone()).with_request_tags(&tags)];
                if !tags.is_empty() {
                    needed.push(
                        Permission::new("sns:TagResource".to_owned(), arn).with_request_tags(&tags),
                    );
                }
                needed
            }
            // Listings are authorized on the region's topics (`arn:aws:sns:<region>:<acct>:*`,
            // the resource SNS's denials name).
            ("sns:ListSubscriptions" | "sns:ListTopics", _) => vec![Permission::new(
                sns_action,
                format!("arn:aws:sns:{}:{}:*", info.ctx.region, info.ctx.account()),
            )],
            (_, Some(topic)) => {
                let p = Permission::new(sns_action.clone(), topic.clone());
                // A topic policy grants only the actions SNS lets it grant; tagging and the
                // subscription calls are the identity's to allow.
                let p = if TOPIC_POLICY_ACTIONS.contains(&sns_action.as_str()) {
                    p.under(ResourcePolicy::Topic(topic))
                } else {
                    p
                };
                vec![match sns_action.as_str() {
                    "sns:TagResource" => p.with_request_tags(&params::tags(params)),
                    // SNS's own keys (SNS guide, "Amazon SNS-specific keys").
                    "sns:Subscribe" => {
                        let p = match get("Protocol") {
                            Some(v) => p.with("sns:Protocol", v),
                            None => p,
                        };
                        match get("Endpoint") {
                            Some(v) => p.with("sns:Endpoint", v),
                            None => p,
                        }
                    }
                    "sns:UntagResource" => {
                        let keys: Vec<String> = params
                            .iter()
                            .filter(|(k, _)| k.starts_with("TagKeys.member."))
                            .map(|(_, v)| v.clone())
                            .collect();
                        if keys.is_empty() {
                            p
                        } else {
                            p.with_values("aws:TagKeys", keys)
                        }
                    }
                    _ => p,
                }]
            }
            _ => vec![Permission::any(sns_action)],
        }
    };
    let refusal = crate::model_check::refusal(&info, || {
        crate::model_check::check("sns", &action, crate::model_check::Input::Query(params))
            .map_err(|p| p.into_error(cairn_core::ErrorKind::IamValidation))
    });
    let answered = state
        .gate
        .execute(
            info,
            read_only,
            crate::model_check::permissions_unless(refusal.is_some(), move |_, _| Ok(permission)),
            crate::model_check::op_unless(refusal, op),
            describe,
        )
        .await;
    let refused = refused_kms.lock().expect("event slot").take();
    if let (Err(_), Some(event)) = (&answered, refused) {
        state
            .store
            .write(move |c| cairn_core::record::append(c, &event))
            .await??;
    }
    let done = answered?;
    send_after_commit(state, &done, state.now().timestamp_millis());
    Ok(done.xml)
}

#[cfg(test)]
mod tests {
    use super::link_base;

    #[test]
    fn the_listeners_own_address_is_not_kept() {
        let listen = Some("127.0.0.1:4599".parse().unwrap());
        for own in ["127.0.0.1:4599", "localhost:4599", "[::1]:4599"] {
            assert_eq!(link_base(own, listen), "", "{own}");
        }
        for other in [
            "localhost:8080",
            "cairn.internal:4599",
            "10.0.0.5:4599",
            "localhost",
            "[fd00::1]:80",
        ] {
            assert_eq!(
                link_base(other, listen),
                format!("http://{other}"),
                "{other}"
            );
        }
        // sns8: no host at all is copied into every link.
        for junk in ["a\"b c", "h:99999", "h:0", "", "[::1", "h/x"] {
            assert_eq!(link_base(junk, listen), "", "{junk}");
        }
    }
}
