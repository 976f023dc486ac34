//! A table of condition cases: every operator family, IfExists, set operators on absent and
//! empty keys, negated operators on absent keys, multi-valued keys, policy variables.

mod common;

use cairn_policy::{Context, Decision, PolicyKind, Request, simulate};
use common::*;

const V12: &str = "2012-10-17";
const V08: &str = "2008-10-17";

/// (version, condition block, context entries (key, values), expected truth)
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static [&'static str])],
    bool,
);

const CASES: &[Case] = &[
    // String
    (
        V12,
        r#"{"StringEquals":{"aws:username":"alice"}}"#,
        &[("aws:username", &["alice"])],
        true,
    ),
    (
        V12,
        r#"{"StringEquals":{"aws:username":"Alice"}}"#,
        &[("aws:username", &["alice"])],
        false,
    ),
    (
        V12,
        r#"{"StringEquals":{"aws:username":["bob","alice"]}}"#,
        &[("aws:username", &["alice"])],
        true,
    ),
    (
        V12,
        r#"{"StringEquals":{"aws:username":"alice"}}"#,
        &[],
        false,
    ),
    (
        V12,
        r#"{"StringEqualsIgnoreCase":{"aws:username":"ALICE"}}"#,
        &[("aws:username", &["alice"])],
        true,
    ),
    (
        V12,
        r#"{"StringNotEquals":{"aws:username":"bob"}}"#,
        &[("aws:username", &["alice"])],
        true,
    ),
    (
        V12,
        r#"{"StringNotEquals":{"aws:username":["bob","alice"]}}"#,
        &[("aws:username", &["alice"])],
        false,
    ),
    (
        V12,
        r#"{"StringNotEquals":{"aws:PrincipalTag/team":"x"}}"#,
        &[],
        true,
    ),
    (
        V12,
        r#"{"StringNotEqualsIgnoreCase":{"aws:username":"ALICE"}}"#,
        &[("aws:username", &["alice"])],
        false,
    ),
    (
        V12,
        r#"{"StringLike":{"aws:username":"al*"}}"#,
        &[("aws:username", &["alice"])],
        true,
    ),
    (
        V12,
        r#"{"StringLike":{"aws:username":"a?ice"}}"#,
        &[("aws:username", &["alice"])],
        true,
    ),
    (
        V12,
        r#"{"StringLike":{"aws:username":"b*"}}"#,
        &[("aws:username", &["alice"])],
        false,
    ),
    (V12, r#"{"StringNotLike":{"aws:username":"b*"}}"#, &[], true),
    (
        V12,
        r#"{"StringNotLike":{"aws:username":"a*"}}"#,
        &[("aws:username", &["alice"])],
        false,
    ),
    (
        V12,
        r#"{"StringEqualsIfExists":{"aws:username":"bob"}}"#,
        &[],
        true,
    ),
    (
        V12,
        r#"{"StringEqualsIfExists":{"aws:username":"bob"}}"#,
        &[("aws:username", &["alice"])],
        false,
    ),
    (
        V12,
        r#"{"StringEquals":{"AWS:USERNAME":"alice"}}"#,
        &[("aws:UserName", &["alice"])],
        true,
    ),
    // Numeric
    (
        V12,
        r#"{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}"#,
        &[("aws:MultiFactorAuthAge", &["100"])],
        true,
    ),
    (
        V12,
        r#"{"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}"#,
        &[("aws:MultiFactorAuthAge", &["4000"])],
        false,
    ),
    (
        V12,
        r#"{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":3600}}"#,
        &[("aws:MultiFactorAuthAge", &["3600"])],
        true,
    ),
    (
        V12,
        r#"{"NumericEquals":{"n":"10"}}"#,
        &[("n", &["10.0"])],
        true,
    ),
    (
        V12,
        r#"{"NumericGreaterThan":{"n":"10"}}"#,
        &[("n", &["10"])],
        false,
    ),
    (
        V12,
        r#"{"NumericGreaterThanEquals":{"n":"10"}}"#,
        &[("n", &["abc"])],
        false,
    ),
    (
        V12,
        r#"{"NumericGreaterThanEquals":{"n":"ten"}}"#,
        &[("n", &["11"])],
        false,
    ),
    (V12, r#"{"NumericNotEquals":{"n":"10"}}"#, &[], true),
    (
        V12,
        r#"{"NumericNotEquals":{"n":"10"}}"#,
        &[("n", &["10"])],
        false,
    ),
    (V12, r#"{"NumericLessThan":{"n":"1"}}"#, &[], false),
    // Date
    (
        V12,
        r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#,
        &[("aws:CurrentTime", &["2026-11-22T11:39:09Z"])],
        true,
    ),
    (
        V12,
        r#"{"DateGreaterThan":{"aws:CurrentTime":"1577836800"}}"#,
        &[("aws:CurrentTime", &["2026-11-22T11:39:09Z"])],
        true,
    ),
    (
        V12,
        r#"{"DateGreaterThan":{"aws:EpochTime":"2020-01-01T00:00:00Z"}}"#,
        &[("aws:EpochTime", &["1577836799"])],
        false,
    ),
    (
        V12,
        r#"{"DateEquals":{"d":"2026-11-22"}}"#,
        &[("d", &["2026-11-22T00:00:00Z"])],
        true,
    ),
    (
        V12,
        r#"{"DateLessThanEquals":{"d":"2026-11-22T00:00:00+01:00"}}"#,
        &[("d", &["2026-11-21T23:00:00Z"])],
        true,
    ),
    (V12, r#"{"DateNotEquals":{"d":"2026-11-22"}}"#, &[], true),
    (
        V12,
        r#"{"DateGreaterThanEquals":{"d":"2026-11-22"}}"#,
        &[("d", &["not a date"])],
        false,
    ),
    // Bool
    (
        V12,
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[("aws:SecureTransport", &["true"])],
        true,
    ),
    (
        V12,
        r#"{"Bool":{"aws:SecureTransport":true}}"#,
        &[("aws:SecureTransport", &["TRUE"])],
        true,
    ),
    (
        V12,
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[("aws:SecureTransport", &["false"])],
        false,
    ),
    (
        V12,
        r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
        &[],
        false,
    ),
    (
        V12,
        r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
        &[],
        true,
    ),
    (
        V12,
        r#"{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}"#,
        &[("aws:MultiFactorAuthPresent", &["true"])],
        false,
    ),
    // Binary
    (
        V12,
        r#"{"BinaryEquals":{"b":"aGVsbG8="}}"#,
        &[("b", &["aGVsbG8="])],
        true,
    ),
    (
        V12,
        r#"{"BinaryEquals":{"b":"aGVsbG8="}}"#,
        &[("b", &["d29ybGQ="])],
        false,
    ),
    // IP
    (
        V12,
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[("aws:SourceIp", &["203.0.113.7"])],
        true,
    ),
    (
        V12,
        r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","203.0.113.7"]}}"#,
        &[("aws:SourceIp", &["203.0.113.7"])],
        true,
    ),
    (
        V12,
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[("aws:SourceIp", &["198.51.100.1"])],
        false,
    ),
    (
        V12,
        r#"{"IpAddress":{"aws:SourceIp":"2001:db8::/32"}}"#,
        &[("aws:SourceIp", &["2001:db8::42"])],
        true,
    ),
    (
        V12,
        r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[("aws:SourceIp", &["203.0.113.7"])],
        false,
    ),
    (
        V12,
        r#"{"NotIpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[],
        true,
    ),
    (
        V12,
        r#"{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}"#,
        &[("aws:SourceIp", &["not-an-ip"])],
        false,
    ),
    // ARN
    (
        V12,
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}"#,
        &[("aws:SourceArn", &[PROD])],
        true,
    ),
    (
        V12,
        r#"{"ArnEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/prod"}}"#,
        &[("aws:SourceArn", &[PROD])],
        true,
    ),
    (
        V12,
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}"#,
        &[(
            "aws:SourceArn",
            &["arn:aws:cloudtrail:us-east-1:x:111122223333:trail/p"],
        )],
        false,
    ),
    (
        V12,
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b/*"}}"#,
        &[("aws:SourceArn", &["arn:aws:s3:::b/k:with:colons"])],
        true,
    ),
    (
        V12,
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::b/*"}}"#,
        &[("aws:SourceArn", &["b/k"])],
        false,
    ),
    (
        V12,
        r#"{"ArnNotLike":{"aws:SourceArn":"arn:aws:s3:::b/*"}}"#,
        &[],
        true,
    ),
    (
        V12,
        r#"{"ArnNotEquals":{"aws:SourceArn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}"#,
        &[("aws:SourceArn", &[PROD])],
        false,
    ),
    // Null
    (V12, r#"{"Null":{"aws:TokenIssueTime":"true"}}"#, &[], true),
    (
        V12,
        r#"{"Null":{"aws:TokenIssueTime":"true"}}"#,
        &[("aws:TokenIssueTime", &["2026-11-22T11:39:09Z"])],
        false,
    ),
    (
        V12,
        r#"{"Null":{"aws:TokenIssueTime":"false"}}"#,
        &[("aws:TokenIssueTime", &["2026-11-22T11:39:09Z"])],
        true,
    ),
    (V12, r#"{"Null":{"aws:TokenIssueTime":false}}"#, &[], false),
    // Set operators
    (
        V12,
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
        &[("aws:TagKeys", &["team"])],
        true,
    ),
    (
        V12,
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
        &[("aws:TagKeys", &["team", "x"])],
        false,
    ),
    (
        V12,
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
        &[],
        true,
    ),
    (
        V12,
        r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["team","env"]}}"#,
        &[("aws:TagKeys", &[])],
        true,
    ),
    (
        V12,
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#,
        &[("aws:TagKeys", &["x", "team"])],
        true,
    ),
    (
        V12,
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#,
        &[("aws:TagKeys", &["x"])],
        false,
    ),
    (
        V12,
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#,
        &[],
        false,
    ),
    (
        V12,
        r#"{"ForAnyValue:StringEquals":{"aws:TagKeys":"team"}}"#,
        &[("aws:TagKeys", &[])],
        false,
    ),
    (
        V12,
        r#"{"ForAnyValue:StringNotLike":{"aws:TagKeys":"a*"}}"#,
        &[("aws:TagKeys", &["ab", "cd"])],
        true,
    ),
    (
        V12,
        r#"{"ForAllValues:StringNotLike":{"aws:TagKeys":"a*"}}"#,
        &[("aws:TagKeys", &["ab", "cd"])],
        false,
    ),
    (
        V12,
        r#"{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":"team"}}"#,
        &[],
        true,
    ),
    (
        V12,
        r#"{"StringEquals":{"aws:TagKeys":"team"}}"#,
        &[("aws:TagKeys", &["x", "team"])],
        true,
    ),
    (
        V12,
        r#"{"StringNotEquals":{"aws:TagKeys":"team"}}"#,
        &[("aws:TagKeys", &["x", "team"])],
        false,
    ),
    // AND across operators and keys
    (
        V12,
        r#"{"StringEquals":{"aws:username":"alice","aws:RequestedRegion":"us-east-1"},"Bool":{"aws:SecureTransport":"true"}}"#,
        &[
            ("aws:username", &["alice"]),
            ("aws:RequestedRegion", &["us-east-1"]),
            ("aws:SecureTransport", &["true"]),
        ],
        true,
    ),
    (
        V12,
        r#"{"StringEquals":{"aws:username":"alice","aws:RequestedRegion":"us-east-1"},"Bool":{"aws:SecureTransport":"true"}}"#,
        &[
            ("aws:username", &["alice"]),
            ("aws:RequestedRegion", &["eu-west-1"]),
            ("aws:SecureTransport", &["true"]),
        ],
        false,
    ),
    // Variables
    (
        V12,
        r#"{"StringEquals":{"aws:PrincipalTag/owner":"${aws:username}"}}"#,
        &[
            ("aws:username", &["alice"]),
            ("aws:PrincipalTag/owner", &["alice"]),
        ],
        true,
    ),
    (
        V12,
        r#"{"StringEquals":{"aws:PrincipalTag/owner":"${aws:username}"}}"#,
        &[("aws:PrincipalTag/owner", &["alice"])],
        false,
    ),
    (
        V12,
        r#"{"StringEquals":{"aws:PrincipalTag/owner":"${aws:username, 'nobody'}"}}"#,
        &[("aws:PrincipalTag/owner", &["nobody"])],
        true,
    ),
    (
        V08,
        r#"{"StringEquals":{"aws:PrincipalTag/owner":"${aws:username}"}}"#,
        &[
            ("aws:username", &["alice"]),
            ("aws:PrincipalTag/owner", &["${aws:username}"]),
        ],
        true,
    ),
    (
        V08,
        r#"{"StringEquals":{"aws:PrincipalTag/owner":"${aws:username}"}}"#,
        &[
            ("aws:username", &["alice"]),
            ("aws:PrincipalTag/owner", &["alice"]),
        ],
        false,
    ),
    (
        V12,
        r#"{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}"#,
        &[
            ("aws:username", &["alice"]),
            ("s3:prefix", &["home/alice/docs"]),
        ],
        true,
    ),
    (
        V12,
        r#"{"StringLike":{"s3:prefix":"home/${aws:username}/*"}}"#,
        &[
            ("aws:username", &["alice"]),
            ("s3:prefix", &["home/bob/docs"]),
        ],
        false,
    ),
    (
        V12,
        r#"{"StringEquals":{"k":"${*}${?}${$}"}}"#,
        &[("k", &["*?$"])],
        true,
    ),
    (
        V12,
        r#"{"StringLike":{"k":"a${*}"}}"#,
        &[("k", &["ab"])],
        false,
    ),
    (
        V12,
        r#"{"StringLike":{"k":"a${*}"}}"#,
        &[("k", &["a*"])],
        true,
    ),
    (
        V12,
        r#"{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:${aws:PrincipalAccount}:trail/*"}}"#,
        &[
            ("aws:PrincipalAccount", &["111122223333"]),
            ("aws:SourceArn", &[PROD]),
        ],
        true,
    ),
];

fn context(entries: &[(&str, &[&str])]) -> Context {
    let mut c = Context::new();
    for (k, vs) in entries {
        c.insert_values(k, vs.iter().map(|v| (*v).to_owned()).collect());
    }
    c
}

#[test]
fn condition_table() {
    let alice = user("alice");
    let mut failures = Vec::new();
    for (i, (version, cond, entries, expected)) in CASES.iter().enumerate() {
        let text = format!(
            r#"{{"Version":"{version}","Statement":{{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{cond}}}}}"#
        );
        let d = identity(&text);
        let got = decide(
            &alice,
            &[&d],
            None,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            &context(entries),
        )
        .is_allowed();
        if got != *expected {
            failures.push(format!(
                "case {i}: {cond} with {entries:?}: expected {expected}, got {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn missing_context_values_are_reported() {
    let alice = user("alice");
    let d = identity(
        r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*",
           "Condition":{"Bool":{"aws:SecureTransport":"true"},"StringEquals":{"s3:x-amz-acl":"private"}}},
          {"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
    );
    let ctx = Context::new().with("aws:SecureTransport", "false");
    let identity = [cairn_policy::SourcedPolicy {
        source: cairn_policy::PolicySource::UserInline,
        id: "inline",
        document: &d,
    }];
    let set = cairn_policy::PolicySet {
        identity: &identity,
        ..Default::default()
    };
    let sim = simulate(
        &Request {
            principal: &alice,
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/alice/x",
            context: &ctx,
        },
        &set,
    );
    assert_eq!(sim.decision.eval_decision(), "implicitDeny");
    assert_eq!(sim.missing_context_values, ["aws:username"]);
    let ctx = ctx.with("aws:username", "alice");
    let sim = simulate(
        &Request {
            principal: &alice,
            action: "s3:GetObject",
            resource: "arn:aws:s3:::b/alice/x",
            context: &ctx,
        },
        &set,
    );
    // Both conditions are evaluated (no short-circuit) so both absent keys would be listed;
    // here only s3:x-amz-acl is absent.
    assert_eq!(sim.missing_context_values, ["s3:x-amz-acl"]);
    assert!(matches!(
        sim.decision,
        Decision::Deny {
            explicit: false,
            ..
        }
    ));
}

#[test]
fn matched_statements_carry_positions() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"s3:*\", \"Resource\": \"*\"},\n    {\n      \"Effect\": \"Deny\",\n      \"Action\": \"s3:DeleteObject\",\n      \"Resource\": \"*\"\n    }\n  ]\n}";
    let d = cairn_policy::Document::parse(text, PolicyKind::Identity).unwrap();
    let s = d.statements();
    assert_eq!((s[0].start().line, s[0].start().column), (4, 5));
    assert_eq!((s[0].end().line, s[0].end().column), (4, 59));
    assert_eq!((s[1].start().line, s[1].start().column), (5, 5));
    assert_eq!((s[1].end().line, s[1].end().column), (9, 6));
    let alice = user("alice");
    let identity = [cairn_policy::SourcedPolicy {
        source: cairn_policy::PolicySource::UserInline,
        id: "inline",
        document: &d,
    }];
    let set = cairn_policy::PolicySet {
        identity: &identity,
        ..Default::default()
    };
    let ctx = Context::new();
    let req = Request {
        principal: &alice,
        action: "s3:DeleteObject",
        resource: "arn:aws:s3:::b/k",
        context: &ctx,
    };
    let sim = simulate(&req, &set);
    assert_eq!(sim.decision.eval_decision(), "explicitDeny");
    let m = sim.decision.matched();
    assert_eq!(m.len(), 1);
    let (p, st) = set.resolve(m[0]).unwrap();
    assert_eq!(p.source, cairn_policy::PolicySource::UserInline);
    assert_eq!(st.start().line, 5);
    let allowed = simulate(
        &Request {
            action: "s3:GetObject",
            ..req
        },
        &set,
    );
    assert_eq!(allowed.decision.matched().len(), 1);
}

/// Tags whose keys differ only in case (`env=prod`, `Env=dev`: SNS, Logs and KMS keep both)
/// both match `aws:RequestTag/env`. Their order used to decide the value (the last won), so
/// a `Deny` on `env=prod` was dodged by adding `Env=dev` after it. Now a `Deny` applies when
/// any of them satisfies it and an `Allow` only when every one does, in either order.
#[test]
fn case_variant_tags_cannot_dodge_a_condition() {
    let alice = user("alice");
    let allow_all = r#"{"Effect":"Allow","Action":"sns:*","Resource":"*"}"#;
    let policy = |stmt: &str| {
        identity(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{allow_all},{stmt}]}}"#
        ))
    };
    let deny_prod = policy(
        r#"{"Effect":"Deny","Action":"sns:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/env":"prod"}}}"#,
    );
    let deny_not_dev = policy(
        r#"{"Effect":"Deny","Action":"sns:*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestTag/env":"dev"}}}"#,
    );
    let allow_only_dev = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sns:*","Resource":"*","Condition":{"StringEquals":{"aws:RequestTag/env":"dev"}}}}"#,
    );
    let tagged = |tags: &[(&str, &str)]| {
        let mut c = Context::new();
        for (k, v) in tags {
            c.add_tag(&format!("aws:RequestTag/{k}"), *v);
        }
        c
    };
    let allowed = |d: &cairn_policy::Document, tags: &[(&str, &str)]| {
        decide(
            &alice,
            &[d],
            None,
            "sns:CreateTopic",
            "arn:aws:sns:us-east-1:123456789012:t",
            &tagged(tags),
        )
        .is_allowed()
    };
    for order in [
        [("env", "prod"), ("Env", "dev")],
        [("Env", "dev"), ("env", "prod")],
    ] {
        assert!(!allowed(&deny_prod, &order), "{order:?}");
        assert!(!allowed(&deny_not_dev, &order), "{order:?}");
        assert!(!allowed(&allow_only_dev, &order), "{order:?}");
    }
    // One spelling, or both spellings agreeing, decide as before.
    assert!(!allowed(&deny_prod, &[("Env", "prod")]));
    assert!(allowed(&deny_prod, &[("env", "dev"), ("ENV", "dev")]));
    assert!(allowed(&deny_not_dev, &[("env", "dev"), ("Env", "dev")]));
    assert!(allowed(&allow_only_dev, &[("env", "dev"), ("Env", "dev")]));
    assert!(allowed(&allow_only_dev, &[("Env", "dev")]));
}
