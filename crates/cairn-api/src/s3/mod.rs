//! The S3 REST endpoint (bucket-level operations today), path-style and
//! `<bucket>.localhost` virtual-host style, with S3's XML errors.
//!
//! Bucket-level calls are CloudTrail management events with `eventSource`
//! `s3.amazonaws.com`. Object-level routes answer `NotImplemented` until the object store
//! lands.

mod xml;

use axum::body::Body;
use axum::response::Response;
use cairn_core::buckets::{self, Created};
use cairn_core::error::ApiResult;
use cairn_core::{ApiError, CallContext, ErrorKind};
use cairn_model::event::EventResource;
use http::{HeaderValue, Method, StatusCode};
use serde_json::{Map, Value, json};

use std::sync::Arc;

use crate::auth::Flavor;
use crate::errors::{WireError, s3_error};
use crate::recording::{self, CallInfo, Outcome};
use crate::server::{AppState, Received, authenticate, set_request_id};

/// A routed S3 call.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    ListBuckets,
    CreateBucket(String),
    HeadBucket(String),
    DeleteBucket(String),
    GetBucketLocation(String),
    PutBucketPolicy(String),
    GetBucketPolicy(String),
    DeleteBucketPolicy(String),
    NotImplemented(String),
}

impl Route {
    fn name(&self) -> &str {
        match self {
            Route::ListBuckets => "ListBuckets",
            Route::CreateBucket(_) => "CreateBucket",
            Route::HeadBucket(_) => "HeadBucket",
            Route::DeleteBucket(_) => "DeleteBucket",
            Route::GetBucketLocation(_) => "GetBucketLocation",
            Route::PutBucketPolicy(_) => "PutBucketPolicy",
            Route::GetBucketPolicy(_) => "GetBucketPolicy",
            Route::DeleteBucketPolicy(_) => "DeleteBucketPolicy",
            Route::NotImplemented(_) => "NotImplemented",
        }
    }

    fn bucket(&self) -> Option<&str> {
        match self {
            Route::ListBuckets | Route::NotImplemented(_) => None,
            Route::CreateBucket(b)
            | Route::HeadBucket(b)
            | Route::DeleteBucket(b)
            | Route::GetBucketLocation(b)
            | Route::PutBucketPolicy(b)
            | Route::GetBucketPolicy(b)
            | Route::DeleteBucketPolicy(b) => Some(b),
        }
    }

    fn read_only(&self) -> bool {
        matches!(
            self,
            Route::ListBuckets
                | Route::HeadBucket(_)
                | Route::GetBucketLocation(_)
                | Route::GetBucketPolicy(_)
        )
    }

    fn subresource(&self) -> Option<&'static str> {
        match self {
            Route::GetBucketLocation(_) => Some("location"),
            Route::PutBucketPolicy(_)
            | Route::GetBucketPolicy(_)
            | Route::DeleteBucketPolicy(_) => Some("policy"),
            _ => None,
        }
    }
}

fn query_keys(raw_query: &str) -> Vec<String> {
    raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').map(|(k, _)| k).unwrap_or(p).to_owned())
        .collect()
}

/// The bucket named by a `<bucket>.localhost[:port]` host, if any.
fn virtual_host_bucket(host: Option<&str>) -> Option<String> {
    let host = host?;
    let name = host.split(':').next()?;
    name.strip_suffix(".localhost")
        .filter(|b| !b.is_empty())
        .map(str::to_owned)
}

