//! The pre-flight of the Talon.One (Actions) destination: what Talon.One's Segment relay
//! would refuse, or silently drop, before any traffic.
//!
//! Pure, like the classic pre-flight ([`super`]): `cmd::check` reads the settings, the
//! subscriptions (Segment's Public API shape), the deployment and the events.
//!
//! Static checks, each a JUnit test case:
//!
//! - the settings are valid: the mapper's own warnings about the `deployment`;
//! - the deployment is one the state has: the settings' `deployment` and the hostnames of the
//!   state and its further `deployments`, both normalised as the fake's relay normalises
//!   `destination-hostname` (white space, an `http(s)://` scheme and one trailing `/` dropped,
//!   case ignored);
//! - the API key is a third-party key made for Segment in **that** deployment (an Integration
//!   API key, another platform's key, another deployment's key or a Management API key each
//!   get their own words); with `--target`, `GET /v2/authping` with the key, as Segment's
//!   `testAuthentication` does;
//! - every enabled subscription's action exists, and none is deprecated (each named with its
//!   replacement);
//! - every enabled trigger can fire: it parses (a trigger that does not is a finding and that
//!   subscription is left out of the rest, instead of the whole run stopping), its `type` is one
//!   Segment sends to this destination (`screen` is not: the catalog entry lists it as
//!   unsupported, `talon-actions-destination.md` §1), its conditions do not exclude each other
//!   (`type = "identify" and type = "track"`, two event names at once, an event name on a
//!   type that has none), and its event names have no white space at their ends; with
//!   events, an event name that differs from the events' only by case or white space;
//! - audience actions send numeric Talon.One audience ids the deployment has
//!   (`addAudienceIds`, `deleteAudienceIds`, `data[].adds`/`deletes` as literals; a mapping
//!   from the event is noted as checkable only with events), and a subscription that handles
//!   Engage audience events with a profile action but maps no audience ids is named;
//! - audience changes go with `runRuleEngine` true (false or absent: Talon.One does not apply
//!   them);
//! - the event types a `trackEventV2` subscription sends whatever the events (a literal
//!   `eventType`, or `$.event` under a trigger that admits only some names) exist;
//! - the literal keys of an `attributes` object mapping exist in the catalog for the action's
//!   entity (CustomerProfile, Event, CustomerSession, CartItem for `cartItems[].attributes`),
//!   with an exact-case hint, and their literal values (not directives) fit the attribute's
//!   type. Deprecated actions are left out: their endpoints create missing attributes.
//!
//! With events, each is mapped by the real Actions mapper and each request's body is checked
//! with the fake's own value rules (`talon_fake::rules`): event types the deployment lacks,
//! unknown attributes (an Event attribute of another event type is one; refused with
//! `skipNonExistingAttributes` off; **dropped silently** with it on, a finding of its own with
//! counts), values whose type does not fit (an object where the catalog has flattened names:
//! the Actions destination does not flatten), cart items, ids and audience ids, audience changes
//! without `runRuleEngine` true, Engage audience events a profile subscription sends without
//! audience ids (counted per subscription and audience), ids that change the request's path,
//! payloads Segment's validation refuses, subscriptions no event matched, and (a note) the
//! events no subscription matched.
//!
//! # Evidence
//!
//! What each finding assumes about Segment and Talon.One, with its evidence level (AD is
//! `talon-actions-destination.md`):
//!
//! | finding | evidence |
//! | --- | --- |
//! | a deployment none of the state's: the relay refuses every request | chosen here, as the fake's `relay.deployment_unknown` (CONTRACT.md); the host compared as the fake's `relay.deployment_invalid` normalises it (scheme, one trailing `/`, case) |
//! | only a third-party key made for Segment in that deployment opens the relay | documented (AD §4.1, CONTRACT.md relay auth); live (`--target`), `GET /v2/authping` tells a valid key from an invalid one only, not a Segment key from an Integration API key (the fake answers 204 to both, inferred) |
//! | deprecated actions and their replacements | documented (AD §2, titles) |
//! | `screen` is never sent to this destination | documented (the destination's catalog entry: screen false, AD §1) |
//! | contradicting conditions, stray white space, another case than the events' | documented (Segment compares event names exactly, AD §9 observed); the analysis is chosen here: a box over the types and event names a condition admits, so "never" is certain and anything else passes |
//! | audience ids are Talon.One's numeric ids, ≥ 1, of existing audiences | documented (AD §4.7, §5.2, issue #5394); an unknown id refuses the whole update: as the fake (`audience.unknown`, inferred) |
//! | an Engage audience subscription without audience ids joins no audience | inferred (AD §5.2) |
//! | `runRuleEngine` false or absent: audience changes not applied | documented ("Audience changes are not applied", default false, AD §4.6) |
//! | unknown attributes: 400 with the flag off, skipped with it on | documented (AD §4.4); that it also holds for session and cart-item attributes is chosen here (AD §8 q6, unknown) |
//! | a wrong type is refused whatever the flag | chosen here, as the fake's relay (the docs speak only of non-existing attributes) |
//! | deprecated endpoints create missing attributes, refusing values whose type cannot be detected | documented (creation, AD §4.5); which values are detectable: chosen here, the fake's rule (CONTRACT.md) |
//! | an event type must exist, exactly (case and white space); the deprecated `trackEvent` creates it | documented ("Create the event … before using this endpoint", AD §2.9; creation by the deprecated endpoint, AD §4.5); the status (400) as the fake's `event.type_unknown` (CONTRACT.md) |
//! | Event attributes are looked up by name among the catalog's Event attributes of the request's event type, or without one (every type's) | as the fake's relay (CONTRACT.md: `Attribute.eventType` optional, **chosen here**); without events, scoped only when the mapping's `eventType` is a literal |
//! | cart items: `quantity` an integer ≥ 1, and the fields the destination types as strings (`weight`, `position`…) refused | documented: Talon.One's schema (AD §4.8, §4.11 #4); that a string is refused: inferred |
//! | a literal attribute name missing from the catalog | documented (AD §4.4, §4.10: names are case-sensitive) |

use std::collections::{BTreeMap, BTreeSet};

use segment_mapping::Value as Js;
use segment_subscriptions::{Condition, Expected, Field, GroupOperator, Operator};
use serde_json::{Map, Value};
use talon_fake::StateFile;
use talon_fake::rules::{self, AttrType, Entity};
use talon_mapper::actions::{Action, ActionsConfig, ConfigError, Subscription};
use talon_mapper::{Destination, Kind, Skip};

use super::{KeyCheck, article, redact, shown_value};
use crate::input::EventLine;
use crate::output::Check;

/// Everything the Actions pre-flight needs, read.
#[derive(Debug)]
pub struct ActionsInputs<'a> {
    /// The settings JSON, `{"apiKey", "deployment"}`.
    pub settings: &'a str,
    /// The subscriptions JSON, as Segment's Public API lists them.
    pub subscriptions: &'a str,
    /// The state: the deployment and any further `deployments`.
    pub state: &'a StateFile,
    /// How to check the API key.
    pub key: KeyCheck,
    /// Events, when given.
    pub events: &'a [EventLine],
}

/// The settings check (the mapper's warnings about the deployment).
pub const SETTINGS_VALID: &str = "the settings are valid";
/// The deployment check.
pub const DEPLOYMENT: &str = "the deployment is one Talon.One has";
/// The API key check; when it fails, the relay answers 401 to every request.
pub const KEY: &str = "the API key is a third-party key made for Segment in the deployment";
/// Unknown action slugs.
pub const ACTIONS_EXIST: &str = "every enabled subscription's action exists";
/// Deprecated actions.
pub const NOT_DEPRECATED: &str = "no enabled subscription uses a deprecated action";
/// Triggers that cannot fire.
pub const TRIGGERS: &str = "every enabled subscription's trigger can fire";
/// Audience ids of audience actions.
pub const AUDIENCE_IDS: &str =
    "every audience action sends numeric Talon.One audience ids the deployment has";
/// `runRuleEngine` with audience changes.
pub const RULE_ENGINE: &str = "every audience change is sent with runRuleEngine true";
/// Literal attribute names of the mappings.
pub const MAPPED_NAMES: &str =
    "every attribute name the mappings write exists in Talon.One for the action's entity";
