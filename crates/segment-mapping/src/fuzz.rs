//! What the `mapping_eval` fuzz target and the stable test `tests/fuzz_oracle.rs` share: a
//! structure-aware generator of mappings and payloads (every directive, nested, with the edge
//! shapes of the spec), driven by any source of choices, and the oracle [`check`]: evaluation and
//! validation are total (a value or an error, never a panic), deterministic, and their results
//! serialise.

use crate::line::{eval_line, validate_line};
use crate::mapping::transform;
use crate::validate::validate;
use crate::value::{Object, Value};

/// A source of choices: libFuzzer's bytes, or a seeded generator.
pub trait Source {
    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize;
}

const KEYS: [&str; 14] = [
    "a",
    "b",
    "c",
    "0",
    "1",
    "x",
    "$",
    "length",
    "__proto__",
    "toString",
    "",
    "a.b",
    "it's",
    "2",
];
const STRINGS: [&str; 22] = [
    "",
    "a",
    "A",
    "ab",
    "ß",
    "İ",
    "ΟΔΟΣ",
    "{{a}}",
    "{{{a}}}",
    "$&",
    "a.b",
    "  x ",
    "0",
    "true",
    "[1]",
    "{\"a\":1}",
    "null",
    "😀x",
    "a+b",
    "banana",
    " [1] ",
    "{{ }}",
];
const PATHS: [&str; 14] = [
    "$.a",
    "$.a.b",
    "$.",
    "",
    "$",
    "$.a[0]",
    "$['a'].b",
    "a.$.b",
    ".",
    "$.a..b",
    "$.a.length",
    "$.x.0",
    "$.__proto__.a",
    "b.c",
];
const DIRECTIVES: [&str; 14] = [
    "@path",
    "@template",
    "@literal",
    "@if",
    "@case",
    "@replace",
    "@arrayPath",
    "@json",
    "@flatten",
    "@merge",
    "@transform",
    "@excludeWhenNull",
    "@liquid",
    "@oops",
];
const LIQUID: [&str; 8] = [
    "{{ a }}",
    "{% if a %}y{% else %}n{% endif %}",
    "{{ a | upcase | nope }}",
    "{{ a | map: 'b' }}",
    "{% for x in a %}{% endfor %}",
    "{{ a.b.c }}|{{ a[1] }}",
    "{% if %}",
    "{{ a | plus: 1 }}",
];

fn pick<'a>(src: &mut impl Source, items: &[&'a str]) -> &'a str {
    items
        .get(src.below(items.len()))
        .copied()
        .unwrap_or_default()
}

fn string(s: &str) -> Value {
    Value::String(s.to_owned())
}

/// A scalar: `null`, booleans, edge numbers, strings from the pool.
pub fn scalar(src: &mut impl Source) -> Value {
    match src.below(10) {
        0 => Value::Null,
        1 => Value::Bool(true),
        2 => Value::Bool(false),
        3 => {
            let numbers = [0.0, -0.0, 1.0, -1.0, 1.5, 1e21, 0.1, 1e-7];
            Value::Number(
                numbers
                    .get(src.below(numbers.len()))
                    .copied()
                    .unwrap_or(0.0),
            )
        }
        _ => string(pick(src, &STRINGS)),
    }
}

/// A payload-like value, at most `6 - depth` levels deep.
pub fn payload(src: &mut impl Source, depth: usize) -> Value {
    match src.below(if depth >= 5 { 1 } else { 4 }) {
        0 => scalar(src),
        1 | 2 => {
            let mut obj = Object::new();
            for _ in 0..src.below(5) {
                obj.insert(pick(src, &KEYS).to_owned(), payload(src, depth + 1));
            }
            Value::Object(obj)
        }
        _ => Value::Array((0..src.below(4)).map(|_| payload(src, depth + 1)).collect()),
    }
}

