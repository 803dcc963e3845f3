//! The JSON state file: what a deployment holds at start, and what [`crate::Fake::state_dump`] writes back.
//!
//! The same format is read and written, with every list sorted by id, so a
//! dump is byte-identical for the same state.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::rules::{AttrType, Entity};

/// The whole deployment. See `fixtures/talon/default-state.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateFile {
    /// The account that owns everything (`accountId` in responses). Default 1.
    #[serde(default = "default_account")]
    pub account_id: i64,
    /// The deployment's host, as the Segment relay's `destination-hostname` header names it
    /// (`mycompany.europe-west1.talon.one`). Absent: [`DEFAULT_HOSTNAME`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Applications (`id`, `name`).
    pub applications: Vec<Application>,
    /// Integration API keys, each tied to one application.
    pub integration_keys: Vec<IntegrationKey>,
    /// Management API keys.
    pub management_keys: Vec<String>,
    /// The attribute catalog (all entities; profiles only use `CustomerProfile`).
    pub attributes: Vec<Attribute>,
    /// Custom event types the deployment has (Talon.One: "Create the event and all the
    /// required attributes before using this endpoint"), sorted by name. An `Event`
    /// attribute's `eventType` also makes its type known.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_types: Vec<EventTypeRecord>,
    /// Audiences.
    #[serde(default)]
    pub audiences: Vec<Audience>,
    /// Events the deployment received (through the Segment relay), by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<EventRecord>,
    /// Customer sessions, by integration id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sessions: Vec<SessionRecord>,
    /// Customer profiles (optional).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<ProfileRecord>,
    /// Further deployments the same fake stands in for (a customer's staging next to its
    /// production), each a whole state of its own with its own `hostname`; reached only through
    /// the Segment relay (`/segment/…`), which routes by `destination-hostname`. They hold no
    /// `deployments` of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<StateFile>,
}

/// The host a state without `hostname` answers to on the Segment relay: the example of
/// Talon.One's own Postman collection for `destination-hostname`.
pub const DEFAULT_HOSTNAME: &str = "mycompany.europe-west1.talon.one";

fn default_account() -> i64 {
    1
}

/// The fixture that ships with the crate: application 1 "Segment demo", one key of each kind, Segment-like traits.
pub const DEFAULT_STATE_JSON: &str = include_str!("../../../fixtures/talon/default-state.json");

/// What `GET /__admin/state` shows instead of an API key unless asked with `?reveal_keys=true`.
pub const REDACTED_KEY: &str = "<redacted>";

/// Why a state file was refused.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// Not valid JSON for the format.
    #[error("invalid state file: {0}")]
    Json(#[from] serde_json::Error),
    /// Valid JSON but inconsistent (duplicate ids, unknown references, bad values).
    #[error("inconsistent state file: {0}")]
    Inconsistent(String),
}

impl StateFile {
    /// Parses a state file. Consistency is checked when it is loaded into a [`crate::Fake`].
    pub fn from_json(s: &str) -> Result<Self, StateFileError> {
        Ok(serde_json::from_str(s)?)
    }

    /// The built-in default state ([`DEFAULT_STATE_JSON`]).
    pub fn default_state() -> Self {
        // The fixture is checked by a test; an empty state is the fallback if it were broken.
        Self::from_json(DEFAULT_STATE_JSON).unwrap_or_else(|_| Self::empty())
    }

    /// A deployment with nothing in it.
    pub fn empty() -> Self {
        Self {
            account_id: 1,
            hostname: None,
            applications: Vec::new(),
            integration_keys: Vec::new(),
            management_keys: Vec::new(),
            attributes: Vec::new(),
            event_types: Vec::new(),
            audiences: Vec::new(),
            events: Vec::new(),
            sessions: Vec::new(),
            profiles: Vec::new(),
            deployments: Vec::new(),
        }
    }

    /// The host this deployment answers to on the Segment relay: `hostname`, or
    /// [`DEFAULT_HOSTNAME`].
    pub fn effective_hostname(&self) -> &str {
        self.hostname.as_deref().unwrap_or(DEFAULT_HOSTNAME)
    }

    /// Replaces every API key (integration and management) with [`REDACTED_KEY`].
    pub fn redact_keys(&mut self) {
        for k in &mut self.integration_keys {
            REDACTED_KEY.clone_into(&mut k.key);
        }
        for k in &mut self.management_keys {
            REDACTED_KEY.clone_into(k);
        }
        for d in &mut self.deployments {
            d.redact_keys();
        }
    }

    /// Pretty JSON with a trailing newline, deterministic for the same state.
    pub fn to_json_pretty(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// An application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Application {
    /// Application id.
    pub id: i64,
    /// Display name.
    pub name: String,
}

/// An Integration API key and the application it opens; with `platform`, a third-party key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IntegrationKey {
    /// The secret sent as `Authorization: ApiKey-v1 <key>`.
    pub key: String,
    /// The application the key belongs to.
    pub application_id: i64,
    /// Set for a key created with "Third-party integration: Yes": the platform it was made
    /// for (`Segment` opens the Segment relay, `/segment/…`). Such a key does not open the
    /// Integration API, and an Integration API key does not open the relay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
}

