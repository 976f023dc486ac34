//! Which wire protocol a request speaks, and which service it is for.
//!
//! The service comes from the SigV4 credential scope. The protocol decides how errors are
//! written: AWS JSON (`__type` + `message`), AWS Query (`<ErrorResponse>` XML, or EC2's
//! `<Response><Errors>` form) or S3 REST XML. Services Cairn does not serve still get an error
//! in their own protocol, so every client can parse it.

/// The error envelope a request expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// AWS JSON 1.0/1.1 (`X-Amz-Target`), and REST-JSON services.
    Json,
    /// AWS Query (form-encoded `Action=`), XML responses.
    Query,
    /// S3 REST XML.
    S3,
}

/// Where the listener sends a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    /// CloudTrail (JSON 1.1).
    CloudTrail,
    /// KMS (JSON 1.1).
    Kms,
    /// SNS (Query).
    Sns,
    /// IAM (Query).
    Iam,
    /// STS (Query).
    Sts,
    /// EC2 (its dialect of Query): DescribeRegions.
    Ec2,
    /// CloudWatch Logs (JSON 1.1).
    Logs,
    /// CloudFormation (Query).
    CloudFormation,
    /// CloudWatch metrics and alarms (JSON 1.0 or Query).
    Monitoring,
    /// S3 (REST XML, through s3s).
    S3,
    /// A service Cairn does not serve, answered in its protocol.
    Unserved {
        /// The signing name from the credential scope.
        service: String,
        /// Its protocol.
        protocol: Protocol,
    },
}

/// Services Cairn does not serve that speak REST-XML, whose clients parse only an XML error
/// (sdk9: S3's ListDirectoryBuckets, signed as `s3express`, got JSON no SDK could read).
const REST_XML_SERVICES: &[&str] = &["s3express", "s3-outposts", "route53", "cloudfront"];

/// Services Cairn knows speak AWS Query (and the EC2 dialect of it).
const QUERY_SERVICES: &[&str] = &[
    "iam",
    "sts",
    "sns",
    "sqs",
    "ec2",
    "cloudformation",
    "monitoring",
    "elasticloadbalancing",
    "autoscaling",
    "rds",
    "ses",
    "elasticache",
    "redshift",
    "elasticbeanstalk",
    "cloudsearch",
    "sdb",
    "importexport",
];

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Whether the request looks like an AWS Query call: a form body or an `Action=` query.
pub fn looks_like_query(headers: &[(String, String)], raw_query: &str) -> bool {
    header(headers, "content-type")
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
        || form_urlencoded::parse(raw_query.as_bytes()).any(|(k, _)| k == "Action")
}

