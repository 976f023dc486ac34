//! AccessDenied messages (spec §4.10).
//!
//! - implicit: `User: <arn> is not authorized to perform: <action> on resource: <resource>
//!   because no <type> policy allows the <action> action`
//! - explicit: `User: <arn> is not authorized to perform: <action> on resource: <resource>
//!   with an explicit deny in <a|an> <type> policy` (optionally `: <policy ARN>`)
//! - a permissions boundary is named without the word "policy": `because no permissions
//!   boundary allows the <action> action`, `with an explicit deny in a permissions boundary`
//!   (IAM user guide, "Troubleshoot access denied error messages")
//! - ` on resource: …` is left out when the resource is `*`; S3 puts the resource in double
//!   quotes; no trailing period. The principal is the session ARN for role sessions.

use crate::decision::{Decision, PolicyType};
use crate::principal::Principal;

/// How the resource is written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ResourceStyle {
    /// `on resource: arn:…` (JSON and Query services, KMS).
    #[default]
    Plain,
    /// `on resource: "arn:…"` (S3).
    Quoted,
}

/// The parts of an AccessDenied message.
#[derive(Clone, Copy, Debug)]
pub struct DeniedMessage<'a> {
    /// Principal ARN as shown (see [`Principal::display_arn`]).
    pub principal_arn: &'a str,
    /// The action requested, e.g. `cloudtrail:StopLogging`.
    pub action: &'a str,
    /// The resource, or `*` for none.
    pub resource: &'a str,
    /// Explicit or implicit deny.
    pub explicit: bool,
    /// The policy type named.
    pub policy_type: PolicyType,
    /// Resource quoting.
    pub style: ResourceStyle,
    /// For explicit denies by a managed identity policy: its ARN, appended after `: `.
    pub policy_arn: Option<&'a str>,
}

impl DeniedMessage<'_> {
    /// The message text.
    pub fn render(&self) -> String {
        let mut s = format!(
            "User: {} is not authorized to perform: {}",
            self.principal_arn, self.action
        );
        if self.resource != "*" {
            match self.style {
                ResourceStyle::Plain => {
                    s.push_str(" on resource: ");
                    s.push_str(self.resource);
                }
                ResourceStyle::Quoted => {
                    s.push_str(" on resource: \"");
                    s.push_str(self.resource);
                    s.push('"');
                }
            }
        }
        let words = self.policy_type.words();
        // AWS names a boundary as "a permissions boundary", never "permissions boundary
        // policy"; the other types are "<type> policy".
        let noun = if self.policy_type == PolicyType::PermissionsBoundary {
            ""
        } else {
            " policy"
        };
        if self.explicit {
            let article = if words.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            s.push_str(&format!(
                " with an explicit deny in {article} {words}{noun}"
            ));
            if let Some(arn) = self.policy_arn {
                s.push_str(": ");
                s.push_str(arn);
            }
        } else {
            s.push_str(&format!(
                " because no {words}{noun} allows the {} action",
                self.action
            ));
        }
        s
    }
}

/// The AccessDenied message for a decision, or `None` when it allows.
pub fn access_denied_message(
    principal: &Principal,
    action: &str,
    resource: &str,
    decision: &Decision,
    style: ResourceStyle,
) -> Option<String> {
    let Decision::Deny {
        explicit,
        policy_type,
        ..
    } = decision
    else {
        return None;
    };
    let arn = principal.display_arn();
    Some(
        DeniedMessage {
            principal_arn: &arn,
            action,
            resource,
            explicit: *explicit,
            policy_type: *policy_type,
            style,
            policy_arn: None,
        }
        .render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(explicit: bool, t: PolicyType, resource: &str, style: ResourceStyle) -> String {
        DeniedMessage {
            principal_arn: "arn:aws:iam::111122223333:user/alice",
            action: "cloudtrail:StopLogging",
            resource,
            explicit,
            policy_type: t,
            style,
            policy_arn: None,
        }
        .render()
    }

    #[test]
    fn forms() {
        let trail = "arn:aws:cloudtrail:us-east-1:111122223333:trail/prod";
        assert_eq!(
            msg(
                false,
                PolicyType::IdentityBased,
                trail,
                ResourceStyle::Plain
            ),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:StopLogging on resource: arn:aws:cloudtrail:us-east-1:111122223333:trail/prod because no identity-based policy allows the cloudtrail:StopLogging action"
        );
        assert_eq!(
            msg(true, PolicyType::IdentityBased, "*", ResourceStyle::Plain),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:StopLogging with an explicit deny in an identity-based policy"
        );
        assert!(
            msg(true, PolicyType::ResourceBased, "*", ResourceStyle::Plain)
                .ends_with("in a resource-based policy")
        );
        assert!(
            msg(
                true,
                PolicyType::PermissionsBoundary,
                "*",
                ResourceStyle::Plain
            )
            .ends_with("with an explicit deny in a permissions boundary")
        );
        assert_eq!(
            msg(
                false,
                PolicyType::PermissionsBoundary,
                "*",
                ResourceStyle::Plain
            ),
            "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: cloudtrail:StopLogging because no permissions boundary allows the cloudtrail:StopLogging action"
        );
        assert!(
            msg(
                false,
                PolicyType::Session,
                "arn:aws:s3:::b/k",
                ResourceStyle::Quoted
            )
            .contains("on resource: \"arn:aws:s3:::b/k\" because no session policy allows")
        );
    }
}
