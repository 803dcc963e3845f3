//! The lenient parser's one serde visitor.
//!
//! Every field the mapper reads from JSON text takes some JSON types and
//! tolerates the rest. [`Read`] says, once per field, what it makes of a
//! scalar, `null`, an array and an object (and, by default, of any type it
//! does not take); [`Lenient`] is the one [`Visitor`] that turns serde's
//! dozen `visit_*` calls into those few. Why the mapper reads fields this
//! way rather than building a [`serde_json::Value`]: see `view`.

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor,
};

use crate::flatten::Scalar;

/// How one field reads a JSON value. `self` carries what the field needs
/// while it reads (a builder, a key), or nothing.
pub(crate) trait Read<'de>: Sized {
    /// What the field becomes.
    type Value;

    /// What the field expects, for serde's messages.
    const EXPECTING: &'static str;

    /// Reads one value. By default with `deserialize_any`; a strict field
    /// asks for its one type, so that the parser's error names it.
    fn read<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(Lenient(self))
    }

    /// A string (see [`Read::string`]), number or boolean.
    fn scalar<E: de::Error>(self, scalar: Scalar<'de>) -> Result<Self::Value, E> {
        self.other(scalar.json_type())
    }

    /// A string, borrowed from the input when it has no escapes; by
    /// default a [`Scalar::String`]. A field that takes only strings says
    /// so here, which keeps the hottest path (every key) free of the
    /// scalar's match.
    fn string<E: de::Error>(self, s: Cow<'de, str>) -> Result<Self::Value, E> {
        self.scalar(Scalar::String(s))
    }

    /// `null`.
    fn null<E: de::Error>(self) -> Result<Self::Value, E> {
        self.other("null")
    }

    /// An array; by default skipped.
    fn array<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        self.other("an array")
    }

    /// An object; by default skipped.
    fn object<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        self.other("an object")
    }

    /// A value the methods above leave to it, by its JSON type as a phrase
    /// for messages (`a boolean`, `a number`, `a string`, `null`,
    /// `an array`, `an object`), an array's or object's contents already
    /// skipped. By default an error, as serde's own visitors give.
    fn other<E: de::Error>(self, found: &'static str) -> Result<Self::Value, E> {
        Err(E::invalid_type(Unexpected::Other(found), &Self::EXPECTING))
    }
}

/// The one visitor (and seed) of every [`Read`].
pub(crate) struct Lenient<R>(pub(crate) R);

impl<'de, R: Read<'de>> DeserializeSeed<'de> for Lenient<R> {
    type Value = R::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<R::Value, D::Error> {
        self.0.read(deserializer)
    }
}

