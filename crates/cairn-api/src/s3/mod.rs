//! The S3 REST endpoint, on the same listener as CloudTrail.
//!
//! The protocol (routing, path and virtual-host addressing, SigV4 header, presigned and
//! `aws-chunked` streaming verification, XML) is the `s3s` crate's. [`CairnS3`] implements
//! its `S3` trait over `cairn-core` and the object files in [`cairn_buckets::local`]. Bucket-level calls are
//! recorded as management events, object-level calls as data events, each durably before
//! the response goes out.

pub mod access;
mod body_cause;
pub(crate) mod bucket_config_ops;
mod bucket_ops;
mod bucket_tagging_ops;
mod checksum_fields;
mod complete_again;
mod copy_ops;
mod copy_source;
mod cors;
mod default_reads;
mod delete_ops;
mod encryption_ops;
pub(crate) mod error_body;
pub(crate) mod event;
mod integrity;
mod leftover;
mod lifecycle_wire;
mod list_ops;
mod multipart_ops;
mod namespace;
mod object_attributes;
mod object_ops;
mod object_tagging_ops;
mod orphans;
mod owner_condition;
mod ownership_ops;
mod part_copy_ops;
mod post_object;
mod post_policy;
mod preconditions;
mod presign;
mod region_check;
mod request_checks;
mod response_overrides;
mod routes;
mod sigv2_path;
mod sse_c;
pub(crate) mod sse_ops;
mod unconfigured_ops;
mod unhandled;
mod unkept_by_id;
mod unrouted;
mod unserved;
mod upload_keys;
mod versions;
mod xml_record;

use std::sync::Arc;

use axum::response::Response;
use cairn_core::{ApiError, CallContext, ErrorKind};
use cairn_model::Region;
use s3s::service::{S3Service, S3ServiceBuilder};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Result};

pub use cairn_buckets::local::ObjectFiles;

use crate::credentials::CredentialCache;
use crate::recording::{CallInfo, Gate};
use crate::server::{Settings, set_request_id};
use body_cause::BodyCause;

/// Connection facts the listener hands to the S3 implementation through request extensions.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    /// Our request id.
    pub request_id: String,
    /// Peer IP.
    pub source_ip: String,
    /// Whether a trusted TLS proxy forwarded the request (`aws:SecureTransport`).
    pub secure_transport: bool,
    /// The note of a served call awaiting its handler ([`unhandled`]).
    pub pending: unhandled::PendingSlot,
    /// A small XML configuration body, read before s3s, recorded if Cairn does not carry
    /// the call out ([`xml_record`]).
    pub small_body: Option<bytes::Bytes>,
}

/// The `S3` trait implementation.
#[derive(Clone)]
pub struct CairnS3 {
    store: cairn_store::Store,
    gate: Gate,
    files: ObjectFiles,
    credentials: Arc<CredentialCache>,
    kms_master: Arc<cairn_core::kms::MasterKey>,
    /// S3 Bucket Keys held for SSE-KMS writers and readers (in memory only).
    bucket_keys: Arc<cairn_core::bucket_key::BucketKeys>,
    /// Which `Host` headers name a bucket.
    host: access::CairnHost,
    /// Seals ListObjectsV2's continuation tokens (the store's key, so they outlive restarts).
    token_key: cairn_core::token::TokenKey,
    /// CompleteMultipartUpload's turns, one upload at a time.
    completions: Arc<complete_again::Completions>,
    /// The names the settings file maps to external stores: taken, never made here.
    external_names: Arc<Vec<String>>,
}

/// Builds the s3s service over the store and the data dir's object files, and the handler
/// behind it (which other services use to read an object as a caller, as CloudFormation
/// reads a `TemplateURL`).
pub fn service(
    gate: Gate,
    settings: Arc<Settings>,
    credentials: Arc<CredentialCache>,
) -> std::io::Result<(S3Service, CairnS3)> {
    let store = gate.store().clone();
    let files = ObjectFiles::new(&settings.data_dir)?;
    let referenced = store
        .read_blocking(cairn_store::objects::referenced_files)
        .map_err(std::io::Error::other)?;
    orphans::clean(&files, &referenced)?;
    let s3 = CairnS3 {
        store,
        gate,
        files,
        credentials: credentials.clone(),
        kms_master: settings.kms_master.clone(),
        bucket_keys: Arc::new(cairn_core::bucket_key::BucketKeys::new()),
        host: settings.s3_host.clone(),
        token_key: settings.token_key.clone(),
        completions: Default::default(),
        external_names: Arc::new(settings.external.names()),
    };
    let mut builder = S3ServiceBuilder::new(s3.clone());
    builder.set_auth(access::CairnAuth { credentials });
    builder.set_route(unrouted::Unrouted { s3: s3.clone() });
    builder.set_access(unserved::CairnAccess { s3: s3.clone() });
    builder.set_host(settings.s3_host.clone());
    Ok((builder.build(), s3))
}

