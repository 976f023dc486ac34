//! `cairn bench control-plane`: closed-loop signed calls, `--concurrency` in flight.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;

use super::{Target, percentile_ms};

/// Arguments of `cairn bench control-plane`.
#[derive(Args, Debug)]
pub struct ControlPlaneArgs {
    #[command(flatten)]
    target: Target,
    /// `describe-trails` or `create-delete`.
    #[arg(long, default_value = "describe-trails")]
    op: String,
    /// Total iterations.
    #[arg(long, default_value_t = 5000)]
    requests: usize,
    /// Iterations in flight.
    #[arg(long, default_value_t = 32, value_parser = crate::bounds::flag::concurrency)]
    concurrency: usize,
    /// Bucket for create-delete (must exist with a CloudTrail policy).
    #[arg(long, default_value = "bench-bucket")]
    bucket: String,
    /// Spread workers over this many regions (worker `w` signs for region `w mod N`), so
    /// create-delete can keep more than the 5-trails-per-region limit in flight.
    #[arg(long, default_value_t = 1)]
    regions: usize,
}

async fn call(
    client: &reqwest::Client,
    target: &Target,
    op: &str,
    body: String,
) -> anyhow::Result<()> {
    let resp = target.post(client, op, body)?.send().await?;
    anyhow::ensure!(resp.status().is_success(), "{op}: {}", resp.status());
    Ok(())
}

/// Runs the scenario and prints one result line.
pub fn run(args: ControlPlaneArgs) -> anyhow::Result<()> {
    if args.op != "describe-trails" && args.op != "create-delete" {
        bail!("unknown op {}", args.op);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let args = Arc::new(args);
        let client = reqwest::Client::new();
        let started = Instant::now();
        let mut workers = Vec::new();
        for worker in 0..args.concurrency {
            let (args, client) = (args.clone(), client.clone());
            let mut target = args.target.clone();
            if args.regions > 1 {
                target.region = cairn_model::KNOWN_REGIONS[worker % args.regions.min(cairn_model::KNOWN_REGIONS.len())].to_owned();
            }
            workers.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in (worker..args.requests).step_by(args.concurrency) {
                    let t0 = Instant::now();
                    if args.op == "describe-trails" {
                        call(&client, &target, "DescribeTrails", "{}".into()).await?;
                    } else {
                        let name = format!("bench-{worker}-{i}");
                        let create = serde_json::json!({"Name": name, "S3BucketName": args.bucket});
                        call(&client, &target, "CreateTrail", create.to_string()).await?;
                        let delete = serde_json::json!({"Name": name});
                        call(&client, &target, "DeleteTrail", delete.to_string()).await?;
                    }
                    latencies.push(t0.elapsed());
                }
                Ok::<Vec<Duration>, anyhow::Error>(latencies)
            }));
        }
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.await??);
        }
        let elapsed = started.elapsed();
        all.sort();
        let calls = all.len() as f64 * if args.op == "create-delete" { 2.0 } else { 1.0 };
        println!(
            "{} op={} requests={calls} concurrency={} regions={} throughput={:.0} req/s p50={:.2} ms p99={:.2} ms",
            args.target.endpoint,
            args.op,
            args.concurrency,
            args.regions,
            calls / elapsed.as_secs_f64(),
            percentile_ms(&all, 0.50),
            percentile_ms(&all, 0.99),
        );
        Ok(())
    })
}
