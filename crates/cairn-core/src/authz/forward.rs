//! Forward access sessions: a call a service makes for a principal with that principal's
//! credentials (CloudFormation creating a stack's resources as its caller or as its service
//! role) is authorized as the principal, with the keys AWS adds to every such request:
//! `aws:ViaAWSService` `"true"`, `aws:CalledVia` (the services in the chain, first caller
//! first), `aws:CalledViaFirst` and `aws:CalledViaLast`. A call a service makes as its own
//! service principal is not a forward access request and gets none of them.

use std::sync::Arc;

use cairn_store::Connection;

use super::{Evaluator, Permission};
use crate::context::CallContext;
use crate::error::ApiResult;

const CALLED_VIA: &str = "aws:CalledVia";
const FAS_KEYS: [&str; 4] = [
    CALLED_VIA,
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:ViaAWSService",
];

/// Decides with `inner`, adding the forward access keys of `service` to every permission.
pub struct ForwardAccess {
    inner: Arc<dyn Evaluator>,
    service: String,
}

impl ForwardAccess {
    /// An evaluator for the calls `service` (e.g. `cloudformation.amazonaws.com`) makes for
    /// a principal.
    pub fn new(inner: Arc<dyn Evaluator>, service: impl Into<String>) -> Self {
        Self {
            inner,
            service: service.into(),
        }
    }
}

/// `permission` as `service` asks for it: `service` goes first in the `aws:CalledVia`
/// chain, before any service the call itself goes through (CloudTrail checking a key with
/// KMS for the caller adds its own).
pub fn via(permission: &Permission, service: &str) -> Permission {
    let mut chain = vec![service.to_owned()];
    for (k, values) in &permission.context {
        if k.eq_ignore_ascii_case(CALLED_VIA) {
            chain.extend(values.iter().cloned());
        }
    }
    let mut p = permission.clone();
    p.context
        .retain(|(k, _)| !FAS_KEYS.iter().any(|f| k.eq_ignore_ascii_case(f)));
    let last = chain.last().cloned().unwrap_or_default();
    p.context
        .push(("aws:CalledViaFirst".to_owned(), vec![service.to_owned()]));
    p.context.push(("aws:CalledViaLast".to_owned(), vec![last]));
    p.context.push((CALLED_VIA.to_owned(), chain));
    p.context
        .push(("aws:ViaAWSService".to_owned(), vec!["true".to_owned()]));
    p
}

impl Evaluator for ForwardAccess {
    fn authorize(
        &self,
        conn: &Connection,
        ctx: &CallContext,
        permission: &Permission,
    ) -> ApiResult<()> {
        if matches!(ctx.principal, cairn_model::Principal::Service { .. }) {
            return self.inner.authorize(conn, ctx, permission);
        }
        self.inner
            .authorize(conn, ctx, &via(permission, &self.service))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<'a>(p: &'a Permission, key: &str) -> Vec<&'a str> {
        p.context
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.iter().map(String::as_str))
            .collect()
    }

    #[test]
    fn a_forwarded_call_names_its_service() {
        let p = via(
            &Permission::new("cloudtrail:CreateTrail", "*"),
            "cloudformation.amazonaws.com",
        );
        assert_eq!(
            values(&p, "aws:CalledVia"),
            ["cloudformation.amazonaws.com"]
        );
        assert_eq!(
            values(&p, "aws:CalledViaFirst"),
            ["cloudformation.amazonaws.com"]
        );
        assert_eq!(
            values(&p, "aws:CalledViaLast"),
            ["cloudformation.amazonaws.com"]
        );
        assert_eq!(values(&p, "aws:ViaAWSService"), ["true"]);
    }

    #[test]
    fn a_chain_keeps_the_inner_service_last() {
        let mut inner = Permission::new("kms:DescribeKey", "*");
        inner.context = vec![
            (
                "aws:CalledVia".into(),
                vec!["cloudtrail.amazonaws.com".into()],
            ),
            (
                "aws:CalledViaFirst".into(),
                vec!["cloudtrail.amazonaws.com".into()],
            ),
            (
                "aws:CalledViaLast".into(),
                vec!["cloudtrail.amazonaws.com".into()],
            ),
            ("aws:ViaAWSService".into(), vec!["true".into()]),
            (
                "kms:ViaService".into(),
                vec!["cloudtrail.us-east-1.amazonaws.com".into()],
            ),
        ];
        let p = via(&inner, "cloudformation.amazonaws.com");
        assert_eq!(
            values(&p, "aws:CalledVia"),
            ["cloudformation.amazonaws.com", "cloudtrail.amazonaws.com"]
        );
        assert_eq!(
            values(&p, "aws:CalledViaFirst"),
            ["cloudformation.amazonaws.com"]
        );
        assert_eq!(
            values(&p, "aws:CalledViaLast"),
            ["cloudtrail.amazonaws.com"]
        );
        assert_eq!(values(&p, "aws:ViaAWSService"), ["true"]);
        assert_eq!(
            values(&p, "kms:ViaService"),
            ["cloudtrail.us-east-1.amazonaws.com"]
        );
    }
}
