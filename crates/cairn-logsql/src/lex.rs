//! The tokenizer, written with `winnow`: identifiers (letters, digits, `_`, `.`, `@`; anything
//! else in backticks), numbers and durations (`5m`, `1h`), strings in single or double quotes,
//! `/regex/` where an operand is expected (elsewhere `/` divides), and operators; `#` starts a
//! comment that runs to the end of its line.

use winnow::prelude::*;
use winnow::token::{any, take_while};

use crate::QueryError;

/// A token and where it starts and ends in the query.
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    /// What it is.
    pub kind: Tok,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset after its last character.
    pub end: usize,
}

/// Token kinds.
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    /// A field name or keyword.
    Ident(String),
    /// A backticked field name.
    Quoted(String),
    /// A number.
    Number(f64),
    /// A duration in milliseconds (`5m`).
    Duration(i64),
    /// A string literal.
    Str(String),
    /// A `/regex/` literal.
    Regex(String),
    /// An operator or punctuation.
    Punct(&'static str),
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == '@' || c == '$'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@' || c == '$'
}

/// Operators, longest first.
const PUNCT: [&str; 20] = [
    "=~", "!=", "<=", ">=", "==", "|", ",", "(", ")", "[", "]", "+", "-", "*", "/", "%", "^", "=",
    "<", ">",
];

fn punct(i: &mut &str) -> Option<&'static str> {
    let p = PUNCT.iter().find(|p| i.starts_with(**p))?;
    *i = &i[p.len()..];
    Some(if *p == "==" { "=" } else { p })
}

fn quoted(i: &mut &str, quote: char) -> ModalResult<String> {
    let _ = any.parse_next(i)?;
    let mut out = String::new();
    loop {
        let c = any.parse_next(i)?;
        if c == quote {
            return Ok(out);
        }
        if c == '\\' {
            let next = any.parse_next(i)?;
            match next {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                c if c == quote || c == '\\' => out.push(c),
                c => {
                    out.push('\\');
                    out.push(c);
                }
            }
        } else {
            out.push(c);
        }
    }
}

fn duration_unit(unit: &str) -> Option<i64> {
    Some(match unit {
        "ms" => 1,
        "s" | "sec" | "second" | "seconds" => 1_000,
        "m" | "min" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 7 * 86_400_000,
        _ => return None,
    })
}

/// Words after which an operand (so a `/regex/`) comes.
const OPERAND_BEFORE: [&str; 12] = [
    "like", "and", "or", "not", "in", "filter", "by", "fields", "display", "stats", "sort", "as",
];

fn expects_operand(prev: Option<&Tok>, before: Option<&Tok>) -> bool {
    match prev {
        // `parse <field> /regex/`
        Some(Tok::Ident(_) | Tok::Quoted(_)) if matches!(before, Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("parse")) => {
            true
        }
        Some(Tok::Ident(w)) => OPERAND_BEFORE.iter().any(|k| w.eq_ignore_ascii_case(k)),
        Some(Tok::Quoted(_) | Tok::Number(_) | Tok::Duration(_) | Tok::Str(_) | Tok::Regex(_))
        | Some(Tok::Punct(")" | "]")) => false,
        _ => true,
    }
}

/// The longest prefix of `rest` whose characters satisfy `pred` (consumed).
fn take<'a>(rest: &mut &'a str, pred: fn(char) -> bool) -> &'a str {
    take_while::<_, _, winnow::error::EmptyError>(0.., pred)
        .parse_next(rest)
        .unwrap_or("")
}

