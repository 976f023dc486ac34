//! Vectors from AWS's published SigV4 examples and round trips.

use super::*;

fn header(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

/// AWS's documented IAM ListUsers example (General Reference, "Signature Version 4 signing").
#[test]
fn aws_documented_get_vector() {
    let headers = vec![
        header("Host", "iam.amazonaws.com"),
        header(
            "Content-Type",
            "application/x-www-form-urlencoded; charset=utf-8",
        ),
        header("X-Amz-Date", "20150830T123600Z"),
    ];
    let parts = RequestParts {
        method: "GET",
        raw_path: "/",
        raw_query: "Action=ListUsers&Version=2010-05-08",
        headers: &headers,
        payload_hash: EMPTY_SHA256,
    };
    let signed = vec![
        "content-type".to_owned(),
        "host".to_owned(),
        "x-amz-date".to_owned(),
    ];
    let canonical = canonical_request(&parts, &signed, false);
    let to_sign = string_to_sign(
        "20150830T123600Z",
        "20150830/us-east-1/iam/aws4_request",
        &canonical,
    );
    assert!(to_sign.ends_with("f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"));
    let key = signing_key(
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        "20150830",
        "us-east-1",
        "iam",
    );
    assert_eq!(
        signature(&key, &to_sign),
        "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    );
}

#[test]
fn authorization_header_parses_and_rejects_garbage() {
    let auth = Authorization::parse(
        "AWS4-HMAC-SHA256 Credential=AKID/20261122/eu-west-1/cloudtrail/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    )
    .unwrap();
    assert_eq!(auth.region, "eu-west-1");
    assert_eq!(auth.service, "cloudtrail");
    assert_eq!(auth.signed_headers.len(), 4);
    assert!(Authorization::parse("Basic abc").is_err());
    assert!(
        Authorization::parse("AWS4-HMAC-SHA256 Credential=AKID/2026/eu/x/aws4_request").is_err()
    );
}

#[test]
fn skew_messages_match_aws() {
    let now = parse_amz_date("20190430T105909Z").unwrap();
    let old = parse_amz_date("20190430T075732Z").unwrap();
    assert_eq!(
        check_skew(old, now).unwrap_err().to_string(),
        "Signature expired: 20190430T075732Z is now earlier than 20190430T105409Z (20190430T105909Z - 5 min.)"
    );
    let future = parse_amz_date("20190430T120000Z").unwrap();
    assert!(
        check_skew(future, now)
            .unwrap_err()
            .to_string()
            .starts_with(
                "Signature not yet current: 20190430T120000Z is still later than 20190430T110409Z"
            )
    );
    assert!(check_skew(now, now).is_ok());
}

proptest::proptest! {
    /// Signing and verifying round-trip for arbitrary headers, and any changed byte of the
    /// payload hash breaks verification.
    #[test]
    fn sign_then_verify_round_trips(value in "[ -~]{0,40}", body in proptest::collection::vec(0u8..=255, 0..64)) {
        use sha2::Digest;
        let payload_hash = hex::encode(sha2::Sha256::digest(&body));
        let headers = vec![header("host", "127.0.0.1:4599"), header("x-amz-date", "20261122T100800Z"), header("x-custom", &value)];
        let signed: Vec<String> = vec!["host".into(), "x-amz-date".into(), "x-custom".into()];
        let parts = RequestParts { method: "POST", raw_path: "/", raw_query: "", headers: &headers, payload_hash: &payload_hash };
        let key = signing_key("secret", "20261122", "eu-west-1", "cloudtrail");
        let sig = signature(&key, &string_to_sign("20261122T100800Z", "20261122/eu-west-1/cloudtrail/aws4_request", &canonical_request(&parts, &signed, false)));
        let auth = Authorization::from_parts("AKID/20261122/eu-west-1/cloudtrail/aws4_request", "host;x-amz-date;x-custom", &sig).unwrap();
        proptest::prop_assert!(verify(&auth, &parts, "20261122T100800Z", "secret"));
        proptest::prop_assert!(!verify(&auth, &parts, "20261122T100800Z", "other-secret"));
        let altered = format!("{}0", &payload_hash[..63]);
        if altered != payload_hash {
            let parts2 = RequestParts { payload_hash: &altered, ..parts };
            proptest::prop_assert!(!verify(&auth, &parts2, "20261122T100800Z", "secret"));
        }
    }
}

fn auth_signing(signed: &str) -> Authorization {
    Authorization::from_parts(
        "AKID/20261122/us-east-1/cloudtrail/aws4_request",
        signed,
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    )
    .unwrap()
}

fn json_request_headers() -> Vec<(String, String)> {
    vec![
        header("Host", "127.0.0.1:4599"),
        header("Content-Type", "application/x-amz-json-1.1"),
        header("X-Amz-Date", "20261122T100800Z"),
        header("X-Amz-Target", "CloudTrail_20131101.DeleteTrail"),
        header("User-Agent", "aws-sdk-js/3"),
        header("X-Amzn-Trace-Id", "Root=1-abc"),
    ]
}

#[test]
fn host_must_be_signed_with_aws_message() {
    let err = Authorization::from_parts(
        "AKID/20261122/us-east-1/cloudtrail/aws4_request",
        "x-amz-date",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    );
    let mut auth = auth_signing("host;x-amz-date;x-amz-target");
    auth.signed_headers.retain(|h| h != "host");
    assert_eq!(
        check_signed_headers(&auth, &json_request_headers()),
        Err(SignedHeaderError::HostNotSigned)
    );
}

#[test]
fn every_amz_header_present_must_be_signed() {
    let headers = json_request_headers();
    // What the SDKs sign: everything but User-Agent and the trace id.
    assert_eq!(
        check_signed_headers(
            &auth_signing("content-type;host;x-amz-date;x-amz-target"),
            &headers
        ),
        Ok(())
    );
    // Content-Type may stay unsigned (AWS's JSON services accept that).
    assert_eq!(
        check_signed_headers(&auth_signing("host;x-amz-date;x-amz-target"), &headers),
        Ok(())
    );
    // The operation cannot be swapped in transit: X-Amz-Target must be covered.
    let err =
        check_signed_headers(&auth_signing("content-type;host;x-amz-date"), &headers).unwrap_err();
    assert_eq!(err, SignedHeaderError::NotSigned("X-Amz-Target".into()));
    assert_eq!(
        err.to_string(),
        "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization."
    );
    // Any other x-amz-* header too, whatever its case.
    let mut more = headers.clone();
    more.push(header("x-amz-security-token", "token"));
    assert_eq!(
        check_signed_headers(&auth_signing("host;x-amz-date;x-amz-target"), &more),
        Err(SignedHeaderError::NotSigned("x-amz-security-token".into()))
    );
    let mut content_sha = headers.clone();
    content_sha.push(header("X-AMZ-CONTENT-SHA256", EMPTY_SHA256));
    assert!(
        check_signed_headers(&auth_signing("host;x-amz-date;x-amz-target"), &content_sha).is_err()
    );
    assert!(
        check_signed_headers(
            &auth_signing("host;x-amz-content-sha256;x-amz-date;x-amz-target"),
            &content_sha
        )
        .is_ok()
    );
    // Short or non-ASCII names never panic.
    let odd = vec![
        header("host", "h"),
        header("x-amz", "v"),
        header("x-amé-zz", "v"),
    ];
    assert_eq!(check_signed_headers(&auth_signing("host"), &odd), Ok(()));
}

#[test]
fn payload_hash_rules() {
    let body = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e";
    for rules in [PayloadRules::S3, PayloadRules::BodySigned] {
        assert_eq!(payload_hash(None, body, rules), Ok(body));
        assert_eq!(payload_hash(Some(body), body, rules), Ok(body));
        let upper = body.to_ascii_uppercase();
        assert_eq!(payload_hash(Some(&upper), body, rules), Ok(upper.as_str()));
        assert_eq!(
            payload_hash(Some(EMPTY_SHA256), body, rules),
            Err(PayloadHashError::Mismatch)
        );
    }
    // Only S3 takes the documented literals; JSON and Query services always sign the body.
    for literal in S3_PAYLOAD_LITERALS {
        assert_eq!(
            payload_hash(Some(literal), body, PayloadRules::S3),
            Ok(literal)
        );
        let refused = payload_hash(Some(literal), body, PayloadRules::BodySigned).unwrap_err();
        assert_eq!(refused, PayloadHashError::BodyNotSigned);
        assert_eq!(refused.to_string(), SIGNATURE_MISMATCH);
    }
    // Junk is never taken as the payload hash.
    for junk in [
        "",
        "unsigned-payload",
        "abc",
        &"g".repeat(64),
        &format!("{body}00"),
    ] {
        assert_eq!(
            payload_hash(Some(junk), body, PayloadRules::S3),
            Err(PayloadHashError::InvalidS3Value)
        );
        assert_eq!(
            payload_hash(Some(junk), body, PayloadRules::BodySigned),
            Err(PayloadHashError::BodyNotSigned)
        );
    }
    assert!(
        PayloadHashError::InvalidS3Value
            .to_string()
            .starts_with("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, ")
    );
}

#[test]
fn query_components_are_decoded_then_encoded_once() {
    let headers = vec![header("host", "example.amazonaws.com")];
    let canonical = |raw_query: &str| {
        let parts = RequestParts {
            method: "GET",
            raw_path: "/",
            raw_query,
            headers: &headers,
            payload_hash: EMPTY_SHA256,
        };
        canonical_request(&parts, &["host".to_owned()], false)
            .lines()
            .nth(2)
            .unwrap()
            .to_owned()
    };
    assert_eq!(canonical("b=%e1%88%b4&a=x%2Fy"), "a=x%2Fy&b=%E1%88%B4");
    assert_eq!(canonical("a=x/y&a=%20"), "a=%20&a=x%2Fy");
    assert_eq!(canonical("flag&X-Amz-Signature=abc"), "flag=");
    // A malformed escape stays literal (and is encoded), never panics.
    assert_eq!(canonical("a=%zz&b=%"), "a=%25zz&b=%25");
}

proptest::proptest! {
    /// Arbitrary header names, query strings and payload headers never panic the edge checks
    /// or the canonicalizer, and a refused payload hash is never the declared junk.
    #[test]
    fn edge_checks_never_panic(
        names in proptest::collection::vec("[ -~]{0,12}|x-amz-[a-z\u{e9}-]{0,8}", 0..6),
        query in "[ -~\u{1234}]{0,40}",
        declared in proptest::option::of("[ -~]{0,70}"),
    ) {
        let headers: Vec<(String, String)> = names.iter().map(|n| (n.clone(), "v".to_owned())).collect();
        let auth = auth_signing("host;x-amz-date");
        let _ = check_signed_headers(&auth, &headers);
        let parts = RequestParts { method: "GET", raw_path: "/", raw_query: &query, headers: &headers, payload_hash: EMPTY_SHA256 };
        let _ = canonical_request(&parts, &auth.signed_headers, false);
        for rules in [PayloadRules::S3, PayloadRules::BodySigned] {
            if let Ok(hash) = payload_hash(declared.as_deref(), EMPTY_SHA256, rules) {
                proptest::prop_assert!(hash.eq_ignore_ascii_case(EMPTY_SHA256) || (rules == PayloadRules::S3 && S3_PAYLOAD_LITERALS.contains(&hash)));
            }
        }
    }
}
