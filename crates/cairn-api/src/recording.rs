//! The one choke point every operation of every service passes ([`Gate::execute`]): it
//! authorizes the call, runs it and records its canonical CloudTrail event, durably, before the
//! caller answers. Also builds that record.

use std::sync::Arc;

use cairn_core::authz::{Evaluator, ForwardAccess, Permission, authorize_all};
use cairn_core::error::ApiResult;
use cairn_core::record::{PreparedEvent, append, is_selected};
use cairn_core::{CallContext, authz::PolicyEvaluator};
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
    /// The service that made the call for the principal (`invokedBy` in the record), e.g.
    /// `cloudformation.amazonaws.com` for the calls a stack makes. Unless the principal is
    /// a service principal, such a call is a forward access request and is authorized with
    /// its keys (`aws:CalledVia`, `aws:ViaAWSService`, …; [`Gate::evaluator_for`]).
    pub invoked_by: Option<String>,
    /// Set when the web console makes the call for its signed-in user.
    pub console: Option<ConsoleMarks>,
    /// How an S3 request was signed, as S3's records say it; `None` elsewhere (and for
    /// calls made inside the server, recorded as SigV4 with an `Authorization` header).
    pub signing: Option<Signing>,
    /// S3's bucket owner conditions the request carries, checked once the call is
    /// authorized and before it acts (empty elsewhere).
    pub owner_conditions: Vec<cairn_core::buckets::OwnerCondition>,
    /// When the call arrived (`ctx.now`), on the monotonic clock: the record's `eventTime`
    /// is `ctx.now` plus the whole seconds since, when the call completed, as CloudTrail's is.
    pub started: std::time::Instant,
}

/// An S3 request's `SignatureVersion` (`SigV2`, `SigV4`) and `AuthenticationMethod`
/// (`AuthHeader`, `QueryString`, `HtmlForm` for a browser POST), in `additionalEventData`,
/// and a presigned URL's parameters its record shows: how AWS's guides find SigV2,
/// presigned-URL and form use in a trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signing {
    /// `SignatureVersion`.
    pub version: &'static str,
    /// `AuthenticationMethod`.
    pub method: &'static str,
    /// A SigV4 presigned URL's `X-Amz-Algorithm`, `X-Amz-Date`, `X-Amz-Expires` and
    /// `X-Amz-SignedHeaders`, in `requestParameters` (the AWS prescriptive guidance on
    /// presigned URLs finds them by `requestParameters['X-Amz-Expires']`).
    pub presigned: Vec<(String, String)>,
    /// Request headers S3 records in `requestParameters` as sent, whatever the call's fate:
    /// SSE-C's algorithm and key MD5, for the object and a copy's source (never the key).
    pub recorded_headers: Vec<(String, String)>,
    /// When a SigV4 request says it was signed (`X-Amz-Date`, header or query), epoch ms:
    /// S3's `s3:signatureAge` is the time since.
    pub signed_at_ms: Option<i64>,
}

/// What a record of a call made by the web console carries besides the call itself: AWS's
/// `sessionCredentialFromConsole` and the console session's `sessionContext`.
#[derive(Clone, Debug)]
pub struct ConsoleMarks {
    /// When the user signed in, epoch seconds.
    pub signed_in: i64,
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
                origin: cairn_core::context::Origin {
                    source_ip: req.source_ip.clone(),
                    user_agent: req.header("user-agent").unwrap_or("").to_owned(),
                    secure_transport: req.secure_transport,
                    sigv2: false,
                    console: false,
                },
            },
            request_id: req.request_id.clone(),
            source_ip: req.source_ip.clone(),
            user_agent: req.header("user-agent").unwrap_or("").to_owned(),
            console: None,
            invoked_by: None,
            signing: None,
            owner_conditions: Vec::new(),
            started: std::time::Instant::now(),
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
pub fn prepare(conn: &cairn_store::Connection, info: &CallInfo, outcome: Outcome) -> PreparedEvent {
    let (record, lookup) = draft(conn, info, outcome);
    serialise(info, &record, lookup)
}