/// Literal values of the mappings against their attribute's type.
pub const LITERALS_FIT: &str =
    "every literal value the mappings write fits its attribute's type in Talon.One";
/// Event types the current event action sends whatever the events (a literal, or `$.event`
/// under a trigger that names the events).
pub const MAPPED_EVENT_TYPES: &str =
    "every event type the mappings and triggers fix exists in Talon.One";
/// Unreadable event lines.
pub const READABLE: &str = "every event line is a readable Segment event";
/// Unknown attributes, `skipNonExistingAttributes` off.
pub const ATTRIBUTES_EXIST: &str = "every attribute the events send exists in Talon.One";
/// Unknown event types of current event requests.
pub const EVENT_TYPES: &str = "every event type the events send exists in Talon.One";
/// Unknown attributes, `skipNonExistingAttributes` on.
pub const NOT_DROPPED: &str =
    "no attribute the events send is dropped silently (skipNonExistingAttributes)";
/// Value types.
pub const VALUES_FIT: &str = "every value the events send fits its attribute's type in Talon.One";
/// Cart items.
pub const CART_ITEMS: &str =
    "every cart item the events send has an integer quantity of at least 1 and numbers as numbers";
/// Profile ids and audience ids in requests.
pub const IDS: &str = "every id and audience id the events send is one Talon.One accepts";
/// Ids interpolated unencoded into the path.
pub const PATHS: &str = "no id the events send changes the request's path";
/// Segment's own validation of the mapped payload.
pub const SEGMENT_VALID: &str = "every matching subscription's payload passes Segment's validation";
/// Subscriptions no event matched.
pub const SUBSCRIPTIONS_MATCH: &str = "every enabled subscription matches at least one event";

/// The check names that predict a refusal by Talon.One of an event's request; their details
/// start with the event's `file:line: `.
pub const EVENT_CHECKS: &[&str] = &[ATTRIBUTES_EXIST, EVENT_TYPES, VALUES_FIT, CART_ITEMS, IDS];

/// Segment's event types, lowercase.
const TYPES: [&str; 6] = ["identify", "track", "page", "screen", "group", "alias"];

