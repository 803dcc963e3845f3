//! Talon.One's validation rules as plain functions: attribute names and types, value checks, identifiers.
//!
//! Nothing here knows about HTTP; the handlers turn a [`ValueProblem`] into an
//! [`crate::ApiError`] with the right pointer.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Longest accepted customer-profile integration id (Talon.One OpenAPI: `maxLength: 1000`).
pub const MAX_INTEGRATION_ID_LEN: usize = 1000;
/// Most profiles in one `PUT /v2/customer_profiles` (Talon.One: "up to 1000").
pub const MAX_BATCH_PROFILES: usize = 1000;
/// Most actions in one `POST /v2/customer_audiences` (Talon.One: "1000 audience actions").
pub const MAX_AUDIENCE_ACTIONS: usize = 1000;
/// Most suggestions on one attribute (Talon.One OpenAPI: `maxItems: 50`).
pub const MAX_SUGGESTIONS: usize = 50;

/// The entity an attribute belongs to (`NewAttribute.entity`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Entity {
    /// `Application`
    Application,
    /// `Campaign`
    Campaign,
    /// `CustomerProfile`: the only entity the profile endpoints accept.
    CustomerProfile,
    /// `CustomerSession`
    CustomerSession,
    /// `CartItem`
    CartItem,
    /// `Coupon`
    Coupon,
    /// `Event`
    Event,
    /// `Giveaway`
    Giveaway,
    /// `LoyaltyCard`
    LoyaltyCard,
    /// `Referral`
    Referral,
    /// `Store`
    Store,
}

impl Entity {
    /// The name Talon.One uses, e.g. `CustomerProfile`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Application => "Application",
            Self::Campaign => "Campaign",
            Self::CustomerProfile => "CustomerProfile",
            Self::CustomerSession => "CustomerSession",
            Self::CartItem => "CartItem",
            Self::Coupon => "Coupon",
            Self::Event => "Event",
            Self::Giveaway => "Giveaway",
            Self::LoyaltyCard => "LoyaltyCard",
            Self::Referral => "Referral",
            Self::Store => "Store",
        }
    }
}

/// An attribute type (`NewAttribute.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AttrType {
    /// `string`: a JSON string.
    #[serde(rename = "string")]
    String,
    /// `number`: a JSON number.
    #[serde(rename = "number")]
    Number,
    /// `boolean`: `true` or `false`, never `"true"`.
    #[serde(rename = "boolean")]
    Boolean,
    /// `time`: an RFC 3339 date-time string.
    #[serde(rename = "time")]
    Time,
    /// `location`: chosen here as the string `"<latitude>,<longitude>"`.
    #[serde(rename = "location")]
    Location,
    /// `(list string)`
    #[serde(rename = "(list string)")]
    ListString,
    /// `(list number)`
    #[serde(rename = "(list number)")]
    ListNumber,
    /// `(list time)`
    #[serde(rename = "(list time)")]
    ListTime,
    /// `(list location)`
    #[serde(rename = "(list location)")]
    ListLocation,
}

impl AttrType {
    /// The name Talon.One uses, e.g. `(list string)`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Time => "time",
            Self::Location => "location",
            Self::ListString => "(list string)",
            Self::ListNumber => "(list number)",
            Self::ListTime => "(list time)",
            Self::ListLocation => "(list location)",
        }
    }

    fn element(self) -> Option<Self> {
        match self {
            Self::ListString => Some(Self::String),
            Self::ListNumber => Some(Self::Number),
            Self::ListTime => Some(Self::Time),
            Self::ListLocation => Some(Self::Location),
            _ => None,
        }
    }
}

/// Why a value does not fit its attribute type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    /// The JSON kind is wrong (e.g. `"true"` for a boolean, `null` for anything).
    #[error("expected {expected}, got {got}")]
    WrongKind {
        /// What the type needs.
        expected: &'static str,
        /// What was sent.
        got: &'static str,
    },
    /// A `time` string that is not RFC 3339.
    #[error("{0:?} is not an RFC 3339 date-time")]
    NotRfc3339(String),
    /// A `location` string that is not `"<lat>,<lon>"` within range.
    #[error("{0:?} is not a location \"<latitude>,<longitude>\"")]
    NotLocation(String),
    /// A list element is wrong; the index is added to the pointer.
    #[error("element {index}: {inner}")]
    Element {
        /// Index of the element in the list.
        index: usize,
        /// What is wrong with it.
        inner: Box<ValueProblem>,
    },
}

