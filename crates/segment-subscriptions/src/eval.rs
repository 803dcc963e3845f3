//! `validate` of `@segment/destination-subscriptions` 3.37 over a JSON event: the package's
//! `get` (lodash-like paths, JavaScript property lookup) and `validateValue` (strict equality,
//! `typeof` checks, `Number(…)` and `String(…)` conversions).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::condition::{Condition, Expected, Field, GroupOperator, Operator, Path};
use crate::js::{JsString, number_to_string, string_to_number};
use crate::parse::OBJECT_PROTOTYPE;

/// Why an event cannot be evaluated the way the package evaluates it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A path goes on past a JavaScript built-in (`properties.items.map.length`: `map` of an
    /// array is a function, whose own properties this crate does not model).
    #[error(
        "the path `{path}` goes on past `{key}`, a JavaScript built-in of {of}, which this crate does not model"
    )]
    BuiltIn {
        /// The condition's path.
        path: String,
        /// The key that found the built-in.
        key: String,
        /// What it was looked up on (`an array`, `a string`, …).
        of: &'static str,
    },
    /// The event is not a JSON object (the package reads `event.type` of whatever it is given,
    /// and throws on `null`).
    #[error("the event is not a JSON object")]
    NotAnObject,
}

/// What JavaScript's `Array.prototype` holds in Node 20, `length` aside.
const ARRAY_PROTOTYPE: [&str; 39] = [
    "constructor",
    "at",
    "concat",
    "copyWithin",
    "fill",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "lastIndexOf",
    "pop",
    "push",
    "reverse",
    "shift",
    "unshift",
    "slice",
    "sort",
    "splice",
    "includes",
    "indexOf",
    "join",
    "keys",
    "entries",
    "values",
    "forEach",
    "filter",
    "flat",
    "flatMap",
    "map",
    "every",
    "some",
    "reduce",
    "reduceRight",
    "toLocaleString",
    "toString",
    "toReversed",
    "toSorted",
    "toSpliced",
    "with",
];

/// What `String.prototype` holds in Node 20, `length` aside.
const STRING_PROTOTYPE: [&str; 51] = [
    "constructor",
    "anchor",
    "at",
    "big",
    "blink",
    "bold",
    "charAt",
    "charCodeAt",
    "codePointAt",
    "concat",
    "endsWith",
    "fontcolor",
    "fontsize",
    "fixed",
    "includes",
    "indexOf",
    "isWellFormed",
    "italics",
    "lastIndexOf",
    "link",
    "localeCompare",
    "match",
    "matchAll",
    "normalize",
    "padEnd",
    "padStart",
    "repeat",
    "replace",
    "replaceAll",
    "search",
    "slice",
    "small",
    "split",
    "strike",
    "sub",
    "substr",
    "substring",
    "sup",
    "startsWith",
    "toString",
    "toWellFormed",
    "trim",
    "trimStart",
    "trimLeft",
    "trimEnd",
    "trimRight",
    "toLocaleLowerCase",
    "toLocaleUpperCase",
    "toLowerCase",
    "toUpperCase",
    "valueOf",
];

/// What `Number.prototype` holds in Node 20.
const NUMBER_PROTOTYPE: [&str; 7] = [
    "constructor",
    "toExponential",
    "toFixed",
    "toPrecision",
    "toString",
    "valueOf",
    "toLocaleString",
];

/// What `Boolean.prototype` holds in Node 20.
const BOOLEAN_PROTOTYPE: [&str; 3] = ["constructor", "toString", "valueOf"];

