//! `AWS::SNS::Topic`, `AWS::SNS::TopicPolicy` and `AWS::SNS::Subscription`.

use serde_json::{Value, json};

use super::util::{
    document, is_system_tag, only, opt_bool, opt_str, props, removed_tag_keys, req_str, str_list,
    tag_list, tags, tags_with_system,
};
use super::{Cx, Failure, Made, Provider};
use crate::cloudformation::services::{BoxFuture, Service};

const TOPIC: &str = "AWS::SNS::Topic";
const POLICY: &str = "AWS::SNS::TopicPolicy";
const SUBSCRIPTION: &str = "AWS::SNS::Subscription";

/// `AWS::SNS::Topic`: `TopicName`, `DisplayName`, `Subscription` and `Tags`. A topic that
/// exists already fails the create (`AlreadyExists`) and is left as it is. The topic carries
/// the stack's tags, its `Tags` (which win on a shared key) and CloudFormation's
/// `aws:cloudformation:*` tags, as on AWS.
pub struct Topic;

/// The tags the topic is to carry, with the stack tags `stack`.
fn topic_tags(
    cx: &Cx<'_>,
    stack: &[(String, String)],
    p: &Value,
) -> Result<Vec<(String, String)>, Failure> {
    tags_with_system(cx, stack, p, TOPIC)
}

/// Refuses template tags under the `aws:` prefix, as SNS refuses them from a requester.
fn check_own_tags(p: &Value) -> Result<(), Failure> {
    if tags(p, TOPIC, &[])?.iter().any(|(k, _)| is_system_tag(k)) {
        return Err(Failure::new(
            "Invalid parameter: Tags Reason: Tag keys starting with 'aws:' are reserved for AWS use",
        ));
    }
    Ok(())
}

fn topic_name(cx: &Cx<'_>, p: &Value) -> Result<String, Failure> {
    Ok(match opt_str(p, "TopicName", TOPIC)? {
        Some(n) => n,
        None => cx.generated_name(256, false),
    })
}

fn topic_arn(cx: &Cx<'_>, name: &str) -> String {
    format!("arn:aws:sns:{}:{}:{name}", cx.region(), cx.account)
}

fn subscriptions(p: &Value) -> Result<Vec<(String, String)>, Failure> {
    let Some(list) = props(p).get("Subscription") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = list else {
        return Err(Failure::schema("#/Subscription: expected type: JSONArray"));
    };
    items
        .iter()
        .map(|i| {
            Ok((
                req_str(i, "Protocol", TOPIC)?,
                req_str(i, "Endpoint", TOPIC)?,
            ))
        })
        .collect()
}

async fn subscribe(
    cx: &Cx<'_>,
    arn: &str,
    protocol: &str,
    endpoint: &str,
) -> Result<Value, Failure> {
    cx.call(
        Service::Sns,
        "Subscribe",
        json!({"TopicArn": arn, "Protocol": protocol, "Endpoint": endpoint, "ReturnSubscriptionArn": "true"}),
    )
    .await
}

