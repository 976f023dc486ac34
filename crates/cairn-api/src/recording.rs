//! Building the canonical CloudTrail record of a call the edge answered.

use cairn_core::CallContext;
use cairn_core::record::{PreparedEvent, append};
use cairn_model::event::{EVENT_VERSION, EventRecord, EventResource, format_event_time};
use serde_json::Value;

/// Connection-level facts about a call.
#[derive(Clone, Debug)]
pub struct CallInfo {
    /// Who, where, when.
    pub ctx: CallContext,
    /// `x-amzn-RequestId` / `x-amz-request-id`.
    pub request_id: String,
    /// Peer address.
    pub source_ip: String,
    /// `User-Agent`, as received.
    pub user_agent: String,
}

impl CallInfo {
    /// The call facts of an authenticated request received at `now`.
    pub fn new(
        authed: crate::auth::Authenticated,
        req: &crate::server::Received,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Self {
        Self {
            ctx: CallContext {
                principal: authed.principal,
                region: authed.region,
                now: now.timestamp_millis() as f64 / 1000.0,
            },
            request_id: req.request_id.clone(),
            source_ip: req.source_ip.clone(),
            user_agent: req.header("user-agent").unwrap_or("").to_owned(),
        }
    }
}

/// What a call did, in record terms.
pub struct Outcome {
    /// `eventSource`.
    pub event_source: &'static str,
    /// `eventName`.
    pub event_name: String,
    /// `readOnly`.
    pub read_only: bool,
    /// Management or data.
    pub management: bool,
    /// Lower-camel request, or null.
    pub request_parameters: Value,
    /// Lower-camel response, or null.
    pub response_elements: Value,
    /// (code, message) when the call failed.
    pub error: Option<(String, String)>,
    /// Resources with the name LookupEvents shows for each.
    pub resources: Vec<(EventResource, String)>,
    /// `additionalEventData`.
    pub additional_event_data: Option<Value>,
}

/// AWS truncates `userAgent` to 1 KB.
fn truncate_user_agent(ua: &str) -> String {
    if ua.len() <= 1024 {
        return ua.to_owned();
    }
    let mut end = 1024;
    while !ua.is_char_boundary(end) {
        end -= 1;
    }
    ua[..end].to_owned()
}

/// Builds the record and serialises it with its lookup index fields.
pub fn prepare(info: &CallInfo, outcome: Outcome) -> PreparedEvent {
    let lookup: Vec<(String, String)> = outcome
        .resources
        .iter()
        .map(|(r, name)| (r.resource_type.clone(), name.clone()))
        .collect();
    let (error_code, error_message) = match outcome.error {
        Some((c, m)) => (Some(c), Some(m)),
        None => (None, None),
    };
    let record = EventRecord {
        event_version: EVENT_VERSION.to_owned(),
        user_identity: info.ctx.principal.user_identity(),
        event_time: format_event_time(info.ctx.now_secs()),
        event_source: outcome.event_source.to_owned(),
        event_name: outcome.event_name,
        aws_region: info.ctx.region.to_string(),
        source_ip_address: info.source_ip.clone(),
        user_agent: truncate_user_agent(&info.user_agent),
        error_code,
        error_message,
        request_parameters: outcome.request_parameters,
        response_elements: outcome.response_elements,
        additional_event_data: outcome.additional_event_data,
        request_id: info.request_id.clone(),
        event_id: uuid::Uuid::new_v4().to_string(),
        read_only: outcome.read_only,
        resources: outcome.resources.into_iter().map(|(r, _)| r).collect(),
        event_type: "AwsApiCall".to_owned(),
        management_event: outcome.management,
        recipient_account_id: info.ctx.account().to_string(),
        event_category: if outcome.management {
            "Management"
        } else {
            "Data"
        }
        .to_owned(),
    };
    PreparedEvent::new(
        &record,
        info.ctx.now_secs(),
        info.ctx.principal.lookup_username(),
        lookup,
    )
}

/// Runs an operation and records it, durably, before the caller answers.
///
/// Mutating operations run on the writer inside one savepoint with their event, so both
/// commit or neither does. Read-only operations run on a reader, then append their event.
/// `Err(())` means the event could not be made durable: the caller must answer 500.
pub async fn execute<T, Op, Describe>(
    store: &cairn_store::Store,
    info: CallInfo,
    read_only: bool,
    op: Op,
    describe: Describe,
) -> Result<cairn_core::error::ApiResult<T>, ()>
where
    T: Send + 'static,
    Op: FnOnce(&cairn_store::Connection) -> cairn_core::error::ApiResult<T> + Send + 'static,
    Describe: FnOnce(&cairn_core::error::ApiResult<T>) -> Outcome + Send + 'static,
{
    if read_only {
        let result = store.read(move |conn| Ok(op(conn))).await.map_err(|_| ())?;
        let event = prepare(&info, describe(&result));
        match store.write(move |conn| append(conn, &event)).await {
            Ok(Ok(_)) => Ok(result),
            _ => Err(()),
        }
    } else {
        let job = store
            .write(move |conn| {
                cairn_store::with_savepoint(conn, |c| {
                    let result = cairn_store::with_savepoint(c, op);
                    append(c, &prepare(&info, describe(&result)))?;
                    Ok::<_, cairn_store::StoreError>(result)
                })
            })
            .await;
        match job {
            Ok(Ok(result)) => Ok(result),
            _ => Err(()),
        }
    }
}
