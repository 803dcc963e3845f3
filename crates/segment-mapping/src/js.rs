//! Small pieces of JavaScript's semantics that mapping-kit's results depend on: string lengths in
//! UTF-16 code units, `String.prototype.trim`, string indexing, loose equality with `''`, and
//! `realTypeOf`.

use crate::value::Value;

/// `s.length`: the number of UTF-16 code units.
pub(crate) fn utf16_len(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// `s[i]` for each UTF-16 code unit `i`, as a string of one unit. A unit that is half of a
/// surrogate pair cannot be held alone by a Rust string and becomes U+FFFD (JavaScript keeps the
/// lone surrogate; documented in the crate docs).
pub(crate) fn utf16_units(s: &str) -> impl Iterator<Item = String> + '_ {
    s.chars().flat_map(|c| {
        let one = if c.len_utf16() == 1 {
            c.to_string()
        } else {
            char::REPLACEMENT_CHARACTER.to_string()
        };
        let n = c.len_utf16();
        std::iter::repeat_n(one, n)
    })
}

/// `s[i]`: the `i`-th UTF-16 code unit as a string (see [`utf16_units`]), or `None` past the end.
pub(crate) fn utf16_at(s: &str, index: usize) -> Option<String> {
    utf16_units(s).nth(index)
}

/// Whether `c` is white space or a line terminator as ECMAScript's `trim` sees it (not Rust's
/// `White_Space`: JavaScript trims U+FEFF but not U+0085).
pub(crate) fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\u{9}' | '\u{a}' | '\u{b}' | '\u{c}' | '\u{d}' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// `String.prototype.trim`.
pub(crate) fn trim(s: &str) -> &str {
    s.trim_matches(is_js_whitespace)
}

/// `Object.prototype.toString.call(v).slice(8, -1).toLowerCase()`, mapping-kit's `realTypeOf`.
pub(crate) fn real_type_of(v: &Value) -> &'static str {
    v.type_name()
}

/// `v != ''` under JavaScript's loose equality, for a `v` that is neither `undefined` nor `null`:
/// a boolean or number compares as a number with `0`, an array or object as its primitive
/// (`String()`, which can throw: [`to_string`]).
pub(crate) fn loose_ne_empty_string(v: &Value) -> Result<bool, &'static str> {
    Ok(match v {
        Value::Undefined | Value::Null => true,
        Value::Bool(b) => *b,
        // NaN != 0 is true.
        Value::Number(n) => *n != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => !to_string(v)?.is_empty(),
    })
}

/// The message of the `TypeError` JavaScript throws when an object cannot become a string.
pub(crate) const NO_PRIMITIVE: &str = "Cannot convert object to primitive value";

/// `String(v)` where it can throw: an object with an own `toString` key (which JSON can only
/// make a non-function) has no usable `toString`, and its inherited `valueOf` gives the object
/// back, so JavaScript throws a `TypeError` ([`NO_PRIMITIVE`]); also for such an object inside
/// an array, which `String()` joins. Otherwise as [`Value::js_string`].
pub(crate) fn to_string(v: &Value) -> Result<String, &'static str> {
    match v {
        Value::Object(obj) if obj.contains_key("toString") => Err(NO_PRIMITIVE),
        Value::Object(_) => Ok("[object Object]".to_owned()),
        Value::Array(items) => {
            let mut out = String::new();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !matches!(item, Value::Undefined | Value::Null) {
                    out.push_str(&to_string(item)?);
                }
            }
            Ok(out)
        }
        other => Ok(other.js_string()),
    }
}

/// `Number(s)` for a string: one implementation for the crate, [`crate::fields`]'s (checked
/// against Node 20 with Ajv's coercion cases).
pub(crate) use crate::fields::number::js_to_number as string_to_number;

/// Whether a value is more than `limit` levels deep (a scalar is one level, an array or object
/// one more than its deepest element). The walk stops at `limit` levels, so it is safe on any
/// value and cheap on a shallow one.
pub(crate) fn deeper_than(v: &Value, limit: usize) -> bool {
    if limit == 0 {
        return true;
    }
    match v {
        Value::Array(items) => items.iter().any(|i| deeper_than(i, limit - 1)),
        Value::Object(obj) => obj.iter().any(|(_, i)| deeper_than(i, limit - 1)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_indices_count_utf16_code_units() {
        assert_eq!(utf16_len("héllo"), 5);
        assert_eq!(utf16_len("😀"), 2);
        assert_eq!(utf16_at("a😀b", 3).as_deref(), Some("b"));
        assert_eq!(utf16_at("a😀b", 1).as_deref(), Some("\u{fffd}"));
        assert_eq!(utf16_at("ab", 2), None);
    }

    #[test]
    fn trim_is_ecmascript_trim() {
        assert_eq!(trim("\u{feff} a \u{3000}"), "a");
        assert_eq!(trim("\u{85}a"), "\u{85}a");
    }

    #[test]
    fn loose_inequality_with_the_empty_string() {
        for (json, ne) in [
            ("0", false),
            ("false", false),
            ("[]", false),
            ("[\"\"]", false),
            ("[null]", false),
            ("[[]]", false),
            ("\"0\"", true),
            ("\" \"", true),
            ("[0]", true),
            ("{}", true),
            ("1", true),
            ("true", true),
        ] {
            let v = Value::parse(json).expect("json");
            assert_eq!(loose_ne_empty_string(&v), Ok(ne), "{json}");
        }
        let own_to_string = Value::parse(r#"[{"toString":1}]"#).expect("json");
        assert_eq!(loose_ne_empty_string(&own_to_string), Err(NO_PRIMITIVE));
    }

    #[test]
    fn an_object_with_its_own_to_string_key_cannot_become_a_string() {
        let v = Value::parse(r#"{"toString":"x"}"#).expect("json");
        assert_eq!(to_string(&v), Err(NO_PRIMITIVE));
        let v = Value::parse(r#"[1,[{"valueOf":1}],null]"#).expect("json");
        assert_eq!(to_string(&v), Ok("1,[object Object],".to_owned()));
    }

    #[test]
    fn number_of_a_string_is_javascripts() {
        for (s, n) in [
            ("", 0.0),
            (" 12 ", 12.0),
            ("0x10", 16.0),
            ("1e3", 1000.0),
            ("-1.5", -1.5),
            (".5", 0.5),
            ("5.", 5.0),
            ("-Infinity", f64::NEG_INFINITY),
        ] {
            assert_eq!(string_to_number(s).to_bits(), n.to_bits(), "{s:?}");
        }
        for s in ["abc", "inf", "1e", "0x", "1 2", "NaN", "--1", "-0x10", "."] {
            assert!(string_to_number(s).is_nan(), "{s:?}");
        }
    }

    #[test]
    fn depth_counts_levels() {
        let scalar = Value::parse("1").expect("json");
        assert!(deeper_than(&scalar, 0));
        assert!(!deeper_than(&scalar, 1));
        let four = Value::parse(r#"{"a":[1,{"b":2}]}"#).expect("json");
        assert!(deeper_than(&four, 3));
        assert!(!deeper_than(&four, 4));
        assert!(!deeper_than(&Value::parse("[]").expect("json"), 1));
    }
}
