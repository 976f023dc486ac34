//! Planning Insights files: each trail's Insights events not yet delivered become one file
//! per region under `CloudTrail-Insight/`, planned in the same ledger as its log files. The
//! worker then writes them like log files (bucket-policy check, SNS notification) and the
//! trail's digests list them. Planning a file and marking its events delivered commit
//! together, so an Insights event lands in exactly one file.

use std::collections::BTreeMap;

use cairn_logfile::keys;
use cairn_store::insights as store;
use cairn_store::{Connection, StoreResult, delivery, trails};
use sha2::{Digest, Sha256};

/// Events per Insights file at most.
const MAX_EVENTS: usize = 1000;

fn unique(seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    Sha256::digest(seed.as_bytes())
        .iter()
        .take(16)
        .map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char)
        .collect()
}

/// Plans the Insights files due at `now` (on the writer); returns how many.
pub(crate) fn plan(conn: &Connection, now: f64) -> StoreResult<usize> {
    let mut planned = 0;
    let live = trails::all(conn)?;
    for arn in store::trails_with_pending(conn)? {
        let Some(trail) = live.iter().find(|t| t.arn() == arn) else {
            continue;
        };
        let mut by_region: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for e in store::undelivered(conn, &arn, MAX_EVENTS)? {
            by_region.entry(e.region).or_default().push(e.seq);
        }
        for (region, seqs) in by_region {
            let seed = format!("{arn}|insight|{region}|{seqs:?}");
            let key = keys::insight_file(
                trail.s3_key_prefix.as_deref(),
                &trail.account,
                &region,
                now.floor() as i64,
                &unique(&seed),
            );
            delivery::plan(conn, &arn, &region, &trail.s3_bucket_name, &key, &seqs)?;
            store::mark_delivered(conn, &arn, &seqs, &key)?;
            planned += 1;
        }
    }
    Ok(planned)
}
