//! The pre-flight linter behind `talon-harness check`: what Talon.One would reject, found before any traffic.
//!
//! Pure: it reads nothing and prints nothing; `cmd::check` reads the
//! settings, the deployment and the events, and prints the checks. This
//! module is the classic destination's; [`actions`] is Talon.One (Actions)'s.
//!
//! The checks, each a JUnit test case:
//!
//! - the settings are valid (the mapper's own settings problems);
//! - Talon.One knows the API key, and the application it opens (from the
//!   state's Integration API keys; with `--target`, live through
//!   `GET /v2/authping`, the call Segment itself makes when the settings are
//!   saved);
//! - every configured Custom Attribute exists as a `CustomerProfile`
//!   attribute, byte for byte, and none differs from a catalog name only by
//!   case or `.` (each with the fix: which side to rename, to what);
//! - every Engage key exists, audience keys as booleans;
//! - with `--events`, every event is mapped by the real mapper and its
//!   request is checked with the fake's own rules (`talon_fake::rules`):
//!   attributes that do not exist, values whose type does not fit, and
//!   integration ids Talon.One refuses, each naming the event's `file:line`;
//!   a line that is not a readable event is a finding too.
//!
//! What cannot be predicted before traffic, and is not: rejections that
//! depend on the deployment's state at the time (an attribute deleted or
//! created meanwhile, profiles), on load (409 for concurrent updates of one
//! profile, 429) or on the network.

pub mod actions;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;
use talon_fake::StateFile;
use talon_fake::rules::{self, AttrType, Entity};
use talon_mapper::{Settings, SettingsError, is_valid_attribute_name};

use crate::input::EventLine;
use crate::output::Check;

/// What is known about the settings' API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCheck {
    /// Look it up in the state's Integration API keys.
    FromState,
    /// `GET /v2/authping` answered this status.
    Live(u16),
}

/// Everything `check` needs, read.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The destination settings.
    pub settings: &'a Settings,
    /// Their non-fatal problems.
    pub problems: &'a [SettingsError],
    /// The deployment.
    pub state: &'a StateFile,
    /// How to check the API key.
    pub key: KeyCheck,
    /// Events, when given.
    pub events: &'a [EventLine],
    /// Audience keys given on the command line.
    pub audience_keys: &'a [String],
}

/// The check names that predict an event's rejection; their details start with the event's `file:line: `.
pub const EVENT_CHECKS: &[&str] = &[ATTRIBUTES_EXIST, VALUES_FIT, INTEGRATION_IDS];

const SETTINGS_VALID: &str = "the settings are valid";
/// The API key check; when it fails, every request is rejected (401).
pub const KEY_KNOWN: &str = "Talon.One knows the API key";
const CUSTOM_EXIST: &str =
    "every configured Custom Attribute exists in Talon.One with the same name and case";
const NO_NEAR_MISS: &str =
    "no Custom Attribute differs from a Talon.One attribute only by case or `.`";
const ENGAGE: &str = "every Engage key exists in Talon.One with a fitting type";
const ATTRIBUTES_EXIST: &str = "every attribute the events send exists in Talon.One";
const VALUES_FIT: &str = "every value the events send fits its attribute's type in Talon.One";
/// Unreadable lines are findings: a pre-flight that skipped them would pass on input it never checked.
const READABLE: &str = "every event line is a readable Segment event";
const INTEGRATION_IDS: &str = "every integrationId the events address is one Talon.One accepts";

