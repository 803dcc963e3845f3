//! The 13 directives of mapping-kit (`packages/core/src/mapping-kit/index.ts`), each as Segment's
//! code runs it, JavaScript truthiness on the raw options included. The rules and their quirks
//! are listed in the crate docs.

use crate::get::get_ref;
use crate::js;
use crate::mapping::{Result, TransformError, resolve, transform_inner};
use crate::text;
use crate::value::{Object, Value};

/// `MAX_PATTERN_LENGTH`: `@replace` patterns are at most 10 UTF-16 code units.
pub const MAX_PATTERN_LENGTH: usize = 10;
/// `MAX_REPLACEMENT_LENGTH`: `@replace` replacements are at most 10 UTF-16 code units.
pub const MAX_REPLACEMENT_LENGTH: usize = 10;

static UNDEFINED: Value = Value::Undefined;

/// `opts[key]`, `undefined` when absent.
fn opt<'a>(opts: &'a Object, key: &str) -> &'a Value {
    opts.get(key).unwrap_or(&UNDEFINED)
}

fn fail<T>(message: impl Into<String>) -> Result<T> {
    Err(TransformError::failed(message))
}

/// `runDirective`: the first `@` key, in key order, names the directive.
pub(crate) fn run(obj: &Object, payload: &Value) -> Result<Value> {
    let Some((name, value)) = obj.iter().find(|(k, _)| k.starts_with('@')) else {
        return fail("undefined is not a valid directive, got undefined");
    };
    match name.as_str() {
        "@if" => if_(value, payload),
        "@case" => case(value, payload),
        "@replace" => replace(value, payload),
        "@arrayPath" => array_path(value, payload),
        "@path" => path(value, payload),
        "@template" => template(value, payload),
        "@literal" => resolve(value, payload),
        "@flatten" => flatten(value, payload),
        "@json" => json(value, payload),
        "@merge" => merge(value, payload),
        "@transform" => transform_directive(value, payload),
        "@excludeWhenNull" => exclude_when_null(value, payload),
        "@liquid" => crate::liquid::evaluate(value, payload),
        other => fail(format!("{other} is not a valid directive, got undefined")),
    }
}

fn if_(opts: &Value, payload: &Value) -> Result<Value> {
    let Value::Object(opts) = opts else {
        return fail("@if requires an object with an \"exists\" key");
    };
    let exists = opt(opts, "exists");
    let blank = opt(opts, "blank");
    if !exists.truthy() && !blank.truthy() {
        return fail("@if requires an \"exists\" key or a \"blank\" key");
    }
    let condition = if !exists.is_undefined() {
        let v = resolve(exists, payload)?;
        !matches!(v, Value::Undefined | Value::Null)
    } else {
        let v = resolve(blank, payload)?;
        !matches!(v, Value::Undefined | Value::Null)
            && js::loose_ne_empty_string(&v).map_err(TransformError::failed)?
    };
    let then = opt(opts, "then");
    let otherwise = opt(opts, "else");
    if condition && !then.is_undefined() {
        resolve(then, payload)
    } else if !condition && otherwise.truthy() {
        resolve(otherwise, payload)
    } else {
        Ok(Value::Undefined)
    }
}

fn case(opts: &Value, payload: &Value) -> Result<Value> {
    let Value::Object(opts) = opts else {
        return fail("@case requires an object with a \"operator\" key");
    };
    let operator = opt(opts, "operator");
    if !operator.truthy() {
        return fail("@case requires a \"operator\" key");
    }
    let value = opt(opts, "value");
    if !value.truthy() {
        return Ok(Value::Undefined);
    }
    match resolve(value, payload)? {
        Value::String(s) => match operator.as_str() {
            Some("lower") => Ok(Value::String(s.to_lowercase())),
            Some("upper") => Ok(Value::String(s.to_uppercase())),
            _ => fail("operator key should have a value of \"lower\" or \"upper\""),
        },
        other => Ok(other),
    }
}

fn replace(opts: &Value, payload: &Value) -> Result<Value> {
    let Value::Object(opts) = opts else {
        return fail("@replace requires an object with a \"pattern\" key");
    };
    let pattern = opt(opts, "pattern");
    if !pattern.truthy() {
        return fail("@replace requires a \"pattern\" key");
    }
    let or = |key: &str, default: Value| match opt(opts, key) {
        Value::Undefined | Value::Null => default,
        v => v.clone(),
    };
    let empty = || Value::String(String::new());
    let replacement = or("replacement", empty());
    let pattern2 = opt(opts, "pattern2");
    let replacement2 = if pattern2.truthy() {
        or("replacement2", empty())
    } else {
        opt(opts, "replacement2").clone()
    };
    let ignore_case = or("ignorecase", Value::Bool(false));
    let global = or("global", Value::Bool(true));
    let value = opt(opts, "value");
    if !value.truthy() {
        return Ok(Value::Undefined);
    }
    let value = match resolve(value, payload)? {
        v @ (Value::Bool(_) | Value::Number(_)) => Value::String(v.js_string()),
        v => v,
    };
    let (
        Value::String(value),
        Value::String(pattern),
        Value::String(replacement),
        Value::Bool(ignore_case),
        Value::Bool(global),
    ) = (value, pattern, &replacement, ignore_case, global)
    else {
        return Ok(Value::String(String::new()));
    };
    let mut out = perform_replace(&value, pattern, replacement, global, ignore_case)?;
    if let (Value::String(p2), Value::String(r2)) = (pattern2, &replacement2)
        && !p2.is_empty()
    {
        out = perform_replace(&out, p2, r2, global, ignore_case)?;
    }
    Ok(Value::String(out))
}

