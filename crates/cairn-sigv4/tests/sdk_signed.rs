//! Requests signed by independent SDK signers (botocore, and the JavaScript SDK's
//! `@smithy/signature-v4`), captured as sent (`tests/fixtures/sdk-signed`, see SOURCE.md),
//! must pass the signature-edge rules and `verify`; changing what they signed must not.

use std::path::Path;

use base64::Engine;
use cairn_sigv4::{
    Authorization, PayloadRules, RequestParts, check_signed_headers, payload_hash, verify,
};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One captured request.
struct Captured {
    name: String,
    service: String,
    secret: String,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Captured {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn rules(&self) -> PayloadRules {
        if self.service == "s3" {
            PayloadRules::S3
        } else {
            PayloadRules::BodySigned
        }
    }

    /// Runs the edge's checks and the verifier as the server would; true when accepted.
    fn accepted(&self) -> Result<bool, String> {
        let auth = Authorization::parse(self.header("authorization").ok_or("no Authorization")?)
            .map_err(|e| e.to_string())?;
        check_signed_headers(&auth, &self.headers).map_err(|e| e.to_string())?;
        let body_sha256 = hex::encode(Sha256::digest(&self.body));
        let payload = payload_hash(
            self.header("x-amz-content-sha256"),
            &body_sha256,
            self.rules(),
        )
        .map_err(|e| e.to_string())?;
        let parts = RequestParts {
            method: &self.method,
            raw_path: &self.path,
            raw_query: &self.query,
            headers: &self.headers,
            payload_hash: payload,
        };
        let amz_date = self.header("x-amz-date").ok_or("no X-Amz-Date")?;
        Ok(verify(&auth, &parts, amz_date, &self.secret))
    }
}

fn load(file: &str) -> Vec<Captured> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sdk-signed")
        .join(file);
    let list: Vec<Value> =
        serde_json::from_slice(&std::fs::read(path).expect("fixture")).expect("JSON");
    let text = |v: &Value, key: &str| v[key].as_str().expect(key).to_owned();
    list.iter()
        .map(|v| Captured {
            name: text(v, "name"),
            service: text(v, "service"),
            secret: text(v, "secret"),
            method: text(v, "method"),
            path: text(v, "path"),
            query: text(v, "query"),
            headers: v["headers"]
                .as_array()
                .expect("headers")
                .iter()
                .map(|h| {
                    (
                        h[0].as_str().unwrap().to_owned(),
                        h[1].as_str().unwrap().to_owned(),
                    )
                })
                .collect(),
            body: base64::engine::general_purpose::STANDARD
                .decode(text(v, "body_base64"))
                .expect("base64"),
        })
        .collect()
}

fn check_signer(file: &str, at_least: usize) {
    let requests = load(file);
    assert!(
        requests.len() >= at_least,
        "{file}: {} requests",
        requests.len()
    );
    for req in &requests {
        let name = format!("{file}/{}", req.name);
        assert_eq!(
            req.accepted(),
            Ok(true),
            "{name}: the SDK's own request is accepted"
        );

        let mut wrong = clone(req);
        wrong.secret.push('x');
        assert_eq!(wrong.accepted(), Ok(false), "{name}: another secret");

        if req.header("x-amz-target").is_some() {
            let swapped = with_header(req, "x-amz-target", |v| {
                format!(
                    "{}.DeleteTrail",
                    v.rsplit_once('.').map_or(v, |(service, _)| service)
                )
            });
            assert_eq!(swapped.accepted(), Ok(false), "{name}: another operation");
        }
        if !req.query.is_empty() {
            let mut other = clone(req);
            other.query = format!("{}&extra=1", req.query);
            assert_eq!(other.accepted(), Ok(false), "{name}: another query");
        }
        if req.path != "/" {
            let mut other = clone(req);
            other.path = format!("{}x", req.path);
            assert_eq!(other.accepted(), Ok(false), "{name}: another path");
        }
        if !req.body.is_empty() {
            let mut other = clone(req);
            other.body.push(b' ');
            assert!(other.accepted() != Ok(true), "{name}: another body");
        }
        // Unsigned x-amz-* headers added in transit are refused.
        let mut extra = clone(req);
        extra
            .headers
            .push(("x-amz-security-token".into(), "injected".into()));
        assert_eq!(
            extra.accepted(),
            Err("'x-amz-security-token' must be a 'SignedHeader' in the AWS Authorization.".into()),
            "{name}"
        );
    }
}

fn clone(req: &Captured) -> Captured {
    Captured {
        name: req.name.clone(),
        service: req.service.clone(),
        secret: req.secret.clone(),
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        body: req.body.clone(),
    }
}

fn with_header(req: &Captured, name: &str, change: impl Fn(&str) -> String) -> Captured {
    let mut out = clone(req);
    for (n, v) in &mut out.headers {
        if n.eq_ignore_ascii_case(name) {
            *v = change(v);
        }
    }
    out
}

#[test]
fn botocore_signed_requests_verify() {
    check_signer("botocore.json", 7);
}

#[test]
fn js_sdk_signed_requests_verify() {
    check_signer("js-sdk.json", 8);
}

#[test]
fn both_signers_cover_the_services_cairn_serves() {
    for file in ["botocore.json", "js-sdk.json"] {
        let services: std::collections::BTreeSet<String> =
            load(file).into_iter().map(|r| r.service).collect();
        for service in ["cloudtrail", "s3", "sns"] {
            assert!(services.contains(service), "{file} has a {service} request");
        }
    }
}
