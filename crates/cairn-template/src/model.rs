//! A template's sections, checked for shape as CloudFormation checks them when a template is
//! submitted: known top-level sections, alphanumeric logical ids, every resource with a
//! `Type`, every output with a `Value`, parameter declarations, the limits on counts.

use serde_json::{Map, Value};

use crate::error::{TemplateError, TemplateResult};
use crate::params::{ParamType, Parameter};
use crate::parse::parse_body;

/// Most resources a template may declare.
pub const MAX_RESOURCES: usize = 500;
/// Most parameters, outputs and mappings a template may declare.
pub const MAX_PARAMETERS: usize = 200;
/// Most outputs.
pub const MAX_OUTPUTS: usize = 200;
/// Most mappings.
pub const MAX_MAPPINGS: usize = 200;

const TOP_LEVEL: &[&str] = &[
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

const RESOURCE_ATTRIBUTES: &[&str] = &[
    "Type",
    "Properties",
    "DependsOn",
    "Metadata",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "CreationPolicy",
    "UpdatePolicy",
    "Version",
];

/// What happens to a resource's physical resource when the stack deletes (or replaces) it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Delete it (the default).
    Delete,
    /// Keep it.
    Retain,
    /// Keep it, except when the stack's creation rolls back.
    RetainExceptOnCreate,
    /// Snapshot then delete (types that support snapshots only; none of Cairn's do).
    Snapshot,
}

impl Policy {
    fn parse(v: &Value, attribute: &str, id: &str) -> TemplateResult<Self> {
        match v.as_str() {
            Some("Delete") => Ok(Self::Delete),
            Some("Retain") => Ok(Self::Retain),
            Some("RetainExceptOnCreate") => Ok(Self::RetainExceptOnCreate),
            Some("Snapshot") => Ok(Self::Snapshot),
            _ => Err(TemplateError::format(format!(
                "[/Resources/{id}/{attribute}] {attribute} must be one of Delete, Retain, RetainExceptOnCreate or Snapshot"
            ))),
        }
    }

    /// The name as written.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Delete => "Delete",
            Self::Retain => "Retain",
            Self::RetainExceptOnCreate => "RetainExceptOnCreate",
            Self::Snapshot => "Snapshot",
        }
    }
}

/// One entry of `Resources`.
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// The logical id.
    pub logical_id: String,
    /// `Type`.
    pub resource_type: String,
    /// `Properties` (an empty object when absent).
    pub properties: Value,
    /// `DependsOn`, as listed.
    pub depends_on: Vec<String>,
    /// `Condition`.
    pub condition: Option<String>,
    /// `DeletionPolicy`.
    pub deletion_policy: Policy,
    /// `UpdateReplacePolicy`.
    pub update_replace_policy: Policy,
    /// `Metadata`.
    pub metadata: Option<Value>,
}

/// One entry of `Outputs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The logical id.
    pub logical_id: String,
    /// `Value`.
    pub value: Value,
    /// `Description`.
    pub description: Option<Value>,
    /// `Export.Name`.
    pub export_name: Option<Value>,
    /// `Condition`.
    pub condition: Option<String>,
}

/// A parsed, shape-checked template.
#[derive(Clone, Debug, PartialEq)]
pub struct Template {
    /// The whole long-form model.
    pub root: Value,
    /// `Description`.
    pub description: Option<String>,
    /// `Parameters`, in template order.
    pub parameters: Vec<Parameter>,
    /// `Mappings`.
    pub mappings: Map<String, Value>,
    /// `Conditions`, in template order.
    pub conditions: Vec<(String, Value)>,
    /// `Resources`, in template order.
    pub resources: Vec<Resource>,
    /// `Outputs`, in template order.
    pub outputs: Vec<Output>,
}

