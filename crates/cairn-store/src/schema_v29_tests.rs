//! Version 29's data step: KMS grants bound to the principals they named.

/// Version 29 binds KMS grants stored with a user's or role's ARN to its unique id, keeps
/// other principals, and may run again (a store set back by hand).
#[test]
fn v29_binds_grants_to_the_principals_they_named() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    crate::schema::configure(&conn).unwrap();
    crate::schema::migrate_to(&conn, 28).unwrap();
    conn.execute_batch(
        "INSERT INTO iam_users (user_id, account, name, name_key, path, created)
             VALUES ('AIDAALICE', '111122223333', 'alice', 'alice', '/ops/', 0);
         INSERT INTO iam_roles (role_id, account, name, name_key, path, created, trust_policy, max_session)
             VALUES ('AROAREADER', '111122223333', 'reader', 'reader', '/', 0, '{}', 3600);
         INSERT INTO kms_grants (grant_id, key_id, created, grantee, retiring, issuing_account, operations)
             VALUES ('g1', 'k', 0, 'arn:aws:iam::111122223333:user/ops/alice',
                     'arn:aws:iam::111122223333:role/reader', 'a', '[]'),
                    ('g2', 'k', 0, 'arn:aws:iam::111122223333:user/gone', NULL, 'a', '[]'),
                    ('g3', 'k', 0, 'cloudtrail.amazonaws.com', NULL, 'a', '[]'),
                    ('g4', 'k', 0, 'arn:aws:sts::111122223333:assumed-role/reader/s1',
                     'arn:aws:sts::111122223333:assumed-role/gone/s2', 'a', '[]');",
    )
    .unwrap();
    crate::schema::migrate(&conn).unwrap();
    conn.execute_batch("PRAGMA user_version = 28;").unwrap();
    crate::schema::migrate(&conn).unwrap();
    let mut stmt = conn
        .prepare("SELECT grantee, retiring FROM kms_grants ORDER BY grant_id")
        .unwrap();
    let rows: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        rows,
        [
            ("AIDAALICE".to_owned(), Some("AROAREADER".to_owned())),
            ("arn:aws:iam::111122223333:user/gone".to_owned(), None),
            ("cloudtrail.amazonaws.com".to_owned(), None),
            (
                "AROAREADER:s1".to_owned(),
                Some("arn:aws:sts::111122223333:assumed-role/gone/s2".to_owned())
            ),
        ]
    );
}
