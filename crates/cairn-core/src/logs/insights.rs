//! Logs Insights queries (StartQuery, GetQueryResults, StopQuery, DescribeQueries). A query
//! runs to completion inside StartQuery, on a reader, within a time and record budget
//! (`Timeout` with the rows found so far when it runs out); its answer is then stored, so the
//! first GetQueryResults already sees `Complete`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cairn_logsql::Record;
use cairn_store::Connection;
use cairn_store::logs::filters::{self as store, StoredQuery};
use cairn_store::logs::{events, streams};
use serde::{Deserialize, Serialize};

use super::{GroupKey, identifier_name, invalid, load_group, now_ms};
use crate::CallContext;
use crate::error::{ApiError, ApiResult, ErrorKind};

/// Longest a query may run.
pub const TIME_BUDGET: Duration = Duration::from_secs(60);
/// Most records a query may examine.
pub const RECORD_BUDGET: u64 = 20_000_000;
/// The most bytes of field values a query's stored answer keeps; the rows past it are left
/// out (hostile16: `fields @message` over a 1 GB group stored a 200 MB answer, and a larger
/// one failed with SQLite's "string or blob too big").
pub const MAX_ANSWER_BYTES: usize = 16 << 20;
/// Most log groups one query may name.
pub const MAX_GROUPS_PER_QUERY: usize = 50;

/// StartQuery's input.
#[derive(Clone, Debug, Default)]
pub struct StartQuery {
    /// Group names or ARNs (from `logGroupName`, `logGroupNames` or `logGroupIdentifiers`).
    pub groups: Vec<String>,
    /// Start, epoch seconds (inclusive).
    pub start_secs: i64,
    /// End, epoch seconds (inclusive).
    pub end_secs: i64,
    /// The query text.
    pub query: String,
    /// Most rows (default 10,000).
    pub limit: Option<i64>,
}

/// A query's answer as stored.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// Rows of (field, value).
    pub rows: Vec<Vec<(String, String)>>,
    /// Records that matched.
    pub records_matched: f64,
    /// Records examined.
    pub records_scanned: f64,
    /// Bytes examined.
    pub bytes_scanned: f64,
    /// Groups examined.
    pub log_groups_scanned: f64,
}

/// Most queries of one account that run at once (CloudWatch Logs bounds an account's
/// concurrent queries too); each may hold a reader for up to [`TIME_BUDGET`].
pub const MAX_CONCURRENT_QUERIES: usize = 4;

/// Most of those one identity may hold (hostile10: a user allowed only its own group took
/// all four, and the account's queries of the trail's group were refused).
pub const MAX_PER_IDENTITY: usize = MAX_CONCURRENT_QUERIES / 2;

/// Whose share of [`MAX_PER_IDENTITY`] a query counts against: a role's sessions share the
/// role's (recheck32: two session names of one role took all four of the account's slots).
fn sharer(principal: &cairn_model::identity::Principal) -> String {
    principal.role_arn().unwrap_or_else(|| principal.arn())
}

type Counts = std::sync::Mutex<std::collections::BTreeMap<String, usize>>;

/// Running queries by account.
static RUNNING: Counts = std::sync::Mutex::new(std::collections::BTreeMap::new());

/// One running query, counted against its account's [`MAX_CONCURRENT_QUERIES`] while it
/// lives.
struct Running {
    counts: &'static Counts,
    /// The account's tally and the identity's.
    keys: [String; 2],
}

impl Running {
    fn start(account: &str, identity: &str) -> ApiResult<Self> {
        Self::start_in(&RUNNING, account, identity)
    }

    fn start_in(counts: &'static Counts, account: &str, identity: &str) -> ApiResult<Self> {
        let mut held = counts.lock().unwrap_or_else(|e| e.into_inner());
        let keys = [account.to_owned(), format!("{account} {identity}")];
        if held.get(&keys[0]).copied().unwrap_or(0) >= MAX_CONCURRENT_QUERIES {
            return Err(ApiError::new(
                ErrorKind::LogsLimitExceeded,
                format!(
                    "Account maximum query concurrency limit of [{MAX_CONCURRENT_QUERIES}] reached."
                ),
            ));
        }
        if held.get(&keys[1]).copied().unwrap_or(0) >= MAX_PER_IDENTITY {
            return Err(ApiError::new(
                ErrorKind::LogsLimitExceeded,
                format!(
                    "Account maximum query concurrency limit of [{MAX_CONCURRENT_QUERIES}] reached for this identity's share of [{MAX_PER_IDENTITY}]."
                ),
            ));
        }
        for k in &keys {
            *held.entry(k.clone()).or_insert(0) += 1;
        }
        Ok(Running { counts, keys })
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let mut held = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        for k in &self.keys {
            if let Some(n) = held.get_mut(k) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    held.remove(k);
                }
            }
        }
    }
}

fn malformed(e: cairn_logsql::QueryError) -> ApiError {
    ApiError::new(ErrorKind::LogsMalformedQuery, e.to_string())
}

