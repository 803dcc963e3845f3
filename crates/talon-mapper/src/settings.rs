//! The classic destination's settings, parsed and validated at the edge.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value};
use thiserror::Error;

/// The destination's settings, valid by construction.
///
/// Segment stores them as `{"apiKey": string, "applicationDomain": string,
/// "customAttributes": [string]}`; [`Settings::parse`] reads exactly that.
///
/// ```
/// use talon_mapper::Settings;
/// let settings = Settings::parse(
///     r#"{"apiKey":"k","applicationDomain":"https://demo.talon.one/","customAttributes":["email"]}"#,
/// )?;
/// assert_eq!(settings.base_url(), "https://demo.talon.one");
/// assert!(settings.is_configured("email"));
/// # Ok::<(), talon_mapper::SettingsErrors>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    api_key: String,
    base_url: String,
    /// Sorted, unique.
    custom_attributes: Vec<String>,
    /// The same names sorted by (length, bytes): a lookup then compares
    /// lengths first and bytes only between names of equal length.
    lookup: Vec<String>,
    /// `Authorization` header value, shared by every request.
    authorization: Arc<str>,
    /// `Content-Type` header value, shared by every request.
    content_type: Arc<str>,
    /// `(near form, name)` of each configured name, sorted: the near form
    /// is lowercased with `.` as `_`.
    near: Vec<(Vec<u8>, String)>,
}

/// One problem with the settings. Every problem is reported, not just the first.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettingsError {
    /// The settings are not JSON.
    #[error("settings are not valid JSON: {0}")]
    InvalidJson(String),
    /// The settings are JSON but not an object.
    #[error("settings must be a JSON object, found {found}")]
    NotAnObject {
        /// The JSON type found.
        found: &'static str,
    },
    /// A required setting is absent.
    #[error("`{field}` is missing")]
    Missing {
        /// The setting's name.
        field: &'static str,
    },
    /// A setting has the wrong JSON type.
    #[error("`{field}` must be {expected}, found {found}")]
    WrongType {
        /// The setting's name.
        field: &'static str,
        /// The expected JSON type.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// `apiKey` is an empty string.
    #[error("`apiKey` is empty")]
    EmptyApiKey,
    /// `applicationDomain` is not an absolute URL.
    #[error("`applicationDomain` {value:?} is not an absolute URL: {reason}")]
    DomainNotUrl {
        /// The value given.
        value: String,
        /// What the URL parser said.
        reason: String,
    },
    /// `applicationDomain` uses a scheme other than http or https.
    #[error("`applicationDomain` {value:?} must use http or https, not {scheme:?}")]
    DomainScheme {
        /// The value given.
        value: String,
        /// The scheme found.
        scheme: String,
    },
    /// `applicationDomain` has a path (only a trailing `/` is allowed).
    #[error(
        "`applicationDomain` {value:?} has a path {path:?}; give the deployment's base URL, e.g. https://demo.talon.one"
    )]
    DomainPath {
        /// The value given.
        value: String,
        /// The path found.
        path: String,
    },
    /// `applicationDomain` has a query or a fragment.
    #[error("`applicationDomain` {value:?} has a query or fragment; give the base URL only")]
    DomainQuery {
        /// The value given.
        value: String,
    },
    /// `applicationDomain` carries a user name or password.
    #[error("`applicationDomain` {value:?} carries credentials; put the key in `apiKey`")]
    DomainCredentials {
        /// The value given.
        value: String,
    },
    /// A `customAttributes` entry is not a string.
    #[error("`customAttributes[{index}]` must be a string, found {found}")]
    AttributeNotString {
        /// Position in the list.
        index: usize,
        /// The JSON type found.
        found: &'static str,
    },
    /// A `customAttributes` entry cannot be a Talon.One attribute name.
    #[error("`customAttributes[{index}]` {name:?} is not a valid Talon.One attribute name (^[A-Za-z]\\w*$){}", invalid_name_hint(name, suggestion.as_deref()))]
    InvalidAttributeName {
        /// Position in the list.
        index: usize,
        /// The name given.
        name: String,
        /// A valid spelling, when one is obvious (`address.city` → `address_city`).
        suggestion: Option<String>,
    },
    /// A `customAttributes` entry appears twice.
    #[error("`customAttributes[{index}]` {name:?} duplicates `customAttributes[{first}]`")]
    DuplicateAttribute {
        /// Position of the repeat.
        index: usize,
        /// Position of the first occurrence.
        first: usize,
        /// The name.
        name: String,
    },
}

impl SettingsError {
    /// Whether mapping can still go on with this problem (the entry is
    /// kept or skipped), as [`Settings::parse_lenient`] does.
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            Self::AttributeNotString { .. }
                | Self::InvalidAttributeName { .. }
                | Self::DuplicateAttribute { .. }
        )
    }
}