fn route(method: &Method, raw_path: &str, raw_query: &str, host: Option<&str>) -> Route {
    let path = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8_lossy()
        .into_owned();
    let trimmed = path.trim_start_matches('/');
    let (bucket, key) = match virtual_host_bucket(host) {
        Some(b) => (b, trimmed.to_owned()),
        None => match trimmed.split_once('/') {
            Some((b, k)) => (b.to_owned(), k.to_owned()),
            None => (trimmed.to_owned(), String::new()),
        },
    };
    if !key.is_empty() {
        return Route::NotImplemented(format!("{method} object"));
    }
    let keys = query_keys(raw_query);
    let has = |k: &str| keys.iter().any(|q| q == k);
    if bucket.is_empty() {
        return if *method == Method::GET {
            Route::ListBuckets
        } else {
            Route::NotImplemented(format!("{method} /"))
        };
    }
    match (method.as_str(), has("location"), has("policy")) {
        ("GET", true, _) => Route::GetBucketLocation(bucket),
        ("PUT", _, true) => Route::PutBucketPolicy(bucket),
        ("GET", _, true) => Route::GetBucketPolicy(bucket),
        ("DELETE", _, true) => Route::DeleteBucketPolicy(bucket),
        _ if !keys.is_empty() => Route::NotImplemented(format!("{method} ?{}", keys.join("&"))),
        ("PUT", _, _) => Route::CreateBucket(bucket),
        ("HEAD", _, _) => Route::HeadBucket(bucket),
        ("DELETE", _, _) => Route::DeleteBucket(bucket),
        _ => Route::NotImplemented(format!("{method} bucket")),
    }
}

/// What a successful bucket call returns.
enum Reply {
    Empty(StatusCode),
    Xml(String),
    Json(String),
    Location(String),
}

fn run_route(
    conn: &cairn_store::Connection,
    ctx: &CallContext,
    route: &Route,
    body: &[u8],
) -> ApiResult<Reply> {
    match route {
        Route::ListBuckets => {
            let list = buckets::list(conn, ctx)?;
            Ok(Reply::Xml(xml::list_buckets(ctx, &list)))
        }
        Route::CreateBucket(b) => {
            let location = xml::parse_location_constraint(body)?;
            match buckets::create(conn, ctx, b, location.as_deref())? {
                Created::New | Created::AlreadyOwnedLegacy => Ok(Reply::Location(format!("/{b}"))),
            }
        }
        Route::HeadBucket(b) => {
            buckets::owned(conn, ctx, b)?;
            Ok(Reply::Empty(StatusCode::OK))
        }
        Route::DeleteBucket(b) => {
            buckets::delete(conn, ctx, b, true)?;
            Ok(Reply::Empty(StatusCode::NO_CONTENT))
        }
        Route::GetBucketLocation(b) => {
            let bucket = buckets::owned(conn, ctx, b)?;
            Ok(Reply::Xml(xml::location(&bucket.region)))
        }
        Route::PutBucketPolicy(b) => {
            let doc = std::str::from_utf8(body).map_err(|_| {
                ApiError::new(
                    ErrorKind::S3MalformedPolicy,
                    "Policies must be valid JSON and the first byte must be '{'",
                )
            })?;
            buckets::put_policy(conn, ctx, b, doc)?;
            Ok(Reply::Empty(StatusCode::NO_CONTENT))
        }
        Route::GetBucketPolicy(b) => Ok(Reply::Json(buckets::get_policy(conn, ctx, b)?)),
        Route::DeleteBucketPolicy(b) => {
            buckets::delete_policy(conn, ctx, b)?;
            Ok(Reply::Empty(StatusCode::NO_CONTENT))
        }
        Route::NotImplemented(_) => Err(ApiError::new(
            ErrorKind::UnsupportedOperation,
            "A header or query you provided implies functionality that is not implemented.",
        )),
    }
}

fn wire_error(e: &ApiError) -> WireError {
    if e.kind == ErrorKind::UnsupportedOperation {
        return WireError {
            code: "NotImplemented",
            status: StatusCode::NOT_IMPLEMENTED,
            message: e.message.clone(),
        };
    }
    WireError::from(e)
}

fn request_parameters(route: &Route, host: &str, body: &[u8]) -> Value {
    let mut m = Map::new();
    if let Route::PutBucketPolicy(_) = route
        && let Ok(policy) = serde_json::from_slice::<Value>(body)
    {
        m.insert("bucketPolicy".into(), policy);
    }
    if let Route::CreateBucket(_) = route
        && let Ok(Some(loc)) = xml::parse_location_constraint(body)
    {
        m.insert(
            "CreateBucketConfiguration".into(),
            json!({"LocationConstraint": loc, "xmlns": "http://s3.amazonaws.com/doc/2006-03-01/"}),
        );
    }
    if let Some(b) = route.bucket() {
        m.insert("bucketName".into(), json!(b));
    }
    m.insert("Host".into(), json!(host));
    if let Some(sub) = route.subresource() {
        m.insert(sub.into(), json!(""));
    }
    Value::Object(m)
}

