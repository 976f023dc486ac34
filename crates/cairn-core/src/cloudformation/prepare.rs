//! What every operation that takes a template checks first, in CloudFormation's order: the
//! stack name, the template (size, shape, references, types), the parameter values, the
//! capabilities its IAM resources need; and the plan of an update (which resources are added,
//! modified, in place or by replacement, or removed).

use cairn_template::{Evaluator, Given, Lookup, Pseudo, Template};
use serde_json::Value;

use super::model::{Change, StackResource};
use super::providers::{Capability, Registry};
use crate::error::{ApiError, ApiResult, ErrorKind};

/// A `ValidationError`.
pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorKind::IamValidation, message)
}

/// Checks a stack (or change set) name: `[a-zA-Z][-a-zA-Z0-9]*`, at most 128 characters.
pub fn check_name(name: &str, field: &str) -> ApiResult<()> {
    let ok = name.len() <= 128
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        return Ok(());
    }
    let pattern = if field == "stackName" {
        "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
    } else {
        "[a-zA-Z][-a-zA-Z0-9]*"
    };
    Err(invalid(format!(
        "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
    )))
}

/// Checks a `StackNameOrId`: a stack name, or a stack id (`arn:[-a-zA-Z0-9:/._+]*`).
pub fn check_name_or_id(name: &str) -> ApiResult<()> {
    match name.strip_prefix("arn:") {
        Some(rest)
            if rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-:/._+".contains(c)) =>
        {
            Ok(())
        }
        _ => check_name(name, "stackName"),
    }
}

/// The template of a request: its `TemplateBody`, or the text the edge read from its
/// `TemplateURL` (`fetched`, up to 1 MB), or AWS's refusal of both or neither.
pub fn body_of(body: Option<&str>, fetched: Option<&str>) -> ApiResult<String> {
    match (body, fetched) {
        (Some(_), Some(_)) => Err(invalid(
            "You cannot specify both TemplateURL and TemplateBody",
        )),
        (Some(b), None) => {
            if b.len() > cairn_template::MAX_BODY_BYTES {
                return Err(invalid(format!(
                    "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to {}",
                    cairn_template::MAX_BODY_BYTES
                )));
            }
            Ok(b.to_owned())
        }
        (None, Some(text)) => Ok(text.to_owned()),
        (None, None) => Err(invalid(
            "Either Template URL or Template Body must be specified.",
        )),
    }
}

/// Parses and validates a template against the resource types Cairn has.
pub fn template(registry: &Registry, body: &str) -> ApiResult<Template> {
    let t = Template::parse(body).map_err(|e| invalid(e.to_string()))?;
    cairn_template::validate(&t, registry).map_err(|e| invalid(e.to_string()))?;
    if let Some((id, reference)) = t
        .resources
        .iter()
        .find_map(|r| dynamic_reference(&r.properties).map(|d| (&r.logical_id, d)))
    {
        return Err(invalid(format!(
            "Template format error: resource {id} uses the dynamic reference {reference}: Cairn serves no Systems Manager parameters or Secrets Manager secrets to resolve it, so the stack is refused rather than made with the reference's text as a value"
        )));
    }
    Ok(t)
}

/// The first dynamic reference (`{{resolve:ssm:…}}`, `{{resolve:secretsmanager:…}}`) in a
/// resource's properties: CloudFormation resolves them when it makes the resource; Cairn
/// has nothing to resolve them from.
fn dynamic_reference(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => s.find("{{resolve:").map(|at| {
            let rest = &s[at..];
            let end = rest.find("}}").map_or(rest.len(), |e| e + 2);
            rest[..end].chars().take(200).collect()
        }),
        serde_json::Value::Array(items) => items.iter().find_map(dynamic_reference),
        serde_json::Value::Object(m) => m.values().find_map(dynamic_reference),
        _ => None,
    }
}

/// The capabilities a template's resources need, most demanding last.
pub fn needed_capabilities(registry: &Registry, t: &Template) -> Vec<Capability> {
    let mut out: Vec<Capability> = t
        .resources
        .iter()
        .filter_map(|r| registry.get(&r.resource_type)?.capability(&r.properties))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The capability names a template needs to be acknowledged.
pub fn capability_names(needed: &[Capability]) -> Vec<&'static str> {
    match needed.last() {
        Some(Capability::NamedIam) => vec!["CAPABILITY_NAMED_IAM"],
        Some(Capability::Iam) => vec!["CAPABILITY_IAM"],
        None => Vec::new(),
    }
}

