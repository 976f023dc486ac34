//! `cairn bench`: a small closed-loop load generator for BENCHMARKS.md.
//!
//! `cairn bench control-plane --endpoint URL --op describe-trails|create-delete` signs
//! every request (SigV4, like a real SDK) and keeps `--concurrency` requests in flight for
//! `--requests` calls, then prints requests/s, p50 and p99. Any endpoint that speaks
//! CloudTrail works, so the same command measures moto's server in the same run.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use sha2::{Digest, Sha256};

/// Arguments of `cairn bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Scenario.
    #[arg(value_parser = ["control-plane"])]
    scenario: String,
    /// Endpoint URL, e.g. http://127.0.0.1:4599.
    #[arg(long)]
    endpoint: String,
    /// `describe-trails` or `create-delete`.
    #[arg(long, default_value = "describe-trails")]
    op: String,
    /// Total requests.
    #[arg(long, default_value_t = 5000)]
    requests: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: String,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: String,
    /// Bucket for create-delete (must exist with a CloudTrail policy).
    #[arg(long, default_value = "bench-bucket")]
    bucket: String,
}

fn signed(
    client: &reqwest::Client,
    args: &BenchArgs,
    host: &str,
    op: &str,
    body: String,
) -> reqwest::RequestBuilder {
    let now = chrono::Utc::now();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let target = format!("com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.{op}");
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        ("host".to_owned(), host.to_owned()),
        ("x-amz-date".to_owned(), amz_date.clone()),
        ("x-amz-target".to_owned(), target.clone()),
    ];
    let signed_names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let payload = hex::encode(Sha256::digest(body.as_bytes()));
    let canonical = cairn_sigv4::canonical_request(
        &cairn_sigv4::RequestParts {
            method: "POST",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            payload_hash: &payload,
        },
        &signed_names,
        false,
    );
    let scope = format!("{date}/us-east-1/cloudtrail/aws4_request");
    let key = cairn_sigv4::signing_key(&args.secret_access_key, date, "us-east-1", "cloudtrail");
    let sig = cairn_sigv4::signature(
        &key,
        &cairn_sigv4::string_to_sign(&amz_date, &scope, &canonical),
    );
    client
        .post(format!("{}/", args.endpoint))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-date", amz_date)
        .header("x-amz-target", target)
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
                args.access_key_id,
                signed_names.join(";")
            ),
        )
        .body(body)
}

/// Runs a benchmark scenario.
pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(control_plane(args))
}

async fn control_plane(args: BenchArgs) -> anyhow::Result<()> {
    let host = args
        .endpoint
        .strip_prefix("http://")
        .context("endpoint must be http://host:port")?
        .trim_end_matches('/')
        .to_owned();
    if args.op != "describe-trails" && args.op != "create-delete" {
        bail!("unknown op {}", args.op);
    }
    let args = std::sync::Arc::new(args);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.concurrency {
        let args = args.clone();
        let host = host.clone();
        let client = client.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut i = worker;
            while i < args.requests {
                let t0 = Instant::now();
                if args.op == "describe-trails" {
                    let resp = signed(&client, &args, &host, "DescribeTrails", "{}".into())
                        .send()
                        .await?;
                    anyhow::ensure!(
                        resp.status().is_success(),
                        "DescribeTrails: {}",
                        resp.status()
                    );
                } else {
                    let name = format!("bench-{worker}-{i}");
                    let body =
                        serde_json::json!({"Name": name, "S3BucketName": args.bucket}).to_string();
                    let resp = signed(&client, &args, &host, "CreateTrail", body)
                        .send()
                        .await?;
                    anyhow::ensure!(resp.status().is_success(), "CreateTrail: {}", resp.status());
                    let body = serde_json::json!({"Name": name}).to_string();
                    let resp = signed(&client, &args, &host, "DeleteTrail", body)
                        .send()
                        .await?;
                    anyhow::ensure!(resp.status().is_success(), "DeleteTrail: {}", resp.status());
                }
                latencies.push(t0.elapsed());
                i += args.concurrency;
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
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    let calls_per_iteration = if args.op == "create-delete" { 2.0 } else { 1.0 };
    println!(
        "{} op={} requests={} concurrency={} throughput={:.0} req/s p50={:.2} ms p99={:.2} ms",
        args.endpoint,
        args.op,
        all.len() as f64 * calls_per_iteration,
        args.concurrency,
        all.len() as f64 * calls_per_iteration / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
    );
    Ok(())
}
