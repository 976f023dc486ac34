//! The stack operations that start work (CreateStack, UpdateStack, DeleteStack) and the
//! settings calls (stack policy, termination protection). Each runs inside its call's store
//! transaction: it checks the request, writes the stack with its new `_IN_PROGRESS` status and
//! the stack event, and the engine takes it from there.

use cairn_store::Connection;
use cairn_template::{Given, Pseudo};

use super::model::{Caller, Previous, Stack};
use super::prepare::{body_of, check_name, invalid, prepare};
use super::providers::Registry;
use super::records::{self, find_live, put_stack, stack_event};
use super::stack_policy;
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// The members CreateStack and UpdateStack (and CreateChangeSet) share.
#[derive(Clone, Debug, Default)]
pub struct StackInput {
    /// `StackName`.
    pub name: String,
    /// `TemplateBody`.
    pub template_body: Option<String>,
    /// The template read from the request's `TemplateURL` (the edge reads it as the caller).
    pub template_from_url: Option<String>,
    /// `UsePreviousTemplate`.
    pub use_previous_template: bool,
    /// `Parameters`.
    pub parameters: Vec<Given>,
    /// `Capabilities`.
    pub capabilities: Vec<String>,
    /// `Tags` (`None`: keep the stack's).
    pub tags: Option<Vec<(String, String)>>,
    /// `NotificationARNs`.
    pub notification_arns: Option<Vec<String>>,
    /// `RoleARN`.
    pub role_arn: Option<String>,
    /// `DisableRollback`.
    pub disable_rollback: Option<bool>,
    /// `OnFailure`.
    pub on_failure: Option<String>,
    /// `EnableTerminationProtection`.
    pub termination_protection: Option<bool>,
    /// `TimeoutInMinutes`.
    pub timeout_minutes: Option<i64>,
    /// `StackPolicyBody`.
    pub stack_policy: Option<String>,
    /// `StackPolicyDuringUpdateBody`.
    pub policy_during_update: Option<String>,
    /// `ClientRequestToken`.
    pub client_request_token: Option<String>,
    /// `ResourceTypes`, when sent: the template may hold only these types.
    pub resource_types: Option<Vec<String>>,
    /// `RollbackConfiguration` (`None`: keep the stack's).
    pub rollback_configuration: Option<super::rollback_triggers::RollbackConfiguration>,
}

/// The pseudo parameters of a stack.
pub fn pseudo_of(
    ctx: &CallContext,
    name: &str,
    stack_id: &str,
    notifications: &[String],
) -> Pseudo {
    Pseudo {
        account_id: ctx.account().to_string(),
        region: ctx.region.to_string(),
        stack_name: name.to_owned(),
        stack_id: stack_id.to_owned(),
        notification_arns: notifications.to_vec(),
    }
}

/// A new stack id.
pub fn new_stack_id(ctx: &CallContext, name: &str) -> String {
    format!(
        "arn:aws:cloudformation:{}:{}:stack/{name}/{}",
        ctx.region,
        ctx.account(),
        crate::record::new_uuid()
    )
}

fn check_policy(p: Option<&String>) -> ApiResult<()> {
    if let Some(p) = p {
        stack_policy::check(p).map_err(invalid)?;
    }
    Ok(())
}

/// A stack's `NotificationARNs`: each an SNS topic ARN with a 12-digit account, as SNS checks
/// them when the operation is requested; else `ValidationError` quoting SNS's refusal (the
/// CDK's `--notification-arns arn:aws:sns:us-east-1::t` fails so at the change set call).
pub(crate) fn check_notification_arns(arns: &Option<Vec<String>>) -> ApiResult<()> {
    for arn in arns.iter().flatten() {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let what = if parts.len() < 6
            || parts[0] != "arn"
            || parts[2] != "sns"
            || parts[3].is_empty()
            || parts[5].is_empty()
        {
            "TopicArn"
        } else if parts[4].len() != 12 || !parts[4].bytes().all(|b| b.is_ascii_digit()) {
            "AccountId"
        } else {
            continue;
        };
        return Err(invalid(format!(
            "Invalid parameter: {what} (Service: AmazonSNS; Status Code: 400; Error Code: InvalidParameter; Request ID: {})",
            crate::record::new_uuid()
        )));
    }
    Ok(())
}