/// Runs a query (on a reader) and returns the record to store with its answer.
pub fn run(conn: &Connection, ctx: &CallContext, input: &StartQuery) -> ApiResult<StoredQuery> {
    if input.groups.is_empty() {
        return Err(invalid(
            "One of logGroupName, logGroupNames or logGroupIdentifiers must be specified.",
        ));
    }
    if input.groups.len() > MAX_GROUPS_PER_QUERY {
        return Err(invalid(format!(
            "A query can name at most {MAX_GROUPS_PER_QUERY} log groups."
        )));
    }
    for (value, name) in [(input.start_secs, "startTime"), (input.end_secs, "endTime")] {
        if value < 0 {
            return Err(super::constraint(
                &value.to_string(),
                name,
                "Member must have value greater than or equal to 0",
            ));
        }
    }
    if input.end_secs < input.start_secs {
        return Err(invalid(
            "End time must be greater than or equal to start time.",
        ));
    }
    if input.limit.is_some_and(|l| !(1..=10_000).contains(&l)) {
        return Err(super::constraint(
            &input.limit.unwrap_or_default().to_string(),
            "limit",
            "Member must have value between 1 and 10000",
        ));
    }
    let query = cairn_logsql::parse(&input.query).map_err(malformed)?;
    let mut groups = Vec::new();
    for g in &input.groups {
        let name = identifier_name(ctx, g, "logGroupIdentifiers")?;
        let group = load_group(conn, &GroupKey::of(ctx, &name))?;
        // A group named twice (by name and by ARN, or repeated) is read once.
        if !groups
            .iter()
            .any(|known: &cairn_store::logs::LogGroup| known.id == group.id)
        {
            groups.push(group);
        }
    }
    let _running = Running::start(ctx.account().as_str(), &sharer(&ctx.principal))?;
    let started = Instant::now();
    let mut ex = query.executor(input.limit.unwrap_or(10_000) as usize);
    // Seconds to ms; a far-future end saturates (it cannot overflow into the past).
    let (start, end) = (
        input.start_secs.saturating_mul(1000),
        input.end_secs.saturating_mul(1000).saturating_add(999),
    );
    let mut status = "Complete";
    'groups: for g in &groups {
        let names: HashMap<i64, String> = streams::names(conn, g.id)?.into_iter().collect();
        let log = format!("{}:{}", g.account, g.name);
        let mut after = None;
        loop {
            let batch = events::in_group(conn, g.id, Some(start), Some(end), after, None, 5_000)?;
            for e in &batch {
                let ptr = format!("{}/{}", g.id, e.id);
                ex.push(&Record {
                    timestamp: e.timestamp,
                    ingestion_time: e.ingested,
                    message: &e.message,
                    log_stream: names.get(&e.stream_id).map_or("", String::as_str),
                    log: &log,
                    ptr: &ptr,
                });
                if ex.done() {
                    break 'groups;
                }
            }
            if ex.records_scanned >= RECORD_BUDGET || started.elapsed() > TIME_BUDGET {
                status = "Timeout";
                break 'groups;
            }
            match batch.last() {
                Some(last) if batch.len() == 5_000 => after = Some((last.timestamp, last.id)),
                _ => break,
            }
        }
    }
    let out = ex.finish();
    let answer = Answer {
        rows: keep_within(out.rows, MAX_ANSWER_BYTES),
        records_matched: out.records_matched as f64,
        records_scanned: out.records_scanned as f64,
        bytes_scanned: out.bytes_scanned as f64,
        log_groups_scanned: groups.len() as f64,
    };
    Ok(StoredQuery {
        query_id: crate::record::new_uuid(),
        account: ctx.account().to_string(),
        region: ctx.region.to_string(),
        query_string: input.query.clone(),
        log_group: groups[0].name.clone(),
        status: status.to_owned(),
        created: now_ms(ctx),
        duration: started.elapsed().as_millis() as i64,
        result: serde_json::to_string(&answer)
            .map_err(|e| ApiError::new(ErrorKind::Internal, e.to_string()))?,
    })
}

/// The first `rows` whose fields and values come to at most `max` bytes.
fn keep_within(mut rows: Vec<Vec<(String, String)>>, max: usize) -> Vec<Vec<(String, String)>> {
    let mut kept = 0usize;
    let within = rows
        .iter()
        .position(|row| {
            kept += row.iter().map(|(f, v)| f.len() + v.len()).sum::<usize>();
            kept > max
        })
        .unwrap_or(rows.len());
    rows.truncate(within);
    rows
}

/// Stores a query run by [`run`].
pub fn save(conn: &Connection, q: &StoredQuery) -> ApiResult<()> {
    Ok(store::put_query(conn, q)?)
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        ErrorKind::ResourceNotFound,
        format!("Query does not exist: {id}"),
    )
}

