//! mapping-kit's mapping validator (`packages/core/src/mapping-kit/validate.ts`), with Segment's
//! messages in Segment's order.
//!
//! Each message is `"/" + stack.join("/") + " " + text + "."`, the stack holding object keys,
//! directive names and option names, never array indices. Errors of sibling keys of an object,
//! and of a directive's option fields, are collected (Segment's `AggregateError`); any other
//! error stops validation where it is raised. [`ValidationErrors`] holds the messages in order
//! and displays them joined by one space.
//!
//! What validation does not catch (it is not meant to; the runtime throws or copes):
//! anything inside an array; raw objects directly under `@literal` or `@excludeWhenNull`;
//! unknown option keys (`pattern2`, `replacement2`, `blank`, …, though `blank`'s value is
//! validated as any value is); a missing `@if` condition, `@case.operator`, `@merge.direction`
//! or `@flatten.separator`; `@json.value: null`; case differences in `@json.mode` and
//! `@merge.direction` (compared ignoring case here, exactly at run time).

use crate::js;
use crate::value::{Object, Value};

/// The deepest mapping [`validate`] and [`crate::transform`] accept, in levels of arrays and
/// objects (a scalar is one level). Segment has no limit of its own short of the JavaScript
/// stack; this one keeps every walk far from Rust's.
pub const MAX_MAPPING_DEPTH: usize = 64;

/// A malformed mapping: Segment's `ValidationError` messages, in Segment's order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .messages.join(" "))]
pub struct ValidationErrors {
    /// The single messages (`/path text.`).
    pub messages: Vec<String>,
}

type Result = std::result::Result<(), Vec<String>>;

/// Validates a mapping as mapping-kit's `validate(mapping)` does. A mapping deeper than
/// [`MAX_MAPPING_DEPTH`] gives the one message `mapping nests deeper than 64 levels`.
pub fn validate(mapping: &Value) -> std::result::Result<(), ValidationErrors> {
    match checked(mapping) {
        Ok(()) => Ok(()),
        Err(Invalid::TooDeep) => Err(ValidationErrors {
            messages: vec![too_deep()],
        }),
        Err(Invalid::Errors(e)) => Err(e),
    }
}

/// Why [`checked`] refused a mapping.
pub(crate) enum Invalid {
    /// Deeper than [`MAX_MAPPING_DEPTH`].
    TooDeep,
    /// Segment's validation errors.
    Errors(ValidationErrors),
}

/// [`validate`], telling the depth limit apart from Segment's errors.
pub(crate) fn checked(mapping: &Value) -> std::result::Result<(), Invalid> {
    if js::deeper_than(mapping, MAX_MAPPING_DEPTH) {
        return Err(Invalid::TooDeep);
    }
    validate_at(mapping, &Path::ROOT)
        .map_err(|messages| Invalid::Errors(ValidationErrors { messages }))
}

/// The message for a mapping deeper than [`MAX_MAPPING_DEPTH`] (ours, not Segment's: it has no
/// `/` prefix).
pub(crate) fn too_deep() -> String {
    format!("mapping nests deeper than {MAX_MAPPING_DEPTH} levels")
}

fn error(text: impl AsRef<str>, stack: &Path<'_>) -> Vec<String> {
    vec![format!("/{} {}.", stack.render(), text.as_ref())]
}

/// Where validation is (Segment's `stack`), kept on the call stack: object keys, directive
/// names, option names.
#[derive(Clone, Copy)]
struct Path<'a>(Option<(&'a Path<'a>, &'a str)>);

impl<'a> Path<'a> {
    const ROOT: Path<'static> = Path(None);

    fn push(&'a self, key: &'a str) -> Path<'a> {
        Path(Some((self, key)))
    }

    /// `stack.join("/")`.
    fn render(&self) -> String {
        let mut keys = Vec::new();
        let mut at = self;
        while let Some((parent, key)) = at.0 {
            keys.push(key);
            at = parent;
        }
        keys.reverse();
        keys.join("/")
    }
}