/// Every check, and notes for people (the application the key opens).
pub fn checks(inputs: &Inputs<'_>) -> (Vec<Check>, Vec<String>) {
    let state = inputs.state;
    let settings = inputs.settings;
    let catalog: BTreeMap<&str, AttrType> = state
        .attributes
        .iter()
        .filter(|a| a.entity == Entity::CustomerProfile)
        .map(|a| (a.name.as_str(), a.ty))
        .collect();
    let mut other_entity: BTreeMap<&str, Vec<Entity>> = BTreeMap::new();
    for a in state
        .attributes
        .iter()
        .filter(|a| a.entity != Entity::CustomerProfile)
    {
        other_entity
            .entry(a.name.as_str())
            .or_default()
            .push(a.entity);
    }
    let mut notes = Vec::new();
    let mut checks = vec![Check::from_details(
        SETTINGS_VALID,
        inputs.problems.iter().map(ToString::to_string).collect(),
    )];

    // The API key.
    let (key_problems, key_notes) = key_check(settings.api_key(), state, &inputs.key);
    notes.extend(key_notes);
    if let Some(problems) = key_problems {
        checks.push(Check::from_details(KEY_KNOWN, problems));
    }

    // Custom Attributes against the catalog.
    let near = NearRule::new(settings.custom_attributes());
    let mut missing = Vec::new();
    for name in settings.custom_attributes() {
        if catalog.contains_key(name.as_str()) {
            continue;
        }
        let mut line = format!(
            "`{name}` is in Custom Attributes but Talon.One has no CustomerProfile attribute `{name}`: every identify carrying it is rejected"
        );
        if let Some((near, how)) = catalog
            .keys()
            .find_map(|c| near.near(name, c).map(|h| (c, h)))
        {
            let _ = write!(
                line,
                "; Talon.One has `{near}`, {}: rename Custom Attribute `{name}` to `{near}`, the name Talon.One has{}",
                how.words(),
                if how.dot {
                    format!(" (a nested trait `{name}` arrives flattened as `{near}`)")
                } else {
                    format!(", and send the trait as `{near}`")
                }
            );
        } else if let Some(entities) = other_entity.get(name.as_str()) {
            let list: Vec<String> = entities.iter().map(|e| format!("{e:?}")).collect();
            let _ = write!(
                line,
                "; `{name}` exists for {}, not CustomerProfile: create it for CustomerProfile",
                list.join(", ")
            );
        } else {
            let _ = write!(
                line,
                "; create a CustomerProfile attribute `{name}` in Talon.One, or remove it from Custom Attributes"
            );
        }
        missing.push(line);
    }
    checks.push(Check::from_details(CUSTOM_EXIST, missing));

    let mut near_misses = Vec::new();
    for name in catalog.keys() {
        if settings.is_configured(name) {
            continue;
        }
        // A configured name missing from the catalog is reported above, with its fix;
        // here: both spellings exist in Talon.One, and only one is configured.
        for configured in settings.custom_attributes() {
            if !catalog.contains_key(configured.as_str()) {
                continue;
            }
            if let Some(how) = near.near(configured, name) {
                near_misses.push(format!(
                    "Talon.One has both `{name}` and `{configured}`; Custom Attributes lists only `{configured}` ({}): a trait `{name}` is never sent; add `{name}` to Custom Attributes if the traits carry it",
                    how.reason()
                ));
            }
        }
    }
    checks.push(Check::from_details(NO_NEAR_MISS, near_misses));

    // Engage keys: given, and read from events.
    let mut engage: BTreeMap<String, &'static str> = inputs
        .audience_keys
        .iter()
        .map(|k| (k.clone(), "audience"))
        .collect();
    for line in inputs.events {
        let Ok(event) = serde_json::from_slice::<Value>(&line.bytes) else {
            continue;
        };
        // Rule 7's key, as the reference model reads it.
        if let Some(found) = event
            .as_object()
            .and_then(talon_reference::rule7_engage_key)
        {
            engage.entry(found.key).or_insert(found.class.as_str());
        }
    }
    let mut engage_problems = Vec::new();
    for (key, class) in &engage {
        if !is_valid_attribute_name(key) {
            engage_problems.push(format!("Engage {class} key `{key}` can never be a Talon.One attribute name (^[A-Za-z]\\w*$): rename the {class}"));
            continue;
        }
        match (catalog.get(key.as_str()), *class) {
            (None, "audience") => engage_problems.push(format!(
                "Engage audience key `{key}` has no CustomerProfile attribute in Talon.One: its updates are rejected; create `{key}` as a boolean CustomerProfile attribute"
            )),
            (None, _) => engage_problems.push(format!(
                "Engage trait key `{key}` has no CustomerProfile attribute in Talon.One: its updates are rejected; create `{key}` with the computed trait's type"
            )),
            (Some(ty), "audience") if *ty != AttrType::Boolean => engage_problems.push(format!(
                "audience key `{key}` is typed `{}` in Talon.One; audiences send true/false, so it must be `boolean`", ty.as_str()
            )),
            _ => {}
        }
    }
    checks.push(Check::from_details(ENGAGE, engage_problems));

    if !inputs.events.is_empty() {
        checks.extend(event_checks(inputs, &catalog));
    }
    (checks, notes)
}

