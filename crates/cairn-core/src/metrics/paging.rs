//! GetMetricData's pages: the datapoints of every returned query, in `ScanBy` order
//! (timestamp, then query), cut after `MaxDatapoints`. A page ends at a [`Position`] (the last
//! timestamp and query it returned), so the next page starts right after it even if data
//! arrives in between; a query with datapoints left is `PartialData`.

/// Where a page ended: the last datapoint's timestamp and query index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// Timestamp, ms.
    pub ts: i64,
    /// Index of the query among the returned ones.
    pub query: usize,
}

impl Position {
    /// The text a token carries.
    pub fn encode(&self) -> String {
        format!("{}:{}", self.ts, self.query)
    }

    /// Parses [`Position::encode`]'s text.
    pub fn decode(text: &str) -> Option<Self> {
        let (ts, query) = text.split_once(':')?;
        Some(Self {
            ts: ts.parse().ok()?,
            query: query.parse().ok()?,
        })
    }
}

/// One page.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// Per query, its datapoints on this page in `ScanBy` order.
    pub series: Vec<Vec<(i64, f64)>>,
    /// Per query, whether datapoints are left for later pages.
    pub partial: Vec<bool>,
    /// Where the next page starts, when one is left.
    pub next: Option<Position>,
}

/// The page of `series` (each ascending by timestamp) after `after`, at most `max` datapoints.
pub fn page(
    series: &[Vec<(i64, f64)>],
    ascending: bool,
    after: Option<Position>,
    max: usize,
) -> Page {
    let key = |ts: i64, q: usize| (if ascending { ts } else { -ts }, q);
    let mut all: Vec<(i64, usize, f64)> = series
        .iter()
        .enumerate()
        .flat_map(|(q, points)| points.iter().map(move |(ts, v)| (*ts, q, *v)))
        .filter(|(ts, q, _)| after.is_none_or(|a| key(*ts, *q) > key(a.ts, a.query)))
        .collect();
    all.sort_by_key(|(ts, q, _)| key(*ts, *q));
    let rest = all.split_off(max.min(all.len()));
    let mut out = vec![Vec::new(); series.len()];
    for (ts, q, v) in &all {
        out[*q].push((*ts, *v));
    }
    let mut partial = vec![false; series.len()];
    for (_, q, _) in &rest {
        partial[*q] = true;
    }
    let next = if rest.is_empty() {
        None
    } else {
        all.last().map(|(ts, q, _)| Position { ts: *ts, query: *q })
    };
    Page {
        series: out,
        partial,
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_scan_order_and_resume_after_their_position() {
        let a = vec![(60_000, 1.0), (120_000, 2.0), (180_000, 3.0)];
        let b = vec![(120_000, 20.0)];
        let series = vec![a, b];
        let first = page(&series, false, None, 2);
        assert_eq!(
            first.series,
            vec![vec![(180_000, 3.0), (120_000, 2.0)], vec![]]
        );
        assert_eq!(first.partial, vec![true, true]);
        let at = first.next.unwrap();
        assert_eq!(Position::decode(&at.encode()), Some(at));
        let second = page(&series, false, Some(at), 2);
        assert_eq!(
            second.series,
            vec![vec![(60_000, 1.0)], vec![(120_000, 20.0)]]
        );
        assert_eq!(second.partial, vec![false, false]);
        assert_eq!(second.next, None);
        let up = page(&series, true, None, 1);
        assert_eq!(up.series[0], vec![(60_000, 1.0)]);
        assert_eq!(Position::decode("x:1"), None);
    }
}
