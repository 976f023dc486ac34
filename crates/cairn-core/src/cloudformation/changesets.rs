//! Change sets: CreateChangeSet computes what an update (or a create, on a stack it leaves in
//! `REVIEW_IN_PROGRESS`) would do; ExecuteChangeSet starts it; Describe/List/Delete.

use cairn_store::Connection;

use super::model::{Caller, ChangeSet, Stack};
use super::prepare::{check_name, check_name_or_id, invalid, plan, prepare};
use super::providers::Registry;
use super::records::{self, put_stack, stack_event};
use super::stacks::{
    StackInput, UPDATABLE, begin_update, new_stack_id, pseudo_of, update_body, wrong_state,
};
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The reason of a change set without changes (the CLI's `deploy` looks for it).
pub const NO_CHANGES: &str = "The submitted information didn't contain changes. Submit different information to create a change set.";

fn not_found(name: &str) -> ApiError {
    ApiError::new(
        ErrorKind::CfnChangeSetNotFound,
        format!("ChangeSet [{name}] does not exist"),
    )
}

/// CreateChangeSet; returns the change set.
pub fn create_change_set(
    conn: &Connection,
    ctx: &CallContext,
    registry: &Registry,
    input: &StackInput,
    change_set_name: &str,
    change_set_type: &str,
    description: Option<String>,
) -> ApiResult<ChangeSet> {
    let (account, region) = (ctx.account().to_string(), ctx.region.to_string());
    // `StackName` is the stack's name or its id (`StackNameOrId`): an id names the live stack
    // it identifies, by whose name the rest goes on.
    let by_id;
    check_name_or_id(&input.name)?;
    let input = if input.name.starts_with("arn:") {
        let stack =
            records::find_live(conn, &account, &region, &input.name).map_err(|e| match e.kind {
                ErrorKind::IamValidation => {
                    invalid(format!("Stack [{}] does not exist", input.name))
                }
                _ => e,
            })?;
        by_id = StackInput {
            name: stack.name,
            ..input.clone()
        };
        &by_id
    } else {
        input
    };
    check_name(change_set_name, "changeSetName")?;
    super::stacks::check_tags(&input.tags)?;
    super::stacks::check_notification_arns(&input.notification_arns)?;
    let existing = cairn_store::cloudformation::live_stack(conn, &account, &region, &input.name)?
        .map(|r| super::model::from_body::<Stack>(&r.body))
        .transpose()?;
    let mut stack = match (change_set_type, existing) {
        ("CREATE", Some(s)) if s.status != "REVIEW_IN_PROGRESS" => {
            return Err(invalid(format!(
                "Stack [{}] already exists and cannot be created again with the changeSet [{change_set_name}].",
                input.name
            )));
        }
        ("CREATE", Some(s)) => s,
        ("CREATE", None) => {
            super::stacks::check_stack_quota(conn, ctx)?;
            let (disable_rollback, delete_on_failure) =
                super::stacks::on_failure(input, "onStackFailure")?;
            let stack_id = new_stack_id(ctx, &input.name);
            Stack {
                stack_id,
                name: input.name.clone(),
                account: account.clone(),
                region: region.clone(),
                status: "REVIEW_IN_PROGRESS".into(),
                status_reason: Some("User Initiated".into()),
                description: None,
                created: ctx.now,
                updated: None,
                deleted_time: None,
                template_body: String::new(),
                parameters: Vec::new(),
                tags: input.tags.clone().unwrap_or_default(),
                capabilities: input.capabilities.clone(),
                notification_arns: input.notification_arns.clone().unwrap_or_default(),
                role_arn: input.role_arn.clone(),
                disable_rollback,
                termination_protection: false,
                timeout_minutes: None,
                stack_policy: None,
                outputs: Vec::new(),
                caller: Caller::of(&ctx.principal)?,
                previous: None,
                change_set_id: None,
                retain_resources: Vec::new(),
                client_request_token: None,
                policy_during_update: None,
                delete_on_failure,
                rollback_configuration: Default::default(),
            }
        }
        ("UPDATE", Some(s)) if UPDATABLE.contains(&s.status.as_str()) => s,
        ("UPDATE", Some(s)) => return Err(wrong_state(&s, "updated")),
        ("UPDATE", None) => return Err(invalid(format!("Stack [{}] does not exist", input.name))),
        ("IMPORT", _) => {
            return Err(invalid(
                "Resource import is not supported by this Cairn release.",
            ));
        }
        (other, _) => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{other}' at 'changeSetType' failed to satisfy constraint: Member must satisfy enum value set: [IMPORT, UPDATE, CREATE]"
            )));
        }
    };
    if records::change_sets(conn, &stack.stack_id)?
        .iter()
        .any(|c| c.name == change_set_name)
    {
        return Err(ApiError::new(
            ErrorKind::CfnAlreadyExists,
            format!("ChangeSet [{change_set_name}] already exists"),
        ));
    }
    let body = if change_set_type == "CREATE" {
        super::prepare::body_of(
            input.template_body.as_deref(),
            input.template_from_url.as_deref(),
        )?
    } else {
        update_body(&stack, input)?
    };
    let notifications = input
        .notification_arns
        .clone()
        .unwrap_or_else(|| stack.notification_arns.clone());
    let pseudo = pseudo_of(ctx, &stack.name, &stack.stack_id, &notifications);
    let previous = (change_set_type == "UPDATE").then_some(stack.parameters.as_slice());
    let prepared = prepare(
        registry,
        &body,
        &input.parameters,
        previous,
        &input.capabilities,
        pseudo.clone(),
        input.resource_types.as_deref(),
    )?;
    super::stacks::check_role(conn, ctx, input.role_arn.as_deref())?;
    if let Some(c) = &input.rollback_configuration {
        super::rollback_triggers::check(ctx, c)?;
    }
    let rows = records::resources(conn, &stack.stack_id)?;
    let exports: Vec<(String, String)> =
        cairn_store::cloudformation::exports(conn, &account, &region)?
            .into_iter()
            .map(|(n, _, v)| (n, v))
            .collect();
    let current = (change_set_type == "UPDATE")
        .then(|| cairn_template::Template::parse(&stack.template_body).ok())
        .flatten();
    let before = current.as_ref().map(|t| (t, stack.parameters.as_slice()));
    let same_tags = input
        .tags
        .as_ref()
        .is_none_or(|t| super::model::same_tags(t, &stack.tags));
    let retag = change_set_type == "UPDATE" && !same_tags;
    // A change of a resource's type fails the change set, as on AWS; nothing is planned.
    let type_change = match change_set_type {
        "UPDATE" => super::stacks::type_change(conn, &stack, &prepared.template)?,
        _ => None,
    };
    let changes = match type_change {
        Some(_) => Vec::new(),
        None => plan(registry, &prepared, pseudo, &rows, &exports, before, retag)?,
    };
    let empty = change_set_type == "UPDATE"
        && changes.is_empty()
        && prepared.parameters == stack.parameters
        && same_tags
        && cairn_template::same_but_description(&body, &stack.template_body);
    if change_set_type == "CREATE" && stack.status == "REVIEW_IN_PROGRESS" {
        put_stack(conn, &stack, false)?;
        if records::change_sets(conn, &stack.stack_id)?.is_empty() {
            records::append_event(conn, &stack_event(&stack, ctx.now))?;
        }
    }
    stack.status_reason = None;
    let id = format!(
        "arn:aws:cloudformation:{region}:{account}:changeSet/{change_set_name}/{}",
        crate::record::new_uuid()
    );
    let cs = ChangeSet {
        change_set_id: id,
        name: change_set_name.to_owned(),
        stack_id: stack.stack_id.clone(),
        stack_name: stack.name.clone(),
        change_set_type: change_set_type.to_owned(),
        description,
        created: ctx.now,
        status: if empty || type_change.is_some() {
            "FAILED"
        } else {
            "CREATE_COMPLETE"
        }
        .into(),
        execution_status: if empty || type_change.is_some() {
            "UNAVAILABLE"
        } else {
            "AVAILABLE"
        }
        .into(),
        status_reason: type_change.or_else(|| empty.then(|| NO_CHANGES.to_owned())),
        template_body: body,
        parameters: prepared.parameters,
        tags: input.tags.clone().unwrap_or_else(|| stack.tags.clone()),
        capabilities: input.capabilities.clone(),
        notification_arns: notifications,
        role_arn: input.role_arn.clone().or_else(|| stack.role_arn.clone()),
        rollback_configuration: input.rollback_configuration.clone(),
        changes,
    };
    records::put_change_set(conn, &cs)?;
    Ok(cs)
}

