//! Tests of the model checks at the JSON and Query edges (`super`).

use super::*;
use serde_json::json;

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::from_pairs(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

fn message(p: Problem) -> String {
    p.into_error(ErrorKind::IamValidation).message
}

#[test]
fn every_served_service_has_rules() {
    for s in [
        "cloudtrail",
        "iam",
        "sts",
        "kms",
        "logs",
        "cloudwatch",
        "sns",
        "cloudformation",
    ] {
        assert!(rules()[s].len() > 5, "{s}");
    }
}

#[test]
fn a_missing_required_member_is_named_as_aws_names_it() {
    let p = check("sns", "DeleteTopic", Input::Query(&params(&[]))).unwrap_err();
    assert_eq!(
        message(p),
        "1 validation error detected: Value null at 'topicArn' failed to satisfy constraint: Member must not be null"
    );
    let tags = params(&[("ResourceArn", "arn"), ("Tags", "")]);
    assert!(check("sns", "TagResource", Input::Query(&tags)).is_ok());
    let topic = params(&[("TopicArn", "arn:aws:sns:us-east-1:123456789012:t")]);
    assert!(check("sns", "DeleteTopic", Input::Query(&topic)).is_ok());
}

#[test]
fn a_list_shorter_than_its_minimum_is_refused() {
    for (op, body) in [
        ("DescribeLogGroups", json!({"logGroupIdentifiers": []})),
        ("UntagLogGroup", json!({"logGroupName": "g", "tags": []})),
    ] {
        let input = Input::Json {
            body: &body,
            typed: true,
        };
        let m = message(check("logs", op, input).unwrap_err());
        assert!(
            m.contains("Value '[]' at '")
                && m.ends_with("Member must have length greater than or equal to 1"),
            "{op}: {m}"
        );
    }
    let body = json!({"logGroupName": "g", "tags": ["k"]});
    let input = Input::Json {
        body: &body,
        typed: true,
    };
    assert!(check("logs", "UntagLogGroup", input).is_ok());
}

#[test]
fn a_list_longer_than_its_maximum_is_refused() {
    let mut pairs = vec![("StackName", "s".to_owned())];
    for i in 1..=6 {
        pairs.push(("NotificationARNs.member.N", format!("arn:{i}")));
    }
    let owned: Vec<(String, String)> = pairs
        .iter()
        .enumerate()
        .map(|(i, (k, v))| (k.replace(".N", &format!(".{i}")), v.clone()))
        .collect();
    let p = Params::from_pairs(owned.clone());
    let m = message(check("cloudformation", "CreateStack", Input::Query(&p)).unwrap_err());
    assert!(
        m.ends_with("Value '[arn:1, arn:2, arn:3, arn:4, arn:5, arn:6]' at 'notificationARNs' failed to satisfy constraint: Member must have length less than or equal to 5"),
        "{m}"
    );
    let p = Params::from_pairs(owned[..6].to_vec());
    assert!(check("cloudformation", "CreateStack", Input::Query(&p)).is_ok());
    let body = json!({"logGroupName": "g",
        "logStreamNames": (0..101).map(|i| format!("s{i}")).collect::<Vec<_>>()});
    let input = Input::Json {
        body: &body,
        typed: true,
    };
    let m = message(check("logs", "FilterLogEvents", input).unwrap_err());
    assert!(
        m.ends_with("Member must have length less than or equal to 100"),
        "{m}"
    );
}

#[test]
fn sensitive_values_are_never_quoted() {
    let secret = "S".repeat(40);
    let body = json!({"CustomKeyStoreName": "s", "KeyStorePassword": secret});
    let input = Input::Json {
        body: &body,
        typed: true,
    };
    let m = message(check("kms", "CreateCustomKeyStore", input).unwrap_err());
    assert!(!m.contains(&secret), "{m}");
    assert!(
        m.contains("Value at 'keyStorePassword' failed to satisfy constraint: Member must have length less than or equal to 32"),
        "{m}"
    );
    let p = params(&[("UserName", "u"), ("Password", "")]);
    let m = message(check("iam", "CreateLoginProfile", Input::Query(&p)).unwrap_err());
    assert!(m.contains("Value at 'password'"), "{m}");
}

#[test]
fn enums_ranges_and_lengths() {
    let p = params(&[("StackStatusFilter.member.1", "NOT_A_STATUS")]);
    let m = message(check("cloudformation", "ListStacks", Input::Query(&p)).unwrap_err());
    assert!(
        m.starts_with("1 validation error detected: Value '[NOT_A_STATUS]' at 'stackStatusFilter' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: ["),
        "{m}"
    );
    let p = params(&[("RoleName", "r"), ("MaxItems", "0")]);
    let m = message(check("iam", "ListInstanceProfilesForRole", Input::Query(&p)).unwrap_err());
    assert!(m.ends_with("Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1"), "{m}");
    let body = json!({"AlarmNames": [""]});
    let input = Input::Json {
        body: &body,
        typed: true,
    };
    assert!(check("cloudwatch", "DescribeAlarms", input).is_err());
    let body = json!({"KeyId": "k", "IncludeKeyMaterial": 3});
    let input = Input::Json {
        body: &body,
        typed: true,
    };
    assert_eq!(
        check("kms", "ListKeyRotations", input),
        Err(Problem::Type {
            member: "IncludeKeyMaterial".to_owned(),
            expected: "a string"
        })
    );
}

#[test]
fn query_numbers_and_booleans_must_parse() {
    let p = params(&[("MinimumSessionTokenSize", "abc")]);
    let m = message(check("sts", "GetSessionToken", Input::Query(&p)).unwrap_err());
    assert!(
        m.ends_with("Value 'abc' at 'minimumSessionTokenSize' failed to satisfy constraint: Member must be an integer"),
        "{m}"
    );
    let p = params(&[("MinimumSessionTokenSize", "512")]);
    assert!(check("sts", "GetSessionToken", Input::Query(&p)).is_ok());
    let p = params(&[("OnlyAttached", "yes")]);
    let m = message(check("iam", "ListPolicies", Input::Query(&p)).unwrap_err());
    assert!(m.ends_with("Member must be a boolean"), "{m}");
}

#[test]
fn cloudwatch_names_a_missing_parameter() {
    let body = json!({});
    let input = Input::Json {
        body: &body,
        typed: false,
    };
    let e = check("cloudwatch", "SetAlarmState", input)
        .unwrap_err()
        .into_cloudwatch_error();
    assert_eq!(e.kind, ErrorKind::CwMissingParameter);
}
