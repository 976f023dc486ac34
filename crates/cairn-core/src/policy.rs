//! Resource-based policies (bucket and topic policies) where a service reads them on its own
//! behalf: the check S3 and SNS run when one is set, and whether a service principal
//! (`cloudtrail.amazonaws.com` writing a trail's files or publishing its notices) may act by
//! the policy alone. Both go through the one evaluator, [`cairn_policy`], so a policy that
//! authorizes a caller's call reads the same here: every condition operator, `NotPrincipal`,
//! `NotAction`, `NotResource` and policy variables.

use cairn_policy::{Context, Document, PolicyEffect, PolicyKind, Principal, Request};

/// Parses a resource-based policy; the error is S3's `MalformedPolicy` text (SNS words its
/// `Policy Error` the same way).
pub fn parse_resource(document: &str) -> Result<Document, String> {
    Document::parse(document, PolicyKind::Resource).map_err(|m| m.s3_message())
}

/// Whether `document` alone lets the service principal `service` do `action` on `resource`,
/// given the request's condition keys. A policy that does not parse allows nothing.
pub fn service_allowed(
    document: &str,
    service: &str,
    action: &str,
    resource: &str,
    keys: &[(&str, &str)],
) -> bool {
    let Ok(doc) = Document::parse(document, PolicyKind::Resource) else {
        return false;
    };
    let mut context = Context::new();
    for (k, v) in keys {
        context.insert(k, *v);
    }
    let principal = Principal::Service {
        name: service.to_owned(),
    };
    doc.evaluate(&Request {
        principal: &principal,
        action,
        resource,
        context: &context,
    }) == PolicyEffect::Allow
}

#[cfg(test)]
mod tests {
    use super::*;

    const CLOUDTRAIL: &str = "cloudtrail.amazonaws.com";

    fn bucket_policy(condition: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/AWSLogs/111122223333/*","Condition":{condition}}}]}}"#
        )
    }

    #[test]
    fn a_service_is_allowed_by_the_conditions_it_meets() {
        let p = bucket_policy(
            r#"{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceAccount":"111122223333"}}"#,
        );
        let keys = [
            ("s3:x-amz-acl", "bucket-owner-full-control"),
            ("aws:SourceAccount", "111122223333"),
        ];
        let put = |keys: &[(&str, &str)]| {
            service_allowed(
                &p,
                CLOUDTRAIL,
                "s3:PutObject",
                "arn:aws:s3:::b/AWSLogs/111122223333/x.json.gz",
                keys,
            )
        };
        assert!(put(&keys));
        assert!(!put(&keys[..1]));
        assert!(!service_allowed(
            &p,
            "config.amazonaws.com",
            "s3:PutObject",
            "arn:aws:s3:::b/AWSLogs/111122223333/x.json.gz",
            &keys
        ));
    }

    #[test]
    fn every_condition_operator_of_the_one_evaluator_is_understood() {
        // The old bucket-policy reader knew only String, Arn, Bool and Null operators and
        // refused the rest; a date or number condition is now parsed and evaluated.
        let p = bucket_policy(r#"{"NumericLessThan":{"s3:max-keys":"10"}}"#);
        assert!(parse_resource(&p).is_ok());
        let at = |n: &str| {
            service_allowed(
                &p,
                CLOUDTRAIL,
                "s3:PutObject",
                "arn:aws:s3:::b/AWSLogs/111122223333/k",
                &[("s3:max-keys", n)],
            )
        };
        assert!(at("5"));
        assert!(!at("50"));
        assert_eq!(
            parse_resource(&bucket_policy(r#"{"NoSuchOperator":{"a":"b"}}"#)).unwrap_err(),
            "Invalid Condition type : NoSuchOperator"
        );
        assert!(!service_allowed(
            "not json",
            CLOUDTRAIL,
            "s3:PutObject",
            "*",
            &[]
        ));
    }
}