/// The record of a call and the (type, name) pairs LookupEvents shows, not yet serialised.
fn draft(
    conn: &cairn_store::Connection,
    info: &CallInfo,
    outcome: Outcome,
) -> (EventRecord, Vec<(String, String)>) {
    let mut lookup: Vec<(String, String)> = outcome
        .resources
        .iter()
        .map(|(r, name)| (r.resource_type.clone(), name.clone()))
        .collect();
    for pair in cairn_core::record::lookup_names::derived(
        outcome.event_source,
        &outcome.request_parameters,
        &outcome.response_elements,
    ) {
        if !lookup.contains(&pair) {
            lookup.push(pair);
        }
    }
    let (error_code, error_message) = match outcome.error {
        // AWS leaves out the message of an error that has none (KMS's InvalidCiphertext).
        Some((c, m)) => (Some(c), (!m.is_empty()).then_some(m)),
        None => (None, None),
    };
    let mut user_identity = info.ctx.principal.user_identity();
    // The root user's `userName` is the account's alias, when it has one (the CloudTrail
    // User Guide, userIdentity `type` Root).
    if let (cairn_model::Principal::Root { account, .. }, Some(identity)) =
        (&info.ctx.principal, user_identity.as_object_mut())
        && let Ok(Some(alias)) = cairn_store::iam::account::account_alias(conn, account.as_str())
    {
        let at = identity
            .keys()
            .position(|k| k == "accessKeyId")
            .map_or(identity.len(), |i| i + 1);
        identity.shift_insert(at, "userName".to_owned(), Value::String(alias));
    }
    if let (Some(by), Some(identity)) = (&info.invoked_by, user_identity.as_object_mut()) {
        identity.insert("invokedBy".to_owned(), Value::String(by.clone()));
    }
    if let (Some(marks), Some(identity)) = (&info.console, user_identity.as_object_mut()) {
        identity
            .entry("sessionContext")
            .or_insert_with(|| console_session_context(marks));
    }
    // S3's data events carry no `webIdFederationData` in a session's context (real records
    // of one role session: its ListBuckets has `{}`, its GetObject and ListObjects none).
    if !outcome.management
        && outcome.event_source == "s3.amazonaws.com"
        && let Some(context) = user_identity
            .get_mut("sessionContext")
            .and_then(Value::as_object_mut)
    {
        context.shift_remove("webIdFederationData");
    }
    let record = EventRecord {
        event_version: EVENT_VERSION.to_owned(),
        user_identity,
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
    (record, lookup)
}

/// Serialises a drafted record (and hashes it for the chain).
fn serialise(
    info: &CallInfo,
    record: &EventRecord,
    lookup: Vec<(String, String)>,
) -> PreparedEvent {
    let mut canonical = record.to_canonical_json();
    if info.console.is_some() {
        canonical = with_member(&canonical, "sessionCredentialFromConsole", "true");
    }
    let event = PreparedEvent::with_canonical(
        record,
        canonical,
        info.ctx.now_secs(),
        info.ctx.principal.lookup_username(),
        lookup,
    );
    if info.console.is_some() {
        event.from_console()
    } else {
        event
    }
}

/// `sessionContext` of a console session: the sign-in time, without MFA.
fn console_session_context(marks: &ConsoleMarks) -> Value {
    serde_json::json!({
        "sessionIssuer": {},
        "webIdFederationData": {},
        "attributes": {
            "creationDate": format_event_time(marks.signed_in),
            "mfaAuthenticated": "false",
        }
    })
}

/// The canonical record with one more top-level member at its end, where AWS writes
/// `sessionCredentialFromConsole` (member order is kept).
fn with_member(canonical: &str, name: &str, value: &str) -> String {
    match serde_json::from_str::<Value>(canonical) {
        Ok(Value::Object(mut m)) => {
            m.insert(name.to_owned(), Value::String(value.to_owned()));
            Value::Object(m).to_string()
        }
        _ => canonical.to_owned(),
    }
}

/// Where [`Gate::execute`] runs a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// On the writer, in one savepoint with its event.
    Write,
    /// On a pooled reader in the blocking pool: a read whose work the request does not bound.
    Read,
    /// On a pooled reader, on the request's own worker thread: a read whose work is small
    /// and bounded (a lookup by key and at most 256 KiB of object bytes, as GetObject and
    /// HeadObject), so handing it to another thread would cost more than it does.
    ShortRead,
}

impl From<bool> for Access {
    /// `read_only` → [`Access::Read`], otherwise [`Access::Write`].
    fn from(read_only: bool) -> Self {
        if read_only {
            Access::Read
        } else {
            Access::Write
        }
    }
}

/// The choke point: authorization, the operation and its event, in one store transaction.
#[derive(Clone)]
pub struct Gate {
    store: cairn_store::Store,
    evaluator: Arc<dyn Evaluator>,
    /// Access keys' last use, noted for every call run here.
    key_use: Arc<crate::key_use::KeyUse>,
}

impl Gate {
    /// A gate over `store` deciding with `evaluator`.
    pub fn new(store: cairn_store::Store, evaluator: Arc<dyn Evaluator>) -> Self {
        Self {
            store,
            evaluator,
            key_use: Arc::default(),
        }
    }

    /// Writes the access-key uses noted since the last flush (the server calls it every few
    /// seconds and when it stops).
    pub async fn flush_key_use(&self) {
        self.key_use.flush(&self.store).await;
    }

    /// A gate deciding with IAM's policy evaluator.
    pub fn with_policies(store: cairn_store::Store) -> Self {
        Self::new(store, Arc::new(PolicyEvaluator::new()))
    }

    /// The evaluator, for operations that authorize item by item (DeleteObjects).
    pub fn evaluator(&self) -> Arc<dyn Evaluator> {
        self.evaluator.clone()
    }

    /// The evaluator for `info`'s call: the gate's own, or for a call a service makes for a
    /// principal, one that adds the forward access keys of that service to every permission.
    pub fn evaluator_for(&self, info: &CallInfo) -> Arc<dyn Evaluator> {
        match &info.invoked_by {
            Some(service) => Arc::new(ForwardAccess::new(self.evaluator.clone(), service.clone())),
            None => self.evaluator.clone(),
        }
    }

