//! The trait flattener: nested Segment traits → flat Talon.One attribute keys.
//!
//! # Rules
//!
//! | rule | behaviour | evidence |
//! | --- | --- | --- |
//! | separator | nested objects join their keys with `_` at any depth: `address.city` → `address_city`, `a.b.c` → `a_b_c` | documented (destination page: `address: {city}` → `address_city`); deeper levels inferred |
//! | arrays | an array is a value, never descended into; an array of strings, numbers and booleans is sent as a list ([`FlatValue::List`]); an empty array is an empty list | chosen here (Talon.One has list attribute types) |
//! | unrepresentable arrays | an array holding an object, an array or a `null` is dropped with a warning ([`Kind::UnrepresentableArray`]) | chosen here (no Talon.One type holds it) |
//! | mixed lists | a list mixing JSON types is sent, with a warning ([`Kind::MixedList`]) | chosen here |
//! | nulls | a `null` value is dropped with a note ([`Kind::NullValue`]) | chosen here |
//! | empty objects | `{}` yields no key, with a note ([`Kind::EmptyObject`]) | chosen here |
//! | depth | a leaf may sit at most [`MAX_DEPTH`] keys deep; an object whose children would be deeper is dropped whole with a warning ([`Kind::TooDeep`]), without descending into it | chosen here |
//! | collisions | when several paths flatten to one key, the path with the **fewest levels** wins (`address_city` written flat beats `address.city`); among equally deep paths, the one whose segments sort first bytewise wins; among equal paths (a key repeated in the JSON text), the value whose JSON text sorts first wins. Every loser is reported ([`Kind::Collision`]). The result never depends on the order of keys in the input | chosen here |
//! | output | keys are unique and sorted bytewise; values are scalars or lists of scalars | chosen here |
//!
//! Two drivers share these rules through one builder: [`flatten`] walks a
//! [`serde_json::Map`] iteratively (no recursion, any depth), and
//! [`FlatTraits`] flattens while deserializing, borrowing strings from the
//! input where it can (the fast path of [`crate::map_json`]); its recursion
//! is bounded by `serde_json`'s nesting limit of 128.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::diagnostics::{Diagnostic, Kind};
use crate::lenient::{Lenient, Read, Str};

/// The separator between the keys of nested objects.
pub const SEPARATOR: char = '_';

/// The deepest a leaf may sit: a path of at most this many keys.
pub const MAX_DEPTH: usize = 32;

/// A JSON scalar, borrowed from the input where possible.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar<'a> {
    /// A string.
    String(Cow<'a, str>),
    /// A negative integer.
    Int(i64),
    /// A non-negative integer.
    UInt(u64),
    /// A number with a fraction or exponent.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
}

/// A flattened value: what an attribute can hold.
#[derive(Debug, Clone, PartialEq)]
pub enum FlatValue<'a> {
    /// One scalar.
    Scalar(Scalar<'a>),
    /// An array of scalars.
    List(Vec<Scalar<'a>>),
}

impl Scalar<'_> {
    fn class(&self) -> u8 {
        match self {
            Self::String(_) => 0,
            Self::Int(_) | Self::UInt(_) | Self::Float(_) => 1,
            Self::Bool(_) => 2,
        }
    }

    /// The JSON type, as a phrase for messages.
    pub fn json_type(&self) -> &'static str {
        match self.class() {
            0 => "a string",
            1 => "a number",
            _ => "a boolean",
        }
    }

    /// An owned copy.
    pub fn into_owned(self) -> Scalar<'static> {
        match self {
            Self::String(s) => Scalar::String(Cow::Owned(s.into_owned())),
            Self::Int(n) => Scalar::Int(n),
            Self::UInt(n) => Scalar::UInt(n),
            Self::Float(n) => Scalar::Float(n),
            Self::Bool(b) => Scalar::Bool(b),
        }
    }
}

