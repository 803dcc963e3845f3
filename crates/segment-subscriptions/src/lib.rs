//! Segment's subscription triggers (FQL) in Rust, parsed and evaluated as Segment's own npm
//! package `@segment/destination-subscriptions` 3.37 (`parseFql`, then `validate`) does, over its
//! lexer `@segment/fql-ts` 1.10. The differential test (`tests/differential/main.rs`) holds this crate
//! to that package over seeded (trigger, event) pairs.
//!
//! Evidence: every rule below is read from the package's code (its published 3.37.0 build and
//! `packages/destination-subscriptions` in `segmentio/action-destinations`, with `fql-ts`
//! 1.10.1's build) and its tests, and checked against the package by the differential test;
//! the refusals (see "Not supported") are chosen here.
//!
//! ```
//! use serde_json::json;
//!
//! let trigger = segment_subscriptions::parse(r#"type = "track" and event = "Order Completed""#)?;
//! let event = json!({"type": "track", "event": "Order Completed"});
//! assert_eq!(trigger.matches(&event), Ok(true));
//! assert_eq!(trigger.matches(&json!({"type": "identify"})), Ok(false));
//!
//! // Segment's own error, word for word, where the package refuses a trigger.
//! let error = segment_subscriptions::parse("type").unwrap_err();
//! assert_eq!(error.segment_message().as_deref(), Some("Value token is missing"));
//! # Ok::<(), segment_subscriptions::TriggerError>(())
//! ```
//!
//! # Grammar
//!
//! A trigger is a sequence of comparisons, function calls and parenthesised groups, joined by
//! `and` / `or`:
//!
//! - `<field> <operator> <value>`, where the field is `type`, `event`, `name`, `userId`,
//!   `properties.<path>`, `traits.<path>` or `context.<path>`; the operator is `=`, `!=`, `<`,
//!   `<=`, `>`, `>=` (or any identifier: `properties.x contains "a"` is read as the package's
//!   `contains` operator); the value is a `"string"`, a `'string'` (its quotes are kept as part
//!   of the value: the package strips only double quotes), a number (`12`, `-1.5`, `+3`; no
//!   exponent), `true`, `false`, `null` or any other identifier (taken as its text).
//! - For `properties`, `traits` and `context`: `= true` is `is_true`, `= false` is `is_false`,
//!   `= null` is `not_exists`, `!= null` is `exists`, `= <number>` is `number_equals`,
//!   `!= <number>` is `number_not_equals`. `name` knows `exists`/`not_exists`, `userId` those and
//!   `is_true`/`is_false`; `type` and `event` none of them (`type = null` compares with the
//!   string `"null"`).
//! - `contains(<field>, <value>)`, `match(<field>, "<prefix>*")` (`starts_with`) and
//!   `match(<field>, "*<suffix>")` (`ends_with`), each negated by a leading `!`; the field is
//!   `event`, `name`, `userId` or a `properties`/`traits`/`context` path.
//! - `( … )` groups, one level deep.
//! - Paths are dotted identifiers (letters, digits, `_`, `-`); `\` escapes one character
//!   (`properties.a\ b` is the key `a b`, `properties.items.\0.sku` reads index 0: a bare `0`
//!   after a dot lexes as a number). A `[` right after an identifier is a lexer error, so
//!   `items[0]` is not a path; the package's `get` would split on `.`, `[` and `]`, which only
//!   escaped brackets reach.
//!
//! # Semantics, JavaScript included
//!
//! The package is JavaScript, and its comparisons are JavaScript's; this crate reproduces them
//! over [`serde_json::Value`] (JSON's values are all `validate` can be given, so the
//! `undefined`-aware value of `segment-mapping` would add nothing):
//!
//! - `=` and `!=` are strict string equality with `String(value)`: `properties.n = "5"` does
//!   not match the number `5`, and `!=` matches a missing field.
//! - `<`, `<=`, `>`, `>=`, `number_equals` match numbers only, compared with `Number(value)`
//!   (so `properties.n < "0x10"` compares with 16, `< true` with 1, `< "abc"` never).
//! - `contains`, `starts_with`, `ends_with` and their negations match strings only: a missing
//!   field matches neither `contains` nor `not_contains`. Strings compare as UTF-16 code units.
//! - `exists` is "neither missing nor `null`"; `is_true`/`is_false` match booleans only.
//! - A path is looked up as JavaScript looks up properties: `length` of a string (in UTF-16
//!   code units) or an array, an index of either (`items.0`), and a falsy value met on the way
//!   is the result (`properties.a.b` is `0` when `a` is `0`, so `properties.a.b < 1` matches).
//!   A name of a built-in (`properties.items.map`, `properties.toString`) finds a function:
//!   it `exists`, and equals nothing. The built-ins are Node 20's (the oracle's runtime).
//! - Events are [`serde_json::Value`]s: JSON text with a lone surrogate escape (`"\ud800"`),
//!   which JavaScript's `JSON.parse` accepts, does not parse into one, so it never reaches
//!   this crate; numbers are doubles, as in JavaScript, and a repeated key keeps its last
//!   value, as in `JSON.parse`.
//!
//! # The package's quirks, kept
//!
//! - The last `and`/`or` of a group joins all of it: `a and b or c` is `a or b or c`.
//! - A `!` before anything but `contains`/`match` is dropped: `!(type = "track")` matches
//!   tracks.
//! - An identifier the package does not know is skipped with no error (`anonymousId = "x"
//!   and type = "track"` is `type = "track"`), and so are `contains(type, …)` and a stray `)`.
//! - A group ends at the first `)`, even the one of a function inside it: in
//!   `type = "track" and (contains(event, "Order") or event = "X")` the group is just the
//!   `contains`, and the `or` after it joins the whole trigger.
//! - Parentheses nest one level only: `((a))` is a `TypeError`.
//! - `match(name, "abc")` (no `*`) is `ends_with "bc"`: the package drops the first character.
//! - `!="x"` without a space, `properties.x>5` without spaces, and a `\r` are lexer errors.
//! - `type = ` compares with the text `eos` (the end-of-input token), as the package's own test
//!   expects.
//!
//! [`parse_with_notes`] names each of these where a trigger meets it ([`Note`]), in words a
//! user can act on.
//!
//! # Errors
//!
//! [`parse`] fails where `parseFql` gives `{ error }`, and
//! [`TriggerError::segment_message`] is that error's message (Segment's destination-kit drops
//! such an event with `Invalid subscription : <message>`): `Value token is missing`,
//! `Operator token is missing`, `contains() is missing a 1st argument` (and `2nd`, and
//! `match()`), and the `TypeError` `Cannot read properties of undefined (reading 'type')` that
//! every lexer error, every trigger without a condition and every unclosed `(` end in.
//!
//! # Not supported: an error, never a silent false
//!
//! Where the package would make a condition that cannot be reproduced honestly, [`parse`] fails
//! with [`TriggerError::Unsupported`] naming the construct, and the differential test's
//! divergence list (`tests/differential/divergences.ndjson`) records what the package does
//! instead:
//!
//! - an operator `validateValue` does not know (`properties.x [ 1`, `type foo "x"`): the
//!   package keeps it and the condition is always false;
//! - an empty group `()` beside other conditions: the package keeps an `undefined` child and
//!   `validate` throws when it reaches it;
//! - a path with no key (`properties.\.`): the package's `get` throws on it.
//!
//! [`Condition::matches`] fails with [`EvalError`] where a path goes on past a JavaScript
//! built-in (`properties.items.map.length`) or the event is not a JSON object.

