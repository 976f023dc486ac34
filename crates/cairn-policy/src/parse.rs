//! Parsing and write-time validation (`Document::parse`).
//!
//! The checks run in the order IAM applies them (as copied by moto's validator), so the first
//! problem reported is the one AWS reports: syntax (elements, types), version, "legacy
//! parsing" (effect case, date values, resource shape), duplicate Sids, missing actions,
//! resource formats, action vendors, principals, then the kind's own rules. Resource-based
//! (S3/SNS) documents first pass the checks S3 applies, in its order and with its wording.

use serde_json::{Map, Value};

use crate::arn::{ArnPattern, split6};
use crate::ast::{
    ActionClause, Document, Effect, PolicyKind, PrincipalClause, ResourceClause, Statement, Version,
};
use crate::conditions::{Condition, Operator, parse_date};
use crate::error::{Malformed, Reason};
use crate::glob::Glob;
use crate::positions::{Position, statement_spans, to_positions};
use crate::principal::{PrincipalSpec, is_account_id};

const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// Whether `p` names an AWS partition (`aws`, `aws-cn`, `aws-us-gov`, …).
pub fn is_partition(p: &str) -> bool {
    PARTITIONS.contains(&p)
}

const PARTITIONS: [&str; 6] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-eusc",
];

const IAM_RESOURCE_TYPES: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

const TRUST_ACTIONS: [&str; 6] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];

type R<T> = Result<T, Reason>;

impl Document {
    /// Parses and validates `text` as a policy of `kind`; on success every pattern is compiled
    /// for evaluation. Never panics; errors carry AWS's messages ([`Malformed::message`],
    /// [`Malformed::s3_message`]).
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Document, Malformed> {
        parse(text, kind).map_err(|r| Malformed::new(kind, r))
    }
}

fn parse(text: &str, kind: PolicyKind) -> R<Document> {
    let value: Value = serde_json::from_str(text).map_err(|_| Reason::NotJsonObject)?;
    let Value::Object(top) = &value else {
        return Err(Reason::NotJsonObject);
    };
    if kind == PolicyKind::Resource {
        s3_precheck(top)?;
    }
    // Syntax.
    if top
        .keys()
        .any(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement"))
    {
        return Err(Reason::Syntax);
    }
    let version_raw = match top.get("Version") {
        None => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(Reason::Syntax),
    };
    let id = match top.get("Id") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(Reason::Syntax),
    };
    let stmts: Vec<&Map<String, Value>> = match top.get("Statement") {
        None => return Err(Reason::MissingStatement),
        Some(Value::Object(o)) => vec![o],
        Some(Value::Array(items)) if items.is_empty() => return Err(Reason::EmptyStatement),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_object().ok_or(Reason::StatementNotObject))
            .collect::<R<_>>()?,
        Some(_) => return Err(Reason::Syntax),
    };
    for st in &stmts {
        statement_syntax(st)?;
    }
    let version = match version_raw {
        None | Some("2008-10-17") => Version::V2008_10_17,
        Some("2012-10-17") => Version::V2012_10_17,
        Some(_) => return Err(Reason::Version),
    };
    // Legacy parsing, with the first resource-format problem kept for later.
    let mut resource_error: Option<Reason> = None;
    for st in &stmts {
        legacy(st, &mut resource_error)?;
    }
    // Sids.
    let mut sids: Vec<&str> = Vec::new();
    for st in &stmts {
        if let Some(Value::String(sid)) = st.get("Sid")
            && !sid.is_empty()
        {
            if sids.contains(&sid.as_str()) {
                return Err(Reason::DuplicateSid);
            }
            sids.push(sid);
        }
    }
    if matches!(kind, PolicyKind::Identity | PolicyKind::Trust)
        && sids
            .iter()
            .any(|s| !s.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        return Err(Reason::SidNotAlphanumeric);
    }
    // Actions.
    for st in &stmts {
        if string_list(st, "Action")
            .or_else(|| string_list(st, "NotAction"))
            .is_none_or(|l| l.is_empty())
        {
            return Err(Reason::NoActions);
        }
    }
    if let Some(e) = resource_error {
        return Err(e);
    }
    for st in &stmts {
        for key in ["Action", "NotAction"] {
            for a in string_list(st, key).unwrap_or_default() {
                check_action(a)?;
            }
        }
    }
    // Principals and the kind's own rules.
    for st in &stmts {
        let has_principal = st.contains_key("Principal") || st.contains_key("NotPrincipal");
        match kind {
            PolicyKind::Identity if has_principal => return Err(Reason::PrincipalNotAllowed),
            PolicyKind::Identity => {}
            PolicyKind::Trust if st.contains_key("NotPrincipal") => {
                return Err(Reason::ProhibitedNotPrincipal);
            }
            _ if !has_principal => return Err(Reason::MissingPrincipal),
            _ => check_principal(st)?,
        }
    }
    for st in &stmts {
        let has_resource = st.contains_key("Resource") || st.contains_key("NotResource");
        match kind {
            PolicyKind::Trust => {
                let actions = string_list(st, "Action").or_else(|| string_list(st, "NotAction"));
                let ok = |a: &&str| TRUST_ACTIONS.iter().any(|t| t.eq_ignore_ascii_case(a));
                if !actions.unwrap_or_default().iter().all(ok) {
                    return Err(Reason::TrustAction);
                }
                if has_resource {
                    return Err(Reason::ProhibitedResource);
                }
            }
            _ => {
                let list = string_list(st, "Resource").or_else(|| string_list(st, "NotResource"));
                if list.is_none_or(|l| l.is_empty()) {
                    return Err(Reason::NoResources);
                }
            }
        }
    }
    Ok(compile(
        text,
        kind,
        version,
        version_raw.is_some(),
        id,
        &stmts,
    ))
}