/// A stack's `Tags`: at most 50, each key 1 to 128 characters and each value 1 to 256 (the
/// model's `TagKey` and `TagValue`), so a tag no resource could take never reaches a stack.
pub(crate) fn check_tags(tags: &Option<Vec<(String, String)>>) -> ApiResult<()> {
    let Some(t) = tags else { return Ok(()) };
    if t.len() > 50 {
        return Err(invalid(
            "1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50",
        ));
    }
    for (i, (k, v)) in t.iter().enumerate() {
        for (member, text, max) in [("key", k, 128), ("value", v, 256)] {
            let n = text.chars().count();
            let bound = if n < 1 {
                "greater than or equal to 1".to_owned()
            } else if n > max {
                format!("less than or equal to {max}")
            } else {
                continue;
            };
            return Err(invalid(format!(
                "1 validation error detected: Value '{text}' at 'tags.{}.member.{member}' failed to satisfy constraint: Member must have length {bound}",
                i + 1
            )));
        }
    }
    // `aws:` in any case is AWS's own prefix: a stack's tags reach its resources, where
    // no service lets a requester remove such a tag again.
    if t.iter()
        .any(|(k, _)| k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:")))
    {
        return Err(invalid(
            "aws: prefixed tag key names are not allowed for external use.",
        ));
    }
    Ok(())
}

/// Checks a `RoleARN` when the call is made, as CloudFormation does: the role must exist in
/// the caller's account and its trust policy must let `cloudformation.amazonaws.com` assume it
/// (the same decision the engine's AssumeRole takes later).
pub fn check_role(conn: &Connection, ctx: &CallContext, role_arn: Option<&str>) -> ApiResult<()> {
    let Some(arn) = role_arn else {
        return Ok(());
    };
    let refused = || invalid(format!("Role {arn} is invalid or cannot be assumed"));
    let account = ctx.account().clone();
    let Some(trust) = crate::iam::role_trust_policy(conn, account.as_str(), arn)? else {
        return Err(refused());
    };
    let service = CallContext {
        principal: cairn_model::Principal::Service {
            account,
            name: "cloudformation.amazonaws.com".to_owned(),
        },
        ..ctx.clone()
    };
    let request = crate::sts::AssumeRoleContext {
        external_id: None,
        session_name: "AWSCloudFormation",
        source_identity: None,
        tags: &[],
        transitive_tag_keys: &[],
    };
    if crate::sts::trust_allows(conn, &service, &trust, &request)? {
        Ok(())
    } else {
        Err(refused())
    }
}

/// CreateStack: the stack, `CREATE_IN_PROGRESS`.
pub fn create_stack(
    conn: &Connection,
    ctx: &CallContext,
    registry: &Registry,
    input: &StackInput,
) -> ApiResult<Accepted> {
    check_name(&input.name, "stackName")?;
    let body = body_of(
        input.template_body.as_deref(),
        input.template_from_url.as_deref(),
    )?;
    if input.on_failure.is_some() && input.disable_rollback.is_some() {
        return Err(invalid(
            "You cannot specify both DisableRollback and OnFailure.",
        ));
    }
    check_tags(&input.tags)?;
    check_notification_arns(&input.notification_arns)?;
    check_policy(input.stack_policy.as_ref())?;
    if let Some(c) = &input.rollback_configuration {
        super::rollback_triggers::check(ctx, c)?;
    }
    let account = ctx.account().to_string();
    if cairn_store::cloudformation::live_stack(conn, &account, ctx.region.as_str(), &input.name)?
        .is_some()
    {
        let (live, _) = records::find_stack(conn, &account, ctx.region.as_str(), &input.name)?;
        if let Some(retry) = retried(live, input, "CREATE_", "ROLLBACK_") {
            return Ok(retry);
        }
        return Err(ApiError::new(
            ErrorKind::CfnAlreadyExists,
            format!("Stack [{}] already exists", input.name),
        ));
    }
    check_stack_quota(conn, ctx)?;
    let stack_id = new_stack_id(ctx, &input.name);
    let notifications = input.notification_arns.clone().unwrap_or_default();
    let prepared = prepare(
        registry,
        &body,
        &input.parameters,
        None,
        &input.capabilities,
        pseudo_of(ctx, &input.name, &stack_id, &notifications),
        input.resource_types.as_deref(),
    )?;
    check_role(conn, ctx, input.role_arn.as_deref())?;
    let (disable_rollback, delete_on_failure) = on_failure(input, "onFailure")?;
    let stack = Stack {
        stack_id,
        name: input.name.clone(),
        account,
        region: ctx.region.to_string(),
        status: "CREATE_IN_PROGRESS".into(),
        status_reason: Some("User Initiated".into()),
        description: prepared.template.description.clone(),
        created: ctx.now,
        updated: None,
        deleted_time: None,
        template_body: body,
        parameters: prepared.parameters,
        tags: input.tags.clone().unwrap_or_default(),
        capabilities: input.capabilities.clone(),
        notification_arns: notifications,
        role_arn: input.role_arn.clone(),
        disable_rollback,
        termination_protection: input.termination_protection.unwrap_or(false),
        timeout_minutes: input.timeout_minutes,
        stack_policy: input.stack_policy.clone(),
        outputs: Vec::new(),
        caller: Caller::of(&ctx.principal)?,
        previous: None,
        change_set_id: None,
        retain_resources: Vec::new(),
        rollback_configuration: input.rollback_configuration.clone().unwrap_or_default(),
        client_request_token: input.client_request_token.clone(),
        policy_during_update: None,
        delete_on_failure,
    };
    put_stack(conn, &stack, false)?;
    records::append_event(conn, &stack_event(&stack, ctx.now))?;
    Ok(Accepted::new(stack))
}

/// The most live stacks an account may have in a region (CloudFormation's quota).
pub const MAX_STACKS: u64 = 2000;

/// Refuses a new stack past [`MAX_STACKS`] in the call's region (hostile10: a user with only
/// `cloudformation:*` made 2,100 stacks of 50 KB templates, and nothing stopped the loop
/// before the disk).
pub(crate) fn check_stack_quota(conn: &Connection, ctx: &CallContext) -> ApiResult<()> {
    let live = cairn_store::cloudformation::live_stack_count(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
    )?;
    if live >= MAX_STACKS {
        return Err(ApiError::new(
            ErrorKind::CfnLimitExceeded,
            format!(
                "Cannot exceed quota for StacksPerRegion: {MAX_STACKS} stacks in {}",
                ctx.region
            ),
        ));
    }
    Ok(())
}

/// A stack operation accepted: the stack, and whether the engine has new work to do.
#[derive(Debug)]
pub struct Accepted {
    /// The stack as the operation left it.
    pub stack: Stack,
    /// False for a retry of a request already accepted (the same `ClientRequestToken`): the
    /// operation it started goes on, and nothing starts again.
    pub new_work: bool,
}

impl Accepted {
    fn new(stack: Stack) -> Self {
        Self {
            stack,
            new_work: true,
        }
    }
}

/// `live` as the answer to a retry of the request that started its current operation: the
/// same `ClientRequestToken`, and a status that operation leads to (its `prefixes`). AWS
/// takes the token so that a retried CreateStack or UpdateStack, whose first answer was
/// lost, is not refused or run twice.
fn retried(live: Stack, input: &StackInput, a: &str, b: &str) -> Option<Accepted> {
    let token = input.client_request_token.as_deref()?;
    let same = live.client_request_token.as_deref() == Some(token)
        && (live.status.starts_with(a) || live.status.starts_with(b));
    same.then_some(Accepted {
        stack: live,
        new_work: false,
    })
}

/// Statuses from which a stack can be updated.
pub const UPDATABLE: &[&str] = &[
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
];

/// Statuses of a failed stack whose successful resources were preserved: an update retries
/// what failed and goes on from there.
pub const RESUMABLE: &[&str] = &["CREATE_FAILED", "UPDATE_FAILED"];

/// The error for an operation a stack's status does not allow.
pub fn wrong_state(stack: &Stack, verb: &str) -> ApiError {
    invalid(format!(
        "Stack:{} is in {} state and can not be {verb}.",
        stack.stack_id, stack.status
    ))
}

/// The template an update uses: its new body, or the stack's with `UsePreviousTemplate`.
pub fn update_body(stack: &Stack, input: &StackInput) -> ApiResult<String> {
    if input.use_previous_template {
        if input.template_body.is_some() || input.template_from_url.is_some() {
            return Err(invalid(
                "You cannot specify both usePreviousTemplate and Template Body/Template URL",
            ));
        }
        return Ok(stack.template_body.clone());
    }
    body_of(
        input.template_body.as_deref(),
        input.template_from_url.as_deref(),
    )
}

/// Moves a stack into an update of `body` with `parameters` (UpdateStack, ExecuteChangeSet).
pub fn begin_update(
    stack: &mut Stack,
    ctx: &CallContext,
    input: &StackInput,
    body: String,
    parameters: Vec<(String, String)>,
    description: Option<String>,
) -> ApiResult<()> {
    stack.previous = Some(Previous {
        template_body: std::mem::replace(&mut stack.template_body, body),
        parameters: std::mem::replace(&mut stack.parameters, parameters),
        outputs: stack.outputs.clone(),
        tags: stack.tags.clone(),
        description: std::mem::replace(&mut stack.description, description),
    });
    if let Some(t) = &input.tags {
        stack.tags = t.clone();
    }
    if let Some(n) = &input.notification_arns {
        stack.notification_arns = n.clone();
    }
    if input.role_arn.is_some() {
        stack.role_arn = input.role_arn.clone();
    }
    if let Some(d) = input.disable_rollback {
        stack.disable_rollback = d;
    }
    if input.stack_policy.is_some() {
        stack.stack_policy = input.stack_policy.clone();
    }
    // "If you don't specify a rollback configuration, the most recent one is used."
    if let Some(c) = &input.rollback_configuration {
        stack.rollback_configuration = c.clone();
    }
    stack.capabilities = input.capabilities.clone();
    stack.policy_during_update = input.policy_during_update.clone();
    stack.client_request_token = input.client_request_token.clone();
    stack.caller = Caller::of(&ctx.principal)?;
    stack.updated = Some(ctx.now);
    stack.status = "UPDATE_IN_PROGRESS".into();
    stack.status_reason = Some("User Initiated".into());
    // An update of its own has no change set; ExecuteChangeSet names its own after this.
    stack.change_set_id = None;
    // A cancel that came too late for the last update must not stop this one.
    super::recovery::take_cancel(&stack.stack_id);
    Ok(())
}

/// Why an update of `stack` to template `t` must not run: it gives a resource of the stack
/// (in its template, or made and not deleted) another type under the same logical id. AWS
/// refuses that before anything is touched; carried out, it would replace the resource with
/// one of another type and clean up the old id with the new type's handler (cfn7: a bucket
/// changed into a log group deleted someone else's log group named like the bucket).
pub fn type_change(
    conn: &Connection,
    stack: &Stack,
    t: &cairn_template::Template,
) -> ApiResult<Option<String>> {
    let old = cairn_template::Template::parse(&stack.template_body).ok();
    let rows = records::resources(conn, &stack.stack_id)?;
    let old_type = |logical_id: &str| -> Vec<String> {
        let in_template = old
            .iter()
            .flat_map(|o| o.resources.iter())
            .filter(|r| r.logical_id == logical_id)
            .map(|r| r.resource_type.clone());
        let made = rows
            .iter()
            .filter(|r| {
                r.logical_id == logical_id
                    && r.status != "DELETE_COMPLETE"
                    && r.status != "DELETE_SKIPPED"
            })
            .map(|r| r.resource_type.clone());
        in_template.chain(made).collect()
    };
    let changed: Vec<&str> = t
        .resources
        .iter()
        .filter(|r| {
            old_type(&r.logical_id)
                .iter()
                .any(|o| *o != r.resource_type)
        })
        .map(|r| r.logical_id.as_str())
        .collect();
    Ok((!changed.is_empty()).then(|| {
        format!(
            "Update of resource type is not permitted. The new template modifies resource type of the following resources: [{}]",
            changed.join(", ")
        )
    }))
}

/// UpdateStack: the stack, `UPDATE_IN_PROGRESS`.
pub fn update_stack(
    conn: &Connection,
    ctx: &CallContext,
    registry: &Registry,
    input: &StackInput,
) -> ApiResult<Accepted> {
    let mut stack = find_live(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        &input.name,
    )?;
    if let Some(retry) = retried(stack.clone(), input, "UPDATE_", "UPDATE_") {
        return Ok(retry);
    }
    // A stack left failed with its resources preserved (rollback disabled) is resumed by an
    // update: "Retry" with the same template, or "Update" with a new one (CloudFormation User
    // Guide, "Choose how to handle failures when provisioning resources"; recheck31b).
    let resumed = RESUMABLE.contains(&stack.status.as_str());
    if !UPDATABLE.contains(&stack.status.as_str()) && !resumed {
        return Err(wrong_state(&stack, "updated"));
    }
    check_tags(&input.tags)?;
    check_notification_arns(&input.notification_arns)?;
    check_policy(input.stack_policy.as_ref())?;
    check_policy(input.policy_during_update.as_ref())?;
    if let Some(c) = &input.rollback_configuration {
        super::rollback_triggers::check(ctx, c)?;
    }
    let body = update_body(&stack, input)?;
    let notifications = input
        .notification_arns
        .clone()
        .unwrap_or_else(|| stack.notification_arns.clone());
    let prepared = prepare(
        registry,
        &body,
        &input.parameters,
        Some(&stack.parameters),
        &input.capabilities,
        pseudo_of(ctx, &stack.name, &stack.stack_id, &notifications),
        input.resource_types.as_deref(),
    )?;
    if let Some(message) = type_change(conn, &stack, &prepared.template)? {
        return Err(invalid(message));
    }
    let same_template = cairn_template::same_but_description(&body, &stack.template_body);
    let same_tags = input
        .tags
        .as_ref()
        .is_none_or(|t| super::model::same_tags(t, &stack.tags));
    // Notification topics alone are an update too (the CLI's update-stack example adds them).
    let same_notifications = {
        let (mut a, mut b) = (notifications.clone(), stack.notification_arns.clone());
        a.sort();
        b.sort();
        a == b
    };
    check_role(conn, ctx, input.role_arn.as_deref())?;
    if !resumed
        && same_template
        && prepared.parameters == stack.parameters
        && same_tags
        && same_notifications
    {
        return Err(invalid("No updates are to be performed."));
    }
    let description = prepared.template.description.clone();
    begin_update(
        &mut stack,
        ctx,
        input,
        body,
        prepared.parameters,
        description,
    )?;
    put_stack(conn, &stack, false)?;
    records::append_event(conn, &stack_event(&stack, ctx.now))?;
    super::changesets::obsolete_change_sets(conn, &stack.stack_id)?;
    Ok(Accepted::new(stack))
}

/// What a failed create does, from `OnFailure` (CreateStack; CreateChangeSet's
/// `OnStackFailure`, named `member` in the error): (rollback disabled, stack deleted after
/// the rollback).
pub(crate) fn on_failure(input: &StackInput, member: &str) -> ApiResult<(bool, bool)> {
    Ok(match input.on_failure.as_deref() {
        Some("DO_NOTHING") => (true, false),
        Some("DELETE") => (false, true),
        Some("ROLLBACK") | None => (input.disable_rollback.unwrap_or(false), false),
        Some(other) => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{other}' at '{member}' failed to satisfy constraint: Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]"
            )));
        }
    })
}

