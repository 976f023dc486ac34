//! CloudWatch's statistics over one period's data (AWS "CloudWatch statistics definitions"):
//! the five standard statistics and the extended ones — percentile `pNN`, trimmed mean
//! (`tmNN`, `TM(a:b)`), interquartile mean `IQM`, winsorized mean (`wmNN`, `WM(a%:b%)`),
//! trimmed count (`tcNN`, `TC(a:b)`), trimmed sum (`tsNN`, `TS(a:b)`) and percentile rank
//! `PR(a:b)`. Bounds are percentages (`10%`) or absolute values (lower bound exclusive, upper
//! inclusive); a one-boundary lower-case form `tm90` is `TM(:90%)`.
//!
//! Extended statistics need the raw values: a period holding a statistic set whose values are
//! not all equal, or any negative value, has none (AWS: "Percentile statistics are not
//! available for metrics when any of the metric values are negative numbers"; statistic sets
//! only when Minimum = Maximum and Sum = Minimum × SampleCount).

use super::PeriodStats;

/// The five standard statistics.
pub const STANDARD: [&str; 5] = ["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// A bound of a trimmed statistic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bounds {
    /// Percentages of the values (0–100): keep the values ranked in `(lo%, hi%]`.
    Percent(f64, f64),
    /// Absolute values: keep the values `v` with `lo < v <= hi`.
    Absolute(f64, f64),
}

/// Which trimmed statistic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trimmed {
    /// `TM`: the mean of the kept values.
    Mean,
    /// `WM`: the mean with the trimmed values set to the nearest kept bound.
    Winsorized,
    /// `TC`: how many values are kept.
    Count,
    /// `TS`: the sum of the kept values.
    Sum,
}

/// A parsed statistic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Statistic {
    /// One of [`STANDARD`] (its index).
    Standard(usize),
    /// `pNN`: the nearest-rank percentile.
    Percentile(f64),
    /// `tm`, `wm`, `tc`, `ts` and `IQM`.
    Trimmed(Trimmed, Bounds),
    /// `PR(a:b)`: the percentage of values in `(a, b]`.
    PercentileRank(f64, f64),
}

