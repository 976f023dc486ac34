//! The one IAM policy evaluator of Cairn: every service (CloudTrail, S3, SNS, IAM, STS, KMS, …)
//! authorizes through it, and IAM's SimulatePolicy answers with it.
//!
//! Pure: no IO, no clock (except [`bench`]), no store. The caller gathers the policies that
//! bear on a request and the request's context; this crate decides.
//!
//! # What it does
//!
//! 1. **Parse and validate** ([`Document::parse`]) a policy of a [`PolicyKind`] (identity,
//!    resource, trust, KMS key policy) into a typed, compiled [`Document`], refusing bad ones
//!    at write time with AWS's `MalformedPolicyDocument` texts ([`Malformed::message`]) or S3's
//!    `MalformedPolicy` texts ([`Malformed::s3_message`]). Size quotas are in [`limits`].
//!    Each statement keeps its source position for SimulatePolicy.
//! 2. **Match** a [`Request`] (principal, action, resource, [`Context`]) against statements:
//!    case-insensitive action globs, six-field ARN globs, principals, every condition
//!    operator family with `IfExists`, `ForAllValues:`/`ForAnyValue:`, and policy variables.
//! 3. **Decide** ([`authorize`], traced: [`simulate`]) over a [`PolicySet`] — identity
//!    policies, session policies, permissions boundary, resource policy — with AWS's order:
//!    explicit deny wins; KMS key policies and trust policies are mandatory; root is allowed
//!    unless a resource policy denies; a resource policy naming the caller allows by itself,
//!    one naming the account delegates to identity policies; otherwise identity policies
//!    (within boundary and session policies) allow; otherwise implicit deny.
//!    `sts:GetCallerIdentity` is never denied.
//! 4. **Explain** a denial with AWS's AccessDenied message ([`access_denied_message`],
//!    [`DeniedMessage`]).
//! 5. **Ship** the AWS managed policies as data ([`managed`]).
//!
//! # Performance
//!
//! Patterns are compiled at parse time (action patterns lower-cased, ARN patterns split into
//! fields, condition values decoded); [`authorize`] allocates nothing unless a pattern uses a
//! policy variable or an explicit deny is reported. See [`bench`].

mod arn;
mod ast;
pub mod bench;
mod conditions;
mod context;
mod decision;
mod error;
mod glob;
pub mod limits;
pub mod managed;
mod matching;
mod message;
mod parse;
mod positions;
mod principal;
mod variables;

pub use ast::{Document, Effect, PolicyKind, Statement, Version};
pub use conditions::context_value_fits;
pub use context::Context;
pub use decision::{
    Decision, MatchedStatement, PolicySet, PolicySource, PolicyType, Simulation, Slot,
    SourcedPolicy, authorize, simulate,
};
pub use error::{Malformed, Reason};
pub use limits::non_whitespace_len;
pub use matching::{PolicyEffect, Request};
pub use message::{DeniedMessage, ResourceStyle, access_denied_message};
pub use parse::is_partition;
pub use positions::Position;
pub use principal::Principal;
