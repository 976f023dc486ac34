//! CloudFormation's `NextToken` pages: keyset positions sealed with the server's token key
//! ([`crate::token`]).
//!
//! A token carries the sort key of the last item of its page, bound to the operation, the
//! caller's account and region and the parameters that choose the list, so the next page
//! starts after that item however the list changed in between (nothing that stays in the
//! list is skipped or repeated), and a token Cairn did not give, or one given for another
//! listing, is refused with CloudFormation's `ValidationError`.

use super::prepare::invalid;
use crate::CallContext;
use crate::error::ApiResult;
use crate::token::TokenKey;

/// Items per page: ListExports pages past 100 exports (its model says so); the others page
/// at 1 MB, which AWS reaches at 100 stacks, resources or change sets.
pub const PAGE: usize = 100;

/// The listing a token belongs to: the operation, the caller's account and region, and the
/// parameters that choose the list.
pub struct Listing<'a> {
    key: &'a TokenKey,
    scope: String,
}

impl<'a> Listing<'a> {
    /// The listing of `action` for this caller, chosen by `params`.
    pub fn new(key: &'a TokenKey, ctx: &CallContext, action: &str, params: &[&str]) -> Self {
        let mut scope = format!(
            "cloudformation\n{action}\n{}\n{}",
            ctx.account(),
            ctx.region
        );
        for p in params {
            scope.push('\n');
            scope.push_str(&p.len().to_string());
            scope.push(':');
            scope.push_str(p);
        }
        Self { key, scope }
    }

    /// The position a token names; CloudFormation's refusal for one not given for this
    /// listing.
    pub fn open(&self, token: Option<&str>) -> ApiResult<Option<String>> {
        token
            .map(|t| {
                self.key
                    .open(&self.scope, t)
                    .ok_or_else(|| invalid(format!("{t} is not a valid NextToken")))
            })
            .transpose()
    }

    /// A token for the page after `position`.
    pub fn seal(&self, position: &str) -> String {
        self.key.seal(&self.scope, position)
    }

    /// One page of `list` (already in the listing's order): the items after the token's
    /// position (`after(item, position)`), at most [`PAGE`], and the token for the rest.
    pub fn page<T>(
        &self,
        list: Vec<T>,
        token: Option<&str>,
        position: impl Fn(&T) -> String,
        after: impl Fn(&T, &str) -> bool,
    ) -> ApiResult<(Vec<T>, Option<String>)> {
        let from = self.open(token)?;
        let mut rest: Vec<T> = match &from {
            Some(p) => list.into_iter().filter(|i| after(i, p)).collect(),
            None => list,
        };
        let next = (rest.len() > PAGE).then(|| self.seal(&position(&rest[PAGE - 1])));
        rest.truncate(PAGE);
        Ok((rest, next))
    }
}

/// A position of a list ordered by a time and then an id: `<time>\n<id>`.
pub fn timed(time: f64, id: &str) -> String {
    format!("{time}\n{id}")
}

/// Whether `(time, id)` sorts after a [`timed`] position, the times `descending` or not and
/// the ids ascending.
pub fn after_timed(time: f64, id: &str, position: &str, descending: bool) -> bool {
    let Some((t, pid)) = position.split_once('\n') else {
        return false;
    };
    let Ok(t) = t.parse::<f64>() else {
        return false;
    };
    if time == t {
        id > pid
    } else {
        (time < t) == descending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> CallContext {
        crate::context::root_call_at(1_000_000.0)
    }

    #[test]
    fn keyset_pages_neither_skip_nor_repeat_and_refuse_foreign_tokens() {
        let key = TokenKey::from_hex(&TokenKey::generate_hex()).unwrap();
        let ctx = ctx();
        let listing = Listing::new(&key, &ctx, "ListExports", &[]);
        let names: Vec<String> = (0..250).map(|i| format!("e{i:03}")).collect();
        let by_name = |s: &String| s.clone();
        let after = |s: &String, p: &str| s.as_str() > p;
        let (first, next) = listing.page(names.clone(), None, by_name, after).unwrap();
        assert_eq!(first.len(), PAGE);
        let next = next.unwrap();
        // Items before the position go away: the next page still starts at e100.
        let fewer: Vec<String> = names[5..].to_vec();
        let (second, _) = listing.page(fewer, Some(&next), by_name, after).unwrap();
        assert_eq!(second[0], "e100");
        for bad in ["garbage", "AAAA.AAAA"] {
            let e = listing.page(names.clone(), Some(bad), by_name, after);
            assert_eq!(
                e.unwrap_err().message,
                format!("{bad} is not a valid NextToken")
            );
        }
        let other = Listing::new(&key, &ctx, "ListStacks", &[]);
        assert!(other.open(Some(&next)).is_err());
    }

    #[test]
    fn timed_positions_order_by_time_then_id() {
        let p = timed(10.5, "b");
        assert!(after_timed(10.0, "a", &p, true));
        assert!(!after_timed(11.0, "a", &p, true));
        assert!(after_timed(10.5, "c", &p, true));
        assert!(!after_timed(10.5, "a", &p, false));
        assert!(after_timed(11.0, "a", &p, false));
    }
}