/// Answers one S3 request through s3s. Whatever the answer left unread of the request body
/// is drained afterwards, so the connection stays usable; when that cannot be done the
/// response says the connection closes (see [`leftover`]).
pub async fn handle(
    s3: &S3Service,
    host: &access::CairnHost,
    credentials: &CredentialCache,
    req: http::Request<axum::body::Body>,
    (meta, budget): (RequestMeta, &Arc<tokio::sync::Semaphore>),
) -> Response {
    let (mut parts, body) = req.into_parts();
    sigv2_path::add_bucket_slash(&mut parts, host, credentials).await;
    // `_room` is held until the answer: the body's bytes count in the budget meanwhile.
    let (body, small_body, _room) =
        match xml_record::take_small_body(&parts, host, body, budget).await {
            Ok(read) => read,
            Err(crate::body_budget::BodyError::NoRoom) => {
                return crate::errors::s3_error_response(
                    "SlowDown",
                    http::StatusCode::SERVICE_UNAVAILABLE,
                    "Please reduce your request rate.",
                    &meta.request_id,
                    None,
                    parts.method == http::Method::HEAD,
                );
            }
            // The body was cut short or too slow: nothing more is coming. The request goes
            // on with a body that fails as it did, so s3s refuses it after the access check
            // and the refusal (`IncompleteBody`) is authorized and recorded as any other.
            Err(e) => (
                failed_body(e == crate::body_budget::BodyError::TooSlow),
                None,
                Vec::new(),
            ),
        };
    let meta = RequestMeta { small_body, ..meta };
    let (body, leftover) = leftover::share(body, &parts.headers);
    let watch = leftover.watch();
    let mut resp = answer(s3, host, parts, (body, watch), meta).await;
    if resp.status() == http::StatusCode::NOT_MODIFIED {
        // A 304 has no body; the error document s3s wrote for it is dropped, and its length
        // with it (RFC 9110, 15.4.5).
        *resp.body_mut() = axum::body::Body::empty();
        resp.headers_mut().remove(http::header::CONTENT_LENGTH);
        resp.headers_mut().remove(http::header::CONTENT_TYPE);
    }
    if !leftover.drain().await {
        resp.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// A request body that fails at once, as one cut short (or, `too_slow`, one that came below
/// the rate floor) does.
fn failed_body(too_slow: bool) -> axum::body::Body {
    axum::body::Body::from_stream(futures::stream::once(async move {
        let e: Box<dyn std::error::Error + Send + Sync> = if too_slow {
            Box::new(crate::body_rate::TooSlow)
        } else {
            Box::new(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the request body ended before its Content-Length",
            ))
        };
        Err::<bytes::Bytes, _>(e)
    }))
}

async fn answer(
    s3: &S3Service,
    host: &access::CairnHost,
    mut parts: http::request::Parts,
    (body, watch): (leftover::SharedBody, leftover::BodyWatch),
    meta: RequestMeta,
) -> Response {
    let rid = meta.request_id.clone();
    let signed_hash = parts
        .headers
        .get("x-amz-content-sha256")
        .is_some_and(|v| v.len() == 64 && v.as_bytes().iter().all(u8::is_ascii_hexdigit));
    let mut cause = BodyCause {
        watch,
        signed_hash,
        form: false,
        target: region_check::bucket_and_key(host, &parts.uri, &parts.headers),
        copy: parts.headers.contains_key("x-amz-copy-source"),
        condition: preconditions::failed_condition(&parts.headers),
    };
    let head = parts.method == http::Method::HEAD;
    let query = parts.uri.query().unwrap_or("");
    if let Some(resp) = crate::server::s3_headers_too_large(&parts.headers, head, &rid) {
        return resp;
    }
    if parts.method == http::Method::OPTIONS {
        return cors::preflight(&parts.headers, &rid);
    }
    if let Some(e) = presign::two_auth_mechanisms(&parts.headers, query) {
        return crate::errors::s3_error(&e, &rid, None, head);
    }
    if let Err(e) = presign::check(query, chrono::Utc::now().timestamp()) {
        return crate::errors::s3_error(&e, &rid, None, head);
    }
    presign::sigv2_query_headers(&mut parts.headers, query);
    if let Some((e, name)) = unsigned_amz_header(&parts.headers, query) {
        let element = name.as_deref().map(|n| ("HeadersNotSigned", n));
        return crate::errors::s3_error(&e, &rid, element, head);
    }
    if let Some(e) = unknown_region(&parts.headers, query) {
        return crate::errors::s3_error(&e, &rid, None, head);
    }
    if let Some(resp) = request_checks::refusal(&parts, cause.target.as_ref(), &rid, head) {
        return resp;
    }
    presign::sigv4_query_headers(&mut parts.headers, query);
    let pending = meta.pending.clone();
    parts.extensions.insert(meta);
    let prepared = post_object::prepare(&mut parts, host, body).await;
    if let Some(e) = prepared.refusal {
        return crate::errors::s3_error(&e, &rid, None, head);
    }
    cause.form = prepared.is_form;
    let form = prepared.form;
    let req = http::Request::from_parts(parts, prepared.body);
    let mut resp = match s3.call(req).await {
        Ok(resp) if resp.status().is_client_error() || resp.status().is_server_error() => {
            complete_error(resp, &rid, head, &pending, &cause).await
        }
        Ok(resp) => {
            let (mut parts, body) = resp.into_parts();
            if parts
                .extensions
                .remove::<object_ops::PartialContent>()
                .is_some()
            {
                parts.status = http::StatusCode::PARTIAL_CONTENT;
            }
            let body = xml_body(&parts.headers, body);
            post_object::finish(Response::from_parts(parts, body), form).await
        }
        Err(e) => {
            tracing::debug!(error = ?e, "s3 request aborted");
            let mut r = Response::new(axum::body::Body::empty());
            *r.status_mut() = http::StatusCode::BAD_REQUEST;
            r
        }
    };
    set_request_id(&mut resp, &rid);
    resp
}

/// A credential scope (header or presigned query) naming a region that does not exist.
fn unknown_region(headers: &http::HeaderMap, raw_query: &str) -> Option<crate::errors::WireError> {
    let region = signed_region(headers, raw_query)?;
    if cairn_model::Region::parse(&region).is_ok() {
        return None;
    }
    Some(crate::auth::AuthFailure::InvalidRegion(region).to_wire(crate::protocol::Protocol::S3))
}

/// The region a SigV4 request is signed for: its `Authorization` header's credential scope,
/// else a presigned URL's `X-Amz-Credential`.
fn signed_region(headers: &http::HeaderMap, raw_query: &str) -> Option<String> {
    let from_header = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| cairn_sigv4::Authorization::parse(v).ok())
        .map(|a| a.region);
    from_header.or_else(|| {
        form_urlencoded::parse(raw_query.as_bytes())
            .find(|(k, _)| k == "X-Amz-Credential")
            .and_then(|(_, v)| v.split('/').nth(2).map(str::to_owned))
    })
}

