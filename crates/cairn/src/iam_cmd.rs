//! `cairn iam …`: admin commands for bootstrapping and recovery that change IAM state directly
//! in an existing data dir, through the same `cairn_core::iam` functions as the API (same
//! names rules, quotas and errors). Each change bumps the IAM generation in its transaction,
//! so a server running on the data dir drops its cached credentials within one poll (about
//! half a second). Each change is recorded, in the same transaction, as the IAM event the API
//! would have written, by `cairn-admin` ([`cairn_core::iam::admin_events`]); listings are not.

use std::path::PathBuf;

use anyhow::{Context, bail};
use cairn_core::CallContext;
use cairn_core::error::ApiResult;
use cairn_core::iam::admin_events::{self, AdminChange};
use cairn_core::iam::{EntityKind, PageRequest, attach, groups, inline, keys, user_arn, users};
use cairn_model::{Principal, Region};
use cairn_store::Connection;
use clap::{Args, Subcommand};
use serde_json::{Value, json};

/// Arguments of `cairn iam`.
#[derive(Args, Debug)]
pub struct IamArgs {
    /// Data directory (must already exist: start `cairn serve` on it once).
    #[arg(
        long,
        env = "CAIRN_DATA_DIR",
        default_value = "cairn-data",
        global = true
    )]
    data_dir: PathBuf,
    /// Account id (default: the account the data dir's server runs as; another is refused).
    #[arg(long, env = "CAIRN_ACCOUNT_ID", global = true)]
    account_id: Option<String>,
    #[command(subcommand)]
    command: IamCommand,
}

#[derive(Subcommand, Debug)]
enum IamCommand {
    /// Create an IAM user.
    CreateUser {
        /// User name.
        name: String,
        /// Path (`/` by default).
        #[arg(long)]
        path: Option<String>,
    },
    /// Delete a user (it must have no keys, policies or groups left).
    DeleteUser {
        /// User name.
        name: String,
    },
    /// List users.
    ListUsers,
    /// Create an access key for a user; prints the secret once.
    CreateAccessKey {
        /// User name.
        name: String,
    },
    /// List a user's access keys.
    ListAccessKeys {
        /// User name.
        name: String,
    },
    /// Activate or deactivate an access key (a running server stops taking an inactive key within about half a second).
    UpdateAccessKey {
        /// User name.
        name: String,
        /// Access key id.
        access_key_id: String,
        /// `Active` or `Inactive`.
        #[arg(long)]
        status: String,
    },
    /// Delete an access key.
    DeleteAccessKey {
        /// User name.
        name: String,
        /// Access key id.
        access_key_id: String,
    },
    /// Attach a managed policy (customer or `arn:aws:iam::aws:policy/…`) to a user.
    AttachUserPolicy {
        /// User name.
        name: String,
        /// Policy ARN.
        #[arg(long)]
        policy_arn: String,
    },
    /// Detach a managed policy from a user.
    DetachUserPolicy {
        /// User name.
        name: String,
        /// Policy ARN.
        #[arg(long)]
        policy_arn: String,
    },
    /// Create or replace a user's inline policy.
    PutUserPolicy {
        /// User name.
        name: String,
        /// Policy name.
        #[arg(long)]
        policy_name: String,
        /// The policy document (JSON), or `file://FILE` (or `@FILE`) to read it from a file.
        #[arg(long)]
        policy_document: String,
    },
    /// Create a group.
    CreateGroup {
        /// Group name.
        name: String,
    },
    /// Add a user to a group.
    AddUserToGroup {
        /// Group name.
        group: String,
        /// User name.
        user: String,
    },
    /// Attach a managed policy to a group.
    AttachGroupPolicy {
        /// Group name.
        group: String,
        /// Policy ARN.
        #[arg(long)]
        policy_arn: String,
    },
}

/// A policy document argument: the JSON itself, or a file named as `file://PATH` (as the
/// AWS CLI takes it) or `@PATH`.
fn document(arg: &str) -> anyhow::Result<String> {
    match arg
        .strip_prefix("file://")
        .or_else(|| arg.strip_prefix('@'))
    {
        Some(path) => std::fs::read_to_string(path).with_context(|| format!("reading {path}")),
        None => Ok(arg.to_owned()),
    }
}

