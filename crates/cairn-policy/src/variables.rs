//! Policy variables: `${aws:username}`, `${key, 'default'}` and the escapes `${*}`, `${?}`,
//! `${$}`.
//!
//! Variables are recognised only in documents with `"Version": "2012-10-17"`; otherwise the
//! text is taken literally. A variable whose key is absent from the request context and has no
//! default makes the entry that uses it match nothing. Substituted values and escapes are
//! literal text: a `*` inside a user name is not a wildcard.

use std::borrow::Cow;

use crate::context::{Context, Missing};
use crate::glob::{Glob, GlobBuilder};

/// One piece of a value that may contain variables.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    /// Text as written (wildcards active for glob consumers).
    Text(String),
    /// Literal text from an escape.
    Escaped(char),
    /// A variable.
    Var {
        /// Key as written (for `MissingContextValues`).
        key: Box<str>,
        /// Key lower-cased (lookup).
        lower: Box<str>,
        /// `'default'` value, if given.
        default: Option<Box<str>>,
    },
}

/// A value that may contain policy variables, with its static compilation when it has none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Template {
    pieces: Vec<Piece>,
    /// The whole text when there is no variable (and no escape).
    plain: Option<Box<str>>,
    /// Compiled glob when static and a glob was requested.
    glob: Option<Glob>,
    fold: bool,
}

impl Template {
    /// Parses `text`; `vars` enables variables (Version 2012-10-17). With `as_glob` the static
    /// form is compiled into a glob (`fold`: ASCII case-insensitive).
    pub(crate) fn new(text: &str, vars: bool, as_glob: bool, fold: bool) -> Self {
        let pieces = if vars && text.contains("${") {
            split(text)
        } else {
            vec![Piece::Text(text.to_owned())]
        };
        let plain = match pieces.as_slice() {
            [Piece::Text(t)] => Some(t.clone().into_boxed_str()),
            _ => None,
        };
        let has_var = pieces.iter().any(|p| matches!(p, Piece::Var { .. }));
        let glob = (as_glob && !has_var).then(|| build_glob(&pieces, fold, |_| None));
        Self {
            pieces,
            plain,
            glob,
            fold,
        }
    }

    /// The text written in the policy when it has neither variables nor escapes.
    #[cfg(test)]
    pub(crate) fn plain(&self) -> Option<&str> {
        self.plain.as_deref()
    }

    /// Whether the template is a glob matching everything.
    pub(crate) fn is_any(&self) -> bool {
        self.glob.as_ref().is_some_and(Glob::is_any)
    }

    /// Resolves to a glob; `None` when a variable is absent (the entry matches nothing).
    pub(crate) fn glob<'s>(
        &'s self,
        ctx: &Context,
        missing: &mut Missing,
    ) -> Option<Cow<'s, Glob>> {
        if let Some(g) = &self.glob {
            return Some(Cow::Borrowed(g));
        }
        let mut absent = false;
        let g = build_glob(&self.pieces, self.fold, |p| {
            let v = resolve(p, ctx, missing);
            absent |= v.is_none();
            v
        });
        (!absent).then_some(Cow::Owned(g))
    }

    /// Resolves to text (wildcards not interpreted); `None` when a variable is absent.
    pub(crate) fn text<'s>(&'s self, ctx: &Context, missing: &mut Missing) -> Option<Cow<'s, str>> {
        if let Some(p) = &self.plain {
            return Some(Cow::Borrowed(p));
        }
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Escaped(c) => out.push(*c),
                var => out.push_str(resolve(var, ctx, missing)?),
            }
        }
        Some(Cow::Owned(out))
    }
}

fn resolve<'c>(piece: &'c Piece, ctx: &'c Context, missing: &mut Missing) -> Option<&'c str> {
    let Piece::Var {
        key,
        lower,
        default,
    } = piece
    else {
        return None;
    };
    match ctx.get_lower(lower).and_then(|v| v.first()) {
        Some(v) => Some(v.as_str()),
        None => {
            missing.note(key);
            default.as_deref()
        }
    }
}

fn build_glob<'a>(
    pieces: &'a [Piece],
    fold: bool,
    mut var: impl FnMut(&'a Piece) -> Option<&'a str>,
) -> Glob {
    let mut b = GlobBuilder::new(fold);
    for piece in pieces {
        match piece {
            Piece::Text(t) => b.wild(t),
            Piece::Escaped(c) => b.lit(c.encode_utf8(&mut [0; 4])),
            v => {
                if let Some(s) = var(v) {
                    b.lit(s);
                }
            }
        }
    }
    b.finish()
}

/// Splits text into pieces. An unterminated `${` stays literal text.
fn split(text: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = text;
    let mut buf = String::new();
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        buf.push_str(&rest[..start]);
        let inner = &rest[start + 2..start + 2 + len];
        rest = &rest[start + 3 + len..];
        let escaped = match inner {
            "*" => Some('*'),
            "?" => Some('?'),
            "$" => Some('$'),
            _ => None,
        };
        if !buf.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut buf)));
        }
        if let Some(c) = escaped {
            pieces.push(Piece::Escaped(c));
            continue;
        }
        let (key, default) = match inner.split_once(',') {
            Some((k, d)) => {
                let d = d.trim();
                let d = d
                    .strip_prefix('\'')
                    .and_then(|d| d.strip_suffix('\''))
                    .unwrap_or(d);
                (k.trim(), Some(d.into()))
            }
            None => (inner.trim(), None),
        };
        pieces.push(Piece::Var {
            key: key.into(),
            lower: key.to_ascii_lowercase().into(),
            default,
        });
    }
    buf.push_str(rest);
    if !buf.is_empty() || pieces.is_empty() {
        pieces.push(Piece::Text(buf));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> Context {
        Context::new().with("aws:username", "al*ce")
    }

    #[test]
    fn substitution_is_literal() {
        let t = Template::new("trail/${aws:username}-*", true, true, false);
        let mut m = Missing(None);
        let g = t.glob(&ctx(), &mut m).unwrap();
        assert!(g.matches("trail/al*ce-x"));
        assert!(!g.matches("trail/alice-x"));
    }

    #[test]
    fn old_version_is_literal() {
        let t = Template::new("trail/${aws:username}", false, true, false);
        assert!(
            t.glob(&ctx(), &mut Missing(None))
                .unwrap()
                .matches("trail/${aws:username}")
        );
    }

    #[test]
    fn escapes_defaults_and_absent() {
        let t = Template::new("a${*}b${?}${$}", true, true, false);
        let g = t.glob(&Context::new(), &mut Missing(None)).unwrap();
        assert!(g.matches("a*b?$"));
        assert!(!g.matches("aXbY$"));
        let d = Template::new("${aws:userid, 'none'}", true, false, false);
        assert_eq!(d.text(&Context::new(), &mut Missing(None)).unwrap(), "none");
        let a = Template::new("x/${aws:userid}", true, false, false);
        let mut seen = Vec::new();
        assert!(
            a.text(&Context::new(), &mut Missing(Some(&mut seen)))
                .is_none()
        );
        assert_eq!(seen, ["aws:userid"]);
        let u = Template::new("x/${unterminated", true, true, false);
        assert_eq!(u.plain(), Some("x/${unterminated"));
    }
}
