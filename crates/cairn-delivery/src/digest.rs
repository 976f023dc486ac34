//! Signed digests: one per trail and region per digest interval, chained.
//!
//! A failed digest (bucket gone, policy denies, store refuses) is recorded in that trail's
//! `LatestDigestDeliveryError` with the real S3 code and retried on the next step; it never
//! stops the digests of other trails or regions. A deleted trail whose bucket is gone
//! (`NoSuchBucket`) gives up its owed digests and pending files instead (one log line).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use cairn_logfile::digest::{Digest, LogFileEntry, signing_string};
use cairn_logfile::{iso_seconds, keys, records, sha256_hex};
use cairn_model::trail::Trail;
use cairn_store::delivery::{self, DigestRow};

use crate::DeliveryError;
use crate::put::Target;
use crate::worker::{Delivery, update_trail};

/// A trail that may owe digests: live (`retired: None`) or deleted and draining.
#[derive(Clone, Debug)]
pub(crate) struct DigestOwner {
    pub trail: Trail,
    pub retired: Option<i64>,
}

impl Delivery {
    /// Writes every due digest; returns (written, failed).
    pub(crate) async fn write_digests(
        &self,
        owners: Vec<DigestOwner>,
        now: f64,
        force: bool,
    ) -> (usize, usize) {
        let (mut written, mut failed) = (0, 0);
        for owner in owners.into_iter().filter(|o| o.trail.may_owe_digests()) {
            let Some(started) = owner.trail.status.start_logging_time else {
                continue;
            };
            let arn = owner.trail.arn();
            let (a, retired) = (arn.clone(), owner.retired);
            let mut regions: BTreeSet<String> = match self
                .store
                .read(move |c| delivery::file_regions(c, &a, retired))
                .await
            {
                Ok(r) => r.into_iter().collect(),
                Err(e) => {
                    tracing::warn!(trail = %arn, error = %e, "cannot read the trail's files");
                    failed += 1;
                    continue;
                }
            };
            regions.insert(owner.trail.home_region.clone());
            for region in regions {
                // A failing digest write backs off like the trail's files (1 s doubling to
                // 5 min), so a struggling store is not asked again at every step.
                let lane = format!("digest\u{0}{arn}\u{0}{:?}\u{0}{region}", owner.retired);
                if !force && !self.backoff.may_try(&lane, now) {
                    continue;
                }
                match self.digest_one(&owner, &region, started, now, force).await {
                    Ok(true) => {
                        self.backoff.succeeded(&lane);
                        written += 1;
                    }
                    Ok(false) => self.backoff.succeeded(&lane),
                    Err(e) => {
                        self.backoff.failed(&lane, now);
                        failed += 1;
                        let code = e.s3_code();
                        if self.abandon_if_gone(owner.retired, &arn, &code).await {
                            break;
                        }
                        tracing::warn!(trail = %arn, region = %region, error = %e, code = %code,
                            "digest delivery failed; retried on the next step");
                        if owner.retired.is_none() {
                            let arn = arn.clone();
                            let noted = self
                                .store
                                .write(move |c| {
                                    update_trail(c, &arn, |t| {
                                        t.status.delivery.latest_digest_delivery_error = Some(code)
                                    })
                                })
                                .await;
                            if let Err(e) = noted.and_then(|r| r) {
                                tracing::warn!(error = %e, "cannot record the digest error");
                            }
                        }
                    }
                }
            }
        }
        (written, failed)
    }

