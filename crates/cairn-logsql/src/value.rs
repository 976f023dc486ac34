//! Values: what a field or an expression evaluates to, how they compare, and how results show
//! them (timestamps as `YYYY-MM-DD hh:mm:ss.sss`, integral numbers without a fraction).

use std::cmp::Ordering;

/// A value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// Absent.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Num(f64),
    /// A string.
    Str(String),
    /// A timestamp, epoch ms.
    Time(i64),
}

impl Val {
    /// The numeric reading: numbers, timestamps (ms), numeric strings, booleans as 1/0.
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Time(t) => Some(*t as f64),
            Val::Str(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
            Val::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Val::Null => None,
        }
    }

    /// Whether it counts as true in `filter`.
    pub fn truthy(&self) -> bool {
        match self {
            Val::Bool(b) => *b,
            Val::Num(n) => *n != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::Time(_) => true,
            Val::Null => false,
        }
    }

    /// Whether it is absent.
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    /// The text results show.
    pub fn render(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Bool(b) => Some(b.to_string()),
            Val::Num(n) => Some(format_number(*n)),
            Val::Str(s) => Some(s.clone()),
            Val::Time(t) => Some(format_time(*t)),
        }
    }

    /// A key that identifies the value for grouping and `count_distinct`.
    pub fn key(&self) -> String {
        match self {
            Val::Null => "n".into(),
            Val::Bool(b) => format!("b{b}"),
            Val::Num(n) => format!("#{}", format_number(*n)),
            Val::Str(s) => format!("s{s}"),
            Val::Time(t) => format!("t{t}"),
        }
    }
}

/// Integral numbers without a fraction, others in their shortest form.
pub fn format_number(n: f64) -> String {
    if n.is_finite() && n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// `2026-01-05 10:00:00.000` (UTC).
pub fn format_time(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.3f").to_string())
        .unwrap_or_default()
}

/// Compares two values: numerically when both read as numbers and one is not a string (or both
/// are numeric strings), else as text. Absent values do not compare.
pub fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    let numeric = match (a, b) {
        (Val::Str(_), Val::Str(_)) => false,
        _ => a.as_num().is_some() && b.as_num().is_some(),
    };
    if numeric {
        return a.as_num()?.partial_cmp(&b.as_num()?);
    }
    let text = |v: &Val| match v {
        Val::Str(s) => s.clone(),
        other => other.render().unwrap_or_default(),
    };
    Some(text(a).cmp(&text(b)))
}

/// Total order for `sort`: absent values last, then [`compare`].
pub fn sort_order(a: &Val, b: &Val) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        _ => compare(a, b).unwrap_or(Ordering::Equal),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_times_render_like_the_console() {
        assert_eq!(format_number(12.0), "12");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_time(1_767_607_200_000), "2026-01-05 10:00:00.000");
    }

    #[test]
    fn comparisons_coerce_numbers_but_not_strings_to_each_other() {
        assert_eq!(
            compare(&Val::Num(10.0), &Val::Str("9".into())),
            Some(Ordering::Greater)
        );
        assert_eq!(
            compare(&Val::Str("10".into()), &Val::Str("9".into())),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&Val::Null, &Val::Num(1.0)), None);
    }
}
