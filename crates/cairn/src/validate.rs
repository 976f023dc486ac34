//! `cairn validate-logs`: the stock validator's arguments and output lines, but parallel,
//! streaming over a bounded number of concurrent fetches, and stricter. Beyond what
//! `aws cloudtrail validate-logs` checks it also reports:
//! - digests missing from the chain, however many in a row (aws-cli issue 7054);
//! - a `previousDigestHashValue` or `previousDigestSignature` that does not match the
//!   previous digest;
//! - log files present in the bucket but listed in no digest;
//! - digests whose periods are out of order.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use anyhow::Context;
use base64::Engine;
use cairn_buckets::{ExternalBucketConfig, ExternalBuckets};
use cairn_logfile::sha256_hex;
use cairn_logfile::verify::{DigestProblem, VerifiedDigest, gunzip, verify_digest};
use clap::Args;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::client::CloudTrail;

/// Arguments of `cairn validate-logs` (as `aws cloudtrail validate-logs`, plus endpoints).
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// The trail ARN.
    #[arg(long)]
    trail_arn: String,
    /// Start of the range, `YYYY-MM-DDTHH:MM:SSZ` (or any RFC 3339 time).
    #[arg(long)]
    start_time: String,
    /// End of the range (default: now).
    #[arg(long)]
    end_time: Option<String>,
    /// Bucket (default: the trail's, from DescribeTrails).
    #[arg(long)]
    s3_bucket: Option<String>,
    /// Key prefix (with --s3-bucket).
    #[arg(long)]
    s3_prefix: Option<String>,
    /// Account id (default: the trail ARN's).
    #[arg(long)]
    account_id: Option<String>,
    /// Print a line for every valid file too.
    #[arg(long)]
    verbose: bool,
    /// Print a JSON report instead of the text lines.
    #[arg(long)]
    json: bool,
    /// CloudTrail endpoint (default: AWS_ENDPOINT_URL or the real AWS endpoint).
    #[arg(long, env = "AWS_ENDPOINT_URL")]
    endpoint_url: Option<String>,
    /// S3 endpoint (default: AWS_ENDPOINT_URL_S3, then --endpoint-url).
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    s3_endpoint_url: Option<String>,
    /// Region whose logs to validate.
    #[arg(long, env = "AWS_DEFAULT_REGION", default_value = "us-east-1")]
    region: String,
    /// Concurrent object fetches.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Access key id.
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key_id: String,
    /// Secret access key.
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_access_key: String,
}

fn parse_time(text: &str) -> anyhow::Result<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .with_context(|| format!("cannot parse time {text:?}"))
}

fn iso(t: i64) -> String {
    cairn_logfile::iso_seconds(t)
}

/// A finding about one file.
#[derive(Clone, Debug)]
struct Finding {
    kind: &'static str,
    uri: String,
    problem: Option<String>,
}

/// Runs the validator; returns the process exit code.
pub fn run(args: ValidateArgs) -> anyhow::Result<std::process::ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(validate(args))
}

