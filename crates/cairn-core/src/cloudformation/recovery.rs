//! The operations that steer a stack operation that went wrong: ContinueUpdateRollback takes a
//! stack out of `UPDATE_ROLLBACK_FAILED` (optionally skipping resources that cannot be
//! restored), CancelUpdateStack turns an update in progress into its rollback, and
//! RollbackStack rolls back a create or update that failed with rollback disabled. Like the other operations
//! that start work they run inside their call's transaction and leave the rest to the engine.

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use cairn_store::Connection;

use super::model::{Caller, Stack};
use super::prepare::invalid;
use super::records::{self, find_live, put_stack, stack_event};
use super::stacks::{check_role, wrong_state};
use crate::CallContext;
use crate::error::ApiResult;

/// The reason a skipped resource's `UPDATE_COMPLETE` event gives (Cairn's wording).
pub const SKIPPED: &str = "Resource skipped during UPDATE_ROLLBACK";

/// The reason an update ends with when it was cancelled.
pub const CANCELLED: &str = "Stack update cancelled";

/// Stacks whose update in progress was asked to stop (by stack id); the engine starts no
/// further resource and takes the request when the resources running are done. A restart forgets them, but an update interrupted by
/// a restart rolls back anyway.
static CANCELS: LazyLock<Mutex<HashSet<String>>> = LazyLock::new(Default::default);

/// Whether the update of `stack_id` was cancelled; forgets the request.
pub fn take_cancel(stack_id: &str) -> bool {
    CANCELS
        .lock()
        .map(|mut s| s.remove(stack_id))
        .unwrap_or(false)
}

/// Whether the update of `stack_id` was cancelled (the request stays).
pub fn cancelled(stack_id: &str) -> bool {
    CANCELS
        .lock()
        .map(|s| s.contains(stack_id))
        .unwrap_or(false)
}

/// CancelUpdateStack: asks the engine to roll back the update in progress.
pub fn cancel_update_stack(conn: &Connection, ctx: &CallContext, name: &str) -> ApiResult<()> {
    let stack = find_live(conn, ctx.account().as_str(), ctx.region.as_str(), name)?;
    if stack.status != "UPDATE_IN_PROGRESS" {
        return Err(invalid(
            "CancelUpdateStack cannot be called from current stack status",
        ));
    }
    if let Ok(mut s) = CANCELS.lock() {
        s.insert(stack.stack_id);
    }
    Ok(())
}

/// ContinueUpdateRollback: the stack, back in `UPDATE_ROLLBACK_IN_PROGRESS`, with the
/// resources in `skip` marked `UPDATE_COMPLETE` as they are (AWS's rule: only resources whose
/// rollback failed, in `UPDATE_FAILED`, can be skipped).
pub fn continue_update_rollback(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    role_arn: Option<String>,
    skip: &[String],
    token: Option<String>,
) -> ApiResult<Stack> {
    let mut stack = find_live(conn, ctx.account().as_str(), ctx.region.as_str(), name)?;
    if stack.status != "UPDATE_ROLLBACK_FAILED" {
        return Err(invalid(format!(
            "Stack:{} is in {} state and can not continue its update rollback. \
             ContinueUpdateRollback applies only to a stack in UPDATE_ROLLBACK_FAILED state.",
            stack.stack_id, stack.status
        )));
    }
    check_role(conn, ctx, role_arn.as_deref())?;
    let rows = records::resources(conn, &stack.stack_id)?;
    let mut skipped = Vec::new();
    for id in skip {
        match rows.iter().find(|r| &r.logical_id == id) {
            Some(r) if r.status == "UPDATE_FAILED" => skipped.push(r.clone()),
            Some(r) => {
                return Err(invalid(format!(
                    "Resource [{id}] is in {} state and cannot be skipped: only resources in \
                     UPDATE_FAILED state can be skipped",
                    r.status
                )));
            }
            None => {
                return Err(invalid(format!(
                    "Resource [{id}] does not exist in stack [{}]",
                    stack.name
                )));
            }
        }
    }
    stack.caller = Caller::of(&ctx.principal)?;
    if role_arn.is_some() {
        stack.role_arn = role_arn;
    }
    stack.client_request_token = token;
    stack.status = "UPDATE_ROLLBACK_IN_PROGRESS".into();
    stack.status_reason = Some("User Initiated".into());
    put_stack(conn, &stack, false)?;
    records::append_event(conn, &stack_event(&stack, ctx.now))?;
    for mut row in skipped {
        // The resource keeps what the failed update made of it; the rollback leaves it alone.
        row.update = None;
        row.status = "UPDATE_COMPLETE".into();
        row.status_reason = Some(SKIPPED.into());
        row.updated = ctx.now;
        records::put_resource(conn, &stack.stack_id, &row)?;
        let event = records::event(
            &stack,
            &row.logical_id,
            row.physical_id.as_deref(),
            &row.resource_type,
            "UPDATE_COMPLETE",
            Some(SKIPPED),
            None,
            ctx.now,
        );
        records::append_event(conn, &event)?;
    }
    Ok(stack)
}

/// RollbackStack: a stack left in `CREATE_FAILED` or `UPDATE_FAILED` (rollback disabled) goes
/// back to its last stable state. A failed create has none, so its rollback deletes what it
/// made (`ROLLBACK_IN_PROGRESS`, ending `ROLLBACK_COMPLETE`); a failed update is rolled back to
/// the template before it (`UPDATE_ROLLBACK_IN_PROGRESS`), as if rollback had been on.
pub fn rollback_stack(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    role_arn: Option<String>,
    token: Option<String>,
) -> ApiResult<Stack> {
    let mut stack = find_live(conn, ctx.account().as_str(), ctx.region.as_str(), name)?;
    let next = match stack.status.as_str() {
        "CREATE_FAILED" => "ROLLBACK_IN_PROGRESS",
        "UPDATE_FAILED" if stack.previous.is_some() => "UPDATE_ROLLBACK_IN_PROGRESS",
        _ => return Err(wrong_state(&stack, "rolled back")),
    };
    check_role(conn, ctx, role_arn.as_deref())?;
    stack.caller = Caller::of(&ctx.principal)?;
    if role_arn.is_some() {
        stack.role_arn = role_arn;
    }
    stack.client_request_token = token;
    stack.status = next.into();
    stack.status_reason = Some("User Initiated".into());
    put_stack(conn, &stack, false)?;
    records::append_event(conn, &stack_event(&stack, ctx.now))?;
    Ok(stack)
}
