//! CloudFormation's XML shapes (botocore's `cloudformation` 2010-05-15 model): stacks, stack
//! summaries, events, resources, change sets, template summaries, exports.

use cairn_core::cloudformation::model::{Change, ChangeSet, Stack, StackEvent, StackResource};
use cairn_core::cloudformation::queries::Summary;
use cairn_core::cloudformation::records::iso_millis;
use cairn_core::cloudformation::rollback_triggers::RollbackConfiguration;

use crate::iam::xml::{el, members, opt};

/// Escapes text so that it reads back byte for byte (carriage returns included, which XML
/// parsers would otherwise turn into line feeds).
pub fn exact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

fn time(name: &str, t: f64) -> String {
    el(name, &iso_millis(t))
}

fn opt_time(name: &str, t: Option<f64>) -> String {
    t.map(|t| time(name, t)).unwrap_or_default()
}

fn boolean(name: &str, b: bool) -> String {
    el(name, if b { "true" } else { "false" })
}

fn strings(name: &str, items: &[String]) -> String {
    members(name, items, |s| crate::iam::xml::escape(s))
}

fn tags(t: &[(String, String)]) -> String {
    members("Tags", t, |(k, v)| {
        format!("{}{}", el("Key", k), el("Value", v))
    })
}

/// Parameter values as DescribeStacks shows them (`NoEcho` ones as `****`).
fn parameters(stack_params: &[(String, String)], no_echo: &[String]) -> String {
    members("Parameters", stack_params, |(k, v)| {
        let shown = if no_echo.contains(k) {
            "****"
        } else {
            v.as_str()
        };
        format!("{}{}", el("ParameterKey", k), el("ParameterValue", shown))
    })
}

