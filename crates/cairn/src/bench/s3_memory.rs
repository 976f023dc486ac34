//! `cairn bench s3-memory`: the server's peak resident memory while it assembles a large
//! multipart upload (CompleteMultipartUpload) and while it copies the result (CopyObject).
//!
//! The object is uploaded in parts (the client holds one part at a time). Before each
//! measured call the server's peak is reset to its current resident size by writing `5` to
//! `/proc/<pid>/clear_refs`; after it, `VmHWM` in `/proc/<pid>/status` is the peak during
//! the call. Linux only; the server must run as the same user.

use std::time::Instant;

use anyhow::Context;
use clap::Args;

/// Arguments of `cairn bench s3-memory`.
#[derive(Args, Debug)]
pub struct S3MemoryArgs {
    /// Endpoint URL, e.g. http://127.0.0.1:4599.
    #[arg(long)]
    endpoint: String,
    /// Process id of the server (its memory is what is measured).
    #[arg(long)]
    pid: u32,
    /// Bucket (must exist).
    #[arg(long)]
    bucket: String,
    /// Object size in bytes.
    #[arg(long, default_value_t = 2 * 1024 * 1024 * 1024)]
    size: u64,
    /// Part size in bytes (at least 5 MiB).
    #[arg(long, default_value_t = 256 * 1024 * 1024)]
    part_size: u64,
    /// Access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: String,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: String,
}

/// A kB field of `/proc/<pid>/status`, in bytes.
fn status_bytes(pid: u32, field: &str) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("{field} in /proc/{pid}/status"))?;
    Ok(kb * 1024)
}

fn reset_peak(pid: u32) -> anyhow::Result<()> {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")
        .with_context(|| format!("resetting the peak RSS of {pid} through clear_refs"))
}

impl S3MemoryArgs {
    /// Signed headers (`UNSIGNED-PAYLOAD`) for one request, `host` excluded.
    fn sign(
        &self,
        method: &str,
        path: &str,
        query: &str,
        extra: &[(&str, &str)],
    ) -> anyhow::Result<Vec<(String, String)>> {
        let host = crate::client::host_of(&self.endpoint)?;
        let amz_date = chrono::Utc::now().format("%Y%m%dT%H%M%SZ").to_string();
        let date = &amz_date[..8];
        let mut headers = vec![
            ("host".to_owned(), host.to_owned()),
            (
                "x-amz-content-sha256".to_owned(),
                "UNSIGNED-PAYLOAD".to_owned(),
            ),
            ("x-amz-date".to_owned(), amz_date.clone()),
        ];
        headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
        headers.sort();
        let names: Vec<String> = headers.iter().map(|(n, _)| n.clone()).collect();
        let canonical = cairn_sigv4::canonical_request(
            &cairn_sigv4::RequestParts {
                method,
                raw_path: path,
                raw_query: query,
                headers: &headers,
                payload_hash: "UNSIGNED-PAYLOAD",
            },
            &names,
            true,
        );
        let scope = format!("{date}/us-east-1/s3/aws4_request");
        let key = cairn_sigv4::signing_key(&self.secret_access_key, date, "us-east-1", "s3");
        let sig = cairn_sigv4::signature(
            &key,
            &cairn_sigv4::string_to_sign(&amz_date, &scope, &canonical),
        );
        let mut out: Vec<(String, String)> =
            headers.into_iter().filter(|(n, _)| n != "host").collect();
        out.push((
            "authorization".into(),
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
                self.access_key_id,
                names.join(";")
            ),
        ));
        Ok(out)
    }

    /// Sends one signed request; returns the response body (and fails on a non-2xx status).
    async fn call(
        &self,
        client: &reqwest::Client,
        method: &str,
        key: &str,
        query: &str,
        extra: &[(&str, &str)],
        body: Vec<u8>,
    ) -> anyhow::Result<(reqwest::header::HeaderMap, String)> {
        let path = format!("/{}/{key}", self.bucket);
        let url = format!(
            "{}{path}{}{query}",
            self.endpoint.trim_end_matches('/'),
            if query.is_empty() { "" } else { "?" }
        );
        let mut req = client.request(method.parse()?, url).body(body);
        for (n, v) in self.sign(method, &path, query, extra)? {
            req = req.header(n, v);
        }
        let resp = req.send().await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        anyhow::ensure!(
            status.is_success(),
            "{method} {path}?{query}: {status} {text}"
        );
        Ok((headers, text))
    }
}

/// Runs `call`, printing the server's peak RSS during it.
async fn measured<F, T>(pid: u32, what: &str, size: u64, call: F) -> anyhow::Result<T>
where
    F: std::future::Future<Output = anyhow::Result<T>>,
{
    reset_peak(pid)?;
    let before = status_bytes(pid, "VmRSS:")?;
    let started = Instant::now();
    let out = call.await?;
    let elapsed = started.elapsed();
    let peak = status_bytes(pid, "VmHWM:")?;
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "{what} of {size} bytes: server peak RSS {:.1} MiB (resident before {:.1} MiB, +{:.1} MiB) in {:.1} s",
        mib(peak),
        mib(before),
        mib(peak.saturating_sub(before)),
        elapsed.as_secs_f64()
    );
    Ok(out)
}

/// Runs the scenario.
pub fn run(args: S3MemoryArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.part_size >= 5 * 1024 * 1024,
        "parts must be at least 5 MiB"
    );
    reset_peak(args.pid)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        let key = "bench-memory/assembled";
        let (_, created) = args
            .call(&client, "POST", key, "uploads=", &[], Vec::new())
            .await?;
        let start = created
            .find("<UploadId>")
            .context("UploadId in CreateMultipartUpload")?
            + "<UploadId>".len();
        let upload_id = created[start..]
            .split('<')
            .next()
            .unwrap_or_default()
            .to_owned();
        let mut parts = String::new();
        let mut offset = 0u64;
        let mut number = 1;
        while offset < args.size {
            let len = args.part_size.min(args.size - offset);
            let body: Vec<u8> = (offset..offset + len).map(|i| (i % 251) as u8).collect();
            let query = format!("partNumber={number}&uploadId={upload_id}");
            let (headers, _) = args.call(&client, "PUT", key, &query, &[], body).await?;
            let etag = headers
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .context("ETag of UploadPart")?;
            parts.push_str(&format!(
                "<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>"
            ));
            offset += len;
            number += 1;
        }
        let complete =
            format!("<CompleteMultipartUpload>{parts}</CompleteMultipartUpload>").into_bytes();
        let query = format!("uploadId={upload_id}");
        measured(
            args.pid,
            &format!("CompleteMultipartUpload ({} parts)", number - 1),
            args.size,
            args.call(&client, "POST", key, &query, &[], complete),
        )
        .await?;
        let source = format!("/{}/{key}", args.bucket);
        measured(
            args.pid,
            "CopyObject",
            args.size,
            args.call(
                &client,
                "PUT",
                "bench-memory/copy",
                "",
                &[("x-amz-copy-source", source.as_str())],
                Vec::new(),
            ),
        )
        .await?;
        Ok(())
    })
}
