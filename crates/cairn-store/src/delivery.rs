//! Delivery bookkeeping: per-trail cursors over the event log, the delivery ledger (one row
//! per log file, planned before it is written), digests and signing keys.
//!
//! Exactly-once: planning a file advances the trail's cursor and inserts the `pending` row
//! naming its event seqs and key in one transaction. Writing the file is idempotent (same
//! key, same bytes), so a crash between plan and `done` re-writes the same file.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// The cursor of a trail: every event with a smaller or equal seq has been planned.
pub fn cursor(conn: &Connection, trail_arn: &str) -> StoreResult<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT seq FROM delivery_cursors WHERE trail_arn = ?1")?
        .query_row([trail_arn], |r| r.get(0))
        .optional()?)
}

/// Sets a trail's cursor.
pub fn set_cursor(conn: &Connection, trail_arn: &str, seq: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO delivery_cursors (trail_arn, seq) VALUES (?1, ?2)
         ON CONFLICT (trail_arn) DO UPDATE SET seq = excluded.seq",
    )?
    .execute(params![trail_arn, seq])?;
    Ok(())
}

/// The highest event seq.
pub fn max_seq(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?)
}

/// (seq, region, record) of events with seq in `(after, upto]`, in seq order.
pub fn events_between(
    conn: &Connection,
    after: i64,
    upto: i64,
) -> StoreResult<Vec<(i64, String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, region, record FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
    )?;
    let rows = stmt.query_map(params![after, upto], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Records of the given seqs, in seq order.
pub fn records(conn: &Connection, seqs: &[i64]) -> StoreResult<Vec<String>> {
    let json = serde_json::to_string(seqs).expect("integers serialise");
    let mut stmt = conn.prepare_cached(
        "SELECT record FROM events WHERE seq IN (SELECT value FROM json_each(?1)) ORDER BY seq",
    )?;
    let rows = stmt.query_map([json], |r| r.get(0))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A planned or finished log file.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// Trail.
    pub trail_arn: String,
    /// Region folder.
    pub region: String,
    /// Bucket.
    pub bucket: String,
    /// Object key.
    pub key: String,
    /// Event seqs it carries.
    pub seqs: Vec<i64>,
}

/// Plans a file (state `pending`).
pub fn plan(
    conn: &Connection,
    trail_arn: &str,
    region: &str,
    bucket: &str,
    key: &str,
    seqs: &[i64],
) -> StoreResult<i64> {
    conn.prepare_cached(
        "INSERT INTO deliveries (trail_arn, region, bucket, key, seqs, state) VALUES (?1, ?2, ?3, ?4, ?5, 'pending')",
    )?
    .execute(params![trail_arn, region, bucket, key, serde_json::to_string(seqs).expect("integers serialise")])?;
    Ok(conn.last_insert_rowid())
}

/// Files planned but not yet written.
pub fn pending(conn: &Connection) -> StoreResult<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, trail_arn, region, bucket, key, seqs FROM deliveries WHERE state = 'pending' ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| {
        let seqs: String = r.get(5)?;
        Ok(Delivery {
            id: r.get(0)?,
            trail_arn: r.get(1)?,
            region: r.get(2)?,
            bucket: r.get(3)?,
            key: r.get(4)?,
            seqs: serde_json::from_str(&seqs).unwrap_or_default(),
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Marks a file written.
pub fn mark_done(
    conn: &Connection,
    id: i64,
    sha256: &str,
    oldest: &str,
    newest: &str,
    delivered_at: f64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET state = 'done', sha256 = ?2, oldest = ?3, newest = ?4, delivered_at = ?5 WHERE id = ?1",
    )?
    .execute(params![id, sha256, oldest, newest, delivered_at])?;
    Ok(())
}

/// A written file not yet listed in a digest.
#[derive(Clone, Debug, PartialEq)]
pub struct Undigested {
    /// Row id.
    pub id: i64,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Hex SHA-256 of the uncompressed file.
    pub sha256: String,
    /// Oldest event time.
    pub oldest: String,
    /// Newest event time.
    pub newest: String,
}

/// Written files of a trail and region delivered at or before `upto` and not digested yet.
pub fn undigested(
    conn: &Connection,
    trail_arn: &str,
    region: &str,
    upto: f64,
) -> StoreResult<Vec<Undigested>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, bucket, key, sha256, oldest, newest FROM deliveries
         WHERE trail_arn = ?1 AND region = ?2 AND state = 'done' AND digest_end IS NULL AND delivered_at <= ?3
         ORDER BY id",
    )?;
    let rows = stmt.query_map(params![trail_arn, region, upto], |r| {
        Ok(Undigested {
            id: r.get(0)?,
            bucket: r.get(1)?,
            key: r.get(2)?,
            sha256: r.get(3)?,
            oldest: r.get(4)?,
            newest: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Marks files as listed in the digest ending at `end`.
pub fn mark_digested(conn: &Connection, ids: &[i64], end: f64) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached("UPDATE deliveries SET digest_end = ?2 WHERE id = ?1")?;
    for id in ids {
        stmt.execute(params![id, end])?;
    }
    Ok(())
}

/// A delivered digest.
#[derive(Clone, Debug, PartialEq)]
pub struct DigestRow {
    /// Trail.
    pub trail_arn: String,
    /// Region covered.
    pub region: String,
    /// Bucket.
    pub bucket: String,
    /// Key.
    pub key: String,
    /// Period start.
    pub start_time: f64,
    /// Period end.
    pub end_time: f64,
    /// Hex SHA-256 of its uncompressed bytes.
    pub sha256: String,
    /// Hex signature.
    pub signature: String,
    /// Whether it starts a chain.
    pub chain_start: bool,
}

/// The newest digest of a trail and region.
pub fn last_digest(
    conn: &Connection,
    trail_arn: &str,
    region: &str,
) -> StoreResult<Option<DigestRow>> {
    Ok(conn
        .prepare_cached(
            "SELECT trail_arn, region, bucket, key, start_time, end_time, sha256, signature, chain_start
             FROM digests WHERE trail_arn = ?1 AND region = ?2 ORDER BY end_time DESC LIMIT 1",
        )?
        .query_row(params![trail_arn, region], |r| {
            Ok(DigestRow {
                trail_arn: r.get(0)?,
                region: r.get(1)?,
                bucket: r.get(2)?,
                key: r.get(3)?,
                start_time: r.get(4)?,
                end_time: r.get(5)?,
                sha256: r.get(6)?,
                signature: r.get(7)?,
                chain_start: r.get(8)?,
            })
        })
        .optional()?)
}

/// Records a delivered digest.
pub fn insert_digest(conn: &Connection, d: &DigestRow) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO digests (trail_arn, region, bucket, key, start_time, end_time, sha256, signature, chain_start)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![d.trail_arn, d.region, d.bucket, d.key, d.start_time, d.end_time, d.sha256, d.signature, d.chain_start])?;
    Ok(())
}

/// A signing key's public part.
#[derive(Clone, Debug, PartialEq)]
pub struct SigningKey {
    /// Hex MD5 of `public_der`.
    pub fingerprint: String,
    /// Region.
    pub region: String,
    /// PKCS#1 RSAPublicKey DER.
    pub public_der: Vec<u8>,
    /// Private key file name (PKCS#8 DER, mode 0600) under the keys directory.
    pub private_file: String,
    /// Validity start, epoch seconds.
    pub valid_from: f64,
    /// Validity end, epoch seconds.
    pub valid_to: f64,
}

fn key_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SigningKey> {
    Ok(SigningKey {
        fingerprint: r.get(0)?,
        region: r.get(1)?,
        public_der: r.get(2)?,
        private_file: r.get(3)?,
        valid_from: r.get(4)?,
        valid_to: r.get(5)?,
    })
}

/// Stores a key.
pub fn insert_key(conn: &Connection, k: &SigningKey) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO signing_keys (fingerprint, region, public_der, private_file, valid_from, valid_to) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![k.fingerprint, k.region, k.public_der, k.private_file, k.valid_from, k.valid_to])?;
    Ok(())
}

/// The region's key valid at `at` (newest first).
pub fn current_key(conn: &Connection, region: &str, at: f64) -> StoreResult<Option<SigningKey>> {
    Ok(conn
        .prepare_cached(
            "SELECT fingerprint, region, public_der, private_file, valid_from, valid_to FROM signing_keys
             WHERE region = ?1 AND valid_from <= ?2 AND valid_to > ?2 ORDER BY valid_from DESC LIMIT 1",
        )?
        .query_row(params![region, at], key_row)
        .optional()?)
}

/// Keys of a region whose validity overlaps `[start, end]`, oldest first.
pub fn keys_overlapping(
    conn: &Connection,
    region: &str,
    start: f64,
    end: f64,
) -> StoreResult<Vec<SigningKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT fingerprint, region, public_der, private_file, valid_from, valid_to FROM signing_keys
         WHERE region = ?1 AND valid_from <= ?3 AND valid_to >= ?2 ORDER BY valid_from",
    )?;
    let rows = stmt.query_map(params![region, start, end], key_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