/// Runs an IAM admin command.
pub fn run(args: IamArgs) -> anyhow::Result<()> {
    let store = crate::admin_store::open_existing(&args.data_dir)?;
    let account = crate::account::for_admin(&store, &args.data_dir, args.account_id.as_deref())?;
    let ctx = CallContext {
        principal: Principal::Root {
            account,
            access_key_id: String::new(),
            session: None,
        },
        region: Region::parse("us-east-1").expect("us-east-1 exists"),
        now: chrono::Utc::now().timestamp() as f64,
        origin: Default::default(),
    };
    let command = args.command;
    let change = change_of(&command);
    let out: ApiResult<Value> = store.write_blocking(move |c| {
        cairn_store::with_savepoint(c, |c| {
            let out = execute(c, &ctx, command)?;
            if let Some((event_name, request_parameters, words)) = change {
                admin_events::record(
                    c,
                    AdminChange {
                        account: ctx.principal.account().as_str(),
                        now: ctx.now,
                        event_name,
                        request_parameters,
                        command: &words,
                    },
                )?;
            }
            Ok(out)
        })
    })?;
    match out {
        Ok(Value::Null) => Ok(()),
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(())
        }
        Err(e) => bail!(
            "{}: {}",
            cairn_api::errors::code_and_status(e.kind).0,
            e.message
        ),
    }
}

/// The IAM action a changing command equals, its request in CloudTrail's form, and the
/// command's words for the record (no policy document or key material in those words).
fn change_of(command: &IamCommand) -> Option<(&'static str, Value, String)> {
    Some(match command {
        IamCommand::CreateUser { name, path } => {
            let mut p = json!({ "userName": name });
            if let Some(path) = path {
                p["path"] = json!(path);
            }
            ("CreateUser", p, format!("iam create-user {name}"))
        }
        IamCommand::DeleteUser { name } => (
            "DeleteUser",
            json!({ "userName": name }),
            format!("iam delete-user {name}"),
        ),
        IamCommand::CreateAccessKey { name } => (
            "CreateAccessKey",
            json!({ "userName": name }),
            format!("iam create-access-key {name}"),
        ),
        IamCommand::UpdateAccessKey {
            name,
            access_key_id,
            status,
        } => (
            "UpdateAccessKey",
            json!({ "userName": name, "accessKeyId": access_key_id, "status": status }),
            format!("iam update-access-key {name} {access_key_id} --status {status}"),
        ),
        IamCommand::DeleteAccessKey {
            name,
            access_key_id,
        } => (
            "DeleteAccessKey",
            json!({ "userName": name, "accessKeyId": access_key_id }),
            format!("iam delete-access-key {name} {access_key_id}"),
        ),
        IamCommand::AttachUserPolicy { name, policy_arn } => (
            "AttachUserPolicy",
            json!({ "userName": name, "policyArn": policy_arn }),
            format!("iam attach-user-policy {name} {policy_arn}"),
        ),
        IamCommand::DetachUserPolicy { name, policy_arn } => (
            "DetachUserPolicy",
            json!({ "userName": name, "policyArn": policy_arn }),
            format!("iam detach-user-policy {name} {policy_arn}"),
        ),
        IamCommand::PutUserPolicy {
            name, policy_name, ..
        } => (
            "PutUserPolicy",
            json!({ "userName": name, "policyName": policy_name }),
            format!("iam put-user-policy {name} {policy_name}"),
        ),
        IamCommand::CreateGroup { name } => (
            "CreateGroup",
            json!({ "groupName": name }),
            format!("iam create-group {name}"),
        ),
        IamCommand::AddUserToGroup { group, user } => (
            "AddUserToGroup",
            json!({ "groupName": group, "userName": user }),
            format!("iam add-user-to-group {group} {user}"),
        ),
        IamCommand::AttachGroupPolicy { group, policy_arn } => (
            "AttachGroupPolicy",
            json!({ "groupName": group, "policyArn": policy_arn }),
            format!("iam attach-group-policy {group} {policy_arn}"),
        ),
        IamCommand::ListUsers | IamCommand::ListAccessKeys { .. } => return None,
    })
}

