//! Compiled wildcard patterns: `*` matches any run of characters (including none), `?`
//! exactly one character, everything else itself.
//!
//! Patterns are compiled once at parse time into tokens. Matching walks the tokens against the
//! text without allocating; case folding (for action names) compares ASCII case-insensitively
//! against a pattern whose literals were lower-cased at compile time.

/// One token of a compiled pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Tok {
    /// Literal text.
    Lit(Box<str>),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// The shape of a pattern, for the fast paths.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    /// Only stars (matches everything).
    Any,
    /// No wildcard at all.
    Exact(Box<str>),
    /// A literal followed by one trailing star (`cloudtrail:Get*`).
    Prefix(Box<str>),
    /// Anything else.
    General,
}

/// A compiled glob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Glob {
    toks: Vec<Tok>,
    shape: Shape,
    fold: bool,
}

impl Glob {
    /// Compiles `pattern`, treating `*` and `?` as wildcards. With `fold`, matching ignores
    /// ASCII case.
    pub(crate) fn new(pattern: &str, fold: bool) -> Self {
        let mut b = GlobBuilder::new(fold);
        b.wild(pattern);
        b.finish()
    }

    /// Whether the pattern matches all of `text`.
    pub(crate) fn matches(&self, text: &str) -> bool {
        match &self.shape {
            Shape::Any => true,
            Shape::Exact(l) => eq(text, l, self.fold),
            Shape::Prefix(l) => text.len() >= l.len() && prefix_eq(text.as_bytes(), l, self.fold),
            Shape::General => match_toks(&self.toks, text.as_bytes(), self.fold),
        }
    }

    /// Whether the pattern matches every text (only stars).
    pub(crate) fn is_any(&self) -> bool {
        self.shape == Shape::Any
    }
}

/// Builds a glob from pieces, some of which are literal (variable values, escapes) and some
/// of which carry wildcards.
pub(crate) struct GlobBuilder {
    toks: Vec<Tok>,
    pending: String,
    fold: bool,
}

impl GlobBuilder {
    pub(crate) fn new(fold: bool) -> Self {
        Self {
            toks: Vec::new(),
            pending: String::new(),
            fold,
        }
    }

    /// Appends literal text.
    pub(crate) fn lit(&mut self, text: &str) {
        if self.fold {
            self.pending
                .extend(text.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            self.pending.push_str(text);
        }
    }

    /// Appends text in which `*` and `?` are wildcards.
    pub(crate) fn wild(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '*' => {
                    self.flush();
                    if self.toks.last() != Some(&Tok::Star) {
                        self.toks.push(Tok::Star);
                    }
                }
                '?' => {
                    self.flush();
                    self.toks.push(Tok::One);
                }
                c if self.fold => self.pending.push(c.to_ascii_lowercase()),
                c => self.pending.push(c),
            }
        }
    }

    fn flush(&mut self) {
        if !self.pending.is_empty() {
            let lit = std::mem::take(&mut self.pending);
            self.toks.push(Tok::Lit(lit.into_boxed_str()));
        }
    }

    pub(crate) fn finish(mut self) -> Glob {
        self.flush();
        let shape = match self.toks.as_slice() {
            [] => Shape::Exact("".into()),
            [Tok::Star] => Shape::Any,
            [Tok::Lit(l)] => Shape::Exact(l.clone()),
            [Tok::Lit(l), Tok::Star] => Shape::Prefix(l.clone()),
            _ => Shape::General,
        };
        Glob {
            toks: self.toks,
            shape,
            fold: self.fold,
        }
    }
}

fn eq(text: &str, lit: &str, fold: bool) -> bool {
    if fold {
        text.eq_ignore_ascii_case(lit)
    } else {
        text == lit
    }
}

fn prefix_eq(text: &[u8], lit: &str, fold: bool) -> bool {
    let head = &text[..lit.len()];
    if fold {
        head.eq_ignore_ascii_case(lit.as_bytes())
    } else {
        head == lit.as_bytes()
    }
}

/// Length in bytes of the UTF-8 character starting at `i`.
fn char_len(text: &[u8], i: usize) -> usize {
    match text[i] {
        b if b < 0x80 => 1,
        b if b >= 0xF0 => 4,
        b if b >= 0xE0 => 3,
        _ => 2,
    }
    .min(text.len() - i)
}

/// Token matching with backtracking to the most recent star (complete for globs: a later
/// star can absorb whatever an earlier one would have).
fn match_toks(toks: &[Tok], text: &[u8], fold: bool) -> bool {
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if pi < toks.len() {
            match &toks[pi] {
                Tok::Star => {
                    star = Some((pi + 1, ti));
                    pi += 1;
                    continue;
                }
                Tok::One if ti < text.len() => {
                    ti += char_len(text, ti);
                    pi += 1;
                    continue;
                }
                Tok::Lit(l) if text.len() - ti >= l.len() && prefix_eq(&text[ti..], l, fold) => {
                    ti += l.len();
                    pi += 1;
                    continue;
                }
                _ => {}
            }
        } else if ti == text.len() {
            return true;
        }
        match star {
            Some((sp, st)) if st < text.len() => {
                let next = st + char_len(text, st);
                star = Some((sp, next));
                pi = sp;
                ti = next;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_matching() {
        let g = |p: &str, t: &str| Glob::new(p, false).matches(t);
        assert!(g("*", ""));
        assert!(g("**", "abc"));
        assert!(g("abc", "abc"));
        assert!(!g("abc", "abcd"));
        assert!(g("ab*", "abcd"));
        assert!(!g("ab*", "a"));
        assert!(g("a?c", "abc"));
        assert!(!g("a?c", "abbc"));
        assert!(g("a*b*c", "aXbYbZc"));
        assert!(!g("a*b*c", "aXbYbZ"));
        assert!(g("*.txt", "x.y.txt"));
        assert!(g("?", "é"));
        assert!(g("a*é", "abcé"));
        assert!(!g("A*", "abc"));
        assert!(g("", ""));
        assert!(!g("", "a"));
    }

    #[test]
    fn folding() {
        let g = Glob::new("CloudTrail:Get*", true);
        assert!(g.matches("cloudtrail:gettrail"));
        assert!(g.matches("CLOUDTRAIL:GETTRAIL"));
        assert!(!g.matches("cloudtrail:StopLogging"));
        assert!(Glob::new("s3:*Object", true).matches("S3:GetOBJECT"));
    }

    #[test]
    fn literal_pieces_do_not_wildcard() {
        let mut b = GlobBuilder::new(false);
        b.wild("trail/");
        b.lit("a*b");
        b.wild("-*");
        let g = b.finish();
        assert!(g.matches("trail/a*b-x"));
        assert!(!g.matches("trail/aXb-x"));
    }
}
