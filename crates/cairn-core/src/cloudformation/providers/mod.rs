//! Resource providers: one per resource type, each turning resolved properties into calls of
//! the owning service (create, update in place, delete), naming what it makes, and stating
//! which properties force a replacement and which `Fn::GetAtt` attributes it returns.
//!
//! [`Registry`] maps type names to providers; a new service adds its providers to
//! [`Registry::standard`]. A property a provider cannot honour fails the resource with a reason that
//! says so; nothing is ignored silently.

mod cdk;
mod cloudtrail;
mod cloudwatch;
mod iam;
mod iam_policies;
mod kms;
mod logs;
mod s3;
pub mod schema;
mod sns;
mod util;

use serde_json::{Map, Value};

use super::services::{BoxFuture, Call, CallError, Caller, Service, Services};

pub use util::{generated_name, new_suffix};

/// What a provider made: the physical id and the `Fn::GetAtt` attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct Made {
    /// `PhysicalResourceId` (what `Ref` returns).
    pub physical_id: String,
    /// Attributes.
    pub attributes: Map<String, Value>,
}

impl Made {
    /// A resource with no attributes.
    pub fn id(physical_id: impl Into<String>) -> Self {
        Self {
            physical_id: physical_id.into(),
            attributes: Map::new(),
        }
    }

    /// Adds an attribute.
    pub fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.attributes.insert(name.to_owned(), value.into());
        self
    }
}

/// Why a provider operation failed: the `ResourceStatusReason`, the service's error code when
/// a call failed, and the physical id when a create failed after the resource came to exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The reason.
    pub reason: String,
    /// The failed call's error code.
    pub code: Option<String>,
    /// The resource that exists despite the failure (to delete on rollback).
    pub physical_id: Option<String>,
    /// Whether `reason` is a schema violation (`#/Policies: expected type: JSONArray`), which
    /// [`Failure::of_resource`] words as CloudFormation does, with the resource's logical id.
    pub schema: bool,
}

impl Failure {
    /// A failure that is not a call's (a property Cairn cannot honour, a bad value).
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            code: None,
            physical_id: None,
            schema: false,
        }
    }

    /// Properties that break the type's schema: `message` is the violation as the schema
    /// validator words it (`#: required key [IsLogging] not found`).
    pub fn schema(message: impl Into<String>) -> Self {
        Self {
            schema: true,
            ..Self::new(message)
        }
    }

    /// The failure as the resource `logical_id`'s status reason: a schema violation reads
    /// `Properties validation failed for resource <LogicalId> with message: #: …`.
    pub fn of_resource(mut self, logical_id: &str) -> Self {
        if self.schema {
            self.reason = format!(
                "Properties validation failed for resource {logical_id} with message: {}",
                self.reason
            );
            self.schema = false;
        }
        self
    }

    /// A create that found its physical resource already there (made outside the stack, or by
    /// another resource): CloudFormation's `AlreadyExists` handler error. The existing
    /// resource is not the stack's, so nothing is noted to delete on rollback.
    pub fn already_exists(resource_type: &str, identifier: &str) -> Self {
        Self::exists(format!(
            "Resource of type '{resource_type}' with identifier '{identifier}' already exists."
        ))
    }

    /// An `AlreadyExists` failure with the reason a resource type words it in.
    pub fn exists(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            code: Some("AlreadyExists".to_owned()),
            physical_id: None,
            schema: false,
        }
    }

    /// Notes that the resource exists despite the failure.
    pub fn made(mut self, physical_id: &str) -> Self {
        self.physical_id = Some(physical_id.to_owned());
        self
    }

    /// Whether the failed call found nothing to act on (a delete of something already gone).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "NoSuchBucket"
                    | "NoSuchEntity"
                    | "NotFound"
                    | "TrailNotFoundException"
                    | "NoSuchBucketPolicy"
                    | "NoSuchLifecycleConfiguration"
                    | "ResourceNotFoundException"
                    | "ResourceNotFound"
                    | "NotFoundException"
            )
        )
    }
}

