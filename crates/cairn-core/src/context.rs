//! Who is calling, where, and when.

use cairn_model::{AccountId, Principal, Region};

/// The facts about one call that every operation needs.
#[derive(Clone, Debug)]
pub struct CallContext {
    /// The caller.
    pub principal: Principal,
    /// The region from the credential scope.
    pub region: Region,
    /// Call time, epoch seconds (with fraction).
    pub now: f64,
    /// Where the call came from, for `aws:SourceIp`, `aws:UserAgent`, `aws:SecureTransport`.
    pub origin: Origin,
}

/// Connection facts of a call that policies can test.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// The caller's IP address (the peer, or a trusted proxy's forwarded address).
    pub source_ip: String,
    /// `User-Agent` as received.
    pub user_agent: String,
    /// Whether the request came over TLS.
    pub secure_transport: bool,
    /// Whether the request was signed with Signature Version 2 (S3's header or presigned
    /// SigV2): S3 refuses it anything under an SSE-KMS key.
    pub sigv2: bool,
    /// Whether the console makes the call for a signed-in user: a console session is
    /// temporary credentials, with `aws:MultiFactorAuthPresent` set.
    pub console: bool,
}

impl CallContext {
    /// The caller's account.
    pub fn account(&self) -> &AccountId {
        self.principal.account()
    }

    /// Call time in whole epoch seconds.
    pub fn now_secs(&self) -> i64 {
        self.now.floor() as i64
    }
}

/// A call by account 123456789012's root user in us-east-1 at `now`, for unit tests.
#[cfg(test)]
pub(crate) fn root_call_at(now: f64) -> CallContext {
    use cairn_model::{AccountId, Principal, Region};
    CallContext {
        principal: Principal::Root {
            account: AccountId::parse("123456789012").unwrap(),
            access_key_id: "AKID".into(),
            session: None,
        },
        region: Region::parse("us-east-1").unwrap(),
        now,
        origin: Origin::default(),
    }
}
