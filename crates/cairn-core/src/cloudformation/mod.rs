//! CloudFormation: stacks deployed from templates by calling Cairn's own operations.
//!
//! - [`stacks`] and [`changesets`]: the operations that start work, run inside their call's
//!   store transaction (they check the request with [`prepare`], write the stack's new
//!   `_IN_PROGRESS` status and its event);
//! - [`engine`]: carries an operation to its end (dependency order, independent resources
//!   concurrently, rollback, cleanup, resumption after a restart);
//! - [`providers`]: one per resource type, each calling the owning service through
//!   [`services::Services`] as the stack's principal (or its service role);
//! - [`reach`]: the resources a replacement reaches, for change sets;
//! - [`queries`]: the read operations, paged by [`pages`]; [`records`]: the persisted records ([`model`]);
//! - [`stack_policy`]: which updates a stack policy allows;
//! - [`recovery`]: ContinueUpdateRollback, CancelUpdateStack and RollbackStack;
//! - [`notify`]: each stack event published to the stack's `NotificationARNs`.

pub mod changesets;
pub mod engine;
pub mod model;
pub mod notify;
pub mod pages;
pub mod prepare;
pub mod providers;
pub mod queries;
pub mod reach;
pub mod records;
pub mod recovery;
pub mod rollback_triggers;
pub mod services;
pub mod stack_policy;
pub mod stacks;

pub use engine::{Engine, Fault, Hold};
pub use providers::Registry;
pub use services::{BoxFuture, Call, CallError, Caller, Service, Services};