    /// The store behind the gate.
    pub fn store(&self) -> &cairn_store::Store {
        &self.store
    }

    /// Authorizes, runs and records one call, durably, before the caller answers.
    ///
    /// `permissions` names what the call needs (it may read the store, e.g. to turn a trail
    /// name into its home-region ARN); each is authorized before `op` runs, and a denial ends
    /// the call with `AccessDenied`, changes nothing, and is recorded like any failure.
    /// Mutating operations run on the writer inside one savepoint with their event, so both
    /// commit or neither does. Read-only operations run on a reader, then append their event
    /// (`access` says which, and on which thread: [`Access`]; `true` is [`Access::Read`]).
    /// When the event cannot be made durable the call fails, unrecorded and unacknowledged:
    /// `ServiceUnavailable` (503) when the disk is full or the writer stopped, `Internal` (500)
    /// otherwise; what the operation did is rolled back with its event.
    pub async fn execute<T, Perms, Op, Describe>(
        &self,
        info: CallInfo,
        access: impl Into<Access>,
        permissions: Perms,
        op: Op,
        describe: Describe,
    ) -> ApiResult<T>
    where
        T: Send + 'static,
        Perms: FnOnce(&cairn_store::Connection, &CallContext) -> ApiResult<Vec<Permission>>
            + Send
            + 'static,
        Op: FnOnce(&cairn_store::Connection) -> ApiResult<T> + Send + 'static,
        Describe: FnOnce(&ApiResult<T>) -> Outcome + Send + 'static,
    {
        let evaluator = self.evaluator_for(&info);
        let ctx = info.ctx.clone();
        let owners = info.owner_conditions.clone();
        let guarded = move |conn: &cairn_store::Connection| -> ApiResult<T> {
            let needed = permissions(conn, &ctx)?;
            authorize_all(evaluator.as_ref(), conn, &ctx, &needed)?;
            cairn_core::buckets::check_owners(conn, &owners)?;
            op(conn)
        };
        let access = access.into();
        let key_use = self.key_use.clone();
        // CloudTrail's `eventTime` is when the request completed (upgrade4: a 20-second
        // upload was recorded as of its first byte). Whole seconds are added, so a call that
        // takes less than one keeps its arrival (a driven clock's second stays exact) and a
        // longer one is within a second of its completion.
        let mut info = info;
        let completed = |info: &mut CallInfo| {
            info.ctx.now += info.started.elapsed().as_secs() as f64;
        };
        if access != Access::Write {
            let reading = move |conn: &cairn_store::Connection| {
                let result = guarded(conn);
                completed(&mut info);
                let outcome = describe(&result);
                key_use.note(&info.ctx, outcome.event_source);
                let (record, lookup) = draft(conn, &info, outcome);
                // A data event that no logging trail selects, judged on the snapshot the
                // call itself read, needs no writer (the call happened at that snapshot)
                // and is never serialised. The writer judges again what this lets through.
                let event = is_selected(conn, &record, info.console.is_some())?
                    .then(|| serialise(&info, &record, lookup));
                Ok((result, event))
            };
            let (result, event) = match access {
                Access::ShortRead => self.store.read_blocking(reading)?,
                _ => self.store.read(reading).await?,
            };
            if let Some(event) = event {
                self.store.write(move |conn| append(conn, &event)).await??;
            }
            result
        } else {
            let job = self
                .store
                .write(move |conn| {
                    cairn_store::with_savepoint(conn, |c| {
                        let result = cairn_store::with_savepoint(c, guarded);
                        completed(&mut info);
                        let outcome = describe(&result);
                        key_use.note(&info.ctx, outcome.event_source);
                        append(c, &prepare(c, &info, outcome))?;
                        Ok::<_, cairn_store::StoreError>(result)
                    })
                })
                .await;
            job??
        }
    }

    /// Checks permissions on a reader without running or recording anything: for calls that
    /// must refuse before they accept a body (an upload is authorized before its bytes are
    /// written). A denial must still be recorded by the caller, through [`Gate::execute`].
    pub async fn check(&self, ctx: &CallContext, permissions: Vec<Permission>) -> ApiResult<()> {
        let evaluator = self.evaluator.clone();
        let ctx = ctx.clone();
        self.store
            .read(move |conn| Ok(authorize_all(evaluator.as_ref(), conn, &ctx, &permissions)))
            .await?
    }
}

/// `requestParameters` of an IAM or STS call: AWS records `null` for a call it denied (every
/// denied IAM and STS record in the shared datasets, AssumeRole, GetSessionToken, GetRole,
/// CreateServiceLinkedRole, has `null`; S3, EC2 and others keep theirs).
pub fn parameters_unless_denied<T>(
    result: &cairn_core::error::ApiResult<T>,
    parameters: &Value,
) -> Value {
    match result {
        Err(e) if e.kind == cairn_core::ErrorKind::AccessDenied => Value::Null,
        _ => parameters.clone(),
    }
}
