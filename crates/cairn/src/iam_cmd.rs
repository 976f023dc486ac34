//! `cairn iam …`: admin commands for bootstrapping and recovery that change IAM state directly
//! in an existing data dir, through the IAM API's own operations (same name rules, quotas,
//! input checks and errors). Each change bumps the IAM generation in its transaction, so a
//! server running on the data dir drops its cached credentials within one poll (about half a
//! second). Each change is recorded, in the same transaction, as the very event the API call
//! writes, by `cairn-admin` ([`cairn_api::iam::admin`]); listings are not.

use std::path::PathBuf;

use anyhow::{Context, bail};
use cairn_api::iam::admin::{self, AdminCall};
use cairn_core::error::ApiResult;
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

/// Runs an IAM admin command: the IAM API's own operation, checks and record
/// ([`cairn_api::iam::admin`]) on the data dir's writer, in one transaction.
pub fn run(args: IamArgs) -> anyhow::Result<()> {
    let store = crate::admin_store::open_existing(&args.data_dir)?;
    let account = crate::account::for_admin(&store, &args.data_dir, args.account_id.as_deref())?;
    let (action, input, words) = call_of(&args.command)?;
    let list = matches!(
        args.command,
        IamCommand::ListUsers | IamCommand::ListAccessKeys { .. }
    );
    let now = chrono::Utc::now().timestamp() as f64;
    let call = |input: Value| -> anyhow::Result<ApiResult<Value>> {
        let (account, words) = (account.clone(), words.clone());
        // One savepoint: the change and its event commit together or not at all.
        Ok(store.write_blocking(move |c| {
            cairn_store::with_savepoint(c, |c| {
                admin::run(
                    c,
                    AdminCall {
                        account,
                        now,
                        action,
                        input,
                        command: &words,
                    },
                )
            })
        })??)
    };
    let mut out = call(input.clone())?;
    // A list longer than a page (ops6: past 1,000 users): every page, one list.
    while list && out.is_ok() {
        let Ok(v) = &mut out else { break };
        let Some(marker) = v
            .get("Marker")
            .and_then(Value::as_str)
            .filter(|_| v.get("IsTruncated").and_then(Value::as_str) == Some("true"))
        else {
            break;
        };
        let mut next_input = input.clone();
        next_input["Marker"] = json!(marker);
        let next = match call(next_input)? {
            Ok(n) => n,
            Err(e) => {
                out = Err(e);
                break;
            }
        };
        for key in ["Users", "AccessKeyMetadata"] {
            if let (Some(all), Some(more)) = (
                v.get_mut(key).and_then(Value::as_array_mut),
                next.get(key).and_then(Value::as_array),
            ) {
                all.extend(more.iter().cloned());
            }
        }
        v["IsTruncated"] = next.get("IsTruncated").cloned().unwrap_or(json!("false"));
        match next.get("Marker") {
            Some(m) => v["Marker"] = m.clone(),
            None => {
                v.as_object_mut().map(|o| o.remove("Marker"));
            }
        }
    }
    match out {
        Ok(Value::Null) => Ok(()),
        Ok(mut v) => {
            if list {
                // An empty list's XML element reads back as an empty string, and a boolean as
                // its text: print them as the AWS CLI does (`[]`, `false`).
                for key in ["Users", "AccessKeyMetadata"] {
                    if v.get(key) == Some(&json!("")) {
                        v[key] = json!([]);
                    }
                }
                if let Some(flag) = v.get("IsTruncated").and_then(Value::as_str) {
                    v["IsTruncated"] = json!(flag == "true");
                }
            }
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

/// The IAM action a command equals, its input as the API names it, and the command's words
/// for the record (no policy document or key material in those words).
fn call_of(command: &IamCommand) -> anyhow::Result<(&'static str, Value, String)> {
    Ok(match command {
        IamCommand::CreateUser { name, path } => {
            let mut p = json!({ "UserName": name });
            if let Some(path) = path {
                p["Path"] = json!(path);
            }
            ("CreateUser", p, format!("iam create-user {name}"))
        }
        IamCommand::DeleteUser { name } => (
            "DeleteUser",
            json!({ "UserName": name }),
            format!("iam delete-user {name}"),
        ),
        IamCommand::ListUsers => (
            "ListUsers",
            json!({ "MaxItems": 1000 }),
            "iam list-users".to_owned(),
        ),
        IamCommand::CreateAccessKey { name } => (
            "CreateAccessKey",
            json!({ "UserName": name }),
            format!("iam create-access-key {name}"),
        ),
        IamCommand::ListAccessKeys { name } => (
            "ListAccessKeys",
            json!({ "UserName": name, "MaxItems": 1000 }),
            format!("iam list-access-keys {name}"),
        ),
        IamCommand::UpdateAccessKey {
            name,
            access_key_id,
            status,
        } => (
            "UpdateAccessKey",
            json!({ "UserName": name, "AccessKeyId": access_key_id, "Status": status }),
            format!("iam update-access-key {name} {access_key_id} --status {status}"),
        ),
        IamCommand::DeleteAccessKey {
            name,
            access_key_id,
        } => (
            "DeleteAccessKey",
            json!({ "UserName": name, "AccessKeyId": access_key_id }),
            format!("iam delete-access-key {name} {access_key_id}"),
        ),
        IamCommand::AttachUserPolicy { name, policy_arn } => (
            "AttachUserPolicy",
            json!({ "UserName": name, "PolicyArn": policy_arn }),
            format!("iam attach-user-policy {name} {policy_arn}"),
        ),
        IamCommand::DetachUserPolicy { name, policy_arn } => (
            "DetachUserPolicy",
            json!({ "UserName": name, "PolicyArn": policy_arn }),
            format!("iam detach-user-policy {name} {policy_arn}"),
        ),
        IamCommand::PutUserPolicy {
            name,
            policy_name,
            policy_document,
        } => (
            "PutUserPolicy",
            json!({
                "UserName": name,
                "PolicyName": policy_name,
                "PolicyDocument": document(policy_document)?,
            }),
            format!("iam put-user-policy {name} {policy_name}"),
        ),
        IamCommand::CreateGroup { name } => (
            "CreateGroup",
            json!({ "GroupName": name }),
            format!("iam create-group {name}"),
        ),
        IamCommand::AddUserToGroup { group, user } => (
            "AddUserToGroup",
            json!({ "GroupName": group, "UserName": user }),
            format!("iam add-user-to-group {group} {user}"),
        ),
        IamCommand::AttachGroupPolicy { group, policy_arn } => (
            "AttachGroupPolicy",
            json!({ "GroupName": group, "PolicyArn": policy_arn }),
            format!("iam attach-group-policy {group} {policy_arn}"),
        ),
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
