//! The Talon.One (Actions) destination: subscriptions (trigger, mapping, action) over Segment's
//! mapping-kit ([`segment_mapping`]) and trigger grammar ([`segment_subscriptions`]).
//!
//! For one event, every **enabled** subscription whose trigger matches runs, in subscription
//! order: `transform(mapping, event)`, then `Fields::clean(…, true)` (destination-kit's
//! `removeEmptyValues` and Ajv), then the action's `perform`, which becomes one [`Request`]
//! carrying the subscription's name. A subscription whose payload fails validation gives no
//! request and a `rejected` diagnostic with Segment's own message; when no request is left, the
//! event is a [`Skip::Rejected`] (the first failure) or [`Skip::NoSubscription`].
//!
//! ```
//! use talon_mapper::actions::ActionsConfig;
//! use talon_mapper::{Destination, map};
//!
//! let config = ActionsConfig::from_json(
//!     r#"{"apiKey": "key", "deployment": "https://yours.europe-west1.talon.one"}"#,
//!     r#"{"subscriptions": [{
//!         "name": "Identify: profile", "actionSlug": "updateCustomerProfileV3", "enabled": true,
//!         "trigger": "type = \"identify\"",
//!         "settings": {"customerProfileId": {"@path": "$.userId"}, "attributes": {"@path": "$.traits"}}
//!     }]}"#,
//! )?;
//! let actions = Destination::Actions(config);
//! let mapped = map(&actions, br#"{"type":"identify","userId":"a#b","traits":{"plan":"gold"}}"#);
//! let request = mapped.request().expect("the identify matches");
//! assert_eq!(request.subscription.as_deref(), Some("Identify: profile"));
//! // The id is interpolated unencoded: `#` starts a fragment, which is never sent.
//! assert_eq!(request.url, "https://integration.talon.one/segment/v2/customer_profiles/a");
//! assert_eq!(request.header("destination-hostname"), Some("https://yours.europe-west1.talon.one"));
//! assert_eq!(request.body, r#"{"audiencesChanges":{},"attributes":{"plan":"gold"}}"#);
//! assert_eq!(mapped.diagnostics[0].kind.code(), "path_changed");
//!
//! // Segment's own message when validation fails.
//! let skipped = map(&actions, br#"{"type":"identify","anonymousId":"x"}"#);
//! assert_eq!(
//!     skipped.skip().map(ToString::to_string).as_deref(),
//!     Some("subscription `Identify: profile`: The root value is missing the required field 'customerProfileId'.")
//! );
//! # Ok::<(), talon_mapper::actions::ConfigError>(())
//! ```
//!
//! # The Actions rules
//!
//! Evidence: **documented** (the destination's code and tests, `talon-actions-destination.md`
//! §1-§3), **observed** (§9: Segment's npm code run on edge inputs), **inferred**, or **chosen
//! here**.
//!
//! | # | rule | evidence |
//! | --- | --- | --- |
//! | A1 | Settings are `apiKey` and `deployment`, both required strings; the deployment is kept verbatim and sent as typed in `destination-hostname`. A deployment Talon.One cannot route (no `https://`, a path, not `*.talon.one`, an unknown region) is a warning in [`ActionsConfig::diagnostics`], never an error. | required: documented; warnings: chosen here (Talon.One documents a host name) |
//! | A2 | Subscriptions are read as the Public API lists them (`{"subscriptions": […]}` or an array); unknown fields are kept in [`Subscription::raw`]; an absent `enabled` is `true`; a disabled subscription's trigger is not parsed. | fields: documented; the defaults: chosen here |
//! | A3 | A trigger that `segment_subscriptions` refuses is a [`ConfigError::Trigger`] naming the subscription; what the package silently makes of a trigger, and a `type` compared with a type Segment never sends, are warnings. A trigger that cannot be evaluated on an event as the package would (`EvalError`: a path past a JavaScript built-in) is a `trigger_unevaluable` warning and does not match. | chosen here, over the package's behaviour (documented in that crate) |
//! | A4 | An unknown `actionSlug` is a warning and the subscription never runs. | documented: `executeAction` returns `[]` (§1.1.6) |
//! | A5 | No field defaults at run time: the mapping is used as given. | observed (§9) |
//! | A6 | Every request: `authorization: ApiKey-v1 <key>`, `destination-hostname: <deployment>`, `user-agent: Segment (Actions)`, then `content-type: application/json` unless the method is DELETE; the session actions add their four callback headers, the unset ones removed. Names are lowercase, as the request client's `Headers` normalises them (inferred; header names are case-insensitive in HTTP). Header order among them: chosen here (Node's `Headers` iterates them sorted). | documented (§1, §9) |
//! | A7 | The URL is `https://integration.talon.one/segment/…` with the id interpolated **unencoded**, then parsed as WHATWG URL (`../x` resolves, `\` is `/`, tab/newline/CR deleted, a trailing space dropped, `?` starts the query, `#` a fragment that is never sent). `?skipNonExistingAttributes=true` only when that field is truthy, lost into the fragment after a `#`. An id that changes the path is a `path_changed` warning saying what Talon.One receives. | observed (§9); the warning: chosen here |
//! | A8 | The body is `JSON.stringify` of the action's object literal in its key order, `undefined` members dropped (`{"audiencesChanges":{}}` stays). | documented (§1.1.5) |
//! | A9 | Deprecated actions (`updateCustomerProfile`, `updateCustomerProfileV2`, `trackEvent`, `updateCustomerSession`) are mapped, with a `deprecated` note naming the replacement. | documented (titles, §2) |
//! | A10 | `attributes` objects are sent unflattened: a nested object or array inside is a `nested_attribute` note (Talon.One's attribute catalog is flat), a `null` a `null_attribute` note. | observed (§9); the notes: chosen here |
//! | A11 | An Engage audience event (`context.personas.computation_class` `audience`) mapped by a profile action without audience ids gets an `audience_attribute_only` note: the audience lands as a boolean attribute only if one of that name exists; membership needs Talon.One's numeric ids. | inferred (§5.2) |
//! | A12 | `testAuthentication` is `GET {deployment}/v2/authping` by plain concatenation ([`test_authentication`]). | documented (§1) |
//! | A14 | Events are read in JavaScript key order with JavaScript's numbers (`1e21` is `1e+21` in a URL, integers past 2^53 rounded, `__proto__` dropped, the last duplicate key wins in the first one's place). Known difference: a number beyond a double's range (`1e400`, Infinity in JavaScript, sent as `null`) makes the event unreadable here ([`Skip::InvalidEvent`]). | observed (§9); the difference: `segment_mapping::Value::parse` refuses it |
//! | A13 | The delivery key of a request is its profile id (`customerProfileId`, else `profileId`), else its session or audience id, else the action's slug. | chosen here |

