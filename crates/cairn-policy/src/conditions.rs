//! Condition operators and their evaluation.
//!
//! `"Condition": {<Operator>: {<key>: <value> | [<values>]}}`: every operator of a block and
//! every key under an operator must hold (AND); the values of one key are alternatives (OR).
//! Key names are case-insensitive.
//!
//! - Positive operators on an absent key are false; negated ones (`StringNotEquals`,
//!   `StringNotLike`, `…NotEquals` of Numeric/Date, `NotIpAddress`, `ArnNotEquals`,
//!   `ArnNotLike`, `StringNotEqualsIgnoreCase`) are true. `…IfExists` makes an absent key true.
//! - A negated operator is true when the request value matches none of the policy values.
//! - `ForAllValues:` is true when every request value satisfies the operator (and when the key
//!   is absent or empty); `ForAnyValue:` when at least one does (false when absent or empty).
//! - A plain operator on a multi-valued key behaves like `ForAnyValue:` on the positive form,
//!   negated as a whole for negated operators (Cairn design).
//! - `Null`: `"true"` holds when the key is absent (or empty), `"false"` when present.
//! - Values are compiled at parse time: numbers, dates, CIDRs and base64 are decoded once;
//!   an unparseable policy or request value matches nothing.

use std::net::IpAddr;

use base64::Engine as _;
use chrono::{DateTime, NaiveDate, NaiveDateTime};

use crate::arn::ArnPattern;
use crate::context::{Context, Missing};
use crate::variables::Template;

/// Numeric and date comparisons (request value OP policy value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, a: T, b: T) -> bool {
        match self {
            Self::Eq => a == b,
            Self::Lt => a < b,
            Self::Le => a <= b,
            Self::Gt => a > b,
            Self::Ge => a >= b,
        }
    }
}

/// Operator family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Str { ci: bool },
    Like,
    Num(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// Set qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SetOp {
    Single,
    ForAll,
    ForAny,
}

/// A parsed operator name such as `ForAnyValue:StringLikeIfExists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Operator {
    family: Family,
    negated: bool,
    if_exists: bool,
    set: SetOp,
}

