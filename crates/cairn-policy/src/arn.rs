//! ARN patterns: `Resource` entries and the values of the `Arn*` condition operators.
//!
//! A pattern and an ARN are both split into six fields on their first five colons (`arn`,
//! partition, service, region, account, resource). Fields one to five are matched one by one,
//! so a `*` there cannot cross a colon; the sixth field, which may itself contain `:` and `/`,
//! is matched as a whole. Matching is case-sensitive. `"*"` alone matches everything,
//! including the `*` resource of actions that have none.

use crate::context::{Context, Missing};
use crate::variables::Template;

/// Splits an ARN into its six fields; `None` when it has fewer than five colons.
pub(crate) fn split6(arn: &str) -> Option<[&str; 6]> {
    let mut it = arn.splitn(6, ':');
    let f = [it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?];
    Some(f)
}

/// A compiled ARN pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    /// `*`.
    Any,
    /// Six fields.
    Fields(Box<[Template; 6]>),
    /// Fewer than six fields: the whole text as one glob.
    Whole(Template),
}

impl ArnPattern {
    /// Compiles a pattern. `head_vars` allows variables in fields one to five (condition
    /// values); `vars` allows them in the sixth (and in `Whole` patterns).
    pub(crate) fn new(text: &str, vars: bool, head_vars: bool) -> Self {
        if text == "*" {
            return Self::Any;
        }
        match split6(text) {
            Some(f) => Self::Fields(Box::new([
                Template::new(f[0], head_vars, true, false),
                Template::new(f[1], head_vars, true, false),
                Template::new(f[2], head_vars, true, false),
                Template::new(f[3], head_vars, true, false),
                Template::new(f[4], head_vars, true, false),
                Template::new(f[5], vars, true, false),
            ])),
            None => Self::Whole(Template::new(text, vars, true, false)),
        }
    }

    /// Whether `arn` matches.
    pub(crate) fn matches(&self, arn: &str, ctx: &Context, missing: &mut Missing) -> bool {
        match self {
            Self::Any => true,
            Self::Whole(t) => t.glob(ctx, missing).is_some_and(|g| g.matches(arn)),
            Self::Fields(fields) => {
                let Some(parts) = split6(arn) else {
                    return false;
                };
                fields.iter().zip(parts).all(|(t, p)| {
                    t.is_any() || t.glob(ctx, missing).is_some_and(|g| g.matches(p))
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, arn: &str) -> bool {
        ArnPattern::new(p, true, false).matches(arn, &Context::new(), &mut Missing(None))
    }

    #[test]
    fn fields_and_colons() {
        assert!(m("*", "*"));
        assert!(m("*", "arn:aws:s3:::b"));
        assert!(m("arn:aws:s3:::b/*", "arn:aws:s3:::b/a:b/c"));
        assert!(m(
            "arn:aws:logs:*:*:log-group:aws-cloudtrail-logs*",
            "arn:aws:logs:us-east-1:111122223333:log-group:aws-cloudtrail-logs-x:log-stream:s"
        ));
        assert!(!m("arn:aws:sns:*:*:t", "arn:aws:sns:us-east-1:1:2:t"));
        assert!(!m("arn:aws:*:us-east-1", "arn:aws:sns:us-east-1:1:t"));
        assert!(!m("arn:aws:s3:::b", "*"));
        assert!(!m("arn:aws:s3:::B", "arn:aws:s3:::b"));
        assert!(m("arn:*", "arn:aws:s3:::b"));
        assert!(!m("arn:aws:s3:::b", "arn:aws:s3:::b:"));
        assert!(m("arn:aws:iam::*:role/*", "arn:aws:iam::111122223333:role/a/b"));
    }
}
