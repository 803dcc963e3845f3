//! `parseFql` of `@segment/destination-subscriptions` 3.37, rule for rule, over the tokens of
//! [`crate::lex`]: first into a raw tree that keeps what the package keeps (any operator text, an
//! empty group), then checked into a [`Condition`] or a [`TriggerError::Unsupported`].

use std::collections::VecDeque;

use crate::condition::{Condition, Expected, Field, GroupOperator, Operator, Path};
use crate::js::{JsString, number_to_string, string_to_number};
use crate::lex::{Kind, Token, lex, normalize};
use crate::{Note, TriggerError, Unsupported};

/// The field kinds of `tokenToConditionType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldKind {
    EventType,
    Event,
    Name,
    UserId,
    Context,
    Property,
    Trait,
    /// A member of `Object.prototype` (`toString`, `constructor`, …): the package's plain-object
    /// lookup finds it, so the condition's two tokens are read, and nothing is made of them.
    Prototype,
}

/// What `Object.prototype` holds in Node 20 (`Object.getOwnPropertyNames`).
pub(crate) const OBJECT_PROTOTYPE: [&str; 12] = [
    "constructor",
    "__defineGetter__",
    "__defineSetter__",
    "hasOwnProperty",
    "__lookupGetter__",
    "__lookupSetter__",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toString",
    "valueOf",
    "__proto__",
    "toLocaleString",
];

fn field_kind(start: &str) -> Option<FieldKind> {
    Some(match start {
        "type" => FieldKind::EventType,
        "event" => FieldKind::Event,
        "name" => FieldKind::Name,
        "userId" => FieldKind::UserId,
        "context" => FieldKind::Context,
        "properties" => FieldKind::Property,
        "traits" => FieldKind::Trait,
        s if OBJECT_PROTOTYPE.contains(&s) => FieldKind::Prototype,
        _ => return None,
    })
}

/// The package's field before it is checked: a path may still have no key.
#[derive(Debug, Clone)]
enum RawField {
    EventType,
    Event,
    Name,
    UserId,
    Property(String),
    Trait(String),
    Context(String),
}

/// A node as the package builds it; `None` children are the `undefined` of an empty `()`.
#[derive(Debug, Clone)]
enum Raw {
    Group {
        operator: String,
        children: Vec<Option<Raw>>,
    },
    Field {
        field: RawField,
        operator: String,
        value: Option<Expected>,
    },
}

/// `getTokenValue`.
fn token_value(token: &Token) -> Expected {
    match token.kind {
        Kind::String => {
            let s = token.value.strip_prefix('"').unwrap_or(&token.value);
            let s = s.strip_suffix('"').unwrap_or(s);
            Expected::String(JsString::from(s))
        }
        Kind::Number => Expected::Number(string_to_number(&token.value)),
        Kind::Ident if token.value == "true" => Expected::Bool(true),
        Kind::Ident if token.value == "false" => Expected::Bool(false),
        _ => Expected::String(JsString::from(token.value.as_str())),
    }
}

/// `String(getTokenValue(token))`.
fn token_string(token: &Token) -> JsString {
    match token_value(token) {
        Expected::String(s) => s,
        Expected::Number(n) => JsString::from(number_to_string(n).as_str()),
        Expected::Bool(b) => JsString::from(if b { "true" } else { "false" }),
    }
}

fn is_function(token: &Token) -> bool {
    token.kind == Kind::Ident && (token.value == "contains" || token.value == "match")
}

/// The field a function's first argument names; `None` for anything else (`type` included),
/// which the package silently makes nothing of.
fn function_field(name: &str) -> Option<RawField> {
    match name {
        "event" => return Some(RawField::Event),
        "name" => return Some(RawField::Name),
        "userId" => return Some(RawField::UserId),
        _ => {}
    }
    // `/^(properties)/.test(name)`, then `name.replace(/^(properties)\./, '')`.
    for (prefix, make) in [
        ("properties", RawField::Property as fn(String) -> RawField),
        ("traits", RawField::Trait),
        ("context", RawField::Context),
    ] {
        if let Some(rest) = name.strip_prefix(prefix) {
            let path = rest.strip_prefix('.').unwrap_or(name);
            return Some(make(path.to_owned()));
        }
    }
    None
}

/// The path after `properties.` (`replace(/^(properties)\./, '')`): the whole text when the
/// prefix and its dot are not both there.
fn path_after(value: &str, prefix: &str) -> String {
    value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('.'))
        .unwrap_or(value)
        .to_owned()
}

