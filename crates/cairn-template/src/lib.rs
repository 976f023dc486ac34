//! CloudFormation templates, pure: no IO, no clock, no store.
//!
//! 1. [`parse`] a body (JSON, or YAML with the short-form tags `!Ref`, `!GetAtt`, `!Sub`, …)
//!    into one long-form JSON model;
//! 2. [`Template`] checks its sections' shape (`Parameters`, `Mappings`, `Conditions`,
//!    `Resources`, `Outputs`) with CloudFormation's `Template format error: …` messages;
//! 3. [`validate`] checks what refers to what (unresolved `Ref`s, `Fn::GetAtt` on unknown
//!    resources or attributes, unknown conditions and functions, unknown resource types,
//!    circular dependencies) against a [`Catalog`] of resource types;
//! 4. [`params::resolve`] gives parameters their values; [`Evaluator`] evaluates the
//!    conditions, orders the active resources by their dependencies ([`graph`]) and resolves
//!    intrinsic functions against what a deployment has made so far ([`Lookup`]).

mod error;
mod eval;
mod functions;
pub mod graph;
mod model;
pub mod params;
mod parse;
mod refs;
pub mod rules;

pub use error::{TemplateError, TemplateResult};
pub use eval::{Evaluator, Lookup, NoResources, Pseudo};
pub use model::{MAX_RESOURCES, Output, Policy, Resource, Template};
pub use params::{Given, ParamType, Parameter};
pub use parse::{MAX_BODY_BYTES, is_json, parse_body};
pub use refs::{Catalog, validate};

/// Whether two template bodies say the same apart from their `Description`, which
/// CloudFormation does not update by itself ("You can't update the Description section by
/// itself": such an update has nothing to perform).
pub fn same_but_description(a: &str, b: &str) -> bool {
    let strip = |body: &str| {
        parse_body(body).ok().map(|mut v| {
            if let Some(m) = v.as_object_mut() {
                m.remove("Description");
            }
            v
        })
    };
    a == b || strip(a).is_some_and(|x| Some(x) == strip(b))
}

/// Parses and shape-checks a template body.
pub fn parse(body: &str) -> TemplateResult<Template> {
    Template::parse(body)
}
