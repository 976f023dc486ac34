//! Stack policies: which update actions (`Update:Modify`, `Update:Replace`, `Update:Delete`,
//! `Update:*`) a stack update may take on which resources (`LogicalResourceId/<id>`). With a
//! policy set, anything not explicitly allowed is denied, and an explicit deny wins.

use serde_json::Value;

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn any_match(patterns: &[String], text: &str) -> bool {
    patterns.iter().any(|p| crate::wildcard::matches(p, text))
}

fn applies(statement: &Value, resource: &str, resource_type: &str, action: &str) -> bool {
    let action_ok = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(a), _) => any_match(&strings(Some(a)), action),
        (None, Some(n)) => !any_match(&strings(Some(n)), action),
        _ => false,
    };
    let resource_ok = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(r), _) => any_match(&strings(Some(r)), resource),
        (None, Some(n)) => !any_match(&strings(Some(n)), resource),
        _ => false,
    };
    let condition_ok = match statement.get("Condition").and_then(Value::as_object) {
        None => true,
        Some(ops) => ops.iter().all(|(op, keys)| {
            let want = strings(keys.get("ResourceType"));
            match op.as_str() {
                "StringEquals" => want.iter().any(|w| w == resource_type),
                "StringLike" => any_match(&want, resource_type),
                _ => false,
            }
        }),
    };
    action_ok && resource_ok && condition_ok
}

/// Checks a policy document's shape (SetStackPolicy).
pub fn check(document: &str) -> Result<(), String> {
    let invalid = || "Error validating stack policy: Invalid stack policy".to_owned();
    let v: Value = serde_json::from_str(document).map_err(|_| invalid())?;
    // `{}` is a policy with no statement, which AWS takes (and GetStackPolicy answers).
    if v.as_object().is_some_and(|m| m.is_empty()) {
        return Ok(());
    }
    let statements: Vec<&Value> = match v.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(s @ Value::Object(_)) => vec![s],
        _ => return Err(invalid()),
    };
    // Each statement: `Effect` Allow or Deny, `Principal` `*` (the only principal a stack
    // policy has), an action and a resource (cfn11 F3: others were taken and then ignored).
    let statement_ok = |s: &Value| {
        matches!(
            s.get("Effect").and_then(Value::as_str),
            Some("Allow" | "Deny")
        ) && s.get("Principal").and_then(Value::as_str) == Some("*")
            && (s.get("Action").is_some() || s.get("NotAction").is_some())
            && (s.get("Resource").is_some() || s.get("NotResource").is_some())
    };
    // An empty `Statement` list is refused by AWS (recheck34: taken, it then denied every
    // update); `{}` is the way to say "no statement".
    if !statements.is_empty() && statements.into_iter().all(statement_ok) {
        Ok(())
    } else {
        Err(invalid())
    }
}

/// `Some(reason)` when the policy denies `action` on the resource.
pub fn denies(
    policy: Option<&str>,
    logical_id: &str,
    resource_type: &str,
    action: &str,
) -> Option<String> {
    let policy = policy?;
    let doc: Value = serde_json::from_str(policy).ok()?;
    // `{}`: no statement, no policy in force.
    if doc.as_object().is_some_and(|m| m.is_empty()) {
        return None;
    }
    let statements: Vec<Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => Vec::new(),
    };
    let resource = format!("LogicalResourceId/{logical_id}");
    let mut allowed = false;
    for (i, s) in statements.iter().enumerate() {
        if !applies(s, &resource, resource_type, action) {
            continue;
        }
        match s.get("Effect").and_then(Value::as_str) {
            Some("Deny") => {
                return Some(format!(
                    "Action denied by stack policy: Statement [#{}] denies {action} on resource {resource}",
                    i + 1
                ));
            }
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    (!allowed).then(|| {
        format!(
            "Action denied by stack policy: no statement allows {action} on resource {resource}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_all_but_one() {
        let p = r#"{"Statement":[
            {"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"},
            {"Effect":"Deny","Action":"Update:Replace","Principal":"*","Resource":"LogicalResourceId/Trail"}]}"#;
        assert!(denies(Some(p), "Bucket", "AWS::S3::Bucket", "Update:Replace").is_none());
        assert!(denies(Some(p), "Trail", "AWS::CloudTrail::Trail", "Update:Modify").is_none());
        assert!(denies(Some(p), "Trail", "AWS::CloudTrail::Trail", "Update:Replace").is_some());
        let typed = r#"{"Statement":[{"Effect":"Allow","Action":"Update:Modify","Principal":"*","Resource":"*",
            "Condition":{"StringEquals":{"ResourceType":["AWS::S3::Bucket"]}}}]}"#;
        assert!(denies(Some(typed), "B", "AWS::S3::Bucket", "Update:Modify").is_none());
        assert!(denies(Some(typed), "T", "AWS::SNS::Topic", "Update:Modify").is_some());
        assert!(denies(None, "T", "AWS::SNS::Topic", "Update:Delete").is_none());
        assert!(denies(Some("{}"), "T", "AWS::SNS::Topic", "Update:Delete").is_none());
    }

    #[test]
    fn policies_are_checked_as_aws_checks_them() {
        // cfn11 F3: `{}` is taken; another principal, an unknown effect, a statement with no
        // action or resource are refused.
        assert!(check("{}").is_ok());
        assert!(check(r#"{"Statement": []}"#).is_err()); // recheck34
        let ok = r#"{"Statement":[{"Effect":"Deny","Action":"Update:*","Principal":"*","Resource":"*"}]}"#;
        assert!(check(ok).is_ok());
        for bad in [
            r#"{"Statement":[{"Effect":"Deny","Action":"Update:*","Principal":"ab12cd34","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Maybe","Action":"Update:*","Principal":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Resource":"*"}]}"#,
            r#"{"Statement":[{"Effect":"Deny","Action":"Update:*","Principal":"*"}]}"#,
            r#"{"Version":"2012-10-17"}"#,
            "[]",
        ] {
            assert_eq!(
                check(bad).unwrap_err(),
                "Error validating stack policy: Invalid stack policy",
                "{bad}"
            );
        }
    }
}