/// How a request was signed: a browser form (`form`: a POST upload, SigV2 or SigV4), an
/// `Authorization` header (`AWS4-HMAC-SHA256 …` or SigV2's `AWS key:signature`), else a
/// presigned URL (SigV4's `X-Amz-Signature`, SigV2's `Signature`).
fn signing_of(
    headers: &http::HeaderMap,
    raw_query: &str,
    form: Option<&post_object::FormUpload>,
) -> crate::recording::Signing {
    use crate::recording::Signing;
    let sigv2 = |method| Signing {
        version: "SigV2",
        method,
        presigned: Vec::new(),
        recorded_headers: Vec::new(),
        signed_at_ms: None,
    };
    // The SigV4 signing time, from the header or the presigned query.
    let signed_at_ms = headers
        .get("x-amz-date")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| {
            form_urlencoded::parse(raw_query.as_bytes())
                .find(|(k, _)| k == "X-Amz-Date")
                .map(|(_, v)| v.into_owned())
        })
        .and_then(|d| chrono::NaiveDateTime::parse_from_str(&d, "%Y%m%dT%H%M%SZ").ok())
        .map(|t| t.and_utc().timestamp_millis());
    let sigv4 = |method| Signing {
        version: "SigV4",
        method,
        presigned: Vec::new(),
        recorded_headers: Vec::new(),
        signed_at_ms,
    };
    if let Some(form) = form {
        return if form.sigv2 {
            sigv2("HtmlForm")
        } else {
            sigv4("HtmlForm")
        };
    }
    match headers
        .get(http::header::AUTHORIZATION)
        .map(|v| v.as_bytes())
    {
        Some(a) if a.starts_with(b"AWS ") => sigv2("AuthHeader"),
        Some(_) => sigv4("AuthHeader"),
        None if form_urlencoded::parse(raw_query.as_bytes()).any(|(k, _)| k == "Signature") => {
            sigv2("QueryString")
        }
        None if raw_query.is_empty() => sigv4("AuthHeader"),
        None => Signing {
            presigned: form_urlencoded::parse(raw_query.as_bytes())
                .filter(|(k, _)| {
                    matches!(
                        k.as_ref(),
                        "X-Amz-Algorithm" | "X-Amz-Date" | "X-Amz-Expires" | "X-Amz-SignedHeaders"
                    )
                })
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            ..sigv4("QueryString")
        },
    }
}

