//! Bucket default-encryption configurations (PutBucketEncryption), one per bucket, stored as
//! the JSON the core writes. A bucket without one has S3's default (SSE-S3); the row goes
//! with its bucket.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// Sets a bucket's configuration (JSON).
pub fn set(conn: &Connection, bucket: &str, config: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO bucket_encryption (bucket, config) VALUES (?1, ?2)
         ON CONFLICT (bucket) DO UPDATE SET config = excluded.config",
    )?
    .execute(params![bucket, config])?;
    Ok(())
}

/// A bucket's configuration (JSON), if one was set.
pub fn get(conn: &Connection, bucket: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT config FROM bucket_encryption WHERE bucket = ?1")?
        .query_row([bucket], |r| r.get(0))
        .optional()?)
}

/// Removes a bucket's configuration (back to the default).
pub fn clear(conn: &Connection, bucket: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM bucket_encryption WHERE bucket = ?1")?
        .execute([bucket])?;
    Ok(())
}
