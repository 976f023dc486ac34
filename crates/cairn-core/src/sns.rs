//! SNS semantics: topics with access policies and attributes, HTTP(S) and email subscriptions
//! with the confirmation handshake and their attributes, paginated listings, and the check
//! that a topic lets CloudTrail publish. Publishing is [`crate::publish`]; tags and
//! AddPermission/RemovePermission are [`crate::sns_topic_access`]; the checks of a
//! subscription's endpoint and attributes are [`crate::sns_subscription_checks`].

use cairn_store::Connection;
use cairn_store::sns::{self, Subscription, Topic};

use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

fn not_found() -> ApiError {
    ApiError::new(ErrorKind::SnsNotFound, "Topic does not exist")
}

fn default_policy(arn: &str, account: &str) -> String {
    serde_json::json!({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
        "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                   "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
        "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]})
    .to_string()
}

pub(crate) fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::SnsInvalidParameter, message)
}

/// The attribute map stored as a JSON object.
pub(crate) fn attr_map(json: &str) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str(json) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

/// Checks one topic attribute other than `Policy`; the value to keep.
fn check_topic_attribute(name: &str, value: &str) -> ApiResult<()> {
    let ok = match name {
        "DisplayName" => value.chars().count() <= 100,
        "SignatureVersion" => matches!(value, "1" | "2"),
        "TracingConfig" => matches!(value, "PassThrough" | "Active"),
        "DeliveryPolicy" => {
            return crate::sns_delivery_policy::check_topic(value).map_err(|why| {
                invalid(format!("Invalid parameter: DeliveryPolicy Reason: {why}"))
            });
        }
        "KmsMasterKeyId" => true,
        _ if delivery_status_attribute(name) => {
            return Err(invalid(format!(
                "Invalid parameter: Attributes Reason: {name}: Cairn does not log delivery status"
            )));
        }
        // A standard topic spelled out: nothing to keep (SNS then omits the attribute).
        "FifoTopic" if value.eq_ignore_ascii_case("false") => true,
        "FifoTopic" => {
            return Err(invalid(
                "Invalid parameter: Attributes Reason: FifoTopic: Cairn does not serve FIFO topics",
            ));
        }
        _ => {
            return Err(invalid(format!(
                "Invalid parameter: AttributeName Reason: Unknown attribute {name}"
            )));
        }
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "Invalid parameter: Attributes Reason: {name}: invalid value {value}"
        )))
    }
}

/// The topic attributes that turn on delivery-status logging to CloudWatch Logs
/// (`HTTPSuccessFeedbackRoleArn`, `SQSFailureFeedbackRoleArn`, …), which Cairn does not do.
fn delivery_status_attribute(name: &str) -> bool {
    ["HTTP", "Firehose", "Lambda", "SQS", "Application"]
        .iter()
        .filter_map(|p| name.strip_prefix(p))
        .any(|rest| {
            matches!(
                rest,
                "SuccessFeedbackRoleArn" | "FailureFeedbackRoleArn" | "SuccessFeedbackSampleRate"
            )
        })
}

/// Standard topics an account may have in a region: SNS's default quota, beyond which
/// CreateTopic is `TopicLimitExceeded` (the SNS API reference).
pub const MAX_TOPICS: i64 = 100_000;

