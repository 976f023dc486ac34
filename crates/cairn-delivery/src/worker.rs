//! One delivery step: plan, write, digest — each trail on its own.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use cairn_buckets::ExternalBuckets;
use cairn_buckets::local::ObjectFiles;
use cairn_core::publish::Publication;
use cairn_logfile::records::BodyWriter;
use cairn_model::trail::Trail;
use cairn_store::{Store, delivery, trails};

use crate::digest::DigestOwner;
use crate::notify::{Notifier, NotifierConfig};
use crate::plan::{self, Limits};
use crate::put::{Putter, Target};
use crate::{DeliveryError, KeyRing};

/// Default for the most events in one log file.
pub const DEFAULT_MAX_EVENTS_PER_FILE: usize = 50_000;
/// Default for the most uncompressed bytes in one log file (8 MiB of record JSON; a single
/// larger record still gets a file of its own).
pub const DEFAULT_MAX_FILE_BYTES: usize = 8 * 1024 * 1024;
/// Default for the most events one trail examines per step.
pub const DEFAULT_MAX_EVENTS_PER_STEP: usize = 200_000;
/// Records read from the store per query while a file is written.
const READ_BATCH: usize = 64;

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
    /// Log files and digests that failed this step (they are retried later).
    pub failed: usize,
    /// CloudWatch Logs delivery (log events stored, trails that failed).
    pub logs: crate::LogsOutcome,
}

/// The delivery worker's state. Cheap to clone.
#[derive(Clone)]
pub struct Delivery {
    pub(crate) store: Store,
    pub(crate) putter: Putter,
    pub(crate) keys: KeyRing,
    pub(crate) digest_interval: f64,
    limits: Limits,
    pub(crate) backoff: Backoff,
    notifier: Notifier,
    /// The data dir, for a notifier of its own (`with_kms` makes it again with the key).
    data_dir: std::path::PathBuf,
    /// Pending files of external buckets whose last write attempt is known to have written
    /// nothing (the store refused it), so they may be renamed for their next attempt.
    rekeyable: std::sync::Arc<std::sync::Mutex<std::collections::HashSet<i64>>>,
    /// With [`Delivery::with_external_in_background`] (the server): the external buckets
    /// whose files are being written by a task of their own, which the step does not wait for.
    background: Option<std::sync::Arc<std::sync::Mutex<std::collections::HashSet<String>>>>,
}

/// The notifier of a worker of its own (`cairn flush`): it sends only what it publishes (a
/// server's worker shares the server's notifier, `with_shared_notifier`), and opens what it
/// sealed with `kms_master`.
fn own_notifier(
    data_dir: &Path,
    store: Store,
    kms_master: Option<std::sync::Arc<cairn_core::kms::MasterKey>>,
) -> Notifier {
    Notifier::new(NotifierConfig {
        signer: crate::SnsSigner::load_or_create(data_dir)
            .ok()
            .map(std::sync::Arc::new),
        maildir: Some(data_dir.join("mail")),
        base_url: crate::admin_base_url(data_dir),
        store: Some(store),
        own_messages_only: true,
        kms_master,
        ..NotifierConfig::default()
    })
}

/// Exponential backoff per trail and bucket for failed writes: 1 s doubling to 5 min. Pending
/// files are never dropped; a trail whose writes fail is just tried less often until they
/// work again, and never holds up another trail writing to the same bucket (its own bucket
/// policy statement, key or prefix may be the one that is wrong).
#[derive(Clone, Default)]
pub(crate) struct Backoff(std::sync::Arc<std::sync::Mutex<BTreeMap<String, (u32, f64)>>>);

impl Backoff {
    pub(crate) fn may_try(&self, bucket: &str, now: f64) -> bool {
        self.0
            .lock()
            .expect("backoff lock")
            .get(bucket)
            .is_none_or(|(_, next)| now >= *next)
    }

    pub(crate) fn failed(&self, bucket: &str, now: f64) -> f64 {
        let mut map = self.0.lock().expect("backoff lock");
        let entry = map.entry(bucket.to_owned()).or_insert((0, now));
        entry.0 += 1;
        let wait = (2f64.powi(entry.0.min(9) as i32 - 1)).min(300.0);
        entry.1 = now + wait;
        wait
    }

