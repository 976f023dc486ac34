//! GenerateDataKeyPair and GenerateDataKeyPairWithoutPlaintext: an RSA or elliptic-curve key
//! pair whose private key is sealed under a symmetric KMS key (with the encryption context),
//! as GenerateDataKey seals a data key. The response carries the public key (X.509 DER) and,
//! with plaintext, the private key (PKCS#8 DER); the record carries neither.

use cairn_core::error::ApiResult;
use cairn_core::kms::authz::KeyPermission;
use cairn_core::kms::{EncryptionContext, crypto};
use cairn_store::Connection;
use serde_json::{Value, json};

use super::crypto::{data_key_permission, material, recipient_unsupported};
use super::{Call, Env, Reply, dry_run_error};
use crate::kms::input;
use crate::kms::shapes::b64;
use crate::wire::req_str;

struct GenerateDataKeyPair {
    key_id: String,
    spec: String,
    context: EncryptionContext,
    tokens: Vec<String>,
    dry_run: bool,
    with_plaintext: bool,
}

fn key_pair(b: &Value, with_plaintext: bool) -> ApiResult<Box<dyn Call>> {
    if b.get("Recipient").is_some_and(|r| !r.is_null()) {
        return Err(recipient_unsupported());
    }
    Ok(Box::new(GenerateDataKeyPair {
        key_id: input::key_id(b, "KeyId")?,
        spec: req_str(b, "KeyPairSpec")?,
        context: input::context(b, "EncryptionContext")?,
        tokens: input::grant_tokens(b)?,
        dry_run: input::dry_run(b)?,
        with_plaintext,
    }))
}

pub(super) fn generate_data_key_pair(b: &Value) -> ApiResult<Box<dyn Call>> {
    key_pair(b, true)
}

pub(super) fn generate_data_key_pair_without_plaintext(b: &Value) -> ApiResult<Box<dyn Call>> {
    key_pair(b, false)
}

impl Call for GenerateDataKeyPair {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let op = if self.with_plaintext {
            "GenerateDataKeyPair"
        } else {
            "GenerateDataKeyPairWithoutPlaintext"
        };
        data_key_permission(
            conn,
            env,
            (&self.key_id, op),
            &self.context,
            &self.tokens,
            vec![("kms:DataKeyPairSpec".to_owned(), vec![self.spec.clone()])],
        )
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, true)?.key;
        if self.dry_run {
            crypto::check_usable(&key)?;
            return Err(dry_run_error());
        }
        let (pair, s) =
            crypto::generate_data_key_pair(conn, &env.master, &key, &self.spec, &self.context)?;
        let mut body = json!({
            "PrivateKeyCiphertextBlob": b64(&s.blob),
            "PublicKey": b64(&pair.public_der),
            "KeyId": s.key_arn,
            "KeyPairSpec": self.spec,
            "KeyMaterialId": s.key_material_id,
        });
        if self.with_plaintext {
            body["PrivateKeyPlaintext"] = b64(pair.private_pkcs8.expose());
        }
        Ok(Reply {
            body,
            additional: material(&s.key_material_id),
            ..Default::default()
        })
    }
}