/// Every check and notes for people.
///
/// # Errors
///
/// [`ConfigError`] for settings or subscriptions the destination cannot read at all (not a
/// list, a malformed subscription); a trigger that does not parse is a finding instead.
pub fn checks(inputs: &ActionsInputs<'_>) -> Result<(Vec<Check>, Vec<String>), ConfigError> {
    let (subscriptions, bad_triggers) = without_bad_triggers(inputs.subscriptions);
    let config = ActionsConfig::from_json(inputs.settings, &subscriptions)?;
    let mut notes = Vec::new();
    let mut settings_problems = Vec::new();
    let mut unknown_actions = Vec::new();
    let mut triggers = bad_triggers;
    let mut never_fires: BTreeSet<String> = BTreeSet::new();
    let disabled: BTreeSet<&str> = config
        .subscriptions
        .iter()
        .filter(|s| !s.enabled)
        .map(|s| s.name.as_str())
        .collect();
    for d in config.diagnostics() {
        let Kind::Action {
            subscription,
            code,
            message,
        } = &d.kind
        else {
            continue;
        };
        match *code {
            "deployment_not_routable" => settings_problems.push(message.clone()),
            // A disabled subscription never runs, whatever its action.
            "unknown_action" if disabled.contains(subscription.as_str()) => {}
            "unknown_action" => unknown_actions.push(format!(
                "subscription `{subscription}`: {message}; use one of {}",
                Action::ALL
                    .iter()
                    .filter(|a| a.replaced_by().is_none())
                    .map(|a| format!("`{}`", a.slug()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            "trigger_never_fires" => {
                never_fires.insert(subscription.clone());
                triggers.push(format!(
                    "subscription `{subscription}`: {message}: the subscription never runs"
                ));
            }
            _ => notes.push(format!("subscription `{subscription}`: {message}")),
        }
    }

    let settings = &config.settings;
    let deployments: Vec<&StateFile> = std::iter::once(inputs.state)
        .chain(inputs.state.deployments.iter())
        .collect();
    let wanted = normalize_host(&settings.deployment);
    let deployment = deployments
        .iter()
        .copied()
        .find(|d| normalize_host(d.effective_hostname()) == wanted);
    let hosts = deployments
        .iter()
        .map(|d| format!("`{}`", d.effective_hostname()))
        .collect::<Vec<_>>()
        .join(", ");
    let mut checks = vec![Check::from_details(SETTINGS_VALID, settings_problems)];
    checks.push(Check::from_details(
        DEPLOYMENT,
        match deployment {
            Some(_) => Vec::new(),
            None => vec![format!(
                "the deployment `{}` (host `{wanted}`) is none of this state's deployments ({hosts}): Talon.One's relay answers 400 to every request; set `deployment` to the deployment's host, e.g. `https://{}`",
                settings.deployment,
                inputs.state.effective_hostname()
            )],
        },
    ));
    let (key_problems, key_notes) =
        key_check(&settings.api_key, deployment, &deployments, &inputs.key);
    notes.extend(key_notes);
    if let Some(problems) = key_problems {
        checks.push(Check::from_details(KEY, problems));
    }
    let deployment = deployment.unwrap_or_else(|| {
        notes.push(format!(
            "no deployment matches `{}`: the rest is checked against `{}`",
            settings.deployment,
            inputs.state.effective_hostname()
        ));
        inputs.state
    });
    let catalog = Catalog::new(deployment);
    let enabled: Vec<&Subscription> = config.subscriptions.iter().filter(|s| s.enabled).collect();

    checks.push(Check::from_details(ACTIONS_EXIST, unknown_actions));
    checks.push(Check::from_details(
        NOT_DEPRECATED,
        enabled
            .iter()
            .filter_map(|s| {
                let action = s.action?;
                let new = action.replaced_by()?;
                Some(format!(
                    "subscription `{}` uses `{}`, which Segment and Talon.One deprecated: switch it to `{}`{}",
                    s.name,
                    action.slug(),
                    new.slug(),
                    deprecated_words(action)
                ))
            })
            .collect(),
    ));

    // Triggers.
    let event_names = event_names(inputs.events);
    for sub in &enabled {
        let Some(condition) = &sub.condition else {
            continue;
        };
        if !never_fires.contains(&sub.name) {
            triggers.extend(impossible(condition).map(|why| {
                format!(
                    "subscription `{}`: trigger `{}` {why}",
                    sub.name, sub.trigger
                )
            }));
        }
        let mut literals = Vec::new();
        event_literals(condition, &mut literals);
        for (operator, literal) in literals {
            let compare = if operator == Operator::Equals {
                "="
            } else {
                "!="
            };
            if literal.trim() != literal {
                triggers.push(format!(
                    "subscription `{}`: trigger compares `event {compare} \"{literal}\"`, with white space at its ends: Segment compares event names exactly, so `{}` never {}; remove the white space",
                    sub.name,
                    literal.trim(),
                    if operator == Operator::Equals { "matches" } else { "is excluded" }
                ));
                continue;
            }
            if event_names.contains_key(literal.as_str()) {
                continue;
            }
            if let Some((near, count)) = event_names.iter().find(|(name, _)| {
                name.trim() == literal || name.trim().to_lowercase() == literal.to_lowercase()
            }) {
                triggers.push(format!(
                    "subscription `{}`: trigger compares `event {compare} \"{literal}\"`, but the events carry `{near}` ({}): Segment compares event names exactly (case and white space), so they {}; write `event {compare} \"{near}\"`",
                    sub.name,
                    plural(*count, "event"),
                    if operator == Operator::Equals { "never match" } else { "are never excluded" }
                ));
            }
        }
    }
    checks.push(Check::from_details(TRIGGERS, triggers));

    // Audiences and the rule engine.
    let (audience_problems, rule_problems, rule_named) =
        audience_checks(&enabled, deployment, &mut notes);
    let audience_check = checks.len();
    checks.push(Check::from_details(AUDIENCE_IDS, audience_problems));
    let mut rule_problems = rule_problems;

    // Literal attribute names, and literal values.
    let mut names = Vec::new();
    let mut literal_types = Vec::new();
    for sub in &enabled {
        let Some(action) = sub.action else { continue };
        let skip = skip_flag(&sub.mapping);
        // A literal event type scopes the Event attributes; one mapped from the event does not.
        let event_type = match field(&sub.mapping, "eventType") {
            Some(Js::String(t)) if action == Action::TrackEventV2 => Some(t.as_str()),
            _ => None,
        };
        for (label, entity, value) in mapped_attributes(action, &sub.mapping) {
            let Js::Object(object) = value else { continue };
            if object.keys().any(|k| k.starts_with('@')) {
                notes.push(format!(
                    "subscription `{}`: `{label}` is mapped from the event ({}): its attribute names are checked only with --events",
                    sub.name,
                    value.to_json().unwrap_or_default()
                ));
                continue;
            }
            for (name, literal) in object.iter() {
                if let Some(ty) = catalog.get(entity, name, event_type) {
                    // A literal (not a directive) value is known now: its type must fit.
                    let value = serde_json::to_value(literal).unwrap_or(Value::Null);
                    if !literal.is_undefined()
                        && !is_directive(literal)
                        && !matches!(literal, Js::Object(_))
                        && let Err(problem) = rules::check_value(ty, &value)
                    {
                        literal_types.push(format!(
                            "subscription `{}`: `{label}` writes `{name}` as the literal {} ({}), but Talon.One's {} attribute `{name}` is `{}` ({problem}): every request that carries it is refused (400); write a value of that type",
                            sub.name,
                            shown_value(&value),
                            rules::kind_name(&value),
                            entity.as_str(),
                            ty.as_str()
                        ));
                    }
                    continue;
                }
                names.push(format!(
                    "subscription `{}`: `{label}` writes `{name}`, which is not {} attribute{}: {}",
                    sub.name,
                    an(entity),
                    catalog.hint(entity, name, event_type),
                    skip.consequence()
                ));
            }
        }
    }
    checks.push(Check::from_details(MAPPED_NAMES, names));
    checks.push(Check::from_details(LITERALS_FIT, literal_types));
    checks.push(Check::from_details(
        MAPPED_EVENT_TYPES,
        mapped_event_types(&enabled, &catalog),
    ));

    if !inputs.events.is_empty() {
        let events = event_checks(inputs.events, &config, &enabled, deployment, &catalog);
        for (subscription, count, first) in events.rule_engine {
            if !rule_named.contains(&subscription) {
                rule_problems.push(format!(
                    "subscription `{subscription}`: {} with audience changes and runRuleEngine not true (first {first}): Talon.One does not apply those changes; map `\"runRuleEngine\": true`",
                    plural(count, "event")
                ));
            }
        }
        checks.push(Check::from_details(RULE_ENGINE, rule_problems));
        if let Some(check) = checks.get_mut(audience_check) {
            check.details.extend(events.audience_only);
            check.passed = check.details.is_empty();
        }
        notes.extend(events.notes);
        checks.extend(events.checks);
    } else {
        checks.push(Check::from_details(RULE_ENGINE, rule_problems));
    }
    Ok((checks, notes))
}

/// The subscriptions text with every enabled subscription whose trigger does not parse turned
/// off, and a finding for each: the rest is still checked (the mapper refuses the whole
/// configuration for one such trigger).
fn without_bad_triggers(text: &str) -> (String, Vec<String>) {
    let Ok(mut value) = Js::parse(text) else {
        return (text.to_owned(), Vec::new());
    };
    let list = match &mut value {
        Js::Array(list) => Some(list),
        Js::Object(object) => match object.get_mut("subscriptions") {
            Some(Js::Array(list)) => Some(list),
            _ => None,
        },
        _ => None,
    };
    let Some(list) = list else {
        return (text.to_owned(), Vec::new());
    };
    let mut findings = Vec::new();
    for (index, item) in list.iter_mut().enumerate() {
        let Js::Object(object) = item else { continue };
        let enabled = matches!(
            object.get("enabled"),
            None | Some(Js::Undefined | Js::Bool(true))
        );
        let Some(Js::String(trigger)) = object.get("trigger") else {
            continue;
        };
        if !enabled {
            continue;
        }
        let Err(error) = segment_subscriptions::parse(trigger) else {
            continue;
        };
        let text_of = |key: &str| match object.get(key) {
            Some(Js::String(s)) if !s.is_empty() => Some(s.clone()),
            _ => None,
        };
        let name = text_of("name")
            .or_else(|| text_of("id"))
            .unwrap_or_else(|| format!("#{index}"));
        let segment = error
            .segment_message()
            .map(|m| format!("; Segment's own parser says \"{m}\""))
            .unwrap_or_default();
        findings.push(format!(
            "subscription `{name}`: trigger `{trigger}` does not parse ({error}{segment}): the subscription never runs; rewrite it, e.g. `type = \"track\" and event = \"Order Completed\"`"
        ));
        object.insert("enabled".to_owned(), Js::Bool(false));
    }
    match value.to_json() {
        Some(json) => (json, findings),
        None => (text.to_owned(), findings),
    }
}

/// A `destination-hostname` as the relay compares it: the fake's own
/// [`talon_fake::normalize_hostname`]; a value it refuses is compared as it was typed,
/// lowercased, so it matches no deployment.
fn normalize_host(raw: &str) -> String {
    talon_fake::normalize_hostname(raw).unwrap_or_else(|_| raw.trim().to_ascii_lowercase())
}

/// The API key check's details (`None`: not checked) and notes.
fn key_check(
    api_key: &str,
    deployment: Option<&StateFile>,
    all: &[&StateFile],
    how: &KeyCheck,
) -> (Option<Vec<String>>, Vec<String>) {
    let shown = redact(api_key);
    const FIX: &str = "create a third-party API key for Segment in Talon.One (Developer settings: Third-party integration: Yes, platform Segment) and copy it into `apiKey`";
    match how {
        KeyCheck::Live(200..=299) => {
            return (
                Some(Vec::new()),
                vec![format!(
                    "the API key {shown} is valid (GET /v2/authping, as Segment's authentication test)"
                )],
            );
        }
        KeyCheck::Live(status) => {
            return (
                Some(vec![format!(
                    "the API key {shown} is not valid for this deployment (GET /v2/authping answered {status}): the relay answers 401 to every request; {FIX}"
                )]),
                Vec::new(),
            );
        }
        KeyCheck::FromState => {}
    }
    let Some(deployment) = deployment else {
        return (
            None,
            vec![format!(
                "the API key {shown} was not checked: no deployment of the state matches the settings"
            )],
        );
    };
    let host = deployment.effective_hostname();
    if deployment.integration_keys.is_empty() {
        return (
            None,
            vec![format!(
                "the API key {shown} was not checked: deployment `{host}` lists no API keys (a pulled state cannot hold them); `check --target` pings it live"
            )],
        );
    }
    let app = |id: i64| {
        deployment
            .applications
            .iter()
            .find(|a| a.id == id)
            .map_or_else(|| format!("{id}"), |a| format!("{} \"{}\"", a.id, a.name))
    };
    let problem = match deployment
        .integration_keys
        .iter()
        .find(|k| k.key == api_key)
    {
        Some(k) => match k.platform.as_deref() {
            Some("Segment") => {
                return (
                    Some(Vec::new()),
                    vec![format!(
                        "the API key {shown} is deployment `{host}`'s third-party key for Segment and opens application {}",
                        app(k.application_id)
                    )],
                );
            }
            None => format!(
                "the API key {shown} is an Integration API key of application {}, not a third-party key: the relay answers 401 to every request; {FIX}",
                app(k.application_id)
            ),
            Some(other) => format!(
                "the API key {shown} is a third-party key made for `{other}`, not Segment: the relay answers 401 to every request; {FIX}"
            ),
        },
        None if deployment.management_keys.iter().any(|k| k == api_key) => format!(
            "the API key {shown} is a Management API key of deployment `{host}`: the relay answers 401 to every request; {FIX}"
        ),
        None => match all.iter().find(|d| {
            !std::ptr::eq(**d, deployment) && d.integration_keys.iter().any(|k| k.key == api_key)
        }) {
            Some(other) => format!(
                "the API key {shown} belongs to deployment `{}`, not `{host}`: the relay answers 401 to every request; use a Segment key of `{host}`, or point `deployment` at `{}`",
                other.effective_hostname(),
                other.effective_hostname()
            ),
            None => format!(
                "the API key {shown} is no key of deployment `{host}`: the relay answers 401 to every request; {FIX}"
            ),
        },
    };
    (Some(vec![problem]), Vec::new())
}

/// `1 event`, `2 events`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The entity's name with its article: `a CustomerProfile`, `an Event`.
fn an(entity: Entity) -> String {
    let name = entity.as_str();
    if name.starts_with(['A', 'E', 'I', 'O', 'U']) {
        format!("an {name}")
    } else {
        format!("a {name}")
    }
}

/// What a deprecated action does that its replacement does not.
fn deprecated_words(action: Action) -> &'static str {
    match action {
        Action::TrackEvent => {
            " (it sends the event's `type` as the literal \"string\" by default, and creates attributes Talon.One lacks)"
        }
        Action::UpdateCustomerProfile | Action::UpdateCustomerProfileV2 => {
            " (it creates attributes Talon.One lacks instead of refusing or skipping them)"
        }
        _ => "",
    }
}

/// The event types `trackEventV2` subscriptions send that the deployment lacks, known without
/// events: a literal `eventType`, or `eventType` mapped from `$.event` under a trigger that
/// admits only some event names.
fn mapped_event_types(enabled: &[&Subscription], catalog: &Catalog<'_>) -> Vec<String> {
    let mut out = Vec::new();
    for sub in enabled {
        if sub.action != Some(Action::TrackEventV2) {
            continue;
        }
        let (names, how): (Vec<String>, &str) = match field(&sub.mapping, "eventType") {
            Some(Js::String(t)) => (vec![t.clone()], "its `eventType` is the literal"),
            Some(Js::Object(o)) if matches!(o.get("@path"), Some(Js::String(p)) if p == "$.event") =>
            {
                match sub.condition.as_ref().map(domains) {
                    // A name with white space at its ends is the trigger check's finding.
                    Some((_, Dom::Only(names))) => (
                        names.into_iter().filter(|n| n.trim() == n).collect(),
                        "its `eventType` is `$.event` and its trigger admits only",
                    ),
                    _ => continue,
                }
            }
            _ => continue,
        };
        for name in names
            .iter()
            .filter(|n| !catalog.event_types.contains(n.as_str()))
        {
            out.push(format!(
                "subscription `{}`: {how} `{name}`, which is not an event type Talon.One has{}: Talon.One refuses every such event (400); create the event type in Talon.One, or send one it has",
                sub.name,
                catalog.event_type_hint(name)
            ));
        }
    }
    out
}

// ------------------------------------------------------------------ triggers

/// What values a field can take for a trigger to match: any, only these, or any but these.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Dom {
    Any,
    Only(BTreeSet<String>),
    Not(BTreeSet<String>),
}

impl Dom {
    fn only(value: &str) -> Self {
        Self::Only(BTreeSet::from([value.to_owned()]))
    }

    fn and(self, other: Self) -> Self {
        match (self, other) {
            (Self::Any, x) | (x, Self::Any) => x,
            (Self::Only(a), Self::Only(b)) => Self::Only(a.intersection(&b).cloned().collect()),
            (Self::Only(a), Self::Not(b)) | (Self::Not(b), Self::Only(a)) => {
                Self::Only(a.difference(&b).cloned().collect())
            }
            (Self::Not(a), Self::Not(b)) => Self::Not(a.union(&b).cloned().collect()),
        }
    }

    fn or(self, other: Self) -> Self {
        match (self, other) {
            (Self::Any, _) | (_, Self::Any) => Self::Any,
            (Self::Only(a), Self::Only(b)) => Self::Only(a.union(&b).cloned().collect()),
            (Self::Only(a), Self::Not(b)) | (Self::Not(b), Self::Only(a)) => {
                Self::Not(b.difference(&a).cloned().collect())
            }
            (Self::Not(a), Self::Not(b)) => Self::Not(a.intersection(&b).cloned().collect()),
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, Self::Only(s) if s.is_empty())
    }
}

/// The event types and event names a condition can match (a box over both: sound for
/// "never", loose for "maybe"). An `event` comparison with `=` needs a track: only tracks
/// carry `event`.
fn domains(condition: &Condition) -> (Dom, Dom) {
    match condition {
        Condition::Field {
            field,
            operator,
            value: Some(Expected::String(s)),
        } => {
            let s = s.to_string();
            match (field, operator) {
                (Field::EventType, Operator::Equals) => (Dom::only(&s), Dom::Any),
                (Field::EventType, Operator::NotEquals) => {
                    (Dom::Not(BTreeSet::from([s])), Dom::Any)
                }
                (Field::Event, Operator::Equals) => (Dom::only("track"), Dom::only(&s)),
                (Field::Event, Operator::NotEquals) => (Dom::Any, Dom::Not(BTreeSet::from([s]))),
                _ => (Dom::Any, Dom::Any),
            }
        }
        Condition::Field { .. } => (Dom::Any, Dom::Any),
        Condition::Group { operator, children } => {
            let mut parts = children.iter().map(domains);
            let Some(first) = parts.next() else {
                return (Dom::Any, Dom::Any);
            };
            parts.fold(first, |(t, e), (t2, e2)| match operator {
                GroupOperator::And => (t.and(t2), e.and(e2)),
                GroupOperator::Or => (t.or(t2), e.or(e2)),
            })
        }
    }
}

/// Why a trigger can never fire on what Segment sends this destination, if it cannot.
fn impossible(condition: &Condition) -> Option<String> {
    let (types, events) = domains(condition);
    let known: BTreeSet<String> = TYPES.iter().map(|t| (*t).to_owned()).collect();
    let types = Dom::Only(known).and(types);
    if types.is_empty() {
        return Some(
            "can never fire: its conditions on `type` exclude each other (an event has one type, and only a track carries `event`); join the alternatives with `or`, or drop one"
                .to_owned(),
        );
    }
    if types == Dom::only("screen") {
        return Some(
            "can fire only on `screen` events, which Segment does not send to Talon.One (Actions) (its catalog entry lists screen as unsupported): use `type = \"track\"` or `type = \"page\"`"
                .to_owned(),
        );
    }
    if events.is_empty() {
        return Some(
            "can never fire: it asks for two different event names at once; join them with `or`"
                .to_owned(),
        );
    }
    None
}

/// Every `event = "…"` and `event != "…"` string of a trigger.
fn event_literals(condition: &Condition, out: &mut Vec<(Operator, String)>) {
    match condition {
        Condition::Field {
            field: Field::Event,
            operator: operator @ (Operator::Equals | Operator::NotEquals),
            value: Some(Expected::String(s)),
        } => out.push((*operator, s.to_string())),
        Condition::Field { .. } => {}
        Condition::Group { children, .. } => {
            for child in children {
                event_literals(child, out);
            }
        }
    }
}

/// Whether a trigger is about Engage audience events (`Audience Entered`/`Exited`,
/// `properties.audience_key`, `context.personas…`).
fn about_audiences(condition: &Condition) -> bool {
    match condition {
        Condition::Field {
            field: Field::Event,
            value: Some(Expected::String(s)),
            ..
        } => {
            let s = s.to_string();
            s == "Audience Entered" || s == "Audience Exited"
        }
        Condition::Field {
            field: Field::Property(path),
            ..
        } => path.name == "audience_key",
        Condition::Field {
            field: Field::Context(path),
            ..
        } => path.name.starts_with("personas"),
        Condition::Field { .. } => false,
        Condition::Group { children, .. } => children.iter().any(about_audiences),
    }
}

/// The track event names of the events, with their counts.
fn event_names(events: &[EventLine]) -> BTreeMap<String, usize> {
    let mut names = BTreeMap::new();
    for line in events {
        if let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(&line.bytes)
            && event.get("type").and_then(Value::as_str) == Some("track")
            && let Some(name) = event.get("event").and_then(Value::as_str)
        {
            *names.entry(name.to_owned()).or_insert(0) += 1;
        }
    }
    names
}

// ------------------------------------------------------------------ mappings

/// `skipNonExistingAttributes` as a mapping sets it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SkipFlag {
    On,
    Off,
    Mapped,
}

impl SkipFlag {
    fn consequence(self) -> &'static str {
        match self {
            Self::Off => {
                "Talon.One refuses every request that carries it (400, skipNonExistingAttributes is off); create the attribute in Talon.One, or rename the mapping's key"
            }
            Self::On => {
                "Talon.One drops it silently (skipNonExistingAttributes is on): the data never arrives; create the attribute in Talon.One, or rename the mapping's key"
            }
            Self::Mapped => {
                "Talon.One refuses the request (400), or drops the value silently when skipNonExistingAttributes is true; create the attribute in Talon.One, or rename the mapping's key"
            }
        }
    }
}

