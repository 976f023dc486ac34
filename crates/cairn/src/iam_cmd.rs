//! `cairn iam …`: admin commands that work directly on a data dir.

use std::path::PathBuf;

use anyhow::{Context, bail};
use cairn_store::{Store, iam};
use clap::{Args, Subcommand};

use crate::credentials::{random_id, random_secret};

/// Arguments of `cairn iam`.
#[derive(Args, Debug)]
pub struct IamArgs {
    /// Data directory.
    #[arg(
        long,
        env = "CAIRN_DATA_DIR",
        default_value = "cairn-data",
        global = true
    )]
    data_dir: PathBuf,
    /// Account id.
    #[arg(
        long,
        env = "CAIRN_ACCOUNT_ID",
        default_value = "123456789012",
        global = true
    )]
    account_id: String,
    #[command(subcommand)]
    command: IamCommand,
}

#[derive(Subcommand, Debug)]
enum IamCommand {
    /// Create an IAM user.
    CreateUser {
        /// User name.
        name: String,
    },
    /// Create an access key for a user; prints the secret once.
    CreateAccessKey {
        /// User name.
        name: String,
    },
    /// List users.
    ListUsers,
}

fn valid_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// Runs an IAM admin command.
pub fn run(args: IamArgs) -> anyhow::Result<()> {
    let account = cairn_model::AccountId::parse(&args.account_id)
        .map_err(anyhow::Error::msg)?
        .to_string();
    std::fs::create_dir_all(&args.data_dir)?;
    let store = Store::open(&args.data_dir.join("cairn.db")).context("opening store")?;
    let now = chrono::Utc::now().timestamp() as f64;
    match args.command {
        IamCommand::CreateUser { name } => {
            if !valid_user_name(&name) {
                bail!("invalid user name {name:?}");
            }
            let user = iam::User {
                account: account.clone(),
                name: name.clone(),
                user_id: random_id("AIDA", 17),
                created: now,
            };
            let u = user.clone();
            let created = store.write_blocking(move |c| iam::create_user(c, &u))??;
            if !created {
                bail!("user {name} already exists");
            }
            println!(
                "{}",
                serde_json::json!({"User": {"UserName": user.name, "UserId": user.user_id, "Arn": format!("arn:aws:iam::{account}:user/{name}")}})
            );
        }
        IamCommand::CreateAccessKey { name } => {
            let acct = account.clone();
            let n = name.clone();
            if store
                .read_blocking(move |c| iam::get_user(c, &acct, &n))?
                .is_none()
            {
                bail!("no such user {name}");
            }
            let key = iam::AccessKey {
                access_key_id: random_id("AKIA", 16),
                secret: random_secret(),
                account,
                user_name: name,
                status: "Active".into(),
            };
            let k = key.clone();
            store.write_blocking(move |c| iam::insert_access_key(c, &k, now))??;
            println!(
                "{}",
                serde_json::json!({"AccessKey": {"UserName": key.user_name, "AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret, "Status": key.status}})
            );
        }
        IamCommand::ListUsers => {
            let users = store.read_blocking(move |c| iam::list_users(c, &account))?;
            let list: Vec<_> = users
                .iter()
                .map(|u| serde_json::json!({"UserName": u.name, "UserId": u.user_id, "Arn": format!("arn:aws:iam::{}:user/{}", u.account, u.name)}))
                .collect();
            println!("{}", serde_json::json!({"Users": list}));
        }
    }
    Ok(())
}
