//! The relay's two deprecated profile endpoints: `PUT /segment/customer_profile/{id}` (the
//! destination's "[Deprecated] Upsert customer profile") and `PUT
//! /segment/customer_profile_v2/{id}` ("[Deprecated] Upsert customer profile V2").
//!
//! Unlike the current endpoint they create what is missing (AD §2.5, §4.5, Facts §3.5): an
//! attribute the CustomerProfile catalog does not have is created, typed by `attributesInfo`
//! or detected from its value, and listed in `createdAttributes`; V2 also creates the
//! audiences it names by `{name, integrationId}`. Everything is checked before anything is
//! created or stored, so a refused request creates nothing.
//!
//! The rules where the documents are silent are chosen here, each in `CONTRACT.md`:
//! - detection: a boolean, number or string value is that type (a string stays `string`,
//!   even an RFC 3339 one: `time` is asked for with `attributesInfo`); a non-empty array of
//!   strings `(list string)`, of numbers `(list number)`; `null`, an object, an empty or mixed
//!   array cannot be detected → 400 `attribute.type_not_detected`;
//! - `attributesInfo` converts the value to the declared type where the docs' examples do
//!   (`false` declared `string` is `"false"`; `"true"` declared `boolean` is `true`, `"12345"`
//!   declared `number` is `12345`); an array declared as any type → 400
//!   `attribute.list_not_convertible` ("List types cannot be converted", documented); an
//!   existing attribute declared with another type → 400 `attribute.type`;
//! - a created attribute's title is its name (` (2)`, ` (3)`… appended when another
//!   CustomerProfile attribute already has that title);
//! - audience changes are applied, and V2's audiences created, only with `runRuleEngine: true`
//!   (absent: false, the body field's documented default); otherwise they are checked, not
//!   applied, and the journal's notes say so.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use serde::Deserialize;
use serde_json::{Map, Number, Value, json};

use super::audiences::is_segment_audience;
use super::profiles::{AudienceIdChanges, check_audiences_exist, parallel};
use super::{Done, Relay, RelayJson, SEGMENT_PLATFORM, path_id, respond};
use crate::body::{Obj, present};
use crate::error::ApiError;
use crate::extract::{Answer, Res, escape_pointer, internal};
use crate::rule::Rule;
use crate::rules::{self, AttrType, Entity, detect_type};
use crate::state::{Catalog, Fake, write};
use crate::state_file::{Attribute, Audience};
use crate::store::{self, AttrIdx};

const V1_PREFIX: &str = "/segment/customer_profile/";
const V2_PREFIX: &str = "/segment/customer_profile_v2/";

pub(super) fn routes() -> Router<Fake> {
    Router::new()
        .route(
            "/segment/customer_profile/{customerProfileId}",
            put(put_profile_v1),
        )
        .route(
            "/segment/customer_profile_v2/{customerProfileId}",
            put(put_profile_v2),
        )
}

/// The body of `PUT /segment/customer_profile/{id}` (`SegmentCustomerProfileRequest`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LegacyProfileBody {
    #[serde(default, deserialize_with = "present")]
    attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    run_rule_engine: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    audiences_changes: Option<Obj<AudienceIdChanges>>,
    #[serde(default, deserialize_with = "present")]
    attributes_info: Option<Vec<Obj<AttributeInfo>>>,
}

/// The body of `PUT /segment/customer_profile_v2/{id}` (`SegmentCustomerProfileRequestV2`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LegacyProfileV2Body {
    #[serde(default, deserialize_with = "present")]
    attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    run_rule_engine: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    audiences_changes: Option<Obj<AudienceItemChanges>>,
    #[serde(default, deserialize_with = "present")]
    attributes_info: Option<Vec<Obj<AttributeInfo>>>,
}

/// `attributesInfo` item: the type to create an attribute with.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttributeInfo {
    name: String,
    #[serde(rename = "type")]
    ty: String,
}

/// V2's `audiencesChanges`: audiences by name and integration id, either side optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AudienceItemChanges {
    #[serde(default, deserialize_with = "present")]
    adds: Option<Vec<Obj<AudienceItem>>>,
    #[serde(default, deserialize_with = "present")]
    deletes: Option<Vec<Obj<AudienceItem>>>,
}

/// An `audienceItem`: `name` required, `integrationId` optional (`minLength: 1`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct AudienceItem {
    name: String,
    #[serde(default, deserialize_with = "present")]
    integration_id: Option<String>,
}

