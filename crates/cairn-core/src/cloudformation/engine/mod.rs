//! The deployment engine: runs a stack's operation from its status to a final one.
//!
//! A stack's status says what is left to do (`CREATE_IN_PROGRESS`: create its resources;
//! `ROLLBACK_IN_PROGRESS`: delete what was made; `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS`: delete
//! what the update replaced or removed; …), so [`Engine::run`] is a loop over statuses, and a
//! restart resumes any stack whose status ends in `_IN_PROGRESS` (a create or update that was
//! interrupted rolls back, with a stack event saying why). Resources are created, updated and
//! deleted in dependency order, independent ones concurrently; every state change of a
//! resource commits together with the event that reports it. Before a create call the
//! resource's row already names the physical id it will get (when a name determines it), so an
//! interrupted create can be cleaned up.

mod phases;
mod schedule;
mod triggers;
mod update;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cairn_model::{AccountId, Principal, Region};
use cairn_store::Store;
use serde_json::Value;

use super::model::{Stack, StackEvent, StackResource};
use super::providers::Registry;
use super::records;
use super::services::{Call, Caller, Service, Services};
use crate::error::{ApiError, ApiResult};

/// A test's hold on the engine: a future that ends when the engine may go on.
pub type Hold = Box<dyn Fn() -> super::services::BoxFuture<'static, ()> + Send + Sync>;

/// Faults injected for tests: abort the process after a number of resource operations, or
/// hold the engine after each resource operation (so a test can act while an operation is
/// in progress), or fail the operation as a full store does while a condition holds.
pub struct Fault {
    after: Option<usize>,
    done: AtomicUsize,
    hold: Option<Hold>,
    unavailable: Option<Box<dyn Fn() -> bool + Send + Sync>>,
}

impl Fault {
    /// Aborts after `after` completed resource operations.
    pub fn abort_after(after: usize) -> Self {
        Self::new(Some(after), None)
    }

    /// Aborts after `after` operations (if given); awaits `hold` after each.
    pub fn new(after: Option<usize>, hold: Option<Hold>) -> Self {
        Self {
            after,
            done: AtomicUsize::new(0),
            hold,
            unavailable: None,
        }
    }

    /// After each resource operation, while `when` says so, the operation stops with
    /// `ServiceUnavailable`, as a write refused by a full store stops it.
    pub fn unavailable_while(mut self, when: Box<dyn Fn() -> bool + Send + Sync>) -> Self {
        self.unavailable = Some(when);
        self
    }

    async fn tick(&self) -> ApiResult<()> {
        let done = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        if self.after.is_some_and(|after| done >= after) {
            tracing::warn!("injected fault: aborting mid-deployment");
            std::process::abort();
        }
        if let Some(hold) = &self.hold {
            hold().await;
        }
        if self.unavailable.as_ref().is_some_and(|when| when()) {
            return Err(ApiError::new(
                crate::ErrorKind::ServiceUnavailable,
                "the store is full (injected): calls are refused until space is freed",
            ));
        }
        Ok(())
    }
}

/// Why an operation found in progress at start was interrupted.
const RESTARTED: &str = "Cairn restarted while this operation was in progress";

/// What runs stack operations.
#[derive(Clone)]
pub struct Engine {
    /// The store.
    pub store: Store,
    /// The services resources are made with.
    pub services: Arc<dyn Services>,
    /// The resource types.
    pub registry: Arc<Registry>,
    /// A fault to inject (tests).
    pub fault: Option<Arc<Fault>>,
}

/// Epoch seconds now.
pub fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// One operation in progress.
pub(crate) struct Run<'e> {
    engine: &'e Engine,
    stack: Stack,
    rows: BTreeMap<String, StackResource>,
    caller: Caller,
    /// Export values of other stacks, by name.
    exports: BTreeMap<String, String>,
    /// Properties a running update will leave a resource with.
    pending: BTreeMap<String, Value>,
    /// Export names this stack's templates imported.
    imported: std::sync::Mutex<Vec<String>>,
    /// The stack's current template, parsed.
    template: Arc<cairn_template::Template>,
    /// Characters of each resource's resolved properties, as the stack holds them, against
    /// [`MAX_STACK_PROPERTY_CHARS`] (filled from the rows on first use).
    property_chars: std::sync::Mutex<Option<BTreeMap<String, usize>>>,
}