/// `parseFqlFunction`.
fn parse_function(
    name: &str,
    nodes: &mut Vec<Option<Raw>>,
    tokens: &mut VecDeque<Token>,
    negate: bool,
    notes: &mut Vec<Note>,
) -> Result<(), TriggerError> {
    let function = if name == "contains" {
        "contains"
    } else {
        "match"
    };
    // "(", the field, ",", the value, ")": the punctuation is skipped unread.
    tokens.pop_front();
    let field_token = tokens.pop_front().ok_or(TriggerError::MissingArgument {
        function,
        position: "1st",
    })?;
    tokens.pop_front();
    let value_token = tokens.pop_front().ok_or(TriggerError::MissingArgument {
        function,
        position: "2nd",
    })?;
    tokens.pop_front();

    let (operator, value) = if function == "contains" {
        let op = if negate { "not_contains" } else { "contains" };
        (op, token_string(&value_token))
    } else if value_token.value.ends_with("*\"") {
        let op = if negate {
            "not_starts_with"
        } else {
            "starts_with"
        };
        (op, token_string(&value_token).without_last_unit())
    } else {
        if !value_token.value.starts_with("\"*") {
            notes.push(Note::MatchWithoutStar {
                pattern: value_token.value.clone(),
            });
        }
        let op = if negate { "not_ends_with" } else { "ends_with" };
        (op, token_string(&value_token).without_first_unit())
    };
    note_quotes(&value_token, notes);
    if let Some(field) = function_field(&field_token.value) {
        nodes.push(Some(Raw::Field {
            field,
            operator: operator.to_owned(),
            value: Some(Expected::String(value)),
        }));
    } else {
        notes.push(Note::FunctionFieldIgnored {
            function,
            field: field_token.value,
        });
    }
    Ok(())
}

fn note_quotes(value: &Token, notes: &mut Vec<Note>) {
    if value.kind == Kind::String && value.value.starts_with('\'') {
        notes.push(Note::SingleQuotes {
            value: value.value.clone(),
        });
    }
}

/// One comparison `<ident> <operator token> <value token>`.
fn parse_comparison(kind: FieldKind, ident: &str, operator: &Token, value: &Token) -> Option<Raw> {
    let is_true = operator.value == "=" && value.value == "true";
    let is_false = operator.value == "=" && value.value == "false";
    let is_exists = operator.value == "!=" && value.value == "null";
    let is_not_exists = operator.value == "=" && value.value == "null";
    let is_number_equals = operator.value == "=" && value.kind == Kind::Number;
    let is_number_not_equals = operator.value == "!=" && value.kind == Kind::Number;

    let node = |field: RawField, op: &str, value: Option<Expected>| Raw::Field {
        field,
        operator: op.to_owned(),
        value,
    };
    let as_string = || Some(Expected::String(token_string(value)));
    Some(match kind {
        FieldKind::Prototype => return None,
        FieldKind::Event => node(RawField::Event, &operator.value, as_string()),
        FieldKind::EventType => node(RawField::EventType, &operator.value, as_string()),
        FieldKind::Name if is_exists => node(RawField::Name, "exists", None),
        FieldKind::Name if is_not_exists => node(RawField::Name, "not_exists", None),
        FieldKind::Name => node(RawField::Name, &operator.value, as_string()),
        FieldKind::UserId if is_exists => node(RawField::UserId, "exists", None),
        FieldKind::UserId if is_not_exists => node(RawField::UserId, "not_exists", None),
        FieldKind::UserId if is_true => node(RawField::UserId, "is_true", None),
        FieldKind::UserId if is_false => node(RawField::UserId, "is_false", None),
        FieldKind::UserId => node(RawField::UserId, &operator.value, as_string()),
        FieldKind::Property | FieldKind::Trait | FieldKind::Context => {
            let field = match kind {
                FieldKind::Property => RawField::Property(path_after(ident, "properties")),
                FieldKind::Trait => RawField::Trait(path_after(ident, "traits")),
                _ => RawField::Context(path_after(ident, "context")),
            };
            let typed = Some(token_value(value));
            if is_exists {
                node(field, "exists", None)
            } else if is_not_exists {
                node(field, "not_exists", None)
            } else if is_true {
                node(field, "is_true", None)
            } else if is_false {
                node(field, "is_false", None)
            } else if is_number_equals {
                node(field, "number_equals", typed)
            } else if is_number_not_equals {
                node(field, "number_not_equals", typed)
            } else {
                node(field, &operator.value, typed)
            }
        }
    })
}

