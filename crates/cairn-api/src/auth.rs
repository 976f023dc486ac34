//! SigV4 authentication of incoming requests, and the credential lookup behind it.

use cairn_model::{AccountId, Principal, Region};
use cairn_sigv4::{Authorization, RequestParts};
use cairn_store::{Store, iam};
use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;

use crate::errors::WireError;

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

/// Looks up the secret and principal for an access key.
pub fn find_key(
    store: &Store,
    account: &AccountId,
    root: &RootCredentials,
    access_key_id: &str,
) -> Option<(String, Principal)> {
    if bool::from(
        access_key_id
            .as_bytes()
            .ct_eq(root.access_key_id.as_bytes()),
    ) {
        return Some((
            root.secret_access_key.clone(),
            Principal::Root {
                account: account.clone(),
                access_key_id: access_key_id.to_owned(),
            },
        ));
    }
    let (key, user) = store
        .read_blocking(|c| iam::get_access_key(c, access_key_id))
        .ok()??;
    if key.status != "Active" {
        return None;
    }
    let account = AccountId::parse(&key.account).ok()?;
    Some((
        key.secret,
        Principal::IamUser {
            account,
            user_name: user.name,
            user_id: user.user_id,
            access_key_id: key.access_key_id,
        },
    ))
}

/// Which protocol's error codes to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// AWS JSON services.
    Json,
    /// S3.
    S3,
}

fn fail(
    flavor: Flavor,
    json_code: &'static str,
    s3_code: &'static str,
    message: impl Into<String>,
) -> WireError {
    let message = message.into();
    match flavor {
        Flavor::Json => WireError::bad_request(json_code, message),
        Flavor::S3 => WireError {
            code: s3_code,
            status: if s3_code == "AccessDenied"
                || s3_code == "InvalidAccessKeyId"
                || s3_code == "SignatureDoesNotMatch"
                || s3_code == "RequestTimeTooSkewed"
            {
                http::StatusCode::FORBIDDEN
            } else {
                http::StatusCode::BAD_REQUEST
            },
            message,
        },
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

/// Verifies the `Authorization` header of `req`.
pub fn authenticate(
    store: &Store,
    account: &AccountId,
    root: &RootCredentials,
    req: &Incoming<'_>,
    flavor: Flavor,
    now: DateTime<Utc>,
) -> Result<Authenticated, WireError> {
    let Some(header_value) = header(req.headers, "authorization") else {
        return Err(fail(
            flavor,
            "MissingAuthenticationTokenException",
            "AccessDenied",
            "Missing Authentication Token",
        ));
    };
    let auth = Authorization::parse(header_value).map_err(|e| {
        fail(
            flavor,
            "IncompleteSignatureException",
            "AuthorizationHeaderMalformed",
            e.to_string(),
        )
    })?;
    let amz_date = header(req.headers, "x-amz-date").ok_or_else(|| {
        fail(
            flavor,
            "IncompleteSignatureException",
            "AccessDenied",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    })?;
    let request_time = cairn_sigv4::parse_amz_date(amz_date).ok_or_else(|| {
        fail(
            flavor,
            "IncompleteSignatureException",
            "AccessDenied",
            format!("Invalid X-Amz-Date: {amz_date}"),
        )
    })?;
    if !amz_date.starts_with(&auth.date) {
        return Err(fail(
            flavor,
            "InvalidSignatureException",
            "AuthorizationHeaderMalformed",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
                auth.date,
                &amz_date[..8.min(amz_date.len())]
            ),
        ));
    }
    let region = Region::parse(&auth.region).map_err(|_| {
        fail(
            flavor,
            "IncompleteSignatureException",
            "AuthorizationHeaderMalformed",
            format!(
                "Credential should be scoped to a valid region, not '{}'.",
                auth.region
            ),
        )
    })?;
    cairn_sigv4::check_skew(request_time, now).map_err(|e| {
        fail(
            flavor,
            "InvalidSignatureException",
            "RequestTimeTooSkewed",
            e.to_string(),
        )
    })?;
    let Some((secret, principal)) = find_key(store, account, root, &auth.access_key_id) else {
        return Err(fail(
            flavor,
            "UnrecognizedClientException",
            "InvalidAccessKeyId",
            match flavor {
                Flavor::Json => "The security token included in the request is invalid.",
                Flavor::S3 => "The AWS Access Key Id you provided does not exist in our records.",
            },
        ));
    };
    let payload_hash = match header(req.headers, "x-amz-content-sha256") {
        Some(declared)
            if declared.len() == 64 && declared.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            if !declared.eq_ignore_ascii_case(req.body_sha256) {
                return Err(fail(
                    flavor,
                    "InvalidSignatureException",
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ));
            }
            declared
        }
        Some(declared) => declared,
        None => req.body_sha256,
    };
    let parts = RequestParts {
        method: req.method,
        raw_path: req.raw_path,
        raw_query: req.raw_query,
        headers: req.headers,
        payload_hash,
    };
    if !cairn_sigv4::verify(&auth, &parts, amz_date, &secret) {
        return Err(fail(
            flavor,
            "InvalidSignatureException",
            "SignatureDoesNotMatch",
            SIGNATURE_MISMATCH,
        ));
    }
    Ok(Authenticated {
        principal,
        region,
        service: auth.service,
    })
}

/// The service named in an `Authorization` header's credential scope, if it parses.
pub fn scope_service(headers: &[(String, String)]) -> Option<String> {
    header(headers, "authorization")
        .and_then(|h| Authorization::parse(h).ok())
        .map(|a| a.service)
}