/// The most characters a stack's resolved resource properties may hold in all: each
/// resource's are bounded (1 MiB, `cairn_template::MAX_MADE_CHARS`), and this bounds their
/// sum, so a small template cannot make every operation store hundreds of megabytes of
/// properties on its resources and stack events (cfn11 F7). A 1 MB template whose values
/// are its own text stays far below it.
pub(crate) const MAX_STACK_PROPERTY_CHARS: usize = 4 << 20;

impl Engine {
    /// Runs a stack's operation to its end. `resumed`: the server restarted while it was in
    /// progress. An operation the store stops (a full disk: its writes are refused) is not
    /// left in progress: it is taken up again, with waits growing to a minute, once writes
    /// go through, and what it left in progress fails with that error as the reason (a
    /// create or update then rolls back, as CloudFormation does after a resource fails).
    /// Other faults are retried so twice, then the operation is left as it is.
    pub async fn run(&self, stack_id: &str, resumed: bool) {
        let mut cause = resumed.then(|| RESTARTED.to_owned());
        let mut wait = std::time::Duration::from_secs(1);
        let mut faults = 0;
        loop {
            let Err(e) = self.try_run(stack_id, cause.as_deref()).await else {
                return;
            };
            if !self.store.writer_alive() {
                tracing::error!(stack = %stack_id, error = %e, "stack operation stopped: the store writer is gone");
                return;
            }
            if e.kind != crate::ErrorKind::ServiceUnavailable {
                faults += 1;
                if faults > 2 {
                    tracing::error!(stack = %stack_id, error = %e, "stack operation stopped");
                    return;
                }
            }
            tracing::warn!(stack = %stack_id, error = %e, retry_in = ?wait, "stack operation interrupted; it is taken up again");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(std::time::Duration::from_secs(60));
            cause = Some(e.message);
        }
    }

    async fn try_run(&self, stack_id: &str, interrupted_by: Option<&str>) -> ApiResult<()> {
        let id = stack_id.to_owned();
        let loaded = self
            .store
            .read(move |c| {
                Ok(records::get_stack(c, &id).and_then(|s| {
                    let rows = records::resources(c, &id)?;
                    let exports = match &s {
                        Some((stack, _)) => {
                            cairn_store::cloudformation::exports(c, &stack.account, &stack.region)?
                        }
                        None => Vec::new(),
                    };
                    Ok((s, rows, exports))
                }))
            })
            .await??;
        let (Some((stack, false)), rows, exports) = loaded else {
            return Ok(());
        };
        let principal = stack.caller.principal()?;
        let template = Arc::new(
            cairn_template::Template::parse(&stack.template_body)
                .map_err(|e| ApiError::new(crate::ErrorKind::Internal, e.to_string()))?,
        );
        let region = Region::parse(&stack.region)
            .map_err(|e| ApiError::new(crate::ErrorKind::Internal, e))?;
        let mut run = Run {
            engine: self,
            caller: Caller { principal, region },
            rows: rows
                .into_iter()
                .map(|r| (r.logical_id.clone(), r))
                .collect(),
            exports: exports
                .into_iter()
                .filter(|(_, s, _)| *s != stack.stack_id)
                .map(|(n, _, v)| (n, v))
                .collect(),
            stack,
            pending: BTreeMap::new(),
            imported: std::sync::Mutex::new(Vec::new()),
            property_chars: std::sync::Mutex::new(None),
            template,
        };
        if let Some(why) = interrupted_by {
            run.interrupted(why).await?;
        }
        if let Some(role) = run.stack.role_arn.clone()
            && let Err(reason) = run.assume_role(&role).await
        {
            return run.role_failed(reason).await;
        }
        loop {
            let status = run.stack.status.clone();
            match status.as_str() {
                "CREATE_IN_PROGRESS" => run.create().await?,
                "ROLLBACK_IN_PROGRESS" => run.rollback_create().await?,
                "DELETE_IN_PROGRESS" => run.delete().await?,
                "UPDATE_IN_PROGRESS" => run.update().await?,
                "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS" => run.cleanup_update().await?,
                "UPDATE_ROLLBACK_IN_PROGRESS" => run.rollback_update().await?,
                "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS" => run.cleanup_rollback().await?,
                "ROLLBACK_COMPLETE" if run.stack.delete_on_failure => {
                    run.set_status(
                        "DELETE_IN_PROGRESS",
                        Some("The stack failed to create and OnFailure is DELETE".into()),
                    )
                    .await?
                }
                _ => return Ok(()),
            }
        }
    }
}

