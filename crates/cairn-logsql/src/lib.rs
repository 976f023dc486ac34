//! The CloudWatch Logs Insights query language, pure: [`parse`] turns a query into commands
//! (`fields`, `display`, `filter` with comparisons, `like`, `in` and `=~`, `stats` with `count`,
//! `count_distinct`, `sum`, `avg`, `min`, `max`, `pct`, `stddev` `by` fields and `bin()`,
//! `sort`, `limit`, `parse` with a glob or a regex, `dedup`), and an [`Executor`] evaluates it
//! over records streamed to it, keeping only what the answer needs.
//!
//! Fields: `@timestamp`, `@message`, `@logStream`, `@log`, `@ingestionTime`, `@ptr`, and the
//! fields of JSON messages by dotted path (`userIdentity.type`, `resources.0.ARN`).

mod ast;
mod eval;
mod exec;
mod lex;
mod parse;
mod value;

pub use eval::Record;
pub use exec::{Executor, Output};
pub use value::{Val, format_time};

use ast::{Command, Expr};

/// Most rows an answer holds.
pub const MAX_ROWS: usize = 10_000;

/// A query that does not parse: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryError {
    /// Byte offset in the query.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl QueryError {
    pub(crate) fn at(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at character {}", self.message, self.offset)
    }
}

impl std::error::Error for QueryError {}

/// A parsed query.
#[derive(Clone, Debug)]
pub struct Query {
    inner: ast::Query,
}

fn check_calls(e: &Expr) -> Result<(), QueryError> {
    match e {
        Expr::Call(name, args) => {
            if !eval::is_function(name) {
                return Err(QueryError::at(0, format!("unknown function {name}")));
            }
            let (least, most) = eval::arity(name);
            if args.len() < least || args.len() > most {
                let wanted = match (least, most) {
                    (l, m) if l == m => format!("{l}"),
                    (l, usize::MAX) => format!("at least {l}"),
                    (l, m) => format!("{l} to {m}"),
                };
                return Err(QueryError::at(
                    0,
                    format!(
                        "function {name} takes {wanted} argument(s), not {}",
                        args.len()
                    ),
                ));
            }
            args.iter().try_for_each(check_calls)
        }
        Expr::Bin(_, a, b) => check_calls(a).and(check_calls(b)),
        Expr::Not(a) | Expr::Neg(a) | Expr::Like(a, _, _) => check_calls(a),
        Expr::In(a, list, _) => {
            check_calls(a)?;
            list.iter().try_for_each(check_calls)
        }
        Expr::Lit(_) | Expr::Field(_) => Ok(()),
    }
}

/// `dedup`'s rules (user guide, "dedup"): "The only query command that you can use in a
/// query after the dedup command is limit", and without a `sort` before it "the default
/// descending sort order using @timestamp is used", so each combination keeps its newest event.
fn dedup_rules(commands: &mut Vec<Command>) -> Result<(), QueryError> {
    let Some(at) = commands.iter().position(|c| matches!(c, Command::Dedup(_))) else {
        return Ok(());
    };
    if commands[at + 1..]
        .iter()
        .any(|c| !matches!(c, Command::Limit(_)))
    {
        return Err(QueryError::at(
            0,
            "the only query command that can follow dedup is limit",
        ));
    }
    if !commands[..at].iter().any(|c| matches!(c, Command::Sort(_))) {
        commands.insert(
            at,
            Command::Sort(vec![(Expr::Field("@timestamp".to_owned()), true)]),
        );
    }
    Ok(())
}

/// Parses a query (at most 10,000 characters).
pub fn parse(text: &str) -> Result<Query, QueryError> {
    if text.len() > 10_000 {
        return Err(QueryError::at(
            10_000,
            "the query is longer than 10000 characters",
        ));
    }
    let mut inner = parse::parse(text)?;
    dedup_rules(&mut inner.commands)?;
    for c in &inner.commands {
        match c {
            Command::Fields(items) | Command::Display(items) => {
                items.iter().try_for_each(|i| check_calls(&i.expr))?
            }
            Command::Filter(e) => check_calls(e)?,
            Command::Stats { aggregates, by } => {
                aggregates
                    .iter()
                    .filter_map(|a| a.arg.as_ref())
                    .try_for_each(check_calls)?;
                by.iter().try_for_each(|b| check_calls(&b.expr))?;
            }
            Command::Sort(keys) => keys.iter().try_for_each(|(e, _)| check_calls(e))?,
            Command::Parse { source, .. } => check_calls(source)?,
            Command::Limit(_) | Command::Dedup(_) => {}
        }
    }
    Ok(Query { inner })
}

impl Query {
    /// An executor returning at most `max_rows` rows (capped at [`MAX_ROWS`]).
    pub fn executor(&self, max_rows: usize) -> Executor {
        Executor::new(self.inner.clone(), max_rows.clamp(1, MAX_ROWS))
    }

    /// Whether the query aggregates (its rows carry no `@ptr`).
    pub fn aggregates(&self) -> bool {
        self.inner
            .commands
            .iter()
            .any(|c| matches!(c, Command::Stats { .. }))
    }
}

/// Runs a query over records (convenience for tests and small inputs).
pub fn run<'a>(query: &Query, records: impl IntoIterator<Item = Record<'a>>) -> Output {
    let mut ex = query.executor(MAX_ROWS);
    for r in records {
        ex.push(&r);
        if ex.done() {
            break;
        }
    }
    ex.finish()
}