/// GetQueryResults: the query and its answer.
pub fn results(conn: &Connection, ctx: &CallContext, id: &str) -> ApiResult<(StoredQuery, Answer)> {
    let q = store::get_query(conn, ctx.account().as_str(), ctx.region.as_str(), id)?
        .ok_or_else(|| not_found(id))?;
    let answer = serde_json::from_str(&q.result)
        .map_err(|e| ApiError::new(ErrorKind::Internal, format!("stored answer: {e}")))?;
    Ok((q, answer))
}

/// StopQuery: whether a running query was stopped (a finished one is not).
pub fn stop(conn: &Connection, ctx: &CallContext, id: &str) -> ApiResult<bool> {
    let mut q = store::get_query(conn, ctx.account().as_str(), ctx.region.as_str(), id)?
        .ok_or_else(|| not_found(id))?;
    if matches!(q.status.as_str(), "Scheduled" | "Running") {
        q.status = "Cancelled".to_owned();
        store::put_query(conn, &q)?;
        return Ok(true);
    }
    Ok(false)
}

/// DescribeQueries: a page of queries, newest first, and whether more follow.
pub fn describe(
    conn: &Connection,
    ctx: &CallContext,
    group: Option<&str>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> ApiResult<(Vec<StoredQuery>, bool)> {
    const STATUSES: [&str; 7] = [
        "Scheduled",
        "Running",
        "Complete",
        "Failed",
        "Cancelled",
        "Timeout",
        "Unknown",
    ];
    if let Some(s) = status
        && !STATUSES.contains(&s)
    {
        return Err(super::constraint(
            s,
            "status",
            &format!(
                "Member must satisfy enum value set: [{}]",
                STATUSES.join(", ")
            ),
        ));
    }
    let mut page = store::list_queries(
        conn,
        ctx.account().as_str(),
        ctx.region.as_str(),
        group,
        status,
        offset,
        limit + 1,
    )?;
    let more = page.len() as i64 > limit;
    page.truncate(limit as usize);
    Ok((page, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_keeps_the_rows_within_its_size() {
        let row = |v: &str| vec![("@message".to_owned(), v.to_owned())];
        let rows = vec![row("aaaa"), row("bbbb"), row("cccc")];
        // Each row is 12 bytes: two fit in 30.
        assert_eq!(keep_within(rows.clone(), 30), rows[..2].to_vec());
        assert_eq!(keep_within(rows.clone(), 36), rows);
        assert!(keep_within(rows, 5).is_empty());
    }

    #[test]
    fn queries_past_the_concurrency_limit_are_refused_until_one_ends() {
        // Counts of its own, so queries of other tests neither disturb it nor are refused.
        static COUNTS: Counts = std::sync::Mutex::new(std::collections::BTreeMap::new());
        let acct = "111122223333";
        let held: Vec<Running> = (0..MAX_CONCURRENT_QUERIES)
            .map(|i| Running::start_in(&COUNTS, acct, &format!("user{}", i / 2)).unwrap())
            .collect();
        let e = Running::start_in(&COUNTS, acct, "user9").err().unwrap();
        assert_eq!(e.kind, ErrorKind::LogsLimitExceeded);
        assert_eq!(
            e.message,
            format!(
                "Account maximum query concurrency limit of [{MAX_CONCURRENT_QUERIES}] reached."
            )
        );
        // Another account's queries are not held up by this one's.
        assert!(Running::start_in(&COUNTS, "444455556666", "user0").is_ok());
        drop(held);
        assert!(Running::start_in(&COUNTS, acct, "user0").is_ok());
    }

    #[test]
    fn a_roles_sessions_share_one_share() {
        use cairn_model::identity::{Principal, SessionContext};
        let session = |name: &str| Principal::AssumedRole {
            account: cairn_model::AccountId::parse("111122223333").unwrap(),
            role_name: "reader".into(),
            role_id: "AROAEXAMPLE".into(),
            role_path: "/".into(),
            session_name: name.into(),
            access_key_id: "ASIAEXAMPLE".into(),
            session: SessionContext {
                created: 0,
                expires: 3600,
                mfa: false,
                source_identity: None,
            },
        };
        assert_eq!(sharer(&session("a")), sharer(&session("b")));
        assert_eq!(
            sharer(&session("a")),
            "arn:aws:iam::111122223333:role/reader"
        );
    }

    #[test]
    fn one_identity_holds_at_most_its_share_of_the_accounts_queries() {
        static COUNTS: Counts = std::sync::Mutex::new(std::collections::BTreeMap::new());
        let acct = "111122223333";
        let mine: Vec<Running> = (0..MAX_PER_IDENTITY)
            .map(|_| Running::start_in(&COUNTS, acct, "narrow").unwrap())
            .collect();
        let e = Running::start_in(&COUNTS, acct, "narrow").err().unwrap();
        assert_eq!(e.kind, ErrorKind::LogsLimitExceeded);
        // Someone else in the account still has slots.
        assert!(Running::start_in(&COUNTS, acct, "root").is_ok());
        drop(mine);
        assert!(Running::start_in(&COUNTS, acct, "narrow").is_ok());
    }
}