/// S3's own checks, in the order and with the reasons of Cairn's earlier bucket-policy parser.
fn s3_precheck(top: &Map<String, Value>) -> R<()> {
    let stmts: Vec<&Value> = match top.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return Err(Reason::MissingStatement),
    };
    if stmts.is_empty() {
        return Err(Reason::EmptyStatement);
    }
    for st in stmts {
        let st = st.as_object().ok_or(Reason::StatementNotObject)?;
        if !matches!(
            st.get("Effect").and_then(Value::as_str),
            Some("Allow" | "Deny")
        ) {
            return Err(Reason::InvalidEffect);
        }
        if !st.contains_key("Principal") && !st.contains_key("NotPrincipal") {
            return Err(Reason::MissingPrincipal);
        }
        if !st.contains_key("Action") && !st.contains_key("NotAction") {
            return Err(Reason::NoActions);
        }
        if !st.contains_key("Resource") && !st.contains_key("NotResource") {
            return Err(Reason::NoResources);
        }
        if let Some(cond) = st.get("Condition") {
            let cond = cond.as_object().ok_or(Reason::ConditionNotObject)?;
            for (op, block) in cond {
                if Operator::parse(op).is_none() {
                    return Err(Reason::InvalidConditionType(op.clone()));
                }
                if !block.is_object() {
                    return Err(Reason::ConditionBlockNotObject);
                }
            }
        }
    }
    Ok(())
}

