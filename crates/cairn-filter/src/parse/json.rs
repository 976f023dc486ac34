//! JSON patterns (§2.4):
//!
//! ```text
//! json  := "{" expr "}"
//! expr  := and ( "||" and )*          ; ( ) > && > ||
//! and   := atom ( "&&" atom )*
//! atom  := "(" expr ")" | cond
//! cond  := sel op value | sel "IS" ("NULL"|"TRUE"|"FALSE") | sel "NOT" "EXISTS"
//! sel   := "$" ( "." name | "[" digits "]" )+   ; the first step is a key
//! ```
//!
//! Ordering operators need a bare number. Nesting is bounded so no input can exhaust the
//! stack.

use winnow::combinator::{alt, cut_err, fail};
use winnow::prelude::*;
use winnow::token::take_while;

use super::common::{op, operand, ws};
use crate::ast::{Check, Cond, JsonTest, Operand, Step};

/// Deepest parenthesis nesting accepted.
const MAX_DEPTH: usize = 32;

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._*+-".contains(c)
}

fn steps(i: &mut &str) -> ModalResult<Vec<Step>> {
    '$'.parse_next(i)?;
    let mut out = Vec::new();
    loop {
        if let Some(rest) = i.strip_prefix('.') {
            *i = rest;
            let key = take_while(1.., is_key_char).parse_next(i)?;
            out.push(Step::Key(key.to_owned()));
        } else if !out.is_empty()
            && let Some(rest) = i.strip_prefix('[')
        {
            *i = rest;
            let digits = take_while(1..=9, |c: char| c.is_ascii_digit()).parse_next(i)?;
            ']'.parse_next(i)?;
            out.push(Step::Index(digits.parse().expect("digits")));
        } else {
            break;
        }
    }
    if out.is_empty() {
        return fail.parse_next(i);
    }
    Ok(out)
}

/// Parses a whole selector (`$.a.b[0]`), as metric values and dimensions name them.
pub(crate) fn selector(text: &str) -> Option<Vec<Step>> {
    steps.parse(text).ok()
}

fn keyword<'a>(
    word: &'static str,
) -> impl Parser<&'a str, (), winnow::error::ErrMode<winnow::error::ContextError>> {
    move |i: &mut &'a str| {
        word.void().parse_next(i)?;
        match i.chars().next() {
            Some(c) if c.is_ascii_alphanumeric() => fail.parse_next(i),
            _ => Ok(()),
        }
    }
}

fn cond(i: &mut &str) -> ModalResult<JsonTest> {
    let path = cut_err(steps).parse_next(i)?;
    ws(i)?;
    if keyword("IS").parse_next(&mut &**i).is_ok() {
        keyword("IS").parse_next(i)?;
        ws(i)?;
        let check = cut_err(alt((
            keyword("NULL").value(Check::IsNull),
            keyword("TRUE").value(Check::IsTrue),
            keyword("FALSE").value(Check::IsFalse),
        )))
        .parse_next(i)?;
        return Ok(JsonTest { path, check });
    }
    if keyword("NOT").parse_next(&mut &**i).is_ok() {
        keyword("NOT").parse_next(i)?;
        ws(i)?;
        cut_err(keyword("EXISTS")).parse_next(i)?;
        return Ok(JsonTest {
            path,
            check: Check::NotExists,
        });
    }
    let op = cut_err(op).parse_next(i)?;
    ws(i)?;
    let (value, quoted) = operand(is_value_char, ")&|}").parse_next(i)?;
    if op.is_ordering() && (quoted || !matches!(value, Operand::Number(_))) {
        return cut_err(fail).parse_next(i);
    }
    Ok(JsonTest {
        path,
        check: Check::Compare(op, value),
    })
}

fn atom(i: &mut &str, depth: usize) -> ModalResult<Cond<JsonTest>> {
    if let Some(rest) = i.strip_prefix('(') {
        if depth >= MAX_DEPTH {
            return cut_err(fail).parse_next(i);
        }
        *i = rest;
        ws(i)?;
        let inner = expr(i, depth + 1)?;
        ws(i)?;
        cut_err(')').parse_next(i)?;
        return Ok(inner);
    }
    cond(i).map(Cond::Test)
}

fn and(i: &mut &str, depth: usize) -> ModalResult<Cond<JsonTest>> {
    let mut items = vec![atom(i, depth)?];
    loop {
        ws(i)?;
        match i.strip_prefix("&&") {
            Some(rest) => {
                *i = rest;
                ws(i)?;
                items.push(atom(i, depth)?);
            }
            None => break,
        }
    }
    Ok(if items.len() == 1 {
        items.pop().expect("one")
    } else {
        Cond::And(items)
    })
}

fn expr(i: &mut &str, depth: usize) -> ModalResult<Cond<JsonTest>> {
    let mut items = vec![and(i, depth)?];
    loop {
        ws(i)?;
        match i.strip_prefix("||") {
            Some(rest) => {
                *i = rest;
                ws(i)?;
                items.push(and(i, depth)?);
            }
            None => break,
        }
    }
    Ok(if items.len() == 1 {
        items.pop().expect("one")
    } else {
        Cond::Or(items)
    })
}

/// The whole pattern.
pub(super) fn pattern(i: &mut &str) -> ModalResult<Cond<JsonTest>> {
    '{'.parse_next(i)?;
    ws(i)?;
    let e = expr(i, 0)?;
    ws(i)?;
    cut_err('}').parse_next(i)?;
    ws(i)?;
    Ok(e)
}
