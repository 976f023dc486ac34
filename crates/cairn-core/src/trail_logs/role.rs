//! CloudTrail acting as a trail's CloudWatch Logs role: the trust policy must let
//! `cloudtrail.amazonaws.com` assume it (with the trail as `aws:SourceArn` and its account as
//! `aws:SourceAccount`), and the role's own policies (and permissions boundary) must allow
//! `logs:CreateLogStream` and `logs:PutLogEvents` on the stream.

use cairn_policy::{Context, Document, PolicyKind, PolicySet, Request, SourcedPolicy};
use cairn_store::Connection;

use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::iam::{PolicyDoc, role_trust_policy};

/// The session name CloudTrail's role session carries.
const SESSION_NAME: &str = "CloudTrailCloudWatchLogsDelivery";

/// Why CloudTrail cannot write as the role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleDenied {
    /// The role does not exist or its trust policy does not let CloudTrail assume it.
    Trust,
    /// The role's policies do not allow writing to the stream.
    Permissions,
}

impl RoleDenied {
    /// CreateTrail/UpdateTrail's error (iam-kms.md §9.3).
    pub fn create_error(self) -> ApiError {
        match self {
            Self::Trust => ApiError::new(
                ErrorKind::InvalidCloudWatchLogsRoleArn,
                "Access denied. Check the trust relationships for your role.",
            ),
            Self::Permissions => ApiError::new(
                ErrorKind::InvalidCloudWatchLogsLogGroupArn,
                "Access denied. Verify in IAM that the role has adequate permissions.",
            ),
        }
    }

    /// The text GetTrailStatus shows as `LatestCloudWatchLogsDeliveryError`.
    pub fn delivery_error(self) -> &'static str {
        match self {
            Self::Trust => "Access denied. Check the trust relationships for your role.",
            Self::Permissions => {
                "Access denied. Verify in IAM that the role has adequate permissions."
            }
        }
    }
}

fn parsed(docs: &[PolicyDoc]) -> Vec<(Document, &PolicyDoc)> {
    docs.iter()
        .filter_map(|d| {
            Document::parse(&d.document, PolicyKind::Identity)
                .ok()
                .map(|doc| (doc, d))
        })
        .collect()
}

/// Whether CloudTrail, for the trail `trail_arn` of `account`, may assume `role_arn` and as
/// that session create the stream `stream_arn` and put events in it.
pub fn role_may_write(
    conn: &Connection,
    account: &str,
    trail_arn: &str,
    role_arn: &str,
    stream_arn: &str,
) -> ApiResult<Result<(), RoleDenied>> {
    let Some(trust) = role_trust_policy(conn, account, role_arn)? else {
        return Ok(Err(RoleDenied::Trust));
    };
    let Ok(trust_doc) = Document::parse(&trust.document, PolicyKind::Trust) else {
        return Ok(Err(RoleDenied::Trust));
    };
    let service = cairn_policy::Principal::Service {
        name: "cloudtrail.amazonaws.com".to_owned(),
    };
    let mut context = Context::new();
    service.add_context_keys(&mut context);
    context.insert("aws:SourceArn", trail_arn);
    context.insert("aws:SourceAccount", account);
    let assume = Request {
        principal: &service,
        action: "sts:AssumeRole",
        resource: &trust.role_arn,
        context: &context,
    };
    let trust_set = PolicySet {
        identity: &[],
        session: None,
        boundary: None,
        resource: Some(SourcedPolicy {
            source: cairn_policy::PolicySource::Resource,
            id: &trust.role_arn,
            document: &trust_doc,
        }),
    };
    if !cairn_policy::authorize(&assume, &trust_set).is_allowed() {
        return Ok(Err(RoleDenied::Trust));
    }
    let stored = crate::iam::role_policies(conn, &trust.role_id)?;
    let identity = parsed(&stored.identity);
    let identity_set: Vec<SourcedPolicy<'_>> = identity
        .iter()
        .map(|(doc, d)| SourcedPolicy {
            source: d.source,
            id: &d.id,
            document: doc,
        })
        .collect();
    let boundary = stored.boundary.as_ref().and_then(|b| {
        Document::parse(&b.document, PolicyKind::Identity)
            .ok()
            .map(|doc| (doc, b))
    });
    let set = PolicySet {
        identity: &identity_set,
        session: None,
        boundary: boundary.as_ref().map(|(doc, d)| SourcedPolicy {
            source: d.source,
            id: &d.id,
            document: doc,
        }),
        resource: None,
    };
    let session = cairn_policy::Principal::RoleSession {
        account: account.to_owned(),
        role_arn: trust.role_arn.clone(),
        role_id: trust.role_id.clone(),
        session_arn: format!(
            "arn:aws:sts::{account}:assumed-role/{}/{SESSION_NAME}",
            trust.role_name
        ),
        session_name: SESSION_NAME.to_owned(),
    };
    let mut context = Context::new();
    session.add_context_keys(&mut context);
    let region = stream_arn.split(':').nth(3).unwrap_or_default();
    context.insert("aws:RequestedRegion", region);
    context.insert("aws:ResourceAccount", account);
    for action in ["logs:CreateLogStream", "logs:PutLogEvents"] {
        let request = Request {
            principal: &session,
            action,
            resource: stream_arn,
            context: &context,
        };
        if !cairn_policy::authorize(&request, &set).is_allowed() {
            return Ok(Err(RoleDenied::Permissions));
        }
    }
    Ok(Ok(()))
}