/// A custom attribute, in Talon.One's `Attribute` shape (also the API response).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Attribute {
    /// Attribute id.
    pub id: i64,
    /// Creation time, RFC 3339.
    #[serde(default = "epoch")]
    pub created: String,
    /// Owning account (filled from the state's `accountId` when loaded).
    #[serde(default)]
    pub account_id: i64,
    /// Entity.
    pub entity: Entity,
    /// Event type, for `Event` attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Name used in API requests (case-sensitive).
    pub name: String,
    /// Display title (defaults to the name).
    #[serde(default)]
    pub title: String,
    /// Value type.
    #[serde(rename = "type")]
    pub ty: AttrType,
    /// Description.
    #[serde(default)]
    pub description: String,
    /// Suggested values.
    #[serde(default)]
    pub suggestions: Vec<String>,
    /// Whether values are restricted to an allowed list.
    #[serde(default)]
    pub has_allowed_list: bool,
    /// Whether values are restricted to the suggestions.
    #[serde(default)]
    pub restricted_by_suggestions: bool,
    /// Whether the attribute is editable in the Campaign Manager.
    #[serde(default = "yes")]
    pub editable: bool,
    /// Applications subscribed to the attribute.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subscribed_applications_ids: Vec<i64>,
}

fn epoch() -> String {
    "2024-01-01T00:00:00Z".to_owned()
}
fn yes() -> bool {
    true
}

/// An audience, in Talon.One's `Audience` shape (also the API response).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Audience {
    /// Audience id.
    pub id: i64,
    /// Creation time, RFC 3339.
    #[serde(default = "epoch")]
    pub created: String,
    /// Owning account.
    #[serde(default)]
    pub account_id: i64,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Whether it is a sandbox audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<bool>,
    /// Third-party integration that created it (e.g. `Segment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration: Option<String>,
    /// The id of the audience in that integration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// Whether it was created in the third-party platform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_in3rd_party: Option<bool>,
    /// Applications subscribed to the audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribed_applications_ids: Option<Vec<i64>>,
}

/// A customer profile as stored in the state file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileRecord {
    /// The integration id (case-sensitive, unique).
    pub integration_id: String,
    /// Internal id (0 or absent: assigned on load).
    #[serde(default)]
    pub id: i64,
    /// Creation time, RFC 3339.
    #[serde(default = "epoch")]
    pub created: String,
    /// Last update time, RFC 3339 (defaults to `created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<String>,
    /// Attribute values (each must be defined for `CustomerProfile` and fit its type).
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// Audience ids the profile is a member of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<i64>,
    /// Applications that updated the profile (what the Customers tab shows).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<i64>,
}

/// A custom event type of the deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventTypeRecord {
    /// The event type, exactly as events name it (case-sensitive).
    pub name: String,
    /// The data type recorded for it: the `type` the deprecated `PUT /segment/event` created it
    /// with (Segment's deprecated action always sends `"string"`). Absent for a type declared
    /// without one.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub ty: Option<AttrType>,
}

/// An event the deployment accepted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventRecord {
    /// Id, in the order the events were accepted (from 1).
    pub id: i64,
    /// When it was accepted (the fake's clock), RFC 3339.
    #[serde(default = "epoch")]
    pub created: String,
    /// The application of the key that sent it.
    pub application_id: i64,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The integration id of the customer profile it belongs to.
    pub profile_id: String,
    /// The attributes kept (each defined for entity `Event` of this type; skipped ones left out).
    #[serde(default)]
    pub attributes: Map<String, Value>,
}

/// A customer session as the deployment stores it (`newCustomerSessionV2`'s fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SessionRecord {
    /// The session's integration id (case-sensitive, unique).
    pub integration_id: String,
    /// Internal id (from 1, in creation order).
    pub id: i64,
    /// Creation time, RFC 3339.
    #[serde(default = "epoch")]
    pub created: String,
    /// Last update time, RFC 3339.
    #[serde(default = "epoch")]
    pub updated: String,
    /// The application of the key that created it.
    pub application_id: i64,
    /// The customer profile it belongs to (absent: an anonymous session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    /// `open`, `closed`, `partially_returned` or `cancelled`.
    pub state: String,
    /// Coupon codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub coupon_codes: Vec<String>,
    /// Referral code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referral_code: Option<String>,
    /// Loyalty card ids (at most 1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub loyalty_cards: Vec<String>,
    /// Cart items, as sent (validated).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cart_items: Vec<Value>,
    /// Additional costs: name → `{"price": number}`.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub additional_costs: Map<String, Value>,
    /// Identifiers (at most 5).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identifiers: Vec<String>,
    /// Attributes (each defined for entity `CustomerSession`).
    #[serde(default)]
    pub attributes: Map<String, Value>,
}
