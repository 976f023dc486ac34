//! XML of the SNS listings (topics, subscriptions, tags) and batch results.

use cairn_core::error::ApiResult;
use cairn_core::publish::Publication;
use cairn_store::sns::Subscription;

use crate::errors::{WireError, xml_escape};

/// `<Topics>` and `NextToken`.
pub fn topics(arns: &[String], next: Option<&str>) -> String {
    let members: String = arns
        .iter()
        .map(|a| format!("<member><TopicArn>{}</TopicArn></member>", xml_escape(a)))
        .collect();
    format!("<Topics>{members}</Topics>{}", next_token(next))
}

/// `<Tags>` of ListTagsForResource.
pub fn tags(tags: &[(String, String)]) -> String {
    let members: String = tags
        .iter()
        .map(|(k, v)| {
            format!(
                "<member><Key>{}</Key><Value>{}</Value></member>",
                xml_escape(k),
                xml_escape(v)
            )
        })
        .collect();
    format!("<Tags>{members}</Tags>")
}

fn next_token(next: Option<&str>) -> String {
    next.map(|t| format!("<NextToken>{}</NextToken>", xml_escape(t)))
        .unwrap_or_default()
}

/// `<Subscriptions>` (pending ones show `PendingConfirmation` as their ARN) and `NextToken`.
pub fn subscriptions(subs: &[Subscription], next: Option<&str>) -> String {
    let members: String = subs
        .iter()
        .map(|s| {
            let arn = if s.confirmed {
                s.arn.as_str()
            } else {
                "PendingConfirmation"
            };
            let owner = s.topic_arn.split(':').nth(4).unwrap_or_default();
            format!(
                "<member><SubscriptionArn>{}</SubscriptionArn><Owner>{}</Owner><Protocol>{}</Protocol><Endpoint>{}</Endpoint><TopicArn>{}</TopicArn></member>",
                xml_escape(arn),
                xml_escape(owner),
                xml_escape(&s.protocol),
                xml_escape(&cairn_core::sns_subscription_checks::masked_endpoint(&s.endpoint)),
                xml_escape(&s.topic_arn)
            )
        })
        .collect();
    format!(
        "<Subscriptions>{members}</Subscriptions>{}",
        next_token(next)
    )
}

/// `<Successful>` and `<Failed>` of a PublishBatch, and the accepted publications.
pub fn batch(results: Vec<(String, ApiResult<Publication>)>) -> (String, Vec<Publication>) {
    let (mut ok, mut failed, mut publications) = (String::new(), String::new(), Vec::new());
    for (id, r) in results {
        match r {
            Ok(p) => {
                ok.push_str(&format!(
                    "<member><Id>{}</Id><MessageId>{}</MessageId></member>",
                    xml_escape(&id),
                    p.message_id
                ));
                publications.push(p);
            }
            Err(e) => {
                let w = WireError::sns(&e);
                failed.push_str(&format!(
                    "<member><Id>{}</Id><Code>{}</Code><Message>{}</Message><SenderFault>true</SenderFault></member>",
                    xml_escape(&id),
                    xml_escape(w.code),
                    xml_escape(&w.message)
                ));
            }
        }
    }
    (
        format!("<Successful>{ok}</Successful><Failed>{failed}</Failed>"),
        publications,
    )
}
