//! The KMS master key and `cairn kms …`, the operator commands on a data dir.
//!
//! # The master key
//!
//! Every KMS backing key is stored wrapped (AES-256-GCM) under a 32-byte master key that never
//! enters the data dir. `cairn serve` takes it from, in order:
//!
//! 1. `--kms-master-key-file PATH` (`CAIRN_KMS_MASTER_KEY_FILE`, TOML `kms_master_key_file`):
//!    32 raw bytes or 64 hex digits, outside the data dir;
//! 2. `CAIRN_KMS_MASTER_KEY`: 64 hex digits;
//! 3. `<data-dir>.kms-master-key` beside the data dir — generated there (mode 0600) on the
//!    first start of a data dir without KMS keys, with a message naming the file.
//!
//! A data dir remembers which master key wraps its keys and refuses to start with another.
//! Back the key up separately from the data dir: a copy of the data dir without it yields no
//! plaintext, and losing it loses every KMS key and all data encrypted under them.
//!
//! # Rotating the master key
//!
//! ```sh
//! cairn kms generate-master-key --out /etc/cairn/kms-master-key.new
//! # stop the server (the command is refused while one runs), then, in one transaction:
//! cairn kms rotate-master-key --data-dir ./cairn-data \
//!     --old ./cairn-data.kms-master-key --new /etc/cairn/kms-master-key.new
//! cairn serve --data-dir ./cairn-data --kms-master-key-file /etc/cairn/kms-master-key.new
//! ```
//!
//! # Other commands
//!
//! - `cairn kms sweep --data-dir D [--now EPOCH|ISO]`: deletes keys whose deletion window has
//!   passed and rotates keys whose automatic rotation is due (the server runs the same sweep
//!   periodically); `--now` drives the clock.
//! - `cairn kms reset-key-policy --data-dir D --key-id K`: writes the default key policy back
//!   on a key nobody may manage any more (recorded as a `PutKeyPolicy` event by
//!   `cairn-admin`).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use cairn_core::kms::MasterKey;
use cairn_core::kms::admin::{self, MasterStatus};
use cairn_store::Store;
use clap::{Args, Subcommand};

/// Environment variable holding the master key in hex.
pub const MASTER_KEY_ENV: &str = "CAIRN_KMS_MASTER_KEY";

/// Where the master key is kept by default: `<data-dir>.kms-master-key`, beside the data dir.
pub fn default_master_key_path(data_dir: &Path) -> anyhow::Result<PathBuf> {
    let dir = std::fs::canonicalize(data_dir)
        .with_context(|| format!("resolving {}", data_dir.display()))?;
    let name = dir
        .file_name()
        .context("the data dir cannot be the file system root")?
        .to_string_lossy()
        .into_owned();
    Ok(dir.with_file_name(format!("{name}.kms-master-key")))
}

fn refuse_inside(path: &Path, data_dir: &Path) -> anyhow::Result<()> {
    let dir = std::fs::canonicalize(data_dir)
        .with_context(|| format!("resolving the data dir {}", data_dir.display()))?;
    let key = std::fs::canonicalize(path).with_context(|| format!("reading {}", path.display()))?;
    if key.starts_with(&dir) {
        bail!(
            "the KMS master key file {} is inside the data dir {}: keep it outside, so a copy of the data dir does not carry its key",
            key.display(),
            dir.display()
        );
    }
    Ok(())
}