impl FlatValue<'_> {
    /// The JSON type, as a phrase for messages.
    pub fn json_type(&self) -> &'static str {
        match self {
            Self::Scalar(s) => s.json_type(),
            Self::List(_) => "a list",
        }
    }

    /// An owned copy.
    pub fn into_owned(self) -> FlatValue<'static> {
        match self {
            Self::Scalar(s) => FlatValue::Scalar(s.into_owned()),
            Self::List(items) => {
                FlatValue::List(items.into_iter().map(Scalar::into_owned).collect())
            }
        }
    }

    /// The value as a [`serde_json::Value`].
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for Scalar<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::String(s) => serializer.serialize_str(s),
            Self::Int(n) => serializer.serialize_i64(*n),
            Self::UInt(n) => serializer.serialize_u64(*n),
            Self::Float(n) => serializer.serialize_f64(*n),
            Self::Bool(b) => serializer.serialize_bool(*b),
        }
    }
}

impl Serialize for FlatValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Scalar(s) => s.serialize(serializer),
            Self::List(items) => serializer.collect_seq(items),
        }
    }
}

/// One flattened trait: its key, the path it came from, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf<'a> {
    /// The flattened key: the path's keys joined with [`SEPARATOR`].
    pub key: Cow<'a, str>,
    /// End offsets in `key` of every path segment but the last.
    ends: Ends,
    /// The value.
    pub value: FlatValue<'a>,
}

/// Segment end offsets, inline for the usual shallow paths (no allocation).
#[derive(Debug, Clone, PartialEq)]
enum Ends {
    Inline(u8, [u32; 3]),
    Heap(Vec<u32>),
}

impl Ends {
    const EMPTY: Self = Self::Inline(0, [0; 3]);

    fn from_slice(ends: &[u32]) -> Self {
        match ends.len() {
            len @ 0..=3 => {
                let mut inline = [0; 3];
                inline[..len].copy_from_slice(ends);
                Self::Inline(len as u8, inline)
            }
            _ => Self::Heap(ends.to_vec()),
        }
    }

    fn as_slice(&self) -> &[u32] {
        match self {
            Self::Inline(len, ends) => &ends[..usize::from(*len)],
            Self::Heap(ends) => ends,
        }
    }
}

impl<'a> Leaf<'a> {
    /// A top-level leaf (a path of one key).
    pub fn top_level(key: impl Into<Cow<'a, str>>, value: FlatValue<'a>) -> Self {
        Self {
            key: key.into(),
            ends: Ends::EMPTY,
            value,
        }
    }

    /// How many keys deep the leaf sits (1 for a top-level trait).
    pub fn depth(&self) -> usize {
        self.ends.as_slice().len() + 1
    }

    /// The keys of the path, outermost first.
    pub fn segments(&self) -> impl Iterator<Item = &str> + Clone + '_ {
        segments(&self.key, self.ends.as_slice())
    }

    /// The path for people: keys joined with `.` (a key that holds `.`,
    /// brackets or nothing is written as `["…"]`).
    pub fn path(&self) -> String {
        display_path(self.segments())
    }

    /// An owned copy.
    pub fn into_owned(self) -> Leaf<'static> {
        Leaf {
            key: Cow::Owned(self.key.into_owned()),
            ends: self.ends,
            value: self.value.into_owned(),
        }
    }
}

fn segments<'s>(key: &'s str, ends: &'s [u32]) -> impl Iterator<Item = &'s str> + Clone + 's {
    let mut start = 0usize;
    ends.iter()
        .map(|&e| e as usize)
        .chain(std::iter::once(key.len()))
        .map(move |end| {
            let seg = key.get(start..end).unwrap_or("");
            start = end + SEPARATOR.len_utf8();
            seg
        })
}

fn display_path<'s>(segments: impl Iterator<Item = &'s str> + Clone) -> String {
    let mut out = String::with_capacity(segments.clone().map(|s| s.len() + 1).sum());
    for (i, seg) in segments.enumerate() {
        let plain = !seg.is_empty() && !seg.bytes().any(|b| matches!(b, b'.' | b'[' | b']' | b'"'));
        if plain {
            if i > 0 {
                out.push('.');
            }
            out.push_str(seg);
        } else {
            out.push('[');
            out.push_str(&serde_json::to_string(seg).unwrap_or_default());
            out.push(']');
        }
    }
    out
}

