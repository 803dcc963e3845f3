//! Segment → Talon.One destinations, as pure functions.
//!
//! [`map`] is the one entry point: it maps one Segment event (JSON text)
//! *for a given [`Destination`]* into a [`Mapped`]: zero or more
//! destination-neutral HTTP [`Request`]s (or a [`Skip`] with its reason when
//! there are none), plus [`Diagnostic`]s that say what happened to each
//! trait. Two destinations share the seam: the classic one
//! ([`Destination::Classic`], at most one request per event, the rules
//! below) and Talon.One (Actions) ([`Destination::Actions`], one request per
//! enabled subscription whose trigger matches, to
//! `https://integration.talon.one/segment/...`; its rules table is in
//! [`actions`]).
//!
//! The classic destination's own functions, [`map_json`] (JSON text, the
//! fast path) and [`map_event`] (a typed [`segment_model::Event`]), give the
//! same result for the same event. Nothing here does IO, reads a clock or
//! draws random numbers, and no input makes it panic.
//!
//! ```
//! use talon_mapper::{Destination, Settings, map};
//!
//! let settings = Settings::parse(r#"{
//!     "apiKey": "key",
//!     "applicationDomain": "https://demo.talon.one",
//!     "customAttributes": ["email", "address_city"]
//! }"#)?;
//! let classic = Destination::Classic(settings);
//! let event = br#"{"type":"identify","userId":"john.doe",
//!     "traits":{"email":"john.doe@example.com","name":"John Doe","address":{"city":"Berlin"}}}"#;
//! let mapped = map(&classic, event);
//! let request = mapped.request().expect("an identify with a userId is sent");
//! assert_eq!(request.method, "PUT");
//! assert_eq!(request.url, "https://demo.talon.one/v2/customer_profiles/john.doe");
//! assert_eq!(request.key, "john.doe", "a profile's requests are delivered in order");
//! assert_eq!(request.body, r#"{"attributes":{"address_city":"Berlin","email":"john.doe@example.com"}}"#);
//! assert_eq!(mapped.diagnostics[0].to_string(),
//!     "note[not_configured]: trait `name` was not sent: not in Custom Attributes");
//! # Ok::<(), talon_mapper::SettingsErrors>(())
//! ```
//!
//! # The mapping rules
//!
//! The classic destination's code is not public. Each rule says where it
//! comes from: **documented** (the destination's page or Talon.One's API
//! reference says so), **inferred** (the documents imply it), or **chosen
//! here** (nothing public says; this project picks a rule and tests it).
//! Every rule has fixtures under `fixtures/segment/` and their snapshots.
//!
//! | # | rule | evidence |
//! | --- | --- | --- |
//! | 1 | Only `identify` events are sent; any other type is skipped with [`Skip::UnsupportedType`] (an event with no `type` is a [`Skip::InvalidEvent`]). | documented: the catalog lists identify as the only method |
//! | 2 | Only logged-in users: an event without a non-empty `userId` is skipped with [`Skip::AnonymousUser`]; `anonymousId` alone is not enough. A numeric `userId` is sent as its decimal string (as JSON writes the number), with a note. A `userId` of another JSON type is skipped with [`Skip::InvalidUserId`]. | documented ("only supports logged in users"); numbers: chosen here, the Spec says `userId` is a string |
//! | 3 | `userId` is Talon.One's `integrationId`, byte for byte (case kept, nothing trimmed). In the URL it is percent-encoded as one path segment (all but `A-Z a-z 0-9 - . _ ~`), so `a/b`, `a#b`, `a?b`, `a%b`, spaces and unicode arrive intact. `.` and `..` cannot be a path segment (URL clients resolve them away), so they are skipped with [`Skip::InvalidUserId`]. A `userId` over 1000 characters is sent with a warning (Talon.One rejects it). | documented: 1:1 mapping; encoding: inferred from Talon.One's advice to encode special characters; `.`/`..`: chosen here |
//! | 4 | Traits are flattened: nested objects join their keys with `_` at any depth; arrays of scalars are lists; arrays holding objects, arrays or nulls, `null` values and objects nested deeper than [`flatten::MAX_DEPTH`] are dropped with a diagnostic; `{}` yields nothing. See [`flatten`]. | documented for one level (`address.city` → `address_city`); the rest chosen here |
//! | 5 | When paths collide on one key, the path with the fewest levels wins, then the bytewise-first path, then the bytewise-first JSON value; each loser is a [`Kind::Collision`] warning naming both paths. The order of keys in the input never matters. | chosen here |
//! | 6 | A flattened key is sent only if it equals a Custom Attributes entry byte for byte. Every other key gets a note; a key that matches an entry but for ASCII case gets a [`Kind::CaseMismatch`] warning naming both (`Email` vs `email`), and one whose entry is written dotted (`address.city`) a [`Kind::DottedConfigured`] warning. | documented ("same name and case"); matching flattened names: inferred from the `address_city` example |
//! | 7 | Engage: when `context.personas.computation_class` is `audience` (also used by Journeys) or `trait`, the trait named by `context.personas.computation_key` is sent even if it is not in Custom Attributes. An audience value that is not a boolean is sent as it is, with a warning; a computation key that is not a valid Talon.One attribute name (`^[A-Za-z]\w*$`, e.g. `30_day_buyers`) gets a warning; a key with no value in `traits` gets a warning. Other traits of the event follow rule 6. | documented (audiences and computed traits "do not have to be added" to Custom Attributes; audience values are booleans); the warnings: chosen here |
//! | 8 | [`snake_case`] turns an audience name into its key (rules in its docs; idempotent). | documented that keys are snake_cased names; the algorithm: chosen here |
//! | 9 | The request is `PUT {applicationDomain}/v2/customer_profiles/{integrationId}` with `Authorization: ApiKey-v1 {apiKey}` and `Content-Type: application/json`, body `{"attributes":{…}}` with keys sorted bytewise. An identify whose traits all drop is still sent with `{"attributes":{}}` (it upserts the profile), with a note. | endpoint and auth: documented in Talon.One's Integration API (`updateCustomerProfileV2`); that the classic destination used it: inferred (it may have used the older `/v1/customer_profiles`) |
//! | 10 | The same input always gives byte-identical output: no clock, no randomness, no hash-map order. | chosen here, enforced by tests and `clippy.toml` |
//! | 11 | An identify sent from a client-side source (`context.library.name` a browser or mobile library, or `channel` `browser`/`mobile`) that carries attributes gets a [`Kind::ClientSideSource`] note: users can tamper with such traits. | documented (the destination page: data that affects promotions should come from a server-side source); the detection: inferred |
//!
//! Input that is not a JSON object, or whose `type` is not a string, is
//! skipped with [`Skip::InvalidEvent`] and the parser's message. Traits
//! nested past [`flatten::MAX_DEPTH`] are skipped by the parser without
//! recursion, so no nesting depth can overflow the stack.

