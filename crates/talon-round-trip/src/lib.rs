//! The round-trip oracle: a small scenario of events and settings, mapped and applied to the fake, must leave what the reference model says.
//!
//! A [`Scenario`] is a deployment (Custom Attributes, an attribute catalog
//! with types) and a few events for a few users. Each event's JSON goes
//! through `talon_mapper::map_json`; a request goes through
//! `talon_fake::router` in process; the same JSON goes through
//! [`talon_reference::Reference`], the model of the mapping rules and of
//! Talon.One's all-or-nothing type check that shares no code with either.
//! After each event the fake and the model must agree on whether Talon.One
//! accepted it, and at the end every profile's attributes must be equal
//! ([`talon_reference::compare`]).
//!
//! Shared by the `round_trip` fuzz target (`fuzz/`) and `talon-harness`'s
//! stable test (`tests/it/round_trip.rs`), so both run one oracle. A crate
//! of its own rather than a feature of `talon-mapper-oracles`: it drives
//! the fake, and the oracle crate stays pure. [`check_round_trip`] is async
//! (the fake's router is a tower service); the caller brings the runtime.
//!
//! Location types stay out of the catalog: the reference model does not
//! parse `"<lat>,<lon>"`, on purpose (it would be the fake's own rule again).
//!
//! ```
//! use talon_round_trip::Scenario;
//!
//! let scenario = Scenario::from_readable_json(br#"{"configured": ["email"],
//!     "catalog": {"email": "string"},
//!     "events": [{"type": "identify", "userId": "u1", "traits": {"email": "e"}}]}"#)?;
//! assert_eq!(scenario.events.len(), 1);
//! assert_eq!(scenario.state()?.attributes[0].name, "email");
//! # Ok::<(), String>(())
//! ```

use std::collections::BTreeSet;

use arbitrary::{Arbitrary, Result as ArbitraryResult, Unstructured};
use segment_model::{Event, UserId, shapes};
use serde::Deserialize;
use serde_json::json;
use talon_fake::fuzz::FuzzRequest;
use talon_fake::{Decided, Fake, FakeConfig, StateFile, router};
use talon_mapper::{is_valid_attribute_name, map_json};
use talon_reference::{AttrType, Catalog, Reference, compare};
use tower::ServiceExt;

/// The API key the scenario's settings send and its deployment accepts.
pub const API_KEY: &str = "fuzz-key";

/// Types the catalog draws from (no location types; see the module docs).
const TYPES: &[AttrType] = &[
    AttrType::String,
    AttrType::Number,
    AttrType::Boolean,
    AttrType::Time,
    AttrType::ListString,
    AttrType::ListNumber,
    AttrType::ListTime,
];

/// Rules by which the fake may reject a mapped request: the deployment's
/// catalog and Talon.One's limits. Any other rule means the mapper built a
/// malformed request.
pub const CATALOG_RULES: &[&str] = &[
    "attribute.unknown",
    "attribute.type",
    "integration_id.invalid",
    "body.too_large",
];

/// Settings, a deployment and the events sent to it.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Custom Attributes (invalid names kept, as Segment keeps them).
    pub configured: Vec<String>,
    /// The `CustomerProfile` attributes Talon.One holds, by name.
    pub catalog: Catalog,
    /// The events, in order.
    pub events: Vec<Event>,
}

impl<'a> Arbitrary<'a> for Scenario {
    fn arbitrary(u: &mut Unstructured<'a>) -> ArbitraryResult<Self> {
        let mut configured = Vec::new();
        let mut catalog = Catalog::new();
        for name in shapes::NAMES {
            if u.ratio(1, 3)? {
                configured.push((*name).to_owned());
            }
            if is_valid_attribute_name(name) && u.ratio(1, 2)? {
                catalog.insert((*name).to_owned(), *u.choose(TYPES)?);
            }
        }
        let n = u.int_in_range(1..=6)?;
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            let mut event = Event::arbitrary(u)?;
            // A few users, so that updates of one profile accumulate.
            if u.ratio(3, 4)? {
                event.user_id = Some(UserId::from(*u.choose(&["u1", "u2", "U1"])?));
            }
            events.push(event);
        }
        Ok(Self {
            configured,
            catalog,
            events,
        })
    }
}

/// The readable form of a scenario, as regression inputs are written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Readable {
    configured: Vec<String>,
    /// Attribute name → Talon.One's type name.
    catalog: std::collections::BTreeMap<String, String>,
    events: Vec<Event>,
}

