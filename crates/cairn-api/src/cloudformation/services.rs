//! The engine's calls into Cairn's services, made the way a signed request reaches them: the
//! same operation code, the gate's authorization as the stack's principal (or its service
//! role), and the same CloudTrail record, marked as AWS marks calls CloudFormation makes
//! (`invokedBy`, `sourceIPAddress` and `userAgent` `cloudformation.amazonaws.com`).
//!
//! Inputs arrive as API-shaped members; Query services get them flattened
//! (`Tags.member.1.Key`), and their XML results come back as JSON (lists of `member` elements
//! as arrays).

use cairn_core::cloudformation::{BoxFuture, Call, CallError, Caller, Service, Services};
use cairn_core::error::ApiResult;
use cairn_core::{ApiError, CallContext, ErrorKind, buckets, lifecycle};
use quick_xml::events::Event;
use serde_json::{Map, Value};

use crate::errors::WireError;
use crate::query::Params;
use crate::recording::CallInfo;
use crate::s3::event::Spec;
use crate::server::AppState;

/// Who CloudFormation's calls come from, as AWS records them.
pub const CLOUDFORMATION: &str = "cloudformation.amazonaws.com";

/// Services reached from inside the server.
pub struct Internal {
    /// The server's state.
    pub state: AppState,
}