/// The types `attributesInfo` may declare (AE `attributeInfo.type`).
fn info_type(name: &str) -> Option<AttrType> {
    Some(match name {
        "string" => AttrType::String,
        "number" => AttrType::Number,
        "boolean" => AttrType::Boolean,
        "time" => AttrType::Time,
        "location" => AttrType::Location,
        _ => return None,
    })
}

/// A new audience's integration id: every character outside `A-Z`, `a-z`, `0-9` replaced by
/// `_` (documented: `My Travel audience1` → `My_Travel_audience1`).
pub(crate) fn sanitize_integration_id(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// `v` as a value of `ty`, the type `attributesInfo` declared (scalar): strings, numbers and
/// booleans convert where their text allows; `None` when it does not.
pub(crate) fn convert(ty: AttrType, v: &Value) -> Option<Value> {
    let out = match (ty, v) {
        (AttrType::String, Value::String(_))
        | (AttrType::Number, Value::Number(_))
        | (AttrType::Boolean, Value::Bool(_))
        | (AttrType::Time | AttrType::Location, Value::String(_)) => v.clone(),
        (AttrType::String, Value::Bool(b)) => Value::String(b.to_string()),
        (AttrType::String, Value::Number(n)) => Value::String(n.to_string()),
        (AttrType::Boolean, Value::String(s)) if s == "true" || s == "false" => {
            Value::Bool(s == "true")
        }
        (AttrType::Number, Value::String(s)) => {
            let s = s.trim();
            match s.parse::<i64>() {
                Ok(i) => Value::Number(i.into()),
                Err(_) => Value::Number(
                    s.parse::<f64>()
                        .ok()
                        .filter(|f| f.is_finite())
                        .and_then(Number::from_f64)?,
                ),
            }
        }
        _ => return None,
    };
    rules::check_value(ty, &out).ok().map(|()| out)
}

/// The attributes of a deprecated profile request, checked: the values (by catalog index, or
/// by the new attribute they need) and the attributes to create.
struct Plan {
    /// The values to store; `Err(i)` names the i-th attribute of `create`.
    values: Vec<(Result<AttrIdx, usize>, Value)>,
    create: Vec<Attribute>,
}

fn bad(rule: Rule, pointer: &str, title: &str, details: String) -> ApiError {
    ApiError::bad_body(rule, pointer, title, details)
}

impl Catalog {
    /// Checks `attributes` against the CustomerProfile catalog and `attributesInfo`, planning
    /// the attributes to create; the first problem is refused.
    fn plan_attributes(
        &self,
        attrs: &Map<String, Value>,
        info: &[Obj<AttributeInfo>],
        created: &str,
    ) -> Res<Plan> {
        let mut declared: Vec<(&str, AttrType)> = Vec::with_capacity(info.len());
        for (i, item) in info.iter().enumerate() {
            let Some(ty) = info_type(&item.ty) else {
                return Err(bad(
                    Rule::BodyInvalidField,
                    &format!("/attributesInfo/{i}/type"),
                    "Invalid attribute type",
                    format!(
                        "{:?} is not one of \"string\", \"number\", \"boolean\", \"time\", \"location\"",
                        item.ty
                    ),
                ));
            };
            if declared.iter().any(|(n, _)| *n == item.name) {
                return Err(bad(
                    Rule::BodyInvalidField,
                    &format!("/attributesInfo/{i}/name"),
                    "Duplicate attribute",
                    format!("attributesInfo names {:?} more than once", item.name),
                ));
            }
            declared.push((item.name.as_str(), ty));
        }
        let mut plan = Plan {
            values: Vec::with_capacity(attrs.len()),
            create: Vec::new(),
        };
        let mut titles: Vec<String> = Vec::new();
        for (name, value) in attrs {
            let pointer = format!("/attributes/{}", escape_pointer(name));
            let wanted = declared.iter().find(|(n, _)| n == name).map(|(_, t)| *t);
            if value.is_array() && wanted.is_some() {
                return Err(bad(
                    Rule::AttributeListNotConvertible,
                    &pointer,
                    "List types cannot be converted",
                    format!(
                        "attribute {name:?} holds a list; a list attribute cannot be declared in attributesInfo (list types cannot be converted)"
                    ),
                ));
            }
            let value = match (self.profile_attrs.get(name.as_str()), wanted) {
                (Some(&(_, ty)), Some(w)) if w != ty => {
                    return Err(bad(
                        Rule::AttributeType,
                        &pointer,
                        "Invalid attribute value",
                        format!(
                            "attribute {name:?} has type {}; attributesInfo declares {}, and an attribute's type cannot be changed",
                            ty.as_str(),
                            w.as_str()
                        ),
                    ));
                }
                (Some(&(idx, ty)), w) => {
                    let v = match w {
                        Some(_) => convert(ty, value),
                        None => Some(value.clone()),
                    };
                    match v.map(|v| rules::check_value(ty, &v).map(|()| v)) {
                        Some(Ok(v)) => (Ok(idx), v),
                        Some(Err(p)) => {
                            return Err(bad(
                                Rule::AttributeType,
                                &format!("{pointer}{}", p.pointer_suffix()),
                                "Invalid attribute value",
                                format!("attribute {name:?} has type {}: {p}", ty.as_str()),
                            ));
                        }
                        None => {
                            return Err(bad(
                                Rule::AttributeType,
                                &pointer,
                                "Invalid attribute value",
                                format!(
                                    "attribute {name:?} has type {}: {value} does not convert to it",
                                    ty.as_str()
                                ),
                            ));
                        }
                    }
                }
                (None, w) => {
                    if !rules::is_valid_attribute_name(name) {
                        return Err(bad(
                            Rule::AttributeInvalidName,
                            &pointer,
                            "Invalid attribute name",
                            format!(
                                "attribute {name:?} does not exist and cannot be created: a name must match ^[A-Za-z]\\w*$"
                            ),
                        ));
                    }
                    let (ty, v) = match w {
                        Some(ty) => match convert(ty, value) {
                            Some(v) => (ty, v),
                            None => {
                                return Err(bad(
                                    Rule::AttributeType,
                                    &pointer,
                                    "Invalid attribute value",
                                    format!(
                                        "attribute {name:?} is declared {} in attributesInfo: {value} does not convert to it",
                                        ty.as_str()
                                    ),
                                ));
                            }
                        },
                        None => match detect_type(value) {
                            Ok(ty) => (ty, value.clone()),
                            Err(what) => {
                                return Err(bad(
                                    Rule::AttributeTypeNotDetected,
                                    &pointer,
                                    "Attribute type cannot be detected",
                                    format!(
                                        "attribute {name:?} does not exist, and the type of {what} cannot be detected; declare it in attributesInfo or create it first"
                                    ),
                                ));
                            }
                        },
                    };
                    let title = self.free_title(name, &titles);
                    titles.push(title.clone());
                    plan.values.push((Err(plan.create.len()), v));
                    plan.create.push(Attribute {
                        id: 0,
                        created: created.to_owned(),
                        account_id: self.account_id,
                        entity: Entity::CustomerProfile,
                        event_type: None,
                        name: name.clone(),
                        title,
                        ty,
                        description: "Created by the Segment relay".to_owned(),
                        suggestions: Vec::new(),
                        has_allowed_list: false,
                        restricted_by_suggestions: false,
                        editable: true,
                        subscribed_applications_ids: Vec::new(),
                    });
                    continue;
                }
            };
            plan.values.push((value.0, value.1));
        }
        let room = usize::from(AttrIdx::MAX) + 1
            - self.attributes.len().min(usize::from(AttrIdx::MAX) + 1);
        if plan.create.len() > room {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                Rule::AttributeTooMany,
                "too many attributes",
            ));
        }
        Ok(plan)
    }

    /// `name`, or `name (2)`, `name (3)`… : the first title no CustomerProfile attribute (nor
    /// one planned in this request) has.
    fn free_title(&self, name: &str, planned: &[String]) -> String {
        let taken = |t: &str| {
            planned.iter().any(|p| p == t)
                || self
                    .attributes
                    .iter()
                    .any(|a| a.entity == Entity::CustomerProfile && a.title == t)
        };
        if !taken(name) {
            return name.to_owned();
        }
        (2u32..)
            .map(|n| format!("{name} ({n})"))
            .find(|t| !taken(t))
            .unwrap_or_else(|| name.to_owned())
    }

    /// Adds the planned attributes (checked by [`Catalog::plan_attributes`]) and returns the
    /// values with their catalog indices.
    fn commit_attributes(&mut self, plan: Plan) -> Res<Committed> {
        let mut made = Vec::with_capacity(plan.create.len());
        for mut a in plan.create {
            a.id = self.next_attribute_id;
            self.add_attribute(a.clone())?;
            made.push(a);
        }
        let mut values = Vec::with_capacity(plan.values.len());
        for (at, v) in plan.values {
            let idx = match at {
                Ok(idx) => idx,
                Err(i) => made
                    .get(i)
                    .and_then(|a| self.profile_attrs.get(a.name.as_str()))
                    .map(|(idx, _)| *idx)
                    .ok_or_else(internal)?,
            };
            values.push((idx, v));
        }
        Ok((values, made))
    }
}

