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
    let f = [
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    ];
    Some(f)
}

/// Like [`split6`], but colons inside `${…}` (policy variables such as
/// `${aws:PrincipalAccount}`) do not split.
fn split6_pattern(text: &str) -> Option<[&str; 6]> {
    if !text.contains("${") {
        return split6(text);
    }
    let mut cuts = [0usize; 5];
    let mut n = 0;
    let mut depth = 0usize;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() && n < 5 {
        match b[i] {
            b'$' if b.get(i + 1) == Some(&b'{') => {
                depth += 1;
                i += 1;
            }
            b'}' if depth > 0 => depth -= 1,
            b':' if depth == 0 => {
                cuts[n] = i;
                n += 1;
            }
            _ => {}
        }
        i += 1;
    }
    if n < 5 {
        return None;
    }
    Some([
        &text[..cuts[0]],
        &text[cuts[0] + 1..cuts[1]],
        &text[cuts[1] + 1..cuts[2]],
        &text[cuts[2] + 1..cuts[3]],
        &text[cuts[3] + 1..cuts[4]],
        &text[cuts[4] + 1..],
    ])
}

/// A compiled ARN pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ArnPattern {
    /// `*`.
    Any,
    /// Up to six colon-separated fields. With fewer than six, the last field is matched
    /// against the rest of the ARN (so `arn:*` matches every ARN, but a `*` in an earlier
    /// field still cannot cross a colon).
    Fields(Box<[Template]>),
}

impl ArnPattern {
    /// Compiles a pattern. `head_vars` allows variables in fields one to five (condition
    /// values); `vars` allows them in the sixth (or last) field.
    pub(crate) fn new(text: &str, vars: bool, head_vars: bool) -> Self {
        if text == "*" {
            return Self::Any;
        }
        let fields: Vec<&str> = match split6_pattern(text) {
            Some(f) => f.to_vec(),
            None => text.split(':').collect(),
        };
        let last = fields.len() - 1;
        Self::Fields(
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    Template::new(f, if i == last { vars } else { head_vars }, true, false)
                })
                .collect(),
        )
    }

    /// Whether `arn` matches.
    pub(crate) fn matches(&self, arn: &str, ctx: &Context, missing: &mut Missing) -> bool {
        match self {
            Self::Any => true,
            Self::Fields(fields) => {
                let mut parts = arn.splitn(fields.len(), ':');
                fields.iter().all(|t| match parts.next() {
                    Some(p) => t.is_any() || t.glob(ctx, missing).is_some_and(|g| g.matches(p)),
                    None => false,
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
        assert!(m(
            "arn:aws:iam::*:role/*",
            "arn:aws:iam::111122223333:role/a/b"
        ));
    }
}
