//! Connection settings and the schema.

use rusqlite::Connection;

use crate::StoreResult;

/// Prepared statements kept per connection. The store has a few hundred distinct statements;
/// rusqlite keeps 16 by default, so a job that mixes services (an event append beside
/// Insights counts, IAM reads beside a trail write) evicted and re-parsed its statements every
/// time: SQL parsing was about 6 % of the writer's CPU under the Insights benchmark.
const STATEMENT_CACHE: usize = 512;

/// WAL, full fsync on commit, foreign keys on. Savepoint journals live in memory, so a group
/// commit writes no sub-journal pages to a temp file. The WAL is checkpointed every 8192
/// pages (32 MiB) instead of SQLite's default 1000: fewer, larger checkpoints rewrite each hot
/// index page fewer times. (A separate checkpoint thread was tried: under constant writes the
/// WAL never fully drains and never restarts, so it grew without bound.) Once a checkpoint
/// lets the WAL restart, its file is cut back to 64 MiB (`journal_size_limit`): a WAL grown
/// while long reads held it (hostile16: 508 MB) gives its space back instead of keeping it.
pub(crate) fn configure(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    stable_plans(conn)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -8192;
         PRAGMA wal_autocheckpoint = 8192;
         PRAGMA journal_size_limit = 67108864;",
    )?;
    Ok(())
}

/// Readers only need a busy timeout. (Memory-mapping the file and larger caches were
/// measured: in WAL mode every commit by the writer resets a reader's page cache, so they
/// bought nothing, and mapping cost page-table churn.)
pub(crate) fn configure_reader(conn: &Connection) -> StoreResult<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    stable_plans(conn)?;
    Ok(())
}

/// The query planner's stability guarantee (`SQLITE_DBCONFIG_ENABLE_QPSG`): a plan does not
/// depend on the values bound to it. Without it, SQLite (built with STAT4) marks some
/// cached statements to be compiled again whenever a parameter is bound to a new value, so
/// the statement cache saved nothing for them: re-parsing the trails query of DescribeTrails
/// took 14 % of the server's CPU under load (BENCHMARKS.md, control plane).
fn stable_plans(conn: &Connection) -> StoreResult<()> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
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

/// Version 5: the event chain and the trails generation.
/// - `events.chain` holds each event's running hash (see `events::chain`); `event_chain`
///   holds the head (row 1) and the retention anchor (row 2), typed and keyed by integer
///   because every append reads and rewrites the head (a text-keyed `meta` row cost twice
///   as much per event). Rows written before this version are chained by
///   [`crate::events::chain::backfill`] in the same transaction.
/// - Every change to `trails` stamps `meta['trails.generation']` with a fresh random value,
///   in the changing transaction, so an in-memory summary of trails can tell it is stale
///   (random, not a counter: a rolled-back change must never be mistaken for a later one).
const SCHEMA_V5: &str = "
ALTER TABLE events ADD COLUMN chain BLOB;
CREATE TABLE event_chain (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, chain BLOB NOT NULL);
INSERT INTO event_chain (id, seq, chain) VALUES (1, 0, zeroblob(32)), (2, 0, zeroblob(32));
INSERT OR REPLACE INTO meta (key, value) VALUES ('trails.generation', lower(hex(randomblob(8))));
CREATE TRIGGER trails_generation_on_insert AFTER INSERT ON trails BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'trails.generation';
END;
CREATE TRIGGER trails_generation_on_update AFTER UPDATE ON trails BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'trails.generation';
END;
CREATE TRIGGER trails_generation_on_delete AFTER DELETE ON trails BEGIN
    UPDATE meta SET value = lower(hex(randomblob(8))) WHERE key = 'trails.generation';
END;
";

/// Delivery that survives damage and deletion: planned files remember the deleted trail they
/// belong to (`retired`), and a deleted trail that still has events to deliver keeps its
/// definition and cursor in `retired_trails` until its last file (and digest) is written.
const SCHEMA_V6: &str = "
ALTER TABLE deliveries ADD COLUMN retired INTEGER;
CREATE INDEX deliveries_by_retired ON deliveries (retired, state);
CREATE TABLE retired_trails (
    id INTEGER PRIMARY KEY AUTOINCREMENT, trail_arn TEXT NOT NULL, body TEXT NOT NULL,
    cursor INTEGER NOT NULL, retired_at REAL NOT NULL);
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

