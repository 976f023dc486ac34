//! Preparing and appending the canonical event record of a call.
//!
//! [`PreparedEvent::new`] serialises the record once (bounded as AWS bounds it) and hashes it
//! for the event chain, off the writer thread where it can; [`append`] only decides and
//! inserts, so the single writer spends its time on SQLite, not on JSON.
//!
//! Management events are always recorded (they are event history). A data event is
//! recorded only when a logging trail selects it at that moment, as on AWS: calls nothing
//! selects pay no durable write. The decision reads a cached summary of the logging trails
//! ([`selection`]) that is rebuilt whenever the trails generation in the store changes, and
//! it is made inside the appending transaction, so a selector change that committed (or
//! committed earlier in the same group commit) is always seen.

pub mod index_check;
pub mod lookup_names;
mod selection;

use cairn_model::event::EventRecord;
use cairn_store::events::{self, NewEvent, chain::record_hash};
use cairn_store::{Connection, StoreResult};
use serde_json::Value;

use crate::routing;

/// A record in its canonical bytes plus the fields the lookup indexes need.
#[derive(Clone, Debug)]
pub struct PreparedEvent {
    /// The canonical record JSON, final: it is what [`Self::record_hash`] covers.
    canonical: String,
    record_hash: [u8; 32],
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
    /// For data events: the record fields trail selectors read.
    routing_view: Option<Value>,
    /// A successful KMS cryptographic operation: the keys it used and its request id
    /// (GetKeyLastUsage, noted as the event is recorded).
    key_use: Option<(Vec<String>, String)>,
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
        Self::with_canonical(
            record,
            record.to_canonical_json(),
            epoch_seconds,
            username,
            lookup_resources,
        )
    }

    /// Like [`Self::new`], with the record's stored JSON given: `canonical` is `record`'s
    /// canonical JSON with whatever the caller had to change in it (a member AWS adds or
    /// leaves out). It is hashed for the event chain here and cannot change afterwards, so
    /// the stored record is always the one the chain covers. Lookup resources the stored
    /// record does not mention (a name in a member over AWS's 100 KB bound, left out of the
    /// record as `"omitted": true`) are dropped, so the index derives from the record alone.
    pub fn with_canonical(
        record: &EventRecord,
        canonical: String,
        epoch_seconds: i64,
        username: &str,
        mut lookup_resources: Vec<(String, String)>,
    ) -> Self {
        // The index must follow from the record as stored (`cairn verify-store` judges it so):
        // a name that was only in a member the size bounds omitted is not indexed.
        lookup_resources.retain(|(_, name)| index_check::mentions(&canonical, name));
        Self {
            record_hash: record_hash(&canonical),
            canonical,
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
            routing_view: (record.event_category != "Management")
                .then(|| routing::routing_view(record)),
            key_use: crate::kms::last_usage::keys_used(record),
        }
    }

    /// Marks an event made with console session credentials: its record ends with
    /// `sessionCredentialFromConsole: "true"`, which advanced selectors can select on.
    pub fn from_console(mut self) -> Self {
        if let Some(view) = &mut self.routing_view {
            routing::mark_console(view);
        }
        self
    }

    /// The canonical record JSON, as it is stored and chained.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    /// Whether this is a data (not management) event.
    pub fn is_data(&self) -> bool {
        self.routing_view.is_some()
    }
}

/// Whether [`append`] records this event: management events always; data events when a
/// logging trail selects them, judged on the state `conn` sees. (A reader's pre-check, before
/// anything is serialised, is [`is_selected`]: exact for any change that committed before the
/// reader's transaction began.)
pub fn is_recorded(conn: &Connection, event: &PreparedEvent) -> StoreResult<bool> {
    match &event.routing_view {
        None => Ok(true),
        Some(view) => selection::selected(conn, view),
    }
}

/// [`is_recorded`] for a record not serialised yet, so a reader spends nothing on the JSON
/// and chain hash of a data event no logging trail selects.
/// `console`: the call used console session credentials.
pub fn is_selected(conn: &Connection, record: &EventRecord, console: bool) -> StoreResult<bool> {
    if record.event_category == "Management" {
        return Ok(true);
    }
    selection::selected_lazily(conn, || {
        let mut view = routing::routing_view(record);
        if console {
            routing::mark_console(&mut view);
        }
        view
    })
}

/// Appends a prepared event with its lookup index entries and chain value, if it is
/// recorded at all ([`is_recorded`]). Returns its seq, or `None` for a data event no
/// logging trail selects.
pub fn append(conn: &Connection, event: &PreparedEvent) -> StoreResult<Option<i64>> {
    if !is_recorded(conn, event)? {
        return Ok(None);
    }
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
            record_hash: event.record_hash,
        },
    )
    .and_then(|seq| {
        if let Some((keys, request_id)) = &event.key_use {
            let usage = cairn_store::kms::usage::KeyUsage {
                operation: event.event_name.clone(),
                event_time: event.event_time,
                event_id: event.event_id.clone(),
                request_id: request_id.clone(),
            };
            for key in keys {
                cairn_store::kms::usage::note(conn, key, &usage)?;
            }
        }
        Ok(Some(seq))
    })
}

/// A random UUID v4 for the request and event ids of events Cairn makes itself.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(request: Value) -> EventRecord {
        EventRecord {
            event_version: "1.11".to_owned(),
            user_identity: json!({"type": "Root"}),
            event_time: "2024-01-01T00:00:00Z".to_owned(),
            event_source: "iam.amazonaws.com".to_owned(),
            event_name: "GetGroup".to_owned(),
            aws_region: "us-east-1".to_owned(),
            source_ip_address: "127.0.0.1".to_owned(),
            user_agent: "t".to_owned(),
            error_code: None,
            error_message: None,
            request_parameters: request,
            response_elements: Value::Null,
            additional_event_data: None,
            request_id: "r".to_owned(),
            event_id: "e".to_owned(),
            read_only: true,
            resources: Vec::new(),
            event_type: "AwsApiCall".to_owned(),
            management_event: true,
            recipient_account_id: "123456789012".to_owned(),
            event_category: "Management".to_owned(),
        }
    }

    #[test]
    fn names_the_size_bounds_left_out_are_not_indexed() {
        let long = "b".repeat(200_000);
        let r = record(json!({"groupName": long, "userName": "bob"}));
        let lookup =
            lookup_names::derived("iam.amazonaws.com", &r.request_parameters, &Value::Null);
        assert_eq!(lookup.len(), 2);
        let event = PreparedEvent::new(&r, 0, "root", lookup);
        let stored: Value = serde_json::from_str(event.canonical()).unwrap();
        assert_eq!(stored["requestParameters"]["omitted"], true);
        assert_eq!(
            event.lookup_resources,
            [("AWS::IAM::User".to_owned(), "bob".to_owned())]
        );
        assert!(index_check::disagreements(&stored, "root", &event.lookup_resources).is_empty());
        let small = record(json!({"groupName": "admins"}));
        let lookup =
            lookup_names::derived("iam.amazonaws.com", &small.request_parameters, &Value::Null);
        assert_eq!(
            PreparedEvent::new(&small, 0, "root", lookup.clone()).lookup_resources,
            lookup
        );
    }
}
