//! The evaluation examples of the spec (iam-kms.md §4.11), all 23 rows, with the messages the
//! rows name.

mod common;

use cairn_policy::{
    Decision, Document, PolicyKind, PolicyType, ResourceStyle, access_denied_message,
};
use common::*;

const CAROL_DENY: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"arn:aws:cloudtrail:us-east-1:111122223333:trail/prod"}}"#;
const OPS_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"cloudtrail:Get*","Resource":"*"}]}"#;

/// Key K: the CloudTrail console's default key policy (§7.7).
const KEY_K: &str = r#"{"Version":"2012-10-17","Id":"Key policy created by CloudTrail","Statement":[
 {"Sid":"Enable IAM user permissions","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::111122223333:root","arn:aws:iam::111122223333:user/admin"]},"Action":"kms:*","Resource":"*"},
 {"Sid":"Allow CloudTrail to encrypt logs","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:GenerateDataKey*","Resource":"*",
  "Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/prod"},
               "StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}},
 {"Sid":"Allow CloudTrail to describe key","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"kms:DescribeKey","Resource":"*"},
 {"Sid":"Allow principals in the account to decrypt log files","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:ReEncryptFrom"],"Resource":"*",
  "Condition":{"StringEquals":{"kms:CallerAccount":"111122223333"},"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:111122223333:trail/*"}}},
 {"Sid":"Allow alias creation during setup","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:CreateAlias","Resource":"*",
  "Condition":{"StringEquals":{"kms:ViaService":"ec2.us-east-1.amazonaws.com","kms:CallerAccount":"111122223333"}}}]}"#;

/// Key K2: the default `key-default-1` policy.
const KEY_K2: &str = r#"{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}"#;

/// Key K3: names only bob.
const KEY_K3: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"Bob only","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"},"Action":"kms:*","Resource":"*"}]}"#;

const K_ARN: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const LOG_OBJECT: &str =
    "arn:aws:s3:::audit-logs/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/22/f.json.gz";
const OPS_ROLE: &str = "arn:aws:iam::111122223333:role/ops";

fn ro() -> &'static Document {
    managed_doc("AWSCloudTrail_ReadOnlyAccess")
}

fn full() -> &'static Document {
    managed_doc("AWSCloudTrail_FullAccess")
}

#[test]
fn rows_1_to_5_readonly_users() {
    let alice = user("alice");
    let c = ctx_for(&alice, &[]);
    // 1
    assert!(is_allow(&decide(
        &alice,
        &[ro()],
        None,
        "cloudtrail:DescribeTrails",
        "*",
        &c
    )));
    // 2
    assert!(is_allow(&decide(
        &alice,
        &[ro()],
        None,
        "cloudtrail:GetTrailStatus",
        PROD,
        &c
    )));
    // 3
    let d = decide(&alice, &[ro()], None, "cloudtrail:StopLogging", PROD, &c);
    assert!(implicit(&d, PolicyType::IdentityBased));
    assert_eq!(
        access_denied_message(
            &alice,
            "cloudtrail:StopLogging",
            PROD,
            &d,
            ResourceStyle::Plain
        )
        .unwrap(),
        "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:StopLogging on resource: arn:aws:cloudtrail:us-east-1:111122223333:trail/prod because no identity-based policy allows the cloudtrail:StopLogging action"
    );
    // 4: dave through group Auditors.
    let dave = user("dave");
    let cd = ctx_for(&dave, &[]);
    assert!(is_allow(&decide(
        &dave,
        &[ro()],
        None,
        "cloudtrail:LookupEvents",
        "*",
        &cd
    )));
    // 5
    let d = decide(&alice, &[ro()], None, "s3:GetObject", LOG_OBJECT, &c);
    assert!(implicit(&d, PolicyType::IdentityBased));
    let m = access_denied_message(
        &alice,
        "s3:GetObject",
        LOG_OBJECT,
        &d,
        ResourceStyle::Quoted,
    )
    .unwrap();
    assert!(m.contains(&format!("on resource: \"{LOG_OBJECT}\" because no identity-based policy allows the s3:GetObject action")));
}

