//! Resource-policy documents: parsing, form checks and evaluation.
//!
//! One evaluator serves bucket policies for CloudTrail's write check (CreateTrail and
//! UpdateTrail) and, later, for cross-principal S3 access. It understands `Principal`
//! (`*`, `AWS`, `Service`), `Allow`/`Deny`, `Action`/`NotAction`, `Resource`/`NotResource`
//! with `*`/`?` wildcards, and the condition operators CloudTrail's policies use.

use serde_json::Value;

/// Who is asking.
#[derive(Clone, Copy, Debug)]
pub enum Caller<'a> {
    /// An AWS service principal such as `cloudtrail.amazonaws.com`.
    Service(&'a str),
    /// An IAM principal: its ARN and account.
    Aws {
        /// Principal ARN.
        arn: &'a str,
        /// Principal account.
        account: &'a str,
    },
}

/// One access request to evaluate.
pub struct AccessRequest<'a> {
    /// The caller.
    pub caller: Caller<'a>,
    /// The action, e.g. `s3:PutObject`.
    pub action: &'a str,
    /// The resource ARN.
    pub resource: &'a str,
    /// Condition keys present in the request context.
    pub context: &'a [(&'a str, &'a str)],
}

/// The outcome of evaluating one policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// An Allow statement matched and no Deny did.
    Allow,
    /// A Deny statement matched.
    Deny,
    /// Nothing matched.
    NotApplicable,
}

/// A parsed policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    statements: Vec<Value>,
}

