//! The relay's events: `PUT /segment/v2/events` (the destination's "Track event",
//! `trackEventV2`) and the deprecated `PUT /segment/event` (`trackEvent`).
//!
//! V2 body `SegmentTrackEventV2Request` `{eventType (required), eventAttributes,
//! customerProfileId}`: the event type must exist in the deployment ("Create the event and all
//! the required attributes before using this endpoint"), and every attribute must be an `Event`
//! attribute of that type (`?skipNonExistingAttributes=true` leaves unknown ones out). The
//! deprecated body adds `type` and `attributesInfo` and creates what is missing: the event type,
//! and each unknown attribute, typed by `attributesInfo` or detected from its value, reported
//! in `createdAttributes`. Both answer `IntegrationStateV2`'s required fields.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::deprecated::convert;
use super::profiles::parallel;
use super::{Done, Relay, RelayJson, RelayQ, respond, skip_flag};
use crate::body::{Obj, present};
use crate::error::ApiError;
use crate::extract::{Answer, Res, escape_pointer, internal};
use crate::rule::Rule;
use crate::rules::detect_type;
use crate::rules::{self, AttrType, Entity};
use crate::state::{Catalog, Fake, Scope, read, write};
use crate::state_file::{Attribute, EventRecord};
use crate::store::lock;

pub(super) fn routes() -> Router<Fake> {
    Router::new()
        .route("/segment/v2/events", put(put_event))
        .route("/segment/event", put(put_legacy_event))
}

/// The body of `PUT /segment/v2/events` (`SegmentTrackEventV2Request`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct EventV2Body {
    pub(crate) event_type: String,
    #[serde(default, deserialize_with = "present")]
    pub(crate) event_attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) customer_profile_id: Option<String>,
}

/// The body of the deprecated `PUT /segment/event` (`SegmentTrackEventRequest`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LegacyEventBody {
    pub(crate) customer_profile_id: String,
    pub(crate) event_type: String,
    #[serde(rename = "type")]
    pub(crate) ty: AttrType,
    #[serde(default, deserialize_with = "present")]
    pub(crate) event_attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) attributes_info: Option<Vec<Obj<AttributeInfo>>>,
}

/// One item of `attributesInfo`: the type to create an attribute with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttributeInfo {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) ty: AttrType,
}

async fn put_event(
    State(_): State<Fake>,
    relay: Relay,
    RelayQ(q): RelayQ,
    RelayJson(body): RelayJson<EventV2Body>,
) -> Response {
    let done = (|| {
        let skip = skip_flag(&q)?;
        let profile = checked_profile_id(body.customer_profile_id.as_deref())?;
        // An event updates its profile: the deployment's per-profile limit on parallel
        // updates applies ("We recommend sending requests sequentially", OAS /v2/events).
        let Some(_slot) = relay.deployment.hold_profile(profile) else {
            return Ok(Err(parallel(&relay)));
        };
        Ok(Ok(relay
            .deployment
            .relay_track_event(relay.app, profile, &body, skip)?))
    })();
    match done {
        Ok(Ok(done)) => respond(&relay, Ok(done)),
        Ok(Err(refused)) => refused.into_response(),
        Err(e) => respond(&relay, Err(e)),
    }
}

async fn put_legacy_event(
    State(_): State<Fake>,
    relay: Relay,
    RelayJson(body): RelayJson<LegacyEventBody>,
) -> Response {
    let done = (|| {
        let profile = checked_profile_id(Some(&body.customer_profile_id))?;
        let Some(_slot) = relay.deployment.hold_profile(profile) else {
            return Ok(Err(parallel(&relay)));
        };
        Ok(Ok(relay
            .deployment
            .relay_track_legacy_event(relay.app, &body)?))
    })();
    match done {
        Ok(Ok(done)) => respond(&relay, Ok(done)),
        Ok(Err(refused)) => refused.into_response(),
        Err(e) => respond(&relay, Err(e)),
    }
}