#[test]
fn rows_6_to_10_full_access_and_explicit_deny() {
    let bob = user("bob");
    let c = ctx_for(&bob, &[]);
    // 6
    assert!(is_allow(&decide(
        &bob,
        &[full()],
        None,
        "cloudtrail:CreateTrail",
        PROD,
        &c
    )));
    let passed = ctx_for(&bob, &[("iam:PassedToService", "cloudtrail.amazonaws.com")]);
    let cwl_role = "arn:aws:iam::111122223333:role/CloudTrail_CloudWatchLogs_Role";
    assert!(is_allow(&decide(
        &bob,
        &[full()],
        None,
        "iam:PassRole",
        cwl_role,
        &passed
    )));
    let elsewhere = ctx_for(&bob, &[("iam:PassedToService", "ec2.amazonaws.com")]);
    assert!(!is_allow(&decide(
        &bob,
        &[full()],
        None,
        "iam:PassRole",
        cwl_role,
        &elsewhere
    )));
    // 7
    assert!(implicit(
        &decide(
            &bob,
            &[full()],
            None,
            "s3:CreateBucket",
            "arn:aws:s3:::my-logs",
            &c
        ),
        PolicyType::IdentityBased
    ));
    assert!(is_allow(&decide(
        &bob,
        &[full()],
        None,
        "s3:CreateBucket",
        "arn:aws:s3:::aws-cloudtrail-logs-1",
        &c
    )));
    // 8
    assert!(implicit(
        &decide(
            &bob,
            &[full()],
            None,
            "s3:DeleteBucket",
            "arn:aws:s3:::aws-cloudtrail-logs-1",
            &c
        ),
        PolicyType::IdentityBased
    ));
    // 9
    let carol = user("carol");
    let cc = ctx_for(&carol, &[]);
    let deny = identity(CAROL_DENY);
    let d = decide(
        &carol,
        &[full(), &deny],
        None,
        "cloudtrail:StopLogging",
        PROD,
        &cc,
    );
    assert!(explicit(&d, PolicyType::IdentityBased));
    assert!(
        access_denied_message(&carol, "cloudtrail:StopLogging", PROD, &d, ResourceStyle::Plain)
            .unwrap()
            .ends_with("on resource: arn:aws:cloudtrail:us-east-1:111122223333:trail/prod with an explicit deny in an identity-based policy")
    );
    // 10
    assert!(is_allow(&decide(
        &carol,
        &[full(), &deny],
        None,
        "cloudtrail:StopLogging",
        DEV,
        &cc
    )));
}

#[test]
fn rows_11_to_13_not_action_and_mfa() {
    let u = user("erin");
    let c = ctx_for(&u, &[]);
    // 11
    let na = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#,
    );
    assert!(implicit(
        &decide(
            &u,
            &[&na],
            None,
            "iam:CreateUser",
            "arn:aws:iam::111122223333:user/x",
            &c
        ),
        PolicyType::IdentityBased
    ));
    assert!(is_allow(&decide(
        &u,
        &[&na],
        None,
        "cloudtrail:DeleteTrail",
        PROD,
        &c
    )));
    // 12: long-term key, no aws:MultiFactorAuthPresent.
    let mfa = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"cloudtrail:*","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}}"#,
    );
    assert!(implicit(
        &decide(&u, &[&mfa], None, "cloudtrail:GetTrail", PROD, &c),
        PolicyType::IdentityBased
    ));
    let with_mfa = ctx_for(&u, &[("aws:MultiFactorAuthPresent", "true")]);
    assert!(is_allow(&decide(
        &u,
        &[&mfa],
        None,
        "cloudtrail:GetTrail",
        PROD,
        &with_mfa
    )));
    // 13
    let deny = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}"#,
    );
    assert!(explicit(
        &decide(
            &u,
            &[full(), &deny],
            None,
            "cloudtrail:DescribeTrails",
            "*",
            &c
        ),
        PolicyType::IdentityBased
    ));
    assert!(is_allow(&decide(
        &u,
        &[full(), &deny],
        None,
        "cloudtrail:DescribeTrails",
        "*",
        &with_mfa
    )));
}

