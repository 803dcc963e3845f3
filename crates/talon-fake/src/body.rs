//! Typed request bodies: [`TalonJson<T>`] reads a body into a `#[derive(Deserialize)]` struct
//! and turns every failure into Talon.One's envelope, with `source.pointer` at the offending
//! field (`serde_path_to_error` tracks the path).
//!
//! An accepted body is parsed once, by serde_json alone, straight into its struct; a refused
//! one is read again with its path tracked, and as a `Value` (to tell "not JSON" from "not
//! this shape"). The hot path pays for neither.
//!
//! The rules, in order:
//! * a body that is not JSON at all is refused as such (invalid UTF-8, too deep, malformed),
//!   whatever a typed read met first;
//! * a body that is JSON but not an object: 400 `body.not_object` at `""`;
//! * a field the struct does not have (`deny_unknown_fields`): 400 `body.unknown_field`,
//!   pointer at the field;
//! * a required field that is absent: 400 `body.missing_field`, pointer at the field;
//! * a field of the wrong type or out of range, `null` for an optional field included
//!   ([`present`]), or given twice: 400 `body.invalid_field`, pointer at the field.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::error::ApiError;
use crate::extract::{Res, check_json_content_type, escape_pointer};
use crate::rule::Rule;
use crate::rules::kind_name;
use crate::state::Fake;

/// A JSON body read into `T`. Wrong content type (415), unreadable, invalid UTF-8, malformed or
/// too deeply nested JSON, and a body that does not fit `T` are refused in Talon.One's envelope.
pub(crate) struct TalonJson<T>(pub(crate) T);

impl<T: DeserializeOwned> FromRequest<Fake> for TalonJson<T> {
    type Rejection = ApiError;
    async fn from_request(req: Request, _: &Fake) -> Result<Self, ApiError> {
        check_json_content_type(req.headers())?;
        // The pipeline has read the body into one buffer (within the body limit).
        let bytes = crate::pipeline::one_buffer(req.into_body())
            .await
            .map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    Rule::BodyUnreadable,
                    "The request body could not be read",
                )
                .pointer("", "Unreadable body", e.to_string())
            })?;
        parse_body(&bytes).map(Self)
    }
}

/// Reads `bytes` into `T` by the rules of the module docs.
pub(crate) fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Res<T> {
    // The accepted body is read by serde_json alone: tracking the path costs a copy of every
    // key, so it is done only for a refused body, read again.
    match serde_json::from_slice::<Obj<T>>(bytes) {
        Ok(Obj(v)) => Ok(v),
        Err(e) if e.classify() != serde_json::error::Category::Data => Err(not_json(bytes, &e)),
        Err(_) => Err(refusal::<T>(bytes)),
    }
}

/// Why a body that is JSON does not fit `T`, read again with its path tracked.
fn refusal<T: DeserializeOwned>(bytes: &[u8]) -> ApiError {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let Err(err) = serde_path_to_error::deserialize::<_, Obj<T>>(&mut de) else {
        // Cannot happen (the same bytes failed above); refuse in the same words.
        return ApiError::bad_body(
            Rule::BodyInvalidField,
            "",
            "Invalid request body",
            "the request body does not fit this request".to_owned(),
        );
    };
    // A body that is not JSON is refused as such, even where a typed read failed earlier: on
    // this error path only, the whole body is read as a `Value` (the depth limit and UTF-8
    // checks of every string included, which skipping a value would not do).
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => misfit(&v, &err),
        Err(e) => not_json(bytes, &e),
    }
}

/// A struct read from a JSON object only. serde's derived structs also accept an array of
/// their fields in order (`["u1", {…}]`); Talon.One's request bodies are objects, so a
/// request type's struct is read as `Obj<T>` at the root ([`parse_body`]) and in every field
/// that holds one (`Vec<Obj<T>>`, `Option<Obj<T>>`).
#[derive(Debug)]
pub(crate) struct Obj<T>(pub(crate) T);

impl<T> std::ops::Deref for Obj<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjVisitor<T> {
            type Value = Obj<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Obj<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Obj)
            }
        }
        d.deserialize_map(ObjVisitor(std::marker::PhantomData))
    }
}

/// For `#[serde(default, deserialize_with = "present")]` on an `Option` field: absent is
/// `None`, but `null` is refused like any other value of the wrong type (Talon.One's schemas
/// do not declare these fields nullable).
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The body is not JSON: invalid UTF-8, nested too deeply, or malformed.
fn not_json(bytes: &[u8], e: &serde_json::Error) -> ApiError {
    // serde_json validates UTF-8 inside strings, and outside strings only ASCII is JSON, so a
    // successful parse implies valid UTF-8.
    let (rule, what) = if std::str::from_utf8(bytes).is_err() {
        (
            Rule::BodyInvalidUtf8,
            "the request body is not valid UTF-8".to_owned(),
        )
    } else if e.to_string().contains("recursion limit") {
        (
            Rule::BodyTooDeep,
            "the request body is nested too deeply (limit 127 levels)".to_owned(),
        )
    } else {
        (
            Rule::BodyMalformedJson,
            format!("the request body is not valid JSON: {e}"),
        )
    };
    ApiError::bad_body(rule, "", "Invalid request body", what)
}

