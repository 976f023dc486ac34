//! The shipped AWS managed policies: each parses, the catalogue is right, and the CloudTrail
//! policies grant what AWS's grant.

mod common;

use cairn_policy::{Document, PolicyKind, managed, non_whitespace_len};
use common::*;

#[test]
fn every_policy_parses_with_its_metadata() {
    let all = managed::all();
    assert_eq!(all.len(), 28);
    for p in all {
        let d = p.parsed();
        assert!(!d.statements().is_empty(), "{}", p.name);
        assert_eq!(
            Document::parse(p.document, PolicyKind::Identity).as_ref(),
            Ok(d)
        );
        assert_eq!(
            p.arn,
            format!("arn:aws:iam::aws:policy{}{}", p.path, p.name)
        );
        let path = match p.name {
            "ViewOnlyAccess" => "/job-function/",
            "AWSLambdaBasicExecutionRole" | "AmazonECSTaskExecutionRolePolicy" => "/service-role/",
            _ => "/",
        };
        assert_eq!(p.path, path);
        assert!(p.default_version_id.starts_with('v'));
        assert!(p.created() <= p.updated(), "{}", p.name);
        assert!(p.created().timestamp() > 1_400_000_000, "{}", p.name);
        assert!(!p.description.is_empty());
        let id = p.policy_id();
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("ANPA"));
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        );
        assert_eq!(managed::get(p.arn).map(|x| x.name), Some(p.name));
    }
    let ids: std::collections::HashSet<String> = all.iter().map(|p| p.policy_id()).collect();
    assert_eq!(ids.len(), all.len());
    for name in ["AWSCloudTrailFullAccess", "AWSCloudTrailReadOnlyAccess"] {
        assert!(!managed::by_name(name).unwrap().attachable);
    }
    assert!(
        managed::by_name("AWSCloudTrail_FullAccess")
            .unwrap()
            .attachable
    );
    assert!(managed::get("arn:aws:iam::aws:policy/Nope").is_none());
    let ro = managed::by_name("ReadOnlyAccess").unwrap();
    assert_eq!(ro.default_version_id, "v182");
    assert!(non_whitespace_len(ro.document) > 50_000);
    let full = managed::by_name("AWSCloudTrail_FullAccess").unwrap();
    assert_eq!(
        (full.default_version_id, full.create_date),
        ("v3", "2020-10-08T23:41:15Z")
    );
    assert_eq!(full.parsed().statements().len(), 11);
}

#[test]
fn cloudtrail_policies_grant_what_aws_grants() {
    let u = user("u");
    let c = ctx_for(&u, &[]);
    let full = managed_doc("AWSCloudTrail_FullAccess");
    let ro = managed_doc("AWSCloudTrail_ReadOnlyAccess");
    assert!(decide(&u, &[full], None, "cloudtrail:StopLogging", PROD, &c).is_allowed());
    assert!(
        !decide(
            &u,
            &[full],
            None,
            "s3:DeleteBucket",
            "arn:aws:s3:::aws-cloudtrail-logs-1",
            &c
        )
        .is_allowed()
    );
    assert!(
        !decide(
            &u,
            &[full],
            None,
            "s3:GetObject",
            "arn:aws:s3:::aws-cloudtrail-logs-1/k",
            &c
        )
        .is_allowed()
    );
    assert!(!decide(&u, &[full], None, "kms:PutKeyPolicy", "*", &c).is_allowed());
    assert!(
        decide(
            &u,
            &[full],
            None,
            "sns:CreateTopic",
            "arn:aws:sns:us-east-1:111122223333:aws-cloudtrail-logs-t",
            &c
        )
        .is_allowed()
    );
    assert!(
        !decide(
            &u,
            &[full],
            None,
            "sns:DeleteTopic",
            "arn:aws:sns:us-east-1:111122223333:aws-cloudtrail-logs-t",
            &c
        )
        .is_allowed()
    );
    for (action, resource) in [
        ("cloudtrail:LookupEvents", "*"),
        ("cloudtrail:GetTrailStatus", PROD),
        ("cloudtrail:DescribeTrails", "*"),
        ("cloudtrail:ListTags", PROD),
        ("cloudtrail:GetEventSelectors", PROD),
        ("cloudtrail:ListPublicKeys", "*"),
    ] {
        assert!(
            decide(&u, &[ro], None, action, resource, &c).is_allowed(),
            "{action}"
        );
    }
    for action in [
        "cloudtrail:StopLogging",
        "cloudtrail:DeleteTrail",
        "cloudtrail:SearchSampleQueries",
    ] {
        assert!(
            !decide(&u, &[ro], None, action, PROD, &c).is_allowed(),
            "{action}"
        );
    }
    assert!(!decide(&u, &[ro], None, "s3:GetObject", "arn:aws:s3:::b/k", &c).is_allowed());
    // The deprecated read-only policy still granted S3 reads.
    let old_ro = managed_doc("AWSCloudTrailReadOnlyAccess");
    assert!(decide(&u, &[old_ro], None, "s3:GetObject", "arn:aws:s3:::b/k", &c).is_allowed());
    assert!(!decide(&u, &[old_ro], None, "cloudtrail:StopLogging", PROD, &c).is_allowed());
}

