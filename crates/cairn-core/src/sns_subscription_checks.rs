//! The checks SNS makes of a subscription's parts: its endpoint for its protocol, each
//! attribute Subscribe or SetSubscriptionAttributes is given, and the shape of a
//! subscription ARN, each refusal in SNS's words.

use cairn_store::Connection;

use crate::CallContext;
use crate::error::ApiResult;
use crate::sns::invalid;

/// Refuses what is not a subscription ARN at all (`arn:aws:sns:region:account:topic:id`).
pub(crate) fn subscription_arn(arn: &str) -> ApiResult<()> {
    let parts: Vec<&str> = arn.split(':').collect();
    if parts.len() != 7 || parts[..3] != ["arn", "aws", "sns"] || parts.iter().any(|p| p.is_empty())
    {
        return Err(invalid("Invalid parameter: SubscriptionArn"));
    }
    Ok(())
}

/// Checks one subscription attribute for a subscription of `protocol`. Subscribe words a
/// filter policy's reason under `Attributes`, SetSubscriptionAttributes on its own.
pub(crate) fn attribute(
    protocol: &str,
    name: &str,
    value: &str,
    on_subscribe: bool,
) -> ApiResult<()> {
    let bad = |why: &str| {
        Err(invalid(format!(
            "Invalid parameter: Attributes Reason: {why}"
        )))
    };
    let filter_scope = if on_subscribe {
        "Attributes Reason: "
    } else {
        ""
    };
    match name {
        "RawMessageDelivery" => {
            if !matches!(value, "true" | "false") {
                return bad(&format!(
                    "RawMessageDelivery: Invalid value [{value}]. Must be true or false."
                ));
            }
            if protocol.starts_with("email") && value == "true" {
                return bad(&format!(
                    "Delivery protocol [{protocol}] does not support raw message delivery."
                ));
            }
            Ok(())
        }
        "FilterPolicy" => crate::sns_filter::FilterPolicy::parse(value)
            .map(|_| ())
            .map_err(|m| {
                invalid(format!(
                    "Invalid parameter: {filter_scope}FilterPolicy: {m}"
                ))
            }),
        "FilterPolicyScope" => match value {
            "MessageAttributes" => Ok(()),
            "MessageBody" => {
                bad("FilterPolicyScope: MessageBody filtering is not supported by Cairn")
            }
            _ => bad("FilterPolicyScope: Invalid value. Must be MessageAttributes or MessageBody."),
        },
        // Only HTTP/S takes a delivery policy ("Only HTTP/S supports custom policies").
        "DeliveryPolicy" if !protocol.starts_with("http") && !value.is_empty() => bad(&format!(
            "DeliveryPolicy: Delivery protocol [{protocol}] does not support delivery policies."
        )),
        "DeliveryPolicy" => crate::sns_delivery_policy::check_subscription(value)
            .map_err(|why| invalid(format!("Invalid parameter: DeliveryPolicy Reason: {why}"))),
        // A dead-letter queue is an SQS queue, which Cairn does not serve: a redrive policy
        // would be kept and never used, so failed messages would be lost unseen.
        "RedrivePolicy" if value.is_empty() => Ok(()),
        "RedrivePolicy" => bad(
            "RedrivePolicy: Cairn does not serve SQS, so it keeps no dead-letter queue; a message whose retries run out is dropped and logged",
        ),
        _ => Err(invalid(format!(
            "Invalid parameter: AttributeName Reason: Unknown attribute {name}"
        ))),
    }
}

/// An HTTP/S endpoint as SNS shows it outside GetSubscriptionAttributes: the password of a
/// `user:password@` part as `****` ("HTTPS URLs are only retrievable from the Amazon SNS
/// GetSubscriptionAttributes API action"). ListSubscriptions, the Subscribe record and the
/// server's log lines show this form, so the audit trail never keeps a webhook's password.
pub fn masked_endpoint(endpoint: &str) -> String {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return endpoint.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return endpoint.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:****@{host}{tail}"),
        None => endpoint.to_owned(),
    }
}