#[test]
fn rows_14_to_16_variables_sessions_root() {
    let var = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"cloudtrail:StopLogging","Resource":"arn:aws:cloudtrail:*:111122223333:trail/${aws:username}-*"}}"#,
    );
    let audit = "arn:aws:cloudtrail:us-east-1:111122223333:trail/alice-audit";
    let alice = user("alice");
    // 14
    assert!(is_allow(&decide(
        &alice,
        &[ro(), &var],
        None,
        "cloudtrail:StopLogging",
        audit,
        &ctx_for(&alice, &[])
    )));
    let s1 = session("ops", "s1");
    let cs = ctx_for(&s1, &[]);
    let ops = identity(OPS_POLICY);
    assert!(implicit(
        &decide(
            &s1,
            &[&ops, &var],
            None,
            "cloudtrail:StopLogging",
            audit,
            &cs
        ),
        PolicyType::IdentityBased
    ));
    // 15
    assert!(is_allow(&decide(
        &s1,
        &[&ops],
        None,
        "cloudtrail:GetTrail",
        PROD,
        &cs
    )));
    // 16
    let r = root();
    assert!(is_allow(&decide(
        &r,
        &[],
        None,
        "cloudtrail:StopLogging",
        PROD,
        &ctx_for(&r, &[])
    )));
}

#[test]
fn rows_17_to_20_key_policies() {
    let alice = user("alice");
    let k = doc(KEY_K, PolicyKind::KeyPolicy);
    let kms_ctx = |with_trail: bool| {
        let mut extra = vec![
            ("kms:CallerAccount", ACCT),
            ("kms:ViaService", "s3.us-east-1.amazonaws.com"),
            (
                "kms:EncryptionContext:aws:s3:arn",
                "arn:aws:s3:::audit-logs/AWSLogs/x",
            ),
        ];
        if with_trail {
            extra.push(("kms:EncryptionContext:aws:cloudtrail:arn", PROD));
        }
        ctx_for(&alice, &extra)
    };
    // 17
    assert!(is_allow(&decide(
        &alice,
        &[ro()],
        Some(&k),
        "kms:Decrypt",
        K_ARN,
        &kms_ctx(true)
    )));
    // 18
    let d = decide(
        &alice,
        &[ro()],
        Some(&k),
        "kms:Decrypt",
        K_ARN,
        &kms_ctx(false),
    );
    assert!(implicit(&d, PolicyType::IdentityBased));
    // 19
    let k2 = doc(KEY_K2, PolicyKind::KeyPolicy);
    let dec = identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"kms:Decrypt","Resource":"{K_ARN}"}}}}"#
    ));
    assert!(is_allow(&decide(
        &alice,
        &[&dec],
        Some(&k2),
        "kms:Decrypt",
        K_ARN,
        &kms_ctx(false)
    )));
    assert!(implicit(
        &decide(
            &alice,
            &[ro()],
            Some(&k2),
            "kms:Decrypt",
            K_ARN,
            &kms_ctx(false)
        ),
        PolicyType::IdentityBased
    ));
    // 20
    let k3 = doc(KEY_K3, PolicyKind::KeyPolicy);
    let all_kms = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kms:*","Resource":"*"}}"#,
    );
    assert!(implicit(
        &decide(
            &alice,
            &[&all_kms],
            Some(&k3),
            "kms:Decrypt",
            K_ARN,
            &kms_ctx(false)
        ),
        PolicyType::ResourceBased
    ));
    let bob = user("bob");
    assert!(is_allow(&decide(
        &bob,
        &[],
        Some(&k3),
        "kms:Decrypt",
        K_ARN,
        &ctx_for(&bob, &[])
    )));
    // Root is denied by a key policy that neither names nor delegates to it.
    let r = root();
    assert!(implicit(
        &decide(&r, &[], Some(&k3), "kms:Decrypt", K_ARN, &ctx_for(&r, &[])),
        PolicyType::ResourceBased
    ));
    assert!(is_allow(&decide(
        &r,
        &[],
        Some(&k2),
        "kms:PutKeyPolicy",
        K_ARN,
        &ctx_for(&r, &[])
    )));
    // CloudTrail encrypts with K only for its trail.
    let ct = service("cloudtrail.amazonaws.com");
    let ct_ctx = ctx_for(
        &ct,
        &[
            ("aws:SourceArn", PROD),
            ("kms:EncryptionContext:aws:cloudtrail:arn", PROD),
        ],
    );
    assert!(is_allow(&decide(
        &ct,
        &[],
        Some(&k),
        "kms:GenerateDataKey",
        K_ARN,
        &ct_ctx
    )));
    let other = ctx_for(
        &ct,
        &[
            ("aws:SourceArn", DEV),
            ("kms:EncryptionContext:aws:cloudtrail:arn", DEV),
        ],
    );
    assert!(implicit(
        &decide(&ct, &[], Some(&k), "kms:GenerateDataKey", K_ARN, &other),
        PolicyType::ResourceBased
    ));
}

