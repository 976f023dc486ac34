//! When each long-term access key was last used, by any call it signed: the service and
//! region of its newest authenticated request. The event log holds only the calls it records
//! (data events only when a trail selects them), so GetAccessKeyLastUsed and the credential
//! report read this too. The server notes uses in memory and writes them here every few
//! seconds, as AWS too reports last use some time after the call.

use rusqlite::Connection;

use crate::{StoreResult, meta};

fn key(access_key_id: &str) -> String {
    format!("access-key-last-used/{access_key_id}")
}

/// Keeps each use (`(key id, epoch seconds, service, region)`) newer than the one stored.
pub fn record(conn: &Connection, uses: &[(String, i64, String, String)]) -> StoreResult<()> {
    for (id, secs, service, region) in uses {
        if last(conn, id)?.is_some_and(|(t, _, _)| t > *secs) {
            continue;
        }
        meta::put(conn, &key(id), &format!("{secs} {service} {region}"))?;
    }
    Ok(())
}

/// The newest use stored for a key: epoch seconds, service, region.
pub fn last(conn: &Connection, access_key_id: &str) -> StoreResult<Option<(i64, String, String)>> {
    Ok(meta::get(conn, &key(access_key_id))?.and_then(|v| {
        let mut parts = v.splitn(3, ' ');
        let secs = parts.next()?.parse().ok()?;
        Some((secs, parts.next()?.to_owned(), parts.next()?.to_owned()))
    }))
}

/// Forgets a deleted key's use.
pub fn forget(conn: &Connection, access_key_id: &str) -> StoreResult<()> {
    meta::delete(conn, &key(access_key_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_use_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("t.db")).unwrap();
        store
            .write_blocking(|c| {
                let use_at =
                    |t: i64, s: &str| ("AKIAX".to_owned(), t, s.to_owned(), "us-east-1".to_owned());
                record(c, &[use_at(20, "s3")])?;
                record(c, &[use_at(10, "sns")])?;
                assert_eq!(
                    last(c, "AKIAX")?,
                    Some((20, "s3".into(), "us-east-1".into()))
                );
                record(c, &[use_at(30, "logs")])?;
                assert_eq!(last(c, "AKIAX")?.unwrap().1, "logs");
                forget(c, "AKIAX")?;
                assert_eq!(last(c, "AKIAX")?, None);
                Ok::<(), crate::StoreError>(())
            })
            .unwrap()
            .unwrap();
    }
}
