//! Cairn's domain vocabulary.
//!
//! Everything here is pure: no IO, no clocks, no HTTP. Values are parsed once at the
//! edge ("parse, don't validate") and then travel through the core as typed values.
//! The one serialised type is [`event::EventRecord`]: the canonical CloudTrail record is a
//! persisted, delivered format, so its JSON shape is part of the domain.

pub mod budget;
pub mod event;
pub mod identity;
pub mod ids;
pub mod insight;
pub mod lookup_names;
pub mod trail;

pub use identity::{FederationKind, Principal};
pub use ids::{AccountId, KNOWN_REGIONS, Region};
