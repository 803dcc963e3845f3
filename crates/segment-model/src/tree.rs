//! A traits object as one flat arena of borrowed entries: cheap to build, walk and feed to serde.
//!
//! Fuzzing-side code (feature `arbitrary`): a default build of the model
//! does not compile it.
//!
//! A [`serde_json::Value`] allocates for every object, key and string and
//! cannot hold a key twice. A [`TraitsTree`] keeps all entries in one
//! `Vec` (each object's entries side by side), borrows its keys and
//! strings from where they came from (a fuzzer's input, a string pool),
//! and keeps repeated keys, as JSON text can. It exists so a fuzz target
//! can hand the flattener a new traits object hundreds of thousands of
//! times a second, and an oracle can walk the same object without
//! allocating.
//!
//! The tree is a serde [`Deserializer`] (see [`TraitsTree::deserializer`]),
//! visited the way `serde_json` visits the same JSON text: strings are
//! borrowed, non-negative integers come as `u64`, negative ones as `i64`,
//! other numbers as `f64`. Its objects can be visited with their entries in
//! the given or the reversed order, to check that a consumer does not
//! depend on key order. It serializes to JSON text with its repeated keys.
//!
//! ```
//! use segment_model::tree::{Order, TraitsTree, TreeValue};
//! use serde::Deserialize;
//!
//! let mut tree = TraitsTree::new();
//! let address = tree.object(1);
//! tree.set(address, 0, "city", TreeValue::Str("Berlin"))?;
//! tree.push_root("address", TreeValue::Object(address));
//! tree.push_root("plan", TreeValue::Str("pro"));
//!
//! let json = serde_json::Value::deserialize(tree.deserializer(Order::Reversed))?;
//! assert_eq!(json, serde_json::json!({"plan": "pro", "address": {"city": "Berlin"}}));
//! assert_eq!(serde_json::to_string(&tree)?, r#"{"address":{"city":"Berlin"},"plan":"pro"}"#);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;

use serde::de::value::{BorrowedStrDeserializer, Error, StrDeserializer};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer, forward_to_deserialize_any};

/// Where an object's entries or an array's items sit in their arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// How many entries or items.
    pub fn len(self) -> usize {
        self.len as usize
    }

    /// Whether there are none.
    pub fn is_empty(self) -> bool {
        self.len == 0
    }

    fn range(self) -> std::ops::Range<usize> {
        let start = self.start as usize;
        start..start + self.len as usize
    }
}

/// A JSON value in a [`TraitsTree`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TreeValue<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A non-negative integer.
    UInt(u64),
    /// An integer (serde visits a non-negative one as `u64`, like `serde_json`).
    Int(i64),
    /// A finite number with a fraction or exponent.
    Float(f64),
    /// A string.
    Str(&'a str),
    /// An array: its items, in [`TraitsTree::items`].
    Array(Span),
    /// An object: its entries, in [`TraitsTree::entries`].
    Object(Span),
}

/// One key and its value in an object.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeEntry<'a> {
    /// The key: borrowed, or owned when it was made up (a joined pair of names).
    pub key: Cow<'a, str>,
    /// The value.
    pub value: TreeValue<'a>,
}

/// A traits object: root entries, plus the arenas every nested object and
/// array points into.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TraitsTree<'a> {
    root: Vec<TreeEntry<'a>>,
    entries: Vec<TreeEntry<'a>>,
    items: Vec<TreeValue<'a>>,
}

/// The order in which [`TraitsTree::deserializer`] visits each object's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// As they were added.
    Given,
    /// Last first, at every level.
    Reversed,
}

impl<'a> TraitsTree<'a> {
    /// An empty traits object.
    pub fn new() -> Self {
        Self::default()
    }

    /// The top-level entries.
    pub fn root(&self) -> &[TreeEntry<'a>] {
        &self.root
    }

    /// How many entries the tree holds at every level.
    pub fn entry_count(&self) -> usize {
        self.root.len() + self.entries.len()
    }

    /// Adds a top-level entry.
    pub fn push_root(&mut self, key: impl Into<Cow<'a, str>>, value: TreeValue<'a>) {
        self.root.push(TreeEntry {
            key: key.into(),
            value,
        });
    }

    /// Reserves an object of `len` entries, each `null` under an empty key
    /// until [`set`](Self::set) fills it.
    pub fn object(&mut self, len: usize) -> Span {
        let span = Span {
            start: arena_index(self.entries.len()),
            len: arena_index(len),
        };
        self.entries.resize(
            self.entries.len() + len,
            TreeEntry {
                key: Cow::Borrowed(""),
                value: TreeValue::Null,
            },
        );
        span
    }

