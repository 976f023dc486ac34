//! Where bucket objects live.
//!
//! [`local`] keeps Cairn's own buckets' bytes as files under the data dir (records are in
//! the store). The rest of this module reaches buckets that live outside Cairn.
//!
//! The `[buckets.<name>]` sections of the settings file map a bucket name to an external
//! S3-compatible store (AWS S3, MinIO, SeaweedFS): endpoint, region, credentials and the
//! bucket's name there. [`ExternalBuckets`] reaches them through `object_store`, so trails can
//! deliver log files and signed digests (with their `x-amz-meta-*` metadata) there.

pub mod local;

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{Attribute, Attributes, ObjectStore, ObjectStoreExt, PutOptions, PutPayload};
use serde::Deserialize;

/// One `[buckets.<name>]` section.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExternalBucketConfig {
    /// Endpoint URL, e.g. `http://127.0.0.1:8333` (omit for AWS S3).
    pub endpoint: Option<String>,
    /// Region to sign for.
    #[serde(default = "default_region")]
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// The bucket's name in the external store (defaults to the section name).
    pub bucket: Option<String>,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

/// Failures talking to an external store.
#[derive(Debug, thiserror::Error)]
pub enum ExternalError {
    /// The bucket is not configured.
    #[error("bucket {0} is not an external bucket")]
    Unknown(String),
    /// The bucket's settings are unusable.
    #[error("bucket {bucket}: {message}")]
    Config {
        /// Bucket.
        bucket: String,
        /// Why.
        message: String,
    },
    /// The store answered with an error (shown as the store's own message, once).
    #[error(transparent)]
    Store(#[from] object_store::Error),
}

/// The store path of an S3 key, exactly as given: never percent-encoded or with segments
/// dropped (`object_store`'s `Path::from` rewrites `~`, `[`, `%` … and folds `//`, so files
/// would land at other keys than their digests name). A key the store's paths cannot hold
/// (an empty or `.`/`..` segment, a control character) is refused.
pub fn key_path(key: &str) -> Result<Path, ExternalError> {
    Path::parse(key).map_err(|e| ExternalError::Config {
        bucket: String::new(),
        message: format!("the key {key:?} cannot be written to an external store: {e}"),
    })
}

impl ExternalError {
    /// Whether the store refused Cairn's credentials (access denied, an unknown key, a bad
    /// signature), rather than failing to answer.
    pub fn refused_credentials(&self) -> bool {
        match self {
            ExternalError::Store(
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. },
            ) => true,
            ExternalError::Store(e) => {
                let text = e.to_string();
                [
                    "AccessDenied",
                    "SignatureDoesNotMatch",
                    "InvalidAccessKeyId",
                    "403 Forbidden",
                ]
                .iter()
                .any(|code| text.contains(code))
            }
            _ => false,
        }
    }
}

/// An object read back from an external bucket.
#[derive(Clone, Debug)]
pub struct ExternalObject {
    /// The bytes.
    pub body: Bytes,
    /// `x-amz-meta-*` user metadata.
    pub metadata: BTreeMap<String, String>,
}

/// The configured external buckets.
#[derive(Clone, Default)]
pub struct ExternalBuckets {
    stores: BTreeMap<String, Arc<dyn ObjectStore>>,
    /// The bucket each configured name is in its store (`bucket = …`, else the name).
    store_names: BTreeMap<String, String>,
}

impl std::fmt::Debug for ExternalBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.stores.keys()).finish()
    }
}

