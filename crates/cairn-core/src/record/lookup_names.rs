//! The resources LookupEvents shows for calls whose records carry no `resources` (IAM and
//! SNS management calls): CloudTrail derives them from the call's parameters, so a
//! `ResourceName` lookup for a user, role or topic finds its CreateUser or CreateTopic.
//! The derivation is [`cairn_model::lookup_names`], shared with the store's migrations.

pub use cairn_model::lookup_names::derived;
