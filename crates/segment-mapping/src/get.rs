//! The path lookup that `@path`, `@arrayPath` and `@template` share: Segment's `get`
//! (`packages/core/src/get.ts`), JavaScript property access included.
//!
//! - `""` and `"."` are the whole value.
//! - The path is cut at every `.`, at every `[` followed by a quote or an ASCII digit, and at every
//!   run of `]` that follows a quote or a digit; empty pieces are dropped, **then** every `'` and
//!   `"` is removed from each piece (so `a['']` reads the key `""`, `a["b.c"]` reads `a.b.c`,
//!   `[txt] non` is one key).
//! - Each step is `current && current[key]`: walking through a falsy value (`null`, `0`, `false`,
//!   `""`, `NaN`, `undefined`) stops and gives that value.
//! - `current[key]` is JavaScript's property access: an object's own key; an array's canonical
//!   index or `length`; a string's UTF-16 code unit or `length` (in code units); `__proto__`
//!   gives the built-in prototype, a truthy object that a path can walk through (its `length`,
//!   its own `__proto__`: `Object.prototype`'s is `null`) and that ends as JSON writes it:
//!   `{}` for an object's, `[]` for an array's, `""` for a string's, `0` for a number's,
//!   `false` for a boolean's. Other inherited members (`toString`, `constructor`, a number's
//!   `toFixed`…) are functions in JavaScript; here they are [`Value::Undefined`]. JSON drops a
//!   function as it drops `undefined`, so results agree except where mapping-kit tests a
//!   function itself: it is truthy and not `undefined` (`@if exists` takes `then`), `@template`
//!   renders its source (`{{a.toString}}` gives `function toString() { [native code] }`), and a
//!   path can walk into it (`a.toString.name`). Likewise a prototype that ends a path is an
//!   object to `typeof`: `@case` returns a string's unchanged (here `""` is a string, so an
//!   invalid operator throws), `@path`, `@template` and `@flatten`'s separator refuse it as not a
//!   string, and `@replace` gives `""` for a number's, not `"0"`.

use std::borrow::Cow;

use crate::js;
use crate::value::{Object, Value, array_index};

/// `get(obj, path)`.
pub fn get(obj: &Value, path: &str) -> Value {
    get_ref(obj, path).into_owned()
}

/// `get(obj, path)`, borrowing from `obj` where the result is part of it.
pub fn get_ref<'a>(obj: &'a Value, path: &str) -> Cow<'a, Value> {
    if path.is_empty() || path == "." {
        return Cow::Borrowed(obj);
    }
    let mut current = Step::Value(Cow::Borrowed(obj));
    for key in split_path(path) {
        if matches!(&current, Step::Value(v) if !v.truthy()) {
            break;
        }
        current = match current {
            Step::Value(Cow::Borrowed(v)) => property(v, &key),
            Step::Value(Cow::Owned(v)) => match property(&v, &key) {
                Step::Value(c) => Step::Value(Cow::Owned(c.into_owned())),
                Step::Proto(p) => Step::Proto(p),
            },
            Step::Proto(proto) => proto.property(&key),
        };
    }
    match current {
        Step::Value(v) => v,
        Step::Proto(proto) => Cow::Owned(proto.as_value()),
    }
}

/// Where a walk is: a value, or one of the built-in prototypes (reached through `__proto__`),
/// which are truthy objects whatever JSON makes of them.
enum Step<'a> {
    Value(Cow<'a, Value>),
    Proto(Proto),
}

#[derive(Clone, Copy)]
enum Proto {
    /// `Object.prototype`: JSON `{}`; its own `__proto__` is `null`.
    Object,
    /// `Array.prototype`: an empty array.
    Array,
    /// `String.prototype`: a `String` object of `""`.
    String,
    /// `Number.prototype`: a `Number` object of `0`.
    Number,
    /// `Boolean.prototype`: a `Boolean` object of `false`.
    Boolean,
}