pub mod definitions;
pub mod fuzz;
mod settings;
mod subscriptions;
mod url;

use std::sync::Arc;

use segment_mapping::{Object, Value};
use segment_subscriptions::{Condition, Expected, Field, GroupOperator, Operator};

pub use definitions::{Action, RELAY};
pub use settings::ActionsSettings;
pub use subscriptions::Subscription;

use crate::{Diagnostic, Kind, Mapped, Request, Skip};

/// `user-agent` of every request (actions-core).
pub const USER_AGENT: &str = "Segment (Actions)";

/// Why a configuration cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The settings are not `{"apiKey", "deployment"}` strings.
    #[error("settings: {0}")]
    Settings(String),
    /// The subscriptions file is not a list of subscriptions.
    #[error("subscriptions: {0}")]
    Subscriptions(String),
    /// One subscription is malformed.
    #[error("subscription `{name}`: {error}")]
    Subscription {
        /// Its name.
        name: String,
        /// What is wrong.
        error: String,
    },
    /// A trigger Segment's grammar refuses (or this crate does not reproduce).
    #[error("subscription `{name}`: trigger `{trigger}`: {error}")]
    Trigger {
        /// The subscription's name.
        name: String,
        /// The trigger as written.
        trigger: String,
        /// Why.
        error: segment_subscriptions::TriggerError,
    },
}

