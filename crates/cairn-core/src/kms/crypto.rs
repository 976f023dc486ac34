//! The cryptographic operations: Encrypt, Decrypt, ReEncrypt, GenerateDataKey,
//! GenerateDataKeyWithoutPlaintext, GenerateRandom (spec §7.4, §7.8).
//!
//! Each seals or opens a [`cairn_crypto::blob`] with the backing key of one generation,
//! unwrapped from the store with the master key for the duration of the call. The encryption
//! context is bound exactly: a different context, like any tampering, is
//! `InvalidCiphertextException` with no message, as on AWS.

use cairn_store::Connection;

use super::{EncryptionContext, Key, MasterKey, Scope, Secret, constraint, err, ids, not_usable};
use crate::error::{ApiError, ApiResult, ErrorKind};

/// `EncryptionAlgorithmSpec` values of the model.
pub const ALGORITHMS: [&str; 4] = [
    "SYMMETRIC_DEFAULT",
    "RSAES_OAEP_SHA_1",
    "RSAES_OAEP_SHA_256",
    "SM2PKE",
];

/// Largest encryption context, in bytes of keys and values.
pub const MAX_CONTEXT_BYTES: usize = 8192;

/// The message-less error for any ciphertext that does not open.
pub fn invalid_ciphertext() -> ApiError {
    err(ErrorKind::KmsInvalidCiphertext, "")
}

/// What Encrypt and GenerateDataKey* produce.
#[derive(Clone, Debug, PartialEq)]
pub struct Sealed {
    /// The key's ARN (`KeyId` of the response).
    pub key_arn: String,
    /// `CiphertextBlob`.
    pub blob: Vec<u8>,
    /// `KeyMaterialId` of the generation used.
    pub key_material_id: String,
}

/// What Decrypt produces.
#[derive(Debug)]
pub struct Opened {
    /// The key's ARN.
    pub key_arn: String,
    /// `Plaintext`.
    pub plaintext: Secret,
    /// `KeyMaterialId` of the generation used.
    pub key_material_id: String,
}

/// Checks an encryption context's size.
pub fn check_context(context: &EncryptionContext) -> ApiResult<()> {
    let size: usize = context.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_CONTEXT_BYTES {
        return Err(err(
            ErrorKind::Validation,
            format!(
                "The encryption context is {size} bytes; it may not exceed {MAX_CONTEXT_BYTES} bytes."
            ),
        ));
    }
    Ok(())
}

/// Checks `EncryptionAlgorithm` for a symmetric key (only `SYMMETRIC_DEFAULT` applies).
pub fn check_algorithm(member: &str, algorithm: Option<&str>) -> ApiResult<()> {
    match algorithm {
        None | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some(a) if ALGORITHMS.contains(&a) => Err(err(
            ErrorKind::KmsInvalidKeyUsage,
            format!(
                "The encryption algorithm {a} is not supported by a symmetric encryption KMS key."
            ),
        )),
        Some(a) => Err(constraint(
            member,
            a,
            &format!(
                "Member must satisfy enum value set: [{}]",
                ALGORITHMS.join(", ")
            ),
        )),
    }
}

/// Checks a `CiphertextBlob`'s length (the model allows 1–6144 bytes).
pub fn check_ciphertext_len(blob: &[u8]) -> ApiResult<()> {
    if blob.is_empty() || blob.len() > 6144 {
        return Err(err(
            ErrorKind::Validation,
            format!(
                "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: Member must have length {}",
                if blob.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 6144"
                }
            ),
        ));
    }
    Ok(())
}

/// The data-key size of GenerateDataKey*: exactly one of `KeySpec` (`AES_256` → 32,
/// `AES_128` → 16) and `NumberOfBytes` (1–1024).
pub fn data_key_size(key_spec: Option<&str>, number_of_bytes: Option<i64>) -> ApiResult<usize> {
    match (key_spec, number_of_bytes) {
        (Some(_), Some(_)) | (None, None) => Err(err(
            ErrorKind::Validation,
            "Please specify either number of bytes or key spec.",
        )),
        (Some("AES_256"), None) => Ok(32),
        (Some("AES_128"), None) => Ok(16),
        (Some(other), None) => Err(constraint(
            "keySpec",
            other,
            "Member must satisfy enum value set: [AES_256, AES_128]",
        )),
        (None, Some(n)) => random_len("numberOfBytes", Some(n)),
    }
}

fn random_len(member: &str, n: Option<i64>) -> ApiResult<usize> {
    match n {
        Some(n) if (1..=1024).contains(&n) => Ok(n as usize),
        Some(n) => Err(constraint(
            member,
            &n.to_string(),
            if n < 1 {
                "Member must have value greater than or equal to 1"
            } else {
                "Member must have value less than or equal to 1024"
            },
        )),
        None => Err(err(
            ErrorKind::Validation,
            format!(
                "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
            ),
        )),
    }
}

/// The backing key of one generation, unwrapped.
fn backing(conn: &Connection, master: &MasterKey, key: &Key, generation: u32) -> ApiResult<Secret> {
    let wrapped = cairn_store::kms::wrapped_material(conn, &key.key_id, generation)?
        .ok_or_else(invalid_ciphertext)?;
    master
        .unwrap(
            &wrapped,
            &cairn_crypto::backing_key_aad(&key.arn, generation),
        )
        .map_err(super::material_fault)
}

/// Refuses cryptographic use of a key that is not enabled.
pub fn check_usable(key: &Key) -> ApiResult<()> {
    not_usable(key).map_or(Ok(()), Err)
}

