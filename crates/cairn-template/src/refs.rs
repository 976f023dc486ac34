//! What refers to what: the static checks CloudFormation makes when a template is submitted
//! (every `Ref`, `Fn::GetAtt`, `Fn::Sub` variable, `DependsOn` and condition name resolves;
//! functions are known; resource types are known; no dependency cycle), and the references
//! of a value, from which the dependency graph is built.

use serde_json::Value;

use crate::error::{TemplateError, TemplateResult};
use crate::functions::{SubPart, call, check_shape, check_supported, sub_args, sub_parts};
use crate::model::Template;

/// Pseudo parameters `Ref` may name.
pub const PSEUDO_PARAMETERS: &[&str] = &[
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

/// The resource types a deployment can make, and their `Fn::GetAtt` attributes.
pub trait Catalog {
    /// Whether the type is known.
    fn knows(&self, resource_type: &str) -> bool;
    /// Whether `Fn::GetAtt` on the type supports the attribute.
    fn has_attribute(&self, resource_type: &str, attribute: &str) -> bool;
}

/// One reference found in a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reference {
    /// `Ref` (or a `Fn::Sub` variable without a dot).
    Ref(String),
    /// `Fn::GetAtt` (or a `Fn::Sub` variable `Res.Attr`).
    GetAtt(String, String),
    /// A condition named by `Fn::If` or `{"Condition": …}`.
    Condition(String),
    /// `Fn::FindInMap`'s literal map name.
    Mapping(String),
}

/// Collects the references of `v` (`in_condition`: inside the `Conditions` section).
pub fn collect(v: &Value, in_condition: bool, out: &mut Vec<Reference>) -> TemplateResult<()> {
    if let Some((name, arg)) = call(v, in_condition) {
        check_supported(name)?;
        check_shape(name, arg)?;
        match name {
            "Ref" => {
                if let Value::String(s) = arg {
                    out.push(Reference::Ref(s.clone()));
                    return Ok(());
                }
                return Err(TemplateError::template(
                    "Ref must name a parameter or resource by a string",
                ));
            }
            "Condition" => {
                if let Value::String(s) = arg {
                    out.push(Reference::Condition(s.clone()));
                    return Ok(());
                }
            }
            "Fn::GetAtt" => {
                let parts: Option<(String, &Value)> = match arg {
                    Value::Array(items) if items.len() == 2 => {
                        items[0].as_str().map(|r| (r.to_owned(), &items[1]))
                    }
                    _ => None,
                };
                let Some((res, attr)) = parts else {
                    return Err(TemplateError::template(
                        "every Fn::GetAtt object requires two non-empty parameters",
                    ));
                };
                match attr {
                    Value::String(a) => out.push(Reference::GetAtt(res, a.clone())),
                    other => {
                        out.push(Reference::GetAtt(res, String::new()));
                        collect(other, in_condition, out)?;
                    }
                }
                return Ok(());
            }
            "Fn::Sub" => {
                let (s, vars) = sub_args(arg)?;
                for part in sub_parts(s)? {
                    let SubPart::Var(name) = part else { continue };
                    if vars.is_some_and(|m| m.contains_key(&name)) {
                        continue;
                    }
                    match name.split_once('.') {
                        Some((res, attr)) if !name.starts_with("AWS::") => {
                            out.push(Reference::GetAtt(res.to_owned(), attr.to_owned()))
                        }
                        _ => out.push(Reference::Ref(name)),
                    }
                }
                if let Some(m) = vars {
                    for v in m.values() {
                        collect(v, in_condition, out)?;
                    }
                }
                return Ok(());
            }
            "Fn::If" => {
                if let Value::Array(items) = arg
                    && let Some(Value::String(c)) = items.first()
                {
                    out.push(Reference::Condition(c.clone()));
                    for i in &items[1..] {
                        collect(i, in_condition, out)?;
                    }
                    return Ok(());
                }
                return Err(TemplateError::template(
                    "Fn::If requires a list argument with three elements: a condition name, a value if true and a value if false",
                ));
            }
            "Fn::FindInMap" => {
                if let Value::Array(items) = arg
                    && let Some(Value::String(m)) = items.first()
                {
                    out.push(Reference::Mapping(m.clone()));
                }
            }
            _ => {}
        }
        return collect(arg, in_condition, out);
    }
    match v {
        Value::Array(items) => items.iter().try_for_each(|i| collect(i, in_condition, out)),
        Value::Object(m) => m.values().try_for_each(|i| collect(i, in_condition, out)),
        _ => Ok(()),
    }
}

