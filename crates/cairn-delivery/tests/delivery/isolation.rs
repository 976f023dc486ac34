//! One trail's failing bucket stops neither its own recovery nor any other trail, and
//! GetTrailStatus carries the real S3 error.

use crate::support::{Fixture, acl_only_policy, cloudtrail_policy, step};

#[test]
fn a_missing_bucket_fails_only_its_trail_and_recovers() {
    let f = Fixture::new();
    f.bucket("b-bucket", Some(cloudtrail_policy("b-bucket")));
    // "a-broken" sorts first, so its failures come before the healthy trail's work.
    f.trail("a-broken", "a-bucket", true);
    f.trail("b-healthy", "b-bucket", true);
    let ids = f.events(3, 10);
    let d = f.delivery();
    step(&d, f.t0 + 10.0, true);
    assert_eq!(f.delivered("b-bucket"), ids, "the healthy trail delivered");
    assert_eq!(
        f.digests("b-bucket").len(),
        1,
        "the healthy trail's digest is written although an earlier trail's failed"
    );
    let broken = f.status("a-broken");
    assert_eq!(
        broken.latest_delivery_error.as_deref(),
        Some("NoSuchBucket")
    );
    assert_eq!(
        broken.latest_digest_delivery_error.as_deref(),
        Some("NoSuchBucket")
    );
    assert!(f.status("b-healthy").latest_delivery_error.is_none());

    // The bucket appears: the pending file and a digest follow, errors clear.
    f.bucket("a-bucket", Some(cloudtrail_policy("a-bucket")));
    step(&d, f.t0 + 1000.0, true);
    assert_eq!(f.delivered("a-bucket"), ids, "nothing was lost meanwhile");
    assert_eq!(f.digests("a-bucket").len(), 1);
    let healed = f.status("a-broken");
    assert!(healed.latest_delivery_error.is_none(), "{healed:?}");
    assert!(healed.latest_digest_delivery_error.is_none(), "{healed:?}");
}

#[test]
fn a_policy_without_put_object_is_access_denied_and_nothing_is_lost() {
    let f = Fixture::new();
    f.bucket("a-bucket", Some(acl_only_policy("a-bucket")));
    f.bucket("b-bucket", Some(cloudtrail_policy("b-bucket")));
    f.trail("a-denied", "a-bucket", true);
    f.trail("b-healthy", "b-bucket", true);
    let ids = f.events(4, 10);
    let d = f.delivery();
    step(&d, f.t0 + 10.0, true);
    assert!(
        f.log_files("a-bucket").is_empty(),
        "CloudTrail may not write without s3:PutObject"
    );
    assert!(f.digests("a-bucket").is_empty());
    let denied = f.status("a-denied");
    assert_eq!(
        denied.latest_delivery_error.as_deref(),
        Some("AccessDenied")
    );
    assert_eq!(
        denied.latest_digest_delivery_error.as_deref(),
        Some("AccessDenied")
    );
    assert_eq!(f.delivered("b-bucket"), ids);
    assert_eq!(f.digests("b-bucket").len(), 1);

    // Still denied a step later: still nothing written, still the same error.
    step(&d, f.t0 + 700.0, true);
    assert!(f.log_files("a-bucket").is_empty());

    f.set_policy("a-bucket", &cloudtrail_policy("a-bucket"));
    step(&d, f.t0 + 2000.0, true);
    assert_eq!(
        f.delivered("a-bucket"),
        ids,
        "written once the policy allows it"
    );
    assert_eq!(f.digests("a-bucket").len(), 1);
    assert!(f.status("a-denied").latest_delivery_error.is_none());
}

#[test]
fn a_policy_for_another_trail_or_prefix_is_denied() {
    let f = Fixture::new();
    // Allows writes only for another trail's SourceArn.
    let policy = serde_json::json!({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
         "Action":"s3:PutObject","Resource":"arn:aws:s3:::a-bucket/AWSLogs/123456789012/*",
         "Condition":{"StringEquals":{"aws:SourceArn":"arn:aws:cloudtrail:us-east-1:123456789012:trail/other"}}}]})
    .to_string();
    f.bucket("a-bucket", Some(policy));
    f.trail("mine", "a-bucket", false);
    f.events(2, 10);
    step(&f.delivery(), f.t0 + 10.0, true);
    assert!(f.log_files("a-bucket").is_empty());
    assert_eq!(
        f.status("mine").latest_delivery_error.as_deref(),
        Some("AccessDenied")
    );
}