/// The API key check's details (`None`: it cannot be checked) and notes.
fn key_check(
    api_key: &str,
    state: &StateFile,
    how: &KeyCheck,
) -> (Option<Vec<String>>, Vec<String>) {
    let shown = redact(api_key);
    let apps: Vec<String> = state
        .applications
        .iter()
        .map(|a| format!("{} \"{}\"", a.id, a.name))
        .collect();
    let apps_text = if apps.is_empty() {
        "it has no applications".to_owned()
    } else {
        format!("its applications: {}", apps.join(", "))
    };
    match how {
        KeyCheck::Live(200..=299) => {
            let note = match state.applications.as_slice() {
                [only] => format!(
                    "the API key {shown} is valid (GET /v2/authping) and opens application {} \"{}\", the deployment's only application",
                    only.id, only.name
                ),
                _ => format!(
                    "the API key {shown} is valid (GET /v2/authping); the Management API does not say which application it opens ({apps_text})"
                ),
            };
            (Some(Vec::new()), vec![note])
        }
        KeyCheck::Live(status) => (
            Some(vec![format!(
                "the API key {shown} is not valid for this deployment (GET /v2/authping answered {status}): Talon.One answers 401 to every request; copy the Integration API key of the application from Talon.One into `apiKey`"
            )]),
            Vec::new(),
        ),
        KeyCheck::FromState if state.integration_keys.is_empty() => (
            None,
            vec![format!(
                "the API key {shown} was not checked: the state lists no Integration API keys (a pulled state cannot hold them); `check --target` pings it live"
            )],
        ),
        KeyCheck::FromState => match state.integration_keys.iter().find(|k| k.key == api_key) {
            None => (
                Some(vec![format!(
                    "the API key {shown} is not an Integration API key of this deployment ({apps_text}): Talon.One answers 401 to every request; copy the application's Integration API key into `apiKey`"
                )]),
                Vec::new(),
            ),
            Some(key) => match state
                .applications
                .iter()
                .find(|a| a.id == key.application_id)
            {
                Some(app) => (
                    Some(Vec::new()),
                    vec![format!(
                        "the API key {shown} opens application {} \"{}\"",
                        app.id, app.name
                    )],
                ),
                None => (
                    Some(vec![format!(
                        "the API key {shown} belongs to application {}, which the deployment does not have ({apps_text})",
                        key.application_id
                    )]),
                    Vec::new(),
                ),
            },
        },
    }
}

/// The first four characters of a key, then `…`: enough to tell keys apart, not to use one.
pub(crate) fn redact(key: &str) -> String {
    let head: String = key.chars().take(4).collect();
    format!("`{head}…`")
}

/// How a configured name differs from a catalog name it nearly is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Near {
    case: bool,
    dot: bool,
}

impl Near {
    fn words(self) -> &'static str {
        match (self.case, self.dot) {
            (true, false) => "which differs only in case (names are case-sensitive)",
            (false, true) => "and Segment flattens nested traits with `_`, not `.`",
            _ => {
                "which differs in case (names are case-sensitive), and Segment flattens nested traits with `_`, not `.`"
            }
        }
    }

    fn reason(self) -> &'static str {
        match (self.case, self.dot) {
            (true, false) => "only the case differs, and names are case-sensitive",
            (false, true) => "Segment flattens nested traits with `_`, not `.`",
            _ => "names are case-sensitive, and Segment flattens nested traits with `_`, not `.`",
        }
    }
}

