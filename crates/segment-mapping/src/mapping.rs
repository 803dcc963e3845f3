//! `transform(mapping, payload)`: mapping-kit's evaluator (`packages/core/src/mapping-kit/index.ts`
//! `transform`, `getMappingToProcess`, `resolve`, and `packages/core/src/remove-undefined.ts`).
//!
//! The directives themselves are in `directives.rs`.

use std::borrow::Cow;

use crate::directives;
use crate::js;
use crate::validate::{Invalid, ValidationErrors, checked, too_deep};
use crate::value::{Object, Value};

/// The deepest payload [`transform`] accepts, in levels of arrays and objects (a scalar is one
/// level). Above what [`Value::parse`] can produce (128 levels of arrays and objects), so it only
/// refuses values built in Rust; Segment has no limit short of the JavaScript stack.
pub const MAX_PAYLOAD_DEPTH: usize = 256;

/// The key of a root-level directive (`ROOT_MAPPING_FIELD_KEY`).
pub const ROOT_DIRECTIVE_KEY: &str = "__segment_internal_directive";

/// A mapping that could not be evaluated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TransformError {
    /// The mapping failed validation (also raised by a nested `@transform`'s `apply`):
    /// Segment's messages joined by one space.
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    /// A directive, the payload check or the root directive threw: Segment's message, as its
    /// code writes it (so with Segment's capitals where it has them).
    #[error("{0}")]
    Failed(String),
    /// The mapping or the payload nests deeper than this crate's limits (our message).
    #[error("{0}")]
    TooDeep(String),
}

impl TransformError {
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }
}

/// The outcome of evaluating a mapping.
pub type Result<T> = std::result::Result<T, TransformError>;

/// Evaluates `mapping` against `payload` as mapping-kit's `transform` does: the payload must be
/// an object (`undefined` stands for `{}`, JavaScript's default parameter), the mapping is
/// object-spread (an array becomes an object keyed by index, a string one keyed by character, a
/// number or boolean `{}`), a root directive (`__segment_internal_directive`) takes the other
/// keys as its `mapping`, the result is validated, resolved, and cleared of `undefined` object
/// values. [`Value::Undefined`] when the result is JavaScript's `undefined`.
pub fn transform(mapping: &Value, payload: &Value) -> Result<Value> {
    if js::deeper_than(payload, MAX_PAYLOAD_DEPTH) {
        return Err(TransformError::TooDeep(format!(
            "payload nests deeper than {MAX_PAYLOAD_DEPTH} levels"
        )));
    }
    transform_inner(mapping, payload)
}

/// `transform` without the payload depth check (the payload of a nested `@transform` is a
/// result of this crate, so its depth is bounded by the mapping's and the outer payload's).
pub(crate) fn transform_inner(mapping: &Value, payload: &Value) -> Result<Value> {
    let empty;
    let data = match payload {
        Value::Undefined => {
            empty = Value::Object(Object::new());
            &empty
        }
        Value::Object(_) => payload,
        other => {
            return Err(TransformError::failed(format!(
                "data must be an object, got {}",
                js::real_type_of(other)
            )));
        }
    };
    let to_process = mapping_to_process(mapping)?;
    checked(&to_process).map_err(|e| match e {
        Invalid::TooDeep => TransformError::TooDeep(too_deep()),
        Invalid::Errors(e) => TransformError::Invalid(e),
    })?;
    let resolved = resolve(&to_process, data)?;
    Ok(remove_undefined(resolved))
}

const NULL_TO_OBJECT: &str = "Cannot convert undefined or null to object";