impl ValueProblem {
    /// The pointer suffix below the attribute (`""` or `/3` for a list element).
    pub fn pointer_suffix(&self) -> String {
        match self {
            Self::Element { index, inner } => format!("/{index}{}", inner.pointer_suffix()),
            _ => String::new(),
        }
    }
}

/// The type the deprecated Segment relay endpoints give a new attribute from its value
/// ("auto-type detection", documented without its rules; chosen here: a boolean, a number, a
/// string — never a time or location —, or a non-empty list of strings or of numbers), or
/// why it cannot be detected.
pub fn detect_type(v: &Value) -> Result<AttrType, &'static str> {
    match v {
        Value::Bool(_) => Ok(AttrType::Boolean),
        Value::Number(_) => Ok(AttrType::Number),
        Value::String(_) => Ok(AttrType::String),
        Value::Array(items) if items.is_empty() => Err("an empty list"),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(AttrType::ListString),
        Value::Array(items) if items.iter().all(Value::is_number) => Ok(AttrType::ListNumber),
        Value::Array(_) => Err("a list that is neither all strings nor all numbers"),
        Value::Null => Err("null"),
        Value::Object(_) => Err("an object"),
    }
}

/// The JSON kind of a value, as used in messages.
pub fn kind_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks a value against an attribute type. No coercion: `"12"` is not a number.
pub fn check_value(ty: AttrType, v: &Value) -> Result<(), ValueProblem> {
    if let Some(elem) = ty.element() {
        let Value::Array(items) = v else {
            return Err(ValueProblem::WrongKind {
                expected: ty.as_str(),
                got: kind_name(v),
            });
        };
        for (index, item) in items.iter().enumerate() {
            check_value(elem, item).map_err(|inner| ValueProblem::Element {
                index,
                inner: Box::new(inner),
            })?;
        }
        return Ok(());
    }
    let wrong = || ValueProblem::WrongKind {
        expected: ty.as_str(),
        got: kind_name(v),
    };
    match (ty, v) {
        (AttrType::String, Value::String(_))
        | (AttrType::Number, Value::Number(_))
        | (AttrType::Boolean, Value::Bool(_)) => Ok(()),
        (AttrType::Time, Value::String(s)) => {
            if is_rfc3339(s) {
                Ok(())
            } else {
                Err(ValueProblem::NotRfc3339(truncate(s)))
            }
        }
        (AttrType::Location, Value::String(s)) => {
            if is_location(s) {
                Ok(())
            } else {
                Err(ValueProblem::NotLocation(truncate(s)))
            }
        }
        _ => Err(wrong()),
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

/// True for an RFC 3339 date-time such as `2024-01-31T12:00:00Z` or `2024-01-31T12:00:00.5+02:00`.
///
/// Stricter than the `time` crate alone: the date and time are separated by an
/// upper-case `T` and UTC is an upper-case `Z`, as Go's `time.RFC3339` layout
/// (Talon.One's backend language) requires.
pub fn is_rfc3339(s: &str) -> bool {
    s.as_bytes().get(10) == Some(&b'T')
        && !s.ends_with('z')
        && OffsetDateTime::parse(s, &Rfc3339).is_ok()
}

/// True for `"<latitude>,<longitude>"` with latitude in [-90, 90] and longitude in [-180, 180].
pub fn is_location(s: &str) -> bool {
    let Some((lat, lon)) = s.split_once(',') else {
        return false;
    };
    let parse = |x: &str| x.trim().parse::<f64>().ok().filter(|f| f.is_finite());
    matches!((parse(lat), parse(lon)), (Some(a), Some(o)) if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&o))
}

/// `NewAttribute.name` pattern `^[A-Za-z]\w*$` (`\w` = ASCII letters, digits, underscore).
pub fn is_valid_attribute_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `NewAttribute.title` pattern `^[A-Za-z][A-Za-z0-9_.!~*'() -]*$`.
pub fn is_valid_attribute_title(title: &str) -> bool {
    let mut chars = title.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.!~*'() -".contains(c))
}

/// Checks a customer-profile integration id: non-empty, at most 1000 characters.
pub fn check_integration_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the integration id must not be empty".to_owned());
    }
    let n = id.chars().count();
    if n > MAX_INTEGRATION_ID_LEN {
        return Err(format!(
            "the integration id has {n} characters; at most {MAX_INTEGRATION_ID_LEN} are allowed"
        ));
    }
    Ok(())
}

