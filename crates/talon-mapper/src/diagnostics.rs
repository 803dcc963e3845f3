//! Diagnostics: what happened to each trait, as values that render to plain words.

use std::fmt;

use serde::Serialize;

/// How much a diagnostic matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Something the user most likely did not intend, or that Talon.One
    /// will reject.
    Warning,
    /// An explanation of an expected outcome (a trait not configured, a null).
    Note,
}

/// One finding about an event, with the trait it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    /// How much it matters.
    pub level: Level,
    /// What happened.
    pub kind: Kind,
}

/// What happened, with the names it concerns. Each variant has a stable
/// snake_case [`Kind::code`] and a sentence ([`fmt::Display`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// A trait whose value is `null`: not sent.
    NullValue {
        /// The trait's path in the event, dotted.
        path: String,
    },
    /// A trait whose value is `{}`: yields no attribute.
    EmptyObject {
        /// The trait's path in the event, dotted.
        path: String,
    },
    /// An object nested deeper than [`crate::flatten::MAX_DEPTH`]: dropped whole.
    TooDeep {
        /// The path of the object that was dropped.
        path: String,
    },
    /// An array holding objects, arrays or nulls: no Talon.One type holds it.
    UnrepresentableArray {
        /// The trait's path in the event, dotted.
        path: String,
    },
    /// An array of scalars of more than one JSON type (`[1, "a"]`): sent, but
    /// no Talon.One list type accepts it.
    MixedList {
        /// The flattened key.
        key: String,
    },
    /// Two paths flatten to one key; one wins by the documented rule.
    Collision {
        /// The flattened key both paths produce.
        key: String,
        /// The path whose value is kept.
        kept: String,
        /// The path whose value is dropped.
        dropped: String,
    },
    /// `traits` is present but not an object.
    TraitsNotObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A flattened key that is not in Custom Attributes: not sent.
    NotConfigured {
        /// The flattened key.
        key: String,
    },
    /// A flattened key that matches a Custom Attributes entry except for
    /// case: not sent. The most common support case.
    CaseMismatch {
        /// The flattened key.
        key: String,
        /// The configured name it nearly matches.
        configured: String,
    },
    /// A flattened key whose dotted spelling is in Custom Attributes
    /// (`address.city` configured, `address_city` produced): not sent.
    DottedConfigured {
        /// The flattened key.
        key: String,
        /// The configured dotted name.
        configured: String,
    },
    /// An Engage key sent although it is not in Custom Attributes.
    EngageKeySent {
        /// The computation key.
        key: String,
        /// `audience` or `trait`.
        class: &'static str,
    },
    /// The Engage computation key has no value in `traits`.
    ComputationKeyMissing {
        /// The computation key.
        key: String,
    },
    /// The Engage computation key cannot be a Talon.One attribute name.
    ComputationKeyInvalidName {
        /// The computation key.
        key: String,
    },
    /// `context.personas` has an unknown class or no key: treated as a
    /// plain identify.
    PersonasIgnored {
        /// Why.
        reason: String,
    },
    /// An audience value that is not a boolean: sent as it is.
    AudienceValueNotBoolean {
        /// The audience key.
        key: String,
        /// The JSON type found.
        found: &'static str,
    },
    /// No attribute survived: the profile is still upserted, with `{}`.
    NoAttributes,
    /// A numeric `userId`, sent as its decimal string.
    NumericUserId {
        /// The decimal string sent.
        integration_id: String,
    },
    /// A `userId` over Talon.One's 1000-character limit: Talon.One rejects it.
    UserIdTooLong {
        /// Its length in characters.
        chars: usize,
    },
    /// Sent from a client-side source, where users can tamper with traits.
    ClientSideSource {
        /// The library name, or `channel browser`/`channel mobile`.
        source: &'static str,
    },
    /// An Actions finding about one subscription (empty: the configuration), with its own
    /// stable code (`rejected`, `path_changed`, `deprecated`, `nested_attribute`,
    /// `null_attribute`, `audience_attribute_only`, `unknown_action`, `trigger_note`,
    /// `trigger_never_fires`, `trigger_unevaluable`, `deployment_not_routable`).
    Action {
        /// The subscription's name.
        subscription: String,
        /// The stable code.
        code: &'static str,
        /// The sentence.
        message: String,
    },
}

