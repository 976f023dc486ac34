//! How much a serde document would build, counted without building it: a pass over any
//! self-describing format (JSON, CBOR, YAML) that stops as soon as the document holds more
//! values, or more string and byte content, than a budget allows. Request parsers run it
//! before they build a value tree, so a small body (gzip'd, or YAML whose aliases repeat a
//! node) cannot make the server build a huge one.

use std::cell::{Cell, RefCell};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Visitor};

thread_local! {
    /// The budget a [`Counted`] counts against, set by [`Budget::count_owned`].
    static CURRENT: RefCell<Option<Budget>> = const { RefCell::new(None) };
}

/// A document counted against the budget [`Budget::count_owned`] set on this thread, for
/// readers that deserialize only owned types (ciborium's): reading it builds nothing.
pub struct Counted;

impl<'de> Deserialize<'de> for Counted {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        CURRENT
            .with(|c| match &*c.borrow() {
                Some(budget) => budget.count(d),
                None => Ok(()),
            })
            .map(|()| Counted)
    }
}

/// What a document may hold: values (scalars, sequences and maps each count one) and bytes
/// of string and byte content (map keys included).
#[derive(Debug)]
pub struct Budget {
    values: Cell<usize>,
    bytes: Cell<usize>,
    exceeded: Cell<bool>,
}

impl Budget {
    /// A budget of `values` values and `bytes` bytes of content.
    pub fn new(values: usize, bytes: usize) -> Self {
        Self {
            values: Cell::new(values),
            bytes: Cell::new(bytes),
            exceeded: Cell::new(false),
        }
    }

    /// Counts the document `d` holds. `Err` when it is malformed or over the budget; then
    /// [`Budget::exceeded`] tells which.
    pub fn count<'de, D: Deserializer<'de>>(&self, d: D) -> Result<(), D::Error> {
        Count(self).deserialize(d)
    }

    /// Runs `read`, which reads a [`Counted`], against a budget of `values` and `bytes`:
    /// its result, and whether it stopped because the document was over the budget.
    pub fn count_owned<T, E>(
        values: usize,
        bytes: usize,
        read: impl FnOnce() -> Result<T, E>,
    ) -> (Result<T, E>, bool) {
        /// Clears the thread's budget however `read` ends (a panic included).
        struct Clear;
        impl Drop for Clear {
            fn drop(&mut self) {
                let _ = CURRENT.try_with(|c| c.borrow_mut().take());
            }
        }
        CURRENT.with(|c| *c.borrow_mut() = Some(Budget::new(values, bytes)));
        let clear = Clear;
        let result = read();
        let exceeded = CURRENT.with(|c| c.borrow().as_ref().is_some_and(Budget::exceeded));
        drop(clear);
        (result, exceeded)
    }

    /// Whether the last [`Budget::count`] stopped because the document was over the budget.
    pub fn exceeded(&self) -> bool {
        self.exceeded.get()
    }

    fn take<E: de::Error>(&self, bytes: usize) -> Result<(), E> {
        let (values, left) = (self.values.get(), self.bytes.get());
        if values == 0 || bytes > left {
            self.exceeded.set(true);
            return Err(E::custom("the document holds more than its budget allows"));
        }
        self.values.set(values - 1);
        self.bytes.set(left - bytes);
        Ok(())
    }
}

struct Count<'b>(&'b Budget);

impl<'de> DeserializeSeed<'de> for Count<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Count<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.0.take(0)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.0.take(0)
    }

    fn visit_i128<E: de::Error>(self, _: i128) -> Result<(), E> {
        self.0.take(0)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.0.take(0)
    }

    fn visit_u128<E: de::Error>(self, _: u128) -> Result<(), E> {
        self.0.take(0)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.0.take(0)
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<(), E> {
        self.0.take(s.len())
    }

    fn visit_bytes<E: de::Error>(self, b: &[u8]) -> Result<(), E> {
        self.0.take(b.len())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.0.take(0)
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.0.take(0)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.0.take(0)?;
        while seq.next_element_seed(Count(self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.0.take(0)?;
        while map.next_key_seed(Count(self.0))?.is_some() {
            map.next_value_seed(Count(self.0))?;
        }
        Ok(())
    }

    /// A tagged value (YAML's `!Ref x`): the tag and what it tags.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<(), A::Error> {
        use serde::de::VariantAccess;
        self.0.take(0)?;
        let ((), variant) = data.variant_seed(Count(self.0))?;
        variant.newtype_variant_seed(Count(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(text: &str, values: usize, bytes: usize) -> Result<(), bool> {
        let b = Budget::new(values, bytes);
        let mut de = serde_json::Deserializer::from_str(text);
        b.count(&mut de).map_err(|_| b.exceeded())
    }

    #[test]
    fn a_document_within_its_budget_passes_and_one_over_it_stops() {
        // {"a": [1, "xy"]}: the map, the key, the list and two scalars; 3 bytes of text.
        assert_eq!(counts(r#"{"a": [1, "xy"]}"#, 5, 3), Ok(()));
        assert_eq!(counts(r#"{"a": [1, "xy"]}"#, 4, 3), Err(true));
        assert_eq!(counts(r#"{"a": [1, "xy"]}"#, 5, 2), Err(true));
        // Malformed is an error that is not over the budget.
        assert_eq!(counts(r#"{"a": [1, "#, 100, 100), Err(false));
        let many = format!("[{}[]]", "[],".repeat(10_000));
        assert_eq!(counts(&many, 1_000, 1_000), Err(true));
    }
}
