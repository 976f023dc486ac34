//! The CloudWatch Logs filter-pattern language (spec monitoring.md §2), pure: no IO, no clock.
//!
//! [`FilterPattern::parse`] turns a pattern into a syntax tree ([`ast`]) or AWS's
//! `InvalidParameterException` wording ([`PatternError`]). A [`Matcher`] holds the patterns of
//! one log group (its metric filters, or the one pattern of a FilterLogEvents call) with the
//! selectors their metric values and dimensions read, and [`Matcher::scan`] evaluates them all
//! against one message, parsing a JSON message once and only along the paths they read
//! ([`projection`]). `TestMetricFilter`, FilterLogEvents and live metric filters share it.

pub mod ast;
mod error;
mod eval;
mod parse;
pub mod projection;
mod select;

pub use error::PatternError;
pub use eval::tokenize;
pub use parse::{MAX_REGEX_PER_PATTERN, is_number};
pub use select::{MetricValue, Selector};

use serde_json::Value;

use crate::ast::Pattern;
use crate::projection::Projection;

/// A parsed, ready-to-match pattern with its source text.
#[derive(Clone, Debug, PartialEq)]
pub struct FilterPattern {
    source: String,
    pattern: Pattern,
}

impl FilterPattern {
    /// Parses a pattern (surrounding whitespace ignored; empty matches everything).
    pub fn parse(source: &str) -> Result<Self, PatternError> {
        Ok(Self {
            source: source.to_owned(),
            pattern: parse::parse(source)?,
        })
    }

    /// The text it was parsed from, verbatim.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The syntax tree.
    pub fn ast(&self) -> &Pattern {
        &self.pattern
    }

    /// How many `%regex%` it holds (AWS limits regex-bearing filters per log group).
    pub fn regex_count(&self) -> usize {
        parse::regex_count(&self.pattern)
    }

    /// Whether it is a JSON pattern.
    pub fn is_json(&self) -> bool {
        matches!(self.pattern, Pattern::Json(_))
    }

    /// Whether it is a space-delimited pattern.
    pub fn is_delimited(&self) -> bool {
        matches!(self.pattern, Pattern::Delimited(_))
    }

    /// Matches one message on its own (for TestMetricFilter): the extracted values when it
    /// matches (empty except for space-delimited patterns).
    pub fn test(&self, message: &str) -> Option<Match> {
        Matcher::new(vec![self.clone()], &[])
            .scan(message)
            .results
            .pop()
            .flatten()
    }

    fn add_paths(&self, projection: &mut Projection) {
        if let Pattern::Json(cond) = &self.pattern {
            for t in cond.tests() {
                projection.add(&t.path);
            }
        }
    }
}

/// A match: the values a space-delimited pattern extracted (`$name` or `$<position>`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Match {
    /// Extracted values, in token order.
    pub extracted: Vec<(String, String)>,
}

impl Match {
    /// The value extracted under `key` (`$status_code`, `$7`).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.extracted
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The patterns of one log group, evaluated together.
#[derive(Clone, Debug)]
pub struct Matcher {
    patterns: Vec<FilterPattern>,
    projection: Projection,
    needs_json: bool,
}

impl Matcher {
    /// A matcher for `patterns`; `selectors` are the JSON selectors metric values and
    /// dimensions will read from matching messages.
    pub fn new(patterns: Vec<FilterPattern>, selectors: &[&Selector]) -> Self {
        let mut projection = Projection::default();
        for p in &patterns {
            p.add_paths(&mut projection);
        }
        for s in selectors {
            if let Selector::Json(path) = s {
                projection.add(path);
            }
        }
        let needs_json = patterns.iter().any(FilterPattern::is_json) || !projection.is_empty();
        Self {
            patterns,
            projection,
            needs_json,
        }
    }

    /// The patterns, in order.
    pub fn patterns(&self) -> &[FilterPattern] {
        &self.patterns
    }

    /// Evaluates every pattern against `message`, parsing it (if JSON is needed and it looks
    /// like an object) exactly once.
    pub fn scan<'t>(&self, message: &'t str) -> Scan<'t> {
        let json = if self.needs_json && message.trim_start().starts_with('{') {
            self.projection.parse(message)
        } else {
            None
        };
        let results = self
            .patterns
            .iter()
            .map(|p| match &p.pattern {
                Pattern::MatchAll => Some(Match::default()),
                Pattern::Terms(t) => eval::terms(t, message).then(Match::default),
                Pattern::Regex(re) => re.regex.is_match(message).then(Match::default),
                Pattern::Delimited(d) => {
                    eval::delimited(d, message).map(|extracted| Match { extracted })
                }
                Pattern::Json(c) => json
                    .as_ref()
                    .is_some_and(|v| eval::json(c, v))
                    .then(Match::default),
            })
            .collect();
        Scan {
            message,
            json,
            results,
        }
    }
}

/// The outcome of scanning one message.
#[derive(Clone, Debug)]
pub struct Scan<'t> {
    message: &'t str,
    json: Option<Value>,
    /// Per pattern, in the matcher's order: the match, if any.
    pub results: Vec<Option<Match>>,
}

impl Scan<'_> {
    /// The message scanned.
    pub fn message(&self) -> &str {
        self.message
    }

    /// The projected JSON of the message, if it was parsed.
    pub fn json(&self) -> Option<&Value> {
        self.json.as_ref()
    }

    /// The text `selector` names for pattern `index`'s match: a JSON scalar (strings as they
    /// are, numbers and booleans in JSON form) or an extracted space-delimited value.
    pub fn resolve(&self, index: usize, selector: &Selector) -> Option<String> {
        match selector {
            Selector::Json(path) => match eval::select(self.json.as_ref()?, path)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            },
            Selector::Field(key) => self
                .results
                .get(index)?
                .as_ref()?
                .get(key)
                .map(str::to_owned),
        }
    }
}
