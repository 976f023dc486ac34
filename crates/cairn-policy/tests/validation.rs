//! Write-time validation: every message of spec §2.6 (IAM `MalformedPolicyDocument`), S3's
//! `MalformedPolicy` wording for bucket policies, Version handling, Statement forms, and the
//! size helper of §2.7.

use cairn_policy::{Document, PolicyKind, Reason, Version, limits, non_whitespace_len};

const ID: PolicyKind = PolicyKind::Identity;
const TRUST: PolicyKind = PolicyKind::Trust;
const RES: PolicyKind = PolicyKind::Resource;
const KEY: PolicyKind = PolicyKind::KeyPolicy;

fn st(body: &str) -> String {
    format!(r#"{{"Version":"2012-10-17","Statement":[{body}]}}"#)
}

fn err(text: &str, kind: PolicyKind) -> String {
    match Document::parse(text, kind) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.message(),
    }
}

fn s3_err(text: &str) -> String {
    match Document::parse(text, RES) {
        Ok(_) => panic!("accepted: {text}"),
        Err(e) => e.s3_message(),
    }
}

#[test]
fn iam_messages() {
    let cases: Vec<(String, PolicyKind, &str)> = vec![
        ("not json".into(), ID, "Syntax errors in policy."),
        ("[1,2]".into(), ID, "Syntax errors in policy."),
        (r#"{"Version":"2012-10-17","Statement":[],"Extra":1}"#.into(), ID, "Syntax errors in policy."),
        (st(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Bogus":1}"#), ID, "Syntax errors in policy."),
        (st(r#"{"Effect":"Maybe","Action":"s3:*","Resource":"*"}"#), ID, "Syntax errors in policy."),
        (st(r#"{"Effect":"Allow","Action":5,"Resource":"*"}"#), ID, "Syntax errors in policy."),
        (st(r#"{"Effect":"Allow","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}"#), ID, "Syntax errors in policy."),
        (st(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Weird":{"k":"v"}}}"#), ID, "Syntax errors in policy."),
        (st(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"k":{"x":1}}}}"#), ID, "Syntax errors in policy."),
        (r#"{"Version":"2012-10-17"}"#.into(), ID, "Syntax errors in policy."),
        (r#"{"Version":"2012-10-17","Statement":[]}"#.into(), ID, "Syntax errors in policy."),
        (r#"{"Version":"2021-01-01","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#.into(), ID, "Policy document must be version 2012-10-17 or greater."),
        (st(r#"{"Effect":"allow","Action":"s3:*","Resource":"*"}"#), ID, "The policy failed legacy parsing"),
        (st(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}"#), ID, "The policy failed legacy parsing"),
        (st(r#"{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3::bucket"}"#), ID, "The policy failed legacy parsing"),
        (st(r#"{"Effect":"Allow","Resource":"*"}"#), ID, "Policy statement must contain actions."),
        (st(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#), ID, "Policy statement must contain actions."),
        (st(r#"{"Effect":"Allow","Action":"s3:*"}"#), ID, "Policy statement must contain resources."),
        (st(r#"{"Effect":"Allow","Action":"GetObject","Resource":"*"}"#), ID, "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."),
        (st(r#"{"Effect":"Allow","Action":"s3:Get:Object","Resource":"*"}"#), ID, "Actions/Condition can contain only one colon."),
        (st(r#"{"Effect":"Allow","Action":"s_3:GetObject","Resource":"*"}"#), ID, "Vendor s_3 is not valid"),
        (st(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"bucket"}"#), ID, "Resource bucket must be in ARN format or \"*\"."),
        (st(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:xyz:s3:::b"}"#), ID, "Partition \"xyz\" is not valid for resource \"arn:xyz:s3:::b\"."),
        (st(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:xyz"}"#), ID, "Partition \"xyz\" is not valid for resource \"arn:xyz:*:*:*:*\"."),
        (st(r#"{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws"}"#), ID, "Resource vendor must be fully qualified and cannot contain regexes."),
        (st(r#"{"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam:us-east-1:111122223333:user/a"}"#), ID, "IAM resource arn:aws:iam:us-east-1:111122223333:user/a cannot contain region information."),
        (st(r#"{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"s3:*","Resource":"*"}"#), ID, "Statement IDs (SID) in a single policy must be unique."),
        (st(r#"{"Sid":"Not alnum","Effect":"Allow","Action":"s3:*","Resource":"*"}"#), ID, "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"),
        (st(r#"{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}"#), ID, "Policy document should not specify a principal."),
        (st(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole","Resource":"*"}"#), TRUST, "Has prohibited field Resource."),
        // The IAM user guide: NotPrincipal cannot be used in a role trust policy, Allow or Deny.
        (st(r#"{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/nobody"},"Action":"sts:AssumeRole"}"#), TRUST, "Has prohibited field NotPrincipal."),
        (st(r#"{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/nobody"},"Action":"sts:AssumeRole"}"#), TRUST, "Has prohibited field NotPrincipal."),
        (st(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject"}"#), TRUST, "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity"),
        (st(r#"{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/R/*"},"Action":"sts:AssumeRole"}"#), TRUST, "Invalid principal in policy: \"AWS\":\"arn:aws:sts::111122223333:assumed-role/R/*\""),
        (st(r#"{"Effect":"Allow","Principal":{"AWS":"someone"},"Action":"sts:AssumeRole"}"#), TRUST, "Invalid principal in policy: \"AWS\":\"someone\""),
        (st(r#"{"Effect":"Allow","Principal":{"Service":"amazonaws.com"},"Action":"sts:AssumeRole"}"#), TRUST, "Invalid principal in policy: \"SERVICE\":\"amazonaws.com\""),
        (st(r#"{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","*"]},"Action":"sts:AssumeRole"}"#), TRUST, "Invalid principal in policy: \"SERVICE\":\"*\""),
        (st(r#"{"Effect":"Allow","Action":"sts:AssumeRole"}"#), TRUST, "Missing required field Principal"),
        (st(r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:*"}"#), KEY, "Policy statement must contain resources."),
    ];
    let mut failures = Vec::new();
    for (text, kind, want) in &cases {
        let got = err(text, *kind);
        if got != *want {
            failures.push(format!("{text}\n  want: {want}\n  got:  {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn s3_messages_keep_the_earlier_wording() {
    let ok_stmt =
        r#"{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}"#;
    assert_eq!(
        s3_err("not json"),
        "Policies must be valid JSON and the first byte must be '{'"
    );
    assert_eq!(
        s3_err("[]"),
        "Policies must be valid JSON and the first byte must be '{'"
    );
    assert_eq!(
        s3_err(r#"{"Version":"2012-10-17"}"#),
        "Missing required field Statement"
    );
    assert_eq!(
        s3_err(r#"{"Statement":[]}"#),
        "Could not parse the policy: Statement is empty!"
    );
    assert_eq!(s3_err(r#"{"Statement":[1]}"#), "Statement is not an object");
    assert_eq!(
        s3_err(
            r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}]}"#
        ),
        "Invalid effect"
    );
    assert_eq!(
        s3_err(r#"{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#),
        "Missing required field Principal"
    );
    assert_eq!(
        s3_err(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Resource":"*"}]}"#),
        "Missing required field Action"
    );
    assert_eq!(
        s3_err(r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*"}]}"#),
        "Missing required field Resource"
    );
    assert_eq!(
        s3_err(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Weird":{}}}}"#
        ),
        "Invalid Condition type : Weird"
    );
    assert_eq!(
        s3_err(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":[]}}"#
        ),
        "Condition must be an object"
    );
    assert_eq!(
        s3_err(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Bool":1}}}"#
        ),
        "Condition block must be an object"
    );
    assert_eq!(
        s3_err(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"bucket"}}"#
        ),
        "Policy has invalid resource"
    );
    // Bucket policies allow spaces in Sids.
    let sid = format!(
        r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
        ok_stmt.replace("{\"Effect", "{\"Sid\":\"Allow public read\",\"Effect")
    );
    assert!(Document::parse(&sid, RES).is_ok());
    // Kind-appropriate message.
    let e = Document::parse("nope", RES).unwrap_err();
    assert_eq!(e.kind_message(), e.s3_message());
    assert_eq!(e.to_string(), "Syntax errors in policy.");
    assert_eq!(e.reason, Reason::NotJsonObject);
}

#[test]
fn versions_and_statement_forms() {
    let no_version = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
    let d = Document::parse(no_version, ID).unwrap();
    assert_eq!(d.version(), Version::V2008_10_17);
    assert!(!d.version_given());
    let old = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}"#;
    assert_eq!(
        Document::parse(old, ID).unwrap().version(),
        Version::V2008_10_17
    );
    let list = st(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","NotAction":"s3:Get*","NotResource":"arn:aws:s3:::b"}"#,
    );
    let d = Document::parse(&list, ID).unwrap();
    assert_eq!(d.statements().len(), 2);
    assert_eq!(
        d.statements()[1].actions(),
        (&["s3:Get*".to_owned()][..], true)
    );
    assert_eq!(d.resources(), ["*", "arn:aws:s3:::b"]);
    // Principal forms.
    let principals = st(
        r#"{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:user/alice","arn:aws:sts::111122223333:assumed-role/ops/s1","AIDACKCEVSQ6C2EXAMPLE"],"Service":["cloudtrail.amazonaws.com"]},"Action":"kms:*","Resource":"*"}"#,
    );
    let d = Document::parse(&principals, KEY).unwrap();
    assert_eq!(
        d.principal_arns(),
        [
            "arn:aws:iam::111122223333:user/alice",
            "arn:aws:sts::111122223333:assumed-role/ops/s1",
            "AIDACKCEVSQ6C2EXAMPLE"
        ]
    );
    assert_eq!(d.service_principals(), ["cloudtrail.amazonaws.com"]);
    // Conditions: numbers and booleans are accepted; unknown operators with empty blocks too.
    let c = st(
        r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"n":5},"Bool":{"aws:SecureTransport":true},"Weird":{}}}"#,
    );
    let d = Document::parse(&c, ID).unwrap();
    assert_eq!(d.condition_keys(), ["n", "aws:SecureTransport"]);
    // Escaped keys and statement spans survive.
    let esc = r#"{"Version":"2012-10-17","Statem\u0065nt":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
    let d = Document::parse(esc, ID).unwrap();
    assert_eq!(d.statements()[0].start().column, 42);
}

#[test]
fn sizes() {
    let text = "{\n  \"Version\": \"2012-10-17\"\n}";
    assert_eq!(non_whitespace_len(text), 24);
    assert_eq!(limits::MANAGED_POLICY, 6144);
}

#[test]
fn documents_cairn_already_writes_are_accepted() {
    let sns_default = r#"{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"arn:aws:sns:us-east-1:123456789012:t","Condition":{"StringEquals":{"AWS:SourceOwner":"123456789012"}}}]}"#;
    assert!(Document::parse(sns_default, RES).is_ok());
    let bucket = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"AWSCloudTrailAclCheck20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::b1"},
      {"Sid":"AWSCloudTrailWrite20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b1/AWSLogs/123456789012/*","Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}},
      {"Sid":"DenyDeleteWithoutMFA","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b1/*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;
    assert!(Document::parse(bucket, RES).is_ok());
    let cwl_trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    assert!(Document::parse(cwl_trust, TRUST).is_ok());
}

#[test]
fn the_keys_a_document_reads_include_its_variables_however_written() {
    let doc = |text: &str| Document::parse(text, PolicyKind::Identity).unwrap();
    let by_key = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"sns:*","Resource":"*","Condition":{"StringEquals":{"AWS:ResourceTag/env":"prod"}}}]}"#,
    );
    assert!(by_key.tests_key_prefix("aws:ResourceTag/"));
    assert!(!by_key.tests_key_prefix("s3:ResourceAccount"));
    // A variable in a condition value, with JSON's escapes (`\/`, `\u0024`): still read.
    let by_variable = doc(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"\u0024{aws:ResourceTag\/team}"}}}]}"#,
    );
    assert!(by_variable.tests_key_prefix("aws:ResourceTag/"));
    // Under the 2008 version variables are text, and read nothing.
    let old = doc(
        r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"sns:Publish","Resource":"arn:aws:sns:*:*:${aws:ResourceTag/team}"}]}"#,
    );
    assert!(!old.tests_key_prefix("aws:ResourceTag/"));
}

#[test]
fn context_keys_are_listed_as_written_in_order_once() {
    // The IAM CLI reference's example for get-context-keys-for-custom-policy.
    let doc = Document::parse(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:us-west-2:123456789012:table/${aws:username}","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2015-08-16T12:00:00Z"}}}}"#,
        ID,
    )
    .unwrap();
    assert_eq!(doc.context_keys(), ["aws:username", "aws:CurrentTime"]);
    let doc = Document::parse(
        &st(r#"{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"${aws:UserName}/","AWS:USERNAME":"x"},"Bool":{"aws:SecureTransport":"true"}}},
               {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringLike":{"S3:Prefix":"${aws:PrincipalTag/team, 'none'}"}}}"#),
        ID,
    )
    .unwrap();
    assert_eq!(
        doc.context_keys(),
        [
            "aws:UserName",
            "s3:prefix",
            "aws:SecureTransport",
            "aws:PrincipalTag/team"
        ]
    );
    // Without Version 2012-10-17 there are no variables.
    let doc = Document::parse(
        r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}"}}"#,
        ID,
    )
    .unwrap();
    assert!(doc.context_keys().is_empty());
}