/// `performReplace`: the length limits, then the literal replace.
fn perform_replace(
    value: &str,
    pattern: &str,
    replacement: &str,
    global: bool,
    ignore_case: bool,
) -> Result<String> {
    if js::utf16_len(pattern) > MAX_PATTERN_LENGTH {
        return fail(format!(
            "@replace requires a \"pattern\" less than {MAX_PATTERN_LENGTH} characters"
        ));
    }
    if js::utf16_len(replacement) > MAX_REPLACEMENT_LENGTH {
        return fail(format!(
            "@replace requires a \"replacement\" less than {MAX_REPLACEMENT_LENGTH} characters"
        ));
    }
    Ok(text::replace_literal(
        value,
        pattern,
        replacement,
        global,
        ignore_case,
    ))
}

fn array_path(data: &Value, payload: &Value) -> Result<Value> {
    let Value::Array(data) = data else {
        return fail(format!(
            "@arrayPath expected array, got {}",
            js::real_type_of(data)
        ));
    };
    let path = data.first().unwrap_or(&UNDEFINED);
    let shape = data.get(1).unwrap_or(&UNDEFINED);
    let owned;
    let root: &Value = match path {
        Value::String(p) => {
            owned = get_ref(payload, &strip_dollar(p));
            &owned
        }
        other => {
            owned = std::borrow::Cow::Owned(resolve(other, payload)?);
            &owned
        }
    };
    let shaped = matches!(shape, Value::Object(o) if !o.is_empty());
    match root {
        Value::Array(items) if shaped => items
            .iter()
            .map(|item| resolve(shape, item))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array),
        Value::Object(_) if shaped => Ok(Value::Array(vec![resolve(shape, root)?])),
        _ => Ok(root.clone()),
    }
}

fn path(value: &Value, payload: &Value) -> Result<Value> {
    let resolved;
    let p = match value {
        Value::String(p) => p,
        other => {
            resolved = resolve(other, payload)?;
            match &resolved {
                Value::String(p) => p,
                v => {
                    return fail(format!(
                        "@path: expected string, got {}",
                        js::real_type_of(v)
                    ));
                }
            }
        }
    };
    Ok(get_ref(payload, &strip_dollar(p)).into_owned())
}

/// `path.replace('$.', '')`: the first `$.` anywhere deleted.
fn strip_dollar(path: &str) -> std::borrow::Cow<'_, str> {
    if let Some(rest) = path.strip_prefix("$.") {
        std::borrow::Cow::Borrowed(rest)
    } else if path.contains("$.") {
        std::borrow::Cow::Owned(path.replacen("$.", "", 1))
    } else {
        std::borrow::Cow::Borrowed(path)
    }
}

fn template(value: &Value, payload: &Value) -> Result<Value> {
    let resolved;
    let t = match value {
        Value::String(t) => t,
        other => {
            resolved = resolve(other, payload)?;
            match &resolved {
                Value::String(t) => t,
                v => {
                    return fail(format!(
                        "@template: expected string, got {}",
                        js::real_type_of(v)
                    ));
                }
            }
        }
    };
    // `render(template, data = {})`: JavaScript's default parameter stands in for a payload that
    // is `undefined` (a `@transform` whose `apply` gave nothing).
    let empty = Value::Object(Object::new());
    let data = if payload.is_undefined() {
        &empty
    } else {
        payload
    };
    text::render(t, data)
        .map(Value::String)
        .map_err(TransformError::failed)
}

fn flatten(opts: &Value, payload: &Value) -> Result<Value> {
    let Value::Object(opts) = opts else {
        return fail("@flatten requires an object with a \"separator\" key");
    };
    let separator = opt(opts, "separator");
    if !separator.truthy() {
        return fail("@flatten requires a \"separator\" key");
    }
    let Value::String(separator) = resolve(separator, payload)? else {
        return fail("@flatten requires a string separator");
    };
    let value = resolve(opt(opts, "value"), payload)?;
    let omit_arrays = opt(opts, "omitArrays").truthy();
    let mut out = Object::new();
    flatten_into(value, "", &separator, omit_arrays, &mut out);
    Ok(Value::Object(out))
}

