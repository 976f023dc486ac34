//! The AWS Query protocol: form parameters in, XML out. Shared by every Query service
//! (SNS today; IAM, STS, CloudFormation and CloudWatch as they land) and used to answer
//! Query requests for services Cairn does not serve, so the CLI can parse the error.

use axum::body::Body;
use axum::response::Response;
use http::HeaderValue;

use crate::errors::{WireError, xml_escape};
use crate::server::set_request_id;

/// The most dot-separated segments a parameter name may have. AWS's deepest Query shapes
/// nest about eight (`Metrics.member.1.MetricStat.Metric.Dimensions.member.1.Name` in
/// CloudWatch's PutMetricAlarm); 32 leaves four times that room while keeping every
/// conversion of names into nested structures (IAM's recorded parameters, CloudWatch's
/// JSON shape, and the recursive drop and serialisation of those values) far from the
/// stack's limit. A name with 20,000 segments used to overflow a worker's stack and abort
/// the server.
pub const MAX_NAME_SEGMENTS: usize = 32;

/// The most parameters a Query request may carry. The largest legal request carries fewer
/// (CloudWatch's PutMetricData with 1,000 datums of 150 values and counts and 30 dimensions:
/// about 365,000); the bound stops a small gzip'd body of millions of `a=1` pairs from making
/// the server hold millions of strings.
pub const MAX_PARAMETERS: usize = 400_000;

/// A Query request's parameters: the URL query string's, then the form body's.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// The first name that nests deeper than [`MAX_NAME_SEGMENTS`] (its pair is left out).
    too_deep: Option<String>,
    /// More than [`MAX_PARAMETERS`] were sent (those after it are not kept).
    too_many: bool,
    /// The first name with a list or map index that is not 1 to [`MAX_INDEX`], written
    /// plainly (iamapi3: `Tags.member.0` and `member.999999999999` were acted on by IAM and
    /// STS but left out of the record, which keeps indexes 1 to 1,000).
    bad_index: Option<String>,
}

/// The highest `member.N` / `entry.N` index a Query request may use: AWS's largest Query
/// lists hold 1,000 items (CloudWatch's PutMetricData datums).
pub const MAX_INDEX: usize = 1000;

/// Whether every `member.N` and `entry.N` of a parameter name is an index from 1 to
/// [`MAX_INDEX`] written without sign or leading zero.
fn indexes_in_range(name: &str) -> bool {
    let parts: Vec<&str> = name.split('.').collect();
    parts.windows(2).all(|w| {
        !matches!(w[0], "member" | "entry")
            || (!w[1].starts_with('0')
                && w[1].bytes().all(|b| b.is_ascii_digit())
                && w[1]
                    .parse::<usize>()
                    .is_ok_and(|n| (1..=MAX_INDEX).contains(&n)))
    }) && !parts
        .last()
        .is_some_and(|l| matches!(*l, "member" | "entry"))
}

/// The query parameters that carry a presigned request's signature, not the operation's input.
const PRESIGN_PARAMETERS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
];

impl Params {
    /// Decodes the query string and a form-encoded body (`+` is a space). A name with more
    /// than [`MAX_NAME_SEGMENTS`] segments is left out and remembered ([`Params::malformed`]).
    pub fn parse(raw_query: &str, body: &[u8]) -> Self {
        let mut too_deep = None;
        // A name sent twice keeps its first value only: the operation, its authorization and
        // its record all read that one (the record once showed the last, so an attached
        // AdministratorAccess could be recorded as ReadOnlyAccess).
        // Every pair counts toward the bound, repeated or not.
        let mut seen = std::collections::HashSet::new();
        let mut count = 0usize;
        let pairs = form_urlencoded::parse(raw_query.as_bytes())
            .filter(|(k, _)| !PRESIGN_PARAMETERS.contains(&k.as_ref()))
            .chain(form_urlencoded::parse(body))
            .take_while(|_| {
                count += 1;
                count <= MAX_PARAMETERS + 1
            })
            .filter(|(k, _)| seen.insert(k.clone()))
            .filter(|(k, _)| {
                let deep = k.split('.').nth(MAX_NAME_SEGMENTS).is_some();
                if deep && too_deep.is_none() {
                    too_deep = Some(k.chars().take(64).collect());
                }
                !deep
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect::<Vec<_>>();
        let too_many = count > MAX_PARAMETERS;
        let pairs = if too_many { Vec::new() } else { pairs };
        let bad_index = pairs
            .iter()
            .find(|(k, _)| !indexes_in_range(k))
            .map(|(k, _)| k.chars().take(64).collect());
        Self {
            pairs,
            too_deep,
            bad_index,
            too_many,
        }
    }

    /// Parameters given as pairs (calls made inside the server).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self {
            pairs,
            too_deep: None,
            too_many: false,
            bad_index: None,
        }
    }