mod condition;
mod eval;
mod js;
mod lex;
mod note;
mod parse;

pub use condition::{Condition, Expected, Field, GroupOperator, Operator, Path};
pub use eval::EvalError;
pub use js::JsString;
pub use lex::LexError;
pub use note::Note;

/// What Segment's `TypeError` says: the package reads `.type` of a missing node or token.
pub const SEGMENT_TYPE_ERROR: &str = "Cannot read properties of undefined (reading 'type')";

/// Why a trigger does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TriggerError {
    /// The lexer refused it (Segment reports the `TypeError`).
    #[error("the trigger does not lex: {0}")]
    Lex(LexError),
    /// No condition the package recognises: an empty trigger, `typo`, `anonymousId = "x"`
    /// (Segment reports the `TypeError`).
    #[error("the trigger has no condition segment recognises")]
    NoCondition,
    /// A `(` without its `)`, or a `(` inside a group (Segment reports the `TypeError`).
    #[error("a parenthesis is not closed, or parentheses are nested")]
    UnclosedParenthesis,
    /// A field name without a value after it (`type`).
    #[error("value token is missing")]
    MissingValue,
    /// A field name with nothing after it; kept as the package has it, though its tokens
    /// always end with an end-of-input token that makes [`TriggerError::MissingValue`] come
    /// first.
    #[error("operator token is missing")]
    MissingOperator,
    /// `contains(` or `match(` running out of tokens.
    #[error("{function}() is missing a {position} argument")]
    MissingArgument {
        /// `contains` or `match`.
        function: &'static str,
        /// `1st` or `2nd`.
        position: &'static str,
    },
    /// A construct this crate does not reproduce (see the crate docs).
    #[error("unsupported in a trigger: {0}")]
    Unsupported(Unsupported),
}