impl<'de, R: Read<'de>> Visitor<'de> for Lenient<R> {
    type Value = R::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(R::EXPECTING)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<R::Value, E> {
        self.0.scalar(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<R::Value, E> {
        self.0.scalar(if v >= 0 {
            Scalar::UInt(v.unsigned_abs())
        } else {
            Scalar::Int(v)
        })
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<R::Value, E> {
        self.0.scalar(Scalar::UInt(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<R::Value, E> {
        self.0.scalar(Scalar::Float(v))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<R::Value, E> {
        self.0.string(Cow::Borrowed(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<R::Value, E> {
        self.0.string(Cow::Owned(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<R::Value, E> {
        self.0.string(Cow::Owned(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<R::Value, E> {
        self.0.null()
    }

    fn visit_none<E: de::Error>(self) -> Result<R::Value, E> {
        self.0.null()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<R::Value, A::Error> {
        self.0.array(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<R::Value, A::Error> {
        self.0.object(map)
    }
}

/// Reads an object's entries: gives `entry` each key and the map to read
/// its value from (it must read or skip it); returns how many there were.
pub(crate) fn entries<'de, A: MapAccess<'de>>(
    mut map: A,
    mut entry: impl FnMut(Cow<'de, str>, &mut A) -> Result<(), A::Error>,
) -> Result<usize, A::Error> {
    let mut count = 0;
    while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
        count += 1;
        entry(key, &mut map)?;
    }
    Ok(count)
}

/// Skips the value of the entry whose key [`entries`] just gave.
pub(crate) fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

/// A string that borrows from the input when it has no escapes; any other
/// type is the parser's error.
pub(crate) struct Str<'de>(pub(crate) Cow<'de, str>);

impl<'de: 'a, 'a> de::Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        StrField.read(deserializer)
    }
}

struct StrField;

impl<'de> Read<'de> for StrField {
    type Value = Str<'de>;
    const EXPECTING: &'static str = "a string";

    fn read<D: Deserializer<'de>>(self, deserializer: D) -> Result<Str<'de>, D::Error> {
        deserializer.deserialize_str(Lenient(self))
    }

    fn string<E: de::Error>(self, s: Cow<'de, str>) -> Result<Str<'de>, E> {
        Ok(Str(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Says which hook a value reached, and with what.
    struct Probe;

    impl<'de> Read<'de> for Probe {
        type Value = String;
        const EXPECTING: &'static str = "anything";

        fn other<E: de::Error>(self, found: &'static str) -> Result<String, E> {
            Ok(format!("other {found}"))
        }
    }

    /// Takes only strings, leaving the rest to the default.
    struct StrictStr;

    impl<'de> Read<'de> for StrictStr {
        type Value = Cow<'de, str>;
        const EXPECTING: &'static str = "a string";

        fn scalar<E: de::Error>(self, scalar: Scalar<'de>) -> Result<Cow<'de, str>, E> {
            match scalar {
                Scalar::String(s) => Ok(s),
                other => self.other(other.json_type()),
            }
        }
    }

    fn probe(json: &str) -> String {
        let mut de = serde_json::Deserializer::from_str(json);
        Probe.read(&mut de).unwrap_or_else(|e| format!("error {e}"))
    }

    #[test]
    fn every_json_type_reaches_other_with_its_phrase_by_default() {
        let found: Vec<String> = [
            "true",
            "-1",
            "1",
            "1.5",
            r#""s""#,
            "null",
            "[1,[2]]",
            r#"{"a":{"b":1}}"#,
        ]
        .iter()
        .map(|json| probe(json))
        .collect();
        assert_eq!(
            found,
            [
                "other a boolean",
                "other a number",
                "other a number",
                "other a number",
                "other a string",
                "other null",
                "other an array",
                "other an object",
            ]
        );
    }

    #[test]
    fn a_skipped_array_or_object_is_read_to_its_end() {
        let mut de = serde_json::Deserializer::from_str(r#"[[1,{"a":[2]}],3] "#);
        assert_eq!(Probe.read(&mut de).ok().as_deref(), Some("other an array"));
        assert!(de.end().is_ok(), "the whole array was consumed");
    }

    #[test]
    fn strings_without_escapes_are_borrowed_and_with_escapes_owned() {
        let mut de = serde_json::Deserializer::from_str(r#""plain""#);
        assert!(matches!(
            StrictStr.read(&mut de),
            Ok(Cow::Borrowed("plain"))
        ));
        let mut de = serde_json::Deserializer::from_str(r#""a\nb""#);
        assert!(matches!(StrictStr.read(&mut de), Ok(Cow::Owned(s)) if s == "a\nb"));
    }

    #[test]
    fn a_type_the_reader_does_not_take_is_an_error_naming_what_it_expects() {
        let mut de = serde_json::Deserializer::from_str("true");
        let error = StrictStr.read(&mut de).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("invalid type: a boolean, expected a string at line 1 column 4")
        );
    }

    #[test]
    fn a_key_is_a_str_and_a_non_string_type_field_is_the_parsers_error() {
        let key: Result<Str<'_>, _> = serde_json::from_str(r#""type""#);
        assert_eq!(key.ok().map(|Str(s)| s).as_deref(), Some("type"));
        let error = serde_json::from_str::<Str<'_>>("5")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("invalid type: integer `5`, expected a string at line 1 column 1")
        );
    }
}