fn object(entries: Vec<(&str, Value)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// A mapping: raw values, raw objects and arrays, and directives with their options (valid or
/// not), at most about `7 - depth` levels deep.
pub fn mapping(src: &mut impl Source, depth: usize) -> Value {
    if depth >= 6 {
        return scalar(src);
    }
    match src.below(8) {
        0 => scalar(src),
        1 => {
            let mut obj = Object::new();
            for _ in 0..src.below(4) {
                obj.insert(pick(src, &KEYS).to_owned(), mapping(src, depth + 1));
            }
            Value::Object(obj)
        }
        2 => Value::Array((0..src.below(3)).map(|_| mapping(src, depth + 1)).collect()),
        _ => directive(src, depth),
    }
}

fn path_or(src: &mut impl Source, depth: usize) -> Value {
    match src.below(4) {
        0 => mapping(src, depth + 1),
        1 => object(vec![("@path", string(pick(src, &PATHS)))]),
        _ => string(pick(src, &PATHS)),
    }
}

fn directive(src: &mut impl Source, depth: usize) -> Value {
    let name = pick(src, &DIRECTIVES);
    let d = depth + 2;
    let options = match name {
        "@path" | "@arrayPath" if src.below(4) == 0 => mapping(src, d),
        "@path" => path_or(src, depth),
        "@template" => match src.below(3) {
            0 => mapping(src, d),
            _ => string(pick(
                src,
                &[
                    "{{a}}-{{ b }}",
                    "{{{a}}}",
                    "{{x.y}}",
                    "{{ }}",
                    "x{{a}}}",
                    "{{$.a}}",
                    "{{a.length}}",
                ],
            )),
        },
        "@liquid" => match src.below(4) {
            0 => scalar(src),
            _ => string(pick(src, &LIQUID)),
        },
        "@literal" | "@excludeWhenNull" | "@oops" => mapping(src, d),
        "@arrayPath" => {
            let mut items = vec![path_or(src, depth)];
            if src.below(3) > 0 {
                items.push(match src.below(3) {
                    0 => object(vec![("x", path_or(src, depth))]),
                    1 => Value::Object(Object::new()),
                    _ => mapping(src, d),
                });
            }
            Value::Array(items)
        }
        _ => {
            let fields: &[&str] = match name {
                "@if" => &["exists", "blank", "then", "else"],
                "@case" => &["operator", "value"],
                "@replace" => &[
                    "pattern",
                    "replacement",
                    "pattern2",
                    "replacement2",
                    "value",
                    "ignorecase",
                    "global",
                ],
                "@json" => &["mode", "value"],
                "@flatten" => &["value", "separator", "omitArrays"],
                "@merge" => &["objects", "direction"],
                _ => &["apply", "mapping"],
            };
            if src.below(12) == 0 {
                return object(vec![(name, scalar(src))]);
            }
            let mut obj = Object::new();
            for field in fields {
                if src.below(5) == 0 {
                    continue;
                }
                let value = option(src, name, field, d);
                obj.insert((*field).to_owned(), value);
            }
            Value::Object(obj)
        }
    };
    let mut obj = Object::new();
    obj.insert(name.to_owned(), options);
    if src.below(16) == 0 {
        obj.insert("_metadata".to_owned(), Value::Null);
    }
    if src.below(32) == 0 {
        obj.insert("k".to_owned(), Value::Null);
    }
    Value::Object(obj)
}

fn option(src: &mut impl Source, name: &str, field: &str, depth: usize) -> Value {
    if src.below(8) == 0 {
        return mapping(src, depth);
    }
    match (name, field) {
        ("@case", "operator") => string(pick(src, &["lower", "upper", "UPPER", "x"])),
        ("@replace", "pattern" | "pattern2") => string(pick(
            src,
            &["a", "A", ".", "+", "$", "ß", "", "abcdefghijk"],
        )),
        ("@replace", "replacement" | "replacement2") => string(pick(
            src,
            &["x", "$&", "$$", "$`", "$'", "$1", "", "abcdefghijkl"],
        )),
        ("@replace" | "@flatten", "ignorecase" | "global" | "omitArrays") => scalar(src),
        ("@json", "mode") => string(pick(src, &["encode", "decode", "ENCODE", "x"])),
        ("@flatten", "separator") => string(pick(src, &[".", "_", "", "--"])),
        ("@merge", "direction") => string(pick(src, &["left", "right", "LEFT", "up"])),
        ("@merge", "objects") => {
            Value::Array((0..src.below(4)).map(|_| path_or(src, depth)).collect())
        }
        ("@transform", _) => match src.below(3) {
            0 => object(vec![("k", path_or(src, depth))]),
            1 => object(vec![("@path", string(pick(src, &PATHS)))]),
            _ => mapping(src, depth),
        },
        _ => path_or(src, depth),
    }
}

/// The oracle: `transform` and `validate` give a value or an error (a panic fails the fuzz
/// target), the same twice, a result that serialises, and line results that are one JSON
/// object with one of the line format's keys.
pub fn check(mapping: &Value, payload: &Value) -> Result<(), String> {
    let first = transform(mapping, payload);
    let second = transform(mapping, payload);
    if first != second {
        return Err(format!(
            "transform is not deterministic: {first:?} then {second:?}"
        ));
    }
    // (Not above the parser's own depth limit, which a result may pass.)
    if let Ok(v) = &first
        && !crate::js::deeper_than(v, 100)
        && let Some(json) = v.to_json()
    {
        Value::parse(&json).map_err(|e| format!("output is not JSON ({e}): {json}"))?;
    }
    let valid = validate(mapping);
    if valid != validate(mapping) {
        return Err("validate is not deterministic".to_owned());
    }
    let mut input = Object::new();
    input.insert("mapping".to_owned(), mapping.clone());
    input.insert("payload".to_owned(), payload.clone());
    let line = Value::Object(input).to_json().unwrap_or_default();
    check_line(&eval_line(&line), &["output", "absent", "error"])?;
    check_line(&validate_line(&line), &["valid", "error"])
}

/// The oracle on raw bytes taken as one input line of `mapping eval` and `mapping validate`.
pub fn check_line_bytes(data: &[u8]) -> Result<(), String> {
    let line = String::from_utf8_lossy(data);
    check_line(&eval_line(&line), &["output", "absent", "error"])?;
    check_line(&validate_line(&line), &["valid", "error"])
}

fn check_line(out: &str, keys: &[&str]) -> Result<(), String> {
    match Value::parse(out) {
        Ok(Value::Object(obj))
            if obj.len() == 1 && obj.keys().all(|k| keys.contains(&k.as_str())) =>
        {
            Ok(())
        }
        _ => Err(format!("not a line of the format: {out}")),
    }
}
