//! What the `actions_map` fuzz target and the stable test share: (event, subscription) pairs
//! drawn from any source of choices (mapping-kit's structure-aware generators, with the
//! actions' own field names and Segment's event types mixed in), and the oracle [`check`]:
//! mapping is total, deterministic, and every request is well formed.

use segment_mapping::fuzz::{Source, mapping, payload};
use segment_mapping::{Object, Value};

use super::{Action, ActionsConfig, RELAY};
use crate::{Destination, map};

const TRIGGERS: [&str; 6] = [
    "type = \"identify\"",
    "type = \"track\" or type = \"identify\"",
    "type = \"track\" and event = \"a\"",
    "properties.a = \"x\" or type = \"identify\"",
    "traits.a != null",
    "type = \"page\" or type = \"group\" or type = \"track\"",
];
const TYPES: [&str; 5] = ["identify", "track", "page", "group", "alias"];
const IDS: [&str; 12] = [
    "u1",
    "a#b",
    "a?b",
    "../x",
    "..",
    ".",
    "a\\b",
    "tab\tid",
    " lead",
    "trail ",
    "%2e%2E",
    "^[]()!*&$@%",
];
const FIELDS: [&str; 14] = [
    "customerProfileId",
    "attributes",
    "skipNonExistingAttributes",
    "addAudienceIds",
    "deleteAudienceIds",
    "eventType",
    "customerSessionId",
    "cartItems",
    "audienceId",
    "audienceName",
    "data",
    "customerSession",
    "callbackDestination",
    "runRuleEngine",
];

/// One pair: the subscriptions file (text) and the event (text).
pub fn case(src: &mut impl Source) -> (String, String) {
    let action = Action::ALL[src.below(Action::ALL.len())];
    let trigger = TRIGGERS[src.below(TRIGGERS.len())];
    let mut settings = Object::new();
    for _ in 0..src.below(3) {
        let key = FIELDS[src.below(FIELDS.len())];
        settings.insert(key.to_owned(), mapping(src, 2));
    }
    // The required fields, often given, so that requests (and odd ids in URLs) are reached.
    for key in [
        "customerProfileId",
        "eventType",
        "customerSessionId",
        "audienceId",
        "audienceName",
        "type",
    ] {
        match src.below(4) {
            0 => {}
            1 => settings.insert(
                key.to_owned(),
                Value::String(IDS[src.below(IDS.len())].into()),
            ),
            _ => {
                let mut path = Object::new();
                path.insert("@path".into(), Value::String("$.userId".into()));
                settings.insert(key.to_owned(), Value::Object(path));
            }
        }
    }
    if src.below(2) == 0 {
        settings.insert("customerSession".into(), Value::Object(Object::new()));
    }
    let mut subscription = Object::new();
    subscription.insert("name".into(), Value::String("fuzz".into()));
    subscription.insert("actionSlug".into(), Value::String(action.slug().into()));
    subscription.insert("trigger".into(), Value::String(trigger.into()));
    subscription.insert("settings".into(), Value::Object(settings));
    let subscriptions = Value::Array(vec![Value::Object(subscription)]);

    let mut event = match payload(src, 0) {
        Value::Object(object) => object,
        other => {
            let mut object = Object::new();
            object.insert("properties".into(), other);
            object
        }
    };
    event.insert(
        "type".into(),
        Value::String(TYPES[src.below(TYPES.len())].into()),
    );
    if src.below(3) != 0 {
        event.insert(
            "userId".into(),
            Value::String(IDS[src.below(IDS.len())].into()),
        );
    }
    for key in ["userId", "traits", "properties", "event"] {
        if src.below(2) == 0 {
            event.insert(key.into(), payload(src, 1));
        }
    }
    (
        subscriptions.to_json().unwrap_or_default(),
        Value::Object(event).to_json().unwrap_or_default(),
    )
}

/// The oracle: a configuration that parses maps the event twice to the same result, with a
/// skip exactly when there is no request, every request to the relay (no fragment), named
/// after its subscription, with a JSON body unless it is a DELETE.
///
/// # Errors
///
/// The violated property, in words.
pub fn check(settings: &str, subscriptions: &str, event: &[u8]) -> Result<(), String> {
    let Ok(config) = ActionsConfig::from_json(settings, subscriptions) else {
        return Ok(());
    };
    let destination = Destination::Actions(config);
    let mapped = map(&destination, event);
    if map(&destination, event) != mapped {
        return Err("mapping the same event twice differs".into());
    }
    if mapped.requests.is_empty() != mapped.skip.is_some() {
        return Err(format!(
            "a skip must come exactly when nothing is sent: {}",
            mapped.render()
        ));
    }
    for request in &mapped.requests {
        if !request.url.starts_with(RELAY) || request.url.contains('#') {
            return Err(format!(
                "a request outside the relay or with a fragment: {}",
                request.url
            ));
        }
        if request.subscription.is_none() {
            return Err("a request without its subscription".into());
        }
        let json_body = serde_json::from_str::<serde_json::Value>(&request.body).is_ok();
        if (request.method == "DELETE") == json_body {
            return Err(format!("{} with body {:?}", request.method, request.body));
        }
        if !request.url.ends_with(request.path()) || !request.path().starts_with('/') {
            return Err(format!(
                "the path of {} is not its end: {}",
                request.url,
                request.path()
            ));
        }
    }
    let _ = mapped.render();
    let _ = mapped.to_json(false);
    Ok(())
}
