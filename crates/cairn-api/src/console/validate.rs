//! The Log files page's integrity check: the trail's digest files in a time range, each
//! verified with `cairn-logfile`'s digest verification (the checks `validate-logs` makes:
//! format, location, public key, signature), then every log file a valid digest lists hashed
//! and compared. Every read is a recorded call as the signed-in user (ListPublicKeys,
//! ListObjects, GetObject).

use std::collections::HashMap;

use base64::Engine;
use cairn_console::pages::CheckRow;
use cairn_logfile::verify::{DigestMetadata, hash_log, verify_digest};
use serde_json::{Value, json};

use super::calls::Caller;
use super::describe_error;
use super::session::Signed;

/// The widest range one check covers.
pub const MAX_DAYS: i64 = 31;
/// The most digests one check verifies.
const MAX_DIGESTS: usize = 200;
/// Largest file read.
const MAX_BYTES: i64 = 64 * 1024 * 1024;

/// A finished check: a row per digest and log file, and a summary.
pub struct Report {
    /// Rows, digests first in time order, each followed by its log files.
    pub rows: Vec<CheckRow>,
    /// One line.
    pub summary: String,
}

fn row(key: &str, status: &str, class: &'static str, detail: impl Into<String>) -> CheckRow {
    CheckRow {
        key: key.to_owned(),
        status: status.to_owned(),
        class,
        detail: detail.into(),
    }
}

/// The public keys valid in the range (fingerprint → DER).
async fn public_keys(
    caller: &Caller<'_>,
    start: i64,
    end: i64,
) -> Result<HashMap<String, Vec<u8>>, String> {
    let out = caller
        .cloudtrail(
            "ListPublicKeys",
            json!({"StartTime": start, "EndTime": end}),
        )
        .await
        .map_err(|e| describe_error(&e))?;
    let mut keys = HashMap::new();
    for k in out
        .get("PublicKeyList")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let fp = k.get("Fingerprint").and_then(Value::as_str).unwrap_or("");
        let der = k
            .get("Value")
            .and_then(Value::as_str)
            .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok());
        if let Some(der) = der {
            keys.insert(fp.to_owned(), der);
        }
    }
    Ok(keys)
}

/// The end time a digest key's name carries (`…_YYYYMMDDTHHMMSSZ.json.gz`).
fn key_end(key: &str) -> Option<i64> {
    let stamp = key.strip_suffix(".json.gz")?.rsplit('_').next()?;
    chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// Whether digest file name `file` is the trail's: `names` (which ends with the trail's
/// home region), then only the end time (`<stamp>.json.gz`). A trail named
/// `<name>_<region>_…` has digest names that begin with `names` too (console11: its digests
/// were counted as this trail's).
fn own_digest(file: &str, names: &str) -> bool {
    file.strip_prefix(names)
        .is_some_and(|rest| !rest.contains('_'))
}

#[cfg(test)]
#[test]
fn another_trails_digests_are_not_the_trails() {
    let names = "1_CloudTrail-Digest_us-east-1_t_us-east-1_";
    assert!(own_digest(
        "1_CloudTrail-Digest_us-east-1_t_us-east-1_20261206T010823Z.json.gz",
        names
    ));
    assert!(!own_digest(
        "1_CloudTrail-Digest_us-east-1_t_us-east-1_x_us-east-1_20261206T010823Z.json.gz",
        names
    ));
}

/// Digest keys of the trail (its digest file names begin with `names`) in the console's
/// region whose period ends from `start` to an hour after `end` (the digest holding the
/// range's last files), in the day folders that hold them. More than [`MAX_DIGESTS`] is
/// refused, never checked in part (console9: the check stopped after 200 and called the rest
/// valid).
async fn digest_keys(
    caller: &Caller<'_>,
    signed: &Signed,
    (bucket, root): (&str, &str),
    names: &str,
    start: i64,
    end: i64,
) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut day = start - start.rem_euclid(86400);
    let in_range = |k: &String| key_end(k).is_some_and(|t| t >= start && t <= end + 3600);
    while day <= end + 3600 && keys.len() <= MAX_DIGESTS {
        let date = chrono::DateTime::from_timestamp(day, 0).unwrap_or_default();
        let folder = format!(
            "{root}CloudTrail-Digest/{}/{}/",
            signed.region,
            date.format("%Y/%m/%d")
        );
        let mut after = String::new();
        loop {
            let listed = caller
                .list_objects(bucket, &folder, &after, 1000)
                .await
                .map_err(|e| describe_error(&e))?;
            keys.extend(
                listed
                    .objects
                    .into_iter()
                    .map(|(k, _, _)| k)
                    .filter(|k| k.rsplit('/').next().is_some_and(|f| own_digest(f, names)))
                    .filter(in_range),
            );
            match listed.next {
                Some(n) if keys.len() <= MAX_DIGESTS => after = n,
                _ => break,
            }
        }
        day += 86400;
    }
    if keys.len() > MAX_DIGESTS {
        return Err(format!(
            "The range holds more than {MAX_DIGESTS} digest files: check a shorter range."
        ));
    }
    Ok(keys)
}