/// The resources a value refers to (by `Ref`, `Fn::GetAtt` or `Fn::Sub`), deduplicated.
pub fn resource_refs(template: &Template, v: &Value) -> TemplateResult<Vec<String>> {
    let mut found = Vec::new();
    collect(v, false, &mut found)?;
    let mut out: Vec<String> = Vec::new();
    for r in found {
        let id = match r {
            Reference::Ref(id) | Reference::GetAtt(id, _) => id,
            _ => continue,
        };
        if template.resource(&id).is_some() && !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

fn check_refs(
    template: &Template,
    catalog: &dyn Catalog,
    found: &[Reference],
    block: &str,
) -> TemplateResult<()> {
    let mut unresolved: Vec<String> = Vec::new();
    for r in found {
        match r {
            Reference::Ref(name) => {
                let known = PSEUDO_PARAMETERS.contains(&name.as_str())
                    || template.parameter(name).is_some()
                    || template.resource(name).is_some();
                if !known && !unresolved.contains(name) {
                    unresolved.push(name.clone());
                }
            }
            Reference::GetAtt(res, attr) => {
                let Some(resource) = template.resource(res) else {
                    return Err(TemplateError::template(format!(
                        "instance of Fn::GetAtt references undefined resource {res}"
                    )));
                };
                if !attr.is_empty()
                    && catalog.knows(&resource.resource_type)
                    && !catalog.has_attribute(&resource.resource_type, attr)
                {
                    return Err(TemplateError::template(format!(
                        "resource {res} does not support attribute type {attr} in Fn::GetAtt"
                    )));
                }
            }
            Reference::Condition(c) => {
                if !template.conditions.iter().any(|(n, _)| n == c) {
                    return Err(TemplateError::template(format!(
                        "unresolved condition dependency {c} in Fn::If"
                    )));
                }
            }
            Reference::Mapping(m) => {
                if !template.mappings.contains_key(m) {
                    return Err(TemplateError::template(format!(
                        "Mapping named '{m}' is not present in the 'Mappings' section of template."
                    )));
                }
            }
        }
    }
    if unresolved.is_empty() {
        Ok(())
    } else {
        Err(TemplateError::unresolved(&unresolved, block))
    }
}

/// The static checks of a submitted template.
pub fn validate(template: &Template, catalog: &dyn Catalog) -> TemplateResult<()> {
    let unknown: Vec<String> = template
        .resource_types()
        .into_iter()
        .filter(|t| !catalog.knows(t))
        .collect();
    if !unknown.is_empty() {
        return Err(TemplateError::format(format!(
            "Unrecognized resource types: [{}]",
            unknown.join(", ")
        )));
    }
    let mut condition_deps: Vec<(String, Vec<String>)> = Vec::new();
    for (name, body) in &template.conditions {
        let mut found = Vec::new();
        collect(body, true, &mut found)?;
        let resources: Vec<String> = found
            .iter()
            .filter_map(|r| match r {
                Reference::Ref(n) | Reference::GetAtt(n, _) if template.resource(n).is_some() => {
                    Some(n.clone())
                }
                _ => None,
            })
            .collect();
        if !resources.is_empty() {
            return Err(TemplateError::format(format!(
                "Unresolved dependencies [{}]. Cannot reference resources in the Conditions block of the template",
                resources.join(", ")
            )));
        }
        for r in &found {
            if let Reference::Condition(c) = r
                && !template.conditions.iter().any(|(n, _)| n == c)
            {
                return Err(TemplateError::template(format!(
                    "unresolved condition dependency {c} in Condition {name}"
                )));
            }
        }
        check_refs(template, catalog, &found, "Conditions")?;
        condition_deps.push((
            name.clone(),
            found
                .iter()
                .filter_map(|r| match r {
                    Reference::Condition(c) => Some(c.clone()),
                    _ => None,
                })
                .collect(),
        ));
    }
    // Conditions naming each other in a circle, as CreateStack refuses them (cfn9:
    // ValidateTemplate accepted them).
    if let Err(cycle) = crate::graph::order(&condition_deps) {
        return Err(TemplateError::format(format!(
            "Circular dependency between conditions: [{}]",
            cycle.join(", ")
        )));
    }
    let mut nodes = Vec::new();
    for r in &template.resources {
        if let Some(c) = &r.condition
            && !template.conditions.iter().any(|(n, _)| n == c)
        {
            return Err(TemplateError::format(format!(
                "Unresolved condition dependencies [{c}] in the Resources block of the template"
            )));
        }
        let missing: Vec<String> = r
            .depends_on
            .iter()
            .filter(|d| template.resource(d).is_none())
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(TemplateError::unresolved(&missing, "Resources"));
        }
        let mut found = Vec::new();
        collect(&r.properties, false, &mut found)?;
        check_refs(template, catalog, &found, "Resources")?;
        check_imports(template, &r.properties)?;
        let mut deps = r.depends_on.clone();
        for d in resource_refs(template, &r.properties)? {
            if !deps.contains(&d) {
                deps.push(d);
            }
        }
        nodes.push((r.logical_id.clone(), deps));
    }
    if let Err(cycle) = crate::graph::order(&nodes) {
        return Err(TemplateError::format(format!(
            "Circular dependency between resources: [{}]",
            cycle.join(", ")
        )));
    }
    for o in &template.outputs {
        if let Some(c) = &o.condition
            && !template.conditions.iter().any(|(n, _)| n == c)
        {
            return Err(TemplateError::format(format!(
                "Unresolved condition dependencies [{c}] in the Outputs block of the template"
            )));
        }
        let mut found = Vec::new();
        collect(&o.value, false, &mut found)?;
        if let Some(e) = &o.export_name {
            collect(e, false, &mut found)?;
            check_export_name(template, &o.logical_id, e)?;
        }
        check_refs(template, catalog, &found, "Outputs")?;
        check_imports(template, &o.value)?;
    }
    Ok(())
}

/// Whether a value depends on something only known once resources exist: a resource
/// (`Ref`, `Fn::GetAtt`, a `Fn::Sub` variable), an imported value or `Fn::GetAZs`.
fn depends_on_deployment(template: &Template, v: &Value) -> TemplateResult<bool> {
    let mut refs = Vec::new();
    collect(v, false, &mut refs)?;
    let on_resource = refs.iter().any(|r| match r {
        Reference::Ref(n) => template.resource(n).is_some(),
        Reference::GetAtt(..) => true,
        _ => false,
    });
    Ok(on_resource || uses_function(v, &["Fn::ImportValue", "Fn::GetAZs"]))
}

/// Every `Fn::ImportValue` in `v` names its export by a value known before any resource
/// exists (the user guide's Fn::ImportValue page), or the template is refused up front.
fn check_imports(template: &Template, v: &Value) -> TemplateResult<()> {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                if k == "Fn::ImportValue" && depends_on_deployment(template, x)? {
                    return Err(TemplateError::template(
                        "the attribute in Fn::ImportValue must not depend on any resources, imported values, or Fn::GetAZs",
                    ));
                }
                check_imports(template, x)?;
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(|x| check_imports(template, x)),
        _ => Ok(()),
    }
}

