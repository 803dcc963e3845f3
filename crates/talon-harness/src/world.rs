//! The Talon.One deployment and destination settings a simulated scenario runs against.
//!
//! Built from the generator's trait schema, so a correct pipeline can get
//! every configured trait into Talon.One: each profile trait whose flattened
//! name is a valid attribute name is configured in Custom Attributes and
//! created in the catalog with the matching type; Engage audience keys are
//! created as booleans and computed-trait keys with their type (but not
//! configured: Engage keys bypass the list). A few traits are deliberately
//! left unconfigured so that the run also exercises dropping.

use std::collections::BTreeMap;

use segment_gen::{Scenario, TraitClass, TraitType};
use serde_json::json;
use talon_fake::rules::{AttrType, Entity};
use talon_fake::{Application, Attribute, Audience, EventTypeRecord, IntegrationKey, StateFile};
use talon_mapper::actions::ActionsConfig;
use talon_mapper::{Settings, is_valid_attribute_name};

/// The Integration API key of simulated deployments.
pub const SIM_INTEGRATION_KEY: &str = "simulated-integration-key";
/// The Management API key of simulated deployments.
pub const SIM_MANAGEMENT_KEY: &str = "simulated-management-key";
/// The application domain in simulated settings (requests go to the embedded fake).
pub const SIM_DOMAIN: &str = "https://simulated.talon.one";

/// The third-party key (platform Segment) of simulated Actions deployments.
pub const SIM_RELAY_KEY: &str = "simulated-segment-relay-key";
/// The deployment of simulated Actions settings; the simulated state answers to its host.
pub const SIM_DEPLOYMENT: &str = "https://simulated.europe-west1.talon.one";
/// The shipped default subscriptions (`fixtures/actions/subscriptions.json`).
pub const DEFAULT_SUBSCRIPTIONS: &str =
    include_str!("../../../fixtures/actions/subscriptions.json");
/// The event types of simulated Actions deployments: Segment's E-commerce spec (v2) events,
/// the names a store tracks. Chosen here: a customer creates the event types of the spec it
/// follows, so a track named off the spec (another case, a trailing space) stays unknown and
/// the run shows Talon.One's refusal.
pub const ECOMMERCE_EVENTS: &[&str] = &[
    "Cart Viewed",
    "Checkout Started",
    "Checkout Step Completed",
    "Checkout Step Viewed",
    "Coupon Applied",
    "Coupon Denied",
    "Coupon Entered",
    "Coupon Removed",
    "Order Cancelled",
    "Order Completed",
    "Order Refunded",
    "Order Updated",
    "Payment Info Entered",
    "Product Added",
    "Product Added to Wishlist",
    "Product Clicked",
    "Product List Filtered",
    "Product List Viewed",
    "Product Removed",
    "Product Removed from Wishlist",
    "Product Reviewed",
    "Product Shared",
    "Product Viewed",
    "Products Searched",
    "Promotion Clicked",
    "Promotion Viewed",
];

/// The Actions destination's settings, subscriptions and deployment for one scenario.
#[derive(Debug, Clone)]
pub struct ActionsWorld {
    /// Settings and the shipped default subscriptions.
    pub config: ActionsConfig,
    /// The settings as Segment stores them.
    pub settings_json: serde_json::Value,
    /// The deployment the fake starts with.
    pub state: StateFile,
    /// Attribute name → type, for `CustomerProfile`.
    pub catalog: BTreeMap<String, AttrType>,
    /// The scenario's nested traits, which have no attribute (the destination does not
    /// flatten): skipped by the profile subscription's `skipNonExistingAttributes`.
    pub nested_traits: Vec<String>,
}

/// Profile traits left out of Custom Attributes on purpose.
pub const UNCONFIGURED: &[&str] = &["newsletter", "preferences_notifications_sms"];

/// Settings and deployment for one scenario.
#[derive(Debug, Clone)]
pub struct World {
    /// The destination settings.
    pub settings: Settings,
    /// The settings as Segment stores them.
    pub settings_json: serde_json::Value,
    /// The deployment the fake starts with.
    pub state: StateFile,
    /// Attribute name → type, for `CustomerProfile`.
    pub catalog: BTreeMap<String, AttrType>,
}

fn attr_type(ty: TraitType) -> Option<AttrType> {
    match ty {
        TraitType::String => Some(AttrType::String),
        TraitType::Number => Some(AttrType::Number),
        TraitType::Boolean => Some(AttrType::Boolean),
        TraitType::Time => Some(AttrType::Time),
        TraitType::StringList => Some(AttrType::ListString),
        TraitType::Json => None,
    }
}

