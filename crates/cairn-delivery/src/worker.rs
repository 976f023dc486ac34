//! One delivery step: plan, write, digest.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use bytes::Bytes;
use cairn_buckets::ExternalBuckets;
use cairn_buckets::local::ObjectFiles;
use cairn_core::objects::ObjectMeta;
use cairn_core::routing;
use cairn_logfile::digest::{Digest, LogFileEntry, signing_string};
use cairn_logfile::{iso_seconds, keys, records, sha256_hex};
use cairn_model::trail::Trail;
use cairn_store::delivery::{self, DigestRow};
use cairn_store::objects::ObjectRow;
use cairn_store::{Store, trails};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::{DeliveryError, KeyRing};

/// Default for the most events one trail plans per step (the rest wait for the next step).
pub const MAX_EVENTS_PER_STEP: i64 = 50_000;

/// What a step did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Log files written.
    pub files: usize,
    /// Events in them.
    pub events: usize,
    /// Digests written.
    pub digests: usize,
    /// Files planned this step.
    pub planned: usize,
}

/// The delivery worker's state.
#[derive(Clone)]
pub struct Delivery {
    store: Store,
    files: ObjectFiles,
    external: ExternalBuckets,
    keys: KeyRing,
    digest_interval: f64,
    max_events_per_step: i64,
    backoff: Backoff,
}

/// Exponential backoff per bucket for failed writes: 1 s doubling to 5 min. Pending files are
/// never dropped; a bucket that fails is just tried less often until it works again.
#[derive(Clone, Default)]
struct Backoff(std::sync::Arc<std::sync::Mutex<BTreeMap<String, (u32, f64)>>>);

impl Backoff {
    fn may_try(&self, bucket: &str, now: f64) -> bool {
        self.0
            .lock()
            .expect("backoff lock")
            .get(bucket)
            .is_none_or(|(_, next)| now >= *next)
    }

    fn failed(&self, bucket: &str, now: f64) -> f64 {
        let mut map = self.0.lock().expect("backoff lock");
        let entry = map.entry(bucket.to_owned()).or_insert((0, now));
        entry.0 += 1;
        let wait = (2f64.powi(entry.0.min(9) as i32 - 1)).min(300.0);
        entry.1 = now + wait;
        wait
    }

    fn succeeded(&self, bucket: &str) {
        self.0.lock().expect("backoff lock").remove(bucket);
    }
}

/// The S3 error code GetTrailStatus reports for a failed write.
fn error_code(e: &DeliveryError) -> &'static str {
    match e {
        DeliveryError::External(cairn_buckets::ExternalError::Store(
            object_store::Error::NotFound { .. },
        )) => "NoSuchBucket",
        DeliveryError::External(cairn_buckets::ExternalError::Store(
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. },
        )) => "AccessDenied",
        DeliveryError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => "NoSuchBucket",
        _ => "InternalError",
    }
}