    /// Fills entry `i` of an object from [`object`](Self::object).
    ///
    /// # Errors
    /// [`EntryOutOfRange`] if `i` is not below the object's length (or the
    /// span is not one of this tree's); the tree is left as it was.
    pub fn set(
        &mut self,
        object: Span,
        i: usize,
        key: impl Into<Cow<'a, str>>,
        value: TreeValue<'a>,
    ) -> Result<(), EntryOutOfRange> {
        let slot = self
            .entries
            .get_mut(object.range())
            .and_then(|entries| entries.get_mut(i))
            .ok_or(EntryOutOfRange {
                index: i,
                len: object.len(),
            })?;
        *slot = TreeEntry {
            key: key.into(),
            value,
        };
        Ok(())
    }

    /// Adds an object of these entries, side by side in the arena.
    pub fn object_of(&mut self, entries: impl IntoIterator<Item = TreeEntry<'a>>) -> Span {
        push_span(&mut self.entries, entries)
    }

    /// Adds an array of these items.
    pub fn array(&mut self, items: impl IntoIterator<Item = TreeValue<'a>>) -> Span {
        push_span(&mut self.items, items)
    }

    /// The entries of an object value.
    pub fn entries(&self, object: Span) -> &[TreeEntry<'a>] {
        self.entries.get(object.range()).unwrap_or_default()
    }

    /// The items of an array value.
    pub fn items(&self, array: Span) -> &[TreeValue<'a>] {
        self.items.get(array.range()).unwrap_or_default()
    }

    /// A tree of a [`serde_json::Map`], borrowing its keys and strings.
    ///
    /// Recursive: for values no deeper than `serde_json` parses (128), as
    /// dropping a [`serde_json::Value`] is recursive too.
    pub fn from_map(map: &'a serde_json::Map<String, serde_json::Value>) -> Self {
        let mut tree = Self::new();
        for (key, value) in map {
            let value = tree.add(value);
            tree.push_root(key.as_str(), value);
        }
        tree
    }

    fn add(&mut self, value: &'a serde_json::Value) -> TreeValue<'a> {
        use serde_json::Value;
        match value {
            Value::Null => TreeValue::Null,
            Value::Bool(b) => TreeValue::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(n), _) => TreeValue::UInt(n),
                (None, Some(n)) => TreeValue::Int(n),
                (None, None) => TreeValue::Float(n.as_f64().unwrap_or(0.0)),
            },
            Value::String(s) => TreeValue::Str(s),
            Value::Array(items) => {
                let items: Vec<TreeValue<'a>> = items.iter().map(|v| self.add(v)).collect();
                TreeValue::Array(self.array(items))
            }
            Value::Object(map) => {
                // The children first: an object's own entries must sit side by side.
                let entries: Vec<TreeEntry<'a>> = map
                    .iter()
                    .map(|(key, value)| TreeEntry {
                        key: Cow::Borrowed(key.as_str()),
                        value: self.add(value),
                    })
                    .collect();
                TreeValue::Object(self.object_of(entries))
            }
        }
    }

    /// The tree as a serde [`Deserializer`] of a map, objects visited in `order`.
    pub fn deserializer(&self, order: Order) -> impl Deserializer<'a, Error = Error> + '_ {
        ValueDe {
            tree: self,
            value: None,
            order,
        }
    }

    /// The tree as a [`serde_json::Map`]: of a repeated key, the last value stays.
    pub fn to_map(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = serde_json::Map::new();
        for entry in &self.root {
            map.insert(entry.key.to_string(), self.to_value(entry.value));
        }
        map
    }

    /// One value as a [`serde_json::Value`].
    pub fn to_value(&self, value: TreeValue<'a>) -> serde_json::Value {
        use serde_json::Value;
        match value {
            TreeValue::Null => Value::Null,
            TreeValue::Bool(b) => Value::Bool(b),
            TreeValue::UInt(n) => Value::from(n),
            TreeValue::Int(n) => Value::from(n),
            TreeValue::Float(n) => Value::from(n),
            TreeValue::Str(s) => Value::from(s),
            TreeValue::Array(span) => self.items(span).iter().map(|v| self.to_value(*v)).collect(),
            TreeValue::Object(span) => Value::Object(
                self.entries(span)
                    .iter()
                    .map(|e| (e.key.to_string(), self.to_value(e.value)))
                    .collect(),
            ),
        }
    }
}

