//! Rows and expression evaluation: built-in `@` fields, fields discovered in JSON messages
//! (dotted paths, array indexes as numbers: `userIdentity.type`, `resources.0.ARN`), fields
//! computed by `fields`/`parse`/`stats`, operators and the scalar functions.

use std::cmp::Ordering;
use std::sync::{Arc, OnceLock};

use serde_json::Value;

use crate::ast::{BinOp, Expr, Pattern};
use crate::value::{Val, compare, equal};

/// A record as it comes from the log group.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    /// `@timestamp`, ms.
    pub timestamp: i64,
    /// `@ingestionTime`, ms.
    pub ingestion_time: i64,
    /// `@message`.
    pub message: &'a str,
    /// `@logStream`.
    pub log_stream: &'a str,
    /// `@log` (`<account>:<group>`).
    pub log: &'a str,
    /// `@ptr`.
    pub ptr: &'a str,
}

/// The record behind a row, owned, with its JSON parsed on first use.
#[derive(Debug)]
pub(crate) struct Base {
    timestamp: i64,
    ingestion_time: i64,
    message: String,
    log_stream: String,
    log: String,
    ptr: String,
    json: OnceLock<Option<Value>>,
}

impl Base {
    pub(crate) fn new(r: &Record<'_>) -> Self {
        Self {
            timestamp: r.timestamp,
            ingestion_time: r.ingestion_time,
            message: r.message.to_owned(),
            log_stream: r.log_stream.to_owned(),
            log: r.log.to_owned(),
            ptr: r.ptr.to_owned(),
            json: OnceLock::new(),
        }
    }

    pub(crate) fn timestamp(&self) -> i64 {
        self.timestamp
    }

    fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| {
                let t = self.message.trim_start();
                if t.starts_with('{') {
                    serde_json::from_str::<Value>(t).ok()
                } else {
                    None
                }
            })
            .as_ref()
    }
}

/// A row: the record it came from (none after `stats`) and the fields computed so far.
#[derive(Clone, Debug, Default)]
pub(crate) struct Row {
    pub(crate) base: Option<Arc<Base>>,
    pub(crate) fields: Vec<(String, Val)>,
}

impl Row {
    pub(crate) fn set(&mut self, name: &str, value: Val) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.fields.push((name.to_owned(), value)),
        }
    }

    pub(crate) fn get(&self, name: &str) -> Val {
        if let Some((_, v)) = self.fields.iter().find(|(n, _)| n == name) {
            return v.clone();
        }
        let Some(b) = &self.base else {
            return Val::Null;
        };
        match name {
            "@timestamp" => Val::Time(b.timestamp),
            "@ingestionTime" => Val::Time(b.ingestion_time),
            "@message" => Val::Str(b.message.clone()),
            "@logStream" => Val::Str(b.log_stream.clone()),
            "@log" => Val::Str(b.log.clone()),
            "@ptr" => Val::Str(b.ptr.clone()),
            _ => b.json().map_or(Val::Null, |j| json_field(j, name)),
        }
    }
}

/// A dotted path into a JSON object; numeric steps index arrays. Objects and arrays are not
/// field values.
fn json_field(root: &Value, path: &str) -> Val {
    let mut node = root;
    for step in path.split('.') {
        node = match node {
            Value::Object(m) => match m.get(step) {
                Some(v) => v,
                None => return Val::Null,
            },
            Value::Array(a) => match step.parse::<usize>().ok().and_then(|k| a.get(k)) {
                Some(v) => v,
                None => return Val::Null,
            },
            _ => return Val::Null,
        };
    }
    match node {
        Value::String(s) => Val::Str(s.clone()),
        Value::Number(n) => n.as_f64().map_or(Val::Null, Val::Num),
        Value::Bool(b) => Val::Bool(*b),
        _ => Val::Null,
    }
}

fn text(v: &Val) -> Option<String> {
    v.render()
}

fn num(v: Val) -> Option<f64> {
    v.as_num()
}

fn arith(op: BinOp, a: f64, b: f64) -> Val {
    let r = match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div if b != 0.0 => a / b,
        BinOp::Rem if b != 0.0 => a % b,
        BinOp::Pow => a.powf(b),
        _ => return Val::Null,
    };
    if r.is_finite() {
        Val::Num(r)
    } else {
        Val::Null
    }
}

