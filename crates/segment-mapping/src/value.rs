//! JavaScript values as mapping-kit sees them: JSON plus `undefined`, doubles, and objects in
//! JavaScript's key order.
//!
//! JavaScript semantics reproduced here, each because it shows in Segment's results:
//! - **`undefined` is not `null`.** [`Value::Undefined`] is a missing value: an object key holding
//!   it is dropped when serialised, an array element holding it is written `null`
//!   (`JSON.stringify`), and a top-level one serialises to nothing ([`Value::to_json`] is `None`).
//! - **Numbers are IEEE-754 doubles**, parsed correctly rounded (`12345678901234567890` becomes
//!   `12345678901234567000`) and printed as JavaScript prints them (`1` not `1.0`, `1e+21`,
//!   `1e-7`, `0.30000000000000004`; `-0` prints `0`; `NaN` and the infinities print `null` in
//!   JSON).
//! - **Object key order**: keys that are array indices (`"0"` to `"4294967294"`, written
//!   canonically) come first in ascending numeric order, then the other keys in insertion order
//!   ([`Object`]). A repeated key in JSON input keeps its first position and its last value, as
//!   `JSON.parse` does.
//! - **Strings are escaped as `JSON.stringify` escapes them**: `"`, `\`, `\b \f \n \r \t`, other
//!   control characters as lowercase `\u00xx`; nothing else (not `/`, not non-ASCII, not U+2028).
//!
//! Not reproduced: lone UTF-16 surrogates (`"\ud800"`), which `JSON.parse` accepts and a Rust
//! string cannot hold; such input is refused by [`Value::parse`].

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JavaScript value.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `undefined`: no value (a missing path, an absent result).
    #[default]
    Undefined,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A double.
    Number(f64),
    /// A string.
    String(String),
    /// An array (its elements may be [`Value::Undefined`]).
    Array(Vec<Value>),
    /// A plain object, in JavaScript key order.
    Object(Object),
}