/// AWS S3 refuses a SigV4 request carrying `x-amz-*` headers its signature does not cover
/// (they could have been changed in transit, or added by whoever holds a presigned URL: an
/// `x-amz-copy-source` would turn a presigned PutObject into a CopyObject).
fn unsigned_amz_header(
    headers: &http::HeaderMap,
    raw_query: &str,
) -> Option<(crate::errors::WireError, Option<String>)> {
    let auth = match headers.get(http::header::AUTHORIZATION) {
        Some(value) => cairn_sigv4::Authorization::parse(value.to_str().ok()?).ok()?,
        None => presigned_headers(raw_query)?,
    };
    let flat: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    cairn_sigv4::check_signed_headers(&auth, &flat)
        .err()
        .map(|e| {
            let (message, name) = match e {
                cairn_sigv4::SignedHeaderError::NotSigned(name) => (
                    "There were headers present in the request which were not signed".to_owned(),
                    Some(name),
                ),
                other => (other.to_string(), None),
            };
            let error = crate::errors::WireError {
                code: "AccessDenied",
                status: http::StatusCode::FORBIDDEN,
                message,
            };
            (error, name)
        })
}

/// The headers a SigV4 presigned URL signs (`X-Amz-SignedHeaders`), as an `Authorization`
/// carrying only them; `None` for a query that is not SigV4-presigned.
fn presigned_headers(raw_query: &str) -> Option<cairn_sigv4::Authorization> {
    let mut v4 = false;
    let mut signed = None;
    for (k, v) in form_urlencoded::parse(raw_query.as_bytes()) {
        match k.as_ref() {
            "X-Amz-Algorithm" => v4 = true,
            "X-Amz-SignedHeaders" => {
                signed = Some(v.split(';').map(str::to_ascii_lowercase).collect())
            }
            _ => {}
        }
    }
    // Without its list the URL is malformed: `s3s` answers that.
    let signed_headers = signed.filter(|_| v4)?;
    Some(cairn_sigv4::Authorization {
        access_key_id: String::new(),
        date: String::new(),
        region: String::new(),
        service: String::new(),
        signed_headers,
        signature: String::new(),
    })
}

/// A success body as sent: an XML document `s3s` serialised (keys, prefixes, markers and
/// other echoed input inside) with the characters XML 1.0 forbids replaced, as every XML
/// answer of Cairn's does ([`crate::errors::xml_chars`]); object bytes (GetObject, whatever
/// their type, answers with `Accept-Ranges`) and streams pass unchanged.
fn xml_body(headers: &http::HeaderMap, body: s3s::Body) -> axum::body::Body {
    let is_document = headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"application/xml"))
        && !headers.contains_key(http::header::ACCEPT_RANGES);
    let text = is_document
        .then(|| body.bytes())
        .flatten()
        .and_then(|b| String::from_utf8(b.to_vec()).ok());
    let Some(text) = text else {
        return axum::body::Body::new(body);
    };
    let mut clean = crate::errors::xml_chars(&text);
    if let Some(unquoted) = object_attributes::unquoted_etag(&clean) {
        clean = std::borrow::Cow::Owned(unquoted);
    }
    match namespace::with_namespace(&clean) {
        Some(named) => axum::body::Body::from(named),
        None => match clean {
            std::borrow::Cow::Owned(clean) => axum::body::Body::from(clean),
            std::borrow::Cow::Borrowed(_) => axum::body::Body::new(body),
        },
    }
}

