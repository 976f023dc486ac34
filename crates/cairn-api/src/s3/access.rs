//! The s3s plug-ins: secret lookup for its SigV4 verifier (header, presigned and
//! `aws-chunked` streaming forms) and `Host` parsing for `<bucket>.localhost` virtual hosts.

use std::sync::Arc;

use s3s::auth::{S3Auth, SecretKey};
use s3s::host::{S3Host, VirtualHost};
use s3s::{S3Result, s3_error};

use crate::server::Settings;

/// Looks secrets up the same way the JSON protocols do.
pub struct CairnAuth {
    /// The store.
    pub store: cairn_store::Store,
    /// Settings (account, root key).
    pub settings: Arc<Settings>,
}

#[async_trait::async_trait]
impl S3Auth for CairnAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        crate::auth::find_key(
            &self.store,
            &self.settings.account,
            &self.settings.root,
            access_key,
        )
        .map(|(secret, _)| SecretKey::from(secret))
        .ok_or_else(|| s3_error!(InvalidAccessKeyId))
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