/// JSON input that [`Value::parse`] refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid JSON: {0}")]
pub struct ParseError(#[from] serde_json::Error);

impl Value {
    /// Parses JSON text, keeping object keys in JavaScript's order (serde_json's own `Value`
    /// would sort them). Nesting deeper than 128 levels is refused (serde_json's limit).
    pub fn parse(json: &str) -> Result<Self, ParseError> {
        // Entries and elements are gathered on two scratch stacks shared by every level, then
        // moved into a vector of exactly their size: one allocation per object or array, none
        // wasted on growth.
        let mut scratch = Scratch::default();
        let mut de = serde_json::Deserializer::from_str(json);
        let value = de::DeserializeSeed::deserialize(Parse(&mut scratch), &mut de)?;
        de.end()?;
        Ok(value)
    }

    /// `JSON.stringify(value)`: compact, keys in order, `undefined` object values dropped and
    /// `undefined` array elements written `null`; `None` for a top-level `undefined`.
    pub fn to_json(&self) -> Option<String> {
        if matches!(self, Self::Undefined) {
            return None;
        }
        // Most results are small objects: one allocation for them, doubling beyond.
        let mut out = String::with_capacity(256);
        self.write_json(&mut out);
        Some(out)
    }

    /// Appends `JSON.stringify(self)` to `out` (a top-level `undefined` writes `null`, as it
    /// does inside an array).
    pub fn write_json(&self, out: &mut String) {
        match self {
            Self::Undefined | Self::Null => out.push_str("null"),
            Self::Bool(true) => out.push_str("true"),
            Self::Bool(false) => out.push_str("false"),
            Self::Number(n) => {
                if *n == 0.0 {
                    out.push('0');
                } else if n.is_finite() {
                    out.push_str(ryu_js::Buffer::new().format_finite(*n));
                } else {
                    out.push_str("null");
                }
            }
            Self::String(s) => write_json_string(s, out),
            Self::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            Self::Object(obj) => {
                out.push('{');
                let mut first = true;
                for (k, v) in obj.iter() {
                    if matches!(v, Self::Undefined) {
                        continue;
                    }
                    if !first {
                        out.push(',');
                    }
                    first = false;
                    write_json_string(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }

    /// The type's name as mapping-kit's messages write it: `undefined`, `null`, `boolean`,
    /// `number`, `string`, `array`, `object`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Undefined => "undefined",
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Number(_) => "number",
            Self::String(_) => "string",
            Self::Array(_) => "array",
            Self::Object(_) => "object",
        }
    }

    /// JavaScript truthiness: `undefined`, `null`, `false`, `0`, `NaN` and `""` are falsy;
    /// every array and object is truthy.
    pub fn truthy(&self) -> bool {
        match self {
            Self::Undefined | Self::Null => false,
            Self::Bool(b) => *b,
            Self::Number(n) => *n != 0.0 && !n.is_nan(),
            Self::String(s) => !s.is_empty(),
            Self::Array(_) | Self::Object(_) => true,
        }
    }

    /// JavaScript's `String(value)`: `"undefined"`, `"null"`, `"true"`, numbers as JavaScript
    /// prints them, an array's elements joined with `,` (`null` and `undefined` elements empty,
    /// nested arrays flattened the same way), `"[object Object]"` for an object.
    pub fn js_string(&self) -> String {
        match self {
            Self::Undefined => "undefined".to_owned(),
            Self::Null => "null".to_owned(),
            Self::Bool(b) => b.to_string(),
            Self::Number(n) => number_to_string(*n),
            Self::String(s) => s.clone(),
            Self::Array(items) => {
                let mut out = String::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    if !matches!(item, Self::Undefined | Self::Null) {
                        out.push_str(&item.js_string());
                    }
                }
                out
            }
            Self::Object(_) => "[object Object]".to_owned(),
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Self::Object(o) => Some(o),
            _ => None,
        }
    }

    /// Whether this is `undefined`.
    pub fn is_undefined(&self) -> bool {
        matches!(self, Self::Undefined)
    }
}

/// JavaScript's `Number.prototype.toString()` (radix 10): the shortest digits that round-trip,
/// in JavaScript's choice of fixed or exponential notation. `-0` prints `0`.
pub fn number_to_string(n: f64) -> String {
    if n == 0.0 {
        return "0".to_owned();
    }
    ryu_js::Buffer::new().format(n).to_owned()
}

/// Appends `s` as `JSON.stringify` writes a string: the runs between characters to escape are
/// copied whole.
fn write_json_string(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    while let Some(offset) = bytes[start..]
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
    {
        let i = start + offset;
        out.push_str(&s[start..i]);
        match bytes[i] {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Whether `key` is an array index as JavaScript orders object keys: the canonical decimal
/// form of an integer from 0 to 2³² − 2.
pub fn array_index(key: &str) -> Option<u32> {
    let bytes = key.as_bytes();
    if bytes.is_empty() || bytes.len() > 10 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return None;
    }
    let n: u64 = key.parse().ok()?;
    u32::try_from(n).ok().filter(|n| *n != u32::MAX)
}

/// Objects of at most this many keys are searched by a scan of their entries (most events'
/// objects: faster than hashing, and no table to allocate); larger ones keep a key → position
/// table, built when first needed after the positions changed.
const SCANNED: usize = 16;

/// A plain JavaScript object: keys in JavaScript's order (array-index keys first, ascending,
/// then the rest in insertion order); setting an existing key keeps its position.
#[derive(Clone, Default)]
pub struct Object {
    entries: Vec<(String, Value)>,
    /// How many of the first entries are array-index keys (they are always first).
    indices: usize,
    /// For objects of more than [`SCANNED`] keys: each key's position, when current (`None`
    /// after an edit that moved entries; rebuilt by the next edit that needs it). FxHash: keys
    /// are not an attacker's (a test tool), so the fast hash beats SipHash's DoS resistance.
    table: Option<Box<rustc_hash::FxHashMap<String, usize>>>,
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|(k, v)| (k, v)))
            .finish()
    }
}

impl PartialEq for Object {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
    }
}

impl Object {
    /// An empty object.
    pub fn new() -> Self {
        Self::default()
    }

    /// An object from entries in the order JSON text gave them: as inserting them one by one
    /// (index keys to the front, a repeated key keeping its first place and its last value),
    /// with the vector taken as it is when neither happens, as in most objects.
    fn from_parsed(entries: Vec<(String, Value)>) -> Self {
        let plain = entries.len() <= SCANNED
            && entries.iter().enumerate().all(|(i, (k, _))| {
                array_index(k).is_none() && entries[..i].iter().all(|(other, _)| other != k)
            });
        if plain {
            return Self {
                entries,
                indices: 0,
                table: None,
            };
        }
        entries.into_iter().collect()
    }