/// How `x` and `y` compare in `<`, `<=`, `>`, `>=`: a number against text that is not a
/// number is neither (`filter n > 9` does not match `"abc"`); otherwise as sorting compares.
fn relate(x: &Val, y: &Val) -> Option<Ordering> {
    let mixed = matches!(
        (x, y),
        (Val::Num(_), Val::Str(_)) | (Val::Str(_), Val::Num(_))
    );
    if mixed && (x.as_num().is_none() || y.as_num().is_none()) {
        return None;
    }
    compare(x, y)
}

/// Evaluates an expression against a row.
pub(crate) fn eval(e: &Expr, row: &Row) -> Val {
    match e {
        Expr::Lit(v) => v.clone(),
        Expr::Field(f) => row.get(f),
        Expr::Not(inner) => Val::Bool(!eval(inner, row).truthy()),
        Expr::Neg(inner) => num(eval(inner, row)).map_or(Val::Null, |n| Val::Num(-n)),
        Expr::Bin(BinOp::And, a, b) => Val::Bool(eval(a, row).truthy() && eval(b, row).truthy()),
        Expr::Bin(BinOp::Or, a, b) => Val::Bool(eval(a, row).truthy() || eval(b, row).truthy()),
        Expr::Bin(op, a, b) => {
            let (x, y) = (eval(a, row), eval(b, row));
            match op {
                BinOp::Eq => Val::Bool(equal(&x, &y) == Some(true)),
                BinOp::Ne => Val::Bool(equal(&x, &y) == Some(false)),
                BinOp::Lt => Val::Bool(relate(&x, &y) == Some(Ordering::Less)),
                BinOp::Le => Val::Bool(matches!(
                    relate(&x, &y),
                    Some(Ordering::Less | Ordering::Equal)
                )),
                BinOp::Gt => Val::Bool(relate(&x, &y) == Some(Ordering::Greater)),
                BinOp::Ge => Val::Bool(matches!(
                    relate(&x, &y),
                    Some(Ordering::Greater | Ordering::Equal)
                )),
                _ => match (num(x), num(y)) {
                    (Some(a), Some(b)) => arith(*op, a, b),
                    _ => Val::Null,
                },
            }
        }
        Expr::Like(inner, pattern, negated) => {
            let v = eval(inner, row);
            let Some(t) = text(&v) else {
                return Val::Bool(false);
            };
            let hit = match pattern {
                Pattern::Substring(s) => t.contains(s.as_str()),
                Pattern::Regex(re) => re.is_match(&t),
            };
            Val::Bool(hit != *negated)
        }
        Expr::In(inner, list, negated) => {
            let v = eval(inner, row);
            if v.is_null() {
                return Val::Bool(false);
            }
            let hit = list.iter().any(|x| equal(&v, &eval(x, row)) == Some(true));
            Val::Bool(hit != *negated)
        }
        Expr::Call(name, args) => call(name, args, row),
    }
}

fn trim_with(s: &str, chars: Option<&str>, left: bool, right: bool) -> String {
    let set = |c: char| match chars {
        Some(cs) => cs.contains(c),
        None => c.is_whitespace(),
    };
    let mut t = s;
    if left {
        t = t.trim_start_matches(set);
    }
    if right {
        t = t.trim_end_matches(set);
    }
    t.to_owned()
}

fn floor_to(ms: i64, period: i64) -> i64 {
    if period <= 0 {
        ms
    } else {
        ms.div_euclid(period) * period
    }
}

