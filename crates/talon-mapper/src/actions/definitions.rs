//! Every action of the Talon.One (Actions) destination: its fields as data (`fields.json`,
//! from `talon-actions-destination.md` §2) and its `perform`, the request it builds from the
//! validated payload.

use std::sync::LazyLock;

use segment_mapping::{Fields, Object, Value};

/// The relay every action request goes to.
pub const RELAY: &str = "https://integration.talon.one";

/// An action of the destination, current or deprecated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// `POST /segment/audiences`.
    CreateAudience,
    /// `PUT /segment/audiences/{audienceId}`.
    UpdateAudience,
    /// `DELETE /segment/audiences/{audienceId}`.
    DeleteAudience,
    /// Deprecated: `PUT /segment/customer_profile/{customerProfileId}`.
    UpdateCustomerProfile,
    /// Deprecated: `PUT /segment/customer_profile_v2/{customerProfileId}`.
    UpdateCustomerProfileV2,
    /// `PUT /segment/v2/customer_profiles/{customerProfileId}[?skipNonExistingAttributes=true]`.
    UpdateCustomerProfileV3,
    /// `PUT /segment/customer_profiles/audiences`.
    UpdateCustomerProfilesAudiences,
    /// Deprecated: `PUT /segment/event`.
    TrackEvent,
    /// `PUT /segment/v2/events[?skipNonExistingAttributes=true]`.
    TrackEventV2,
    /// Deprecated: `PUT /segment/customer_sessions/{customerSessionId}`.
    UpdateCustomerSession,
    /// `PUT /segment/v2/customer_sessions/{customerSessionId}[?skipNonExistingAttributes=true]`.
    UpdateCustomerSessionV2,
}

impl Action {
    /// Every action, in `fields.json`'s order.
    pub const ALL: [Self; 11] = [
        Self::CreateAudience,
        Self::UpdateAudience,
        Self::DeleteAudience,
        Self::UpdateCustomerProfile,
        Self::UpdateCustomerProfileV2,
        Self::UpdateCustomerProfileV3,
        Self::UpdateCustomerProfilesAudiences,
        Self::TrackEvent,
        Self::TrackEventV2,
        Self::UpdateCustomerSession,
        Self::UpdateCustomerSessionV2,
    ];

    /// The action's key in Segment (`actionSlug`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::CreateAudience => "createAudience",
            Self::UpdateAudience => "updateAudience",
            Self::DeleteAudience => "deleteAudience",
            Self::UpdateCustomerProfile => "updateCustomerProfile",
            Self::UpdateCustomerProfileV2 => "updateCustomerProfileV2",
            Self::UpdateCustomerProfileV3 => "updateCustomerProfileV3",
            Self::UpdateCustomerProfilesAudiences => "updateCustomerProfilesAudiences",
            Self::TrackEvent => "trackEvent",
            Self::TrackEventV2 => "trackEventV2",
            Self::UpdateCustomerSession => "updateCustomerSession",
            Self::UpdateCustomerSessionV2 => "updateCustomerSessionV2",
        }
    }

    /// The action a slug names, case-sensitively.
    pub fn from_slug(slug: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.slug() == slug)
    }

    /// The current action that replaces a deprecated one.
    pub fn replaced_by(self) -> Option<Self> {
        match self {
            Self::UpdateCustomerProfile | Self::UpdateCustomerProfileV2 => {
                Some(Self::UpdateCustomerProfileV3)
            }
            Self::TrackEvent => Some(Self::TrackEventV2),
            Self::UpdateCustomerSession => Some(Self::UpdateCustomerSessionV2),
            _ => None,
        }
    }

    /// The action's field definitions (`None` only if `fields.json` did not parse, which
    /// the crate's tests rule out).
    pub fn fields(self) -> Option<&'static Fields> {
        FIELDS[self as usize].as_ref()
    }

    /// The field whose value is interpolated into the path, if any.
    pub fn path_field(self) -> Option<&'static str> {
        match self {
            Self::UpdateAudience | Self::DeleteAudience => Some("audienceId"),
            Self::UpdateCustomerProfile
            | Self::UpdateCustomerProfileV2
            | Self::UpdateCustomerProfileV3 => Some("customerProfileId"),
            Self::UpdateCustomerSession | Self::UpdateCustomerSessionV2 => {
                Some("customerSessionId")
            }
            Self::CreateAudience
            | Self::UpdateCustomerProfilesAudiences
            | Self::TrackEvent
            | Self::TrackEventV2 => None,
        }
    }
}

/// `fields.json`: each action's field definitions, as the reference lists them.
const FIELDS_JSON: &str = include_str!("fields.json");

/// The parsed definitions, in [`Action::ALL`]'s order.
static FIELDS: LazyLock<Vec<Option<Fields>>> = LazyLock::new(|| {
    let all = Value::parse(FIELDS_JSON).ok();
    Action::ALL
        .iter()
        .map(|action| {
            all.as_ref()
                .and_then(Value::as_object)
                .and_then(|o| o.get(action.slug()))
                .and_then(|defs| Fields::parse(defs).ok())
        })
        .collect()
});