/// DeleteStack's inputs besides the stack's name.
#[derive(Debug, Default, Clone)]
pub struct DeleteInput {
    /// `RetainResources`: logical ids kept (only for a DELETE_FAILED stack).
    pub retain: Vec<String>,
    /// `RoleARN`.
    pub role_arn: Option<String>,
    /// `ClientRequestToken`.
    pub token: Option<String>,
    /// `DeletionMode FORCE_DELETE_STACK`: a DELETE_FAILED stack's resources whose deletion
    /// failed are skipped (left in place, `DELETE_SKIPPED`) and the stack is deleted.
    pub force: bool,
}

/// DeleteStack: `Some(stack)` when the engine has work to do. Deleting a stack that does not
/// exist succeeds, as on AWS.
pub fn delete_stack(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    input: DeleteInput,
) -> ApiResult<Option<Stack>> {
    let DeleteInput {
        retain,
        role_arn,
        token,
        force,
    } = input;
    let account = ctx.account().to_string();
    let mut stack = match records::find_stack(conn, &account, ctx.region.as_str(), name) {
        Ok((s, false)) => s,
        Ok((_, true)) => return Ok(None),
        Err(e) if e.message.ends_with("does not exist") => return Ok(None),
        Err(e) => return Err(e),
    };
    if stack.termination_protection {
        return Err(invalid(format!(
            "Stack [{}] cannot be deleted while TerminationProtection is enabled",
            stack.name
        )));
    }
    if !retain.is_empty() && stack.status != "DELETE_FAILED" {
        return Err(invalid(format!(
            "Invalid operation on stack [{}]. RetainResources can only be specified when the stack is in the DELETE_FAILED state",
            stack.stack_id
        )));
    }
    match stack.status.as_str() {
        "DELETE_IN_PROGRESS" => return Ok(None),
        s if s.ends_with("_IN_PROGRESS") && s != "REVIEW_IN_PROGRESS" => {
            // AWS words DeleteStack's refusal apart from UpdateStack's.
            return Err(invalid(format!(
                "Stack [{}] cannot be deleted while in status {}",
                stack.stack_id, stack.status
            )));
        }
        _ => {}
    }
    check_role(conn, ctx, role_arn.as_deref())?;
    stack.caller = Caller::of(&ctx.principal)?;
    if role_arn.is_some() {
        stack.role_arn = role_arn;
    }
    let mut retain = retain;
    if force && stack.status == "DELETE_FAILED" {
        // The resources whose deletion failed are the ones a forced delete skips.
        for row in records::resources(conn, &stack.stack_id)? {
            if row.status == "DELETE_FAILED" && !retain.contains(&row.logical_id) {
                retain.push(row.logical_id);
            }
        }
    }
    stack.retain_resources = retain;
    stack.client_request_token = token;
    let never_created = stack.status == "REVIEW_IN_PROGRESS";
    stack.status = "DELETE_IN_PROGRESS".into();
    stack.status_reason = Some("User Initiated".into());
    put_stack(conn, &stack, false)?;
    records::append_event(conn, &stack_event(&stack, ctx.now))?;
    if never_created {
        // A stack whose CREATE change set was never executed has no template in force and
        // no resources: it is deleted now, with its change sets.
        for cs in cairn_store::cloudformation::change_sets(conn, &stack.stack_id)? {
            cairn_store::cloudformation::delete_change_set(conn, &cs.change_set_id)?;
        }
        stack.status = "DELETE_COMPLETE".into();
        stack.status_reason = None;
        stack.change_set_id = None;
        put_stack(conn, &stack, true)?;
        records::append_event(conn, &stack_event(&stack, ctx.now))?;
        return Ok(None);
    }
    Ok(Some(stack))
}

