//! Appending the canonical event record of a call.

use cairn_model::event::EventRecord;
use cairn_store::events::{self, NewEvent};
use cairn_store::{Connection, StoreResult};

/// Appends `record` with its lookup index entries. `username` is the LookupEvents
/// `Username`; `lookup_resources` are the (type, name) pairs LookupEvents shows.
pub fn append(
    conn: &Connection,
    record: &EventRecord,
    epoch_seconds: i64,
    username: &str,
    lookup_resources: &[(String, String)],
) -> StoreResult<String> {
    let canonical = record.to_canonical_json();
    let access_key_id = record
        .user_identity
        .get("accessKeyId")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    events::append(
        conn,
        &NewEvent {
            event_id: &record.event_id,
            event_time: epoch_seconds,
            account: &record.recipient_account_id,
            region: &record.aws_region,
            category: &record.event_category,
            event_name: &record.event_name,
            event_source: &record.event_source,
            read_only: if record.read_only { "true" } else { "false" },
            username,
            access_key_id,
            resources: lookup_resources,
            record: &canonical,
        },
    )?;
    Ok(canonical)
}
