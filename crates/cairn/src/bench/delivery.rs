//! `cairn bench delivery-data`: a data dir ready for a delivery measurement — a local
//! bucket with CloudTrail's policy, a logging trail (validation on) and N events of about B
//! bytes each, not yet delivered. Then measure `cairn flush` on it, e.g. its peak RSS:
//!
//! ```sh
//! cairn bench delivery-data --data-dir /tmp/big --events 50000 --event-bytes 200000
//! /usr/bin/time -v cairn flush --data-dir /tmp/big --max-events-per-file 50000 --max-file-bytes 20000000000
//! ```
//!
//! Each event's `requestParameters` carries B bytes of record-like text with a random token
//! every 64 bytes (it compresses about 4:1), so gzip works for its bytes.

use std::path::PathBuf;
use std::time::Instant;

use cairn_core::record::{PreparedEvent, append};
use cairn_model::event::{EVENT_VERSION, EventRecord, format_event_time};
use cairn_model::trail::{EventSelector, LoggingWindow, Selectors, Trail, TrailStatus};
use cairn_store::{Store, buckets, delivery, trails};
use clap::Args;
use serde_json::json;

/// Arguments of `cairn bench delivery-data`.
#[derive(Args, Debug)]
pub struct DeliveryDataArgs {
    /// Data dir to create (must not exist yet).
    #[arg(long)]
    data_dir: PathBuf,
    /// Number of events.
    #[arg(long, default_value_t = 50_000)]
    events: u64,
    /// Approximate size of each record, bytes.
    #[arg(long, default_value_t = 200_000)]
    event_bytes: usize,
    /// Append the events to a data dir this command made before (with `--events 0`), whose
    /// trail may have been changed since through a server (say, given a KMS key).
    #[arg(long)]
    append: bool,
}

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";
const BUCKET: &str = "bench-delivery";

/// `len` bytes of record-like text: a pseudo-random 16-hex-digit token in every 64 bytes,
/// the rest a fixed phrase. It compresses about 4:1 at gzip level 6, a little worse than
/// real records.
fn padding(seed: u64, len: usize) -> String {
    const PHRASE: &str = "/arn:aws:s3:::bench-delivery/AWSLogs/123456789012/object-key-part";
    let mut x = seed;
    let mut out = String::with_capacity(len + 64);
    while out.len() < len {
        // splitmix64
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        out.push_str(&format!("{:016x}", z ^ (z >> 31)));
        out.push_str(&PHRASE[..48]);
    }
    out.truncate(len);
    out
}

fn trail(now: f64) -> Trail {
    Trail {
        name: "bench-delivery".into(),
        account: ACCOUNT.into(),
        home_region: REGION.into(),
        s3_bucket_name: BUCKET.into(),
        s3_key_prefix: None,
        sns_topic_arn: None,
        include_global_service_events: true,
        is_multi_region_trail: false,
        log_file_validation_enabled: true,
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
            start_logging_time: Some(now),
            windows: vec![LoggingWindow {
                start_seq: 1,
                end_seq: None,
            }],
            ..Default::default()
        },
        created_at: now,
    }
}

fn policy() -> String {
    json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": format!("arn:aws:s3:::{BUCKET}")},
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{BUCKET}/AWSLogs/{ACCOUNT}/*"),
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}}]})
    .to_string()
}

/// Creates the data dir (or, with `--append`, adds the events to one it made before).
pub fn run(args: DeliveryDataArgs) -> anyhow::Result<()> {
    let db = args.data_dir.join("cairn.db");
    if args.append {
        anyhow::ensure!(db.exists(), "{} does not exist", db.display());
    } else {
        anyhow::ensure!(
            !args.data_dir.exists(),
            "{} exists; give a new data dir",
            args.data_dir.display()
        );
        std::fs::create_dir_all(&args.data_dir)?;
    }
    let store = Store::open(&db)?;
    let now = chrono::Utc::now().timestamp() as f64;
    let append_only = args.append;
    store.write_blocking(move |c| -> anyhow::Result<()> {
        if append_only {
            anyhow::ensure!(
                trails::get(c, ACCOUNT, REGION, "bench-delivery")?.is_some(),
                "the data dir has no bench-delivery trail"
            );
            return Ok(());
        }
        anyhow::ensure!(delivery::max_seq(c)? == 0, "the store is not empty");
        buckets::insert(
            c,
            &buckets::Bucket {
                name: BUCKET.into(),
                account: ACCOUNT.into(),
                region: REGION.into(),
                created: now,
                policy: Some(policy()),
            },
        )?;
        trails::put(c, &trail(now))?;
        Ok(())
    })??;
    let started = Instant::now();
    let per_job = (4 * 1024 * 1024 / args.event_bytes.max(1)).max(1) as u64;
    let mut i = 0;
    while i < args.events {
        let end = (i + per_job).min(args.events);
        let bytes = args.event_bytes;
        store.write_blocking(move |c| -> anyhow::Result<()> {
            for n in i..end {
                let id = format!("00000000-0000-4000-8000-{n:012x}");
                let record = EventRecord {
                    event_version: EVENT_VERSION.into(),
                    user_identity: json!({"type": "Root", "accountId": ACCOUNT}),
                    event_time: format_event_time(now as i64),
                    event_source: "cloudtrail.amazonaws.com".into(),
                    event_name: "DescribeTrails".into(),
                    aws_region: REGION.into(),
                    source_ip_address: "198.51.100.23".into(),
                    user_agent: "cairn-bench".into(),
                    error_code: None,
                    error_message: None,
                    request_parameters: json!({"pad": padding(n, bytes.saturating_sub(600))}),
                    response_elements: serde_json::Value::Null,
                    additional_event_data: None,
                    request_id: id.clone(),
                    event_id: id,
                    read_only: true,
                    resources: vec![],
                    event_type: "AwsApiCall".into(),
                    management_event: true,
                    recipient_account_id: ACCOUNT.into(),
                    event_category: "Management".into(),
                };
                append(c, &PreparedEvent::new(&record, now as i64, "root", vec![]))?;
            }
            Ok(())
        })??;
        i = end;
    }
    println!(
        "{}",
        json!({"Events": args.events, "EventBytes": args.event_bytes, "Seconds": started.elapsed().as_secs_f64(),
               "DataDir": args.data_dir.display().to_string()})
    );
    Ok(())
}