/// [`TraitsTree::set`] was given an entry past the end of its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("entry {index} of an object of {len}")]
pub struct EntryOutOfRange {
    /// The entry asked for.
    pub index: usize,
    /// How many entries the object has.
    pub len: usize,
}

/// Appends `new` to `arena`, side by side, and returns where they sit.
fn push_span<T>(arena: &mut Vec<T>, new: impl IntoIterator<Item = T>) -> Span {
    let start = arena.len();
    arena.extend(new);
    Span {
        start: arena_index(start),
        len: arena_index(arena.len() - start),
    }
}

fn arena_index(n: usize) -> u32 {
    u32::try_from(n).expect("a traits tree holds fewer than 2^32 entries")
}

// ------------------------------------------------------------------ serde

/// One value as a deserializer; `None` is the root object.
struct ValueDe<'t, 'a> {
    tree: &'t TraitsTree<'a>,
    value: Option<TreeValue<'a>>,
    order: Order,
}

/// An object's entries as a [`MapAccess`].
struct Entries<'t, 'a> {
    tree: &'t TraitsTree<'a>,
    entries: &'t [TreeEntry<'a>],
    order: Order,
    next: Option<TreeValue<'a>>,
}

/// An array's items as a [`SeqAccess`].
struct Items<'t, 'a> {
    tree: &'t TraitsTree<'a>,
    items: std::slice::Iter<'t, TreeValue<'a>>,
    order: Order,
}

