//! Grammar pieces shared by the pattern kinds: quoted strings, `%regex%` (with AWS's character
//! rules), operators, and comparison operands.

use winnow::combinator::{alt, cut_err, fail};
use winnow::error::{ContextError, ErrMode, StrContext};
use winnow::prelude::*;
use winnow::token::{any, take_till, take_while};

use super::TERM;
use crate::ast::{Glob, Op, Operand, Re};

/// Characters an unquoted unstructured term may hold (§2.2).
pub(crate) fn is_bare_term_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Optional whitespace.
pub(crate) fn ws(i: &mut &str) -> ModalResult<()> {
    take_while(0.., char::is_whitespace).void().parse_next(i)
}

/// A double-quoted string; `\"` and `\\` are escapes, other backslashes are kept.
pub(crate) fn quoted(i: &mut &str) -> ModalResult<String> {
    '"'.parse_next(i)?;
    let mut out = String::new();
    loop {
        match cut_err(any)
            .context(StrContext::Label("quote"))
            .parse_next(i)?
        {
            '"' => return Ok(out),
            '\\' => match i.chars().next() {
                Some(c @ ('"' | '\\')) => {
                    out.push(c);
                    *i = &i[1..];
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
}

/// Whether a character may appear in a `%regex%` (§2.5: letters, digits, a few symbols and the
/// supported operators; no parentheses, no multi-byte characters).
fn is_regex_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_#=@/;,-:^$?[]{}|\\*+.".contains(c)
}

/// Validates and compiles the text of a `%regex%`; `None` if AWS would reject it.
pub(crate) fn regex_from(source: &str) -> Option<Re> {
    if source.is_empty() || !source.chars().all(is_regex_char) {
        return None;
    }
    let regex = regex::RegexBuilder::new(source)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .ok()?;
    Some(Re {
        source: source.to_owned(),
        regex,
    })
}

/// `%…%` as an operand.
pub(crate) fn regex_literal(i: &mut &str) -> ModalResult<Re> {
    '%'.parse_next(i)?;
    let body = take_till(0.., '%').parse_next(i)?;
    cut_err('%').parse_next(i)?;
    match regex_from(body) {
        Some(re) => Ok(re),
        None => cut_err(fail.context(StrContext::Label("regex"))).parse_next(i),
    }
}

/// A comparison operator.
pub(crate) fn op(i: &mut &str) -> ModalResult<Op> {
    alt((
        "!=".value(Op::Ne),
        "<=".value(Op::Le),
        ">=".value(Op::Ge),
        "=".value(Op::Eq),
        "<".value(Op::Lt),
        ">".value(Op::Gt),
    ))
    .parse_next(i)
}

/// Whether `text` is a number as filter patterns write them:
/// `[+-]? digits ('.' digits)? ([eE] [+-]? digits)?`.
pub fn is_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut k = 0;
    let digits = |k: &mut usize| {
        let start = *k;
        while *k < b.len() && b[*k].is_ascii_digit() {
            *k += 1;
        }
        *k > start
    };
    if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
        k += 1;
    }
    if !digits(&mut k) {
        return false;
    }
    if k < b.len() && b[k] == b'.' {
        k += 1;
        if !digits(&mut k) {
            return false;
        }
    }
    if k < b.len() && (b[k] == b'e' || b[k] == b'E') {
        k += 1;
        if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
            k += 1;
        }
        if !digits(&mut k) {
            return false;
        }
    }
    k == b.len()
}

/// The operand a string denotes: `*` alone is any value, a `*` at either end makes a glob.
fn text_operand(text: String) -> Operand {
    let leading = text.starts_with('*');
    let body = if leading { &text[1..] } else { text.as_str() };
    let trailing = body.ends_with('*');
    let core = if trailing {
        &body[..body.len() - 1]
    } else {
        body
    };
    if !leading && !trailing {
        return Operand::Text(text);
    }
    if core.is_empty() {
        return Operand::Any;
    }
    Operand::Glob(Glob {
        leading,
        trailing,
        core: core.to_owned(),
    })
}

/// An operand: `"quoted"`, `%regex%`, or a bare run of `allowed` characters (a bare number is
/// numeric). A bare value must end at whitespace or one of `terminators`; any other character
/// is an invalid character in the term.
pub(crate) fn operand<'a>(
    allowed: fn(char) -> bool,
    terminators: &'static str,
) -> impl Parser<&'a str, (Operand, bool), ErrMode<ContextError>> {
    move |i: &mut &'a str| {
        if i.starts_with('"') {
            let text = quoted(i)?;
            return Ok((text_operand(text), true));
        }
        if i.starts_with('%') {
            return regex_literal
                .map(|r| (Operand::Regex(r), false))
                .parse_next(i);
        }
        let bare = take_while(0.., allowed).parse_next(i)?;
        if let Some(c) = i.chars().next()
            && !c.is_whitespace()
            && !terminators.contains(c)
        {
            return cut_err(fail.context(StrContext::Label(TERM))).parse_next(i);
        }
        if bare.is_empty() {
            return cut_err(fail).parse_next(i);
        }
        if !bare.contains('*') && is_number(bare) {
            return match bare.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok((Operand::Number(n), false)),
                _ => cut_err(fail).parse_next(i),
            };
        }
        Ok((text_operand(bare.to_owned()), false))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_documented_grammar() {
        for ok in ["1", "+1000", "-2", "55.5", "10e3", "10e-3", "1.5E+2"] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", "1.", ".5", "1e", "e3", "1.2.3", "4*", "0x10", "12a"] {
            assert!(!is_number(bad), "{bad}");
        }
    }

    #[test]
    fn stars_make_globs_or_any() {
        assert_eq!(text_operand("*".into()), Operand::Any);
        assert_eq!(text_operand("**".into()), Operand::Any);
        assert_eq!(text_operand("abc".into()), Operand::Text("abc".into()));
        let Operand::Glob(g) = text_operand("*Policy".into()) else {
            panic!()
        };
        assert!(g.leading && !g.trailing && g.core == "Policy");
        let Operand::Glob(g) = text_operand("4*".into()) else {
            panic!()
        };
        assert!(!g.leading && g.trailing && g.core == "4");
        assert_eq!(
            text_operand("Ev*ent".into()),
            Operand::Text("Ev*ent".into())
        );
    }

    #[test]
    fn regex_character_rules() {
        assert!(regex_from(r"ERROR|WARN").is_some());
        assert!(regex_from(r"Put[A-Za-z]+Policy").is_some());
        assert!(regex_from(r"\d{3}").is_some());
        assert!(regex_from("(a|b)").is_none());
        assert!(regex_from("something!").is_none());
        assert!(regex_from("é").is_none());
        assert!(regex_from("a b").is_none());
        assert!(regex_from("[").is_none());
    }
}
