//! The AWS Query protocol: form parameters in, XML out. Shared by every Query service
//! (SNS today; IAM, STS, CloudFormation and CloudWatch as they land) and used to answer
//! Query requests for services Cairn does not serve, so the CLI can parse the error.

use axum::body::Body;
use axum::response::Response;
use http::HeaderValue;

use crate::errors::{WireError, xml_escape};
use crate::server::set_request_id;

/// A Query request's parameters: the URL query string's, then the form body's.
#[derive(Clone, Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// Decodes the query string and a form-encoded body (`+` is a space).
    pub fn parse(raw_query: &str, body: &[u8]) -> Self {
        let mut params: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes())
            .into_owned()
            .collect();
        params.extend(form_urlencoded::parse(body).into_owned());
        Self(params)
    }

    /// Parameters given as pairs (calls made inside the server).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Action`.
    pub fn action(&self) -> &str {
        self.get("Action").unwrap_or("")
    }

    /// Every parameter, in order.
    pub fn iter(&self) -> impl Iterator<Item = &(String, String)> {
        self.0.iter()
    }
}

fn xml(status: http::StatusCode, body: String, rid: &str) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/xml"),
    );
    set_request_id(&mut resp, rid);
    resp
}

/// A successful Query response: `<{Action}Response><{Action}Result>…` with the request id.
/// `result` is already-escaped XML; `None` writes no result element (operations without
/// output).
pub fn ok(namespace: &str, action: &str, result: Option<&str>, rid: &str) -> Response {
    let result = result
        .map(|r| format!("<{action}Result>{r}</{action}Result>"))
        .unwrap_or_default();
    xml(
        http::StatusCode::OK,
        format!(
            "<{action}Response xmlns=\"{namespace}\">{result}<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata></{action}Response>"
        ),
        rid,
    )
}

/// A Query error: `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/>`.
pub fn error(namespace: &str, e: &WireError, rid: &str) -> Response {
    let kind = if e.status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let ns = if namespace.is_empty() {
        String::new()
    } else {
        format!(" xmlns=\"{namespace}\"")
    };
    xml(
        e.status,
        format!(
            "<ErrorResponse{ns}><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>",
            e.code,
            xml_escape(&e.message)
        ),
        rid,
    )
}

/// An error in EC2's dialect of the Query protocol: `<Response><Errors><Error>…`.
pub fn ec2_error(e: &WireError, rid: &str) -> Response {
    xml(
        e.status,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>{}</Message></Error></Errors><RequestID>{rid}</RequestID></Response>",
            e.code,
            xml_escape(&e.message)
        ),
        rid,
    )
}
