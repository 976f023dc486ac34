//! Query-protocol requests as CloudTrail records them in `requestParameters`: members in
//! lower camel case, `Name.member.N` lists as arrays, structures as objects, and
//! `Name.entry.N.key`/`.value` maps as objects keyed by their keys (SNS's `Attributes`);
//! `Action` and `Version` left out, and never a member whose shape the service model marks
//! sensitive (a password, a private key, a SAML assertion or web identity token): CloudTrail
//! leaves those out of the record. Shared by IAM, STS, SNS and CloudFormation, for the
//! operations they carry out and those they only authorize and refuse.

use crate::wire::lower_first;
use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::query::Params;

/// Members recorded as numbers and booleans in `requestParameters`.
const INTEGERS: &[&str] = &["MaxItems", "DurationSeconds", "MaxSessionDuration"];
const BOOLEANS: &[&str] = &[
    "SetAsDefault",
    "OnlyAttached",
    "PasswordResetRequired",
    "ReturnSubscriptionArn",
];

/// Top-level members whose shapes the IAM, STS and SNS models (botocore's `service-2.json`,
/// shapes with `"sensitive": true`) mark sensitive.
const SENSITIVE: &[&str] = &[
    "Password",
    "NewPassword",
    "OldPassword",
    "PrivateKey",
    "AddPrivateKey",
    "SAMLAssertion",
    "WebIdentityToken",
    "TradeInToken",
    "PhoneNumber",
    "phoneNumber",
];

/// One `Name.entry.N` of a map: its key and value as they came.
type MapEntry = (Option<String>, Option<String>);

/// Map keys whose values are secrets (SNS platform applications' credentials, a device
/// endpoint's token): such an entry is left out.
const SENSITIVE_KEYS: &[&str] = &["PlatformCredential", "PlatformPrincipal", "Token"];

fn scalar(key: &str, value: &str) -> Value {
    if INTEGERS.contains(&key)
        && let Ok(n) = value.parse::<i64>()
    {
        return json!(n);
    }
    if BOOLEANS.contains(&key) && matches!(value, "true" | "false") {
        return json!(value == "true");
    }
    json!(value)
}

