//! Root credentials: from `CAIRN_ROOT_ACCESS_KEY_ID` / `CAIRN_ROOT_SECRET_ACCESS_KEY`, or
//! generated once into a 0600 file in the data dir.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cairn_api::auth::RootCredentials;
use rand::Rng;

/// Name of the generated credentials file.
pub const FILE_NAME: &str = "root-credentials.json";

/// Left in the data dir by a server that takes root's keys from the environment: the access
/// key id (never the secret), so that `cairn env` refuses to make a file of keys that server
/// would reject.
pub const ENV_MARKER: &str = "root-from-env";

/// Random upper-case alphanumerics.
pub fn random_id(prefix: &str, len: usize) -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::rng();
    let tail: String = (0..len)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// A random 40-character secret.
pub fn random_secret() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::rng();
    (0..40)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// Writes `contents` to a new file readable only by its owner.
pub fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    // The new name, too, must survive a power cut.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The variable naming root's access key id.
const ID_VAR: &str = "CAIRN_ROOT_ACCESS_KEY_ID";
/// The variable holding root's secret access key.
const SECRET_VAR: &str = "CAIRN_ROOT_SECRET_ACCESS_KEY";

/// Root credentials from `CAIRN_ROOT_ACCESS_KEY_ID` and `CAIRN_ROOT_SECRET_ACCESS_KEY`, or
/// `None` when neither is set. One without the other (which was silently ignored) and empty
/// values (which locked root out) are refused.
pub fn from_env() -> anyhow::Result<Option<RootCredentials>> {
    let read = |name: &str| -> anyhow::Result<Option<String>> {
        match std::env::var(name) {
            Ok(v) => Ok(Some(v)),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => bail!("{name} is not valid UTF-8"),
        }
    };
    match (read(ID_VAR)?, read(SECRET_VAR)?) {
        (None, None) => Ok(None),
        (Some(_), None) | (None, Some(_)) => {
            let (set, unset) = if std::env::var_os(ID_VAR).is_some() {
                (ID_VAR, SECRET_VAR)
            } else {
                (SECRET_VAR, ID_VAR)
            };
            bail!(
                "{set} is set but {unset} is not: set both to choose root's keys, or neither to use the data dir's {FILE_NAME}"
            )
        }
        (Some(id), Some(secret)) => {
            for (name, value) in [(ID_VAR, &id), (SECRET_VAR, &secret)] {
                if value.trim().is_empty() {
                    bail!(
                        "{name} is set but empty: root could not sign in; set both {ID_VAR} and {SECRET_VAR} to non-empty keys, or unset both"
                    );
                }
            }
            Ok(Some(RootCredentials {
                access_key_id: id,
                secret_access_key: secret,
            }))
        }
    }
}

/// Notes for other commands where the running server's root keys come from: the environment
/// (`from_env`: the marker with the access key id) or the data dir's file (no marker).
pub fn record_source(
    data_dir: &Path,
    root: &RootCredentials,
    from_env: bool,
) -> anyhow::Result<()> {
    let marker = data_dir.join(ENV_MARKER);
    if from_env {
        let text = format!("{}\n", root.access_key_id);
        if std::fs::read_to_string(&marker).is_ok_and(|t| t == text) {
            return Ok(());
        }
        let _ = std::fs::remove_file(&marker);
        write_private(&marker, &text)
    } else {
        match std::fs::remove_file(&marker) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("removing {}", marker.display()))
            }
            _ => Ok(()),
        }
    }
}

