//! The s3s plug-ins: secret lookup for its SigV4 verifier (header, presigned and
//! `aws-chunked` streaming forms) and `Host` parsing for virtual-hosted–style requests
//! (`<bucket>.localhost`, and `<bucket>.<domain>` for each domain of `--s3-domains`).

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

/// Virtual-hosted–style addressing: a `Host` of `<bucket>.<domain>[:port]`, for `localhost`
/// and the operator's `--s3-domains`, names the bucket; any other host is path style.
#[derive(Clone, Debug)]
pub struct CairnHost {
    /// Base domains, lower case, without a leading dot; `localhost` is always among them.
    domains: Arc<[String]>,
}

impl Default for CairnHost {
    fn default() -> Self {
        Self::new(&[])
    }
}

impl CairnHost {
    /// `localhost` and the given base domains (lower-cased, leading dots dropped); the
    /// longest matching domain wins, so `s3.example.internal` beats `example.internal`.
    pub fn new(domains: &[String]) -> Self {
        let mut all: Vec<String> = domains
            .iter()
            .map(|d| d.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .chain(std::iter::once("localhost".to_owned()))
            .collect();
        all.sort_by_key(|d| std::cmp::Reverse(d.len()));
        all.dedup();
        Self {
            domains: all.into(),
        }
    }

    /// The bucket a `Host` header names, if it is `<bucket>.<domain>[:port]`; a host that is
    /// itself one of the domains is path style.
    pub fn bucket<'a>(&self, host: &'a str) -> Option<&'a str> {
        let name = host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        if self.domains.iter().any(|d| name.eq_ignore_ascii_case(d)) {
            return None;
        }
        self.domains.iter().find_map(|d| {
            let cut = name.len().checked_sub(d.len() + 1)?;
            let (bucket, suffix) = (name.get(..cut)?, name.get(cut..)?);
            (suffix.starts_with('.') && suffix[1..].eq_ignore_ascii_case(d) && !bucket.is_empty())
                .then_some(bucket)
        })
    }
}

impl S3Host for CairnHost {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        Ok(match self.bucket(host) {
            Some(bucket) => VirtualHost::new(host).with_bucket(bucket),
            None => VirtualHost::new(host),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::CairnHost;

    #[test]
    fn virtual_hosts_are_localhost_and_the_configured_domains() {
        let h = CairnHost::new(&[".S3.Example.Internal".into(), "example.internal".into()]);
        assert_eq!(h.bucket("bkt.localhost:4566"), Some("bkt"));
        assert_eq!(h.bucket("bkt.localhost"), Some("bkt"));
        assert_eq!(h.bucket("my.bkt.s3.example.internal:443"), Some("my.bkt"));
        assert_eq!(h.bucket("bkt.S3.EXAMPLE.internal"), Some("bkt"));
        assert_eq!(h.bucket("bkt.example.internal"), Some("bkt"));
        assert_eq!(h.bucket("s3.example.internal"), None);
        assert_eq!(h.bucket("s4.example.internal"), Some("s4"));
        assert_eq!(h.bucket("example.internal:80"), None);
        assert_eq!(h.bucket("localhost:4566"), None);
        assert_eq!(h.bucket(".localhost"), None);
        assert_eq!(h.bucket("127.0.0.1:4566"), None);
        assert_eq!(h.bucket("bkt.other.internal"), None);
        assert_eq!(CairnHost::default().bucket("bkt.example.internal"), None);
        assert_eq!(h.bucket("é.localhost"), Some("é"));
        assert_eq!(h.bucket("xlocalhost"), None);
    }
}