/// CreateTopic, with `Attributes` and `Tags` as (name, value) pairs. Idempotent like SNS:
/// an existing topic's ARN is returned when the given attributes and tags are the ones it
/// has, else the call is refused.
pub fn create_topic(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    attributes: &[(String, String)],
    tags: &[(String, String)],
) -> ApiResult<String> {
    // A FIFO topic is refused for what it is, before its `.fifo` name is judged.
    for (k, v) in attributes.iter().filter(|(k, _)| k == "FifoTopic") {
        check_topic_attribute(k, v)?;
    }
    let ok = (1..=256).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(invalid("Invalid parameter: Topic Name"));
    }
    let arn = format!("arn:aws:sns:{}:{}:{name}", ctx.region, ctx.account());
    let mut policy = default_policy(&arn, ctx.account().as_str());
    let mut attrs = serde_json::Map::new();
    for (k, v) in attributes {
        if k == "Policy" {
            check_policy(conn, ctx.account().as_str(), v)?;
            policy = crate::iam::principal_ids::bind(conn, ctx.account().as_str(), v)?;
        } else {
            check_topic_attribute(k, v)?;
            if k != "FifoTopic" {
                attrs.insert(k.clone(), v.clone().into());
            }
        }
    }
    crate::sns_topic_access::check_tags(tags)?;
    if let Some(existing) = sns::get_topic(conn, &arn)? {
        return same_topic(conn, &existing, attributes, tags).map(|()| arn);
    }
    if sns::count_topics(conn, ctx.account().as_str(), ctx.region.as_str())? >= MAX_TOPICS {
        return Err(ApiError::new(
            ErrorKind::SnsTopicLimitExceeded,
            "Topic limit exceeded",
        ));
    }
    sns::create_topic(
        conn,
        &Topic {
            arn: arn.clone(),
            account: ctx.account().to_string(),
            region: ctx.region.to_string(),
            name: name.to_owned(),
            policy,
            attributes: serde_json::Value::Object(attrs).to_string(),
        },
        ctx.now,
    )?;
    sns::put_topic_tags(conn, &arn, tags)?;
    Ok(arn)
}

/// Whether a CreateTopic of an existing topic asks for what it has: each given attribute
/// equal to the topic's (JSON values compared as JSON), and the given tags, if any, its tags.
fn same_topic(
    conn: &Connection,
    topic: &Topic,
    attributes: &[(String, String)],
    tags: &[(String, String)],
) -> ApiResult<()> {
    let stored = attr_map(&topic.attributes);
    let json = |v: &str| serde_json::from_str::<serde_json::Value>(v).ok();
    let differs = attributes.iter().any(|(k, v)| {
        let current = match k.as_str() {
            "Policy" => crate::iam::principal_ids::render(conn, &topic.policy).ok(),
            _ => stored.get(k).and_then(|x| x.as_str()).map(str::to_owned),
        };
        let current = current.or_else(|| match k.as_str() {
            "DisplayName" => Some(String::new()),
            "SignatureVersion" => Some("1".into()),
            "TracingConfig" => Some("PassThrough".into()),
            "FifoTopic" => Some(v.to_ascii_lowercase()).filter(|f| f == "false"),
            _ => None,
        });
        match current {
            None => true,
            Some(c) if matches!(k.as_str(), "Policy" | "DeliveryPolicy") => json(&c) != json(v),
            Some(c) => &c != v,
        }
    });
    if differs {
        return Err(invalid(
            "Invalid parameter: Attributes Reason: Topic already exists with different attributes",
        ));
    }
    if !tags.is_empty() {
        let given: std::collections::BTreeMap<_, _> = tags.iter().cloned().collect();
        let have: std::collections::BTreeMap<_, _> =
            sns::topic_tags(conn, &topic.arn)?.into_iter().collect();
        if given != have {
            return Err(invalid(
                "Invalid parameter: Tags Reason: Topic already exists with different tags",
            ));
        }
    }
    Ok(())
}

/// Largest topic policy, in bytes, and most statements (SNS's policy quotas: 30 KB, 100).
const MAX_POLICY_BYTES: usize = 30 * 1024;
const MAX_POLICY_STATEMENTS: usize = 100;

/// Checks a topic policy: within SNS's quotas, a policy IAM can read, naming only principals
/// that exist (`PrincipalNotFound`, as SNS words it).
pub(crate) fn check_policy(conn: &Connection, account: &str, value: &str) -> ApiResult<()> {
    if value.len() > MAX_POLICY_BYTES {
        return Err(invalid(format!(
            "Invalid parameter: Policy Error: policy size {} exceeds the limit of {MAX_POLICY_BYTES} bytes",
            value.len()
        )));
    }
    let doc = crate::policy::parse_resource(value)
        .map_err(|m| invalid(format!("Invalid parameter: Policy Error: {m}")))?;
    if doc.statements().len() > MAX_POLICY_STATEMENTS {
        return Err(invalid(format!(
            "Invalid parameter: Policy Error: {} statements were found in the policy, max allowed is {MAX_POLICY_STATEMENTS}",
            doc.statements().len()
        )));
    }
    // Only the actions a topic policy may grant (sns6).
    for statement in doc.statements() {
        let (actions, negated) = statement.actions();
        if let Some(a) = actions
            .iter()
            .find(|a| !negated && !crate::sns_topic_access::in_topic_scope(a))
        {
            return Err(invalid(format!(
                "Invalid parameter: Policy statement action out of service scope!: {a}"
            )));
        }
    }
    // A user or role that does not exist, or an IAM ARN that is no principal (a group).
    if crate::iam::roles::missing_principal(conn, account, &doc)?.is_some() {
        return Err(invalid(
            "Invalid parameter: Policy Error: PrincipalNotFound",
        ));
    }
    Ok(())
}