fn digest_stamp(key: &str) -> Option<i64> {
    let stamp = key.strip_suffix(".json.gz")?;
    let stamp = &stamp[stamp.len().checked_sub(16)?..];
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

async fn validate(args: ValidateArgs) -> anyhow::Result<std::process::ExitCode> {
    let arn = cairn_model::trail::TrailArn::parse(&args.trail_arn)
        .context("--trail-arn must be arn:...:cloudtrail:<region>:<12 digits>:trail/<name>")?;
    let start = parse_time(&args.start_time)?;
    let end = match &args.end_time {
        Some(t) => parse_time(t)?,
        None => chrono::Utc::now().timestamp(),
    };
    let endpoint = args
        .endpoint_url
        .clone()
        .unwrap_or_else(|| format!("https://cloudtrail.{}.amazonaws.com", args.region));
    let ct = CloudTrail {
        endpoint: endpoint.clone(),
        region: args.region.clone(),
        access_key_id: args.access_key_id.clone(),
        secret_access_key: args.secret_access_key.clone(),
        http: reqwest::Client::new(),
    };
    let (bucket, prefix) = match &args.s3_bucket {
        Some(b) => (b.clone(), args.s3_prefix.clone()),
        None => {
            let trails = ct.call("DescribeTrails", &json!({})).await?;
            let trail = trails["trailList"]
                .as_array()
                .and_then(|l| l.iter().find(|t| t["TrailARN"] == args.trail_arn.as_str()))
                .with_context(|| format!("trail {} not found", args.trail_arn))?;
            (
                trail["S3BucketName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                trail["S3KeyPrefix"].as_str().map(str::to_owned),
            )
        }
    };
    let account = args.account_id.clone().unwrap_or(arn.account.clone());
    let s3_endpoint = args.s3_endpoint_url.clone().or(args.endpoint_url.clone());
    let s3 = ExternalBuckets::single(
        &bucket,
        &ExternalBucketConfig {
            endpoint: s3_endpoint,
            region: args.region.clone(),
            access_key_id: args.access_key_id.clone(),
            secret_access_key: args.secret_access_key.clone(),
            bucket: None,
        },
    )?;
    let base = match prefix.as_deref() {
        Some(p) if !p.is_empty() => format!("{p}/AWSLogs/{account}"),
        _ => format!("AWSLogs/{account}"),
    };
    let uri = |key: &str| format!("s3://{bucket}/{key}");

    if !args.json {
        println!(
            "Validating log files for trail {} between {} and {}\n",
            args.trail_arn,
            iso(start),
            iso(end)
        );
    }
    // Digests of this trail and region, by end time.
    let digest_prefix = format!("{base}/CloudTrail-Digest/{}/", args.region);
    let marker = format!(
        "_CloudTrail-Digest_{}_{}_{}_",
        args.region, arn.name, arn.region
    );
    let mut digest_keys: Vec<(i64, String)> = s3
        .list(&bucket, &digest_prefix)
        .await?
        .into_iter()
        .filter(|k| {
            k.contains(&marker) && k.ends_with(".json.gz") && !k.ends_with("_backfill.json.gz")
        })
        .filter_map(|k| digest_stamp(&k).map(|t| (t, k)))
        .filter(|(t, _)| *t >= start && *t <= end + 3600)
        .collect();
    digest_keys.sort();

    let keys_answer = ct
        .call(
            "ListPublicKeys",
            &json!({"StartTime": start, "EndTime": end + 7200}),
        )
        .await?;
    let public_keys: HashMap<String, Vec<u8>> = keys_answer["PublicKeyList"]
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

    // Fetch and verify every digest, `concurrency` at a time.
    let fetched: Vec<(i64, String, Result<VerifiedDigest, String>)> =
        futures::stream::iter(digest_keys.clone())
            .map(|(t, key)| {
                let (s3, bucket, keys, home) = (&s3, &bucket, &public_keys, &arn.region);
                async move {
                    let result = match s3.get(bucket, &key).await {
                        Err(_) => Err("not found".to_owned()),
                        Ok(obj) => verify_digest(
                            bucket,
                            &key,
                            &obj.body,
                            obj.metadata.get("signature").map(String::as_str),
                            keys,
                        )
                        .map_err(|p| match p {
                            DigestProblem::UnknownKey(fp) => format!(
                                "public key not found in region {home} for fingerprint {fp}"
                            ),
                            other => other.to_string(),
                        }),
                    };
                    (t, key, result)
                }
            })
            .buffer_unordered(args.concurrency.max(1))
            .collect()
            .await;
    let mut fetched = fetched;
    fetched.sort_by(|a, b| a.1.cmp(&b.1));

    let mut findings: Vec<Finding> = Vec::new();
    let mut by_key: BTreeMap<String, VerifiedDigest> = BTreeMap::new();
    for (_, key, result) in &fetched {
        match result {
            Ok(v) => {
                by_key.insert(key.clone(), v.clone());
            }
            Err(problem) => findings.push(Finding {
                kind: "Digest file",
                uri: uri(key),
                problem: Some(problem.clone()),
            }),
        }
    }
    // Chain checks, newest first.
    let listed: HashSet<&str> = digest_keys.iter().map(|(_, k)| k.as_str()).collect();
    let mut chain_problems: Vec<Finding> = Vec::new();
    let mut gaps: Vec<String> = Vec::new();
    let mut periods: Vec<i64> = by_key
        .values()
        .filter_map(|v| {
            Some(
                parse_time(&v.digest.digest_end_time).ok()?
                    - parse_time(&v.digest.digest_start_time).ok()?,
            )
        })
        .filter(|p| *p > 0)
        .collect();
    periods.sort_unstable();
    let typical_period = periods.get(periods.len() / 2).copied();
    for (key, v) in by_key.iter().rev() {
        let d = &v.digest;
        let Some(prev_key) = d.previous_digest_s3_object.as_deref() else {
            continue;
        };
        let prev_start = parse_time(&d.digest_start_time).unwrap_or(0);
        if prev_start < start {
            continue;
        }
        match by_key.get(prev_key) {
            Some(prev) => {
                if d.previous_digest_signature.as_deref() != Some(prev.signature.as_str()) {
                    chain_problems.push(Finding {
                        kind: "Digest file",
                        uri: uri(key),
                        problem: Some(
                            "previousDigestSignature does not match the previous digest".into(),
                        ),
                    });
                }
                if d.previous_digest_hash_value.as_deref() != Some(prev.sha256.as_str()) {
                    chain_problems.push(Finding {
                        kind: "Digest file",
                        uri: uri(key),
                        problem: Some(
                            "previousDigestHashValue does not match the previous digest".into(),
                        ),
                    });
                }
                if prev.digest.digest_end_time != d.digest_start_time {
                    chain_problems.push(Finding { kind: "Digest file", uri: uri(key), problem: Some("out of order: its period does not start where the previous digest's ends".into()) });
                }
            }
            None if !listed.contains(prev_key) => {
                // The predecessor is gone; find the newest digest still present before this one.
                let older = by_key
                    .range(..key.clone())
                    .next_back()
                    .map(|(_, o)| o.digest.digest_end_time.clone());
                chain_problems.push(Finding {
                    kind: "Digest file",
                    uri: uri(prev_key),
                    problem: Some("not found".into()),
                });
                // How many periods the hole spans: more than one means consecutive digests
                // were removed, which the stock validator cannot see.
                // Without an older digest, the hole reaches back to the requested start.
                let from = older
                    .as_deref()
                    .and_then(|o| parse_time(o).ok())
                    .unwrap_or(start);
                let missing = match typical_period {
                    Some(p) => ((prev_start - from) as f64 / p as f64).round().max(1.0) as i64,
                    None => 1,
                };
                gaps.push(format!(
                    "{missing} digest file(s) missing from the chain between {} and {} (the last one was {prev_key})",
                    older.unwrap_or_else(|| "the start of the range".into()),
                    d.digest_start_time
                ));
            }
            None => {}
        }
    }
    findings.extend(chain_problems);

    // Log files listed by valid digests: fetch, gunzip, hash.
    let listed_logs: Vec<(String, String)> = by_key
        .values()
        .flat_map(|v| {
            v.digest
                .log_files
                .iter()
                .map(|f| (f.s3_object.clone(), f.hash_value.clone()))
        })
        .collect();
    let log_results: Vec<(String, Option<String>)> = futures::stream::iter(listed_logs.clone())
        .map(|(key, want)| {
            let (s3, bucket) = (&s3, &bucket);
            async move {
                let problem = match s3.get(bucket, &key).await {
                    Err(_) => Some("not found".to_owned()),
                    Ok(obj) => match gunzip(&obj.body) {
                        Err(_) => Some("invalid format".to_owned()),
                        Ok(raw) if sha256_hex(&raw) != want => {
                            Some("hash value doesn't match".to_owned())
                        }
                        Ok(_) => None,
                    },
                };
                (key, problem)
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    let mut log_valid = 0;
    let mut log_invalid = 0;
    for (key, problem) in &log_results {
        if problem.is_some() {
            log_invalid += 1;
        } else {
            log_valid += 1;
        }
        findings.push(Finding {
            kind: "Log file",
            uri: uri(key),
            problem: problem.clone(),
        });
    }
    // Log files in the bucket that no digest lists (up to the newest digest's end).
    let newest_end = by_key
        .values()
        .filter_map(|v| parse_time(&v.digest.digest_end_time).ok())
        .max();
    let in_digests: HashSet<&str> = listed_logs.iter().map(|(k, _)| k.as_str()).collect();
    let log_prefix = format!("{base}/CloudTrail/{}/", args.region);
    if let Some(newest_end) = newest_end {
        for key in s3.list(&bucket, &log_prefix).await? {
            let stamp = key
                .rsplit('_')
                .nth(1)
                .and_then(|s| chrono::NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%MZ").ok())
                .map(|t| t.and_utc().timestamp());
            let in_range = stamp.is_some_and(|t| t >= start - 300 && t + 60 <= newest_end);
            if in_range && !in_digests.contains(key.as_str()) {
                log_invalid += 1;
                findings.push(Finding {
                    kind: "Log file",
                    uri: uri(&key),
                    problem: Some("not listed in any digest".into()),
                });
            }
        }
    }

    let digest_total = digest_keys.len()
        + findings
            .iter()
            .filter(|f| {
                f.kind == "Digest file"
                    && f.problem.as_deref() == Some("not found")
                    && !listed.contains(f.uri.trim_start_matches(&format!("s3://{bucket}/")))
            })
            .count();
    let digest_invalid: HashSet<&str> = findings
        .iter()
        .filter(|f| f.kind == "Digest file" && f.problem.is_some())
        .map(|f| f.uri.as_str())
        .collect();
    let digest_invalid = digest_invalid.len();
    let digest_valid = digest_total.saturating_sub(digest_invalid);
    let log_total = log_valid + log_invalid;
    let failed = digest_invalid > 0 || log_invalid > 0;

    if args.json {
        let report = json!({
            "TrailARN": args.trail_arn,
            "StartTime": iso(start),
            "EndTime": iso(end),
            "Digests": {"Valid": digest_valid, "Invalid": digest_invalid, "Total": digest_total},
            "LogFiles": {"Valid": log_valid, "Invalid": log_invalid, "Total": log_total},
            "Gaps": gaps,
            "MissingDigests": findings.iter().filter(|f| f.kind == "Digest file" && f.problem.as_deref() == Some("not found")).count(),
            "Problems": findings.iter().filter(|f| f.problem.is_some()).map(|f| json!({"Kind": f.kind, "Object": f.uri, "Problem": f.problem})).collect::<Vec<Value>>(),
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        let mut err = std::io::stderr().lock();
        for gap in &gaps {
            writeln!(err, "{gap}")?;
        }
        let mut digests_shown = HashSet::new();
        for (_, key, result) in fetched.iter().rev() {
            if result.is_ok() && args.verbose && !digest_invalid_for(&findings, &uri(key)) {
                println!("Digest file\t{}\tvalid", uri(key));
            }
            digests_shown.insert(uri(key));
        }
        for f in &findings {
            match &f.problem {
                Some(p) => writeln!(err, "{}\t{}\tINVALID: {p}", f.kind, f.uri)?,
                None if args.verbose => println!("{}\t{}\tvalid", f.kind, f.uri),
                None => {}
            }
        }
        println!("\nResults requested for {} to {}", iso(start), iso(end));
        if digest_total == 0 {
            println!("No digests found");
        } else {
            println!(
                "Results found for {} to {}:\n",
                iso(start),
                iso(newest_end.unwrap_or(end))
            );
            println!(
                "{digest_valid}/{digest_total} digest files valid{}",
                if digest_invalid > 0 {
                    format!(", {digest_invalid}/{digest_total} digest files INVALID")
                } else {
                    String::new()
                }
            );
            println!(
                "{log_valid}/{log_total} log files valid{}",
                if log_invalid > 0 {
                    format!(", {log_invalid}/{log_total} log files INVALID")
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(if failed {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    })
}

fn digest_invalid_for(findings: &[Finding], uri: &str) -> bool {
    findings
        .iter()
        .any(|f| f.kind == "Digest file" && f.uri == uri && f.problem.is_some())
}