/// Every problem found in a settings document.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub struct SettingsErrors(pub Vec<SettingsError>);

impl fmt::Display for SettingsErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid destination settings:")?;
        for error in &self.0 {
            write!(f, "\n  - {error}")?;
        }
        Ok(())
    }
}

/// Whether `name` can be a Talon.One attribute name: `^[A-Za-z]\w*$`,
/// where `\w` is ASCII letters, digits and `_` (Talon.One's pattern, from
/// the Management API's `NewAttribute.name`).
pub fn is_valid_attribute_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The form two names share when they differ only by ASCII case or by `.`
/// where `_` belongs, byte by byte (no allocation).
fn near_form(name: &str) -> impl Iterator<Item = u8> + '_ {
    name.bytes().map(|b| {
        if b == b'.' {
            b'_'
        } else {
            b.to_ascii_lowercase()
        }
    })
}

pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// How a flattened key relates to Custom Attributes when it is not listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NearMiss<'s> {
    /// Listed with other case: `Email` vs `email`.
    Case(&'s str),
    /// Listed in dotted form: `address.city` vs `address_city`.
    Dotted(&'s str),
}

impl Settings {
    /// Builds settings from their parts, validating them strictly.
    pub fn new(
        api_key: &str,
        application_domain: &str,
        custom_attributes: &[&str],
    ) -> Result<Self, SettingsErrors> {
        let mut object = Map::new();
        object.insert("apiKey".into(), api_key.into());
        object.insert("applicationDomain".into(), application_domain.into());
        object.insert("customAttributes".into(), custom_attributes.into());
        Self::from_value(&Value::Object(object))
    }

    /// Parses Segment's settings JSON; any problem is an error, and all
    /// problems are reported at once.
    pub fn parse(json: &str) -> Result<Self, SettingsErrors> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| SettingsErrors(vec![SettingsError::InvalidJson(e.to_string())]))?;
        Self::from_value(&value)
    }

    /// Validates settings already parsed as JSON, strictly.
    pub fn from_value(value: &Value) -> Result<Self, SettingsErrors> {
        let (settings, problems) = Self::build(value);
        match settings {
            Some(settings) if problems.is_empty() => Ok(settings),
            _ => Err(SettingsErrors(problems)),
        }
    }

    /// Parses settings the way Segment would store them even when some
    /// `customAttributes` entries are invalid or repeated: those problems
    /// come back beside the settings (invalid names are kept, as Segment
    /// keeps them; repeats and non-strings are skipped). Only problems that
    /// make mapping impossible (see [`SettingsError::is_fatal`]) are errors.
    pub fn parse_lenient(json: &str) -> Result<(Self, Vec<SettingsError>), SettingsErrors> {
        let value: Value = serde_json::from_str(json)
            .map_err(|e| SettingsErrors(vec![SettingsError::InvalidJson(e.to_string())]))?;
        let (settings, problems) = Self::build(&value);
        match settings {
            Some(settings) if !problems.iter().any(SettingsError::is_fatal) => {
                Ok((settings, problems))
            }
            _ => Err(SettingsErrors(problems)),
        }
    }

    /// Validates everything, collecting every problem; the settings come
    /// back when no fatal problem was found.
    fn build(value: &Value) -> (Option<Self>, Vec<SettingsError>) {
        let mut problems = Vec::new();
        let Value::Object(object) = value else {
            problems.push(SettingsError::NotAnObject {
                found: json_type(value),
            });
            return (None, problems);
        };
        let api_key = string_field(object, "apiKey", &mut problems);
        if api_key.is_some_and(str::is_empty) {
            problems.push(SettingsError::EmptyApiKey);
        }
        let base_url = string_field(object, "applicationDomain", &mut problems)
            .and_then(|domain| validate_domain(domain, &mut problems));
        let attributes = attributes_field(object, &mut problems);
        if problems.iter().any(SettingsError::is_fatal) {
            return (None, problems);
        }
        let (Some(api_key), Some(base_url)) = (api_key, base_url) else {
            return (None, problems);
        };
        let mut near: Vec<(Vec<u8>, String)> = attributes
            .iter()
            .map(|name| (near_form(name).collect(), name.clone()))
            .collect();
        near.sort_unstable();
        let mut custom_attributes = attributes;
        custom_attributes.sort_unstable();
        let mut lookup = custom_attributes.clone();
        lookup.sort_unstable_by(|a, b| by_length(a, b));
        let settings = Self {
            authorization: Arc::from(format!("ApiKey-v1 {api_key}")),
            content_type: Arc::from("application/json"),
            api_key: api_key.to_owned(),
            base_url,
            custom_attributes,
            lookup,
            near,
        };
        (Some(settings), problems)
    }

    /// The Integration API key.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The deployment's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The configured Custom Attributes, sorted.
    pub fn custom_attributes(&self) -> &[String] {
        &self.custom_attributes
    }

    /// The `Authorization` header value: `ApiKey-v1 <apiKey>`.
    pub fn authorization(&self) -> &Arc<str> {
        &self.authorization
    }

    /// The `Content-Type` header value: `application/json`.
    pub fn content_type(&self) -> &Arc<str> {
        &self.content_type
    }

    /// Whether `key` is listed in Custom Attributes, byte for byte.
    pub fn is_configured(&self, key: &str) -> bool {
        self.lookup
            .binary_search_by(|name| by_length(name, key))
            .is_ok()
    }

    /// For a key that is not listed: the listed name it nearly matches.
    pub fn near_miss(&self, key: &str) -> Option<NearMiss<'_>> {
        let start = self
            .near
            .partition_point(|(form, _)| form.iter().copied().lt(near_form(key)));
        let (_, name) = self.near[start..]
            .iter()
            .take_while(|(form, _)| form.iter().copied().eq(near_form(key)))
            .find(|(_, name)| name.as_str() != key)?;
        Some(if name.contains('.') {
            NearMiss::Dotted(name)
        } else {
            NearMiss::Case(name)
        })
    }
}

