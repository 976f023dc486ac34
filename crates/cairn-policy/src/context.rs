//! The request context: condition keys and their values.
//!
//! Key names are case-insensitive (`aws:SourceIp` ≡ `AWS:sourceip`); they are stored
//! lower-cased. Every key holds a list of values: single-valued keys hold one, multi-valued
//! keys (`aws:TagKeys`, `kms:EncryptionContextKeys`) any number, including none (present but
//! empty, which matters to `ForAllValues`/`ForAnyValue`).

use std::collections::BTreeMap;

/// Condition keys of one request. A map, so a request with many keys (one
/// `aws:RequestTag/<key>` per tag) costs a logarithmic lookup per key, not a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Context {
    entries: BTreeMap<Box<str>, Vec<String>>,
    /// Tag keys (lower-cased, with their prefix) given more than one value by tags whose keys
    /// differ only in case (`env` and `Env`), which services such as SNS, Logs and KMS keep
    /// apart. Key names are case-insensitive, so the condition key matches both tags; which
    /// value it "is" AWS leaves undefined, so the evaluator reads them against the statement:
    /// a `Deny` applies when any value satisfies it, an `Allow` only when every value does.
    ambiguous: std::collections::BTreeSet<Box<str>>,
}

impl Context {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a single-valued key (replacing any previous values).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.insert_values(key, vec![value.into()]);
    }

    /// Sets a multi-valued key (replacing any previous values). An empty list keeps the key
    /// present with no values.
    pub fn insert_values(&mut self, key: &str, values: Vec<String>) {
        let lower = key.to_ascii_lowercase().into_boxed_str();
        self.ambiguous.remove(&lower);
        self.entries.insert(lower, values);
    }

    /// Adds one tag's value under `key` (`aws:RequestTag/<tag key>`, `aws:ResourceTag/…`): a
    /// second tag whose key differs only in case adds its value beside the first, and the key
    /// is then read as ambiguous (see [`Context::is_ambiguous`]); never last-one-wins, which
    /// let the order of a request's tags decide whether a `Deny` applied.
    pub fn add_tag(&mut self, key: &str, value: impl Into<String>) {
        let lower = key.to_ascii_lowercase().into_boxed_str();
        match self.entries.get_mut(&lower) {
            Some(values) => {
                values.push(value.into());
                self.ambiguous.insert(lower);
            }
            None => {
                self.entries.insert(lower, vec![value.into()]);
            }
        }
    }

    /// Whether `lower` (a lower-cased key) holds the values of several case-variant tags.
    pub(crate) fn is_ambiguous(&self, lower: &str) -> bool {
        !self.ambiguous.is_empty() && self.ambiguous.contains(lower)
    }

    /// Builder form of [`Context::insert`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Builder form of [`Context::insert_values`].
    pub fn with_values(mut self, key: &str, values: Vec<String>) -> Self {
        self.insert_values(key, values);
        self
    }

    /// Removes a key.
    pub fn remove(&mut self, key: &str) {
        let lower = key.to_ascii_lowercase();
        self.ambiguous.remove(lower.as_str());
        self.entries.remove(lower.as_str());
    }

    /// The values of `key` (case-insensitive), or `None` when absent.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        if key.bytes().any(|b| b.is_ascii_uppercase()) {
            self.get_lower(&key.to_ascii_lowercase())
        } else {
            self.get_lower(key)
        }
    }

    /// Lookup with a key already lower-cased (the evaluator's hot path).
    pub(crate) fn get_lower(&self, lower: &str) -> Option<&[String]> {
        self.entries.get(lower).map(Vec::as_slice)
    }

    /// The first value of `key`, if any.
    pub fn first(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    /// The (lower-cased) key names present.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(|k| &**k)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key is present.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Collects condition keys that a policy referenced but the context lacked (SimulatePolicy's
/// `MissingContextValues`). A no-op unless a list is attached.
pub(crate) struct Missing<'m>(pub(crate) Option<&'m mut Vec<String>>);

impl Missing<'_> {
    pub(crate) fn note(&mut self, key: &str) {
        if let Some(list) = self.0.as_deref_mut()
            && !list.iter().any(|k| k.eq_ignore_ascii_case(key))
        {
            list.push(key.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_case_insensitive() {
        let mut c = Context::new().with("aws:SourceIp", "10.0.0.1");
        assert_eq!(c.first("AWS:SOURCEIP"), Some("10.0.0.1"));
        c.insert("aws:sourceip", "10.0.0.2");
        assert_eq!(c.len(), 1);
        assert_eq!(c.get("aws:SourceIp").unwrap(), ["10.0.0.2"]);
        c.insert_values("aws:TagKeys", vec![]);
        assert_eq!(c.get("aws:tagkeys").unwrap().len(), 0);
        c.remove("AWS:TagKeys");
        assert!(c.get("aws:TagKeys").is_none());
    }

    #[test]
    fn case_variant_tags_keep_both_values() {
        let mut c = Context::new();
        c.add_tag("aws:RequestTag/env", "prod");
        assert!(!c.is_ambiguous("aws:requesttag/env"));
        c.add_tag("aws:RequestTag/Env", "dev");
        assert_eq!(c.get("aws:requesttag/ENV").unwrap(), ["prod", "dev"]);
        assert!(c.is_ambiguous("aws:requesttag/env"));
        c.insert("aws:RequestTag/env", "x");
        assert!(!c.is_ambiguous("aws:requesttag/env"));
    }
}
