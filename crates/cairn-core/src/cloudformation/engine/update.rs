//! Updating a stack: each resource whose resolved properties changed is updated in place or
//! replaced (as its type documents), new ones are created, and what was replaced or removed
//! is deleted in the cleanup phase. A failed update restores every resource it touched, then
//! deletes what it made.

use serde_json::{Map, Value};

use super::phases::listed;
use super::schedule::{Begin, Op, Phase, StackTags, dependents};
use super::{Run, now};
use crate::cloudformation::model::UpdateNote;
use crate::cloudformation::providers::{Failure, Made, new_suffix};
use crate::cloudformation::stack_policy;
use crate::error::ApiResult;

impl Run<'_> {
    pub(crate) async fn begin_update(&mut self, id: &str) -> ApiResult<Begin> {
        // A resource whose creation failed (a preserved failed stack resumed) is created
        // anew, as AWS retries it.
        let existing = self
            .rows
            .get(id)
            .filter(|r| !r.status.starts_with("DELETE_") && r.status != "CREATE_FAILED")
            .cloned();
        let Some(mut row) = existing else {
            return self.begin_create(id, true).await;
        };
        let (r, props) = match self.resolve_properties(id) {
            Ok(x) => x,
            Err(reason) => {
                self.set_resource(row, "UPDATE_FAILED", Some(reason), false)
                    .await?;
                return Ok(Begin::Failed);
            }
        };
        let registry = self.engine.registry.clone();
        let type_changed = row.resource_type != r.resource_type;
        let (mut changed, replace) = if type_changed {
            (vec![("Type".to_owned(), true)], true)
        } else {
            registry.diff(&r.resource_type, &row.properties, &props)
        };
        // A property that can never change fails the update before anything is touched.
        let immutable = registry
            .get(&r.resource_type)
            .map(|p| p.immutable())
            .unwrap_or(&[]);
        let frozen: Vec<&str> = changed
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| immutable.contains(k))
            .collect();
        if !type_changed && !frozen.is_empty() {
            let reason = format!(
                "The {} of an existing {} cannot be changed: updating {} is not allowed, whatever the UpdateReplacePolicy",
                immutable.join(", "),
                r.resource_type,
                frozen.join(", ")
            );
            self.set_resource(row, "UPDATE_FAILED", Some(reason), false)
                .await?;
            return Ok(Begin::Failed);
        }
        // New stack tags reach every resource that takes them, even with its properties
        // unchanged (the provider applies the difference of its tags in place).
        let stack_tags_changed =
            self.stack.previous.as_ref().is_some_and(|p| {
                !crate::cloudformation::model::same_tags(&p.tags, &self.stack.tags)
            });
        if changed.is_empty()
            && stack_tags_changed
            && registry
                .get(&r.resource_type)
                .is_some_and(|p| p.takes_stack_tags())
        {
            changed.push(("Tags".to_owned(), false));
        }
        row.metadata = r.metadata.clone();
        row.deletion_policy = r.deletion_policy.as_str().to_owned();
        row.update_replace_policy = r.update_replace_policy.as_str().to_owned();
        if changed.is_empty() {
            self.rows.insert(id.to_owned(), row);
            return Ok(Begin::Done);
        }
        let action = if replace {
            "Update:Replace"
        } else {
            "Update:Modify"
        };
        let policy = self
            .stack
            .policy_during_update
            .clone()
            .or_else(|| self.stack.stack_policy.clone());
        if let Some(denied) = stack_policy::denies(policy.as_deref(), id, &r.resource_type, action)
        {
            self.set_resource(row, "UPDATE_FAILED", Some(denied), false)
                .await?;
            return Ok(Begin::Failed);
        }
        if replace {
            if let Some(np) = registry
                .get(&r.resource_type)
                .and_then(|p| p.name_property())
                && let Some(name) = props.get(np)
                && row.properties.get(np) == Some(name)
                && !type_changed
            {
                let name = name
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| name.to_string());
                self.set_resource(
                    row,
                    "UPDATE_FAILED",
                    Some(format!(
                        "CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename {name} and update the stack again."
                    )),
                    false,
                )
                .await?;
                return Ok(Begin::Failed);
            }
            let suffix = new_suffix();
            let note = UpdateNote::Replaced {
                physical_id: row.physical_id.clone().unwrap_or_default(),
                properties: row.properties.clone(),
                attributes: row.attributes.clone(),
            };
            row.physical_id = self.intended_id(id, &r.resource_type, &suffix, &props);
            row.resource_type = r.resource_type.clone();
            row.properties = props.clone();
            row.attributes = Map::new();
            row.name_suffix = suffix.clone();
            row.update = Some(note);
            self.pending.insert(id.to_owned(), props.clone());
            self.set_resource(row.clone(), "UPDATE_IN_PROGRESS", None, true)
                .await?;
            let row = self.rows[id].clone();
            self.resource_event(
                &row,
                "UPDATE_IN_PROGRESS",
                "Requested update requires the creation of a new physical resource; hence creating one.",
            )
            .await?;
            return Ok(Begin::Job(self.job(
                Op::Create,
                id,
                &r.resource_type,
                &suffix,
                Made::id(""),
                Value::Null,
                props,
            )));
        }
        let old = row.properties.clone();
        let current = Made {
            physical_id: row.physical_id.clone().unwrap_or_default(),
            attributes: row.attributes.clone(),
        };
        row.update = Some(UpdateNote::Modified {
            properties: old.clone(),
            attributes: row.attributes.clone(),
        });
        row.properties = props.clone();
        self.set_resource(row.clone(), "UPDATE_IN_PROGRESS", None, true)
            .await?;
        let tags = StackTags {
            applied: self
                .stack
                .previous
                .as_ref()
                .map_or_else(|| self.stack.tags.clone(), |p| p.tags.clone()),
            target: self.stack.tags.clone(),
        };
        Ok(Begin::Job(self.job_tagged(
            Op::Update,
            id,
            &r.resource_type,
            &row.name_suffix,
            current,
            old,
            props,
            tags,
        )))
    }

    pub(crate) async fn finish_update(
        &mut self,
        id: &str,
        result: Result<Made, Failure>,
    ) -> ApiResult<bool> {
        let mut row = self.rows[id].clone();
        let added = matches!(row.update, Some(UpdateNote::Added));
        if added {
            return self.finish_create(id, result).await;
        }
        let replaced = matches!(row.update, Some(UpdateNote::Replaced { .. }));
        match result {
            Ok(made) => {
                row.physical_id = Some(made.physical_id);
                row.attributes = made.attributes;
                self.set_resource(row, "UPDATE_COMPLETE", None, false)
                    .await?;
                Ok(true)
            }
            Err(f) => {
                if replaced {
                    row.physical_id = f.physical_id.clone();
                }
                self.set_resource(row, "UPDATE_FAILED", Some(f.reason), false)
                    .await?;
                Ok(false)
            }
        }
    }

    /// `UPDATE_IN_PROGRESS`.
    pub(crate) async fn update(&mut self) -> ApiResult<()> {
        let tpl = self.template.clone();
        let deps = cairn_template::Evaluator::new(&tpl, self.pseudo(), &self.stack.parameters)
            .and_then(|ev| ev.dependencies());
        let deps = match deps {
            Ok(d) => d,
            Err(e) => {
                crate::cloudformation::recovery::take_cancel(&self.stack.stack_id);
                return self.fail_update(e.to_string()).await;
            }
        };
        if let Some(reason) = self.missing_import() {
            crate::cloudformation::recovery::take_cancel(&self.stack.stack_id);
            return self.fail_update(reason).await;
        }
        // Resources the new template removes are deleted only in the cleanup phase, when
        // nothing can roll back any more: a stack policy denying their `Update:Delete` fails
        // the update before anything changes.
        let removed = self.removal_denials();
        if !removed.is_empty() {
            let mut ids = Vec::new();
            for (id, reason) in removed {
                let row = self.rows[&id].clone();
                self.set_resource(row, "UPDATE_FAILED", Some(reason), false)
                    .await?;
                ids.push(id);
            }
            crate::cloudformation::recovery::take_cancel(&self.stack.stack_id);
            return self
                .fail_update(format!(
                    "The following resource(s) failed to update: {}. ",
                    listed(&ids)
                ))
                .await;
        }
        if let Some(reason) = self.tripped_trigger().await? {
            crate::cloudformation::recovery::take_cancel(&self.stack.stack_id);
            return self.fail_update(reason).await;
        }
        let failed = self.schedule(Phase::Update, deps).await?;
        let tripped = match failed.is_empty() {
            true => self.monitor_triggers().await?,
            false => None,
        };
        let cancelled = crate::cloudformation::recovery::take_cancel(&self.stack.stack_id);
        if cancelled && failed.is_empty() {
            // CancelUpdateStack rolls back even a stack whose rollback is disabled.
            return self
                .set_status(
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    Some(crate::cloudformation::recovery::CANCELLED.into()),
                )
                .await;
        }
        if !failed.is_empty() {
            let all_new = failed.iter().all(|f| {
                matches!(
                    self.rows.get(f).and_then(|r| r.update.as_ref()),
                    Some(UpdateNote::Added)
                )
            });
            let verb = if all_new { "create" } else { "update" };
            return self
                .fail_update(format!(
                    "The following resource(s) failed to {verb}: {}. ",
                    listed(&failed)
                ))
                .await;
        }
        if let Some(reason) = tripped {
            return self.fail_update(reason).await;
        }
        match self.publish_outputs().await? {
            Ok(()) => {
                self.set_status("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", None)
                    .await
            }
            Err(reason) => self.fail_update(reason).await,
        }
    }

    async fn fail_update(&mut self, reason: String) -> ApiResult<()> {
        if self.stack.disable_rollback {
            self.set_status("UPDATE_FAILED", Some(reason)).await
        } else {
            self.set_status("UPDATE_ROLLBACK_IN_PROGRESS", Some(reason))
                .await
        }
    }

    /// Runs the cleanup phase over the rows `include` picks (their old physical resources, or
    /// the rows themselves), dependents first by `template`'s dependencies.
    async fn cleanup(
        &mut self,
        template: &cairn_template::Template,
        include: impl Fn(&crate::cloudformation::model::StackResource) -> bool,
    ) -> ApiResult<Vec<String>> {
        let mut deps: Vec<(String, Vec<String>)> = template
            .static_dependencies()
            .into_iter()
            .filter(|(id, _)| self.rows.get(id).is_some_and(&include))
            .collect();
        for (id, row) in &self.rows {
            if include(row) && !deps.iter().any(|(d, _)| d == id) {
                deps.push((id.clone(), Vec::new()));
            }
        }
        self.schedule(Phase::Cleanup, dependents(&deps)).await
    }

    /// Logical ids the current template makes (under its conditions).
    fn active_ids(&self) -> Vec<String> {
        let tpl = self.template.clone();
        cairn_template::Evaluator::new(&tpl, self.pseudo(), &self.stack.parameters)
            .map(|ev| {
                ev.active_resources()
                    .iter()
                    .map(|r| r.logical_id.clone())
                    .collect()
            })
            .unwrap_or_else(|_| tpl.resources.iter().map(|r| r.logical_id.clone()).collect())
    }

    /// The resources the new template removes whose `Update:Delete` the stack policy denies,
    /// each with the denial.
    fn removal_denials(&self) -> Vec<(String, String)> {
        let policy = self
            .stack
            .policy_during_update
            .clone()
            .or_else(|| self.stack.stack_policy.clone());
        if policy.is_none() {
            return Vec::new();
        }
        let active = self.active_ids();
        self.rows
            .values()
            .filter(|r| !active.contains(&r.logical_id) && !r.status.starts_with("DELETE_"))
            .filter_map(|r| {
                stack_policy::denies(
                    policy.as_deref(),
                    &r.logical_id,
                    &r.resource_type,
                    "Update:Delete",
                )
                .map(|why| (r.logical_id.clone(), why))
            })
            .collect()
    }

    /// The new template's `DeletionPolicy`, `UpdateReplacePolicy` and `Metadata` of each
    /// resource, in the store, for those the update left as they were too: they were kept only
    /// in memory, so the next DeleteStack, or an update removing the resource, read the old
    /// policy and deleted a resource the stack now said to retain (cfn8). One write for all.
    async fn save_attributes(&mut self, active: &[String]) -> ApiResult<()> {
        let template = self.template.clone();
        let mut rows = Vec::new();
        for id in active {
            let (Some(r), Some(row)) = (template.resource(id), self.rows.get(id)) else {
                continue;
            };
            if row.status.starts_with("DELETE_") {
                continue;
            }
            let mut row = row.clone();
            row.deletion_policy = r.deletion_policy.as_str().to_owned();
            row.update_replace_policy = r.update_replace_policy.as_str().to_owned();
            row.metadata = r.metadata.clone();
            self.rows.insert(id.clone(), row.clone());
            rows.push(row);
        }
        let stack_id = self.stack.stack_id.clone();
        self.engine
            .store
            .write(move |c| {
                rows.iter().try_for_each(|row| {
                    crate::cloudformation::records::put_resource(c, &stack_id, row)
                })
            })
            .await??;
        Ok(())
    }

    /// `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`: deletes what was replaced or removed.
    pub(crate) async fn cleanup_update(&mut self) -> ApiResult<()> {
        let active = self.active_ids();
        self.save_attributes(&active).await?;
        let old = match &self.stack.previous {
            Some(p) => Self::parse(&p.template_body)?,
            None => self.template.clone(),
        };
        let failed = self
            .cleanup(&old, |r| {
                matches!(r.update, Some(UpdateNote::Replaced { .. }))
                    || (!active.contains(&r.logical_id) && !super::phases::deleted(r))
            })
            .await?;
        if !failed.is_empty() {
            tracing::warn!(stack = %self.stack.name, failed = ?failed, "update cleanup could not delete everything");
        }
        self.clear_notes().await?;
        self.stack.previous = None;
        self.stack.policy_during_update = None;
        self.set_status("UPDATE_COMPLETE", None).await
    }

    async fn clear_notes(&mut self) -> ApiResult<()> {
        let noted: Vec<String> = self
            .rows
            .values()
            .filter(|r| r.update.is_some())
            .map(|r| r.logical_id.clone())
            .collect();
        for id in noted {
            let mut row = self.rows[&id].clone();
            row.update = None;
            self.rows.insert(id.clone(), row.clone());
            let stack_id = self.stack.stack_id.clone();
            self.engine
                .store
                .write(move |c| crate::cloudformation::records::put_resource(c, &stack_id, &row))
                .await??;
        }
        Ok(())
    }

    /// `UPDATE_ROLLBACK_IN_PROGRESS`: restores what the update modified or replaced.
    pub(crate) async fn rollback_update(&mut self) -> ApiResult<()> {
        // Rolling back is an update back to the old template: each resource returns to its
        // old properties after the resources it depends on there, so a trail goes back to
        // its old prefix or log group once the bucket or role policy allows them again.
        let old = match &self.stack.previous {
            Some(p) => Self::parse(&p.template_body).ok(),
            None => None,
        };
        let mut order = Vec::new();
        for template in old.iter().chain(std::iter::once(&self.template)) {
            let ids = cairn_template::graph::order(&template.static_dependencies()).unwrap_or_else(
                |_| {
                    template
                        .resources
                        .iter()
                        .map(|r| r.logical_id.clone())
                        .collect()
                },
            );
            for id in ids {
                if !order.contains(&id) {
                    order.push(id);
                }
            }
        }
        let mut failed = Vec::new();
        for id in order {
            let Some(row) = self.rows.get(&id).cloned() else {
                continue;
            };
            match row.update.clone() {
                Some(UpdateNote::Modified {
                    properties,
                    attributes,
                }) => {
                    let current = Made {
                        physical_id: row.physical_id.clone().unwrap_or_default(),
                        attributes: attributes.clone(),
                    };
                    self.set_resource(row.clone(), "UPDATE_IN_PROGRESS", None, false)
                        .await?;
                    // Back to the properties and stack tags from before the update.
                    let tags = StackTags {
                        applied: self.stack.tags.clone(),
                        target: self
                            .stack
                            .previous
                            .as_ref()
                            .map_or_else(|| self.stack.tags.clone(), |p| p.tags.clone()),
                    };
                    let job = self.job_tagged(
                        Op::Update,
                        &id,
                        &row.resource_type,
                        &row.name_suffix,
                        current,
                        row.properties.clone(),
                        properties.clone(),
                        tags,
                    );
                    let (_, result) = job.await;
                    let mut row = self.rows[&id].clone();
                    match result {
                        Ok(made) => {
                            row.properties = properties;
                            row.attributes = made.attributes;
                            row.update = None;
                            self.set_resource(row, "UPDATE_COMPLETE", None, false)
                                .await?;
                        }
                        Err(f) => {
                            failed.push(id.clone());
                            self.set_resource(row, "UPDATE_FAILED", Some(f.reason), false)
                                .await?;
                        }
                    }
                }
                Some(UpdateNote::Replaced {
                    physical_id,
                    properties,
                    attributes,
                }) => {
                    let mut row = row;
                    row.update = row.physical_id.take().map(|p| UpdateNote::Discard {
                        physical_id: p,
                        properties: row.properties.clone(),
                        attributes: row.attributes.clone(),
                    });
                    row.physical_id = Some(physical_id);
                    row.properties = properties;
                    row.attributes = attributes;
                    self.set_resource(row, "UPDATE_COMPLETE", None, false)
                        .await?;
                }
                _ => {}
            }
        }
        if !failed.is_empty() {
            return self
                .set_status(
                    "UPDATE_ROLLBACK_FAILED",
                    Some(format!(
                        "The following resource(s) failed to update: {}. ",
                        listed(&failed)
                    )),
                )
                .await;
        }
        // The failed template stays as `previous` for the cleanup's order; the stack is back
        // on its old template, parameters, tags and outputs.
        if let Some(mut prev) = self.stack.previous.take() {
            std::mem::swap(&mut prev.template_body, &mut self.stack.template_body);
            std::mem::swap(&mut prev.parameters, &mut self.stack.parameters);
            std::mem::swap(&mut prev.outputs, &mut self.stack.outputs);
            std::mem::swap(&mut prev.tags, &mut self.stack.tags);
            std::mem::swap(&mut prev.description, &mut self.stack.description);
            self.stack.previous = Some(prev);
            self.template = Self::parse(&self.stack.template_body)?;
        }
        self.set_status("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", None)
            .await
    }

    /// `UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS`: deletes what the failed update made.
    pub(crate) async fn cleanup_rollback(&mut self) -> ApiResult<()> {
        let failed_template = match &self.stack.previous {
            Some(p) => Self::parse(&p.template_body)?,
            None => self.template.clone(),
        };
        let failed = self
            .cleanup(&failed_template, |r| {
                matches!(
                    r.update,
                    Some(UpdateNote::Added) | Some(UpdateNote::Discard { .. })
                )
            })
            .await?;
        if !failed.is_empty() {
            tracing::warn!(stack = %self.stack.name, failed = ?failed, "update rollback cleanup could not delete everything");
        }
        self.clear_notes().await?;
        // Exports go back to what the restored outputs export.
        self.stack.previous = None;
        let _ = self.publish_outputs().await?;
        self.stack.policy_during_update = None;
        self.set_status("UPDATE_ROLLBACK_COMPLETE", None).await
    }

    pub(crate) async fn begin_cleanup(&mut self, id: &str) -> ApiResult<Begin> {
        let row = self.rows[id].clone();
        match row.update.clone() {
            Some(UpdateNote::Replaced {
                physical_id,
                properties,
                attributes,
            })
            | Some(UpdateNote::Discard {
                physical_id,
                properties,
                attributes,
            }) => {
                let mut old = row.clone();
                old.physical_id = Some(physical_id.clone());
                let replaced = matches!(row.update, Some(UpdateNote::Replaced { .. }));
                if replaced && old.update_replace_policy == "Retain" {
                    self.resource_event(&old, "DELETE_SKIPPED", "Retained by UpdateReplacePolicy")
                        .await?;
                    return Ok(Begin::Done);
                }
                let event = crate::cloudformation::records::event(
                    &self.stack,
                    id,
                    Some(&physical_id),
                    &row.resource_type,
                    "DELETE_IN_PROGRESS",
                    None,
                    None,
                    now(),
                );
                self.engine
                    .store
                    .write(move |c| crate::cloudformation::records::append_event(c, &event))
                    .await??;
                let current = Made {
                    physical_id,
                    attributes,
                };
                Ok(Begin::Job(self.job(
                    Op::Delete,
                    id,
                    &row.resource_type,
                    &row.name_suffix,
                    current,
                    Value::Null,
                    properties,
                )))
            }
            _ => {
                // A row the update removed (or added and rolled back) leaves the stack once it
                // is gone, even when nothing had to be deleted (never made, or retained). One
                // the rolled-back update made is deleted under `RetainExceptOnCreate`, as a
                // rolled-back create's is (it was kept, and the next deploy found it: cfn8).
                let made_by_rolled_back = matches!(row.update, Some(UpdateNote::Added));
                let begun = self.begin_delete(id, made_by_rolled_back).await?;
                if matches!(begun, Begin::Done) {
                    self.drop_resource(id).await?;
                }
                Ok(begun)
            }
        }
    }

    pub(crate) async fn finish_cleanup(
        &mut self,
        id: &str,
        result: Result<Made, Failure>,
    ) -> ApiResult<bool> {
        let row = self.rows[id].clone();
        match row.update.clone() {
            Some(UpdateNote::Replaced { physical_id, .. })
            | Some(UpdateNote::Discard { physical_id, .. }) => {
                let (status, reason, ok) = match &result {
                    Ok(_) => ("DELETE_COMPLETE", None, true),
                    Err(f) if f.is_not_found() => ("DELETE_COMPLETE", None, true),
                    Err(f) => ("DELETE_FAILED", Some(f.reason.clone()), false),
                };
                let event = crate::cloudformation::records::event(
                    &self.stack,
                    id,
                    Some(&physical_id),
                    &row.resource_type,
                    status,
                    reason.as_deref(),
                    None,
                    now(),
                );
                let mut row = row;
                if matches!(row.update, Some(UpdateNote::Discard { .. })) {
                    row.update = None;
                }
                self.rows.insert(id.to_owned(), row.clone());
                let stack_id = self.stack.stack_id.clone();
                self.engine
                    .store
                    .write(move |c| {
                        crate::cloudformation::records::put_resource(c, &stack_id, &row)?;
                        crate::cloudformation::records::append_event(c, &event)
                    })
                    .await??;
                Ok(ok)
            }
            _ => {
                let ok = self.finish_delete(id, result).await?;
                if ok {
                    self.drop_resource(id).await?;
                }
                Ok(ok)
            }
        }
    }
}
