//! Bucket records: owner, region, policy and lifecycle; each bucket's versioning state and
//! public access block (`bucket_settings`) and its tag set (`bucket_tags`), both deleted with
//! the bucket. Object data lives on disk
//! beside the database.

use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreResult;

/// A stored bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    /// Bucket name.
    pub name: String,
    /// Owning account.
    pub account: String,
    /// Region (location constraint; `us-east-1` when none was given).
    pub region: String,
    /// Creation time, epoch seconds.
    pub created: f64,
    /// Bucket policy document, as stored.
    pub policy: Option<String>,
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Bucket> {
    Ok(Bucket {
        name: r.get(0)?,
        account: r.get(1)?,
        region: r.get(2)?,
        created: r.get(3)?,
        policy: r.get(4)?,
    })
}

/// Fetches a bucket.
pub fn get(conn: &Connection, name: &str) -> StoreResult<Option<Bucket>> {
    Ok(conn
        .prepare_cached(
            "SELECT name, account, region, created, policy FROM buckets WHERE name = ?1",
        )?
        .query_row([name], row)
        .optional()?)
}

/// Inserts a bucket.
pub fn insert(conn: &Connection, bucket: &Bucket) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO buckets (name, account, region, created, policy) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        bucket.name,
        bucket.account,
        bucket.region,
        bucket.created,
        bucket.policy
    ])?;
    Ok(())
}

/// Deletes a bucket record.
pub fn delete(conn: &Connection, name: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM buckets WHERE name = ?1")?
        .execute([name])?;
    Ok(())
}

/// Sets or clears the policy.
pub fn set_policy(conn: &Connection, name: &str, policy: Option<&str>) -> StoreResult<()> {
    conn.prepare_cached("UPDATE buckets SET policy = ?2 WHERE name = ?1")?
        .execute(params![name, policy])?;
    Ok(())
}

/// Buckets of an account, by name.
pub fn list(conn: &Connection, account: &str) -> StoreResult<Vec<Bucket>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, account, region, created, policy FROM buckets WHERE account = ?1 ORDER BY name",
    )?;
    let rows = stmt.query_map([account], row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// How many buckets an account has.
pub fn count(conn: &Connection, account: &str) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached("SELECT COUNT(*) FROM buckets WHERE account = ?1")?
        .query_row([account], |r| r.get(0))?)
}

/// Sets or clears the lifecycle configuration (JSON).
pub fn set_lifecycle(conn: &Connection, name: &str, lifecycle: Option<&str>) -> StoreResult<()> {
    conn.prepare_cached("UPDATE buckets SET lifecycle = ?2 WHERE name = ?1")?
        .execute(params![name, lifecycle])?;
    Ok(())
}

/// The lifecycle configuration (JSON), if any.
pub fn lifecycle(conn: &Connection, name: &str) -> StoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT lifecycle FROM buckets WHERE name = ?1")?
        .query_row([name], |r| r.get::<_, Option<String>>(0))
        .optional()?
        .flatten())
}

/// Every bucket with a lifecycle configuration: (name, JSON).
pub fn with_lifecycle(conn: &Connection) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, lifecycle FROM buckets WHERE lifecycle IS NOT NULL ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// A bucket's versioning state as PutBucketVersioning last set it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Versioning {
    /// `Enabled` or `Suspended`; `None` while the bucket was never versioned.
    pub status: Option<String>,
    /// `MFADelete` as last put (`Disabled`), if it ever was.
    pub mfa_delete: Option<String>,
}

