//! The line format of `talon-harness mapping eval|validate`: one NDJSON input line in, one JSON
//! output line out (no newline), serialised as `JSON.stringify` writes it so that the lines of
//! Segment's own code (`oracles/segment/eval.mjs`) compare byte for byte.
//!
//! - `eval`: `{"mapping": …, "payload": …}`, optionally with `"fields": …` (the action's field
//!   definitions; then destination-kit's payload pipeline runs on the result, as
//!   `Action.execute` does with `isRoot = true`). Out: `{"output": …}`, `{"absent": true}` when
//!   the result is JavaScript's `undefined`, or `{"error": "…"}` with Segment's message.
//!   A missing `payload` is `undefined`, which `transform` takes as `{}`.
//! - `validate`: `{"mapping": …}`. Out: `{"valid": true}` or `{"error": "…"}`.
//! - A line that is not JSON, not an object, or has no `mapping`: `{"error": "input: …"}`, a
//!   message of our own.

use crate::fields::Fields;
use crate::mapping::transform;
use crate::validate::validate;
use crate::value::{Object, Value};

/// One `mapping eval` line.
pub fn eval_line(line: &str) -> String {
    let input = match parse_input(line) {
        Ok(input) => input,
        Err(message) => return error_line(&message),
    };
    let mapping = input.get("mapping").unwrap_or(&Value::Undefined);
    let payload = input.get("payload").unwrap_or(&Value::Undefined);
    let result = transform(mapping, payload).map_err(|e| e.to_string());
    let result = match (result, input.get("fields")) {
        (Ok(output), Some(fields)) => clean(fields, output),
        (result, _) => result,
    };
    match result {
        Ok(Value::Undefined) => one("absent", Value::Bool(true)),
        Ok(output) => one("output", output),
        Err(message) => error_line(&message),
    }
}

/// One `mapping validate` line.
pub fn validate_line(line: &str) -> String {
    let input = match parse_input(line) {
        Ok(input) => input,
        Err(message) => return error_line(&message),
    };
    match validate(input.get("mapping").unwrap_or(&Value::Undefined)) {
        Ok(()) => one("valid", Value::Bool(true)),
        Err(e) => error_line(&e.to_string()),
    }
}

/// destination-kit's payload pipeline on a transform's result (`removeEmptyValues` with
/// `isRoot = true`, then the schema validation with Ajv's coercion and removal of undeclared
/// keys). Field definitions this crate cannot read are an `input:` error of our own.
fn clean(fields: &Value, output: Value) -> Result<Value, String> {
    // `"fields": null` is an action without fields, as the oracle reads it (`fields ?? {}`):
    // no schema, so `removeEmptyValues` leaves everything and nothing is validated.
    if matches!(fields, Value::Null) {
        return Ok(output);
    }
    let fields = Fields::parse(fields).map_err(|e| format!("input: fields: {e}"))?;
    fields.clean(output, true).map_err(|e| e.to_string())
}

fn parse_input(line: &str) -> Result<Object, String> {
    match Value::parse(line) {
        Err(e) => Err(format!("input: not JSON: {e}")),
        Ok(Value::Object(obj)) if obj.contains_key("mapping") => Ok(obj),
        Ok(Value::Object(_)) => Err("input: the line has no \"mapping\"".to_owned()),
        Ok(_) => Err("input: a line must be a JSON object".to_owned()),
    }
}

fn one(key: &str, value: Value) -> String {
    let mut obj = Object::new();
    obj.insert(key.to_owned(), value);
    Value::Object(obj).to_json().unwrap_or_default()
}

fn error_line(message: &str) -> String {
    one("error", Value::String(message.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_lines_give_output_absent_or_error() {
        assert_eq!(
            eval_line(
                r#"{"mapping":{"id":{"@path":"$.userId"},"n":1.0},"payload":{"userId":"u1"}}"#
            ),
            r#"{"output":{"id":"u1","n":1}}"#
        );
        assert_eq!(
            eval_line(r#"{"mapping":{"@path":"$.nope"},"payload":{}}"#),
            r#"{"absent":true}"#
        );
        assert_eq!(
            eval_line(r#"{"mapping":{"a":{"@template":false}},"payload":{}}"#),
            r#"{"error":"/a/@template should be a string or a mapping directive but it is a boolean."}"#
        );
        assert_eq!(
            eval_line(r#"{"mapping":{"a":1},"payload":[]}"#),
            r#"{"error":"data must be an object, got array"}"#
        );
        // No payload: JavaScript's default parameter, `{}`.
        assert_eq!(eval_line(r#"{"mapping":{"a":1}}"#), r#"{"output":{"a":1}}"#);
    }

    #[test]
    fn several_validation_errors_are_joined_by_one_space() {
        assert_eq!(
            eval_line(r#"{"mapping":{"a":{"@oops":1},"b":{"@path":2}},"payload":{}}"#),
            r#"{"error":"/a has an invalid directive: @oops. /b/@path should be a string or a mapping directive but it is a number."}"#
        );
    }

    #[test]
    fn validate_lines_give_valid_or_error() {
        assert_eq!(
            validate_line(r#"{"mapping":{"a":{"@path":"$.x"}}}"#),
            r#"{"valid":true}"#
        );
        assert_eq!(
            validate_line(r#"{"mapping":{"@if":"x"}}"#),
            r#"{"error":"/@if should be an object but it is a string."}"#
        );
        // validate, unlike transform, takes the mapping as it is: no spread, no root directive.
        assert_eq!(validate_line(r#"{"mapping":null}"#), r#"{"valid":true}"#);
    }

    #[test]
    fn bad_input_lines_give_an_input_error() {
        for line in ["not json", "[1]", r#"{"payload":{}}"#, ""] {
            for out in [eval_line(line), validate_line(line)] {
                assert!(out.starts_with(r#"{"error":"input: "#), "{line}: {out}");
            }
        }
    }

    #[test]
    fn with_fields_the_payload_pipeline_cleans_coerces_and_validates_the_result() {
        let fields = r#"{"customerProfileId":{"label":"Customer Profile ID","type":"string","required":true},"audienceIds":{"label":"Audience IDs","type":"integer","multiple":true}}"#;
        assert_eq!(
            eval_line(&format!(
                r#"{{"mapping":{{"customerProfileId":{{"@path":"$.userId"}},"audienceIds":{{"@path":"$.ids"}},"extra":1}},"payload":{{"userId":42,"ids":"7"}},"fields":{fields}}}"#
            )),
            r#"{"output":{"customerProfileId":"42","audienceIds":[7]}}"#
        );
        assert_eq!(
            eval_line(&format!(
                r#"{{"mapping":{{"customerProfileId":{{"@path":"$.userId"}}}},"payload":{{}},"fields":{fields}}}"#
            )),
            r#"{"error":"The root value is missing the required field 'customerProfileId'."}"#
        );
        assert!(
            eval_line(r#"{"mapping":{},"payload":{},"fields":{"a":{"type":7}}}"#)
                .starts_with(r#"{"error":"input: fields: "#)
        );
        // No fields (null or {}): no schema, the result passes through untouched.
        for fields in ["null", "{}"] {
            assert_eq!(
                eval_line(&format!(
                    r#"{{"mapping":{{"a":"","b":null}},"payload":{{}},"fields":{fields}}}"#
                )),
                r#"{"output":{"a":"","b":null}}"#,
                "{fields}"
            );
        }
    }
}
