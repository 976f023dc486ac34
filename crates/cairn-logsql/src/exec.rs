//! Streaming execution. Records flow through the commands one at a time; `stats`, `sort` and
//! `dedup`-free `limit` keep their state, and at the end each blocking command releases its
//! rows into the commands after it. A `sort` that ends the pipeline keeps only the rows the
//! result can show, so memory stays bounded by the result size.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::ast::{AggFunc, Aggregate, Command, Item, Query};
use crate::eval::{Base, Record, Row, eval};
use crate::value::{Val, sort_order};

#[derive(Debug)]
enum Acc {
    Count(u64),
    Distinct(HashSet<String>),
    Sum(f64, bool),
    Avg(f64, u64),
    Extreme(Option<Val>, bool),
    Values(Vec<f64>),
    Timed(Option<(i64, Val)>, bool),
}

impl Acc {
    fn new(f: AggFunc) -> Self {
        match f {
            AggFunc::Count => Acc::Count(0),
            AggFunc::CountDistinct => Acc::Distinct(HashSet::new()),
            AggFunc::Sum => Acc::Sum(0.0, false),
            AggFunc::Avg => Acc::Avg(0.0, 0),
            AggFunc::Min => Acc::Extreme(None, false),
            AggFunc::Max => Acc::Extreme(None, true),
            AggFunc::Pct | AggFunc::Stddev => Acc::Values(Vec::new()),
            AggFunc::Earliest => Acc::Timed(None, false),
            AggFunc::Latest => Acc::Timed(None, true),
        }
    }

    fn add(&mut self, agg: &Aggregate, row: &Row) {
        let v = match &agg.arg {
            Some(e) => eval(e, row),
            None => Val::Bool(true),
        };
        if v.is_null() {
            return;
        }
        match self {
            Acc::Count(n) => *n += 1,
            Acc::Distinct(set) => {
                set.insert(v.key());
            }
            Acc::Sum(s, any) => {
                if let Some(x) = v.as_num() {
                    *s += x;
                    *any = true;
                }
            }
            Acc::Avg(s, n) => {
                if let Some(x) = v.as_num() {
                    *s += x;
                    *n += 1;
                }
            }
            Acc::Extreme(best, is_max) => {
                let better = match best {
                    None => true,
                    Some(b) => {
                        let o = sort_order(&v, b);
                        if *is_max { o.is_gt() } else { o.is_lt() }
                    }
                };
                if better {
                    *best = Some(v);
                }
            }
            Acc::Values(list) => {
                if let Some(x) = v.as_num() {
                    list.push(x);
                }
            }
            Acc::Timed(best, latest) => {
                let ts = row.get("@timestamp").as_num().unwrap_or(0.0) as i64;
                let better = match best {
                    None => true,
                    Some((t, _)) => {
                        if *latest {
                            ts > *t
                        } else {
                            ts < *t
                        }
                    }
                };
                if better {
                    *best = Some((ts, v));
                }
            }
        }
    }

    fn value(&self, agg: &Aggregate) -> Val {
        match self {
            Acc::Count(n) => Val::Num(*n as f64),
            Acc::Distinct(set) => Val::Num(set.len() as f64),
            Acc::Sum(s, any) => {
                if *any {
                    Val::Num(*s)
                } else {
                    Val::Null
                }
            }
            Acc::Avg(s, n) => {
                if *n > 0 {
                    Val::Num(*s / *n as f64)
                } else {
                    Val::Null
                }
            }
            Acc::Extreme(best, _) => best.clone().unwrap_or(Val::Null),
            Acc::Values(list) if list.is_empty() => Val::Null,
            Acc::Values(list) => match agg.func {
                AggFunc::Pct => {
                    let mut sorted = list.clone();
                    sorted.sort_by(f64::total_cmp);
                    let p = agg.param.unwrap_or(50.0).clamp(0.0, 100.0);
                    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
                    Val::Num(sorted[rank.min(sorted.len()) - 1])
                }
                _ => {
                    let n = list.len() as f64;
                    let mean = list.iter().sum::<f64>() / n;
                    let var = if n > 1.0 {
                        list.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
                    } else {
                        0.0
                    };
                    Val::Num(var.sqrt())
                }
            },
            Acc::Timed(best, _) => best.as_ref().map_or(Val::Null, |b| b.1.clone()),
        }
    }
}

#[derive(Debug, Default)]
struct Groups {
    order: Vec<Vec<Val>>,
    index: HashMap<Vec<String>, usize>,
    accs: Vec<Vec<Acc>>,
}

#[derive(Debug)]
enum State {
    None,
    Stats(Groups),
    Sort(Vec<(Vec<Val>, Row)>, Option<usize>),
    Limit(usize),
    Seen(HashSet<Vec<String>>),
}

/// A running query.
#[derive(Debug)]
pub struct Executor {
    query: Query,
    states: Vec<State>,
    output: Vec<Row>,
    max_rows: usize,
    /// Records pushed.
    pub records_scanned: u64,
    /// Records that passed every `filter` before the first `stats`.
    pub records_matched: u64,
    /// Message bytes pushed.
    pub bytes_scanned: u64,
}