    /// Where `key` is, by the table when there is one, else by a scan.
    fn position(&self, key: &str) -> Option<usize> {
        match &self.table {
            Some(table) => table.get(key).copied(),
            None => self.entries.iter().position(|(k, _)| k == key),
        }
    }

    /// Builds the table of a large object whose table is missing.
    fn index(&mut self) {
        if self.table.is_none() && self.entries.len() > SCANNED {
            self.table = Some(Box::new(
                self.entries
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.clone(), i))
                    .collect(),
            ));
        }
    }

    /// `obj[key] = value`: replaces an existing key in place; a new array-index key goes to
    /// its numeric place among the index keys, any other new key to the end.
    pub fn insert(&mut self, key: String, value: Value) {
        self.index();
        if let Some(at) = self.position(&key) {
            self.entries[at].1 = value;
            return;
        }
        match array_index(&key) {
            None => {
                if let Some(table) = &mut self.table {
                    table.insert(key.clone(), self.entries.len());
                }
                self.entries.push((key, value));
            }
            Some(n) => {
                let at = self.entries[..self.indices]
                    .iter()
                    .position(|(k, _)| array_index(k).is_some_and(|m| m > n))
                    .unwrap_or(self.indices);
                self.entries.insert(at, (key, value));
                self.indices += 1;
                if at + 1 < self.entries.len() {
                    self.table = None;
                }
            }
        }
        self.index();
    }

    /// `obj[key]`, if the object has the key (the value may be [`Value::Undefined`]).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.position(key).map(|at| &self.entries[at].1)
    }

    /// A mutable reference to `obj[key]`, if present.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Value> {
        self.index();
        let at = self.position(key)?;
        Some(&mut self.entries[at].1)
    }

    /// `delete obj[key]`, keeping the order of the others; the removed value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let at = self.position(key)?;
        let (_, value) = self.entries.remove(at);
        if at < self.indices {
            self.indices -= 1;
        }
        self.table = None;
        Some(value)
    }

    /// Whether the object has the key.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// The entries, in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&String, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// The entries, in order, mutably (values only).
    pub fn iter_mut(&mut self) -> impl ExactSizeIterator<Item = (&String, &mut Value)> {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &String> {
        self.entries.iter().map(|(k, _)| k)
    }

    /// Keeps the entries for which `keep` is true, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &mut Value) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(k, v)| keep(k, v));
        if self.entries.len() != before {
            self.table = None;
            self.indices = self
                .entries
                .iter()
                .take_while(|(k, _)| array_index(k).is_some())
                .count();
        }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the object has no keys.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl IntoIterator for Object {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl FromIterator<(String, Value)> for Object {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut obj = Self::new();
        for (k, v) in iter {
            obj.insert(k, v);
        }
        obj
    }
}

/// The scratch stacks of [`Value::parse`].
#[derive(Default)]
struct Scratch {
    entries: Vec<(String, Value)>,
    items: Vec<Value>,
}

/// [`Value::parse`]'s seed: a value, its objects and arrays built through the scratch stacks.
struct Parse<'s>(&'s mut Scratch);

impl<'de> de::DeserializeSeed<'de> for Parse<'_> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Parse<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        ValueVisitor.visit_i64(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        ValueVisitor.visit_u64(v)
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v))
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
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let base = self.0.items.len();
        while let Some(item) = seq.next_element_seed(Parse(self.0))? {
            self.0.items.push(item);
        }
        Ok(Value::Array(self.0.items.drain(base..).collect()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let base = self.0.entries.len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Parse(self.0))?;
            self.0.entries.push((key, value));
        }
        Ok(Value::Object(Object::from_parsed(
            self.0.entries.drain(base..).collect(),
        )))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        // `as` rounds to the nearest double, ties to even: what JSON.parse does with the digits.
        #[allow(clippy::cast_precision_loss)]
        Ok(Value::Number(v as f64))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        #[allow(clippy::cast_precision_loss)]
        Ok(Value::Number(v as f64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v))
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
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut obj = Object::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            obj.insert(k, v);
        }
        Ok(Value::Object(obj))
    }
}

