//! The s3s plug-ins: secret lookup for its SigV4 verifier (header, presigned and
//! `aws-chunked` streaming forms) and `Host` parsing for `<bucket>.localhost` virtual hosts.

use std::sync::Arc;

use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{S3Host, VirtualHost};
use s3s::{S3Result, s3_error};

use crate::credentials::CredentialCache;

/// Looks secrets up in the same credential cache as the JSON and Query protocols.
pub struct CairnAuth {
    /// The credential cache.
    pub credentials: Arc<CredentialCache>,
}

#[async_trait::async_trait]
impl S3Auth for CairnAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        // Temporary keys verify here too; their session token is checked before the call
        // acts (`CairnS3::call_info`).
        self.credentials
            .signing_secret(access_key)
            .await
            .map(SecretKey::from)
            .ok_or_else(|| {
                s3_error!(
                    InvalidAccessKeyId,
                    "The AWS Access Key Id you provided does not exist in our records."
                )
            })
    }
}

/// Path-style for any host, virtual-host style for `<bucket>.localhost[:port]`.
pub struct CairnHost;

impl S3Host for CairnHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let name = host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        match name.strip_suffix(".localhost").filter(|b| !b.is_empty()) {
            Some(bucket) => Ok(VirtualHost::new(host).with_bucket(bucket)),
            None => Ok(VirtualHost::new(host)),
        }
    }
}
