//! Space-delimited patterns (§2.3): `[ip, user, ..., status_code = 4* && bytes > 1000, size]`.
//!
//! A slot is `...`, empty (an unnamed field), a name, or a name with conditions joined by `&&`
//! (binding tighter) and `||`. Conditions may name any field of the pattern.

use winnow::combinator::{alt, cut_err, fail};
use winnow::error::StrContext;
use winnow::prelude::*;
use winnow::token::take_while;

use super::TERM;
use super::common::{op, operand, ws};
use crate::ast::{Cond, Delimited, FieldTest, Operand, Slot};

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn is_value_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._*+-/:@#".contains(c)
}

fn name(i: &mut &str) -> ModalResult<String> {
    let n = take_while(0.., is_name_char).parse_next(i)?;
    if n.is_empty() {
        return match i.chars().next() {
            Some(c) if !c.is_whitespace() && c != ',' && c != ']' => {
                cut_err(fail.context(StrContext::Label(TERM))).parse_next(i)
            }
            _ => cut_err(fail).parse_next(i),
        };
    }
    Ok(n.to_owned())
}

fn test_after_name(field: String, i: &mut &str) -> ModalResult<FieldTest> {
    ws(i)?;
    let op = cut_err(op).parse_next(i)?;
    ws(i)?;
    let (operand, quoted) = operand(is_value_char, ",]&|").parse_next(i)?;
    if op.is_ordering() && (quoted || !matches!(operand, Operand::Number(_))) {
        return cut_err(fail).parse_next(i);
    }
    Ok(FieldTest { field, op, operand })
}

fn connector(i: &mut &str) -> ModalResult<bool> {
    alt(("&&".value(true), "||".value(false))).parse_next(i)
}

/// Groups `t0 c0 t1 c1 t2 …` into an OR of AND-groups.
fn precedence(first: FieldTest, rest: Vec<(bool, FieldTest)>) -> Cond<FieldTest> {
    let mut ors: Vec<Vec<FieldTest>> = vec![vec![first]];
    for (is_and, t) in rest {
        if is_and {
            ors.last_mut().expect("a group").push(t);
        } else {
            ors.push(vec![t]);
        }
    }
    let mut ors: Vec<Cond<FieldTest>> = ors
        .into_iter()
        .map(|mut ands| {
            if ands.len() == 1 {
                Cond::Test(ands.pop().expect("one"))
            } else {
                Cond::And(ands.into_iter().map(Cond::Test).collect())
            }
        })
        .collect();
    if ors.len() == 1 {
        ors.pop().expect("one")
    } else {
        Cond::Or(ors)
    }
}

fn slot(i: &mut &str) -> ModalResult<Slot> {
    if let Some(rest) = i.strip_prefix("...") {
        *i = rest;
        ws(i)?;
        return Ok(Slot::Ellipsis);
    }
    if i.starts_with(',') || i.starts_with(']') {
        return Ok(Slot::Field {
            name: None,
            condition: None,
        });
    }
    let field = name(i)?;
    ws(i)?;
    if i.starts_with(',') || i.starts_with(']') {
        return Ok(Slot::Field {
            name: Some(field),
            condition: None,
        });
    }
    let first = test_after_name(field.clone(), i)?;
    let mut rest = Vec::new();
    loop {
        ws(i)?;
        if i.starts_with(',') || i.starts_with(']') {
            break;
        }
        let is_and = cut_err(connector).parse_next(i)?;
        ws(i)?;
        let other = name(i)?;
        rest.push((is_and, test_after_name(other, i)?));
    }
    Ok(Slot::Field {
        name: Some(field),
        condition: Some(precedence(first, rest)),
    })
}

/// The whole pattern.
pub(super) fn pattern(i: &mut &str) -> ModalResult<Delimited> {
    '['.parse_next(i)?;
    ws(i)?;
    let mut slots = vec![slot(i)?];
    loop {
        ws(i)?;
        if i.starts_with(']') {
            *i = &i[1..];
            break;
        }
        cut_err(',').parse_next(i)?;
        ws(i)?;
        slots.push(slot(i)?);
    }
    ws(i)?;
    if slots.iter().filter(|s| matches!(s, Slot::Ellipsis)).count() > 1 {
        return cut_err(fail).parse_next(i);
    }
    Ok(Delimited { slots })
}