/// Whether an HTTP(S) endpoint reaches the host it names as typed: a URL parser reads
/// `http://127.0.0.1:8\.example.com/`, `http://127.0.0.01/` or `http://%31%32%37.0.0.1/`
/// as 127.0.0.1, so a condition on the typed string (`sns:Endpoint` like
/// `http://*.example.com/*`) judged one host and delivery went to another (sns8). The
/// authority as typed must be the one the parser reads, and no control character, space or
/// backslash may appear anywhere.
fn canonical_authority(endpoint: &str) -> bool {
    if endpoint
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return false;
    }
    let Ok(url) = url::Url::parse(endpoint) else {
        return false;
    };
    let Some((_, rest)) = endpoint.split_once("://") else {
        return false;
    };
    let typed = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let typed_host = typed.rsplit_once('@').map_or(typed, |(_, h)| h);
    let parsed = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => return false,
    };
    // The parser drops a scheme's default port and lower-cases the name.
    let typed_host = typed_host.to_ascii_lowercase();
    typed_host == parsed
        || url.port().is_none()
            && typed_host
                .strip_suffix(&format!(":{}", url.port_or_known_default().unwrap_or(0)))
                .is_some_and(|h| h == parsed)
}

pub(crate) fn endpoint(protocol: &str, endpoint: &str) -> ApiResult<()> {
    match protocol {
        "http" | "https" => {
            if endpoint.starts_with(&format!("{protocol}://")) && canonical_authority(endpoint) {
                Ok(())
            } else {
                Err(invalid("Invalid parameter: Endpoint"))
            }
        }
        "email" | "email-json" => {
            let ok = endpoint.len() <= 254
                && endpoint.split_once('@').is_some_and(|(l, d)| {
                    !l.is_empty() && d.contains('.') && !d.starts_with('.') && !d.ends_with('.')
                })
                && endpoint.chars().all(|c| c.is_ascii_graphic())
                // One address: no list or header syntax (sns6: `a@evil.test,x@example.com`
                // passed an `sns:Endpoint` condition on `*@example.com` and was mailed to
                // both), and one `@`.
                && !endpoint.contains([',', ';', '<', '>', '"', '(', ')', '[', ']', '\\', ':'])
                && endpoint.matches('@').count() == 1;
            if ok {
                Ok(())
            } else {
                Err(invalid("Invalid parameter: Email address"))
            }
        }
        // Protocols SNS has but Cairn does not deliver to say so; any other string gets
        // SNS's own words.
        "sqs" | "lambda" | "firehose" | "application" | "sms" => Err(invalid(format!(
            "Invalid parameter: Cairn does not deliver to the {protocol} protocol (it delivers to http, https, email and email-json)"
        ))),
        _ => Err(invalid(format!(
            "Invalid parameter: Amazon SNS does not support this protocol string: {protocol}"
        ))),
    }
}

/// Filter policies a topic holds at most ("Filter policies per topic: 200", Amazon SNS
/// quotas).
pub const FILTER_POLICIES_PER_TOPIC: i64 = 200;
/// Filter policies an account holds at most ("Filter policies per account: 10,000").
pub const FILTER_POLICIES_PER_ACCOUNT: i64 = 10_000;

/// Refuses a filter policy for `subscription_arn` of `topic_arn` past SNS's quotas (sns7:
/// a topic took any number, and every Publish reads them all).
pub fn filter_policy_room(
    conn: &Connection,
    topic_arn: &str,
    account: &str,
    subscription_arn: &str,
) -> ApiResult<()> {
    let count =
        |topic| cairn_store::sns::count_filter_policies(conn, topic, account, subscription_arn);
    if count(Some(topic_arn))? >= FILTER_POLICIES_PER_TOPIC
        || count(None)? >= FILTER_POLICIES_PER_ACCOUNT
    {
        return Err(crate::ApiError::new(
            crate::ErrorKind::SnsFilterPolicyLimitExceeded,
            "Filter policy limit exceeded",
        ));
    }
    Ok(())
}