/// A top-level member's value as its model's type, when the model makes it no string.
fn typed_member(action: &str, name: &str, value: &str) -> Option<Value> {
    match crate::model_check::query_member_type(action, name)? {
        "list" if value.is_empty() => Some(Value::Array(Vec::new())),
        "integer" | "long" => value.parse::<i64>().ok().map(Value::from),
        "boolean" => match value {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

/// The request as CloudTrail records it (see the module doc); `Null` when it has no member.
pub fn request_parameters(service: &str, params: &Params) -> Value {
    let mut out = Map::new();
    // `Name.entry.N.key` / `Name.entry.N.value`, gathered by name and N.
    let mut maps: BTreeMap<String, BTreeMap<usize, MapEntry>> = BTreeMap::new();
    for (k, v) in params.iter() {
        if k == "Action" || k == "Version" {
            continue;
        }
        // Query members are PascalCase in every model: a name that is not (`policyArn` sent
        // beside `PolicyArn`) is no member, ignored by the call, and never recorded in place
        // of the member it would collide with once lower-cased.
        if !k.starts_with(|c: char| c.is_ascii_uppercase()) {
            continue;
        }
        let parts: Vec<&str> = k.split('.').collect();
        if SENSITIVE.contains(&parts[0])
            || crate::model_check::query_unmodeled(service, params.action(), parts[0])
        {
            continue;
        }
        if let [name, "entry", n, side] = parts.as_slice()
            && let Ok(n) = n.parse::<usize>()
            && (1..=1000).contains(&n)
        {
            let slot = maps
                .entry((*name).to_owned())
                .or_default()
                .entry(n)
                .or_default();
            match *side {
                "key" => slot.0 = Some(v.clone()),
                "value" => slot.1 = Some(v.clone()),
                _ => {}
            }
            continue;
        }
        // A top-level member is recorded as its model types it: an empty list (sent as
        // `Name=`) as `[]`, numbers and booleans as JSON numbers and booleans (a metric filter
        // compares `$.requestParameters.minimumPasswordLength < 14`).
        if let [name] = parts.as_slice()
            && let Some(typed) = typed_member(params.action(), name, v)
        {
            out.insert(lower_first(name), typed);
            continue;
        }
        insert(&mut out, &parts, v);
    }
    for (name, entries) in maps {
        let map: Map<String, Value> = entries
            .into_values()
            .filter_map(|(k, v)| Some((k?, json!(v.unwrap_or_default()))))
            .filter(|(k, _)| !SENSITIVE_KEYS.contains(&k.as_str()))
            .collect();
        out.insert(lower_first(&name), Value::Object(map));
    }
    if out.is_empty() {
        Value::Null
    } else {
        Value::Object(out)
    }
}

fn insert(obj: &mut Map<String, Value>, parts: &[&str], value: &str) {
    let Some((first, rest)) = parts.split_first() else {
        return;
    };
    let key = lower_first(first);
    if rest.is_empty() {
        obj.insert(key, scalar(first, value));
        return;
    }
    // `Name.member.N[.Field…]`
    if rest.len() >= 2 && rest[0] == "member" {
        let Ok(n) = rest[1].parse::<usize>() else {
            return;
        };
        if n == 0 || n > 1000 {
            return;
        }
        let list = obj.entry(key).or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(items) = list else {
            return;
        };
        while items.len() < n {
            items.push(Value::Null);
        }
        if rest.len() == 2 {
            items[n - 1] = scalar(first, value);
        } else {
            if !items[n - 1].is_object() {
                items[n - 1] = Value::Object(Map::new());
            }
            if let Value::Object(m) = &mut items[n - 1] {
                insert(m, &rest[2..], value);
            }
        }
        return;
    }
    let child = obj.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(m) = child {
        insert(m, rest, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_lists_and_sensitive_members() {
        let params = Params::parse(
            "",
            b"Action=CreateTopic&Name=t&Attributes.entry.2.key=DisplayName&Attributes.entry.2.value=d&Attributes.entry.1.key=Policy&Attributes.entry.1.value=%7B%7D&Tags.member.1.Key=a&Tags.member.1.Value=b",
        );
        let rp = request_parameters("sns", &params);
        assert_eq!(
            rp,
            json!({"name": "t", "attributes": {"Policy": "{}", "DisplayName": "d"},
                   "tags": [{"key": "a", "value": "b"}]})
        );
        let params = Params::parse(
            "",
            b"Action=CreateLoginProfile&UserName=erin&Password=Xx1%21secret&PasswordResetRequired=false",
        );
        assert_eq!(
            request_parameters("iam", &params),
            json!({"userName": "erin", "passwordResetRequired": false})
        );
        let params = Params::parse(
            "",
            b"Action=CreatePlatformApplication&Name=p&Platform=GCM&Attributes.entry.1.key=PlatformCredential&Attributes.entry.1.value=server-key",
        );
        assert_eq!(
            request_parameters("sns", &params),
            json!({"name": "p", "platform": "GCM", "attributes": {}})
        );
    }

    #[test]
    fn numbers_and_booleans_are_recorded_as_the_model_types_them() {
        let params = Params::parse(
            "",
            b"Action=UpdateAccountPasswordPolicy&MinimumPasswordLength=8&RequireSymbols=false",
        );
        assert_eq!(
            request_parameters("iam", &params),
            json!({"minimumPasswordLength": 8, "requireSymbols": false})
        );
        let params = Params::parse(
            "",
            b"Action=CreateStack&StackName=s&TimeoutInMinutes=5&DisableRollback=true",
        );
        assert_eq!(
            request_parameters("cloudformation", &params),
            json!({"stackName": "s", "timeoutInMinutes": 5, "disableRollback": true})
        );
    }

    #[test]
    fn an_empty_list_is_an_array_and_an_empty_string_stays_one() {
        let params = Params::parse(
            "",
            b"Action=CreateStack&StackName=s&NotificationARNs=&Capabilities=&TemplateURL=",
        );
        assert_eq!(
            request_parameters("cloudformation", &params),
            json!({"stackName": "s", "notificationARNs": [], "capabilities": [], "templateURL": ""})
        );
        let params = Params::parse("", b"Action=CreateUser&UserName=u&Tags=");
        assert_eq!(
            request_parameters("iam", &params),
            json!({"userName": "u", "tags": []})
        );
    }

    #[test]
    fn a_member_is_judged_by_its_own_services_model() {
        // sns4: SNS's TagResource member ResourceArn was dropped because CloudWatch's
        // TagResource spells it ResourceARN.
        let params = Params::parse(
            "",
            b"Action=TagResource&ResourceArn=arn%3Aaws%3Asns%3Aus-east-1%3A123456789012%3At&Tags.member.1.Key=a&Tags.member.1.Value=b",
        );
        assert_eq!(
            request_parameters("sns", &params),
            json!({"resourceArn": "arn:aws:sns:us-east-1:123456789012:t",
                   "tags": [{"key": "a", "value": "b"}]})
        );
        let params = Params::parse(
            "",
            b"Action=UntagResource&ResourceARN=arn%3Aaws%3Acloudwatch%3Aus-east-1%3A123456789012%3Aalarm%3Aa&ResourceArn=x&TagKeys.member.1=k",
        );
        assert_eq!(
            request_parameters("cloudwatch", &params),
            json!({"resourceARN": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a",
                   "tagKeys": ["k"]})
        );
    }
}
