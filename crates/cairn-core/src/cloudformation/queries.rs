//! The read operations: stacks, events, resources, templates, template summaries,
//! ValidateTemplate, exports and imports.

use cairn_store::Connection;
use serde_json::Value;

use super::model::{Stack, StackEvent, StackResource};
use super::prepare::{capability_names, invalid, needed_capabilities, template};
use super::providers::Registry;
use super::records::{self, find_stack};
use crate::CallContext;
use crate::error::ApiResult;

fn scope(ctx: &CallContext) -> (String, String) {
    (ctx.account().to_string(), ctx.region.to_string())
}

/// DescribeStacks: one stack (by name: live; by id: deleted too), or every live stack.
pub fn describe_stacks(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
) -> ApiResult<Vec<Stack>> {
    let (account, region) = scope(ctx);
    match name {
        Some(n) => Ok(vec![find_stack(conn, &account, &region, n)?.0]),
        None => cairn_store::cloudformation::list_stacks(conn, &account, &region)?
            .into_iter()
            .filter(|r| !r.deleted)
            .map(|r| super::model::from_body(&r.body))
            .collect(),
    }
}

/// ListStacks: every stack, deleted ones too, filtered by status.
pub fn list_stacks(
    conn: &Connection,
    ctx: &CallContext,
    statuses: &[String],
) -> ApiResult<Vec<Stack>> {
    let (account, region) = scope(ctx);
    let all: Vec<Stack> = cairn_store::cloudformation::list_stacks(conn, &account, &region)?
        .into_iter()
        .map(|r| super::model::from_body(&r.body))
        .collect::<ApiResult<_>>()?;
    Ok(all
        .into_iter()
        .filter(|s| statuses.is_empty() || statuses.contains(&s.status))
        .collect())
}

/// Events per page.
pub const EVENTS_PAGE: usize = 100;

/// DescribeStackEvents: a page of events, newest first, and the next page's token.
pub fn stack_events(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    next: Option<&str>,
) -> ApiResult<(Vec<StackEvent>, Option<String>)> {
    let (account, region) = scope(ctx);
    let (stack, _) = find_stack(conn, &account, &region, name)?;
    let before = match next {
        None => None,
        Some(t) => Some(t.parse::<i64>().map_err(|_| invalid("Invalid NextToken"))?),
    };
    let page = records::events(conn, &stack.stack_id, before, EVENTS_PAGE + 1)?;
    let more = page.len() > EVENTS_PAGE;
    let events: Vec<(i64, StackEvent)> = page.into_iter().take(EVENTS_PAGE).collect();
    let token = if more {
        events.last().map(|(s, _)| s.to_string())
    } else {
        None
    };
    Ok((events.into_iter().map(|(_, e)| e).collect(), token))
}

/// A stack's resources (of a stack found by name or id, or the stack holding a physical id).
pub fn stack_resources(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
    physical_id: Option<&str>,
) -> ApiResult<(Stack, Vec<StackResource>)> {
    let (account, region) = scope(ctx);
    if let Some(n) = name {
        let (stack, _) = find_stack(conn, &account, &region, n)?;
        let rows = records::resources(conn, &stack.stack_id)?;
        return Ok((stack, rows));
    }
    let Some(pid) = physical_id else {
        return Err(invalid(
            "Either StackName or PhysicalResourceId must be specified.",
        ));
    };
    for row in cairn_store::cloudformation::list_stacks(conn, &account, &region)? {
        if row.deleted {
            continue;
        }
        let rows = records::resources(conn, &row.stack_id)?;
        if rows.iter().any(|r| r.physical_id.as_deref() == Some(pid)) {
            return Ok((super::model::from_body(&row.body)?, rows));
        }
    }
    Err(invalid(format!("Stack for {pid} does not exist")))
}

/// What GetTemplateSummary and ValidateTemplate report about a template.
pub struct Summary {
    /// Parameters: key, default, type, no-echo, description, allowed values.
    pub parameters: Vec<cairn_template::Parameter>,
    /// `Description`.
    pub description: Option<String>,
    /// Capabilities it needs.
    pub capabilities: Vec<&'static str>,
    /// Why.
    pub capabilities_reason: Option<String>,
    /// Resource types.
    pub resource_types: Vec<String>,
    /// Logical ids by type.
    pub resources_by_type: Vec<(String, Vec<String>)>,
    /// `Metadata`.
    pub metadata: Option<Value>,
}

/// Summarises a template body.
pub fn summarize(registry: &Registry, body: &str) -> ApiResult<Summary> {
    let t = template(registry, body)?;
    let needed = needed_capabilities(registry, &t);
    let capabilities = capability_names(&needed);
    let iam: Vec<String> = t
        .resources
        .iter()
        .filter(|r| {
            registry
                .get(&r.resource_type)
                .and_then(|p| p.capability(&r.properties))
                .is_some()
        })
        .map(|r| format!("{} ({})", r.logical_id, r.resource_type))
        .collect();
    let capabilities_reason = (!iam.is_empty()).then(|| {
        format!(
            "The following resource(s) require capabilities: [{}]",
            t.resources
                .iter()
                .filter(|r| registry
                    .get(&r.resource_type)
                    .and_then(|p| p.capability(&r.properties))
                    .is_some())
                .map(|r| r.resource_type.clone())
                .collect::<Vec<_>>()
                .join(", ")
        )
    });
    let types = t.resource_types();
    let by_type = types
        .iter()
        .map(|ty| {
            (
                ty.clone(),
                t.resources
                    .iter()
                    .filter(|r| &r.resource_type == ty)
                    .map(|r| r.logical_id.clone())
                    .collect(),
            )
        })
        .collect();
    Ok(Summary {
        parameters: t.parameters.clone(),
        description: t.description.clone(),
        capabilities,
        capabilities_reason,
        resource_types: types,
        resources_by_type: by_type,
        metadata: t.metadata().cloned(),
    })
}

/// ListImports: the names of the stacks importing an export.
pub fn list_imports(conn: &Connection, ctx: &CallContext, export: &str) -> ApiResult<Vec<String>> {
    let (account, region) = scope(ctx);
    let mut names = Vec::new();
    for id in cairn_store::cloudformation::importers(conn, &account, &region, export)? {
        if let Some((s, false)) = records::get_stack(conn, &id)? {
            names.push(s.name);
        }
    }
    if names.is_empty() {
        return Err(invalid(format!(
            "Export '{export}' is not imported by any stack."
        )));
    }
    Ok(names)
}

/// ListExports: (name, value, exporting stack id).
pub fn list_exports(
    conn: &Connection,
    ctx: &CallContext,
) -> ApiResult<Vec<(String, String, String)>> {
    let (account, region) = scope(ctx);
    Ok(
        cairn_store::cloudformation::exports(conn, &account, &region)?
            .into_iter()
            .map(|(n, s, v)| (n, v, s))
            .collect(),
    )
}