/// 16 characters `[A-Za-z0-9]` derived from the planned file's identity, so a re-write after
/// a crash reuses the key.
fn unique_suffix(seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Sha256::digest(seed.as_bytes())
        .iter()
        .take(16)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

fn event_time(record: &str) -> String {
    serde_json::from_str::<Value>(record)
        .ok()
        .and_then(|v| {
            v.get("eventTime")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default()
}

impl Delivery {
    /// A worker over a data dir.
    pub fn new(
        store: Store,
        data_dir: &Path,
        external: ExternalBuckets,
        digest_interval_secs: f64,
    ) -> std::io::Result<Self> {
        Ok(Self {
            files: ObjectFiles::new(data_dir)?,
            keys: KeyRing::new(data_dir, store.clone())?,
            store,
            external,
            digest_interval: digest_interval_secs,
            max_events_per_step: MAX_EVENTS_PER_STEP,
            backoff: Backoff::default(),
        })
    }

    /// Caps how many events one trail plans per step (so files hold at most this many).
    pub fn with_max_events_per_step(mut self, n: i64) -> Self {
        self.max_events_per_step = n.max(1);
        self
    }

    /// One step at time `now` (epoch seconds). With `force_digests`, digests that are not yet
    /// due are written too (`cairn flush`).
    pub async fn run_once(&self, now: f64, force_digests: bool) -> Result<Outcome, DeliveryError> {
        let cap = self.max_events_per_step;
        let planned = self.store.write(move |c| plan(c, now, cap)).await??;
        let mut out = Outcome::default();
        let pending = self.store.read(delivery::pending).await?;
        for p in pending {
            if !self.backoff.may_try(&p.bucket, now) {
                continue;
            }
            match self.write_file(&p, now).await {
                Ok(n) => {
                    self.backoff.succeeded(&p.bucket);
                    out.files += 1;
                    out.events += n;
                }
                Err(e) => {
                    let wait = self.backoff.failed(&p.bucket, now);
                    tracing::warn!(key = %p.key, error = %e, retry_in_secs = wait, "log file delivery failed; the file stays pending");
                    self.note_delivery_error(&p.trail_arn, &e, now).await;
                }
            }
        }
        out.planned = planned;
        out.digests = self.write_digests(now, force_digests).await?;
        Ok(out)
    }

    async fn note_delivery_error(&self, trail_arn: &str, e: &DeliveryError, now: f64) {
        let code = error_code(e).to_owned();
        let arn = trail_arn.to_owned();
        let _ = self
            .store
            .write(move |c| {
                update_trail(c, &arn, |t| {
                    t.status.delivery.latest_delivery_attempt_time = Some(now);
                    t.status.delivery.latest_delivery_error = Some(code.clone());
                })
            })
            .await;
    }

    /// Writes a bucket object: a local bucket's file and record, or an external PUT.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        meta: BTreeMap<String, String>,
        content_type: &str,
        now: f64,
    ) -> Result<(), DeliveryError> {
        if self.external.contains(bucket) {
            self.external
                .put(bucket, key, Bytes::from(body), &meta)
                .await?;
            return Ok(());
        }
        let md5 = hex::encode(md5::Md5::digest(&body));
        let written = self
            .files
            .write(futures::stream::iter([Ok::<_, std::io::Error>(
                Bytes::from(body),
            )]))
            .await
            .map_err(|e| match e {
                cairn_buckets::local::WriteError::Io(e) => DeliveryError::Io(e),
                cairn_buckets::local::WriteError::Body(m) => {
                    DeliveryError::Io(std::io::Error::other(m))
                }
            })?;
        let object_meta = ObjectMeta {
            content_type: Some(content_type.to_owned()),
            content_encoding: Some("gzip".to_owned()),
            user: meta,
            ..Default::default()
        };
        let row = ObjectRow {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            file: written.file.clone(),
            size: written.size,
            etag: md5,
            last_modified: now,
            meta: object_meta.encode(),
        };
        let replaced = self
            .store
            .write(move |c| -> cairn_store::StoreResult<Option<String>> {
                if cairn_store::buckets::get(c, &row.bucket)?.is_none() {
                    return Ok(Some(row.file.clone()));
                }
                cairn_store::objects::put(c, &row)
            })
            .await??;
        let missing_bucket = replaced.as_deref() == Some(written.file.as_str());
        self.files.remove(replaced).await;
        if missing_bucket {
            return Err(DeliveryError::Io(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("bucket {bucket} does not exist"),
            )));
        }
        Ok(())
    }

    async fn write_file(&self, p: &delivery::Delivery, now: f64) -> Result<usize, DeliveryError> {
        let seqs = p.seqs.clone();
        let recs = self
            .store
            .read(move |c| delivery::records(c, &seqs))
            .await?;
        let body = records::body(recs.iter().map(String::as_str));
        let sha = sha256_hex(&body);
        let times: Vec<String> = recs.iter().map(|r| event_time(r)).collect();
        let oldest = times.iter().min().cloned().unwrap_or_default();
        let newest = times.iter().max().cloned().unwrap_or_default();
        self.put_object(
            &p.bucket,
            &p.key,
            records::gzip(&body),
            BTreeMap::new(),
            "application/json",
            now,
        )
        .await?;
        let (id, arn) = (p.id, p.trail_arn.clone());
        let topic = self
            .store
            .write(move |c| -> cairn_store::StoreResult<Option<String>> {
                delivery::mark_done(c, id, &sha, &oldest, &newest, now)?;
                let mut topic = None;
                update_trail(c, &arn, |t| {
                    t.status.delivery.latest_delivery_time = Some(now);
                    t.status.delivery.latest_delivery_attempt_time = Some(now);
                    t.status.delivery.latest_delivery_error = None;
                    topic = t.sns_topic_arn.clone();
                })?;
                Ok(topic)
            })
            .await??;
        if let Some(topic) = topic {
            self.notify(&topic, &p.bucket, &p.key).await;
        }
        Ok(recs.len())
    }

    /// Posts CloudTrail's delivery notification to the topic's confirmed HTTP(S) subscribers.
    async fn notify(&self, topic: &str, bucket: &str, key: &str) {
        let t = topic.to_owned();
        let subs = match self
            .store
            .read(move |c| cairn_store::sns::subscriptions(c, &t))
            .await
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read subscriptions");
                return;
            }
        };
        let message = serde_json::json!({"s3Bucket": bucket, "s3ObjectKey": [key]}).to_string();
        for sub in subs.into_iter().filter(|s| s.confirmed) {
            let envelope = serde_json::json!({
                "Type": "Notification",
                "MessageId": uuid::Uuid::new_v4().to_string(),
                "TopicArn": topic,
                "Message": message,
                "Timestamp": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
                "SignatureVersion": "1",
                "UnsubscribeURL": "",
            });
            let sent = reqwest::Client::new()
                .post(&sub.endpoint)
                .header("x-amz-sns-message-type", "Notification")
                .header("x-amz-sns-topic-arn", topic)
                .header("x-amz-sns-subscription-arn", sub.arn.as_str())
                .header("content-type", "text/plain; charset=UTF-8")
                .body(envelope.to_string())
                .send()
                .await;
            if let Err(e) = sent {
                tracing::warn!(endpoint = %sub.endpoint, error = %e, "notification not delivered");
            }
        }
    }

    async fn write_digests(&self, now: f64, force: bool) -> Result<usize, DeliveryError> {
        let all = self.store.read(trails::all).await?;
        let mut written = 0;
        for trail in all.into_iter().filter(|t| t.log_file_validation_enabled) {
            let Some(started) = trail.status.start_logging_time else {
                continue;
            };
            let arn = trail.arn();
            let a = arn.clone();
            let mut regions: BTreeSet<String> = self
                .store
                .read(move |c| {
                    let mut stmt = c.prepare_cached(
                        "SELECT DISTINCT region FROM deliveries WHERE trail_arn = ?1",
                    )?;
                    let rows = stmt.query_map([a], |r| r.get::<_, String>(0))?;
                    Ok(rows.collect::<Result<BTreeSet<_>, _>>()?)
                })
                .await?;
            regions.insert(trail.home_region.clone());
            for region in regions {
                if self
                    .digest_one(&trail, &arn, &region, started, now, force)
                    .await?
                {
                    written += 1;
                }
            }
        }
        Ok(written)
    }

    /// Writes the digest of one trail and region if one is due. Returns whether it did.
    async fn digest_one(
        &self,
        trail: &Trail,
        arn: &str,
        region: &str,
        started: f64,
        now: f64,
        force: bool,
    ) -> Result<bool, DeliveryError> {
        let (a, r) = (arn.to_owned(), region.to_owned());
        let last = self
            .store
            .read(move |c| delivery::last_digest(c, &a, &r))
            .await?;
        let (a, r) = (arn.to_owned(), region.to_owned());
        let files = self
            .store
            .read(move |c| delivery::undigested(c, &a, &r, now))
            .await?;
        // The chain continues unless logging (re)started after the last digest.
        let previous = last.filter(|d| d.end_time >= started);
        let start = previous.as_ref().map_or(started, |d| d.end_time);
        if !trail.status.is_logging && files.is_empty() {
            return Ok(false);
        }
        let due =
            now - start >= self.digest_interval || (!trail.status.is_logging && !files.is_empty());
        if !(due || force) || now <= start {
            return Ok(false);
        }
        let end = now.floor();
        if end <= start.floor() {
            // A digest must end at a later second than its predecessor (keys carry seconds).
            return Ok(false);
        }
        let key = keys::digest(
            trail.s3_key_prefix.as_deref(),
            &trail.account,
            region,
            &trail.name,
            &trail.home_region,
            end as i64,
        );
        let signing_key = {
            let keys = self.keys.clone();
            let r = region.to_owned();
            tokio::task::spawn_blocking(move || keys.current(&r, end))
                .await
                .map_err(|e| DeliveryError::Signing(e.to_string()))??
        };
        let oldest = files.iter().map(|f| f.oldest.clone()).min();
        let newest = files.iter().map(|f| f.newest.clone()).max();
        let digest = Digest {
            aws_account_id: trail.account.clone(),
            digest_start_time: iso_seconds(start.floor() as i64),
            digest_end_time: iso_seconds(end as i64),
            digest_s3_bucket: trail.s3_bucket_name.clone(),
            digest_s3_object: key.clone(),
            digest_public_key_fingerprint: signing_key.fingerprint.clone(),
            digest_signature_algorithm: "SHA256withRSA".to_owned(),
            newest_event_time: newest,
            oldest_event_time: oldest,
            previous_digest_s3_bucket: previous.as_ref().map(|d| d.bucket.clone()),
            previous_digest_s3_object: previous.as_ref().map(|d| d.key.clone()),
            previous_digest_hash_value: previous.as_ref().map(|d| d.sha256.clone()),
            previous_digest_hash_algorithm: previous.as_ref().map(|_| "SHA-256".to_owned()),
            previous_digest_signature: previous.as_ref().map(|d| d.signature.clone()),
            log_files: files
                .iter()
                .map(|f| LogFileEntry {
                    s3_bucket: f.bucket.clone(),
                    s3_object: f.key.clone(),
                    hash_value: f.sha256.clone(),
                    hash_algorithm: "SHA-256".to_owned(),
                    newest_event_time: f.newest.clone(),
                    oldest_event_time: f.oldest.clone(),
                })
                .collect(),
        };
        let bytes = digest.to_bytes();
        let sha = sha256_hex(&bytes);
        let to_sign = signing_string(
            &digest.digest_end_time,
            &digest.digest_s3_bucket,
            &key,
            &sha,
            digest.previous_digest_signature.as_deref(),
        );
        let signature = {
            let (keys, k) = (self.keys.clone(), signing_key.clone());
            tokio::task::spawn_blocking(move || keys.sign(&k, to_sign.as_bytes()))
                .await
                .map_err(|e| DeliveryError::Signing(e.to_string()))??
        };
        let meta = BTreeMap::from([
            ("signature".to_owned(), signature.clone()),
            ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
        ]);
        if let Err(e) = self
            .put_object(
                &trail.s3_bucket_name,
                &key,
                records::gzip(&bytes),
                meta,
                "application/json",
                now,
            )
            .await
        {
            let arn = arn.to_owned();
            let _ = self
                .store
                .write(move |c| {
                    update_trail(c, &arn, |t| {
                        t.status.delivery.latest_digest_delivery_error = Some("NoSuchBucket".into())
                    })
                })
                .await;
            return Err(e);
        }
        let row = DigestRow {
            trail_arn: arn.to_owned(),
            region: region.to_owned(),
            bucket: trail.s3_bucket_name.clone(),
            key,
            start_time: start,
            end_time: end,
            sha256: sha,
            signature,
            chain_start: previous.is_none(),
        };
        let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
        let arn = arn.to_owned();
        self.store
            .write(move |c| -> cairn_store::StoreResult<()> {
                delivery::insert_digest(c, &row)?;
                delivery::mark_digested(c, &ids, end)?;
                update_trail(c, &arn, |t| {
                    t.status.delivery.latest_digest_delivery_time = Some(now);
                    t.status.delivery.latest_digest_delivery_error = None;
                })
            })
            .await??;
        Ok(true)
    }
}