fn is_alphanumeric(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Longest name of a parameter, resource, output, mapping or mapping attribute, and most
/// attributes per mapping (CloudFormation's quotas: 255 characters, 200).
const MAX_NAME: usize = 255;
const MAX_MAPPING_ATTRIBUTES: usize = 200;

/// Refuses a `what` name over [`MAX_NAME`] characters.
fn check_name_length(what: &str, name: &str) -> TemplateResult<()> {
    if name.chars().count() > MAX_NAME {
        return Err(TemplateError::format(format!(
            "{what} name {name} is longer than the maximum of {MAX_NAME} characters"
        )));
    }
    Ok(())
}

fn section<'a>(
    root: &'a Map<String, Value>,
    name: &str,
) -> TemplateResult<Option<&'a Map<String, Value>>> {
    match root.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(TemplateError::format(format!(
            "Every {name} member must be an object"
        ))),
    }
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    match v {
        Value::String(s) => Some(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => None,
    }
}

impl Template {
    /// Parses and shape-checks a template body.
    pub fn parse(body: &str) -> TemplateResult<Self> {
        Self::from_value(parse_body(body)?)
    }

    /// Shape-checks a long-form model.
    pub fn from_value(root: Value) -> TemplateResult<Self> {
        let Value::Object(top) = &root else {
            return Err(TemplateError::format("not a valid template"));
        };
        let unknown: Vec<String> = top
            .keys()
            .filter(|k| !TOP_LEVEL.contains(&k.as_str()))
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(TemplateError::format(format!(
                "Invalid template property or properties [{}]",
                unknown.join(", ")
            )));
        }
        if let Some(v) = top.get("AWSTemplateFormatVersion")
            && v.as_str() != Some("2010-09-09")
        {
            return Err(TemplateError::format(format!(
                "{} is not a supported value for AWSTemplateFormatVersion.",
                match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }
            )));
        }
        if top.contains_key("Transform") {
            return Err(TemplateError::plain(
                "Transform is not supported by this Cairn release: macros (AWS::Serverless, AWS::Include, AWS::LanguageExtensions) are not processed.",
            ));
        }
        let description = match top.get("Description") {
            None => None,
            // The template's description is at most 1,024 bytes (the user guide's
            // "Description" section).
            Some(Value::String(s)) if s.len() > 1024 => {
                return Err(TemplateError::format(
                    "'Description' length is greater than 1024.",
                ));
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(TemplateError::format(
                    "Every Description member must be a string",
                ));
            }
        };
        let parameters = Self::parameters(top)?;
        crate::rules::validate(&root)?;
        let mappings = Self::mappings(top)?;
        let conditions: Vec<(String, Value)> = section(top, "Conditions")?
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        let resources = Self::resources(top)?;
        let outputs = Self::outputs(top)?;
        Ok(Self {
            root,
            description,
            parameters,
            mappings,
            conditions,
            resources,
            outputs,
        })
    }

    fn parameters(top: &Map<String, Value>) -> TemplateResult<Vec<Parameter>> {
        let Some(params) = section(top, "Parameters")? else {
            return Ok(Vec::new());
        };
        if params.len() > MAX_PARAMETERS {
            return Err(TemplateError::format(format!(
                "Parameter count {} is greater than max value allowed {MAX_PARAMETERS}",
                params.len()
            )));
        }
        params
            .iter()
            .map(|(name, decl)| {
                check_name_length("Parameter", name)?;
                Parameter::declare(name, decl)
            })
            .collect()
    }

    fn mappings(top: &Map<String, Value>) -> TemplateResult<Map<String, Value>> {
        let Some(maps) = section(top, "Mappings")? else {
            return Ok(Map::new());
        };
        if maps.len() > MAX_MAPPINGS {
            return Err(TemplateError::format(format!(
                "Mappings count {} is greater than max value allowed {MAX_MAPPINGS}",
                maps.len()
            )));
        }
        for (name, map) in maps {
            check_name_length("Mapping", name)?;
            let Value::Object(keys) = map else {
                return Err(TemplateError::format(format!(
                    "Mappings member {name} must be a map"
                )));
            };
            for (key, attrs) in keys {
                let Value::Object(attrs) = attrs else {
                    return Err(TemplateError::format(format!(
                        "Mappings attribute {key} of {name} must be a map"
                    )));
                };
                if attrs.len() > MAX_MAPPING_ATTRIBUTES {
                    return Err(TemplateError::format(format!(
                        "Mapping attribute count {} of {name}.{key} is greater than max value allowed {MAX_MAPPING_ATTRIBUTES}",
                        attrs.len()
                    )));
                }
                for (attr, value) in attrs {
                    check_name_length("Mapping attribute", attr)?;
                    let ok = match value {
                        Value::String(_) | Value::Number(_) | Value::Bool(_) => true,
                        Value::Array(items) => items
                            .iter()
                            .all(|i| matches!(i, Value::String(_) | Value::Number(_))),
                        _ => false,
                    };
                    if !ok {
                        return Err(TemplateError::format(format!(
                            "Mappings attribute {attr} of {name}.{key} must be a String or a List"
                        )));
                    }
                }
            }
        }
        Ok(maps.clone())
    }

    fn resources(top: &Map<String, Value>) -> TemplateResult<Vec<Resource>> {
        let resources = match top.get("Resources") {
            Some(Value::Object(m)) if !m.is_empty() => m,
            Some(Value::Object(_)) | None | Some(Value::Null) => {
                return Err(TemplateError::format(
                    "At least one Resources member must be defined.",
                ));
            }
            Some(_) => {
                return Err(TemplateError::format("Resources must be an object"));
            }
        };
        if resources.len() > MAX_RESOURCES {
            return Err(TemplateError::format(format!(
                "Number of resources, {}, is greater than maximum allowed, {MAX_RESOURCES}",
                resources.len()
            )));
        }
        let mut out = Vec::with_capacity(resources.len());
        for (id, decl) in resources {
            check_name_length("Resource", id)?;
            if !is_alphanumeric(id) {
                return Err(TemplateError::format(format!(
                    "Resource name {id} is non alphanumeric."
                )));
            }
            let Value::Object(decl) = decl else {
                return Err(TemplateError::format(format!(
                    "[/Resources/{id}] Every Resources object must contain a Type member."
                )));
            };
            if let Some(bad) = decl
                .keys()
                .find(|k| !RESOURCE_ATTRIBUTES.contains(&k.as_str()))
            {
                return Err(TemplateError::format(format!(
                    "Invalid template resource property '{bad}'"
                )));
            }
            let resource_type = match decl.get("Type") {
                Some(Value::String(t)) => t.clone(),
                Some(_) => {
                    return Err(TemplateError::format(format!(
                        "[/Resources/{id}/Type] Every Type member must be a string."
                    )));
                }
                None => {
                    return Err(TemplateError::format(format!(
                        "[/Resources/{id}] Every Resources object must contain a Type member."
                    )));
                }
            };
            let properties = match decl.get("Properties") {
                None | Some(Value::Null) => Value::Object(Map::new()),
                Some(v @ Value::Object(_)) => v.clone(),
                Some(_) => {
                    return Err(TemplateError::format(format!(
                        "[/Resources/{id}/Properties] Every Properties member must be an object"
                    )));
                }
            };
            let depends_on = match decl.get("DependsOn") {
                None => Vec::new(),
                Some(v) => string_list(v).ok_or_else(|| {
                    TemplateError::format(format!(
                        "[/Resources/{id}/DependsOn] DependsOn must be a string or a list of strings"
                    ))
                })?,
            };
            let condition = match decl.get("Condition") {
                None => None,
                Some(Value::String(c)) => Some(c.clone()),
                Some(_) => {
                    return Err(TemplateError::format(format!(
                        "[/Resources/{id}/Condition] Condition must be a string"
                    )));
                }
            };
            let deletion_policy = match decl.get("DeletionPolicy") {
                None => Policy::Delete,
                Some(v) => Policy::parse(v, "DeletionPolicy", id)?,
            };
            let update_replace_policy = match decl.get("UpdateReplacePolicy") {
                None => Policy::Delete,
                Some(v) => Policy::parse(v, "UpdateReplacePolicy", id)?,
            };
            out.push(Resource {
                logical_id: id.clone(),
                resource_type,
                properties,
                depends_on,
                condition,
                deletion_policy,
                update_replace_policy,
                metadata: decl.get("Metadata").cloned(),
            });
        }
        Ok(out)
    }

    fn outputs(top: &Map<String, Value>) -> TemplateResult<Vec<Output>> {
        let Some(outputs) = section(top, "Outputs")? else {
            return Ok(Vec::new());
        };
        if outputs.len() > MAX_OUTPUTS {
            return Err(TemplateError::format(format!(
                "Output count {} is greater than max value allowed {MAX_OUTPUTS}",
                outputs.len()
            )));
        }
        let mut out = Vec::new();
        for (id, decl) in outputs {
            check_name_length("Output", id)?;
            if !is_alphanumeric(id) {
                return Err(TemplateError::format(format!(
                    "Output name {id} is non alphanumeric."
                )));
            }
            let Some(value) = decl.get("Value") else {
                return Err(TemplateError::format(
                    "Every Outputs member must contain a Value object",
                ));
            };
            if let Some(bad) = decl.as_object().and_then(|m| {
                m.keys().find(|k| {
                    !["Value", "Description", "Export", "Condition"].contains(&k.as_str())
                })
            }) {
                return Err(TemplateError::format(format!(
                    "Invalid outputs property : [{bad}]"
                )));
            }
            let export_name = match decl.get("Export") {
                None => None,
                Some(Value::Object(e)) if e.contains_key("Name") => e.get("Name").cloned(),
                Some(_) => {
                    return Err(TemplateError::format(format!(
                        "Output {id} is malformed. The Name field of every Export member must be specified and consist only of alphanumeric characters, colons, or hyphens."
                    )));
                }
            };
            let condition = match decl.get("Condition") {
                None => None,
                Some(Value::String(c)) => Some(c.clone()),
                Some(_) => {
                    return Err(TemplateError::format(format!(
                        "Output {id} is malformed. Condition must be a string"
                    )));
                }
            };
            out.push(Output {
                logical_id: id.clone(),
                value: value.clone(),
                description: decl.get("Description").cloned(),
                export_name,
                condition,
            });
        }
        Ok(out)
    }

    /// A resource by logical id.
    pub fn resource(&self, id: &str) -> Option<&Resource> {
        self.resources.iter().find(|r| r.logical_id == id)
    }

    /// A parameter by name.
    pub fn parameter(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name == name)
    }

    /// Whether a parameter of this name is declared and not a list.
    pub fn has_scalar_parameter(&self, name: &str) -> bool {
        self.parameter(name).is_some_and(|p| {
            !matches!(
                p.param_type,
                ParamType::CommaDelimitedList | ParamType::NumberList
            )
        })
    }

    /// The distinct resource types, in template order.
    pub fn resource_types(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in &self.resources {
            if !out.contains(&r.resource_type) {
                out.push(r.resource_type.clone());
            }
        }
        out
    }

    /// Every resource with what it depends on (`DependsOn`, `Ref`, `Fn::GetAtt`, `Fn::Sub`),
    /// whatever the conditions: the order to delete a stack's resources in, reversed.
    pub fn static_dependencies(&self) -> Vec<(String, Vec<String>)> {
        self.resources
            .iter()
            .map(|r| {
                let mut deps = r.depends_on.clone();
                for d in crate::refs::resource_refs(self, &r.properties).unwrap_or_default() {
                    if !deps.contains(&d) {
                        deps.push(d);
                    }
                }
                (r.logical_id.clone(), deps)
            })
            .collect()
    }

    /// The template's `Metadata` section.
    pub fn metadata(&self) -> Option<&Value> {
        self.root.get("Metadata")
    }
}