    /// Writes the digest of one trail and region if one is due. Returns whether it did.
    ///
    /// A trail whose validation was turned off owes its chain one last digest: for the files
    /// delivered while it was on (as on AWS, "the chain of digest files is broken after one
    /// hour": at the chain's next period, or at once when forced, when logging stopped, or
    /// when validation is on again and a new chain waits), and a final one at once when
    /// logging stopped while it was on. Only then may a new chain start.
    async fn digest_one(
        &self,
        owner: &DigestOwner,
        region: &str,
        started: f64,
        now: f64,
        force: bool,
    ) -> Result<bool, DeliveryError> {
        let trail = &owner.trail;
        let status = &trail.status;
        let arn = trail.arn();
        let (a, r) = (arn.clone(), region.to_owned());
        let last = self
            .store
            .read(move |c| delivery::last_digest(c, &a, &r))
            .await?;
        // A stop's final digest comes first: the next chain's digests wait for it.
        if let Some(wrote) = self.owed_final(owner, region, now, &last).await? {
            return Ok(wrote);
        }
        let on = trail.log_file_validation_enabled;
        // The chain that turning validation off ended, while no digest came after the change.
        let closing = status
            .validation_disabled_time
            .filter(|&off| last.as_ref().is_none_or(|d| d.end_time < off));
        if let Some(off) = closing {
            let chain_start = status.disabled_chain_start.unwrap_or(started).min(off);
            let previous = last.clone().filter(|d| d.end_time >= chain_start);
            let files = self.undigested(owner, region, now.min(off)).await?;
            let stop_owed = final_owed(status.stop_logging_time, chain_start, &previous)
                .is_some_and(|stop| stop < off);
            // A chain running when validation went off ends with a closing digest, files or
            // none, as a stop's final digest does: its absence is then seen.
            // (Digest times are kept in whole seconds: one ending in the change's second
            // was the closing one.)
            let closing_owed = status.closing_owed
                && last
                    .as_ref()
                    .is_none_or(|d| d.end_time.floor() < off.floor());
            if !files.is_empty() || stop_owed || closing_owed {
                let start = previous.as_ref().map_or(chain_start, |d| d.end_time);
                let due = force
                    || stop_owed
                    || on
                    || !status.is_logging
                    || now - start >= self.digest_interval;
                if !due {
                    return Ok(false);
                }
                // The chain ends when validation went off, not when its last digest is
                // written: ending it later overlapped the next chain's start, and the stock
                // validator then reported a gap whose end came before its start (guide5).
                // It lists only files delivered by then; a second after its start at least.
                let end = now.min(off).max(start.floor() + 1.0);
                return self
                    .write_digest(owner, region, start, end, last, previous, files, None)
                    .await;
            }
        }
        if !on {
            return Ok(false);
        }
        // Stopped: as on AWS, no digest while a trail is stopped; the stop's final digest
        // (written above) ended the chain.
        let last_end = status.windows.last().and_then(|w| w.end_seq);
        if !status.is_logging
            && status
                .owed_finals
                .last()
                .is_some_and(|f| Some(f.end_seq) == last_end)
        {
            return Ok(false);
        }
        let files = self.undigested(owner, region, now).await?;
        // The chain continues unless logging (re)started or validation was turned on again
        // after the last digest: its digests start at or after its start, and a digest of an
        // earlier chain (a final one, or the last before validation went off) starts before.
        let chain_start = status.chain_start().unwrap_or(started);
        let previous = last.clone().filter(|d| d.start_time >= chain_start);
        let start = previous.as_ref().map_or(chain_start, |d| d.end_time);
        // A stop recorded before stops noted their final digest (`owed_finals`): a final
        // digest ends the chain, files or not, as on AWS.
        let stop_owed = !status.is_logging
            && final_owed(status.stop_logging_time, chain_start, &previous).is_some();
        if !status.is_logging && files.is_empty() && !stop_owed {
            return Ok(false);
        }
        let _ = clock_behind(&arn, region, now, start);
        let due = now - start >= self.digest_interval || !status.is_logging;
        if !(due || force) {
            return Ok(false);
        }
        self.write_digest(owner, region, start, now, last, previous, files, None)
            .await
    }

    /// Writes the oldest final digest a stop owes in `region`: it lists the region's files
    /// of events up to the stop's event, so it waits until they are all planned and written.
    /// `None` when no stop owes one there; else whether it was written (a later chain's
    /// digests wait while it is not).
    async fn owed_final(
        &self,
        owner: &DigestOwner,
        region: &str,
        now: f64,
        last: &Option<DigestRow>,
    ) -> Result<Option<bool>, DeliveryError> {
        let trail = &owner.trail;
        for f in &trail.status.owed_finals {
            if f.written.contains(region) {
                continue;
            }
            let (a, r, retired, end_seq) =
                (trail.arn(), region.to_owned(), owner.retired, f.end_seq);
            let home = r == trail.home_region;
            let (owed, ready) = self
                .store
                .read(move |c| {
                    let owed =
                        home || delivery::regions_through(c, &a, retired, end_seq)?.contains(&r);
                    let ready = owed && delivery::final_ready(c, &a, retired, &r, end_seq)?;
                    Ok((owed, ready))
                })
                .await?;
            if !owed {
                continue;
            }
            if !ready {
                return Ok(Some(false));
            }
            // The last digest continues into the final one if it is of the same chain.
            let previous = last.clone().filter(|d| d.start_time >= f.chain_start);
            let start = previous.as_ref().map_or(f.chain_start, |d| d.end_time);
            let (a, r) = (trail.arn(), region.to_owned());
            let files = self
                .store
                .read(move |c| delivery::undigested(c, &a, retired, &r, now, Some(end_seq)))
                .await?;
            let wrote = self
                .write_digest(
                    owner,
                    region,
                    start,
                    now,
                    last.clone(),
                    previous,
                    files,
                    Some(end_seq),
                )
                .await?;
            return Ok(Some(wrote));
        }
        Ok(None)
    }

