//! A data dir with buckets, trails and recorded events, driven by a controllable clock.

use std::io::Read;

use cairn_core::record::{PreparedEvent, append};
use cairn_delivery::Delivery;
use cairn_model::event::{EVENT_VERSION, EventRecord, format_event_time};
use cairn_model::trail::{
    DeliveryStatus, EventSelector, LoggingWindow, Selectors, Trail, TrailStatus,
};
use cairn_store::{Store, buckets, delivery, objects, trails};
use serde_json::json;

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// The bucket policy CloudTrail needs for `AWSLogs/<account>/*`.
pub fn cloudtrail_policy(bucket: &str) -> String {
    json!({"Version":"2012-10-17","Statement":[
        {"Sid":"AWSCloudTrailAclCheck20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
         "Action":"s3:GetBucketAcl","Resource":format!("arn:aws:s3:::{bucket}")},
        {"Sid":"AWSCloudTrailWrite20150319","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
         "Action":"s3:PutObject","Resource":format!("arn:aws:s3:::{bucket}/AWSLogs/{ACCOUNT}/*"),
         "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]})
    .to_string()
}

/// A policy that lets CloudTrail check the ACL but not write.
pub fn acl_only_policy(bucket: &str) -> String {
    json!({"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
         "Action":"s3:GetBucketAcl","Resource":format!("arn:aws:s3:::{bucket}")}]})
    .to_string()
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
    /// The clock the tests drive (epoch seconds).
    pub t0: f64,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("cairn.db")).unwrap();
        Self {
            dir,
            store,
            t0: 1_800_000_000.0,
        }
    }

    pub fn delivery(&self) -> Delivery {
        Delivery::new(
            self.store.clone(),
            self.dir.path(),
            cairn_buckets::ExternalBuckets::default(),
            3600.0,
        )
        .unwrap()
    }

    /// Creates a local bucket with `policy`.
    pub fn bucket(&self, name: &str, policy: Option<String>) {
        let b = buckets::Bucket {
            name: name.into(),
            account: ACCOUNT.into(),
            region: REGION.into(),
            created: self.t0,
            policy,
        };
        self.store
            .write_blocking(move |c| buckets::insert(c, &b))
            .unwrap()
            .unwrap();
    }

    pub fn set_policy(&self, bucket: &str, policy: &str) {
        let (b, p) = (bucket.to_owned(), policy.to_owned());
        self.store
            .write_blocking(move |c| buckets::set_policy(c, &b, Some(&p)))
            .unwrap()
            .unwrap();
    }

    /// Creates a trail that logs from the next recorded event on; returns its ARN.
    pub fn trail(&self, name: &str, bucket: &str, validation: bool) -> String {
        let t0 = self.t0;
        let (name, bucket) = (name.to_owned(), bucket.to_owned());
        self.store
            .write_blocking(move |c| {
                let next = delivery::max_seq(c).unwrap() + 1;
                let trail = Trail {
                    name,
                    account: ACCOUNT.into(),
                    home_region: REGION.into(),
                    s3_bucket_name: bucket,
                    s3_key_prefix: None,
                    sns_topic_arn: None,
                    include_global_service_events: true,
                    is_multi_region_trail: false,
                    log_file_validation_enabled: validation,
                    cloud_watch_logs_log_group_arn: None,
                    cloud_watch_logs_role_arn: None,
                    kms_key_id: None,
                    is_organization_trail: false,
                    selectors: Selectors::Basic(vec![EventSelector::default_all_management()]),
                    has_custom_event_selectors: false,
                    insight_selectors: vec![],
                    tags: vec![],
                    status: TrailStatus {
                        is_logging: true,
                        start_logging_time: Some(t0),
                        windows: vec![LoggingWindow {
                            start_seq: next,
                            end_seq: None,
                        }],
                        ..Default::default()
                    },
                    created_at: t0,
                };
                trails::put(c, &trail).unwrap();
                trail.arn()
            })
            .unwrap()
    }

    /// Records `n` management events whose `requestParameters` carry `pad` bytes; returns
    /// their event ids in order.
    pub fn events(&self, n: usize, pad: usize) -> Vec<String> {
        let t0 = self.t0 as i64;
        let ids: Vec<String> = (0..n).map(|_| uuid::Uuid::new_v4().to_string()).collect();
        for chunk in ids.chunks(50) {
            let chunk = chunk.to_vec();
            self.store
                .write_blocking(move |c| {
                    for id in &chunk {
                        let record = EventRecord {
                            event_version: EVENT_VERSION.into(),
                            user_identity: json!({"type": "Root", "accountId": ACCOUNT}),
                            event_time: format_event_time(t0),
                            event_source: "cloudtrail.amazonaws.com".into(),
                            event_name: "DescribeTrails".into(),
                            aws_region: REGION.into(),
                            source_ip_address: "127.0.0.1".into(),
                            user_agent: "test".into(),
                            error_code: None,
                            error_message: None,
                            request_parameters: json!({"pad": "x".repeat(pad)}),
                            response_elements: serde_json::Value::Null,
                            additional_event_data: None,
                            request_id: id.clone(),
                            event_id: id.clone(),
                            read_only: true,
                            resources: vec![],
                            event_type: "AwsApiCall".into(),
                            management_event: true,
                            recipient_account_id: ACCOUNT.into(),
                            event_category: "Management".into(),
                        };
                        append(c, &PreparedEvent::new(&record, t0, "root", vec![])).unwrap();
                    }
                })
                .unwrap();
        }
        ids
    }

    /// Runs raw SQL (to damage the store the way a bug or a disk would).
    pub fn sql(&self, sql: &str) -> usize {
        let sql = sql.to_owned();
        self.store
            .write_blocking(move |c| c.execute(&sql, []).unwrap())
            .unwrap()
    }

    /// (key, uncompressed body) of every object under `prefix`, in key order.
    pub fn objects(&self, bucket: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
        let (b, p) = (bucket.to_owned(), prefix.to_owned());
        let rows = self
            .store
            .read_blocking(move |c| objects::list(c, &b, &p, "", 100_000))
            .unwrap();
        rows.into_iter()
            .map(|o| {
                let gz = std::fs::read(self.dir.path().join("objects").join(&o.file)).unwrap();
                let mut body = Vec::new();
                flate2::read::GzDecoder::new(&gz[..])
                    .read_to_end(&mut body)
                    .unwrap();
                (o.key, body)
            })
            .collect()
    }

    /// Log files of a bucket: (key, event ids in the file).
    pub fn log_files(&self, bucket: &str) -> Vec<(String, Vec<String>)> {
        self.objects(bucket, &format!("AWSLogs/{ACCOUNT}/CloudTrail/"))
            .into_iter()
            .map(|(k, body)| {
                let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
                let ids = v["Records"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r["eventID"].as_str().unwrap().to_owned())
                    .collect();
                (k, ids)
            })
            .collect()
    }

    /// Every event id delivered to a bucket, in file order.
    pub fn delivered(&self, bucket: &str) -> Vec<String> {
        self.log_files(bucket)
            .into_iter()
            .flat_map(|(_, ids)| ids)
            .collect()
    }

    /// Digest keys in a bucket.
    pub fn digests(&self, bucket: &str) -> Vec<String> {
        self.objects(bucket, &format!("AWSLogs/{ACCOUNT}/CloudTrail-Digest/"))
            .into_iter()
            .map(|(k, _)| k)
            .collect()
    }

    pub fn status(&self, name: &str) -> DeliveryStatus {
        let name = name.to_owned();
        self.store
            .read_blocking(move |c| trails::get(c, ACCOUNT, REGION, &name))
            .unwrap()
            .expect("trail exists")
            .status
            .delivery
    }
}

/// Runs one delivery step at `now` on a fresh runtime; returns whether it reported success.
pub fn step(d: &Delivery, now: f64, force_digests: bool) -> bool {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(d.run_once(now, force_digests))
        .is_ok()
}