fn info_for(caller: &Caller, now: chrono::DateTime<chrono::Utc>) -> CallInfo {
    CallInfo {
        ctx: CallContext {
            principal: caller.principal.clone(),
            region: caller.region.clone(),
            now: now.timestamp_millis() as f64 / 1000.0,
            origin: cairn_core::context::Origin {
                source_ip: CLOUDFORMATION.to_owned(),
                user_agent: CLOUDFORMATION.to_owned(),
                secure_transport: true,
                sigv2: false,
                console: false,
            },
        },
        request_id: uuid::Uuid::new_v4().to_string(),
        source_ip: CLOUDFORMATION.to_owned(),
        user_agent: CLOUDFORMATION.to_owned(),
        console: None,
        invoked_by: Some(CLOUDFORMATION.to_owned()),
        signing: None,
        owner_conditions: Vec::new(),
        started: std::time::Instant::now(),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn flatten_into(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Array(items) => {
            if items.is_empty() {
                out.push((prefix.to_owned(), String::new()));
            }
            for (i, item) in items.iter().enumerate() {
                flatten_into(&format!("{prefix}.member.{}", i + 1), item, out);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                flatten_into(&format!("{prefix}.{k}"), x, out);
            }
        }
        other => {
            if let Some(s) = scalar(other) {
                out.push((prefix.to_owned(), s));
            }
        }
    }
}

/// API-shaped members as Query parameters.
pub fn flatten(action: &str, input: &Value) -> Params {
    let mut out = vec![("Action".to_owned(), action.to_owned())];
    if let Value::Object(m) = input {
        for (k, v) in m {
            flatten_into(k, v, &mut out);
        }
    }
    Params::from_pairs(out)
}

fn element(children: Vec<(String, Value)>, text: String) -> Value {
    if children.is_empty() {
        return Value::String(text);
    }
    if children.iter().all(|(n, _)| n == "member") {
        return Value::Array(children.into_iter().map(|(_, v)| v).collect());
    }
    let mut m = Map::new();
    for (n, v) in children {
        m.insert(n, v);
    }
    Value::Object(m)
}

/// An element being read: its name, its children so far and its text.
type OpenElement = (String, Vec<(String, Value)>, String);

/// A Query result's XML (the inside of `<{Action}Result>`) as JSON.
pub fn xml_to_json(xml: &str) -> Value {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack: Vec<OpenElement> = vec![(String::new(), Vec::new(), String::new())];
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push((name, Vec::new(), String::new()));
            }
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                if let Some(top) = stack.last_mut() {
                    top.1.push((name, Value::String(String::new())));
                }
            }
            Ok(Event::Text(t)) => {
                if let (Some(top), Ok(text)) = (stack.last_mut(), t.decode()) {
                    top.2.push_str(&text);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                let resolved = crate::s3::error_body::ref_text(&r);
                if let (Some(top), Some(text)) = (stack.last_mut(), resolved) {
                    top.2.push_str(&text);
                }
            }
            Ok(Event::End(_)) => {
                if stack.len() > 1
                    && let Some((name, children, text)) = stack.pop()
                    && let Some(parent) = stack.last_mut()
                {
                    parent.1.push((name, element(children, text)));
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    let (_, children, _) = stack.swap_remove(0);
    match element(children, String::new()) {
        Value::String(_) => Value::Object(Map::new()),
        v => v,
    }
}

fn call_error(e: &ApiError, rid: &str, json: bool) -> CallError {
    let w = if json {
        WireError::json(e)
    } else {
        WireError::from(e)
    };
    CallError {
        code: w.code.to_owned(),
        message: w.message,
        status: w.status.as_u16(),
        request_id: rid.to_owned(),
    }
}

fn not_implemented(action: &str, rid: &str) -> CallError {
    CallError {
        code: "NotImplemented".into(),
        message: format!(
            "Cairn does not implement {action} in this release, so it cannot honour this property"
        ),
        status: 501,
        request_id: rid.to_owned(),
    }
}

fn text(input: &Value, key: &str) -> String {
    input.get(key).and_then(scalar).unwrap_or_default()
}

/// Bucket calls, through the gate with the S3 handlers' permissions and records.
async fn s3_call(
    state: &AppState,
    info: CallInfo,
    action: &'static str,
    input: &Value,
) -> Result<Value, Option<ApiError>> {
    let bucket = text(input, "Bucket");
    let host = format!("{bucket}.s3.amazonaws.com");
    let ctx = info.ctx.clone();
    let b = bucket.clone();
    type Op = Box<dyn FnOnce(&cairn_store::Connection) -> ApiResult<()> + Send>;
    let (spec, op): (Spec<()>, Op) = match action {
        "CreateBucket" => {
            let external = state.settings.external.contains(&bucket);
            let location = input
                .get("CreateBucketConfiguration")
                .and_then(|c| c.get("LocationConstraint"))
                .and_then(scalar);
            let mut spec = Spec::new("CreateBucket", false, false, Some(&bucket), None, &host);
            if let Some(l) = &location {
                spec = spec.param(
                    "CreateBucketConfiguration",
                    serde_json::json!({"LocationConstraint": l, "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}),
                );
            }
            // CloudFormation never takes over a bucket that exists: where S3 answers a repeated
            // CreateBucket of the owner with success (us-east-1), its call fails as it does
            // in every other region, in the same transaction that looked.
            (
                spec,
                Box::new(move |c| {
                    match buckets::create(c, &ctx, &b, location.as_deref(), external)? {
                        buckets::Created::New => Ok(()),
                        buckets::Created::AlreadyOwnedLegacy => Err(ApiError::new(
                            ErrorKind::S3BucketAlreadyOwnedByYou,
                            "Your previous request to create the named bucket succeeded and you already own it.",
                        )),
                    }
                }),
            )
        }
        "GetBucketPolicy" => (
            Spec::new("GetBucketPolicy", true, false, Some(&bucket), None, &host)
                .param("policy", Value::String(String::new())),
            Box::new(move |c| buckets::get_policy(c, &ctx, &b).map(|_| ())),
        ),
        "DeleteBucket" => (
            Spec::new("DeleteBucket", false, false, Some(&bucket), None, &host),
            // Part files of discarded uploads are left to the start-up sweep of files no
            // record references.
            Box::new(move |c| buckets::delete(c, &ctx, &b).map(|_| ())),
        ),
        "PutBucketPolicy" => {
            let policy = text(input, "Policy");
            let mut spec = Spec::new("PutBucketPolicy", false, false, Some(&bucket), None, &host)
                .param("policy", Value::String(String::new()))
                .bytes_in(policy.len() as i64);
            if let Ok(doc) = serde_json::from_str::<Value>(&policy) {
                spec = spec.param("bucketPolicy", doc);
            }
            (
                spec,
                Box::new(move |c| buckets::put_policy(c, &ctx, &b, &policy)),
            )
        }
        "DeleteBucketPolicy" => (
            Spec::new(
                "DeleteBucketPolicy",
                false,
                false,
                Some(&bucket),
                None,
                &host,
            )
            .param("policy", Value::String(String::new())),
            Box::new(move |c| buckets::delete_policy(c, &ctx, &b)),
        ),
        "PutBucketLifecycleConfiguration" => {
            let rules: Vec<lifecycle::Rule> = input
                .get("LifecycleConfiguration")
                .and_then(|l| l.get("Rules"))
                .and_then(Value::as_array)
                .map(|rules| {
                    rules
                        .iter()
                        .map(|r| {
                            let expiration = r.get("Expiration");
                            lifecycle::Rule {
                                id: r.get("ID").and_then(scalar),
                                prefix: r
                                    .get("Filter")
                                    .map(|f| text(f, "Prefix"))
                                    .unwrap_or_default(),
                                days: expiration
                                    .and_then(|e| e.get("Days"))
                                    .and_then(Value::as_i64),
                                date: expiration
                                    .and_then(|e| e.get("Date"))
                                    .and_then(Value::as_str)
                                    .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
                                    .map(|d| d.timestamp()),
                                abort_upload_days: r
                                    .get("AbortIncompleteMultipartUpload")
                                    .and_then(|a| a.get("DaysAfterInitiation"))
                                    .and_then(Value::as_i64),
                                enabled: text(r, "Status") == "Enabled",
                                ..Default::default()
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            (
                Spec::new(
                    "PutBucketLifecycle",
                    false,
                    false,
                    Some(&bucket),
                    None,
                    &host,
                )
                .param("lifecycle", Value::String(String::new())),
                Box::new(move |c| lifecycle::put(c, &ctx, &b, &rules, None).map(|_| ())),
            )
        }
        "DeleteBucketLifecycle" => (
            Spec::new(
                "DeleteBucketLifecycle",
                false,
                false,
                Some(&bucket),
                None,
                &host,
            )
            .param("lifecycle", Value::String(String::new())),
            Box::new(move |c| lifecycle::delete(c, &ctx, &b)),
        ),
        other => {
            crate::s3::bucket_config_ops::internal(other, input, ctx, &bucket, &host).ok_or(None)?
        }
    };
    let rid = info.request_id.clone();
    let account = info.ctx.account().to_string();
    let permissions = spec.permissions(None);
    let read_only = spec.read_only;
    state
        .gate
        .execute(
            info,
            read_only,
            move |_, _| Ok(permissions),
            op,
            move |r| spec.outcome(r, &rid, &account, None),
        )
        .await
        .map(|()| Value::Object(Map::new()))
        .map_err(Some)
}

impl Services for Internal {
    fn call<'a>(
        &'a self,
        caller: &'a Caller,
        call: Call,
    ) -> BoxFuture<'a, Result<Value, CallError>> {
        Box::pin(async move {
            let info = info_for(caller, self.state.now());
            let rid = info.request_id.clone();
            let state = &self.state;
            let query = |xml: String| xml_to_json(&xml);
            match call.service {
                Service::CloudTrail => {
                    crate::cloudtrail::invoke(state, call.action, call.input, info)
                        .await
                        .map_err(|e| call_error(&e, &rid, true))
                }
                Service::Iam => {
                    crate::iam::call_internal(state, info, &flatten(call.action, &call.input))
                        .await
                        .map(|x| query(x.unwrap_or_default()))
                        .map_err(|e| call_error(&e, &rid, false))
                }
                Service::Sts => {
                    crate::sts::call_internal(state, info, &flatten(call.action, &call.input))
                        .await
                        .map(query)
                        .map_err(|e| call_error(&e, &rid, false))
                }
                Service::Sns => {
                    let host = state
                        .settings
                        .listen_addr
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "127.0.0.1".to_owned());
                    crate::sns::call_internal(state, info, &flatten(call.action, &call.input), host)
                        .await
                        .map(query)
                        .map_err(|e| {
                            // SNS's own codes (`AuthorizationError`, …), as it answers and
                            // records them (cfn9: the reason said `AccessDenied`).
                            let w = WireError::sns(&e);
                            CallError {
                                code: w.code.to_owned(),
                                message: w.message,
                                status: w.status.as_u16(),
                                request_id: rid.clone(),
                            }
                        })
                }
                Service::Kms => crate::kms::invoke(state, call.action, call.input, info)
                    .await
                    .map_err(|e| call_error(&e, &rid, true)),
                Service::Logs => crate::logs::invoke(state, call.action, call.input, info)
                    .await
                    .map_err(|e| call_error(&e, &rid, true)),
                Service::CloudWatch => {
                    crate::monitoring::invoke(state, call.action, call.input, info)
                        .await
                        .map_err(|e| call_error(&e, &rid, false))
                }
                Service::S3 => match s3_call(state, info, call.action, &call.input).await {
                    Ok(v) => Ok(v),
                    Err(Some(e)) => Err(call_error(&e, &rid, false)),
                    Err(None) => Err(not_implemented(call.action, &rid)),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xml_results_become_json() {
        let v = xml_to_json(
            "<Role><Path>/</Path><RoleName>r</RoleName><Arn>arn:aws:iam::1:role/r</Arn><Tags><member><Key>a</Key><Value>b</Value></member></Tags></Role>",
        );
        assert_eq!(v["Role"]["Arn"], "arn:aws:iam::1:role/r");
        assert_eq!(v["Role"]["Tags"], json!([{"Key": "a", "Value": "b"}]));
        let v = xml_to_json(
            "<Versions><member><VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion></member></Versions><IsTruncated>false</IsTruncated>",
        );
        assert_eq!(v["Versions"][0]["VersionId"], "v1");
        assert_eq!(xml_to_json(""), json!({}));
    }

    #[test]
    fn members_flatten() {
        let p = flatten(
            "CreateRole",
            &json!({"RoleName": "r", "Tags": [{"Key": "k", "Value": "v"}], "TagKeys": ["a"], "SetAsDefault": true}),
        );
        assert_eq!(p.get("Tags.member.1.Key"), Some("k"));
        assert_eq!(p.get("TagKeys.member.1"), Some("a"));
        assert_eq!(p.get("SetAsDefault"), Some("true"));
        assert_eq!(p.action(), "CreateRole");
    }
}