impl Executor {
    pub(crate) fn new(query: Query, max_rows: usize) -> Self {
        let n = query.commands.len();
        let mut states = Vec::with_capacity(n);
        for (k, c) in query.commands.iter().enumerate() {
            states.push(match c {
                Command::Stats { .. } => State::Stats(Groups::default()),
                Command::Sort(_) => {
                    let blocking_after = query.commands[k + 1..].iter().any(|c| {
                        matches!(
                            c,
                            Command::Stats { .. }
                                | Command::Dedup(_)
                                | Command::Filter(_)
                                | Command::Parse { .. }
                        )
                    });
                    let next_limit = match query.commands.get(k + 1) {
                        Some(Command::Limit(l)) => *l,
                        _ => max_rows,
                    };
                    State::Sort(
                        Vec::new(),
                        (!blocking_after).then_some(next_limit.min(max_rows)),
                    )
                }
                Command::Limit(_) => State::Limit(0),
                Command::Dedup(_) => State::Seen(HashSet::new()),
                _ => State::None,
            });
        }
        Self {
            query,
            states,
            output: Vec::new(),
            max_rows,
            records_scanned: 0,
            records_matched: 0,
            bytes_scanned: 0,
        }
    }

    /// Whether more records cannot change the answer (a leading `limit` is full).
    pub fn done(&self) -> bool {
        for (c, s) in self.query.commands.iter().zip(&self.states) {
            match (c, s) {
                (Command::Limit(n), State::Limit(seen)) => return seen >= n,
                (Command::Stats { .. } | Command::Sort(_) | Command::Dedup(_), _) => return false,
                _ => {}
            }
        }
        self.output.len() >= self.max_rows
    }

    /// Feeds one record.
    pub fn push(&mut self, record: &Record<'_>) {
        self.records_scanned += 1;
        self.bytes_scanned += record.message.len() as u64;
        let row = Row {
            base: Some(Arc::new(Base::new(record))),
            fields: Vec::new(),
        };
        self.run(row, 0, true);
    }

    fn run(&mut self, mut row: Row, from: usize, counting: bool) {
        for k in from..self.query.commands.len() {
            match &self.query.commands[k] {
                Command::Fields(items) | Command::Display(items) => {
                    for it in items {
                        let v = eval(&it.expr, &row);
                        row.set(&it.name, v);
                    }
                }
                Command::Filter(e) => {
                    if !eval(e, &row).truthy() {
                        return;
                    }
                }
                Command::Parse {
                    source,
                    regex,
                    names,
                } => {
                    let Some(text) = eval(source, &row).render() else {
                        continue;
                    };
                    if let Some(caps) = regex.captures(&text) {
                        let values: Vec<Option<String>> =
                            if regex.capture_names().flatten().next().is_some() {
                                names
                                    .iter()
                                    .map(|n| caps.name(n).map(|m| m.as_str().to_owned()))
                                    .collect()
                            } else {
                                (1..=names.len())
                                    .map(|g| caps.get(g).map(|m| m.as_str().to_owned()))
                                    .collect()
                            };
                        for (n, v) in names.iter().zip(values) {
                            if let Some(v) = v {
                                row.set(n, Val::Str(v));
                            }
                        }
                    }
                }
                Command::Limit(n) => {
                    let State::Limit(seen) = &mut self.states[k] else {
                        unreachable!()
                    };
                    if *seen >= *n {
                        return;
                    }
                    *seen += 1;
                }
                Command::Dedup(names) => {
                    // "Log events with null values for any of the specified fields are
                    // retained": never duplicates.
                    let values: Vec<Val> = names.iter().map(|n| row.get(n)).collect();
                    if values.iter().any(|v| matches!(v, Val::Null)) {
                        continue;
                    }
                    let key: Vec<String> = values.iter().map(Val::key).collect();
                    let State::Seen(seen) = &mut self.states[k] else {
                        unreachable!()
                    };
                    if !seen.insert(key) {
                        return;
                    }
                }
                Command::Stats { aggregates, by } => {
                    if counting {
                        self.records_matched += 1;
                    }
                    let keys: Vec<Val> = by.iter().map(|b| eval(&b.expr, &row)).collect();
                    let id: Vec<String> = keys.iter().map(Val::key).collect();
                    let State::Stats(g) = &mut self.states[k] else {
                        unreachable!()
                    };
                    let slot = match g.index.get(&id) {
                        Some(s) => *s,
                        None => {
                            g.index.insert(id, g.order.len());
                            g.order.push(keys);
                            g.accs
                                .push(aggregates.iter().map(|a| Acc::new(a.func)).collect());
                            g.order.len() - 1
                        }
                    };
                    for (acc, agg) in g.accs[slot].iter_mut().zip(aggregates) {
                        acc.add(agg, &row);
                    }
                    return;
                }
                Command::Sort(keys) => {
                    if counting {
                        self.records_matched += 1;
                    }
                    let values: Vec<Val> = keys.iter().map(|(e, _)| eval(e, &row)).collect();
                    let State::Sort(buf, cap) = &mut self.states[k] else {
                        unreachable!()
                    };
                    buf.push((values, row));
                    if let Some(cap) = *cap
                        && buf.len() >= cap.saturating_mul(2).max(64)
                    {
                        sort_rows(buf, keys);
                        buf.truncate(cap);
                    }
                    return;
                }
            }
        }
        if counting {
            self.records_matched += 1;
        }
        if self.output.len() < self.max_rows {
            self.output.push(row);
        }
    }

