//! Evaluation throughput, for `cairn bench policy` and BENCHMARKS.md.
//!
//! [`standard`] measures [`crate::authorize`] on one core for three policy sets: a user with
//! `AWSCloudTrail_FullAccess`, a user with `AWSCloudTrail_ReadOnlyAccess`, and a user with a
//! 20-statement customer policy full of conditions, each over a mix of allowed and denied
//! CloudTrail, S3 and IAM requests with a realistic request context. This module reads the
//! clock; the evaluator itself does not.

use std::hint::black_box;
use std::time::{Duration, Instant};

use crate::ast::{Document, PolicyKind};
use crate::context::Context;
use crate::decision::{PolicySet, PolicySource, SourcedPolicy, authorize};
use crate::managed;
use crate::matching::Request;
use crate::principal::Principal;

/// One measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchResult {
    /// What was measured.
    pub name: &'static str,
    /// Evaluations run.
    pub evaluations: u64,
    /// Time taken.
    pub elapsed: Duration,
    /// Evaluations per second.
    pub per_second: f64,
}

/// Runs `authorize` over `requests` round-robin for at least `min` and returns
/// (evaluations, elapsed).
pub fn evaluations_per_second(
    set: &PolicySet<'_>,
    requests: &[Request<'_>],
    min: Duration,
) -> (u64, Duration) {
    let start = Instant::now();
    let mut n = 0u64;
    if requests.is_empty() {
        return (0, start.elapsed());
    }
    loop {
        for _ in 0..64 {
            for r in requests {
                black_box(authorize(black_box(r), black_box(set)));
            }
        }
        n += 64 * requests.len() as u64;
        let e = start.elapsed();
        if e >= min {
            return (n, e);
        }
    }
}

/// The 20-statement customer policy with conditions used by [`standard`].
pub const CUSTOMER_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
 {"Sid":"S1","Effect":"Allow","Action":["cloudtrail:Describe*","cloudtrail:List*"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
 {"Sid":"S2","Effect":"Allow","Action":"cloudtrail:GetTrail*","Resource":"arn:aws:cloudtrail:*:111122223333:trail/*","Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}},
 {"Sid":"S3","Effect":"Allow","Action":"cloudtrail:LookupEvents","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}},
 {"Sid":"S4","Effect":"Allow","Action":["cloudtrail:StartLogging","cloudtrail:StopLogging"],"Resource":"arn:aws:cloudtrail:us-east-1:111122223333:trail/${aws:username}-*"},
 {"Sid":"S5","Effect":"Deny","Action":"cloudtrail:DeleteTrail","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}},
 {"Sid":"S6","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::audit-logs/AWSLogs/111122223333/*","Condition":{"StringLike":{"aws:UserAgent":"aws-cli/*"}}},
 {"Sid":"S7","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::audit-logs","Condition":{"StringLike":{"s3:prefix":["AWSLogs/111122223333/*",""]}}},
 {"Sid":"S8","Effect":"Deny","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::audit-logs/*"},
 {"Sid":"S9","Effect":"Allow","Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:111122223333:key/*","Condition":{"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}},
 {"Sid":"S10","Effect":"Allow","Action":"iam:PassRole","Resource":"arn:aws:iam::111122223333:role/cwl-*","Condition":{"StringEquals":{"iam:PassedToService":"cloudtrail.amazonaws.com"}}},
 {"Sid":"S11","Effect":"Allow","Action":"cloudtrail:AddTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}},
 {"Sid":"S12","Effect":"Allow","Action":"cloudtrail:PutEventSelectors","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}},
 {"Sid":"S13","Effect":"Allow","Action":"cloudtrail:UpdateTrail","Resource":"*","Condition":{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}},
 {"Sid":"S14","Effect":"Allow","Action":"logs:CreateLogGroup","Resource":"arn:aws:logs:*:111122223333:log-group:aws-cloudtrail-logs*"},
 {"Sid":"S15","Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:*:111122223333:ct-*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}},
 {"Sid":"S16","Effect":"Allow","NotAction":["iam:*","organizations:*"],"Resource":"arn:aws:dynamodb:*:111122223333:table/audit-*"},
 {"Sid":"S17","Effect":"Deny","Action":"*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["0.0.0.0/0","::/0"]}}},
 {"Sid":"S18","Effect":"Allow","Action":"cloudtrail:CreateTrail","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"Audit"}}},
 {"Sid":"S19","Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::staging/*","Condition":{"Null":{"s3:x-amz-server-side-encryption":"false"}}},
 {"Sid":"S20","Effect":"Deny","Action":"cloudtrail:*","NotResource":"arn:aws:cloudtrail:*:111122223333:*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}]}"#;

fn user() -> Principal {
    Principal::User {
        account: "111122223333".into(),
        arn: "arn:aws:iam::111122223333:user/alice".into(),
        id: "AIDACKCEVSQ6C2EXAMPLE".into(),
        name: "alice".into(),
    }
}

fn context(p: &Principal) -> Context {
    let mut c = Context::new()
        .with("aws:SourceIp", "10.1.2.3")
        .with("aws:SecureTransport", "true")
        .with("aws:CurrentTime", "2026-11-22T11:39:09Z")
        .with("aws:EpochTime", "1795347549")
        .with("aws:RequestedRegion", "us-east-1")
        .with("aws:UserAgent", "aws-cli/2.17.0 Python/3.11")
        .with("aws:ResourceAccount", "111122223333");
    p.add_context_keys(&mut c);
    c
}

const TRAIL: &str = "arn:aws:cloudtrail:us-east-1:111122223333:trail/prod";

/// The request mix: (action, resource).
const MIX: [(&str, &str); 8] = [
    ("cloudtrail:DescribeTrails", "*"),
    ("cloudtrail:GetTrailStatus", TRAIL),
    ("cloudtrail:LookupEvents", "*"),
    ("cloudtrail:StopLogging", TRAIL),
    ("cloudtrail:GetEventSelectors", TRAIL),
    (
        "s3:GetObject",
        "arn:aws:s3:::audit-logs/AWSLogs/111122223333/CloudTrail/x.json.gz",
    ),
    ("s3:DeleteBucket", "arn:aws:s3:::aws-cloudtrail-logs-1"),
    ("iam:CreateUser", "arn:aws:iam::111122223333:user/bob"),
];

/// Measures the three standard policy sets for at least `min` each.
pub fn standard(min: Duration) -> Vec<BenchResult> {
    let p = user();
    let ctx = context(&p);
    let requests: Vec<Request<'_>> = MIX
        .iter()
        .map(|(action, resource)| Request {
            principal: &p,
            action,
            resource,
            context: &ctx,
        })
        .collect();
    let customer = Document::parse(CUSTOMER_POLICY, PolicyKind::Identity).ok();
    let mut sets: Vec<(&'static str, SourcedPolicy<'_>)> = Vec::new();
    for (label, name) in [
        ("AWSCloudTrail_FullAccess", "AWSCloudTrail_FullAccess"),
        (
            "AWSCloudTrail_ReadOnlyAccess",
            "AWSCloudTrail_ReadOnlyAccess",
        ),
    ] {
        if let Some(m) = managed::by_name(name) {
            sets.push((
                label,
                SourcedPolicy {
                    source: PolicySource::AwsManaged,
                    id: m.arn,
                    document: m.parsed(),
                },
            ));
        }
    }
    if let Some(doc) = &customer {
        sets.push((
            "customer policy, 20 statements with conditions",
            SourcedPolicy {
                source: PolicySource::CustomerManaged,
                id: "arn:aws:iam::111122223333:policy/bench",
                document: doc,
            },
        ));
    }
    sets.into_iter()
        .map(|(name, policy)| {
            let identity = [policy];
            let set = PolicySet {
                identity: &identity,
                ..PolicySet::default()
            };
            let (evaluations, elapsed) = evaluations_per_second(&set, &requests, min);
            BenchResult {
                name,
                evaluations,
                elapsed,
                per_second: evaluations as f64 / elapsed.as_secs_f64().max(1e-9),
            }
        })
        .collect()
}
