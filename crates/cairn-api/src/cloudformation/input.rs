//! CloudFormation's Query members as typed inputs.

use cairn_core::cloudformation::rollback_triggers::{RollbackConfiguration, RollbackTrigger};
use cairn_core::cloudformation::stacks::StackInput;
use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_template::Given;

use crate::iam::input::Input;

/// Whether a list member was sent at all (an empty list arrives as `Name=`).
pub fn sent(p: &Input, name: &str) -> bool {
    p.opt(name).is_some() || !p.list(name).is_empty() || !p.structs(name).is_empty()
}

/// `Tags.member.N.Key/Value` (`None` when not sent).
pub fn tags(p: &Input) -> ApiResult<Option<Vec<(String, String)>>> {
    if !sent(p, "Tags") {
        return Ok(None);
    }
    Ok(Some(
        p.structs("Tags")
            .into_iter()
            .map(|t| {
                (
                    t.opt("Key").unwrap_or_default(),
                    t.opt("Value").unwrap_or_default(),
                )
            })
            .collect(),
    ))
}

/// `Parameters.member.N`. A parameter that asks for its previous value and gives a value too
/// is refused, in CloudFormation's words, rather than losing the value given.
pub fn parameters(p: &Input) -> ApiResult<Vec<Given>> {
    p.structs("Parameters")
        .into_iter()
        .map(|m| {
            let given = Given {
                key: m.opt("ParameterKey").unwrap_or_default(),
                value: m.opt("ParameterValue"),
                use_previous: m
                    .boolean("UsePreviousValue", "usePreviousValue")?
                    .unwrap_or(false),
            };
            if given.use_previous && given.value.as_deref().is_some_and(|v| !v.is_empty()) {
                return Err(ApiError::new(
                    ErrorKind::IamValidation,
                    "Cannot specify usePreviousValue as true and non empty value for a parameter",
                ));
            }
            Ok(given)
        })
        .collect()
}

/// `RollbackConfiguration.RollbackTriggers.member.N.Arn/Type` and
/// `RollbackConfiguration.MonitoringTimeInMinutes` (`None` when not sent: an update keeps the
/// stack's; an empty `RollbackTriggers=` clears them).
pub fn rollback_configuration(p: &Input) -> ApiResult<Option<RollbackConfiguration>> {
    const PREFIX: &str = "RollbackConfiguration";
    let triggers: Vec<RollbackTrigger> = p
        .structs(&format!("{PREFIX}.RollbackTriggers"))
        .into_iter()
        .map(|t| RollbackTrigger {
            arn: t.opt("Arn").unwrap_or_default(),
            kind: t.opt("Type").unwrap_or_default(),
        })
        .collect();
    let monitoring_minutes = p.int(
        &format!("{PREFIX}.MonitoringTimeInMinutes"),
        "rollbackConfiguration.monitoringTimeInMinutes",
    )?;
    let sent = !triggers.is_empty()
        || monitoring_minutes.is_some()
        || p.opt(PREFIX).is_some()
        || p.opt(&format!("{PREFIX}.RollbackTriggers")).is_some();
    Ok(sent.then_some(RollbackConfiguration {
        triggers,
        monitoring_minutes,
    }))
}

/// The members CreateStack, UpdateStack and CreateChangeSet share; `from_url` is the
/// template read from `TemplateURL`.
pub fn stack_input(p: &Input, from_url: Option<&str>) -> ApiResult<StackInput> {
    Ok(StackInput {
        name: p.opt("StackName").unwrap_or_default(),
        template_body: p.opt("TemplateBody"),
        template_from_url: from_url.map(str::to_owned),
        use_previous_template: p
            .boolean("UsePreviousTemplate", "usePreviousTemplate")?
            .unwrap_or(false),
        parameters: parameters(p)?,
        capabilities: p.list("Capabilities"),
        tags: tags(p)?,
        notification_arns: sent(p, "NotificationARNs").then(|| p.list("NotificationARNs")),
        role_arn: p.opt("RoleARN"),
        disable_rollback: p.boolean("DisableRollback", "disableRollback")?,
        // CreateChangeSet's `OnStackFailure` is CreateStack's `OnFailure` for the stack it
        // creates.
        on_failure: p.opt("OnFailure").or_else(|| p.opt("OnStackFailure")),
        termination_protection: p
            .boolean("EnableTerminationProtection", "enableTerminationProtection")?,
        timeout_minutes: p.int("TimeoutInMinutes", "timeoutInMinutes")?,
        stack_policy: p.opt("StackPolicyBody"),
        policy_during_update: p.opt("StackPolicyDuringUpdateBody"),
        client_request_token: p.opt("ClientRequestToken"),
        // An empty list is as good as none.
        resource_types: Some(p.list("ResourceTypes")).filter(|l| !l.is_empty()),
        rollback_configuration: rollback_configuration(p)?,
    })
}
