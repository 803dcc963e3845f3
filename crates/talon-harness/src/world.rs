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
use talon_fake::{Application, Attribute, IntegrationKey, StateFile};
use talon_mapper::{Settings, is_valid_attribute_name};

/// The Integration API key of simulated deployments.
pub const SIM_INTEGRATION_KEY: &str = "simulated-integration-key";
/// The Management API key of simulated deployments.
pub const SIM_MANAGEMENT_KEY: &str = "simulated-management-key";
/// The application domain in simulated settings (requests go to the embedded fake).
pub const SIM_DOMAIN: &str = "https://simulated.talon.one";

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
