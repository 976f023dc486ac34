//! The read operations: stacks, events, resources, templates, template summaries,
//! ValidateTemplate, exports and imports; the lists in pages ([`super::pages`]).

use cairn_store::Connection;
use serde_json::Value;

use super::model::{Stack, StackEvent, StackResource};
use super::pages::{self, Listing};
use super::prepare::{capability_names, invalid, needed_capabilities, template};
use super::providers::Registry;
use super::records::{self, find_stack};
use crate::CallContext;
use crate::error::ApiResult;
use crate::token::TokenKey;

fn scope(ctx: &CallContext) -> (String, String) {
    (ctx.account().to_string(), ctx.region.to_string())
}

/// DescribeStacks: one stack (by name: live; by id: deleted too), or a page of the live
/// stacks, newest first, and the next page's token.
pub fn describe_stacks(
    conn: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    name: Option<&str>,
    next: Option<&str>,
) -> ApiResult<(Vec<Stack>, Option<String>)> {
    let (account, region) = scope(ctx);
    match name {
        Some(n) => Ok((vec![find_stack(conn, &account, &region, n)?.0], None)),
        None => {
            let live = cairn_store::cloudformation::list_stacks(conn, &account, &region)?
                .into_iter()
                .filter(|r| !r.deleted)
                .map(|r| super::model::from_body(&r.body))
                .collect::<ApiResult<Vec<Stack>>>()?;
            stack_page(Listing::new(key, ctx, "DescribeStacks", &[]), live, next)
        }
    }
}

/// A page of stacks listed newest first (the store's order: creation time descending, then
/// stack id).
fn stack_page(
    listing: Listing<'_>,
    stacks: Vec<Stack>,
    next: Option<&str>,
) -> ApiResult<(Vec<Stack>, Option<String>)> {
    listing.page(
        stacks,
        next,
        |s| pages::timed(s.created, &s.stack_id),
        |s, p| pages::after_timed(s.created, &s.stack_id, p, true),
    )
}

/// ListStacks: a page of every stack, deleted ones too, filtered by status, and the next
/// page's token.
pub fn list_stacks(
    conn: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    statuses: &[String],
    next: Option<&str>,
) -> ApiResult<(Vec<Stack>, Option<String>)> {
    let (account, region) = scope(ctx);
    let all: Vec<Stack> = cairn_store::cloudformation::list_stacks(conn, &account, &region)?
        .into_iter()
        .map(|r| super::model::from_body(&r.body))
        .collect::<ApiResult<_>>()?;
    let chosen = all
        .into_iter()
        .filter(|s| statuses.is_empty() || statuses.contains(&s.status))
        .collect();
    let mut filter = statuses.to_vec();
    filter.sort();
    filter.dedup();
    let params: Vec<&str> = filter.iter().map(String::as_str).collect();
    stack_page(Listing::new(key, ctx, "ListStacks", &params), chosen, next)
}

/// Events per page.
pub const EVENTS_PAGE: usize = 100;

/// DescribeStackEvents: a page of events, newest first, and the next page's token (sealed:
/// the sequence of the page's last event, for this stack).
pub fn stack_events(
    conn: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    name: &str,
    next: Option<&str>,
) -> ApiResult<(Vec<StackEvent>, Option<String>)> {
    let (account, region) = scope(ctx);
    let (stack, _) = find_stack(conn, &account, &region, name)?;
    let listing = Listing::new(key, ctx, "DescribeStackEvents", &[&stack.stack_id]);
    let before = match listing.open(next)? {
        None => None,
        Some(p) => Some(p.parse::<i64>().map_err(|_| invalid("Invalid NextToken"))?),
    };
    let page = records::events(conn, &stack.stack_id, before, EVENTS_PAGE + 1)?;
    let more = page.len() > EVENTS_PAGE;
    let events: Vec<(i64, StackEvent)> = page.into_iter().take(EVENTS_PAGE).collect();
    let token = if more {
        events.last().map(|(s, _)| listing.seal(&s.to_string()))
    } else {
        None
    };
    Ok((events.into_iter().map(|(_, e)| e).collect(), token))
}

/// ListStackResources: a page of a stack's resources by logical id, and the next page's
/// token.
pub fn list_stack_resources(
    conn: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    name: &str,
    next: Option<&str>,
) -> ApiResult<(Vec<StackResource>, Option<String>)> {
    let (stack, rows) = stack_resources(conn, ctx, Some(name), None)?;
    Listing::new(key, ctx, "ListStackResources", &[&stack.stack_id]).page(
        rows,
        next,
        |r| r.logical_id.clone(),
        |r, p| r.logical_id.as_str() > p,
    )
}

/// A stack's resources (of a stack found by name or id, or the stack holding a physical id).
pub fn stack_resources(
    conn: &Connection,
    ctx: &CallContext,
    name: Option<&str>,
    physical_id: Option<&str>,
) -> ApiResult<(Stack, Vec<StackResource>)> {
    let (account, region) = scope(ctx);
    // The API reference: "You must specify either StackName or PhysicalResourceId, but not
    // both" (a ValidationError). The text is Cairn's.
    if name.is_some() && physical_id.is_some() {
        return Err(invalid(
            "Specify either StackName or PhysicalResourceId, but not both.",
        ));
    }
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
    /// Logical ids by type, and the properties that identify a resource of the type for an
    /// import (`None` when CloudFormation cannot import it).
    pub resources_by_type: Vec<TypeSummary>,
    /// `Metadata`.
    pub metadata: Option<Value>,
}

/// One type of GetTemplateSummary's `ResourceIdentifierSummaries`: the type, its logical ids,
/// and the properties an import identifies it by.
pub type TypeSummary = (String, Vec<String>, Option<&'static [&'static str]>);

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
                super::providers::schema::import_identifiers(ty),
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

/// An export: (name, value, exporting stack id).
pub type Export = (String, String, String);

/// ListExports: a page of (name, value, exporting stack id) by name, and the next page's
/// token.
pub fn list_exports(
    conn: &Connection,
    ctx: &CallContext,
    key: &TokenKey,
    next: Option<&str>,
) -> ApiResult<(Vec<Export>, Option<String>)> {
    let (account, region) = scope(ctx);
    let all = cairn_store::cloudformation::exports(conn, &account, &region)?
        .into_iter()
        .map(|(n, s, v)| (n, v, s))
        .collect();
    Listing::new(key, ctx, "ListExports", &[]).page(
        all,
        next,
        |(n, _, _)| n.clone(),
        |(n, _, _), p| n.as_str() > p,
    )
}
