//! Actions, resources and principals: NotAction, NotResource, NotPrincipal, patterns across
//! colons, resource-policy cross cases, permissions boundaries and session policies.

mod common;

use cairn_policy::{
    Decision, PolicyEffect, PolicyKind, PolicySet, PolicySource, PolicyType, Request,
    SourcedPolicy, authorize,
};
use common::*;

fn allow(action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"{action}","Resource":"{resource}"}}}}"#
    )
}

#[test]
fn action_patterns() {
    let u = user("u");
    let c = ctx_for(&u, &[]);
    let cases: &[(&str, &str, bool)] = &[
        ("cloudtrail:LookupEvents", "cloudtrail:lookupevents", true),
        ("CloudTrail:Get*", "cloudtrail:GetTrail", true),
        ("cloudtrail:Get*", "cloudtrail:StopLogging", false),
        ("cloudtrail:Get?rail", "cloudtrail:GetTrail", true),
        ("cloudtrail:Get?rail", "cloudtrail:GetTTrail", false),
        ("*", "iam:CreateUser", true),
        ("s3:*Object", "s3:GetObject", true),
        ("s3:*Object", "s3:GetObjectAcl", false),
        ("cloudtrail:*", "cloudtrail-data:PutAuditEvents", false),
    ];
    for (pattern, action, expected) in cases {
        let d = identity(&allow(pattern, "*"));
        assert_eq!(
            decide(&u, &[&d], None, action, "*", &c).is_allowed(),
            *expected,
            "{pattern} vs {action}"
        );
    }
}

#[test]
fn resource_patterns_across_colons() {
    let u = user("u");
    let c = ctx_for(&u, &[]);
    let cases: &[(&str, &str, bool)] = &[
        (
            "arn:aws:logs:*:*:log-group:aws-cloudtrail-logs*",
            "arn:aws:logs:us-east-1:111122223333:log-group:aws-cloudtrail-logs-1:log-stream:s",
            true,
        ),
        (
            "arn:aws:logs:*:*:log-group:aws-cloudtrail-logs*",
            "arn:aws:logs:us-east-1:111122223333:log-group:other",
            false,
        ),
        ("arn:aws:s3:::b/*", "arn:aws:s3:::b/a:b:c", true),
        ("arn:aws:s3:::b*", "arn:aws:s3:::bucket/key", true),
        ("arn:aws:cloudtrail:*:111122223333:trail/*", PROD, true),
        (
            "arn:aws:cloudtrail:*:111122223333:trail/*",
            "arn:aws:cloudtrail:us-east-1:444455556666:trail/prod",
            false,
        ),
        ("arn:aws:cloudtrail:us-*:*:trail/prod", PROD, true),
        ("arn:aws:cloudtrail:*:trail/prod", PROD, false),
        (
            "arn:aws:cloudtrail:us-east-1:111122223333:trail/Prod",
            PROD,
            false,
        ),
        (
            "arn:aws:sns:*:*:aws-cloudtrail-logs*",
            "arn:aws:sns:us-east-1:111122223333:aws-cloudtrail-logs-x",
            true,
        ),
        ("*", "*", true),
        ("arn:aws:s3:::*", "*", false),
    ];
    for (pattern, resource, expected) in cases {
        let d = identity(&allow("s3:GetObject", pattern));
        assert_eq!(
            decide(&u, &[&d], None, "s3:GetObject", resource, &c).is_allowed(),
            *expected,
            "{pattern} vs {resource}"
        );
    }
}

#[test]
fn not_action_and_not_resource() {
    let u = user("u");
    let c = ctx_for(&u, &[]);
    let d = identity(
        r#"{"Version":"2012-10-17","Statement":[
          {"Effect":"Allow","NotAction":["iam:*","kms:*"],"NotResource":"arn:aws:s3:::secret/*"}]}"#,
    );
    assert!(decide(&u, &[&d], None, "s3:GetObject", "arn:aws:s3:::public/k", &c).is_allowed());
    assert!(!decide(&u, &[&d], None, "s3:GetObject", "arn:aws:s3:::secret/k", &c).is_allowed());
    assert!(!decide(&u, &[&d], None, "IAM:ListUsers", "*", &c).is_allowed());
    // A Deny with NotResource denies everything but the listed resources.
    let deny = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
          {"Effect":"Deny","Action":"s3:*","NotResource":["arn:aws:s3:::mine","arn:aws:s3:::mine/*"]}]}"#,
    );
    assert!(
        decide(
            &u,
            &[&deny],
            None,
            "s3:GetObject",
            "arn:aws:s3:::mine/k",
            &c
        )
        .is_allowed()
    );
    assert!(explicit(
        &decide(
            &u,
            &[&deny],
            None,
            "s3:GetObject",
            "arn:aws:s3:::theirs/k",
            &c
        ),
        PolicyType::IdentityBased
    ));
}

