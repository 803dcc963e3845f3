//! The few fields of an event the mapper reads, from JSON text or a typed [`Event`].

use std::borrow::Cow;
use std::fmt;

use segment_model::Event;
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::flatten::{FlatTraits, Flattened, Str, flatten};

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
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = ObjectOnly<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a Segment event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(ObjectOnly)
            }
        }
        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
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

/// What a JSON value is, for messages; consumes compound values.
struct Anything(&'static str);

impl<'de> Deserialize<'de> for Anything {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnythingVisitor)
    }
}

struct AnythingVisitor;

impl<'de> Visitor<'de> for AnythingVisitor {
    type Value = Anything;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Anything, E> {
        Ok(Anything("a boolean"))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Anything, E> {
        Ok(Anything("a number"))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Anything, E> {
        Ok(Anything("a number"))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Anything, E> {
        Ok(Anything("a number"))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Anything, E> {
        Ok(Anything("a string"))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Anything, E> {
        Ok(Anything("null"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Anything, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Anything("an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Anything, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Anything("an object"))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Id<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IdVisitor;
        impl<'de> Visitor<'de> for IdVisitor {
            type Value = Id<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a userId")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Id<'de>, E> {
                Ok(Id::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id<'de>, E> {
                Ok(Id::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Id<'de>, E> {
                Ok(Id::Number(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id<'de>, E> {
                Ok(Id::Number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Id<'de>, E> {
                // As JSON writes the number, like `Number`'s Display.
                Ok(Id::Number(
                    serde_json::Number::from_f64(v)
                        .map_or_else(|| v.to_string(), |n| n.to_string()),
                ))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Id<'de>, E> {
                Ok(Id::Absent)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Id<'de>, E> {
                Ok(Id::Invalid("a boolean"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Id<'de>, A::Error> {
                AnythingVisitor.visit_seq(seq).map(|a| Id::Invalid(a.0))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Id<'de>, A::Error> {
                AnythingVisitor.visit_map(map).map(|a| Id::Invalid(a.0))
            }
        }
        deserializer.deserialize_any(IdVisitor)
    }
}

/// `context`, read only for `personas` and `library.name`.
struct Context<'a>(Personas<'a>, Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Context<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ContextVisitor;
        impl<'de> Visitor<'de> for ContextVisitor {
            type Value = Context<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a context object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut personas = Personas::Absent;
                let mut library = None;
                while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
                    match key.as_ref() {
                        "personas" => personas = map.next_value::<Personas<'de>>()?,
                        "library" => library = map.next_value::<Library<'de>>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(Context(personas, library))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Context(Personas::Absent, None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Context(not_object("`context`", "a boolean"), None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Context(not_object("`context`", "a number"), None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Context(not_object("`context`", "a number"), None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Context(not_object("`context`", "a number"), None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Context(not_object("`context`", "a string"), None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                AnythingVisitor
                    .visit_seq(seq)
                    .map(|a| Context(not_object("`context`", a.0), None))
            }
        }
        deserializer.deserialize_any(ContextVisitor)
    }
}

fn not_object<'a>(what: &str, found: &str) -> Personas<'a> {
    Personas::Malformed(format!("{what} is {found}, not an object"))
}

impl<'de> Deserialize<'de> for Personas<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PersonasVisitor;
        impl<'de> Visitor<'de> for PersonasVisitor {
            type Value = Personas<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a personas object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut class = None;
                let mut key = None;
                while let Some(Str(field)) = map.next_key::<Str<'de>>()? {
                    let slot = match field.as_ref() {
                        "computation_class" => &mut class,
                        "computation_key" => &mut key,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    *slot = map.next_value::<Loose<'de>>()?.0;
                }
                Ok(Personas::Present { class, key })
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Personas::Absent)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(not_object("`context.personas`", "a boolean"))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(not_object("`context.personas`", "a number"))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(not_object("`context.personas`", "a number"))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(not_object("`context.personas`", "a number"))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(not_object("`context.personas`", "a string"))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                AnythingVisitor
                    .visit_seq(seq)
                    .map(|a| not_object("`context.personas`", a.0))
            }
        }
        deserializer.deserialize_any(PersonasVisitor)
    }
}

/// A string field that tolerates other types (read as absent).
struct Loose<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Loose<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LooseVisitor;
        impl<'de> Visitor<'de> for LooseVisitor {
            type Value = Loose<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Loose<'de>, E> {
                Ok(Loose(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose<'de>, E> {
                Ok(Loose(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Loose<'de>, E> {
                Ok(Loose(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Loose<'de>, E> {
                Ok(Loose(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Loose<'de>, E> {
                Ok(Loose(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Loose<'de>, E> {
                Ok(Loose(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Loose<'de>, E> {
                Ok(Loose(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Loose<'de>, A::Error> {
                AnythingVisitor.visit_seq(seq).map(|_| Loose(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Loose<'de>, A::Error> {
                AnythingVisitor.visit_map(map).map(|_| Loose(None))
            }
        }
        deserializer.deserialize_any(LooseVisitor)
    }
}

/// `context.library`, read only for `name`; tolerates any shape.
struct Library<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Library<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LibraryVisitor;
        impl<'de> Visitor<'de> for LibraryVisitor {
            type Value = Library<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a library object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut name = None;
                while let Some(Str(key)) = map.next_key::<Str<'de>>()? {
                    if key == "name" {
                        name = map.next_value::<Loose<'de>>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(Library(name))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                AnythingVisitor.visit_seq(seq).map(|_| Library(None))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Library(None))
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Library(None))
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Library(None))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Library(None))
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
                Ok(Library(None))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Library(None))
            }
        }
        deserializer.deserialize_any(LibraryVisitor)
    }
}