/// The flattener's result: unique keys in sorted order, and what happened
/// to the traits that did not become keys.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flattened<'a> {
    /// The flattened traits, keys unique and sorted bytewise.
    pub leaves: Vec<Leaf<'a>>,
    /// Notes and warnings, sorted by subject then code.
    pub diagnostics: Vec<Diagnostic>,
}

impl Flattened<'_> {
    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&FlatValue<'_>> {
        self.leaves
            .binary_search_by(|leaf| leaf.key.as_ref().cmp(key))
            .ok()
            .map(|i| &self.leaves[i].value)
    }

    /// An owned copy.
    pub fn into_owned(self) -> Flattened<'static> {
        Flattened {
            leaves: self.leaves.into_iter().map(Leaf::into_owned).collect(),
            diagnostics: self.diagnostics,
        }
    }

    /// The leaves as a JSON object.
    pub fn to_json(&self) -> Map<String, Value> {
        self.leaves
            .iter()
            .map(|leaf| (leaf.key.to_string(), leaf.value.to_json()))
            .collect()
    }
}

/// Flattens a traits object. Iterative: any depth is safe.
///
/// ```
/// use talon_mapper::flatten::flatten;
/// let traits = serde_json::json!({"address": {"city": "Berlin"}, "plan": null});
/// let flat = flatten(traits.as_object().unwrap());
/// assert_eq!(flat.to_json(), *serde_json::json!({"address_city": "Berlin"}).as_object().unwrap());
/// assert_eq!(flat.diagnostics[0].kind.code(), "null_value");
/// ```
pub fn flatten(traits: &Map<String, Value>) -> Flattened<'_> {
    let mut builder = Builder::default();
    let mut stack = vec![traits.iter()];
    while let Some(top) = stack.last_mut() {
        let Some((key, value)) = top.next() else {
            stack.pop();
            if !stack.is_empty() {
                builder.pop();
            }
            continue;
        };
        match value {
            Value::Null => builder.null(key),
            Value::Bool(b) => builder.leaf(Cow::Borrowed(key), FlatValue::Scalar(Scalar::Bool(*b))),
            Value::Number(n) => builder.leaf(Cow::Borrowed(key), FlatValue::Scalar(number(n))),
            Value::String(s) => builder.leaf(
                Cow::Borrowed(key),
                FlatValue::Scalar(Scalar::String(Cow::Borrowed(s))),
            ),
            Value::Array(items) => {
                let scalars: Option<Vec<Scalar<'_>>> = items
                    .iter()
                    .map(|item| match item {
                        Value::Bool(b) => Some(Scalar::Bool(*b)),
                        Value::Number(n) => Some(number(n)),
                        Value::String(s) => Some(Scalar::String(Cow::Borrowed(s))),
                        Value::Null | Value::Array(_) | Value::Object(_) => None,
                    })
                    .collect();
                match scalars {
                    Some(list) => builder.list(Cow::Borrowed(key), list),
                    None => builder.unrepresentable_array(key),
                }
            }
            Value::Object(inner) if inner.is_empty() => builder.empty_object(key),
            Value::Object(_) if builder.depth() + 1 >= MAX_DEPTH => builder.too_deep(key),
            Value::Object(inner) => {
                builder.push(key);
                stack.push(inner.iter());
            }
        }
    }
    builder.finish()
}

fn number(n: &serde_json::Number) -> Scalar<'static> {
    if let Some(u) = n.as_u64() {
        Scalar::UInt(u)
    } else if let Some(i) = n.as_i64() {
        Scalar::Int(i)
    } else {
        Scalar::Float(n.as_f64().unwrap_or(0.0))
    }
}

