//! Running resource operations in dependency order, independent ones concurrently, and the
//! lookup that resolves `Ref` and `Fn::GetAtt` against what has been made.

use std::collections::BTreeSet;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use serde_json::Value;

use super::Run;
use crate::cloudformation::providers::{Cx, Failure, Made};
use crate::cloudformation::recovery;
use crate::cloudformation::services::BoxFuture;
use crate::error::ApiResult;

/// A provider operation in flight: its logical id and result.
pub(crate) type Job = BoxFuture<'static, (String, Result<Made, Failure>)>;

/// What starting a node did.
pub(crate) enum Begin {
    /// Nothing to do, or done at once.
    Done,
    /// Failed before any call.
    Failed,
    /// A call is running.
    Job(Job),
}

/// Which operation a job performs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Create,
    Update,
    Delete,
}

/// Which phase schedules the nodes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Creating a new stack's resources.
    Create,
    /// Updating to a new template.
    Update,
    /// Deleting the stack, or rolling back a create.
    Delete {
        /// Rolling back a create (`RetainExceptOnCreate` deletes).
        rollback: bool,
    },
    /// Deleting what an update replaced or removed (or what a rolled-back update added).
    Cleanup,
}

/// Reverses a dependency list: each node then waits for the nodes that depend on it.
pub(crate) fn dependents(deps: &[(String, Vec<String>)]) -> Vec<(String, Vec<String>)> {
    deps.iter()
        .map(|(id, _)| {
            let waits = deps
                .iter()
                .filter(|(_, d)| d.contains(id))
                .map(|(other, _)| other.clone())
                .collect();
            (id.clone(), waits)
        })
        .collect()
}

/// The stack tags a resource's current properties were applied under, and the ones its next
/// operation applies.
pub(crate) struct StackTags {
    pub(crate) applied: Vec<(String, String)>,
    pub(crate) target: Vec<(String, String)>,
}

