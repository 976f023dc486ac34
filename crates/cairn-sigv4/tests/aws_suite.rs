//! AWS's published SigV4 test suite (`tests/fixtures/aws-sig-v4-test-suite`, see SOURCE.md):
//! each `.req` is parsed and our canonical request, string to sign and signature are compared
//! with the suite's `.creq`, `.sts` and `.authz`, then `verify` must accept the request and
//! refuse it once a signed part changes.

use std::path::{Path, PathBuf};

use cairn_sigv4::{
    Authorization, RequestParts, canonical_request, check_signed_headers, signature, signing_key,
    string_to_sign, verify,
};
use sha2::{Digest, Sha256};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const AMZ_DATE: &str = "20150830T123600Z";

/// The suite's one known erratum: this `.creq` lists `content-length`, but the published
/// `.sts` and `.authz` were computed without it (SignedHeaders=content-type;host;x-amz-date).
/// For it the canonical request is checked through its hash in `.sts`.
const CREQ_ERRATA: &[&str] = &["post-x-www-form-urlencoded"];

/// A parsed `.req` file.
struct Req {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parse_req(text: &str) -> Req {
    let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
    let mut lines = head.lines();
    let request_line = lines.next().expect("request line");
    let (method, rest) = request_line.split_once(' ').expect("method");
    let uri = rest.strip_suffix(" HTTP/1.1").expect("HTTP/1.1");
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').expect("header line");
            (name.to_owned(), value.to_owned())
        })
        .collect();
    Req {
        method: method.to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: body.as_bytes().to_vec(),
    }
}

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws-sig-v4-test-suite")
}

fn read(dir: &Path, name: &str, ext: &str) -> String {
    std::fs::read_to_string(dir.join(format!("{name}.{ext}"))).expect("fixture file")
}

fn check_case(dir: &Path) -> Result<(), String> {
    let name = dir.file_name().unwrap().to_str().unwrap();
    let req = parse_req(&read(dir, name, "req"));
    let creq = read(dir, name, "creq");
    let sts = read(dir, name, "sts");
    let authz = read(dir, name, "authz");
    let auth = Authorization::parse(&authz).map_err(|e| format!("{name}: authz: {e}"))?;
    let payload_hash = hex::encode(Sha256::digest(&req.body));
    let parts = RequestParts {
        method: &req.method,
        raw_path: &req.path,
        raw_query: &req.query,
        headers: &req.headers,
        payload_hash: &payload_hash,
    };
    let ours = canonical_request(&parts, &auth.signed_headers, false);
    if CREQ_ERRATA.contains(&name) {
        let hash = hex::encode(Sha256::digest(ours.as_bytes()));
        if !sts.ends_with(&hash) {
            return Err(format!(
                "{name}: canonical request hash is not the .sts one:\n{ours}"
            ));
        }
    } else if ours != creq {
        return Err(format!(
            "{name}: canonical request\nours:\n{ours}\nsuite:\n{creq}"
        ));
    }
    let our_sts = string_to_sign(AMZ_DATE, &auth.scope(), &ours);
    if our_sts != sts {
        return Err(format!(
            "{name}: string to sign\nours:\n{our_sts}\nsuite:\n{sts}"
        ));
    }
    let key = signing_key(SECRET, &auth.date, &auth.region, &auth.service);
    let sig = signature(&key, &our_sts);
    if sig != auth.signature {
        return Err(format!("{name}: signature {sig} != {}", auth.signature));
    }
    if !verify(&auth, &parts, AMZ_DATE, SECRET) {
        return Err(format!("{name}: verify refused the suite's request"));
    }
    // Changing any signed header's value breaks the signature.
    for signed in &auth.signed_headers {
        let tampered: Vec<(String, String)> = req
            .headers
            .iter()
            .map(|(n, v)| match n.eq_ignore_ascii_case(signed) {
                true => (n.clone(), format!("{v}x")),
                false => (n.clone(), v.clone()),
            })
            .collect();
        let parts = RequestParts {
            headers: &tampered,
            ..parts
        };
        if verify(&auth, &parts, AMZ_DATE, SECRET) {
            return Err(format!("{name}: verify accepted a changed '{signed}'"));
        }
    }
    let other_method = if req.method == "GET" { "POST" } else { "GET" };
    if verify(
        &auth,
        &RequestParts {
            method: other_method,
            ..parts
        },
        AMZ_DATE,
        SECRET,
    ) {
        return Err(format!("{name}: verify accepted another method"));
    }
    Ok(())
}

#[test]
fn every_suite_vector_matches() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .expect("suite dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    assert!(
        dirs.len() >= 29,
        "the whole suite is present ({})",
        dirs.len()
    );
    let failures: Vec<String> = dirs.iter().filter_map(|d| check_case(d).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

#[test]
fn suite_requests_pass_the_signed_header_rules_except_the_late_token() {
    for case in [
        "get-vanilla",
        "post-x-www-form-urlencoded",
        "post-sts-header-before",
    ] {
        let dir = suite_dir().join(case);
        let req = parse_req(&read(&dir, case, "req"));
        let auth = Authorization::parse(&read(&dir, case, "authz")).unwrap();
        assert_eq!(check_signed_headers(&auth, &req.headers), Ok(()), "{case}");
    }
    // post-sts-header-after adds X-Amz-Security-Token after signing: Cairn refuses that.
    let dir = suite_dir().join("post-sts-header-after");
    let auth = Authorization::parse(&read(&dir, "post-sts-header-after", "authz")).unwrap();
    let mut headers = parse_req(&read(&dir, "post-sts-header-after", "req")).headers;
    headers.push(("X-Amz-Security-Token".into(), "AQoDYXdzEPT".into()));
    assert!(check_signed_headers(&auth, &headers).is_err());
}
