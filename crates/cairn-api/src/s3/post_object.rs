//! Browser-based uploads (presigned POST, `multipart/form-data` to a bucket), around what
//! s3s does with them: `${filename}` in the `key` field becomes the uploaded file's name, as
//! on S3, before s3s reads the form (its policy check included); a session's
//! `x-amz-security-token` field is the request's token; the upload is marked
//! ([`FormUpload`]) so that its record says `HtmlForm`; a listed `Content-Type` is checked
//! value by value (`post_policy`); and the 201 answer (`success_action_status=201`) carries
//! S3's `PostResponse`: an absolute `Location`, the bucket, the key and the quoted ETag.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::response::Response;
use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::leftover::SharedBody;

/// How much of a form is read ahead to find the file part: its fields come first, and s3s
/// refuses forms whose fields are larger than this anyway.
const MAX_FIELDS: usize = 1024 * 1024;

/// Marks a request as a browser form upload (in its extensions), signed with SigV2
/// (`AWSAccessKeyId`/`signature` fields) or SigV4.
#[derive(Clone, Copy, Debug)]
pub(super) struct FormUpload {
    /// SigV2 (`AWSAccessKeyId` and `signature` fields).
    pub sigv2: bool,
}

/// What [`prepare`] made of a request.
pub(super) struct Prepared {
    /// The body s3s reads.
    pub body: s3s::Body,
    /// What the answer needs (a form upload with a key).
    pub form: Option<Form>,
    /// The request is a form upload (a POST of `multipart/form-data`).
    pub is_form: bool,
    /// A refusal S3 makes that s3s does not (a listed `Content-Type` against the policy).
    pub refusal: Option<crate::errors::WireError>,
}

/// What the answer needs to know about a form upload.
pub(super) struct Form {
    /// `http://<host>/<bucket>/` (or `http://<bucket host>/`): the object URL before its key.
    base: String,
    /// The bucket.
    bucket: String,
    /// The object's key, `${filename}` replaced.
    key: String,
}

/// A body whose first bytes were read ahead (and perhaps rewritten).
struct Prefixed {
    prefix: Option<Bytes>,
    inner: SharedBody,
}

impl Body for Prefixed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(p) = self.prefix.take() {
            return Poll::Ready(Some(Ok(Frame::data(p))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.prefix.is_none() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let mut hint = self.inner.size_hint();
        let extra = self.prefix.as_ref().map_or(0, |p| p.len() as u64);
        hint.set_lower(hint.lower() + extra);
        if let Some(u) = hint.upper() {
            hint.set_upper(u + extra);
        }
        hint
    }
}

/// The multipart boundary of a form upload to a bucket, if `parts` is one.
fn boundary(parts: &http::request::Parts) -> Option<String> {
    if parts.method != http::Method::POST {
        return None;
    }
    let ct = parts
        .headers
        .get(http::header::CONTENT_TYPE)?
        .to_str()
        .ok()?;
    let (kind, params) = ct.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params.split(';').find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.eq_ignore_ascii_case("boundary")
            .then(|| v.trim_matches('"').to_owned())
    })
}

/// A part's `Content-Disposition` parameter (`name`, `filename`).
fn disposition_param(headers: &str, param: &str) -> Option<String> {
    headers.split("\r\n").find_map(|line| {
        let (name, value) = line.split_once(':')?;
        if !name.trim().eq_ignore_ascii_case("content-disposition") {
            return None;
        }
        value.split(';').find_map(|p| {
            let (k, v) = p.trim().split_once('=')?;
            (k.trim() == param).then(|| v.trim().trim_matches('"').to_owned())
        })
    })
}

/// What the read-ahead found: the fields before the file (lower-cased names, value ranges),
/// the `key` field's value range and the file part's name.
#[derive(Debug, Default, PartialEq)]
struct Found {
    fields: Vec<(String, (usize, usize))>,
    key: Option<(usize, usize)>,
    filename: Option<String>,
    /// Whether the file part's headers were reached.
    file: bool,
}

