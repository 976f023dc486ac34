//! Trail delivery.
//!
//! [`Delivery::run_once`] is one step of the worker: plan log files for every logging trail
//! (routing new events, advancing each trail's cursor in the same transaction), write the
//! planned files (idempotently: same key, same bytes), then write the digests that are due.
//! The server calls it every delivery interval; `cairn flush` calls it on demand.

mod keys;
mod worker;

pub use keys::KeyRing;
pub use worker::{Delivery, Outcome};

/// Delivery failures (all retried on the next step).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] cairn_store::StoreError),
    /// A file could not be written.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// An external bucket refused.
    #[error("external bucket: {0}")]
    External(#[from] cairn_buckets::ExternalError),
    /// Signing failed.
    #[error("signing: {0}")]
    Signing(String),
}