/// Whether a request whose credential scope names no service may be an AWS Query call that
/// its shape alone cannot place: a `POST /` with a form body and no `Authorization` (SDKs
/// send STS's federated actions so), or one that does not parse (an access key with a `/`).
/// Its body decides ([`unsigned_query_route`]), so the Query service answers in its own
/// words; anything else stays S3's.
pub fn may_be_unsigned_query(
    method: &http::Method,
    path: &str,
    headers: &[(String, String)],
) -> bool {
    method == http::Method::POST
        && path == "/"
        && header(headers, "authorization")
            .is_none_or(|a| cairn_sigv4::Authorization::parse(a).is_err())
        && header(headers, "content-type")
            .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

/// The Query service an unsigned form body with an `Action` is for, told by its `Version`
/// (each Query service has its own); an unknown version is an unserved Query service, which
/// answers in the Query protocol. `None` when the body names no action (it stays S3's).
pub fn unsigned_query_route(body: &[u8]) -> Option<Route> {
    let mut action = false;
    let mut version = None;
    for (k, v) in form_urlencoded::parse(body) {
        match k.as_ref() {
            "Action" => action = true,
            "Version" if version.is_none() => version = Some(v.into_owned()),
            _ => {}
        }
    }
    if !action {
        return None;
    }
    Some(match version.as_deref() {
        Some("2011-06-15") => Route::Sts,
        Some("2010-05-08") => Route::Iam,
        Some("2010-03-31") => Route::Sns,
        Some("2010-05-15") => Route::CloudFormation,
        Some("2010-08-01") => Route::Monitoring,
        _ => Route::Unserved {
            service: String::new(),
            protocol: Protocol::Query,
        },
    })
}

/// Routes a request by the service its credential scope names (`service`), falling back on
/// the request's shape when it is unsigned.
pub fn route(service: Option<&str>, headers: &[(String, String)], raw_query: &str) -> Route {
    let json_shaped = header(headers, "x-amz-target").is_some();
    match service {
        Some("s3") => Route::S3,
        Some("cloudtrail") => Route::CloudTrail,
        Some("kms") => Route::Kms,
        Some("sns") => Route::Sns,
        Some("iam") => Route::Iam,
        Some("sts") => Route::Sts,
        Some("ec2") => Route::Ec2,
        Some("logs") => Route::Logs,
        Some("cloudformation") => Route::CloudFormation,
        Some("monitoring") => Route::Monitoring,
        Some(other) => Route::Unserved {
            service: other.to_owned(),
            protocol: if REST_XML_SERVICES.contains(&other) {
                Protocol::S3
            } else if json_shaped {
                Protocol::Json
            } else if QUERY_SERVICES.contains(&other) || looks_like_query(headers, raw_query) {
                Protocol::Query
            } else {
                Protocol::Json
            },
        },
        // Unsigned: JSON calls carry a target; SNS subscription confirmations are plain GETs
        // authorised by their token; everything else (presigned URLs, anonymous GETs) is S3.
        None if header(headers, "x-amz-target")
            .is_some_and(|t| t.starts_with("Logs_20140328.")) =>
        {
            Route::Logs
        }
        None if json_shaped => Route::CloudTrail,
        // Smithy RPC v2 CBOR (CloudWatch's) says so in a header of its own: its refusal is
        // CBOR, not S3's XML.
        None if header(headers, "smithy-protocol").is_some_and(|p| p == "rpc-v2-cbor") => {
            Route::Monitoring
        }
        None if crate::sns::is_confirmation(raw_query) => Route::Sns,
        None => Route::S3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn services_route_to_their_protocol() {
        assert_eq!(route(Some("s3"), &[], ""), Route::S3);
        assert_eq!(route(Some("cloudtrail"), &[], ""), Route::CloudTrail);
        assert_eq!(route(Some("ec2"), &h(&[]), ""), Route::Ec2);
        assert_eq!(
            route(Some("rds"), &h(&[]), ""),
            Route::Unserved {
                service: "rds".into(),
                protocol: Protocol::Query
            }
        );
        assert_eq!(
            route(
                Some("kms"),
                &h(&[("x-amz-target", "TrentService.ListKeys")]),
                ""
            ),
            Route::Kms
        );
        assert_eq!(
            route(
                Some("newservice"),
                &h(&[("content-type", "application/x-www-form-urlencoded")]),
                ""
            ),
            Route::Unserved {
                service: "newservice".into(),
                protocol: Protocol::Query
            }
        );
        assert_eq!(route(None, &[], "X-Amz-Signature=abc"), Route::S3);
        let cbor = [("smithy-protocol".to_owned(), "rpc-v2-cbor".to_owned())];
        assert_eq!(route(None, &cbor, ""), Route::Monitoring);
    }

    #[test]
    fn unsigned_form_bodies_with_an_action_are_query() {
        let form = h(&[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )]);
        assert!(may_be_unsigned_query(&http::Method::POST, "/", &form));
        assert!(!may_be_unsigned_query(&http::Method::GET, "/", &form));
        assert!(!may_be_unsigned_query(
            &http::Method::POST,
            "/bucket",
            &form
        ));
        assert!(!may_be_unsigned_query(&http::Method::POST, "/", &[]));
        // An Authorization header whose credential does not parse (an access key with `/`).
        let mut broken = form.clone();
        broken.push((
            "authorization".into(),
            "AWS4-HMAC-SHA256 Credential=/abc/20261202/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=00".into(),
        ));
        assert!(may_be_unsigned_query(&http::Method::POST, "/", &broken));
        assert_eq!(
            unsigned_query_route(b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15"),
            Some(Route::Sts)
        );
        assert_eq!(
            unsigned_query_route(b"Action=ListUsers&Version=2010-05-08"),
            Some(Route::Iam)
        );
        assert_eq!(
            unsigned_query_route(b"Action=X"),
            Some(Route::Unserved {
                service: String::new(),
                protocol: Protocol::Query
            })
        );
        assert_eq!(unsigned_query_route(b"key=a&acl=private"), None);
    }
}