/// Formats unix nanoseconds as RFC 3339 in UTC, e.g. `2024-01-01T00:00:00Z`.
pub fn format_time(nanos: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(nanos))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Parses an RFC 3339 string into unix nanoseconds.
pub fn parse_time(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_is_named_as_talon_one_and_the_state_file_name_it() {
        use Entity::*;
        for e in [
            Application,
            Campaign,
            CustomerProfile,
            CustomerSession,
            CartItem,
            Coupon,
            Event,
            Giveaway,
            LoyaltyCard,
            Referral,
            Store,
        ] {
            assert_eq!(serde_json::to_value(e).ok(), Some(e.as_str().into()));
        }
    }
    use serde_json::json;

    #[test]
    fn attribute_names_follow_talon_pattern() {
        for ok in ["email", "Email", "address_city", "a1", "A_"] {
            assert!(is_valid_attribute_name(ok), "{ok}");
        }
        for bad in ["", "first-name", "_x", "1x", "a.b", "é", "a b"] {
            assert!(!is_valid_attribute_name(bad), "{bad}");
        }
    }

    #[test]
    fn titles_allow_spaces_and_punctuation_but_start_with_a_letter() {
        assert!(is_valid_attribute_title("Page view (web) - v2.0!"));
        assert!(!is_valid_attribute_title(" x"));
        assert!(!is_valid_attribute_title("x#"));
    }

    #[test]
    fn values_are_never_coerced() {
        assert!(check_value(AttrType::Boolean, &json!(true)).is_ok());
        assert!(check_value(AttrType::Boolean, &json!("true")).is_err());
        assert!(check_value(AttrType::Number, &json!("12")).is_err());
        assert!(check_value(AttrType::Number, &json!(12.5)).is_ok());
        assert!(check_value(AttrType::String, &json!(12)).is_err());
        assert!(check_value(AttrType::String, &Value::Null).is_err());
    }

    #[test]
    fn time_values_must_be_rfc3339() {
        assert!(check_value(AttrType::Time, &json!("2024-01-31T12:00:00Z")).is_ok());
        assert!(check_value(AttrType::Time, &json!("2024-01-31T12:00:00.123+02:00")).is_ok());
        for bad in [
            "2024-01-31",
            "2024-01-31 12:00:00Z",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-01-31t12:00:00z",
        ] {
            assert!(check_value(AttrType::Time, &json!(bad)).is_err(), "{bad}");
        }
        assert!(check_value(AttrType::Time, &json!(1_700_000_000)).is_err());
    }

    #[test]
    fn list_elements_are_checked_and_pointed_at() {
        assert!(check_value(AttrType::ListString, &json!(["a", "b"])).is_ok());
        let err = check_value(AttrType::ListNumber, &json!([1, "2"])).unwrap_err();
        assert_eq!(err.pointer_suffix(), "/1");
        assert!(check_value(AttrType::ListString, &json!("a")).is_err());
    }

    #[test]
    fn locations_are_lat_comma_lon_in_range() {
        assert!(is_location("52.52,13.405"));
        assert!(is_location("-90, 180"));
        assert!(!is_location("91,0"));
        assert!(!is_location("52.52"));
        assert!(!is_location("NaN,1"));
    }

    #[test]
    fn integration_ids_are_limited_to_1000_characters() {
        assert!(check_integration_id(&"x".repeat(1000)).is_ok());
        assert!(check_integration_id(&"x".repeat(1001)).is_err());
        assert!(check_integration_id("").is_err());
    }

    #[test]
    fn times_round_trip_through_nanoseconds() {
        let n = parse_time("2024-01-01T00:00:00Z").unwrap_or_default();
        assert_eq!(format_time(n), "2024-01-01T00:00:00Z");
    }
}