/// SetStackPolicy.
pub fn set_stack_policy(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    policy: &str,
) -> ApiResult<()> {
    let mut stack = find_live(conn, ctx.account().as_str(), ctx.region.as_str(), name)?;
    stack_policy::check(policy).map_err(invalid)?;
    stack.stack_policy = Some(policy.to_owned());
    put_stack(conn, &stack, false)
}

/// UpdateTerminationProtection; returns the stack id.
pub fn set_termination_protection(
    conn: &Connection,
    ctx: &CallContext,
    name: &str,
    on: bool,
) -> ApiResult<String> {
    let mut stack = find_live(conn, ctx.account().as_str(), ctx.region.as_str(), name)?;
    stack.termination_protection = on;
    put_stack(conn, &stack, false)?;
    Ok(stack.stack_id)
}

#[cfg(test)]
mod quota_tests {
    use super::*;

    #[test]
    fn a_region_holds_at_most_its_quota_of_live_stacks() {
        let conn = cairn_store::in_memory().unwrap();
        let ctx = crate::context::root_call_at(1_700_000_000.0);
        let row = |i: u64, deleted: bool| cairn_store::cloudformation::StackRow {
            stack_id: format!("arn:aws:cloudformation:us-east-1:123456789012:stack/s{i}/{i}"),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            name: format!("s{i}"),
            status: if deleted {
                "DELETE_COMPLETE"
            } else {
                "CREATE_COMPLETE"
            }
            .into(),
            deleted,
            created: 0.0,
            body: "{}".into(),
        };
        for i in 0..MAX_STACKS - 1 {
            cairn_store::cloudformation::put_stack(&conn, &row(i, false)).unwrap();
        }
        // Deleted stacks do not count.
        cairn_store::cloudformation::put_stack(&conn, &row(MAX_STACKS + 7, true)).unwrap();
        assert!(check_stack_quota(&conn, &ctx).is_ok());
        cairn_store::cloudformation::put_stack(&conn, &row(MAX_STACKS, false)).unwrap();
        let e = check_stack_quota(&conn, &ctx).unwrap_err();
        assert_eq!(e.kind, ErrorKind::CfnLimitExceeded);
        assert!(e.message.contains("StacksPerRegion: 2000"), "{}", e.message);
    }
}