pub mod actions;
pub mod classic;
pub mod diagnostics;
pub mod flatten;
mod lenient;
pub mod request;
mod settings;
mod view;

use std::fmt;

use serde::Serialize;

pub use classic::{map_event, map_json};
pub use diagnostics::{Diagnostic, Kind, Level};
pub use flatten::{FlatValue, Flattened, Leaf, Scalar};
pub use request::Request;
pub use segment_model::engage::snake_case;
pub use settings::{NearMiss, Settings, SettingsError, SettingsErrors, is_valid_attribute_name};

/// A destination to map for, with its settings.
///
/// Each variant is one Segment destination's rules. An event maps into zero
/// or more [`Request`]s, so a destination that sends several requests per
/// event (the Actions destination: one per matching action, to other paths,
/// with other methods and headers) fits the same [`map`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Destination {
    /// The classic Talon.One destination: an `identify` becomes at most one
    /// `PUT /v2/customer_profiles/{integrationId}` (the rules table above).
    Classic(Settings),
    /// The Talon.One (Actions) destination: every enabled subscription whose trigger matches
    /// gives one request to `https://integration.talon.one/segment/...` (see [`actions`]).
    Actions(actions::ActionsConfig),
}

impl Destination {
    /// The destination's stable name, for reports: `classic` or `actions`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Classic(_) => "classic",
            Self::Actions(_) => "actions",
        }
    }
}

/// Maps one event, given as JSON text (UTF-8 bytes), for `destination`:
/// the one entry point for callers that deliver, explain or check.
pub fn map(destination: &Destination, event: &[u8]) -> Mapped {
    match destination {
        Destination::Classic(settings) => map_json(event, settings),
        Destination::Actions(config) => actions::map_actions(config, event),
    }
}

/// Talon.One's limit on an integrationId, in characters.
pub const MAX_INTEGRATION_ID_CHARS: usize = 1000;

