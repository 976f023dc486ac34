//! GetKeyLastUsage (a key id or key ARN; no aliases): the key's last successful cryptographic
//! operation, noted as its event was recorded.

use cairn_core::error::ApiResult;
use cairn_core::kms::authz::KeyPermission;
use cairn_core::kms::last_usage;
use cairn_store::Connection;
use serde_json::{Value, json};

use super::{Call, Env, Reply};
use crate::kms::input;
use crate::wire::epoch;

struct GetKeyLastUsage {
    key_id: String,
}

pub(super) fn get_key_last_usage(b: &Value) -> ApiResult<Box<dyn Call>> {
    Ok(Box::new(GetKeyLastUsage {
        key_id: input::key_id(b, "KeyId")?,
    }))
}

impl Call for GetKeyLastUsage {
    fn permissions(&self, conn: &Connection, env: &Env) -> ApiResult<Vec<KeyPermission>> {
        let key = env.target(conn, &self.key_id, false)?.key;
        Ok(vec![env.on_key(
            conn,
            &key,
            "kms:GetKeyLastUsage",
            Vec::new(),
        )?])
    }

    fn run(&self, conn: &Connection, env: &Env) -> ApiResult<Reply> {
        let key = env.target(conn, &self.key_id, false)?.key;
        let mut body = json!({
            "KeyId": key.arn,
            "KeyCreationDate": epoch(key.created),
            "TrackingStartDate": epoch(last_usage::tracking_start(conn, &key)? as f64),
        });
        if let Some(u) = last_usage::last_usage(conn, &key)? {
            body["KeyLastUsage"] = json!({
                "Operation": u.operation,
                "Timestamp": epoch(u.event_time as f64),
                "CloudTrailEventId": u.event_id,
                "KmsRequestId": u.request_id,
            });
        }
        Ok(Reply::body(body))
    }
}
