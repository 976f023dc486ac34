//! How the engine reaches other services: every resource is made by calling Cairn's own
//! operations as the stack's principal, through [`Services`], which the edge implements by
//! running the same code path a signed request takes (the gate authorizes the call and
//! records it, with CloudFormation's markers). Inputs and outputs are API-shaped members
//! (`{"RoleName": …, "Tags": [{"Key": …}]}`); the edge turns them into each protocol.

use std::future::Future;
use std::pin::Pin;

use cairn_model::{Principal, Region};
use serde_json::Value;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A service the engine calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// S3 (bucket calls).
    S3,
    /// CloudTrail.
    CloudTrail,
    /// IAM.
    Iam,
    /// SNS.
    Sns,
    /// STS.
    Sts,
    /// KMS.
    Kms,
    /// CloudWatch Logs.
    Logs,
    /// CloudWatch (metrics and alarms).
    CloudWatch,
}

impl Service {
    /// How CloudFormation names the service in a resource's status reason.
    pub fn reason_name(self) -> &'static str {
        match self {
            Self::S3 => "Amazon S3",
            Self::CloudTrail => "AWSCloudTrail",
            Self::Iam => "AmazonIdentityManagement",
            Self::Sns => "AmazonSNS",
            Self::Sts => "AWSSecurityTokenService",
            Self::Kms => "AWSKMS",
            Self::Logs => "AWSLogs",
            Self::CloudWatch => "AmazonCloudWatch",
        }
    }
}

/// One call.
#[derive(Clone, Debug, PartialEq)]
pub struct Call {
    /// The service.
    pub service: Service,
    /// The operation name (`CreateBucket`, `CreateTrail`, …).
    pub action: &'static str,
    /// API-shaped input members.
    pub input: Value,
}

/// A call's failure, as the service answered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallError {
    /// The AWS error code (`InsufficientS3BucketPolicyException`, `NoSuchEntity`, …).
    pub code: String,
    /// The message.
    pub message: String,
    /// The HTTP status.
    pub status: u16,
    /// The request id of the failed call.
    pub request_id: String,
}

impl CallError {
    /// The `ResourceStatusReason` CloudFormation writes for a failed call.
    pub fn reason(&self, service: Service) -> String {
        let extended = if service == Service::S3 {
            format!(" S3 Extended Request ID: {};", self.request_id)
        } else {
            String::new()
        };
        format!(
            "{} (Service: {}; Status Code: {}; Error Code: {}; Request ID: {};{extended} Proxy: null)",
            self.message,
            service.reason_name(),
            self.status,
            self.code,
            self.request_id
        )
    }
}

/// Whom a call acts as, and where.
#[derive(Clone, Debug)]
pub struct Caller {
    /// The principal.
    pub principal: Principal,
    /// The stack's region.
    pub region: Region,
}

/// Runs calls for the engine.
pub trait Services: Send + Sync {
    /// Runs one call as `caller`; `Ok` carries the API-shaped output members.
    fn call<'a>(
        &'a self,
        caller: &'a Caller,
        call: Call,
    ) -> BoxFuture<'a, Result<Value, CallError>>;
}