/// `customerProfileId`: required (inferred: the relay's schema marks only `eventType` required,
/// but the deployment's `POST /v2/events` documents "`profileId` is required even though the
/// schema does not specify it"), at most 1000 characters.
fn checked_profile_id(id: Option<&str>) -> Res<&str> {
    let Some(id) = id else {
        return Err(ApiError::bad_body(
            Rule::BodyMissingField,
            "/customerProfileId",
            "Missing field",
            "customerProfileId is required: the deployment records every event on a customer profile".to_owned(),
        ));
    };
    rules::check_integration_id(id).map_err(|d| {
        ApiError::bad_body(
            Rule::IntegrationIdInvalid,
            "/customerProfileId",
            "Invalid customerProfileId",
            d,
        )
    })?;
    Ok(id)
}

/// `eventType`: not empty.
fn checked_event_type(t: &str) -> Res<()> {
    if t.is_empty() {
        return Err(ApiError::bad_body(
            Rule::BodyInvalidField,
            "/eventType",
            "Invalid event type",
            "eventType must not be empty".to_owned(),
        ));
    }
    Ok(())
}

fn unknown_event_type(t: &str) -> ApiError {
    ApiError::bad_body(
        Rule::EventTypeUnknown,
        "/eventType",
        "Unknown event type",
        format!(
            "the event type {t:?} does not exist in this deployment (names are case-sensitive); create the event and its attributes first"
        ),
    )
}

fn integration_state(extra: Option<(&str, Value)>) -> Bytes {
    let mut body = json!({"effects": [], "createdCoupons": [], "createdReferrals": []});
    if let (Some((k, v)), Some(obj)) = (extra, body.as_object_mut()) {
        obj.insert(k.to_owned(), v);
    }
    Bytes::from(serde_json::to_vec(&body).unwrap_or_default())
}

impl Fake {
    /// Creates the profile `integration_id` if it is missing and marks it updated by `app`.
    pub(crate) fn touch_profile(&self, app: usize, integration_id: &str) -> Res<()> {
        let now = self.now();
        let mut shard = self.inner.profiles.shard(integration_id);
        let profile = self.profile_or_new(&mut shard, integration_id, || now)?;
        profile.apply(app, &[], (&[], &[]), now);
        Ok(())
    }

    fn store_event(
        &self,
        app_id: i64,
        profile: &str,
        event_type: &str,
        attributes: Map<String, Value>,
    ) {
        let created = self.now_string();
        let mut act = lock(&self.inner.activity);
        let id = act.next_event_id();
        act.events.push(EventRecord {
            id,
            created,
            application_id: app_id,
            event_type: event_type.to_owned(),
            profile_id: profile.to_owned(),
            attributes,
        });
    }

    /// `PUT /segment/v2/events` on this deployment: every check before any change, then the
    /// profile created if missing and the event stored.
    pub(crate) fn relay_track_event(
        &self,
        app: usize,
        profile: &str,
        body: &EventV2Body,
        skip_unknown: bool,
    ) -> Res<Done> {
        checked_event_type(&body.event_type)?;
        let cat = read(&self.inner.catalog);
        if !cat.has_event_type(&body.event_type) {
            return Err(unknown_event_type(&body.event_type));
        }
        let empty = Map::new();
        let attrs = body.event_attributes.as_ref().unwrap_or(&empty);
        let (pairs, skipped) = cat.validate_entity_attributes(
            Scope::Event(&body.event_type),
            attrs,
            "/eventAttributes",
            skip_unknown,
        )?;
        let kept: Map<String, Value> = pairs
            .iter()
            .filter_map(|(idx, v)| {
                let a = cat.attributes.get(usize::from(*idx))?;
                Some((a.name.clone(), (*v).clone()))
            })
            .collect();
        let app_id = cat.applications.get(app).ok_or_else(internal)?.id;
        self.touch_profile(app, profile)?;
        drop(cat);
        self.store_event(app_id, profile, &body.event_type, kept);
        Ok(Done {
            answer: Some(Answer {
                status: StatusCode::OK,
                body: integration_state(None),
                rule: Rule::OkRelayEventTracked,
            }),
            skipped,
            notes: Vec::new(),
        })
    }