/// The one near-miss rule: the mapper's ([`Settings::near_miss`]: the same
/// name but for ASCII case, and `.` where `_` belongs), so `check` predicts
/// exactly the `case_mismatch` and `dotted_configured` diagnostics mapping
/// gives (check's own copy of the rule, removed in issue 12, differed: it
/// undotted only the configured side).
///
/// The mapper answers "which configured name does this key nearly match"
/// over its whole list, one answer; `check` asks pairwise (every configured
/// name against every catalog name, both ways), so each configured name gets
/// a one-name [`Settings`] of its own. Check is cold; the mapper's hot path
/// stays as it is.
struct NearRule<'s>(BTreeMap<&'s str, Settings>);

impl<'s> NearRule<'s> {
    fn new(configured: &'s [String]) -> Self {
        Self(
            configured
                .iter()
                .filter_map(|name| Some((name.as_str(), single(name)?)))
                .collect(),
        )
    }

    /// How `configured` differs from `catalog`, when it nearly is it (never when equal).
    fn near(&self, configured: &str, catalog: &str) -> Option<Near> {
        let miss = self.0.get(configured)?.near_miss(catalog)?;
        Some(Near {
            case: configured.replace('.', "_") != catalog.replace('.', "_"),
            dot: matches!(miss, talon_mapper::NearMiss::Dotted(_)) || catalog.contains('.'),
        })
    }
}

/// Settings whose only Custom Attribute is `name` (kept even when it is not a
/// valid attribute name: lenient parsing keeps such names, as Segment does).
fn single(name: &str) -> Option<Settings> {
    let json = serde_json::json!({
        "apiKey": "preflight",
        "applicationDomain": "https://preflight.invalid",
        "customAttributes": [name],
    });
    Settings::parse_lenient(&json.to_string())
        .ok()
        .map(|(settings, _)| settings)
}

/// Maps every event with the real mapper and checks its request with the fake's own rules.
fn event_checks(inputs: &Inputs<'_>, catalog: &BTreeMap<&str, AttrType>) -> Vec<Check> {
    let mut unknown = Vec::new();
    let mut wrong_type = Vec::new();
    let mut bad_ids = Vec::new();
    let mut unreadable = Vec::new();
    for line in inputs.events {
        let mapped = talon_mapper::map_json(&line.bytes, inputs.settings);
        if let Some(skip @ talon_mapper::Skip::InvalidEvent { .. }) = mapped.skip() {
            unreadable.push(format!("{}: {skip}", line.source));
        }
        let Some(request) = mapped.request() else {
            continue;
        };
        if let Err(why) = rules::check_integration_id(&request.key) {
            bad_ids.push(format!(
                "{}: {why}: the update is rejected (400)",
                line.source
            ));
        }
        let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
        let Some(attributes) = body.get("attributes").and_then(Value::as_object) else {
            continue;
        };
        for (name, value) in attributes {
            match catalog.get(name.as_str()) {
                None => unknown.push(format!(
                    "{}: `{name}` is not a CustomerProfile attribute in Talon.One: the whole update for `{}` is rejected (400)",
                    line.source, request.key
                )),
                Some(ty) => {
                    if let Err(problem) = rules::check_value(*ty, value) {
                        wrong_type.push(format!(
                            "{}: `{name}` is {} {} but Talon.One's `{name}` is `{}` ({problem}): the whole update for `{}` is rejected (400)",
                            line.source,
                            article(rules::kind_name(value)),
                            shown_value(value),
                            ty.as_str(),
                            request.key
                        ));
                    }
                }
            }
        }
    }
    vec![
        Check::from_details(ATTRIBUTES_EXIST, unknown),
        Check::from_details(VALUES_FIT, wrong_type),
        Check::from_details(INTEGRATION_IDS, bad_ids),
        Check::from_details(READABLE, unreadable),
    ]
}

pub(crate) fn article(kind: &str) -> String {
    match kind {
        "array" | "object" => format!("an {kind}"),
        "null" => "null".to_owned(),
        _ => format!("a {kind}"),
    }
}

