//! Root credentials: from `CAIRN_ROOT_ACCESS_KEY_ID` / `CAIRN_ROOT_SECRET_ACCESS_KEY`, or
//! generated once into a 0600 file in the data dir.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use cairn_api::auth::RootCredentials;
use rand::Rng;

/// Name of the generated credentials file.
pub const FILE_NAME: &str = "root-credentials.json";

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
    Ok(())
}

/// Loads root credentials, generating them on first start. Returns where they came from.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<(RootCredentials, Option<PathBuf>)> {
    if let (Ok(id), Ok(secret)) = (
        std::env::var("CAIRN_ROOT_ACCESS_KEY_ID"),
        std::env::var("CAIRN_ROOT_SECRET_ACCESS_KEY"),
    ) {
        return Ok((
            RootCredentials {
                access_key_id: id,
                secret_access_key: secret,
            },
            None,
        ));
    }
    let path = data_dir.join(FILE_NAME);
    if !path.exists() {
        let doc = serde_json::json!({
            "AccessKeyId": random_id("AKIA", 16),
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