    /// The deprecated `PUT /segment/event` on this deployment: the event type created if
    /// missing (with the body's `type`), each unknown attribute created for that event type
    /// (typed by `attributesInfo` or detected), then as [`Fake::relay_track_event`]. Every
    /// check comes before any change (the catalog's write lock is held throughout).
    pub(crate) fn relay_track_legacy_event(&self, app: usize, body: &LegacyEventBody) -> Res<Done> {
        checked_event_type(&body.event_type)?;
        let profile = body.customer_profile_id.as_str();
        let info = checked_info(body.attributes_info.as_ref(), "/attributesInfo")?;
        let mut cat = write(&self.inner.catalog);
        let mut notes = Vec::new();
        let new_type = match cat.event_types.get(&body.event_type) {
            None if !cat.has_event_type(&body.event_type) => true,
            Some(Some(t)) if *t != body.ty => {
                notes.push(format!(
                    "type {:?} ignored: the event type {:?} was created with type {:?}, and an existing event type keeps its type",
                    body.ty.as_str(),
                    body.event_type,
                    t.as_str()
                ));
                false
            }
            _ => false,
        };
        let empty = Map::new();
        let attrs = body.event_attributes.as_ref().unwrap_or(&empty);
        let mut creator = Creator::new(
            &cat,
            Entity::Event,
            Some(&body.event_type),
            &info,
            self.now_string(),
        );
        let mut known = Map::new();
        for (name, value) in attrs {
            let pointer = format!("/eventAttributes/{}", escape_pointer(name));
            let v = creator.value(&cat, Scope::Event(&body.event_type), name, value, &pointer)?;
            known.insert(name.clone(), v);
        }
        let planned = creator.planned;
        let app_id = cat.applications.get(app).ok_or_else(internal)?.id;
        // Commit.
        for a in &planned {
            cat.add_attribute(a.clone())?;
        }
        if new_type {
            cat.event_types
                .insert(body.event_type.clone(), Some(body.ty));
            notes.push(format!(
                "event type {:?} created with type {:?}",
                body.event_type,
                body.ty.as_str()
            ));
        }
        self.touch_profile(app, profile)?;
        drop(cat);
        self.store_event(app_id, profile, &body.event_type, known);
        let created: Vec<Value> = planned
            .iter()
            .map(|a| serde_json::to_value(a).unwrap_or(Value::Null))
            .collect();
        Ok(Done {
            answer: Some(Answer {
                status: StatusCode::OK,
                body: integration_state(Some(("createdAttributes", Value::Array(created)))),
                rule: Rule::OkRelayDeprecatedEventTracked,
            }),
            skipped: Vec::new(),
            notes,
        })
    }
}

/// The `attributesInfo` items as (name, type), refusing list types ("List types cannot be
/// converted", documented) with a pointer under `base`.
pub(super) fn checked_info(
    items: Option<&Vec<Obj<AttributeInfo>>>,
    base: &str,
) -> Res<Vec<(String, AttrType)>> {
    let mut info = Vec::new();
    for (i, item) in items.into_iter().flatten().enumerate() {
        if item.ty.as_str().starts_with('(') {
            return Err(ApiError::bad_body(
                Rule::BodyInvalidField,
                &format!("{base}/{i}/type"),
                "Invalid attribute type",
                format!(
                    "attributesInfo types are string, time, number, boolean or location (\"List types cannot be converted\"); got {}",
                    item.ty.as_str()
                ),
            ));
        }
        info.push((item.name.clone(), item.ty));
    }
    Ok(info)
}

/// What the deprecated endpoints create: for each value of an attribute the catalog lacks, an
/// attribute of `entity` (typed by `attributesInfo` or detected), planned here and added by the
/// caller once every check has passed.
pub(super) struct Creator<'a> {
    entity: Entity,
    event_type: Option<&'a str>,
    info: &'a [(String, AttrType)],
    now: String,
    next_id: i64,
    account_id: i64,
    pub(super) planned: Vec<Attribute>,
}

impl<'a> Creator<'a> {
    pub(super) fn new(
        cat: &Catalog,
        entity: Entity,
        event_type: Option<&'a str>,
        info: &'a [(String, AttrType)],
        now: String,
    ) -> Self {
        Self {
            entity,
            event_type,
            info,
            now,
            next_id: cat.next_attribute_id,
            account_id: cat.account_id,
            planned: Vec::new(),
        }
    }

