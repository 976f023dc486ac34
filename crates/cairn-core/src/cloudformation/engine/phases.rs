//! Creating a stack, rolling a failed create back, deleting a stack; and the outputs and
//! exports a finished create or update publishes.

use serde_json::{Map, Value};

use super::schedule::{Begin, Op, Phase, dependents};
use super::{Run, now};
use crate::cloudformation::model::{StackOutput, StackResource, UpdateNote};
use crate::cloudformation::providers::{Failure, Made, new_suffix};
use crate::error::ApiResult;

/// `[A, B]` for status reasons.
pub(crate) fn listed(ids: &[String]) -> String {
    format!("[{}]", ids.join(", "))
}

impl Run<'_> {
    pub(crate) async fn begin(&mut self, phase: Phase, id: &str) -> ApiResult<Begin> {
        match phase {
            Phase::Create => self.begin_create(id, false).await,
            Phase::Update => self.begin_update(id).await,
            Phase::Delete { rollback } => self.begin_delete(id, rollback).await,
            Phase::Cleanup => self.begin_cleanup(id).await,
        }
    }

    pub(crate) async fn finish(
        &mut self,
        phase: Phase,
        id: &str,
        result: Result<Made, Failure>,
    ) -> ApiResult<bool> {
        match phase {
            Phase::Create => self.finish_create(id, result).await,
            Phase::Update => self.finish_update(id, result).await,
            Phase::Delete { .. } => self.finish_delete(id, result).await,
            Phase::Cleanup => self.finish_cleanup(id, result).await,
        }
    }

    /// Resolves a resource's properties against what exists now.
    pub(crate) fn resolve_properties(
        &self,
        id: &str,
    ) -> Result<(cairn_template::Resource, Value), String> {
        let tpl = self.template.clone();
        let r = tpl
            .resource(id)
            .cloned()
            .ok_or_else(|| format!("resource {id} is not in the template"))?;
        let ev = cairn_template::Evaluator::new(&tpl, self.pseudo(), &self.stack.parameters)
            .map_err(|e| e.to_string())?;
        let props = ev.resolve(&r.properties, self).map_err(|e| e.to_string())?;
        self.charge_properties(id, &props)?;
        Ok((r, props))
    }

    /// Counts `props`, resource `id`'s new properties, toward the stack's
    /// [`super::MAX_STACK_PROPERTY_CHARS`]; the reason the resource fails when beyond.
    fn charge_properties(&self, id: &str, props: &Value) -> Result<(), String> {
        let size = |v: &Value| serde_json::to_string(v).map_or(0, |s| s.len());
        let Ok(mut held) = self.property_chars.lock() else {
            return Ok(());
        };
        let held = held.get_or_insert_with(|| {
            self.rows
                .iter()
                .filter(|(_, r)| r.status != "DELETE_COMPLETE")
                .map(|(k, r)| (k.clone(), size(&r.properties)))
                .collect()
        });
        let this = size(props);
        let others: usize = held
            .iter()
            .filter(|(k, _)| k.as_str() != id)
            .map(|(_, n)| n)
            .sum();
        if others + this > super::MAX_STACK_PROPERTY_CHARS {
            return Err(format!(
                "The resolved properties of the stack's resources would exceed {} characters in all ({} with this resource's)",
                super::MAX_STACK_PROPERTY_CHARS,
                others + this
            ));
        }
        held.insert(id.to_owned(), this);
        Ok(())
    }

    pub(crate) async fn begin_create(&mut self, id: &str, added: bool) -> ApiResult<Begin> {
        let resolved = self.resolve_properties(id);
        let (r, props, reason) = match resolved {
            Ok((r, p)) => (r, p, None),
            Err(reason) => match self.template.resource(id).cloned() {
                Some(r) => (r, Value::Object(Map::new()), Some(reason)),
                None => return Ok(Begin::Failed),
            },
        };
        let suffix = new_suffix();
        let intended = if reason.is_none() {
            self.intended_id(id, &r.resource_type, &suffix, &props)
        } else {
            None
        };
        let row = StackResource {
            logical_id: id.to_owned(),
            resource_type: r.resource_type.clone(),
            physical_id: intended,
            status: String::new(),
            status_reason: None,
            updated: now(),
            properties: props.clone(),
            attributes: Map::new(),
            metadata: r.metadata.clone(),
            deletion_policy: r.deletion_policy.as_str().to_owned(),
            update_replace_policy: r.update_replace_policy.as_str().to_owned(),
            name_suffix: suffix.clone(),
            update: added.then_some(UpdateNote::Added),
        };
        if let Some(reason) = reason {
            self.set_resource(row, "CREATE_FAILED", Some(reason), false)
                .await?;
            return Ok(Begin::Failed);
        }
        self.set_resource(row.clone(), "CREATE_IN_PROGRESS", None, true)
            .await?;
        let row = self.rows[id].clone();
        self.resource_event(&row, "CREATE_IN_PROGRESS", "Resource creation Initiated")
            .await?;
        Ok(Begin::Job(self.job(
            Op::Create,
            id,
            &r.resource_type,
            &suffix,
            Made::id(""),
            Value::Null,
            props,
        )))
    }

    pub(crate) async fn finish_create(
        &mut self,
        id: &str,
        result: Result<Made, Failure>,
    ) -> ApiResult<bool> {
        let mut row = self.rows[id].clone();
        match result {
            Ok(made) => {
                row.physical_id = Some(made.physical_id);
                row.attributes = made.attributes;
                self.set_resource(row, "CREATE_COMPLETE", None, false)
                    .await?;
                Ok(true)
            }
            Err(f) => {
                row.physical_id = f.physical_id;
                self.set_resource(row, "CREATE_FAILED", Some(f.reason), false)
                    .await?;
                Ok(false)
            }
        }
    }

    /// `CREATE_IN_PROGRESS`: every active resource in dependency order, then the outputs.
    pub(crate) async fn create(&mut self) -> ApiResult<()> {
        let tpl = self.template.clone();
        let deps = cairn_template::Evaluator::new(&tpl, self.pseudo(), &self.stack.parameters)
            .and_then(|ev| ev.dependencies());
        let deps = match deps {
            Ok(d) => d,
            Err(e) => return self.fail_create(e.to_string()).await,
        };
        // Every import must exist before anything is made, as on AWS (cfn9: the resources
        // not needing it were made first, and only the one importing it failed).
        if let Some(reason) = self.missing_import() {
            return self.fail_create(reason).await;
        }
        if let Some(reason) = self.tripped_trigger().await? {
            return self.fail_create(reason).await;
        }
        let failed = self.schedule(Phase::Create, deps).await?;
        if !failed.is_empty() {
            return self
                .fail_create(format!(
                    "The following resource(s) failed to create: {}. ",
                    listed(&failed)
                ))
                .await;
        }
        if let Some(reason) = self.monitor_triggers().await? {
            return self.fail_create(reason).await;
        }
        match self.publish_outputs().await? {
            Ok(()) => self.set_status("CREATE_COMPLETE", None).await,
            Err(reason) => self.fail_create(reason).await,
        }
    }

    /// CloudFormation's reason when the template imports an export no stack has.
    pub(crate) fn missing_import(&self) -> Option<String> {
        let tpl = self.template.clone();
        let names = cairn_template::Evaluator::new(&tpl, self.pseudo(), &self.stack.parameters)
            .and_then(|ev| ev.imported_names(self));
        match names {
            Ok(names) => names
                .into_iter()
                .find(|n| !self.exports.contains_key(n))
                .map(|n| format!("No export named {n} found.")),
            Err(e) => Some(e.to_string()),
        }
    }

    async fn fail_create(&mut self, reason: String) -> ApiResult<()> {
        if self.stack.disable_rollback {
            self.set_status("CREATE_FAILED", Some(reason)).await
        } else {
            let reason = rollback_reason(&reason);
            self.set_status("ROLLBACK_IN_PROGRESS", Some(reason)).await
        }
    }

    /// The rows still standing, each waiting for the rows that depend on it.
    fn deletion_order(
        &self,
        include: impl Fn(&StackResource) -> bool,
    ) -> Vec<(String, Vec<String>)> {
        let mut deps: Vec<(String, Vec<String>)> = self
            .template
            .static_dependencies()
            .into_iter()
            .filter(|(id, _)| self.rows.get(id).is_some_and(&include))
            .collect();
        for (id, row) in &self.rows {
            if include(row) && !deps.iter().any(|(d, _)| d == id) {
                deps.push((id.clone(), Vec::new()));
            }
        }
        dependents(&deps)
    }

    /// `ROLLBACK_IN_PROGRESS`: deletes what the create made.
    pub(crate) async fn rollback_create(&mut self) -> ApiResult<()> {
        let nodes = self.deletion_order(|r| !deleted(r));
        let failed = self
            .schedule(Phase::Delete { rollback: true }, nodes)
            .await?;
        if failed.is_empty() {
            self.set_status("ROLLBACK_COMPLETE", None).await
        } else {
            self.set_status(
                "ROLLBACK_FAILED",
                Some(format!(
                    "The following resource(s) failed to delete: {}. ",
                    listed(&failed)
                )),
            )
            .await
        }
    }

    /// `DELETE_IN_PROGRESS`: deletes every resource, dependents first.
    pub(crate) async fn delete(&mut self) -> ApiResult<()> {
        let in_use = self.exports_in_use().await?;
        if let Some((name, user)) = in_use {
            return self
                .set_status(
                    "DELETE_FAILED",
                    Some(format!(
                        "Export {name} cannot be deleted as it is in use by {user}"
                    )),
                )
                .await;
        }
        let nodes = self.deletion_order(|r| !deleted(r));
        let failed = self
            .schedule(Phase::Delete { rollback: false }, nodes)
            .await?;
        if !failed.is_empty() {
            return self
                .set_status(
                    "DELETE_FAILED",
                    Some(format!(
                        "The following resource(s) failed to delete: {}. ",
                        listed(&failed)
                    )),
                )
                .await;
        }
        let (account, region, stack_id) = (
            self.stack.account.clone(),
            self.stack.region.clone(),
            self.stack.stack_id.clone(),
        );
        self.engine
            .store
            .write(move |c| {
                cairn_store::cloudformation::set_exports(c, &account, &region, &stack_id, &[])?;
                cairn_store::cloudformation::set_imports(c, &account, &region, &stack_id, &[])
            })
            .await??;
        self.stack.deleted_time = Some(now());
        self.set_status("DELETE_COMPLETE", None).await
    }

    pub(crate) async fn begin_delete(&mut self, id: &str, rollback: bool) -> ApiResult<Begin> {
        let row = self.rows[id].clone();
        if matches!(row.status.as_str(), "DELETE_COMPLETE" | "DELETE_SKIPPED") {
            return Ok(Begin::Done);
        }
        let retain = match row.deletion_policy.as_str() {
            "Retain" => true,
            "RetainExceptOnCreate" => !rollback,
            _ => false,
        } || self.stack.retain_resources.contains(&row.logical_id);
        if row.physical_id.is_none() {
            let unconfirmed = row.status == "CREATE_FAILED"
                && row
                    .status_reason
                    .as_deref()
                    .is_some_and(|r| r.ends_with(UNCONFIRMED));
            if unconfirmed {
                // Reported once, so the operation ends failed rather than claiming a clean
                // rollback; a later delete finds the row DELETE_FAILED and lets it go.
                let reason = format!(
                    "{} was being created when Cairn restarted and its id was never recorded: the stack cannot delete what it may have made. Check for it and delete it by hand.",
                    row.resource_type
                );
                self.set_resource(row, "DELETE_FAILED", Some(reason), false)
                    .await?;
                return Ok(Begin::Failed);
            }
            self.set_resource(row, "DELETE_COMPLETE", None, false)
                .await?;
            return Ok(Begin::Done);
        }
        if retain {
            self.set_resource(row, "DELETE_SKIPPED", None, false)
                .await?;
            return Ok(Begin::Done);
        }
        self.set_resource(row.clone(), "DELETE_IN_PROGRESS", None, false)
            .await?;
        let current = Made {
            physical_id: row.physical_id.clone().unwrap_or_default(),
            attributes: row.attributes.clone(),
        };
        Ok(Begin::Job(self.job(
            Op::Delete,
            id,
            &row.resource_type,
            &row.name_suffix,
            current,
            Value::Null,
            row.properties.clone(),
        )))
    }

    pub(crate) async fn finish_delete(
        &mut self,
        id: &str,
        result: Result<Made, Failure>,
    ) -> ApiResult<bool> {
        let row = self.rows[id].clone();
        match result {
            Ok(_) => {
                self.set_resource(row, "DELETE_COMPLETE", None, false)
                    .await?;
                Ok(true)
            }
            Err(f) if f.is_not_found() => {
                self.set_resource(row, "DELETE_COMPLETE", None, false)
                    .await?;
                Ok(true)
            }
            Err(f) => {
                self.set_resource(row, "DELETE_FAILED", Some(f.reason), false)
                    .await?;
                Ok(false)
            }
        }
    }

    /// An export of this stack that another stack imports: (export, importing stack name).
    async fn exports_in_use(&self) -> ApiResult<Option<(String, String)>> {
        let (account, region, stack_id) = (
            self.stack.account.clone(),
            self.stack.region.clone(),
            self.stack.stack_id.clone(),
        );
        let names: Vec<String> = self
            .stack
            .outputs
            .iter()
            .filter_map(|o| o.export_name.clone())
            .collect();
        let found = self
            .engine
            .store
            .read(move |c| {
                for n in names {
                    for importer in
                        cairn_store::cloudformation::importers(c, &account, &region, &n)?
                    {
                        if importer == stack_id {
                            continue;
                        }
                        let name = cairn_store::cloudformation::get_stack(c, &importer)?
                            .filter(|s| !s.deleted)
                            .map(|s| s.name);
                        if let Some(name) = name {
                            return Ok(Some((n, name)));
                        }
                    }
                }
                Ok(None)
            })
            .await?;
        Ok(found)
    }

    /// Resolves the outputs, checks and records the exports and the imports. `Err` is the
    /// reason the operation fails.
    pub(crate) async fn publish_outputs(&mut self) -> ApiResult<Result<(), String>> {
        /// The most bytes a stack's outputs may hold together (keys and values).
        const MAX_OUTPUTS_BYTES: usize = 1 << 20;
        let tpl = self.template.clone();
        let resolved = cairn_template::Evaluator::new(&tpl, self.pseudo(), &self.stack.parameters)
            .and_then(|ev| {
                ev.outputs(self).map(|outs| {
                    outs.into_iter()
                        .map(|(o, v, e)| StackOutput {
                            key: o.logical_id.clone(),
                            value: match v {
                                Value::String(s) => s,
                                Value::Array(items) => items
                                    .iter()
                                    .map(|i| {
                                        i.as_str()
                                            .map(str::to_owned)
                                            .unwrap_or_else(|| i.to_string())
                                    })
                                    .collect::<Vec<_>>()
                                    .join(","),
                                other => other.to_string(),
                            },
                            description: o
                                .description
                                .as_ref()
                                .and_then(|d| d.as_str().map(str::to_owned)),
                            export_name: e,
                        })
                        .collect::<Vec<_>>()
                })
            });
        let outputs = match resolved {
            Ok(o) => o,
            Err(e) => return Ok(Err(e.to_string())),
        };
        // A stack's outputs are shown in every DescribeStacks: bounded in all (cfn9: 20
        // stacks of 51 MB outputs made one listing of 206 MB).
        let size: usize = outputs.iter().map(|o| o.key.len() + o.value.len()).sum();
        if size > MAX_OUTPUTS_BYTES {
            return Ok(Err(format!(
                "Template error: the stack's outputs hold {size} bytes, more than {MAX_OUTPUTS_BYTES}"
            )));
        }
        let (account, region, stack_id) = (
            self.stack.account.clone(),
            self.stack.region.clone(),
            self.stack.stack_id.clone(),
        );
        let old: Vec<(String, String)> = self
            .stack
            .previous
            .as_ref()
            .map(|p| &p.outputs)
            .unwrap_or(&self.stack.outputs)
            .iter()
            .filter_map(|o| Some((o.export_name.clone()?, o.value.clone())))
            .collect();
        let new: Vec<(String, String)> = outputs
            .iter()
            .filter_map(|o| Some((o.export_name.clone()?, o.value.clone())))
            .collect();
        // One template exporting a name twice (the names are known only once parameters and
        // pseudo parameters are resolved) fails as CloudFormation words it.
        let mut names: Vec<&str> = new.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        let mut duplicates: Vec<&str> = names
            .windows(2)
            .filter(|w| w[0] == w[1])
            .map(|w| w[0])
            .collect();
        duplicates.dedup();
        if !duplicates.is_empty() {
            return Ok(Err(format!(
                "Template format error: The Outputs section contains duplicate Export names: [{}]. Specify a unique name for each export.",
                duplicates.join(", ")
            )));
        }
        let imported = self.imported.lock().map(|v| v.clone()).unwrap_or_default();
        let checked = self
            .engine
            .store
            .write(move |c| {
                cairn_store::with_savepoint(c, |c| {
                    use cairn_store::cloudformation as db;
                    for (name, _) in &new {
                        if let Some((_, owner, _)) = db::exports(c, &account, &region)?
                            .into_iter()
                            .find(|(n, s, _)| n == name && *s != stack_id)
                        {
                            let owner = db::get_stack(c, &owner)?.map(|s| s.name).unwrap_or(owner);
                            return Ok(Err(format!(
                                "Export with name {name} is already exported by stack {owner}"
                            )));
                        }
                    }
                    for (name, value) in &old {
                        let users: Vec<String> = db::importers(c, &account, &region, name)?
                            .into_iter()
                            .filter(|s| *s != stack_id)
                            .collect();
                        let Some(user) = users.first() else { continue };
                        let user = db::get_stack(c, user)?.map(|s| s.name).unwrap_or_default();
                        match new.iter().find(|(n, _)| n == name) {
                            None => {
                                return Ok(Err(format!(
                                    "Cannot delete export {name} as it is in use by {user}"
                                )));
                            }
                            Some((_, v)) if v != value => {
                                return Ok(Err(format!(
                                    "Cannot update export {name} as it is in use by {user}"
                                )));
                            }
                            _ => {}
                        }
                    }
                    db::set_exports(c, &account, &region, &stack_id, &new)?;
                    db::set_imports(c, &account, &region, &stack_id, &imported)?;
                    Ok::<_, cairn_store::StoreError>(Ok(()))
                })
            })
            .await??;
        if checked.is_ok() {
            self.stack.outputs = outputs;
        }
        Ok(checked)
    }
}