/// CloudWatch Logs (groups, streams, one row per event indexed by group/stream and time, metric
/// filters, Logs Insights queries) and the CloudWatch metric datapoint store.
const SCHEMA_V9: &str = "
CREATE TABLE log_groups (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
    created INTEGER NOT NULL, retention_days INTEGER, kms_key_id TEXT, class TEXT NOT NULL,
    deletion_protection INTEGER NOT NULL, stored_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (account, region, name));
CREATE TABLE log_group_tags (
    group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
    key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (group_id, key));
CREATE TABLE log_streams (
    id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
    name TEXT NOT NULL, created INTEGER NOT NULL, first_event INTEGER, last_event INTEGER,
    last_ingestion INTEGER, upload_seq INTEGER NOT NULL DEFAULT 0, stored_bytes INTEGER NOT NULL DEFAULT 0,
    UNIQUE (group_id, name));
CREATE TABLE log_events (
    id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL, stream_id INTEGER NOT NULL,
    ts INTEGER NOT NULL, ingested INTEGER NOT NULL, message TEXT NOT NULL);
CREATE INDEX log_events_by_group ON log_events (group_id, ts, id);
CREATE INDEX log_events_by_stream ON log_events (stream_id, ts, id);
CREATE TABLE log_metric_filters (
    group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE, name TEXT NOT NULL,
    pattern TEXT NOT NULL, transformation TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (group_id, name));
CREATE TABLE logs_queries (
    query_id TEXT PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL,
    query_string TEXT NOT NULL, log_group TEXT NOT NULL, status TEXT NOT NULL,
    created INTEGER NOT NULL, duration INTEGER NOT NULL, result TEXT NOT NULL);
CREATE INDEX logs_queries_by_time ON logs_queries (account, region, created);
CREATE TABLE metrics (
    id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, namespace TEXT NOT NULL,
    name TEXT NOT NULL, dimensions TEXT NOT NULL, last_ts INTEGER NOT NULL,
    UNIQUE (account, region, namespace, name, dimensions));
CREATE TABLE metric_points (
    metric_id INTEGER NOT NULL REFERENCES metrics(id) ON DELETE CASCADE, ts INTEGER NOT NULL,
    sample_count REAL NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
    unit TEXT NOT NULL, resolution INTEGER NOT NULL);
CREATE INDEX metric_points_by_time ON metric_points (metric_id, ts);
CREATE INDEX metric_points_by_age ON metric_points (ts);
";

/// Bucket default-encryption configurations (PutBucketEncryption), one per bucket.
const SCHEMA_V11: &str = "
CREATE TABLE bucket_encryption (
    bucket TEXT PRIMARY KEY REFERENCES buckets(name) ON DELETE CASCADE,
    config TEXT NOT NULL);
";

/// Web console sessions (the session id is stored hashed).
const SCHEMA_V10: &str = "
CREATE TABLE console_sessions (
    id_hash TEXT PRIMARY KEY, access_key_id TEXT NOT NULL, region TEXT NOT NULL,
    csrf TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX console_sessions_by_expiry ON console_sessions (expires);
";

/// Version 14: CloudWatch alarms (each a versioned JSON body keyed by account, region and
/// name) and their history, which outlives the alarm.
const SCHEMA_V14: &str = "
CREATE TABLE cw_alarms (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE cw_alarm_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, region TEXT NOT NULL,
    alarm_name TEXT NOT NULL, ts INTEGER NOT NULL, item_type TEXT NOT NULL,
    summary TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX cw_alarm_history_by_alarm ON cw_alarm_history (account, region, alarm_name, ts);
CREATE INDEX cw_alarm_history_by_time ON cw_alarm_history (ts);
";

/// CloudTrail Insights (`insights`): per-minute series with per-day sums of counts and of
/// their squares, and attribution counters (empty minutes have no row), each trail's arming time, detection progress and open insights, and the
/// Insights events each trail wrote with the file that delivered them.
const SCHEMA_V13: &str = "
CREATE TABLE insight_counts (
    account TEXT NOT NULL, region TEXT NOT NULL, kind INTEGER NOT NULL, source TEXT NOT NULL,
    name TEXT NOT NULL, error_code TEXT NOT NULL, minute INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind, source, name, error_code, minute)) WITHOUT ROWID;
CREATE INDEX insight_counts_by_minute ON insight_counts (account, region, minute, kind, count);
CREATE TABLE insight_days (
    account TEXT NOT NULL, region TEXT NOT NULL, kind INTEGER NOT NULL, source TEXT NOT NULL,
    name TEXT NOT NULL, error_code TEXT NOT NULL, day INTEGER NOT NULL, sum INTEGER NOT NULL,
    sum_sq INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind, source, name, error_code, day)) WITHOUT ROWID;
