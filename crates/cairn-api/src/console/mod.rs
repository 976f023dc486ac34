//! The web console at `/console/`: server-rendered pages (the templates live in the
//! `cairn-console` crate) over the operations the API serves.
//!
//! A request reaches the console only when it is not an API request: no `Authorization`
//! header, no presigned query, no `X-Amz-Target` ([`is_console_request`]); a signed request
//! to `/console/…` is an S3 call on a bucket named `console`. Signed-in users act only
//! through [`calls::Caller`], which runs the same operations through the same gate as the
//! API, as that user, recorded with AWS's console markers. Every response carries a strict
//! Content-Security-Policy; every form carries the session's CSRF token.

mod calls;
mod checks;
mod edit;
pub mod events;
pub mod history;
mod insights;
mod logs;
mod provision;
mod selectors;
pub mod session;
pub mod signin;
pub mod throttle;
mod trails;
mod validate;
pub mod web;
mod wizard;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use cairn_core::ApiError;
use cairn_model::Region;
use http::{HeaderValue, Method, StatusCode, header};

use crate::server::AppState;
use web::Form;

/// Held by a trail's Edit and event-selector saves from their fingerprint check to their last
/// write, so two admins saving at once are served one after the other: the second sees the
/// first's change and is refused as stale (409), never told "saved" while it is overwritten.
pub(crate) static TRAIL_SAVES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Largest form body the console reads.
const MAX_FORM_BYTES: usize = 256 * 1024;

/// Whether the request carries any AWS signature or API marker (then it is an API request,
/// whatever its path).
fn is_api(headers: &http::HeaderMap, query: &str) -> bool {
    if headers.contains_key(header::AUTHORIZATION) || headers.contains_key("x-amz-target") {
        return true;
    }
    form_urlencoded::parse(query.as_bytes()).any(|(k, _)| {
        matches!(
            k.as_ref(),
            "X-Amz-Signature" | "X-Amz-Credential" | "AWSAccessKeyId" | "Signature"
        )
    })
}

/// Whether the console answers this request.
pub fn is_console_request(
    method: &Method,
    path: &str,
    headers: &http::HeaderMap,
    query: &str,
) -> bool {
    (path == "/console" || path.starts_with("/console/"))
        && matches!(*method, Method::GET | Method::HEAD | Method::POST)
        && !is_api(headers, query)
}

/// Whether this is a browser asking for `/`: it is sent to the console.
pub fn is_browser_root(
    method: &Method,
    path: &str,
    headers: &http::HeaderMap,
    query: &str,
) -> bool {
    *method == Method::GET
        && path == "/"
        && query.is_empty()
        && !is_api(headers, query)
        && headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
}

/// `302 Found` to the console, for a browser's `GET /`.
pub fn redirect_root() -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::FOUND;
    resp.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static("/console/"));
    resp
}

/// The API whose error the console shows: each names a denial its own way. CloudTrail, KMS
/// and CloudWatch Logs (AWS JSON services) answer `AccessDeniedException`; IAM's Query API
/// `AccessDenied`. S3 (`AccessDenied`) and SNS (`AuthorizationError`) denials get their own
/// error kinds from [`calls::Caller`], so they show right whichever of these is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// CloudTrail, KMS, CloudWatch Logs.
    Json,
    /// IAM.
    Iam,
}

/// An operation's error as the console shows it: the code the API answered and its
/// message. For errors of a JSON service, S3 or SNS; [`describe_error_of`] for IAM's.
pub fn describe_error(e: &ApiError) -> String {
    describe_error_of(Api::Json, e)
}

/// The console's error page for `e` under navigation entry `nav`, with the error's status
/// (403 for a denial, 404 for what does not exist, 400 otherwise).
pub fn error_page(
    signed: &session::Signed,
    nav: &'static str,
    title: &str,
    e: &ApiError,
) -> Response {
    web::page_with(
        web::error_status(e),
        &cairn_console::pages::ErrorPage {
            chrome: signed.chrome(nav),
            title: title.to_owned(),
            message: describe_error(e),
        },
    )
}

