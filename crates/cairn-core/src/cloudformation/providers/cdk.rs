//! `AWS::CDK::Metadata`, the resource the AWS CDK adds to every stack it synthesizes (unless
//! version reporting is off) to report which construct libraries it used. CloudFormation
//! accepts it and acts on nothing: the resource exists only in the stack, with a UUID as its
//! physical id, and its properties (`Analytics`, or the older `Modules`) are kept as given.

use rand::Rng;
use serde_json::Value;

use super::{Cx, Failure, Made, Provider};
use crate::cloudformation::services::BoxFuture;

/// `AWS::CDK::Metadata`: made, changed and deleted without calling any service.
pub struct Metadata;

/// A random UUID in its canonical text form (AWS names the resource with one).
fn uuid() -> String {
    let b: [u8; 16] = rand::rng().random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

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
        Box::pin(async move { Ok(Made::id(uuid())) })
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

#[cfg(test)]
mod tests {
    use super::uuid;

    #[test]
    fn physical_ids_are_distinct_uuids() {
        let (a, b) = (uuid(), uuid());
        assert_ne!(a, b);
        let parts: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12]);
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
