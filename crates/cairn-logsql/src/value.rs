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

/// The number a value is when it is one: a number, a timestamp, or a string written as a
/// number (`42`, `-3`, `0.25`, as `parse` and JSON strings give them).
fn number_of(v: &Val) -> Option<f64> {
    match v {
        Val::Num(n) => Some(*n),
        Val::Time(t) => Some(*t as f64),
        Val::Str(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
            (!digits.is_empty()
                && digits.chars().any(|c| c.is_ascii_digit())
                && digits.chars().all(|c| c.is_ascii_digit() || c == '.'))
            .then(|| t.parse::<f64>().ok())
            .flatten()
            .filter(|n| n.is_finite())
        }
        Val::Bool(_) | Val::Null => None,
    }
}

/// Whether a numeric string reads exactly as a float (at most 15 significant digits): longer
/// ones (IDs) order and compare as text, so two different IDs never come out equal.
fn exact(v: &Val) -> bool {
    match v {
        Val::Str(s) => s.chars().filter(char::is_ascii_digit).count() <= 15,
        _ => true,
    }
}

/// Orders two values: numerically when both are numbers (numeric strings of up to 15
/// digits included, so `"58" > "7"`; a number against any string that reads as one), else
/// as text. Absent values do not compare.
pub fn compare(a: &Val, b: &Val) -> Option<Ordering> {
    if a.is_null() || b.is_null() {
        return None;
    }
    let both_text = matches!((a, b), (Val::Str(_), Val::Str(_)));
    let numbers = if both_text {
        (number_of(a), number_of(b))
    } else {
        (a.as_num(), b.as_num())
    };
    if let (Some(x), Some(y)) = numbers
        && exact(a)
        && exact(b)
    {
        return x.partial_cmp(&y);
    }
    Some(text_of(a).cmp(&text_of(b)))
}

/// Whether two values are equal (`=`, `!=`, `in`): two strings by their text (`"010"` is not
/// `"10"`), others as [`compare`] finds them; `None` when one is absent.
pub fn equal(a: &Val, b: &Val) -> Option<bool> {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Some(x == y),
        _ => compare(a, b).map(|o| o == Ordering::Equal),
    }
}

/// A value's text, as results show it.
fn text_of(v: &Val) -> String {
    match v {
        Val::Str(s) => s.clone(),
        other => other.render().unwrap_or_default(),
    }
}

/// The order `sort` (and `min`/`max`) use, CloudWatch Logs Insights' natural sort: absent
/// values last; numbers (numeric strings included) after every other value, by value; other
/// values by their text, with runs of digits compared as numbers (`5A` < `111A`) and other
/// characters by code point (user guide, "sort").
pub fn sort_order(a: &Val, b: &Val) -> Ordering {
    match (a.is_null(), b.is_null()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    match (number_of(a), number_of(b)) {
        (Some(_), Some(_)) => compare(a, b).unwrap_or(Ordering::Equal),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => natural(&text_of(a), &text_of(b)),
    }
}

/// Text order with runs of digits compared by value (shorter run, leading zeros aside, first).
fn natural(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a, b);
    loop {
        let (Some(cx), Some(cy)) = (x.chars().next(), y.chars().next()) else {
            return x.len().cmp(&y.len());
        };
        if cx.is_ascii_digit() && cy.is_ascii_digit() {
            let run = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (rx, ry) = (run(x), run(y));
            let (dx, dy) = (
                x[..rx].trim_start_matches('0'),
                y[..ry].trim_start_matches('0'),
            );
            let o = dx.len().cmp(&dy.len()).then_with(|| dx.cmp(dy));
            if o != Ordering::Equal {
                return o;
            }
            x = &x[rx..];
            y = &y[ry..];
        } else {
            let o = cx.cmp(&cy);
            if o != Ordering::Equal {
                return o;
            }
            x = &x[cx.len_utf8()..];
            y = &y[cy.len_utf8()..];
        }
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
            Some(Ordering::Greater),
            "numeric strings compare as numbers"
        );
        assert_eq!(
            compare(&Val::Str("b".into()), &Val::Str("a".into())),
            Some(Ordering::Greater)
        );
        assert_eq!(compare(&Val::Null, &Val::Num(1.0)), None);
    }

    #[test]
    fn sort_is_the_user_guides_natural_order() {
        // The user guide's own example values, and the order it gives for them.
        let given = [
            "A",
            "a12345hfh",
            "111A",
            "0",
            "01",
            "1",
            "2",
            "3",
            "@",
            "@_",
            "!:",
            "# *%04",
            "0#",
            "5A",
            "2345_",
            "A9876fghj",
        ];
        let mut vals: Vec<Val> = given.iter().map(|s| Val::Str((*s).into())).collect();
        vals.sort_by(sort_order);
        let got: Vec<String> = vals.iter().map(|v| v.render().unwrap()).collect();
        assert_eq!(
            got,
            [
                "!:",
                "# *%04",
                "0#",
                "5A",
                "111A",
                "2345_",
                "@",
                "@_",
                "A",
                "A9876fghj",
                "a12345hfh",
                "0",
                "01",
                "1",
                "2",
                "3"
            ]
        );
        assert_eq!(sort_order(&Val::Null, &Val::Num(1.0)), Ordering::Greater);
        // Equality of two strings is their text; long digit strings (IDs) never collapse.
        assert_eq!(
            equal(&Val::Str("010".into()), &Val::Str("10".into())),
            Some(false)
        );
        assert_eq!(equal(&Val::Num(10.0), &Val::Str("10".into())), Some(true));
        let (x, y) = (
            Val::Str("12345678901234567890".into()),
            Val::Str("12345678901234567891".into()),
        );
        assert_eq!(equal(&x, &y), Some(false));
        assert_eq!(compare(&x, &y), Some(Ordering::Less));
        assert_eq!(
            compare(&Val::Num(100000.0), &Val::Str("1e5".into())),
            Some(Ordering::Equal)
        );
        assert_eq!(
            sort_order(&Val::Str("58".into()), &Val::Str("7".into())),
            Ordering::Greater
        );
    }
}
