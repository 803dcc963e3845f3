//! The few fields of an event the mapper reads, from JSON text or a typed [`Event`].
//!
//! From JSON text, [`View::from_json`] reads only those fields, borrowing
//! strings from the input and flattening `traits` while it parses; every
//! other field is skipped unread. It does not build a
//! [`serde_json::Value`] first: a `Value` allocates every string, object
//! and array of the event, and the map benchmark
//! (`cargo bench -p talon-mapper --bench map`) puts the whole mapper at
//! about 1.5× a bare `Value` parse-and-serialize round trip of the same
//! events; building a `Value` would cost the mapper that margin. Each field
//! is one [`Read`] (what it makes of each JSON type) behind the one visitor
//! in [`crate::lenient`].

use std::borrow::Cow;
use std::marker::PhantomData;

use segment_model::Event;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess};

use crate::flatten::{FlatTraits, Flattened, Scalar, flatten};
use crate::lenient::{Lenient, Read, Str, entries, skip};

/// The fields of one event that decide its mapping.
#[derive(Debug)]
pub(crate) struct View<'a> {
    /// `type`; `None` when absent.
    pub(crate) kind: Option<Cow<'a, str>>,
    pub(crate) user_id: Id<'a>,
    pub(crate) personas: Personas<'a>,
    pub(crate) traits: Option<Flattened<'a>>,
    /// The client-side library or channel the event came from, if any.
    pub(crate) client_side: Option<&'static str>,
}

/// Segment's client-side (browser and mobile) libraries, by `context.library.name`.
const CLIENT_LIBRARIES: &[&str] = &[
    "analytics.js",
    "analytics-next",
    "@segment/analytics-next",
    "analytics-ios",
    "analytics-android",
    "analytics-swift",
    "analytics-kotlin",
    "analytics-react-native",
    "analytics-flutter",
];

/// Whether an event came from a client-side source: its library is a
/// browser or mobile library, or its `channel` is `browser` or `mobile`.
fn client_side(library: Option<&str>, channel: Option<&str>) -> Option<&'static str> {
    if let Some(known) = library.and_then(|name| CLIENT_LIBRARIES.iter().find(|l| **l == name)) {
        return Some(known);
    }
    match channel {
        Some("browser") => Some("channel browser"),
        Some("mobile") => Some("channel mobile"),
        _ => None,
    }
}

/// `userId` as it came.
#[derive(Debug, Default)]
pub(crate) enum Id<'a> {
    /// Absent or `null`.
    #[default]
    Absent,
    /// A string.
    Str(Cow<'a, str>),
    /// A number, as its decimal string.
    Number(String),
    /// Any other JSON type.
    Invalid(&'static str),
}

/// `context.personas`, leniently read.
#[derive(Debug, Default)]
pub(crate) enum Personas<'a> {
    /// No `context.personas`.
    #[default]
    Absent,
    /// Present; its class and key when they are strings.
    Present {
        class: Option<Cow<'a, str>>,
        key: Option<Cow<'a, str>>,
    },
    /// Present but unusable (not an object, or `context` not an object).
    Malformed(String),
}

impl<'a> View<'a> {
    pub(crate) fn from_json(json: &'a [u8]) -> Result<Self, serde_json::Error> {
        // Validating the whole line at once is faster than serde_json's
        // per-string checks; invalid UTF-8 goes to the slice reader, whose
        // error says where.
        let ObjectOnly(raw) = match std::str::from_utf8(json) {
            Ok(text) => serde_json::from_str::<ObjectOnly<RawEvent<'a>>>(text)?,
            Err(_) => serde_json::from_slice::<ObjectOnly<RawEvent<'a>>>(json)?,
        };
        let (personas, library) = raw.context.map(|c| (c.0, c.1)).unwrap_or_default();
        Ok(Self {
            kind: raw.kind.map(|s| s.0),
            user_id: raw.user_id.unwrap_or_default(),
            personas,
            traits: raw.traits.map(|t| t.0),
            client_side: client_side(library.as_deref(), raw.channel.and_then(|c| c.0).as_deref()),
        })
    }

    pub(crate) fn from_event(event: &'a Event) -> Self {
        let user_id = match &event.user_id {
            None => Id::Absent,
            Some(segment_model::UserId::String(s)) => Id::Str(Cow::Borrowed(s)),
            Some(segment_model::UserId::Number(n)) => Id::Number(n.to_string()),
        };
        let personas = match event.personas() {
            None => Personas::Absent,
            Some(p) => Personas::Present {
                class: p.computation_class.as_deref().map(Cow::Borrowed),
                key: p.computation_key.as_deref().map(Cow::Borrowed),
            },
        };
        let library = event
            .context
            .as_ref()
            .and_then(|c| c.library.as_ref())
            .and_then(|l| l.get("name"))
            .and_then(serde_json::Value::as_str);
        let channel = event
            .other
            .get("channel")
            .and_then(serde_json::Value::as_str);
        Self {
            kind: Some(Cow::Borrowed(event.kind.as_str())),
            user_id,
            personas,
            traits: event.traits.as_ref().map(flatten),
            client_side: client_side(library, channel),
        }
    }
}

/// Accepts only a JSON object (a derived struct would also take an array
/// of its fields in order).
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        EventObject(PhantomData).read(deserializer)
    }
}