impl Serialize for Value {
    /// As `JSON.stringify` would: `undefined` object values skipped, `undefined` array
    /// elements and non-finite numbers as `null`. Numbers go to the serializer as `f64` (or as
    /// `i64` when integral and safe, so serde_json writes `1`, not `1.0`).
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Undefined | Self::Null => s.serialize_unit(),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::Number(n) if !n.is_finite() => s.serialize_unit(),
            Self::Number(n) => {
                #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
                let int = *n as i64;
                #[allow(clippy::cast_precision_loss)]
                if int as f64 == *n && int.unsigned_abs() <= (1u64 << 53) {
                    s.serialize_i64(int)
                } else {
                    s.serialize_f64(*n)
                }
            }
            Self::String(v) => s.serialize_str(v),
            Self::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(obj) => {
                let n = obj.iter().filter(|(_, v)| !v.is_undefined()).count();
                let mut map = s.serialize_map(Some(n))?;
                for (k, v) in obj.iter() {
                    if !v.is_undefined() {
                        map.serialize_entry(k, v)?;
                    }
                }
                map.end()
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Self::Number(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<Object> for Value {
    fn from(o: Object) -> Self {
        Self::Object(o)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Self::Array(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(json: &str) -> String {
        Value::parse(json)
            .expect("valid JSON")
            .to_json()
            .unwrap_or_default()
    }

    #[test]
    fn index_like_keys_come_first_in_numeric_order_then_insertion_order() {
        assert_eq!(
            round_trip(r#"{"b":1,"2":2,"a":3,"1":4}"#),
            r#"{"1":4,"2":2,"b":1,"a":3}"#
        );
        // Not canonical indices: a leading zero, a sign, 2^32 - 1 and beyond are plain keys.
        assert_eq!(
            round_trip(r#"{"x":0,"01":1,"-1":2,"4294967295":3,"4294967294":4,"10":5,"9":6}"#),
            r#"{"9":6,"10":5,"4294967294":4,"x":0,"01":1,"-1":2,"4294967295":3}"#
        );
    }

    #[test]
    fn a_repeated_key_keeps_its_first_position_and_its_last_value() {
        assert_eq!(round_trip(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
    }

    #[test]
    fn numbers_print_as_javascript_prints_them() {
        for (json, js) in [
            ("1.0", "1"),
            ("12345678901234567890", "12345678901234567000"),
            ("1e21", "1e+21"),
            ("1e-7", "1e-7"),
            ("0.000001", "0.000001"),
            ("123456789012345680000", "123456789012345680000"),
            ("-0", "0"),
            ("-0.0", "0"),
            ("0.30000000000000004", "0.30000000000000004"),
            ("-1.5e300", "-1.5e+300"),
            ("5e-324", "5e-324"),
        ] {
            assert_eq!(round_trip(json), js, "{json}");
        }
        assert_eq!(Value::Number(f64::NAN).to_json().as_deref(), Some("null"));
        assert_eq!(Value::Number(f64::INFINITY).js_string(), "Infinity");
        assert_eq!(Value::Number(f64::NAN).js_string(), "NaN");
    }

    #[test]
    fn strings_escape_as_json_stringify_escapes_them() {
        let s = "q\" b\\ \u{8}\u{c}\n\r\t \u{1} \u{1f} / é \u{2028} 😀";
        assert_eq!(
            Value::String(s.to_owned()).to_json().as_deref(),
            Some(concat!(
                r#""q\" b\\ \b\f\n\r\t \u0001 \u001f / é "#,
                "\u{2028}",
                r#" 😀""#
            ))
        );
    }

    #[test]
    fn undefined_is_dropped_from_objects_kept_as_null_in_arrays_and_nothing_at_the_top() {
        let mut obj = Object::new();
        obj.insert("a".into(), Value::Undefined);
        obj.insert("b".into(), Value::Null);
        obj.insert(
            "c".into(),
            Value::Array(vec![Value::Undefined, Value::Number(1.0)]),
        );
        assert_eq!(
            Value::Object(obj.clone()).to_json().as_deref(),
            Some(r#"{"b":null,"c":[null,1]}"#)
        );
        assert_eq!(Value::Undefined.to_json(), None);
        assert_eq!(
            serde_json::to_string(&Value::Object(obj)).ok().as_deref(),
            Some(r#"{"b":null,"c":[null,1]}"#)
        );
    }

    #[test]
    fn string_conversion_follows_javascript() {
        let arr = Value::parse(r#"[1,"x",null,[2,3]]"#).expect("json");
        assert_eq!(arr.js_string(), "1,x,,2,3");
        assert_eq!(
            Value::parse("{}").expect("json").js_string(),
            "[object Object]"
        );
        assert_eq!(Value::Bool(true).js_string(), "true");
        assert_eq!(Value::Number(1e21).js_string(), "1e+21");
        assert_eq!(Value::Number(-0.0).js_string(), "0");
        assert_eq!(Value::Undefined.js_string(), "undefined");
    }

    #[test]
    fn truthiness_follows_javascript() {
        for falsy in ["null", "false", "0", "-0", "\"\""] {
            assert!(!Value::parse(falsy).expect("json").truthy(), "{falsy}");
        }
        assert!(!Value::Undefined.truthy());
        assert!(!Value::Number(f64::NAN).truthy());
        for truthy in ["true", "1", "\"0\"", "\" \"", "[]", "{}", "[0]"] {
            assert!(Value::parse(truthy).expect("json").truthy(), "{truthy}");
        }
    }

    #[test]
    fn object_edits_keep_javascript_order() {
        let mut obj = Object::new();
        for k in ["z", "5", "a", "1", "3"] {
            obj.insert(k.into(), Value::Null);
        }
        assert_eq!(
            obj.keys().map(String::as_str).collect::<Vec<_>>(),
            ["1", "3", "5", "z", "a"]
        );
        obj.remove("3");
        obj.insert("2".into(), Value::Null);
        obj.insert("z".into(), Value::Bool(true));
        assert_eq!(
            obj.keys().map(String::as_str).collect::<Vec<_>>(),
            ["1", "2", "5", "z", "a"]
        );
        obj.retain(|k, _| k != "1");
        obj.insert("0".into(), Value::Null);
        assert_eq!(
            obj.keys().map(String::as_str).collect::<Vec<_>>(),
            ["0", "2", "5", "z", "a"]
        );
    }

    #[test]
    fn a_value_is_small() {
        // Moved on every push into an array or object: 48 bytes (a String or a Vec and a tag).
        assert!(
            std::mem::size_of::<Value>() <= 48,
            "{}",
            std::mem::size_of::<Value>()
        );
    }

    #[test]
    fn a_large_object_keeps_javascript_order_through_edits() {
        let mut obj = Object::new();
        for i in (0..40).rev() {
            obj.insert(format!("k{i}"), Value::Number(f64::from(i)));
            obj.insert(format!("{i}"), Value::Null);
        }
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(keys[..3], ["0", "1", "2"]);
        assert_eq!(keys[40..43], ["k39", "k38", "k37"]);
        assert_eq!(obj.get("k7"), Some(&Value::Number(7.0)));
        obj.remove("k38");
        obj.remove("3");
        assert_eq!(obj.get("k37"), Some(&Value::Number(37.0)));
        assert_eq!(obj.get("4"), Some(&Value::Null));
        obj.insert("k37".into(), Value::Bool(true));
        assert_eq!(obj.get("k37"), Some(&Value::Bool(true)));
        assert_eq!(obj.len(), 78);
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        assert_eq!(keys[..4], ["0", "1", "2", "4"]);
        assert_eq!(keys[39..41], ["k39", "k37"]);
        obj.retain(|k, _| k.starts_with('k'));
        assert_eq!(obj.len(), 39);
        assert_eq!(obj.get("k0"), Some(&Value::Number(0.0)));
        obj.insert("5".into(), Value::Null);
        assert_eq!(obj.keys().next().map(String::as_str), Some("5"));
    }

    #[test]
    fn deep_or_invalid_json_is_an_error_not_a_panic() {
        assert!(Value::parse(&"[".repeat(100_000)).is_err());
        assert!(Value::parse(r#""\ud800""#).is_err());
        assert!(Value::parse("{").is_err());
    }
}
