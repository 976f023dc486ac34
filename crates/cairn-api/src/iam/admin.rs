//! `cairn iam` on a data dir: the IAM API's own operation table, input checks and record
//! builder, run on the caller's writer connection instead of behind a listener. No request is
//! behind these changes, but an audit trail must still show who changed identities, so each
//! change is recorded, in its own transaction, as exactly the event the API call writes
//! (`requestParameters`, `responseElements`, the names LookupEvents finds it by; never a
//! secret), by `cairn-admin` (an `AWSService` identity, as `cairn kms reset-key-policy`
//! records its `PutKeyPolicy`), with the command's words in `additionalEventData`. Listings
//! are not recorded. IAM is global, so the events are us-east-1's.

use cairn_core::CallContext;
use cairn_core::error::ApiResult;
use cairn_model::{AccountId, Principal, Region};
use cairn_store::{Connection, StoreResult};
use serde_json::{Value, json};

use super::input::{self, Input};
use super::{find_call, outcome};
use crate::recording::{CallInfo, prepare};

/// The identity, address and agent of admin commands.
pub const ADMIN: &str = "cairn-admin";

/// One admin command: the IAM action it equals and its input in the API's shape.
pub struct AdminCall<'a> {
    /// The account whose IAM changes.
    pub account: AccountId,
    /// Epoch seconds.
    pub now: f64,
    /// The IAM action (`CreateUser`, `PutUserPolicy`, …).
    pub action: &'a str,
    /// The action's input members (`{"UserName": "alice"}`), as the AWS CLI's JSON names them.
    pub input: Value,
    /// The command line's words after `cairn`, for `additionalEventData` (no policy document
    /// or key material).
    pub command: &'a str,
}

/// Runs `call` as the account's root on `conn` (the caller holds the writer and commits) and,
/// unless it only reads, appends its event whether it succeeded or failed, as the gate does.
/// Returns the operation's result as JSON (the API's XML result converted, secret included
/// for the operator to see once).
pub fn run(conn: &Connection, call: AdminCall<'_>) -> StoreResult<ApiResult<Value>> {
    let region = Region::parse("us-east-1").expect("us-east-1 exists");
    let ctx = CallContext {
        principal: Principal::Root {
            account: call.account.clone(),
            access_key_id: String::new(),
            session: None,
        },
        region: region.clone(),
        now: call.now,
        origin: Default::default(),
    };
    let params = crate::cloudformation::services::flatten(call.action, &call.input);
    let parsed = Input::new(&params);
    let Some(op) = find_call(call.action, &parsed) else {
        return Ok(Err(input::unknown_action(call.action, "2010-05-08")));
    };
    let read_only = op.read_only;
    let result = match crate::model_check::check(
        "iam",
        call.action,
        crate::model_check::Input::Query(&params),
    ) {
        Err(p) => Err(p.into_error(cairn_core::ErrorKind::IamValidation)),
        Ok(()) => {
            let run = op.run;
            cairn_store::with_savepoint(conn, |c| run(c, &ctx))
        }
    };
    if !read_only {
        let info = CallInfo {
            ctx: CallContext {
                principal: Principal::Service {
                    account: call.account,
                    name: ADMIN.to_owned(),
                },
                ..ctx
            },
            request_id: uuid::Uuid::new_v4().to_string(),
            source_ip: ADMIN.to_owned(),
            user_agent: ADMIN.to_owned(),
            invoked_by: None,
            console: None,
            signing: None,
            owner_conditions: Vec::new(),
            started: std::time::Instant::now(),
        };
        let request_parameters = input::request_parameters("iam", &params);
        let mut described = outcome(
            call.action.to_owned(),
            read_only,
            &request_parameters,
            &result,
        );
        described.additional_event_data = Some(json!({ "cairnAdminCommand": call.command }));
        cairn_core::record::append(conn, &prepare(conn, &info, described))?;
    }
    Ok(result.map(|reply| match reply.xml {
        Some(xml) => crate::cloudformation::services::xml_to_json(&xml),
        None => Value::Null,
    }))
}