/// Answers one S3 request.
pub async fn handle(state: &AppState, req: Arc<Received>) -> Response {
    let rid = req.request_id.clone();
    let head = req.method == Method::HEAD;
    let now = chrono::Utc::now();
    let authed = match authenticate(state, &req, Flavor::S3, now) {
        Ok(a) => a,
        Err(e) => return s3_error(&e, &rid, None, head),
    };
    let host = req.header("host").unwrap_or("").to_owned();
    let route = route(&req.method, &req.raw_path, &req.raw_query, Some(&host));
    let info = CallInfo::new(authed, &req, now);
    let ctx = info.ctx.clone();
    let body = req.body.clone();
    let route_for_op = route.clone();
    let route_for_event = route.clone();
    let body_len = body.len();
    let params = request_parameters(&route, &host, &body);
    let account = ctx.account().to_string();
    let rid_for_event = rid.clone();
    let executed = recording::execute(
        &state.store,
        info,
        route.read_only(),
        move |conn| run_route(conn, &ctx, &route_for_op, &body),
        move |result| {
            let error = result.as_ref().err().map(|e| {
                let w = wire_error(e);
                (w.code.to_owned(), w.message)
            });
            let bytes_out = match result {
                Ok(Reply::Xml(x) | Reply::Json(x)) => x.len(),
                _ => 0,
            };
            let resources = route_for_event
                .bucket()
                .map(|b| {
                    vec![(
                        EventResource {
                            arn: format!("arn:aws:s3:::{b}"),
                            account_id: account.clone(),
                            resource_type: "AWS::S3::Bucket".into(),
                        },
                        b.to_owned(),
                    )]
                })
                .unwrap_or_default();
            Outcome {
                event_source: "s3.amazonaws.com",
                event_name: route_for_event.name().to_owned(),
                read_only: route_for_event.read_only(),
                management: true,
                request_parameters: params,
                response_elements: Value::Null,
                error,
                resources,
                additional_event_data: Some(json!({
                    "SignatureVersion": "SigV4",
                    "AuthenticationMethod": "AuthHeader",
                    "x-amz-id-2": rid_for_event,
                    "bytesTransferredIn": body_len,
                    "bytesTransferredOut": bytes_out,
                })),
            }
        },
    )
    .await;
    let bucket = route.bucket().map(|b| ("BucketName", b));
    match executed {
        Ok(Ok(reply)) => reply_response(reply, &rid),
        Ok(Err(e)) if e.kind != ErrorKind::Internal => {
            s3_error(&wire_error(&e), &rid, bucket, head)
        }
        _ => s3_error(&WireError::internal(Flavor::S3), &rid, None, head),
    }
}

fn reply_response(reply: Reply, rid: &str) -> Response {
    let (status, body, content_type, location) = match reply {
        Reply::Empty(s) => (s, String::new(), None, None),
        Reply::Xml(x) => (StatusCode::OK, x, Some("application/xml"), None),
        Reply::Json(j) => (StatusCode::OK, j, Some("application/json"), None),
        Reply::Location(l) => (StatusCode::OK, String::new(), None, Some(l)),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    if let Some(ct) = content_type {
        resp.headers_mut()
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        resp.headers_mut().insert(http::header::LOCATION, l);
    }
    set_request_id(&mut resp, rid);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_bucket_calls() {
        assert_eq!(route(&Method::GET, "/", "", None), Route::ListBuckets);
        assert_eq!(
            route(&Method::PUT, "/b1", "", None),
            Route::CreateBucket("b1".into())
        );
        assert_eq!(
            route(&Method::GET, "/b1", "location", None),
            Route::GetBucketLocation("b1".into())
        );
        assert_eq!(
            route(&Method::PUT, "/b1", "policy", None),
            Route::PutBucketPolicy("b1".into())
        );
        assert_eq!(
            route(&Method::HEAD, "/", "", Some("b1.localhost:4599")),
            Route::HeadBucket("b1".into())
        );
        assert!(matches!(
            route(&Method::GET, "/b1/key", "", None),
            Route::NotImplemented(_)
        ));
    }
}