/// Walks the parts of `buf` (a form's first bytes) up to the file part's headers.
fn scan(buf: &[u8], boundary: &str) -> Found {
    let delim = format!("--{boundary}");
    let next_delim = format!("\r\n--{boundary}");
    let mut found = Found::default();
    let Some(mut at) = find(buf, delim.as_bytes(), 0) else {
        return found;
    };
    loop {
        let headers_start = at + delim.len() + 2;
        let Some(headers_end) = find(buf, b"\r\n\r\n", headers_start) else {
            return found;
        };
        let headers = String::from_utf8_lossy(&buf[headers_start..headers_end]);
        let value_start = headers_end + 4;
        if disposition_param(&headers, "name").as_deref() == Some("file") {
            found.filename = disposition_param(&headers, "filename");
            found.file = true;
            return found;
        }
        let Some(value_end) = find(buf, next_delim.as_bytes(), value_start) else {
            return found;
        };
        if let Some(name) = disposition_param(&headers, "name") {
            let name = name.to_ascii_lowercase();
            if name == "key" {
                found.key = Some((value_start, value_end));
            }
            found.fields.push((name, (value_start, value_end)));
        }
        at = value_end + 2;
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// The body s3s reads. For a form upload the fields are read ahead (up to [`MAX_FIELDS`]) and
/// `${filename}` in `key` replaced (the `Content-Length` s3s sees follows); the returned
/// [`Form`] then lets [`finish`] complete the answer.
pub(super) async fn prepare(
    parts: &mut http::request::Parts,
    vhost: &super::access::CairnHost,
    mut body: SharedBody,
) -> Prepared {
    let Some(boundary) = boundary(parts) else {
        return Prepared {
            body: s3s::Body::http_body_unsync(body),
            form: None,
            is_form: false,
            refusal: not_a_form(parts, vhost),
        };
    };
    let mut buf = BytesMut::new();
    let mut found = Found::default();
    let mut ended = false;
    while buf.len() <= MAX_FIELDS {
        match body.frame().await {
            Some(Ok(frame)) => {
                if let Some(d) = frame.data_ref() {
                    buf.extend_from_slice(d);
                    found = scan(&buf, &boundary);
                    if found.file {
                        break;
                    }
                }
            }
            None => {
                ended = true;
                break;
            }
            // A failed read is s3s's to report: it will find the body cut short.
            Some(Err(_)) => break,
        }
    }
    let mut buf = buf.freeze();
    let field = |name: &str| {
        found
            .fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, (s, e))| String::from_utf8_lossy(&buf[*s..*e]).into_owned())
    };
    let mut refusal = None;
    if ended && !found.file && !found.fields.is_empty() {
        refusal = Some(crate::errors::WireError::bad_request(
            "InvalidArgument",
            "POST requires exactly one file upload per request.",
        ));
    }
    if found.file {
        parts.extensions.insert(FormUpload {
            sigv2: field("awsaccesskeyid").is_some() && field("x-amz-signature").is_none(),
        });
        // A session's form carries its token as a field (signed through the policy).
        if let Some(token) = field("x-amz-security-token")
            && !parts.headers.contains_key("x-amz-security-token")
            && let Ok(v) = http::HeaderValue::from_str(&token)
        {
            parts.headers.insert("x-amz-security-token", v);
        }
        // Object Lock fields the router does not know (the event hold) ask for Object Lock
        // as the headers do: carried as headers, so the write's check refuses them.
        for (name, (s, e)) in &found.fields {
            if name.starts_with("x-amz-object-lock-")
                && let (Ok(n), Ok(v)) = (
                    http::HeaderName::from_bytes(name.as_bytes()),
                    http::HeaderValue::from_bytes(&buf[*s..*e]),
                )
                && !parts.headers.contains_key(&n)
            {
                parts.headers.insert(n, v);
            }
        }
        if let (Some(policy), Some(content_type)) = (field("policy"), field("content-type")) {
            refusal = super::post_policy::listed_content_types(&policy, &content_type).err();
        }
    }
    let mut form = None;
    if let (true, Some((start, end))) = (found.file, found.key) {
        let key = String::from_utf8_lossy(&buf[start..end]).into_owned();
        let key = match &found.filename {
            Some(name) if key.contains("${filename}") => {
                let replaced = key.replace("${filename}", name);
                let mut out = BytesMut::with_capacity(buf.len() + replaced.len());
                out.extend_from_slice(&buf[..start]);
                out.extend_from_slice(replaced.as_bytes());
                out.extend_from_slice(&buf[end..]);
                let grown = out.len() as i64 - buf.len() as i64;
                buf = out.freeze();
                if let Some(len) = parts
                    .headers
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<i64>().ok())
                    && let Ok(v) = http::HeaderValue::from_str(&(len + grown).to_string())
                {
                    parts.headers.insert(http::header::CONTENT_LENGTH, v);
                }
                replaced
            }
            _ => key,
        };
        form = object_base(parts, vhost).map(|(base, bucket)| Form { base, bucket, key });
    }
    let body = Prefixed {
        prefix: (!buf.is_empty()).then_some(buf),
        inner: body,
    };
    Prepared {
        body: s3s::Body::http_body_unsync(body),
        form,
        is_form: true,
        refusal,
    }
}