struct EventObject<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Read<'de> for EventObject<T> {
    type Value = ObjectOnly<T>;
    const EXPECTING: &'static str = "a Segment event object";

    fn read<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(Lenient(self))
    }

    fn object<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(ObjectOnly)
    }
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(rename = "type", borrow, default)]
    kind: Option<Str<'a>>,
    #[serde(rename = "userId", borrow, default)]
    user_id: Option<Id<'a>>,
    #[serde(borrow, default)]
    traits: Option<FlatTraits<'a>>,
    #[serde(borrow, default)]
    context: Option<Context<'a>>,
    #[serde(borrow, default)]
    channel: Option<Loose<'a>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Id<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        UserId.read(deserializer)
    }
}

/// `userId`: a string, or a number as its decimal string; `null` is
/// absent; any other type is invalid.
struct UserId;

impl<'de> Read<'de> for UserId {
    type Value = Id<'de>;
    const EXPECTING: &'static str = "a userId";

    fn scalar<E: de::Error>(self, scalar: Scalar<'de>) -> Result<Id<'de>, E> {
        Ok(match scalar {
            Scalar::String(s) => Id::Str(s),
            Scalar::Int(n) => Id::Number(n.to_string()),
            Scalar::UInt(n) => Id::Number(n.to_string()),
            // As JSON writes the number, like `Number`'s Display.
            Scalar::Float(v) => Id::Number(
                serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
            ),
            Scalar::Bool(_) => Id::Invalid(scalar.json_type()),
        })
    }

    fn null<E: de::Error>(self) -> Result<Id<'de>, E> {
        Ok(Id::Absent)
    }

    fn other<E: de::Error>(self, found: &'static str) -> Result<Id<'de>, E> {
        Ok(Id::Invalid(found))
    }
}

/// `context`, read only for `personas` and `library.name`.
struct Context<'a>(Personas<'a>, Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Context<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ContextField.read(deserializer)
    }
}

/// `context`: an object; `null` is absent; any other type makes
/// `personas` malformed.
struct ContextField;

impl<'de> Read<'de> for ContextField {
    type Value = Context<'de>;
    const EXPECTING: &'static str = "a context object";

    fn object<A: MapAccess<'de>>(self, map: A) -> Result<Context<'de>, A::Error> {
        let mut context = Context(Personas::Absent, None);
        entries(map, |key, map| match key.as_ref() {
            "personas" => map
                .next_value_seed(Lenient(PersonasField))
                .map(|personas| context.0 = personas),
            "library" => map
                .next_value_seed(Lenient(LibraryName))
                .map(|name| context.1 = name),
            _ => skip(map),
        })?;
        Ok(context)
    }

    fn null<E: de::Error>(self) -> Result<Context<'de>, E> {
        Ok(Context(Personas::Absent, None))
    }

    fn other<E: de::Error>(self, found: &'static str) -> Result<Context<'de>, E> {
        Ok(Context(not_object("`context`", found), None))
    }
}

fn not_object<'a>(what: &str, found: &str) -> Personas<'a> {
    Personas::Malformed(format!("{what} is {found}, not an object"))
}

/// `context.personas`: an object, read for its class and key; `null` is
/// absent; any other type is malformed.
struct PersonasField;

impl<'de> Read<'de> for PersonasField {
    type Value = Personas<'de>;
    const EXPECTING: &'static str = "a personas object";

    fn object<A: MapAccess<'de>>(self, map: A) -> Result<Personas<'de>, A::Error> {
        let (mut class, mut key) = (None, None);
        entries(map, |field, map| {
            let slot = match field.as_ref() {
                "computation_class" => &mut class,
                "computation_key" => &mut key,
                _ => return skip(map),
            };
            *slot = map.next_value_seed(Lenient(LooseStr))?;
            Ok(())
        })?;
        Ok(Personas::Present { class, key })
    }

    fn null<E: de::Error>(self) -> Result<Personas<'de>, E> {
        Ok(Personas::Absent)
    }

    fn other<E: de::Error>(self, found: &'static str) -> Result<Personas<'de>, E> {
        Ok(not_object("`context.personas`", found))
    }
}

/// `context.library`, read only for `name`; tolerates any shape.
struct LibraryName;

impl<'de> Read<'de> for LibraryName {
    type Value = Option<Cow<'de, str>>;
    const EXPECTING: &'static str = "a library object";

    fn object<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let mut name = None;
        entries(map, |key, map| {
            if key == "name" {
                name = map.next_value_seed(Lenient(LooseStr))?;
                Ok(())
            } else {
                skip(map)
            }
        })?;
        Ok(name)
    }

    fn other<E: de::Error>(self, _: &'static str) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// A string field that tolerates other types (read as absent).
struct Loose<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        LooseStr.read(deserializer).map(Loose)
    }
}

/// A string, or `None` for any other type.
struct LooseStr;

impl<'de> Read<'de> for LooseStr {
    type Value = Option<Cow<'de, str>>;
    const EXPECTING: &'static str = "any JSON value";

    fn scalar<E: de::Error>(self, scalar: Scalar<'de>) -> Result<Self::Value, E> {
        Ok(match scalar {
            Scalar::String(s) => Some(s),
            _ => None,
        })
    }

    fn other<E: de::Error>(self, _: &'static str) -> Result<Self::Value, E> {
        Ok(None)
    }
}
