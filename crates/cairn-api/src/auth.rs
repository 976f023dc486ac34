//! SigV4 authentication of incoming requests for the JSON and Query protocols (S3 requests
//! are verified by `s3s`, with secrets from the same [`crate::credentials`] cache), and the
//! one mapping from authentication failures to each protocol's error codes and messages.

use cairn_model::{Principal, Region};
use cairn_sigv4::{Authorization, RequestParts};
use chrono::{DateTime, Utc};

use crate::credentials::CredentialCache;
use crate::errors::WireError;
use crate::protocol::Protocol;

/// The account's root credentials.
#[derive(Clone)]
pub struct RootCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret (never logged).
    pub secret_access_key: String,
}

impl std::fmt::Debug for RootCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RootCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .finish()
    }
}

/// A verified caller and the scope it signed for.
#[derive(Clone, Debug)]
pub struct Authenticated {
    /// Who.
    pub principal: Principal,
    /// Region from the credential scope.
    pub region: Region,
    /// Service from the credential scope.
    pub service: String,
}

const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Why a request failed authentication. Each protocol names these differently.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No `Authorization` header (and no presigned query).
    Missing,
    /// The header or its date is malformed.
    Incomplete(String),
    /// The credential scope names a region that does not exist.
    InvalidRegion(String),
    /// The credential scope's date disagrees with `X-Amz-Date`.
    ScopeDate(String),
    /// The request time is outside the allowed skew.
    Skew(String),
    /// No active key with that id.
    UnknownKey,
    /// `x-amz-content-sha256` disagrees with the body.
    PayloadMismatch,
    /// The payload hash is not one this protocol accepts.
    BadPayloadHash(String),
    /// A header that must be signed is not.
    Unsigned(String),
    /// The signature does not match.
    SignatureMismatch,
    /// A temporary key without its session token, or a token that is not the key's (altered,
    /// forged, or sent with a long-term key).
    InvalidToken,
    /// The temporary credentials expired before the request's signing time.
    ExpiredToken,
}

impl AuthFailure {
    /// The error this failure answers with in `protocol`.
    pub fn to_wire(&self, protocol: Protocol) -> WireError {
        use http::StatusCode as S;
        let (json, query, s3, status_s3, message): (&str, &str, &str, S, String) = match self {
            AuthFailure::Missing => (
                "MissingAuthenticationTokenException",
                "MissingAuthenticationToken",
                "AccessDenied",
                S::FORBIDDEN,
                "Missing Authentication Token".into(),
            ),
            AuthFailure::Incomplete(m) => (
                "IncompleteSignatureException",
                "IncompleteSignature",
                "AuthorizationHeaderMalformed",
                S::BAD_REQUEST,
                m.clone(),
            ),
            AuthFailure::InvalidRegion(region) => (
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                "AuthorizationHeaderMalformed",
                S::BAD_REQUEST,
                match protocol {
                    Protocol::S3 => format!(
                        "The authorization header is malformed; the region '{region}' is wrong; expecting 'us-east-1'"
                    ),
                    _ => format!("Credential should be scoped to a valid region, not '{region}'. "),
                },
            ),
            AuthFailure::ScopeDate(m) => (
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                "AuthorizationHeaderMalformed",
                S::BAD_REQUEST,
                m.clone(),
            ),
            AuthFailure::Skew(m) => (
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                "RequestTimeTooSkewed",
                S::FORBIDDEN,
                m.clone(),
            ),
            AuthFailure::UnknownKey => (
                "UnrecognizedClientException",
                "InvalidClientTokenId",
                "InvalidAccessKeyId",
                S::FORBIDDEN,
                match protocol {
                    Protocol::S3 => {
                        "The AWS Access Key Id you provided does not exist in our records.".into()
                    }
                    _ => "The security token included in the request is invalid.".into(),
                },
            ),
            AuthFailure::PayloadMismatch => (
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                "XAmzContentSHA256Mismatch",
                S::BAD_REQUEST,
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .into(),
            ),
            AuthFailure::BadPayloadHash(m) | AuthFailure::Unsigned(m) => (
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                "InvalidRequest",
                S::BAD_REQUEST,
                m.clone(),
            ),
            AuthFailure::InvalidToken => (
                "UnrecognizedClientException",
                "InvalidClientTokenId",
                "InvalidToken",
                S::BAD_REQUEST,
                match protocol {
                    Protocol::S3 => "The provided token is malformed or otherwise invalid.".into(),
                    _ => "The security token included in the request is invalid.".into(),
                },
            ),
            AuthFailure::ExpiredToken => (
                "ExpiredTokenException",
                "ExpiredToken",
                "ExpiredToken",
                S::BAD_REQUEST,
                match protocol {
                    Protocol::S3 => "The provided token has expired.".into(),
                    _ => "The security token included in the request is expired".into(),
                },
            ),
            AuthFailure::SignatureMismatch => (
                "InvalidSignatureException",
                "SignatureDoesNotMatch",
                "SignatureDoesNotMatch",
                S::FORBIDDEN,
                SIGNATURE_MISMATCH.into(),
            ),
        };
        match protocol {
            Protocol::Json => WireError::bad_request(json, message),
            Protocol::Query => WireError {
                code: query,
                status: if query == "IncompleteSignature" {
                    S::BAD_REQUEST
                } else {
                    S::FORBIDDEN
                },
                message,
            },
            Protocol::S3 => WireError {
                code: s3,
                status: status_s3,
                message,
            },
        }
    }
}