/// `parse`: the condition of these tokens, `None` when they hold none (the package's
/// `undefined`).
fn parse_tokens(
    mut tokens: VecDeque<Token>,
    notes: &mut Vec<Note>,
) -> Result<Option<Raw>, TriggerError> {
    let mut nodes: Vec<Option<Raw>> = Vec::new();
    let mut operator = "and".to_owned();
    let mut joiners_seen: Vec<String> = Vec::new();
    while let Some(token) = tokens.pop_front() {
        if token.kind == Kind::Eos {
            break;
        }
        if token.kind == Kind::Ident {
            let start = token.value.split('.').next().unwrap_or_default();
            if let Some(kind) = field_kind(start) {
                let op = tokens.pop_front().ok_or(TriggerError::MissingOperator)?;
                let value = tokens.pop_front().ok_or(TriggerError::MissingValue)?;
                note_quotes(&value, notes);
                match parse_comparison(kind, &token.value, &op, &value) {
                    Some(node) => nodes.push(Some(node)),
                    None => notes.push(Note::UnknownIdentifier(token.value.clone())),
                }
            } else if is_function(&token) {
                parse_function(&token.value, &mut nodes, &mut tokens, false, notes)?;
            } else {
                notes.push(Note::UnknownIdentifier(token.value.clone()));
            }
        }
        if token.kind == Kind::Operator && token.value == "!" {
            // `isFqlFunction(tokens[0])` reads `.type` of nothing when `!` ends the tokens: the
            // TypeError of no condition. Unreachable, as the lexer makes `!` only before a letter
            // or `(`, but total.
            let next = tokens.front().ok_or(TriggerError::NoCondition)?;
            if is_function(next) {
                let name = next.value.clone();
                tokens.pop_front();
                parse_function(&name, &mut nodes, &mut tokens, true, notes)?;
            } else {
                notes.push(Note::NegationDropped);
            }
        }
        if token.kind == Kind::ParenLeft {
            let mut group = VecDeque::new();
            loop {
                // Reading `.type` of the token after the last one is the package's TypeError.
                let t = tokens
                    .pop_front()
                    .ok_or(TriggerError::UnclosedParenthesis)?;
                if t.kind == Kind::ParenRight {
                    break;
                }
                group.push_back(t);
            }
            if group.iter().any(is_function) {
                notes.push(Note::GroupEndedByFunction);
            }
            group.push_back(Token::eos());
            nodes.push(parse_tokens(group, notes)?);
        }
        if token.kind == Kind::Conditional {
            if !joiners_seen.contains(&token.value) {
                joiners_seen.push(token.value.clone());
            }
            operator = token.value.clone();
        }
        let read = matches!(
            token.kind,
            Kind::Ident | Kind::ParenLeft | Kind::Conditional | Kind::Eos
        ) || (token.kind == Kind::Operator && token.value == "!");
        if !read {
            notes.push(Note::SkippedToken(token.value));
        }
    }
    if joiners_seen.len() > 1 && nodes.len() > 1 {
        let used = if operator == "or" { "or" } else { "and" };
        notes.push(Note::MixedJoiners { used });
    }
    if nodes.len() > 1 {
        return Ok(Some(Raw::Group {
            operator,
            children: nodes,
        }));
    }
    Ok(nodes.into_iter().next().flatten())
}

/// The checked condition of a raw node.
fn check(raw: Raw) -> Result<Condition, Unsupported> {
    match raw {
        Raw::Group { operator, children } => {
            let operator = if operator == "or" {
                GroupOperator::Or
            } else {
                GroupOperator::And
            };
            let children = children
                .into_iter()
                .map(|child| child.ok_or(Unsupported::EmptyGroup).and_then(check))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Condition::Group { operator, children })
        }
        Raw::Field {
            field,
            operator,
            value,
        } => {
            let path = |name: String| Path::new(&name).ok_or(Unsupported::PathWithoutKey(name));
            let field = match field {
                RawField::EventType => Field::EventType,
                RawField::Event => Field::Event,
                RawField::Name => Field::Name,
                RawField::UserId => Field::UserId,
                RawField::Property(name) => Field::Property(path(name)?),
                RawField::Trait(name) => Field::Trait(path(name)?),
                RawField::Context(name) => Field::Context(path(name)?),
            };
            let operator = Operator::from_name(&operator).ok_or(Unsupported::Operator(operator))?;
            Ok(Condition::Field {
                field,
                operator,
                value,
            })
        }
    }
}

/// `parseFql`, then the checks of what this crate does not reproduce; `notes` gets what the
/// package silently made of the trigger.
pub(crate) fn parse(trigger: &str, notes: &mut Vec<Note>) -> Result<Condition, TriggerError> {
    // `lex` swallows its error and gives no tokens, so `parse` finds no condition.
    let tokens = lex(trigger).map_err(TriggerError::Lex)?;
    let raw = parse_tokens(normalize(tokens), notes)?.ok_or(TriggerError::NoCondition)?;
    let raw = match raw {
        group @ Raw::Group { .. } => group,
        field => Raw::Group {
            operator: "and".to_owned(),
            children: vec![Some(field)],
        },
    };
    check(raw).map_err(TriggerError::Unsupported)
}
