//! A small signed client for the CloudTrail JSON API, used by `cairn validate-logs` and the
//! benchmarks. Works against Cairn or any CloudTrail endpoint.

use anyhow::{Context, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// SigV4 headers (host excluded) for a CloudTrail JSON call to `host`.
pub fn sign_cloudtrail(
    host: &str,
    region: &str,
    access_key_id: &str,
    secret: &str,
    op: &str,
    body: &str,
) -> Vec<(String, String)> {
    let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        ("host".to_owned(), host.to_owned()),
        ("x-amz-date".to_owned(), amz_date.clone()),
        (
            "x-amz-target".to_owned(),
            format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{op}"),
        ),
    ];
    let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let payload = hex::encode(Sha256::digest(body.as_bytes()));
    let canonical = cairn_sigv4::canonical_request(
        &cairn_sigv4::RequestParts {
            method: "POST",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            payload_hash: &payload,
        },
        &names,
        false,
    );
    let scope = format!("{date}/{region}/cloudtrail/aws4_request");
    let key = cairn_sigv4::signing_key(secret, date, region, "cloudtrail");
    let sig = cairn_sigv4::signature(
        &key,
        &cairn_sigv4::string_to_sign(&amz_date, &scope, &canonical),
    );
    let mut out: Vec<(String, String)> = headers.into_iter().filter(|(n, _)| n != "host").collect();
    out.push((
        "authorization".into(),
        format!("AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={}, Signature={sig}", names.join(";")),
    ));
    out
}

/// The host part of an `http(s)://host[:port]` endpoint.
pub fn host_of(endpoint: &str) -> anyhow::Result<&str> {
    Ok(endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .context("endpoint must start with http:// or https://")?
        .trim_end_matches('/'))
}

/// A CloudTrail endpoint with credentials.
#[derive(Clone)]
pub struct CloudTrail {
    /// Endpoint URL.
    pub endpoint: String,
    /// Region to sign for.
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret.
    pub secret_access_key: String,
    /// HTTP client.
    pub http: reqwest::Client,
}

impl CloudTrail {
    /// Calls `op` with a JSON body; returns the JSON answer or the AWS error.
    pub async fn call(&self, op: &str, body: &Value) -> anyhow::Result<Value> {
        let body = body.to_string();
        let mut req = self
            .http
            .post(format!("{}/", self.endpoint.trim_end_matches('/')));
        for (n, v) in sign_cloudtrail(
            host_of(&self.endpoint)?,
            &self.region,
            &self.access_key_id,
            &self.secret_access_key,
            op,
            &body,
        ) {
            req = req.header(n, v);
        }
        let resp = req
            .body(body)
            .send()
            .await
            .with_context(|| format!("calling {op}"))?;
        let status = resp.status();
        let value: Value = resp.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "{op} failed: {} {}",
                value["__type"].as_str().unwrap_or(status.as_str()),
                value["message"].as_str().unwrap_or("")
            );
        }
        Ok(value)
    }
}
