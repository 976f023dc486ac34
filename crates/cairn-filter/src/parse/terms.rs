//! Unstructured terms (§2.2): `ERROR`, `"quoted phrase"`, `-excluded`, `?alternative`.
//!
//! Each `?term` opens an alternative; unprefixed terms that follow it join that alternative
//! (terms before the first `?` form their own). `-terms` apply to the whole pattern. A quoted
//! term of only whitespace (the documented `" "`) matches every message.

use winnow::combinator::{cut_err, fail, opt};
use winnow::error::StrContext;
use winnow::prelude::*;
use winnow::token::{one_of, take_while};

use super::TERM;
use super::common::{is_bare_term_char, quoted, ws};
use crate::ast::Terms;

fn term(i: &mut &str) -> ModalResult<String> {
    if i.starts_with('"') {
        return quoted(i);
    }
    let bare = take_while(0.., is_bare_term_char).parse_next(i)?;
    match i.chars().next() {
        Some(c) if !c.is_whitespace() => {
            cut_err(fail.context(StrContext::Label(TERM))).parse_next(i)
        }
        _ if bare.is_empty() => cut_err(fail).parse_next(i),
        _ => Ok(bare.to_owned()),
    }
}

/// The whole pattern.
pub(super) fn pattern(i: &mut &str) -> ModalResult<Terms> {
    let mut groups: Vec<Vec<String>> = vec![Vec::new()];
    let mut excluded = Vec::new();
    let mut opened = false;
    ws(i)?;
    while !i.is_empty() {
        let prefix = opt(one_of(['?', '-'])).parse_next(i)?;
        if prefix.is_some() {
            ws(i)?;
        }
        let text = term(i)?;
        ws(i)?;
        let match_all = text.chars().all(char::is_whitespace) && !text.is_empty();
        match prefix {
            Some('-') => {
                if !match_all {
                    excluded.push(text);
                }
            }
            Some(_) => {
                if !opened && groups[0].is_empty() {
                    groups.clear();
                }
                opened = true;
                groups.push(if match_all { Vec::new() } else { vec![text] });
            }
            None => {
                if !match_all {
                    groups.last_mut().expect("a group").push(text);
                }
            }
        }
    }
    Ok(Terms { groups, excluded })
}
