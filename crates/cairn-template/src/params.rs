//! `Parameters`: their declarations (types, defaults, constraints, `NoEcho`) and the values a
//! stack operation gives them, validated with CloudFormation's messages.

use serde_json::Value;

use crate::error::{TemplateError, TemplateResult};

const ATTRIBUTES: &[&str] = &[
    "Type",
    "Default",
    "AllowedValues",
    "AllowedPattern",
    "ConstraintDescription",
    "Description",
    "MaxLength",
    "MinLength",
    "MaxValue",
    "MinValue",
    "NoEcho",
];

/// A parameter's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// `String`.
    String,
    /// `Number` (a string that parses as a number; `Ref` gives the string).
    Number,
    /// `List<Number>`.
    NumberList,
    /// `CommaDelimitedList`.
    CommaDelimitedList,
    /// An AWS-specific type (`AWS::EC2::KeyPair::KeyName`, `List<AWS::EC2::VPC::Id>`, …) or an
    /// SSM parameter type: their values name resources of services Cairn does not run.
    AwsSpecific(String),
}

impl ParamType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "String" => Self::String,
            "Number" => Self::Number,
            "List<Number>" => Self::NumberList,
            "CommaDelimitedList" => Self::CommaDelimitedList,
            other
                if other.starts_with("AWS::")
                    || (other.starts_with("List<AWS::") && other.ends_with('>')) =>
            {
                Self::AwsSpecific(other.to_owned())
            }
            _ => return None,
        })
    }

    /// The name as written in templates.
    pub fn as_str(&self) -> &str {
        match self {
            Self::String => "String",
            Self::Number => "Number",
            Self::NumberList => "List<Number>",
            Self::CommaDelimitedList => "CommaDelimitedList",
            Self::AwsSpecific(s) => s,
        }
    }

    fn is_list(&self) -> bool {
        match self {
            Self::NumberList | Self::CommaDelimitedList => true,
            Self::AwsSpecific(s) => s.starts_with("List<"),
            _ => false,
        }
    }
}

/// One parameter declaration.
#[derive(Clone, Debug, PartialEq)]
pub struct Parameter {
    /// The name.
    pub name: String,
    /// `Type`.
    pub param_type: ParamType,
    /// `Default` (lists as their comma-separated string).
    pub default: Option<String>,
    /// `AllowedValues`.
    pub allowed_values: Vec<String>,
    /// `AllowedPattern`.
    pub allowed_pattern: Option<String>,
    /// `ConstraintDescription`.
    pub constraint_description: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `MinLength`, `MaxLength`.
    pub length: (Option<u64>, Option<u64>),
    /// `MinValue`, `MaxValue`.
    pub value_range: (Option<f64>, Option<f64>),
    /// `NoEcho`.
    pub no_echo: bool,
}

/// A scalar as a template writes it (strings, numbers and booleans all count).
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number_attr(decl: &Value, key: &str) -> TemplateResult<Option<f64>> {
    match decl.get(key) {
        None => Ok(None),
        Some(v) => scalar(v)
            .and_then(|s| s.trim().parse::<f64>().ok())
            .map(Some)
            .ok_or_else(|| TemplateError::format(format!("Every {key} member must be a number"))),
    }
}

