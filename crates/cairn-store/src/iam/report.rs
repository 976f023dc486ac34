//! The IAM credential report's state: the account's last generated report (its CSV text and
//! when it was made) and the root access key the server runs with (its id, never its secret,
//! and when this data dir first saw it: the report's `access_key_1_last_rotated` for root).
//! Both are small values in the `meta` table.

use rusqlite::Connection;

use crate::StoreResult;
use crate::meta;

const ROOT_KEY: &str = "iam.root_access_key";

fn report_key(account: &str) -> String {
    format!("iam.credential_report.{account}")
}

/// Notes the root access key the server runs with: kept with its first-seen time while the
/// same id is configured, restarted at `now` when another id replaces it.
pub fn note_root_key(conn: &Connection, access_key_id: &str, now: f64) -> StoreResult<()> {
    if root_key(conn)?.is_some_and(|(id, _)| id == access_key_id) {
        return Ok(());
    }
    meta::put(conn, ROOT_KEY, &format!("{access_key_id} {now}"))
}

/// The root access key id and when this data dir first saw it.
pub fn root_key(conn: &Connection) -> StoreResult<Option<(String, f64)>> {
    Ok(meta::get(conn, ROOT_KEY)?.and_then(|v| {
        let (id, since) = v.split_once(' ')?;
        Some((id.to_owned(), since.parse().ok()?))
    }))
}

/// Stores the account's credential report (CSV) made at `generated`.
pub fn put_report(conn: &Connection, account: &str, csv: &str, generated: f64) -> StoreResult<()> {
    meta::put(conn, &report_key(account), &format!("{generated}\n{csv}"))
}

/// The account's last credential report and when it was made.
pub fn report(conn: &Connection, account: &str) -> StoreResult<Option<(String, f64)>> {
    Ok(meta::get(conn, &report_key(account))?.and_then(|v| {
        let (when, csv) = v.split_once('\n')?;
        Some((csv.to_owned(), when.parse().ok()?))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_key_and_report_round_trip() {
        let (_d, conn) = super::super::test_support::open();
        assert_eq!(root_key(&conn).unwrap(), None);
        note_root_key(&conn, "AKIAROOT", 10.0).unwrap();
        note_root_key(&conn, "AKIAROOT", 20.0).unwrap();
        assert_eq!(root_key(&conn).unwrap(), Some(("AKIAROOT".into(), 10.0)));
        note_root_key(&conn, "AKIANEW", 30.0).unwrap();
        assert_eq!(root_key(&conn).unwrap(), Some(("AKIANEW".into(), 30.0)));
        assert_eq!(report(&conn, "123456789012").unwrap(), None);
        put_report(&conn, "123456789012", "user,arn\na,b\n", 5.5).unwrap();
        assert_eq!(
            report(&conn, "123456789012").unwrap(),
            Some(("user,arn\na,b\n".into(), 5.5))
        );
    }
}