/// The values to store with their catalog indices, and the attributes created.
type Committed = (Vec<(AttrIdx, Value)>, Vec<Attribute>);

/// A V2 audience change, resolved: an existing audience (renamed or not) or one to create.
enum Resolved {
    Existing { id: u32, rename: Option<String> },
    New(String, String),
}

impl Catalog {
    /// The audience a V2 item names: the Segment audience with its `integrationId` as given,
    /// or sanitised (the form a new one gets); `None` when there is none.
    fn find_item(&self, iid: &str) -> Option<u32> {
        let sanitized = sanitize_integration_id(iid);
        [iid, sanitized.as_str()].iter().find_map(|want| {
            self.audiences
                .iter()
                .find(|(_, a)| is_segment_audience(a) && a.integration_id.as_deref() == Some(want))
                .map(|(id, _)| *id)
        })
    }

    /// Checks V2's audience items (`name` 1..1000 characters, `integrationId` 1..1000) and
    /// resolves them: adds to existing or new audiences, deletes to existing ones (an unknown
    /// one is left out: there is nothing to leave).
    fn plan_audience_items(
        &self,
        changes: &AudienceItemChanges,
    ) -> Res<(Vec<Resolved>, Vec<u32>, Vec<String>)> {
        let mut adds = Vec::new();
        let mut deletes = Vec::new();
        let mut unknown = Vec::new();
        for (side, items) in [("adds", &changes.adds), ("deletes", &changes.deletes)] {
            for (i, item) in items.iter().flatten().enumerate() {
                let base = format!("/audiencesChanges/{side}/{i}");
                if item.name.is_empty() || item.name.chars().count() > 1000 {
                    return Err(bad(
                        Rule::BodyInvalidField,
                        &format!("{base}/name"),
                        "Invalid name",
                        "an audience name must have 1 to 1000 characters".to_owned(),
                    ));
                }
                if let Some(iid) = &item.integration_id
                    && (iid.is_empty() || iid.chars().count() > 1000)
                {
                    return Err(bad(
                        Rule::BodyInvalidField,
                        &format!("{base}/integrationId"),
                        "Invalid integrationId",
                        "an audience integrationId must have 1 to 1000 characters".to_owned(),
                    ));
                }
                let iid = item.integration_id.as_deref().unwrap_or(&item.name);
                let found = self.find_item(iid);
                if side == "adds" {
                    adds.push(match found {
                        Some(id) => Resolved::Existing {
                            id,
                            rename: self
                                .audiences
                                .get(&id)
                                .filter(|a| a.name != item.name)
                                .map(|_| item.name.clone()),
                        },
                        None => Resolved::New(item.name.clone(), sanitize_integration_id(iid)),
                    });
                } else if let Some(id) = found {
                    deletes.push(id);
                } else {
                    unknown.push(format!(
                        "audience {:?} to leave not found (integrationId {iid:?}); nothing to leave",
                        item.name
                    ));
                }
            }
        }
        Ok((adds, deletes, unknown))
    }
}