impl Proto {
    fn property(self, key: &str) -> Step<'static> {
        let value = match (self, key) {
            (Self::Object, "__proto__") => Value::Null,
            (_, "__proto__") => return Step::Proto(Self::Object),
            (Self::Array | Self::String, "length") => Value::Number(0.0),
            // Methods (functions) or nothing.
            _ => Value::Undefined,
        };
        Step::Value(Cow::Owned(value))
    }

    /// The prototype as a value, as JSON writes it (a `Number` or `Boolean` object is written as
    /// its primitive; see the module docs for what that leaves out).
    fn as_value(self) -> Value {
        match self {
            Self::Object => Value::Object(Object::new()),
            Self::Array => Value::Array(Vec::new()),
            Self::String => Value::String(String::new()),
            Self::Number => Value::Number(0.0),
            Self::Boolean => Value::Bool(false),
        }
    }
}

/// The pieces of a path, as `get.ts` splits them.
pub fn split_path(path: &str) -> Vec<Cow<'_, str>> {
    let bytes = path.as_bytes();
    // Every character the split looks at is ASCII, so byte offsets are character boundaries.
    let quote_or_digit = |b: u8| b == b'"' || b == b'\'' || b.is_ascii_digit();
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let split_len = match b {
            b'.' => 1,
            b'[' if bytes.get(i + 1).is_some_and(|&n| quote_or_digit(n)) => 1,
            b']' if i > 0 && bytes.get(i - 1).is_some_and(|&p| quote_or_digit(p)) => bytes
                .get(i..)
                .map_or(1, |rest| rest.iter().take_while(|&&r| r == b']').count()),
            _ => 0,
        };
        if split_len == 0 {
            i += 1;
        } else {
            pieces.push(path.get(start..i).unwrap_or_default());
            i += split_len;
            start = i;
        }
    }
    pieces.push(path.get(start..).unwrap_or_default());
    pieces
        .into_iter()
        .filter(|p| !p.is_empty())
        .map(|p| {
            if p.contains(['\'', '"']) {
                Cow::Owned(p.replace(['\'', '"'], ""))
            } else {
                Cow::Borrowed(p)
            }
        })
        .collect()
}

/// `value[key]` for a truthy `value`, as JavaScript reads a property.
fn property<'a>(value: &'a Value, key: &str) -> Step<'a> {
    let owned = |v: Value| Step::Value(Cow::Owned(v));
    match value {
        Value::Object(obj) => match obj.get(key) {
            Some(v) => Step::Value(Cow::Borrowed(v)),
            None if key == "__proto__" => Step::Proto(Proto::Object),
            None => owned(Value::Undefined),
        },
        Value::Array(items) => {
            if let Some(i) = array_index(key) {
                return usize::try_from(i)
                    .ok()
                    .and_then(|i| items.get(i))
                    .map_or(owned(Value::Undefined), |v| Step::Value(Cow::Borrowed(v)));
            }
            match key {
                "length" => owned(length(items.len())),
                "__proto__" => Step::Proto(Proto::Array),
                _ => owned(Value::Undefined),
            }
        }
        Value::String(s) => {
            if let Some(i) = array_index(key) {
                return owned(
                    usize::try_from(i)
                        .ok()
                        .and_then(|i| js::utf16_at(s, i))
                        .map_or(Value::Undefined, Value::String),
                );
            }
            match key {
                "length" => owned(length(js::utf16_len(s))),
                "__proto__" => Step::Proto(Proto::String),
                _ => owned(Value::Undefined),
            }
        }
        Value::Number(_) if key == "__proto__" => Step::Proto(Proto::Number),
        Value::Bool(_) if key == "__proto__" => Step::Proto(Proto::Boolean),
        _ => owned(Value::Undefined),
    }
}

