//! Evaluation for one deployment: parameter values, pseudo parameters, the `Conditions`,
//! which resources are active, their dependencies (after `Fn::If` picks its branch), and the
//! intrinsic functions of properties and outputs against what has been made so far.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value};

use crate::error::{TemplateError, TemplateResult};
use crate::functions::{
    SubPart, call, check_supported, cidr, find_in_map_error, join_error, select_error, split_error,
    sub_args, sub_parts,
};
use crate::model::{Output, Resource, Template};

/// The pseudo parameters of a stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pseudo {
    /// `AWS::AccountId`.
    pub account_id: String,
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::StackName`.
    pub stack_name: String,
    /// `AWS::StackId`.
    pub stack_id: String,
    /// `AWS::NotificationARNs`.
    pub notification_arns: Vec<String>,
}

/// What a deployment has made so far, for `Ref`, `Fn::GetAtt` and `Fn::ImportValue`.
pub trait Lookup {
    /// The physical id of a resource that exists.
    fn physical_id(&self, logical_id: &str) -> Option<String>;
    /// An attribute of a resource that exists (`Err`: why it has none).
    fn attribute(&self, logical_id: &str, attribute: &str) -> Result<Value, String>;
    /// The value of an export.
    fn export(&self, name: &str) -> Option<String>;
}

/// A lookup that knows no resources and no exports (validation).
pub struct NoResources;

impl Lookup for NoResources {
    fn physical_id(&self, _: &str) -> Option<String> {
        None
    }
    fn attribute(&self, id: &str, _: &str) -> Result<Value, String> {
        Err(format!("resource {id} does not exist yet"))
    }
    fn export(&self, _: &str) -> Option<String> {
        None
    }
}

/// One deployment's evaluation context.
pub struct Evaluator<'t> {
    template: &'t Template,
    pseudo: Pseudo,
    params: BTreeMap<String, Value>,
    conditions: BTreeMap<String, bool>,
    /// Characters the string functions made so far ([`MAX_MADE_CHARS`]).
    made: std::sync::atomic::AtomicUsize,
}

fn stringify(v: &Value, what: &str) -> TemplateResult<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(TemplateError::template(format!(
            "{what} must resolve to a string"
        ))),
    }
}

impl<'t> Evaluator<'t> {
    /// Binds parameter values (already validated, see [`crate::params::resolve`]) and
    /// evaluates every condition.
    pub fn new(
        template: &'t Template,
        pseudo: Pseudo,
        values: &[(String, String)],
    ) -> TemplateResult<Self> {
        let mut params = BTreeMap::new();
        for p in &template.parameters {
            if let Some((_, raw)) = values.iter().find(|(k, _)| *k == p.name) {
                params.insert(p.name.clone(), p.value_of(raw));
            }
        }
        let mut ev = Self {
            template,
            pseudo,
            params,
            conditions: BTreeMap::new(),
            made: Default::default(),
        };
        for (name, _) in &template.conditions {
            let mut visiting = Vec::new();
            ev.condition_value(name, &mut visiting)?;
        }
        Ok(ev)
    }

    fn condition_value(&mut self, name: &str, visiting: &mut Vec<String>) -> TemplateResult<bool> {
        if let Some(v) = self.conditions.get(name) {
            return Ok(*v);
        }
        if visiting.iter().any(|v| v == name) {
            visiting.push(name.to_owned());
            return Err(TemplateError::format(format!(
                "Circular dependency between conditions: [{}]",
                visiting.join(", ")
            )));
        }
        let body = self
            .template
            .conditions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, b)| b.clone())
            .ok_or_else(|| {
                TemplateError::template(format!("unresolved condition dependency {name}"))
            })?;
        visiting.push(name.to_owned());
        let value = self.boolean(&body, visiting)?;
        visiting.pop();
        self.conditions.insert(name.to_owned(), value);
        Ok(value)
    }

    fn boolean(&mut self, v: &Value, visiting: &mut Vec<String>) -> TemplateResult<bool> {
        let Some((name, arg)) = call(v, true) else {
            return match v {
                Value::Bool(b) => Ok(*b),
                Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
                _ => Err(TemplateError::template(
                    "Conditions can only be boolean operations on parameters and other conditions",
                )),
            };
        };
        let list = |n: &str, min: usize, max: usize| -> TemplateResult<Vec<Value>> {
            match arg {
                Value::Array(items) if (min..=max).contains(&items.len()) => Ok(items.clone()),
                _ => Err(TemplateError::template(format!(
                    "every {n} object requires a list of at least {min} and at most {max} parameters."
                ))),
            }
        };
        match name {
            "Condition" => {
                let c = arg.as_str().ok_or_else(|| {
                    TemplateError::template("Condition must name a condition by a string")
                })?;
                self.condition_value(c, visiting)
            }
            "Fn::Equals" => {
                let items = list("Fn::Equals", 2, 2).map_err(|_| {
                    TemplateError::template(
                        "every Fn::Equals object requires a list of 2 string parameters.",
                    )
                })?;
                let a = self.resolve(&items[0], &crate::eval::NoResources)?;
                let b = self.resolve(&items[1], &crate::eval::NoResources)?;
                Ok(loose(&a) == loose(&b))
            }
            "Fn::Not" => {
                let items = list("Fn::Not", 1, 1)?;
                Ok(!self.boolean(&items[0], visiting)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = list(name, 2, 10)?;
                let mut values = Vec::new();
                for i in &items {
                    values.push(self.boolean(i, visiting)?);
                }
                Ok(if name == "Fn::And" {
                    values.iter().all(|b| *b)
                } else {
                    values.iter().any(|b| *b)
                })
            }
            other => Err(TemplateError::template(format!(
                "{other} is not a condition function: Conditions use Fn::And, Fn::Equals, Fn::If, Fn::Not, Fn::Or and Condition"
            ))),
        }
    }

    /// The stack's pseudo parameters.
    pub fn pseudo(&self) -> &Pseudo {
        &self.pseudo
    }

    /// A condition's value.
    pub fn condition(&self, name: &str) -> bool {
        self.conditions.get(name).copied().unwrap_or(false)
    }

    /// Every condition's value, by name.
    pub fn conditions(&self) -> &BTreeMap<String, bool> {
        &self.conditions
    }

    /// Whether a resource is part of this deployment (no `Condition`, or a true one).
    pub fn active(&self, r: &Resource) -> bool {
        r.condition.as_deref().is_none_or(|c| self.condition(c))
    }

    /// The active resources, in template order.
    pub fn active_resources(&self) -> Vec<&'t Resource> {
        self.template
            .resources
            .iter()
            .filter(|r| self.active(r))
            .collect()
    }

    /// A value with every `Fn::If` replaced by its chosen branch (for dependencies).
    fn pruned(&self, v: &Value) -> Value {
        if let Some(("Fn::If", Value::Array(items))) = call(v, false)
            && items.len() == 3
        {
            let c = items[0].as_str().unwrap_or("");
            return self.pruned(&items[if self.condition(c) { 1 } else { 2 }]);
        }
        match v {
            Value::Array(items) => Value::Array(items.iter().map(|i| self.pruned(i)).collect()),
            Value::Object(m) => {
                Value::Object(m.iter().map(|(k, i)| (k.clone(), self.pruned(i))).collect())
            }
            other => other.clone(),
        }
    }

    /// The active resources with what each depends on, after conditions. A reference to an
    /// inactive resource is an error, as on AWS.
    pub fn dependencies(&self) -> TemplateResult<Vec<(String, Vec<String>)>> {
        let mut out = Vec::new();
        for r in self.active_resources() {
            let mut deps: Vec<String> = r.depends_on.clone();
            for d in crate::refs::resource_refs(self.template, &self.pruned(&r.properties))? {
                if !deps.contains(&d) {
                    deps.push(d);
                }
            }
            let inactive: Vec<String> = deps
                .iter()
                .filter(|d| self.template.resource(d).is_some_and(|x| !self.active(x)))
                .cloned()
                .collect();
            if !inactive.is_empty() {
                return Err(TemplateError::unresolved(&inactive, "Resources"));
            }
            out.push((r.logical_id.clone(), deps));
        }
        self.check_output_refs()?;
        Ok(out)
    }

    /// An active output naming a resource its condition leaves out is refused when the
    /// operation is requested, before anything is made (AWS: "Unresolved resource
    /// dependencies [X] in the Outputs block of the template").
    fn check_output_refs(&self) -> TemplateResult<()> {
        let mut inactive: Vec<String> = Vec::new();
        for o in &self.template.outputs {
            if o.condition.as_deref().is_some_and(|c| !self.condition(c)) {
                continue;
            }
            let mut named = crate::refs::resource_refs(self.template, &self.pruned(&o.value))?;
            if let Some(e) = &o.export_name {
                named.extend(crate::refs::resource_refs(self.template, &self.pruned(e))?);
            }
            for d in named {
                if self.template.resource(&d).is_some_and(|x| !self.active(x))
                    && !inactive.contains(&d)
                {
                    inactive.push(d);
                }
            }
        }
        if inactive.is_empty() {
            Ok(())
        } else {
            Err(TemplateError::unresolved(&inactive, "Outputs"))
        }
    }

    /// The active resources in an order that respects their dependencies.
    pub fn order(&self) -> TemplateResult<Vec<String>> {
        crate::graph::order(&self.dependencies()?).map_err(|cycle| {
            TemplateError::format(format!(
                "Circular dependency between resources: [{}]",
                cycle.join(", ")
            ))
        })
    }

    /// Resolves every intrinsic function of `v`. `AWS::NoValue` removes the member or element
    /// it stands for; a value that is `AWS::NoValue` itself resolves to `Null`.
    pub fn resolve(&self, v: &Value, lookup: &dyn Lookup) -> TemplateResult<Value> {
        Ok(self.eval(v, lookup)?.unwrap_or(Value::Null))
    }

    /// The active outputs with their resolved values and export names.
    pub fn outputs(
        &self,
        lookup: &dyn Lookup,
    ) -> TemplateResult<Vec<(&'t Output, Value, Option<String>)>> {
        let mut out = Vec::new();
        for o in &self.template.outputs {
            if o.condition.as_deref().is_some_and(|c| !self.condition(c)) {
                continue;
            }
            let value = self.resolve(&o.value, lookup)?;
            let export = match &o.export_name {
                Some(e) => {
                    let name = stringify(&self.resolve(e, lookup)?, "Export Name")?;
                    crate::refs::check_export_text(&o.logical_id, &name)?;
                    Some(name)
                }
                None => None,
            };
            out.push((o, value, export));
        }
        Ok(out)
    }

    /// The export names the active resources and outputs import (`Fn::ImportValue`, in the
    /// `Fn::If` branches their conditions take), resolved: they depend on parameters and
    /// pseudo parameters only, so a deployment can check them all before making anything.
    pub fn imported_names(&self, lookup: &dyn Lookup) -> TemplateResult<Vec<String>> {
        let mut out = Vec::new();
        for r in self.active_resources() {
            self.find_imports(&r.properties, lookup, &mut out)?;
        }
        for o in &self.template.outputs {
            if o.condition.as_deref().is_none_or(|c| self.condition(c)) {
                self.find_imports(&o.value, lookup, &mut out)?;
            }
        }
        Ok(out)
    }

    fn find_imports(
        &self,
        v: &Value,
        lookup: &dyn Lookup,
        out: &mut Vec<String>,
    ) -> TemplateResult<()> {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x) {
                        ("Fn::ImportValue", arg) => {
                            let name = stringify(&self.value(arg, lookup)?, "Fn::ImportValue")?;
                            out.push(name);
                        }
                        ("Fn::If", Value::Array(items)) if items.len() == 3 => {
                            let taken = self.condition(items[0].as_str().unwrap_or(""));
                            self.find_imports(&items[if taken { 1 } else { 2 }], lookup, out)?;
                        }
                        _ => self.find_imports(x, lookup, out)?,
                    }
                }
                Ok(())
            }
            Value::Array(items) => items
                .iter()
                .try_for_each(|x| self.find_imports(x, lookup, out)),
            _ => Ok(()),
        }
    }

    fn eval(&self, v: &Value, lookup: &dyn Lookup) -> TemplateResult<Option<Value>> {
        if let Some((name, arg)) = call(v, false) {
            check_supported(name)?;
            let out = self.function(name, arg, lookup)?;
            // What a reference copies in counts too (recheck32b: a list of 130,000 `Ref`s
            // to a 4 KiB parameter built 530 MB before any bound was checked); the string
            // functions count what they make themselves.
            if !matches!(name, "Fn::Join" | "Fn::Sub" | "Fn::Base64")
                && let Some(v) = &out
            {
                self.charge(name, size_of(v))?;
            }
            return Ok(out);
        }
        Ok(Some(match v {
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items {
                    if let Some(x) = self.eval(i, lookup)? {
                        out.push(x);
                    }
                }
                Value::Array(out)
            }
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, i) in m {
                    if let Some(x) = self.eval(i, lookup)? {
                        out.insert(k.clone(), x);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }))
    }

    fn value(&self, v: &Value, lookup: &dyn Lookup) -> TemplateResult<Value> {
        Ok(self.eval(v, lookup)?.unwrap_or(Value::Null))
    }

    fn reference(&self, name: &str, lookup: &dyn Lookup) -> TemplateResult<Option<Value>> {
        let p = &self.pseudo;
        let s = |x: &str| Ok(Some(Value::String(x.to_owned())));
        match name {
            "AWS::NoValue" => return Ok(None),
            "AWS::AccountId" => return s(&p.account_id),
            "AWS::Region" => return s(&p.region),
            "AWS::StackName" => return s(&p.stack_name),
            "AWS::StackId" => return s(&p.stack_id),
            "AWS::Partition" => return s("aws"),
            "AWS::URLSuffix" => return s("amazonaws.com"),
            "AWS::NotificationARNs" => {
                return Ok(Some(Value::Array(
                    p.notification_arns
                        .iter()
                        .cloned()
                        .map(Value::String)
                        .collect(),
                )));
            }
            _ => {}
        }
        if let Some(v) = self.params.get(name) {
            return Ok(Some(v.clone()));
        }
        match self.template.resource(name) {
            Some(r) if self.active(r) => match lookup.physical_id(name) {
                Some(id) => Ok(Some(Value::String(id))),
                None => Err(TemplateError::template(format!(
                    "resource {name} has no physical id yet"
                ))),
            },
            _ => Err(TemplateError::unresolved(&[name.to_owned()], "Resources")),
        }
    }

    fn function(
        &self,
        name: &str,
        arg: &Value,
        lookup: &dyn Lookup,
    ) -> TemplateResult<Option<Value>> {
        let s = |x: String| Ok(Some(Value::String(x)));
        match name {
            "Ref" => {
                let target = arg.as_str().ok_or_else(|| {
                    TemplateError::template("Ref must name a parameter or resource by a string")
                })?;
                self.reference(target, lookup)
            }
            "Fn::GetAtt" => {
                let (res, attr) = match arg {
                    Value::Array(items) if items.len() == 2 => (
                        stringify(&self.value(&items[0], lookup)?, "Fn::GetAtt's resource")?,
                        stringify(&self.value(&items[1], lookup)?, "Fn::GetAtt's attribute")?,
                    ),
                    _ => {
                        return Err(TemplateError::template(
                            "every Fn::GetAtt object requires two non-empty parameters",
                        ));
                    }
                };
                lookup
                    .attribute(&res, &attr)
                    .map(Some)
                    .map_err(TemplateError::template)
            }
            "Fn::Join" => {
                let Value::Array(items) = arg else {
                    return Err(join_error());
                };
                if items.len() != 2 {
                    return Err(join_error());
                }
                let Value::String(delim) = &items[0] else {
                    return Err(join_error());
                };
                let Value::Array(list) = self.value(&items[1], lookup)? else {
                    return Err(join_error());
                };
                let parts = list
                    .iter()
                    .map(|i| stringify(i, "every Fn::Join element").map_err(|_| join_error()))
                    .collect::<TemplateResult<Vec<_>>>()?;
                let joined = parts.join(delim);
                self.made("Fn::Join", joined.len())?;
                s(joined)
            }
            "Fn::Split" => {
                let items = match arg {
                    Value::Array(items) if items.len() == 2 => items,
                    _ => return Err(split_error()),
                };
                let Value::String(delim) = &items[0] else {
                    return Err(split_error());
                };
                let text = stringify(&self.value(&items[1], lookup)?, "Fn::Split")
                    .map_err(|_| split_error())?;
                if delim.is_empty() {
                    return Err(split_error());
                }
                Ok(Some(Value::Array(
                    text.split(delim.as_str())
                        .map(|x| Value::String(x.to_owned()))
                        .collect(),
                )))
            }
            "Fn::Select" => {
                let bad = select_error;
                let items = match arg {
                    Value::Array(items) if items.len() == 2 => items,
                    _ => return Err(bad()),
                };
                let index = stringify(&self.value(&items[0], lookup)?, "Fn::Select's index")
                    .ok()
                    .and_then(|x| x.trim().parse::<usize>().ok())
                    .ok_or_else(bad)?;
                let Value::Array(list) = self.value(&items[1], lookup)? else {
                    return Err(bad());
                };
                list.get(index).cloned().map(Some).ok_or_else(|| {
                    TemplateError::template(format!(
                        "Fn::Select cannot select nonexistent value at index {index}"
                    ))
                })
            }
            "Fn::Sub" => {
                let (text, vars) = sub_args(arg)?;
                let mut bound = BTreeMap::new();
                if let Some(m) = vars {
                    for (k, x) in m {
                        bound.insert(k.clone(), self.value(x, lookup)?);
                    }
                }
                let mut out = String::new();
                for part in sub_parts(text)? {
                    match part {
                        SubPart::Text(t) => out.push_str(&t),
                        SubPart::Var(name) => {
                            let v = match bound.get(&name) {
                                Some(v) => v.clone(),
                                None => match name.split_once('.') {
                                    Some((res, attr)) if !name.starts_with("AWS::") => lookup
                                        .attribute(res, attr)
                                        .map_err(TemplateError::template)?,
                                    _ => self.reference(&name, lookup)?.unwrap_or(Value::Null),
                                },
                            };
                            out.push_str(&stringify(&v, &format!("variable {name} in Fn::Sub expression")).map_err(|_| {
                                TemplateError::template(format!(
                                    "variable {name} in Fn::Sub expression does not resolve to a string"
                                ))
                            })?);
                            bounded("Fn::Sub", out.len())?;
                        }
                    }
                }
                self.made("Fn::Sub", out.len())?;
                s(out)
            }
            "Fn::If" => {
                let items = match arg {
                    Value::Array(items) if items.len() == 3 => items,
                    _ => {
                        return Err(TemplateError::template(
                            "Fn::If requires a list argument with three elements: a condition name, a value if true and a value if false",
                        ));
                    }
                };
                let c = items[0].as_str().unwrap_or("");
                if !self.conditions.contains_key(c) {
                    return Err(TemplateError::template(format!(
                        "unresolved condition dependency {c} in Fn::If"
                    )));
                }
                self.eval(&items[if self.condition(c) { 1 } else { 2 }], lookup)
            }
            "Fn::FindInMap" => {
                let items = match arg {
                    Value::Array(items) if items.len() == 3 => items,
                    _ => return Err(find_in_map_error()),
                };
                let keys = items
                    .iter()
                    .map(|i| stringify(&self.value(i, lookup)?, "Fn::FindInMap's keys"))
                    .collect::<TemplateResult<Vec<_>>>()?;
                self.template
                    .mappings
                    .get(&keys[0])
                    .and_then(|m| m.get(&keys[1]))
                    .and_then(|m| m.get(&keys[2]))
                    .cloned()
                    .map(Some)
                    .ok_or_else(|| {
                        TemplateError::template(format!(
                            "Unable to get mapping for {}::{}::{}",
                            keys[0], keys[1], keys[2]
                        ))
                    })
            }
            "Fn::GetAZs" => {
                let region = stringify(&self.value(arg, lookup)?, "Fn::GetAZs")?;
                let region = if region.is_empty() {
                    self.pseudo.region.clone()
                } else {
                    region
                };
                let zones = availability_zones(&region).ok_or_else(|| {
                    TemplateError::template(format!(
                        "Fn::GetAZs: the region {region} does not exist"
                    ))
                })?;
                Ok(Some(Value::Array(
                    zones.into_iter().map(Value::String).collect(),
                )))
            }
            "Fn::ImportValue" => {
                let name = stringify(&self.value(arg, lookup)?, "Fn::ImportValue")?;
                lookup
                    .export(&name)
                    .map(|v| Some(Value::String(v)))
                    .ok_or_else(|| TemplateError::plain(format!("No export named {name} found.")))
            }
            "Fn::Base64" => {
                let text = stringify(&self.value(arg, lookup)?, "Fn::Base64")?;
                // Checked before encoding: each level makes a third more (recheck32).
                self.made("Fn::Base64", text.len().div_ceil(3) * 4)?;
                s(base64::engine::general_purpose::STANDARD.encode(text))
            }
            "Fn::Cidr" => {
                let items = match arg {
                    Value::Array(items) if items.len() == 3 => items,
                    _ => {
                        return Err(TemplateError::template(
                            "Fn::Cidr requires three parameters: an IP block, a count and a number of subnet bits",
                        ));
                    }
                };
                let block = stringify(&self.value(&items[0], lookup)?, "Fn::Cidr's block")?;
                let count = stringify(&self.value(&items[1], lookup)?, "Fn::Cidr's count")?;
                let bits = stringify(&self.value(&items[2], lookup)?, "Fn::Cidr's bits")?;
                let (Ok(count), Ok(bits)) = (count.parse::<u64>(), bits.parse::<u32>()) else {
                    return Err(TemplateError::template(
                        "Fn::Cidr's count and subnet bits must be integers",
                    ));
                };
                Ok(Some(Value::Array(
                    cidr(&block, count, bits)?
                        .into_iter()
                        .map(Value::String)
                        .collect(),
                )))
            }
            "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" | "Condition" => {
                Err(TemplateError::template(format!(
                    "{name} can only be used in the Conditions section or inside Fn::If"
                )))
            }
            other => Err(TemplateError::template(format!(
                "unsupported function {other}"
            ))),
        }
    }
}

/// Values compared by `Fn::Equals`: scalars by their string form.
pub(crate) fn loose(v: &Value) -> Value {
    match v {
        Value::Number(n) => Value::String(n.to_string()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Array(items) => Value::Array(items.iter().map(loose).collect()),
        other => other.clone(),
    }
}

/// The Availability Zones `Fn::GetAZs` and `AWS::EC2::AvailabilityZone::Name` parameters
/// name in `region` (three per region: Cairn runs no EC2), or `None` for a region that does
/// not exist.
pub fn availability_zones(region: &str) -> Option<Vec<String>> {
    cairn_model::KNOWN_REGIONS.contains(&region).then(|| {
        ["a", "b", "c"]
            .iter()
            .map(|z| format!("{region}{z}"))
            .collect()
    })
}

/// The longest string `Fn::Join`, `Fn::Sub` or `Fn::Base64` may make (characters): above
/// every policy document a service takes (IAM 10 KB, bucket 20 KB, SNS 30 KB, KMS 32 KB).
/// Without it a 50 KB template repeating a 4 KB parameter made a 51 MB stack output (cfn9).
pub const MAX_RESULT_CHARS: usize = 65_536;

/// The most characters the intrinsic functions may make or copy in one evaluation (a
/// resource's properties, or the stack's outputs): strings each within
/// [`MAX_RESULT_CHARS`] still added up to hundreds of megabytes from a small template
/// (recheck32). No service takes a resource this large; the stack's outputs hold at most
/// 1 MiB too.
pub const MAX_MADE_CHARS: usize = 1 << 20;

fn bounded(function: &str, len: usize) -> TemplateResult<()> {
    if len > MAX_RESULT_CHARS {
        return Err(TemplateError::template(format!(
            "{function} makes a string longer than {MAX_RESULT_CHARS} characters"
        )));
    }
    Ok(())
}

/// About how many characters a value holds (its strings, keys and numbers).
fn size_of(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(size_of).sum::<usize>() + items.len(),
        Value::Object(m) => m.iter().map(|(k, x)| k.len() + size_of(x)).sum(),
        _ => 8,
    }
}

impl Evaluator<'_> {
    /// Counts a string of `len` characters made by `function`, refusing one beyond
    /// [`MAX_RESULT_CHARS`] or beyond [`MAX_MADE_CHARS`] in all.
    fn made(&self, function: &str, len: usize) -> TemplateResult<()> {
        bounded(function, len)?;
        self.charge(function, len)
    }

    /// Counts `len` characters `function` produced against [`MAX_MADE_CHARS`].
    fn charge(&self, function: &str, len: usize) -> TemplateResult<()> {
        let before = self
            .made
            .fetch_add(len, std::sync::atomic::Ordering::Relaxed);
        if before + len > MAX_MADE_CHARS {
            return Err(TemplateError::template(format!(
                "the intrinsic functions make more than {MAX_MADE_CHARS} characters in all ({function})"
            )));
        }
        Ok(())
    }
}