/// A number as CloudWatch writes one in a statistic: digits with at most 10 decimals.
fn number(s: &str, signed: bool) -> Option<f64> {
    let unsigned = if signed {
        s.strip_prefix('-').unwrap_or(s)
    } else {
        s
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let ok = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.len() <= 10
        && frac.bytes().all(|b| b.is_ascii_digit())
        && !(unsigned.contains('.') && frac.is_empty());
    if !ok {
        return None;
    }
    s.parse().ok()
}

fn percent(s: &str) -> Option<f64> {
    number(s, false).filter(|n| (0.0..=100.0).contains(n))
}

/// `a:b` inside the parentheses: both percentages, or both absolute (`absolute` allowed).
fn bounds(inner: &str, absolute: bool) -> Option<Bounds> {
    let (lo, hi) = inner.split_once(':')?;
    if lo.is_empty() && hi.is_empty() {
        return None;
    }
    let is_pct = |s: &str| s.ends_with('%');
    if (lo.is_empty() || is_pct(lo)) && (hi.is_empty() || is_pct(hi)) {
        let lo = if lo.is_empty() {
            0.0
        } else {
            percent(lo.strip_suffix('%')?)?
        };
        let hi = if hi.is_empty() {
            100.0
        } else {
            percent(hi.strip_suffix('%')?)?
        };
        return (lo < hi).then_some(Bounds::Percent(lo, hi));
    }
    if !absolute || is_pct(lo) || is_pct(hi) {
        return None;
    }
    let lo = if lo.is_empty() {
        f64::NEG_INFINITY
    } else {
        number(lo, true)?
    };
    let hi = if hi.is_empty() {
        f64::INFINITY
    } else {
        number(hi, true)?
    };
    (lo < hi).then_some(Bounds::Absolute(lo, hi))
}

impl Statistic {
    /// Parses a standard or extended statistic; `None` if CloudWatch would refuse it.
    pub fn parse(s: &str) -> Option<Self> {
        if let Some(i) = STANDARD.iter().position(|x| *x == s) {
            return Some(Self::Standard(i));
        }
        Self::parse_extended(s)
    }

    /// Parses an extended statistic (not one of [`STANDARD`]).
    pub fn parse_extended(s: &str) -> Option<Self> {
        if s == "IQM" {
            return Some(Self::Trimmed(Trimmed::Mean, Bounds::Percent(25.0, 75.0)));
        }
        if let Some(inner) = s.strip_prefix("PR(").and_then(|r| r.strip_suffix(')')) {
            return match bounds(inner, true)? {
                Bounds::Absolute(lo, hi) => Some(Self::PercentileRank(lo, hi)),
                Bounds::Percent(..) => None,
            };
        }
        for (lower, upper, kind) in [
            ("tm", "TM(", Trimmed::Mean),
            ("wm", "WM(", Trimmed::Winsorized),
            ("tc", "TC(", Trimmed::Count),
            ("ts", "TS(", Trimmed::Sum),
        ] {
            if let Some(n) = s.strip_prefix(lower) {
                let n = percent(n).filter(|n| *n > 0.0)?;
                return Some(Self::Trimmed(kind, Bounds::Percent(0.0, n)));
            }
            if let Some(inner) = s.strip_prefix(upper).and_then(|r| r.strip_suffix(')')) {
                let absolute = kind != Trimmed::Winsorized;
                return Some(Self::Trimmed(kind, bounds(inner, absolute)?));
            }
        }
        s.strip_prefix('p').and_then(percent).map(Self::Percentile)
    }

    /// Whether this is one of the five standard statistics.
    pub fn is_standard(&self) -> bool {
        matches!(self, Self::Standard(_))
    }

    /// The statistic's value over one period, `None` when CloudWatch has none (an extended
    /// statistic over summarised or negative data, a trimmed mean of nothing).
    pub fn value(&self, p: &PeriodStats) -> Option<f64> {
        let s = &p.stats;
        let standard = match self {
            Self::Standard(0) => Some(s.sample_count),
            Self::Standard(1) => Some(p.average()),
            Self::Standard(2) => Some(s.sum),
            Self::Standard(3) => Some(s.min),
            Self::Standard(4) => Some(s.max),
            Self::Standard(_) => None,
            _ => return self.extended(p),
        };
        standard.filter(|v| v.is_finite())
    }

    fn extended(&self, p: &PeriodStats) -> Option<f64> {
        if !p.exact || p.stats.min < 0.0 {
            return None;
        }
        // Values a reader sorted once ([`PeriodStats::sort_values`]) are used as they are;
        // others are sorted here.
        let values: std::borrow::Cow<'_, [(f64, f64)]> =
            if p.values.is_sorted_by(|a, b| a.0.total_cmp(&b.0).is_le()) {
                std::borrow::Cow::Borrowed(&p.values)
            } else {
                let mut v = p.values.clone();
                v.sort_by(|a, b| a.0.total_cmp(&b.0));
                std::borrow::Cow::Owned(v)
            };
        let total: f64 = values.iter().map(|v| v.1).sum();
        if total <= 0.0 {
            return None;
        }
        let out = match *self {
            Self::Percentile(q) => percentile(&values, total, q),
            Self::PercentileRank(lo, hi) => {
                let kept: f64 = values
                    .iter()
                    .filter(|(v, _)| *v > lo && *v <= hi)
                    .map(|(_, n)| n)
                    .sum();
                Some(100.0 * kept / total)
            }
            Self::Trimmed(kind, bounds) => trimmed(&values, total, kind, bounds),
            Self::Standard(_) => None,
        };
        // `+ 0.0` makes an empty sum's -0.0 (a rank or trimmed count of nothing) 0.
        out.filter(|v| v.is_finite()).map(|v| v + 0.0)
    }
}

/// The nearest-rank percentile `q` of sorted `(value, multiplicity)` pairs.
fn percentile(values: &[(f64, f64)], total: f64, q: f64) -> Option<f64> {
    let rank = ((q / 100.0) * total).ceil().max(1.0);
    let mut seen = 0.0;
    for (v, n) in values {
        seen += n;
        if seen >= rank {
            return Some(*v);
        }
    }
    values.last().map(|v| v.0)
}

/// The kept share of each sorted value: by rank for percentages (a value straddling a cut
/// counts in part, so counts may be fractional), by value for absolute bounds.
fn kept(values: &[(f64, f64)], total: f64, bounds: Bounds) -> Vec<(f64, f64)> {
    match bounds {
        Bounds::Absolute(lo, hi) => values
            .iter()
            .filter(|(v, _)| *v > lo && *v <= hi)
            .copied()
            .collect(),
        Bounds::Percent(lo, hi) => {
            let (from, to) = (total * lo / 100.0, total * hi / 100.0);
            let mut at = 0.0;
            let mut out = Vec::new();
            for (v, n) in values {
                let share = (at + n).min(to) - at.max(from);
                if share > 0.0 {
                    out.push((*v, share));
                }
                at += n;
            }
            out
        }
    }
}

fn trimmed(values: &[(f64, f64)], total: f64, kind: Trimmed, bounds: Bounds) -> Option<f64> {
    let kept = kept(values, total, bounds);
    let count: f64 = kept.iter().map(|(_, n)| n).sum();
    let sum: f64 = kept.iter().map(|(v, n)| v * n).sum();
    match kind {
        Trimmed::Count => Some(count),
        Trimmed::Sum => Some(sum),
        Trimmed::Mean => (count > 0.0).then(|| sum / count),
        Trimmed::Winsorized => {
            let (first, last) = (kept.first()?.0, kept.last()?.0);
            let low_fill = match bounds {
                Bounds::Percent(lo, _) => total * lo / 100.0,
                Bounds::Absolute(lo, _) => values
                    .iter()
                    .filter(|(v, _)| *v <= lo)
                    .map(|(_, n)| n)
                    .sum(),
            };
            let high_fill = total - count - low_fill;
            Some((sum + low_fill * first + high_fill.max(0.0) * last) / total)
        }
    }
}