impl Provider for Topic {
    fn resource_type(&self) -> &'static str {
        TOPIC
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["TopicArn", "TopicName"]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["TopicName", "FifoTopic"]
    }

    fn name_property(&self) -> Option<&'static str> {
        Some("TopicName")
    }

    fn takes_stack_tags(&self) -> bool {
        true
    }

    fn intended_id(&self, cx: &Cx<'_>, p: &Value) -> Option<String> {
        topic_name(cx, p).ok().map(|n| topic_arn(cx, &n))
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(
                p,
                TOPIC,
                &[
                    "TopicName",
                    "DisplayName",
                    "KmsMasterKeyId",
                    "Subscription",
                    "Tags",
                    "FifoTopic",
                ],
            )?;
            standard_only(p)?;
            check_own_tags(p)?;
            let name = topic_name(cx, p)?;
            // CreateTopic answers an existing name with its ARN; CloudFormation's handler looks
            // first and refuses a topic the stack did not make.
            let existing = topic_arn(cx, &name);
            if cx
                .find(
                    Service::Sns,
                    "GetTopicAttributes",
                    json!({"TopicArn": existing}),
                )
                .await?
                .is_some()
            {
                return Err(Failure::already_exists(TOPIC, &existing));
            }
            let out = cx
                .call(Service::Sns, "CreateTopic", json!({"Name": name}))
                .await?;
            let arn = out
                .get("TopicArn")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| topic_arn(cx, &name));
            let settle = async {
                // Server-side encryption: the topic's key, before anything is published.
                for name in ["KmsMasterKeyId", "DisplayName"] {
                    if let Some(v) = opt_str(p, name, TOPIC)? {
                        set_attribute(cx, &arn, name, &v).await?;
                    }
                }
                let tags = topic_tags(cx, cx.stack_tags, p)?;
                cx.call(
                    Service::Sns,
                    "TagResource",
                    json!({"ResourceArn": arn, "Tags": tag_list(&tags)}),
                )
                .await?;
                for (protocol, endpoint) in subscriptions(p)? {
                    subscribe(cx, &arn, &protocol, &endpoint).await?;
                }
                Ok::<(), Failure>(())
            };
            settle.await.map_err(|f| f.made(&arn))?;
            Ok(Made::id(arn.clone())
                .with("TopicArn", arn)
                .with("TopicName", name))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        old: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(
                new,
                TOPIC,
                &[
                    "TopicName",
                    "DisplayName",
                    "KmsMasterKeyId",
                    "Subscription",
                    "Tags",
                    "FifoTopic",
                ],
            )?;
            standard_only(new)?;
            check_own_tags(new)?;
            let arn = &current.physical_id;
            for name in ["KmsMasterKeyId", "DisplayName"] {
                if props(old).get(name) != props(new).get(name) {
                    let v = opt_str(new, name, TOPIC)?.unwrap_or_default();
                    set_attribute(cx, arn, name, &v).await?;
                }
            }
            // The list is updated in place, as AWS's handler does: new entries are subscribed,
            // removed ones unsubscribed (one still awaiting confirmation has no ARN to
            // unsubscribe, on AWS too, and lapses with its token), so a rollback restores the
            // list an update changed.
            let (before, after) = (subscriptions(old)?, subscriptions(new)?);
            for (protocol, endpoint) in after.iter().filter(|s| !before.contains(s)) {
                subscribe(cx, arn, protocol, endpoint).await?;
            }
            for (protocol, endpoint) in before.iter().filter(|s| !after.contains(s)) {
                if let Some(sub) = existing_subscription(cx, arn, protocol, endpoint).await?
                    && sub.starts_with("arn:")
                {
                    cx.call(Service::Sns, "Unsubscribe", json!({"SubscriptionArn": sub}))
                        .await?;
                }
            }
            let (before, after) = (
                topic_tags(cx, cx.old_stack_tags, old)?,
                topic_tags(cx, cx.stack_tags, new)?,
            );
            if before != after {
                let gone = removed_tag_keys(&before, &after);
                if !gone.is_empty() {
                    cx.call(
                        Service::Sns,
                        "UntagResource",
                        json!({"ResourceArn": arn, "TagKeys": gone}),
                    )
                    .await?;
                }
                cx.call(
                    Service::Sns,
                    "TagResource",
                    json!({"ResourceArn": arn, "Tags": tag_list(&after)}),
                )
                .await?;
            }
            Ok(current.clone())
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            cx.call(
                Service::Sns,
                "DeleteTopic",
                json!({"TopicArn": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}

/// Sets one attribute of the topic `arn` (the empty string unsets it).
async fn set_attribute(cx: &Cx<'_>, arn: &str, name: &str, value: &str) -> Result<(), Failure> {
    cx.call(
        Service::Sns,
        "SetTopicAttributes",
        json!({"TopicArn": arn, "AttributeName": name, "AttributeValue": value}),
    )
    .await
    .map(|_| ())
}

/// The access policy SNS gives a new topic (restored when a TopicPolicy is deleted).
fn default_policy(arn: &str, account: &str) -> String {
    json!({"Version": "2008-10-17", "Id": "__default_policy_ID", "Statement": [{
        "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
        "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                   "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
        "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]})
    .to_string()
}

/// `AWS::SNS::TopicPolicy`: `PolicyDocument` set on every topic of `Topics`. As on AWS it
/// replaces whatever policy a topic had, and deleting it restores SNS's default policy, on
/// the topics it set (`AppliedTopics`, an internal attribute): a topic whose SetTopicAttributes
/// was refused was never this resource's, so neither its rollback nor a later DeleteStack by
/// an admin resets that topic's policy (hostile6: a refused TopicPolicy naming the trail's
/// topic made the admin's cleanup cut off CloudTrail's notifications).
pub struct TopicPolicy;

/// The internal attribute listing the topics a TopicPolicy set.
const APPLIED: &str = "AppliedTopics";

/// Sets `policy` on each topic in order; the topics set before any failure, and the failure.
async fn apply_policy(
    cx: &Cx<'_>,
    topics: &[String],
    policy: &str,
) -> (Vec<String>, Result<(), Failure>) {
    let mut done = Vec::new();
    for t in topics {
        if let Err(f) = set_policies(cx, std::slice::from_ref(t), Some(policy)).await {
            return (done, Err(f));
        }
        done.push(t.clone());
    }
    (done, Ok(()))
}

/// The topics `made` set: its `AppliedTopics`, or (a resource made before Cairn kept them)
/// every topic of its properties `p`.
fn applied_topics(made: &Made, p: &Value) -> Result<Vec<String>, Failure> {
    match made.attributes.get(APPLIED).and_then(Value::as_array) {
        Some(list) => Ok(list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()),
        None => str_list(p, "Topics", POLICY),
    }
}

async fn set_policies(cx: &Cx<'_>, topics: &[String], policy: Option<&str>) -> Result<(), Failure> {
    for t in topics {
        let doc = match policy {
            Some(p) => p.to_owned(),
            None => default_policy(t, cx.account),
        };
        let done = cx
            .call(
                Service::Sns,
                "SetTopicAttributes",
                json!({"TopicArn": t, "AttributeName": "Policy", "AttributeValue": doc}),
            )
            .await;
        match done {
            Err(f) if policy.is_none() && f.is_not_found() => {}
            other => {
                other?;
            }
        }
    }
    Ok(())
}

impl Provider for TopicPolicy {
    fn required(&self) -> &'static [&'static str] {
        &["PolicyDocument", "Topics"]
    }

    fn resource_type(&self) -> &'static str {
        POLICY
    }

    /// `Id`: "The provider-assigned unique ID for this managed resource", its `Ref` too.
    fn attributes(&self) -> &'static [&'static str] {
        &["Id"]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &[]
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(p, POLICY, &["PolicyDocument", "Topics"])?;
            let policy = document(p, "PolicyDocument", POLICY)?.unwrap_or_default();
            let id = cx.generated_name(255, false);
            // A refused topic fails the create with nothing left set: the topics set before
            // it go back to SNS's default, and there is nothing to roll back.
            let (done, result) = apply_policy(cx, &str_list(p, "Topics", POLICY)?, &policy).await;
            if let Err(f) = result {
                let _ = set_policies(cx, &done, None).await;
                return Err(f);
            }
            Ok(Made::id(id.clone())
                .with("Id", id)
                .with(APPLIED, json!(done)))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        old: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            only(new, POLICY, &["PolicyDocument", "Topics"])?;
            let (before, after) = (
                applied_topics(current, old)?,
                str_list(new, "Topics", POLICY)?,
            );
            // Only topics this resource set go back to the default policy.
            let dropped: Vec<String> = before
                .iter()
                .filter(|t| !after.contains(t))
                .cloned()
                .collect();
            set_policies(cx, &dropped, None).await?;
            let policy = document(new, "PolicyDocument", POLICY)?.unwrap_or_default();
            let (done, result) = apply_policy(cx, &after, &policy).await;
            if let Err(f) = result {
                // The topics newly set go back to the default; a rollback then finds the
                // resource as it was (its `AppliedTopics` unchanged).
                let fresh: Vec<String> = done.into_iter().filter(|t| !before.contains(t)).collect();
                let _ = set_policies(cx, &fresh, None).await;
                return Err(f);
            }
            Ok(current.clone().with(APPLIED, json!(done)))
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        made: &'a Made,
        p: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move { set_policies(cx, &applied_topics(made, p)?, None).await })
    }
}

/// `AWS::SNS::Subscription`: `TopicArn`, `Protocol`, `Endpoint`, and the attributes
/// `FilterPolicy`, `FilterPolicyScope`, `RawMessageDelivery` and `DeliveryPolicy` (changed in
/// place with SetSubscriptionAttributes). Subscribe answers an existing subscription with its
/// ARN, so a create first looks for one with the same protocol and endpoint and refuses it
/// (deleting the stack would otherwise unsubscribe it).
pub struct Subscription;

/// The subscription attributes a template may set (cfn9: they were refused, though
/// Subscribe and SetSubscriptionAttributes take them).
const SUB_ATTRIBUTES: [&str; 4] = [
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "DeliveryPolicy",
];

/// `p`'s subscription attributes as SNS takes them (policies as JSON text); an absent one is
/// empty (an update sets it back to SNS's default).
fn sub_attributes(p: &Value) -> Result<Vec<(&'static str, String)>, Failure> {
    SUB_ATTRIBUTES
        .iter()
        .map(|&name| {
            let value = match props(p).get(name) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(Value::Bool(b)) => b.to_string(),
                Some(o @ Value::Object(_)) => o.to_string(),
                Some(_) => {
                    return Err(Failure::schema(format!(
                        "#/{name}: expected type: JSONObject, found: another type"
                    )));
                }
            };
            Ok((name, value))
        })
        .collect()
}

/// The ARN of the topic's subscription with this protocol and endpoint (its endpoint while it
/// awaits confirmation), if it has one.
async fn existing_subscription(
    cx: &Cx<'_>,
    topic: &str,
    protocol: &str,
    endpoint: &str,
) -> Result<Option<String>, Failure> {
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"TopicArn": topic});
        if let Some(t) = &token {
            input["NextToken"] = json!(t);
        }
        let Some(out) = cx
            .find(Service::Sns, "ListSubscriptionsByTopic", input)
            .await?
        else {
            return Ok(None);
        };
        let found = out
            .get("Subscriptions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|s| {
                s.get("Protocol").and_then(Value::as_str) == Some(protocol)
                    && s.get("Endpoint").and_then(Value::as_str) == Some(endpoint)
            });
        if let Some(s) = found {
            // A subscription awaiting confirmation is listed without its ARN.
            let arn = s
                .get("SubscriptionArn")
                .and_then(Value::as_str)
                .filter(|a| a.starts_with("arn:"));
            return Ok(Some(arn.unwrap_or(endpoint).to_owned()));
        }
        token = out
            .get("NextToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if token.is_none() {
            return Ok(None);
        }
    }
}