/// The names of a template's `NoEcho` parameters.
pub fn no_echo(template_body: &str) -> Vec<String> {
    cairn_template::Template::parse(template_body)
        .map(|t| {
            t.parameters
                .iter()
                .filter(|p| p.no_echo)
                .map(|p| p.name.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// One `Stacks` member.
pub fn stack(s: &Stack) -> String {
    let outputs = members("Outputs", &s.outputs, |o| {
        format!(
            "{}{}{}{}",
            el("OutputKey", &o.key),
            el("OutputValue", &o.value),
            opt("Description", o.description.as_deref()),
            opt("ExportName", o.export_name.as_deref())
        )
    });
    format!(
        "{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}<DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation>",
        el("StackId", &s.stack_id),
        el("StackName", &s.name),
        opt("ChangeSetId", s.change_set_id.as_deref()),
        opt("Description", s.description.as_deref()),
        parameters(&s.parameters, &no_echo(&s.template_body)),
        time("CreationTime", s.created),
        opt_time("DeletionTime", s.deleted_time),
        opt_time("LastUpdatedTime", s.updated),
        el("StackStatus", &s.status),
        opt("StackStatusReason", s.status_reason.as_deref()),
        rollback_configuration(Some(&s.rollback_configuration)),
        boolean("DisableRollback", s.disable_rollback),
        strings("NotificationARNs", &s.notification_arns),
        s.timeout_minutes
            .map(|t| el("TimeoutInMinutes", &t.to_string()))
            .unwrap_or_default(),
        strings("Capabilities", &s.capabilities),
        outputs,
        opt("RoleARN", s.role_arn.as_deref()),
        tags(&s.tags),
        boolean("EnableTerminationProtection", s.termination_protection),
        String::new(),
    )
}

/// `RollbackConfiguration`: empty when there is none, as CloudFormation shows it.
fn rollback_configuration(c: Option<&RollbackConfiguration>) -> String {
    let Some(c) = c else {
        return "<RollbackConfiguration/>".to_owned();
    };
    let triggers = if c.triggers.is_empty() {
        String::new()
    } else {
        members("RollbackTriggers", &c.triggers, |t| {
            format!("{}{}", el("Arn", &t.arn), el("Type", &t.kind))
        })
    };
    let minutes = c
        .monitoring_minutes
        .map(|m| el("MonitoringTimeInMinutes", &m.to_string()))
        .unwrap_or_default();
    format!("<RollbackConfiguration>{triggers}{minutes}</RollbackConfiguration>")
}

/// One `StackSummaries` member.
pub fn stack_summary(s: &Stack) -> String {
    format!(
        "{}{}{}{}{}{}{}{}<DriftInformation><StackDriftStatus>NOT_CHECKED</StackDriftStatus></DriftInformation>",
        el("StackId", &s.stack_id),
        el("StackName", &s.name),
        opt("TemplateDescription", s.description.as_deref()),
        time("CreationTime", s.created),
        opt_time("LastUpdatedTime", s.updated),
        opt_time("DeletionTime", s.deleted_time),
        el("StackStatus", &s.status),
        opt("StackStatusReason", s.status_reason.as_deref()),
    )
}

/// One `StackEvents` member.
pub fn event(e: &StackEvent) -> String {
    format!(
        "{}{}{}{}{}{}{}{}{}{}{}",
        el("StackId", &e.stack_id),
        el("EventId", &e.event_id),
        el("StackName", &e.stack_name),
        el("LogicalResourceId", &e.logical_id),
        opt("PhysicalResourceId", e.physical_id.as_deref()),
        el("ResourceType", &e.resource_type),
        time("Timestamp", e.timestamp),
        el("ResourceStatus", &e.status),
        opt("ResourceStatusReason", e.reason.as_deref()),
        opt("ResourceProperties", e.properties.as_deref()),
        opt("ClientRequestToken", e.client_request_token.as_deref()),
    )
}

const RESOURCE_DRIFT: &str = "<DriftInformation><StackResourceDriftStatus>NOT_CHECKED</StackResourceDriftStatus></DriftInformation>";

/// `StackResourceDetail` (DescribeStackResource).
pub fn resource_detail(s: &Stack, r: &StackResource) -> String {
    format!(
        "{}{}{}{}{}{}{}{}{}{RESOURCE_DRIFT}",
        el("StackName", &s.name),
        el("StackId", &s.stack_id),
        el("LogicalResourceId", &r.logical_id),
        opt("PhysicalResourceId", r.physical_id.as_deref()),
        el("ResourceType", &r.resource_type),
        time("LastUpdatedTimestamp", r.updated),
        el("ResourceStatus", &r.status),
        opt("ResourceStatusReason", r.status_reason.as_deref()),
        r.metadata
            .as_ref()
            .map(|m| el("Metadata", &m.to_string()))
            .unwrap_or_default(),
    )
}

/// One `StackResources` member (DescribeStackResources).
pub fn resource(s: &Stack, r: &StackResource) -> String {
    format!(
        "{}{}{}{}{}{}{}{}{RESOURCE_DRIFT}",
        el("StackName", &s.name),
        el("StackId", &s.stack_id),
        el("LogicalResourceId", &r.logical_id),
        opt("PhysicalResourceId", r.physical_id.as_deref()),
        el("ResourceType", &r.resource_type),
        time("Timestamp", r.updated),
        el("ResourceStatus", &r.status),
        opt("ResourceStatusReason", r.status_reason.as_deref()),
    )
}

/// One `StackResourceSummaries` member (ListStackResources).
pub fn resource_summary(r: &StackResource) -> String {
    format!(
        "{}{}{}{}{}{}{RESOURCE_DRIFT}",
        el("LogicalResourceId", &r.logical_id),
        opt("PhysicalResourceId", r.physical_id.as_deref()),
        el("ResourceType", &r.resource_type),
        time("LastUpdatedTimestamp", r.updated),
        el("ResourceStatus", &r.status),
        opt("ResourceStatusReason", r.status_reason.as_deref()),
    )
}

fn change(c: &Change) -> String {
    type Detail<'a> = (
        &'a (String, String),
        Option<&'a String>,
        Option<&'a (String, String)>,
        Option<&'a String>,
    );
    let details: Vec<Detail<'_>> = c
        .details
        .iter()
        .enumerate()
        .map(|(i, d)| {
            (
                d,
                c.causes.get(i).and_then(Option::as_ref),
                c.references.get(i).and_then(Option::as_ref),
                c.attributes.get(i).and_then(Option::as_ref),
            )
        })
        .collect();
    let details = members(
        "Details",
        &details,
        |((name, recreation), cause, reference, attribute)| {
            let (source, evaluation) = match (reference, cause) {
                (Some((source, entity)), _) => (
                    format!(
                        "{}{}",
                        el("ChangeSource", source),
                        el("CausingEntity", entity)
                    ),
                    "Dynamic",
                ),
                (None, Some(p)) => (
                    format!(
                        "{}{}",
                        el("ChangeSource", "ParameterReference"),
                        el("CausingEntity", p)
                    ),
                    "Static",
                ),
                (None, None) => (el("ChangeSource", "DirectModification"), "Static"),
            };
            // `Name` is a property's; other attributes (`Tags`) have none.
            let target = match attribute {
                Some(a) => el("Attribute", a),
                None => format!("{}{}", el("Attribute", "Properties"), el("Name", name)),
            };
            format!(
                "<Target>{target}{}</Target>{}{source}",
                el("RequiresRecreation", recreation),
                el("Evaluation", evaluation),
            )
        },
    );
    format!(
        "<Type>Resource</Type><ResourceChange>{}{}{}{}{}{}{}</ResourceChange>",
        el("Action", &c.action),
        el("LogicalResourceId", &c.logical_id),
        opt("PhysicalResourceId", c.physical_id.as_deref()),
        el("ResourceType", &c.resource_type),
        opt("Replacement", c.replacement.as_deref()),
        strings("Scope", &c.scope),
        details,
    )
}

/// DescribeChangeSet's result.
pub fn change_set(c: &ChangeSet) -> String {
    format!(
        "{}{}{}{}{}{}{}{}{}{}{}{}{}{}{}<IncludeNestedStacks>false</IncludeNestedStacks>",
        el("ChangeSetName", &c.name),
        el("ChangeSetId", &c.change_set_id),
        el("StackId", &c.stack_id),
        el("StackName", &c.stack_name),
        opt("Description", c.description.as_deref()),
        parameters(&c.parameters, &no_echo(&c.template_body)),
        time("CreationTime", c.created),
        el("ExecutionStatus", &c.execution_status),
        el("Status", &c.status),
        opt("StatusReason", c.status_reason.as_deref()),
        strings("NotificationARNs", &c.notification_arns),
        rollback_configuration(c.rollback_configuration.as_ref()),
        strings("Capabilities", &c.capabilities),
        tags(&c.tags),
        members("Changes", &c.changes, change),
    )
}

/// One `Summaries` member (ListChangeSets).
pub fn change_set_summary(c: &ChangeSet) -> String {
    format!(
        "{}{}{}{}{}{}{}{}{}<IncludeNestedStacks>false</IncludeNestedStacks>",
        el("StackId", &c.stack_id),
        el("StackName", &c.stack_name),
        el("ChangeSetId", &c.change_set_id),
        el("ChangeSetName", &c.name),
        el("ExecutionStatus", &c.execution_status),
        el("Status", &c.status),
        opt("StatusReason", c.status_reason.as_deref()),
        time("CreationTime", c.created),
        opt("Description", c.description.as_deref()),
    )
}

fn summary_parameters(s: &Summary, constraints: bool) -> String {
    members("Parameters", &s.parameters, |p| {
        let mut x = format!(
            "{}{}",
            el("ParameterKey", &p.name),
            opt("DefaultValue", p.default.as_deref())
        );
        if constraints {
            x.push_str(&el("ParameterType", p.param_type.as_str()));
        }
        x.push_str(&boolean("NoEcho", p.no_echo));
        x.push_str(&opt("Description", p.description.as_deref()));
        if constraints {
            x.push_str(&format!(
                "<ParameterConstraints>{}</ParameterConstraints>",
                if p.allowed_values.is_empty() {
                    String::new()
                } else {
                    strings("AllowedValues", &p.allowed_values)
                }
            ));
        }
        x
    })
}

fn capabilities(s: &Summary) -> String {
    let caps: Vec<String> = s.capabilities.iter().map(|c| c.to_string()).collect();
    format!(
        "{}{}",
        strings("Capabilities", &caps),
        opt("CapabilitiesReason", s.capabilities_reason.as_deref())
    )
}

/// GetTemplateSummary's result.
pub fn template_summary(s: &Summary) -> String {
    let identifiers = members(
        "ResourceIdentifierSummaries",
        &s.resources_by_type,
        |(t, ids, identifiers)| {
            format!(
                "{}{}{}",
                el("ResourceType", t),
                strings("LogicalResourceIds", ids),
                identifiers
                    .map(|i| members("ResourceIdentifiers", i, |s| crate::iam::xml::escape(s)))
                    .unwrap_or_default()
            )
        },
    );
    format!(
        "{}{}{}{}<Version>2010-09-09</Version>{}<DeclaredTransforms/>{identifiers}",
        summary_parameters(s, true),
        opt("Description", s.description.as_deref()),
        capabilities(s),
        strings("ResourceTypes", &s.resource_types),
        s.metadata
            .as_ref()
            .map(|m| el("Metadata", &m.to_string()))
            .unwrap_or_default(),
    )
}

/// ValidateTemplate's result.
pub fn validation(s: &Summary) -> String {
    format!(
        "{}{}{}<DeclaredTransforms/>",
        summary_parameters(s, false),
        opt("Description", s.description.as_deref()),
        capabilities(s),
    )
}
