//! Subscriptions as Segment's Public API lists them: `{"subscriptions": [...]}` or a bare
//! array of `{"id", "name", "actionId", "actionSlug", "destinationId", "modelId", "enabled",
//! "trigger", "settings"}`; unknown fields are kept.

use segment_mapping::{Object, Value};
use segment_subscriptions::Condition;

use super::ConfigError;
use super::definitions::Action;

/// One subscription: an action, its trigger and its field mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// `id`, or `""` when absent.
    pub id: String,
    /// `name`, or the id when absent: how requests and diagnostics name it.
    pub name: String,
    /// `actionSlug` as given.
    pub action_slug: String,
    /// The action it names; `None` for a slug this destination does not have (Segment
    /// ignores such a subscription).
    pub action: Option<Action>,
    /// `enabled` (absent: `true`, chosen here).
    pub enabled: bool,
    /// `trigger`, as written.
    pub trigger: String,
    /// The parsed trigger; `None` for a disabled subscription (never evaluated).
    pub condition: Option<Condition>,
    /// What the package silently makes of the trigger, in plain words.
    pub trigger_notes: Vec<String>,
    /// `settings`: the field mapping, in its key order.
    pub mapping: Value,
    /// The whole subscription as given, unknown fields included.
    pub raw: Object,
}

/// Parses a subscriptions file.
pub(crate) fn parse(json: &str) -> Result<Vec<Subscription>, ConfigError> {
    let value = Value::parse(json).map_err(|e| ConfigError::Subscriptions(e.to_string()))?;
    let list = match value {
        Value::Array(list) => list,
        Value::Object(mut object) => match object.remove("subscriptions") {
            Some(Value::Array(list)) => list,
            _ => {
                return Err(ConfigError::Subscriptions(
                    "an object must hold a `subscriptions` array".into(),
                ));
            }
        },
        other => {
            return Err(ConfigError::Subscriptions(format!(
                "must be an array or an object, got {}",
                other.type_name()
            )));
        }
    };
    list.into_iter()
        .enumerate()
        .map(|(index, item)| one(index, item))
        .collect()
}

fn one(index: usize, item: Value) -> Result<Subscription, ConfigError> {
    let Value::Object(raw) = item else {
        return Err(ConfigError::Subscriptions(format!(
            "subscription {index} must be an object, got {}",
            item.type_name()
        )));
    };
    let text = |key: &str| -> Result<Option<String>, ConfigError> {
        match raw.get(key) {
            None | Some(Value::Undefined | Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(ConfigError::Subscriptions(format!(
                "subscription {index}: `{key}` must be a string, got {}",
                other.type_name()
            ))),
        }
    };
    let id = text("id")?.unwrap_or_default();
    let name = text("name")?.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        if id.is_empty() {
            format!("#{index}")
        } else {
            id.clone()
        }
    });
    let action_slug = text("actionSlug")?.ok_or_else(|| ConfigError::Subscription {
        name: name.clone(),
        error: "`actionSlug` is required".into(),
    })?;
    let enabled = match raw.get("enabled") {
        None | Some(Value::Undefined) => true,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ConfigError::Subscription {
                name,
                error: format!("`enabled` must be a boolean, got {}", other.type_name()),
            });
        }
    };
    let trigger = text("trigger")?.unwrap_or_default();
    let mapping = match raw.get("settings") {
        None | Some(Value::Undefined | Value::Null) => Value::Object(Object::new()),
        Some(v @ Value::Object(_)) => v.clone(),
        Some(other) => {
            return Err(ConfigError::Subscription {
                name,
                error: format!("`settings` must be an object, got {}", other.type_name()),
            });
        }
    };
    let (condition, trigger_notes) = if enabled {
        let (parsed, notes) = segment_subscriptions::parse_with_notes(&trigger);
        let condition = parsed.map_err(|error| ConfigError::Trigger {
            name: name.clone(),
            trigger: trigger.clone(),
            error,
        })?;
        (
            Some(condition),
            notes.iter().map(ToString::to_string).collect(),
        )
    } else {
        (None, Vec::new())
    };
    Ok(Subscription {
        id,
        name,
        action: Action::from_slug(&action_slug),
        action_slug,
        enabled,
        trigger,
        condition,
        trigger_notes,
        mapping,
        raw,
    })
}
