//! HTTP plumbing of the console: pages with their security headers, redirects, downloads,
//! form and query decoding, and URL building.

use askama::Template;
use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

/// The policy every console response carries: only this origin's own script, styles and
/// images; no frames, no plugins, forms post only here.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Adds the headers every console response carries.
pub fn secure(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
}

/// A rendered page with `status`. A form shown again with an operation's error answers 200,
/// as a single-page console would: the error is the page's content, not a failed load.
pub fn page_with<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => {
            let mut resp = Response::new(Body::from(html));
            *resp.status_mut() = status;
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "console template failed");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered.",
            )
        }
    }
}

/// The status of a console page showing the failure of a call: 404 for a trail that does not
/// exist, else the API's own (403 for a denial, 400 for a refused value, …).
pub fn error_status(e: &cairn_core::ApiError) -> StatusCode {
    match e.kind {
        cairn_core::ErrorKind::TrailNotFound => StatusCode::NOT_FOUND,
        _ => crate::errors::WireError::from(e).status,
    }
}

/// A short fingerprint of what a form was built from (a form carries it, and a save is
/// refused when what it names no longer has it).
pub fn fingerprint(shown: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(shown.to_string().as_bytes())[..12])
}

/// The status of a form page shown again with a call's error: 403 for a denial, 404 for a
/// trail that is gone, else 200 (the form with its error, as for a field's mistake).
pub fn form_status(e: &cairn_core::ApiError) -> StatusCode {
    match error_status(e) {
        s @ (StatusCode::FORBIDDEN | StatusCode::NOT_FOUND) => s,
        _ => StatusCode::OK,
    }
}

/// `resp` with `status`, unless it already carries an error of its own.
pub fn with_status(mut resp: Response, status: StatusCode) -> Response {
    if resp.status() == StatusCode::OK {
        *resp.status_mut() = status;
    }
    resp
}

/// A rendered page.
pub fn page<T: Template>(page: &T) -> Response {
    page_with(StatusCode::OK, page)
}

/// A plain-text response.
pub fn text(status: StatusCode, body: &str) -> Response {
    let mut resp = Response::new(Body::from(body.to_owned()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// `303 See Other` to `location` (a path on this console).
pub fn redirect(location: &str) -> Response {
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

/// A file download.
pub fn download(content_type: &'static str, filename: &str, body: Body) -> Response {
    let mut resp = Response::new(body);
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    let safe: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// Decoded `application/x-www-form-urlencoded` pairs (a form body or a query string).
#[derive(Clone, Debug, Default)]
pub struct Form(pub Vec<(String, String)>);

impl Form {
    /// Parses `raw`.
    pub fn parse(raw: &[u8]) -> Self {
        Self(
            form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, trimmed of surrounding blanks.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }

    /// The first value of `name` exactly as sent, blanks kept, or "": for values where an
    /// outer blank is part of the value (a tag key or value, a key prefix), which trimming
    /// changed behind the user's back (console10: a tag could not be removed, a prefix was
    /// changed by an unrelated save).
    pub fn exact(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// The first value of `name`, or "".
    pub fn str(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// Whether a checkbox named `name` was checked.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty())
    }
}

/// `path?k=v&…`, each pair URL-encoded; pairs with empty values are left out.
pub fn url(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs {
        if !v.is_empty() {
            q.append_pair(k, v);
            any = true;
        }
    }
    if any {
        format!("{path}?{}", q.finish())
    } else {
        path.to_owned()
    }
}

/// What a path segment may carry as it is: RFC 3986's unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// One path segment, percent-encoded.
pub fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_encode_and_skip_empty_values() {
        assert_eq!(
            url(
                "/console/events",
                &[("attr", "EventName"), ("value", "a b&c"), ("q", "")]
            ),
            "/console/events?attr=EventName&value=a+b%26c"
        );
        assert_eq!(url("/x", &[("q", "")]), "/x");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
        assert_eq!(segment("e-1_a.b~"), "e-1_a.b~");
    }

    #[test]
    fn forms_decode_repeated_fields() {
        let f = Form::parse(b"attr=EventName&value=+x+&attr=Username&value=bob&box=on");
        assert_eq!(f.all("attr"), vec!["EventName", "Username"]);
        assert_eq!(f.get("value"), Some("x"));
        assert_eq!(f.exact("value"), " x ");
        assert_eq!(f.exact("missing"), "");
        assert!(f.checked("box"));
        assert!(!f.checked("other"));
    }
}