/// Refuses a template whose IAM resources were not acknowledged.
pub fn check_capabilities(registry: &Registry, t: &Template, given: &[String]) -> ApiResult<()> {
    for c in given {
        if !matches!(
            c.as_str(),
            "CAPABILITY_IAM" | "CAPABILITY_NAMED_IAM" | "CAPABILITY_AUTO_EXPAND"
        ) {
            return Err(invalid(format!(
                "1 validation error detected: Value '[{c}]' at 'capabilities' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, CAPABILITY_NAMED_IAM, CAPABILITY_IAM]]"
            )));
        }
    }
    let needed = needed_capabilities(registry, t);
    let missing = match needed.last() {
        Some(Capability::NamedIam) if !given.iter().any(|c| c == "CAPABILITY_NAMED_IAM") => {
            Some("CAPABILITY_NAMED_IAM")
        }
        Some(Capability::Iam)
            if !given
                .iter()
                .any(|c| c == "CAPABILITY_IAM" || c == "CAPABILITY_NAMED_IAM") =>
        {
            Some("CAPABILITY_IAM")
        }
        _ => None,
    };
    match missing {
        Some(m) => Err(ApiError::new(
            ErrorKind::CfnInsufficientCapabilities,
            format!("Requires capabilities : [{m}]"),
        )),
        None => Ok(()),
    }
}

/// A template with its parameter values, checked.
pub struct Prepared {
    /// The template.
    pub template: Template,
    /// Parameter values.
    pub parameters: Vec<(String, String)>,
}

/// Whether `entry` is a `ResourceTypes` member of a documented form.
fn is_resource_types_entry(entry: &str) -> bool {
    let word = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric());
    let parts: Vec<&str> = entry.split("::").collect();
    match parts.as_slice() {
        ["AWS", "*"] | ["Custom", "*"] => true,
        ["AWS", service, "*"] => word(service),
        ["Custom", name] => !name.contains('*') && !name.is_empty(),
        [vendor, service, resource] => word(vendor) && word(service) && word(resource),
        _ => false,
    }
}

/// Template, parameters, capabilities, conditions and the dependency graph, checked; with the
/// `ResourceTypes` a call declared, the template may hold only those types (`AWS::*`,
/// `AWS::<service>::*` and `Custom::*` name families), since a policy's
/// `cloudformation:ResourceTypes` condition judges the call by that list.
pub fn prepare(
    registry: &Registry,
    body: &str,
    given: &[Given],
    previous: Option<&[(String, String)]>,
    capabilities: &[String],
    pseudo: Pseudo,
    allowed_types: Option<&[String]>,
) -> ApiResult<Prepared> {
    let template = template(registry, body)?;
    if let Some(allowed) = allowed_types {
        // Only the forms the user guide gives: an exact type, `AWS::*`, `AWS::<service>::*`,
        // `Custom::*`. Any other wildcard (`*`, `AWS::I*`) would make a policy's
        // `cloudformation:ResourceTypes` condition see a list that hides what it names.
        if let Some(bad) = allowed.iter().find(|a| !is_resource_types_entry(a)) {
            return Err(invalid(format!(
                "1 validation error detected: Value '{bad}' at 'resourceTypes' failed to satisfy constraint: Member must be a resource type (AWS::<service>::<resource>, Custom::<name>) or AWS::*, AWS::<service>::*, Custom::*"
            )));
        }
        let covered = |t: &str| {
            allowed.iter().any(|a| {
                a == t
                    || a.strip_suffix('*')
                        .is_some_and(|family| t.starts_with(family))
            })
        };
        let outside: Vec<String> = template
            .resource_types()
            .into_iter()
            .filter(|t| !covered(t))
            .collect();
        if !outside.is_empty() {
            return Err(invalid(format!(
                "Resource types [{}] are not in the ResourceTypes given for this stack",
                outside.join(", ")
            )));
        }
    }
    let parameters =
        cairn_template::params::resolve(&template.parameters, given, previous, &pseudo.region)
            .map_err(|e| invalid(e.to_string()))?;
    check_capabilities(registry, &template, capabilities)?;
    let ev = Evaluator::new(&template, pseudo, &parameters).map_err(|e| invalid(e.to_string()))?;
    cairn_template::rules::check(&ev, &template.root).map_err(|e| invalid(e.to_string()))?;
    ev.order().map_err(|e| invalid(e.to_string()))?;
    Ok(Prepared {
        template,
        parameters,
    })
}