/// A boolean mapping as Segment's validation coerces it (`"true"` is `true`).
fn literal_bool(value: Option<&Js>) -> Option<Option<bool>> {
    match value {
        None | Some(Js::Undefined) => Some(None),
        Some(Js::Bool(b)) => Some(Some(*b)),
        Some(Js::String(s)) if s == "true" => Some(Some(true)),
        Some(Js::String(s)) if s == "false" => Some(Some(false)),
        _ => None,
    }
}

fn skip_flag(mapping: &Js) -> SkipFlag {
    match literal_bool(field(mapping, "skipNonExistingAttributes")) {
        Some(Some(true)) => SkipFlag::On,
        Some(_) => SkipFlag::Off,
        None => SkipFlag::Mapped,
    }
}

fn field<'a>(mapping: &'a Js, key: &str) -> Option<&'a Js> {
    mapping.as_object().and_then(|o| o.get(key))
}

fn is_directive(value: &Js) -> bool {
    matches!(value, Js::Object(o) if o.keys().any(|k| k.starts_with('@')))
}

/// The `attributes` mappings of a current action, with their entity. Deprecated actions are
/// left out: their endpoints create the attributes they lack.
fn mapped_attributes(action: Action, mapping: &Js) -> Vec<(String, Entity, &Js)> {
    let mut out = Vec::new();
    let entity = match action {
        Action::UpdateCustomerProfileV3 => Entity::CustomerProfile,
        Action::TrackEventV2 => Entity::Event,
        Action::UpdateCustomerSessionV2 => Entity::CustomerSession,
        _ => return out,
    };
    if let Some(value) = field(mapping, "attributes") {
        out.push(("attributes".to_owned(), entity, value));
    }
    if action == Action::UpdateCustomerSessionV2 {
        let items: Vec<&Js> = match field(mapping, "cartItems") {
            Some(Js::Object(o)) => match o.get("@arrayPath") {
                Some(Js::Array(parts)) => parts.get(1).into_iter().collect(),
                _ => Vec::new(),
            },
            Some(Js::Array(items)) => items.iter().collect(),
            _ => Vec::new(),
        };
        for item in items {
            if let Some(value) = field(item, "attributes") {
                out.push(("cartItems[].attributes".to_owned(), Entity::CartItem, value));
            }
        }
    }
    out
}