impl<'a> Deserializer<'a> for ValueDe<'_, 'a> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        let Some(value) = self.value else {
            return visitor.visit_map(Entries {
                tree: self.tree,
                entries: &self.tree.root,
                order: self.order,
                next: None,
            });
        };
        match value {
            TreeValue::Null => visitor.visit_unit(),
            TreeValue::Bool(b) => visitor.visit_bool(b),
            TreeValue::UInt(n) => visitor.visit_u64(n),
            TreeValue::Int(n) => match u64::try_from(n) {
                Ok(n) => visitor.visit_u64(n),
                Err(_) => visitor.visit_i64(n),
            },
            TreeValue::Float(n) => visitor.visit_f64(n),
            TreeValue::Str(s) => visitor.visit_borrowed_str(s),
            TreeValue::Array(span) => visitor.visit_seq(Items {
                tree: self.tree,
                items: self.tree.items(span).iter(),
                order: self.order,
            }),
            TreeValue::Object(span) => visitor.visit_map(Entries {
                tree: self.tree,
                entries: self.tree.entries(span),
                order: self.order,
                next: None,
            }),
        }
    }

    forward_to_deserialize_any! {
        <W: Visitor<'a>>
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'a> MapAccess<'a> for Entries<'_, 'a> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        let entry = match self.order {
            Order::Given => self.entries.split_off_first(),
            Order::Reversed => self.entries.split_off_last(),
        };
        let Some(entry) = entry else {
            return Ok(None);
        };
        self.next = Some(entry.value);
        match &entry.key {
            Cow::Borrowed(key) => seed
                .deserialize(BorrowedStrDeserializer::new(key))
                .map(Some),
            Cow::Owned(key) => seed.deserialize(StrDeserializer::new(key)).map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self.next.take().unwrap_or(TreeValue::Null);
        seed.deserialize(ValueDe {
            tree: self.tree,
            value: Some(value),
            order: self.order,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

impl<'a> SeqAccess<'a> for Items<'_, 'a> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'a>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        let Some(value) = self.items.next() else {
            return Ok(None);
        };
        seed.deserialize(ValueDe {
            tree: self.tree,
            value: Some(*value),
            order: self.order,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// One value with its tree, for [`Serialize`].
struct Ser<'t, 'a> {
    tree: &'t TraitsTree<'a>,
    value: TreeValue<'a>,
}

fn serialize_entries<S: Serializer>(
    tree: &TraitsTree<'_>,
    entries: &[TreeEntry<'_>],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(entries.len()))?;
    for entry in entries {
        map.serialize_entry(
            entry.key.as_ref(),
            &Ser {
                tree,
                value: entry.value,
            },
        )?;
    }
    map.end()
}

impl Serialize for Ser<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.value {
            TreeValue::Null => serializer.serialize_unit(),
            TreeValue::Bool(b) => serializer.serialize_bool(b),
            TreeValue::UInt(n) => serializer.serialize_u64(n),
            TreeValue::Int(n) => serializer.serialize_i64(n),
            TreeValue::Float(n) => serializer.serialize_f64(n),
            TreeValue::Str(s) => serializer.serialize_str(s),
            TreeValue::Array(span) => {
                let items = self.tree.items(span);
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for value in items {
                    seq.serialize_element(&Ser {
                        tree: self.tree,
                        value: *value,
                    })?;
                }
                seq.end()
            }
            TreeValue::Object(span) => {
                serialize_entries(self.tree, self.tree.entries(span), serializer)
            }
        }
    }
}

/// JSON text with every entry in order, repeated keys included.
impl Serialize for TraitsTree<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_entries(self, &self.root, serializer)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::{Value, json};

    use super::{EntryOutOfRange, Order, TraitsTree, TreeValue};

    /// `{"b": [1, -2, 0.5, "s", null], "a": {"k": true, "e": {}}, "b": "again"}`.
    fn sample() -> TraitsTree<'static> {
        let mut tree = TraitsTree::new();
        let list = tree.array([
            TreeValue::Int(1),
            TreeValue::Int(-2),
            TreeValue::Float(0.5),
            TreeValue::Str("s"),
            TreeValue::Null,
        ]);
        tree.push_root("b", TreeValue::Array(list));
        let empty = tree.object(0);
        let inner = tree.object(2);
        tree.set(inner, 0, "k", TreeValue::Bool(true)).unwrap();
        tree.set(inner, 1, "e", TreeValue::Object(empty)).unwrap();
        tree.push_root("a", TreeValue::Object(inner));
        tree.push_root("b", TreeValue::Str("again"));
        tree
    }

    #[test]
    fn serializes_every_entry_in_order_with_repeated_keys() {
        let text = serde_json::to_string(&sample()).expect("a tree serializes");
        assert_eq!(
            text,
            r#"{"b":[1,-2,0.5,"s",null],"a":{"k":true,"e":{}},"b":"again"}"#
        );
    }

    #[test]
    fn deserializes_like_json_text_in_either_order() {
        let tree = sample();
        let text = serde_json::to_string(&tree).expect("a tree serializes");
        // serde_json keeps the last of a repeated key, as `to_map` does.
        let from_text: Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(from_text, Value::Object(tree.to_map()));
        let given = Value::deserialize(tree.deserializer(Order::Given)).expect("a value");
        assert_eq!(given, from_text);
        let reversed = Value::deserialize(tree.deserializer(Order::Reversed)).expect("a value");
        // Reversed, the first `b` is read last and stays.
        assert_eq!(reversed["b"], json!([1, -2, 0.5, "s", null]));
        assert_eq!(reversed["a"], from_text["a"]);
    }

    #[test]
    fn a_non_negative_int_is_visited_as_u64_like_serde_json_reads_it() {
        let mut tree = TraitsTree::new();
        tree.push_root("n", TreeValue::Int(5));
        let value = Value::deserialize(tree.deserializer(Order::Given)).expect("a value");
        assert!(value["n"].is_u64(), "{value}");
    }

    #[test]
    fn a_map_becomes_a_tree_that_reads_back_as_the_same_map() {
        let map = json!({"a": {"b": [1, "x"], "c": {}}, "d": null, "e": -1.5, "f": u64::MAX});
        let map = map.as_object().expect("an object");
        let tree = TraitsTree::from_map(map);
        assert_eq!(tree.entry_count(), 6);
        let back = Value::deserialize(tree.deserializer(Order::Reversed)).expect("a value");
        assert_eq!(back, Value::Object(map.clone()));
    }

    #[test]
    fn setting_an_entry_past_an_objects_length_is_an_error_and_changes_nothing() {
        let mut tree = TraitsTree::new();
        let object = tree.object(1);
        let next = tree.object(1);
        tree.set(next, 0, "kept", TreeValue::UInt(7)).unwrap();
        let before = tree.clone();
        let err = tree.set(object, 1, "k", TreeValue::Null).unwrap_err();
        assert_eq!(err, EntryOutOfRange { index: 1, len: 1 });
        assert_eq!(err.to_string(), "entry 1 of an object of 1");
        // Entry 1 of the first object would be entry 0 of the next one in the arena.
        assert_eq!(tree, before);
        assert_eq!(tree.entries(next)[0].value, TreeValue::UInt(7));
    }

    #[test]
    fn a_span_from_another_tree_is_an_error_not_a_panic() {
        let mut big = TraitsTree::new();
        let far = big.object(4);
        let mut small = TraitsTree::new();
        let err = small.set(far, 3, "k", TreeValue::Null).unwrap_err();
        assert_eq!(err, EntryOutOfRange { index: 3, len: 4 });
        assert_eq!(small, TraitsTree::new());
    }
}