/// What exists now, for planning.
struct Current<'a> {
    rows: &'a [StackResource],
    exports: &'a [(String, String)],
}

impl Lookup for Current<'_> {
    fn physical_id(&self, id: &str) -> Option<String> {
        self.rows
            .iter()
            .find(|r| r.logical_id == id)?
            .physical_id
            .clone()
    }
    fn attribute(&self, id: &str, attr: &str) -> Result<Value, String> {
        self.rows
            .iter()
            .find(|r| r.logical_id == id)
            .and_then(|r| r.attributes.get(attr).cloned())
            .ok_or_else(|| format!("resource {id} has no attribute {attr} yet"))
    }
    fn export(&self, name: &str) -> Option<String> {
        self.exports
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

/// The names an object's `Fn::Sub` string refers to (`${Name}`, `${Res.Attr}`; not the
/// `${!Literal}` escape), in order.
pub(crate) fn sub_names(m: &serde_json::Map<String, Value>) -> impl Iterator<Item = &str> {
    let sub = match m.get("Fn::Sub") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Array(a)) => a.first().and_then(Value::as_str),
        _ => None,
    };
    sub.into_iter()
        .flat_map(|s| s.split("${").skip(1))
        .filter_map(|piece| piece.split_once('}').map(|(name, _)| name))
        .filter(|name| !name.starts_with('!'))
}

/// The parameters a raw property value refers to (`Ref`, and `${Name}` in `Fn::Sub`).
fn referenced_parameters(v: &Value, params: &[String], out: &mut Vec<String>) {
    let mut add = |name: &str| {
        if params.iter().any(|p| p == name) && !out.iter().any(|o| o == name) {
            out.push(name.to_owned());
        }
    };
    match v {
        Value::Object(m) => {
            if let Some(Value::String(name)) = m.get("Ref") {
                add(name);
            }
            for name in sub_names(m) {
                add(name);
            }
            for x in m.values() {
                referenced_parameters(x, params, out);
            }
        }
        Value::Array(items) => {
            for x in items {
                referenced_parameters(x, params, out);
            }
        }
        _ => {}
    }
}

/// Why each changed property changed: one detail per parameter whose new value it refers to
/// (`ParameterReference`), and one for the template's own edit of it (`DirectModification`,
/// also when nothing else explains the change).
fn causes(
    changed: Vec<(String, bool)>,
    new: &Value,
    old: Option<&Value>,
    changed_params: &[String],
) -> (Vec<(String, String)>, Vec<Option<String>>) {
    let (mut details, mut why) = (Vec::new(), Vec::new());
    for (k, replace) in changed {
        let recreation = if replace { "Always" } else { "Never" }.to_owned();
        let mut params = Vec::new();
        if let Some(v) = new.get(&k) {
            referenced_parameters(v, changed_params, &mut params);
        }
        let edited = old.is_none_or(|o| o.get(&k) != new.get(&k));
        for p in params.iter() {
            details.push((k.clone(), recreation.clone()));
            why.push(Some(p.clone()));
        }
        if edited || params.is_empty() {
            details.push((k, recreation));
            why.push(None);
        }
    }
    (details, why)
}