impl Parameter {
    /// Checks one declaration of the `Parameters` section.
    pub fn declare(name: &str, decl: &Value) -> TemplateResult<Self> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(TemplateError::format(format!(
                "Parameter name {name} is non alphanumeric."
            )));
        }
        let Value::Object(m) = decl else {
            return Err(TemplateError::format(
                "Every Parameters object must contain a Type member.",
            ));
        };
        if let Some(bad) = m.keys().find(|k| !ATTRIBUTES.contains(&k.as_str())) {
            return Err(TemplateError::format(format!(
                "Invalid template parameter property '{bad}'"
            )));
        }
        let type_name = match m.get("Type") {
            Some(Value::String(t)) => t.clone(),
            _ => {
                return Err(TemplateError::format(
                    "Every Parameters object must contain a Type member.",
                ));
            }
        };
        let param_type = ParamType::parse(&type_name).ok_or_else(|| {
            TemplateError::format(format!("Unrecognized parameter type: {type_name}"))
        })?;
        let default = match m.get("Default") {
            None => None,
            Some(Value::Array(items)) if param_type.is_list() => Some(
                items
                    .iter()
                    .map(scalar)
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| TemplateError::format("Every Default member must be a string."))?
                    .join(","),
            ),
            Some(v) => {
                Some(scalar(v).ok_or_else(|| {
                    TemplateError::format("Every Default member must be a string.")
                })?)
            }
        };
        let allowed_values = match m.get("AllowedValues") {
            None => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(scalar)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    TemplateError::format("Every AllowedValues member must be a list of strings")
                })?,
            Some(_) => {
                return Err(TemplateError::format(
                    "Every AllowedValues member must be a list of strings",
                ));
            }
        };
        let text = |key: &str| -> TemplateResult<Option<String>> {
            match m.get(key) {
                None => Ok(None),
                Some(v) => scalar(v).map(Some).ok_or_else(|| {
                    TemplateError::format(format!("Every {key} member must be a string"))
                }),
            }
        };
        let allowed_pattern = text("AllowedPattern")?;
        if let Some(p) = &allowed_pattern {
            regex::Regex::new(&format!("^(?:{p})$")).map_err(|_| {
                TemplateError::format(format!(
                    "Parameter '{name}' has an AllowedPattern that is not a valid regular expression"
                ))
            })?;
        }
        let no_echo = match m.get("NoEcho") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            Some(_) => false,
        };
        let length = (
            number_attr(decl, "MinLength")?.map(|n| n.max(0.0) as u64),
            number_attr(decl, "MaxLength")?.map(|n| n.max(0.0) as u64),
        );
        Ok(Self {
            name: name.to_owned(),
            param_type,
            default,
            allowed_values,
            allowed_pattern,
            constraint_description: text("ConstraintDescription")?,
            description: text("Description")?,
            length,
            value_range: (
                number_attr(decl, "MinValue")?,
                number_attr(decl, "MaxValue")?,
            ),
            no_echo,
        })
    }

    fn constraint(&self, default: String) -> TemplateError {
        TemplateError::plain(match &self.constraint_description {
            Some(d) => format!(
                "Parameter '{}' failed to satisfy constraint: {d}",
                self.name
            ),
            None => default,
        })
    }

    /// Checks a value against the type and constraints, in `region` (whose Availability
    /// Zones an `AWS::EC2::AvailabilityZone::Name` names).
    pub fn check(&self, raw: &str, region: &str) -> TemplateResult<()> {
        let name = &self.name;
        let items: Vec<&str> = if self.param_type.is_list() {
            raw.split(',').map(str::trim).collect()
        } else {
            vec![raw]
        };
        if let ParamType::AwsSpecific(t) = &self.param_type
            && t.trim_start_matches("List<").trim_end_matches('>')
                == "AWS::EC2::AvailabilityZone::Name"
        {
            // The zones are the region's, as `Fn::GetAZs` names them.
            let zones = crate::eval::availability_zones(region).unwrap_or_default();
            return match items.iter().find(|z| !zones.iter().any(|k| k == *z)) {
                Some(_) => Err(TemplateError::plain(format!(
                    "Parameter validation failed: parameter value {raw} for parameter name {name} does not exist."
                ))),
                None => Ok(()),
            };
        }
        if let ParamType::AwsSpecific(t) = &self.param_type {
            return Err(TemplateError::plain(format!(
                "Parameter validation failed: parameter value {raw} for parameter name {name} does not exist. Parameters of type {t} name resources Cairn does not run."
            )));
        }
        for item in &items {
            if matches!(self.param_type, ParamType::Number | ParamType::NumberList) {
                let Ok(n) = item.trim().parse::<f64>() else {
                    return Err(TemplateError::plain(format!(
                        "Parameter '{name}' must be a number."
                    )));
                };
                if let Some(min) = self.value_range.0
                    && n < min
                {
                    return Err(self.constraint(format!(
                        "Parameter '{name}' must be a number not less than {min}"
                    )));
                }
                if let Some(max) = self.value_range.1
                    && n > max
                {
                    return Err(self.constraint(format!(
                        "Parameter '{name}' must be a number not greater than {max}"
                    )));
                }
            }
            if !self.allowed_values.is_empty() && !self.allowed_values.iter().any(|a| a == item) {
                return Err(
                    self.constraint(format!("Parameter '{name}' must be one of AllowedValues"))
                );
            }
        }
        if self.param_type == ParamType::String {
            let len = raw.chars().count() as u64;
            if let Some(min) = self.length.0
                && len < min
            {
                return Err(self.constraint(format!(
                    "Parameter '{name}' must contain at least {min} characters"
                )));
            }
            if let Some(max) = self.length.1
                && len > max
            {
                return Err(self.constraint(format!(
                    "Parameter '{name}' must contain at most {max} characters"
                )));
            }
            if let Some(p) = &self.allowed_pattern {
                let re = regex::Regex::new(&format!("^(?:{p})$")).map_err(|_| {
                    TemplateError::plain(format!("Parameter '{name}' must match pattern {p}"))
                })?;
                if !re.is_match(raw) {
                    return Err(
                        self.constraint(format!("Parameter '{name}' must match pattern {p}"))
                    );
                }
            }
        }
        Ok(())
    }

    /// What `Ref` gives for a raw value: a string, or a list for list types.
    pub fn value_of(&self, raw: &str) -> Value {
        if self.param_type.is_list() {
            if raw.is_empty() {
                return Value::Array(Vec::new());
            }
            Value::Array(
                raw.split(',')
                    .map(|s| Value::String(s.trim().to_owned()))
                    .collect(),
            )
        } else {
            Value::String(raw.to_owned())
        }
    }
}

