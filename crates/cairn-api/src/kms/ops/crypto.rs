//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey, GenerateDataKeyWithoutPlaintext,
//! GenerateRandom. Responses carry blobs; records never do (`responseElements` null).

use cairn_core::authz::Permission;
use cairn_core::error::{ApiError, ApiResult, ErrorKind};
use cairn_core::kms::authz::{KeyAction, KeyPermission, key_permission};
use cairn_core::kms::ids::Target;
use cairn_core::kms::{EncryptionContext, Key, crypto, grants};
use cairn_store::Connection;
use serde_json::{Value, json};

use super::{Call, Env, Reply, dry_run_error};
use crate::kms::input;
use crate::kms::shapes::b64;
use crate::wire::{opt_i64, opt_str};

pub(super) fn material(id: &str) -> Option<Value> {
    Some(json!({"keyMaterialId": id}))
}

/// The permission of a cryptographic operation on `key`, which a grant for `op` may give.
pub(super) fn crypto_permission(
    conn: &Connection,
    env: &Env,
    key: &Key,
    op: &str,
    alias: Option<&str>,
    context: &EncryptionContext,
    extra: Vec<(String, Vec<String>)>,
) -> ApiResult<KeyPermission> {
    key_permission(
        conn,
        &env.actor(),
        key,
        KeyAction {
            action: &format!("kms:{op}"),
            alias,
            context: Some(context),
            algorithm: true,
            grant_operation: Some(op),
            extra,
            creates: None,
        },
    )
}

struct Encrypt {
    key_id: String,
    plaintext: Vec<u8>,
    context: EncryptionContext,
    tokens: Vec<String>,
    algorithm: Option<String>,
    dry_run: bool,
}

fn plaintext_len(p: &[u8]) -> ApiResult<()> {
    if p.is_empty() || p.len() > 4096 {
        return Err(ApiError::new(
            ErrorKind::Validation,
            format!(
                "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length {}",
                if p.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 4096"
                }
            ),
        ));
    }
    Ok(())
}

pub(super) fn encrypt(b: &Value) -> ApiResult<Box<dyn Call>> {
    let plaintext = input::blob(b, "Plaintext")?;
    plaintext_len(&plaintext)?;
    Ok(Box::new(Encrypt {
        key_id: input::key_id(b, "KeyId")?,
        plaintext,
        context: input::context(b, "EncryptionContext")?,
        tokens: input::grant_tokens(b)?,
        algorithm: opt_str(b, "EncryptionAlgorithm")?,
        dry_run: input::dry_run(b)?,
    }))
}