/// Plans an update: `before` is the stack's current template and parameter values.
pub fn plan(
    registry: &Registry,
    prepared: &Prepared,
    pseudo: Pseudo,
    rows: &[StackResource],
    exports: &[(String, String)],
    before: Option<(&Template, &[(String, String)])>,
    retag: bool,
) -> ApiResult<Vec<Change>> {
    let changed_params: Vec<String> = prepared
        .parameters
        .iter()
        .filter(|(n, v)| {
            before.is_none_or(|(_, old)| !old.iter().any(|(on, ov)| on == n && ov == v))
        })
        .map(|(n, _)| n.clone())
        .collect();
    let ev = Evaluator::new(&prepared.template, pseudo.clone(), &prepared.parameters)
        .map_err(|e| invalid(e.to_string()))?;
    let current = Current { rows, exports };
    // Each resource's properties are resolved by an evaluator of their own, with the 1 MiB
    // of intrinsic results one resource's properties may make, as the engine resolves them
    // (recheck33b: one budget for the whole stack left later resources unresolved, listed
    // as `Modify`).
    let fresh = || Evaluator::new(&prepared.template, pseudo.clone(), &prepared.parameters);
    let mut changes = Vec::new();
    let live: Vec<&StackResource> = rows
        .iter()
        .filter(|r| !r.status.starts_with("DELETE_"))
        .collect();
    for r in ev.active_resources() {
        let Some(row) = live.iter().find(|x| x.logical_id == r.logical_id) else {
            changes.push(Change {
                action: "Add".into(),
                logical_id: r.logical_id.clone(),
                physical_id: None,
                resource_type: r.resource_type.clone(),
                replacement: None,
                scope: Vec::new(),
                details: Vec::new(),
                causes: Vec::new(),
                references: Vec::new(),
                attributes: Vec::new(),
            });
            continue;
        };
        let resolved = fresh().and_then(|ev| ev.resolve(&r.properties, &current));
        let old_props = before
            .and_then(|(t, _)| t.resource(&r.logical_id))
            .map(|o| &o.properties);
        let ((details, why), replacement) = if row.resource_type != r.resource_type {
            (
                (vec![("Type".to_owned(), "Always".to_owned())], vec![None]),
                "True",
            )
        } else {
            match &resolved {
                Ok(props) => {
                    let (changed, replace) =
                        registry.diff(&r.resource_type, &row.properties, props);
                    (
                        causes(changed, &r.properties, old_props, &changed_params),
                        if replace { "True" } else { "False" },
                    )
                }
                Err(_) => ((Vec::new(), Vec::new()), "Conditional"),
            }
        };
        if details.is_empty() && replacement != "Conditional" {
            continue;
        }
        changes.push(Change {
            action: "Modify".into(),
            logical_id: r.logical_id.clone(),
            physical_id: row.physical_id.clone(),
            resource_type: r.resource_type.clone(),
            replacement: Some(replacement.to_owned()),
            scope: vec!["Properties".to_owned()],
            details,
            causes: why,
            references: Vec::new(),
            attributes: Vec::new(),
        });
    }
    let resources = ev.active_resources();
    let existing: Vec<super::reach::Existing<'_>> = resources
        .iter()
        .filter_map(|r| {
            let row = live.iter().find(|x| x.logical_id == r.logical_id)?;
            (row.resource_type == r.resource_type).then_some(super::reach::Existing {
                logical_id: &r.logical_id,
                resource_type: &r.resource_type,
                physical_id: row.physical_id.as_deref(),
                properties: &r.properties,
            })
        })
        .collect();
    super::reach::extend(registry, &existing, &mut changes);
    if retag {
        super::reach::retag(registry, &existing, &mut changes);
    }
    let active: Vec<String> = ev
        .active_resources()
        .iter()
        .map(|r| r.logical_id.clone())
        .collect();
    for row in live {
        if !active.contains(&row.logical_id) {
            changes.push(Change {
                action: "Remove".into(),
                logical_id: row.logical_id.clone(),
                physical_id: row.physical_id.clone(),
                resource_type: row.resource_type.clone(),
                replacement: None,
                scope: Vec::new(),
                details: Vec::new(),
                causes: Vec::new(),
                references: Vec::new(),
                attributes: Vec::new(),
            });
        }
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_change_names_the_parameters_it_comes_from() {
        let new = json!({"TopicName": {"Fn::Sub": "a-${Suffix}-${AWS::Region}-${!Literal}"},
                         "DisplayName": {"Ref": "Shown"}, "Other": "x"});
        let old = json!({"TopicName": {"Fn::Sub": "a-${Suffix}-${AWS::Region}-${!Literal}"},
                         "DisplayName": "fixed", "Other": "y"});
        let changed = vec![
            ("TopicName".to_owned(), true),
            ("DisplayName".to_owned(), false),
            ("Other".to_owned(), false),
        ];
        let params = ["Suffix".to_owned(), "Shown".to_owned()];
        let (details, why) = causes(changed, &new, Some(&old), &params);
        let got: Vec<(&str, Option<&str>)> = details
            .iter()
            .zip(&why)
            .map(|((n, _), c)| (n.as_str(), c.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("TopicName", Some("Suffix")),
                ("DisplayName", Some("Shown")),
                ("DisplayName", None),
                ("Other", None),
            ]
        );
    }
}
