//! The HTTP listener: one router for every protocol, body limits, request ids, and the
//! split by service (from the credential scope, see [`crate::protocol`]) between the JSON,
//! Query and S3 REST services.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use axum::routing::get;
use cairn_core::token::TokenKey;
use cairn_model::AccountId;
use cairn_store::Store;
use http::HeaderValue;
use sha2::{Digest, Sha256};

use crate::auth::RootCredentials;
use crate::credentials::CredentialCache;
use crate::errors::WireError;
use crate::protocol::{Protocol, Route, route};
use crate::recording::Gate;

/// Settings the edge needs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The account served.
    pub account: AccountId,
    /// Root credentials.
    pub root: RootCredentials,
    /// Pagination token key.
    pub token_key: TokenKey,
    /// Event history retention, seconds.
    pub retention_secs: i64,
    /// Data directory.
    pub data_dir: PathBuf,
    /// Largest request body accepted, bytes.
    pub max_body_bytes: usize,
    /// Buckets that live in external S3-compatible stores.
    pub external: cairn_buckets::ExternalBuckets,
    /// The KMS master key: every KMS backing key is stored wrapped under it.
    pub kms_master: Arc<cairn_core::kms::MasterKey>,
    /// Virtual-hosted–style S3 addressing (`<bucket>.localhost` and `--s3-domains`).
    pub s3_host: crate::s3::access::CairnHost,
    /// Proxies whose `X-Forwarded-For` is trusted.
    pub trusted_proxies: Vec<cairn_core::net::Cidr>,
    /// Networks SNS HTTP subscriptions may reach (empty: any but the forbidden ranges).
    pub sns_allowed_networks: Vec<cairn_core::net::Cidr>,
    /// This server's listening address, which subscriptions may not target.
    pub listen_addr: Option<SocketAddr>,
    /// One log line per request.
    pub access_log: bool,
    /// The clock the JSON and Query services read (the system's unless `--clock-file`).
    pub clock: cairn_core::clock::Clock,
}

/// Shared state of the listener.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Settings.
    pub settings: Arc<Settings>,
    /// The S3 protocol service.
    pub s3: Arc<s3s::service::S3Service>,
    /// The S3 handler behind it, for reads other services make as their caller.
    pub s3_objects: crate::s3::CairnS3,
    /// Access keys → secrets and principals, in memory.
    pub credentials: Arc<CredentialCache>,
    /// The choke point every operation passes: authorize, run, record.
    pub gate: Gate,
    /// Sends SNS notifications (alarm actions), under the outbound rules of SNS.
    pub notifier: cairn_delivery::Notifier,
    /// Room (KiB) for JSON and Query request bodies held at once ([`crate::body_budget`]).
    pub body_budget: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    /// Now, on the server's clock ([`cairn_core::clock`]).
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.settings.clock.now()
    }

    /// Builds the state, including the S3 service over the data dir's object files.
    pub fn new(store: Store, settings: Settings) -> std::io::Result<Self> {
        let settings = Arc::new(settings);
        let credentials = Arc::new(CredentialCache::new(
            store.clone(),
            settings.account.clone(),
            &settings.root,
        ));
        let gate = Gate::with_policies(store.clone());
        let (s3, s3_objects) =
            crate::s3::service(gate.clone(), settings.clone(), credentials.clone())?;
        let s3 = Arc::new(s3);
        let (allowed, own) = (settings.sns_allowed_networks.clone(), settings.listen_addr);
        let guard: cairn_delivery::AddressGuard =
            Arc::new(move |a| cairn_core::net::outbound_refusal(a, &allowed, own));
        let signer = cairn_delivery::SnsSigner::load_or_create(&settings.data_dir)
            .map_err(std::io::Error::other)?;
        let notifier = cairn_delivery::Notifier::new(cairn_delivery::NotifierConfig {
            guard: Some(guard),
            store: Some(store.clone()),
            ..crate::sns::notifier_defaults(&settings, signer)
        });
        Ok(Self {
            store,
            settings,
            s3,
            s3_objects,
            credentials,
            gate,
            notifier,
            body_budget: crate::body_budget::budget(),
        })
    }
}

/// Builds the router: `/health` plus the AWS protocols on every other path.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .fallback(handle)
        .with_state(state)
}