/// S3's answer to a POST to a bucket (no subresource) that is not a form:
/// `PreconditionFailed`, "Bucket POST must be of the enclosure-type multipart/form-data".
fn not_a_form(
    parts: &http::request::Parts,
    vhost: &super::access::CairnHost,
) -> Option<crate::errors::WireError> {
    if parts.method != http::Method::POST || parts.uri.query().is_some_and(|q| !q.is_empty()) {
        return None;
    }
    let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    let path = parts.uri.path().trim_matches('/');
    let names_a_bucket = if vhost.bucket(host).is_some() {
        path.is_empty()
    } else {
        !path.is_empty() && !path.contains('/')
    };
    names_a_bucket.then(|| crate::errors::WireError {
        code: "PreconditionFailed",
        status: http::StatusCode::PRECONDITION_FAILED,
        message: "At least one of the pre-conditions you specified did not hold".to_owned(),
    })
}

/// The object URL's start and the bucket of a form upload: virtual-host or path style, as the
/// request was addressed.
fn object_base(
    parts: &http::request::Parts,
    vhost: &super::access::CairnHost,
) -> Option<(String, String)> {
    let host = parts.headers.get(http::header::HOST)?.to_str().ok()?;
    if let Some(bucket) = vhost.bucket(host) {
        return Some((format!("http://{host}/"), bucket.to_owned()));
    }
    let bucket = parts.uri.path().trim_matches('/');
    let decoded = percent_encoding::percent_decode_str(bucket)
        .decode_utf8()
        .ok()?
        .into_owned();
    Some((format!("http://{host}/{bucket}/"), decoded))
}

/// Everything but unreserved characters is encoded in the `Location` key (S3 encodes `/` too).
const LOCATION_KEY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// An object's (or, without a key, a bucket's) absolute URL as S3 gives it in a `Location`:
/// addressed as the request was (a bucket's own host, or path style), the key encoded.
pub(super) fn location_url(
    vhost: &super::access::CairnHost,
    host: &str,
    bucket: &str,
    key: Option<&str>,
) -> String {
    let base = if vhost.bucket(host).is_some() {
        format!("http://{host}/")
    } else {
        format!("http://{host}/{bucket}/")
    };
    format!(
        "{base}{}",
        utf8_percent_encode(key.unwrap_or(""), LOCATION_KEY)
    )
}

/// Completes a form upload's 201 answer with S3's `PostResponse`; other answers pass.
pub(super) async fn finish(resp: Response, form: Option<Form>) -> Response {
    let Some(form) = form.filter(|_| resp.status() == http::StatusCode::CREATED) else {
        return resp;
    };
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = http_body_util::Limited::new(body, 65_536).collect().await else {
        return Response::from_parts(parts, axum::body::Body::empty());
    };
    let bytes = bytes.to_bytes();
    let text = String::from_utf8_lossy(&bytes);
    let etag = text
        .split_once("<ETag>")
        .and_then(|(_, rest)| rest.split_once("</ETag>"))
        .map(|(e, _)| e.trim_matches('"').replace("&quot;", ""))
        .unwrap_or_default();
    let esc = crate::errors::xml_escape;
    let location = format!(
        "{}{}",
        form.base,
        utf8_percent_encode(&form.key, LOCATION_KEY)
    );
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>{}</Location><Bucket>{}</Bucket><Key>{}</Key><ETag>\"{}\"</ETag></PostResponse>",
        esc(&location),
        esc(&form.bucket),
        esc(&form.key),
        esc(&etag)
    );
    parts.headers.remove(http::header::CONTENT_LENGTH);
    if let Ok(v) = http::HeaderValue::from_str(&format!("\"{etag}\"")) {
        parts.headers.insert(http::header::ETAG, v);
    }
    if let Ok(v) = http::HeaderValue::from_str(&location) {
        parts.headers.insert(http::header::LOCATION, v);
    }
    Response::from_parts(parts, axum::body::Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_field_and_the_file_name_are_found_before_the_file() {
        let form = "--XyZ\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nup/${filename}\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"policy\"\r\n\r\nabc\r\n\
                    --XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.txt\"\r\n\
                    Content-Type: text/plain\r\n\r\nDATA";
        let found = scan(form.as_bytes(), "XyZ");
        assert!(found.file);
        assert_eq!(found.filename.as_deref(), Some("a b.txt"));
        let (s, e) = found.key.unwrap();
        assert_eq!(&form[s..e], "up/${filename}");
        // Cut before the file part's headers end: not found yet.
        let partial = &form[..form.find("Content-Type").unwrap()];
        assert!(!scan(partial.as_bytes(), "XyZ").file);
    }
}
