//! CloudWatch metric datapoints. A metric is (account, region, namespace, name, dimension set);
//! the set is stored canonically (sorted by name, as JSON). Each point is a statistic set
//! (sample count, sum, minimum, maximum) at a millisecond timestamp with its unit; a single
//! value is a set with count 1, and identical values may share one row. A point that stands
//! for several distinct values (a PutMetricData datum's `Values`/`Counts`, a metric filter's
//! minute) also keeps them, with their counts, in its `vals` column (schema v35), so its
//! percentiles stay exact in one row instead of one row a value.

use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::StoreResult;

/// Which metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricKey<'a> {
    /// Owner.
    pub account: &'a str,
    /// Region.
    pub region: &'a str,
    /// Namespace.
    pub namespace: &'a str,
    /// Metric name.
    pub name: &'a str,
    /// Dimensions (any order; stored sorted by name).
    pub dimensions: &'a [(String, String)],
}

/// The canonical text of a dimension set.
pub fn canonical_dimensions(dimensions: &[(String, String)]) -> String {
    let mut d: Vec<&(String, String)> = dimensions.iter().collect();
    d.sort();
    serde_json::to_string(&d).unwrap_or_else(|_| "[]".into())
}

/// The metric's id, creating it (and recording `ts` as its latest data) when `create`.
pub fn metric_id(
    conn: &Connection,
    key: &MetricKey<'_>,
    ts: i64,
    create: bool,
) -> StoreResult<Option<i64>> {
    let dims = canonical_dimensions(key.dimensions);
    if create {
        conn.prepare_cached(
            "INSERT INTO metrics (account, region, namespace, name, dimensions, last_ts)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (account, region, namespace, name, dimensions)
             DO UPDATE SET last_ts = MAX(last_ts, excluded.last_ts)",
        )?
        .execute(params![
            key.account,
            key.region,
            key.namespace,
            key.name,
            dims,
            ts
        ])?;
    }
    Ok(conn
        .prepare_cached(
            "SELECT id FROM metrics WHERE account = ?1 AND region = ?2 AND namespace = ?3
               AND name = ?4 AND dimensions = ?5",
        )?
        .query_row(
            params![key.account, key.region, key.namespace, key.name, dims],
            |r| r.get(0),
        )
        .optional()?)
}

/// One stored point.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Timestamp, ms.
    pub ts: i64,
    /// Sample count.
    pub sample_count: f64,
    /// Sum.
    pub sum: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
    /// Unit (`None` when unspecified).
    pub unit: String,
    /// Storage resolution, seconds (1 or 60).
    pub resolution: i64,
    /// The distinct values the point stands for, with their counts, when it keeps them.
    pub values: Option<Vec<(f64, f64)>>,
}

/// `vals` as stored: each (value, count) as two little-endian `f64`s.
fn encode_values(values: &[(f64, f64)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 16);
    for (v, n) in values {
        out.extend_from_slice(&v.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
    }
    out
}

fn decode_values(bytes: &[u8]) -> Vec<(f64, f64)> {
    bytes
        .chunks_exact(16)
        .map(|c| {
            let (v, n) = c.split_at(8);
            (
                f64::from_le_bytes(v.try_into().unwrap_or_default()),
                f64::from_le_bytes(n.try_into().unwrap_or_default()),
            )
        })
        .collect()
}

fn point_row(r: &Row<'_>) -> rusqlite::Result<Point> {
    Ok(Point {
        ts: r.get(0)?,
        sample_count: r.get(1)?,
        sum: r.get(2)?,
        min: r.get(3)?,
        max: r.get(4)?,
        unit: r.get(5)?,
        resolution: r.get(6)?,
        values: r.get::<_, Option<Vec<u8>>>(7)?.map(|b| decode_values(&b)),
    })
}

/// How many metrics of `namespace` and `name` (any dimensions) last had data from `since`
/// to before `until` (ms): a range of the `metrics_by_last_ts` index, so the count reads only
/// the series active then.
pub fn count_active(
    conn: &Connection,
    (account, region, namespace, name): (&str, &str, &str, &str),
    (since, until): (i64, i64),
) -> StoreResult<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT COUNT(*) FROM metrics WHERE account = ?1 AND region = ?2 AND namespace = ?3
               AND name = ?4 AND last_ts >= ?5 AND last_ts < ?6",
        )?
        .query_row(
            params![account, region, namespace, name, since, until],
            |r| r.get(0),
        )?)
}

