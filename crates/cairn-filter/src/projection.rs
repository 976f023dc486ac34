//! Parsing only what the filters read. A [`Projection`] is the union of the selectors of a set
//! of JSON patterns (and metric values and dimensions); [`Projection::parse`] reads a message
//! once, validating all of it but building values only along those paths: other members are
//! skipped without allocation. Objects and arrays on a path keep only the projected children,
//! so a selector that ends on one still sees an object or an array (and compares false).

use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::ast::Step;

/// A tree of the paths to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Projection {
    keys: HashMap<String, Projection>,
    indices: HashMap<usize, Projection>,
}

impl Projection {
    /// Adds one selector's path.
    pub fn add(&mut self, path: &[Step]) {
        let mut node = self;
        for step in path {
            node = match step {
                Step::Key(k) => node.keys.entry(k.clone()).or_default(),
                Step::Index(n) => node.indices.entry(*n).or_default(),
            };
        }
    }

    /// Whether no path was added.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.indices.is_empty()
    }

    /// Parses `text` as JSON, keeping only the projected paths. `None` if it is not JSON.
    pub fn parse(&self, text: &str) -> Option<Value> {
        let mut de = serde_json::Deserializer::from_str(text);
        let value = self.deserialize(&mut de).ok()?;
        de.end().ok()?;
        Some(value)
    }
}

impl<'de> DeserializeSeed<'de> for &Projection {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

/// A map key, borrowed from the input when it has no escapes.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key<'de>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Key<'de>, D::Error> {
        d.deserialize_str(KeySeed)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v))
    }
}

impl<'de> Visitor<'de> for &Projection {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        let mut index = 0;
        loop {
            let item = match self.indices.get(&index) {
                Some(child) => seq.next_element_seed(child)?,
                None => seq.next_element::<IgnoredAny>()?.map(|_| Value::Null),
            };
            match item {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
            index += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            match self.keys.get(key.as_str()) {
                Some(child) => {
                    let v = map.next_value_seed(child)?;
                    out.insert(key.as_str().to_owned(), v);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(keys: &[&str]) -> Vec<Step> {
        keys.iter()
            .map(|k| match k.parse::<usize>() {
                Ok(n) => Step::Index(n),
                Err(_) => Step::Key((*k).to_owned()),
            })
            .collect()
    }

    #[test]
    fn keeps_only_projected_paths() {
        let mut p = Projection::default();
        p.add(&path(&["a", "b"]));
        p.add(&path(&["list", "1"]));
        p.add(&path(&["obj"]));
        let v = p
            .parse(r#"{"a":{"b":1,"c":2},"x":[1,2,{"y":3}],"list":["p","q","r"],"obj":{"deep":{"z":1}},"e\"k":1}"#)
            .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"a":{"b":1},"list":[null,"q",null],"obj":{}})
        );
    }

    #[test]
    fn rejects_what_is_not_json() {
        let p = Projection::default();
        assert!(p.parse("{\"a\":1} trailing").is_none());
        assert!(p.parse("not json").is_none());
        assert_eq!(p.parse(" [1,2] "), Some(serde_json::json!([null, null])));
        assert_eq!(p.parse("{}"), Some(serde_json::json!({})));
    }
}