/// A JavaScript value as `validateValue` sees it.
#[derive(Debug, Clone)]
enum Js<'a> {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    /// A string of the event.
    Str(&'a str),
    /// One code unit of a string (`"abc"[1]`): may be a lone surrogate.
    Unit(u16),
    Array(&'a [Value]),
    Object(&'a Map<String, Value>),
    /// A JavaScript built-in: `typeof` is neither string, number nor boolean, and it exists.
    BuiltIn(BuiltIn),
}

/// The built-ins a path can find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BuiltIn {
    /// A method of a prototype (`map`, `toString`): its own properties are `length` and
    /// `name`, then those of `Function.prototype` and `Object.prototype`.
    Method,
    /// A constructor (`Object`, `Array`, … found as `constructor`): its static members are not
    /// modelled, any other key finds nothing.
    Constructor,
    /// A prototype object (found as `__proto__`): its members are not modelled, any other key
    /// finds nothing.
    Prototype,
}

/// The own properties of the constructors a path can reach (`Object`, `Array`, `String`,
/// `Number`, `Boolean`, `Function` in Node 20), and what `Function.prototype` gives each:
/// looked up on a constructor, each is left unmodelled ([`EvalError::BuiltIn`]).
const CONSTRUCTOR_MEMBERS: [&str; 53] = [
    "length",
    "name",
    "prototype",
    "arguments",
    "caller",
    "apply",
    "bind",
    "call",
    "toString",
    "assign",
    "getOwnPropertyDescriptor",
    "getOwnPropertyDescriptors",
    "getOwnPropertyNames",
    "getOwnPropertySymbols",
    "hasOwn",
    "is",
    "preventExtensions",
    "seal",
    "create",
    "defineProperties",
    "defineProperty",
    "freeze",
    "getPrototypeOf",
    "setPrototypeOf",
    "isExtensible",
    "isFrozen",
    "isSealed",
    "keys",
    "entries",
    "fromEntries",
    "values",
    "isArray",
    "from",
    "of",
    "fromCharCode",
    "fromCodePoint",
    "raw",
    "isFinite",
    "isInteger",
    "isNaN",
    "isSafeInteger",
    "parseFloat",
    "parseInt",
    "MAX_VALUE",
    "MIN_VALUE",
    "NaN",
    "NEGATIVE_INFINITY",
    "POSITIVE_INFINITY",
    "MAX_SAFE_INTEGER",
    "MIN_SAFE_INTEGER",
    "EPSILON",
    "groupBy",
    "constructor",
];

/// What `Function.prototype` adds to `Object.prototype` for a method, `length` and `name` aside
/// (own properties of each method, not modelled) and `arguments` and `caller` aside (reading
/// them throws).
const FUNCTION_PROTOTYPE: [&str; 3] = ["apply", "bind", "call"];

impl<'a> Js<'a> {
    fn of(value: &'a Value) -> Self {
        match value {
            Value::Null => Self::Null,
            Value::Bool(b) => Self::Bool(*b),
            Value::Number(n) => Self::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(s) => Self::Str(s),
            Value::Array(a) => Self::Array(a),
            Value::Object(o) => Self::Object(o),
        }
    }

    fn is_falsy(&self) -> bool {
        match self {
            Self::Undefined | Self::Null => true,
            Self::Bool(b) => !b,
            Self::Number(n) => *n == 0.0 || n.is_nan(),
            Self::Str(s) => s.is_empty(),
            Self::Unit(_) | Self::Array(_) | Self::Object(_) | Self::BuiltIn(_) => false,
        }
    }

    /// `value[key]` for a value that is not falsy; `Err` names what the built-in was found on
    /// when the value is itself a built-in.
    fn get(&self, key: &str) -> Result<Js<'a>, &'static str> {
        let proto = |list: &[&str]| match key {
            "constructor" => Js::BuiltIn(BuiltIn::Constructor),
            "__proto__" => Js::BuiltIn(BuiltIn::Prototype),
            _ if list.contains(&key) || OBJECT_PROTOTYPE.contains(&key) => {
                Js::BuiltIn(BuiltIn::Method)
            }
            _ => Js::Undefined,
        };
        Ok(match self {
            Self::Object(o) => o.get(key).map_or_else(|| proto(&[]), Js::of),
            Self::Array(a) => match (key, array_index(key)) {
                ("length", _) => Js::Number(a.len() as f64),
                (_, Some(i)) => a.get(i).map_or(Js::Undefined, Js::of),
                _ => proto(&ARRAY_PROTOTYPE),
            },
            Self::Str(s) => match (key, array_index(key)) {
                ("length", _) => Js::Number(s.encode_utf16().count() as f64),
                (_, Some(i)) => s.encode_utf16().nth(i).map_or(Js::Undefined, Js::Unit),
                _ => proto(&STRING_PROTOTYPE),
            },
            Self::Unit(_) => match (key, array_index(key)) {
                ("length", _) => Js::Number(1.0),
                (_, Some(0)) => self.clone(),
                (_, Some(_)) => Js::Undefined,
                _ => proto(&STRING_PROTOTYPE),
            },
            Self::Number(_) => proto(&NUMBER_PROTOTYPE),
            Self::Bool(_) => proto(&BOOLEAN_PROTOTYPE),
            Self::BuiltIn(BuiltIn::Method) => match key {
                "length" | "name" | "arguments" | "caller" => return Err("a built-in method"),
                _ => proto(&FUNCTION_PROTOTYPE),
            },
            Self::BuiltIn(BuiltIn::Constructor) => {
                if CONSTRUCTOR_MEMBERS.contains(&key) || OBJECT_PROTOTYPE.contains(&key) {
                    return Err("a built-in constructor");
                }
                Js::Undefined
            }
            Self::BuiltIn(BuiltIn::Prototype) => {
                let member = [
                    &OBJECT_PROTOTYPE[..],
                    &ARRAY_PROTOTYPE,
                    &STRING_PROTOTYPE,
                    &NUMBER_PROTOTYPE,
                ]
                .iter()
                .any(|list| list.contains(&key));
                if member || key == "length" {
                    return Err("a built-in prototype");
                }
                Js::Undefined
            }
            // Never looked into: `get` stops at a falsy value.
            Self::Undefined | Self::Null => Js::Undefined,
        })
    }
}

/// `typeof actual === 'string'`.
fn is_string(actual: &Js<'_>) -> bool {
    matches!(actual, Js::Str(_) | Js::Unit(_))
}

/// A canonical array index (`0`, `17`; not `01`, `-1`, `1.0`).
fn array_index(key: &str) -> Option<usize> {
    let canonical =
        key == "0" || (!key.starts_with('0') && key.bytes().all(|b| b.is_ascii_digit()));
    if key.is_empty() || !canonical {
        return None;
    }
    key.parse().ok()
}

/// The package's `get(object, path)`: each key looked up on the value so far, unless that value
/// is falsy, which `get` then returns as it is (`get({a: 0}, "a.b")` is `0`).
fn get<'a>(object: Js<'a>, path: &Path) -> Result<Js<'a>, EvalError> {
    if path.name.is_empty() {
        return Ok(Js::Undefined);
    }
    let mut value = object;
    for key in &path.keys {
        if value.is_falsy() {
            return Ok(value);
        }
        value = value.get(key).map_err(|of| EvalError::BuiltIn {
            path: path.name.clone(),
            key: key.clone(),
            of,
        })?;
    }
    Ok(value)
}

