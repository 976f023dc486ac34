//! Preparing and appending the canonical event record of a call.
//!
//! [`PreparedEvent::new`] serialises the record once, off the writer thread where it can;
//! [`append`] only inserts, so the single writer spends its time on SQLite, not on JSON.

use cairn_model::event::EventRecord;
use cairn_store::events::{self, NewEvent};
use cairn_store::{Connection, StoreResult};

/// A record in its canonical bytes plus the fields the lookup indexes need.
#[derive(Clone, Debug)]
pub struct PreparedEvent {
    /// The canonical record JSON.
    pub canonical: String,
    event_id: String,
    event_time: i64,
    account: String,
    region: String,
    category: String,
    event_name: String,
    event_source: String,
    read_only: bool,
    username: String,
    access_key_id: String,
    lookup_resources: Vec<(String, String)>,
}

impl PreparedEvent {
    /// Serialises `record`. `username` is the LookupEvents `Username`; `lookup_resources`
    /// are the (type, name) pairs LookupEvents shows.
    pub fn new(
        record: &EventRecord,
        epoch_seconds: i64,
        username: &str,
        lookup_resources: Vec<(String, String)>,
    ) -> Self {
        Self {
            canonical: record.to_canonical_json(),
            event_id: record.event_id.clone(),
            event_time: epoch_seconds,
            account: record.recipient_account_id.clone(),
            region: record.aws_region.clone(),
            category: record.event_category.clone(),
            event_name: record.event_name.clone(),
            event_source: record.event_source.clone(),
            read_only: record.read_only,
            username: username.to_owned(),
            access_key_id: record
                .user_identity
                .get("accessKeyId")
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned(),
            lookup_resources,
        }
    }
}

/// Appends a prepared event with its lookup index entries.
pub fn append(conn: &Connection, event: &PreparedEvent) -> StoreResult<i64> {
    events::append(
        conn,
        &NewEvent {
            event_id: &event.event_id,
            event_time: event.event_time,
            account: &event.account,
            region: &event.region,
            category: &event.category,
            event_name: &event.event_name,
            event_source: &event.event_source,
            read_only: if event.read_only { "true" } else { "false" },
            username: &event.username,
            access_key_id: &event.access_key_id,
            resources: &event.lookup_resources,
            record: &event.canonical,
        },
    )
}