    pub(crate) fn succeeded(&self, bucket: &str) {
        self.0.lock().expect("backoff lock").remove(bucket);
    }
}

/// Applies `change` to the trail with this ARN, if it still exists.
pub(crate) fn update_trail(
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

/// The KMS key a trail (live, or retired and draining) seals its files with.
fn trail_kms_key(
    conn: &cairn_store::Connection,
    arn: &str,
    retired: Option<i64>,
) -> cairn_store::StoreResult<Option<String>> {
    if let Some(id) = retired {
        return Ok(cairn_store::delivery::retired(conn)?
            .into_iter()
            .find(|r| r.id == id)
            .and_then(|r| r.trail.kms_key_id));
    }
    let Some(parsed) = cairn_model::trail::TrailArn::parse(arn) else {
        return Ok(None);
    };
    Ok(
        trails::get(conn, &parsed.account, &parsed.region, &parsed.name)?
            .and_then(|t| t.kms_key_id),
    )
}

/// Whether a file of the trail (live, or retired and draining), holding events up to
/// `last_seq` of `region`, is digested: files delivered while validation is off are not,
/// except those a final digest still owed covers (a stop while validation was on): they
/// belong to that chain, however soon validation went off after the stop (digest5: turning
/// it off right after StopLogging left the stop's own file out of every digest).
fn validation_on(
    conn: &cairn_store::Connection,
    arn: &str,
    retired: Option<i64>,
    (region, last_seq): (&str, i64),
) -> cairn_store::StoreResult<bool> {
    let retired_trail =
        |id: Option<i64>| -> cairn_store::StoreResult<Option<cairn_model::trail::Trail>> {
            Ok(cairn_store::delivery::retired(conn)?
                .into_iter()
                .rev()
                .find(|r| id.is_none_or(|id| r.id == id) && r.trail.arn() == arn)
                .map(|r| r.trail))
        };
    let trail = if retired.is_some() {
        retired_trail(retired)?
    } else {
        let live = cairn_model::trail::TrailArn::parse(arn)
            .map(|p| trails::get(conn, &p.account, &p.region, &p.name))
            .transpose()?
            .flatten();
        match live {
            Some(t) => Some(t),
            // Deleted meanwhile: its snapshot says.
            None => retired_trail(None)?,
        }
    };
    let Some(t) = trail else {
        return Ok(true);
    };
    let owed = t
        .status
        .owed_finals
        .iter()
        .any(|f| last_seq <= f.end_seq && !f.written.contains(region));
    Ok(t.log_file_validation_enabled || owed)
}

/// What streaming a log file's body learned.
struct LogBody {
    sha256: String,
    oldest: String,
    newest: String,
    events: usize,
}

#[derive(serde::Deserialize)]
struct EventTime {
    #[serde(rename = "eventTime", default)]
    event_time: Option<String>,
}

/// Streams the records of `seqs` into `sink` as a gzipped log file body. Every planned event
/// must still be there and be a JSON object, and the event chain must hold over the file's
/// span of seqs (every event in it unedited and linked to the one before): anything else is
/// damage, and no file is made.
fn stream_log_body(
    store: &Store,
    seqs: &[i64],
    sink: &mut dyn Write,
) -> Result<LogBody, DeliveryError> {
    if let (Some(&first), Some(&last)) = (seqs.iter().min(), seqs.iter().max()) {
        store
            .read_blocking(|c| Ok(cairn_store::events::verify_chain(c, first, last)))?
            .map_err(|b| DeliveryError::Damaged(format!("the event chain is broken: {b}")))?;
    }
    let mut body = BodyWriter::new(sink)?;
    let (mut oldest, mut newest): (Option<String>, Option<String>) = (None, None);
    for batch in seqs.chunks(READ_BATCH) {
        let mut expected = batch.iter();
        let mut failure: Option<DeliveryError> = None;
        store.read_blocking(|c| {
            delivery::records_of(c, batch, |seq, record| {
                if failure.is_some() {
                    return;
                }
                if expected.next() != Some(&seq) {
                    failure = Some(DeliveryError::Damaged(format!(
                        "a planned event before seq {seq} is gone"
                    )));
                    return;
                }
                let Some(time) = record.and_then(|r| serde_json::from_str::<EventTime>(r).ok())
                else {
                    failure = Some(DeliveryError::Damaged(format!(
                        "the record of event seq {seq} cannot be read"
                    )));
                    return;
                };
                if let Some(t) = time.event_time {
                    if oldest.as_ref().is_none_or(|o| t < *o) {
                        oldest = Some(t.clone());
                    }
                    if newest.as_ref().is_none_or(|n| t > *n) {
                        newest = Some(t);
                    }
                }
                if let Err(e) = body.record(record.unwrap_or_default()) {
                    failure = Some(e.into());
                }
            })
        })?;
        if let Some(e) = failure {
            return Err(e);
        }
        if let Some(missing) = expected.next() {
            return Err(DeliveryError::Damaged(format!(
                "planned event seq {missing} is gone"
            )));
        }
    }
    let (_, summary) = body.finish()?;
    Ok(LogBody {
        sha256: summary.sha256,
        oldest: oldest.unwrap_or_default(),
        newest: newest.unwrap_or_default(),
        events: summary.records,
    })
}

impl Delivery {
    /// A worker over a data dir, notifying with SNS's default HTTP/S delivery policy.
    pub fn new(
        store: Store,
        data_dir: &Path,
        external: ExternalBuckets,
        digest_interval_secs: f64,
    ) -> std::io::Result<Self> {
        let queue_store = store.clone();
        Ok(Self {
            putter: Putter {
                store: store.clone(),
                files: ObjectFiles::new(data_dir)?,
                external,
                kms_master: None,
                evaluator: std::sync::Arc::new(cairn_core::authz::PolicyEvaluator::new()),
            },
            keys: KeyRing::new(data_dir, store.clone())?,
            store,
            digest_interval: digest_interval_secs,
            limits: Limits {
                max_events_per_file: DEFAULT_MAX_EVENTS_PER_FILE,
                max_file_bytes: DEFAULT_MAX_FILE_BYTES,
                max_events_per_step: DEFAULT_MAX_EVENTS_PER_STEP,
                until_seq: None,
            },
            backoff: Backoff::default(),
            rekeyable: std::sync::Arc::default(),
            background: None,
            notifier: own_notifier(data_dir, queue_store, None),
            data_dir: data_dir.to_owned(),
        })
    }

    /// Caps the events in one log file.
    pub fn with_max_events_per_file(mut self, n: usize) -> Self {
        self.limits.max_events_per_file = n.max(1);
        self
    }

    /// Caps the uncompressed bytes of one log file.
    pub fn with_max_file_bytes(mut self, n: usize) -> Self {
        self.limits.max_file_bytes = n.max(1);
        self
    }

    /// Plans no event recorded after `seq` (a flush delivers what was recorded before it;
    /// the KMS calls its own deliveries record wait for the next delivery).
    pub fn with_planning_bound(mut self, seq: i64) -> Self {
        self.limits.until_seq = Some(seq);
        self
    }

    /// Caps the events one trail examines per step.
    pub fn with_max_events_per_step(mut self, n: usize) -> Self {
        self.limits.max_events_per_step = n.max(1);
        self
    }

    /// Seals the files of trails with a KMS key with data keys of it (without a master key,
    /// their delivery fails and waits).
    pub fn with_kms(mut self, master: std::sync::Arc<cairn_core::kms::MasterKey>) -> Self {
        // The worker's own notifier opens the notifications it seals for encrypted topics.
        self.notifier = own_notifier(&self.data_dir, self.store.clone(), Some(master.clone()));
        self.putter.kms_master = Some(master);
        self
    }

    /// Sends notifications with `config` instead of SNS's defaults (from this worker's
    /// store's durable queues).
    pub fn with_notifier(mut self, config: NotifierConfig) -> Self {
        self.notifier = Notifier::new(NotifierConfig {
            store: Some(self.store.clone()),
            ..config
        });
        self
    }

    /// Writes each external bucket's pending files in a task of its own that the step does
    /// not wait for (one at a time per bucket), so a slow or hanging store never holds up
    /// the other trails' files and digests (the server; `cairn flush` waits for everything).
    pub fn with_external_in_background(mut self) -> Self {
        self.background = Some(std::sync::Arc::default());
        self
    }

    /// Sends notifications through `notifier`, shared with the rest of the process (one
    /// sender per durable queue).
    pub fn with_shared_notifier(mut self, notifier: Notifier) -> Self {
        self.notifier = notifier;
        self
    }

    /// The notification sender (to wait for its queues, or read its counters).
    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    /// One step at time `now` (epoch seconds). With `force_digests`, digests that are not yet
    /// due are written too (`cairn flush`). A trail's failure is recorded in its status and
    /// counted in [`Outcome::failed`]; only a failing store fails the step.
    pub async fn run_once(&self, now: f64, force_digests: bool) -> Result<Outcome, DeliveryError> {
        let limits = self.limits;
        let plans = self
            .store
            .read(move |c| plan::plan_all(c, now, limits))
            .await?;
        let stopped: Vec<String> = plans
            .iter()
            .filter(|p| p.stopped_at.is_some() && matches!(p.owner, plan::Owner::Live { .. }))
            .map(|p| p.trail.arn())
            .collect();
        let mut out = Outcome {
            planned: self.store.write(move |c| plan::commit(c, &plans)).await??,
            ..Outcome::default()
        };
        out.planned += self
            .store
            .write(move |c| cairn_store::with_savepoint(c, |c| crate::insights::plan(c, now)))
            .await??;
        self.write_pending(now, &mut out).await?;
        out.logs = self.deliver_logs(now).await?;
        for arn in stopped {
            self.note_delivery_error(&arn, "InternalError".into(), now)
                .await;
        }
        // Deleted trails first: a deleted trail's last digest precedes the first digest of a
        // new trail of the same name (they share the ARN's chain).
        let retired = self.store.read(delivery::retired).await?;
        let mut owners: Vec<DigestOwner> = retired
            .iter()
            .map(|r| DigestOwner {
                trail: r.trail.clone(),
                retired: Some(r.id),
            })
            .collect();
        owners.extend(
            self.store
                .read(trails::all)
                .await?
                .into_iter()
                .map(|trail| DigestOwner {
                    trail,
                    retired: None,
                }),
        );
        let (digests, failed) = self.write_digests(owners, now, force_digests).await;
        out.digests = digests;
        out.failed += failed;
        for r in retired {
            let id = r.id;
            if self
                .store
                .write(move |c| delivery::finish_retired(c, id))
                .await??
            {
                tracing::info!(trail = %r.trail.arn(), "a deleted trail's last files are delivered");
            }
        }
        Ok(out)
    }

    /// Writes the pending files: buckets concurrently, each bucket's files in plan order. A
    /// trail whose plan is damaged stops at that file for this step.
    async fn write_pending(&self, now: f64, out: &mut Outcome) -> Result<(), DeliveryError> {
        let pending = self.store.read(delivery::pending).await?;
        let mut by_bucket: BTreeMap<String, Vec<delivery::Delivery>> = BTreeMap::new();
        for p in pending {
            by_bucket.entry(p.bucket.clone()).or_default().push(p);
        }
        if let Some(running) = &self.background {
            let external: Vec<String> = by_bucket
                .keys()
                .filter(|b| self.putter.external.contains(b))
                .cloned()
                .collect();
            for bucket in external {
                let files = by_bucket.remove(&bucket).unwrap_or_default();
                // A bucket whose previous task still runs waits for the next step.
                if !running
                    .lock()
                    .expect("background lock")
                    .insert(bucket.clone())
                {
                    continue;
                }
                let (me, running) = (self.clone(), running.clone());
                tokio::spawn(async move {
                    let (_, _, failed) = me.write_bucket(files, now).await;
                    if failed > 0 {
                        tracing::debug!(bucket = %bucket, failed, "external bucket files left pending");
                    }
                    running.lock().expect("background lock").remove(&bucket);
                });
            }
        }
        let results = futures::future::join_all(
            by_bucket
                .into_values()
                .map(|files| self.write_bucket(files, now)),
        )
        .await;
        for (files, events, failed) in results {
            out.files += files;
            out.events += events;
            out.failed += failed;
        }
        Ok(())
    }

    /// Writes one bucket's pending files; returns (files, events, failed). Each trail's files
    /// go in plan order, and a trail whose write fails waits alone.
    async fn write_bucket(
        &self,
        pending: Vec<delivery::Delivery>,
        now: f64,
    ) -> (usize, usize, usize) {
        let (mut files, mut events, mut failed) = (0, 0, 0);
        let mut stopped: Vec<(String, Option<i64>)> = Vec::new();
        for p in pending {
            let owner = (p.trail_arn.clone(), p.retired);
            let lane = format!("{}\u{0}{}\u{0}{:?}", p.bucket, p.trail_arn, p.retired);
            if stopped.contains(&owner) || !self.backoff.may_try(&lane, now) {
                continue;
            }
            match self.write_file(&p, now).await {
                Ok(n) => {
                    self.backoff.succeeded(&lane);
                    files += 1;
                    events += n;
                }
                Err(e) => {
                    failed += 1;
                    if e.wrote_nothing() && self.putter.external.contains(&p.bucket) {
                        self.rekeyable.lock().expect("rekey lock").insert(p.id);
                    }
                    let code = e.s3_code();
                    if self.abandon_if_gone(p.retired, &p.trail_arn, &code).await {
                        stopped.push(owner);
                        continue;
                    }
                    if let DeliveryError::Damaged(_) = e {
                        tracing::error!(key = %p.key, trail = %p.trail_arn, error = %e,
                            "a planned log file cannot be written; the trail's delivery stops here until it is repaired");
                        stopped.push(owner);
                    } else {
                        let wait = self.backoff.failed(&lane, now);
                        tracing::warn!(key = %p.key, trail = %p.trail_arn, error = %e, code = %code,
                            retry_in_secs = wait, "log file delivery failed; the file stays pending");
                    }
                    if p.retired.is_none() {
                        self.note_delivery_error(&p.trail_arn, code, now).await;
                    }
                }
            }
        }
        (files, events, failed)
    }

    /// A deleted trail whose bucket is gone gives up, as CloudTrail does: what it had up to
    /// its deletion was attempted once more, and now its pending files and owed digests are
    /// dropped with one log line, instead of being retried forever. Returns whether it did.
    pub(crate) async fn abandon_if_gone(
        &self,
        retired: Option<i64>,
        arn: &str,
        code: &str,
    ) -> bool {
        let Some(id) = retired.filter(|_| code == "NoSuchBucket") else {
            return false;
        };
        match self
            .store
            .write(move |c| cairn_store::with_savepoint(c, |c| delivery::abandon_retired(c, id)))
            .await
            .and_then(|r| r)
        {
            Ok((files, digested)) => {
                tracing::warn!(trail = %arn, pending_files = files, undigested_files = digested,
                    "a deleted trail's bucket no longer exists; its remaining log files and digests are given up");
                true
            }
            Err(e) => {
                tracing::warn!(trail = %arn, error = %e, "cannot give up a deleted trail's delivery");
                false
            }
        }
    }

    async fn note_delivery_error(&self, trail_arn: &str, code: String, now: f64) {
        let arn = trail_arn.to_owned();
        let noted = self
            .store
            .write(move |c| {
                update_trail(c, &arn, |t| {
                    t.status.delivery.latest_delivery_attempt_time = Some(now);
                    t.status.delivery.latest_delivery_error = Some(code);
                })
            })
            .await;
        if let Err(e) = noted.and_then(|r| r) {
            tracing::warn!(trail = %trail_arn, error = %e, "cannot record the delivery error");
        }
    }

    /// The key a pending file is written under at `now`: CloudTrail names a file by the
    /// minute it is delivered, so a file planned earlier (its bucket was missing or refused
    /// it) is renamed before it is written. Exactly once still holds: the new key is
    /// committed before the attempt, and only while no earlier attempt can have written the
    /// object under the old one — a local bucket's object appears only with the ledger's
    /// commit, and an external bucket's file is renamed only after the store refused it
    /// (after a crash its key stays).
    async fn delivery_key(
        &self,
        p: &delivery::Delivery,
        now: f64,
    ) -> Result<String, DeliveryError> {
        let external = self.putter.external.contains(&p.bucket);
        let free = !external || self.rekeyable.lock().expect("rekey lock").remove(&p.id);
        let Some(wanted) = plan::restamp(&p.key, now).filter(|k| *k != p.key && free) else {
            return Ok(p.key.clone());
        };
        let (id, old, new) = (p.id, p.key.clone(), wanted.clone());
        let renamed = self
            .store
            .write(move |c| delivery::rekey_pending(c, id, &old, &new))
            .await??;
        Ok(if renamed { wanted } else { p.key.clone() })
    }

    /// Writes one planned file and marks it done; returns its event count.
    async fn write_file(&self, p: &delivery::Delivery, now: f64) -> Result<usize, DeliveryError> {
        let key = self.delivery_key(p, now).await?;
        let seqs = p.seqs.clone().map_err(|e| {
            DeliveryError::Damaged(format!("planned file {} ({}): {e}", p.id, p.key))
        })?;
        let parsed = cairn_model::trail::TrailArn::parse(&p.trail_arn);
        let (account, region) = parsed
            .as_ref()
            .map(|a| (a.account.clone(), a.region.clone()))
            .unwrap_or_default();
        let (arn, retired) = (p.trail_arn.clone(), p.retired);
        let kms_key_arn = self
            .store
            .read(move |c| trail_kms_key(c, &arn, retired))
            .await?;
        let target = Target {
            bucket: p.bucket.clone(),
            key: key.clone(),
            trail_arn: p.trail_arn.clone(),
            account,
            meta: BTreeMap::new(),
            region,
            kms_key_arn,
        };
        let store = self.store.clone();
        let last_seq = seqs.iter().copied().max().unwrap_or(i64::MAX);
        let file_region = p.region.clone();
        let (id, arn, live) = (p.id, p.trail_arn.clone(), p.retired.is_none());
        let (master, evaluator) = (
            self.putter.kms_master.clone(),
            self.putter.evaluator.clone(),
        );
        let message = serde_json::json!({"s3Bucket": p.bucket, "s3ObjectKey": [key]}).to_string();
        let (body, publication) = self
            .putter
            .put(
                &target,
                Box::new(move |sink: &mut dyn Write| stream_log_body(&store, &seqs, sink)),
                now,
                move |c, body: &LogBody| -> cairn_store::StoreResult<Option<Publication>> {
                    delivery::mark_done(c, id, &body.sha256, &body.oldest, &body.newest, now)?;
                    if !validation_on(c, &arn, retired, (&file_region, last_seq))? {
                        delivery::exempt_from_digests(c, id)?;
                    }
                    if !live {
                        return Ok(None);
                    }
                    // The notification is published to the topic with the file, in this
                    // transaction, if the topic's policy lets CloudTrail publish now.
                    let kms = master.as_deref().map(|master| cairn_core::sse::KmsAccess {
                        master,
                        evaluator: evaluator.as_ref(),
                    });
                    let notice = crate::notice::publish(c, &arn, &message, now, kms)?;
                    update_trail(c, &arn, |t| {
                        let d = &mut t.status.delivery;
                        d.latest_delivery_time = Some(now);
                        d.latest_delivery_attempt_time = Some(now);
                        d.latest_delivery_error = None;
                        notice.record(d, now);
                    })?;
                    Ok(notice.publication())
                },
            )
            .await?;
        if let Some(p) = publication {
            crate::publish::publish(&self.notifier, &p);
        }
        Ok(body.events)
    }
}