fn execute(c: &Connection, ctx: &CallContext, command: IamCommand) -> ApiResult<Value> {
    let all = PageRequest {
        marker: None,
        max_items: Some(1000),
    };
    Ok(match command {
        IamCommand::CreateUser { name, path } => {
            let u = users::create_user(c, ctx, &name, path.as_deref(), None, &[])?.user;
            json!({"User": {"UserName": u.name, "UserId": u.user_id, "Path": u.path, "Arn": user_arn(&u)}})
        }
        IamCommand::DeleteUser { name } => {
            users::delete_user(c, ctx, &name)?;
            Value::Null
        }
        IamCommand::ListUsers => {
            let list: Vec<Value> = users::list_users(c, ctx, None, &all)?
                .items
                .iter()
                .map(|u| json!({"UserName": u.name, "UserId": u.user_id, "Path": u.path, "Arn": user_arn(u)}))
                .collect();
            json!({ "Users": list })
        }
        IamCommand::CreateAccessKey { name } => {
            let k = keys::create_access_key(c, ctx, Some(&name))?;
            json!({"AccessKey": {
                "UserName": k.user_name,
                "AccessKeyId": k.key.access_key_id,
                "SecretAccessKey": k.key.secret,
                "Status": k.key.status,
            }})
        }
        IamCommand::ListAccessKeys { name } => {
            let list: Vec<Value> = keys::list_access_keys(c, ctx, Some(&name), &all)?
                .items
                .iter()
                .map(|k| json!({"UserName": k.user_name, "AccessKeyId": k.meta.access_key_id, "Status": k.meta.status}))
                .collect();
            json!({ "AccessKeyMetadata": list })
        }
        IamCommand::UpdateAccessKey {
            name,
            access_key_id,
            status,
        } => {
            keys::update_access_key(c, ctx, Some(&name), &access_key_id, &status)?;
            Value::Null
        }
        IamCommand::DeleteAccessKey {
            name,
            access_key_id,
        } => {
            keys::delete_access_key(c, ctx, Some(&name), &access_key_id)?;
            Value::Null
        }
        IamCommand::AttachUserPolicy { name, policy_arn } => {
            attach::attach_policy(c, ctx, EntityKind::User, &name, &policy_arn)?;
            Value::Null
        }
        IamCommand::DetachUserPolicy { name, policy_arn } => {
            attach::detach_policy(c, ctx, EntityKind::User, &name, &policy_arn)?;
            Value::Null
        }
        IamCommand::PutUserPolicy {
            name,
            policy_name,
            policy_document,
        } => {
            let doc = document(&policy_document).map_err(|e| {
                cairn_core::ApiError::new(cairn_core::ErrorKind::InvalidInput, format!("{e:#}"))
            })?;
            inline::put_inline(c, ctx, EntityKind::User, &name, &policy_name, &doc)?;
            Value::Null
        }
        IamCommand::CreateGroup { name } => {
            let g = groups::create_group(c, ctx, &name, None)?;
            json!({"Group": {"GroupName": g.name, "GroupId": g.group_id, "Arn": cairn_core::iam::group_arn(&g)}})
        }
        IamCommand::AddUserToGroup { group, user } => {
            groups::add_user_to_group(c, ctx, &group, &user)?;
            Value::Null
        }
        IamCommand::AttachGroupPolicy { group, policy_arn } => {
            attach::attach_policy(c, ctx, EntityKind::Group, &group, &policy_arn)?;
            Value::Null
        }
    })
}

#[cfg(test)]
mod tests {
    /// A document is read from `file://PATH` or `@PATH`, and taken as it is otherwise.
    #[test]
    fn documents_come_inline_or_from_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, r#"{"Version":"2012-10-17"}"#).unwrap();
        let path = path.to_str().unwrap();
        for arg in [format!("file://{path}"), format!("@{path}")] {
            assert_eq!(
                super::document(&arg).unwrap(),
                r#"{"Version":"2012-10-17"}"#
            );
        }
        assert_eq!(super::document("{}").unwrap(), "{}");
        let missing = super::document("file:///nonexistent/p.json").unwrap_err();
        assert!(format!("{missing:#}").contains("/nonexistent/p.json"));
    }
}
