//! Connection settings and the schema.

use rusqlite::Connection;

use crate::StoreResult;

/// WAL, full fsync on commit, foreign keys on. Savepoint journals live in memory, so a group
/// commit writes no sub-journal pages to a temp file. The WAL is checkpointed every 8192
/// pages (32 MiB) instead of SQLite's default 1000: fewer, larger checkpoints rewrite each hot
/// index page fewer times. (A separate checkpoint thread was tried: under constant writes the
/// WAL never fully drains and never restarts, so it grew without bound.)
pub(crate) fn configure(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8192;
         PRAGMA wal_autocheckpoint = 8192;",
    )?;
    Ok(())
}

/// Readers only need a busy timeout. (Memory-mapping the file and larger caches were
/// measured: in WAL mode every commit by the writer resets a reader's page cache, so they
/// bought nothing, and mapping cost page-table churn.)
pub(crate) fn configure_reader(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

const SCHEMA_V1: &str = "
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE iam_users (
    account TEXT NOT NULL, name TEXT NOT NULL, user_id TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (account, name));
CREATE TABLE iam_access_keys (
    access_key_id TEXT PRIMARY KEY, secret TEXT NOT NULL, account TEXT NOT NULL,
    user_name TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE trails (
    account TEXT NOT NULL, home_region TEXT NOT NULL, name TEXT NOT NULL,
    multi_region INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (account, home_region, name));
CREATE TABLE buckets (
    name TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,
    created REAL NOT NULL, policy TEXT);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE, event_time INTEGER NOT NULL,
    account TEXT NOT NULL, region TEXT NOT NULL, category TEXT NOT NULL,
    event_name TEXT NOT NULL, event_source TEXT NOT NULL, read_only TEXT NOT NULL,
    username TEXT NOT NULL, access_key_id TEXT NOT NULL, record TEXT NOT NULL);
CREATE INDEX events_by_time ON events (account, region, category, event_time);
CREATE INDEX events_by_name ON events (account, region, category, event_name, event_time);
CREATE INDEX events_by_source ON events (account, region, category, event_source, event_time);
CREATE INDEX events_by_read_only ON events (account, region, category, read_only, event_time);
CREATE INDEX events_by_username ON events (account, region, category, username, event_time);
CREATE INDEX events_by_key ON events (account, region, category, access_key_id, event_time);
CREATE INDEX events_by_age ON events (event_time);
CREATE TABLE event_resources (
    seq INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
    account TEXT NOT NULL, region TEXT NOT NULL, category TEXT NOT NULL, event_time INTEGER NOT NULL,
    resource_type TEXT NOT NULL, resource_name TEXT NOT NULL);
CREATE INDEX resources_by_seq ON event_resources (seq);
CREATE INDEX resources_by_type ON event_resources (account, region, category, resource_type, event_time, seq);
CREATE INDEX resources_by_name ON event_resources (account, region, category, resource_name, event_time, seq);
";

const SCHEMA_V2: &str = "
ALTER TABLE buckets ADD COLUMN lifecycle TEXT;
CREATE TABLE objects (
    bucket TEXT NOT NULL, key TEXT NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL,
    etag TEXT NOT NULL, last_modified REAL NOT NULL, meta TEXT NOT NULL,
    PRIMARY KEY (bucket, key)) WITHOUT ROWID;
CREATE TABLE multipart_uploads (
    upload_id TEXT PRIMARY KEY, bucket TEXT NOT NULL, key TEXT NOT NULL,
    initiated REAL NOT NULL, meta TEXT NOT NULL);
CREATE INDEX multipart_by_bucket ON multipart_uploads (bucket, key, initiated);
CREATE TABLE multipart_parts (
    upload_id TEXT NOT NULL REFERENCES multipart_uploads(upload_id) ON DELETE CASCADE,
    part_number INTEGER NOT NULL, file TEXT NOT NULL, size INTEGER NOT NULL, etag TEXT NOT NULL,
    last_modified REAL NOT NULL,
    PRIMARY KEY (upload_id, part_number));
";

const SCHEMA_V3: &str = "
CREATE TABLE delivery_cursors (trail_arn TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY, trail_arn TEXT NOT NULL, region TEXT NOT NULL,
    bucket TEXT NOT NULL, key TEXT NOT NULL UNIQUE, seqs TEXT NOT NULL, state TEXT NOT NULL,
    sha256 TEXT, oldest TEXT, newest TEXT, delivered_at REAL, digest_end REAL);
CREATE INDEX deliveries_by_state ON deliveries (state, id);
CREATE INDEX deliveries_for_digest ON deliveries (trail_arn, region, digest_end, delivered_at);
CREATE TABLE digests (
    trail_arn TEXT NOT NULL, region TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL,
    start_time REAL NOT NULL, end_time REAL NOT NULL, sha256 TEXT NOT NULL, signature TEXT NOT NULL,
    chain_start INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, region, end_time));
CREATE TABLE signing_keys (
    fingerprint TEXT PRIMARY KEY, region TEXT NOT NULL, public_der BLOB NOT NULL,
    private_file TEXT NOT NULL, valid_from REAL NOT NULL, valid_to REAL NOT NULL);
CREATE INDEX signing_keys_by_region ON signing_keys (region, valid_from);
";