/// Longest parameter value, in bytes (CloudFormation's quotas: 4,096 bytes).
const MAX_VALUE_BYTES: usize = 4096;

/// A value a stack operation gives a parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Given {
    /// `ParameterKey`.
    pub key: String,
    /// `ParameterValue`.
    pub value: Option<String>,
    /// `UsePreviousValue`.
    pub use_previous: bool,
}

/// The parameter values of a stack: every declared parameter's raw value, in declaration
/// order. `previous` holds the stack's current values (updates).
pub fn resolve(
    declared: &[Parameter],
    given: &[Given],
    previous: Option<&[(String, String)]>,
    region: &str,
) -> TemplateResult<Vec<(String, String)>> {
    let undeclared: Vec<String> = given
        .iter()
        .filter(|g| !declared.iter().any(|d| d.name == g.key))
        .map(|g| g.key.clone())
        .collect();
    if !undeclared.is_empty() {
        return Err(TemplateError::plain(format!(
            "Parameters: [{}] do not exist in the template",
            undeclared.join(", ")
        )));
    }
    if let Some(long) = given
        .iter()
        .find(|g| g.value.as_ref().is_some_and(|v| v.len() > MAX_VALUE_BYTES))
    {
        return Err(TemplateError::plain(format!(
            "Parameter value for parameter key {} is longer than the maximum of {MAX_VALUE_BYTES} bytes",
            long.key
        )));
    }
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for d in declared {
        let g = given.iter().find(|g| g.key == d.name);
        let raw = match g {
            Some(g) if g.use_previous => {
                let prev = previous
                    .and_then(|p| p.iter().find(|(k, _)| *k == d.name))
                    .map(|(_, v)| v.clone());
                match prev {
                    Some(v) => Some(v),
                    None => {
                        return Err(TemplateError::plain(format!(
                            "Invalid input for parameter key {}. Cannot specify usePreviousValue as true for a parameter key not in the previous template",
                            d.name
                        )));
                    }
                }
            }
            Some(Given { value: Some(v), .. }) => Some(v.clone()),
            _ => d.default.clone(),
        };
        match raw {
            Some(v) => out.push((d.name.clone(), v)),
            None => missing.push(d.name.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(TemplateError::plain(format!(
            "Parameters: [{}] must have values",
            missing.join(", ")
        )));
    }
    for (name, raw) in &out {
        if let Some(d) = declared.iter().find(|d| &d.name == name) {
            d.check(raw, region)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(decl: Value) -> Parameter {
        Parameter::declare("P", &decl).unwrap()
    }

    #[test]
    fn constraints() {
        let env = p(json!({"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"}));
        assert!(env.check("dev", "us-east-1").is_ok());
        assert_eq!(
            env.check("qa", "us-east-1").unwrap_err().message(),
            "Parameter 'P' must be one of AllowedValues"
        );
        let pat = p(json!({"Type": "String", "AllowedPattern": "[a-z]+"}));
        assert!(pat.check("abc", "us-east-1").is_ok());
        assert_eq!(
            pat.check("abc1", "us-east-1").unwrap_err().message(),
            "Parameter 'P' must match pattern [a-z]+"
        );
        let described = p(
            json!({"Type": "String", "AllowedPattern": "[a-z]+", "ConstraintDescription": "lower case only"}),
        );
        assert_eq!(
            described.check("A", "us-east-1").unwrap_err().message(),
            "Parameter 'P' failed to satisfy constraint: lower case only"
        );
        let n = p(json!({"Type": "Number", "MinValue": 1, "MaxValue": 5}));
        assert!(n.check("3", "us-east-1").is_ok());
        assert!(n.check("x", "us-east-1").is_err());
        assert!(n.check("9", "us-east-1").is_err());
        let list = p(json!({"Type": "CommaDelimitedList", "Default": ["a", "b"]}));
        assert_eq!(list.default.as_deref(), Some("a,b"));
        assert_eq!(list.value_of("a, b"), json!(["a", "b"]));
    }

    #[test]
    fn missing_and_unknown() {
        let decls = vec![
            p(json!({"Type": "String"})),
            Parameter::declare("Q", &json!({"Type": "String", "Default": "d"})).unwrap(),
        ];
        assert_eq!(
            resolve(&decls, &[], None, "us-east-1")
                .unwrap_err()
                .message(),
            "Parameters: [P] must have values"
        );
        let given = vec![Given {
            key: "Z".into(),
            value: Some("1".into()),
            use_previous: false,
        }];
        assert_eq!(
            resolve(&decls, &given, None, "us-east-1")
                .unwrap_err()
                .message(),
            "Parameters: [Z] do not exist in the template"
        );
        let given = vec![Given {
            key: "P".into(),
            value: None,
            use_previous: true,
        }];
        let prev = vec![("P".to_owned(), "old".to_owned())];
        assert_eq!(
            resolve(&decls, &given, Some(&prev), "us-east-1").unwrap(),
            vec![("P".into(), "old".into()), ("Q".into(), "d".into())]
        );
        let long = |n: usize| {
            vec![Given {
                key: "P".into(),
                value: Some("v".repeat(n)),
                use_previous: false,
            }]
        };
        assert!(resolve(&decls, &long(4096), None, "us-east-1").is_ok());
        assert_eq!(
            resolve(&decls, &long(4097), None, "us-east-1")
                .unwrap_err()
                .message(),
            "Parameter value for parameter key P is longer than the maximum of 4096 bytes"
        );
        assert!(Parameter::declare("bad-name", &json!({"Type": "String"})).is_err());
        assert_eq!(
            Parameter::declare("X", &json!({"Type": "Strin"}))
                .unwrap_err()
                .message(),
            "Template format error: Unrecognized parameter type: Strin"
        );
    }
}