impl Provider for Subscription {
    fn required(&self) -> &'static [&'static str] {
        &["Protocol", "TopicArn"]
    }

    fn resource_type(&self) -> &'static str {
        SUBSCRIPTION
    }

    fn attributes(&self) -> &'static [&'static str] {
        &["Arn"]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &["TopicArn", "Protocol", "Endpoint"]
    }

    fn create<'a>(&'a self, cx: &'a Cx<'a>, p: &'a Value) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            let supported = [
                &["TopicArn", "Protocol", "Endpoint"][..],
                &SUB_ATTRIBUTES[..],
            ]
            .concat();
            only(p, SUBSCRIPTION, &supported)?;
            let topic = req_str(p, "TopicArn", SUBSCRIPTION)?;
            let protocol = req_str(p, "Protocol", SUBSCRIPTION)?;
            let endpoint = req_str(p, "Endpoint", SUBSCRIPTION)?;
            let attributes = sub_attributes(p)?;
            if let Some(arn) = existing_subscription(cx, &topic, &protocol, &endpoint).await? {
                return Err(Failure::already_exists(SUBSCRIPTION, &arn));
            }
            let mut input = json!({"TopicArn": topic, "Protocol": protocol, "Endpoint": endpoint, "ReturnSubscriptionArn": "true"});
            for (i, (name, value)) in attributes.iter().filter(|(_, v)| !v.is_empty()).enumerate() {
                input[format!("Attributes.entry.{}.key", i + 1)] = json!(name);
                input[format!("Attributes.entry.{}.value", i + 1)] = json!(value);
            }
            let out = cx.call(Service::Sns, "Subscribe", input).await?;
            let arn = out
                .get("SubscriptionArn")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Ok(Made::id(arn.clone()).with("Arn", arn))
        })
    }

    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        old: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move {
            let supported = [
                &["TopicArn", "Protocol", "Endpoint"][..],
                &SUB_ATTRIBUTES[..],
            ]
            .concat();
            only(new, SUBSCRIPTION, &supported)?;
            let before = sub_attributes(old)?;
            for ((name, value), (_, was)) in sub_attributes(new)?.into_iter().zip(before) {
                if value == was {
                    continue;
                }
                if !current.physical_id.starts_with("arn:") {
                    return Err(Failure::new(format!(
                        "Cannot change {name} of a subscription pending confirmation ({})",
                        current.physical_id
                    )));
                }
                // A property removed from the template goes back to SNS's default (an empty
                // policy removes it, as AWS's `--attribute-value "{}"`): an empty value was
                // refused, so such an update and its rollback failed (recheck32).
                let value = match (name, value.is_empty()) {
                    ("RawMessageDelivery", true) => "false".to_owned(),
                    ("FilterPolicyScope", true) => "MessageAttributes".to_owned(),
                    ("FilterPolicy" | "DeliveryPolicy", true) => "{}".to_owned(),
                    _ => value,
                };
                cx.call(
                    Service::Sns,
                    "SetSubscriptionAttributes",
                    json!({"SubscriptionArn": current.physical_id, "AttributeName": name, "AttributeValue": value}),
                )
                .await?;
            }
            Ok(current.clone())
        })
    }

    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        _: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move {
            cx.call(
                Service::Sns,
                "Unsubscribe",
                json!({"SubscriptionArn": current.physical_id}),
            )
            .await
            .map(|_| ())
        })
    }
}

/// `FifoTopic` may only say the topic is a standard one (`false`, the default).
fn standard_only(p: &Value) -> Result<(), Failure> {
    if opt_bool(p, "FifoTopic", TOPIC)?.unwrap_or(false) {
        return Err(Failure::new(
            "Cairn cannot honour the property of AWS::SNS::Topic [FifoTopic]: this release does not serve FIFO topics, so the resource is not created rather than created without it.",
        ));
    }
    Ok(())
}