#[allow(clippy::cast_precision_loss)]
fn length(n: usize) -> Value {
    Value::Number(n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(json: &str) -> Value {
        Value::parse(json).expect("json")
    }

    fn j(value: &Value) -> String {
        value.to_json().unwrap_or_else(|| "undefined".to_owned())
    }

    #[test]
    fn splits_at_dots_quoted_or_numeric_brackets_and_strips_quotes() {
        assert_eq!(split_path("a.b.f[0].g"), ["a", "b", "f", "0", "g"]);
        assert_eq!(split_path("['a'].b"), ["a", "b"]);
        assert_eq!(split_path("[\"a\"].b"), ["a", "b"]);
        assert_eq!(split_path("[txt] non"), ["[txt] non"]);
        assert_eq!(split_path("a..b."), ["a", "b"]);
        assert_eq!(split_path("a[\"b.c\"]"), ["a", "b", "c"]);
        assert_eq!(split_path("it's"), ["its"]);
        assert_eq!(split_path("a['']"), ["a", ""]);
        assert_eq!(split_path("a[0]]]b"), ["a", "0", "b"]);
        assert_eq!(split_path("a]]"), ["a]]"]);
        assert_eq!(
            split_path("Actions Amplitude.x"),
            ["Actions Amplitude", "x"]
        );
    }

    #[test]
    fn empty_or_dot_path_is_the_whole_value() {
        let p = v(r#"{"a":1}"#);
        assert_eq!(get(&p, ""), p);
        assert_eq!(get(&p, "."), p);
    }

    #[test]
    fn walking_through_a_falsy_value_returns_it() {
        for (json, out) in [
            (r#"{"a":null}"#, "null"),
            (r#"{"a":0}"#, "0"),
            (r#"{"a":false}"#, "false"),
            (r#"{"a":""}"#, "\"\""),
            (r#"{"a":"x"}"#, "undefined"),
            (r#"{"a":5}"#, "undefined"),
            (r#"{}"#, "undefined"),
        ] {
            assert_eq!(j(&get(&v(json), "a.b")), out, "{json}");
        }
    }

    #[test]
    fn property_access_is_javascript_property_access() {
        let p = v(r#"{"s":"str","e":"a😀","arr":[1,2,3],"o":{"length":7}}"#);
        assert_eq!(j(&get(&p, "s.length")), "3");
        assert_eq!(j(&get(&p, "e.length")), "3");
        assert_eq!(j(&get(&p, "s.1")), "\"t\"");
        assert_eq!(j(&get(&p, "arr.length")), "3");
        assert_eq!(j(&get(&p, "arr[1]")), "2");
        assert_eq!(j(&get(&p, "arr.1")), "2");
        assert_eq!(j(&get(&p, "arr.01")), "undefined");
        assert_eq!(j(&get(&p, "o.length")), "7");
        assert_eq!(j(&get(&p, "o.toString")), "undefined");
        assert_eq!(j(&get(&p, "o.__proto__")), "{}");
        assert_eq!(j(&get(&p, "arr.__proto__")), "[]");
        assert_eq!(j(&get(&p, "s.__proto__")), "\"\"");
    }

    #[test]
    fn prototypes_are_truthy_objects_to_walk_through() {
        let p = v(r#"{"s":"str","o":{},"n":5}"#);
        assert_eq!(j(&get(&p, "s.__proto__.a")), "undefined");
        assert_eq!(j(&get(&p, "s.__proto__.length")), "0");
        assert_eq!(j(&get(&p, "o.__proto__.__proto__")), "null");
        assert_eq!(j(&get(&p, "o.__proto__.__proto__.x")), "null");
        assert_eq!(j(&get(&p, "n.__proto__")), "0");
        assert_eq!(j(&get(&p, "n.__proto__.__proto__")), "{}");
        let own = v(r#"{"__proto__":{"a":1}}"#);
        assert_eq!(j(&get(&own, "__proto__.a")), "1");
    }

    #[test]
    fn the_dollar_key_is_an_ordinary_key() {
        let p = v(r#"{"$":{"a":1}}"#);
        assert_eq!(j(&get(&p, "$.a")), "1");
        assert_eq!(j(&get(&p, "$")), r#"{"a":1}"#);
    }
}