fn seal(
    conn: &Connection,
    master: &MasterKey,
    key: &Key,
    plaintext: &[u8],
    context: &EncryptionContext,
) -> ApiResult<Sealed> {
    check_usable(key)?;
    check_context(context)?;
    let generation = key.current_generation;
    let k = backing(conn, master, key, generation)?;
    let blob = cairn_crypto::blob::seal(
        k.expose(),
        &key.key_id,
        &key.arn,
        generation,
        context,
        plaintext,
    )
    .map_err(super::material_fault)?;
    Ok(Sealed {
        key_arn: key.arn.clone(),
        blob,
        key_material_id: cairn_crypto::key_material_id(&key.arn, generation),
    })
}

/// Encrypt: up to 4096 bytes of plaintext.
pub fn encrypt(
    conn: &Connection,
    master: &MasterKey,
    key: &Key,
    plaintext: &[u8],
    context: &EncryptionContext,
) -> ApiResult<Sealed> {
    if plaintext.is_empty() || plaintext.len() > 4096 {
        return Err(err(
            ErrorKind::Validation,
            format!(
                "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length {}",
                if plaintext.is_empty() {
                    "greater than or equal to 1"
                } else {
                    "less than or equal to 4096"
                }
            ),
        ));
    }
    seal(conn, master, key, plaintext, context)
}

/// GenerateDataKey: a fresh random data key of `size` bytes, in plaintext and sealed.
pub fn generate_data_key(
    conn: &Connection,
    master: &MasterKey,
    key: &Key,
    size: usize,
    context: &EncryptionContext,
) -> ApiResult<(Secret, Sealed)> {
    check_usable(key)?;
    let data_key = cairn_crypto::random_secret(size).map_err(super::material_fault)?;
    let sealed = seal(conn, master, key, data_key.expose(), context)?;
    Ok((data_key, sealed))
}

/// GenerateDataKeyPair: a fresh key pair of `spec`, with its private key (PKCS#8) sealed
/// under `key` as a data key is.
pub fn generate_data_key_pair(
    conn: &Connection,
    master: &MasterKey,
    key: &Key,
    spec: &str,
    context: &EncryptionContext,
) -> ApiResult<(cairn_crypto::key_pairs::DataKeyPair, Sealed)> {
    check_usable(key)?;
    let pair = cairn_crypto::key_pairs::generate(spec)
        .map_err(super::material_fault)?
        .ok_or_else(|| {
            err(
                ErrorKind::UnsupportedOperation,
                format!("KeyPairSpec {spec} is not supported by Cairn."),
            )
        })?;
    let sealed = seal(conn, master, key, pair.private_pkcs8.expose(), context)?;
    Ok((pair, sealed))
}

/// The key a ciphertext names, in `scope`: a blob that is not Cairn's is
/// `InvalidCiphertextException`; one naming a key this account and region do not have is
/// `AccessDeniedException` with AWS's text.
pub fn blob_key(conn: &Connection, scope: &Scope, blob: &[u8]) -> ApiResult<Key> {
    check_ciphertext_len(blob)?;
    let header = cairn_crypto::blob::peek(blob).map_err(|_| invalid_ciphertext())?;
    ids::key_in_scope(conn, scope, &header.key_id).map_err(|_| {
        err(
            ErrorKind::AccessDenied,
            "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
        )
    })
}

/// Checks Decrypt's optional `KeyId` against the key the ciphertext names.
pub fn check_named_key(named: Option<&Key>, blob_key: &Key) -> ApiResult<()> {
    match named {
        Some(k) if k.key_id != blob_key.key_id => Err(err(
            ErrorKind::KmsIncorrectKey,
            "The key ID in the request does not identify a CMK that can perform this operation.",
        )),
        _ => Ok(()),
    }
}

/// Decrypt with the key the blob names (see [`blob_key`]).
pub fn decrypt(
    conn: &Connection,
    master: &MasterKey,
    key: &Key,
    blob: &[u8],
    context: &EncryptionContext,
) -> ApiResult<Opened> {
    check_usable(key)?;
    let header = cairn_crypto::blob::peek(blob).map_err(|_| invalid_ciphertext())?;
    if header.key_id != key.key_id || header.generation == 0 {
        return Err(invalid_ciphertext());
    }
    let k = backing(conn, master, key, header.generation)?;
    let plaintext = cairn_crypto::blob::open(k.expose(), &key.arn, blob, context)
        .map_err(|_| invalid_ciphertext())?;
    Ok(Opened {
        key_arn: key.arn.clone(),
        plaintext,
        key_material_id: cairn_crypto::key_material_id(&key.arn, header.generation),
    })
}

/// ReEncrypt: opens under the source key and seals under the destination key; the plaintext
/// never leaves. Returns (source key material id, destination sealed).
pub fn re_encrypt(
    conn: &Connection,
    master: &MasterKey,
    source: &Key,
    blob: &[u8],
    source_context: &EncryptionContext,
    destination: &Key,
    destination_context: &EncryptionContext,
) -> ApiResult<(String, Sealed)> {
    let opened = decrypt(conn, master, source, blob, source_context)?;
    check_usable(destination)?;
    let sealed = seal(
        conn,
        master,
        destination,
        opened.plaintext.expose(),
        destination_context,
    )?;
    Ok((opened.key_material_id, sealed))
}

/// GenerateRandom: 1–1024 random bytes.
pub fn generate_random(number_of_bytes: Option<i64>) -> ApiResult<Secret> {
    let n = random_len("numberOfBytes", number_of_bytes)?;
    cairn_crypto::random_secret(n).map_err(super::material_fault)
}