/// Re-renders an error response with AWS's message for its code and our request id (error
/// bodies are small; anything over 64 KiB is passed through as it is).
async fn complete_error(
    resp: s3s::HttpResponse,
    rid: &str,
    head: bool,
    pending: &unhandled::PendingSlot,
    cause: &BodyCause,
) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes =
        match http_body_util::BodyExt::collect(http_body_util::Limited::new(body, 65_536)).await {
            Ok(c) => c.to_bytes(),
            Err(_) => {
                let mut r = Response::new(axum::body::Body::empty());
                *r.status_mut() = parts.status;
                return r;
            }
        };
    let Some((code, message)) = error_body::parse(&bytes) else {
        return Response::from_parts(parts, axum::body::Body::from(bytes));
    };
    let (code, message) = match cause.refusal(parts.status, &code, pending) {
        Some((status, code, message)) => {
            parts.status = status;
            (code.to_owned(), message.to_owned())
        }
        None => match post_policy::aws_refusal(&code, &message).filter(|_| cause.form) {
            Some(w) => {
                parts.status = w.status;
                (w.code.to_owned(), w.message)
            }
            None => (code, message),
        },
    };
    let status = parts.status;
    let message = error_body::complete_message(&code, &message);
    // A served call s3s refused before its handler, for the client's mistake, is authorized
    // and recorded now; a caller who may not make it is told so instead, and a record that
    // cannot be made is a server error.
    let settled = if status.is_client_error() {
        unhandled::settle(pending, &code, &message).await
    } else {
        pending.take();
        None
    };
    if let Some(e) = settled.filter(|e| {
        matches!(
            e.code(),
            S3ErrorCode::AccessDenied
                | S3ErrorCode::InternalError
                | S3ErrorCode::ServiceUnavailable
        )
    }) {
        return crate::errors::s3_error_response(
            e.code().as_str(),
            e.status_code().unwrap_or(http::StatusCode::FORBIDDEN),
            e.message().unwrap_or(""),
            rid,
            None,
            head,
        );
    }
    tracing::debug!(request_id = %rid, %code, %message, "s3 error");
    let element = region_check::region_element(&code, &parts.headers)
        .map(|r| ("Region", r))
        .or_else(|| cause.named(&code));
    let mut out = crate::errors::s3_error_response(&code, status, &message, rid, element, head);
    for (name, value) in parts.headers.iter() {
        if name != http::header::CONTENT_LENGTH && name != http::header::CONTENT_TYPE {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}

/// The first value of a query parameter.
fn query_param(uri: &http::Uri, name: &str) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Maps a core error to the S3 error s3s renders.
pub(crate) fn s3_error(e: &ApiError) -> S3Error {
    if e.kind == ErrorKind::Internal {
        return S3Error::with_message(
            S3ErrorCode::InternalError,
            "We encountered an internal error. Please try again.",
        );
    }
    let (code, status) = crate::errors::code_and_status(e.kind);
    let code = S3ErrorCode::from_bytes(code.as_bytes()).unwrap_or(S3ErrorCode::InternalError);
    let mut err = S3Error::with_message(code, e.message.clone());
    err.set_status_code(status);
    err
}

impl CairnS3 {
    /// Which hosts name a bucket (`<bucket>.<domain>`).
    pub fn hosts(&self) -> &access::CairnHost {
        &self.host
    }

    /// The region a bucket is in, when it exists.
    pub async fn bucket_region(&self, bucket: &str) -> Option<cairn_model::Region> {
        let name = bucket.to_owned();
        let found = self
            .store
            .read(move |c| Ok(cairn_store::buckets::get(c, &name)))
            .await
            .ok()?
            .ok()??;
        cairn_model::Region::parse(&found.region).ok()
    }

    /// The call facts of a verified request.
    async fn call_info<T>(&self, req: &S3Request<T>) -> S3Result<CallInfo> {
        // The handler runs: it authorizes and records the call itself, or answers an error
        // of its own before it can (a request signed for another region).
        if let Some(m) = req.extensions.get::<RequestMeta>() {
            m.pending.take();
        }
        let creds = req.credentials.as_ref().ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::AccessDenied,
                "Anonymous access is forbidden for this operation",
            )
        })?;
        region_check::check(
            &self.store,
            &self.host,
            &req.method,
            &req.uri,
            &req.headers,
            req.region.as_ref().map(|r| r.as_str()),
        )?;
        let principal = {
            let token = req
                .headers
                .get("x-amz-security-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| query_param(&req.uri, "X-Amz-Security-Token"));
            let signed_at = req
                .headers
                .get("x-amz-date")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
                .or_else(|| query_param(&req.uri, "X-Amz-Date"))
                .and_then(|d| cairn_sigv4::parse_amz_date(&d))
                .map(|t| t.timestamp());
            // A presigned URL is checked against the time it is used, never earlier.
            let now = chrono::Utc::now().timestamp();
            let at = signed_at.map_or(now, |t| t.max(now));
            self.credentials
                .resolve(&creds.access_key, token.as_deref(), at)
                .await
                .map(|k| k.principal.clone())
                .map_err(|f| {
                    let w = f.to_wire(crate::protocol::Protocol::S3);
                    let code = S3ErrorCode::from_bytes(w.code.as_bytes())
                        .unwrap_or(S3ErrorCode::AccessDenied);
                    let mut e = S3Error::with_message(code, w.message);
                    e.set_status_code(w.status);
                    e
                })?
        };
        // SigV2 presigned URLs carry no region: they act in us-east-1, as on AWS.
        let region = match req.region.as_ref() {
            None => Region::parse("us-east-1").expect("us-east-1 exists"),
            Some(r) => Region::parse(r.as_str()).map_err(|_| {
                let failure = crate::auth::AuthFailure::InvalidRegion(r.as_str().to_owned());
                S3Error::with_message(
                    S3ErrorCode::AuthorizationHeaderMalformed,
                    failure.to_wire(crate::protocol::Protocol::S3).message,
                )
            })?,
        };
        let meta = req
            .extensions
            .get::<RequestMeta>()
            .cloned()
            .unwrap_or(RequestMeta {
                request_id: uuid::Uuid::new_v4().to_string(),
                source_ip: String::new(),
                secure_transport: false,
                pending: Default::default(),
                small_body: None,
            });
        let now = chrono::Utc::now();
        let mut signing = signing_of(
            &req.headers,
            req.uri.query().unwrap_or(""),
            req.extensions.get::<post_object::FormUpload>(),
        );
        signing.recorded_headers = sse_c::recorded_headers(&req.headers);
        Ok(CallInfo {
            ctx: CallContext {
                principal,
                region,
                now: now.timestamp_millis() as f64 / 1000.0,
                origin: cairn_core::context::Origin {
                    source_ip: meta.source_ip.clone(),
                    user_agent: req
                        .headers
                        .get(http::header::USER_AGENT)
                        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                        .unwrap_or_default(),
                    secure_transport: meta.secure_transport,
                    sigv2: signing.version == "SigV2",
                    console: false,
                },
            },
            request_id: meta.request_id,
            source_ip: meta.source_ip,
            // S3's records wrap the user agent in brackets (`[aws-cli/…]`, `[]` for none),
            // as every S3 record of AWS's does; `aws:UserAgent` above is the header as sent.
            user_agent: format!(
                "[{}]",
                req.headers
                    .get(http::header::USER_AGENT)
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default()
            ),
            console: None,
            invoked_by: None,
            signing: Some(signing),
            owner_conditions: owner_condition::of(&self.host, &req.method, &req.uri, &req.headers),
            started: std::time::Instant::now(),
        })
    }

    /// Settles a freshly written object file once the commit that points at it has run: on
    /// success the files its record replaced are deleted, on failure the new file is.
    async fn settle<I: IntoIterator<Item = String>>(
        &self,
        new_file: String,
        committed: S3Result<I>,
    ) -> S3Result<()> {
        match committed {
            Ok(replaced) => {
                self.files.remove(replaced).await;
                Ok(())
            }
            Err(e) => {
                self.files.remove([new_file]).await;
                Err(e)
            }
        }
    }

    /// Runs `op` and records its event (see [`event::Spec`]); a failure to make the event
    /// durable answers 500.
    async fn recorded<T, Op>(&self, info: CallInfo, spec: event::Spec<T>, op: Op) -> S3Result<T>
    where
        T: Send + 'static,
        Op: FnOnce(&cairn_store::Connection) -> cairn_core::error::ApiResult<T> + Send + 'static,
    {
        let access = spec.access();
        let rid = info.request_id.clone();
        let account = info.ctx.account().to_string();
        let signing = info.signing.clone();
        let permissions = spec.permissions(signing.as_ref());
        self.gate
            .execute(
                info,
                access,
                move |_, _| Ok(permissions),
                op,
                move |r| spec.outcome(r, &rid, &account, signing),
            )
            .await
            .map_err(|e| s3_error(&e))
    }
}