/// A construct the package accepts but this crate refuses rather than guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unsupported {
    /// An operator the package's `validateValue` does not know: it would always be false.
    #[error("the operator `{0}` (segment's package keeps it, and the condition never matches)")]
    Operator(String),
    /// `()` beside other conditions: the package's `validate` throws when it reaches it.
    #[error("an empty group `()` (segment's package throws when it evaluates it)")]
    EmptyGroup,
    /// A path with no key (`.`): the package's `get` throws on it.
    #[error("the path `{0}` with no key in it (segment's package throws when it evaluates it)")]
    PathWithoutKey(String),
}

impl Unsupported {
    /// A short name of the construct, as the divergence list names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Operator(_) => "unknown-operator",
            Self::EmptyGroup => "empty-group",
            Self::PathWithoutKey(_) => "path-without-key",
        }
    }
}

impl TriggerError {
    /// The message of the error `parseFql` returns for this trigger, word for word; `None` for
    /// [`TriggerError::Unsupported`], where the package returns no error.
    pub fn segment_message(&self) -> Option<String> {
        Some(match self {
            Self::Lex(_) | Self::NoCondition | Self::UnclosedParenthesis => {
                SEGMENT_TYPE_ERROR.to_owned()
            }
            Self::MissingValue => "Value token is missing".to_owned(),
            Self::MissingOperator => "Operator token is missing".to_owned(),
            Self::MissingArgument { function, position } => {
                format!("{function}() is missing a {position} argument")
            }
            Self::Unsupported(_) => return None,
        })
    }

    /// The JavaScript class of that error: `TypeError` or `Error`.
    pub fn segment_error_name(&self) -> Option<&'static str> {
        match self {
            Self::Lex(_) | Self::NoCondition | Self::UnclosedParenthesis => Some("TypeError"),
            Self::Unsupported(_) => None,
            _ => Some("Error"),
        }
    }
}

/// Parses a trigger as `parseFql` does.
///
/// # Errors
///
/// Where `parseFql` returns an error, and where the trigger holds an [`Unsupported`] construct.
pub fn parse(trigger: &str) -> Result<Condition, TriggerError> {
    parse::parse(trigger, &mut Vec::new())
}

/// [`parse`], and what the package silently made of the trigger ([`Note`]s, in the order met:
/// a skipped identifier, a dropped `!`, mixed `and`/`or`, …), for a caller that explains
/// triggers to people. The notes come with an error too, up to where parsing stopped.
pub fn parse_with_notes(trigger: &str) -> (Result<Condition, TriggerError>, Vec<Note>) {
    let mut notes = Vec::new();
    let result = parse::parse(trigger, &mut notes);
    (result, notes)
}

impl Condition {
    /// Whether `event` matches, as the package's `validate(parseFql(trigger), event)` says.
    ///
    /// # Errors
    ///
    /// [`EvalError`] where this crate cannot reproduce the package's answer.
    pub fn matches(&self, event: &serde_json::Value) -> Result<bool, EvalError> {
        eval::matches(self, event)
    }
}