/// The IAM capability a resource needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Capability {
    /// `CAPABILITY_IAM`.
    Iam,
    /// `CAPABILITY_NAMED_IAM` (an IAM resource with a custom name).
    NamedIam,
}

/// Everything a provider operation knows about where it runs.
pub struct Cx<'a> {
    /// The services.
    pub services: &'a dyn Services,
    /// Whom the calls act as.
    pub caller: &'a Caller,
    /// The account.
    pub account: &'a str,
    /// `AWS::StackName`.
    pub stack_name: &'a str,
    /// `AWS::StackId`.
    pub stack_id: &'a str,
    /// The resource's logical id.
    pub logical_id: &'a str,
    /// The random suffix of generated names for this attempt.
    pub suffix: &'a str,
    /// Stack tags to propagate.
    pub stack_tags: &'a [(String, String)],
    /// The stack tags the resource's current (old) properties were applied under: the
    /// stack's tags before an update that changes them (an update compares the tags a
    /// resource has with the ones it is to have through them), else `stack_tags`.
    pub old_stack_tags: &'a [(String, String)],
}

impl Cx<'_> {
    /// Calls a service; a failure carries CloudFormation's status reason.
    pub async fn call(
        &self,
        service: Service,
        action: &'static str,
        input: Value,
    ) -> Result<Value, Failure> {
        self.services
            .call(
                self.caller,
                Call {
                    service,
                    action,
                    input,
                },
            )
            .await
            .map_err(|e: CallError| Failure {
                reason: e.reason(service),
                code: Some(e.code),
                physical_id: None,
                schema: false,
            })
    }

    /// Runs a read call that looks a resource up: `Some` with its output when it is there,
    /// `None` when the service answers that it is not.
    pub async fn find(
        &self,
        service: Service,
        action: &'static str,
        input: Value,
    ) -> Result<Option<Value>, Failure> {
        match self.call(service, action, input).await {
            Ok(v) => Ok(Some(v)),
            Err(f) if f.is_not_found() => Ok(None),
            Err(f) => Err(f),
        }
    }

    /// The region.
    pub fn region(&self) -> &str {
        self.caller.region.as_str()
    }

    /// A name as CloudFormation generates it: `<stack>-<logicalid>-<suffix>`, shortened to
    /// `max` characters, lower case when `lower`.
    pub fn generated_name(&self, max: usize, lower: bool) -> String {
        generated_name(self.stack_name, self.logical_id, self.suffix, max, lower)
    }
}

/// A resource type.
pub trait Provider: Send + Sync {
    /// `AWS::Service::Type`.
    fn resource_type(&self) -> &'static str;
    /// `Fn::GetAtt` attributes.
    fn attributes(&self) -> &'static [&'static str];
    /// Properties whose change replaces the resource (every other change is applied in place
    /// without interruption).
    fn replaces(&self) -> &'static [&'static str];
    /// Properties that can never change on an existing resource: an update changing one
    /// fails, whatever the `UpdateReplacePolicy`, rather than replacing (and deleting) it.
    fn immutable(&self) -> &'static [&'static str] {
        &[]
    }
    /// Properties with the value they have when left out (`MultiRegion: false`): writing the
    /// default out, or leaving it out again, is no change.
    fn defaults(&self) -> &'static [(&'static str, &'static str)] {
        &[]
    }
    /// The property that gives the resource a custom name, if the type has one.
    fn name_property(&self) -> Option<&'static str> {
        None
    }
    /// The properties the type's schema requires at the top level. Checked on every update
    /// too (create checks them itself): cfn12, an update that dropped a trail's `IsLogging`
    /// stopped the trail, and one that dropped its `S3BucketName` was taken.
    fn required(&self) -> &'static [&'static str] {
        &[]
    }
    /// Whether the resource carries the stack's tags (so a change of the stack's tags alone
    /// updates it, as CloudFormation propagates stack tags to every resource that takes tags).
    fn takes_stack_tags(&self) -> bool {
        false
    }
    /// The IAM capability the resource needs.
    fn capability(&self, _props: &Value) -> Option<Capability> {
        None
    }
    /// The physical id a create will give the resource, when it follows from its name.
    fn intended_id(&self, _cx: &Cx<'_>, _props: &Value) -> Option<String> {
        None
    }
    /// Creates the resource.
    fn create<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        props: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>>;
    /// Applies a change that needs no replacement.
    fn update<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        old: &'a Value,
        new: &'a Value,
    ) -> BoxFuture<'a, Result<Made, Failure>>;
    /// Deletes the resource.
    fn delete<'a>(
        &'a self,
        cx: &'a Cx<'a>,
        current: &'a Made,
        props: &'a Value,
    ) -> BoxFuture<'a, Result<(), Failure>>;
}