/// Root credentials for a command beside a server (`cairn env`, `install-cis`): the
/// environment's, else the data dir's file, made if the server has not made it yet. When the
/// server takes its keys from the environment and this command's environment lacks them,
/// that is said, and no file is made.
pub fn for_client(data_dir: &Path) -> anyhow::Result<RootCredentials> {
    // Only a dir a server has started on (its store or its lock): credentials are never
    // written into another (ops7: `install-cis --data-dir <typo>` made a fresh root key there).
    if !["cairn.db", crate::datadir::LOCK_FILE]
        .iter()
        .any(|f| data_dir.join(f).exists())
    {
        bail!(
            "{} is not a Cairn data dir (it holds no cairn.db); check the path, or start `cairn serve --data-dir {}` first",
            data_dir.display(),
            data_dir.display()
        );
    }
    let marker = std::fs::read_to_string(data_dir.join(ENV_MARKER)).ok();
    if let Some(root) = from_env()? {
        // The server named another key (from its environment, or, with no marker, in the data
        // dir's file): these would be refused by it.
        let file_key = || {
            std::fs::read_to_string(data_dir.join(FILE_NAME))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|d| d.get("AccessKeyId")?.as_str().map(str::to_owned))
        };
        let server_key = match marker.as_deref() {
            Some(id) => Some(id.trim().to_owned()),
            None => file_key(),
        };
        if let Some(id) = server_key
            && id != root.access_key_id
        {
            bail!(
                "the server of {} takes root's access key {id} from {ID_VAR}, not {}; set the server's keys here",
                data_dir.display(),
                root.access_key_id
            );
        }
        return Ok(root);
    }
    if let Some(id) = marker {
        bail!(
            "the server of {} takes root's keys from {ID_VAR} and {SECRET_VAR} (access key {}); set both here too",
            data_dir.display(),
            id.trim()
        );
    }
    // A server that has not started yet: its root key names the account it will be served
    // with, `CAIRN_ACCOUNT_ID` when this environment sets it, else the default.
    let account = std::env::var("CAIRN_ACCOUNT_ID")
        .ok()
        .filter(|a| cairn_model::AccountId::parse(a).is_ok())
        .unwrap_or_else(|| crate::account::DEFAULT.to_owned());
    Ok(load_or_create(data_dir, &account)?.0)
}

/// Loads root credentials, generating them on first start (the access key id embeds
/// `account`, as AWS's do, so `sts get-access-key-info` and offline decoders name it).
/// Returns where they came from.
pub fn load_or_create(
    data_dir: &Path,
    account: &str,
) -> anyhow::Result<(RootCredentials, Option<PathBuf>)> {
    if let Some(root) = from_env()? {
        return Ok((root, None));
    }
    let path = data_dir.join(FILE_NAME);
    if !path.exists() {
        let doc = serde_json::json!({
            "AccessKeyId": match cairn_model::AccountId::parse(account) {
                Ok(a) => cairn_core::iam::ids::new_id(cairn_core::iam::ids::IdKind::AccessKey, &a),
                Err(_) => random_id("AKIA", 16),
            },
            "SecretAccessKey": random_secret(),
        });
        // Another process (`cairn env` beside a starting server) may create it first: then
        // its file is the one both use.
        if let Err(e) = write_private(&path, &serde_json::to_string_pretty(&doc)?)
            && !path.exists()
        {
            return Err(e);
        }
    }
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_json::Value = serde_json::from_str(&text).context("parsing root credentials")?;
    let get = |k: &str| {
        doc.get(k)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .with_context(|| format!("{} lacks {k}", path.display()))
    };
    Ok((
        RootCredentials {
            access_key_id: get("AccessKeyId")?,
            secret_access_key: get("SecretAccessKey")?,
        },
        Some(path),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_root_key_embeds_the_account() {
        if std::env::var_os(ID_VAR).is_some() {
            return; // root's keys come from the environment here: nothing is generated
        }
        let dir = tempfile::tempdir().unwrap();
        let (root, generated) = load_or_create(dir.path(), "111122223333").unwrap();
        assert!(generated.is_some());
        assert!(root.access_key_id.starts_with("AKIA") && root.access_key_id.len() == 20);
        assert_eq!(
            cairn_core::iam::ids::decode_account(&root.access_key_id).as_deref(),
            Some("111122223333")
        );
    }
}