fn call(name: &str, args: &[Expr], row: &Row) -> Val {
    let vals: Vec<Val> = args.iter().map(|a| eval(a, row)).collect();
    let n = |k: usize| vals.get(k).and_then(Val::as_num);
    let s = |k: usize| vals.get(k).and_then(text);
    let unary = |f: fn(f64) -> f64| {
        n(0).map(f)
            .filter(|v| v.is_finite())
            .map_or(Val::Null, Val::Num)
    };
    match name {
        "abs" => unary(f64::abs),
        "ceil" => unary(f64::ceil),
        "floor" => unary(f64::floor),
        "log" => unary(f64::ln),
        "sqrt" => unary(f64::sqrt),
        "greatest" | "least" => {
            let mut best: Option<Val> = None;
            for v in vals.iter().filter(|v| !v.is_null()) {
                let better = match &best {
                    None => true,
                    Some(b) => {
                        let o = compare(v, b);
                        if name == "greatest" {
                            o == Some(Ordering::Greater)
                        } else {
                            o == Some(Ordering::Less)
                        }
                    }
                };
                if better {
                    best = Some(v.clone());
                }
            }
            best.unwrap_or(Val::Null)
        }
        "ispresent" => Val::Bool(vals.first().is_some_and(|v| !v.is_null())),
        "coalesce" => vals.into_iter().find(|v| !v.is_null()).unwrap_or(Val::Null),
        "isempty" => Val::Bool(s(0).is_none_or(|t| t.is_empty())),
        "isblank" => Val::Bool(s(0).is_none_or(|t| t.trim().is_empty())),
        "concat" => Val::Str(vals.iter().filter_map(text).collect()),
        "ltrim" | "rtrim" | "trim" => match s(0) {
            Some(t) => Val::Str(trim_with(
                &t,
                s(1).as_deref(),
                name != "rtrim",
                name != "ltrim",
            )),
            None => Val::Null,
        },
        "strlen" => s(0).map_or(Val::Null, |t| Val::Num(t.chars().count() as f64)),
        "toupper" => s(0).map_or(Val::Null, |t| Val::Str(t.to_uppercase())),
        "tolower" => s(0).map_or(Val::Null, |t| Val::Str(t.to_lowercase())),
        "substr" => match (s(0), n(1)) {
            (Some(t), Some(start)) => {
                let chars: Vec<char> = t.chars().collect();
                let from = (start.max(0.0) as usize).min(chars.len());
                let len = n(2).map_or(chars.len(), |l| l.max(0.0) as usize);
                Val::Str(chars[from..(from + len).min(chars.len())].iter().collect())
            }
            _ => Val::Null,
        },
        "replace" => match (s(0), s(1), s(2)) {
            (Some(t), Some(from), Some(to)) if !from.is_empty() => Val::Str(t.replace(&from, &to)),
            (Some(t), _, _) => Val::Str(t),
            _ => Val::Null,
        },
        "strcontains" => match (s(0), s(1)) {
            (Some(a), Some(b)) => Val::Num(if a.contains(&b) { 1.0 } else { 0.0 }),
            _ => Val::Null,
        },
        "bin" => match (row.get("@timestamp").as_num(), n(0)) {
            (Some(ts), Some(p)) => Val::Time(floor_to(ts as i64, p as i64)),
            _ => Val::Null,
        },
        "datefloor" | "dateceil" => match (n(0), n(1)) {
            (Some(ts), Some(p)) => {
                let f = floor_to(ts as i64, p as i64);
                let v = if name == "dateceil" && f != ts as i64 {
                    f + p as i64
                } else {
                    f
                };
                Val::Time(v)
            }
            _ => Val::Null,
        },
        "frommillis" => n(0).map_or(Val::Null, |v| Val::Time(v as i64)),
        "tomillis" => n(0).map_or(Val::Null, Val::Num),
        "tonumber" => n(0).map_or(Val::Null, Val::Num),
        "tostring" => s(0).map_or(Val::Null, Val::Str),
        _ => Val::Null,
    }
}

/// How many arguments scalar function `name` takes: (fewest, most).
pub(crate) fn arity(name: &str) -> (usize, usize) {
    match name {
        "greatest" | "least" | "coalesce" | "concat" => (1, usize::MAX),
        "ltrim" | "rtrim" | "trim" => (1, 2),
        "substr" => (2, 3),
        "replace" => (3, 3),
        "strcontains" | "datefloor" | "dateceil" => (2, 2),
        _ => (1, 1),
    }
}

/// Whether `name` is a scalar function this evaluator knows.
pub(crate) fn is_function(name: &str) -> bool {
    matches!(
        name,
        "abs"
            | "ceil"
            | "floor"
            | "log"
            | "sqrt"
            | "greatest"
            | "least"
            | "ispresent"
            | "coalesce"
            | "isempty"
            | "isblank"
            | "concat"
            | "ltrim"
            | "rtrim"
            | "trim"
            | "strlen"
            | "toupper"
            | "tolower"
            | "substr"
            | "replace"
            | "strcontains"
            | "bin"
            | "datefloor"
            | "dateceil"
            | "frommillis"
            | "tomillis"
            | "tonumber"
            | "tostring"
    )
}