/// Collects leaves and diagnostics while a driver walks the traits.
#[derive(Default)]
struct Builder<'a> {
    /// The keys of the enclosing objects, joined with the separator.
    prefix: String,
    /// End offsets in `prefix` of each enclosing key.
    ends: Vec<u32>,
    leaves: Vec<Leaf<'a>>,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Builder<'a> {
    /// How many objects enclose the current key.
    fn depth(&self) -> usize {
        self.ends.len()
    }

    fn push(&mut self, segment: &str) {
        if !self.ends.is_empty() {
            self.prefix.push(SEPARATOR);
        }
        self.prefix.push_str(segment);
        self.ends.push(offset(self.prefix.len()));
    }

    fn pop(&mut self) {
        self.ends.pop();
        let end = self.ends.last().map_or(0, |&e| e as usize);
        self.prefix.truncate(end);
    }

    /// The path of `segment` under the current prefix, for people.
    fn path_of(&self, segment: &str) -> String {
        match self.ends.split_last() {
            None => display_path(std::iter::once(segment)),
            Some((_, inner)) => {
                display_path(segments(&self.prefix, inner).chain(std::iter::once(segment)))
            }
        }
    }

    fn leaf(&mut self, segment: Cow<'a, str>, value: FlatValue<'a>) {
        let leaf = if self.ends.is_empty() {
            Leaf {
                key: segment,
                ends: Ends::EMPTY,
                value,
            }
        } else {
            let mut key = String::with_capacity(self.prefix.len() + 1 + segment.len());
            key.push_str(&self.prefix);
            key.push(SEPARATOR);
            key.push_str(&segment);
            Leaf {
                key: Cow::Owned(key),
                ends: Ends::from_slice(&self.ends),
                value,
            }
        };
        self.leaves.push(leaf);
    }

    fn list(&mut self, segment: Cow<'a, str>, items: Vec<Scalar<'a>>) {
        let mixed = items.windows(2).any(|w| w[0].class() != w[1].class());
        if mixed {
            let key = if self.ends.is_empty() {
                segment.to_string()
            } else {
                format!("{}{SEPARATOR}{segment}", self.prefix)
            };
            self.diagnostics
                .push(Diagnostic::warning(Kind::MixedList { key }));
        }
        self.leaf(segment, FlatValue::List(items));
    }

    fn null(&mut self, segment: &str) {
        let path = self.path_of(segment);
        self.diagnostics
            .push(Diagnostic::note(Kind::NullValue { path }));
    }

    fn empty_object(&mut self, segment: &str) {
        let path = self.path_of(segment);
        self.diagnostics
            .push(Diagnostic::note(Kind::EmptyObject { path }));
    }

    fn too_deep(&mut self, segment: &str) {
        let path = self.path_of(segment);
        self.diagnostics
            .push(Diagnostic::warning(Kind::TooDeep { path }));
    }

    fn unrepresentable_array(&mut self, segment: &str) {
        let path = self.path_of(segment);
        self.diagnostics
            .push(Diagnostic::warning(Kind::UnrepresentableArray { path }));
    }

    /// Resolves collisions and sorts: see the module's rules.
    fn finish(self) -> Flattened<'a> {
        let Self {
            mut leaves,
            mut diagnostics,
            ..
        } = self;
        leaves.sort_unstable_by(|a, b| a.key.cmp(&b.key).then_with(|| precedence(a, b)));
        let mut unique: Vec<Leaf<'a>> = Vec::with_capacity(leaves.len());
        for leaf in leaves {
            match unique.last() {
                Some(kept) if kept.key == leaf.key => {
                    diagnostics.push(Diagnostic::warning(Kind::Collision {
                        key: leaf.key.to_string(),
                        kept: kept.path(),
                        dropped: leaf.path(),
                    }));
                }
                _ => unique.push(leaf),
            }
        }
        Diagnostic::sort(&mut diagnostics);
        Flattened {
            leaves: unique,
            diagnostics,
        }
    }
}