/// Checks the files of the trail whose digest file names begin with `names` between `start`
/// and `end`.
pub async fn check(
    caller: &Caller<'_>,
    signed: &Signed,
    (bucket, root): (&str, &str),
    names: &str,
    start: i64,
    end: i64,
) -> Result<Report, String> {
    if end < start {
        return Err("The end of the range must be after its start.".to_owned());
    }
    if end - start > MAX_DAYS * 86400 {
        return Err(format!("Check at most {MAX_DAYS} days at a time."));
    }
    let keys = public_keys(caller, start - 86400, end + 86400).await?;
    let digests = digest_keys(caller, signed, (bucket, root), names, start, end).await?;
    let mut rows = Vec::new();
    let (mut ok_digests, mut ok_logs, mut logs) = (0, 0, 0);
    // Digests a later one names as its predecessor, in the range, that are not in the bucket:
    // the chain has a hole (console8: a deleted digest went unnoticed).
    let mut missing = 0;
    for key in &digests {
        let (gz, meta) = match caller.get_object(bucket, key, MAX_BYTES).await {
            Ok(x) => x,
            Err(e) => {
                rows.push(row(key, unread(&e), "bad", describe_error(&e)));
                continue;
            }
        };
        let metadata = DigestMetadata {
            signature: meta.get("signature").map(String::as_str),
            signature_algorithm: meta.get("signature-algorithm").map(String::as_str),
        };
        let verified = match verify_digest(bucket, key, &gz, metadata, &keys) {
            Ok(v) => v,
            Err(problem) => {
                rows.push(row(key, "Invalid", "bad", format!("Digest file {problem}")));
                continue;
            }
        };
        ok_digests += 1;
        if let Some(previous) = named_but_absent(&verified.digest, bucket, &digests, start) {
            missing += 1;
            rows.push(row(
                &previous,
                "Not found",
                "bad",
                "Digest file named by the next digest (previousDigestS3Object) is not in the bucket",
            ));
        }
        rows.push(row(
            key,
            "Valid",
            "ok",
            format!("Digest file, {} log files", verified.digest.log_files.len()),
        ));
        for file in &verified.digest.log_files {
            logs += 1;
            let got = caller
                .get_object(&file.s3_bucket, &file.s3_object, MAX_BYTES)
                .await;
            let r = match got {
                Err(e) => row(&file.s3_object, unread(&e), "bad", describe_error(&e)),
                Ok((bytes, _)) => match hash_log(&bytes) {
                    Err(_) => row(&file.s3_object, "Invalid", "bad", "Log file invalid format"),
                    Ok(hash) if hash == file.hash_value => {
                        ok_logs += 1;
                        row(
                            &file.s3_object,
                            "Valid",
                            "ok",
                            "Log file hash matches the digest",
                        )
                    }
                    Ok(_) => row(
                        &file.s3_object,
                        "Invalid",
                        "bad",
                        "Log file hash value doesn't match",
                    ),
                },
            };
            rows.push(r);
        }
    }
    let summary = format!(
        "{ok_digests}/{} digest files valid, {ok_logs}/{logs} log files valid",
        digests.len() + missing
    );
    Ok(Report { rows, summary })
}

/// A file's status when it could not be read: "Not found" only when it is not in the bucket
/// (`NoSuchKey`), as the stock validator says; "Not read" for a refusal or another error,
/// which says nothing of the file (console9: an untouched bucket read as mass deletion).
fn unread(e: &cairn_core::ApiError) -> &'static str {
    if e.kind == cairn_core::ErrorKind::S3NoSuchKey {
        "Not found"
    } else {
        "Not read"
    }
}

/// The predecessor `digest` names, when it ends in the range (its period ends where this one
/// starts) in this bucket and is not among `listed`.
fn named_but_absent(
    digest: &cairn_logfile::digest::Digest,
    bucket: &str,
    listed: &[String],
    start: i64,
) -> Option<String> {
    let previous = digest.previous_digest_s3_object.as_ref()?;
    let same_bucket = digest.previous_digest_s3_bucket.as_deref() == Some(bucket);
    let ends = chrono::DateTime::parse_from_rfc3339(&digest.digest_start_time)
        .ok()?
        .timestamp();
    (same_bucket && ends >= start && !listed.contains(previous)).then(|| previous.clone())
}