impl Operator {
    /// Parses an operator name; `None` for unknown operators.
    pub(crate) fn parse(name: &str) -> Option<Self> {
        let (set, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (SetOp::ForAll, r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (SetOp::ForAny, r)
        } else {
            (SetOp::Single, name)
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        use Cmp::*;
        let (family, negated) = match base {
            "StringEquals" => (Family::Str { ci: false }, false),
            "StringNotEquals" => (Family::Str { ci: false }, true),
            "StringEqualsIgnoreCase" => (Family::Str { ci: true }, false),
            "StringNotEqualsIgnoreCase" => (Family::Str { ci: true }, true),
            "StringLike" => (Family::Like, false),
            "StringNotLike" => (Family::Like, true),
            "NumericEquals" => (Family::Num(Eq), false),
            "NumericNotEquals" => (Family::Num(Eq), true),
            "NumericLessThan" => (Family::Num(Lt), false),
            "NumericLessThanEquals" => (Family::Num(Le), false),
            "NumericGreaterThan" => (Family::Num(Gt), false),
            "NumericGreaterThanEquals" => (Family::Num(Ge), false),
            "DateEquals" => (Family::Date(Eq), false),
            "DateNotEquals" => (Family::Date(Eq), true),
            "DateLessThan" => (Family::Date(Lt), false),
            "DateLessThanEquals" => (Family::Date(Le), false),
            "DateGreaterThan" => (Family::Date(Gt), false),
            "DateGreaterThanEquals" => (Family::Date(Ge), false),
            "Bool" => (Family::Bool, false),
            "BinaryEquals" => (Family::Binary, false),
            "IpAddress" => (Family::Ip, false),
            "NotIpAddress" => (Family::Ip, true),
            "ArnEquals" | "ArnLike" => (Family::Arn, false),
            "ArnNotEquals" | "ArnNotLike" => (Family::Arn, true),
            "Null" if !if_exists && set == SetOp::Single => (Family::Null, false),
            _ => return None,
        };
        Some(Self {
            family,
            negated,
            if_exists,
            set,
        })
    }

    /// Whether this is a Date operator (its values are checked at write time).
    pub(crate) fn is_date(&self) -> bool {
        matches!(self.family, Family::Date(_))
    }
}

/// An IPv4 or IPv6 network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    fn parse(s: &str) -> Option<Self> {
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr = canonical(a.parse().ok()?);
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let shift = |bits: u32, width: u32| -> u128 {
            if bits == 0 {
                0
            } else {
                u128::MAX << (width - bits)
            }
        };
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(n), IpAddr::V4(i)) => {
                let mask = shift(u32::from(self.prefix), 32) as u32;
                u32::from(n) & mask == u32::from(i) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(i)) => {
                let mask = shift(u32::from(self.prefix), 128);
                u128::from(n) & mask == u128::from(i) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Parses a date: epoch seconds (integer or decimal) or W3C ISO 8601 (date, date-time with
/// `Z`/offset, or a naive date-time taken as UTC). Returns epoch milliseconds.
pub(crate) fn parse_date(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return secs.checked_mul(1000);
    }
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
        && secs.abs() < 9.0e15
    {
        return Some((secs * 1000.0) as i64);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, f) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z"] {
        if let Ok(dt) = DateTime::parse_from_str(s, f) {
            return Some(dt.timestamp_millis());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|dt| dt.and_utc().timestamp_millis())
}

/// Whether `value` reads as a value of the simulator's `ContextKeyType` `kind` (`string`,
/// `numeric`, `boolean`, `ip`, `date`, `binary`, each also as a `…List`), as the conditions
/// that compare it would read it. `None` for a type that is not one of those.
pub fn context_value_fits(kind: &str, value: &str) -> Option<bool> {
    let base = kind.strip_suffix("List").unwrap_or(kind);
    Some(match base {
        "string" => true,
        "numeric" => value.trim().parse::<f64>().is_ok_and(f64::is_finite),
        "boolean" => parse_bool(value).is_some(),
        "ip" => Cidr::parse(value).is_some(),
        "date" => parse_date(value).is_some(),
        "binary" => b64(value).is_some(),
        _ => return None,
    })
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .ok()
}

/// Compiled policy values of one key.
#[derive(Clone, Debug, PartialEq)]
enum Values {
    Str(Vec<Template>),
    Like(Vec<Template>),
    Num(Vec<Option<f64>>),
    Date(Vec<Option<i64>>),
    Bool(Vec<Option<bool>>),
    Bin(Vec<Option<Vec<u8>>>),
    Ip(Vec<Option<Cidr>>),
    Arn(Vec<ArnPattern>),
    Null(Vec<Option<bool>>),
}

/// One `<operator>: {<key>: <values>}` entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Condition {
    op: Operator,
    key: Box<str>,
    lower: Box<str>,
    values: Values,
}

impl Condition {
    /// Compiles a condition; `vars` enables policy variables (Version 2012-10-17).
    pub(crate) fn new(op: Operator, key: &str, raw: &[String], vars: bool) -> Self {
        let values = match op.family {
            Family::Str { .. } => Values::Str(
                raw.iter()
                    .map(|v| Template::new(v, vars, false, false))
                    .collect(),
            ),
            Family::Like => Values::Like(
                raw.iter()
                    .map(|v| Template::new(v, vars, true, false))
                    .collect(),
            ),
            Family::Num(_) => Values::Num(raw.iter().map(|v| v.trim().parse().ok()).collect()),
            Family::Date(_) => Values::Date(raw.iter().map(|v| parse_date(v)).collect()),
            Family::Bool => Values::Bool(raw.iter().map(|v| parse_bool(v)).collect()),
            Family::Binary => Values::Bin(raw.iter().map(|v| b64(v)).collect()),
            Family::Ip => Values::Ip(raw.iter().map(|v| Cidr::parse(v)).collect()),
            Family::Arn => {
                Values::Arn(raw.iter().map(|v| ArnPattern::new(v, vars, vars)).collect())
            }
            Family::Null => Values::Null(raw.iter().map(|v| parse_bool(v)).collect()),
        };
        Self {
            op,
            key: key.into(),
            lower: key.to_ascii_lowercase().into(),
            values,
        }
    }