/// `String(expected)`.
fn expected_string(expected: Option<&Expected>) -> Cow<'_, JsString> {
    match expected {
        None => Cow::Owned(JsString::from("undefined")),
        Some(Expected::String(s)) => Cow::Borrowed(s),
        Some(Expected::Number(n)) => Cow::Owned(JsString::from(number_to_string(*n).as_str())),
        Some(Expected::Bool(b)) => Cow::Owned(JsString::from(if *b { "true" } else { "false" })),
    }
}

/// The string comparisons of `validateValue`: on UTF-8 when both sides are valid text (the
/// same answers as on UTF-16 code units), on code units otherwise.
#[derive(Clone, Copy)]
enum StringOp {
    Equals,
    Contains,
    StartsWith,
    EndsWith,
}

impl StringOp {
    fn on_str(self, a: &str, e: &str) -> bool {
        match self {
            Self::Equals => a == e,
            Self::Contains => a.contains(e),
            Self::StartsWith => a.starts_with(e),
            Self::EndsWith => a.ends_with(e),
        }
    }

    fn on_units(self, a: &[u16], e: &[u16]) -> bool {
        match self {
            Self::Equals => a == e,
            Self::Contains => e.is_empty() || a.windows(e.len()).any(|w| w == e),
            Self::StartsWith => a.starts_with(e),
            Self::EndsWith => a.ends_with(e),
        }
    }