/// Stores a point.
pub fn put_point(conn: &Connection, metric_id: i64, p: &Point) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO metric_points (metric_id, ts, sample_count, sum, min, max, unit, resolution, vals)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        metric_id,
        p.ts,
        p.sample_count,
        p.sum,
        p.min,
        p.max,
        p.unit,
        p.resolution,
        p.values.as_deref().map(encode_values)
    ])?;
    Ok(())
}

/// Points of a metric with `start <= ts < end`, by time.
pub fn points(conn: &Connection, metric_id: i64, start: i64, end: i64) -> StoreResult<Vec<Point>> {
    read_points(conn, "vals", (metric_id, start, end))
}

/// [`points`] without the values they keep (`values` is `None`): totals only.
pub fn point_totals(
    conn: &Connection,
    metric_id: i64,
    start: i64,
    end: i64,
) -> StoreResult<Vec<Point>> {
    read_points(conn, "NULL", (metric_id, start, end))
}

fn read_points(
    conn: &Connection,
    vals: &str,
    (metric_id, start, end): (i64, i64, i64),
) -> StoreResult<Vec<Point>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ts, sample_count, sum, min, max, unit, resolution, {vals} FROM metric_points
         WHERE metric_id = ?1 AND ts >= ?2 AND ts < ?3 ORDER BY ts"
    ))?;
    let rows = stmt.query_map(params![metric_id, start, end], point_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// A known metric.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricRow {
    /// Id.
    pub id: i64,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Dimensions, sorted by name.
    pub dimensions: Vec<(String, String)>,
    /// Latest datapoint time, ms.
    pub last_ts: i64,
}

/// Metrics of an account and region, optionally of one namespace and name, with data at or
/// after `since` (ms); ordered by namespace, name, dimensions.
pub fn list(
    conn: &Connection,
    account: &str,
    region: &str,
    namespace: Option<&str>,
    name: Option<&str>,
    since: i64,
) -> StoreResult<Vec<MetricRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, namespace, name, dimensions, last_ts FROM metrics
         WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR namespace = ?3)
           AND (?4 IS NULL OR name = ?4) AND last_ts >= ?5
         ORDER BY namespace, name, dimensions",
    )?;
    let rows = stmt.query_map(params![account, region, namespace, name, since], |r| {
        let dims: String = r.get(3)?;
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, dims, r.get(4)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, namespace, name, dims, last_ts): (i64, String, String, String, i64) = row?;
        let dimensions = serde_json::from_str(&dims)
            .map_err(|e| crate::StoreError::Corrupt(format!("metric dimensions: {e}")))?;
        out.push(MetricRow {
            id,
            namespace,
            name,
            dimensions,
            last_ts,
        });
    }
    Ok(out)
}

/// Deletes points older than `cutoff` (ms), at most `batch`; returns how many.
pub fn expire_points(conn: &Connection, cutoff: i64, batch: i64) -> StoreResult<usize> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM metric_points WHERE rowid IN
               (SELECT rowid FROM metric_points WHERE ts < ?1 LIMIT ?2)",
        )?
        .execute(params![cutoff, batch])?)
}

/// Version 35: a point keeps the distinct values it stands for.
pub(crate) fn migrate_v35(conn: &Connection) -> StoreResult<()> {
    let column = crate::schema_v32::column_unless_there(conn, "metric_points", "vals", "BLOB")?;
    conn.execute_batch(&format!(
        "BEGIN; {column} PRAGMA user_version = 35; COMMIT;"
    ))?;
    Ok(())
}