impl ExternalBuckets {
    /// Builds a client per configured bucket. Secrets stay inside the clients.
    pub fn new(configs: &BTreeMap<String, ExternalBucketConfig>) -> Result<Self, ExternalError> {
        let mut stores: BTreeMap<String, Arc<dyn ObjectStore>> = BTreeMap::new();
        let mut store_names = BTreeMap::new();
        for (name, c) in configs {
            store_names.insert(
                name.clone(),
                c.bucket.clone().unwrap_or_else(|| name.clone()),
            );
            let mut builder = AmazonS3Builder::new()
                .with_client_options(
                    object_store::ClientOptions::new()
                        .with_connect_timeout(std::time::Duration::from_secs(5))
                        .with_timeout(std::time::Duration::from_secs(10)),
                )
                .with_retry(object_store::RetryConfig {
                    max_retries: 2,
                    retry_timeout: std::time::Duration::from_secs(20),
                    ..Default::default()
                })
                .with_region(&c.region)
                .with_bucket_name(c.bucket.clone().unwrap_or_else(|| name.clone()))
                .with_access_key_id(&c.access_key_id)
                .with_secret_access_key(&c.secret_access_key);
            if let Some(endpoint) = &c.endpoint {
                builder = builder
                    .with_endpoint(endpoint)
                    .with_allow_http(endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(false);
            }
            let store = builder.build().map_err(|e| ExternalError::Config {
                bucket: name.clone(),
                message: e.to_string(),
            })?;
            stores.insert(name.clone(), Arc::new(store));
        }
        Ok(Self {
            stores,
            store_names,
        })
    }

    /// The name `bucket` has in its store: what a digest names as where files are, so that
    /// a validator reading the store finds them where the digest says (`bucket` itself when it
    /// is not external or keeps its name).
    pub fn store_name(&self, bucket: &str) -> String {
        self.store_names
            .get(bucket)
            .cloned()
            .unwrap_or_else(|| bucket.to_owned())
    }

    /// A single bucket reached at `config` (for tools such as `cairn validate-logs`).
    pub fn single(name: &str, config: &ExternalBucketConfig) -> Result<Self, ExternalError> {
        Self::new(&BTreeMap::from([(name.to_owned(), config.clone())]))
    }

    /// Every key under `prefix` (a key prefix ending in `/`), in key order.
    pub async fn list(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, ExternalError> {
        use futures::TryStreamExt;
        let store = self.store(bucket)?;
        let dir = key_path(prefix.trim_end_matches('/'))?;
        let mut keys: Vec<String> = store
            .list(Some(&dir))
            .map_ok(|m| m.location.to_string())
            .try_collect()
            .await?;
        keys.sort();
        Ok(keys)
    }

    /// The configured bucket names.
    pub fn names(&self) -> Vec<String> {
        self.stores.keys().cloned().collect()
    }

    /// Whether `bucket` is configured as external.
    pub fn contains(&self, bucket: &str) -> bool {
        self.stores.contains_key(bucket)
    }

    fn store(&self, bucket: &str) -> Result<&Arc<dyn ObjectStore>, ExternalError> {
        self.stores
            .get(bucket)
            .ok_or_else(|| ExternalError::Unknown(bucket.to_owned()))
    }

    /// Whether the external bucket can be listed (it exists and the credentials work).
    pub async fn reachable(&self, bucket: &str) -> Result<bool, ExternalError> {
        use futures::StreamExt;
        let store = self.store(bucket)?;
        let mut listing = store.list(Some(&Path::from("AWSLogs")));
        match listing.next().await {
            None | Some(Ok(_)) => Ok(true),
            Some(Err(object_store::Error::NotFound { .. })) => Ok(false),
            Some(Err(e)) => Err(e.into()),
        }
    }

    /// Writes an object with user metadata (`x-amz-meta-<name>`).
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), ExternalError> {
        let mut attributes = Attributes::new();
        for (k, v) in metadata {
            attributes.insert(Attribute::Metadata(k.clone().into()), v.clone().into());
        }
        let options = PutOptions {
            attributes,
            ..Default::default()
        };
        self.store(bucket)?
            .put_opts(&key_path(key)?, PutPayload::from(body), options)
            .await?;
        Ok(())
    }

    /// Reads an object with its user metadata.
    pub async fn get(&self, bucket: &str, key: &str) -> Result<ExternalObject, ExternalError> {
        let result = self.store(bucket)?.get(&key_path(key)?).await?;
        let metadata = result
            .attributes
            .iter()
            .filter_map(|(k, v)| match k {
                Attribute::Metadata(name) => Some((name.to_string(), v.to_string())),
                _ => None,
            })
            .collect();
        Ok(ExternalObject {
            body: result.bytes().await?,
            metadata,
        })
    }
}