/// `getMappingToProcess`: the object spread, then the root directive.
fn mapping_to_process(mapping: &Value) -> Result<Cow<'_, Value>> {
    let spread = match mapping {
        Value::Undefined | Value::Null => return Err(TransformError::failed(NULL_TO_OBJECT)),
        Value::Object(obj) => obj,
        Value::Array(items) => {
            return Ok(Cow::Owned(Value::Object(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (i.to_string(), v.clone()))
                    .collect(),
            )));
        }
        Value::String(s) => {
            return Ok(Cow::Owned(Value::Object(
                js::utf16_units(s)
                    .enumerate()
                    .map(|(i, c)| (i.to_string(), Value::String(c)))
                    .collect(),
            )));
        }
        Value::Bool(_) | Value::Number(_) => return Ok(Cow::Owned(Value::Object(Object::new()))),
    };
    // The spread is a shallow copy that nothing changes: the mapping itself will do.
    let Some(root) = spread.get(ROOT_DIRECTIVE_KEY) else {
        return Ok(Cow::Borrowed(mapping));
    };
    let customer: Object = spread
        .iter()
        .filter(|(k, _)| k.as_str() != ROOT_DIRECTIVE_KEY)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let key_count = match root {
        Value::Undefined | Value::Null => return Err(TransformError::failed(NULL_TO_OBJECT)),
        Value::Object(obj) => obj.len(),
        Value::Array(items) => items.len(),
        Value::String(s) => js::utf16_len(s),
        Value::Bool(_) | Value::Number(_) => 0,
    };
    if key_count > 1 {
        return Err(TransformError::failed(
            "The root mapping must only have a single directive object",
        ));
    }
    let mut root = root.clone();
    let directive = match &mut root {
        Value::Object(obj) => obj.iter_mut().next().map(|(_, v)| v),
        Value::Array(items) => items.first_mut(),
        _ => None,
    };
    match directive {
        Some(Value::Object(directive)) => {
            directive.insert("mapping".to_owned(), Value::Object(customer));
        }
        // An array is an object to `typeof`: Segment sets a `mapping` property on it that
        // nothing reads (not JSON, not validation, not `resolve`).
        Some(Value::Array(_)) => {}
        _ => {
            return Err(TransformError::failed(
                "The root directive must be an object",
            ));
        }
    }
    Ok(Cow::Owned(root))
}