/// An error of `api`'s operation as the console shows it: its code and message.
pub fn describe_error_of(api: Api, e: &ApiError) -> String {
    if e.kind == cairn_core::ErrorKind::Internal {
        return "An internal error occurred. Try again.".to_owned();
    }
    let code = match api {
        Api::Json => crate::errors::WireError::json(e).code,
        Api::Iam => crate::errors::WireError::from(e).code,
    };
    format!("{code}: {}", e.message)
}

/// Answers one console request.
pub async fn handle(state: &AppState, source_ip: String, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = if parts.method == Method::POST {
        match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return finish(web::text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "The form is too large.",
                ));
            }
        }
    } else {
        bytes::Bytes::new()
    };
    let query = Form::parse(parts.uri.query().unwrap_or("").as_bytes());
    let path = parts.uri.path().to_owned();
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip());
    let https = session::is_https(&parts.headers, peer, &state.settings.trusted_proxies);
    let trusted = session::is_trusted(peer, &state.settings.trusted_proxies);
    let forwarded_host = session::forwarded_host(&parts.headers, trusted);
    let req = Incoming {
        method: &parts.method,
        path: &path,
        headers: &parts.headers,
        query: &query,
        body: &body,
        source_ip: &source_ip,
        https,
        forwarded_host: forwarded_host.as_deref(),
    };
    let mut resp = route(state, &req).await;
    if https {
        session::secure_cookies(&mut resp);
    }
    finish(resp)
}

/// One console request, read.
pub struct Incoming<'a> {
    /// Method.
    pub method: &'a Method,
    /// Path.
    pub path: &'a str,
    /// Headers.
    pub headers: &'a http::HeaderMap,
    /// The query string's pairs.
    pub query: &'a Form,
    /// The form body (POST).
    pub body: &'a [u8],
    /// The browser's address.
    pub source_ip: &'a str,
    /// Whether the browser came over https ([`session::is_https`]).
    pub https: bool,
    /// The host the browser addressed, as a trusted proxy forwarded it
    /// ([`session::forwarded_host`]); `None` when the peer is not a trusted proxy.
    pub forwarded_host: Option<&'a str>,
}

fn finish(mut resp: Response) -> Response {
    web::secure(&mut resp);
    resp
}