/// Finds a change set by ARN, or by name within a stack. An ARN with a `StackName` must name
/// a change set of that stack (the call was authorized on the change set's own stack).
pub fn find_change_set(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    stack_name: Option<&str>,
) -> ApiResult<ChangeSet> {
    if name.starts_with("arn:") {
        let row = cairn_store::cloudformation::get_change_set(conn, name)?
            .ok_or_else(|| not_found(name))?;
        let cs: ChangeSet = super::model::from_body(&row.body)?;
        let ours = records::get_stack(conn, &cs.stack_id)?.is_some_and(|(s, _)| {
            s.account == ctx.account().as_str()
                && s.region == ctx.region.as_str()
                && stack_name.is_none_or(|n| n == s.name || n == cs.stack_id)
        });
        return if ours { Ok(cs) } else { Err(not_found(name)) };
    }
    let Some(stack_name) = stack_name else {
        return Err(invalid(
            "StackName must be specified if ChangeSetName is not specified as an ARN.",
        ));
    };
    let (stack, _) = records::find_stack(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        stack_name,
    )?;
    records::change_sets(conn, &stack.stack_id)?
        .into_iter()
        .find(|c| c.name == name)
        .ok_or_else(|| not_found(name))
}

/// ExecuteChangeSet: the stack, now `CREATE_IN_PROGRESS` or `UPDATE_IN_PROGRESS`.
pub fn execute_change_set(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    stack_name: Option<&str>,
    disable_rollback: Option<bool>,
    token: Option<String>,
) -> ApiResult<super::stacks::Accepted> {
    let mut cs = find_change_set(conn, ctx, name, stack_name)?;
    // A retry of the call that executed it (its `ClientRequestToken` again) answers as that
    // call did and starts nothing (cfn9: InvalidChangeSetStatus [EXECUTE_COMPLETE]).
    if cs.execution_status != "AVAILABLE"
        && let Some(t) = token.as_deref()
        && let Ok((stack, _)) = records::find_stack(
            conn,
            ctx.account().as_str(),
            ctx.region.as_str(),
            &cs.stack_id,
        )
        && stack.client_request_token.as_deref() == Some(t)
    {
        return Ok(super::stacks::Accepted {
            stack,
            new_work: false,
        });
    }
    if cs.status != "CREATE_COMPLETE" {
        return Err(ApiError::new(
            ErrorKind::CfnInvalidChangeSetStatus,
            format!(
                "ChangeSet [{}] cannot be executed in its current status of [{}]",
                cs.change_set_id, cs.status
            ),
        ));
    }
    if cs.execution_status != "AVAILABLE" {
        return Err(ApiError::new(
            ErrorKind::CfnInvalidChangeSetStatus,
            format!(
                "ChangeSet [{}] cannot be executed in its current execution status of [{}]",
                cs.change_set_id, cs.execution_status
            ),
        ));
    }
    let (mut stack, _) = records::find_stack(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        &cs.stack_id,
    )?;
    let description = cairn_template::Template::parse(&cs.template_body)
        .ok()
        .and_then(|t| t.description);
    if cs.change_set_type == "CREATE" {
        if stack.status != "REVIEW_IN_PROGRESS" {
            return Err(wrong_state(&stack, "updated"));
        }
        stack.template_body = cs.template_body.clone();
        stack.parameters = cs.parameters.clone();
        stack.tags = cs.tags.clone();
        stack.capabilities = cs.capabilities.clone();
        stack.notification_arns = cs.notification_arns.clone();
        stack.role_arn = cs.role_arn.clone();
        stack.rollback_configuration = cs.rollback_configuration.clone().unwrap_or_default();
        stack.description = description;
        // ExecuteChangeSet's DisableRollback, else the change set's OnStackFailure.
        stack.disable_rollback = disable_rollback.unwrap_or(stack.disable_rollback);
        if stack.disable_rollback {
            stack.delete_on_failure = false;
        }
        stack.caller = Caller::of(&ctx.principal)?;
        stack.client_request_token = token;
        stack.status = "CREATE_IN_PROGRESS".into();
        stack.status_reason = Some("User Initiated".into());
    } else {
        if !UPDATABLE.contains(&stack.status.as_str()) {
            return Err(wrong_state(&stack, "updated"));
        }
        let input = StackInput {
            tags: Some(cs.tags.clone()),
            notification_arns: Some(cs.notification_arns.clone()),
            role_arn: cs.role_arn.clone(),
            rollback_configuration: cs.rollback_configuration.clone(),
            disable_rollback,
            capabilities: cs.capabilities.clone(),
            client_request_token: token,
            ..Default::default()
        };
        begin_update(
            &mut stack,
            ctx,
            &input,
            cs.template_body.clone(),
            cs.parameters.clone(),
            description,
        )?;
    }
    stack.change_set_id = Some(cs.change_set_id.clone());
    for other in records::change_sets(conn, &stack.stack_id)? {
        if other.change_set_id != cs.change_set_id {
            cairn_store::cloudformation::delete_change_set(conn, &other.change_set_id)?;
        }
    }
    cs.execution_status = "EXECUTE_IN_PROGRESS".into();
    records::put_change_set(conn, &cs)?;
    put_stack(conn, &stack, false)?;
    records::append_event(conn, &stack_event(&stack, ctx.now))?;
    Ok(super::stacks::Accepted {
        stack,
        new_work: true,
    })
}

