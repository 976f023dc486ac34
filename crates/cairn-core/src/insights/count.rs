//! Counting recorded management events into the Insights series.
//!
//! [`plan`] runs on a reader: it reads the events after the counted-seq cursor (at most
//! `limit` seqs), keeps the ones Insights measure and adds them up per minute; [`apply`]
//! runs on the writer and adds the batch only if the cursor has not moved meanwhile (another
//! process counted them first), moving it in the same transaction. The recording path is
//! untouched, and every event is counted exactly once across restarts and processes.
//!
//! Call-rate series count write management calls (`readOnly` false, `eventType`
//! `AwsApiCall` or `AwsConsoleAction`); error-rate series count management records with an
//! `errorCode`, per code. Attribution counters keep per-minute counts per `userIdentity.arn`,
//! `userAgent` and (call rate only) `errorCode` (`"null"` when the call succeeded).

use std::borrow::Cow;
use std::collections::HashMap;

use cairn_store::insights::{
    self as store, AttributionDelta, KIND_CALL, KIND_ERROR, SeriesDelta, SeriesKey,
};
use cairn_store::{Connection, StoreResult, events};
use serde::Deserialize;

/// The fields of a record that Insights read.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct View<'a> {
    #[serde(borrow, default)]
    event_source: Cow<'a, str>,
    #[serde(borrow, default)]
    event_name: Cow<'a, str>,
    #[serde(borrow, default)]
    aws_region: Cow<'a, str>,
    #[serde(borrow, default)]
    recipient_account_id: Cow<'a, str>,
    #[serde(borrow, default)]
    event_type: Cow<'a, str>,
    #[serde(default)]
    read_only: bool,
    #[serde(borrow, default)]
    error_code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user_agent: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user_identity: Option<Identity<'a>>,
}

#[derive(Deserialize)]
struct Identity<'a> {
    #[serde(borrow, default)]
    arn: Option<Cow<'a, str>>,
}

/// A counted batch: the events `from < seq <= to`, added up.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Batch {
    /// The cursor the batch starts after.
    pub from: i64,
    /// The last seq it covers.
    pub to: i64,
    /// Series counts.
    pub series: Vec<SeriesDelta>,
    /// Attribution counts.
    pub attributions: Vec<AttributionDelta>,
    /// Events read.
    pub events: usize,
}

/// Adds up a batch without allocating per event: a series is looked up by a key text built
/// in a reused buffer, and an attribution value by the borrowed value; only a series or a
/// value seen for the first time in the batch allocates.
#[derive(Default)]
struct Tally {
    ids: HashMap<String, usize>,
    keys: Vec<SeriesKey>,
    buf: String,
    series: HashMap<(usize, i64), i64>,
    attributions: HashMap<(usize, i64, &'static str), HashMap<String, i64>>,
}

impl Tally {
    fn id(&mut self, v: &View<'_>, kind: i64, code: &str) -> usize {
        use std::fmt::Write;
        self.buf.clear();
        let _ = write!(
            self.buf,
            "{}\u{1}{}\u{1}{kind}\u{1}{}\u{1}{}\u{1}{code}",
            v.recipient_account_id, v.aws_region, v.event_source, v.event_name
        );
        if let Some(id) = self.ids.get(self.buf.as_str()) {
            return *id;
        }
        let id = self.keys.len();
        self.keys.push(SeriesKey {
            account: v.recipient_account_id.to_string(),
            region: v.aws_region.to_string(),
            kind,
            source: v.event_source.to_string(),
            name: v.event_name.to_string(),
            error_code: code.to_owned(),
        });
        self.ids.insert(self.buf.clone(), id);
        id
    }

    fn add(&mut self, id: usize, minute: i64, attrs: &[(&'static str, Option<&str>)]) {
        *self.series.entry((id, minute)).or_default() += 1;
        for (attribute, value) in attrs {
            if let Some(v) = value {
                let values = self
                    .attributions
                    .entry((id, minute, attribute))
                    .or_default();
                match values.get_mut(*v) {
                    Some(n) => *n += 1,
                    None => {
                        values.insert((*v).to_owned(), 1);
                    }
                }
            }
        }
    }

    fn count(&mut self, event_time: i64, record: &str) {
        let Ok(v) = serde_json::from_str::<View<'_>>(record) else {
            return;
        };
        let minute = event_time.div_euclid(60);
        let arn = v.user_identity.as_ref().and_then(|i| i.arn.as_deref());
        let agent = v.user_agent.as_deref();
        let error = v.error_code.as_deref().filter(|e| !e.is_empty());
        if !v.read_only && matches!(&*v.event_type, "AwsApiCall" | "AwsConsoleAction") {
            let attrs = [
                ("userIdentityArn", arn),
                ("userAgent", agent),
                ("errorCode", Some(error.unwrap_or("null"))),
            ];
            let id = self.id(&v, KIND_CALL, "");
            self.add(id, minute, &attrs);
        }
        if let Some(code) = error {
            let attrs = [("userIdentityArn", arn), ("userAgent", agent)];
            let id = self.id(&v, KIND_ERROR, code);
            self.add(id, minute, &attrs);
        }
    }
}

/// Reads and adds up at most `limit` seqs after the counted-seq cursor, none after `upto`
/// (on a reader).
pub fn plan(conn: &Connection, limit: i64, upto: i64) -> StoreResult<Batch> {
    let from = store::counted_seq(conn)?;
    let head = events::chain::head(conn)?.seq.min(upto);
    let to = head.min(from + limit.max(1));
    let mut tally = Tally::default();
    let mut n = 0;
    if to > from {
        store::management_records(conn, from, to, |_, time, record| {
            n += 1;
            tally.count(time, record);
        })?;
    }
    let keys = &tally.keys;
    let mut series: Vec<SeriesDelta> = tally
        .series
        .into_iter()
        .map(|((id, minute), count)| SeriesDelta {
            key: keys[id].clone(),
            minute,
            count,
        })
        .collect();
    series.sort_by(|a, b| (&a.key, a.minute).cmp(&(&b.key, b.minute)));
    let mut attributions: Vec<AttributionDelta> = tally
        .attributions
        .into_iter()
        .flat_map(|((id, minute, attribute), values)| {
            values
                .into_iter()
                .map(move |(value, count)| AttributionDelta {
                    key: keys[id].clone(),
                    minute,
                    attribute: attribute.to_owned(),
                    value,
                    count,
                })
        })
        .collect();
    attributions.sort_by(|a, b| {
        (&a.key, a.minute, &a.attribute, &a.value).cmp(&(&b.key, b.minute, &b.attribute, &b.value))
    });
    Ok(Batch {
        from,
        to: to.max(from),
        series,
        attributions,
        events: n,
    })
}

/// Adds a planned batch (on the writer). Returns false if the cursor moved since planning.
pub fn apply(conn: &Connection, batch: &Batch) -> StoreResult<bool> {
    if batch.to == batch.from {
        return Ok(true);
    }
    store::apply_counts(
        conn,
        batch.from,
        batch.to,
        &batch.series,
        &batch.attributions,
    )
}