impl Run<'_> {
    /// Writes the stack with a new status and its stack event.
    pub(crate) async fn set_status(
        &mut self,
        status: &str,
        reason: Option<String>,
    ) -> ApiResult<()> {
        self.stack.status = status.to_owned();
        self.stack.status_reason = reason;
        let finished_change_set = if status.ends_with("_IN_PROGRESS") {
            None
        } else {
            // The stack keeps showing the change set that made it (DescribeStacks'
            // `ChangeSetId`); the change set itself is finished only once.
            self.stack.change_set_id.clone()
        };
        let succeeded = matches!(status, "CREATE_COMPLETE" | "UPDATE_COMPLETE");
        let stack = self.stack.clone();
        let deleted = status == "DELETE_COMPLETE";
        let event = records::stack_event(&stack, now());
        self.engine
            .store
            .write(move |c| {
                cairn_store::with_savepoint(c, |c| {
                    records::put_stack(c, &stack, deleted)?;
                    if let Some(cs) = &finished_change_set {
                        crate::cloudformation::changesets::finish_change_set(c, cs, succeeded)?;
                    }
                    records::append_event(c, &event)
                })
            })
            .await??;
        Ok(())
    }

    /// `properties` as a stack event shows them: every `NoEcho` parameter's value, wherever
    /// a string holds it, as `****` ("masked as asterisks for any calls that describe the
    /// stack or stack events"; cfn11 F6: DescribeStackEvents and the stack's notifications
    /// showed it in clear).
    fn masked(&self, properties: &Value) -> Value {
        let secrets: Vec<&str> = self
            .template
            .parameters
            .iter()
            .filter(|p| p.no_echo)
            .filter_map(|p| {
                self.stack
                    .parameters
                    .iter()
                    .find(|(k, _)| *k == p.name)
                    .map(|(_, v)| v.as_str())
            })
            .filter(|v| !v.is_empty())
            .collect();
        if secrets.is_empty() {
            return properties.clone();
        }
        fn walk(v: &Value, secrets: &[&str]) -> Value {
            match v {
                Value::String(s) => Value::String(
                    secrets
                        .iter()
                        .fold(s.clone(), |acc, secret| acc.replace(secret, "****")),
                ),
                Value::Array(items) => {
                    Value::Array(items.iter().map(|i| walk(i, secrets)).collect())
                }
                Value::Object(m) => Value::Object(
                    m.iter()
                        .map(|(k, i)| (k.clone(), walk(i, secrets)))
                        .collect(),
                ),
                other => other.clone(),
            }
        }
        walk(properties, &secrets)
    }

    /// Writes a resource with a new status and the event that reports it.
    pub(crate) async fn set_resource(
        &mut self,
        mut row: StackResource,
        status: &str,
        reason: Option<String>,
        with_properties: bool,
    ) -> ApiResult<()> {
        row.status = status.to_owned();
        row.status_reason = reason.clone();
        row.updated = now();
        let props = with_properties.then(|| self.masked(&row.properties).to_string());
        let event = records::event(
            &self.stack,
            &row.logical_id,
            row.physical_id.as_deref(),
            &row.resource_type,
            status,
            reason.as_deref(),
            props,
            row.updated,
        );
        self.rows.insert(row.logical_id.clone(), row.clone());
        self.write_resource(row, Some(event)).await
    }

    /// Writes an extra event for a resource without changing it.
    pub(crate) async fn resource_event(
        &self,
        row: &StackResource,
        status: &str,
        reason: &str,
    ) -> ApiResult<()> {
        let event = records::event(
            &self.stack,
            &row.logical_id,
            row.physical_id.as_deref(),
            &row.resource_type,
            status,
            Some(reason),
            None,
            now(),
        );
        self.engine
            .store
            .write(move |c| records::append_event(c, &event))
            .await??;
        Ok(())
    }

    async fn write_resource(&self, row: StackResource, event: Option<StackEvent>) -> ApiResult<()> {
        let stack_id = self.stack.stack_id.clone();
        self.engine
            .store
            .write(move |c| {
                cairn_store::with_savepoint(c, |c| {
                    records::put_resource(c, &stack_id, &row)?;
                    if let Some(e) = &event {
                        records::append_event(c, e)?;
                    }
                    Ok::<_, ApiError>(())
                })
            })
            .await??;
        Ok(())
    }

    /// Forgets a resource (removed by an update, or added by an update that rolled back).
    pub(crate) async fn drop_resource(&mut self, logical_id: &str) -> ApiResult<()> {
        self.rows.remove(logical_id);
        let (stack_id, id) = (self.stack.stack_id.clone(), logical_id.to_owned());
        self.engine
            .store
            .write(move |c| cairn_store::cloudformation::delete_resource(c, &stack_id, &id))
            .await??;
        Ok(())
    }

    /// Marks what an interrupted operation left in progress (`why`), and turns an
    /// interrupted create or update into its rollback.
    async fn interrupted(&mut self, why: &str) -> ApiResult<()> {
        let why = why.trim_end_matches('.');
        let in_progress: Vec<StackResource> = self
            .rows
            .values()
            .filter(|r| r.status.ends_with("_IN_PROGRESS"))
            .cloned()
            .collect();
        for mut row in in_progress {
            let mut reason = format!("Resource operation cancelled: {why}");
            let status = match row.status.as_str() {
                "CREATE_IN_PROGRESS" => {
                    // Whether the create ran is unknown. A resource named by the template's
                    // name property may be one that already existed (its create then failed
                    // with "already exists"), which a rollback must never delete (upgrade3:
                    // a crash here made the rollback delete another owner's log group, and
                    // try the trail's bucket): it is retained, and the reason says so. A
                    // name the stack made up, or a resource attached to another (a bucket
                    // policy), is the stack's to delete.
                    let named = self
                        .engine
                        .registry
                        .get(&row.resource_type)
                        .and_then(|p| p.name_property())
                        .is_some_and(|p| row.properties.get(p).is_some());
                    match row.physical_id.clone() {
                        Some(id) if named => {
                            row.deletion_policy = "Retain".to_owned();
                            reason = format!(
                                "{reason}; Cairn cannot tell whether this stack made {id}, so it is retained"
                            );
                        }
                        // An id known only once made (a key, an access key, an inline
                        // policy): the stack cannot find what the create may have made, so
                        // its rollback must not claim it deleted it (recheck28).
                        None => reason = format!("{reason}; {}", phases::UNCONFIRMED),
                        Some(_) => {}
                    }
                    "CREATE_FAILED"
                }
                "UPDATE_IN_PROGRESS" => "UPDATE_FAILED",
                // A delete that may not have run is tried again by the phase resumed
                // (upgrade3: such rows were skipped, and the stack said ROLLBACK_COMPLETE
                // over resources it never deleted).
                "DELETE_IN_PROGRESS" => "DELETE_FAILED",
                _ => continue,
            };
            self.set_resource(row, status, Some(reason), false).await?;
        }
        let status = self.stack.status.clone();
        let (next, reason) = match status.as_str() {
            "CREATE_IN_PROGRESS" if self.stack.disable_rollback => (
                "CREATE_FAILED",
                format!("{why}; rollback is disabled, so what was created is kept."),
            ),
            "CREATE_IN_PROGRESS" => ("ROLLBACK_IN_PROGRESS", format!("{why}. Rolling back.")),
            "UPDATE_IN_PROGRESS" => (
                "UPDATE_ROLLBACK_IN_PROGRESS",
                format!("{why}. Rolling back the update."),
            ),
            other => (other, format!("{why}. Resuming it.")),
        };
        let next = next.to_owned();
        self.set_status(&next, Some(reason)).await
    }

    /// Acts as the stack's service role from now on.
    async fn assume_role(&mut self, role_arn: &str) -> Result<(), String> {
        let invalid = || format!("Role {role_arn} is invalid or cannot be assumed");
        let account = AccountId::parse(&self.stack.account).map_err(|_| invalid())?;
        let service = Caller {
            principal: Principal::Service {
                account: account.clone(),
                name: "cloudformation.amazonaws.com".to_owned(),
            },
            region: self.caller.region.clone(),
        };
        let out = self
            .engine
            .services
            .call(
                &service,
                Call {
                    service: Service::Sts,
                    action: "AssumeRole",
                    input: serde_json::json!({"RoleArn": role_arn, "RoleSessionName": "AWSCloudFormation"}),
                },
            )
            .await
            .map_err(|_| invalid())?;
        let s = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        let creds = out.get("Credentials");
        let assumed_id = s(out
            .get("AssumedRoleUser")
            .and_then(|u| u.get("AssumedRoleId")));
        let (role_id, session_name) = assumed_id.split_once(':').ok_or_else(invalid)?;
        let path_and_name = role_arn
            .split_once(":role")
            .map(|(_, r)| r)
            .ok_or_else(invalid)?;
        let (path, name) = match path_and_name.rfind('/') {
            Some(i) => (&path_and_name[..=i], &path_and_name[i + 1..]),
            None => ("/", path_and_name),
        };
        let expires =
            chrono::DateTime::parse_from_rfc3339(&s(creds.and_then(|c| c.get("Expiration"))))
                .map(|t| t.timestamp())
                .unwrap_or(now() as i64 + 3600);
        self.caller.principal = Principal::AssumedRole {
            account,
            role_name: name.to_owned(),
            role_id: role_id.to_owned(),
            role_path: path.to_owned(),
            session_name: session_name.to_owned(),
            access_key_id: s(creds.and_then(|c| c.get("AccessKeyId"))),
            session: cairn_model::identity::SessionContext {
                created: now() as i64,
                expires,
                mfa: false,
                source_identity: None,
            },
        };
        Ok(())
    }

    /// Ends the operation because its service role cannot be assumed.
    async fn role_failed(&mut self, reason: String) -> ApiResult<()> {
        let next = match self.stack.status.as_str() {
            "CREATE_IN_PROGRESS" | "ROLLBACK_IN_PROGRESS"
                if self.rows.values().all(|r| r.physical_id.is_none()) =>
            {
                if self.stack.status == "CREATE_IN_PROGRESS" {
                    self.set_status("ROLLBACK_IN_PROGRESS", Some(reason.clone()))
                        .await?;
                }
                "ROLLBACK_COMPLETE"
            }
            "CREATE_IN_PROGRESS" | "ROLLBACK_IN_PROGRESS" => "ROLLBACK_FAILED",
            "DELETE_IN_PROGRESS" => "DELETE_FAILED",
            "UPDATE_IN_PROGRESS" | "UPDATE_ROLLBACK_IN_PROGRESS" => "UPDATE_ROLLBACK_FAILED",
            _ => "UPDATE_ROLLBACK_FAILED",
        };
        self.set_status(next, Some(reason)).await
    }

    /// The stack's pseudo parameters.
    pub(crate) fn pseudo(&self) -> cairn_template::Pseudo {
        cairn_template::Pseudo {
            account_id: self.stack.account.clone(),
            region: self.stack.region.clone(),
            stack_name: self.stack.name.clone(),
            stack_id: self.stack.stack_id.clone(),
            notification_arns: self.stack.notification_arns.clone(),
        }
    }

    /// Parses a template body the stack already validated.
    pub(crate) fn parse(body: &str) -> ApiResult<Arc<cairn_template::Template>> {
        cairn_template::Template::parse(body)
            .map(Arc::new)
            .map_err(|e| ApiError::new(crate::ErrorKind::Internal, e.to_string()))
    }
}