impl Kind {
    /// The stable, snake_case code of this kind.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NullValue { .. } => "null_value",
            Self::EmptyObject { .. } => "empty_object",
            Self::TooDeep { .. } => "too_deep",
            Self::UnrepresentableArray { .. } => "unrepresentable_array",
            Self::MixedList { .. } => "mixed_list",
            Self::Collision { .. } => "collision",
            Self::TraitsNotObject { .. } => "traits_not_object",
            Self::NotConfigured { .. } => "not_configured",
            Self::CaseMismatch { .. } => "case_mismatch",
            Self::DottedConfigured { .. } => "dotted_configured",
            Self::EngageKeySent { .. } => "engage_key_sent",
            Self::ComputationKeyMissing { .. } => "computation_key_missing",
            Self::ComputationKeyInvalidName { .. } => "computation_key_invalid_name",
            Self::PersonasIgnored { .. } => "personas_ignored",
            Self::AudienceValueNotBoolean { .. } => "audience_value_not_boolean",
            Self::NoAttributes => "no_attributes",
            Self::NumericUserId { .. } => "numeric_user_id",
            Self::UserIdTooLong { .. } => "user_id_too_long",
            Self::ClientSideSource { .. } => "client_side_source",
            Self::Action { code, .. } => code,
        }
    }

    /// The trait name or path the diagnostic is about (empty for the event).
    pub fn subject(&self) -> &str {
        match self {
            Self::NullValue { path }
            | Self::EmptyObject { path }
            | Self::TooDeep { path }
            | Self::UnrepresentableArray { path } => path,
            Self::MixedList { key }
            | Self::Collision { key, .. }
            | Self::NotConfigured { key }
            | Self::CaseMismatch { key, .. }
            | Self::DottedConfigured { key, .. }
            | Self::EngageKeySent { key, .. }
            | Self::ComputationKeyMissing { key }
            | Self::ComputationKeyInvalidName { key }
            | Self::AudienceValueNotBoolean { key, .. } => key,
            Self::TraitsNotObject { .. }
            | Self::PersonasIgnored { .. }
            | Self::NoAttributes
            | Self::NumericUserId { .. }
            | Self::UserIdTooLong { .. }
            | Self::ClientSideSource { .. } => "",
            Self::Action { subscription, .. } => subscription,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NullValue { path } => write!(f, "trait `{path}` is null: not sent"),
            Self::EmptyObject { path } => {
                write!(f, "trait `{path}` is an empty object: yields no attribute")
            }
            Self::TooDeep { path } => write!(
                f,
                "trait `{path}` nests deeper than {} levels: dropped",
                crate::flatten::MAX_DEPTH
            ),
            Self::UnrepresentableArray { path } => write!(
                f,
                "trait `{path}` is an array holding objects, arrays or nulls: no Talon.One type can hold it, dropped"
            ),
            Self::MixedList { key } => write!(
                f,
                "trait `{key}` is a list mixing JSON types: sent, but no Talon.One list type accepts it"
            ),
            Self::Collision { key, kept, dropped } => write!(
                f,
                "`{kept}` and `{dropped}` both flatten to `{key}`: kept `{kept}` (fewest levels wins), dropped `{dropped}`"
            ),
            Self::TraitsNotObject { found } => {
                write!(f, "`traits` is {found}, not an object: no attributes")
            }
            Self::NotConfigured { key } => {
                write!(f, "trait `{key}` was not sent: not in Custom Attributes")
            }
            Self::CaseMismatch { key, configured } => write!(
                f,
                "trait `{key}` was not sent: the trait is `{key}`, Custom Attributes lists `{configured}` (names are case-sensitive): if Talon.One's attribute is `{key}`, change the setting to `{key}`; if it is `{configured}`, send the trait as `{configured}`"
            ),
            Self::DottedConfigured { key, configured } => write!(
                f,
                "trait `{key}` was not sent: Custom Attributes lists `{configured}`, but Segment flattens nested traits with `_`, not `.`: change the setting to `{key}`"
            ),
            Self::EngageKeySent { key, class } => write!(
                f,
                "Engage {class} key `{key}` sent without being in Custom Attributes (Engage keys bypass that list)"
            ),
            Self::ComputationKeyMissing { key } => write!(
                f,
                "Engage computation key `{key}` has no value in `traits`: nothing to send for it"
            ),
            Self::ComputationKeyInvalidName { key } => write!(
                f,
                "Engage key `{key}` is not a valid Talon.One attribute name (^[A-Za-z]\\w*$): Talon.One cannot hold it and will reject the call"
            ),
            Self::PersonasIgnored { reason } => {
                write!(f, "`context.personas` ignored: {reason}")
            }
            Self::AudienceValueNotBoolean { key, found } => write!(
                f,
                "audience `{key}` carries {found}, not a boolean: sent as it is"
            ),
            Self::NoAttributes => write!(
                f,
                "no trait is sendable: the profile is still upserted with empty attributes"
            ),
            Self::NumericUserId { integration_id } => {
                write!(f, "numeric userId sent as the string \"{integration_id}\"")
            }
            Self::ClientSideSource { source } => write!(
                f,
                "sent from a client-side source ({source}): users can change these traits before they are sent; the destination's docs ask for promotion-relevant data from server-side sources only"
            ),
            Self::Action {
                subscription,
                message,
                ..
            } => {
                if subscription.is_empty() {
                    f.write_str(message)
                } else {
                    write!(f, "subscription `{subscription}`: {message}")
                }
            }
            Self::UserIdTooLong { chars } => write!(
                f,
                "userId has {chars} characters; Talon.One accepts at most 1000 and will reject the call"
            ),
        }
    }
}

impl Diagnostic {
    /// A warning.
    pub fn warning(kind: Kind) -> Self {
        Self {
            level: Level::Warning,
            kind,
        }
    }

    /// A note.
    pub fn note(kind: Kind) -> Self {
        Self {
            level: Level::Note,
            kind,
        }
    }

    /// The order diagnostics are reported in: by subject, then code, then
    /// text, so it never depends on the order of keys in the input.
    pub(crate) fn sort(diagnostics: &mut [Diagnostic]) {
        diagnostics.sort_unstable_by(|a, b| {
            (a.kind.subject(), a.kind.code())
                .cmp(&(b.kind.subject(), b.kind.code()))
                .then_with(|| a.kind.cmp(&b.kind))
        });
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Warning => "warning",
            Level::Note => "note",
        };
        write!(f, "{level}[{}]: {}", self.kind.code(), self.kind)
    }
}

impl Serialize for Diagnostic {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Diagnostic", 4)?;
        s.serialize_field("level", &self.level)?;
        s.serialize_field("code", self.kind.code())?;
        s.serialize_field("subject", self.kind.subject())?;
        s.serialize_field("message", &self.kind.to_string())?;
        s.end()
    }
}