/// A value as JSON, cut at 60 characters.
pub(crate) fn shown_value(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether mapping an identify whose trait is `key`, under settings listing
    /// only `configured`, gives a near-miss diagnostic naming `configured`.
    fn mapper_reports(configured: &str, key: &str) -> bool {
        let settings = single(configured).expect("settings");
        let event = serde_json::json!({
            "type": "identify",
            "userId": "u1",
            "messageId": "m1",
            "timestamp": "2026-01-01T00:00:00.000Z",
            "traits": { key: "x" },
        });
        let mapped = talon_mapper::map_json(event.to_string().as_bytes(), &settings);
        mapped.diagnostics.iter().any(|d| {
            matches!(
                &d.kind,
                talon_mapper::Kind::CaseMismatch { key: k, configured: c }
                    | talon_mapper::Kind::DottedConfigured { key: k, configured: c }
                    if k == key && c == configured
            )
        })
    }

    #[test]
    fn the_near_miss_rule_is_the_mappers_for_every_pair() {
        // (configured, catalog name, nearly the same). `a_b` against `a.b`: check's
        // own rule, before issue 12, undotted only the configured side and said no.
        let pairs = [
            ("Email", "email", true),
            ("email", "email", false),
            ("address.city", "address_city", true),
            ("ADDRESS.city", "address_city", true),
            ("a_b", "a.b", true),
            ("plan", "plans", false),
            ("e.mail", "email", false),
        ];
        for (configured, catalog, expected) in pairs {
            let names = [configured.to_owned()];
            let rule = NearRule::new(&names);
            let near = rule.near(configured, catalog);
            assert_eq!(near.is_some(), expected, "{configured} vs {catalog}");
            assert_eq!(
                mapper_reports(configured, catalog),
                expected,
                "the mapper on {configured} vs {catalog}"
            );
        }
    }

    /// The Engage check's details for these events, against an empty deployment.
    fn engage_details(events: &[serde_json::Value]) -> Vec<String> {
        let settings = single("email").expect("settings");
        let state = StateFile::empty();
        let lines: Vec<EventLine> = (1..)
            .zip(events)
            .map(|(i, e)| EventLine {
                source: format!("events.ndjson:{i}"),
                bytes: e.to_string().into_bytes(),
            })
            .collect();
        let inputs = Inputs {
            settings: &settings,
            problems: &[],
            state: &state,
            key: KeyCheck::FromState,
            events: &lines,
            audience_keys: &[],
        };
        let (checks, _) = checks(&inputs);
        checks
            .into_iter()
            .find(|c| c.name == ENGAGE)
            .map(|c| c.details)
            .expect("the Engage check runs")
    }

    #[test]
    fn engage_keys_are_read_from_events_by_the_mappers_rule_7() {
        let personas = |class: &str, key: &str| {
            serde_json::json!({"type": "identify", "userId": "u1", "traits": {key: true},
                "context": {"personas": {"computation_class": class, "computation_key": key}}})
        };
        let details = engage_details(&[
            personas("audience", "vip"),
            personas("trait", "ltv"),
            personas("journey", "other"),
        ]);
        assert_eq!(details.len(), 2, "{details:?}");
        assert!(
            details[0].starts_with("Engage trait key `ltv` has no"),
            "{details:?}"
        );
        assert!(
            details[1].starts_with("Engage audience key `vip` has no"),
            "{details:?}"
        );
        // The mapper ignores an empty computation key (a warning, nothing
        // sent): it is no Engage key to create. Before issue 12 the
        // pre-flight's own copy of the rule called it an invalid name.
        assert_eq!(
            engage_details(&[personas("audience", "")]),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_near_miss_says_whether_case_a_dot_or_both_differ() {
        let names = [
            "Email".to_owned(),
            "address.city".to_owned(),
            "Address.city".to_owned(),
        ];
        let rule = NearRule::new(&names);
        assert_eq!(
            rule.near("Email", "email"),
            Some(Near {
                case: true,
                dot: false
            })
        );
        assert_eq!(
            rule.near("address.city", "address_city"),
            Some(Near {
                case: false,
                dot: true
            })
        );
        assert_eq!(
            rule.near("Address.city", "address_city"),
            Some(Near {
                case: true,
                dot: true
            })
        );
        assert_eq!(rule.near("unlisted", "Unlisted"), None);
    }
}
