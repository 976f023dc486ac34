//! The syntax tree of a Logs Insights query: commands separated by `|`, and expressions.

use crate::value::Val;

/// A query: its commands in order.
#[derive(Clone, Debug)]
pub struct Query {
    /// The commands.
    pub commands: Vec<Command>,
}

/// An expression with the text it was written as (stats and fields name columns after it).
#[derive(Clone, Debug)]
pub struct Item {
    /// The expression.
    pub expr: Expr,
    /// The column name: the alias, or the expression's text.
    pub name: String,
}

/// One command.
#[derive(Clone, Debug)]
pub enum Command {
    /// `fields a, b as c`: computes and shows fields.
    Fields(Vec<Item>),
    /// `display a, b`: which fields the result shows.
    Display(Vec<Item>),
    /// `filter expr`.
    Filter(Expr),
    /// `stats agg(…) as x, … by a, bin(5m)`.
    Stats {
        /// Aggregates.
        aggregates: Vec<Aggregate>,
        /// Grouping keys.
        by: Vec<Item>,
    },
    /// `sort a desc, b`.
    Sort(Vec<(Expr, bool)>),
    /// `limit n`.
    Limit(usize),
    /// `parse field "glob * pattern" as a, b` or `parse field /(?<a>…)/`.
    Parse {
        /// The field parsed.
        source: Expr,
        /// Compiled pattern (a glob becomes a regex with numbered groups).
        regex: regex::Regex,
        /// Field names for the groups, in order.
        names: Vec<String>,
    },
    /// `dedup a, b`: keeps the first row of each value combination (a row with a null among
    /// them is kept too); only `limit` may follow, and a `sort` by `@timestamp` descending
    /// comes before it when the query has none.
    Dedup(Vec<String>),
}

/// An aggregate in `stats`.
#[derive(Clone, Debug)]
pub struct Aggregate {
    /// Which function.
    pub func: AggFunc,
    /// Its argument (`None` for `count(*)`).
    pub arg: Option<Expr>,
    /// Second argument (the percentile of `pct`).
    pub param: Option<f64>,
    /// Column name.
    pub name: String,
}

/// Aggregate functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AggFunc {
    /// `count`
    Count,
    /// `count_distinct`
    CountDistinct,
    /// `sum`
    Sum,
    /// `avg`
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `pct`
    Pct,
    /// `stddev`
    Stddev,
    /// `earliest`
    Earliest,
    /// `latest`
    Latest,
}

impl AggFunc {
    /// The function a name denotes.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => Self::Count,
            "count_distinct" => Self::CountDistinct,
            "sum" => Self::Sum,
            "avg" => Self::Avg,
            "min" => Self::Min,
            "max" => Self::Max,
            "pct" | "percentile" => Self::Pct,
            "stddev" => Self::Stddev,
            "earliest" => Self::Earliest,
            "latest" => Self::Latest,
            _ => return None,
        })
    }
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `^`
    Pow,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `and`
    And,
    /// `or`
    Or,
}

/// An expression.
#[derive(Clone, Debug)]
pub enum Expr {
    /// A literal.
    Lit(Val),
    /// A field reference.
    Field(String),
    /// A binary operation.
    Bin(BinOp, Box<Expr>, Box<Expr>),
    /// `not e`.
    Not(Box<Expr>),
    /// `-e`.
    Neg(Box<Expr>),
    /// `e like "sub"` / `e like /re/` / `e =~ /re/` (negated with `not like`).
    Like(Box<Expr>, Pattern, bool),
    /// `e in [a, b]` (negated with `not in`).
    In(Box<Expr>, Vec<Expr>, bool),
    /// A function call.
    Call(String, Vec<Expr>),
}

/// What `like` matches.
#[derive(Clone, Debug)]
pub enum Pattern {
    /// A substring.
    Substring(String),
    /// A regular expression (unanchored).
    Regex(regex::Regex),
}