CREATE TABLE insight_attributions (
    account TEXT NOT NULL, region TEXT NOT NULL, kind INTEGER NOT NULL, source TEXT NOT NULL,
    name TEXT NOT NULL, error_code TEXT NOT NULL, attribute TEXT NOT NULL, minute INTEGER NOT NULL,
    value TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind, source, name, error_code, attribute, minute, value))
    WITHOUT ROWID;
CREATE INDEX insight_attributions_by_minute ON insight_attributions (minute);
CREATE TABLE insight_arming (trail_arn TEXT PRIMARY KEY, enabled_at INTEGER NOT NULL);
CREATE TABLE insight_progress (
    trail_arn TEXT NOT NULL, region TEXT NOT NULL, next_minute INTEGER NOT NULL,
    PRIMARY KEY (trail_arn, region));
CREATE TABLE insight_open (
    trail_arn TEXT NOT NULL, region TEXT NOT NULL, kind INTEGER NOT NULL, source TEXT NOT NULL,
    name TEXT NOT NULL, error_code TEXT NOT NULL, open INTEGER NOT NULL,
    start_minute INTEGER NOT NULL, baseline_mean REAL NOT NULL, baseline_duration INTEGER NOT NULL,
    threshold REAL NOT NULL, last_active INTEGER NOT NULL, sum_to_last_active INTEGER NOT NULL,
    sum_running INTEGER NOT NULL, cooldown_until INTEGER NOT NULL, shared_event_id TEXT NOT NULL,
    PRIMARY KEY (trail_arn, region, kind, source, name, error_code));
CREATE TABLE insight_events (
    trail_arn TEXT NOT NULL, event_id TEXT NOT NULL, seq INTEGER NOT NULL,
    event_time INTEGER NOT NULL, region TEXT NOT NULL, delivered TEXT,
    PRIMARY KEY (trail_arn, seq), UNIQUE (event_id));
CREATE INDEX insight_events_pending ON insight_events (trail_arn, seq) WHERE delivered IS NULL;
";

/// Version 18: a bucket's versioning state (`Enabled`/`Suspended`, NULL when never
/// configured), its MFA-delete setting as last put, and its public access block (a bit per
/// setting, NULL when none); the row goes with its bucket.
const SCHEMA_V18: &str = "
CREATE TABLE bucket_settings (
    bucket TEXT PRIMARY KEY REFERENCES buckets(name) ON DELETE CASCADE,
    versioning TEXT, mfa_delete TEXT, public_access_block INTEGER);
";

/// Version 19: a bucket's tag set (PutBucketTagging replaces it whole; no rows while the
/// bucket has none); the rows go with their bucket.
const SCHEMA_V19: &str = "
CREATE TABLE bucket_tags (
    bucket TEXT NOT NULL REFERENCES buckets(name) ON DELETE CASCADE,
    tag_key TEXT NOT NULL, tag_value TEXT NOT NULL,
    PRIMARY KEY (bucket, tag_key));
";

/// Version 20: SNS topic tags (the rows go with their topic) and whether a subscription was
/// confirmed by a signed ConfirmSubscription with `AuthenticateOnUnsubscribe=true` (its
/// unsigned `UnsubscribeURL` is then refused).
const SCHEMA_V20: &str = "
CREATE TABLE sns_topic_tags (
    topic_arn TEXT NOT NULL REFERENCES sns_topics(arn) ON DELETE CASCADE,
    tag_key TEXT NOT NULL, tag_value TEXT NOT NULL,
    PRIMARY KEY (topic_arn, tag_key));
ALTER TABLE sns_subscriptions ADD COLUMN authenticated_unsubscribe INTEGER NOT NULL DEFAULT 0;
";

/// Version 21: multipart uploads left behind by deleted buckets (DeleteBucket used to keep
/// them, and a new bucket of the same name inherited them) go, with their parts; their files,
/// no longer referenced, are removed at start-up.
const SCHEMA_V21: &str = "
DELETE FROM multipart_uploads
WHERE NOT EXISTS (SELECT 1 FROM buckets WHERE buckets.name = multipart_uploads.bucket);
";

/// Version 23: a multipart part keeps its additional checksum (the algorithm and the base64
/// value), which ListParts returns and CompleteMultipartUpload checks and combines into the
/// object's. Parts stored before have none (NULL).
const SCHEMA_V23: &str = "
ALTER TABLE multipart_parts ADD COLUMN checksum_algorithm TEXT;
ALTER TABLE multipart_parts ADD COLUMN checksum TEXT;
";