fn offset(len: usize) -> u32 {
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// Which of two leaves with the same key wins: fewer levels, then the
/// segments that sort first, then the value whose JSON sorts first.
fn precedence(a: &Leaf<'_>, b: &Leaf<'_>) -> Ordering {
    a.depth()
        .cmp(&b.depth())
        .then_with(|| a.segments().cmp(b.segments()))
        .then_with(|| {
            let a = serde_json::to_string(&a.value).unwrap_or_default();
            let b = serde_json::to_string(&b.value).unwrap_or_default();
            a.cmp(&b)
        })
}

/// Traits flattened while they are deserialized: the fast path.
///
/// Accepts any JSON value: an object is flattened; anything else yields no
/// leaves and a [`Kind::TraitsNotObject`] warning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlatTraits<'a>(pub Flattened<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for FlatTraits<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut builder = Builder::default();
        Traits {
            builder: &mut builder,
        }
        .read(deserializer)?;
        Ok(FlatTraits(builder.finish()))
    }
}

/// `traits` itself: an object is flattened; any other type is a warning.
struct Traits<'b, 'de> {
    builder: &'b mut Builder<'de>,
}

impl<'de> Read<'de> for Traits<'_, 'de> {
    type Value = ();
    const EXPECTING: &'static str = "a traits object";

    fn object<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        visit_entries(self.builder, map).map(|_| ())
    }

    fn other<E: de::Error>(self, found: &'static str) -> Result<(), E> {
        self.builder
            .diagnostics
            .push(Diagnostic::warning(Kind::TraitsNotObject { found }));
        Ok(())
    }
}

/// Visits every entry of an object under the builder's current prefix;
/// returns how many entries it had. Its own loop rather than
/// [`crate::lenient::entries`]: on this, the hottest path, the closure cost
/// 2 to 7 % of the map benchmark's ratio in paired runs.
fn visit_entries<'de, A: MapAccess<'de>>(
    builder: &mut Builder<'de>,
    mut map: A,
) -> Result<usize, A::Error> {
    let mut count = 0;
    while let Some(Str(segment)) = map.next_key::<Str<'de>>()? {
        count += 1;
        map.next_value_seed(Lenient(Entry {
            builder: &mut *builder,
            segment,
        }))?;
    }
    Ok(count)
}

/// The value of one object entry, flattened into the builder.
struct Entry<'b, 'de> {
    builder: &'b mut Builder<'de>,
    segment: Cow<'de, str>,
}

impl<'de> Read<'de> for Entry<'_, 'de> {
    type Value = ();
    const EXPECTING: &'static str = "a trait value";

    fn scalar<E: de::Error>(self, scalar: Scalar<'de>) -> Result<(), E> {
        self.builder.leaf(self.segment, FlatValue::Scalar(scalar));
        Ok(())
    }

    fn null<E: de::Error>(self) -> Result<(), E> {
        self.builder.null(&self.segment);
        Ok(())
    }

    fn array<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut items = Vec::new();
        let mut representable = true;
        while let Some(item) = seq.next_element_seed(Lenient(ListItem))? {
            match item {
                Some(s) if representable => items.push(s),
                Some(_) => {}
                None => representable = false,
            }
        }
        if representable {
            self.builder.list(self.segment, items);
        } else {
            self.builder.unrepresentable_array(&self.segment);
        }
        Ok(())
    }

    fn object<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        if self.builder.depth() + 1 >= MAX_DEPTH {
            let mut any = false;
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {
                any = true;
            }
            if any {
                self.builder.too_deep(&self.segment);
            } else {
                self.builder.empty_object(&self.segment);
            }
            return Ok(());
        }
        self.builder.push(&self.segment);
        let count = visit_entries(self.builder, map)?;
        self.builder.pop();
        if count == 0 {
            self.builder.empty_object(&self.segment);
        }
        Ok(())
    }
}

/// An array element: a scalar, or `None` for what no list can hold.
struct ListItem;

impl<'de> Read<'de> for ListItem {
    type Value = Option<Scalar<'de>>;
    const EXPECTING: &'static str = "an array element";

    fn scalar<E: de::Error>(self, scalar: Scalar<'de>) -> Result<Self::Value, E> {
        Ok(Some(scalar))
    }

    fn other<E: de::Error>(self, _: &'static str) -> Result<Self::Value, E> {
        Ok(None)
    }
}
