//! CloudTrail Lake's SQL, as far as Cairn reads it today: which event data stores a
//! `StartQuery` statement reads, so that the call is authorized on every one of them.
//!
//! Lake's statements are Trino SELECTs whose tables are event data store ids written bare, for
//! example `FROM 5e2676f8-9fce-46ef-8142-3e36a94e6691` (CloudTrail user guide). No SQL parser
//! takes a bare id with hyphens that may start with a digit, so ids of that shape are quoted
//! first (the "pre-lex" step of the implementer's spec, §4.6 rule 1). The statement is then
//! parsed by `sqlparser`, and every table it reads is collected from the syntax tree: comma
//! joins, joins, subqueries, set operations and `TABLE t` alike. Names that a `WITH` clause
//! defines are not stores, unless they have a store id's or ARN's shape: a `WITH` named after a store
//! must not hide a read of that store elsewhere in the statement, so such a name is always
//! authorized as the store. Trino folds identifiers to lower case, so store ids are compared
//! in lower case.
//!
//! Two guards keep the parser's reading from hiding a store Trino would read. The statement
//! is also lexed as Trino lexes it (comments do not nest, strings have no backslash escapes),
//! and every identifier shaped like a store id, or an event data store's ARN, outside comments
//! and strings is read as a store, whatever the parse said (a nested comment, which `sqlparser` allows, cannot hide
//! one). And a statement over AWS's 10,000 characters, or one the parser refuses, is judged
//! by that lexing alone: its store-shaped identifiers, or every store when it has none.

use std::collections::BTreeSet;
use std::ops::ControlFlow;
use std::sync::LazyLock;

use regex::Regex;
use sqlparser::ast::{ObjectName, Query, SetExpr, Statement, Visit, Visitor};
use sqlparser::dialect::{Dialect, GenericDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

/// A bare event data store id: five groups of letters and digits joined by hyphens, in the
/// shape of a UUID.
static BARE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b[0-9A-Za-z]{8}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}-[0-9A-Za-z]{12}\b")
        .expect("the id pattern is valid")
});

/// A whole name in a store id's shape.
static STORE_ID: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[0-9a-z]{8}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{12}$")
        .expect("the id pattern is valid")
});

/// Whether a (lower-cased) name names a store whatever the parse said: a store id's shape,
/// or an event data store's ARN (which Cairn reads as that store).
fn names_a_store(name: &str) -> bool {
    STORE_ID.is_match(name) || (name.starts_with("arn:") && name.contains(":eventdatastore/"))
}

/// Nesting deeper than this is refused rather than parsed (the parser recurses per level).
const MAX_DEPTH: usize = 64;

/// AWS's longest `QueryStatement` (the CloudTrail API reference). A longer one is not
/// parsed: a long flat expression (`1+1+…`) nests as deep as it has terms.
pub const MAX_STATEMENT_CHARS: usize = 10_000;

/// Trino's lexical rules, as far as they decide what is a comment, a string or an
/// identifier: `--` and non-nesting `/* */` comments, `'…'` strings with `''` and no
/// backslash escapes, `"…"` identifiers.
#[derive(Debug)]
struct TrinoLexing;

impl Dialect for TrinoLexing {
    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_alphabetic() || ch == '_'
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_alphanumeric() || ch == '_'
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '"'
    }
}

/// What a statement reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reads {
    /// The event data stores it names, in lower case, each once, in sorted order.
    Stores(Vec<String>),
    /// The statement could not be parsed: which stores it reads is unknown.
    Unparsed,
}

/// The event data stores `statement` reads.
pub fn queried_stores(statement: &str) -> Reads {
    // Trino ends a `--` comment at a carriage return too; sqlparser only at a line feed.
    let statement = statement.replace('\r', "\n");
    let Some(quoted) = quote_bare_ids(&statement) else {
        return Reads::Unparsed;
    };
    let Some(lexed) = lexed_store_ids(&quoted) else {
        return Reads::Unparsed;
    };
    let parsed = (statement.chars().count() <= MAX_STATEMENT_CHARS)
        .then(|| {
            Parser::new(&GenericDialect {})
                .with_recursion_limit(MAX_DEPTH)
                .try_with_sql(&quoted)
                .and_then(|mut p| p.parse_statements())
                .ok()
        })
        .flatten();
    let Some(statements) = parsed else {
        return if lexed.is_empty() {
            Reads::Unparsed
        } else {
            Reads::Stores(lexed.into_iter().collect())
        };
    };
    let mut tables = Tables::default();
    for statement in &statements {
        let _ = statement.visit(&mut tables);
        if let Statement::Query(query) = statement {
            tables.read_query(query);
        }
    }
    let Tables { read, defined } = tables;
    let mut stores: BTreeSet<String> = read.difference(&defined).cloned().collect();
    stores.extend(lexed);
    Reads::Stores(stores.into_iter().collect())
}

