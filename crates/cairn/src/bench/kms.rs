//! `cairn bench kms`: closed-loop GenerateDataKey and Decrypt over HTTP (freshly signed AWS
//! JSON 1.1 requests), against Cairn or any KMS endpoint. Pin the server to one core
//! (`taskset -c 0 cairn serve …`) to read the figures as operations per second per core.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Target, percentile_ms};

/// Arguments of `cairn bench kms`.
#[derive(Args, Debug)]
pub struct KmsArgs {
    #[command(flatten)]
    target: Target,
    /// Requests per operation.
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Requests in flight.
    #[arg(long, default_value_t = 16, value_parser = crate::bounds::flag::concurrency)]
    concurrency: usize,
    /// Key to use (default: a new key created for the run).
    #[arg(long)]
    key_id: Option<String>,
}

fn headers(t: &Target, op: &str, body: &str) -> anyhow::Result<Vec<(String, String)>> {
    let host = t
        .endpoint
        .strip_prefix("http://")
        .context("endpoint must be http://host:port")?
        .trim_end_matches('/');
    let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
    let date = &amz_date[..8];
    let headers = vec![
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        ("host".to_owned(), host.to_owned()),
        ("x-amz-date".to_owned(), amz_date.clone()),
        ("x-amz-target".to_owned(), format!("TrentService.{op}")),
    ];
    let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
    let payload = hex::encode(Sha256::digest(body.as_bytes()));
    let canonical = cairn_sigv4::canonical_request(
        &cairn_sigv4::RequestParts {
            method: "POST",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            payload_hash: &payload,
        },
        &names,
        false,
    );
    let scope = format!("{date}/{}/kms/aws4_request", t.region);
    let key = cairn_sigv4::signing_key(&t.secret_access_key, date, &t.region, "kms");
    let sig = cairn_sigv4::signature(
        &key,
        &cairn_sigv4::string_to_sign(&amz_date, &scope, &canonical),
    );
    let mut out: Vec<(String, String)> = headers.into_iter().filter(|(n, _)| n != "host").collect();
    out.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            t.access_key_id,
            names.join(";")
        ),
    ));
    Ok(out)
}

async fn call(
    client: &reqwest::Client,
    t: &Target,
    op: &str,
    body: &Value,
) -> anyhow::Result<Value> {
    let body = body.to_string();
    let mut req = client.post(format!("{}/", t.endpoint.trim_end_matches('/')));
    for (n, v) in headers(t, op, &body)? {
        req = req.header(n, v);
    }
    let resp = req.body(body).send().await?;
    let status = resp.status();
    let value: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!("{op}: {status} {value}");
    }
    Ok(value)
}

async fn run_op(
    client: &reqwest::Client,
    args: &Arc<KmsArgs>,
    op: &'static str,
    body: Value,
) -> anyhow::Result<()> {
    let body = Arc::new(body);
    let started = Instant::now();
    let mut workers = Vec::new();
    for w in 0..args.concurrency {
        let (client, args, body) = (client.clone(), args.clone(), body.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            for _ in (w..args.requests).step_by(args.concurrency) {
                let t0 = Instant::now();
                call(&client, &args.target, op, &body).await?;
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
    println!(
        "{} op={op} requests={} concurrency={} throughput={:.0} req/s p50={:.2} ms p99={:.2} ms",
        args.target.endpoint,
        all.len(),
        args.concurrency,
        all.len() as f64 / elapsed.as_secs_f64(),
        percentile_ms(&all, 0.50),
        percentile_ms(&all, 0.99),
    );
    Ok(())
}

/// Runs the scenario: one line for GenerateDataKey, one for Decrypt.
pub fn run(args: KmsArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        let key_id = match &args.key_id {
            Some(k) => k.clone(),
            None => call(
                &client,
                &args.target,
                "CreateKey",
                &json!({"Description": "cairn bench kms"}),
            )
            .await?["KeyMetadata"]["Arn"]
                .as_str()
                .context("CreateKey answered no ARN")?
                .to_owned(),
        };
        let context = json!({"bench": "kms"});
        let dk = call(
            &client,
            &args.target,
            "GenerateDataKey",
            &json!({"KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": context}),
        )
        .await?;
        let args = Arc::new(args);
        run_op(
            &client,
            &args,
            "GenerateDataKey",
            json!({"KeyId": key_id, "KeySpec": "AES_256", "EncryptionContext": context}),
        )
        .await?;
        run_op(
            &client,
            &args,
            "Decrypt",
            json!({"CiphertextBlob": dk["CiphertextBlob"], "EncryptionContext": context}),
        )
        .await
    })
}