/// `resolve(mapping, payload)`: raw values as they are, directives run, arrays and raw objects
/// resolved element by element.
pub(crate) fn resolve(mapping: &Value, payload: &Value) -> Result<Value> {
    match mapping {
        Value::Object(obj) => {
            if is_directive(obj) {
                return directives::run(obj, payload);
            }
            let mut out = Object::new();
            for (k, v) in obj.iter() {
                let resolved = resolve(v, payload)?;
                // `resolved["__proto__"] = v` sets the prototype (or does nothing): no own key.
                if k != "__proto__" {
                    out.insert(k.clone(), resolved);
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|v| resolve(v, payload))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// `isDirective` at run time: at least one `@` key, and every other key `@`-prefixed or
/// `_metadata`.
pub(crate) fn is_directive(obj: &Object) -> bool {
    let mut any = false;
    for k in obj.keys() {
        if k.starts_with('@') {
            any = true;
        } else if k != "_metadata" {
            return false;
        }
    }
    any
}

/// `removeUndefined`: object keys holding `undefined` deleted at any depth (arrays walked, their
/// `undefined` elements kept); the copy is `Object.assign`'s, so a `__proto__` key does not
/// survive either. In place: most objects have nothing to delete.
pub(crate) fn remove_undefined(mut value: Value) -> Value {
    clean(&mut value);
    value
}

fn clean(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(clean),
        Value::Object(obj) => {
            if obj
                .iter()
                .any(|(k, v)| v.is_undefined() || k == "__proto__")
            {
                obj.retain(|k, v| !v.is_undefined() && k != "__proto__");
            }
            for (_, v) in obj.iter_mut() {
                clean(v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(mapping: &str, payload: &str) -> String {
        let m = Value::parse(mapping).expect("mapping json");
        let p = Value::parse(payload).expect("payload json");
        match transform(&m, &p) {
            Ok(v) => v.to_json().unwrap_or_else(|| "absent".to_owned()),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn the_payload_must_be_an_object() {
        assert_eq!(
            run(r#"{"a":1}"#, "123"),
            "error: data must be an object, got number"
        );
        assert_eq!(
            run(r#"{"a":1}"#, "[]"),
            "error: data must be an object, got array"
        );
        assert_eq!(
            run(r#"{"a":1}"#, "null"),
            "error: data must be an object, got null"
        );
        let m = Value::parse(r#"{"a":1}"#).expect("json");
        assert_eq!(
            transform(&m, &Value::Undefined)
                .ok()
                .and_then(|v| v.to_json()),
            Some(r#"{"a":1}"#.to_owned())
        );
    }

    #[test]
    fn the_mapping_is_object_spread() {
        assert_eq!(run(r#"["cool"]"#, "{}"), r#"{"0":"cool"}"#);
        assert_eq!(
            run(r#""neat""#, "{}"),
            r#"{"0":"n","1":"e","2":"a","3":"t"}"#
        );
        assert_eq!(run("123", "{}"), "{}");
        assert_eq!(
            run("null", "{}"),
            "error: Cannot convert undefined or null to object"
        );
    }

    #[test]
    fn undefined_is_removed_from_objects_only() {
        assert_eq!(
            run(
                r#"{"x":[{"@path":"$.no"},1],"y":null,"z":{"w":{"@path":"$.no"}}}"#,
                "{}"
            ),
            r#"{"x":[null,1],"y":null,"z":{}}"#
        );
        assert_eq!(run(r#"{"@path":"$.missing"}"#, "{}"), "absent");
    }

    #[test]
    fn a_raw_object_with_an_at_key_and_another_key_is_not_a_directive_inside_an_array() {
        assert_eq!(
            run(r#"{"a":[{"@path":"x","k":1}]}"#, "{}"),
            r#"{"a":[{"@path":"x","k":1}]}"#
        );
        // A top-level array is spread into an object first, so its elements are validated.
        assert_eq!(
            run(r#"[{"@path":"x","k":1}]"#, "{}"),
            "error: /0 should only have one @-prefixed key but it has 2 keys."
        );
        assert_eq!(
            run(r#"{"a":[{"@oops":1}]}"#, "{}"),
            "error: @oops is not a valid directive, got undefined"
        );
    }

    #[test]
    fn the_root_directive_takes_the_other_keys_as_its_mapping() {
        assert_eq!(
            run(
                r#"{"__segment_internal_directive":{"@transform":{"apply":{"x":{"@path":"$.a"}}}},"y":{"@path":"$.x"}}"#,
                r#"{"a":1}"#
            ),
            r#"{"y":1}"#
        );
        assert_eq!(
            run(r#"{"__segment_internal_directive":{"a":1,"b":2}}"#, "{}"),
            "error: The root mapping must only have a single directive object"
        );
        assert_eq!(
            run(r#"{"__segment_internal_directive":{"a":1}}"#, "{}"),
            "error: The root directive must be an object"
        );
        assert_eq!(
            run(r#"{"__segment_internal_directive":null}"#, "{}"),
            "error: Cannot convert undefined or null to object"
        );
        assert_eq!(
            run(r#"{"__segment_internal_directive":[{"a":1}],"b":2}"#, "{}"),
            r#"[{"a":1,"mapping":{"b":2}}]"#
        );
    }

    #[test]
    fn proto_keys_do_not_survive() {
        assert_eq!(run(r#"{"__proto__":{"a":1},"b":2}"#, "{}"), r#"{"b":2}"#);
        assert_eq!(
            run(r#"{"@path":"$.o"}"#, r#"{"o":{"__proto__":1,"c":3}}"#),
            r#"{"c":3}"#
        );
    }

    #[test]
    fn too_deep_input_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "{\"a\":".repeat(100), "}".repeat(100));
        assert_eq!(
            run(&deep, "{}"),
            format!("error: {}", crate::validate::too_deep())
        );
        let mut payload = Value::Null;
        for _ in 0..300 {
            payload = Value::Array(vec![payload]);
        }
        let mut obj = Object::new();
        obj.insert("a".into(), payload);
        assert!(matches!(
            transform(&Value::Object(Object::new()), &Value::Object(obj)),
            Err(TransformError::TooDeep(_))
        ));
    }
}
