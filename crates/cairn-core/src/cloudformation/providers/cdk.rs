//! `AWS::CDK::Metadata`, the resource the AWS CDK adds to every stack it synthesizes (unless
//! version reporting is off) to report which construct libraries it used. CloudFormation
//! accepts it and acts on nothing: the resource exists only in the stack, with a UUID as its
//! physical id, and its properties (`Analytics`, or the older `Modules`) are kept as given.

use serde_json::Value;

use super::{Cx, Failure, Made, Provider};
use crate::cloudformation::services::BoxFuture;

/// `AWS::CDK::Metadata`: made, changed and deleted without calling any service.
pub struct Metadata;

impl Provider for Metadata {
    fn resource_type(&self) -> &'static str {
        "AWS::CDK::Metadata"
    }

    fn attributes(&self) -> &'static [&'static str] {
        &[]
    }

    fn replaces(&self) -> &'static [&'static str] {
        &[]
    }

    fn create<'a>(
        &'a self,
        _cx: &'a Cx<'a>,
        _props: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move { Ok(Made::id(crate::record::new_uuid())) })
    }

    fn update<'a>(
        &'a self,
        _cx: &'a Cx<'a>,
        current: &'a Made,
        _old: &'a Value,
        _new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>> {
        Box::pin(async move { Ok(current.clone()) })
    }

    fn delete<'a>(
        &'a self,
        _cx: &'a Cx<'a>,
        _current: &'a Made,
        _props: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>> {
        Box::pin(async move { Ok(()) })
    }
}