/// Applies `change` to the trail with this ARN, if it still exists.
fn update_trail(
    conn: &cairn_store::Connection,
    arn: &str,
    change: impl FnOnce(&mut Trail),
) -> cairn_store::StoreResult<()> {
    let Some(parsed) = cairn_model::trail::TrailArn::parse(arn) else {
        return Ok(());
    };
    if let Some(mut t) = trails::get(conn, &parsed.account, &parsed.region, &parsed.name)? {
        change(&mut t);
        trails::put(conn, &t)?;
    }
    Ok(())
}

/// Plans files for every logging trail: routes the events after each trail's cursor, one
/// file per region, and advances the cursor — all in the caller's transaction.
fn plan(conn: &cairn_store::Connection, now: f64, cap: i64) -> cairn_store::StoreResult<usize> {
    let max = delivery::max_seq(conn)?;
    let mut planned = 0;
    for trail in trails::all(conn)? {
        let Some(first) = trail.status.windows.first() else {
            continue;
        };
        let arn = trail.arn();
        let cursor = delivery::cursor(conn, &arn)?.unwrap_or(first.start_seq - 1);
        if cursor >= max {
            continue;
        }
        let upto = max.min(cursor + cap);
        let mut by_region: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for (seq, _, record) in delivery::events_between(conn, cursor, upto)? {
            let Ok(event) = serde_json::from_str::<Value>(&record) else {
                continue;
            };
            if let Some(region) = routing::route(&trail, seq, &event) {
                by_region.entry(region).or_default().push(seq);
            }
        }
        for (region, seqs) in by_region {
            let unique = unique_suffix(&format!(
                "{arn}\n{region}\n{}\n{}",
                seqs[0],
                seqs[seqs.len() - 1]
            ));
            let key = keys::log_file(
                trail.s3_key_prefix.as_deref(),
                &trail.account,
                &region,
                now.floor() as i64,
                &unique,
            );
            delivery::plan(conn, &arn, &region, &trail.s3_bucket_name, &key, &seqs)?;
            planned += 1;
        }
        delivery::set_cursor(conn, &arn, upto)?;
    }
    Ok(planned)
}