    /// Leaves the next `n` attribute ids to another creator of the same request.
    pub(super) fn skip_ids(&mut self, n: usize) {
        self.next_id = self
            .next_id
            .saturating_add(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// The value to store for attribute `name`: checked against the catalog's attribute of
    /// `scope` when there is one, else against (or planned as) a new attribute.
    pub(super) fn value(
        &mut self,
        cat: &Catalog,
        scope: Scope<'_>,
        name: &str,
        value: &Value,
        pointer: &str,
    ) -> Res<Value> {
        let wrong = |ty: AttrType, why: String| {
            ApiError::bad_body(
                Rule::AttributeType,
                pointer,
                "Invalid attribute value",
                format!("attribute {name:?} has type {}: {why}", ty.as_str()),
            )
        };
        if let Some((_, ty)) = cat.lookup(scope, name) {
            if scope == Scope::Session && value.is_null() {
                return Ok(Value::Null);
            }
            return match rules::check_value(ty, value) {
                Ok(()) => Ok(value.clone()),
                Err(p) => Err(ApiError::bad_body(
                    Rule::AttributeType,
                    &format!("{pointer}{}", p.pointer_suffix()),
                    "Invalid attribute value",
                    format!("attribute {name:?} has type {}: {p}", ty.as_str()),
                )),
            };
        }
        let given = self.info.iter().find(|(n, _)| n == name).map(|(_, t)| *t);
        if let Some(a) = self.planned.iter().find(|a| a.name == name) {
            let ty = a.ty;
            let v = if given.is_some() {
                convert(ty, value)
            } else {
                rules::check_value(ty, value).ok().map(|()| value.clone())
            };
            return v.ok_or_else(|| {
                wrong(
                    ty,
                    "the value does not fit the type it is being created with".to_owned(),
                )
            });
        }
        if !rules::is_valid_attribute_name(name) {
            return Err(ApiError::bad_body(
                Rule::AttributeInvalidName,
                pointer,
                "Invalid attribute name",
                format!("{name:?} cannot be created: attribute names match ^[A-Za-z]\\w*$"),
            ));
        }
        // The new attribute's title is its name; one with that title already in the entity
        // (e.g. `Store` next to an attribute `store` titled "Store") would make the commit
        // fail half-way, so it is refused here, before any change (chosen here: Talon.One's
        // answer to such a collision is not documented).
        if cat.attributes.iter().any(|b| {
            b.entity == self.entity && b.event_type.as_deref() == self.event_type && b.title == name
        }) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AttributeDuplicate,
                format!("attribute {name:?} cannot be created: an attribute titled {name:?} already exists for entity {}", self.entity.as_str()),
            )
            .pointer(
                pointer,
                "Attribute already exists",
                format!(
                    "attribute {name:?} cannot be created: an attribute titled {name:?} already exists for this entity (names are case-sensitive; is it a differently cased name?)"
                ),
            ));
        }
        let (ty, v) = match given {
            Some(ty) => match convert(ty, value) {
                Some(v) => (ty, v),
                None => {
                    return Err(wrong(ty, "it is created with this type (attributesInfo), and the value cannot be converted to it".to_owned()));
                }
            },
            None => match detect_type(value).ok() {
                Some(ty) => (ty, value.clone()),
                None => {
                    return Err(ApiError::bad_body(
                        Rule::AttributeType,
                        pointer,
                        "Invalid attribute value",
                        format!(
                            "attribute {name:?} cannot be created: no type is detected from a {} value; give its type in attributesInfo",
                            rules::kind_name(value)
                        ),
                    ));
                }
            },
        };
        self.planned.push(Attribute {
            id: self.next_id,
            created: self.now.clone(),
            account_id: self.account_id,
            entity: self.entity,
            event_type: self.event_type.map(str::to_owned),
            name: name.to_owned(),
            title: name.to_owned(),
            ty,
            description: "created by the Segment relay (a deprecated endpoint)".to_owned(),
            suggestions: Vec::new(),
            has_allowed_list: false,
            restricted_by_suggestions: false,
            editable: true,
            subscribed_applications_ids: Vec::new(),
        });
        self.next_id = self.next_id.saturating_add(1);
        Ok(v)
    }
}
