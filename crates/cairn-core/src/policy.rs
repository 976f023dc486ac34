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

/// The condition keys of an object write sealed under KMS key `key_arn` (CloudTrail's
/// upload of a trail's files when the trail has a key): `s3:x-amz-server-side-encryption`
/// `aws:kms` and the key's ARN, as the headers of that upload carry them. None without a key.
pub fn sse_kms_keys(key_arn: Option<&str>) -> Vec<(&'static str, &str)> {
    match key_arn {
        Some(arn) if !arn.is_empty() => vec![
            ("s3:x-amz-server-side-encryption", "aws:kms"),
            ("s3:x-amz-server-side-encryption-aws-kms-key-id", arn),
        ],
        _ => Vec::new(),
    }
}

/// Whether `document` alone lets the service principal `service` do `action` on `resource`,
/// given the request's own condition keys. The context also holds what every request of a
/// service principal carries (`aws:PrincipalServiceName`, `aws:PrincipalIsAWSService`, the
/// time, and `aws:SecureTransport` true: AWS services call over TLS), so a data-perimeter
/// `Deny` that exempts services exempts CloudTrail here too. A policy that does not parse
/// (stored before a stricter check, say) allows nothing, and says why in the log.
pub fn service_allowed(
    document: &str,
    service: &str,
    action: &str,
    resource: &str,
    keys: &[(&str, &str)],
) -> bool {
    let doc = match Document::parse(document, PolicyKind::Resource) {
        Ok(doc) => doc,
        Err(m) => {
            tracing::warn!(
                resource,
                reason = %m.message(),
                "a stored resource policy does not parse; it allows {service} nothing: write it again"
            );
            return false;
        }
    };
    let principal = Principal::Service {
        name: service.to_owned(),
    };
    let mut context = Context::new();
    principal.add_context_keys(&mut context);
    context.insert("aws:SecureTransport", "true");
    let now = chrono::Utc::now();
    context.insert("aws:EpochTime", now.timestamp().to_string());
    context.insert(
        "aws:CurrentTime",
        now.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    );
    for (k, v) in keys {
        context.insert(k, *v);
    }
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
    fn a_deny_wins_and_the_resource_must_match() {
        let p = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/logs/AWSLogs/111122223333/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/logs/AWSLogs/111122223333/secret/*"}]}"#;
        let put = |key: &str| {
            service_allowed(
                p,
                CLOUDTRAIL,
                "s3:PutObject",
                &format!("arn:aws:s3:::b/{key}"),
                &[],
            )
        };
        assert!(put("logs/AWSLogs/111122223333/CloudTrail/x.json.gz"));
        assert!(
            !put("other/AWSLogs/111122223333/CloudTrail/x.json.gz"),
            "another prefix"
        );
        assert!(!put("logs/AWSLogs/111122223333/secret/x"), "the Deny wins");
    }

    #[test]
    fn a_perimeter_deny_that_exempts_services_exempts_cloudtrail() {
        // AWS's data-perimeter pattern: deny callers outside the organization unless they are
        // AWS services.
        let p = r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"},
            {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{
                "StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc"},
                "BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}},
            {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{
                "Bool":{"aws:SecureTransport":"false"}}}]}"#;
        assert!(service_allowed(
            p,
            CLOUDTRAIL,
            "s3:PutObject",
            "arn:aws:s3:::b/k",
            &[]
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
