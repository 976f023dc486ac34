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
