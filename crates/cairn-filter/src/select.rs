//! What a metric transformation reads from a matching message (§2.8): a metric value (a number
//! literal, a JSON selector `$.latency`, or a space-delimited field `$size` / `$7`) and
//! dimension values (selectors).

use crate::Scan;
use crate::ast::Step;
use crate::error::PatternError;
use crate::parse::{is_number, selector};

/// Where a value comes from in a matching message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selector {
    /// `$.a.b[0]`
    Json(Vec<Step>),
    /// `$name` or `$<position>` of a space-delimited pattern (kept with its `$`).
    Field(String),
}

impl Selector {
    /// Parses `$.path`, `$name` or `$N`.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let text = text.trim();
        if text.starts_with("$.") {
            return selector(text)
                .map(Selector::Json)
                .ok_or_else(|| PatternError::new(format!("Invalid selector: {text}")));
        }
        match text.strip_prefix('$') {
            Some(name)
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                Ok(Selector::Field(text.to_owned()))
            }
            _ => Err(PatternError::new(format!("Invalid selector: {text}"))),
        }
    }
}

/// A metric transformation's `metricValue`.
#[derive(Clone, Debug, PartialEq)]
pub enum MetricValue {
    /// A fixed number (`"1"`).
    Literal(f64),
    /// A value read from the message.
    From(Selector),
}

impl MetricValue {
    /// Parses a number literal or a selector.
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let t = text.trim();
        if is_number(t) {
            return t
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(MetricValue::Literal)
                .ok_or_else(|| PatternError::new(format!("Invalid metric value: {text}")));
        }
        Selector::parse(t)
            .map(MetricValue::From)
            .map_err(|_| PatternError::new(format!("Invalid metric value: {text}")))
    }

    /// The selector it reads, if any.
    pub fn selector(&self) -> Option<&Selector> {
        match self {
            MetricValue::Literal(_) => None,
            MetricValue::From(s) => Some(s),
        }
    }

    /// The value for pattern `index`'s match in `scan`; `None` when the field is absent or
    /// not a number (no datapoint then).
    pub fn value(&self, scan: &Scan<'_>, index: usize) -> Option<f64> {
        match self {
            MetricValue::Literal(v) => Some(*v),
            MetricValue::From(s) => {
                let text = scan.resolve(index, s)?;
                let t = text.trim();
                if is_number(t) {
                    t.parse::<f64>().ok().filter(|v| v.is_finite())
                } else {
                    None
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_values_parse() {
        assert_eq!(
            Selector::parse("$.a[1].b").unwrap(),
            Selector::Json(vec![
                Step::Key("a".into()),
                Step::Index(1),
                Step::Key("b".into())
            ])
        );
        assert_eq!(
            Selector::parse("$size").unwrap(),
            Selector::Field("$size".into())
        );
        assert_eq!(Selector::parse("$7").unwrap(), Selector::Field("$7".into()));
        assert!(Selector::parse("size").is_err());
        assert!(Selector::parse("$.").is_err());
        assert_eq!(MetricValue::parse("1").unwrap(), MetricValue::Literal(1.0));
        assert_eq!(
            MetricValue::parse("-2.5e1").unwrap(),
            MetricValue::Literal(-25.0)
        );
        assert!(MetricValue::parse("one").is_err());
    }
}