/// The reason a failed create rolls back: the failure, then AWS's `Rollback requested by
/// user.`, separated as AWS separates them (`… found. Rollback requested by user.`).
fn rollback_reason(reason: &str) -> String {
    let separator = if reason.is_empty() || reason.ends_with(' ') {
        ""
    } else if reason.ends_with('.') {
        " "
    } else {
        ". "
    };
    format!("{reason}{separator}Rollback requested by user.")
}

/// The end of the reason of a create a restart cut short before its resource's id was known.
pub(crate) const UNCONFIRMED: &str = "the create may have run, and its id is unknown";

/// Whether a row is gone from the stack's hands: deleted, or retained by a delete. A row
/// whose delete failed (or was cut short by a restart) is still the stack's to delete.
pub(crate) fn deleted(r: &StackResource) -> bool {
    matches!(r.status.as_str(), "DELETE_COMPLETE" | "DELETE_SKIPPED")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rollback_reason_follows_the_failure_after_a_sentence_break() {
        assert_eq!(
            rollback_reason("No export named s1-TrailArn found."),
            "No export named s1-TrailArn found. Rollback requested by user."
        );
        assert_eq!(
            rollback_reason("The following resource(s) failed to create: [Trail]. "),
            "The following resource(s) failed to create: [Trail]. Rollback requested by user."
        );
        assert_eq!(
            rollback_reason("Template error: bad"),
            "Template error: bad. Rollback requested by user."
        );
    }
}