fn audience_json(a: &Audience, status: &str) -> Value {
    json!({
        "id": a.id,
        "created": a.created,
        "accountId": a.account_id,
        "name": a.name,
        "integration": a.integration.as_deref().unwrap_or(SEGMENT_PLATFORM),
        "integrationId": a.integration_id,
        "status": status,
    })
}

/// What either version asks for, in one shape.
struct LegacyUpdate<'a> {
    attributes: Option<&'a Map<String, Value>>,
    info: &'a [Obj<AttributeInfo>],
    run: bool,
    ids: Option<&'a AudienceIdChanges>,
    items: Option<&'a AudienceItemChanges>,
}

impl Fake {
    /// Either deprecated profile endpoint on this deployment: every check, then the attributes
    /// and audiences created, then the profile created if missing and updated.
    fn relay_legacy_profile(
        &self,
        app: usize,
        iid: &str,
        req: &LegacyUpdate<'_>,
        v2: bool,
    ) -> Res<Done> {
        rules::check_integration_id(iid).map_err(|d| {
            ApiError::bad_param(
                Rule::IntegrationIdInvalid,
                "customerProfileId",
                "Invalid customerProfileId",
                d,
            )
        })?;
        let id_changes = match req.ids {
            Some(c) => c.checked("/audiencesChanges")?,
            None => (Vec::new(), Vec::new()),
        };
        let created = self.now_string();
        let empty = Map::new();
        let mut cat = write(&self.inner.catalog);
        let plan = cat.plan_attributes(req.attributes.unwrap_or(&empty), req.info, &created)?;
        let (adds_v2, deletes_v2, unknown) = match req.items {
            Some(items) => cat.plan_audience_items(items)?,
            None => (Vec::new(), Vec::new(), Vec::new()),
        };
        if req.run {
            check_audiences_exist(&cat, (&id_changes.0, &id_changes.1), "/audiencesChanges")?;
        }
        // Every check is done: create, then store.
        let (values, made) = cat.commit_attributes(plan)?;
        let mut notes = unknown;
        let mut audiences = Vec::new();
        let (mut adds, mut deletes) = (Vec::new(), Vec::new());
        if req.run {
            adds.extend(id_changes.0);
            deletes.extend(id_changes.1);
            for r in adds_v2 {
                let (id, status) = match r {
                    Resolved::Existing { id, rename: None } => (id, "unmodified"),
                    Resolved::Existing {
                        id,
                        rename: Some(name),
                    } => {
                        if let Some(a) = cat.audiences.get_mut(&id) {
                            a.name = name;
                        }
                        (id, "updated")
                    }
                    // Two items of this request may name one new audience (`a b`, `a-b`):
                    // the first creates it, the others join it.
                    Resolved::New(name, iid) if cat.find_item(&iid).is_some() => {
                        let id = cat.find_item(&iid).unwrap_or_default();
                        match cat.audiences.get_mut(&id) {
                            Some(a) if a.name != name => {
                                a.name = name;
                                (id, "updated")
                            }
                            _ => (id, "unmodified"),
                        }
                    }
                    Resolved::New(name, iid) => {
                        let id = cat.next_audience_id;
                        cat.next_audience_id = id.saturating_add(1);
                        let a = Audience {
                            id: i64::from(id),
                            created: created.clone(),
                            account_id: cat.account_id,
                            name,
                            description: None,
                            sandbox: None,
                            integration: Some(SEGMENT_PLATFORM.to_owned()),
                            integration_id: Some(iid),
                            created_in3rd_party: None,
                            subscribed_applications_ids: None,
                        };
                        cat.audiences.insert(id, a);
                        (id, "new")
                    }
                };
                if let Some(a) = cat.audiences.get(&id) {
                    audiences.push(audience_json(a, status));
                }
                adds.push(id);
            }
            for id in deletes_v2 {
                if let Some(a) = cat.audiences.get(&id) {
                    audiences.push(audience_json(a, "unmodified"));
                }
                deletes.push(id);
            }
        } else {
            let asked = !id_changes.0.is_empty()
                || !id_changes.1.is_empty()
                || !adds_v2.is_empty()
                || !deletes_v2.is_empty();
            if asked {
                notes.push(
                    "audience changes not applied (and no audience created): runRuleEngine is false, and Talon.One applies audience changes only when the rules run"
                        .to_owned(),
                );
            }
        }
        let mut pairs: Vec<(AttrIdx, &Value)> = values.iter().map(|(i, v)| (*i, v)).collect();
        let blob = store::encode_values(&mut pairs);
        let now = self.now();
        let mut shard = self.inner.profiles.shard(iid);
        let profile = self.profile_or_new(&mut shard, iid, || now)?;
        profile.apply(app, &blob, (&adds, &deletes), now);
        let mut body = json!({
            "customerProfile": cat.profile_json(iid, profile),
            "createdAttributes": made,
        });
        if v2 {
            body["audiences"] = Value::Array(audiences);
        }
        let rule = if v2 {
            Rule::OkRelayDeprecatedProfileV2Updated
        } else {
            Rule::OkRelayDeprecatedProfileUpdated
        };
        Ok(Done {
            answer: Some(Answer::json(StatusCode::OK, rule, &body)),
            skipped: Vec::new(),
            notes,
        })
    }
}

