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
        self.entries
            .insert(key.to_ascii_lowercase().into_boxed_str(), values);
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
        self.entries.remove(key.to_ascii_lowercase().as_str());
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
}