fn as_list(v: Option<&Value>) -> Vec<&str> {
    match v {
        Some(Value::String(s)) => vec![s.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

impl Policy {
    /// Parses a document and checks its form. The error text is for `MalformedPolicy`.
    pub fn parse(document: &str) -> Result<Self, String> {
        let doc: Value = serde_json::from_str(document)
            .map_err(|_| "Policies must be valid JSON and the first byte must be '{'".to_owned())?;
        let obj = doc
            .as_object()
            .ok_or("Policies must be valid JSON and the first byte must be '{'")?;
        let statements = match obj.get("Statement") {
            Some(Value::Array(items)) => items.clone(),
            Some(s @ Value::Object(_)) => vec![s.clone()],
            _ => return Err("Missing required field Statement".to_owned()),
        };
        if statements.is_empty() {
            return Err("Could not parse the policy: Statement is empty!".to_owned());
        }
        for st in &statements {
            let st = st.as_object().ok_or("Statement is not an object")?;
            match st.get("Effect").and_then(Value::as_str) {
                Some("Allow" | "Deny") => {}
                _ => return Err("Invalid effect".to_owned()),
            }
            if !st.contains_key("Principal") && !st.contains_key("NotPrincipal") {
                return Err("Missing required field Principal".to_owned());
            }
            if !st.contains_key("Action") && !st.contains_key("NotAction") {
                return Err("Missing required field Action".to_owned());
            }
            if !st.contains_key("Resource") && !st.contains_key("NotResource") {
                return Err("Missing required field Resource".to_owned());
            }
            if let Some(cond) = st.get("Condition") {
                let cond = cond.as_object().ok_or("Condition must be an object")?;
                for (op, block) in cond {
                    if operator(op).is_none() {
                        return Err(format!("Invalid Condition type : {op}"));
                    }
                    if !block.is_object() {
                        return Err("Condition block must be an object".to_owned());
                    }
                }
            }
        }
        Ok(Self { statements })
    }

    /// Resource ARNs the statements name (for "policy has invalid resource" checks).
    pub fn resources(&self) -> Vec<String> {
        self.statements
            .iter()
            .flat_map(|st| {
                let mut r = as_list(st.get("Resource"));
                r.extend(as_list(st.get("NotResource")));
                r.into_iter().map(str::to_owned).collect::<Vec<_>>()
            })
            .collect()
    }

    /// Evaluates the request: an explicit Deny wins, then any Allow.
    pub fn evaluate(&self, req: &AccessRequest<'_>) -> Decision {
        let mut allowed = false;
        for st in &self.statements {
            if !statement_applies(st, req) {
                continue;
            }
            match st.get("Effect").and_then(Value::as_str) {
                Some("Deny") => return Decision::Deny,
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::NotApplicable
        }
    }
}

/// Glob match with `*` and `?`.
pub fn glob(pattern: &str, text: &str, ignore_case: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if ignore_case {
        (
            pattern.to_lowercase().chars().collect(),
            text.to_lowercase().chars().collect(),
        )
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

fn principal_matches(st: &Value, caller: Caller<'_>) -> bool {
    let Some(principal) = st.get("Principal") else {
        return false;
    };
    if principal.as_str() == Some("*") {
        return true;
    }
    match caller {
        Caller::Service(name) => as_list(principal.get("Service")).contains(&name),
        Caller::Aws { arn, account } => as_list(principal.get("AWS")).iter().any(|p| {
            *p == "*"
                || *p == account
                || *p == format!("arn:aws:iam::{account}:root")
                || glob(p, arn, false)
        }),
    }
}

fn statement_applies(st: &Value, req: &AccessRequest<'_>) -> bool {
    if !principal_matches(st, req.caller) {
        return false;
    }
    let action_ok = if st.get("Action").is_some() {
        as_list(st.get("Action"))
            .iter()
            .any(|a| glob(a, req.action, true))
    } else {
        !as_list(st.get("NotAction"))
            .iter()
            .any(|a| glob(a, req.action, true))
    };
    let resource_ok = if st.get("Resource").is_some() {
        as_list(st.get("Resource"))
            .iter()
            .any(|r| glob(r, req.resource, false))
    } else {
        !as_list(st.get("NotResource"))
            .iter()
            .any(|r| glob(r, req.resource, false))
    };
    action_ok && resource_ok && conditions_hold(st.get("Condition"), req.context)
}

#[derive(Clone, Copy)]
enum Op {
    StringEquals { negate: bool, ignore_case: bool },
    StringLike { negate: bool },
    Bool,
    Null,
}

/// Parses an operator name into (operator, if-exists).
fn operator(name: &str) -> Option<(Op, bool)> {
    let (base, if_exists) = match name.strip_suffix("IfExists") {
        Some(b) => (b, true),
        None => (name, false),
    };
    let op = match base {
        "StringEquals" | "ArnEquals" => Op::StringEquals {
            negate: false,
            ignore_case: false,
        },
        "StringNotEquals" | "ArnNotEquals" => Op::StringEquals {
            negate: true,
            ignore_case: false,
        },
        "StringEqualsIgnoreCase" => Op::StringEquals {
            negate: false,
            ignore_case: true,
        },
        "StringNotEqualsIgnoreCase" => Op::StringEquals {
            negate: true,
            ignore_case: true,
        },
        "StringLike" | "ArnLike" => Op::StringLike { negate: false },
        "StringNotLike" | "ArnNotLike" => Op::StringLike { negate: true },
        "Bool" => Op::Bool,
        "Null" => Op::Null,
        _ => return None,
    };
    Some((op, if_exists))
}

fn conditions_hold(condition: Option<&Value>, context: &[(&str, &str)]) -> bool {
    let Some(Value::Object(ops)) = condition else {
        return true;
    };
    ops.iter().all(|(op_name, block)| {
        let Some((op, if_exists)) = operator(op_name) else {
            return false;
        };
        let Some(block) = block.as_object() else {
            return false;
        };
        block.iter().all(|(key, expected)| {
            let expected: Vec<String> = match expected {
                Value::Array(items) => items.iter().map(scalar_text).collect(),
                other => vec![scalar_text(other)],
            };
            let actual = context
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| *v);
            match (op, actual) {
                (Op::Null, actual) => expected.iter().any(|e| (e == "true") == actual.is_none()),
                (_, None) => {
                    if_exists
                        || matches!(
                            op,
                            Op::StringEquals { negate: true, .. } | Op::StringLike { negate: true }
                        )
                }
                (
                    Op::StringEquals {
                        negate,
                        ignore_case,
                    },
                    Some(a),
                ) => {
                    let hit = expected.iter().any(|e| {
                        if ignore_case {
                            e.eq_ignore_ascii_case(a)
                        } else {
                            e == a
                        }
                    });
                    hit != negate
                }
                (Op::StringLike { negate }, Some(a)) => {
                    expected.iter().any(|e| glob(e, a, false)) != negate
                }
                (Op::Bool, Some(a)) => expected.iter().any(|e| e.eq_ignore_ascii_case(a)),
            }
        })
    })
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CT_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[
      {"Sid":"AWSCloudTrailAclCheck20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
       "Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::b1"},
      {"Sid":"AWSCloudTrailWrite20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
       "Action":"s3:PutObject","Resource":"arn:aws:s3:::b1/AWSLogs/123456789012/*",
       "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}},
      {"Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b1/*",
       "Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}"#;

    #[test]
    fn cloudtrail_policy_allows_its_writes_only() {
        let p = Policy::parse(CT_POLICY).unwrap();
        let ctx = [("s3:x-amz-acl", "bucket-owner-full-control")];
        let put = |resource| AccessRequest {
            caller: Caller::Service("cloudtrail.amazonaws.com"),
            action: "s3:PutObject",
            resource,
            context: &ctx,
        };
        assert_eq!(
            p.evaluate(&put("arn:aws:s3:::b1/AWSLogs/123456789012/x")),
            Decision::Allow
        );
        assert_eq!(
            p.evaluate(&put("arn:aws:s3:::b1/other/x")),
            Decision::NotApplicable
        );
        let no_acl = AccessRequest {
            context: &[],
            ..put("arn:aws:s3:::b1/AWSLogs/123456789012/x")
        };
        assert_eq!(p.evaluate(&no_acl), Decision::NotApplicable);
    }

    #[test]
    fn deny_without_mfa_blocks_deletes() {
        let p = Policy::parse(CT_POLICY).unwrap();
        let req = AccessRequest {
            caller: Caller::Aws {
                arn: "arn:aws:iam::123456789012:user/a",
                account: "123456789012",
            },
            action: "s3:DeleteObject",
            resource: "arn:aws:s3:::b1/k",
            context: &[],
        };
        assert_eq!(p.evaluate(&req), Decision::Deny);
    }

    #[test]
    fn malformed_policies_are_refused() {
        assert!(Policy::parse("not json").is_err());
        assert!(Policy::parse(r#"{"Statement":[]}"#).is_err());
        assert!(Policy::parse(r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}]}"#).is_err());
        assert!(Policy::parse(r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"Weird":{}}}}"#).is_err());
    }

    #[test]
    fn globs() {
        assert!(glob("s3:Get*", "s3:GetBucketAcl", false));
        assert!(glob("S3:get*", "s3:GetBucketAcl", true));
        assert!(glob("a?c", "abc", false));
        assert!(!glob("a?c", "abbc", false));
        assert!(glob("*", "", false));
    }
}
