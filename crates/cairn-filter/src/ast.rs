//! The syntax tree of a filter pattern (spec monitoring.md §2): what the parser produces and
//! the evaluators walk. Regular expressions are held compiled, so a parsed pattern is ready to
//! match.

/// A parsed pattern, by kind (§2.1).
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    /// Empty pattern: every message matches.
    MatchAll,
    /// Unstructured terms (§2.2).
    Terms(Terms),
    /// A whole-pattern regular expression `%…%` (§2.5).
    Regex(Re),
    /// Space-delimited fields `[a, b, …]` (§2.3).
    Delimited(Delimited),
    /// A JSON expression `{ … }` (§2.4).
    Json(Cond<JsonTest>),
}

/// Unstructured terms: the message matches when some group has all its terms as substrings and
/// no excluded term occurs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Terms {
    /// Alternatives (`?term` opens one); each is a conjunction of substrings. Never empty.
    pub groups: Vec<Vec<String>>,
    /// `-term`: substrings that must not occur.
    pub excluded: Vec<String>,
}

/// A space-delimited pattern.
#[derive(Clone, Debug, PartialEq)]
pub struct Delimited {
    /// The slots, in order.
    pub slots: Vec<Slot>,
}

impl Delimited {
    /// Index of the `...` slot, if any (at most one).
    pub fn ellipsis(&self) -> Option<usize> {
        self.slots.iter().position(|s| matches!(s, Slot::Ellipsis))
    }
}

/// One slot of a space-delimited pattern.
#[derive(Clone, Debug, PartialEq)]
pub enum Slot {
    /// `...`: zero or more tokens.
    Ellipsis,
    /// Exactly one token, optionally named, optionally tested.
    Field {
        /// The name (`$name` in extracted values); unnamed slots extract as `$<position>`.
        name: Option<String>,
        /// Conditions written in the slot; they may name any field of the pattern.
        condition: Option<Cond<FieldTest>>,
    },
}

/// A boolean combination of tests; `&&` binds tighter than `||`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cond<T> {
    /// One test.
    Test(T),
    /// All must hold.
    And(Vec<Cond<T>>),
    /// One must hold.
    Or(Vec<Cond<T>>),
}

impl<T> Cond<T> {
    /// Every test, depth first.
    pub fn tests(&self) -> Vec<&T> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a T>) {
        match self {
            Cond::Test(t) => out.push(t),
            Cond::And(items) | Cond::Or(items) => items.iter().for_each(|c| c.collect(out)),
        }
    }
}

/// A test on a named field of a space-delimited message.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTest {
    /// The field named.
    pub field: String,
    /// The operator.
    pub op: Op,
    /// The value compared with.
    pub operand: Operand,
}

/// A test on a JSON selector.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonTest {
    /// The selector's steps (`$.a[0].b`).
    pub path: Vec<Step>,
    /// What is tested.
    pub check: Check,
}

/// One step of a JSON selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Step {
    /// `.name`
    Key(String),
    /// `[n]`
    Index(usize),
}

/// What a JSON test checks.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// `op value`.
    Compare(Op, Operand),
    /// `IS NULL`.
    IsNull,
    /// `IS TRUE`.
    IsTrue,
    /// `IS FALSE`.
    IsFalse,
    /// `NOT EXISTS`.
    NotExists,
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
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
}

impl Op {
    /// Whether the operator orders (`<`, `<=`, `>`, `>=`), so it needs a number.
    pub fn is_ordering(self) -> bool {
        matches!(self, Op::Lt | Op::Le | Op::Gt | Op::Ge)
    }

    /// Applies the operator to two numbers.
    pub fn numbers(self, left: f64, right: f64) -> bool {
        match self {
            Op::Eq => left == right,
            Op::Ne => left != right,
            Op::Lt => left < right,
            Op::Le => left <= right,
            Op::Gt => left > right,
            Op::Ge => left >= right,
        }
    }
}

/// The right-hand side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub enum Operand {
    /// A bare number: numeric comparison.
    Number(f64),
    /// A string (quoted, or bare and not a number): exact equality.
    Text(String),
    /// A string with `*` at its start and/or end.
    Glob(Glob),
    /// `*` alone: any value.
    Any,
    /// `%regex%`.
    Regex(Re),
}

/// A wildcard string: `*` is special only at the start and the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob {
    /// `*` at the start.
    pub leading: bool,
    /// `*` at the end.
    pub trailing: bool,
    /// The literal middle.
    pub core: String,
}

impl Glob {
    /// Whether `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        match (self.leading, self.trailing) {
            (true, true) => text.contains(self.core.as_str()),
            (true, false) => text.ends_with(self.core.as_str()),
            (false, true) => text.starts_with(self.core.as_str()),
            (false, false) => text == self.core,
        }
    }
}

/// A compiled regular expression with the text it came from (equality compares the text).
#[derive(Clone, Debug)]
pub struct Re {
    /// The text between the `%` signs.
    pub source: String,
    /// The compiled expression (unanchored search).
    pub regex: regex::Regex,
}

impl PartialEq for Re {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}