fn load_file(path: &Path, data_dir: &Path) -> anyhow::Result<MasterKey> {
    refuse_inside(path, data_dir)?;
    let mode = std::fs::metadata(path)
        .with_context(|| format!("reading the KMS master key {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        tracing::warn!(file = %path.display(), "the KMS master key file is readable by group or others; chmod 600 it");
    }
    MasterKey::load(path)
        .map_err(crypto_error)
        .with_context(|| format!("loading the KMS master key {}", path.display()))
}

/// A master key and where it came from.
pub struct Resolved {
    /// The key.
    pub key: MasterKey,
    /// Human description of its source.
    pub source: String,
    /// Set when the key was generated now (into this file).
    pub generated: Option<PathBuf>,
}

/// Finds the master key (flag file, then `CAIRN_KMS_MASTER_KEY`, then the default file).
/// Without one, generates the default file when `may_generate`, else returns `None`.
pub fn resolve_master_key(
    flag: Option<&Path>,
    data_dir: &Path,
    may_generate: bool,
) -> anyhow::Result<Option<Resolved>> {
    if let Some(path) = flag {
        return Ok(Some(Resolved {
            key: load_file(path, data_dir)?,
            source: path.display().to_string(),
            generated: None,
        }));
    }
    if let Ok(hex) = std::env::var(MASTER_KEY_ENV) {
        return Ok(Some(Resolved {
            key: MasterKey::from_hex(&hex)
                .map_err(crypto_error)
                .with_context(|| format!("parsing {MASTER_KEY_ENV}"))?,
            source: MASTER_KEY_ENV.to_owned(),
            generated: None,
        }));
    }
    let path = default_master_key_path(data_dir)?;
    if path.exists() {
        return Ok(Some(Resolved {
            key: load_file(&path, data_dir)?,
            source: path.display().to_string(),
            generated: None,
        }));
    }
    if !may_generate {
        return Ok(None);
    }
    let key = MasterKey::create_file(&path)
        .map_err(crypto_error)
        .with_context(|| format!("creating the KMS master key {}", path.display()))?;
    Ok(Some(Resolved {
        key,
        source: path.display().to_string(),
        generated: Some(path),
    }))
}

/// Checks, before the data dir is created, that the master key `serve` was given (flag file
/// or `CAIRN_KMS_MASTER_KEY`) can be read; the default file beside the data dir is checked
/// later, with the data dir.
pub fn precheck_master_key(flag: Option<&Path>, data_dir: &Path) -> anyhow::Result<()> {
    if let Some(path) = flag {
        // Where it lies is checked first: a key inside an existing data dir is refused for
        // that, before anything else looks at the directory.
        if data_dir.is_dir() {
            refuse_inside(path, data_dir)?;
        }
        MasterKey::load(path)
            .map_err(crypto_error)
            .with_context(|| format!("loading the KMS master key {}", path.display()))?;
    } else if let Ok(hex) = std::env::var(MASTER_KEY_ENV) {
        MasterKey::from_hex(&hex)
            .map_err(crypto_error)
            .with_context(|| format!("parsing {MASTER_KEY_ENV}"))?;
    }
    Ok(())
}

/// A key-material error as one message: an IO error is shown once (the crypto error's own
/// text repeats its source, which `{:#}` would print again).
pub fn crypto_error(e: cairn_crypto::CryptoError) -> anyhow::Error {
    match e {
        cairn_crypto::CryptoError::Io(io) => anyhow::Error::new(io),
        other => anyhow::Error::msg(other.to_string()),
    }
}

/// The master key `cairn serve` runs with, checked against the data dir (generated on the
/// first start of a data dir without KMS keys).
pub fn master_key_for_serve(
    store: &Store,
    data_dir: &Path,
    flag: Option<&Path>,
) -> anyhow::Result<Arc<MasterKey>> {
    let fresh = store.read_blocking(|c| {
        Ok(cairn_store::kms::master_check(c)?.is_none()
            && cairn_store::kms::material_count(c)? == 0)
    })?;
    let Some(resolved) = resolve_master_key(flag, data_dir, fresh)? else {
        bail!(
            "this data dir holds KMS keys but no KMS master key was given and {} does not exist: pass --kms-master-key-file or set {MASTER_KEY_ENV}",
            default_master_key_path(data_dir)?.display()
        );
    };
    if let Some(path) = &resolved.generated {
        // On stdout for whoever started the server, and in the log, where a pipeline that
        // keeps only the log (say JSON on stderr) still sees it.
        tracing::warn!(
            path = %path.display(),
            fingerprint = %resolved.key.fingerprint(),
            "generated the KMS master key: back it up apart from the data dir; without it the KMS keys and everything encrypted under them are lost"
        );
        crate::serve::say(&format!(
            "generated the KMS master key in {} (mode 0600, fingerprint {}): back it up apart from the data dir; without it the KMS keys and everything encrypted under them are lost",
            path.display(),
            resolved.key.fingerprint()
        ));
    }
    let key = Arc::new(resolved.key);
    let status = store.read_blocking(|c| {
        admin::check_master(c, &key).map_err(|e| cairn_store::StoreError::Corrupt(e.message))
    })?;
    match status {
        MasterStatus::Matches => Ok(key),
        MasterStatus::Fresh => {
            let k = key.clone();
            store
                .write_blocking(move |c| admin::adopt_master(c, &k))?
                .map_err(|e| anyhow::anyhow!(e.message))?;
            Ok(key)
        }
        MasterStatus::Mismatch => bail!(
            "the KMS master key from {} (fingerprint {}) does not open this data dir's KMS keys: give the key they were created with",
            resolved.source,
            key.fingerprint()
        ),
    }
}

/// The master key `cairn flush` seals files with: resolved as for `serve` (flag or config
/// file, `CAIRN_KMS_MASTER_KEY`, then the file beside the data dir; never generated) and
/// checked against the data dir, which adopts it if it remembers none. A key the data dir
/// does not remember is refused, and so is no key at all for a data dir that remembers
/// one: files sealed under a stale key after a rotation, or written in the clear, could
/// never be read back by the server.
pub fn master_key_for_admin(
    store: &Store,
    data_dir: &Path,
    flag: Option<&Path>,
) -> anyhow::Result<Option<Arc<MasterKey>>> {
    let Some(resolved) = resolve_master_key(flag, data_dir, false)? else {
        let remembers = store.read_blocking(|c| {
            Ok(cairn_store::kms::master_check(c)?.is_some()
                || cairn_store::kms::material_count(c)? > 0)
        })?;
        if remembers {
            bail!(
                "this data dir's keys are wrapped under a KMS master key, but none was given and {} does not exist: pass --kms-master-key-file or set {MASTER_KEY_ENV}",
                default_master_key_path(data_dir)?.display()
            );
        }
        return Ok(None);
    };
    let key = Arc::new(resolved.key);
    let status = store.read_blocking(|c| {
        admin::check_master(c, &key).map_err(|e| cairn_store::StoreError::Corrupt(e.message))
    })?;
    match status {
        MasterStatus::Matches => Ok(Some(key)),
        MasterStatus::Fresh => {
            let k = key.clone();
            store
                .write_blocking(move |c| admin::adopt_master(c, &k))?
                .map_err(|e| anyhow::anyhow!(e.message))?;
            Ok(Some(key))
        }
        MasterStatus::Mismatch => bail!(
            "the KMS master key from {} (fingerprint {}) does not open this data dir's keys: after `cairn kms rotate-master-key`, name the new key with --kms-master-key-file",
            resolved.source,
            key.fingerprint()
        ),
    }
}

/// Arguments of `cairn kms`.
#[derive(Args, Debug)]
pub struct KmsArgs {
    #[command(subcommand)]
    command: KmsCommand,
}

#[derive(Subcommand, Debug)]
enum KmsCommand {
    /// Delete keys whose deletion window has passed; rotate keys whose rotation is due.
    Sweep {
        /// Data directory.
        #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
        data_dir: PathBuf,
        /// The time to sweep at: epoch seconds or ISO-8601 (default: now).
        #[arg(long, value_parser = crate::timearg::parse)]
        now: Option<f64>,
        /// Master key file (needed for automatic rotation; default as for `serve`).
        #[arg(long, env = "CAIRN_KMS_MASTER_KEY_FILE")]
        kms_master_key_file: Option<PathBuf>,
    },
    /// Write the default key policy back on a locked-out key (recorded as an event).
    ResetKeyPolicy {
        /// Data directory.
        #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
        data_dir: PathBuf,
        /// Key id or key ARN.
        #[arg(long)]
        key_id: String,
    },
    /// Rewrap every backing key from the old master key to the new one, in one transaction.
    /// Refused while a server runs on the data dir: stop it first.
    RotateMasterKey {
        /// Data directory.
        #[arg(long, env = "CAIRN_DATA_DIR", default_value = "cairn-data")]
        data_dir: PathBuf,
        /// The current master key file.
        #[arg(long)]
        old: PathBuf,
        /// The new master key file.
        #[arg(long)]
        new: PathBuf,
    },
    /// Write a new random master key to a file (mode 0600; never overwrites).
    GenerateMasterKey {
        /// Where to write it.
        #[arg(long)]
        out: PathBuf,
    },
}

fn open(data_dir: &Path) -> anyhow::Result<Store> {
    crate::admin_store::open_existing(data_dir)
}

fn now_or(now: Option<f64>) -> f64 {
    now.unwrap_or_else(|| chrono::Utc::now().timestamp_millis() as f64 / 1000.0)
}

/// Runs a `cairn kms` command.
pub fn run(args: KmsArgs) -> anyhow::Result<()> {
    match args.command {
        KmsCommand::Sweep {
            data_dir,
            now,
            kms_master_key_file,
        } => {
            let store = open(&data_dir)?;
            let resolved = resolve_master_key(kms_master_key_file.as_deref(), &data_dir, false)?;
            let source = resolved.as_ref().map(|r| r.source.to_string());
            let master = resolved.map(|r| Arc::new(r.key));
            if let Some(m) = &master
                && store.read_blocking(|c| {
                    admin::check_master(c, m)
                        .map_err(|e| cairn_store::StoreError::Corrupt(e.message))
                })? == MasterStatus::Mismatch
            {
                bail!(
                    "the KMS master key from {} does not open this data dir's keys: after `cairn kms rotate-master-key`, name the new key with --kms-master-key-file",
                    source.unwrap_or_default()
                );
            }
            if master.is_none() {
                // Deletions need no key; rotations do, and are left for a sweep that has it.
                eprintln!(
                    "cairn: no KMS master key given: keys whose rotation is due are not rotated (pass --kms-master-key-file)"
                );
            }
            let now = now_or(now);
            let report = store
                .write_blocking(move |c| cairn_core::kms::keys::sweep(c, master.as_deref(), now))?
                .map_err(|e| anyhow::anyhow!(e.message))?;
            println!(
                "{}",
                serde_json::json!({"Deleted": report.deleted, "Rotated": report.rotated})
            );
            Ok(())
        }
        KmsCommand::ResetKeyPolicy { data_dir, key_id } => {
            let store = open(&data_dir)?;
            let now = now_or(None);
            let key = store
                .write_blocking(move |c| admin::reset_key_policy(c, &key_id, now))?
                .map_err(|e| anyhow::anyhow!(e.message))?;
            println!(
                "{}",
                serde_json::json!({"KeyId": key.arn, "PolicyName": "default", "Policy": key.policy})
            );
            Ok(())
        }
        KmsCommand::RotateMasterKey { data_dir, old, new } => {
            // A running server keeps the old key in memory and would go on wrapping new
            // backing keys and object keys under it after the rewrap: they would open under
            // neither key. Hold the server's lock for the whole rotation.
            let _lock = crate::datadir::lock(
                &data_dir,
                crate::datadir::Holder::Admin("kms rotate-master-key"),
            )?;
            let store = open(&data_dir)?;
            let old = load_file(&old, &data_dir)?;
            let new = load_file(&new, &data_dir)?;
            if old.fingerprint() == new.fingerprint() {
                bail!("the old and new master keys are the same key");
            }
            let fingerprint = new.fingerprint().to_owned();
            let n = store
                .write_blocking(move |c| admin::rotate_master_key(c, &old, &new))?
                .map_err(|e| anyhow::anyhow!(e.message))?;
            println!(
                "{}",
                serde_json::json!({
                    "Rewrapped": n.backing_keys,
                    "ObjectKeysRewrapped": n.object_keys,
                    "MasterKeyFingerprint": fingerprint
                })
            );
            Ok(())
        }
        KmsCommand::GenerateMasterKey { out } => {
            let key = MasterKey::create_file(&out)
                .map_err(crypto_error)
                .with_context(|| format!("creating the KMS master key file {}", out.display()))?;
            println!(
                "{}",
                serde_json::json!({"File": out, "MasterKeyFingerprint": key.fingerprint()})
            );
            Ok(())
        }
    }
}