const SCHEMA_V4: &str = "
CREATE TABLE sns_topics (
    arn TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
    policy TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE sns_subscriptions (
    arn TEXT PRIMARY KEY, topic_arn TEXT NOT NULL REFERENCES sns_topics(arn) ON DELETE CASCADE,
    protocol TEXT NOT NULL, endpoint TEXT NOT NULL, token TEXT NOT NULL, confirmed INTEGER NOT NULL);
CREATE INDEX sns_subscriptions_by_topic ON sns_subscriptions (topic_arn);
";

/// IAM and STS (users with paths and boundaries, access keys with sealed secrets, groups,
/// roles, managed policies with versions, attachments, inline policies, tags, STS sessions).
/// Users and keys are rebuilt from the version 1 tables; plaintext secrets are sealed right
/// after ([`crate::iam::seal_legacy_secrets`]).
const SCHEMA_V7: &str = "
CREATE TABLE iam_users_v7 (
    user_id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
    path TEXT NOT NULL, created REAL NOT NULL, boundary_arn TEXT,
    UNIQUE (account, name_key));
INSERT INTO iam_users_v7 (user_id, account, name, name_key, path, created)
    SELECT user_id, account, name, lower(name), '/', created FROM iam_users;
CREATE TABLE iam_access_keys_v7 (
    access_key_id TEXT PRIMARY KEY, account TEXT NOT NULL, user_id TEXT NOT NULL,
    secret BLOB NOT NULL, sealed INTEGER NOT NULL, status TEXT NOT NULL, created REAL NOT NULL);
INSERT INTO iam_access_keys_v7 (access_key_id, account, user_id, secret, sealed, status, created)
    SELECT k.access_key_id, k.account, u.user_id, CAST(k.secret AS BLOB), 0, k.status, k.created
    FROM iam_access_keys k JOIN iam_users u ON u.account = k.account AND u.name = k.user_name;
DROP TABLE iam_access_keys;
DROP TABLE iam_users;
ALTER TABLE iam_users_v7 RENAME TO iam_users;
ALTER TABLE iam_access_keys_v7 RENAME TO iam_access_keys;
CREATE INDEX iam_access_keys_by_user ON iam_access_keys (user_id, created);
CREATE TABLE iam_groups (
    group_id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
    path TEXT NOT NULL, created REAL NOT NULL,
    UNIQUE (account, name_key));
CREATE TABLE iam_group_members (
    group_id TEXT NOT NULL, user_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (group_id, user_id));
CREATE INDEX iam_group_members_by_user ON iam_group_members (user_id, seq);
CREATE TABLE iam_roles (
    role_id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
    path TEXT NOT NULL, created REAL NOT NULL, trust_policy TEXT NOT NULL, description TEXT,
    max_session INTEGER NOT NULL, boundary_arn TEXT, last_used REAL, last_used_region TEXT,
    UNIQUE (account, name_key));
CREATE TABLE iam_policies (
    policy_id TEXT PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL, name_key TEXT NOT NULL,
    path TEXT NOT NULL, arn TEXT NOT NULL UNIQUE, description TEXT, created REAL NOT NULL,
    updated REAL NOT NULL, default_version TEXT NOT NULL, next_version INTEGER NOT NULL,
    UNIQUE (account, name_key));
CREATE TABLE iam_policy_versions (
    policy_id TEXT NOT NULL, version_id TEXT NOT NULL, version_num INTEGER NOT NULL,
    document TEXT NOT NULL, created REAL NOT NULL,
    PRIMARY KEY (policy_id, version_id));
CREATE TABLE iam_attachments (
    owner_id TEXT NOT NULL, owner_kind TEXT NOT NULL, policy_arn TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (owner_id, policy_arn));
CREATE INDEX iam_attachments_by_policy ON iam_attachments (policy_arn);
CREATE TABLE iam_inline_policies (
    owner_id TEXT NOT NULL, owner_kind TEXT NOT NULL, name TEXT NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (owner_id, name));
CREATE TABLE iam_tags (
    owner_id TEXT NOT NULL, key TEXT NOT NULL, key_lower TEXT NOT NULL, value TEXT NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (owner_id, key_lower));
CREATE TABLE sts_sessions (
    access_key_id TEXT PRIMARY KEY, account TEXT NOT NULL, secret BLOB NOT NULL,
    token_hash TEXT NOT NULL, kind TEXT NOT NULL, subject_id TEXT NOT NULL, session_name TEXT,
    issued REAL NOT NULL, expires REAL NOT NULL, mfa INTEGER NOT NULL, policy TEXT,
    policy_arns TEXT NOT NULL, tags TEXT NOT NULL, transitive_tag_keys TEXT NOT NULL,
    source_identity TEXT, subject_name TEXT NOT NULL, subject_path TEXT NOT NULL);
CREATE INDEX sts_sessions_by_expiry ON sts_sessions (expires);
";

/// Applies schema versions the database has not seen yet.
pub(crate) fn migrate(conn: &Connection) -> StoreResult<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 1 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V1} PRAGMA user_version = 1; COMMIT;"
        ))?;
    }
    if version < 2 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V2} PRAGMA user_version = 2; COMMIT;"
        ))?;
    }
    if version < 3 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V3} PRAGMA user_version = 3; COMMIT;"
        ))?;
    }
    if version < 4 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V4} PRAGMA user_version = 4; COMMIT;"
        ))?;
    }
    if version < 7 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V7} PRAGMA user_version = 7; COMMIT;"
        ))?;
    }
    if version < 12 {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 12; COMMIT;",
            crate::cloudformation::SCHEMA_V12
        ))?;
    }
    crate::iam::seal_legacy_secrets(conn)?;
    Ok(())
}