fn article(type_name: &str) -> &'static str {
    match type_name.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => "an",
        _ => "a",
    }
}

fn a(type_name: &str) -> String {
    format!("{} {type_name}", article(type_name))
}

/// `realTypeOrDirective`: `directive` for an object with an `@`-prefixed key.
fn type_or_directive(v: &Value) -> &'static str {
    match v {
        Value::Object(obj) if obj.keys().any(|k| k.starts_with('@')) => "directive",
        _ => js::real_type_of(v),
    }
}

fn validate_at(mapping: &Value, stack: &Path<'_>) -> Result {
    match type_or_directive(mapping) {
        "directive" => validate_directive(mapping, stack),
        "object" => validate_object(mapping, stack),
        "array" => validate_array(mapping, stack),
        _ => Ok(()),
    }
}

fn validate_directive(v: &Value, stack: &Path<'_>) -> Result {
    let Value::Object(obj) = v else {
        let t = js::real_type_of(v);
        return Err(error(
            format!("should be a directive object but it is {}", a(t)),
            stack,
        ));
    };
    let directive_keys: Vec<&String> = obj.keys().filter(|k| k.starts_with('@')).collect();
    if directive_keys.len() > 1 {
        return Err(error(
            format!(
                "should only have one @-prefixed key but it has {} keys",
                directive_keys.len()
            ),
            stack,
        ));
    }
    if obj
        .keys()
        .any(|k| !k.starts_with('@') && k.as_str() != "_metadata")
    {
        return Err(error(
            format!(
                "should only have one @-prefixed key but it has {} keys",
                obj.len()
            ),
            stack,
        ));
    }
    let Some(name) = directive_keys.first().map(|k| k.as_str()) else {
        // Unreachable: a directive has an @-key. An object without one is a raw object.
        return validate_object(v, stack);
    };
    let value = obj.get(name).unwrap_or(&Value::Undefined);
    let inner = stack.push(name);
    let s = &inner;
    match name {
        "@if" => validate_fields(
            value,
            &[
                ("exists", Rule::Optional(validate_directive_or_raw)),
                ("then", Rule::Optional(validate_directive_or_raw)),
                ("else", Rule::Optional(validate_directive_or_raw)),
            ],
            s,
        ),
        "@case" => validate_fields(
            value,
            &[
                ("operator", Rule::Optional(validate_string)),
                ("value", Rule::Optional(validate_directive_or_string)),
            ],
            s,
        ),
        "@replace" => validate_fields(
            value,
            &[
                ("pattern", Rule::Required(validate_pattern)),
                ("replacement", Rule::Optional(validate_replacement)),
                ("value", Rule::Required(validate_directive_or_string)),
                ("ignorecase", Rule::Optional(validate_boolean)),
                ("global", Rule::Optional(validate_boolean)),
            ],
            s,
        ),
        "@arrayPath" => {
            validate_array(value, s)?;
            let items = match value {
                Value::Array(items) => items.as_slice(),
                _ => &[],
            };
            validate_directive_or_string(items.first().unwrap_or(&Value::Undefined), s)?;
            validate_at(items.get(1).unwrap_or(&Value::Undefined), s)
        }
        "@path" | "@template" => validate_directive_or_string(value, s),
        "@json" => validate_fields(
            value,
            &[
                ("value", Rule::Required(validate_directive_or_raw)),
                ("mode", Rule::Required(validate_json_mode)),
            ],
            s,
        ),
        "@flatten" => validate_fields(
            value,
            &[
                ("separator", Rule::Optional(validate_string)),
                ("value", Rule::Required(validate_directive_or_raw)),
            ],
            s,
        ),
        "@merge" => {
            validate_fields(
                value,
                &[
                    ("direction", Rule::Optional(validate_merge_direction)),
                    ("objects", Rule::Required(validate_array)),
                ],
                s,
            )?;
            // Segment validates each entry with an empty stack, and the first error stops.
            if let Some(Value::Array(objects)) = value.as_object().and_then(|o| o.get("objects")) {
                for obj in objects {
                    validate_directive_or_object(obj, &Path::ROOT)?;
                }
            }
            Ok(())
        }
        "@literal" | "@excludeWhenNull" => validate_directive_or_raw(value, s),
        "@transform" => validate_fields(
            value,
            &[
                ("apply", Rule::Required(validate_directive_or_object)),
                ("mapping", Rule::Required(validate_directive_or_object)),
            ],
            s,
        ),
        "@liquid" => validate_string(value, s),
        _ => Err(error(format!("has an invalid directive: {name}"), stack)),
    }
}