pub use crate::sns_topic_access::check_topic_arn;

pub(crate) fn owned(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<Topic> {
    check_topic_arn(ctx, arn)?;
    sns::get_topic(conn, arn)?
        .filter(|t| t.account == ctx.account().as_str())
        .ok_or_else(not_found)
}

/// DeleteTopic (deleting a missing topic succeeds, like SNS; a malformed ARN does not).
pub fn delete_topic(conn: &Connection, ctx: &CallContext, arn: &str) -> ApiResult<()> {
    check_topic_arn(ctx, arn)?;
    if owned(conn, ctx, arn).is_ok() {
        sns::delete_topic(conn, arn)?;
    }
    Ok(())
}

/// Most entries in one page of ListTopics, ListSubscriptions and ListSubscriptionsByTopic.
const PAGE: usize = 100;

/// What a listing's `NextToken` is bound to: the operation, the caller's account and region,
/// and the topic (ListSubscriptionsByTopic).
fn token_scope(ctx: &CallContext, op: &str, topic: Option<&str>) -> String {
    crate::token::scope_of(
        op,
        &[
            ("account".to_owned(), ctx.account().to_string()),
            ("region".to_owned(), ctx.region.as_str().to_owned()),
            ("topic".to_owned(), topic.unwrap_or_default().to_owned()),
        ],
    )
}

/// The ARN a `NextToken` resumes after ("" for the first page); a token this service did
/// not give for this listing (forged, or from another operation, topic or region) is refused.
fn resume_after(conn: &Connection, scope: &str, next_token: Option<&str>) -> ApiResult<String> {
    match next_token {
        None | Some("") => Ok(String::new()),
        Some(t) => crate::token::TokenKey::stored(conn)?
            .open(scope, t)
            .ok_or_else(|| invalid("Invalid parameter: NextToken")),
    }
}

/// The token of the page after `last` (a signed keyset position: the last ARN returned).
fn token_after(conn: &Connection, scope: &str, last: &str) -> ApiResult<String> {
    Ok(crate::token::TokenKey::stored(conn)?.seal(scope, last))
}

/// One page of ListTopics: up to 100 ARNs after `next_token`, and the next page's token.
pub fn list_topics(
    conn: &Connection,
    ctx: &CallContext,
    next_token: Option<&str>,
) -> ApiResult<(Vec<String>, Option<String>)> {
    let scope = token_scope(ctx, "ListTopics", None);
    let after = resume_after(conn, &scope, next_token)?;
    let mut rows = sns::list_topics(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        &after,
        PAGE + 1,
    )?;
    let next = if rows.len() > PAGE {
        rows.truncate(PAGE);
        rows.last()
            .map(|a| token_after(conn, &scope, a))
            .transpose()?
    } else {
        None
    };
    Ok((rows, next))
}

/// SNS's default HTTP/S delivery policy, as `EffectiveDeliveryPolicy` shows it.
pub const EFFECTIVE_DELIVERY_POLICY: &str = r#"{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}"#;

/// GetTopicAttributes: (name, value) pairs.
pub fn get_attributes(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<Vec<(String, String)>> {
    let t = owned(conn, ctx, arn)?;
    let subs = sns::subscriptions(conn, arn)?;
    let attrs = attr_map(&t.attributes);
    let text = |k: &str| attrs.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    let mut out = vec![
        ("TopicArn".into(), t.arn.clone()),
        ("Owner".into(), t.account.clone()),
        (
            "Policy".into(),
            crate::iam::principal_ids::render(conn, &t.policy)?,
        ),
        (
            "DisplayName".into(),
            text("DisplayName").unwrap_or_default(),
        ),
        (
            "SubscriptionsConfirmed".into(),
            subs.iter().filter(|s| s.confirmed).count().to_string(),
        ),
        (
            "SubscriptionsPending".into(),
            subs.iter()
                .filter(|s| !s.confirmed && !crate::sns_pending::expired(s, ctx.now as i64))
                .count()
                .to_string(),
        ),
        ("SubscriptionsDeleted".into(), "0".into()),
        (
            "EffectiveDeliveryPolicy".into(),
            crate::sns_delivery_policy::effective_topic(text("DeliveryPolicy").as_deref()),
        ),
        (
            "SignatureVersion".into(),
            text("SignatureVersion").unwrap_or_else(|| "1".into()),
        ),
    ];
    for k in ["DeliveryPolicy", "KmsMasterKeyId", "TracingConfig"] {
        if let Some(v) = text(k) {
            out.push((k.into(), v));
        }
    }
    Ok(out)
}

/// The `DeliveryPolicy` in an attribute map (a topic's or a subscription's).
fn delivery_policy(attributes: &str) -> Option<String> {
    attr_map(attributes)
        .get("DeliveryPolicy")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// The retry policy a subscription's messages are delivered under, when its topic or itself
/// sets one ([`crate::sns_delivery_policy::retry_for`]); `None` for SNS's default, or when
/// the subscription is gone.
pub fn retry_policy(
    conn: &Connection,
    subscription_arn: &str,
) -> ApiResult<Option<crate::sns_delivery_policy::HealthyRetry>> {
    let Some(sub) = sns::get_subscription(conn, subscription_arn)? else {
        return Ok(None);
    };
    let topic = sns::get_topic(conn, &sub.topic_arn)?.and_then(|t| delivery_policy(&t.attributes));
    Ok(crate::sns_delivery_policy::retry_for(
        topic.as_deref(),
        delivery_policy(&sub.attributes).as_deref(),
    ))
}

/// The `Content-Type` a subscription's notifications are posted with
/// ([`crate::sns_delivery_policy::content_type_for`]); `None` when the subscription is gone.
pub fn content_type(conn: &Connection, subscription_arn: &str) -> ApiResult<Option<String>> {
    let Some(sub) = sns::get_subscription(conn, subscription_arn)? else {
        return Ok(None);
    };
    let topic = sns::get_topic(conn, &sub.topic_arn)?.and_then(|t| delivery_policy(&t.attributes));
    Ok(Some(crate::sns_delivery_policy::content_type_for(
        topic.as_deref(),
        delivery_policy(&sub.attributes).as_deref(),
    )))
}

/// How a topic's messages present themselves: the signature version they are signed with
/// and the sender name an email shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopicVoice {
    /// `SignatureVersion` ("1" or "2").
    pub signature_version: String,
    /// `DisplayName`, when set: the sender name of its emails ("AWS Notifications" without).
    pub display_name: Option<String>,
}

/// The topic's [`TopicVoice`].
pub fn voice(topic: &Topic) -> TopicVoice {
    TopicVoice {
        signature_version: signature_version(topic),
        display_name: display_name(topic),
    }
}

/// The topic's `DisplayName`, when set and not empty.
pub fn display_name(topic: &Topic) -> Option<String> {
    attr_map(&topic.attributes)
        .get("DisplayName")
        .and_then(|v| v.as_str())
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
}

/// The topic's `SignatureVersion` ("1" unless set to "2").
pub fn signature_version(topic: &Topic) -> String {
    match attr_map(&topic.attributes).get("SignatureVersion") {
        Some(serde_json::Value::String(v)) if v == "2" => "2".into(),
        _ => "1".into(),
    }
}

/// SetTopicAttributes.
pub fn set_attribute(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    name: &str,
    value: &str,
) -> ApiResult<()> {
    let topic = owned(conn, ctx, arn)?;
    if name == "Policy" {
        check_policy(conn, ctx.account().as_str(), value)?;
        let bound = crate::iam::principal_ids::bind(conn, ctx.account().as_str(), value)?;
        sns::set_policy(conn, arn, &bound)?;
        return Ok(());
    }
    check_topic_attribute(name, value)?;
    let mut attrs = attr_map(&topic.attributes);
    attrs.insert(name.to_owned(), value.into());
    sns::set_topic_attributes(conn, arn, &serde_json::Value::Object(attrs).to_string())?;
    Ok(())
}

/// What Subscribe did.
#[derive(Clone, Debug)]
pub struct Subscribed {
    /// The subscription (new, or the existing one for this endpoint).
    pub subscription: Subscription,
    /// Whether a SubscriptionConfirmation must be sent (a pending subscription).
    pub confirm: bool,
}

/// Subscribe an HTTP(S) or email endpoint: a pending subscription whose token the edge sends
/// to the endpoint; an endpoint already confirmed keeps its subscription. `base_url` is where
/// the subscriber's links point.
#[allow(clippy::too_many_arguments)]
pub fn subscribe(
    conn: &Connection,
    ctx: &CallContext,
    topic_arn: &str,
    protocol: &str,
    endpoint: &str,
    attributes: &[(String, String)],
    token: &str,
    id: &str,
    base_url: &str,
) -> ApiResult<Subscribed> {
    owned(conn, ctx, topic_arn)?;
    crate::sns_subscription_checks::endpoint(protocol, endpoint)?;
    let mut attrs = serde_json::Map::new();
    for (k, v) in attributes {
        crate::sns_subscription_checks::attribute(protocol, k, v, true)?;
        attrs.insert(k.clone(), v.clone().into());
    }
    let now = ctx.now as i64;
    let found = sns::find_subscription(conn, topic_arn, protocol, endpoint)?;
    if let Some(stale) = found
        .as_ref()
        .filter(|s| crate::sns_pending::expired(s, now))
    {
        // SNS has deleted a subscription pending for 48 hours: this is a new one.
        sns::delete_subscription(conn, &stale.arn)?;
    }
    let found = found.filter(|s| !crate::sns_pending::expired(s, now));
    if let Some(existing) = found {
        // Subscribing again is idempotent only with the same attributes (as on AWS); the
        // attributes are never changed this way (SetSubscriptionAttributes does that).
        let held: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&existing.attributes).unwrap_or_default();
        let differs = attrs.iter().any(|(k, v)| {
            let now = held.get(k).and_then(serde_json::Value::as_str);
            let default = match k.as_str() {
                "RawMessageDelivery" => Some("false"),
                "FilterPolicyScope" if held.contains_key("FilterPolicy") => {
                    Some("MessageAttributes")
                }
                _ => None,
            };
            let (now, given) = (now.or(default), v.as_str());
            // Policies are the same when their JSON is, whatever its spacing or key order.
            let as_json =
                |t: Option<&str>| t.and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
            let same = now == given
                || (matches!(
                    k.as_str(),
                    "FilterPolicy" | "DeliveryPolicy" | "RedrivePolicy"
                ) && as_json(now).is_some()
                    && as_json(now) == as_json(given));
            !same
        });
        if differs {
            return Err(ApiError::new(
                ErrorKind::SnsInvalidParameter,
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes",
            ));
        }
        let confirm = !existing.confirmed;
        return Ok(Subscribed {
            subscription: existing,
            confirm,
        });
    }
    if attrs.contains_key("FilterPolicy") {
        crate::sns_subscription_checks::filter_policy_room(
            conn,
            topic_arn,
            ctx.account().as_str(),
            "",
        )?;
    }
    let sub = Subscription {
        arn: format!("{topic_arn}:{id}"),
        topic_arn: topic_arn.to_owned(),
        protocol: protocol.to_owned(),
        endpoint: endpoint.to_owned(),
        token: token.to_owned(),
        confirmed: false,
        attributes: serde_json::Value::Object(attrs).to_string(),
        base_url: base_url.to_owned(),
        authenticated_unsubscribe: false,
    };
    sns::subscribe(conn, &sub)?;
    Ok(Subscribed {
        subscription: sub,
        confirm: true,
    })
}

fn subscription_not_found() -> ApiError {
    ApiError::new(ErrorKind::SnsNotFound, "Subscription does not exist")
}

/// A subscription of one of the caller's topics.
pub(crate) fn owned_subscription(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<(Topic, Subscription)> {
    crate::sns_subscription_checks::subscription_arn(arn)?;
    // A subscription pending for 48 hours is gone, as SNS deletes it.
    let sub = sns::get_subscription(conn, arn)?
        .filter(|s| !crate::sns_pending::expired(s, ctx.now as i64))
        .ok_or_else(subscription_not_found)?;
    let topic = owned(conn, ctx, &sub.topic_arn).map_err(|_| subscription_not_found())?;
    Ok((topic, sub))
}

/// One page of ListSubscriptions / ListSubscriptionsByTopic: up to 100 after `next_token`
/// (the last ARN of the previous page), and the token of the next page.
pub fn list_subscriptions(
    conn: &Connection,
    ctx: &CallContext,
    topic_arn: Option<&str>,
    next_token: Option<&str>,
) -> ApiResult<(Vec<Subscription>, Option<String>)> {
    if let Some(t) = topic_arn {
        owned(conn, ctx, t)?;
    }
    let op = if topic_arn.is_some() {
        "ListSubscriptionsByTopic"
    } else {
        "ListSubscriptions"
    };
    let scope = token_scope(ctx, op, topic_arn);
    let after = resume_after(conn, &scope, next_token)?;
    let mut rows = sns::list_subscriptions(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        topic_arn,
        &after,
        PAGE + 1,
    )?;
    let next = if rows.len() > PAGE {
        rows.truncate(PAGE);
        rows.last()
            .map(|s| token_after(conn, &scope, &s.arn))
            .transpose()?
    } else {
        None
    };
    // A subscription pending for 48 hours is gone, as SNS deletes it.
    rows.retain(|s| !crate::sns_pending::expired(s, ctx.now as i64));
    Ok((rows, next))
}

/// GetSubscriptionAttributes: (name, value) pairs.
pub fn get_subscription_attributes(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
) -> ApiResult<Vec<(String, String)>> {
    let (topic, sub) = owned_subscription(conn, ctx, arn)?;
    let attrs = attr_map(&sub.attributes);
    let mut out = vec![
        ("SubscriptionArn".into(), sub.arn.clone()),
        ("TopicArn".into(), sub.topic_arn.clone()),
        ("Owner".into(), topic.account.clone()),
        ("Protocol".into(), sub.protocol.clone()),
        ("Endpoint".into(), sub.endpoint.clone()),
        (
            "ConfirmationWasAuthenticated".into(),
            sub.authenticated_unsubscribe.to_string(),
        ),
        ("PendingConfirmation".into(), (!sub.confirmed).to_string()),
        (
            "RawMessageDelivery".into(),
            attrs
                .get("RawMessageDelivery")
                .and_then(|v| v.as_str())
                .unwrap_or("false")
                .into(),
        ),
    ];
    if sub.protocol.starts_with("http") {
        out.push((
            "EffectiveDeliveryPolicy".into(),
            crate::sns_delivery_policy::effective_subscription(
                delivery_policy(&topic.attributes).as_deref(),
                attrs.get("DeliveryPolicy").and_then(|v| v.as_str()),
            ),
        ));
    }
    for k in [
        "FilterPolicy",
        "FilterPolicyScope",
        "DeliveryPolicy",
        "RedrivePolicy",
    ] {
        if let Some(v) = attrs.get(k).and_then(|v| v.as_str()) {
            out.push((k.into(), v.into()));
        }
    }
    if attrs.contains_key("FilterPolicy") && !attrs.contains_key("FilterPolicyScope") {
        out.push(("FilterPolicyScope".into(), "MessageAttributes".into()));
    }
    Ok(out)
}

pub use crate::sns_subscription_checks::set_subscription_attribute;

/// Whether a subscription's `RawMessageDelivery` is on.
pub fn raw_delivery(sub: &Subscription) -> bool {
    attr_map(&sub.attributes).get("RawMessageDelivery") == Some(&"true".into())
}

/// Whether a message with `attributes` passes the subscription's `FilterPolicy` (every
/// message passes without one). A stored policy is read as the release that accepted it read
/// it; one that cannot be read passes nothing, never everything.
pub fn filter_passes(sub: &Subscription, attributes: &[crate::sns_filter::Attribute<'_>]) -> bool {
    match attr_map(&sub.attributes)
        .get("FilterPolicy")
        .and_then(|v| v.as_str())
    {
        None => true,
        Some(p) => crate::sns_filter::FilterPolicy::parse_cached(p)
            .is_some_and(|policy| policy.matches(attributes)),
    }
}

/// Unsubscribe: removes a subscription of one of the caller's topics; returns it (an
/// HTTP(S) endpoint is told with an UnsubscribeConfirmation).
pub fn unsubscribe(
    conn: &Connection,
    ctx: &CallContext,
    subscription_arn: &str,
) -> ApiResult<Option<Subscription>> {
    // SNS's Unsubscribe is idempotent: a subscription that is already gone (unsubscribed,
    // or deleted with its topic) is not an error. What is not a subscription ARN at all is.
    crate::sns_subscription_checks::subscription_arn(subscription_arn)?;
    match sns::get_subscription(conn, subscription_arn)? {
        None => return Ok(None),
        Some(s) if crate::sns_pending::expired(&s, ctx.now as i64) => {
            sns::delete_subscription(conn, subscription_arn)?;
            return Ok(None);
        }
        Some(_) => {}
    }
    let (_, sub) = owned_subscription(conn, ctx, subscription_arn)?;
    sns::delete_subscription(conn, subscription_arn)?;
    Ok(Some(sub))
}

/// Unsubscribe through a message's `UnsubscribeURL` (unsigned, like SNS: the subscription ARN
/// is the authorization); returns the removed subscription. A subscription confirmed with
/// `AuthenticateOnUnsubscribe` is refused: only a signed Unsubscribe removes it.
pub fn unsubscribe_by_link(conn: &Connection, subscription_arn: &str) -> ApiResult<Subscription> {
    let sub = sns::get_subscription(conn, subscription_arn)?.ok_or_else(subscription_not_found)?;
    if sub.authenticated_unsubscribe {
        return Err(ApiError::new(
            ErrorKind::SnsAuthorizationError,
            "Unsubscribe of this subscription requires authentication (it was confirmed with AuthenticateOnUnsubscribe)",
        ));
    }
    sns::delete_subscription(conn, subscription_arn)?;
    Ok(sub)
}

/// ConfirmSubscription (token-authorised, like SNS); returns the subscription's ARN.
/// `authenticate_on_unsubscribe` (a signed call's `AuthenticateOnUnsubscribe=true`) makes
/// later unsubscribes require authentication.
/// A token no subscription holds may be an UnsubscribeConfirmation's, which restores its
/// subscription ([`crate::sns_resubscribe`]; `now` in epoch seconds, `fresh` its new id and
/// token).
pub fn confirm(
    conn: &Connection,
    topic_arn: &str,
    token: &str,
    authenticate_on_unsubscribe: bool,
    now: i64,
    fresh: &crate::sns_resubscribe::Fresh<'_>,
) -> ApiResult<String> {
    if crate::sns_pending::drop_expired_token(conn, topic_arn, token, now)? {
        return Err(invalid("Invalid parameter: Token"));
    }
    if let Some(arn) = sns::confirm(conn, topic_arn, token, authenticate_on_unsubscribe)? {
        return Ok(arn);
    }
    crate::sns_resubscribe::restore(
        conn,
        topic_arn,
        token,
        authenticate_on_unsubscribe,
        now,
        fresh,
    )?
    .ok_or_else(|| invalid("Invalid parameter: Token"))
}

/// Whether the topic exists and its policy lets `cloudtrail.amazonaws.com` publish.
pub fn cloudtrail_may_publish(
    conn: &Connection,
    topic_arn: &str,
    trail_arn: &str,
    account: &str,
) -> ApiResult<bool> {
    let Some(topic) = sns::get_topic(conn, topic_arn)? else {
        return Ok(false);
    };
    let keys = [("aws:SourceArn", trail_arn), ("aws:SourceAccount", account)];
    Ok(crate::policy::service_allowed(
        &topic.policy,
        "cloudtrail.amazonaws.com",
        "SNS:Publish",
        topic_arn,
        &keys,
    ))
}