    /// Ends the run: releases blocking commands in order and returns the result rows.
    pub fn finish(mut self) -> Output {
        for k in 0..self.query.commands.len() {
            let state = std::mem::replace(&mut self.states[k], State::None);
            let rows: Vec<Row> = match (state, &self.query.commands[k]) {
                (State::Stats(g), Command::Stats { aggregates, by }) => g
                    .order
                    .into_iter()
                    .zip(g.accs)
                    .map(|(keys, accs)| stats_row(by, keys, aggregates, &accs))
                    .collect(),
                (State::Sort(mut buf, _), Command::Sort(keys)) => {
                    sort_rows(&mut buf, keys);
                    buf.into_iter().map(|(_, r)| r).collect()
                }
                (other, _) => {
                    self.states[k] = other;
                    continue;
                }
            };
            for r in rows {
                self.run(r, k + 1, false);
            }
        }
        let columns = columns(&self.query);
        let with_ptr = !self
            .query
            .commands
            .iter()
            .any(|c| matches!(c, Command::Stats { .. }));
        let rows = self
            .output
            .iter()
            .map(|row| {
                let mut out: Vec<(String, String)> = columns
                    .iter()
                    .filter_map(|c| row.get(c).render().map(|v| (c.clone(), v)))
                    .collect();
                // Once, even when the query names it (sdk7: it came twice).
                if with_ptr
                    && !columns.iter().any(|c| c == "@ptr")
                    && let Some(p) = row.get("@ptr").render()
                {
                    out.push(("@ptr".to_owned(), p));
                }
                out
            })
            .collect();
        Output {
            rows,
            records_scanned: self.records_scanned,
            records_matched: self.records_matched,
            bytes_scanned: self.bytes_scanned,
        }
    }
}

fn sort_rows(buf: &mut [(Vec<Val>, Row)], keys: &[(crate::ast::Expr, bool)]) {
    buf.sort_by(|a, b| {
        for (k, (_, desc)) in keys.iter().enumerate() {
            let mut o = sort_order(&a.0[k], &b.0[k]);
            if *desc && !(a.0[k].is_null() || b.0[k].is_null()) {
                o = o.reverse();
            }
            if o.is_ne() {
                return o;
            }
        }
        let ta = a.1.base.as_ref().map(|b| b.timestamp());
        let tb = b.1.base.as_ref().map(|b| b.timestamp());
        tb.cmp(&ta)
    });
}

fn stats_row(by: &[Item], keys: Vec<Val>, aggregates: &[Aggregate], accs: &[Acc]) -> Row {
    let mut row = Row::default();
    for (b, k) in by.iter().zip(keys) {
        row.set(&b.name, k);
    }
    for (a, acc) in aggregates.iter().zip(accs) {
        row.set(&a.name, acc.value(a));
    }
    row
}

/// The columns a result shows: after the last `stats` its groups and aggregates plus later
/// `fields`; else `display`, else every `fields` name, else `@timestamp` and `@message`.
fn columns(query: &Query) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    let push = |cols: &mut Vec<String>, name: &str| {
        if !cols.iter().any(|c| c == name) {
            cols.push(name.to_owned());
        }
    };
    let last_stats = query
        .commands
        .iter()
        .rposition(|c| matches!(c, Command::Stats { .. }));
    let from = last_stats.unwrap_or(0);
    if let Some(Command::Stats { aggregates, by }) = last_stats.map(|k| &query.commands[k]) {
        by.iter().for_each(|b| push(&mut cols, &b.name));
        aggregates.iter().for_each(|a| push(&mut cols, &a.name));
    }
    let display = query.commands[from..].iter().rev().find_map(|c| match c {
        Command::Display(items) => Some(items),
        _ => None,
    });
    if let Some(items) = display {
        return items.iter().map(|i| i.name.clone()).collect();
    }
    for c in &query.commands[from..] {
        if let Command::Fields(items) = c {
            items.iter().for_each(|i| push(&mut cols, &i.name));
        }
    }
    if cols.is_empty() {
        cols = vec!["@timestamp".to_owned(), "@message".to_owned()];
    }
    cols
}

/// A finished query's answer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Output {
    /// Result rows, each a list of (field, value).
    pub rows: Vec<Vec<(String, String)>>,
    /// Records examined.
    pub records_scanned: u64,
    /// Records that matched the query's filters.
    pub records_matched: u64,
    /// Message bytes examined.
    pub bytes_scanned: u64,
}