impl Scenario {
    /// A scenario from its readable form,
    /// `{"configured": […], "catalog": {name: type}, "events": […]}`, types
    /// by Talon.One's names (`string`, `(list number)`, …).
    pub fn from_readable_json(bytes: &[u8]) -> Result<Self, String> {
        let readable: Readable =
            serde_json::from_slice(bytes).map_err(|e| format!("not a readable scenario: {e}"))?;
        let catalog = readable
            .catalog
            .into_iter()
            .map(|(name, ty)| match AttrType::from_name(&ty) {
                Some(ty) => Ok((name, ty)),
                None => Err(format!("`{name}`: no Talon.One type is named {ty:?}")),
            })
            .collect::<Result<Catalog, String>>()?;
        Ok(Self {
            configured: readable.configured,
            catalog,
            events: readable.events,
        })
    }

    /// The deployment: one application, [`API_KEY`], and a
    /// `CustomerProfile` attribute for each catalog entry, written in the
    /// fake's state-file format (types by name).
    pub fn state(&self) -> Result<StateFile, String> {
        let attributes: Vec<serde_json::Value> = (1..)
            .zip(&self.catalog)
            .map(|(id, (name, ty)): (i64, _)| {
                json!({"id": id, "entity": "CustomerProfile", "name": name, "title": name, "type": ty.name()})
            })
            .collect();
        let state = json!({
            "applications": [{"id": 1, "name": "Round trip"}],
            "integrationKeys": [{"key": API_KEY, "applicationId": 1}],
            "managementKeys": [],
            "attributes": attributes,
        });
        StateFile::from_json(&state.to_string())
            .map_err(|e| format!("the scenario's deployment loads: {e}"))
    }
}

/// Maps and applies every event of `scenario` to a fresh fake and to the
/// reference model; returns what differs, if anything.
pub async fn check_round_trip(scenario: &Scenario) -> Result<(), String> {
    let fake = Fake::new(scenario.state()?, FakeConfig::default())
        .map_err(|e| format!("the scenario's deployment loads: {e}"))?;
    let names: Vec<&str> = scenario.configured.iter().map(String::as_str).collect();
    let settings = talon_mapper_oracles::settings_with(&names);
    let configured: BTreeSet<String> = scenario.configured.iter().cloned().collect();
    let mut reference = Reference::new(configured, scenario.catalog.clone());
    for (i, event) in scenario.events.iter().enumerate() {
        let json = serde_json::to_vec(event).map_err(|e| format!("event {i}: {e}"))?;
        let text = String::from_utf8_lossy(&json);
        let modelled = reference.apply(&json);
        let accepted = match map_json(&json, &settings).requests.into_iter().next() {
            None => false,
            Some(request) => {
                let http = FuzzRequest {
                    method: request.method.to_owned(),
                    uri: request.path().to_owned(),
                    headers: request
                        .headers
                        .iter()
                        .map(|(n, v)| (n.to_ascii_lowercase(), v.as_bytes().to_vec()))
                        .collect(),
                    body: request.body.into_bytes(),
                }
                .to_http()
                .ok_or_else(|| format!("event {i}: the mapped request cannot be sent: {text}"))?;
                let response = router(fake.clone())
                    .oneshot(http)
                    .await
                    .unwrap_or_else(|never| match never {});
                let status = response.status();
                let rule = response
                    .extensions()
                    .get::<Decided>()
                    .map_or("", |d| d.0.as_str());
                if !status.is_success() && !CATALOG_RULES.contains(&rule) {
                    return Err(format!(
                        "event {i}: the fake finds the mapped request malformed ({status} {rule}): {text}"
                    ));
                }
                status.is_success()
            }
        };
        if accepted != modelled {
            return Err(format!(
                "event {i}: Talon.One {} it, the reference model {} it: {text}",
                if accepted {
                    "accepted"
                } else {
                    "did not accept"
                },
                if modelled {
                    "accepts"
                } else {
                    "does not accept"
                },
            ));
        }
    }
    let actual = fake
        .state_dump()
        .profiles
        .into_iter()
        .map(|p| (p.integration_id, p.attributes))
        .collect();
    let mismatches = compare(&reference.profiles, &actual, &scenario.catalog);
    if mismatches.is_empty() {
        Ok(())
    } else {
        let lines: Vec<String> = mismatches.iter().map(ToString::to_string).collect();
        Err(format!(
            "the fake and the reference differ:\n{}",
            lines.join("\n")
        ))
    }
}