/// The versioning state (default when the bucket has none or does not exist).
pub fn versioning(conn: &Connection, name: &str) -> StoreResult<Versioning> {
    Ok(conn
        .prepare_cached("SELECT versioning, mfa_delete FROM bucket_settings WHERE bucket = ?1")?
        .query_row([name], |r| {
            Ok(Versioning {
                status: r.get(0)?,
                mfa_delete: r.get(1)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// Sets the versioning state.
pub fn set_versioning(conn: &Connection, name: &str, v: &Versioning) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO bucket_settings (bucket, versioning, mfa_delete) VALUES (?1, ?2, ?3)
         ON CONFLICT (bucket) DO UPDATE SET versioning = excluded.versioning,
         mfa_delete = excluded.mfa_delete",
    )?
    .execute(params![name, v.status, v.mfa_delete])?;
    Ok(())
}

/// Version 29: whether a bucket's object-ownership controls were deleted
/// (DeleteBucketOwnershipControls; PutBucketOwnershipControls sets them again). Every bucket
/// has them, `BucketOwnerEnforced`, until then.
pub(crate) const SCHEMA_V29: &str = "
ALTER TABLE bucket_settings ADD COLUMN ownership_controls_deleted INTEGER NOT NULL DEFAULT 0;
";

/// Whether the bucket's ownership controls were deleted.
pub fn ownership_controls_deleted(conn: &Connection, name: &str) -> StoreResult<bool> {
    Ok(conn
        .prepare_cached("SELECT ownership_controls_deleted FROM bucket_settings WHERE bucket = ?1")?
        .query_row([name], |r| r.get::<_, i64>(0))
        .optional()?
        .is_some_and(|d| d != 0))
}

/// Records that the bucket's ownership controls were deleted (`true`) or put (`false`).
pub fn set_ownership_controls_deleted(
    conn: &Connection,
    name: &str,
    deleted: bool,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO bucket_settings (bucket, ownership_controls_deleted) VALUES (?1, ?2)
         ON CONFLICT (bucket) DO UPDATE SET
         ownership_controls_deleted = excluded.ownership_controls_deleted",
    )?
    .execute(params![name, i64::from(deleted)])?;
    Ok(())
}

/// A bucket's public access block (PutPublicAccessBlock).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PublicAccessBlock {
    /// `BlockPublicAcls`.
    pub block_public_acls: bool,
    /// `IgnorePublicAcls`.
    pub ignore_public_acls: bool,
    /// `BlockPublicPolicy`.
    pub block_public_policy: bool,
    /// `RestrictPublicBuckets`.
    pub restrict_public_buckets: bool,
}

impl PublicAccessBlock {
    fn bits(self) -> i64 {
        i64::from(self.block_public_acls)
            | i64::from(self.ignore_public_acls) << 1
            | i64::from(self.block_public_policy) << 2
            | i64::from(self.restrict_public_buckets) << 3
    }

    fn from_bits(b: i64) -> Self {
        Self {
            block_public_acls: b & 1 != 0,
            ignore_public_acls: b & 2 != 0,
            block_public_policy: b & 4 != 0,
            restrict_public_buckets: b & 8 != 0,
        }
    }
}

/// The public access block, if one is set.
pub fn public_access_block(
    conn: &Connection,
    name: &str,
) -> StoreResult<Option<PublicAccessBlock>> {
    Ok(conn
        .prepare_cached("SELECT public_access_block FROM bucket_settings WHERE bucket = ?1")?
        .query_row([name], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten()
        .map(PublicAccessBlock::from_bits))
}

/// Sets (or with `None` removes) the public access block.
pub fn set_public_access_block(
    conn: &Connection,
    name: &str,
    block: Option<PublicAccessBlock>,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO bucket_settings (bucket, public_access_block) VALUES (?1, ?2)
         ON CONFLICT (bucket) DO UPDATE SET public_access_block = excluded.public_access_block",
    )?
    .execute(params![name, block.map(PublicAccessBlock::bits)])?;
    Ok(())
}

/// The bucket's tags, by key (empty when it has none).
pub fn tags(conn: &Connection, name: &str) -> StoreResult<Vec<(String, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT tag_key, tag_value FROM bucket_tags WHERE bucket = ?1 ORDER BY tag_key",
    )?;
    let rows = stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

/// Replaces the bucket's tag set (an empty `tags` removes it).
pub fn set_tags(conn: &Connection, name: &str, tags: &[(String, String)]) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM bucket_tags WHERE bucket = ?1")?
        .execute([name])?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO bucket_tags (bucket, tag_key, tag_value) VALUES (?1, ?2, ?3)",
    )?;
    for (k, v) in tags {
        insert.execute(params![name, k, v])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_replaced_whole_and_go_with_the_bucket() {
        let conn = Connection::open_in_memory().unwrap();
        crate::schema::configure(&conn).unwrap();
        crate::schema::migrate(&conn).unwrap();
        let b = Bucket {
            name: "b".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            created: 0.0,
            policy: None,
        };
        insert(&conn, &b).unwrap();
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        set_tags(&conn, "b", &[pair("z", "1"), pair("a", "")]).unwrap();
        assert_eq!(
            tags(&conn, "b").unwrap(),
            vec![pair("a", ""), pair("z", "1")]
        );
        set_tags(&conn, "b", &[pair("k", "v")]).unwrap();
        assert_eq!(tags(&conn, "b").unwrap(), vec![pair("k", "v")]);
        delete(&conn, "b").unwrap();
        insert(&conn, &b).unwrap();
        assert!(tags(&conn, "b").unwrap().is_empty());
    }
}