/// The attributes SetSubscriptionAttributes sets (the API reference's list).
const SUBSCRIPTION_ATTRIBUTES: [&str; 7] = [
    "DeliveryPolicy",
    "FilterPolicy",
    "FilterPolicyScope",
    "RawMessageDelivery",
    "RedrivePolicy",
    "SubscriptionRoleArn",
    "ReplayPolicy",
];

/// SetSubscriptionAttributes.
pub fn set_subscription_attribute(
    conn: &Connection,
    ctx: &CallContext,
    arn: &str,
    name: &str,
    value: &str,
) -> ApiResult<()> {
    let (_, sub) = crate::sns::owned_subscription(conn, ctx, arn)?;
    // An empty filter policy removes it, as AWS's CLI example `--attribute-value "{}"` does;
    // an empty delivery policy likewise.
    let removes = match name {
        "FilterPolicy" | "DeliveryPolicy" => {
            value.trim().is_empty()
                || serde_json::from_str::<serde_json::Value>(value)
                    .is_ok_and(|v| v.as_object().is_some_and(|o| o.is_empty()))
        }
        "RawMessageDelivery" => false,
        _ => value.is_empty(),
    };
    // A name SNS does not have is refused, empty value or not (sns7: `Foo` with an empty
    // value was answered 200 and recorded as a success).
    if removes && !SUBSCRIPTION_ATTRIBUTES.contains(&name) {
        return Err(invalid(format!(
            "Invalid parameter: AttributeName Reason: Unknown attribute {name}"
        )));
    }
    if !removes {
        attribute(&sub.protocol, name, value, false)?;
        if name == "FilterPolicy" {
            filter_policy_room(conn, &sub.topic_arn, ctx.account().as_str(), arn)?;
        }
    }
    let mut attrs = crate::sns::attr_map(&sub.attributes);
    if removes {
        attrs.remove(name);
    } else {
        attrs.insert(name.to_owned(), value.into());
    }
    cairn_store::sns::set_subscription_attributes(
        conn,
        arn,
        &serde_json::Value::Object(attrs).to_string(),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn endpoint_passwords_are_masked() {
        use super::masked_endpoint as m;
        assert_eq!(m("https://bob:pw@h:1/x?a=b"), "https://bob:****@h:1/x?a=b");
        assert_eq!(m("http://a:b:c@h"), "http://a:****@h");
        assert_eq!(m("http://user@h/p@q"), "http://user@h/p@q");
        assert_eq!(m("http://h/p:q@r"), "http://h/p:q@r");
        assert_eq!(m("https://x:y@z@h/"), "https://x:****@h/");
        assert_eq!(m("me@example.com"), "me@example.com");
    }

    #[test]
    fn an_email_endpoint_is_one_address() {
        use super::endpoint;
        assert!(endpoint("email", "x@example.com").is_ok());
        assert!(endpoint("email-json", "first.last+tag@mail.example.com").is_ok());
        for bad in [
            "attacker@evil.test,x@example.com",
            "a@evil.test;x@example.com",
            "<a@evil.test>x@example.com",
            "\"a@b\"@example.com",
            "a@b@example.com",
            "a@[127.0.0.1]",
            "Name (c) <x@example.com>",
        ] {
            assert!(endpoint("email", bad).is_err(), "{bad}");
        }
    }

    /// sns8: endpoints a URL parser reads as another host than the one typed are refused.
    #[test]
    fn an_endpoint_reaches_the_host_it_names() {
        use super::endpoint;
        for good in [
            "http://127.0.0.1:8080/x",
            "http://Example.com/a",
            "http://user:pw@h.example.com:80/p?q=1#f",
            "http://[::1]:9/",
            "http://example.com",
        ] {
            assert!(endpoint("http", good).is_ok(), "{good}");
        }
        assert!(endpoint("https", "https://h.example.com:443/p").is_ok());
        for bad in [
            "http://127.0.0.1:22031\\.example.com/bs",
            "http://127.0.0.01/",
            "http://%31%32%37.0.0.1/",
            "http://exa\tmple.com/",
            "http://example.com/a b",
        ] {
            assert!(endpoint("http", bad).is_err(), "{bad}");
        }
    }
}