/// The deployment's attributes by entity and name, its `Event` attributes by event type too,
/// and its event types.
struct Catalog<'a> {
    /// Every attribute by entity and name (an `Event` attribute whatever its event type).
    names: BTreeMap<Entity, BTreeMap<&'a str, AttrType>>,
    /// `Event` attributes by name: each one's event type (`None`: every type) and type.
    event_scoped: BTreeMap<&'a str, Vec<(Option<&'a str>, AttrType)>>,
    /// The event types: the state's `eventTypes` and every `Event` attribute's `eventType`
    /// (the fake's `event.type_unknown`, CONTRACT.md).
    event_types: BTreeSet<&'a str>,
}

impl<'a> Catalog<'a> {
    fn new(state: &'a StateFile) -> Self {
        let mut names: BTreeMap<Entity, BTreeMap<&str, AttrType>> = BTreeMap::new();
        let mut event_scoped: BTreeMap<&str, Vec<(Option<&str>, AttrType)>> = BTreeMap::new();
        let mut event_types: BTreeSet<&str> =
            state.event_types.iter().map(|t| t.name.as_str()).collect();
        for a in &state.attributes {
            names
                .entry(a.entity)
                .or_default()
                .insert(a.name.as_str(), a.ty);
            if a.entity == Entity::Event {
                event_scoped
                    .entry(a.name.as_str())
                    .or_default()
                    .push((a.event_type.as_deref(), a.ty));
                event_types.extend(a.event_type.as_deref());
            }
        }
        Self {
            names,
            event_scoped,
            event_types,
        }
    }

    /// The type of `entity`'s attribute `name`; for an `Event` attribute of event type
    /// `event_type` when it is known (an attribute without `eventType` is every type's).
    fn get(&self, entity: Entity, name: &str, event_type: Option<&str>) -> Option<AttrType> {
        match (entity, event_type) {
            (Entity::Event, Some(t)) => self
                .event_scoped
                .get(name)?
                .iter()
                .find(|(scope, _)| scope.is_none_or(|s| s == t))
                .map(|(_, ty)| *ty),
            _ => self.names.get(&entity).and_then(|m| m.get(name)).copied(),
        }
    }

    /// What Talon.One has instead of the event type `name`, or why it has none.
    fn event_type_hint(&self, name: &str) -> String {
        let squashed = |s: &str| s.trim().to_lowercase();
        if let Some(near) = self
            .event_types
            .iter()
            .find(|t| squashed(t) == squashed(name))
        {
            return format!("; `{near}` is (event types are exact: case and white space)");
        }
        if self.event_types.is_empty() {
            return "; the deployment has no event types".to_owned();
        }
        String::new()
    }

    /// What Talon.One has instead of `name`: the same name in another case, the same name for
    /// another event type or entity, or names flattened from it (`address_city` for
    /// `address`).
    fn hint(&self, entity: Entity, name: &str, event_type: Option<&str>) -> String {
        if entity == Entity::Event
            && let (Some(t), Some(scopes)) = (event_type, self.event_scoped.get(name))
        {
            let others: Vec<String> = scopes
                .iter()
                .filter_map(|(scope, _)| scope.map(|s| format!("`{s}`")))
                .collect();
            if !others.is_empty() {
                return format!(
                    "; `{name}` is an Event attribute of event type {}, not `{t}`",
                    others.join(", ")
                );
            }
        }
        let names = self.names.get(&entity);
        if let Some(same) = names.and_then(|m| {
            m.keys()
                .find(|c| c.eq_ignore_ascii_case(name) && **c != name)
        }) {
            return format!("; `{same}` is (names are case-sensitive): use `{same}`");
        }
        let others: Vec<&str> = self
            .names
            .iter()
            .filter(|(e, m)| **e != entity && m.contains_key(name))
            .map(|(e, _)| e.as_str())
            .collect();
        if !others.is_empty() {
            return format!(
                "; `{name}` exists for {}, not {}",
                others.join(", "),
                entity.as_str()
            );
        }
        let flat = self.flattened(entity, name);
        if !flat.is_empty() {
            return format!("; Talon.One has {}", flat.join(", "));
        }
        String::new()
    }

