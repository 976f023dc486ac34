//! Query parameters of IAM and STS requests as typed values: members, integers, booleans,
//! `Name.member.N` lists and lists of structures, tags, pages. A missing or ill-typed member
//! becomes AWS's `ValidationError`, raised inside the operation so the call is recorded.

use cairn_core::ApiError;
use cairn_core::error::ApiResult;
use cairn_core::iam::{Binding, PageRequest, Tag, validate};
use cairn_core::token::TokenKey;

use crate::query::Params;

/// One request's parameters.
#[derive(Clone, Debug, Default)]
pub struct Input(Vec<(String, String)>);

impl Input {
    /// From the parsed query and form.
    pub fn new(params: &Params) -> Self {
        Self(params.iter().cloned().collect())
    }

    /// An optional string member (an empty value counts as given).
    pub fn opt(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// A required string member (`field` is its lower-camel name for the message).
    pub fn req(&self, name: &str, field: &str) -> ApiResult<String> {
        self.opt(name).ok_or_else(|| validate::missing(field))
    }

    /// An optional integer.
    pub fn int(&self, name: &str, field: &str) -> ApiResult<Option<i64>> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| validate::violation(&v, field, "Member must be an integer")),
        }
    }

    /// An optional boolean (`true`/`false`).
    pub fn boolean(&self, name: &str, field: &str) -> ApiResult<Option<bool>> {
        match self.opt(name).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(validate::violation(v, field, "Member must be a boolean")),
        }
    }

    /// A list of strings, `Name.member.1`, `Name.member.2`… (an empty list is sent as
    /// `Name=`).
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(usize, String)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(&prefix)?.parse().ok()?;
                Some((n, v.clone()))
            })
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// A list of structures: one [`Input`] per member, with the member's fields as top-level
    /// names (`Name.member.N.Field` → `Field`).
    pub fn structs(&self, name: &str) -> Vec<Input> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(usize, Input)> = Vec::new();
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix(&prefix) else {
                continue;
            };
            let Some((n, field)) = rest.split_once('.') else {
                continue;
            };
            let Ok(n) = n.parse::<usize>() else {
                continue;
            };
            match items.iter_mut().find(|(i, _)| *i == n) {
                Some((_, input)) => input.0.push((field.to_owned(), v.clone())),
                None => items.push((n, Input(vec![(field.to_owned(), v.clone())]))),
            }
        }
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, i)| i).collect()
    }

    /// `Tags.member.N.Key` / `.Value`.
    pub fn tags(&self) -> ApiResult<Vec<Tag>> {
        self.structs("Tags")
            .into_iter()
            .enumerate()
            .map(|(i, t)| {
                Ok((
                    t.req("Key", &format!("tags.{}.member.key", i + 1))?,
                    t.req("Value", &format!("tags.{}.member.value", i + 1))?,
                ))
            })
            .collect()
    }

    /// `Marker` and `MaxItems`, with markers bound to the server's token key and to the
    /// action and its other parameters.
    pub fn page(&self, conn: &cairn_store::Connection) -> ApiResult<PageRequest> {
        let rest: Vec<(String, String)> = self
            .0
            .iter()
            .filter(|(k, _)| k != "Marker" && k != "MaxItems")
            .cloned()
            .collect();
        Ok(PageRequest {
            marker: self.opt("Marker"),
            max_items: self.int("MaxItems", "maxItems")?,
            binding: Some(Binding {
                key: TokenKey::stored(conn)?,
                scope: cairn_core::token::scope_of("iam", &rest),
            }),
        })
    }
}

pub use crate::query_record::request_parameters;

/// A `ValidationError` for an action this service does not have.
pub fn unknown_action(action: &str, version: &str) -> ApiError {
    ApiError::new(
        cairn_core::ErrorKind::IamValidation,
        format!("Could not find operation {action} for version {version}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_structures() {
        let params = Params::parse(
            "",
            b"Action=CreateUser&UserName=a&Tags.member.2.Key=k2&Tags.member.1.Key=k1&Tags.member.1.Value=v1&Tags.member.2.Value=v2&ActionNames.member.1=s3%3AGetObject&MaxItems=5",
        );
        let input = Input::new(&params);
        assert_eq!(
            input.tags().unwrap(),
            vec![("k1".into(), "v1".into()), ("k2".into(), "v2".into())]
        );
        assert_eq!(input.list("ActionNames"), vec!["s3:GetObject"]);
        let rp = request_parameters("iam", &params);
        assert_eq!(rp["userName"], "a");
        assert_eq!(rp["tags"][1]["key"], "k2");
        // Not members of CreateUser: never recorded.
        assert!(rp.get("maxItems").is_none() && rp.get("actionNames").is_none());
        let params = Params::parse(
            "",
            b"Action=SimulatePrincipalPolicy&PolicySourceArn=arn&ActionNames.member.1=s3%3AGetObject&MaxItems=5",
        );
        let rp = request_parameters("iam", &params);
        assert_eq!(rp["maxItems"], 5);
        assert_eq!(rp["actionNames"][0], "s3:GetObject");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_parameters_never_panic(
            pairs in proptest::collection::vec(
                ("[A-Za-z]{1,8}(\\.member\\.[0-9]{1,5}(\\.[A-Za-z]{1,6}(\\.member\\.[0-9]{1,3})?)?)?", ".{0,12}"),
                0..24,
            )
        ) {
            let body: String = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs.iter())
                .finish();
            let params = Params::parse("", body.as_bytes());
            let input = Input::new(&params);
            let _ = request_parameters("iam", &params);
            let _ = input.tags();
            let conn = cairn_store::Connection::open_in_memory().unwrap();
            let _ = input.page(&conn);
            let _ = input.int("MaxItems", "maxItems");
            for s in input.structs("ContextEntries") {
                let _ = s.list("ContextKeyValues");
            }
            let _ = input.list("ActionNames");
        }
    }
}