/// The body is JSON but does not fit the request type.
fn misfit(body: &Value, err: &serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let mut pointer = String::new();
    for seg in err.path().iter() {
        use serde_path_to_error::Segment;
        pointer.push('/');
        match seg {
            Segment::Seq { index } => pointer.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&escape_pointer(key));
            }
            Segment::Unknown => pointer.push('?'),
        }
    }
    let full = err.inner().to_string();
    // serde_json appends the position; the pointer says where.
    let msg = full
        .rfind(" at line ")
        .map_or(full.as_str(), |i| &full[..i]);
    // The kind of value the pointer names, for the details.
    let found = || body.pointer(&pointer).map_or("something else", kind_name);
    if let Some(field) = between(msg, "missing field `", "`") {
        let pointer = format!("{pointer}/{}", escape_pointer(field));
        return ApiError::bad_body(
            Rule::BodyMissingField,
            &pointer,
            "Missing required field",
            format!("{pointer} is required"),
        );
    }
    if let Some(field) = between(msg, "duplicate field `", "`") {
        let pointer = format!("{pointer}/{}", escape_pointer(field));
        return ApiError::bad_body(
            Rule::BodyInvalidField,
            &pointer,
            "Duplicate field",
            format!("{pointer} is given more than once"),
        );
    }
    if let Some(field) = between(msg, "unknown field `", "`") {
        let expected = msg.split_once(", expected ").map_or("", |(_, e)| e);
        return ApiError::bad_body(
            Rule::BodyUnknownField,
            &pointer,
            "Unknown field",
            format!("{field:?} is not a field of this request; expected {expected}"),
        );
    }
    if pointer.is_empty() && msg.starts_with("invalid type") {
        return ApiError::bad_body(
            Rule::BodyNotObject,
            "",
            "Invalid request body",
            format!("the request body must be a JSON object, got {}", found()),
        );
    }
    let details = match msg.split_once(", expected ") {
        Some((_, expected)) if msg.starts_with("invalid type") => {
            format!("{pointer} must be {}, got {}", plain(expected), found())
        }
        _ => format!("{pointer}: {msg}"),
    };
    ApiError::bad_body(
        Rule::BodyInvalidField,
        &pointer,
        "Invalid field type",
        details,
    )
}

/// The text of `s` between `open` and the next `close`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let rest = s.split_once(open)?.1;
    rest.split_once(close).map(|(x, _)| x)
}

/// serde's name of an expected type in the words of the fake's other messages.
fn plain(expected: &str) -> &str {
    match expected {
        "a sequence" => "an array",
        "a map" | "an object" => "an object",
        "i64" | "u32" | "i32" | "u64" => "an integer",
        "a boolean" | "a string" => expected,
        e if e.starts_with("struct ") => "an object",
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorSource;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        #[serde(default, deserialize_with = "present")]
        items: Option<Vec<Obj<Inner>>>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    #[allow(dead_code)]
    struct Inner {
        audience_id: i64,
    }

    fn refusal(body: &str) -> (Rule, String, String) {
        let e = parse_body::<Outer>(body.as_bytes()).expect_err("refused");
        let ErrorSource::Pointer(p) = &e.errors[0].source else {
            panic!("a pointer: {e:?}");
        };
        (e.rule, p.clone(), e.errors[0].title.clone())
    }

    #[test]
    fn a_body_that_fits_is_read() {
        let v: Outer = parse_body(br#"{"name":"a","items":[{"audienceId":3}]}"#).expect("fits");
        assert_eq!(v.items.map(|i| i[0].audience_id), Some(3));
    }

    #[test]
    fn each_misfit_has_its_rule_pointer_and_title() {
        let cases = [
            (
                r#"{"nme":"a"}"#,
                Rule::BodyUnknownField,
                "/nme",
                "Unknown field",
            ),
            (
                r#"{}"#,
                Rule::BodyMissingField,
                "/name",
                "Missing required field",
            ),
            (
                r#"{"name":5}"#,
                Rule::BodyInvalidField,
                "/name",
                "Invalid field type",
            ),
            (
                r#"{"name":"a","items":null}"#,
                Rule::BodyInvalidField,
                "/items",
                "Invalid field type",
            ),
            (
                r#"{"name":"a","items":[{"audienceId":1.5}]}"#,
                Rule::BodyInvalidField,
                "/items/0/audienceId",
                "Invalid field type",
            ),
            (
                r#"{"name":"a","items":[{}]}"#,
                Rule::BodyMissingField,
                "/items/0/audienceId",
                "Missing required field",
            ),
            (
                r#"{"name":"a","items":[{"audienceId":1,"x~/y":2}]}"#,
                Rule::BodyUnknownField,
                "/items/0/x~0~1y",
                "Unknown field",
            ),
            (
                r#"["name"]"#,
                Rule::BodyNotObject,
                "",
                "Invalid request body",
            ),
        ];
        for (body, rule, pointer, title) in cases {
            assert_eq!(
                refusal(body),
                (rule, pointer.to_owned(), title.to_owned()),
                "{body}"
            );
        }
    }

    #[test]
    fn a_body_that_is_not_json_is_refused_as_such_whatever_came_first() {
        assert_eq!(refusal(r#"{"nme":"a","#).0, Rule::BodyMalformedJson);
        assert_eq!(refusal(r#"{"name":"a"} x"#).0, Rule::BodyMalformedJson);
        assert_eq!(
            refusal("{\"nme\":\"\u{FFFD}\"}\u{0}").0,
            Rule::BodyMalformedJson
        );
        let bad_utf8 = b"{\"name\":\"\xff\"}";
        let e = parse_body::<Outer>(bad_utf8).expect_err("refused");
        assert_eq!(e.rule, Rule::BodyInvalidUtf8);
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(refusal(&deep).0, Rule::BodyTooDeep);
    }

    #[test]
    fn a_wrong_type_is_explained_in_the_words_of_the_other_messages() {
        let e = parse_body::<Outer>(br#"{"name":"a","items":{}}"#).expect_err("refused");
        assert_eq!(e.errors[0].details, "/items must be an array, got object");
    }
}
