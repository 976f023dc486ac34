//! Account quotas a low-privilege caller could otherwise exhaust the store with (hostile12):
//! S3's 10,000 general purpose buckets per account and SNS's 100,000 standard topics per
//! account and region.

use cairn_model::{AccountId, Principal, Region};

use crate::context::{CallContext, Origin};
use crate::error::ErrorKind;

fn ctx(account: &str, region: &str) -> CallContext {
    CallContext {
        principal: Principal::Root {
            account: AccountId::parse(account).unwrap(),
            access_key_id: "AKIDROOT".into(),
            session: None,
        },
        region: Region::parse(region).unwrap(),
        now: 1_800_000_000.0,
        origin: Origin::default(),
    }
}

#[test]
fn an_account_holds_at_most_its_quota_of_buckets() {
    let conn = cairn_store::in_memory().unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST(?1 AS INTEGER))
         INSERT INTO buckets (name, account, region, created, policy)
         SELECT printf('quota-%05d', i), '111122223333', 'us-east-1', 1.0, NULL FROM n",
        [crate::buckets::MAX_BUCKETS.to_string()],
    )
    .unwrap();
    let ours = ctx("111122223333", "us-east-1");
    let refused = crate::buckets::create(&conn, &ours, "one-too-many", None, false);
    assert_eq!(refused.err().unwrap().kind, ErrorKind::S3TooManyBuckets);
    // Another account's quota is its own.
    let theirs = ctx("444455556666", "us-east-1");
    assert!(crate::buckets::create(&conn, &theirs, "theirs-1", None, false).is_ok());
}

#[test]
fn an_account_holds_at_most_its_quota_of_topics_per_region() {
    let conn = cairn_store::in_memory().unwrap();
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < CAST(?1 AS INTEGER))
         INSERT INTO sns_topics (arn, account, region, name, policy, created, attributes)
         SELECT printf('arn:aws:sns:us-east-1:111122223333:t%06d', i), '111122223333',
                'us-east-1', printf('t%06d', i), '{}', 1.0, '{}' FROM n",
        [crate::sns::MAX_TOPICS.to_string()],
    )
    .unwrap();
    let ours = ctx("111122223333", "us-east-1");
    let refused = crate::sns::create_topic(&conn, &ours, "one-too-many", &[], &[]);
    assert_eq!(
        refused.err().unwrap().kind,
        ErrorKind::SnsTopicLimitExceeded
    );
    // CreateTopic of an existing topic still answers its ARN; another region has its own.
    assert!(crate::sns::create_topic(&conn, &ours, "t000001", &[], &[]).is_ok());
    let west = ctx("111122223333", "us-west-2");
    assert!(crate::sns::create_topic(&conn, &west, "elsewhere", &[], &[]).is_ok());
}
