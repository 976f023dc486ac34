//! Reading and writing CloudFormation's records through the store: stacks, resources and
//! events, each change of a resource committed together with the event that reports it.

use cairn_store::Connection;
use cairn_store::cloudformation as db;
use cairn_store::cloudformation_secrets as secrets;

use super::model::{ChangeSet, Stack, StackEvent, StackResource, from_body, to_body};
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The `ResourceType` of a stack's own events.
pub const STACK_TYPE: &str = "AWS::CloudFormation::Stack";

/// Writes a stack.
pub fn put_stack(conn: &Connection, s: &Stack, deleted: bool) -> ApiResult<()> {
    db::put_stack(
        conn,
        &db::StackRow {
            stack_id: s.stack_id.clone(),
            account: s.account.clone(),
            region: s.region.clone(),
            name: s.name.clone(),
            status: s.status.clone(),
            deleted,
            created: s.created,
            body: to_body(s)?,
        },
    )?;
    Ok(())
}

/// Reads a stack by id.
pub fn get_stack(conn: &Connection, stack_id: &str) -> ApiResult<Option<(Stack, bool)>> {
    db::get_stack(conn, stack_id)?
        .map(|r| Ok((from_body(&r.body)?, r.deleted)))
        .transpose()
}

/// The message AWS gives for a stack that does not exist.
pub fn no_such_stack(name: &str) -> ApiError {
    ApiError::new(
        ErrorKind::IamValidation,
        format!("Stack with id {name} does not exist"),
    )
}

/// Finds a stack by name (live stacks) or id (deleted ones too).
pub fn find_stack(
    conn: &Connection,
    account: &str,
    region: &str,
    name_or_id: &str,
) -> ApiResult<(Stack, bool)> {
    let found = if name_or_id.starts_with("arn:") {
        get_stack(conn, name_or_id)?.filter(|(s, _)| s.account == account && s.region == region)
    } else {
        db::live_stack(conn, account, region, name_or_id)?
            .map(|r| Ok::<_, ApiError>((from_body(&r.body)?, false)))
            .transpose()?
    };
    found.ok_or_else(|| no_such_stack(name_or_id))
}

/// A live stack by name or id (deleted stacks are not found).
pub fn find_live(
    conn: &Connection,
    account: &str,
    region: &str,
    name_or_id: &str,
) -> ApiResult<Stack> {
    match find_stack(conn, account, region, name_or_id)? {
        (s, false) => Ok(s),
        (_, true) => Err(no_such_stack(name_or_id)),
    }
}

/// A stack's resources.
pub fn resources(conn: &Connection, stack_id: &str) -> ApiResult<Vec<StackResource>> {
    db::resources(conn, stack_id)?
        .into_iter()
        .map(|(_, body)| {
            let mut r: StackResource = from_body(&body)?;
            // `Fn::GetAtt` secrets are sealed at rest (`cairn_store::cloudformation_secrets`).
            secrets::open(conn, stack_id, &r.logical_id, &mut r.attributes)?;
            Ok(r)
        })
        .collect()
}

/// Writes a resource.
pub fn put_resource(conn: &Connection, stack_id: &str, r: &StackResource) -> ApiResult<()> {
    let mut stored = r.clone();
    secrets::seal(conn, stack_id, &r.logical_id, &mut stored.attributes)?;
    db::put_resource(conn, stack_id, &r.logical_id, &to_body(&stored)?)?;
    Ok(())
}

/// Appends an event, and queues it for the stack's notification topics
/// ([`super::notify`]) in the same transaction.
pub fn append_event(conn: &Connection, e: &StackEvent) -> ApiResult<()> {
    db::append_event(conn, &e.stack_id, &to_body(e)?)?;
    if let Some((stack, _)) = get_stack(conn, &e.stack_id)? {
        super::notify::publish_event(conn, &stack, e)?;
    }
    Ok(())
}

/// A stack's events, newest first: (sequence, event).
pub fn events(
    conn: &Connection,
    stack_id: &str,
    before: Option<i64>,
    limit: usize,
) -> ApiResult<Vec<(i64, StackEvent)>> {
    db::events(conn, stack_id, before, limit)?
        .into_iter()
        .map(|(seq, body)| Ok((seq, from_body(&body)?)))
        .collect()
}

/// Builds an event.
#[allow(clippy::too_many_arguments)]
pub fn event(
    stack: &Stack,
    logical_id: &str,
    physical_id: Option<&str>,
    resource_type: &str,
    status: &str,
    reason: Option<&str>,
    properties: Option<String>,
    now: f64,
) -> StackEvent {
    StackEvent {
        // Unique however many events one resource has in a millisecond: the stack's own
        // events are a uuid, a resource's its logical id and a uuid, both forms AWS uses.
        // Events stored before keep the ids they were given.
        event_id: if resource_type == STACK_TYPE {
            crate::record::new_uuid()
        } else {
            format!("{logical_id}-{}", crate::record::new_uuid())
        },
        stack_id: stack.stack_id.clone(),
        stack_name: stack.name.clone(),
        logical_id: logical_id.to_owned(),
        physical_id: physical_id.map(str::to_owned),
        resource_type: resource_type.to_owned(),
        timestamp: now,
        status: status.to_owned(),
        reason: reason.map(str::to_owned),
        properties,
        client_request_token: stack.client_request_token.clone(),
    }
}

/// The stack's own event for its current status.
pub fn stack_event(stack: &Stack, now: f64) -> StackEvent {
    event(
        stack,
        &stack.name,
        Some(&stack.stack_id),
        STACK_TYPE,
        &stack.status,
        stack.status_reason.as_deref(),
        None,
        now,
    )
}

/// Epoch seconds as `2024-01-02T03:04:05.678Z`.
pub fn iso_millis(t: f64) -> String {
    let millis = (t * 1000.0).round() as i64;
    chrono::DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// Writes a change set.
pub fn put_change_set(conn: &Connection, c: &ChangeSet) -> ApiResult<()> {
    db::put_change_set(
        conn,
        &db::ChangeSetRow {
            change_set_id: c.change_set_id.clone(),
            stack_id: c.stack_id.clone(),
            name: c.name.clone(),
            created: c.created,
            body: to_body(c)?,
        },
    )?;
    Ok(())
}

/// A stack's change sets.
pub fn change_sets(conn: &Connection, stack_id: &str) -> ApiResult<Vec<ChangeSet>> {
    db::change_sets(conn, stack_id)?
        .into_iter()
        .map(|r| from_body(&r.body))
        .collect()
}