/// The Actions destination's settings and subscriptions.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionsConfig {
    /// The settings.
    pub settings: ActionsSettings,
    /// The subscriptions, in order.
    pub subscriptions: Vec<Subscription>,
    diagnostics: Vec<Diagnostic>,
}

impl ActionsConfig {
    /// Reads settings (`{"apiKey","deployment"}`) and subscriptions (the Public API's list).
    ///
    /// # Errors
    ///
    /// [`ConfigError`] for settings Segment would refuse, a malformed subscription, or a
    /// trigger the grammar refuses.
    pub fn from_json(settings: &str, subscriptions: &str) -> Result<Self, ConfigError> {
        Self::new(
            ActionsSettings::parse(settings)?,
            subscriptions::parse(subscriptions)?,
        )
    }

    /// A configuration from parsed parts.
    pub fn new(
        settings: ActionsSettings,
        subscriptions: Vec<Subscription>,
    ) -> Result<Self, ConfigError> {
        let mut diagnostics: Vec<Diagnostic> = settings
            .deployment_warnings()
            .into_iter()
            .map(|message| action_warning("", "deployment_not_routable", message))
            .collect();
        for sub in &subscriptions {
            if sub.action.is_none() {
                diagnostics.push(action_warning(
                    &sub.name,
                    "unknown_action",
                    format!(
                        "`{}` is not an action of Talon.One (Actions): Segment ignores this subscription",
                        sub.action_slug
                    ),
                ));
            }
            for note in &sub.trigger_notes {
                diagnostics.push(action_warning(&sub.name, "trigger_note", note.clone()));
            }
            if let Some(never) = sub.condition.as_ref().and_then(never_fires) {
                diagnostics.push(action_warning(&sub.name, "trigger_never_fires", never));
            }
        }
        Ok(Self {
            settings,
            subscriptions,
            diagnostics,
        })
    }

    /// What the configuration itself deserves saying (routability, unknown actions, triggers).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }
}

const EVENT_TYPES: [&str; 6] = ["identify", "track", "page", "screen", "group", "alias"];

/// Why a trigger can never match, if it cannot: a `type = "<x>"` that every branch requires
/// with a type Segment never sends (case included). Chosen here; the full question is
/// undecidable in general, this catches the common typo.
fn never_fires(condition: &Condition) -> Option<String> {
    match condition {
        Condition::Field {
            field: Field::EventType,
            operator: Operator::Equals,
            value: Some(Expected::String(s)),
        } => {
            let text = s.to_string();
            (!EVENT_TYPES.contains(&text.as_str())).then(|| {
                format!(
                    "`type = \"{text}\"` can never match: Segment's event types are {} (lowercase)",
                    EVENT_TYPES.join(", ")
                )
            })
        }
        Condition::Group {
            operator: GroupOperator::And,
            children,
        } => children.iter().find_map(never_fires),
        Condition::Group {
            operator: GroupOperator::Or,
            children,
        } => {
            let all: Option<Vec<String>> = children.iter().map(never_fires).collect();
            all.filter(|a| !a.is_empty()).map(|a| a.join("; "))
        }
        Condition::Field { .. } => None,
    }
}

fn action_warning(subscription: &str, code: &'static str, message: String) -> Diagnostic {
    Diagnostic::warning(Kind::Action {
        subscription: subscription.to_owned(),
        code,
        message,
    })
}

fn action_note(subscription: &str, code: &'static str, message: String) -> Diagnostic {
    Diagnostic::note(Kind::Action {
        subscription: subscription.to_owned(),
        code,
        message,
    })
}

/// `testAuthentication`: `GET {deployment}/v2/authping`, by plain concatenation, with the
/// headers every request carries.
pub fn test_authentication(settings: &ActionsSettings) -> Request {
    Request::new(
        "GET",
        &settings.deployment,
        "/v2/authping",
        vec![
            ("authorization", Arc::clone(settings.authorization())),
            ("destination-hostname", Arc::clone(settings.hostname())),
            ("user-agent", Arc::from(USER_AGENT)),
        ],
        String::new(),
        settings.deployment.clone(),
    )
}