/// Version 24: the LookupEvents resource rows that [`cairn_model::lookup_names::derived`]
/// draws from an IAM or SNS record, for events recorded before the derivation existed
/// (rebuilt from their records by [`crate::events::reindex`], in batches that commit their
/// progress, before this step); and an index of rows without a chain value, which only a
/// binary older than the chain (schema 4) writes, so start-up finds them without a scan.
const SCHEMA_V24: &str = "
CREATE INDEX IF NOT EXISTS events_unchained ON events (seq) WHERE chain IS NULL;
";

/// The newest schema version this binary knows. A store stamped with a higher one was
/// upgraded by a newer binary and is refused ([`check_before_upgrade`]).
pub const LATEST: i64 = 36;

fn version_of(conn: &Connection) -> StoreResult<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// What every opener checks before using (or upgrading) a store: the schema is not newer
/// than this binary's, and no event sits outside the event chain (appended by a binary that
/// predates the chain, started on the data dir after it was upgraded).
pub(crate) fn check_before_upgrade(conn: &Connection) -> StoreResult<()> {
    let version = version_of(conn)?;
    // Version 0 is a new, empty database: one that already holds tables is another
    // program's, and an upgrade would change it for good.
    if version == 0 {
        let tables: i64 = conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )?;
        if tables > 0 {
            return Err(crate::StoreError::Incompatible(
                "the database holds tables but no Cairn schema version: it is another program's SQLite file, not a Cairn store. Refusing to change it: point --data-dir at a new or empty directory, or at a Cairn data dir"
                    .to_owned(),
            ));
        }
    }
    if version > LATEST {
        return Err(crate::StoreError::Incompatible(format!(
            "the store has schema version {version}, newer than this cairn {} knows (schema {LATEST}): \
             a newer Cairn upgraded this data dir, and upgrades are one-way. Run that version (or \
             a newer one) on it, or restore a backup of the data dir taken before the upgrade",
            env!("CARGO_PKG_VERSION")
        )));
    }
    if version >= 5
        && let Some((first, count)) = crate::events::chain::unchained(conn)?
    {
        return Err(crate::StoreError::Incompatible(format!(
            "the event log holds {count} event(s), from seq {first}, that are not part of the \
             event chain: a Cairn binary older than the chain (schema 4 or earlier) was started on \
             this data dir after it was upgraded and recorded them. Refusing to start: new events \
             would collide with them and delivery would stop. Stop the older binary for good, run \
             `cairn verify-store` on the data dir to see what it finds, and restore the data dir \
             from a backup taken before the older binary ran (keep a copy of this one)"
        )));
    }
    Ok(())
}

/// Refuses a store whose schema is not this binary's (an admin command never upgrades one).
pub(crate) fn check_current(conn: &Connection) -> StoreResult<()> {
    let version = version_of(conn)?;
    if version == 0 {
        // Another program's database is no Cairn store to upgrade.
        check_before_upgrade(conn)?;
    }
    if version < LATEST {
        return Err(crate::StoreError::Incompatible(format!(
            "the store has schema version {version}, older than this cairn {}'s (schema {LATEST}): \
             admin commands do not upgrade a data dir: start `cairn serve` on it once to upgrade \
             it (back it up first: the upgrade is one-way), then run the command again",
            env!("CARGO_PKG_VERSION")
        )));
    }
    Ok(())
}

/// Applies schema versions the database has not seen yet.
pub(crate) fn migrate(conn: &Connection) -> StoreResult<()> {
    migrate_to(conn, i64::MAX)
}

