//! The classic Segment → Talon.One destination, as a pure function.
//!
//! [`map_json`] (JSON text, the fast path) and [`map_event`] (a typed
//! [`segment_model::Event`]) turn one Segment event into a [`Mapped`]: at
//! most one Talon.One [`Request`], or a [`Skip`] with its reason, plus
//! [`Diagnostic`]s that say what happened to each trait. Both give the same
//! result for the same event. Nothing here does IO, reads a clock or draws
//! random numbers, and no input makes it panic.
//!
//! ```
//! use talon_mapper::{Settings, map_json};
//!
//! let settings = Settings::parse(r#"{
//!     "apiKey": "key",
//!     "applicationDomain": "https://demo.talon.one",
//!     "customAttributes": ["email", "address_city"]
//! }"#)?;
//! let event = br#"{"type":"identify","userId":"john.doe",
//!     "traits":{"email":"john.doe@example.com","name":"John Doe","address":{"city":"Berlin"}}}"#;
//! let mapped = map_json(event, &settings);
//! let request = mapped.request().expect("an identify with a userId is sent");
//! assert_eq!(request.url, "https://demo.talon.one/v2/customer_profiles/john.doe");
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

pub mod diagnostics;
pub mod flatten;
mod lenient;
pub mod request;
mod settings;
mod view;

use std::fmt;

use segment_model::{ComputationClass, Event};
use serde::Serialize;

pub use diagnostics::{Diagnostic, Kind, Level};
pub use flatten::{FlatValue, Flattened, Leaf, Scalar};
pub use request::Request;
pub use segment_model::engage::snake_case;
pub use settings::{NearMiss, Settings, SettingsError, SettingsErrors, is_valid_attribute_name};

use view::{Id, Personas, View};

/// Talon.One's limit on an integrationId, in characters.
pub const MAX_INTEGRATION_ID_CHARS: usize = 1000;

/// What one event becomes.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped {
    /// The request to send, or why nothing is sent.
    pub outcome: Outcome,
    /// What happened to each trait, sorted by trait then code.
    pub diagnostics: Vec<Diagnostic>,
}

/// A request, or a skip.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Send this.
    Send(Request),
    /// Send nothing, for this reason.
    Skip(Skip),
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
        }
    }
}

impl Mapped {
    /// The request, when the event is sent.
    pub fn request(&self) -> Option<&Request> {
        match &self.outcome {
            Outcome::Send(request) => Some(request),
            Outcome::Skip(_) => None,
        }
    }

    /// The skip, when it is not.
    pub fn skip(&self) -> Option<&Skip> {
        match &self.outcome {
            Outcome::Send(_) => None,
            Outcome::Skip(skip) => Some(skip),
        }
    }

    fn skipped(skip: Skip) -> Self {
        Self {
            outcome: Outcome::Skip(skip),
            diagnostics: Vec::new(),
        }
    }