    /// The catalog's names `<name>_…` for `entity`, backticked.
    fn flattened(&self, entity: Entity, name: &str) -> Vec<String> {
        let prefix = format!("{name}_");
        self.names
            .get(&entity)
            .map(|m| {
                m.keys()
                    .filter(|c| c.starts_with(&prefix))
                    .map(|c| format!("`{c}`"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// The audience fields of the profile actions that take Talon.One's numeric ids.
fn id_fields(action: Action) -> Option<(&'static str, &'static str)> {
    match action {
        Action::UpdateCustomerProfile | Action::UpdateCustomerProfileV3 => {
            Some(("addAudienceIds", "deleteAudienceIds"))
        }
        _ => None,
    }
}

/// The static audience and rule-engine findings, and the subscriptions the rule-engine check
/// named.
fn audience_checks(
    enabled: &[&Subscription],
    deployment: &StateFile,
    notes: &mut Vec<String>,
) -> (Vec<String>, Vec<String>, BTreeSet<String>) {
    let known: BTreeSet<i64> = deployment.audiences.iter().map(|a| a.id).collect();
    let listed = if deployment.audiences.is_empty() {
        "it has no audiences".to_owned()
    } else {
        format!(
            "its audiences: {}",
            deployment
                .audiences
                .iter()
                .map(|a| format!("{} \"{}\"", a.id, a.name))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut problems = Vec::new();
    let mut rule = Vec::new();
    let mut rule_named = BTreeSet::new();
    let check_ids = |sub: &str,
                     label: &str,
                     value: &Js,
                     problems: &mut Vec<String>,
                     notes: &mut Vec<String>| {
        let items: Vec<&Js> = match value {
            Js::Array(items) => items.iter().collect(),
            v if is_directive(v) => {
                notes.push(format!(
                    "subscription `{sub}`: `{label}` is mapped from the event ({}): its audience ids are checked only with --events",
                    v.to_json().unwrap_or_default()
                ));
                return;
            }
            other => vec![other],
        };
        for item in items {
            let id = match item {
                Js::Number(n) => Some(*n),
                Js::String(s) => s.trim().parse::<f64>().ok(),
                v if is_directive(v) => {
                    notes.push(format!(
                        "subscription `{sub}`: an item of `{label}` is mapped from the event: checked only with --events"
                    ));
                    continue;
                }
                _ => None,
            };
            let shown = item.to_json().unwrap_or_default();
            match id {
                Some(n) if n.fract() == 0.0 && (1.0..9.0e15).contains(&n) => {
                    #[allow(clippy::cast_possible_truncation)]
                    let n = n as i64;
                    if !known.contains(&n) {
                        problems.push(format!(
                            "subscription `{sub}`: `{label}` holds {shown}, which is no audience of this deployment ({listed}): Talon.One refuses the whole update (400); use the numeric id of the Talon.One audience"
                        ));
                    }
                }
                _ => problems.push(format!(
                    "subscription `{sub}`: `{label}` holds {shown}, which is not a Talon.One audience id (an integer of at least 1, as Talon.One numbers its audiences): the update is refused; hard-code the Talon.One audience's numeric id, e.g. [1]"
                )),
            }
        }
    };
    for sub in enabled {
        let Some(action) = sub.action else { continue };
        let mapping = &sub.mapping;
        let mut sends_audiences = false;
        if let Some((adds, deletes)) = id_fields(action) {
            for label in [adds, deletes] {
                if let Some(value) = field(mapping, label) {
                    sends_audiences = true;
                    check_ids(&sub.name, label, value, &mut problems, notes);
                }
            }
        }
        if action == Action::UpdateCustomerProfilesAudiences {
            let data = match field(mapping, "data") {
                // `{"@arrayPath": [path, item]}`: the item's literal ids are checked.
                Some(Js::Object(o)) if o.len() == 1 => match o.get("@arrayPath") {
                    Some(Js::Array(parts)) if parts.len() == 2 => {
                        parts.get(1).map(|item| Js::Array(vec![item.clone()]))
                    }
                    _ => field(mapping, "data").cloned(),
                },
                other => other.cloned(),
            };
            match data.as_ref() {
                Some(Js::Array(items)) => {
                    for (i, item) in items.iter().enumerate() {
                        for side in ["adds", "deletes"] {
                            if let Some(value) = field(item, side) {
                                check_ids(
                                    &sub.name,
                                    &format!("data[{i}].{side}"),
                                    value,
                                    &mut problems,
                                    notes,
                                );
                            }
                        }
                    }
                }
                Some(other) => notes.push(format!(
                    "subscription `{}`: `data` is mapped from the event ({}): its audience ids are checked only with --events",
                    sub.name,
                    other.to_json().unwrap_or_default()
                )),
                None => {}
            }
        }
        if action == Action::UpdateCustomerProfileV2
            && (field(mapping, "audiencesToAdd").is_some()
                || field(mapping, "audiencesToDelete").is_some())
        {
            sends_audiences = true;
        }
        let profile_action = matches!(
            action,
            Action::UpdateCustomerProfile
                | Action::UpdateCustomerProfileV2
                | Action::UpdateCustomerProfileV3
        );
        if profile_action && !sends_audiences && sub.condition.as_ref().is_some_and(about_audiences)
        {
            problems.push(format!(
                "subscription `{}` handles Engage audience events (its trigger `{}`) but maps no audience ids: the profile joins no Talon.One audience, and the audience lands at most as an attribute; hard-code the Talon.One audience's numeric id, e.g. `\"addAudienceIds\": [1]` (and `deleteAudienceIds` for the exit)",
                sub.name, sub.trigger
            ));
        }
        if profile_action && sends_audiences {
            match literal_bool(field(mapping, "runRuleEngine")) {
                Some(Some(true)) => {}
                Some(Some(false)) => {
                    rule_named.insert(sub.name.clone());
                    rule.push(format!(
                        "subscription `{}` sends audience changes with `runRuleEngine` false: Talon.One then does not apply audience changes; set `runRuleEngine` to true",
                        sub.name
                    ));
                }
                Some(None) => {
                    rule_named.insert(sub.name.clone());
                    rule.push(format!(
                        "subscription `{}` sends audience changes without `runRuleEngine`: it is then not sent, Talon.One takes it as false and does not apply audience changes; map `\"runRuleEngine\": true`",
                        sub.name
                    ));
                }
                None => notes.push(format!(
                    "subscription `{}`: `runRuleEngine` is mapped from the event: audience changes apply only where it is true",
                    sub.name
                )),
            }
        }
    }
    (problems, rule, rule_named)
}

// ------------------------------------------------------------------ events

/// What the event checks found.
struct EventFindings {
    checks: Vec<Check>,
    notes: Vec<String>,
    /// (subscription, events, first source) with audience changes and runRuleEngine not true.
    rule_engine: Vec<(String, usize, String)>,
    /// Engage audience events a profile subscription sends without audience ids.
    audience_only: Vec<String>,
}

/// Maps every event with the real Actions mapper and checks each request's body.
fn event_checks(
    events: &[EventLine],
    config: &ActionsConfig,
    enabled: &[&Subscription],
    deployment: &StateFile,
    catalog: &Catalog<'_>,
) -> EventFindings {
    let destination = Destination::Actions(config.clone());
    let actions: BTreeMap<&str, Action> = config
        .subscriptions
        .iter()
        .filter_map(|s| Some((s.name.as_str(), s.action?)))
        .collect();
    let audiences: BTreeSet<i64> = deployment.audiences.iter().map(|a| a.id).collect();
    let mut f = Found::default();
    let mut matched: BTreeSet<String> = BTreeSet::new();
    let mut unmatched: BTreeMap<String, usize> = BTreeMap::new();
    for line in events {
        let source = &line.source;
        let mapped = talon_mapper::map(&destination, &line.bytes);
        if let Some(skip @ Skip::InvalidEvent { .. }) = mapped.skip() {
            f.unreadable
                .push(format!("{source}: not a readable Segment event: {skip}"));
            continue;
        }
        if matches!(mapped.skip(), Some(Skip::NoSubscription)) {
            *unmatched.entry(event_kind(&line.bytes)).or_insert(0) += 1;
        }
        for d in &mapped.diagnostics {
            let Kind::Action {
                subscription,
                code,
                message,
            } = &d.kind
            else {
                continue;
            };
            match *code {
                "rejected" => {
                    matched.insert(subscription.clone());
                    f.segment.push(format!(
                        "{source}: subscription `{subscription}`: Segment's validation refuses the payload, nothing is sent: {message}"
                    ));
                }
                "audience_attribute_only" => {
                    let event: Value = serde_json::from_slice(&line.bytes).unwrap_or(Value::Null);
                    let key = event["context"]["personas"]["computation_key"]
                        .as_str()
                        .unwrap_or("?")
                        .to_owned();
                    let entry = f
                        .audience_only
                        .entry((subscription.clone(), key))
                        .or_insert_with(|| (0, source.clone()));
                    entry.0 += 1;
                }
                "path_changed" => {
                    matched.insert(subscription.clone());
                    f.paths.push(format!(
                        "{source}: subscription `{subscription}`: {message}; map an id without `/`, `?`, `#`, `\\` or `..`"
                    ));
                }
                _ => {}
            }
        }
        for request in &mapped.requests {
            let Some(name) = request.subscription.as_deref() else {
                continue;
            };
            matched.insert(name.to_owned());
            let Some(action) = actions.get(name).copied() else {
                continue;
            };
            let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
            let skip = request.path().contains("skipNonExistingAttributes=true");
            let at = At {
                source,
                subscription: name,
                id: &request.key,
                event_type: (action == Action::TrackEventV2)
                    .then(|| body.get("eventType").and_then(Value::as_str))
                    .flatten(),
            };
            f.request(&at, action, &body, skip, catalog, &audiences);
        }
    }
    let mut notes = Vec::new();
    let never: Vec<String> = enabled
        .iter()
        .filter(|s| s.action.is_some() && s.condition.is_some() && !matched.contains(&s.name))
        .map(|s| {
            format!(
                "subscription `{}` (trigger `{}`) matched none of {}: it sends nothing; check its trigger against the events' types and names",
                s.name,
                s.trigger,
                if events.len() == 1 { "the 1 event".to_owned() } else { format!("the {} events", events.len()) }
            )
        })
        .collect();
    if !unmatched.is_empty() {
        let total: usize = unmatched.values().sum();
        notes.push(format!(
            "{} matched no enabled subscription and send nothing: {}",
            plural(total, "event"),
            unmatched
                .iter()
                .map(|(kind, n)| format!("{n} {kind}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let dropped = f
        .dropped
        .iter()
        .map(|((sub, entity, name), (count, first, hint))| {
            format!(
                "subscription `{sub}`: `{name}` is not {} attribute{hint}; skipNonExistingAttributes is on, so Talon.One drops it silently from {} (first {first}); create the attribute in Talon.One, or map the value to an attribute it has",
                an(*entity),
                plural(*count, "event")
            )
        })
        .collect();
    let rule_engine = f
        .rule_engine
        .iter()
        .map(|(sub, (count, first))| (sub.clone(), *count, first.clone()))
        .collect();
    let audience_only = f
        .audience_only
        .iter()
        .map(|((sub, key), (count, first))| {
            format!(
                "subscription `{sub}`: {} of `{key}` (first {first}) join no Talon.One audience: the subscription maps no audience ids, so `{key}` lands at most as an attribute; add a subscription for the audience with its Talon.One numeric id (`\"addAudienceIds\": [1]` on entering, `deleteAudienceIds` on exiting)",
                plural(*count, "Engage audience event")
            )
        })
        .collect();
    EventFindings {
        audience_only,
        checks: vec![
            Check::from_details(ATTRIBUTES_EXIST, f.unknown),
            Check::from_details(EVENT_TYPES, f.event_types),
            Check::from_details(NOT_DROPPED, dropped),
            Check::from_details(VALUES_FIT, f.wrong_type),
            Check::from_details(CART_ITEMS, f.cart),
            Check::from_details(IDS, f.ids),
            Check::from_details(PATHS, f.paths),
            Check::from_details(SEGMENT_VALID, f.segment),
            Check::from_details(SUBSCRIPTIONS_MATCH, never),
            Check::from_details(READABLE, f.unreadable),
        ],
        notes,
        rule_engine,
    }
}

/// `track "Order Completed"` or the type, for the note on unmatched events.
fn event_kind(bytes: &[u8]) -> String {
    let event: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
    match (
        event.get("type").and_then(Value::as_str),
        event.get("event").and_then(Value::as_str),
    ) {
        (Some("track"), Some(name)) => format!("track `{name}`"),
        (Some(kind), _) => kind.to_owned(),
        (None, _) => "without a type".to_owned(),
    }
}

/// Where a request came from, for the findings' words.
struct At<'a> {
    source: &'a str,
    subscription: &'a str,
    id: &'a str,
    /// A current event request's `eventType` (scopes its Event attributes).
    event_type: Option<&'a str>,
}

/// The event findings, gathered.
#[derive(Default)]
struct Found {
    unknown: Vec<String>,
    event_types: Vec<String>,
    wrong_type: Vec<String>,
    cart: Vec<String>,
    ids: Vec<String>,
    paths: Vec<String>,
    segment: Vec<String>,
    unreadable: Vec<String>,
    /// (subscription, entity, attribute) → (events, first source, hint).
    dropped: BTreeMap<(String, Entity, String), (usize, String, String)>,
    /// subscription → (events, first source).
    rule_engine: BTreeMap<String, (usize, String)>,
    /// (subscription, Engage audience key) → (events, first source).
    audience_only: BTreeMap<(String, String), (usize, String)>,
}

impl Found {
    fn request(
        &mut self,
        at: &At<'_>,
        action: Action,
        body: &Value,
        skip: bool,
        catalog: &Catalog<'_>,
        audiences: &BTreeSet<i64>,
    ) {
        let deprecated = action.replaced_by().is_some();
        // The event type (the deprecated endpoint creates a missing one).
        if let Some(event_type) = at.event_type
            && !catalog.event_types.contains(event_type)
        {
            self.event_types.push(format!(
                "{}: subscription `{}`: event type `{event_type}` is not one Talon.One has{}: Talon.One refuses the event (400); create the event type in Talon.One, or map the event name to one it has",
                at.source,
                at.subscription,
                catalog.event_type_hint(event_type)
            ));
        }
        // Ids.
        let profile_id = match action {
            Action::UpdateCustomerProfile
            | Action::UpdateCustomerProfileV2
            | Action::UpdateCustomerProfileV3 => Some(at.id.to_owned()),
            Action::TrackEvent | Action::TrackEventV2 => body
                .get("customerProfileId")
                .and_then(Value::as_str)
                .map(str::to_owned),
            _ => None,
        };
        if let Some(id) = profile_id
            && let Err(why) = rules::check_integration_id(&id)
        {
            self.ids.push(format!(
                "{}: subscription `{}`: customerProfileId: {why}: Talon.One refuses the request (400)",
                at.source, at.subscription
            ));
        }
        // Audience changes.
        if matches!(
            action,
            Action::UpdateCustomerProfile | Action::UpdateCustomerProfileV3
        ) {
            let changes = &body["audiencesChanges"];
            let ids: Vec<&Value> = ["adds", "deletes"]
                .iter()
                .filter_map(|side| changes.get(side).and_then(Value::as_array))
                .flatten()
                .collect();
            if !ids.is_empty() {
                if body.get("runRuleEngine") == Some(&Value::Bool(true)) {
                    self.audience_ids(at, "audiencesChanges", &ids, audiences);
                } else {
                    let entry = self
                        .rule_engine
                        .entry(at.subscription.to_owned())
                        .or_insert_with(|| (0, at.source.to_owned()));
                    entry.0 += 1;
                }
            }
        }
        if action == Action::UpdateCustomerProfilesAudiences {
            for (i, item) in body["data"].as_array().into_iter().flatten().enumerate() {
                if let Some(id) = item.get("customerProfileId").and_then(Value::as_str)
                    && let Err(why) = rules::check_integration_id(id)
                {
                    self.ids.push(format!(
                        "{}: subscription `{}`: data[{i}].customerProfileId: {why}: Talon.One refuses every item (400)",
                        at.source, at.subscription
                    ));
                }
                let ids: Vec<&Value> = ["adds", "deletes"]
                    .iter()
                    .filter_map(|side| item.get(side).and_then(Value::as_array))
                    .flatten()
                    .collect();
                self.audience_ids(at, &format!("data[{i}]"), &ids, audiences);
            }
        }
        // Attributes.
        for (entity, base, attributes) in body_attributes(action, body) {
            for (name, value) in attributes {
                self.attribute(at, entity, &base, name, value, skip, deprecated, catalog);
            }
        }
        // Cart items.
        let items = match action {
            Action::UpdateCustomerSessionV2 => body.get("cartItems"),
            Action::UpdateCustomerSession => body["customerSession"].get("cartItems"),
            _ => None,
        };
        for (i, item) in items
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            self.cart_item(at, i, item);
        }
    }

    fn audience_ids(
        &mut self,
        at: &At<'_>,
        label: &str,
        ids: &[&Value],
        audiences: &BTreeSet<i64>,
    ) {
        for id in ids {
            let known = id.as_i64().is_some_and(|n| audiences.contains(&n));
            if !known {
                self.ids.push(format!(
                    "{}: subscription `{}`: {label} names audience {id}, which is no Talon.One audience of this deployment: Talon.One refuses the whole request (400); map the numeric id of an existing audience",
                    at.source, at.subscription
                ));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn attribute(
        &mut self,
        at: &At<'_>,
        entity: Entity,
        base: &str,
        name: &str,
        value: &Value,
        skip: bool,
        deprecated: bool,
        catalog: &Catalog<'_>,
    ) {
        let flat = catalog.flattened(entity, name);
        let flatten_words = if value.is_object() && !flat.is_empty() {
            format!(
                "; `{name}` is an object, and Talon.One has {}: the Actions destination does not flatten; map each member, e.g. `\"{}\": {{\"@path\": \"$.traits.{name}.{}\"}}`",
                flat.join(", "),
                flat[0].trim_matches('`'),
                flat[0]
                    .trim_matches('`')
                    .trim_start_matches(&format!("{name}_"))
            )
        } else {
            String::new()
        };
        match catalog.get(entity, name, at.event_type) {
            None if deprecated => {
                if let Err(why) = talon_fake::rules::detect_type(value) {
                    self.wrong_type.push(format!(
                        "{}: subscription `{}`: `{base}/{name}` is {why}: the deprecated endpoint creates missing attributes by their value's type, and this one's cannot be detected: Talon.One refuses the whole request (400)",
                        at.source, at.subscription
                    ));
                }
            }
            None if skip => {
                let hint = if flatten_words.is_empty() {
                    catalog.hint(entity, name, at.event_type)
                } else {
                    flatten_words
                };
                let entry = self
                    .dropped
                    .entry((at.subscription.to_owned(), entity, name.to_owned()))
                    .or_insert_with(|| (0, at.source.to_owned(), hint));
                entry.0 += 1;
            }
            None => {
                let hint = if flatten_words.is_empty() {
                    catalog.hint(entity, name, at.event_type)
                } else {
                    flatten_words
                };
                self.unknown.push(format!(
                    "{}: subscription `{}`: `{name}` is not {} attribute in Talon.One{hint}: the whole request for `{}` is refused (400, skipNonExistingAttributes is off)",
                    at.source,
                    at.subscription,
                    an(entity),
                    at.id
                ));
            }
            Some(ty) => {
                if let Err(problem) = rules::check_value(ty, value) {
                    self.wrong_type.push(format!(
                        "{}: subscription `{}`: `{name}` is {} {} but Talon.One's {} attribute `{name}` is `{}` ({problem}){flatten_words}: the whole request for `{}` is refused (400)",
                        at.source,
                        at.subscription,
                        article(rules::kind_name(value)),
                        shown_value(value),
                        entity.as_str(),
                        ty.as_str(),
                        at.id
                    ));
                }
            }
        }
    }

    fn cart_item(&mut self, at: &At<'_>, i: usize, item: &Value) {
        let label = format!("cartItems[{i}]");
        match item.get("quantity") {
            Some(Value::Number(n)) if n.as_u64().is_some_and(|q| q >= 1) => {}
            Some(q) => self.cart.push(format!(
                "{}: subscription `{}`: {label}.quantity is {}: Talon.One takes an integer quantity of at least 1 and refuses the session update (400); map a whole number of items",
                at.source,
                at.subscription,
                shown_value(q)
            )),
            None if item.get("sku").is_some() => self.cart.push(format!(
                "{}: subscription `{}`: {label} has a sku but no quantity: Talon.One requires the quantity with the sku and refuses the session update (400)",
                at.source, at.subscription
            )),
            None => {}
        }
        for key in [
            "returnedQuantity",
            "remainingQuantity",
            "weight",
            "height",
            "length",
            "position",
        ] {
            if let Some(Value::String(s)) = item.get(key) {
                self.cart.push(format!(
                    "{}: subscription `{}`: {label}.{key} arrives as the string {} (the Actions destination's field is a string), where Talon.One takes a number: the session update is refused (400)",
                    at.source,
                    at.subscription,
                    shown_value(&Value::String(s.clone()))
                ));
            }
        }
    }
}

/// The attribute objects of a request body, with their entity and pointer.
fn body_attributes(action: Action, body: &Value) -> Vec<(Entity, String, &Map<String, Value>)> {
    fn push<'b>(
        out: &mut Vec<(Entity, String, &'b Map<String, Value>)>,
        entity: Entity,
        base: String,
        value: Option<&'b Value>,
    ) {
        if let Some(Value::Object(attributes)) = value {
            out.push((entity, base, attributes));
        }
    }
    let mut out = Vec::new();
    match action {
        Action::UpdateCustomerProfile
        | Action::UpdateCustomerProfileV2
        | Action::UpdateCustomerProfileV3 => {
            push(
                &mut out,
                Entity::CustomerProfile,
                "attributes".into(),
                body.get("attributes"),
            );
        }
        Action::TrackEvent | Action::TrackEventV2 => {
            push(
                &mut out,
                Entity::Event,
                "eventAttributes".into(),
                body.get("eventAttributes"),
            );
        }
        Action::UpdateCustomerSessionV2 | Action::UpdateCustomerSession => {
            let (session, base) = if action == Action::UpdateCustomerSession {
                (&body["customerSession"], "customerSession/")
            } else {
                (body, "")
            };
            push(
                &mut out,
                Entity::CustomerSession,
                format!("{base}attributes"),
                session.get("attributes"),
            );
            for (i, item) in session["cartItems"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                push(
                    &mut out,
                    Entity::CartItem,
                    format!("{base}cartItems/{i}/attributes"),
                    item.get("attributes"),
                );
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condition(trigger: &str) -> Condition {
        segment_subscriptions::parse(trigger).expect("the trigger parses")
    }

    #[test]
    fn contradicting_types_and_event_names_never_fire_and_alternatives_do() {
        for never in [
            r#"type = "identify" and type = "track""#,
            r#"type = "identify" and event = "Order Completed""#,
            r#"type = "track" and type != "track""#,
        ] {
            assert!(
                impossible(&condition(never)).is_some_and(|w| w.contains("exclude each other")),
                "{never}"
            );
        }
        assert!(
            impossible(&condition(r#"event = "A" and event = "B""#))
                .is_some_and(|w| w.contains("two different event names")),
        );
        assert!(impossible(&condition(r#"type = "screen""#)).is_some_and(|w| w.contains("screen")));
        for fires in [
            r#"type = "identify" or type = "track""#,
            r#"type = "track" and event = "Order Completed""#,
            r#"event = "A" or event = "B""#,
            r#"type = "screen" or type = "page""#,
            r#"type != "identify""#,
            r#"type = "track" and event != "Audience Entered" and event != "Audience Exited""#,
        ] {
            assert_eq!(impossible(&condition(fires)), None, "{fires}");
        }
    }

    #[test]
    fn a_hostname_is_compared_without_scheme_trailing_slash_or_case() {
        for typed in [
            "https://MyCompany.europe-west1.talon.one/",
            "mycompany.europe-west1.talon.one",
            " HTTP://mycompany.europe-west1.talon.one ",
        ] {
            assert_eq!(normalize_host(typed), "mycompany.europe-west1.talon.one");
        }
        assert_ne!(
            normalize_host("https://other.europe-west1.talon.one"),
            "mycompany.europe-west1.talon.one"
        );
    }

    #[test]
    fn only_null_objects_and_empty_or_mixed_lists_are_undetectable() {
        use serde_json::json;
        for value in [json!(null), json!({"a": 1}), json!([]), json!([1, "a"])] {
            assert!(talon_fake::rules::detect_type(&value).is_err(), "{value}");
        }
        for value in [
            json!(true),
            json!(1),
            json!("a"),
            json!(["a"]),
            json!([1, 2]),
        ] {
            assert!(talon_fake::rules::detect_type(&value).is_ok(), "{value}");
        }
    }
}