/// DeleteChangeSet. As on AWS, a change set named (not by ARN) on a stack that exists is
/// deleted successfully even when the stack has no change set of that name: the AWS CDK's
/// CLI relies on it to clear its fixed-name change set before each deploy and diff.
pub fn delete_change_set(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    stack_name: Option<&str>,
) -> ApiResult<()> {
    let cs = match find_change_set(conn, ctx, name, stack_name) {
        Ok(cs) => cs,
        Err(e) if e.kind == ErrorKind::CfnChangeSetNotFound && !name.starts_with("arn:") => {
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    if cs.execution_status == "EXECUTE_IN_PROGRESS" {
        return Err(ApiError::new(
            ErrorKind::CfnInvalidChangeSetStatus,
            format!(
                "ChangeSet [{}] cannot be deleted in its current status of [{}]",
                cs.change_set_id, cs.execution_status
            ),
        ));
    }
    cairn_store::cloudformation::delete_change_set(conn, &cs.change_set_id)?;
    Ok(())
}

/// ListChangeSets.
pub fn list_change_sets(
    conn: &Connection,
    ctx: &CallContext,
    key: &crate::token::TokenKey,
    stack_name: &str,
    next: Option<&str>,
) -> ApiResult<(Vec<ChangeSet>, Option<String>)> {
    let (stack, _) = records::find_stack(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        stack_name,
    )?;
    let all = records::change_sets(conn, &stack.stack_id)?;
    // The store's order: creation time, then change set id.
    super::pages::Listing::new(key, ctx, "ListChangeSets", &[&stack.stack_id]).page(
        all,
        next,
        |c| super::pages::timed(c.created, &c.change_set_id),
        |c, p| super::pages::after_timed(c.created, &c.change_set_id, p, false),
    )
}

/// Marks a stack's change sets that are still to be executed `OBSOLETE`: a direct update
/// changed the stack they were computed against, and running one would silently undo it
/// (CloudFormation's `ExecutionStatus` "OBSOLETE … because the stack was already updated").
pub fn obsolete_change_sets(conn: &Connection, stack_id: &str) -> ApiResult<()> {
    for row in cairn_store::cloudformation::change_sets(conn, stack_id)? {
        let mut cs: ChangeSet = super::model::from_body(&row.body)?;
        if cs.execution_status == "AVAILABLE" || cs.execution_status == "UNAVAILABLE" {
            cs.execution_status = "OBSOLETE".into();
            records::put_change_set(conn, &cs)?;
        }
    }
    Ok(())
}

/// Marks the change set a finished operation executed (engine): once, when its execution
/// ends; the later statuses of the same operation (a rollback's) leave it as it is.
pub fn finish_change_set(conn: &Connection, change_set_id: &str, succeeded: bool) -> ApiResult<()> {
    if let Some(row) = cairn_store::cloudformation::get_change_set(conn, change_set_id)? {
        let mut cs: ChangeSet = super::model::from_body(&row.body)?;
        if cs.execution_status != "EXECUTE_IN_PROGRESS" {
            return Ok(());
        }
        cs.execution_status = if succeeded {
            "EXECUTE_COMPLETE"
        } else {
            "EXECUTE_FAILED"
        }
        .into();
        records::put_change_set(conn, &cs)?;
    }
    Ok(())
}
