//! `cairn bench s3`: PutObject then GetObject throughput for one object size, against any
//! S3 endpoint (Cairn, or SeaweedFS measured the same way in the same run).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;

use super::percentile_ms;

/// Arguments of `cairn bench s3`.
#[derive(Args, Debug)]
pub struct S3Args {
    /// Endpoint URL, e.g. http://127.0.0.1:4599.
    #[arg(long)]
    endpoint: String,
    /// Bucket (must exist).
    #[arg(long)]
    bucket: String,
    /// Object size in bytes.
    #[arg(long)]
    size: usize,
    /// Objects to put and then get.
    #[arg(long, default_value_t = 200)]
    count: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Server-side encryption to ask for on every PUT (`aws:kms`, `AES256`); none by default.
    #[arg(long)]
    sse: Option<String>,
    /// With `--sse aws:kms`: ask for an S3 Bucket Key on every PUT.
    #[arg(long)]
    bucket_key: bool,
    /// Access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: String,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: String,
}

fn sign(args: &S3Args, method: &str, key: &str) -> anyhow::Result<Vec<(String, String)>> {
    let host = args
        .endpoint
        .strip_prefix("http://")
        .context("endpoint must be http://host:port")?
        .trim_end_matches('/');
    let now = chrono::Utc::now();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let mut headers = vec![
        ("host".to_owned(), host.to_owned()),
        (
            "x-amz-content-sha256".to_owned(),
            "UNSIGNED-PAYLOAD".to_owned(),
        ),
        ("x-amz-date".to_owned(), amz_date.clone()),
    ];
    if let (Some(sse), "PUT") = (&args.sse, method) {
        headers.push(("x-amz-server-side-encryption".to_owned(), sse.clone()));
        if args.bucket_key {
            headers.push((
                "x-amz-server-side-encryption-bucket-key-enabled".to_owned(),
                "true".to_owned(),
            ));
        }
    }
    let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let path = format!("/{}/{key}", args.bucket);
    let canonical = cairn_sigv4::canonical_request(
        &cairn_sigv4::RequestParts {
            method,
            raw_path: &path,
            raw_query: "",
            headers: &headers,
            payload_hash: "UNSIGNED-PAYLOAD",
        },
        &names,
        true,
    );
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let signing = cairn_sigv4::signing_key(&args.secret_access_key, date, "us-east-1", "s3");
    let sig = cairn_sigv4::signature(
        &signing,
        &cairn_sigv4::string_to_sign(&amz_date, &scope, &canonical),
    );
    let mut out: Vec<(String, String)> = headers.into_iter().filter(|(n, _)| n != "host").collect();
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            args.access_key_id,
            names.join(";")
        ),
    ));
    Ok(out)
}

async fn phase(
    args: &Arc<S3Args>,
    client: &reqwest::Client,
    body: &bytes::Bytes,
    put: bool,
) -> anyhow::Result<(Duration, Vec<Duration>)> {
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (args, client, body) = (args.clone(), client.clone(), body.clone());
        workers.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            for i in (w..args.count).step_by(args.concurrency) {
                let key = format!("bench/{i:06}");
                let method = if put { "PUT" } else { "GET" };
                let url = format!(
                    "{}/{}/{key}",
                    args.endpoint.trim_end_matches('/'),
                    args.bucket
                );
                let mut req = if put {
                    client.put(url).body(body.clone())
                } else {
                    client.get(url)
                };
                for (n, v) in sign(&args, method, &key)? {
                    req = req.header(n, v);
                }
                let t0 = Instant::now();
                let resp = req.send().await?;
                anyhow::ensure!(
                    resp.status().is_success(),
                    "{method} {key}: {}",
                    resp.status()
                );
                let got = resp.bytes().await?;
                anyhow::ensure!(put || got.len() == body.len(), "short read of {key}");
                lat.push(t0.elapsed());
            }
            Ok::<_, anyhow::Error>(lat)
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await??);
    }
    all.sort();
    Ok((started.elapsed(), all))
}

/// Runs the scenario and prints a line for PUT and one for GET.
pub fn run(args: S3Args) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let args = Arc::new(args);
        let client = reqwest::Client::new();
        let body = bytes::Bytes::from(vec![b'x'; args.size]);
        for put in [true, false] {
            let (elapsed, lat) = phase(&args, &client, &body, put).await?;
            let secs = elapsed.as_secs_f64();
            println!(
                "{} {} sse={}{} size={} count={} concurrency={} objects_per_s={:.0} MB_per_s={:.1} p50={:.2} ms p99={:.2} ms",
                args.endpoint,
                if put { "PUT" } else { "GET" },
                args.sse.as_deref().unwrap_or("none"),
                if args.bucket_key { "+bucket-key" } else { "" },
                args.size,
                args.count,
                args.concurrency,
                args.count as f64 / secs,
                (args.count * args.size) as f64 / secs / 1e6,
                percentile_ms(&lat, 0.5),
                percentile_ms(&lat, 0.99)
            );
        }
        Ok(())
    })
}