type Validator = fn(&Value, &Path<'_>) -> Result;

enum Rule {
    Required(Validator),
    Optional(Validator),
}

fn validate_directive_or_raw(v: &Value, stack: &Path<'_>) -> Result {
    match type_or_directive(v) {
        "directive" => validate_directive(v, stack),
        "object" | "array" | "boolean" | "string" | "number" | "null" => Ok(()),
        t => Err(error(
            format!(
                "should be a mapping directive or a JSON value but it is {}",
                a(t)
            ),
            stack,
        )),
    }
}

fn validate_directive_or_string(v: &Value, stack: &Path<'_>) -> Result {
    match type_or_directive(v) {
        "directive" => validate_directive(v, stack),
        "string" => Ok(()),
        t => Err(error(
            format!(
                "should be a string or a mapping directive but it is {}",
                a(t)
            ),
            stack,
        )),
    }
}

fn validate_directive_or_object(v: &Value, stack: &Path<'_>) -> Result {
    match type_or_directive(v) {
        "directive" => validate_directive(v, stack),
        "object" => validate_object(v, stack),
        t => Err(error(
            format!(
                "should be a object or a mapping directive but it is {}",
                a(t)
            ),
            stack,
        )),
    }
}

fn validate_string(v: &Value, stack: &Path<'_>) -> Result {
    match type_or_directive(v) {
        "string" => Ok(()),
        t => Err(error(
            format!("should be a string but it is {}", a(t)),
            stack,
        )),
    }
}

fn validate_length(v: &Value, min: usize, max: usize, stack: &Path<'_>) -> Result {
    if let Value::String(s) = v {
        let len = js::utf16_len(s);
        if len < min {
            return Err(error(
                format!("should be a string of length {min} or greater"),
                stack,
            ));
        }
        if len > max {
            return Err(error(
                format!("should be a string of length {max} or less"),
                stack,
            ));
        }
    }
    Ok(())
}

fn validate_pattern(v: &Value, stack: &Path<'_>) -> Result {
    validate_string(v, stack)?;
    validate_length(v, 1, crate::directives::MAX_PATTERN_LENGTH, stack)
}

fn validate_replacement(v: &Value, stack: &Path<'_>) -> Result {
    validate_string(v, stack)?;
    validate_length(v, 0, crate::directives::MAX_REPLACEMENT_LENGTH, stack)
}

fn validate_allowed(v: &Value, allowed: &[&str], stack: &Path<'_>) -> Result {
    validate_string(v, stack)?;
    let s = v.as_str().unwrap_or_default();
    if allowed.contains(&s.to_lowercase().as_str()) {
        return Ok(());
    }
    let quoted = Value::String(s.to_owned()).to_json().unwrap_or_default();
    Err(error(
        format!("should be one of {} but it is {quoted}", allowed.join(", ")),
        stack,
    ))
}

fn validate_json_mode(v: &Value, stack: &Path<'_>) -> Result {
    validate_allowed(v, &["encode", "decode"], stack)
}

fn validate_merge_direction(v: &Value, stack: &Path<'_>) -> Result {
    validate_allowed(v, &["left", "right"], stack)
}

fn validate_boolean(v: &Value, stack: &Path<'_>) -> Result {
    match type_or_directive(v) {
        "boolean" => Ok(()),
        t => Err(error(
            format!("should be a boolean but it is {}", a(t)),
            stack,
        )),
    }
}

fn validate_object(v: &Value, stack: &Path<'_>) -> Result {
    let t = type_or_directive(v);
    let Value::Object(obj) = v else {
        return Err(error(
            format!("should be an object but it is {}", a(t)),
            stack,
        ));
    };
    if t != "object" {
        return Err(error(
            format!("should be an object but it is {}", a(t)),
            stack,
        ));
    }
    let mut errors = Vec::new();
    for (k, value) in obj.iter() {
        if let Err(e) = validate_at(value, &stack.push(k)) {
            errors.extend(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn validate_fields(v: &Value, fields: &[(&str, Rule)], stack: &Path<'_>) -> Result {
    validate_object(v, stack)?;
    let obj = v.as_object().map_or_else(Object::new, Clone::clone);
    let mut errors = Vec::new();
    for (prop, rule) in fields {
        let value = obj.get(prop).filter(|v| !v.is_undefined());
        let outcome = match (rule, value) {
            (Rule::Required(_), None) => Err(error(
                format!("should have field \"{prop}\" but it doesn't"),
                stack,
            )),
            (Rule::Required(check) | Rule::Optional(check), Some(value)) => {
                check(value, &stack.push(prop))
            }
            (Rule::Optional(_), None) => Ok(()),
        };
        if let Err(e) = outcome {
            errors.extend(e);
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn validate_array(v: &Value, stack: &Path<'_>) -> Result {
    match v {
        Value::Array(_) => Ok(()),
        _ => {
            let t = js::real_type_of(v);
            Err(error(
                format!("should be an array but it is {}", a(t)),
                stack,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(json: &str) -> Vec<String> {
        match validate(&Value::parse(json).expect("json")) {
            Ok(()) => Vec::new(),
            Err(e) => e.messages,
        }
    }

    #[test]
    fn a_valid_mapping_has_no_messages() {
        for json in [
            r#"{"a":{"@path":"$.a"},"b":"x","c":[{"@oops":1}],"d":null}"#,
            r#"{"@if":{"exists":{"@path":"$.a"},"else":"x"}}"#,
            r#"{"@replace":{"pattern":"aaabbbcccd","value":"x"}}"#,
            r#"{"@literal":{"a":{"@oops":1}}}"#,
            r#"{"@path":"$.a","_metadata":{"label":"x"}}"#,
            r#""raw string""#,
            "[1, {\"@x\": 1}]",
        ] {
            assert_eq!(messages(json), Vec::<String>::new(), "{json}");
        }
    }

    #[test]
    fn messages_match_segments_fixtures() {
        assert_eq!(
            messages(r#"{"@path":true}"#),
            ["/@path should be a string or a mapping directive but it is a boolean."]
        );
        assert_eq!(
            messages(r#"{"@path":"a","@template":"b"}"#),
            ["/ should only have one @-prefixed key but it has 2 keys."]
        );
        assert_eq!(
            messages(r#"{"@path":"a","_metadata":{},"k":1}"#),
            ["/ should only have one @-prefixed key but it has 3 keys."]
        );
        assert_eq!(
            messages(r#"{"x":{"@oops":1}}"#),
            ["/x has an invalid directive: @oops."]
        );
        assert_eq!(
            messages(r#"{"@arrayPath":"x"}"#),
            ["/@arrayPath should be an array but it is a string."]
        );
        assert_eq!(
            messages(r#"{"@arrayPath":[]}"#),
            ["/@arrayPath should be a string or a mapping directive but it is an undefined."]
        );
        assert_eq!(
            messages(r#"{"@arrayPath":["$.a",{"v":{"@oops":1}}]}"#),
            ["/@arrayPath/v has an invalid directive: @oops."]
        );
    }

    #[test]
    fn sibling_errors_are_collected_in_key_order() {
        assert_eq!(
            messages(
                r#"{"obj":{"@path":"a","@template":"b"},"hash":{"@template":{}},"ok":{"@path":"x"}}"#
            ),
            [
                "/obj should only have one @-prefixed key but it has 2 keys.",
                "/hash/@template should be a string or a mapping directive but it is an object."
            ]
        );
    }

    #[test]
    fn option_fields_are_checked_after_every_option_value_validates() {
        assert_eq!(
            messages(r#"{"@replace":{"value":1,"global":"yes","pattern":"abcdefghijk"}}"#),
            [
                "/@replace/pattern should be a string of length 10 or less.",
                "/@replace/value should be a string or a mapping directive but it is a number.",
                "/@replace/global should be a boolean but it is a string."
            ]
        );
        assert_eq!(
            messages(r#"{"@replace":{"value":"x"}}"#),
            ["/@replace should have field \"pattern\" but it doesn't."]
        );
        assert_eq!(
            messages(r#"{"@replace":{"pattern":"","value":"x","replacement":null}}"#),
            [
                "/@replace/pattern should be a string of length 1 or greater.",
                "/@replace/replacement should be a string but it is a null."
            ]
        );
        // The generic pass reports the bad directive under `blank` and stops there.
        assert_eq!(
            messages(r#"{"@if":{"blank":{"@oops":1},"then":{"@path":1}}}"#),
            [
                "/@if/blank has an invalid directive: @oops.",
                "/@if/then/@path should be a string or a mapping directive but it is a number."
            ]
        );
    }

    #[test]
    fn directive_specific_messages() {
        assert_eq!(
            messages(r#"{"@if":"x"}"#),
            ["/@if should be an object but it is a string."]
        );
        assert_eq!(
            messages(r#"{"@case":{"operator":1,"value":2}}"#),
            [
                "/@case/operator should be a string but it is a number.",
                "/@case/value should be a string or a mapping directive but it is a number."
            ]
        );
        assert_eq!(
            messages(r#"{"neat":{"@json":{"mode":"oops","value":1}}}"#),
            ["/neat/@json/mode should be one of encode, decode but it is \"oops\"."]
        );
        assert_eq!(
            messages(r#"{"@json":{"mode":"ENCODE","value":null}}"#),
            Vec::<String>::new()
        );
        assert_eq!(
            messages(r#"{"@merge":{"objects":{}}}"#),
            ["/@merge/objects should be an array but it is an object."]
        );
        assert_eq!(
            messages(r#"{"@merge":{"objects":[{},1,"x"],"direction":"right"}}"#),
            ["/ should be a object or a mapping directive but it is a number."]
        );
        assert_eq!(
            messages(r#"{"@merge":{"objects":[],"direction":{"@path":"x"}}}"#),
            ["/@merge/direction should be a string but it is a directive."]
        );
        assert_eq!(
            messages(r#"{"@merge":{"objects":[],"direction":"up"}}"#),
            ["/@merge/direction should be one of left, right but it is \"up\"."]
        );
        assert_eq!(
            messages(r#"{"@transform":{"@path":{}}}"#),
            ["/@transform should be an object but it is a directive."]
        );
        assert_eq!(
            messages(r#"{"@transform":{"apply":1}}"#),
            [
                "/@transform/apply should be a object or a mapping directive but it is a number.",
                "/@transform should have field \"mapping\" but it doesn't."
            ]
        );
        assert_eq!(
            messages(r#"{"field":{"@liquid":5}}"#),
            ["/field/@liquid should be a string but it is a number."]
        );
        assert_eq!(
            messages(r#"{"@flatten":{"separator":{"@path":"x"},"value":1}}"#),
            ["/@flatten/separator should be a string but it is a directive."]
        );
        assert_eq!(
            messages(r#"{"@Path":"x"}"#),
            ["/ has an invalid directive: @Path."]
        );
    }

    #[test]
    fn a_too_deep_mapping_is_an_error_of_its_own() {
        let deep = format!("{}1{}", "[".repeat(70), "]".repeat(70));
        assert_eq!(messages(&deep), [too_deep()]);
    }
}