/// The resource types Cairn can deploy.
pub struct Registry {
    providers: Vec<Box<dyn Provider>>,
}

impl Registry {
    /// Every provider this build has.
    pub fn standard() -> Self {
        let providers: Vec<Box<dyn Provider>> = vec![
            Box::new(s3::Bucket),
            Box::new(s3::BucketPolicy),
            Box::new(cloudtrail::Trail),
            Box::new(sns::Topic),
            Box::new(sns::TopicPolicy),
            Box::new(sns::Subscription),
            Box::new(iam::Role),
            Box::new(iam::User),
            Box::new(iam::Group),
            Box::new(iam::AccessKey),
            Box::new(iam_policies::Policy),
            Box::new(iam_policies::ManagedPolicy),
            Box::new(kms::Key),
            Box::new(kms::Alias),
            Box::new(logs::LogGroup),
            Box::new(logs::MetricFilter),
            Box::new(cloudwatch::Alarm),
            Box::new(cdk::Metadata),
        ];
        Self { providers }
    }

    /// The provider of a type.
    pub fn get(&self, resource_type: &str) -> Option<&dyn Provider> {
        self.providers
            .iter()
            .find(|p| p.resource_type() == resource_type)
            .map(|p| p.as_ref())
    }

    /// Which properties differ between two property sets, and whether any forces a
    /// replacement.
    pub fn diff(
        &self,
        resource_type: &str,
        old: &Value,
        new: &Value,
    ) -> (Vec<(String, bool)>, bool) {
        let provider = self.get(resource_type);
        let replaces = provider.map(|p| p.replaces()).unwrap_or(&[]);
        let defaults = provider.map(|p| p.defaults()).unwrap_or(&[]);
        // A value as compared: a left-out property with a default is that default, and a
        // scalar is its text (`false` and `"false"` alike, as YAML and JSON write them).
        let value = |m: &Map<String, Value>, k: &str| -> Option<Value> {
            let v = m.get(k).cloned().or_else(|| {
                defaults
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, d)| Value::String((*d).to_owned()))
            })?;
            Some(match v {
                Value::Bool(b) => Value::String(b.to_string()),
                Value::Number(n) => Value::String(n.to_string()),
                other => other,
            })
        };
        let empty = Map::new();
        let (o, n) = (
            old.as_object().unwrap_or(&empty),
            new.as_object().unwrap_or(&empty),
        );
        let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
        keys.sort();
        keys.dedup();
        let mut changed = Vec::new();
        let mut replace = false;
        for k in keys {
            if value(o, k) != value(n, k) {
                let r = replaces.contains(&k.as_str());
                replace |= r;
                changed.push((k.clone(), r));
            }
        }
        (changed, replace)
    }
}

impl cairn_template::Catalog for Registry {
    fn knows(&self, resource_type: &str) -> bool {
        self.get(resource_type).is_some()
    }

    fn has_attribute(&self, resource_type: &str, attribute: &str) -> bool {
        self.get(resource_type)
            .is_some_and(|p| p.attributes().contains(&attribute))
    }
}