    /// The error a request whose parameter names nest deeper than any Query shape gets:
    /// AWS's front end refuses a query string it cannot read with `MalformedQueryString`
    /// before any operation runs (so, like an unknown action, nothing is recorded).
    pub fn malformed(&self) -> Option<WireError> {
        if self.too_many {
            return Some(WireError::bad_request(
                "MalformedQueryString",
                format!("The request carries more than {MAX_PARAMETERS} parameters."),
            ));
        }
        if let Some(name) = &self.bad_index {
            return Some(WireError::bad_request(
                "MalformedQueryString",
                format!(
                    "The parameter name '{name}' has a list or map index outside 1 to {MAX_INDEX}."
                ),
            ));
        }
        self.too_deep.as_ref().map(|name| {
            WireError::bad_request(
                "MalformedQueryString",
                format!(
                    "The parameter name beginning '{name}' has more than {MAX_NAME_SEGMENTS} dot-separated parts."
                ),
            )
        })
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
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
        self.pairs.iter()
    }

    /// Only the parameters that are members of this `Action` in `service`'s model (its
    /// name there), with `Action` and `Version`: what the operation, its authorization and
    /// its record read. A member of another operation added by hand (SNS Unsubscribe with a
    /// `TopicArn`) is ignored, as AWS ignores it, so it cannot steer authorization to a
    /// resource the call does not act on (hostile5). An action the model lacks keeps all.
    pub fn own_members(&self, service: &str) -> Self {
        let action = self.action().to_owned();
        // A name must also fit its member's shape at every depth (`AlarmNames.member.1`, not
        // `AlarmNames.member.1.x` or `AlarmNames.1`): see [`crate::query_shapes`]. A member
        // the rules do not type (an action the model lacks) keeps every name.
        let own = |k: &str| {
            let member = k.split('.').next().unwrap_or(k);
            k == "Action"
                || k == "Version"
                || (!crate::model_check::query_unmodeled(service, &action, member)
                    && (crate::model_check::member_type(service, &action, member).is_none()
                        || crate::query_shapes::name_fits(service, &action, k)))
        };
        Self {
            pairs: self.pairs.iter().filter(|(k, _)| own(k)).cloned().collect(),
            too_deep: self.too_deep.clone(),
            too_many: self.too_many,
            bad_index: self.bad_index.clone(),
        }
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

/// A Query service's answer in JSON, for a client that asks for it with `Accept:
/// application/json` (STS does this for GetCallerIdentity, which token verifiers such as
/// aws-iam-authenticator and Vault send presigned): `{"<Action>Response": {"<Action>Result":
/// result, "ResponseMetadata": {"RequestId": …}}}`, or `{"Error": {…}, "RequestId": …}`.
pub fn json_answer(
    action: &str,
    result: Result<serde_json::Value, &WireError>,
    rid: &str,
) -> Response {
    let (status, body) = match result {
        Ok(r) => (
            http::StatusCode::OK,
            serde_json::json!({ format!("{action}Response"): {
                format!("{action}Result"): r,
                "ResponseMetadata": {"RequestId": rid},
            }}),
        ),
        Err(e) => (
            e.status,
            serde_json::json!({
                "Error": {
                    "Code": e.code,
                    "Message": e.message,
                    "Type": if e.status.is_server_error() { "Receiver" } else { "Sender" },
                },
                "RequestId": rid,
            }),
        ),
    };
    let mut resp = Response::new(Body::from(body.to_string()));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    set_request_id(&mut resp, rid);
    resp
}

/// Whether a Query request asks for a JSON answer (`Accept: application/json`).
pub fn wants_json(req: &crate::server::Received) -> bool {
    req.header("accept")
        .is_some_and(|a| a.to_ascii_lowercase().contains("application/json"))
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

/// A successful response in EC2's dialect of the Query protocol: the result's elements
/// directly under `<{Action}Response>`, after `requestId`.
pub fn ec2_ok(action: &str, namespace: &str, result: &str, rid: &str) -> Response {
    xml(
        http::StatusCode::OK,
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{namespace}\"><requestId>{rid}</requestId>{result}</{action}Response>"
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

#[cfg(test)]
mod index_tests {
    use super::*;

    #[test]
    fn list_and_map_indexes_run_from_1_to_1000() {
        let ok = Params::parse(
            "",
            b"Action=TagUser&Tags.member.1.Key=a&Tags.member.1000.Value=b&Attributes.entry.2.key=k",
        );
        assert!(ok.malformed().is_none());
        for bad in [
            "Tags.member.0.Key=a",
            "Tags.member.1001.Key=a",
            "Tags.member.999999999999.Key=a",
            "Tags.member.01.Key=a",
            "Tags.member.%2B1.Key=a",
            "Tags.member.x.Key=a",
            "Attributes.entry.0.key=k",
            "Tags.member=a",
        ] {
            let p = Params::parse("", format!("Action=TagUser&{bad}").as_bytes());
            let e = p.malformed().unwrap_or_else(|| panic!("{bad} accepted"));
            assert_eq!(e.code, "MalformedQueryString", "{bad}");
        }
    }
}