async fn route(state: &AppState, req: &Incoming<'_>) -> Response {
    let Incoming {
        method,
        path,
        headers,
        query,
        body,
        source_ip,
        ..
    } = *req;
    let rest = path.strip_prefix("/console").unwrap_or("");
    let segments: Vec<String> = rest
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    let get = *method == Method::GET || *method == Method::HEAD;
    match (get, seg.as_slice()) {
        (true, ["assets", name]) => return asset(name),
        (true, ["signin"]) => {
            let notice = query.get("signed_out").map(|_| "You signed out.");
            return signin::page(notice, headers);
        }
        (false, ["signin"]) => return signin::submit(state, req).await,
        _ => {}
    }
    let Some(signed) = session::load(state, headers, source_ip, req.https).await else {
        let mut resp = web::redirect("/console/signin");
        if session::cookie(headers, session::COOKIE).is_some() {
            session::set_cookie(&mut resp, session::COOKIE, "", "/console", 0);
        }
        return resp;
    };
    let form = Form::parse(body);
    if !get
        && (!signed.csrf_ok(form.get("csrf"))
            || !session::same_origin(headers, req.https, req.forwarded_host))
    {
        return web::page_with(
            StatusCode::FORBIDDEN,
            &cairn_console::pages::ErrorPage {
                chrome: signed.chrome(""),
                title: "Request refused".to_owned(),
                message: "The form did not carry this session's security token (CSRF). Reload the page and try again.".to_owned(),
            },
        );
    }
    // A form acts in the region of the page it was on (each tab's own, as AWS's regional
    // console addresses make it), and that region becomes the session's.
    let signed = match form.get("page_region").map(Region::parse) {
        Some(Ok(page))
            if !get
                && !matches!(seg.as_slice(), ["region"] | ["signout"])
                && page != signed.region =>
        {
            signin::remember_region(state, &signed, &page).await;
            session::Signed {
                region: page,
                ..signed
            }
        }
        _ => signed,
    };
    match (get, seg.as_slice()) {
        (true, []) => trails::dashboard(state, &signed).await,
        (true, ["events"]) => events::page(state, &signed, query).await,
        (true, ["events", "download"]) => events::download(state, &signed, query).await,
        (true, ["events", id]) => events::detail(state, &signed, id).await,
        (true, ["timeline"]) => events::timeline(state, &signed, query).await,
        (true, ["insights"]) => insights::page(state, &signed, query).await,
        (true, ["trails"]) => trails::list(state, &signed, query).await,
        (true, ["trails", "create"]) => wizard::page(&signed, query),
        (false, ["trails", "create"]) => wizard::submit(state, &signed, &form).await,
        (true, ["trails", name]) => {
            let notice = trails::notice(&signed, name, query);
            trails::detail(state, &signed, name, notice, None).await
        }
        (true, ["trails", name, "edit"]) => edit::page(state, &signed, name).await,
        (false, ["trails", name, "edit"]) => edit::submit(state, &signed, name, &form).await,
        (true, ["trails", name, "delete"]) => trails::confirm_delete(state, &signed, name).await,
        (false, ["trails", name, "delete"]) => trails::delete(state, &signed, name, &form).await,
        (true, ["trails", name, "logs"]) => logs::browse(state, &signed, name, query).await,
        (true, ["trails", name, "logs", "file"]) => logs::file(state, &signed, name, query).await,
        (false, ["trails", name, "logs", "validate"]) => {
            logs::validate(state, &signed, name, &form).await
        }
        (false, ["trails", name, action]) => trails::act(state, &signed, name, action, &form).await,
        (false, ["signout"]) => signin::sign_out(state, &signed).await,
        (false, ["region"]) => {
            let back = headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(|r| r.find("/console").map(|i| r[i..].to_owned()))
                .unwrap_or_else(|| "/console/".to_owned());
            signin::switch_region(state, &signed, &form, &back).await
        }
        _ => web::page_with(
            StatusCode::NOT_FOUND,
            &cairn_console::pages::ErrorPage {
                chrome: signed.chrome(""),
                title: "Page not found".to_owned(),
                message: format!("The console has no page at {path}."),
            },
        ),
    }
}

fn asset(name: &str) -> Response {
    match cairn_console::assets::get(name) {
        Some(a) => {
            let mut resp = Response::new(Body::from(a.body));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(a.content_type),
            );
            resp.headers_mut().insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            );
            resp
        }
        None => web::text(StatusCode::NOT_FOUND, "Not found."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_requests_are_never_the_console() {
        let mut h = http::HeaderMap::new();
        assert!(is_console_request(&Method::GET, "/console/", &h, ""));
        assert!(is_console_request(&Method::GET, "/console", &h, ""));
        assert!(!is_console_request(&Method::GET, "/consoles", &h, ""));
        assert!(!is_console_request(
            &Method::GET,
            "/console/key",
            &h,
            "X-Amz-Signature=abc&X-Amz-Credential=x"
        ));
        assert!(!is_console_request(&Method::PUT, "/console", &h, ""));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x"),
        );
        assert!(!is_console_request(&Method::GET, "/console/", &h, ""));
    }

    #[test]
    fn only_browsers_are_sent_from_the_root() {
        let mut h = http::HeaderMap::new();
        assert!(!is_browser_root(&Method::GET, "/", &h, ""));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml"),
        );
        assert!(is_browser_root(&Method::GET, "/", &h, ""));
        assert!(!is_browser_root(&Method::GET, "/", &h, "list-type=2"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=x"),
        );
        assert!(!is_browser_root(&Method::GET, "/", &h, ""));
    }
}