fn by_length(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

fn string_field<'v>(
    object: &'v Map<String, Value>,
    field: &'static str,
    problems: &mut Vec<SettingsError>,
) -> Option<&'v str> {
    match object.get(field) {
        None => {
            problems.push(SettingsError::Missing { field });
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(other) => {
            problems.push(SettingsError::WrongType {
                field,
                expected: "a string",
                found: json_type(other),
            });
            None
        }
    }
}

fn validate_domain(domain: &str, problems: &mut Vec<SettingsError>) -> Option<String> {
    let value = domain.to_owned();
    let url = match url::Url::parse(domain) {
        Ok(url) => url,
        Err(e) => {
            problems.push(SettingsError::DomainNotUrl {
                value,
                reason: e.to_string(),
            });
            return None;
        }
    };
    let before = problems.len();
    if !matches!(url.scheme(), "http" | "https") {
        problems.push(SettingsError::DomainScheme {
            value: value.clone(),
            scheme: url.scheme().to_owned(),
        });
    }
    if url.host_str().is_none_or(str::is_empty) {
        problems.push(SettingsError::DomainNotUrl {
            value: value.clone(),
            reason: "no host".into(),
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        problems.push(SettingsError::DomainCredentials {
            value: value.clone(),
        });
    }
    if !matches!(url.path(), "" | "/") {
        problems.push(SettingsError::DomainPath {
            value: value.clone(),
            path: url.path().to_owned(),
        });
    }
    if url.query().is_some() || url.fragment().is_some() {
        problems.push(SettingsError::DomainQuery { value });
    }
    (problems.len() == before).then(|| url.as_str().trim_end_matches('/').to_owned())
}

fn attributes_field(object: &Map<String, Value>, problems: &mut Vec<SettingsError>) -> Vec<String> {
    let field = "customAttributes";
    let items = match object.get(field) {
        None => {
            problems.push(SettingsError::Missing { field });
            return Vec::new();
        }
        Some(Value::Array(items)) => items,
        Some(other) => {
            problems.push(SettingsError::WrongType {
                field,
                expected: "an array of strings",
                found: json_type(other),
            });
            return Vec::new();
        }
    };
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut names = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let Value::String(name) = item else {
            problems.push(SettingsError::AttributeNotString {
                index,
                found: json_type(item),
            });
            continue;
        };
        if let Some(&first) = seen.get(name.as_str()) {
            problems.push(SettingsError::DuplicateAttribute {
                index,
                first,
                name: name.clone(),
            });
            continue;
        }
        seen.insert(name, index);
        if !is_valid_attribute_name(name) {
            let fixed: String = name
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let suggestion = (is_valid_attribute_name(&fixed) && fixed != *name).then_some(fixed);
            problems.push(SettingsError::InvalidAttributeName {
                index,
                name: name.clone(),
                suggestion,
            });
        }
        names.push(name.clone());
    }
    names
}

/// The end of [`SettingsError::InvalidAttributeName`]'s message: what to write
/// instead. A `.` gets its own words (nested traits flatten with `_`); any
/// other character just the valid spelling.
fn invalid_name_hint(name: &str, suggestion: Option<&str>) -> String {
    match suggestion {
        None => String::new(),
        Some(s) if name.contains('.') && name.replace('.', "_") == s => format!(
            "; Segment flattens nested traits with `_`, not `.`: write {s:?}, the name the flattened trait has"
        ),
        Some(s) => format!("; did you mean {s:?}?"),
    }
}