/// `key` as a list of strings: a string gives one; `None` when absent or mistyped.
fn string_list<'a>(st: &'a Map<String, Value>, key: &str) -> Option<Vec<&'a str>> {
    match st.get(key)? {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn statement_syntax(st: &Map<String, Value>) -> R<()> {
    if st.keys().any(|k| !STATEMENT_KEYS.contains(&k.as_str())) {
        return Err(Reason::Syntax);
    }
    for (a, b) in [
        ("Action", "NotAction"),
        ("Resource", "NotResource"),
        ("Principal", "NotPrincipal"),
    ] {
        if st.contains_key(a) && st.contains_key(b) {
            return Err(Reason::Syntax);
        }
    }
    match st.get("Effect") {
        Some(Value::String(e))
            if e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny") => {}
        _ => return Err(Reason::InvalidEffect),
    }
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if st.contains_key(key) && string_list(st, key).is_none() {
            return Err(Reason::Syntax);
        }
    }
    if st.get("Sid").is_some_and(|s| !s.is_string()) {
        return Err(Reason::Syntax);
    }
    for key in ["Principal", "NotPrincipal"] {
        match st.get(key) {
            None => {}
            Some(Value::String(s)) if s == "*" => {}
            Some(Value::Object(o)) if !o.is_empty() => {
                for (t, v) in o {
                    let typed = matches!(
                        t.as_str(),
                        "AWS" | "Service" | "Federated" | "CanonicalUser"
                    );
                    let values_ok = match v {
                        Value::String(_) => true,
                        Value::Array(items) => {
                            !items.is_empty() && items.iter().all(Value::is_string)
                        }
                        _ => false,
                    };
                    if !typed || !values_ok {
                        return Err(Reason::Syntax);
                    }
                }
            }
            Some(_) => return Err(Reason::Syntax),
        }
    }
    if let Some(cond) = st.get("Condition") {
        let cond = cond.as_object().ok_or(Reason::ConditionNotObject)?;
        for (op, block) in cond {
            let block = block.as_object().ok_or(Reason::ConditionBlockNotObject)?;
            for v in block.values() {
                if condition_values(v).is_none() {
                    return Err(Reason::Syntax);
                }
            }
            if Operator::parse(op).is_none() && !block.is_empty() {
                return Err(Reason::InvalidConditionType(op.clone()));
            }
        }
    }
    Ok(())
}

/// Condition values as strings (JSON booleans and numbers by their text).
fn condition_values(v: &Value) -> Option<Vec<String>> {
    fn scalar(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(items) => items.iter().map(scalar).collect(),
        other => scalar(other).map(|s| vec![s]),
    }
}

fn legacy(st: &Map<String, Value>, resource_error: &mut Option<Reason>) -> R<()> {
    if !matches!(
        st.get("Effect").and_then(Value::as_str),
        Some("Allow" | "Deny")
    ) {
        return Err(Reason::LegacyParsing);
    }
    if let Some(Value::Object(cond)) = st.get("Condition") {
        for (op, block) in cond {
            if !Operator::parse(op).is_some_and(|o| o.is_date()) {
                continue;
            }
            for v in block.as_object().into_iter().flat_map(|b| b.values()) {
                if condition_values(v)
                    .unwrap_or_default()
                    .iter()
                    .any(|d| parse_date(d).is_none())
                {
                    return Err(Reason::LegacyParsing);
                }
            }
        }
    }
    for key in ["Resource", "NotResource"] {
        let list = string_list(st, key).unwrap_or_default();
        let before = resource_error.is_some();
        for r in &list {
            if resource_error.is_none() {
                *resource_error = resource_format(r).err();
            }
        }
        if !before && resource_error.is_none() {
            for r in list.iter().filter(|r| **r != "*") {
                let colons = r.matches(':').count();
                let third_empty = r.split(':').nth(2).is_none_or(str::is_empty);
                if (colons < 5 && r.contains("::")) || third_empty {
                    return Err(Reason::LegacyParsing);
                }
            }
        }
    }
    Ok(())
}

fn resource_format(r: &str) -> R<()> {
    if r == "*" {
        return Ok(());
    }
    let Some(rest) = r.strip_prefix("arn:") else {
        return Err(Reason::ResourceNotArn(r.to_owned()));
    };
    let (partition, after) = match rest.split_once(':') {
        Some((p, a)) => (p, Some(a)),
        None => (rest, None),
    };
    if partition != "*" && !PARTITIONS.contains(&partition) {
        let parts: Vec<&str> = after.unwrap_or("").split(':').collect();
        let arn1 = if !parts[0].is_empty() || parts.len() > 1 {
            parts[0]
        } else {
            "*"
        };
        let arn2 = parts.get(1).copied().unwrap_or("*");
        let arn3 = parts.get(2).copied().unwrap_or("*");
        let arn4 = if parts.len() > 3 {
            parts[3..].join(":")
        } else {
            "*".to_owned()
        };
        return Err(Reason::BadPartition(format!(
            "Partition \"{partition}\" is not valid for resource \"arn:{partition}:{arn1}:{arn2}:{arn3}:{arn4}\"."
        )));
    }
    let Some(after) = after else {
        return Err(Reason::VendorNotQualified);
    };
    let mut f = after.splitn(4, ':');
    let service = f.next().unwrap_or("");
    let region = f.next().unwrap_or("");
    let _account = f.next();
    let resource = f.next().unwrap_or("");
    if service == "iam" && !region.is_empty() {
        return Err(Reason::ResourceFormat(format!(
            "IAM resource {r} cannot contain region information."
        )));
    }
    if service == "s3" && !region.is_empty() && !resource.starts_with("accesspoint/") {
        return Err(Reason::ResourceFormat(format!(
            "Resource {r} can not contain region information."
        )));
    }
    if service == "iam"
        && !resource.starts_with('*')
        && !IAM_RESOURCE_TYPES.iter().any(|t| resource.starts_with(t))
    {
        return Err(Reason::ResourceFormat(format!(
            "IAM resource path must either be \"*\" or start with {}.",
            IAM_RESOURCE_TYPES.join(", ")
        )));
    }
    Ok(())
}