    /// `typeof actual === 'string' && <op>(actual, String(expected))`.
    fn test(self, actual: &Js<'_>, expected: Option<&Expected>) -> bool {
        let expected = expected_string(expected);
        match (actual, expected.as_str()) {
            (Js::Str(a), Some(e)) => self.on_str(a, e),
            (Js::Str(a), None) => {
                self.on_units(&a.encode_utf16().collect::<Vec<_>>(), expected.units())
            }
            (Js::Unit(u), _) => self.on_units(&[*u], expected.units()),
            _ => false,
        }
    }
}

/// `Number(expected)`.
fn expected_number(expected: Option<&Expected>) -> f64 {
    match expected {
        None => f64::NAN,
        Some(Expected::Number(n)) => *n,
        Some(Expected::Bool(b)) => f64::from(u8::from(*b)),
        Some(Expected::String(s)) => s.as_str().map_or(f64::NAN, string_to_number),
    }
}

/// `validateValue(actual, operator, expected)`.
fn validate_value(actual: &Js<'_>, operator: Operator, expected: Option<&Expected>) -> bool {
    use Operator as O;
    let number = match actual {
        Js::Number(n) => Some(*n),
        _ => None,
    };
    let with_number =
        |f: fn(f64, f64) -> bool| number.is_some_and(|n| f(n, expected_number(expected)));
    let with_string = |op: StringOp| op.test(actual, expected);
    match operator {
        O::Equals => with_string(StringOp::Equals),
        O::NotEquals => !with_string(StringOp::Equals),
        O::NumberEquals => with_number(|a, e| a == e),
        O::NumberNotEquals => with_number(|a, e| a != e),
        O::LessThan => with_number(|a, e| a < e),
        O::LessThanOrEqual => with_number(|a, e| a <= e),
        O::GreaterThan => with_number(|a, e| a > e),
        O::GreaterThanOrEqual => with_number(|a, e| a >= e),
        O::Contains => with_string(StringOp::Contains),
        O::NotContains => is_string(actual) && !with_string(StringOp::Contains),
        O::StartsWith => with_string(StringOp::StartsWith),
        O::NotStartsWith => is_string(actual) && !with_string(StringOp::StartsWith),
        O::EndsWith => with_string(StringOp::EndsWith),
        O::NotEndsWith => is_string(actual) && !with_string(StringOp::EndsWith),
        O::Exists => !matches!(actual, Js::Undefined | Js::Null),
        O::NotExists => matches!(actual, Js::Undefined | Js::Null),
        O::IsTrue => matches!(actual, Js::Bool(true)),
        O::IsFalse => matches!(actual, Js::Bool(false)),
    }
}

fn top<'a>(event: &'a Map<String, Value>, key: &str) -> Js<'a> {
    event.get(key).map_or(Js::Undefined, Js::of)
}

/// `validateCondition`.
fn validate_condition(
    condition: &Condition,
    event: &Map<String, Value>,
) -> Result<bool, EvalError> {
    match condition {
        Condition::Group { operator, children } => {
            for child in children {
                let matched = validate_condition(child, event)?;
                match operator {
                    GroupOperator::And if !matched => return Ok(false),
                    GroupOperator::Or if matched => return Ok(true),
                    _ => {}
                }
            }
            Ok(*operator == GroupOperator::And)
        }
        Condition::Field {
            field,
            operator,
            value,
        } => {
            let actual = match field {
                Field::EventType => top(event, "type"),
                Field::Event => top(event, "event"),
                Field::Name => top(event, "name"),
                Field::UserId => top(event, "userId"),
                Field::Property(path) => get(top(event, "properties"), path)?,
                Field::Trait(path) => get(top(event, "traits"), path)?,
                Field::Context(path) => get(top(event, "context"), path)?,
            };
            Ok(validate_value(&actual, *operator, value.as_ref()))
        }
    }
}

pub(crate) fn matches(condition: &Condition, event: &Value) -> Result<bool, EvalError> {
    let Value::Object(event) = event else {
        return Err(EvalError::NotAnObject);
    };
    validate_condition(condition, event)
}
