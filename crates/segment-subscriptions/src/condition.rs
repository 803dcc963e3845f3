//! What a trigger parses to: the package's condition tree (`types.ts`), as plain data.

use std::fmt;

use crate::js::{JsString, number_to_string};

/// A parsed trigger: `parse` always gives a [`Condition::Group`] at the top, as `parseFql` does.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Children joined by one operator (`and` unless the group holds an `or`: the last
    /// conditional word of a group wins, see the crate docs).
    Group {
        /// `and` or `or`.
        operator: GroupOperator,
        /// One or more conditions.
        children: Vec<Condition>,
    },
    /// One comparison of one field of the event.
    Field {
        /// What it reads.
        field: Field,
        /// How it compares.
        operator: Operator,
        /// What it compares with; `None` for the operators that take none (`exists`,
        /// `not_exists`, `is_true`, `is_false`).
        value: Option<Expected>,
    },
}

/// How a group joins its children.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupOperator {
    /// Every child matches (JavaScript's `every`, left to right, stopping at the first miss).
    And,
    /// Some child matches (`some`, stopping at the first match).
    Or,
}

/// The part of the event a condition reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    /// `type` (the package's `event-type`).
    EventType,
    /// `event`.
    Event,
    /// `name`.
    Name,
    /// `userId`.
    UserId,
    /// `properties.<path>` (`event-property`).
    Property(Path),
    /// `traits.<path>` (`event-trait`).
    Trait(Path),
    /// `context.<path>` (`event-context`).
    Context(Path),
}

/// A property path as the package's `get` reads it: split on `.`, `[` and `]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// As written after `properties.` (the package's `name`).
    pub name: String,
    /// The keys `get` looks up, in order.
    pub keys: Vec<String>,
}

impl Path {
    /// The path of `name`, or `None` when `name` is not empty yet has no key (`.`, `[]`):
    /// the package's `get` throws a `TypeError` on such a path.
    pub(crate) fn new(name: &str) -> Option<Self> {
        let keys: Vec<String> = name
            .split(['.', '[', ']'])
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        if keys.is_empty() && !name.is_empty() {
            return None;
        }
        Some(Self {
            name: name.to_owned(),
            keys,
        })
    }
}

/// The package's comparison operators (`Operator` in `types.ts`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Operator {
    Equals,
    NotEquals,
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
    NumberEquals,
    NumberNotEquals,
    Contains,
    NotContains,
    StartsWith,
    NotStartsWith,
    EndsWith,
    NotEndsWith,
    Exists,
    NotExists,
    IsTrue,
    IsFalse,
}

impl Operator {
    /// Every operator, in the order of `types.ts`.
    pub const ALL: [Operator; 18] = [
        Self::Equals,
        Self::NotEquals,
        Self::LessThan,
        Self::LessThanOrEqual,
        Self::GreaterThan,
        Self::GreaterThanOrEqual,
        Self::NumberEquals,
        Self::Contains,
        Self::NotContains,
        Self::StartsWith,
        Self::NotStartsWith,
        Self::EndsWith,
        Self::NotEndsWith,
        Self::Exists,
        Self::NotExists,
        Self::IsTrue,
        Self::IsFalse,
        Self::NumberNotEquals,
    ];

    /// The package's name for it (`=`, `number_equals`, `contains`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equals => "=",
            Self::NotEquals => "!=",
            Self::LessThan => "<",
            Self::LessThanOrEqual => "<=",
            Self::GreaterThan => ">",
            Self::GreaterThanOrEqual => ">=",
            Self::NumberEquals => "number_equals",
            Self::NumberNotEquals => "number_not_equals",
            Self::Contains => "contains",
            Self::NotContains => "not_contains",
            Self::StartsWith => "starts_with",
            Self::NotStartsWith => "not_starts_with",
            Self::EndsWith => "ends_with",
            Self::NotEndsWith => "not_ends_with",
            Self::Exists => "exists",
            Self::NotExists => "not_exists",
            Self::IsTrue => "is_true",
            Self::IsFalse => "is_false",
        }
    }

    /// The operator the package's `validateValue` knows by this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == name)
    }
}

/// A condition's value, typed as the package's `getTokenValue` types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Expected {
    /// A string (quotes stripped from a `"…"` literal; a `'…'` literal keeps its quotes).
    String(JsString),
    /// A number literal (`Number(text)`).
    Number(f64),
    /// `true` or `false`.
    Bool(bool),
}

impl fmt::Display for Expected {
    /// As JavaScript's `String(value)` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write!(f, "{s}"),
            Self::Number(n) => f.write_str(&number_to_string(*n)),
            Self::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl fmt::Display for Condition {
    /// One line per node, indented, readable in a snapshot:
    /// `and` / `  event = "Order Completed"` / `  property price number_equals 5`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

impl Condition {
    fn write(&self, f: &mut fmt::Formatter<'_>, depth: usize) -> fmt::Result {
        let indent = "  ".repeat(depth);
        match self {
            Self::Group { operator, children } => {
                let op = match operator {
                    GroupOperator::And => "and",
                    GroupOperator::Or => "or",
                };
                writeln!(f, "{indent}{op}")?;
                for child in children {
                    child.write(f, depth + 1)?;
                }
                Ok(())
            }
            Self::Field {
                field,
                operator,
                value,
            } => {
                let field = match field {
                    Field::EventType => "type".to_owned(),
                    Field::Event => "event".to_owned(),
                    Field::Name => "name".to_owned(),
                    Field::UserId => "userId".to_owned(),
                    Field::Property(p) => format!("property {:?} {:?}", p.name, p.keys),
                    Field::Trait(p) => format!("trait {:?} {:?}", p.name, p.keys),
                    Field::Context(p) => format!("context {:?} {:?}", p.name, p.keys),
                };
                let value = match value {
                    None => String::new(),
                    Some(Expected::String(s)) => format!(" string {s:?}"),
                    Some(Expected::Number(n)) => format!(" number {}", number_to_string(*n)),
                    Some(Expected::Bool(b)) => format!(" boolean {b}"),
                };
                writeln!(f, "{indent}{field} {}{value}", operator.as_str())
            }
        }
    }
}