#[test]
fn rows_21_to_23_trust_and_caller_identity() {
    let alice = user("alice");
    let c = ctx_for(&alice, &[]);
    let trust = |principal: &str| {
        doc(
            &format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},"Action":"sts:AssumeRole"}}]}}"#
            ),
            PolicyKind::Trust,
        )
    };
    // 21
    let by_account = trust("arn:aws:iam::111122223333:root");
    let d = decide(
        &alice,
        &[ro()],
        Some(&by_account),
        "sts:AssumeRole",
        OPS_ROLE,
        &c,
    );
    assert!(implicit(&d, PolicyType::IdentityBased));
    let may_assume = identity(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"{OPS_ROLE}"}}}}"#
    ));
    assert!(is_allow(&decide(
        &alice,
        &[&may_assume],
        Some(&by_account),
        "sts:AssumeRole",
        OPS_ROLE,
        &c
    )));
    let by_name = trust("arn:aws:iam::111122223333:user/alice");
    assert!(is_allow(&decide(
        &alice,
        &[ro()],
        Some(&by_name),
        "sts:AssumeRole",
        OPS_ROLE,
        &c
    )));
    // A trust policy naming someone else refuses even with an identity Allow.
    let other = trust("arn:aws:iam::111122223333:user/bob");
    assert!(implicit(
        &decide(
            &alice,
            &[&may_assume],
            Some(&other),
            "sts:AssumeRole",
            OPS_ROLE,
            &c
        ),
        PolicyType::ResourceBased
    ));
    // 22
    let cwl_trust = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#,
        PolicyKind::Trust,
    );
    let ct = service("cloudtrail.amazonaws.com");
    assert!(is_allow(&decide(
        &ct,
        &[],
        Some(&cwl_trust),
        "sts:AssumeRole",
        "arn:aws:iam::111122223333:role/CloudTrail_CloudWatchLogs_Role",
        &ctx_for(&ct, &[])
    )));
    // 23
    let deny_sts = identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"sts:*","Resource":"*"}}"#,
    );
    let d = decide(&alice, &[&deny_sts], None, "sts:GetCallerIdentity", "*", &c);
    assert_eq!(d, Decision::Allow { matched: vec![] });
    assert!(explicit(
        &decide(&alice, &[&deny_sts], None, "sts:GetSessionToken", "*", &c),
        PolicyType::IdentityBased
    ));
}
