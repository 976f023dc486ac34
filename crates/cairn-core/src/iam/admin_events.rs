//! Events for the IAM changes `cairn iam` makes directly on a data dir. No API call is behind
//! them, but an audit trail must still show who changed identities: each change is recorded
//! in its own transaction as the IAM event the API would have written, by `cairn-admin` (an
//! `AWSService` identity, as `cairn kms reset-key-policy` records its `PutKeyPolicy`), with
//! the admin command in `additionalEventData`. IAM is global, so the events are us-east-1's.

use cairn_model::event::{EVENT_VERSION, EventRecord, format_event_time};
use cairn_store::{Connection, StoreResult};
use serde_json::{Value, json};

use crate::record::lookup_names::derived;
use crate::record::{PreparedEvent, append, new_uuid};

/// The identity, address and agent of admin commands.
const ADMIN: &str = "cairn-admin";

/// One admin change to record.
pub struct AdminChange<'a> {
    /// The account whose IAM changed.
    pub account: &'a str,
    /// Epoch seconds.
    pub now: f64,
    /// The IAM API action the change equals (`CreateUser`, `UpdateAccessKey`, …).
    pub event_name: &'a str,
    /// The action's request in CloudTrail's lower-camel form.
    pub request_parameters: Value,
    /// The command line's words after `cairn`, for `additionalEventData`.
    pub command: &'a str,
}

/// Records `change` as a management event of `iam.amazonaws.com`.
pub fn record(conn: &Connection, change: AdminChange<'_>) -> StoreResult<()> {
    let secs = change.now.floor() as i64;
    let record = EventRecord {
        event_version: EVENT_VERSION.to_owned(),
        user_identity: json!({"type": "AWSService", "invokedBy": ADMIN}),
        event_time: format_event_time(secs),
        event_source: "iam.amazonaws.com".to_owned(),
        event_name: change.event_name.to_owned(),
        aws_region: "us-east-1".to_owned(),
        source_ip_address: ADMIN.to_owned(),
        user_agent: ADMIN.to_owned(),
        error_code: None,
        error_message: None,
        request_parameters: change.request_parameters,
        response_elements: Value::Null,
        additional_event_data: Some(json!({"cairnAdminCommand": change.command})),
        request_id: new_uuid(),
        event_id: new_uuid(),
        read_only: false,
        resources: Vec::new(),
        event_type: "AwsApiCall".to_owned(),
        management_event: true,
        recipient_account_id: change.account.to_owned(),
        event_category: "Management".to_owned(),
    };
    // Found by the names its request gives, as an API call's event is (verify-store checks).
    let lookup = derived(
        &record.event_source,
        &record.request_parameters,
        &record.response_elements,
    );
    append(conn, &PreparedEvent::new(&record, secs, ADMIN, lookup))?;
    Ok(())
}
