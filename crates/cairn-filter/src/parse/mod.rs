//! The parser: classifies a pattern (§2.1) and hands it to the grammar of its kind, built with
//! `winnow`. Failures carry AWS's wording (§2.6): `Invalid character(s) in term '<c>'` for an
//! unquoted character a term may not hold, `Invalid metric filter pattern` for anything else.

mod common;
mod delimited;
mod json;
mod terms;

use winnow::Parser;
use winnow::error::{ContextError, ParseError, StrContext};

use crate::ast::Pattern;
use crate::error::PatternError;

pub use common::is_number;
pub(crate) use json::selector;

/// Context label marking an unquoted character a term or value may not hold.
pub(crate) const TERM: &str = "term";

/// Most `%regex%` a pattern may hold (§2.5).
pub const MAX_REGEX_PER_PATTERN: usize = 2;

/// Parses `source` into its syntax tree.
pub fn parse(source: &str) -> Result<Pattern, PatternError> {
    let text = source.trim();
    if text.is_empty() {
        return Ok(Pattern::MatchAll);
    }
    let parsed = if text.starts_with('{') {
        json::pattern.parse(text).map(Pattern::Json)
    } else if text.starts_with('[') {
        delimited::pattern.parse(text).map(Pattern::Delimited)
    } else if is_standalone_regex(text) {
        return common::regex_from(&text[1..text.len() - 1])
            .map(Pattern::Regex)
            .ok_or_else(PatternError::invalid);
    } else {
        terms::pattern.parse(text).map(Pattern::Terms)
    };
    let pattern = parsed.map_err(|e| classify(text, &e))?;
    if regex_count(&pattern) > MAX_REGEX_PER_PATTERN {
        return Err(PatternError::new(format!(
            "Invalid metric filter pattern: at most {MAX_REGEX_PER_PATTERN} regular expressions are allowed in a filter pattern."
        )));
    }
    Ok(pattern)
}

/// `%…%` with no other `%` inside.
fn is_standalone_regex(text: &str) -> bool {
    text.len() >= 2
        && text.starts_with('%')
        && text.ends_with('%')
        && !text[1..text.len() - 1].contains('%')
}

/// How many regular expressions a pattern holds.
pub fn regex_count(pattern: &Pattern) -> usize {
    use crate::ast::{Check, Operand, Slot};
    match pattern {
        Pattern::Regex(_) => 1,
        Pattern::Json(cond) => cond
            .tests()
            .iter()
            .filter(|t| matches!(t.check, Check::Compare(_, Operand::Regex(_))))
            .count(),
        Pattern::Delimited(d) => d
            .slots
            .iter()
            .filter_map(|s| match s {
                Slot::Field {
                    condition: Some(c), ..
                } => Some(c),
                _ => None,
            })
            .flat_map(|c| c.tests())
            .filter(|t| matches!(t.operand, Operand::Regex(_)))
            .count(),
        Pattern::MatchAll | Pattern::Terms(_) => 0,
    }
}

fn classify(text: &str, error: &ParseError<&str, ContextError>) -> PatternError {
    let is_term = error
        .inner()
        .context()
        .any(|c| matches!(c, StrContext::Label(l) if *l == TERM));
    if is_term {
        let rest = &text[error.offset().min(text.len())..];
        let fragment: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && !common::is_bare_term_char(*c))
            .collect();
        let fragment = if fragment.is_empty() {
            rest.chars().take(1).collect()
        } else {
            fragment
        };
        PatternError::new(format!("Invalid character(s) in term '{fragment}'"))
    } else {
        PatternError::invalid()
    }
}