#[test]
fn broad_policies() {
    let u = user("u");
    let c = ctx_for(&u, &[]);
    let admin = managed_doc("AdministratorAccess");
    assert!(
        decide(
            &u,
            &[admin],
            None,
            "iam:CreateUser",
            "arn:aws:iam::111122223333:user/x",
            &c
        )
        .is_allowed()
    );
    let ro = managed_doc("ReadOnlyAccess");
    assert!(decide(&u, &[ro], None, "cloudtrail:LookupEvents", "*", &c).is_allowed());
    assert!(decide(&u, &[ro], None, "s3:GetObject", "arn:aws:s3:::b/k", &c).is_allowed());
    assert!(!decide(&u, &[ro], None, "cloudtrail:StopLogging", PROD, &c).is_allowed());
    assert!(!decide(&u, &[ro], None, "iam:CreateUser", "*", &c).is_allowed());
    let s3 = managed_doc("AmazonS3FullAccess");
    assert!(decide(&u, &[s3], None, "s3:DeleteObject", "arn:aws:s3:::b/k", &c).is_allowed());
    let iam_ro = managed_doc("IAMReadOnlyAccess");
    assert!(decide(&u, &[iam_ro], None, "iam:SimulatePrincipalPolicy", "*", &c).is_allowed());
    assert!(!decide(&u, &[iam_ro], None, "iam:CreateUser", "*", &c).is_allowed());
    let kms = managed_doc("AWSKeyManagementServicePowerUser");
    assert!(decide(&u, &[kms], None, "kms:CreateKey", "*", &c).is_allowed());
    assert!(!decide(&u, &[kms], None, "kms:Decrypt", "*", &c).is_allowed());
    let logs = managed_doc("CloudWatchLogsReadOnlyAccess");
    assert!(decide(&u, &[logs], None, "logs:FilterLogEvents", "*", &c).is_allowed());
    assert!(!decide(&u, &[logs], None, "logs:PutLogEvents", "*", &c).is_allowed());
}

#[test]
fn bench_runs_all_three_sets() {
    let results = cairn_policy::bench::standard(std::time::Duration::from_millis(20));
    assert_eq!(results.len(), 3);
    assert!(
        results
            .iter()
            .all(|r| r.evaluations > 0 && r.per_second > 0.0)
    );
}

#[test]
fn auditor_policies_read_the_trail_but_cannot_silence_it() {
    let u = user("auditor");
    let c = ctx_for(&u, &[]);
    for name in ["SecurityAudit", "ViewOnlyAccess"] {
        let doc = managed_doc(name);
        for action in ["cloudtrail:DescribeTrails", "cloudtrail:LookupEvents"] {
            assert!(
                decide(&u, &[doc], None, action, PROD, &c).is_allowed(),
                "{name} {action}"
            );
        }
        for action in [
            "cloudtrail:StopLogging",
            "cloudtrail:DeleteTrail",
            "cloudtrail:PutEventSelectors",
        ] {
            assert!(
                !decide(&u, &[doc], None, action, PROD, &c).is_allowed(),
                "{name} {action}"
            );
        }
    }
    // SecurityAudit reads each trail's status and selectors; ViewOnlyAccess only lists.
    let audit = managed_doc("SecurityAudit");
    let view = managed_doc("ViewOnlyAccess");
    assert!(decide(&u, &[audit], None, "cloudtrail:GetTrailStatus", PROD, &c).is_allowed());
    assert!(!decide(&u, &[view], None, "cloudtrail:GetTrailStatus", PROD, &c).is_allowed());
    assert_eq!(
        managed::by_name("ViewOnlyAccess").map(|p| p.arn),
        Some("arn:aws:iam::aws:policy/job-function/ViewOnlyAccess")
    );
}