/// Maps one event (JSON text) through every enabled, matching subscription.
pub fn map_actions(config: &ActionsConfig, bytes: &[u8]) -> Mapped {
    let invalid = |error: String| Mapped::skipped(Skip::InvalidEvent { error });
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return invalid(format!("not UTF-8: {e}")),
    };
    let payload = match Value::parse(text) {
        Ok(payload) => payload,
        Err(e) => return invalid(e.to_string()),
    };
    // The trigger reads the event as `serde_json` reads it; should that refuse what the
    // mapping's reader took, the trigger sees the mapping's value instead.
    let json = serde_json::from_str::<serde_json::Value>(text)
        .or_else(|_| serde_json::to_value(&payload))
        .unwrap_or_default();
    if !json.is_object() {
        return invalid("not a JSON object".into());
    }
    let mut requests = Vec::new();
    let mut diagnostics = Vec::new();
    let mut first_failure: Option<(String, String)> = None;
    for sub in &config.subscriptions {
        let (Some(action), Some(condition)) = (sub.action, &sub.condition) else {
            continue;
        };
        match condition.matches(&json) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                diagnostics.push(action_warning(
                    &sub.name,
                    "trigger_unevaluable",
                    format!("the trigger cannot be evaluated as Segment does: {e}; taken as not matching"),
                ));
                continue;
            }
        }
        match run(config, sub, action, &payload, &json, &mut diagnostics) {
            Ok(request) => requests.push(request),
            Err(message) => {
                diagnostics.push(action_warning(&sub.name, "rejected", message.clone()));
                first_failure.get_or_insert((sub.name.clone(), message));
            }
        }
    }
    if requests.is_empty() {
        let skip = match first_failure {
            Some((subscription, message)) => Skip::Rejected {
                subscription,
                message,
            },
            None => Skip::NoSubscription,
        };
        let mut mapped = Mapped::skipped(skip);
        mapped.diagnostics = diagnostics;
        mapped
    } else {
        Mapped::sent(requests, diagnostics)
    }
}