const BUCKET: &str = "arn:aws:s3:::audit-logs";
const OBJ: &str = "arn:aws:s3:::audit-logs/AWSLogs/111122223333/x";

fn bucket_policy(statements: &str) -> cairn_policy::Document {
    doc(
        &format!(r#"{{"Version":"2012-10-17","Statement":[{statements}]}}"#),
        PolicyKind::Resource,
    )
}

#[test]
fn resource_policy_cross_cases() {
    let alice = user("alice");
    let c = ctx_for(&alice, &[]);
    // A bucket policy naming the user allows without any identity policy.
    let named = bucket_policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:user/alice"}},"Action":"s3:GetObject","Resource":"{BUCKET}/*"}}"#
    ));
    assert!(decide(&alice, &[], Some(&named), "s3:GetObject", OBJ, &c).is_allowed());
    let bob = user("bob");
    assert!(implicit(
        &decide(
            &bob,
            &[],
            Some(&named),
            "s3:GetObject",
            OBJ,
            &ctx_for(&bob, &[])
        ),
        PolicyType::IdentityBased
    ));
    // Naming the account delegates: an identity Allow is needed.
    let account = bucket_policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"111122223333"}},"Action":"s3:GetObject","Resource":"{BUCKET}/*"}}"#
    ));
    assert!(!decide(&alice, &[], Some(&account), "s3:GetObject", OBJ, &c).is_allowed());
    let s3ro = managed_doc("AmazonS3ReadOnlyAccess");
    assert!(decide(&alice, &[s3ro], Some(&account), "s3:GetObject", OBJ, &c).is_allowed());
    // An identity Allow alone suffices for non-mandatory resource policies.
    assert!(decide(&alice, &[s3ro], None, "s3:GetObject", OBJ, &c).is_allowed());
    // An explicit Deny in the bucket policy beats an identity Allow, and root.
    let mfa_delete = bucket_policy(&format!(
        r#"{{"Sid":"DenyDeleteWithoutMFA","Effect":"Deny","Principal":"*","Action":["s3:DeleteObject","s3:DeleteBucketPolicy"],"Resource":["{BUCKET}","{BUCKET}/*"],"Condition":{{"BoolIfExists":{{"aws:MultiFactorAuthPresent":"false"}}}}}}"#
    ));
    let s3full = managed_doc("AmazonS3FullAccess");
    let d = decide(
        &alice,
        &[s3full],
        Some(&mfa_delete),
        "s3:DeleteObject",
        OBJ,
        &c,
    );
    assert!(explicit(&d, PolicyType::ResourceBased));
    assert!(explicit(
        &decide(
            &alice,
            &[s3full],
            Some(&mfa_delete),
            "s3:DeleteBucketPolicy",
            BUCKET,
            &c
        ),
        PolicyType::ResourceBased
    ));
    let r = root();
    assert!(explicit(
        &decide(
            &r,
            &[],
            Some(&mfa_delete),
            "s3:DeleteObject",
            OBJ,
            &ctx_for(&r, &[])
        ),
        PolicyType::ResourceBased
    ));
    assert!(
        decide(
            &r,
            &[],
            Some(&mfa_delete),
            "s3:GetObject",
            OBJ,
            &ctx_for(&r, &[])
        )
        .is_allowed()
    );
    let with_mfa = ctx_for(&alice, &[("aws:MultiFactorAuthPresent", "true")]);
    assert!(
        decide(
            &alice,
            &[s3full],
            Some(&mfa_delete),
            "s3:DeleteObject",
            OBJ,
            &with_mfa
        )
        .is_allowed()
    );
    // CloudTrail's bucket-policy statements: only the service, only with the ACL.
    let ct_policy = bucket_policy(&format!(
        r#"{{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:GetBucketAcl","Resource":"{BUCKET}"}},
           {{"Sid":"AWSCloudTrailWrite","Effect":"Allow","Principal":{{"Service":"cloudtrail.amazonaws.com"}},"Action":"s3:PutObject","Resource":"{BUCKET}/AWSLogs/111122223333/*","Condition":{{"StringEquals":{{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceArn":"{PROD}"}}}}}}"#
    ));
    let ct = service("cloudtrail.amazonaws.com");
    let good = ctx_for(
        &ct,
        &[
            ("s3:x-amz-acl", "bucket-owner-full-control"),
            ("aws:SourceArn", PROD),
        ],
    );
    assert!(decide(&ct, &[], Some(&ct_policy), "s3:PutObject", OBJ, &good).is_allowed());
    assert!(decide(&ct, &[], Some(&ct_policy), "s3:GetBucketAcl", BUCKET, &good).is_allowed());
    let no_acl = ctx_for(&ct, &[("aws:SourceArn", PROD)]);
    assert!(implicit(
        &decide(&ct, &[], Some(&ct_policy), "s3:PutObject", OBJ, &no_acl),
        PolicyType::ResourceBased
    ));
    assert!(!decide(&ct, &[], None, "s3:PutObject", OBJ, &good).is_allowed());
    assert!(!decide(&alice, &[], Some(&ct_policy), "s3:PutObject", OBJ, &c).is_allowed());
    // Anonymous callers: only a public statement allows.
    let public = bucket_policy(&format!(
        r#"{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"{BUCKET}/public/*"}}"#
    ));
    let anon = cairn_policy::Principal::Anonymous;
    let ca = ctx_for(&anon, &[]);
    assert!(
        decide(
            &anon,
            &[],
            Some(&public),
            "s3:GetObject",
            &format!("{BUCKET}/public/x"),
            &ca
        )
        .is_allowed()
    );
    assert!(implicit(
        &decide(&anon, &[], Some(&public), "s3:GetObject", OBJ, &ca),
        PolicyType::ResourceBased
    ));
    // The single-document view keeps the old evaluator's answers.
    let req = Request {
        principal: &ct,
        action: "s3:PutObject",
        resource: OBJ,
        context: &good,
    };
    assert_eq!(ct_policy.evaluate(&req), PolicyEffect::Allow);
    assert_eq!(
        mfa_delete.evaluate(&Request {
            action: "s3:DeleteObject",
            principal: &alice,
            context: &c,
            ..req
        }),
        PolicyEffect::Deny
    );
    assert_eq!(
        named.evaluate(&Request {
            principal: &bob,
            ..req
        }),
        PolicyEffect::NotApplicable
    );
}

#[test]
fn not_principal() {
    let policy = bucket_policy(&format!(
        r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:root"]}},"Action":"s3:*","Resource":"{BUCKET}/*"}}"#
    ));
    let s3full = managed_doc("AmazonS3FullAccess");
    let alice = user("alice");
    let bob = user("bob");
    assert!(
        decide(
            &alice,
            &[s3full],
            Some(&policy),
            "s3:GetObject",
            OBJ,
            &ctx_for(&alice, &[])
        )
        .is_allowed()
    );
    assert!(explicit(
        &decide(
            &bob,
            &[s3full],
            Some(&policy),
            "s3:GetObject",
            OBJ,
            &ctx_for(&bob, &[])
        ),
        PolicyType::ResourceBased
    ));
    let r = root();
    assert!(
        decide(
            &r,
            &[],
            Some(&policy),
            "s3:GetObject",
            OBJ,
            &ctx_for(&r, &[])
        )
        .is_allowed()
    );
    let s = session("ops", "s1");
    assert!(
        !decide(
            &s,
            &[s3full],
            Some(&policy),
            "s3:GetObject",
            OBJ,
            &ctx_for(&s, &[])
        )
        .is_allowed()
    );
}

#[test]
fn role_sessions_in_resource_policies() {
    let s1 = session("ops", "s1");
    let c = ctx_for(&s1, &[]);
    let by_role = bucket_policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:role/ops"}},"Action":"s3:GetObject","Resource":"{BUCKET}/*"}}"#
    ));
    let by_session = bucket_policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:sts::111122223333:assumed-role/ops/s1"}},"Action":"s3:GetObject","Resource":"{BUCKET}/*"}}"#
    ));
    let by_id = bucket_policy(&format!(
        r#"{{"Effect":"Allow","Principal":{{"AWS":"AROA00000000000000OPS"}},"Action":"s3:GetObject","Resource":"{BUCKET}/*"}}"#
    ));
    for p in [&by_role, &by_session, &by_id] {
        assert!(decide(&s1, &[], Some(p), "s3:GetObject", OBJ, &c).is_allowed());
    }
    assert!(
        !decide(
            &session("ops", "s2"),
            &[],
            Some(&by_session),
            "s3:GetObject",
            OBJ,
            &c
        )
        .is_allowed()
    );
    // Session policies restrict a grant to the role, not one to the session itself.
    let nothing = identity(&allow("cloudtrail:GetTrail", "*"));
    let sess = [SourcedPolicy {
        source: PolicySource::Session,
        id: "session",
        document: &nothing,
    }];
    let with = |resource: &cairn_policy::Document| {
        let set = PolicySet {
            identity: &[],
            session: Some(&sess),
            boundary: None,
            resource: Some(SourcedPolicy {
                source: PolicySource::Resource,
                id: "bucket",
                document: resource,
            }),
        };
        authorize(
            &Request {
                principal: &s1,
                action: "s3:GetObject",
                resource: OBJ,
                context: &c,
            },
            &set,
        )
    };
    assert!(implicit(&with(&by_role), PolicyType::Session));
    assert!(with(&by_session).is_allowed());
}

#[test]
fn boundaries_and_session_policies_only_restrict() {
    let u = user("u");
    let c = ctx_for(&u, &[]);
    let admin = managed_doc("AdministratorAccess");
    let ct_only = identity(&allow("cloudtrail:*", "*"));
    let ro = managed_doc("AWSCloudTrail_ReadOnlyAccess");
    let run = |identity: &[&cairn_policy::Document],
               boundary: Option<&cairn_policy::Document>,
               session: Option<&[&cairn_policy::Document]>,
               action: &str| {
        let ids: Vec<SourcedPolicy<'_>> = identity
            .iter()
            .map(|d| SourcedPolicy {
                source: PolicySource::AwsManaged,
                id: "id",
                document: d,
            })
            .collect();
        let sess: Option<Vec<SourcedPolicy<'_>>> = session.map(|s| {
            s.iter()
                .map(|d| SourcedPolicy {
                    source: PolicySource::Session,
                    id: "s",
                    document: d,
                })
                .collect()
        });
        let set = PolicySet {
            identity: &ids,
            session: sess.as_deref(),
            boundary: boundary.map(as_boundary),
            resource: None,
        };
        authorize(
            &Request {
                principal: &u,
                action,
                resource: "*",
                context: &c,
            },
            &set,
        )
    };
    assert!(run(&[admin], Some(&ct_only), None, "cloudtrail:StopLogging").is_allowed());
    assert!(implicit(
        &run(&[admin], Some(&ct_only), None, "iam:CreateUser"),
        PolicyType::PermissionsBoundary
    ));
    assert!(implicit(
        &run(&[ro], Some(admin), None, "cloudtrail:StopLogging"),
        PolicyType::IdentityBased
    ));
    assert!(run(&[admin], None, Some(&[ro]), "cloudtrail:LookupEvents").is_allowed());
    assert!(implicit(
        &run(&[admin], None, Some(&[ro]), "cloudtrail:StopLogging"),
        PolicyType::Session
    ));
    assert!(implicit(
        &run(&[admin], None, Some(&[]), "cloudtrail:LookupEvents"),
        PolicyType::Session
    ));
    let deny_b = identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*"}]}"#,
    );
    assert!(matches!(
        run(&[admin], Some(&deny_b), None, "cloudtrail:StopLogging"),
        Decision::Deny { explicit: true, policy_type: PolicyType::PermissionsBoundary, ref matched } if matched.len() == 1
    ));
}

/// IAM user guide, NotPrincipal: a `Deny` with `NotPrincipal` always applies to a principal
/// with a permissions boundary, and a role session is excluded only by its own session ARN.
#[test]
fn not_principal_deny_with_boundaries_and_sessions() {
    let policy = bucket_policy(&format!(
        r#"{{"Effect":"Deny","NotPrincipal":{{"AWS":["arn:aws:iam::111122223333:user/alice","arn:aws:iam::111122223333:role/ops","arn:aws:sts::111122223333:assumed-role/ops/listed","arn:aws:iam::111122223333:root"]}},"Action":"s3:*","Resource":"{BUCKET}/*"}}"#
    ));
    let s3full = managed_doc("AmazonS3FullAccess");
    let ids = [SourcedPolicy {
        source: PolicySource::AwsManaged,
        id: "s3",
        document: s3full,
    }];
    let run = |p: &cairn_policy::Principal, boundary: Option<&cairn_policy::Document>| {
        let c = ctx_for(p, &[]);
        let set = PolicySet {
            identity: &ids,
            session: None,
            boundary: boundary.map(as_boundary),
            resource: Some(as_resource("bucket", &policy)),
        };
        authorize(
            &Request {
                principal: p,
                action: "s3:GetObject",
                resource: OBJ,
                context: &c,
            },
            &set,
        )
    };
    let alice = user("alice");
    assert!(run(&alice, None).is_allowed());
    // The same listed user with a boundary (that allows everything) is denied.
    let everything = managed_doc("AdministratorAccess");
    assert!(explicit(
        &run(&alice, Some(everything)),
        PolicyType::ResourceBased
    ));
    // A session whose ARN is listed is excluded; one named only through its role is not.
    assert!(run(&session("ops", "listed"), None).is_allowed());
    assert!(explicit(
        &run(&session("ops", "other"), None),
        PolicyType::ResourceBased
    ));
    assert!(explicit(
        &run(&session("ops", "listed"), Some(everything)),
        PolicyType::ResourceBased
    ));
}

/// IAM user guide, "Update a role trust policy": a user named in a role's trust policy still
/// needs its permissions boundary to allow `sts:AssumeRole`. A bounded user named by an
/// administrator role's trust policy assumed it, escaping the boundary.
#[test]
fn a_trust_policy_naming_a_bounded_user_needs_the_boundary() {
    let u = user("bounded");
    let c = ctx_for(&u, &[]);
    let everything = identity(&allow("*", "*"));
    let s3_only = managed_doc("AmazonS3ReadOnlyAccess");
    let trust = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bounded"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
    );
    let ids = [SourcedPolicy {
        source: PolicySource::UserInline,
        id: "all",
        document: &everything,
    }];
    let run = |boundary: Option<&cairn_policy::Document>, session: Option<&[SourcedPolicy<'_>]>| {
        let set = PolicySet {
            identity: &ids,
            session,
            boundary: boundary.map(as_boundary),
            resource: Some(as_resource("trust", &trust)),
        };
        authorize(
            &Request {
                principal: &u,
                action: "sts:AssumeRole",
                resource: "arn:aws:iam::111122223333:role/ops",
                context: &c,
            },
            &set,
        )
    };
    assert!(run(None, None).is_allowed());
    assert!(implicit(
        &run(Some(s3_only), None),
        PolicyType::PermissionsBoundary
    ));
    assert!(run(Some(&everything), None).is_allowed());
    assert!(implicit(&run(None, Some(&[])), PolicyType::Session));
}

/// `d` as a permissions boundary in a [`PolicySet`].
fn as_boundary(d: &cairn_policy::Document) -> SourcedPolicy<'_> {
    SourcedPolicy {
        source: PolicySource::PermissionsBoundary,
        id: "b",
        document: d,
    }
}

/// `d` as the resource's policy in a [`PolicySet`].
fn as_resource<'a>(id: &'a str, d: &'a cairn_policy::Document) -> SourcedPolicy<'a> {
    SourcedPolicy {
        source: PolicySource::Resource,
        id,
        document: d,
    }
}
