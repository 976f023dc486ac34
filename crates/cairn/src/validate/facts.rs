//! What the CloudTrail API says about the trail before the bucket is read: DescribeTrails,
//! GetTrailStatus (latest digest, stop and start times, a failing digest delivery) and
//! ListPublicKeys.

use std::collections::HashMap;

use base64::Engine;
use serde_json::{Value, json};

use crate::client::CloudTrail;

/// What the CloudTrail API told us.
pub(super) struct TrailFacts {
    pub(super) trails: Vec<Value>,
    pub(super) latest_digest: Option<i64>,
    /// GetTrailStatus's `StopLoggingTime` while the trail is not logging.
    pub(super) stopped_at: Option<i64>,
    /// GetTrailStatus's `StartLoggingTime`: where the current chain can begin at the earliest.
    pub(super) started_at: Option<i64>,
    pub(super) public_keys: HashMap<String, Vec<u8>>,
    /// GetTrailStatus's `LatestDigestDeliveryError`: digests are failing to be written.
    pub(super) digest_error: Option<String>,
}

impl TrailFacts {
    /// A note for a trail whose digest delivery fails (digest10 K1: a Deny on the digest
    /// folder stopped the digests, and files delivered since, a planted one among them, were
    /// not mentioned): those files are listed by no digest yet and cannot be vouched for.
    pub(super) fn digest_failing_note(&self, arn: &str) -> Option<String> {
        let error = self.digest_error.as_deref()?;
        let since = self.latest_digest.map_or("no digest yet".to_owned(), |t| {
            format!("the latest was delivered at {}", super::time::display(t))
        });
        Some(format!(
            "Digest delivery for trail {arn} is failing (GetTrailStatus \
             LatestDigestDeliveryError: {error}; {since}): log files delivered since are listed \
             by no digest and were not checked. Fix the bucket (its policy, its key) and validate \
             again once a digest is delivered."
        ))
    }
}

pub(super) async fn ask_cloudtrail(
    ct: &CloudTrail,
    arn: &str,
    start: i64,
    end: i64,
    need_trails: bool,
) -> anyhow::Result<TrailFacts> {
    // Status before any listing: a digest it reports is in the bucket before we list.
    let (describe, status_of, keys_in) = (
        json!({}),
        json!({ "Name": arn }),
        json!({"StartTime": start, "EndTime": end + 7200}),
    );
    let (trails, status, keys) = tokio::join!(
        ct.call("DescribeTrails", &describe),
        ct.call("GetTrailStatus", &status_of),
        ct.call("ListPublicKeys", &keys_in),
    );
    let trails = match trails {
        Ok(v) => v["trailList"].as_array().cloned().unwrap_or_default(),
        Err(e) if need_trails => return Err(e),
        Err(e) => {
            tracing::debug!("DescribeTrails: {e:#}");
            Vec::new()
        }
    };
    let digest_error = status.as_ref().ok().and_then(|v| {
        v["LatestDigestDeliveryError"]
            .as_str()
            .filter(|e| !e.is_empty())
            .map(str::to_owned)
    });
    let (latest_digest, stopped_at, started_at) = match status {
        Ok(v) => (
            v["LatestDigestDeliveryTime"]
                .as_f64()
                .map(|t| t.floor() as i64),
            (v["IsLogging"] == false)
                .then(|| v["StopLoggingTime"].as_f64().map(|t| t.floor() as i64))
                .flatten(),
            v["StartLoggingTime"].as_f64().map(|t| t.floor() as i64),
        ),
        Err(e) => {
            tracing::debug!("GetTrailStatus: {e:#}");
            (None, None, None)
        }
    };
    let public_keys = keys?["PublicKeyList"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            let der = base64::engine::general_purpose::STANDARD
                .decode(k["Value"].as_str()?)
                .ok()?;
            Some((k["Fingerprint"].as_str()?.to_owned(), der))
        })
        .collect();
    Ok(TrailFacts {
        trails,
        latest_digest,
        stopped_at,
        started_at,
        public_keys,
        digest_error,
    })
}