/// `statement` with each bare store id quoted (`"5e2676f8-…"`), as no SQL parser takes one
/// bare; ids inside strings, comments and quoted identifiers are left as they are, so no
/// quote is added where it would pair with another. `None` when it cannot be lexed.
fn quote_bare_ids(statement: &str) -> Option<String> {
    let tokens = Tokenizer::new(&TrinoLexing, statement)
        .tokenize_with_location()
        .ok()?;
    // Byte offsets where each token starts; a token runs to the next one's start.
    let mut starts = Vec::with_capacity(tokens.len() + 1);
    let mut chars = statement.char_indices();
    let (mut line, mut col, mut byte) = (1u64, 1u64, 0usize);
    for t in &tokens {
        let at = (t.span.start.line, t.span.start.column);
        while (line, col) < at {
            let Some((i, ch)) = chars.next() else { break };
            byte = i + ch.len_utf8();
            if ch == '\n' {
                (line, col) = (line + 1, 1);
            } else {
                col += 1;
            }
        }
        starts.push(byte);
    }
    starts.push(statement.len());
    let opaque: Vec<(usize, usize)> = tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| opaque(&t.token))
        .map(|(i, _)| (starts[i], starts[i + 1]))
        .collect();
    // Spans are in order and do not overlap: the one that could hold `at` is the last that
    // starts at or before it.
    let inside = |at: usize| {
        let n = opaque.partition_point(|(a, _)| *a <= at);
        n > 0 && at < opaque[n - 1].1
    };
    let mut out = String::with_capacity(statement.len() + 16);
    let mut last = 0;
    for m in BARE_ID.find_iter(statement) {
        if inside(m.start()) {
            continue;
        }
        out.push_str(&statement[last..m.start()]);
        out.push('"');
        out.push_str(m.as_str());
        out.push('"');
        last = m.end();
    }
    out.push_str(&statement[last..]);
    Some(out)
}

/// A token whose text is not SQL to look into: a string, a quoted identifier, a comment.
fn opaque(token: &Token) -> bool {
    use sqlparser::tokenizer::Whitespace;
    match token {
        Token::Word(w) => w.quote_style.is_some(),
        Token::Whitespace(w) => {
            !matches!(w, Whitespace::Space | Whitespace::Newline | Whitespace::Tab)
        }
        Token::Number(..) | Token::Char(_) => false,
        other => {
            let text = other.to_string();
            text.len() > 1 && text.contains(['\'', '"', '`', '$'])
        }
    }
}

/// The identifiers shaped like a store id, in lower case, outside comments and strings as
/// Trino lexes the statement; `None` when it cannot be lexed.
fn lexed_store_ids(statement: &str) -> Option<BTreeSet<String>> {
    let tokens = Tokenizer::new(&TrinoLexing, statement).tokenize().ok()?;
    Some(
        tokens
            .into_iter()
            .filter_map(|t| match t {
                Token::Word(w) => Some(w.value.to_lowercase()),
                _ => None,
            })
            .filter(|w| names_a_store(w))
            .collect(),
    )
}

/// The tables a syntax tree reads and the names its `WITH` clauses define.
#[derive(Default)]
struct Tables {
    read: BTreeSet<String>,
    defined: BTreeSet<String>,
}

impl Tables {
    /// Notes a query's `WITH` names and the `TABLE t` forms in its body (the visitor's
    /// relation hook does not see those).
    fn read_query(&mut self, query: &Query) {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                let name = cte.alias.name.value.to_lowercase();
                if !names_a_store(&name) {
                    self.defined.insert(name);
                }
            }
        }
        self.read_set(&query.body);
    }

    fn read_set(&mut self, body: &SetExpr) {
        match body {
            SetExpr::SetOperation { left, right, .. } => {
                self.read_set(left);
                self.read_set(right);
            }
            SetExpr::Table(table) => {
                if let Some(name) = &table.table_name {
                    self.read.insert(name.value.to_lowercase());
                }
            }
            _ => {}
        }
    }
}

impl Visitor for Tables {
    type Break = ();

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<()> {
        self.read_query(query);
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<()> {
        // A store is named by its id alone; a qualified name's last part is the table.
        if let Some(last) = relation.0.last().and_then(|part| part.as_ident()) {
            self.read.insert(last.value.to_lowercase());
        }
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests;