/// The shared handler: path id, the parallel-update limit, the update.
fn handle(relay: &Relay, uri: &Uri, prefix: &str, req: &LegacyUpdate<'_>, v2: bool) -> Response {
    let id = match path_id(uri.path(), prefix, "", "customerProfileId") {
        Ok(id) => id,
        Err(e) => return respond(relay, Err(e)),
    };
    let Some(_slot) = relay.deployment.hold_profile(&id) else {
        return parallel(relay).into_response();
    };
    respond(
        relay,
        relay
            .deployment
            .relay_legacy_profile(relay.app, &id, req, v2),
    )
}

async fn put_profile_v1(
    State(_): State<Fake>,
    relay: Relay,
    uri: Uri,
    RelayJson(body): RelayJson<LegacyProfileBody>,
) -> Response {
    let req = LegacyUpdate {
        attributes: body.attributes.as_ref(),
        info: body.attributes_info.as_deref().unwrap_or_default(),
        run: body.run_rule_engine.unwrap_or(false),
        ids: body.audiences_changes.as_deref(),
        items: None,
    };
    handle(&relay, &uri, V1_PREFIX, &req, false)
}

async fn put_profile_v2(
    State(_): State<Fake>,
    relay: Relay,
    uri: Uri,
    RelayJson(body): RelayJson<LegacyProfileV2Body>,
) -> Response {
    let req = LegacyUpdate {
        attributes: body.attributes.as_ref(),
        info: body.attributes_info.as_deref().unwrap_or_default(),
        run: body.run_rule_engine.unwrap_or(false),
        ids: None,
        items: body.audiences_changes.as_deref(),
    };
    handle(&relay, &uri, V2_PREFIX, &req, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_integration_ids_keep_only_ascii_letters_and_digits() {
        assert_eq!(
            sanitize_integration_id("My Travel audience1"),
            "My_Travel_audience1"
        );
        assert_eq!(sanitize_integration_id("a-b.c/é"), "a_b_c__");
        assert_eq!(sanitize_integration_id("AZaz09"), "AZaz09");
    }

    #[test]
    fn types_are_detected_from_scalars_and_uniform_lists_only() {
        assert_eq!(detect_type(&json!(true)), Ok(AttrType::Boolean));
        assert_eq!(detect_type(&json!(1.5)), Ok(AttrType::Number));
        assert_eq!(
            detect_type(&json!("2024-01-01T00:00:00Z")),
            Ok(AttrType::String)
        );
        assert_eq!(detect_type(&json!(["a", "b"])), Ok(AttrType::ListString));
        assert_eq!(detect_type(&json!([1, 2.5])), Ok(AttrType::ListNumber));
        for v in [
            json!(null),
            json!({}),
            json!([]),
            json!([1, "a"]),
            json!([true]),
        ] {
            assert!(detect_type(&v).is_err(), "{v}");
        }
    }

    #[test]
    fn declared_types_convert_what_their_text_allows() {
        assert_eq!(
            convert(AttrType::String, &json!(false)),
            Some(json!("false"))
        );
        assert_eq!(convert(AttrType::String, &json!(12)), Some(json!("12")));
        assert_eq!(
            convert(AttrType::Boolean, &json!("true")),
            Some(json!(true))
        );
        assert_eq!(
            convert(AttrType::Number, &json!("12345")),
            Some(json!(12345))
        );
        assert_eq!(convert(AttrType::Number, &json!("1.5")), Some(json!(1.5)));
        assert_eq!(
            convert(AttrType::Time, &json!("2024-01-01T00:00:00Z")),
            Some(json!("2024-01-01T00:00:00Z"))
        );
        for (ty, v) in [
            (AttrType::Boolean, json!("yes")),
            (AttrType::Number, json!("NaN")),
            (AttrType::Number, json!("x")),
            (AttrType::Number, json!(true)),
            (AttrType::Time, json!("2024-01-01")),
            (AttrType::Location, json!("north")),
            (AttrType::String, json!(null)),
            (AttrType::String, json!({})),
        ] {
            assert_eq!(convert(ty, &v), None, "{v} as {}", ty.as_str());
        }
    }
}