/// What `perform` builds before the URL is parsed: the method, the raw URL, the extra
/// headers and the body object.
#[derive(Debug)]
pub(crate) struct Perform {
    pub method: &'static str,
    pub raw_url: String,
    /// Headers `perform` passes (the session's callbacks), `None` values removed.
    pub headers: Vec<(&'static str, String)>,
    /// `None`: no body.
    pub body: Option<Value>,
}

fn field(payload: &Object, key: &str) -> Value {
    payload.get(key).cloned().unwrap_or(Value::Undefined)
}

/// A template literal's `${value}`.
fn interpolate(payload: &Object, key: &str) -> String {
    payload
        .get(key)
        .map_or_else(|| "undefined".to_owned(), Value::js_string)
}

fn object(members: &[(&str, Value)]) -> Value {
    let mut object = Object::new();
    for (key, value) in members {
        object.insert((*key).to_owned(), value.clone());
    }
    Value::Object(object)
}

fn skip_query(payload: &Object) -> &'static str {
    if payload
        .get("skipNonExistingAttributes")
        .is_some_and(Value::truthy)
    {
        "?skipNonExistingAttributes=true"
    } else {
        ""
    }
}

/// The action's `perform` over the validated payload.
pub(crate) fn perform(action: Action, p: &Object) -> Perform {
    let f = |key: &str| field(p, key);
    let audiences =
        |adds: &str, deletes: &str| object(&[("adds", f(adds)), ("deletes", f(deletes))]);
    let (method, raw_url, body) = match action {
        Action::CreateAudience => (
            "POST",
            format!("{RELAY}/segment/audiences"),
            Some(object(&[
                ("audienceId", f("audienceId")),
                ("audienceName", f("audienceName")),
            ])),
        ),
        Action::UpdateAudience => (
            "PUT",
            format!("{RELAY}/segment/audiences/{}", interpolate(p, "audienceId")),
            Some(object(&[("audienceName", f("audienceName"))])),
        ),
        Action::DeleteAudience => (
            "DELETE",
            format!("{RELAY}/segment/audiences/{}", interpolate(p, "audienceId")),
            None,
        ),
        Action::UpdateCustomerProfile => (
            "PUT",
            format!(
                "{RELAY}/segment/customer_profile/{}",
                interpolate(p, "customerProfileId")
            ),
            Some(object(&[
                ("attributes", f("attributes")),
                (
                    "audiencesChanges",
                    audiences("addAudienceIds", "deleteAudienceIds"),
                ),
                ("runRuleEngine", f("runRuleEngine")),
                ("attributesInfo", f("attributesInfo")),
            ])),
        ),
        Action::UpdateCustomerProfileV2 => (
            "PUT",
            format!(
                "{RELAY}/segment/customer_profile_v2/{}",
                interpolate(p, "customerProfileId")
            ),
            Some(object(&[
                (
                    "audiencesChanges",
                    audiences("audiencesToAdd", "audiencesToDelete"),
                ),
                ("runRuleEngine", f("runRuleEngine")),
                ("attributes", f("attributes")),
                ("attributesInfo", f("attributesInfo")),
            ])),
        ),
        Action::UpdateCustomerProfileV3 => (
            "PUT",
            format!(
                "{RELAY}/segment/v2/customer_profiles/{}{}",
                interpolate(p, "customerProfileId"),
                skip_query(p)
            ),
            Some(object(&[
                (
                    "audiencesChanges",
                    audiences("addAudienceIds", "deleteAudienceIds"),
                ),
                ("runRuleEngine", f("runRuleEngine")),
                ("attributes", f("attributes")),
            ])),
        ),
        Action::UpdateCustomerProfilesAudiences => (
            "PUT",
            format!("{RELAY}/segment/customer_profiles/audiences"),
            Some(object(&[("data", f("data"))])),
        ),
        Action::TrackEvent => (
            "PUT",
            format!("{RELAY}/segment/event"),
            Some(object(&[
                ("customerProfileId", f("customerProfileId")),
                ("eventType", f("eventType")),
                ("type", f("type")),
                ("eventAttributes", f("attributes")),
                ("attributesInfo", f("attributesInfo")),
            ])),
        ),
        Action::TrackEventV2 => (
            "PUT",
            format!("{RELAY}/segment/v2/events{}", skip_query(p)),
            Some(object(&[
                ("customerProfileId", f("customerProfileId")),
                ("eventType", f("eventType")),
                ("eventAttributes", f("attributes")),
            ])),
        ),
        Action::UpdateCustomerSession => (
            "PUT",
            format!(
                "{RELAY}/segment/customer_sessions/{}",
                interpolate(p, "customerSessionId")
            ),
            Some(object(&[
                ("customerSession", f("customerSession")),
                ("sessionAttributesInfo", f("sessionAttributesInfo")),
                ("cartItemAttributesInfo", f("cartItemsAttributesInfo")),
            ])),
        ),
        Action::UpdateCustomerSessionV2 => (
            "PUT",
            format!(
                "{RELAY}/segment/v2/customer_sessions/{}{}",
                interpolate(p, "customerSessionId"),
                skip_query(p)
            ),
            Some(object(&[
                ("profileId", f("profileId")),
                ("couponCodes", f("couponCodes")),
                ("referralCode", f("referralCode")),
                ("loyaltyCards", f("loyaltyCards")),
                ("state", f("state")),
                ("cartItems", f("cartItems")),
                ("additionalCosts", f("additionalCosts")),
                ("identifiers", f("identifiers")),
                ("attributes", f("attributes")),
            ])),
        ),
    };
    let headers = match action {
        Action::UpdateCustomerSession | Action::UpdateCustomerSessionV2 => [
            ("x-callback-destination-uri", "callbackDestination"),
            ("x-callback-api-key", "callbackAPIKey"),
            ("x-content-fields", "contentFields"),
            ("x-correlation-id", "callbackCorrelationId"),
        ]
        .into_iter()
        // `${undefined}` is the text "undefined", which Segment's code then removes.
        .map(|(name, key)| (name, interpolate(p, key)))
        .filter(|(_, value)| value != "undefined")
        .collect(),
        _ => Vec::new(),
    };
    Perform {
        method,
        raw_url,
        headers,
        body,
    }
}