    /// The written files of the trail (live or retired) in `region` not digested yet,
    /// delivered up to `upto`.
    async fn undigested(
        &self,
        owner: &DigestOwner,
        region: &str,
        upto: f64,
    ) -> Result<Vec<delivery::Undigested>, DeliveryError> {
        let (a, r, retired) = (owner.trail.arn(), region.to_owned(), owner.retired);
        Ok(self
            .store
            .read(move |c| delivery::undigested(c, &a, retired, &r, upto, None))
            .await?)
    }

    /// Writes one digest of `files` from `start` to now (whole seconds) after `previous`
    /// (`None`: it starts a chain). `last` is the trail's newest digest in the region, of
    /// any chain: a digest must end at a later second (keys carry seconds). `final_of`: the
    /// end seq of the stop whose final digest this is (noted with the digest).
    #[allow(clippy::too_many_arguments)]
    async fn write_digest(
        &self,
        owner: &DigestOwner,
        region: &str,
        start: f64,
        now: f64,
        last: Option<DigestRow>,
        previous: Option<DigestRow>,
        files: Vec<delivery::Undigested>,
        final_of: Option<i64>,
    ) -> Result<bool, DeliveryError> {
        let trail = &owner.trail;
        let arn = trail.arn();
        if now <= start {
            return Ok(false);
        }
        let end = now.floor();
        if end <= start.floor() || last.is_some_and(|d| end <= d.end_time.floor()) {
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
        // Where the files are, by the names their store knows (an external bucket may be
        // configured under another name than it has there).
        let stored = |b: &str| self.putter.external.store_name(b);
        let digest = Digest {
            aws_account_id: trail.account.clone(),
            digest_start_time: iso_seconds(start.floor() as i64),
            digest_end_time: iso_seconds(end as i64),
            digest_s3_bucket: stored(&trail.s3_bucket_name),
            digest_s3_object: key.clone(),
            digest_public_key_fingerprint: signing_key.fingerprint.clone(),
            digest_signature_algorithm: "SHA256withRSA".to_owned(),
            newest_event_time: files.iter().map(|f| f.newest.clone()).max(),
            oldest_event_time: files.iter().map(|f| f.oldest.clone()).min(),
            previous_digest_s3_bucket: previous.as_ref().map(|d| stored(&d.bucket)),
            previous_digest_s3_object: previous.as_ref().map(|d| d.key.clone()),
            previous_digest_hash_value: previous.as_ref().map(|d| d.sha256.clone()),
            previous_digest_hash_algorithm: previous.as_ref().map(|_| "SHA-256".to_owned()),
            previous_digest_signature: previous.as_ref().map(|d| d.signature.clone()),
            log_files: files
                .iter()
                .map(|f| LogFileEntry {
                    s3_bucket: stored(&f.bucket),
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
        let target = Target {
            bucket: trail.s3_bucket_name.clone(),
            key: key.clone(),
            trail_arn: arn.clone(),
            account: trail.account.clone(),
            meta: BTreeMap::from([
                ("signature".to_owned(), signature.clone()),
                ("signature-algorithm".to_owned(), "SHA256withRSA".to_owned()),
            ]),
            region: trail.home_region.clone(),
            // "Enabling server-side encryption encrypts the log files but not the digest
            // files with SSE-KMS. Digest files are encrypted with Amazon S3-managed
            // encryption keys (SSE-S3)" (CloudTrail User Guide; kms8): a digest never
            // depends on the trail's key, so a disabled or deleted key neither holds the
            // chain back nor makes it unreadable.
            kms_key_arn: None,
        };
        let row = DigestRow {
            trail_arn: arn.clone(),
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
        let live = owner.retired.is_none();
        let retired = owner.retired;
        let home = trail.home_region.clone();
        let digest_region = region.to_owned();
        let gz = records::gzip(&bytes);
        self.putter
            .put(
                &target,
                Box::new(move |sink: &mut dyn Write| Ok(sink.write_all(&gz)?)),
                now,
                move |c, _: &()| {
                    delivery::insert_digest(c, &row)?;
                    delivery::mark_digested(c, &ids, end)?;
                    if let Some(end_seq) = final_of {
                        note_final(c, &arn, retired, &home, &digest_region, end_seq)?;
                    }
                    // The trail's own status is its home region's: another region's digest
                    // is that region's status (GetTrailStatus there; digest6 D8).
                    if live && digest_region == home {
                        update_trail(c, &arn, |t| {
                            t.status.delivery.latest_digest_delivery_time = Some(now);
                            t.status.delivery.latest_digest_delivery_error = None;
                        })?;
                    }
                    Ok(())
                },
            )
            .await?;
        Ok(true)
    }
}

/// When logging stopped, if that stop is owed a final digest: it came at or after the chain's
/// start and no digest of the chain ends after it.
/// (Digest times are whole seconds: a digest ending in the stop's second is its final one,
/// digest6 D9.)
fn final_owed(stopped: Option<f64>, chain_start: f64, previous: &Option<DigestRow>) -> Option<f64> {
    stopped.filter(|&stop| {
        stop >= chain_start
            && previous
                .as_ref()
                .is_none_or(|d| d.end_time.floor() < stop.floor())
    })
}

/// Notes that the final digest of the stop `end_seq` is written in `region`, and drops the
/// stops whose finals are all written (every region they are owed in), except the newest
/// (which tells a stopped trail its chain has ended).
fn note_final(
    c: &cairn_store::Connection,
    arn: &str,
    retired: Option<i64>,
    home: &str,
    region: &str,
    end_seq: i64,
) -> cairn_store::StoreResult<()> {
    let mut owed: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    let stops = match retired {
        None => cairn_model::trail::TrailArn::parse(arn)
            .map(|p| cairn_store::trails::get(c, &p.account, &p.region, &p.name))
            .transpose()?
            .flatten(),
        Some(id) => delivery::retired(c)?
            .into_iter()
            .find(|r| r.id == id)
            .map(|r| r.trail),
    }
    .map(|t| t.status.owed_finals)
    .unwrap_or_default();
    for f in &stops {
        let mut regions: BTreeSet<String> = delivery::regions_through(c, arn, retired, f.end_seq)?
            .into_iter()
            .collect();
        regions.insert(home.to_owned());
        owed.insert(f.end_seq, regions);
    }
    let change = |t: &mut Trail| {
        let finals = &mut t.status.owed_finals;
        if let Some(f) = finals.iter_mut().find(|f| f.end_seq == end_seq) {
            f.written.insert(region.to_owned());
        }
        let newest = finals.last().map(|f| f.end_seq);
        finals.retain(|f| {
            Some(f.end_seq) == newest
                || owed
                    .get(&f.end_seq)
                    .is_some_and(|o| !o.is_subset(&f.written))
        });
    };
    match retired {
        None => update_trail(c, arn, change),
        Some(id) => delivery::update_retired_trail(c, id, change),
    }
}
/// How far behind a chain's start or last digest the clock may be without a warning.
const CLOCK_SLACK_SECS: f64 = 5.0;

/// Warns, once while it lasts, that the clock is behind a trail's last digest in a region
/// (the system clock stepped back): its digests wait until the clock passes that digest's
/// end, and without this nothing would say why none came (upgrade2). Returns whether it
/// warned. A chain started a moment after the delivery pass read the clock (a StartLogging
/// racing the pass) is no clock step: less than [`CLOCK_SLACK_SECS`] behind is not warned
/// of (digest6 D10).
fn clock_behind(trail: &str, region: &str, now: f64, last_end: f64) -> bool {
    static BEHIND: std::sync::Mutex<BTreeSet<(String, String)>> =
        std::sync::Mutex::new(BTreeSet::new());
    let Ok(mut behind) = BEHIND.lock() else {
        return false;
    };
    let key = (trail.to_owned(), region.to_owned());
    if now + CLOCK_SLACK_SECS < last_end {
        if behind.insert(key) {
            tracing::warn!(
                trail,
                region,
                behind_secs = last_end - now,
                "the clock is behind this trail's last digest: its next digest waits until the clock passes that digest's end"
            );
            return true;
        }
    } else if behind.remove(&key) {
        tracing::info!(
            trail,
            region,
            "the clock has passed the trail's last digest again"
        );
    }
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_clock_behind_the_last_digest_is_warned_of_once_while_it_lasts() {
        let (t, r) = (
            "arn:aws:cloudtrail:us-east-1:123456789012:trail/behind",
            "us-east-1",
        );
        assert!(super::clock_behind(t, r, 100.0, 500.0), "warned");
        assert!(!super::clock_behind(t, r, 150.0, 500.0), "once");
        assert!(!super::clock_behind(t, r, 600.0, 500.0), "caught up");
        assert!(
            super::clock_behind(t, r, 200.0, 700.0),
            "behind again: warned again"
        );
        assert!(!super::clock_behind(t, "eu-west-1", 900.0, 700.0));
        // A StartLogging a moment after the pass read the clock is no clock step (D10).
        assert!(!super::clock_behind(t, "ap-south-1", 1000.0, 1000.2));
    }
}