/// `flattenObject(input, prefix, separator, ignoreArrays)` spread into `out`: objects (and
/// arrays unless `omit_arrays`) descended, a child's key `prefix + separator + key` or just
/// `key` when the prefix is empty; anything else a leaf under `prefix`. A later key overwrites
/// an earlier one in its place, as `{...acc, ...child}` does.
fn flatten_into(input: Value, prefix: &str, separator: &str, omit_arrays: bool, out: &mut Object) {
    let child_key = |key: &str| {
        if prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{prefix}{separator}{key}")
        }
    };
    match input {
        Value::Object(obj) => {
            for (k, v) in obj {
                flatten_into(v, &child_key(&k), separator, omit_arrays, out);
            }
        }
        Value::Array(items) if !omit_arrays => {
            for (i, v) in items.into_iter().enumerate() {
                flatten_into(v, &child_key(&i.to_string()), separator, omit_arrays, out);
            }
        }
        leaf => out.insert(prefix.to_owned(), leaf),
    }
}

fn json(opts: &Value, payload: &Value) -> Result<Value> {
    let Value::Object(opts) = opts else {
        return fail("@json requires an object with a \"value\" key");
    };
    let mode = opt(opts, "mode");
    if !mode.truthy() {
        return fail("@json requires a \"mode\" key");
    }
    let value = opt(opts, "value");
    if !value.truthy() {
        return fail("@json requires a \"value\" key");
    }
    let value = resolve(value, payload)?;
    Ok(match mode.as_str() {
        Some("encode") => value.to_json().map_or(Value::Undefined, Value::String),
        Some("decode") => match value {
            Value::String(s) => Value::parse(&s).unwrap_or(Value::String(s)),
            other => other,
        },
        _ => Value::Undefined,
    })
}

fn merge(opts: &Value, payload: &Value) -> Result<Value> {
    let Value::Object(opts) = opts else {
        return fail("@merge requires an object with an \"objects\" key and a \"direction\" key");
    };
    let direction = opt(opts, "direction");
    if !direction.truthy() {
        return fail("@merge requires a \"direction\" key");
    }
    let direction = resolve(direction, payload)?;
    let objects = opt(opts, "objects");
    if !objects.truthy() {
        return fail("@merge requires a \"objects\" key");
    }
    let Value::Array(objects) = objects else {
        let type_of = match objects {
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            _ => "object",
        };
        return fail(format!("@merge: expected opts.array, got {type_of}"));
    };
    let mut resolved = objects
        .iter()
        .map(|v| resolve(v, payload))
        .collect::<Result<Vec<_>>>()?;
    if direction.as_str() == Some("left") {
        resolved.reverse();
    }
    let mut out = Object::new();
    for source in resolved {
        assign(&mut out, source);
    }
    Ok(Value::Object(out))
}

/// `Object.assign(target, source)`: a source's own enumerable keys set in order (`undefined`
/// values too); a string gives its UTF-16 code units under index keys, an array its elements;
/// `null`, `undefined`, numbers and booleans give nothing; a `__proto__` key sets the target's
/// prototype instead of a key.
fn assign(target: &mut Object, source: Value) {
    match source {
        Value::Object(obj) => {
            for (k, v) in obj {
                if k != "__proto__" {
                    target.insert(k, v);
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.into_iter().enumerate() {
                target.insert(i.to_string(), v);
            }
        }
        Value::String(s) => {
            for (i, c) in js::utf16_units(&s).enumerate() {
                target.insert(i.to_string(), Value::String(c));
            }
        }
        Value::Undefined | Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn transform_directive(opts: &Value, payload: &Value) -> Result<Value> {
    let Value::Object(opts) = opts else {
        return fail("@transform requires an object with an \"apply\" key and a \"mapping\" key");
    };
    let mapping = opt(opts, "mapping");
    if !mapping.truthy() {
        return fail("@transform requires a \"mapping\" key");
    }
    let apply = opt(opts, "apply");
    if !apply.truthy() {
        return fail("@transform requires a \"apply\" key");
    }
    if !matches!(apply, Value::Object(_)) {
        return fail("@transform \"apply\" key should be an object");
    }
    let new_payload = transform_inner(apply, payload)?;
    resolve(mapping, &new_payload)
}

fn exclude_when_null(value: &Value, payload: &Value) -> Result<Value> {
    Ok(match resolve(value, payload)? {
        Value::Null => Value::Undefined,
        other => clean_nulls(other),
    })
}

/// `cleanNulls`: in a plain object, `null` values made `undefined` and nested plain objects
/// cleaned the same way; arrays and everything else left as they are.
fn clean_nulls(value: Value) -> Value {
    match value {
        Value::Object(obj) => Value::Object(
            obj.into_iter()
                .filter(|(k, _)| k != "__proto__")
                .map(|(k, v)| {
                    let v = match v {
                        Value::Null => Value::Undefined,
                        v @ Value::Object(_) => clean_nulls(v),
                        v => v,
                    };
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}