impl Call for Encrypt {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        crypto::check_algorithm("encryptionAlgorithm", self.algorithm.as_deref())?;
        crypto::check_context(&self.context)?;
        grants::check_tokens(&self.tokens)?;
        let t = env.target(conn, &self.key_id, true)?;
        let alias = t.alias.as_deref();
        Ok(vec![crypto_permission(
            conn,
            env,
            &t.key,
            "Encrypt",
            alias,
            &self.context,
            Vec::new(),
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, true)?.key;
        if self.dry_run {
            crypto::check_usable(&key)?;
            return Err(dry_run_error());
        }
        let s = crypto::encrypt(conn, &env.master, &key, &self.plaintext, &self.context)?;
        Ok(Reply {
            body: json!({"CiphertextBlob": b64(&s.blob), "KeyId": s.key_arn,
                         "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
            additional: material(&s.key_material_id),
            ..Default::default()
        })
    }
}

struct Decrypt {
    blob: Vec<u8>,
    context: EncryptionContext,
    key_id: Option<String>,
    tokens: Vec<String>,
    algorithm: Option<String>,
    dry_run: bool,
}

pub(super) fn decrypt(b: &Value) -> ApiResult<Box<dyn Call>> {
    if b.get("Recipient").is_some_and(|r| !r.is_null()) {
        return Err(recipient_unsupported());
    }
    Ok(Box::new(Decrypt {
        blob: input::blob(b, "CiphertextBlob")?,
        context: input::context(b, "EncryptionContext")?,
        key_id: input::opt_key_id(b, "KeyId")?,
        tokens: input::grant_tokens(b)?,
        algorithm: opt_str(b, "EncryptionAlgorithm")?,
        dry_run: input::dry_run(b)?,
    }))
}

pub(super) fn recipient_unsupported() -> ApiError {
    ApiError::new(
        ErrorKind::UnsupportedOperation,
        "Recipient (attested enclaves) is not supported by Cairn.",
    )
}

/// The key a ciphertext names, checked against the optional `KeyId`, and that identifier's
/// resolution (for `kms:RequestAlias`).
fn source_key(
    conn: &Connection,
    env: &Env,
    blob: &[u8],
    named: Option<&str>,
) -> ApiResult<(Key, Option<Target>)> {
    let named = named.map(|k| env.target(conn, k, true)).transpose()?;
    let key = crypto::blob_key(conn, &env.scope(), blob)?;
    crypto::check_named_key(named.as_ref().map(|t| &t.key), &key)?;
    Ok((key, named))
}

impl Call for Decrypt {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        crypto::check_algorithm("encryptionAlgorithm", self.algorithm.as_deref())?;
        grants::check_tokens(&self.tokens)?;
        let (key, named) = source_key(conn, env, &self.blob, self.key_id.as_deref())?;
        let alias = named.as_ref().and_then(|t| t.alias.as_deref());
        Ok(vec![crypto_permission(
            conn,
            env,
            &key,
            "Decrypt",
            alias,
            &self.context,
            Vec::new(),
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let (key, _) = source_key(conn, env, &self.blob, self.key_id.as_deref())?;
        if self.dry_run {
            crypto::check_usable(&key)?;
            return Err(dry_run_error());
        }
        let o = crypto::decrypt(conn, &env.master, &key, &self.blob, &self.context)?;
        Ok(Reply {
            body: json!({"KeyId": o.key_arn, "Plaintext": b64(o.plaintext.expose()),
                         "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                         "KeyMaterialId": o.key_material_id}),
            additional: material(&o.key_material_id),
            resources: vec![key.arn],
            ..Default::default()
        })
    }
}

struct ReEncrypt {
    blob: Vec<u8>,
    source_context: EncryptionContext,
    source_key_id: Option<String>,
    destination_key_id: String,
    destination_context: EncryptionContext,
    algorithms: [Option<String>; 2],
    tokens: Vec<String>,
    dry_run: bool,
}

pub(super) fn re_encrypt(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(ReEncrypt {
        blob: input::blob(b, "CiphertextBlob")?,
        source_context: input::context(b, "SourceEncryptionContext")?,
        source_key_id: input::opt_key_id(b, "SourceKeyId")?,
        destination_key_id: input::key_id(b, "DestinationKeyId")?,
        destination_context: input::context(b, "DestinationEncryptionContext")?,
        algorithms: [
            opt_str(b, "SourceEncryptionAlgorithm")?,
            opt_str(b, "DestinationEncryptionAlgorithm")?,
        ],
        tokens: input::grant_tokens(b)?,
        dry_run: input::dry_run(b)?,
    }))
}

impl ReEncrypt {
    fn keys(&self, conn: &Connection, env: &Env) -> ApiResult<(Key, Option<Target>, Target)> {
        let (source, named) = source_key(conn, env, &self.blob, self.source_key_id.as_deref())?;
        let destination = env.target(conn, &self.destination_key_id, true)?;
        Ok((source, named, destination))
    }
}

impl Call for ReEncrypt {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        crypto::check_algorithm("sourceEncryptionAlgorithm", self.algorithms[0].as_deref())?;
        crypto::check_algorithm(
            "destinationEncryptionAlgorithm",
            self.algorithms[1].as_deref(),
        )?;
        crypto::check_context(&self.destination_context)?;
        grants::check_tokens(&self.tokens)?;
        let (source, named, dest) = self.keys(conn, env)?;
        let same = vec![(
            "kms:ReEncryptOnSameKey".to_owned(),
            vec![(source.key_id == dest.key.key_id).to_string()],
        )];
        Ok(vec![
            crypto_permission(
                conn,
                env,
                &source,
                "ReEncryptFrom",
                named.as_ref().and_then(|t| t.alias.as_deref()),
                &self.source_context,
                same.clone(),
            )?,
            crypto_permission(
                conn,
                env,
                &dest.key,
                "ReEncryptTo",
                dest.alias.as_deref(),
                &self.destination_context,
                same,
            )?,
        ])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let (source, _, dest) = self.keys(conn, env)?;
        if self.dry_run {
            crypto::check_usable(&source)?;
            crypto::check_usable(&dest.key)?;
            return Err(dry_run_error());
        }
        let (source_material, s) = crypto::re_encrypt(
            conn,
            &env.master,
            &source,
            &self.blob,
            &self.source_context,
            &dest.key,
            &self.destination_context,
        )?;
        Ok(Reply {
            body: json!({"CiphertextBlob": b64(&s.blob), "SourceKeyId": source.arn,
                         "KeyId": s.key_arn, "SourceEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                         "DestinationEncryptionAlgorithm": "SYMMETRIC_DEFAULT",
                         "SourceKeyMaterialId": source_material,
                         "DestinationKeyMaterialId": s.key_material_id}),
            additional: Some(json!({"sourceKeyMaterialId": source_material,
                                    "destinationKeyMaterialId": s.key_material_id})),
            resources: vec![source.arn.clone(), dest.key.arn.clone()],
            ..Default::default()
        })
    }
}

struct GenerateDataKey {
    key_id: String,
    context: EncryptionContext,
    size: usize,
    tokens: Vec<String>,
    dry_run: bool,
    with_plaintext: bool,
}

fn data_key(b: &Value, with_plaintext: bool) -> ApiResult<Box<dyn Call>> {
    if b.get("Recipient").is_some_and(|r| !r.is_null()) {
        return Err(recipient_unsupported());
    }
    let key_id = input::key_id(b, "KeyId")?;
    Ok(Box::new(GenerateDataKey {
        size: crypto::data_key_size(
            opt_str(b, "KeySpec")?.as_deref(),
            opt_i64(b, "NumberOfBytes")?,
        )?,
        key_id,
        context: input::context(b, "EncryptionContext")?,
        tokens: input::grant_tokens(b)?,
        dry_run: input::dry_run(b)?,
        with_plaintext,
    }))
}

pub(super) fn generate_data_key(b: &Value) -> ApiResult<Box<dyn Call>> {
    data_key(b, true)
}

pub(super) fn generate_data_key_without_plaintext(b: &Value) -> ApiResult<Box<dyn Call>> {
    data_key(b, false)
}

/// The permission of a call that makes data-key material under `key_id` (GenerateDataKey,
/// GenerateDataKeyPair and their WithoutPlaintext forms): its context and grant tokens
/// checked, `op` on the key with `extra` condition keys.
pub(super) fn data_key_permission(
    conn: &Connection,
    env: &Env,
    (key_id, op): (&str, &str),
    context: &EncryptionContext,
    tokens: &[String],
    extra: Vec<(String, Vec<String>)>,
) -> ApiResult<Vec<KeyPermission>> {
    crypto::check_context(context)?;
    grants::check_tokens(tokens)?;
    let t = env.target(conn, key_id, true)?;
    Ok(vec![crypto_permission(
        conn,
        env,
        &t.key,
        op,
        t.alias.as_deref(),
        context,
        extra,
    )?])
}

impl Call for GenerateDataKey {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let op = if self.with_plaintext {
            "GenerateDataKey"
        } else {
            "GenerateDataKeyWithoutPlaintext"
        };
        data_key_permission(
            conn,
            env,
            (&self.key_id, op),
            &self.context,
            &self.tokens,
            Vec::new(),
        )
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, true)?.key;
        if self.dry_run {
            crypto::check_usable(&key)?;
            return Err(dry_run_error());
        }
        let (plain, s) =
            crypto::generate_data_key(conn, &env.master, &key, self.size, &self.context)?;
        let mut body = json!({"CiphertextBlob": b64(&s.blob), "KeyId": s.key_arn,
                              "KeyMaterialId": s.key_material_id});
        if self.with_plaintext {
            body["Plaintext"] = b64(plain.expose());
        }
        Ok(Reply {
            body,
            additional: material(&s.key_material_id),
            ..Default::default()
        })
    }
}

struct GenerateRandom {
    number_of_bytes: Option<i64>,
}

pub(super) fn generate_random(b: &Value) -> ApiResult<Box<dyn Call>> {
    if opt_str(b, "CustomKeyStoreId")?.is_some() {
        return Err(ApiError::new(
            ErrorKind::UnsupportedOperation,
            "Custom key stores are not supported by Cairn.",
        ));
    }
    if b.get("Recipient").is_some_and(|r| !r.is_null()) {
        return Err(recipient_unsupported());
    }
    Ok(Box::new(GenerateRandom {
        number_of_bytes: opt_i64(b, "NumberOfBytes")?,
    }))
}

impl Call for GenerateRandom {
    fn permissions(&self, _: &Connection, _: &Env) -> ApiResult<Vec<KeyPermission>> {
        Ok(vec![KeyPermission::policy_only(Permission::any(
            "kms:GenerateRandom",
        ))])
    }

    fn run(&self, _: &Connection, _: &Env) -> ApiResult<Reply> {
        let bytes = crypto::generate_random(self.number_of_bytes)?;
        Ok(Reply::body(json!({"Plaintext": b64(bytes.expose())})))
    }
}