/// A request as received, for verification.
pub struct Incoming<'a> {
    /// Method.
    pub method: &'a str,
    /// Raw path.
    pub raw_path: &'a str,
    /// Raw query.
    pub raw_query: &'a str,
    /// Headers as (name, value).
    pub headers: &'a [(String, String)],
    /// Hex SHA-256 of the body as received.
    pub body_sha256: &'a str,
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Parses and checks everything about a signed request that needs no secret: the header, the
/// dates, the region, the skew and the payload hash. Returns the parsed header, the region,
/// the `X-Amz-Date` value and the payload hash the signature covers.
fn precheck<'a>(
    req: &'a Incoming<'a>,
    now: DateTime<Utc>,
) -> Result<(Authorization, Region, &'a str, &'a str, DateTime<Utc>), AuthFailure> {
    let (auth, amz_date) = match header(req.headers, "authorization") {
        Some(value) => {
            let auth =
                Authorization::parse(value).map_err(|e| AuthFailure::Incomplete(e.to_string()))?;
            let amz_date = header(req.headers, "x-amz-date").ok_or_else(|| {
                AuthFailure::Incomplete(
                    "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
                        .into(),
                )
            })?;
            (auth, amz_date)
        }
        None => presigned(req.raw_query).ok_or(AuthFailure::Missing)??,
    };
    let request_time = cairn_sigv4::parse_amz_date(amz_date)
        .ok_or_else(|| AuthFailure::Incomplete(format!("Invalid X-Amz-Date: {amz_date}")))?;
    if !amz_date.starts_with(&auth.date) {
        return Err(AuthFailure::ScopeDate(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            auth.date,
            &amz_date[..8.min(amz_date.len())]
        )));
    }
    let region =
        Region::parse(&auth.region).map_err(|_| AuthFailure::InvalidRegion(auth.region.clone()))?;
    cairn_sigv4::check_skew(request_time, now).map_err(|e| AuthFailure::Skew(e.to_string()))?;
    // AWS's rule: `host` and every `x-amz-*` header (the operation's `X-Amz-Target` among
    // them) must be signed, or they could be changed in transit.
    cairn_sigv4::check_signed_headers(&auth, req.headers)
        .map_err(|e| AuthFailure::Unsigned(e.to_string()))?;
    // JSON and Query bodies are always covered by the signature: only the body's own hex
    // SHA-256 (or no header at all: the hash is then computed) is accepted.
    let payload_hash = cairn_sigv4::payload_hash(
        header(req.headers, "x-amz-content-sha256"),
        req.body_sha256,
        cairn_sigv4::PayloadRules::BodySigned,
    )
    .map_err(|e| match e {
        cairn_sigv4::PayloadHashError::Mismatch => AuthFailure::PayloadMismatch,
        other => AuthFailure::BadPayloadHash(other.to_string()),
    })?;
    Ok((auth, region, amz_date, payload_hash, request_time))
}

/// Verifies the `Authorization` header of a JSON or Query request.
pub async fn authenticate(
    credentials: &CredentialCache,
    req: &Incoming<'_>,
    now: DateTime<Utc>,
) -> Result<Authenticated, AuthFailure> {
    let (auth, region, amz_date, payload_hash, request_time) = precheck(req, now)?;
    let token = header(req.headers, "x-amz-security-token").or_else(|| {
        req.raw_query
            .split('&')
            .find_map(|kv| kv.strip_prefix("X-Amz-Security-Token="))
    });
    let decoded;
    let token = match token {
        Some(t) if t.contains('%') => {
            decoded = percent_encoding::percent_decode_str(t)
                .decode_utf8_lossy()
                .into_owned();
            Some(decoded.as_str())
        }
        other => other,
    };
    let key = credentials
        .resolve(&auth.access_key_id, token, request_time.timestamp())
        .await?;
    let parts = RequestParts {
        method: req.method,
        raw_path: req.raw_path,
        raw_query: req.raw_query,
        headers: req.headers,
        payload_hash,
    };
    if !cairn_sigv4::verify(&auth, &parts, amz_date, &key.secret) {
        return Err(AuthFailure::SignatureMismatch);
    }
    Ok(Authenticated {
        principal: key.principal.clone(),
        region,
        service: auth.service,
    })
}

