//! `cairn bench`: the measurements behind BENCHMARKS.md.
//!
//! - `control-plane`: closed-loop signed CloudTrail calls against any endpoint (Cairn or moto).
//! - `sign`: prints one signed request as `wrk -H` arguments, for replay by an external load
//!   generator (SigV4 allows replay within the clock-skew window).
//! - `populate`: fills a data dir with synthetic management events.
//! - `lookup`: LookupEvents latency per attribute against a running endpoint.
//! - `recording`: durable event commits per second through the store's group commit.
//! - `s3`: PutObject and GetObject throughput for one object size against any S3 endpoint.
//! - `s3-memory`: the server's peak RSS while it assembles a multipart upload and copies it.
//! - `kms`: GenerateDataKey and Decrypt throughput over HTTP.
//! - `policy`: policy evaluations per second per core.
//! - `logs`: filter-pattern matching (the CIS patterns vs a serde_json parse), ingest and
//!   FilterLogEvents, in process.
//! - `delivery-data`: a data dir with a logging trail and N undelivered events of B bytes,
//!   for measuring `cairn flush` (time, peak RSS).
//! - `console`: the web console's Event history page, time to first byte and whole page.
//! - `insights`: recording with and without an Insights trail; per-minute detection time.

mod console;
mod control_plane;
mod delivery;
mod insights;
mod kms;
mod logs;
mod lookup;
mod policy;
mod populate;
mod recording;
mod s3;
mod s3_memory;

use anyhow::Context;
use clap::{Args, Subcommand};

/// Arguments of `cairn bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    scenario: Scenario,
}

#[derive(Subcommand, Debug)]
enum Scenario {
    /// Control-plane throughput and latency.
    ControlPlane(control_plane::ControlPlaneArgs),
    /// Print a signed request as `wrk` header arguments.
    Sign(SignArgs),
    /// Fill a data dir with synthetic events.
    Populate(populate::PopulateArgs),
    /// LookupEvents latency per attribute.
    Lookup(lookup::LookupArgs),
    /// Durable recording throughput.
    Recording(recording::RecordingArgs),
    /// PutObject/GetObject throughput for one object size.
    S3(s3::S3Args),
    /// Server peak RSS during CompleteMultipartUpload and CopyObject of a large object.
    S3Memory(s3_memory::S3MemoryArgs),
    /// KMS GenerateDataKey and Decrypt throughput.
    Kms(kms::KmsArgs),
    /// Policy evaluations per second per core.
    Policy(policy::PolicyArgs),
    /// Filter-pattern matching, ingest and FilterLogEvents throughput.
    Logs(logs::LogsArgs),
    /// A data dir of undelivered events of a given size (for `cairn flush` measurements).
    DeliveryData(delivery::DeliveryDataArgs),
    /// The console's Event history page over a populated data dir.
    Console(console::ConsoleArgs),
    /// CloudTrail Insights: recording cost and detection time.
    Insights(insights::InsightsArgs),
}

/// Runs a benchmark scenario.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    match args.scenario {
        Scenario::ControlPlane(a) => control_plane::run(a),
        Scenario::Sign(a) => sign(a),
        Scenario::Populate(a) => populate::run(a),
        Scenario::Lookup(a) => lookup::run(a),
        Scenario::Recording(a) => recording::run(a),
        Scenario::S3(a) => s3::run(a),
        Scenario::S3Memory(a) => s3_memory::run(a),
        Scenario::Kms(a) => kms::run(a),
        Scenario::Policy(a) => policy::run(a),
        Scenario::Logs(a) => logs::run(a),
        Scenario::DeliveryData(a) => delivery::run(a),
        Scenario::Console(a) => console::run(a),
        Scenario::Insights(a) => insights::run(a),
    }
}

/// Where to send signed CloudTrail calls, and with which key.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// Endpoint URL, e.g. http://127.0.0.1:4599.
    #[arg(long)]
    pub endpoint: String,
    /// Access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    pub access_key_id: String,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    pub secret_access_key: String,
    /// Region to sign for.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
}

impl Target {
    fn host(&self) -> anyhow::Result<&str> {
        Ok(self
            .endpoint
            .strip_prefix("http://")
            .context("endpoint must be http://host:port")?
            .trim_end_matches('/'))
    }

    /// The headers of a signed CloudTrail JSON call, `host` excluded.
    pub fn signed_headers(&self, op: &str, body: &str) -> anyhow::Result<Vec<(String, String)>> {
        Ok(crate::client::sign_cloudtrail(
            self.host()?,
            &self.region,
            &self.access_key_id,
            &self.secret_access_key,
            op,
            body,
        ))
    }

    /// A signed POST ready to send.
    pub fn post(
        &self,
        client: &reqwest::Client,
        op: &str,
        body: String,
    ) -> anyhow::Result<reqwest::RequestBuilder> {
        let mut req = client.post(format!("{}/", self.endpoint.trim_end_matches('/')));
        for (n, v) in self.signed_headers(op, &body)? {
            req = req.header(n, v);
        }
        Ok(req.body(body))
    }
}

/// Arguments of `cairn bench sign`.
#[derive(Args, Debug)]
pub struct SignArgs {
    #[command(flatten)]
    target: Target,
    /// Operation, e.g. `DescribeTrails`.
    #[arg(long, default_value = "DescribeTrails")]
    op: String,
    /// JSON body.
    #[arg(long, default_value = "{}")]
    body: String,
}

fn sign(args: SignArgs) -> anyhow::Result<()> {
    let parts: Vec<String> = args
        .target
        .signed_headers(&args.op, &args.body)?
        .into_iter()
        .map(|(n, v)| format!("-H '{n}: {v}'"))
        .collect();
    println!("{}", parts.join(" "));
    Ok(())
}

/// Sorted latencies' percentile, in milliseconds.
pub fn percentile_ms(sorted: &[std::time::Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)].as_secs_f64() * 1000.0
}