/// Splits a query into tokens.
pub fn tokenize(query: &str) -> Result<Vec<Token>, QueryError> {
    let mut out: Vec<Token> = Vec::new();
    let mut rest = query;
    let err = |at: usize, what: &str| QueryError::at(at, format!("unexpected {what}"));
    loop {
        rest = rest.trim_start();
        let start = query.len() - rest.len();
        let Some(c) = rest.chars().next() else {
            return Ok(out);
        };
        // A comment: `#` to the end of the line (outside strings, regexes and field names).
        if c == '#' {
            rest = rest.split_once('\n').map_or("", |(_, after)| after);
            continue;
        }
        let prev = out.last().map(|t| &t.kind);
        let before = out.len().checked_sub(2).map(|k| &out[k].kind);
        let kind = if is_ident_start(c) {
            let word = take(&mut rest, is_ident_char);
            Tok::Ident(word.trim_end_matches('.').to_owned())
        } else if c.is_ascii_digit() {
            let digits = take(&mut rest, |c: char| c.is_ascii_digit() || c == '.');
            let unit = take(&mut rest, |c: char| c.is_ascii_alphabetic());
            let n: f64 = digits.parse().map_err(|_| err(start, "number"))?;
            if unit.is_empty() {
                Tok::Number(n)
            } else {
                let ms = duration_unit(unit).ok_or_else(|| err(start, "time unit"))?;
                Tok::Duration((n * ms as f64) as i64)
            }
        } else if c == '"' || c == '\'' {
            Tok::Str(quoted(&mut rest, c).map_err(|_| err(start, "end of string"))?)
        } else if c == '`' {
            Tok::Quoted(quoted(&mut rest, '`').map_err(|_| err(start, "end of field name"))?)
        } else if c == '/' && expects_operand(prev, before) {
            let body = &rest[1..];
            let mut end = None;
            let mut escaped = false;
            for (k, ch) in body.char_indices() {
                match ch {
                    '\\' if !escaped => escaped = true,
                    '/' if !escaped => {
                        end = Some(k);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            let end = end.ok_or_else(|| err(start, "end of regular expression"))?;
            let re = body[..end].replace("\\/", "/");
            rest = &body[end + 1..];
            Tok::Regex(re)
        } else {
            Tok::Punct(punct(&mut rest).ok_or_else(|| err(start, "character"))?)
        };
        out.push(Token {
            kind,
            start,
            end: query.len() - rest.len(),
        });
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn comments_run_to_the_end_of_their_line() {
        let kinds = |q: &str| {
            tokenize(q)
                .unwrap()
                .into_iter()
                .map(|t| t.kind)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds("fields a # the field\n# a whole line\n| limit 2"),
            kinds("fields a | limit 2")
        );
        assert_eq!(
            kinds("filter x = \"#1\""),
            vec![
                Tok::Ident("filter".into()),
                Tok::Ident("x".into()),
                Tok::Punct("="),
                Tok::Str("#1".into()),
            ]
        );
    }

    use super::*;

    fn kinds(q: &str) -> Vec<Tok> {
        tokenize(q).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn regex_versus_division() {
        assert_eq!(
            kinds("filter a like /x\\/y/ | fields b / 2"),
            vec![
                Tok::Ident("filter".into()),
                Tok::Ident("a".into()),
                Tok::Ident("like".into()),
                Tok::Regex("x/y".into()),
                Tok::Punct("|"),
                Tok::Ident("fields".into()),
                Tok::Ident("b".into()),
                Tok::Punct("/"),
                Tok::Number(2.0)
            ]
        );
    }

    #[test]
    fn durations_strings_and_fields() {
        assert_eq!(
            kinds("bin(5m) 'a\\'b' `foo-bar` @timestamp userIdentity.type"),
            vec![
                Tok::Ident("bin".into()),
                Tok::Punct("("),
                Tok::Duration(300_000),
                Tok::Punct(")"),
                Tok::Str("a'b".into()),
                Tok::Quoted("foo-bar".into()),
                Tok::Ident("@timestamp".into()),
                Tok::Ident("userIdentity.type".into())
            ]
        );
        assert!(tokenize("fields 'open").is_err());
        assert!(tokenize("fields 5parsecs").is_err());
    }
}
