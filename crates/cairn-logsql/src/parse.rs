//! The parser: commands separated by `|`, expressions by precedence (`or` < `and` < `not` <
//! comparisons, `like`, `in` < `+ -` < `* / %` < `^` < unary `-`). Nesting is bounded.

use crate::QueryError;
use crate::ast::{AggFunc, Aggregate, BinOp, Command, Expr, Item, Pattern, Query};
use crate::lex::{Tok, Token, tokenize};
use crate::value::Val;

/// Deepest expression nesting accepted.
const MAX_DEPTH: usize = 64;

struct Parser<'q> {
    text: &'q str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
    /// The columns of the latest `stats` (its groups and aggregates, as written): a later
    /// `sort bin(5m) desc` or `display bin(5m)` names the column, not a new computation over
    /// `@timestamp`, which a stats row no longer has.
    stats_columns: Vec<String>,
}

fn regex(source: &str, at: usize) -> Result<regex::Regex, QueryError> {
    regex::RegexBuilder::new(source)
        .size_limit(1 << 20)
        .dfa_size_limit(1 << 20)
        .build()
        .map_err(|e| QueryError::at(at, format!("invalid regular expression: {e}")))
}

impl<'q> Parser<'q> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.pos).map_or(self.text.len(), |t| t.start)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, QueryError> {
        Err(QueryError::at(self.offset(), message))
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).map(|t| t.kind.clone());
        self.pos += 1;
        t
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let yes = self.is_punct(p);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), QueryError> {
        if self.eat_punct(p) {
            Ok(())
        } else {
            self.error(format!("expected '{p}'"))
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(x)) if x.eq_ignore_ascii_case(w))
    }

    fn eat_word(&mut self, w: &str) -> bool {
        let yes = self.is_word(w);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn name(&mut self) -> Result<String, QueryError> {
        match self.next() {
            Some(Tok::Ident(n) | Tok::Quoted(n)) => Ok(n),
            _ => {
                self.pos -= 1;
                self.error("expected a field name")
            }
        }
    }

    /// An expression with its source text and optional `as alias`.
    fn item(&mut self) -> Result<Item, QueryError> {
        let start = self.offset();
        let expr = self.expr()?;
        let end = self.toks[self.pos - 1].end;
        let text = self.text[start..end].trim();
        let expr = self.stats_column(expr, text);
        let name = if self.eat_word("as") {
            self.name()?
        } else {
            match &expr {
                Expr::Field(f) => f.clone(),
                _ => text.to_owned(),
            }
        };
        Ok(Item { expr, name })
    }

    /// `expr` as the latest `stats` column written as `text`, when it is a function call
    /// naming one (`bin(5m)`, `count(*)`); else `expr` itself.
    fn stats_column(&self, expr: Expr, text: &str) -> Expr {
        match expr {
            Expr::Call(..) if self.stats_columns.iter().any(|c| c == text) => {
                Expr::Field(text.to_owned())
            }
            e => e,
        }
    }

    fn items(&mut self) -> Result<Vec<Item>, QueryError> {
        let mut out = vec![self.item()?];
        while self.eat_punct(",") {
            out.push(self.item()?);
        }
        Ok(out)
    }

    fn expr(&mut self) -> Result<Expr, QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return self.error("expression nested too deeply");
        }
        let e = self.or();
        self.depth -= 1;
        e
    }

    fn or(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.and()?;
        while self.eat_word("or") {
            left = Expr::Bin(BinOp::Or, Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.not()?;
        while self.eat_word("and") {
            left = Expr::Bin(BinOp::And, Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, QueryError> {
        if self.eat_word("not") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return self.error("expression nested too deeply");
            }
            let inner = self.not();
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner?)));
        }
        self.comparison()
    }

    fn like_pattern(&mut self) -> Result<Pattern, QueryError> {
        let at = self.offset();
        match self.next() {
            Some(Tok::Str(s)) => Ok(Pattern::Substring(s)),
            Some(Tok::Regex(r)) => Ok(Pattern::Regex(regex(&r, at)?)),
            _ => {
                self.pos -= 1;
                self.error("expected a string or a /regular expression/")
            }
        }
    }

    fn comparison(&mut self) -> Result<Expr, QueryError> {
        let left = self.additive()?;
        let negated = self.is_word("not")
            && matches!(self.toks.get(self.pos + 1).map(|t| &t.kind), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case("like") || w.eq_ignore_ascii_case("in"));
        if negated {
            self.pos += 1;
        }
        if self.eat_word("like") || (!negated && self.eat_punct("=~")) {
            let p = self.like_pattern()?;
            return Ok(Expr::Like(Box::new(left), p, negated));
        }
        if self.eat_word("in") {
            self.expect_punct("[")?;
            let mut list = Vec::new();
            if !self.is_punct("]") {
                list.push(self.expr()?);
                while self.eat_punct(",") {
                    list.push(self.expr()?);
                }
            }
            self.expect_punct("]")?;
            return Ok(Expr::In(Box::new(left), list, negated));
        }
        if negated {
            return self.error("expected 'like' or 'in'");
        }
        let op = match self.peek() {
            Some(Tok::Punct("=")) => BinOp::Eq,
            Some(Tok::Punct("!=")) => BinOp::Ne,
            Some(Tok::Punct("<")) => BinOp::Lt,
            Some(Tok::Punct("<=")) => BinOp::Le,
            Some(Tok::Punct(">")) => BinOp::Gt,
            Some(Tok::Punct(">=")) => BinOp::Ge,
            _ => return Ok(left),
        };
        self.pos += 1;
        let right = self.additive()?;
        Ok(Expr::Bin(op, Box::new(left), Box::new(right)))
    }

    fn additive(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_punct("+") {
                BinOp::Add
            } else if self.eat_punct("-") {
                BinOp::Sub
            } else {
                return Ok(left);
            };
            left = Expr::Bin(op, Box::new(left), Box::new(self.multiplicative()?));
        }
    }

    fn multiplicative(&mut self) -> Result<Expr, QueryError> {
        let mut left = self.power()?;
        loop {
            let op = if self.eat_punct("*") {
                BinOp::Mul
            } else if self.eat_punct("/") {
                BinOp::Div
            } else if self.eat_punct("%") {
                BinOp::Rem
            } else {
                return Ok(left);
            };
            left = Expr::Bin(op, Box::new(left), Box::new(self.power()?));
        }
    }

    fn power(&mut self) -> Result<Expr, QueryError> {
        let base = self.unary()?;
        if self.eat_punct("^") {
            let exp = self.unary()?;
            return Ok(Expr::Bin(BinOp::Pow, Box::new(base), Box::new(exp)));
        }
        Ok(base)
    }

    fn unary(&mut self) -> Result<Expr, QueryError> {
        if self.eat_punct("-") {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return self.error("expression nested too deeply");
            }
            let inner = self.unary();
            self.depth -= 1;
            return Ok(Expr::Neg(Box::new(inner?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, QueryError> {
        let at = self.offset();
        match self.next() {
            Some(Tok::Number(n)) => Ok(Expr::Lit(Val::Num(n))),
            Some(Tok::Duration(ms)) => Ok(Expr::Lit(Val::Num(ms as f64))),
            Some(Tok::Str(s)) => Ok(Expr::Lit(Val::Str(s))),
            Some(Tok::Regex(_)) => Err(QueryError::at(
                at,
                "a regular expression is only allowed after like or =~",
            )),
            Some(Tok::Quoted(n)) => Ok(Expr::Field(n)),
            Some(Tok::Punct("(")) => {
                let e = self.expr()?;
                self.expect_punct(")")?;
                Ok(e)
            }
            Some(Tok::Ident(n)) if self.is_punct("(") => {
                self.pos += 1;
                let mut args = Vec::new();
                if !self.is_punct(")") {
                    if self.eat_punct("*") {
                        args.push(Expr::Lit(Val::Str("*".into())));
                    } else {
                        args.push(self.expr()?);
                    }
                    while self.eat_punct(",") {
                        args.push(self.expr()?);
                    }
                }
                self.expect_punct(")")?;
                Ok(Expr::Call(n.to_ascii_lowercase(), args))
            }
            Some(Tok::Ident(n)) => match n.to_ascii_lowercase().as_str() {
                "true" => Ok(Expr::Lit(Val::Bool(true))),
                "false" => Ok(Expr::Lit(Val::Bool(false))),
                _ => Ok(Expr::Field(n)),
            },
            _ => Err(QueryError::at(at, "expected an expression")),
        }
    }

    fn aggregate(&mut self) -> Result<Aggregate, QueryError> {
        let item = self.item()?;
        let Expr::Call(name, args) = item.expr else {
            return self.error("stats needs an aggregate function such as count(*)");
        };
        let func = AggFunc::from_name(&name).ok_or_else(|| {
            QueryError::at(self.offset(), format!("unknown aggregate function {name}"))
        })?;
        let star = |a: &Expr| matches!(a, Expr::Lit(Val::Str(s)) if s == "*");
        let (arg, param) = match (func, args.as_slice()) {
            (AggFunc::Count, []) => (None, None),
            (AggFunc::Count, [a]) if star(a) => (None, None),
            (AggFunc::Pct, [a, Expr::Lit(Val::Num(p))]) => (Some(a.clone()), Some(*p)),
            (AggFunc::Pct, _) => return self.error("pct takes a field and a percentile"),
            (_, [a]) if !star(a) => (Some(a.clone()), None),
            _ => return self.error(format!("{name} takes one argument")),
        };
        Ok(Aggregate {
            func,
            arg,
            param,
            name: item.name,
        })
    }

    fn parse_command(&mut self) -> Result<Command, QueryError> {
        let source = self.expr()?;
        let at = self.offset();
        match self.next() {
            Some(Tok::Regex(r)) => {
                let regex = regex(&r, at)?;
                let names: Vec<String> =
                    regex.capture_names().flatten().map(str::to_owned).collect();
                if names.is_empty() {
                    return Err(QueryError::at(
                        at,
                        "the regular expression of parse needs named groups",
                    ));
                }
                Ok(Command::Parse {
                    source,
                    regex,
                    names,
                })
            }
            Some(Tok::Str(glob)) => {
                let parts: Vec<&str> = glob.split('*').collect();
                let mut re = String::new();
                for (k, part) in parts.iter().enumerate() {
                    re.push_str(&regex::escape(part));
                    if k + 1 < parts.len() {
                        // Each `*` stops at the first text that follows it; one that ends the
                        // pattern takes the rest of the message.
                        let ends_pattern = k + 2 == parts.len() && parts[k + 1].is_empty();
                        re.push_str(if ends_pattern { "(.*)" } else { "(.*?)" });
                    }
                }
                if !self.eat_word("as") {
                    return self.error("expected 'as' after the parse pattern");
                }
                let mut names = vec![self.name()?];
                while self.eat_punct(",") {
                    names.push(self.name()?);
                }
                if names.len() != parts.len() - 1 {
                    return Err(QueryError::at(at, "parse needs one field name per '*'"));
                }
                Ok(Command::Parse {
                    source,
                    regex: regex(&re, at)?,
                    names,
                })
            }
            _ => Err(QueryError::at(
                at,
                "expected a pattern in quotes or a /regular expression/",
            )),
        }
    }

    fn command(&mut self) -> Result<Command, QueryError> {
        let at = self.offset();
        let word = match self.next() {
            Some(Tok::Ident(w)) => w.to_ascii_lowercase(),
            _ => return Err(QueryError::at(at, "expected a command")),
        };
        match word.as_str() {
            "fields" => Ok(Command::Fields(self.items()?)),
            "display" => Ok(Command::Display(self.items()?)),
            "filter" => Ok(Command::Filter(self.expr()?)),
            "stats" => {
                // Its aggregates and groups are computed over the rows as they come, not
                // read from the columns of an earlier `stats` written the same way.
                self.stats_columns.clear();
                let mut aggregates = vec![self.aggregate()?];
                while self.eat_punct(",") {
                    aggregates.push(self.aggregate()?);
                }
                let by = if self.eat_word("by") {
                    self.items()?
                } else {
                    Vec::new()
                };
                self.stats_columns = by
                    .iter()
                    .map(|b| b.name.clone())
                    .chain(aggregates.iter().map(|a| a.name.clone()))
                    .collect();
                Ok(Command::Stats { aggregates, by })
            }
            "sort" => {
                let mut keys = Vec::new();
                loop {
                    let start = self.offset();
                    let mut e = self.expr()?;
                    let end = self.toks[self.pos - 1].end;
                    let text = self.text[start..end].trim();
                    // `sort count(*) desc` after `stats count(*) by …`: an aggregate names the
                    // stats column written the same way.
                    if let Expr::Call(name, _) = &e
                        && AggFunc::from_name(name).is_some()
                        && !crate::eval::is_function(name)
                    {
                        e = Expr::Field(text.to_owned());
                    }
                    let e = self.stats_column(e, text);
                    let desc = if self.eat_word("desc") {
                        true
                    } else {
                        self.eat_word("asc");
                        false
                    };
                    keys.push((e, desc));
                    if !self.eat_punct(",") {
                        break;
                    }
                }
                Ok(Command::Sort(keys))
            }
            "limit" | "head" => match self.next() {
                Some(Tok::Number(n)) if n >= 1.0 && n.fract() == 0.0 && n <= 10_000.0 => {
                    Ok(Command::Limit(n as usize))
                }
                _ => Err(QueryError::at(
                    at,
                    "limit takes a whole number from 1 to 10000",
                )),
            },
            "parse" => self.parse_command(),
            "dedup" => {
                let mut names = vec![self.name()?];
                while self.eat_punct(",") {
                    names.push(self.name()?);
                }
                Ok(Command::Dedup(names))
            }
            other => Err(QueryError::at(at, format!("unknown command {other}"))),
        }
    }
}

/// Parses a query.
pub fn parse(text: &str) -> Result<Query, QueryError> {
    let toks = tokenize(text)?;
    let mut p = Parser {
        text,
        toks,
        pos: 0,
        depth: 0,
        stats_columns: Vec::new(),
    };
    let mut commands = Vec::new();
    loop {
        if p.peek().is_none() {
            if commands.is_empty() {
                return p.error("the query is empty");
            }
            return p.error("expected a command after '|'");
        }
        commands.push(p.command()?);
        if p.peek().is_none() {
            return Ok(Query { commands });
        }
        p.expect_punct("|")?;
    }
}
