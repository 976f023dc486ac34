//! Why a policy document was refused at write time, in IAM's words (`MalformedPolicyDocument`)
//! and in S3's (`MalformedPolicy`, also used inside SNS's `Invalid parameter: Policy Error: …`).

use crate::ast::PolicyKind;

/// A refused policy document.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct Malformed {
    /// The document's kind.
    pub kind: PolicyKind,
    /// What is wrong.
    pub reason: Reason,
}

/// What is wrong with a document.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// Not JSON, not an object, unknown or mistyped element.
    Syntax,
    /// Not JSON or not an object (S3 words it differently from other syntax errors).
    NotJsonObject,
    /// `Version` neither `2012-10-17` nor `2008-10-17`.
    Version,
    /// No `Statement`.
    MissingStatement,
    /// `Statement` is an empty list.
    EmptyStatement,
    /// A statement is not an object.
    StatementNotObject,
    /// `Effect` missing or not `Allow`/`Deny`.
    InvalidEffect,
    /// `Effect` right but for case (`allow`).
    LegacyParsing,
    /// No `Action`/`NotAction` (or an empty list).
    NoActions,
    /// No `Resource`/`NotResource` where one is required.
    NoResources,
    /// No `Principal`/`NotPrincipal` in a resource-based, trust or key policy.
    MissingPrincipal,
    /// `Principal`/`NotPrincipal` in an identity policy.
    PrincipalNotAllowed,
    /// A principal that is malformed (wildcards inside an ARN, not an ARN or account id), or
    /// that names a user or role that does not exist (raised by the caller, see
    /// [`crate::Document::principal_arns`]). Carries the `"AWS":"…"` text.
    InvalidPrincipal(String),
    /// An action without `service:` prefix.
    NoVendor,
    /// An action with two colons.
    TwoColons,
    /// A vendor with characters other than letters, digits, `-`, `.`.
    BadVendor(String),
    /// A resource neither `*` nor an ARN.
    ResourceNotArn(String),
    /// An unknown partition; carries the full message text.
    BadPartition(String),
    /// `arn:<partition>` without service.
    VendorNotQualified,
    /// Region in an IAM/S3 resource, or an IAM resource path of an unknown type; carries the
    /// full message text.
    ResourceFormat(String),
    /// Two statements with the same `Sid`.
    DuplicateSid,
    /// A `Sid` with characters other than `[0-9A-Za-z]` (IAM identity and trust policies).
    SidNotAlphanumeric,
    /// `Resource`/`NotResource` in a trust policy.
    ProhibitedResource,
    /// `NotPrincipal` in a trust policy (IAM user guide, "AWS JSON policy elements:
    /// NotPrincipal": "You cannot use the NotPrincipal element in … an IAM role trust policy").
    ProhibitedNotPrincipal,
    /// A trust-policy action other than the STS role-assumption actions.
    TrustAction,
    /// `Condition` is not an object.
    ConditionNotObject,
    /// An operator's block is not an object.
    ConditionBlockNotObject,
    /// An unknown condition operator.
    InvalidConditionType(String),
}

impl Malformed {
    pub(crate) fn new(kind: PolicyKind, reason: Reason) -> Self {
        Self { kind, reason }
    }

    /// IAM's `MalformedPolicyDocument` message.
    pub fn message(&self) -> String {
        use Reason::*;
        match &self.reason {
            Syntax | NotJsonObject | MissingStatement | EmptyStatement | StatementNotObject | InvalidEffect
            | ConditionNotObject | ConditionBlockNotObject | InvalidConditionType(_) => "Syntax errors in policy.".to_owned(),
            Version => "Policy document must be version 2012-10-17 or greater.".to_owned(),
            LegacyParsing => "The policy failed legacy parsing".to_owned(),
            NoActions => "Policy statement must contain actions.".to_owned(),
            NoResources => "Policy statement must contain resources.".to_owned(),
            MissingPrincipal => "Missing required field Principal".to_owned(),
            PrincipalNotAllowed => "Policy document should not specify a principal.".to_owned(),
            InvalidPrincipal(p) => format!("Invalid principal in policy: {p}"),
            NoVendor => "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.".to_owned(),
            TwoColons => "Actions/Condition can contain only one colon.".to_owned(),
            BadVendor(v) => format!("Vendor {v} is not valid"),
            ResourceNotArn(r) => format!("Resource {r} must be in ARN format or \"*\"."),
            BadPartition(m) | ResourceFormat(m) => m.clone(),
            VendorNotQualified => "Resource vendor must be fully qualified and cannot contain regexes.".to_owned(),
            DuplicateSid => "Statement IDs (SID) in a single policy must be unique.".to_owned(),
            SidNotAlphanumeric => "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*".to_owned(),
            ProhibitedResource => "Has prohibited field Resource.".to_owned(),
            ProhibitedNotPrincipal => "Has prohibited field NotPrincipal.".to_owned(),
            TrustAction => "Trust Policy statement actions can only be sts:AssumeRole, sts:AssumeRoleWithSAML,  and sts:AssumeRoleWithWebIdentity".to_owned(),
        }
    }

    /// S3's `MalformedPolicy` message (the wording of the bucket-policy checks Cairn had before
    /// this crate; texts not observed on AWS are marked in the source).
    pub fn s3_message(&self) -> String {
        use Reason::*;
        match &self.reason {
            Syntax | NotJsonObject => {
                "Policies must be valid JSON and the first byte must be '{'".to_owned()
            }
            Version => "Invalid policy version".to_owned(), // (unconfirmed)
            MissingStatement => "Missing required field Statement".to_owned(),
            EmptyStatement => "Could not parse the policy: Statement is empty!".to_owned(),
            StatementNotObject => "Statement is not an object".to_owned(),
            InvalidEffect | LegacyParsing => "Invalid effect".to_owned(),
            NoActions => "Missing required field Action".to_owned(),
            NoResources => "Missing required field Resource".to_owned(),
            MissingPrincipal => "Missing required field Principal".to_owned(),
            PrincipalNotAllowed | InvalidPrincipal(_) | ProhibitedNotPrincipal => {
                "Invalid principal in policy".to_owned()
            }
            NoVendor | TwoColons | BadVendor(_) => "Policy has invalid action".to_owned(),
            ResourceNotArn(_) | BadPartition(_) | VendorNotQualified | ResourceFormat(_)
            | ProhibitedResource => "Policy has invalid resource".to_owned(),
            DuplicateSid => "Statement IDs (SID) in a single policy must be unique.".to_owned(), // (unconfirmed)
            SidNotAlphanumeric | TrustAction => "Policy has invalid action".to_owned(),
            ConditionNotObject => "Condition must be an object".to_owned(),
            ConditionBlockNotObject => "Condition block must be an object".to_owned(),
            InvalidConditionType(op) => format!("Invalid Condition type : {op}"),
        }
    }

    /// The message for the document's kind: S3's wording for resource policies, IAM's
    /// otherwise.
    pub fn kind_message(&self) -> String {
        match self.kind {
            PolicyKind::Resource => self.s3_message(),
            _ => self.message(),
        }
    }
}