impl World {
    /// The world for `scenario`.
    pub fn for_scenario(scenario: &Scenario) -> Self {
        let mut configured = Vec::new();
        let mut catalog = BTreeMap::new();
        for spec in scenario.trait_schema() {
            let name = talon_reference::rule4_key(&spec.path);
            if !is_valid_attribute_name(&name) {
                continue;
            }
            if spec.class == TraitClass::Profile && !UNCONFIGURED.contains(&name.as_str()) {
                configured.push(name.clone());
            }
            if let Some(ty) = attr_type(spec.ty) {
                catalog.entry(name).or_insert(ty);
            }
        }
        configured.sort();
        configured.dedup();
        let settings_json = json!({
            "apiKey": SIM_INTEGRATION_KEY,
            "applicationDomain": SIM_DOMAIN,
            "customAttributes": configured,
        });
        let settings = Settings::from_value(&settings_json)
            .expect("simulated settings hold only valid, unique names");
        let state = deployment(SIM_INTEGRATION_KEY, SIM_MANAGEMENT_KEY, &catalog);
        Self {
            settings,
            settings_json,
            state,
            catalog,
        }
    }
}

impl World {
    /// The Talon.One (Actions) world for `scenario`: settings whose `apiKey` is a third-party
    /// key (platform Segment) of the simulated deployment and whose `deployment` is its URL
    /// (the state's `hostname` is that host), the shipped default subscriptions, and a catalog
    /// that matches them: each top-level trait the scenario sends (profile traits, Engage
    /// audience and computed-trait keys) as a `CustomerProfile` attribute of its type, the
    /// e-commerce event types ([`ECOMMERCE_EVENTS`]) and audience 1 (integration Segment,
    /// the VIP audience the subscriptions hard-code). Nested traits have no attribute: the
    /// Actions destination sends traits unflattened. The default subscriptions map no session,
    /// cart item or event attributes (`properties.attributes`, which Segment's spec events do
    /// not carry), so none are created.
    pub fn for_actions(scenario: &Scenario) -> ActionsWorld {
        let mut catalog = BTreeMap::new();
        let mut nested = Vec::new();
        for spec in scenario.trait_schema() {
            match spec.path.as_slice() {
                [name] if is_valid_attribute_name(name) => {
                    if let Some(ty) = attr_type(spec.ty) {
                        catalog.entry(name.clone()).or_insert(ty);
                    }
                }
                [first, _, ..] if !nested.contains(first) => nested.push(first.clone()),
                _ => {}
            }
        }
        nested.sort();
        let settings_json = json!({"apiKey": SIM_RELAY_KEY, "deployment": SIM_DEPLOYMENT});
        let config = ActionsConfig::from_json(&settings_json.to_string(), DEFAULT_SUBSCRIPTIONS)
            .expect("the shipped subscriptions and simulated settings are valid");
        let mut state = deployment(SIM_INTEGRATION_KEY, SIM_MANAGEMENT_KEY, &catalog);
        state.hostname = Some(
            SIM_DEPLOYMENT
                .trim_start_matches("https://")
                .trim_end_matches('/')
                .to_owned(),
        );
        state.integration_keys.push(IntegrationKey {
            key: SIM_RELAY_KEY.into(),
            application_id: 1,
            platform: Some("Segment".into()),
        });
        state.event_types = ECOMMERCE_EVENTS
            .iter()
            .map(|name| EventTypeRecord {
                name: (*name).to_owned(),
                ty: None,
            })
            .collect();
        state.audiences.push(Audience {
            id: 1,
            created: "2026-01-01T00:00:00Z".into(),
            account_id: 1,
            name: "VIP Customers".into(),
            description: None,
            sandbox: None,
            integration: Some("Segment".into()),
            integration_id: Some("vip_customers".into()),
            created_in3rd_party: None,
            subscribed_applications_ids: None,
        });
        ActionsWorld {
            config,
            settings_json,
            state,
            catalog,
            nested_traits: nested,
        }
    }
}

impl ActionsWorld {
    /// The reference model's catalog of this deployment.
    pub fn model_catalog(&self) -> talon_reference::actions::ActionsCatalog {
        talon_reference::actions::ActionsCatalog {
            profile: crate::verify::catalog(&self.catalog),
            event_types: self
                .state
                .event_types
                .iter()
                .map(|e| e.name.clone())
                .collect(),
            audiences: self.state.audiences.iter().map(|a| a.id).collect(),
            ..Default::default()
        }
    }
}

/// A deployment with one application, these keys, and a `CustomerProfile`
/// attribute for each catalog entry (ids from 1 in name order).
pub fn deployment(
    integration_key: &str,
    management_key: &str,
    catalog: &BTreeMap<String, AttrType>,
) -> StateFile {
    let mut state = StateFile::empty();
    state.applications.push(Application {
        id: 1,
        name: "Simulation".into(),
    });
    state.integration_keys.push(IntegrationKey {
        key: integration_key.into(),
        application_id: 1,
        platform: None,
    });
    state.management_keys.push(management_key.into());
    for (id, (name, ty)) in (1..).zip(catalog) {
        state.attributes.push(Attribute {
            id,
            created: "2026-01-01T00:00:00Z".into(),
            account_id: 1,
            entity: Entity::CustomerProfile,
            event_type: None,
            name: name.clone(),
            title: name.clone(),
            ty: *ty,
            description: String::new(),
            suggestions: Vec::new(),
            has_allowed_list: false,
            restricted_by_suggestions: false,
            editable: true,
            subscribed_applications_ids: Vec::new(),
        });
    }
    state
}