/// `{"status":"ok"}`, or 503 when the server cannot record calls: its store writer stopped
/// (`unavailable`), or its store is full (`full`: the disk or `--max-store-mb`; every call
/// that must record an event is refused with 503 until space is freed), or its data dir was
/// moved or deleted under it, or a store file removed (`unavailable`).
async fn health(State(state): State<AppState>) -> Response {
    let (status, body) = if !state.store.writer_alive() {
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"unavailable","reason":"the store writer stopped; calls cannot be recorded"}"#,
        )
    } else if state.store.full().await {
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"full","reason":"the store cannot be written (a full disk, --max-store-mb, or a read-only or failing disk); calls are refused with 503 until it can"}"#,
        )
    } else if state.store.files_gone_now() {
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"unavailable","reason":"a store file is gone or replaced (its data dir moved or deleted, or a file removed from it): calls cannot be recorded"}"#,
        )
    } else if !state.settings.data_dir.join("objects").is_dir() {
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            r#"{"status":"unavailable","reason":"the data dir's objects directory is gone (moved or deleted): object calls fail"}"#,
        )
    } else {
        (http::StatusCode::OK, r#"{"status":"ok"}"#)
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// Adds the request-id headers every AWS response carries.
pub fn set_request_id(resp: &mut Response, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-amzn-requestid", v.clone());
        resp.headers_mut().insert("x-amz-request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(&crate::request_ids::host_id(request_id)) {
        resp.headers_mut().insert("x-amz-id-2", v);
    }
}

/// A request with its body read and its headers flattened, ready for the protocols.
pub struct Received {
    /// Method.
    pub method: http::Method,
    /// Raw path.
    pub raw_path: String,
    /// Raw query.
    pub raw_query: String,
    /// Headers as (lower-case name, value).
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: bytes::Bytes,
    /// The body's size as sent (before any `Content-Encoding` was undone).
    pub sent_len: usize,
    /// Hex SHA-256 of the body.
    pub body_sha256: String,
    /// Peer IP.
    pub source_ip: String,
    /// Whether the client reached Cairn over TLS: a trusted proxy's `X-Forwarded-Proto:
    /// https` (Cairn itself listens in plain HTTP). Policies read it as `aws:SecureTransport`.
    pub secure_transport: bool,
    /// Our request id.
    pub request_id: String,
}

impl Received {
    /// The request as the SigV4 verifier sees it.
    pub fn incoming(&self) -> crate::auth::Incoming<'_> {
        crate::auth::Incoming {
            method: self.method.as_str(),
            raw_path: &self.raw_path,
            raw_query: &self.raw_query,
            headers: &self.headers,
            body_sha256: &self.body_sha256,
        }
    }

    /// First value of a header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Verifies a JSON or Query request's signature, reporting failures in `protocol`'s terms.
pub async fn authenticate(
    state: &AppState,
    req: &Received,
    protocol: Protocol,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<crate::auth::Authenticated, WireError> {
    crate::auth::authenticate(&state.credentials, &req.incoming(), now)
        .await
        .map_err(|f| {
            tracing::debug!(request_id = %req.request_id, failure = ?f, "authentication failed");
            f.to_wire(protocol)
        })
}

/// S3's bound on a request's header section (each line's name, value, `: ` and CRLF): 8 KiB.
pub const MAX_S3_HEADER_BYTES: usize = 8192;

/// S3's answer to a request whose header section exceeds [`MAX_S3_HEADER_BYTES`], if it does
/// (called where the S3 answer drains what is left of the request body).
pub(crate) fn s3_headers_too_large(
    headers: &http::HeaderMap,
    head: bool,
    request_id: &str,
) -> Option<Response> {
    let size: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    (size > MAX_S3_HEADER_BYTES).then(|| {
        crate::errors::s3_error_response(
            "RequestHeaderSectionTooLarge",
            http::StatusCode::BAD_REQUEST,
            "Your request header section exceeds the maximum allowed size.",
            request_id,
            Some(("MaxSizeAllowed", &MAX_S3_HEADER_BYTES.to_string())),
            head,
        )
    })
}

/// The protocol an early error (before any service reads the request) is answered in:
/// the route's, or RPC v2 CBOR for a CloudWatch request on its CBOR path.
#[derive(Clone, Copy)]
struct Early {
    protocol: Protocol,
    cbor: bool,
}

impl Early {
    fn render(self, err: &WireError, request_id: &str) -> Response {
        if self.cbor {
            crate::monitoring::cbor_error(err, request_id)
        } else {
            crate::errors::render(self.protocol, "", err, request_id)
        }
    }
}

fn too_large(max: usize, early: Early, request_id: &str) -> Response {
    let err = WireError {
        code: "RequestEntityTooLargeException",
        status: http::StatusCode::PAYLOAD_TOO_LARGE,
        message: format!("Request body exceeds the maximum allowed size of {max} bytes."),
    };
    early.render(&err, request_id)
}

/// The longest refused body read to its end before the refusal is answered: a client still
/// sending when the server answers and closes gets a reset connection (EPIPE) instead of the
/// answer, so a body up to this size is read and discarded first ("lingering close"); a larger
/// one is answered at once and its connection closed.
fn discard_cap(max: usize) -> usize {
    max.saturating_mul(4).max(64 << 20)
}

/// The refusal of a body over the limit, whose `Content-Length` said so: the body is read and
/// discarded first when it is not too large to (see [`discard_cap`]), within the body-rate
/// floor that ends dribbled bodies.
async fn refuse_declared(
    body: Body,
    declared: usize,
    max: usize,
    early: Early,
    request_id: &str,
) -> Response {
    use http_body_util::BodyExt;
    let cap = discard_cap(max);
    let mut drained = false;
    if declared <= cap {
        let mut body = body;
        let mut seen = 0usize;
        drained = loop {
            match body.frame().await {
                None => break true,
                Some(Ok(frame)) => {
                    seen += frame.data_ref().map_or(0, |d| d.len());
                    if seen > cap {
                        break false;
                    }
                }
                Some(Err(_)) => break false,
            }
        };
    }
    let mut resp = too_large(max, early, request_id);
    if !drained {
        resp.headers_mut().insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("close"),
        );
    }
    resp
}

/// `err` as the request's protocol words it, with the connection closed: the body is not
/// read on.
fn closing(early: Early, err: &WireError, request_id: &str) -> Response {
    let mut resp = early.render(err, request_id);
    resp.headers_mut().insert(
        http::header::CONNECTION,
        http::HeaderValue::from_static("close"),
    );
    resp
}

/// The answer when the request bodies held at once fill the budget (`body_budget`): 503, which
/// every SDK retries, and the connection closed without reading the body.
fn budget_full(early: Early, request_id: &str) -> Response {
    let err = WireError {
        code: "ServiceUnavailable",
        status: http::StatusCode::SERVICE_UNAVAILABLE,
        message: "The server is holding as many request bodies as it can; retry shortly."
            .to_owned(),
    };
    closing(early, &err, request_id)
}

/// A body that stopped arriving at a usable rate ([`crate::body_rate`]): S3's `RequestTimeout`
/// wording, in the request's protocol.
fn too_slow(early: Early, request_id: &str) -> Response {
    let err = WireError {
        code: "RequestTimeout",
        status: http::StatusCode::BAD_REQUEST,
        message: "Your socket connection to the server was not read from or written to within the timeout period.".to_owned(),
    };
    closing(early, &err, request_id)
}

/// The answer to a body [`crate::body_budget::read`] did not read.
fn unread_body(
    e: crate::body_budget::BodyError,
    max: usize,
    early: Early,
    request_id: &str,
) -> Response {
    match e {
        crate::body_budget::BodyError::TooSlow => too_slow(early, request_id),
        crate::body_budget::BodyError::TooLarge => too_large(max, early, request_id),
        crate::body_budget::BodyError::NoRoom => budget_full(early, request_id),
    }
}

/// Whether reading a body failed because it arrived too slowly.
pub(crate) fn is_too_slow(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if e.is::<crate::body_rate::TooSlow>() {
            return true;
        }
        cause = e.source();
    }
    false
}

fn bad_encoding(early: Early, request_id: &str) -> Response {
    let err = WireError {
        code: "InvalidParameterValue",
        status: http::StatusCode::BAD_REQUEST,
        message: "The request body is not the gzip stream its Content-Encoding header says."
            .to_owned(),
    };
    early.render(&err, request_id)
}

async fn handle(
    State(state): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    req: Request,
) -> Response {
    let started = std::time::Instant::now();
    let method = req.method().clone();
    // Who asked, for the access log: the client's address (through trusted proxies) and the
    // access key id the request names (unchecked; the record of a signed call names the
    // principal).
    let caller = state.settings.access_log.then(|| {
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter(|(n, _)| *n == http::header::AUTHORIZATION || n.as_str() == "x-forwarded-for")
            .map(|(n, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                (n.as_str().to_owned(), v)
            })
            .collect();
        let query = req.uri().query().unwrap_or("");
        let key = crate::auth::claimed_access_key(&headers, query).unwrap_or_default();
        let ip = source_ip(&headers, peer.0.ip(), &state.settings.trusted_proxies);
        (ip, key)
    });
    let mut resp = dispatch(&state, peer.0, req).await;
    sandbox_content(resp.headers_mut());
    if let Some((source_ip, access_key_id)) = caller {
        let rid = resp
            .headers()
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let note = resp
            .extensions_mut()
            .remove::<AccessNote>()
            .map(|n| n.0)
            .unwrap_or_default();
        // "s3 GET object" → service `s3`, operation `GET:object`: each field one token, so a
        // logfmt reader splits the line right.
        let (service, operation) = note.split_once(' ').unwrap_or((note.as_str(), ""));
        let operation = operation.replace(' ', ":");
        tracing::info!(
            target: "cairn::access",
            %method,
            %service,
            operation = %operation,
            status = resp.status().as_u16(),
            latency_ms = started.elapsed().as_secs_f64() * 1000.0,
            request_id = %rid,
            %source_ip,
            %access_key_id,
            "request"
        );
    }
    resp
}

/// Content a caller stored (an S3 object served as `text/html` or SVG, through a presigned URL
/// or not) comes from the console's origin, where AWS's would not: without this it could run
/// script as the signed-in console user, read the console's CSRF tokens and act as them.
/// Every response that did not set its own policy (the console sets a stricter one) gets
/// `Content-Security-Policy: sandbox` (an opaque origin with no scripts, forms or cookies of
/// ours) and `X-Content-Type-Options: nosniff`. API clients ignore both.
fn sandbox_content(headers: &mut http::HeaderMap) {
    headers
        .entry(http::header::CONTENT_SECURITY_POLICY)
        .or_insert(http::HeaderValue::from_static("sandbox"));
    headers
        .entry(http::header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(http::HeaderValue::from_static("nosniff"));
}

/// The service and operation of a request, for the access log (never its parameters).
#[derive(Clone, Debug)]
pub struct AccessNote(pub String);

/// A request's `Content-Length`, when it gives one.
fn declared_length(headers: &http::HeaderMap) -> Option<usize> {
    headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

async fn dispatch(state: &AppState, peer: SocketAddr, req: Request) -> Response {
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let raw_query = req.uri().query().unwrap_or("");
    if let Some(mut resp) = crate::sns::signing_certificate(state, req.method(), req.uri().path()) {
        resp.extensions_mut()
            .insert(AccessNote("sns certificate".to_owned()));
        return resp;
    }
    if crate::console::is_browser_root(req.method(), req.uri().path(), req.headers(), raw_query) {
        let mut resp = crate::console::redirect_root();
        resp.extensions_mut()
            .insert(AccessNote("console /".to_owned()));
        return resp;
    }
    if crate::console::is_console_request(req.method(), req.uri().path(), req.headers(), raw_query)
    {
        let source_ip = source_ip(&headers, peer.ip(), &state.settings.trusted_proxies);
        let mut resp = crate::console::handle(state, source_ip, req).await;
        resp.extensions_mut()
            .insert(AccessNote("console".to_owned()));
        return resp;
    }
    let mut route = route(
        crate::auth::scope_service(&headers, raw_query).as_deref(),
        &headers,
        req.uri().query().unwrap_or(""),
    );
    let mut request_id = if route == Route::S3 {
        crate::request_ids::s3_request_id()
    } else {
        crate::request_ids::uuid_request_id()
    };
    let mut req = req;
    // Room in the body budget for an unsigned form body read here, held to the end.
    let mut _unsigned_room = Vec::new();
    if route == Route::S3
        && crate::protocol::may_be_unsigned_query(req.method(), req.uri().path(), &headers)
    {
        // An unsigned form POST to `/` (STS's federated actions, or a Query call missing its
        // signature) is told from S3 by its body, read here within the body limit.
        let (parts, body) = req.into_parts();
        let max = state.settings.max_body_bytes;
        // A form POST to `/` is no S3 request: a body that cannot be read is answered as the
        // Query services answer (`<ErrorResponse>`, which their SDKs parse).
        let early = Early {
            protocol: Protocol::Query,
            cbor: false,
        };
        if let Some(n) = declared_length(&parts.headers).filter(|n| *n > max) {
            let rid = crate::request_ids::uuid_request_id();
            return refuse_declared(body, n, max, early, &rid).await;
        }
        // Within the budget too (recheck34b: 250 anonymous 8 MiB form bodies held 2 GB).
        let body = match crate::body_budget::read(body, max, &state.body_budget).await {
            Ok((b, room)) => {
                _unsigned_room = room;
                b
            }
            Err(e) => return unread_body(e, max, early, &crate::request_ids::uuid_request_id()),
        };
        if let Some(query_route) = crate::protocol::unsigned_query_route(&body) {
            route = query_route;
            // STS's unsigned calls (AssumeRoleWithWebIdentity, …) get their service's id.
            request_id = crate::request_ids::uuid_request_id();
        }
        req = Request::from_parts(parts, Body::from(body));
    }
    let source_ip = source_ip(&headers, peer.ip(), &state.settings.trusted_proxies);
    let secure_transport = crate::console::session::is_https(
        req.headers(),
        Some(cairn_core::net::unmapped(peer.ip())),
        &state.settings.trusted_proxies,
    );
    let note = access_note(&route, &headers, req.method(), req.uri().path());
    if route == Route::S3 {
        // S3 bodies stream (objects can be gigabytes); s3s verifies their signatures.
        let meta = crate::s3::RequestMeta {
            request_id,
            source_ip,
            secure_transport,
            pending: Default::default(),
            small_body: None,
        };
        let mut resp = crate::s3::handle(
            &state.s3,
            &state.settings.s3_host,
            &state.credentials,
            req,
            (meta, &state.body_budget),
        )
        .await;
        resp.extensions_mut().insert(note);
        return resp;
    }
    let protocol = match &route {
        Route::Sns | Route::Iam | Route::Sts | Route::Ec2 | Route::CloudFormation => {
            Protocol::Query
        }
        Route::Monitoring if !headers.iter().any(|(n, _)| n == "x-amz-target") => Protocol::Query,
        Route::Unserved { protocol, .. } => *protocol,
        _ => Protocol::Json,
    };
    let early = Early {
        protocol,
        cbor: route == Route::Monitoring
            && req
                .uri()
                .path()
                .starts_with(crate::monitoring::cbor::PATH_PREFIX),
    };
    let (parts, body) = req.into_parts();
    let max = state.settings.max_body_bytes;
    if let Some(n) = declared_length(&parts.headers).filter(|n| *n > max) {
        return refuse_declared(body, n, max, early, &request_id).await;
    }
    // Held as long as the request: the bytes past a small body count in the budget.
    let (body, _room) = match crate::body_budget::read(body, max, &state.body_budget).await {
        Ok(read) => read,
        Err(e) => return unread_body(e, max, early, &request_id),
    };
    // The signature covers the bytes as sent; the service reads them inflated.
    let body_sha256 = hex::encode(Sha256::digest(&body));
    let sent_len = body.len();
    // A gzip'd body is inflated only for a caller whose signature, over the bytes as sent,
    // holds: the service authenticates the call again, as every call.
    if crate::request_encoding::is_gzip(&headers) {
        let incoming = crate::auth::Incoming {
            method: parts.method.as_str(),
            raw_path: parts.uri.path(),
            raw_query: parts.uri.query().unwrap_or(""),
            headers: &headers,
            body_sha256: &body_sha256,
        };
        if let Err(f) = crate::auth::authenticate(&state.credentials, &incoming, state.now()).await
        {
            tracing::debug!(request_id = %request_id, failure = ?f, "authentication of a gzip'd body failed");
            let mut resp = early.render(&f.to_wire(protocol), &request_id);
            resp.extensions_mut().insert(note);
            return resp;
        }
    }
    let body = match crate::request_encoding::decoded_body_off_thread(&headers, body, max).await {
        Ok(b) => b,
        Err(crate::request_encoding::BodyEncodingError::TooLarge) => {
            return too_large(max, early, &request_id);
        }
        Err(crate::request_encoding::BodyEncodingError::Corrupt) => {
            return bad_encoding(early, &request_id);
        }
    };
    let received = Arc::new(Received {
        method: parts.method.clone(),
        raw_path: parts.uri.path().to_owned(),
        raw_query: parts.uri.query().unwrap_or("").to_owned(),
        body_sha256,
        headers,
        body,
        sent_len,
        source_ip,
        secure_transport,
        request_id,
    });
    let note = if protocol == Protocol::Query {
        let params = crate::query::Params::parse(&received.raw_query, &received.body);
        let note = AccessNote(format!("{} {}", note.0, params.action()));
        // Names nested past any Query shape are refused here, for every Query service, before
        // anything turns them into nested values.
        if let Some(e) = params.malformed() {
            let service = match &route {
                Route::Unserved { service, .. } => service.as_str(),
                Route::Sns => "sns",
                Route::Iam => "iam",
                Route::Sts => "sts",
                Route::Ec2 => "ec2",
                Route::CloudFormation => "cloudformation",
                _ => "monitoring",
            };
            let mut resp = crate::errors::render(protocol, service, &e, &received.request_id);
            resp.extensions_mut().insert(note);
            return resp;
        }
        note
    } else {
        note
    };
    let mut resp = match route {
        Route::Sns => crate::sns::handle(state, received).await,
        Route::Iam => crate::iam::handle(state, received).await,
        Route::Sts => crate::sts::handle(state, received).await,
        Route::Ec2 => crate::ec2::handle(state, received).await,
        Route::CloudFormation => crate::cloudformation::handle(state, received).await,
        Route::CloudTrail => crate::cloudtrail::handle(state, received).await,
        Route::Logs => crate::logs::handle(state, received).await,
        Route::Kms => crate::kms::handle(state, received).await,
        Route::Monitoring => crate::monitoring::handle(state, received).await,
        Route::Unserved { service, protocol } => {
            crate::unserved::service(state, &received, &service, protocol).await
        }
        Route::S3 => unreachable!("S3 requests were handed to s3s above"),
    };
    resp.extensions_mut().insert(note);
    resp
}

/// What the access log says a request was: the service and, where the envelope names it, the
/// operation (`X-Amz-Target`'s suffix; a Query `Action` once the body is read; for S3 only the
/// method and whether it addressed the service, a bucket or an object, never keys).
fn access_note(
    route: &Route,
    headers: &[(String, String)],
    method: &http::Method,
    path: &str,
) -> AccessNote {
    let target = headers
        .iter()
        .find(|(n, _)| n == "x-amz-target")
        .and_then(|(_, v)| v.rsplit('.').next())
        .unwrap_or("");
    AccessNote(match route {
        Route::CloudTrail => format!("cloudtrail {target}"),
        Route::Logs => format!("logs {target}"),
        Route::Kms => format!("kms {target}"),
        Route::Monitoring => format!("monitoring {target}"),
        Route::Sns => "sns".to_owned(),
        Route::Iam => "iam".to_owned(),
        Route::Sts => "sts".to_owned(),
        Route::Ec2 => "ec2".to_owned(),
        Route::CloudFormation => "cloudformation".to_owned(),
        Route::S3 => {
            let depth = path
                .trim_matches('/')
                .split('/')
                .filter(|s| !s.is_empty())
                .count();
            let level = match depth {
                0 => "service",
                1 => "bucket",
                _ => "object",
            };
            format!("s3 {method} {level}")
        }
        Route::Unserved { service, .. } => format!("{service} {target}"),
    })
}

/// A request's client address ([`cairn_core::net::client_ip`]) from every `X-Forwarded-For`
/// line, joined in order: the lines of one field are its comma-joined list (RFC 9110 §5.3),
/// and a proxy that adds a line of its own puts the hop it saw last. Reading only the first
/// line took a client's own line for the proxy's.
fn source_ip(
    headers: &[(String, String)],
    peer: std::net::IpAddr,
    trusted: &[cairn_core::net::Cidr],
) -> String {
    let lines: Vec<&str> = headers
        .iter()
        .filter(|(n, _)| n == "x-forwarded-for")
        .map(|(_, v)| v.as_str())
        .collect();
    let forwarded = (!lines.is_empty()).then(|| lines.join(","));
    cairn_core::net::client_ip(peer, forwarded.as_deref(), trusted).to_string()
}
