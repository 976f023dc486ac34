//! `cairn bench populate`: fills a data dir with synthetic management events whose
//! attribute values come from the fixed vocabularies below, so `bench lookup` knows what
//! to ask for. It takes the data dir's lock (refused beside a running server) and refuses a
//! store it already filled. Its events are synthetic: populate a benchmark's data dir, never
//! one whose history is an audit trail.

use std::path::PathBuf;
use std::time::Instant;

use cairn_model::event::{EVENT_VERSION, EventRecord, EventResource, format_event_time};
use cairn_store::Store;
use clap::Args;
use serde_json::json;

/// Event names used.
pub const EVENT_NAMES: [&str; 12] = [
    "RunInstances",
    "DescribeInstances",
    "CreateBucket",
    "PutObjectAcl",
    "AssumeRole",
    "GetCallerIdentity",
    "CreateUser",
    "AttachRolePolicy",
    "CreateTrail",
    "StopLogging",
    "ConsoleLogin",
    "Decrypt",
];
/// Event sources used (one per name, same index modulo length).
pub const EVENT_SOURCES: [&str; 6] = [
    "ec2.amazonaws.com",
    "s3.amazonaws.com",
    "sts.amazonaws.com",
    "iam.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "kms.amazonaws.com",
];
/// Number of distinct users (`user-N`), access keys and resources.
pub const USERS: u64 = 200;
/// Number of distinct resource names per type.
pub const RESOURCES: u64 = 500;
/// Resource types used.
pub const RESOURCE_TYPES: [&str; 4] = [
    "AWS::EC2::Instance",
    "AWS::S3::Bucket",
    "AWS::IAM::Role",
    "AWS::CloudTrail::Trail",
];

/// The deterministic event id of synthetic event `i`.
pub fn event_id(i: u64) -> String {
    format!("00000000-0000-4000-8000-{i:012x}")
}

/// Arguments of `cairn bench populate`.
#[derive(Args, Debug)]
pub struct PopulateArgs {
    /// Data dir to fill (created if missing).
    #[arg(long)]
    data_dir: PathBuf,
    /// Number of events.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Account id.
    #[arg(long, default_value = "123456789012")]
    account_id: String,
    /// Region.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Add to a store that already records events (a benchmark's own trail and bucket).
    /// Without it such a store is refused: synthetic events would pass for its history.
    #[arg(long)]
    allow_existing_events: bool,
}

/// A cheap deterministic mixer (splitmix64) so runs are reproducible.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn synthetic(
    i: u64,
    account: &str,
    region: &str,
    now: i64,
    span: i64,
) -> (EventRecord, i64, String, Vec<(String, String)>) {
    let r = mix(i);
    let name = EVENT_NAMES[(r % EVENT_NAMES.len() as u64) as usize];
    let source = EVENT_SOURCES[((r >> 8) % EVENT_SOURCES.len() as u64) as usize];
    let user = format!("user-{}", (r >> 16) % USERS);
    let key = format!("AKIABENCH{:011}", (r >> 16) % USERS);
    let rtype = RESOURCE_TYPES[((r >> 24) % RESOURCE_TYPES.len() as u64) as usize];
    let rname = format!("resource-{}", (r >> 32) % RESOURCES);
    // A million events spread evenly over the span; more wrap around it.
    let time = now - span + (i as i64 * span / 1_000_000) % span;
    let read_only = (r >> 40).is_multiple_of(2);
    let record = EventRecord {
        event_version: EVENT_VERSION.into(),
        user_identity: json!({"type": "IAMUser", "principalId": "AIDABENCH", "arn": format!("arn:aws:iam::{account}:user/{user}"),
            "accountId": account, "accessKeyId": key, "userName": user}),
        event_time: format_event_time(time),
        event_source: source.into(),
        event_name: name.into(),
        aws_region: region.into(),
        source_ip_address: "198.51.100.23".into(),
        user_agent: "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64".into(),
        error_code: None,
        error_message: None,
        request_parameters: json!({"name": rname, "maxResults": 50, "filterSet": {"items": [{"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}}),
        response_elements: if read_only {
            serde_json::Value::Null
        } else {
            json!({"requestId": "r", "reservationId": "r-0123456789abcdef0"})
        },
        additional_event_data: None,
        request_id: format!("req-{i}"),
        event_id: event_id(i),
        read_only,
        resources: vec![EventResource {
            arn: format!("arn:aws:bench:::{rname}"),
            account_id: Some(account.into()),
            resource_type: rtype.into(),
            arn_prefix: None,
        }],
        event_type: "AwsApiCall".into(),
        management_event: true,
        recipient_account_id: account.into(),
        event_category: "Management".into(),
    };
    (record, time, user, vec![(rtype.to_owned(), rname)])
}

/// Fills the data dir.
pub fn run(args: PopulateArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)?;
    // Synthetic events in a live store would pass for real audit history: never beside a
    // running server, and never twice into one store.
    let _lock = crate::datadir::lock(
        &args.data_dir,
        crate::datadir::Holder::Admin("bench populate"),
    )?;
    // A fresh dir gets a new store; an existing store must already be at this binary's
    // schema, since an admin command never upgrades a data dir (a mistyped path to a backup
    // of an older Cairn must not be upgraded one-way by a command that then refuses).
    let db = args.data_dir.join("cairn.db");
    let store = if db.exists() {
        Store::open_current(&db)?
    } else {
        Store::open(&db)?
    };
    let first = event_id(0);
    if store.read_blocking(move |c| cairn_store::events::exists(c, &first))? {
        anyhow::bail!(
            "{} already holds `cairn bench populate`'s events: populate a fresh data dir",
            args.data_dir.display()
        );
    }
    let recorded = store.read_blocking(cairn_store::events::count)?;
    if recorded > 0 && !args.allow_existing_events {
        anyhow::bail!(
            "{} already records {recorded} events: synthetic events added to it would pass for its audit history. Populate a fresh data dir, or pass --allow-existing-events for a benchmark's own data dir",
            args.data_dir.display()
        );
    }
    let now = chrono::Utc::now().timestamp();
    let span = 80 * 86_400;
    let started = Instant::now();
    const BATCH: u64 = 10_000;
    let mut i = 0;
    while i < args.events {
        let end = (i + BATCH).min(args.events);
        let (account, region) = (args.account_id.clone(), args.region.clone());
        store.write_blocking(move |c| -> anyhow::Result<()> {
            for n in i..end {
                let (record, time, user, resources) = synthetic(n, &account, &region, now, span);
                cairn_core::record::append(
                    c,
                    &cairn_core::record::PreparedEvent::new(&record, time, &user, resources),
                )?;
            }
            Ok(())
        })??;
        i = end;
    }
    println!(
        "populated {} events in {:.1} s into {}",
        args.events,
        started.elapsed().as_secs_f64(),
        args.data_dir.display()
    );
    Ok(())
}

/// One synthetic event for other benchmarks: (record, epoch time, username, lookup resources).
pub fn synthetic_for_bench(i: u64, now: i64) -> (EventRecord, i64, String, Vec<(String, String)>) {
    synthetic(i, "123456789012", "us-east-1", now, 86_400)
}

/// One synthetic event of the last minute before `now`, as a server records them.
pub fn synthetic_current(i: u64, now: i64) -> (EventRecord, i64, String, Vec<(String, String)>) {
    synthetic(i, "123456789012", "us-east-1", now, 60)
}
