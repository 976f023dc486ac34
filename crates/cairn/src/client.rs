//! Small signed clients for AWS-shaped endpoints, used by `cairn validate-logs` and the
//! benchmarks: a SigV4 request signer (with session tokens) and a CloudTrail JSON client.
//! They work against Cairn or any CloudTrail endpoint.

use anyhow::{Context, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Static credentials, with the session token of temporary ones.
#[derive(Clone)]
pub struct Credentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token (`AWS_SESSION_TOKEN`), sent as `X-Amz-Security-Token`.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Hex SHA-256 of an empty body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// One request to sign.
pub struct Unsigned<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// `host[:port]`.
    pub host: &'a str,
    /// The path as sent (already percent-encoded).
    pub raw_path: &'a str,
    /// The query as sent (already percent-encoded), without `?`.
    pub raw_query: &'a str,
    /// Service name in the credential scope (`cloudtrail`, `s3`).
    pub service: &'a str,
    /// Region in the credential scope.
    pub region: &'a str,
    /// Headers to sign besides host, date, token (lower-case names).
    pub headers: Vec<(String, String)>,
    /// Hex SHA-256 of the body.
    pub payload_hash: &'a str,
}

/// SigV4-signs a request at `amz_date` (`YYYYMMDDTHHMMSSZ`). Returns the headers to send,
/// `host` excluded (the HTTP client adds it).
pub fn sign_at(req: Unsigned<'_>, creds: &Credentials, amz_date: &str) -> Vec<(String, String)> {
    let date = &amz_date[..8];
    let mut headers = req.headers;
    headers.push(("host".to_owned(), req.host.to_owned()));
    headers.push(("x-amz-date".to_owned(), amz_date.to_owned()));
    if let Some(token) = &creds.session_token {
        headers.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    let mut names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    names.sort();
    let canonical = cairn_sigv4::canonical_request(
        &cairn_sigv4::RequestParts {
            method: req.method,
            raw_path: req.raw_path,
            raw_query: req.raw_query,
            headers: &headers,
            payload_hash: req.payload_hash,
        },
        &names,
        req.service == "s3",
    );
    let scope = format!("{date}/{}/{}/aws4_request", req.region, req.service);
    let key = cairn_sigv4::signing_key(&creds.secret_access_key, date, req.region, req.service);
    let sig = cairn_sigv4::signature(
        &key,
        &cairn_sigv4::string_to_sign(amz_date, &scope, &canonical),
    );
    let mut out: Vec<(String, String)> = headers.into_iter().filter(|(n, _)| n != "host").collect();
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            creds.access_key_id,
            names.join(";")
        ),
    ));
    out
}

/// The current time as `YYYYMMDDTHHMMSSZ`.
pub fn amz_now() -> String {
    chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string()
}

fn cloudtrail_request<'a>(
    host: &'a str,
    region: &'a str,
    op: &str,
    payload: &'a str,
) -> Unsigned<'a> {
    Unsigned {
        method: "POST",
        host,
        raw_path: "/",
        raw_query: "",
        service: "cloudtrail",
        region,
        headers: vec![
            (
                "content-type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            (
                "x-amz-target".to_owned(),
                format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{op}"),
            ),
        ],
        payload_hash: payload,
    }
}

/// SigV4 headers (host excluded) for a CloudTrail JSON call to `host`.
pub fn sign_cloudtrail(
    host: &str,
    region: &str,
    access_key_id: &str,
    secret: &str,
    op: &str,
    body: &str,
) -> Vec<(String, String)> {
    let creds = Credentials {
        access_key_id: access_key_id.to_owned(),
        secret_access_key: secret.to_owned(),
        session_token: None,
    };
    let payload = hex::encode(Sha256::digest(body.as_bytes()));
    sign_at(
        cloudtrail_request(host, region, op, &payload),
        &creds,
        &amz_now(),
    )
}

/// The host part of an `http(s)://host[:port]` endpoint.
pub fn host_of(endpoint: &str) -> anyhow::Result<&str> {
    Ok(endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .context("endpoint must start with http:// or https://")?
        .trim_end_matches('/'))
}

/// An AWS error answered by a CloudTrail endpoint.
#[derive(Debug)]
pub struct ServiceError {
    /// The operation called.
    pub op: String,
    /// The error code (`__type` without its namespace), or the HTTP status.
    pub code: String,
    /// The message.
    pub message: String,
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "An error occurred ({}) when calling the {} operation: {}",
            self.code, self.op, self.message
        )
    }
}

impl std::error::Error for ServiceError {}

/// A CloudTrail endpoint with credentials.
#[derive(Clone)]
pub struct CloudTrail {
    /// Endpoint URL.
    pub endpoint: String,
    /// Region to sign for.
    pub region: String,
    /// Credentials.
    pub credentials: Credentials,
    /// HTTP client.
    pub http: reqwest::Client,
}

impl CloudTrail {
    /// Calls `op` with a JSON body; returns the JSON answer or the AWS error (a
    /// [`ServiceError`] inside the `anyhow::Error`).
    pub async fn call(&self, op: &str, body: &Value) -> anyhow::Result<Value> {
        let body = body.to_string();
        let mut req = self
            .http
            .post(format!("{}/", self.endpoint.trim_end_matches('/')));
        let payload = hex::encode(Sha256::digest(body.as_bytes()));
        let host = host_of(&self.endpoint)?;
        for (n, v) in sign_at(
            cloudtrail_request(host, &self.region, op, &payload),
            &self.credentials,
            &amz_now(),
        ) {
            req = req.header(n, v);
        }
        let resp = req
            .body(body)
            .send()
            .await
            .with_context(|| format!("calling {op} at {}", self.endpoint))?;
        let status = resp.status();
        let value: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let code = value["__type"]
                .as_str()
                .map(|t| t.rsplit('#').next().unwrap_or(t).to_owned())
                .unwrap_or_else(|| status.as_str().to_owned());
            let message = value["message"]
                .as_str()
                .or_else(|| value["Message"].as_str())
                .unwrap_or("")
                .to_owned();
            bail!(ServiceError {
                op: op.to_owned(),
                code,
                message
            });
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The AWS SigV4 test suite's `get-vanilla` case: GET / at 20150830T123600Z,
    /// key AKIDEXAMPLE, service `service`, region us-east-1.
    #[test]
    fn signs_the_aws_test_suite_vanilla_request() {
        let creds = Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: None,
        };
        let headers = sign_at(
            Unsigned {
                method: "GET",
                host: "example.amazonaws.com",
                raw_path: "/",
                raw_query: "",
                service: "service",
                region: "us-east-1",
                headers: vec![],
                payload_hash: EMPTY_SHA256,
            },
            &creds,
            "20150830T123600Z",
        );
        let auth = &headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn a_session_token_is_sent_and_signed() {
        let creds = Credentials {
            access_key_id: "AKID".into(),
            secret_access_key: "secret".into(),
            session_token: Some("TOKEN".into()),
        };
        let headers = sign_at(
            cloudtrail_request("h", "us-east-1", "DescribeTrails", EMPTY_SHA256),
            &creds,
            "20150830T123600Z",
        );
        assert!(headers.contains(&("x-amz-security-token".into(), "TOKEN".into())));
        let auth = &headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1;
        assert!(auth.contains(
            "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        ));
    }
}
