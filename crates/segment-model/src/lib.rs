//! Segment Spec event types: the payloads a Segment destination receives.
//!
//! One [`Event`] struct covers the six Spec calls (`identify`, `track`,
//! `page`, `screen`, `group`, `alias`); the fields each call uses are
//! optional, and every field this model does not name is kept in
//! [`Event::other`] (or [`Context::other`]) instead of being rejected or
//! lost, so an event read and written again keeps its content.
//!
//! ```
//! use segment_model::{Event, EventType};
//!
//! let event: Event = serde_json::from_str(
//!     r#"{"type":"identify","userId":"u1","traits":{"email":"a@b.c"},"writeKey":"k"}"#,
//! )?;
//! assert_eq!(event.kind, EventType::Identify);
//! assert_eq!(event.user_id.as_ref().map(|id| id.to_string()).as_deref(), Some("u1"));
//! assert!(event.other.contains_key("writeKey"));
//! # Ok::<(), serde_json::Error>(())
//! ```

pub mod engage;
#[cfg(feature = "arbitrary")]
pub mod shapes;
#[cfg(feature = "arbitrary")]
pub mod tree;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

pub use engage::{ComputationClass, Personas};

/// The fuzzing side (`tree`, `shapes`) is compiled only with the `arbitrary`
/// feature: without it, this doc test exists and fails if either is built.
#[cfg_attr(
    not(feature = "arbitrary"),
    doc = "```compile_fail\nuse segment_model::tree::TraitsTree;\n```\n\n```compile_fail\nuse segment_model::shapes::traits_tree;\n```"
)]
const _FUZZING_SIDE_ONLY_WITH_THE_ARBITRARY_FEATURE: () = ();

/// One Segment Spec call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// `type`: which call this is.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// `userId`: the logged-in user, when known.
    #[serde(rename = "userId", default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    /// `anonymousId`: the device or browser, before login.
    #[serde(
        rename = "anonymousId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub anonymous_id: Option<UserId>,
    /// `messageId`: unique per event, for deduplication.
    #[serde(rename = "messageId", default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// `timestamp` (ISO 8601).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    /// `sentAt` (ISO 8601).
    #[serde(rename = "sentAt", default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    /// `receivedAt` (ISO 8601).
    #[serde(
        rename = "receivedAt",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub received_at: Option<String>,
    /// `traits` (identify, group).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traits: Option<Map<String, Value>>,
    /// `event` (track): the event name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// `properties` (track, page, screen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Map<String, Value>>,
    /// `name` (page, screen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `groupId` (group).
    #[serde(rename = "groupId", default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<UserId>,
    /// `previousId` (alias).
    #[serde(
        rename = "previousId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub previous_id: Option<UserId>,
    /// `context`: where the event came from, and Engage's `personas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// `integrations`: which destinations receive the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrations: Option<Map<String, Value>>,
    /// Every other field, kept as it came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Event {
    /// An event of the given type with every optional field empty.
    pub fn new(kind: EventType) -> Self {
        Self {
            kind,
            user_id: None,
            anonymous_id: None,
            message_id: None,
            timestamp: None,
            sent_at: None,
            received_at: None,
            traits: None,
            event: None,
            properties: None,
            name: None,
            group_id: None,
            previous_id: None,
            context: None,
            integrations: None,
            other: Map::new(),
        }
    }

    /// `context.personas`, when present.
    pub fn personas(&self) -> Option<&Personas> {
        self.context.as_ref()?.personas.as_ref()
    }
}

/// The `type` of a Spec call. Unknown types are kept by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventType {
    /// `identify`
    Identify,
    /// `track`
    Track,
    /// `page`
    Page,
    /// `screen`
    Screen,
    /// `group`
    Group,
    /// `alias`
    Alias,
    /// Any other value, as it came.
    Other(String),
}

impl EventType {
    /// Parses the wire value; never fails.
    pub fn parse(s: &str) -> Self {
        match s {
            "identify" => Self::Identify,
            "track" => Self::Track,
            "page" => Self::Page,
            "screen" => Self::Screen,
            "group" => Self::Group,
            "alias" => Self::Alias,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The wire value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Identify => "identify",
            Self::Track => "track",
            Self::Page => "page",
            Self::Screen => "screen",
            Self::Group => "group",
            Self::Alias => "alias",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::parse(&s))
    }
}

/// An identifier as sources send it: the Spec says string, but some
/// libraries send numbers; both are kept exactly as they came.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UserId {
    /// A JSON string.
    String(String),
    /// A JSON number.
    Number(Number),
}

impl fmt::Display for UserId {
    /// The string itself, or the number's decimal form as JSON writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => f.write_str(s),
            Self::Number(n) => write!(f, "{n}"),
        }
    }
}

impl From<&str> for UserId {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

/// `context`: the fields the destination reads, plus everything else kept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Context {
    /// Engage's block, on audience, Journey and computed-trait events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub personas: Option<Personas>,
    /// `library`: `{name, version}` of the sending library.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<Value>,
    /// Every other field (`ip`, `userAgent`, `page`, …), kept as it came.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let input = r#"{"type":"page","name":"Home","properties":{"a":1},"context":{"ip":"1.2.3.4","personas":{"computation_class":"audience","extra":true}},"custom":[1,2],"userId":42}"#;
        let event: Event = serde_json::from_str(input).unwrap();
        assert_eq!(event.kind, EventType::Page);
        assert_eq!(event.user_id, Some(UserId::Number(42.into())));
        let back: Value = serde_json::to_value(&event).unwrap();
        let original: Value = serde_json::from_str(input).unwrap();
        assert_eq!(back, original);
    }

    #[test]
    fn an_unknown_type_is_kept_by_name() {
        let event: Event = serde_json::from_str(r#"{"type":"delete"}"#).unwrap();
        assert_eq!(event.kind, EventType::Other("delete".into()));
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"type":"delete"}"#
        );
    }

    #[test]
    fn a_missing_type_is_an_error() {
        let err = serde_json::from_str::<Event>(r#"{"userId":"u"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `type`"), "{err}");
    }
}