/// What one event becomes: the requests to send, in the order they must be
/// sent, or why nothing is sent; and the diagnostics.
///
/// A destination's mapping gives either at least one request and no skip,
/// or no request and a skip (the constructors keep that; the classic
/// destination gives at most one request).
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// What to send, in order; empty when the event is skipped.
    pub requests: Vec<Request>,
    /// Why nothing is sent, when nothing is.
    pub skip: Option<Skip>,
    /// What happened: classic, to each trait, sorted by trait then code;
    /// Actions, per subscription in subscription order ([`Kind::Action`],
    /// naming the subscription), its failed validations (`rejected`, with
    /// Segment's message) included, since an event sent by one subscription
    /// can be refused by another.
    pub diagnostics: Vec<Diagnostic>,
}

/// Why an event is not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// Not an `identify` (rule 1).
    UnsupportedType {
        /// The event's `type`.
        event_type: String,
    },
    /// No non-empty `userId` (rule 2).
    AnonymousUser,
    /// A `userId` that cannot be an integrationId (rules 2 and 3).
    InvalidUserId {
        /// Why.
        reason: String,
    },
    /// Actions: no enabled subscription's trigger matches the event.
    NoSubscription,
    /// Actions: every matching subscription failed (validation or mapping); the first one,
    /// with Segment's own message. Each failure is also a `rejected` diagnostic.
    Rejected {
        /// The subscription's name.
        subscription: String,
        /// Segment's message (`The root value is missing the required field 'customerProfileId'.`).
        message: String,
    },
    /// Not a readable Segment event.
    InvalidEvent {
        /// The parser's message.
        error: String,
    },
}

impl Skip {
    /// The stable, snake_case reason code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnsupportedType { .. } => "unsupported_type",
            Self::AnonymousUser => "anonymous_user",
            Self::InvalidUserId { .. } => "invalid_user_id",
            Self::InvalidEvent { .. } => "invalid_event",
            Self::NoSubscription => "no_subscription",
            Self::Rejected { .. } => "rejected",
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnsupportedType { event_type } => write!(
                f,
                "`{event_type}` events are not sent: the destination only sends identify"
            ),
            Self::AnonymousUser => write!(
                f,
                "no userId: the destination only sends logged-in users (anonymousId alone is not enough)"
            ),
            Self::InvalidUserId { reason } => write!(f, "userId cannot be sent: {reason}"),
            Self::InvalidEvent { error } => write!(f, "not a readable Segment event: {error}"),
            Self::NoSubscription => {
                write!(f, "no enabled subscription's trigger matches the event")
            }
            Self::Rejected {
                subscription,
                message,
            } => write!(f, "subscription `{subscription}`: {message}"),
        }
    }
}

impl Mapped {
    /// The first request, when the event is sent (the only one for the
    /// classic destination).
    pub fn request(&self) -> Option<&Request> {
        self.requests.first()
    }

    /// The skip, when it is not.
    pub fn skip(&self) -> Option<&Skip> {
        self.skip.as_ref()
    }

    pub(crate) fn skipped(skip: Skip) -> Self {
        Self {
            requests: Vec::new(),
            skip: Some(skip),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn sent(requests: Vec<Request>, diagnostics: Vec<Diagnostic>) -> Self {
        Self {
            requests,
            skip: None,
            diagnostics,
        }
    }

    /// The result for people and snapshots: the request (API key
    /// redacted) or the skip reason, then one line per diagnostic.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (i, request) in self.requests.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(&request.render());
        }
        if let Some(skip) = &self.skip {
            out.push_str(&format!("SKIP {}: {skip}\n", skip.code()));
        }
        if !self.diagnostics.is_empty() {
            out.push('\n');
            for diagnostic in &self.diagnostics {
                out.push_str(&diagnostic.to_string());
                out.push('\n');
            }
        }
        out
    }

    /// The result as JSON for machines (API key redacted unless `reveal_key`).
    pub fn to_json(&self, reveal_key: bool) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        // One request is `"request"`, as the classic destination always
        // gave; several are `"requests"`, in order (chosen here).
        match self.requests.as_slice() {
            [] => {}
            [request] => {
                object.insert("outcome".into(), "send".into());
                object.insert("request".into(), request.to_json(reveal_key));
            }
            requests => {
                object.insert("outcome".into(), "send".into());
                object.insert(
                    "requests".into(),
                    requests.iter().map(|r| r.to_json(reveal_key)).collect(),
                );
            }
        }
        if let Some(skip) = &self.skip {
            object.insert("outcome".into(), "skip".into());
            object.insert(
                "skip".into(),
                serde_json::json!({"reason": skip.code(), "message": skip.to_string()}),
            );
        }
        object.insert(
            "diagnostics".into(),
            serde_json::to_value(&self.diagnostics).unwrap_or_default(),
        );
        serde_json::Value::Object(object)
    }
}

impl Serialize for Mapped {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json(false).serialize(serializer)
    }
}