/// Applies the schema versions above the database's and at most `target` (tests build
/// older stores with it).
pub(crate) fn migrate_to(conn: &Connection, target: i64) -> StoreResult<()> {
    let version = version_of(conn)?;
    if version > LATEST {
        return check_before_upgrade(conn);
    }
    let due = |n: i64| version < n && target >= n;
    if due(1) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V1} PRAGMA user_version = 1; COMMIT;"
        ))?;
    }
    if due(2) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V2} PRAGMA user_version = 2; COMMIT;"
        ))?;
    }
    if due(3) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V3} PRAGMA user_version = 3; COMMIT;"
        ))?;
    }
    if due(4) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V4} PRAGMA user_version = 4; COMMIT;"
        ))?;
    }
    if due(5) {
        conn.execute_batch(&format!("BEGIN; {SCHEMA_V5}"))?;
        let chained = crate::events::chain::backfill(conn)
            .and_then(|()| Ok(conn.execute_batch("PRAGMA user_version = 5; COMMIT;")?));
        if let Err(e) = chained {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    if due(6) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V6} PRAGMA user_version = 6; COMMIT;"
        ))?;
    }
    if due(7) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V7} PRAGMA user_version = 7; COMMIT;"
        ))?;
    }
    if due(8) {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 8; COMMIT;",
            crate::kms::SCHEMA
        ))?;
    }
    if due(9) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V9} PRAGMA user_version = 9; COMMIT;"
        ))?;
    }
    if due(10) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V10} PRAGMA user_version = 10; COMMIT;"
        ))?;
    }
    if target >= 7 {
        crate::iam::seal_legacy_secrets(conn)?;
    }
    if due(11) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V11} PRAGMA user_version = 11; COMMIT;"
        ))?;
    }
    if due(12) {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 12; COMMIT;",
            crate::cloudformation::SCHEMA_V12
        ))?;
    }
    if due(13) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V13} PRAGMA user_version = 13; COMMIT;"
        ))?;
    }
    if due(14) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V14} PRAGMA user_version = 14; COMMIT;"
        ))?;
    }
    if due(16) {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 16; COMMIT;",
            crate::sns::schema_v16(conn)?
        ))?;
    }
    if due(17) {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 17; COMMIT;",
            crate::trail_logs::SCHEMA_V17
        ))?;
    }
    if due(18) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V18} PRAGMA user_version = 18; COMMIT;"
        ))?;
    }
    if due(19) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V19} PRAGMA user_version = 19; COMMIT;"
        ))?;
    }
    if due(20) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V20} PRAGMA user_version = 20; COMMIT;"
        ))?;
    }
    if due(21) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V21} PRAGMA user_version = 21; COMMIT;"
        ))?;
    }
    if due(22) {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 22; COMMIT;",
            crate::trail_logs::SCHEMA_V22
        ))?;
    }
    if due(23) {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V23} PRAGMA user_version = 23; COMMIT;"
        ))?;
    }
    if due(24) {
        crate::events::reindex::derived_resources(conn)?;
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V24} {} PRAGMA user_version = 24; COMMIT;",
            crate::events::reindex::FORGET_PROGRESS
        ))?;
    }
    if due(25) {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 25; COMMIT;",
            crate::sns_queue::SCHEMA_V25
        ))?;
    }
    if due(26) {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 26; COMMIT;",
            crate::iam::account::SCHEMA_V26
        ))?;
    }
    if due(27) {
        // Stack secrets sealed at rest; objects keep tags and lifecycle rules filter by tag
        // and size (an older build would read those rules as prefix-only). The rows' old
        // bytes are zeroed where SQLite frees them (`secure_delete`), and the WAL, which
        // still holds the pages as they were, is checkpointed and emptied.
        conn.execute_batch("PRAGMA secure_delete = ON; BEGIN;")?;
        let sealed = crate::cloudformation_secrets::seal_stored(conn).and_then(|n| {
            conn.execute_batch("PRAGMA user_version = 27; COMMIT;")?;
            Ok(n)
        });
        if sealed.is_err() {
            let _ = conn.execute_batch("ROLLBACK;");
        }
        let emptied = match &sealed {
            Ok(n) if *n > 0 => conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map(|(busy, log, done)| busy == 0 && log == done),
            _ => Ok(true),
        };
        let _ = conn.execute_batch("PRAGMA secure_delete = OFF;");
        sealed?;
        if !emptied? {
            // A reader held the WAL: the old pages stay there until a later checkpoint.
            tracing::warn!(
                "the WAL could not be emptied after sealing stack secrets; it still holds their old copy until SQLite next checkpoints it"
            );
        }
    }
    if due(28) {
        conn.execute_batch(&format!(
            "BEGIN; {} PRAGMA user_version = 28; COMMIT;",
            crate::trail_logs::SCHEMA_V28
        ))?;
    }
    if due(29) {
        // Idempotent: a column already there (a store whose version was set back by hand)
        // is kept.
        let has: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('bucket_settings') \
             WHERE name = 'ownership_controls_deleted'",
            [],
            |r| r.get(0),
        )?;
        let step = if has { "" } else { crate::buckets::SCHEMA_V29 };
        conn.execute_batch(&format!("BEGIN; {step} {}", crate::kms::SCHEMA_V29_GRANTS))?;
        let bound = crate::kms::bind_session_grants(conn)
            .and_then(|()| Ok(conn.execute_batch("PRAGMA user_version = 29; COMMIT;")?));
        if let Err(e) = bound {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(e);
        }
    }
    if due(30) {
        // No table changes: stacks may keep a RollbackConfiguration (upgrade2).
        conn.execute_batch("BEGIN; PRAGMA user_version = 30; COMMIT;")?;
    }
    if due(31) {
        // No table changes: marks data dirs whose stacks may keep their caller's
        // SourceIdentity and MFA flag, which builds of schema 30 before them dropped when they
        // resumed a stack operation (recording its calls without `sourceIdentity`, which let a
        // Deny on `aws:SourceIdentity` be escaped) and when they next wrote the stack (upgrade4).
        conn.execute_batch("BEGIN; PRAGMA user_version = 31; COMMIT;")?;
    }
    if due(32) {
        crate::schema_v32::migrate(conn, 32)?;
    }
    if due(33) {
        // Version 32's step again, adding only what is missing: a build released before the
        // step gained the alarms' `due_ms` stamped data dirs 32 without it (ops6).
        crate::schema_v32::migrate(conn, 33)?;
    }
    if due(34) {
        crate::sns_queue::migrate_v34(conn)?;
    }
    if due(35) {
        crate::metrics::migrate_v35(conn)?;
    }
    if due(36) {
        crate::logs::purge::migrate_v36(conn)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rusqlite::config::DbConfig;

    /// Another program's SQLite file (tables, no schema version) is refused, never upgraded;
    /// a new, empty one is a new store.
    #[test]
    fn a_foreign_database_is_refused_unchanged() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
        let e = super::check_before_upgrade(&conn).unwrap_err();
        assert!(e.to_string().contains("another program's"), "{e}");
        assert!(
            super::check_current(&conn)
                .unwrap_err()
                .to_string()
                .contains("another program's")
        );
        let tables: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 1);
        let fresh = rusqlite::Connection::open_in_memory().unwrap();
        super::check_before_upgrade(&fresh).unwrap();
    }

    /// Version 21 drops the uploads (and parts) of buckets that no longer exist, and keeps
    /// the others.
    #[test]
    fn v21_drops_uploads_of_deleted_buckets() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        super::configure(&conn).unwrap();
        super::migrate_to(&conn, 19).unwrap();
        conn.execute_batch(
            "INSERT INTO buckets (name, account, region, created) VALUES ('kept', 'a', 'us-east-1', 0);
             INSERT INTO multipart_uploads VALUES ('u1', 'kept', 'k', 1, '{}'), ('u2', 'gone', 'k', 1, '{}');
             INSERT INTO multipart_parts VALUES ('u1', 1, 'f1', 1, 'e', 1), ('u2', 1, 'f2', 1, 'e', 1);",
        )
        .unwrap();
        super::migrate(&conn).unwrap();
        let ids = |sql: &str| -> Vec<String> {
            let mut stmt = conn.prepare(sql).unwrap();
            stmt.query_map([], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        assert_eq!(ids("SELECT upload_id FROM multipart_uploads"), ["u1"]);
        assert_eq!(ids("SELECT file FROM multipart_parts"), ["f1"]);
    }

    /// Version 23 gives parts a checksum; parts stored before keep none.
    #[test]
    fn v23_parts_stored_before_have_no_checksum() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        super::configure(&conn).unwrap();
        super::migrate_to(&conn, 22).unwrap();
        conn.execute_batch(
            "INSERT INTO multipart_uploads VALUES ('u1', 'b', 'k', 1, '{}');
             INSERT INTO multipart_parts VALUES ('u1', 1, 'f1', 1, 'e', 1);",
        )
        .unwrap();
        super::migrate(&conn).unwrap();
        let parts = crate::objects::list_parts(&conn, "u1").unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].checksum, None);
    }

    /// The writer's and the readers' connections both plan without looking at bound values
    /// ([`super::stable_plans`]): the statement cache depends on it.
    #[test]
    fn writer_and_readers_plan_stably() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::Store::open(&dir.path().join("cairn.db")).unwrap();
        let qpsg = |c: &rusqlite::Connection| c.db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG);
        assert!(store.write_blocking(move |c| qpsg(c)).unwrap().unwrap());
        assert!(store.read_blocking(|c| Ok(qpsg(c)?)).unwrap());
    }
}

#[cfg(test)]
#[path = "schema_v29_tests.rs"]
mod v29_tests;