    /// The condition key as written.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// Evaluates the condition against the request context, for a statement of effect `deny`
    /// (which only matters to a tag key holding case-variant tags' values; see
    /// [`Context::add_tag`]).
    pub(crate) fn eval(&self, ctx: &Context, missing: &mut Missing, deny: bool) -> bool {
        let got = ctx.get_lower(&self.lower);
        if got.is_none() {
            missing.note(&self.key);
        }
        if let Values::Null(wanted) = &self.values {
            let absent = got.is_none_or(<[String]>::is_empty);
            return wanted.contains(&Some(absent));
        }
        let vals = match got {
            Some(v) if !v.is_empty() => v,
            _ => {
                return match self.op.set {
                    SetOp::ForAll => true,
                    SetOp::ForAny => self.op.if_exists,
                    SetOp::Single => self.op.if_exists || self.op.negated,
                };
            }
        };
        match self.op.set {
            SetOp::ForAll => vals
                .iter()
                .all(|v| self.base_any(v, ctx, missing) != self.op.negated),
            SetOp::ForAny => vals
                .iter()
                .any(|v| self.base_any(v, ctx, missing) != self.op.negated),
            SetOp::Single if ctx.is_ambiguous(&self.lower) => {
                let mut holds = |v: &String| self.base_any(v, ctx, missing) != self.op.negated;
                if deny {
                    vals.iter().any(&mut holds)
                } else {
                    vals.iter().all(&mut holds)
                }
            }
            SetOp::Single => vals.iter().any(|v| self.base_any(v, ctx, missing)) != self.op.negated,
        }
    }

    /// Whether request value `v` matches any policy value under the positive operator.
    fn base_any(&self, v: &str, ctx: &Context, missing: &mut Missing) -> bool {
        match &self.values {
            Values::Str(ts) => {
                let ci = matches!(self.op.family, Family::Str { ci: true });
                ts.iter().any(|t| {
                    t.text(ctx, missing)
                        .is_some_and(|p| if ci { eq_ci(&p, v) } else { *p == *v })
                })
            }
            Values::Like(ts) => ts
                .iter()
                .any(|t| t.glob(ctx, missing).is_some_and(|g| g.matches(v))),
            Values::Num(ns) => {
                let Family::Num(cmp) = self.op.family else {
                    return false;
                };
                let Ok(x) = v.trim().parse::<f64>() else {
                    return false;
                };
                ns.iter().flatten().any(|n| cmp.holds(x, *n))
            }
            Values::Date(ds) => {
                let Family::Date(cmp) = self.op.family else {
                    return false;
                };
                let Some(x) = parse_date(v) else {
                    return false;
                };
                ds.iter().flatten().any(|d| cmp.holds(x, *d))
            }
            Values::Bool(bs) => parse_bool(v).is_some_and(|x| bs.contains(&Some(x))),
            Values::Bin(bs) => {
                let x = b64(v).unwrap_or_else(|| v.as_bytes().to_vec());
                bs.iter().flatten().any(|b| *b == x)
            }
            Values::Ip(cs) => match v.trim().parse::<IpAddr>() {
                Ok(ip) => cs.iter().flatten().any(|c| c.contains(ip)),
                Err(_) => false,
            },
            Values::Arn(ps) => ps.iter().any(|p| p.matches(v, ctx, missing)),
            Values::Null(_) => false,
        }
    }
}

fn eq_ci(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operator_names() {
        assert!(Operator::parse("ForAnyValue:StringLikeIfExists").is_some());
        assert!(Operator::parse("NullIfExists").is_none());
        assert!(Operator::parse("ForAllValues:Null").is_none());
        assert!(Operator::parse("StringEqualsIgnoreCaseIfExists").is_some());
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("Weird").is_none());
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("203.0.113.0/24").unwrap();
        assert!(c.contains("203.0.113.9".parse().unwrap()));
        assert!(!c.contains("203.0.114.9".parse().unwrap()));
        assert!(c.contains("::ffff:203.0.113.9".parse().unwrap()));
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8::1".parse().unwrap()));
        assert!(!v6.contains("10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.1/33").is_none());
        assert!(
            Cidr::parse("10.0.0.1")
                .unwrap()
                .contains("10.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("0"), Some(0));
        assert_eq!(parse_date("2020-01-01"), parse_date("2020-01-01T00:00:00Z"));
        assert_eq!(parse_date("1577836800"), parse_date("2020-01-01T00:00:00Z"));
        assert_eq!(
            parse_date("2020-01-01T01:00:00+01:00"),
            parse_date("2020-01-01T00:00:00Z")
        );
        assert!(parse_date("2020-01-01T00:00:00.123Z").is_some());
        assert!(parse_date("yesterday").is_none());
    }
}