fn check_action(a: &str) -> R<()> {
    let parts: Vec<&str> = a.split(':').collect();
    if parts.len() == 1 && a != "*" {
        return Err(Reason::NoVendor);
    }
    if parts.len() > 2 {
        return Err(Reason::TwoColons);
    }
    let vendor = parts[0];
    if vendor != "*"
        && !vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(Reason::BadVendor(vendor.to_owned()));
    }
    Ok(())
}

fn check_principal(st: &Map<String, Value>) -> R<()> {
    let Some(Value::Object(p)) = st.get("Principal").or_else(|| st.get("NotPrincipal")) else {
        return Ok(());
    };
    check_service_principals(p.get("Service"))?;
    let Some(aws) = p.get("AWS") else {
        return Ok(());
    };
    let values: Vec<&str> = match aws {
        Value::String(s) => vec![s],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for v in values {
        let ok = v == "*"
            || (!v.contains(['*', '?'])
                && (is_account_id(v)
                    || split6(v).is_some_and(|f| {
                        f[0] == "arn"
                            && matches!(f[2], "iam" | "sts")
                            && is_account_id(f[4])
                            && !f[5].is_empty()
                    })
                    || is_unique_id(v)));
        if !ok {
            return Err(Reason::InvalidPrincipal(format!("\"AWS\":\"{v}\"")));
        }
    }
    Ok(())
}

/// A `Service` principal must name a service: `<name>.amazonaws.com` (or `.amazonaws.com.cn`),
/// never `*` or a bare word, which IAM refuses as "Invalid principal in policy".
fn check_service_principals(service: Option<&Value>) -> R<()> {
    let values: Vec<&str> = match service {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => return Ok(()),
    };
    for v in values {
        let lower = v.to_ascii_lowercase();
        let name = lower
            .strip_suffix(".amazonaws.com")
            .or_else(|| lower.strip_suffix(".amazonaws.com.cn"));
        let ok = name.is_some_and(|n| {
            !n.is_empty()
                && !n.starts_with('.')
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        });
        if !ok {
            return Err(Reason::InvalidPrincipal(format!("\"SERVICE\":\"{v}\"")));
        }
    }
    Ok(())
}

/// `AIDA…`/`AROA…`-style unique ids (what IAM shows for a deleted principal).
fn is_unique_id(v: &str) -> bool {
    (16..=128).contains(&v.len())
        && v.starts_with('A')
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn compile(
    text: &str,
    kind: PolicyKind,
    version: Version,
    version_given: bool,
    id: Option<String>,
    stmts: &[&Map<String, Value>],
) -> Document {
    let vars = version == Version::V2012_10_17;
    let spans = statement_spans(text);
    let positions = if spans.len() == stmts.len() {
        let offsets: Vec<usize> = spans.iter().flat_map(|(s, e)| [*s, *e]).collect();
        to_positions(text, &offsets)
    } else {
        vec![Position::default(); stmts.len() * 2]
    };
    let statements: Vec<Statement> = stmts
        .iter()
        .enumerate()
        .map(|(i, st)| compile_statement(st, vars, positions[2 * i], positions[2 * i + 1]))
        .collect();
    // Every key the document reads from a request's context: its condition keys, and the
    // variables (`${aws:ResourceTag/team}`) of its resources and condition values. Each
    // statement's variables come before its condition keys, in the order written.
    let mut context_keys: Vec<String> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (raw, compiled) in stmts.iter().zip(&statements) {
        let mut names = Vec::new();
        if vars {
            raw.values().for_each(|v| variable_names(v, &mut names));
        }
        names.extend(compiled.condition_keys().map(str::to_owned));
        for name in names {
            if seen.insert(name.to_ascii_lowercase()) {
                context_keys.push(name);
            }
        }
    }
    let mut reads: Vec<String> = seen.into_iter().collect();
    reads.sort();
    Document {
        kind,
        version,
        version_given,
        id,
        statements,
        reads,
        context_keys,
    }
}

/// Adds the names of the `${…}` policy variables in the (decoded) strings of `v`, as written
/// (their defaults left out).
fn variable_names(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(text) => out.extend(
            text.split("${")
                .skip(1)
                .filter_map(|rest| rest.split_once('}'))
                .map(|(inner, _)| {
                    inner
                        .split(',')
                        .next()
                        .unwrap_or_default()
                        .trim()
                        .to_owned()
                }),
        ),
        Value::Array(items) => items.iter().for_each(|i| variable_names(i, out)),
        Value::Object(map) => map.iter().for_each(|(k, i)| {
            variable_names(&Value::String(k.clone()), out);
            variable_names(i, out);
        }),
        _ => {}
    }
}

fn compile_statement(
    st: &Map<String, Value>,
    vars: bool,
    start: Position,
    end: Position,
) -> Statement {
    let owned = |key| -> Option<Vec<String>> {
        string_list(st, key).map(|l| l.into_iter().map(str::to_owned).collect())
    };
    let (raw, negated) = match owned("Action") {
        Some(l) => (l, false),
        None => (owned("NotAction").unwrap_or_default(), true),
    };
    let action = ActionClause {
        negated,
        patterns: raw.iter().map(|a| Glob::new(a, true)).collect(),
        raw,
    };
    let resource = match (owned("Resource"), owned("NotResource")) {
        (Some(raw), _) => Some((raw, false)),
        (None, Some(raw)) => Some((raw, true)),
        (None, None) => None,
    }
    .map(|(raw, negated)| ResourceClause {
        negated,
        patterns: raw
            .iter()
            .map(|r| ArnPattern::new(r, vars, false))
            .collect(),
        raw,
    });
    let principal = [("Principal", false), ("NotPrincipal", true)]
        .into_iter()
        .find_map(|(k, negated)| st.get(k).map(|v| (v, negated)))
        .map(|(v, negated)| PrincipalClause {
            negated,
            spec: principal_spec(v),
        });
    let mut conditions = Vec::new();
    if let Some(Value::Object(cond)) = st.get("Condition") {
        for (op_name, block) in cond {
            let (Some(op), Some(block)) = (Operator::parse(op_name), block.as_object()) else {
                continue;
            };
            for (key, v) in block {
                let values = condition_values(v).unwrap_or_default();
                conditions.push(Condition::new(op, key, &values, vars));
            }
        }
    }
    Statement {
        sid: st.get("Sid").and_then(Value::as_str).map(str::to_owned),
        effect: if st.get("Effect").and_then(Value::as_str) == Some("Deny") {
            Effect::Deny
        } else {
            Effect::Allow
        },
        principal,
        action,
        resource,
        conditions,
        start,
        end,
    }
}

fn principal_spec(v: &Value) -> PrincipalSpec {
    let mut spec = PrincipalSpec::default();
    let list = |v: &Value| -> Vec<String> {
        match v {
            Value::String(s) => vec![s.clone()],
            Value::Array(items) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        }
    };
    match v {
        Value::String(s) if s == "*" => spec.any = true,
        Value::Object(o) => {
            for (t, vals) in o {
                for val in list(vals) {
                    match t.as_str() {
                        "AWS" => spec.add_aws(&val),
                        "Service" => spec.services.push(val.into()),
                        _ => spec.other.push(val.into()),
                    }
                }
            }
        }
        _ => {}
    }
    spec
}