/// One subscription's request, or Segment's message for why there is none.
fn run(
    config: &ActionsConfig,
    sub: &Subscription,
    action: Action,
    event: &Value,
    json: &serde_json::Value,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<Request, String> {
    let fields = action.fields().ok_or_else(|| {
        format!(
            "internal: the field definitions of `{}` do not parse",
            action.slug()
        )
    })?;
    let resolved = segment_mapping::transform(&sub.mapping, event).map_err(|e| e.to_string())?;
    let cleaned = fields.clean(resolved, true).map_err(|e| e.to_string())?;
    let Value::Object(payload) = cleaned else {
        return Err(format!(
            "The root value must be an object but it was {}.",
            cleaned.type_name()
        ));
    };
    let perform = definitions::perform(action, &payload);
    let parsed = url::parse(&perform.raw_url)?;
    if let Some(replacement) = action.replaced_by() {
        diagnostics.push(action_note(
            &sub.name,
            "deprecated",
            format!(
                "`{}` is deprecated: Segment and Talon.One ask to use `{}` instead (still sent)",
                action.slug(),
                replacement.slug()
            ),
        ));
    }
    if let Some(key) = action.path_field() {
        let id = payload.get(key).map(Value::js_string).unwrap_or_default();
        if url::id_changes_path(&id) {
            let received = &parsed.url[parsed.path_start..];
            let lost = parsed
                .fragment
                .as_ref()
                .map(|f| format!("; `#{f}` is a fragment and is never sent"))
                .unwrap_or_default();
            diagnostics.push(action_warning(
                &sub.name,
                "path_changed",
                format!(
                    "{key} `{}` is put into the URL unencoded, as Segment does: Talon.One receives `{} {received}`{lost}",
                    id.escape_debug(),
                    perform.method
                ),
            ));
        }
    }
    attribute_notes(&sub.name, &payload, diagnostics);
    audience_note(sub, action, &payload, json, diagnostics);

    let mut headers: Vec<(&'static str, Arc<str>)> = vec![
        ("authorization", Arc::clone(config.settings.authorization())),
        (
            "destination-hostname",
            Arc::clone(config.settings.hostname()),
        ),
        ("user-agent", Arc::from(USER_AGENT)),
    ];
    let body = match &perform.body {
        Some(body) => {
            headers.push(("content-type", Arc::from("application/json")));
            body.to_json().unwrap_or_default()
        }
        None => String::new(),
    };
    headers.extend(perform.headers.into_iter().map(|(n, v)| (n, Arc::from(v))));
    // node-fetch refuses a header value with a character outside tab, 0x20–0x7e and
    // 0x80–0xff (a JavaScript string's code units): the subscription then fails, nothing sent.
    if let Some((_, value)) = headers.iter().find(|(_, v)| {
        v.chars()
            .any(|c| c != '\t' && !(' '..='~').contains(&c) && !('\u{80}'..='\u{ff}').contains(&c))
    }) {
        return Err(format!("{value} is not a legal HTTP header value"));
    }
    let key = [
        "customerProfileId",
        "profileId",
        "customerSessionId",
        "audienceId",
    ]
    .iter()
    .find_map(|k| payload.get(k).map(Value::js_string))
    .unwrap_or_else(|| action.slug().to_owned());
    let mut request = Request::new(
        perform.method,
        &parsed.url[..parsed.path_start],
        &parsed.url[parsed.path_start..],
        headers,
        body,
        key,
    );
    request.subscription = Some(sub.name.clone());
    Ok(request)
}

/// Notes on `attributes` (and the session's nested `attributes`): nested values and nulls are
/// sent as they are.
fn attribute_notes(subscription: &str, payload: &Object, diagnostics: &mut Vec<Diagnostic>) {
    let mut objects: Vec<(&str, &Object)> = Vec::new();
    if let Some(Value::Object(a)) = payload.get("attributes") {
        objects.push(("attributes", a));
    }
    if let Some(Value::Object(session)) = payload.get("customerSession")
        && let Some(Value::Object(a)) = session.get("attributes")
    {
        objects.push(("customerSession.attributes", a));
    }
    for (field, attributes) in objects {
        for (key, value) in attributes.iter() {
            match value {
                Value::Object(_) | Value::Array(_)
                    if !matches!(value, Value::Array(items) if items.iter().all(is_scalar)) =>
                {
                    diagnostics.push(action_note(
                        subscription,
                        "nested_attribute",
                        format!(
                            "`{field}.{key}` is {} sent unflattened: Talon.One's attributes are flat, so it needs an attribute `{key}` of a JSON-like type, or a mapping that picks its members",
                            if matches!(value, Value::Object(_)) { "an object" } else { "an array holding objects or arrays" }
                        ),
                    ));
                }
                Value::Null => diagnostics.push(action_note(
                    subscription,
                    "null_attribute",
                    format!("`{field}.{key}` is null and is sent as null (Segment removes no null inside attributes)"),
                )),
                _ => {}
            }
        }
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::Bool(_) | Value::Number(_) | Value::String(_))
}

/// A note for an Engage audience event mapped by a profile action with no audience ids.
fn audience_note(
    sub: &Subscription,
    action: Action,
    payload: &Object,
    json: &serde_json::Value,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let personas = &json["context"]["personas"];
    if personas["computation_class"] != "audience" {
        return;
    }
    let (adds, deletes) = match action {
        Action::UpdateCustomerProfile | Action::UpdateCustomerProfileV3 => {
            ("addAudienceIds", "deleteAudienceIds")
        }
        Action::UpdateCustomerProfileV2 => ("audiencesToAdd", "audiencesToDelete"),
        _ => return,
    };
    if payload.contains_key(adds) || payload.contains_key(deletes) {
        return;
    }
    let key = personas["computation_key"]
        .as_str()
        .unwrap_or("the audience key");
    diagnostics.push(action_note(
        &sub.name,
        "audience_attribute_only",
        format!(
            "Engage audience `{key}`: the profile joins no Talon.One audience (no `{adds}`/`{deletes}` mapped; membership needs Talon.One's numeric audience ids, hard-coded in the mapping); `{key}` lands only as an attribute, and only if Talon.One has an attribute of that exact name"
        ),
    ));
}