impl Run<'_> {
    /// Starts a provider operation on a resource, under the stack's tags.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn job(
        &self,
        op: Op,
        logical: &str,
        resource_type: &str,
        suffix: &str,
        current: Made,
        old: Value,
        props: Value,
    ) -> Job {
        let tags = StackTags {
            applied: self.stack.tags.clone(),
            target: self.stack.tags.clone(),
        };
        self.job_tagged(
            op,
            logical,
            resource_type,
            suffix,
            current,
            old,
            props,
            tags,
        )
    }

    /// Starts a provider operation on a resource whose `old` properties were applied under
    /// other stack tags than the ones `props` are to be applied under (an update that changes
    /// the stack's tags, or its rollback).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn job_tagged(
        &self,
        op: Op,
        logical: &str,
        resource_type: &str,
        suffix: &str,
        current: Made,
        old: Value,
        props: Value,
        tags: StackTags,
    ) -> Job {
        let services = self.engine.services.clone();
        let registry = self.engine.registry.clone();
        let caller = self.caller.clone();
        let (account, stack_name, stack_id) = (
            self.stack.account.clone(),
            self.stack.name.clone(),
            self.stack.stack_id.clone(),
        );
        let StackTags {
            applied: old_tags,
            target: tags,
        } = tags;
        let (logical, resource_type, suffix) = (
            logical.to_owned(),
            resource_type.to_owned(),
            suffix.to_owned(),
        );
        Box::pin(async move {
            let Some(provider) = registry.get(&resource_type) else {
                return (
                    logical,
                    Err(Failure::new(format!(
                        "Unrecognized resource types: [{resource_type}]"
                    ))),
                );
            };
            let cx = Cx {
                services: services.as_ref(),
                caller: &caller,
                account: &account,
                stack_name: &stack_name,
                stack_id: &stack_id,
                logical_id: &logical,
                suffix: &suffix,
                stack_tags: &tags,
                old_stack_tags: &old_tags,
            };
            let result = match op {
                Op::Create => provider.create(&cx, &props).await,
                Op::Update => match missing_required(provider.required(), &props) {
                    Some(f) => Err(f),
                    None => provider.update(&cx, &current, &old, &props).await,
                },
                Op::Delete => provider
                    .delete(&cx, &current, &props)
                    .await
                    .map(|()| current.clone()),
            };
            let result = result.map_err(|f| f.of_resource(&logical));
            (logical, result)
        })
    }

    /// The physical id a provider will give a new resource.
    pub(crate) fn intended_id(
        &self,
        logical: &str,
        resource_type: &str,
        suffix: &str,
        props: &Value,
    ) -> Option<String> {
        let provider = self.engine.registry.get(resource_type)?;
        let cx = Cx {
            services: self.engine.services.as_ref(),
            caller: &self.caller,
            account: &self.stack.account,
            stack_name: &self.stack.name,
            stack_id: &self.stack.stack_id,
            logical_id: logical,
            suffix,
            stack_tags: &self.stack.tags,
            old_stack_tags: &self.stack.tags,
        };
        provider.intended_id(&cx, props)
    }

    /// Runs `nodes` (each with the nodes it waits for) through a phase; returns the failed
    /// ones. After a failure no new node starts, except when deleting.
    pub(crate) async fn schedule(
        &mut self,
        phase: Phase,
        nodes: Vec<(String, Vec<String>)>,
    ) -> ApiResult<Vec<String>> {
        let known: BTreeSet<String> = nodes.iter().map(|(n, _)| n.clone()).collect();
        let mut started = BTreeSet::new();
        let mut done: BTreeSet<String> = BTreeSet::new();
        let mut failed: Vec<String> = Vec::new();
        let mut running = FuturesUnordered::new();
        let keep_going = matches!(phase, Phase::Delete { .. } | Phase::Cleanup);
        loop {
            let mut progress = true;
            // After CancelUpdateStack no new resource starts; those running finish.
            while progress
                && (failed.is_empty() || keep_going)
                && !(matches!(phase, Phase::Update) && recovery::cancelled(&self.stack.stack_id))
            {
                progress = false;
                for (id, waits) in &nodes {
                    if started.contains(id) {
                        continue;
                    }
                    if !waits
                        .iter()
                        .all(|w| done.contains(w) || !known.contains(w) || w == id)
                    {
                        continue;
                    }
                    started.insert(id.clone());
                    match self.begin(phase, id).await? {
                        Begin::Done => {
                            done.insert(id.clone());
                            progress = true;
                        }
                        Begin::Failed => failed.push(id.clone()),
                        Begin::Job(j) => running.push(j),
                    }
                    if !failed.is_empty() && !keep_going {
                        break;
                    }
                }
            }
            let Some((id, result)) = running.next().await else {
                break;
            };
            if let Some(fault) = &self.engine.fault {
                fault.tick().await?;
            }
            if self.finish(phase, &id, result).await? {
                done.insert(id);
            } else {
                failed.push(id);
            }
        }
        Ok(failed)
    }
}

impl cairn_template::Lookup for Run<'_> {
    fn physical_id(&self, logical_id: &str) -> Option<String> {
        self.rows
            .get(logical_id)
            .filter(|r| !r.status.starts_with("DELETE_"))
            .and_then(|r| r.physical_id.clone())
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Result<Value, String> {
        let row = self
            .rows
            .get(logical_id)
            .ok_or_else(|| format!("resource {logical_id} does not exist"))?;
        // The template's check has passed, so the type has the attribute; this resource has
        // no value for it (a trail without a topic has no `SnsTopicArn`).
        row.attributes
            .get(attribute)
            .cloned()
            .ok_or_else(|| format!("Attribute '{attribute}' does not exist"))
    }

    fn export(&self, name: &str) -> Option<String> {
        let v = self.exports.get(name).cloned();
        if v.is_some()
            && let Ok(mut imported) = self.imported.lock()
            && !imported.iter().any(|n| n == name)
        {
            imported.push(name.to_owned());
        }
        v
    }
}

/// The schema failure of the first property in `required` that `props` lacks (or sets null).
fn missing_required(
    required: &[&str],
    props: &serde_json::Value,
) -> Option<crate::cloudformation::providers::Failure> {
    let missing = required
        .iter()
        .find(|k| props.get(**k).is_none_or(serde_json::Value::is_null))?;
    Some(crate::cloudformation::providers::Failure::schema(format!(
        "#: required key [{missing}] not found"
    )))
}