/// The service named in the credential scope of an `Authorization` header or, without one,
/// of a presigned query string, if it parses.
pub fn scope_service(headers: &[(String, String)], raw_query: &str) -> Option<String> {
    match header(headers, "authorization") {
        Some(h) => Authorization::parse(h).ok().map(|a| a.service),
        None => {
            let credential = raw_query
                .split('&')
                .find_map(|kv| kv.strip_prefix("X-Amz-Credential="))?;
            let credential = percent_encoding::percent_decode_str(credential).decode_utf8_lossy();
            credential.split('/').nth(3).map(str::to_owned)
        }
    }
}

/// The access key id a request says it was signed with (SigV4 header or query, SigV2 header
/// or query), for the access log: not checked, and only when it looks like a key id (letters
/// and digits, at most 128), so a log line never carries a caller's arbitrary text. Never the
/// signature or anything secret.
pub fn claimed_access_key(headers: &[(String, String)], raw_query: &str) -> Option<String> {
    let from_query = |name: &str| {
        raw_query.split('&').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| percent_encoding::percent_decode_str(v).decode_utf8_lossy())
        })
    };
    let id = match header(headers, "authorization") {
        Some(h) => {
            if let Some(v2) = h.strip_prefix("AWS ") {
                v2.split(':').next().map(str::to_owned)
            } else {
                h.split([' ', ','])
                    .find_map(|p| p.trim().strip_prefix("Credential="))
                    .and_then(|c| c.split('/').next())
                    .map(str::to_owned)
            }
        }
        None => from_query("X-Amz-Credential")
            .and_then(|c| c.split('/').next().map(str::to_owned))
            .or_else(|| from_query("AWSAccessKeyId").map(|c| c.into_owned())),
    }?;
    (!id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then_some(id)
}

/// The signature of a presigned request (`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…`
/// in the query string, as `generate_presigned_url` makes for STS GetCallerIdentity): `None`
/// when the query carries none. As on AWS, outside S3 the URL lives by the signing time's
/// skew window (`X-Amz-Expires` is not honoured), and the payload is the body's hash.
fn presigned(raw_query: &str) -> Option<Result<(Authorization, &str), AuthFailure>> {
    let value = |name: &str| {
        raw_query.split('&').find_map(|kv| {
            kv.split_once('=')
                .filter(|(k, _)| *k == name)
                .map(|(_, v)| v)
        })
    };
    let decoded = |v: &str| {
        percent_encoding::percent_decode_str(v)
            .decode_utf8_lossy()
            .into_owned()
    };
    let algorithm = value("X-Amz-Algorithm")?;
    Some((|| {
        if algorithm != "AWS4-HMAC-SHA256" {
            return Err(AuthFailure::Incomplete(format!(
                "Unsupported AWS 'algorithm': '{}'",
                decoded(algorithm)
            )));
        }
        let missing = |name: &str| {
            AuthFailure::Incomplete(format!(
                "AWS query-string parameters must include '{name}'. Re-examine the query-string parameters."
            ))
        };
        let credential = value("X-Amz-Credential").ok_or_else(|| missing("X-Amz-Credential"))?;
        let signed = value("X-Amz-SignedHeaders").ok_or_else(|| missing("X-Amz-SignedHeaders"))?;
        let signature = value("X-Amz-Signature").ok_or_else(|| missing("X-Amz-Signature"))?;
        let amz_date = value("X-Amz-Date").ok_or_else(|| missing("X-Amz-Date"))?;
        let auth = Authorization::from_parts(&decoded(credential), &decoded(signed), signature)
            .map_err(|e| AuthFailure::Incomplete(e.to_string()))?;
        Ok((auth, amz_date))
    })())
}

#[cfg(test)]
mod tests {
    use super::claimed_access_key;

    fn with_auth(value: &str) -> Vec<(String, String)> {
        vec![("authorization".to_owned(), value.to_owned())]
    }

    #[test]
    fn the_access_log_names_the_key_a_request_claims_and_nothing_else() {
        let v4 = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261205/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(
            claimed_access_key(&with_auth(v4), "").as_deref(),
            Some("AKIDEXAMPLE")
        );
        assert_eq!(
            claimed_access_key(&with_auth("AWS AKIDV2:c2lnbmF0dXJl"), "").as_deref(),
            Some("AKIDV2")
        );
        let presigned = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAQ%2F20261205%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00";
        assert_eq!(claimed_access_key(&[], presigned).as_deref(), Some("ASIAQ"));
        assert_eq!(
            claimed_access_key(&[], "AWSAccessKeyId=AKIDQ&Signature=x&Expires=1").as_deref(),
            Some("AKIDQ")
        );
        // Text that is not a key id (a log-injection attempt, an empty id) is not logged.
        let junk = "AWS4-HMAC-SHA256 Credential=a;b=c/20261205/us-east-1/iam/aws4_request";
        assert_eq!(claimed_access_key(&with_auth(junk), ""), None);
        assert_eq!(
            claimed_access_key(&[], "X-Amz-Credential=%0Aevil%3D1/x"),
            None
        );
        assert_eq!(claimed_access_key(&[], ""), None);
        assert_eq!(claimed_access_key(&with_auth("Bearer token"), ""), None);
    }
}