/// An export's `Name` must be known before any resource exists: it may not depend on a
/// resource (`Ref`, `Fn::GetAtt`), an imported value or `Fn::GetAZs` (the user guide's
/// Fn::ImportValue page), and a literal name is made of letters, digits, colons and hyphens.
fn check_export_name(template: &Template, output: &str, name: &Value) -> TemplateResult<()> {
    if let Value::String(literal) = name {
        return check_export_text(output, literal);
    }
    if depends_on_deployment(template, name)? {
        return Err(TemplateError::format(format!(
            "Output {output} is malformed.  The Name field of Export must not depend on any resources, imported values, or Fn::GetAZs."
        )));
    }
    Ok(())
}

/// An export name as it was given or resolved: letters, digits, colons and hyphens only.
pub fn check_export_text(output: &str, name: &str) -> TemplateResult<()> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == ':' || c == '-')
    {
        return Err(TemplateError::format(format!(
            "Output {output} is malformed. The Name field of every Export member must be specified and consist only of alphanumeric characters, colons, or hyphens."
        )));
    }
    Ok(())
}

/// Whether `v` calls any of `functions` anywhere inside it.
fn uses_function(v: &Value, functions: &[&str]) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| functions.contains(&k.as_str()) || uses_function(x, functions)),
        Value::Array(items) => items.iter().any(|x| uses_function(x, functions)),
        _ => false,
    }
}
