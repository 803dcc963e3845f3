//! What the package silently makes of a trigger that a reader would not expect: kept as it
//! does, and named here, so a caller can tell the user in plain words.

use std::fmt;

/// One surprise in a trigger that parsed (or failed later) as the package parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// An identifier that names no field and no function (`anonymousId`, `typo`, `toString`):
    /// skipped, and its operator and value with it.
    UnknownIdentifier(String),
    /// A `!` before something other than `contains(`/`match(` (`!(type = "track")`): dropped.
    NegationDropped,
    /// A group holds both `and` and `or`: the last one joins all of it.
    MixedJoiners {
        /// The joiner that wins.
        used: &'static str,
    },
    /// `contains(`/`match(` on a field it does not read (`type`): nothing is made of it.
    FunctionFieldIgnored {
        /// `contains` or `match`.
        function: &'static str,
        /// The first argument as written.
        field: String,
    },
    /// `match(…)` with no `*` at the end: the package takes it as "ends with" the pattern
    /// without its first character.
    MatchWithoutStar {
        /// The pattern as written.
        pattern: String,
    },
    /// A `'…'` value: its quotes are part of the value.
    SingleQuotes {
        /// The value as written.
        value: String,
    },
    /// A group that ends at the `)` of a function inside it: the rest of the group joins the
    /// conditions around it.
    GroupEndedByFunction,
    /// A token where the package reads nothing (a stray `)`, a value without a field).
    SkippedToken(String),
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownIdentifier(name) => write!(
                f,
                "`{name}` is not a field Segment's triggers know (type, event, name, userId, \
                 properties., traits., context.): Segment skips it"
            ),
            Self::NegationDropped => f.write_str(
                "`!` negates only contains(…) and match(…): Segment drops it here, so the \
                 condition is not negated",
            ),
            Self::MixedJoiners { used } => write!(
                f,
                "`and` and `or` are mixed without parentheses: Segment joins all of them with \
                 the last one, `{used}`"
            ),
            Self::FunctionFieldIgnored { function, field } => write!(
                f,
                "{function}() does not read `{field}`: Segment makes no condition of it"
            ),
            Self::MatchWithoutStar { pattern } => write!(
                f,
                "match(…, {pattern}) has no `*`: Segment reads it as \"ends with\" the pattern \
                 without its first character"
            ),
            Self::SingleQuotes { value } => write!(
                f,
                "the value {value} is in single quotes: Segment keeps the quotes as part of it"
            ),
            Self::GroupEndedByFunction => f.write_str(
                "a group ends at the `)` of a function inside it: Segment joins the rest of \
                 the group with the conditions around it",
            ),
            Self::SkippedToken(token) => write!(f, "Segment skips `{token}` here"),
        }
    }
}