    /// The result for people and snapshots: the request (API key
    /// redacted) or the skip reason, then one line per diagnostic.
    pub fn render(&self) -> String {
        let mut out = match &self.outcome {
            Outcome::Send(request) => request.render(),
            Outcome::Skip(skip) => format!("SKIP {}: {skip}\n", skip.code()),
        };
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
        match &self.outcome {
            Outcome::Send(request) => {
                object.insert("outcome".into(), "send".into());
                object.insert("request".into(), request.to_json(reveal_key));
            }
            Outcome::Skip(skip) => {
                object.insert("outcome".into(), "skip".into());
                object.insert(
                    "skip".into(),
                    serde_json::json!({"reason": skip.code(), "message": skip.to_string()}),
                );
            }
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

/// Maps one event given as JSON text (UTF-8 bytes). The fast path: it
/// reads only the fields the rules need and flattens traits while parsing.
///
/// JSON text is UTF-8 (RFC 8259 §8.1): an event with any other byte
/// sequence, even inside a field the rules never read, is not a readable
/// Segment event.
pub fn map_json(event: &[u8], settings: &Settings) -> Mapped {
    if let Err(bad) = std::str::from_utf8(event) {
        return Mapped::skipped(Skip::InvalidEvent {
            error: format!("not valid UTF-8 (byte {})", bad.valid_up_to() + 1),
        });
    }
    match View::from_json(event) {
        Ok(view) => map_view(view, settings),
        Err(e) => Mapped::skipped(Skip::InvalidEvent {
            error: e.to_string(),
        }),
    }
}

/// Maps one typed event. Gives the same result as [`map_json`] on the
/// event's JSON.
pub fn map_event(event: &Event, settings: &Settings) -> Mapped {
    map_view(View::from_event(event), settings)
}

fn map_view(view: View<'_>, settings: &Settings) -> Mapped {
    // Rule 1.
    match view.kind {
        None => {
            return Mapped::skipped(Skip::InvalidEvent {
                error: "missing field `type`".into(),
            });
        }
        Some(kind) if kind != "identify" => {
            return Mapped::skipped(Skip::UnsupportedType {
                event_type: kind.into_owned(),
            });
        }
        Some(_) => {}
    }
    let mut diagnostics = Vec::new();
    // Rules 2 and 3.
    let integration_id = match view.user_id {
        Id::Absent => return Mapped::skipped(Skip::AnonymousUser),
        Id::Str(id) if id.is_empty() => return Mapped::skipped(Skip::AnonymousUser),
        Id::Invalid(found) => {
            return Mapped::skipped(Skip::InvalidUserId {
                reason: format!("it is {found}, not a string"),
            });
        }
        Id::Str(id) if id == "." || id == ".." => {
            return Mapped::skipped(Skip::InvalidUserId {
                reason: format!(
                    "`{id}` cannot be a URL path segment (clients resolve it away), so no request can address this profile"
                ),
            });
        }
        Id::Str(id) => id.into_owned(),
        Id::Number(id) => {
            diagnostics.push(Diagnostic::note(Kind::NumericUserId {
                integration_id: id.clone(),
            }));
            id
        }
    };
    let chars = integration_id.chars().count();
    if chars > MAX_INTEGRATION_ID_CHARS {
        diagnostics.push(Diagnostic::warning(Kind::UserIdTooLong { chars }));
    }

    // Rule 7: which key Engage computed, if any.
    let engage = match view.personas {
        Personas::Absent => None,
        Personas::Malformed(reason) => {
            diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored { reason }));
            None
        }
        Personas::Present { class, key } => match (class, key) {
            (None, _) => {
                diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored {
                    reason: "no `computation_class`".into(),
                }));
                None
            }
            (Some(class), key) => match (ComputationClass::parse(&class), key) {
                (None, _) => {
                    diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored {
                        reason: format!(
                            "unknown `computation_class` {class:?} (expected \"audience\" or \"trait\")"
                        ),
                    }));
                    None
                }
                (Some(_), None) => {
                    diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored {
                        reason: "no `computation_key`".into(),
                    }));
                    None
                }
                (Some(_), Some(key)) if key.is_empty() => {
                    diagnostics.push(Diagnostic::warning(Kind::PersonasIgnored {
                        reason: "empty `computation_key`".into(),
                    }));
                    None
                }
                (Some(class), Some(key)) => Some((class, key)),
            },
        },
    };
    if let Some((_, key)) = &engage
        && !is_valid_attribute_name(key)
    {
        diagnostics.push(Diagnostic::warning(Kind::ComputationKeyInvalidName {
            key: key.to_string(),
        }));
    }

    // Rules 4 to 6.
    let mut flattened = view.traits.unwrap_or_default();
    diagnostics.append(&mut flattened.diagnostics);
    let mut sent = Vec::with_capacity(flattened.leaves.len());
    let mut engage_found = false;
    for leaf in &flattened.leaves {
        let key = leaf.key.as_ref();
        if let Some((class, engage_key)) = &engage
            && key == engage_key.as_ref()
        {
            engage_found = true;
            if *class == ComputationClass::Audience
                && !matches!(leaf.value, FlatValue::Scalar(Scalar::Bool(_)))
            {
                diagnostics.push(Diagnostic::warning(Kind::AudienceValueNotBoolean {
                    key: key.to_owned(),
                    found: leaf.value.json_type(),
                }));
            }
            if !settings.is_configured(key) {
                diagnostics.push(Diagnostic::note(Kind::EngageKeySent {
                    key: key.to_owned(),
                    class: class.as_str(),
                }));
            }
            sent.push(leaf);
        } else if settings.is_configured(key) {
            sent.push(leaf);
        } else {
            diagnostics.push(match settings.near_miss(key) {
                Some(NearMiss::Case(configured)) => Diagnostic::warning(Kind::CaseMismatch {
                    key: key.to_owned(),
                    configured: configured.to_owned(),
                }),
                Some(NearMiss::Dotted(configured)) => Diagnostic::warning(Kind::DottedConfigured {
                    key: key.to_owned(),
                    configured: configured.to_owned(),
                }),
                None => Diagnostic::note(Kind::NotConfigured {
                    key: key.to_owned(),
                }),
            });
        }
    }
    if let Some((_, key)) = &engage
        && !engage_found
    {
        diagnostics.push(Diagnostic::warning(Kind::ComputationKeyMissing {
            key: key.to_string(),
        }));
    }
    if let Some(source) = view.client_side
        && !sent.is_empty()
    {
        // Event-level diagnostics sort first: put them there, so the final
        // sort finds the list nearly sorted.
        diagnostics.insert(0, Diagnostic::note(Kind::ClientSideSource { source }));
    }
    // Rule 9.
    if sent.is_empty() {
        diagnostics.insert(0, Diagnostic::note(Kind::NoAttributes));
    }
    let request = Request::profile_update(settings, integration_id, &sent);
    Diagnostic::sort(&mut diagnostics);
    Mapped {
        outcome: Outcome::Send(request),
        diagnostics,
    }
}
