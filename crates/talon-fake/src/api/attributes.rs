//! Attributes (Management API): `GET` and `POST /v1/attributes`, `GET` and `PUT
//! /v1/attributes/{attributeId}`; the catalog that every profile attribute is checked against.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::ManagementAuth;
use crate::body::{TalonJson, present};
use crate::error::ApiError;
use crate::extract::{Answer, P, Page, Q, Res, answer, query};
use crate::rule::Rule;
use crate::rules::{self, AttrType, Entity};
use crate::state::{Fake, read, write};
use crate::state_file::Attribute;

pub(super) fn routes() -> Router<Fake> {
    Router::new()
        .route(
            "/v1/attributes",
            get(list_attributes).post(create_attribute),
        )
        .route(
            "/v1/attributes/{attributeId}",
            get(get_attribute).put(update_attribute),
        )
}

impl Fake {
    /// `GET /v1/attributes`.
    pub(crate) fn list_attributes(&self, q: &[(String, String)]) -> Res<Answer> {
        let page = Page::parse(q)?;
        let entity = match query(q, "entity") {
            Some(e) => Some(
                serde_json::from_value::<Entity>(Value::String(e.to_owned())).map_err(|_| {
                    ApiError::bad_param(
                        Rule::QueryInvalid,
                        "entity",
                        "Invalid entity",
                        format!("unknown entity {e:?}"),
                    )
                })?,
            ),
            None => None,
        };
        let ty = query(q, "type");
        let kind = query(q, "kind");
        if let Some(k) = kind
            && k != "builtin"
            && k != "custom"
        {
            return Err(ApiError::bad_param(
                Rule::QueryInvalid,
                "kind",
                "Invalid kind",
                format!("expected builtin or custom, got {k:?}"),
            ));
        }
        let search = query(q, "search").map(str::to_lowercase);
        let cat = read(&self.inner.catalog);
        let mut all: Vec<&Attribute> = cat
            .attributes
            .iter()
            .filter(|a| entity.is_none_or(|e| a.entity == e))
            .filter(|a| ty.is_none_or(|t| a.ty.as_str() == t))
            .filter(|_| kind != Some("builtin"))
            .filter(|a| {
                search.as_deref().is_none_or(|s| {
                    a.name.to_lowercase().contains(s)
                        || a.description.to_lowercase().contains(s)
                        || a.ty.as_str().contains(s)
                })
            })
            .collect();
        all.sort_by_key(|a| a.id);
        let total = all.len();
        let data: Vec<&&Attribute> = all.iter().skip(page.skip).take(page.size).collect();
        Ok(Answer::json(
            StatusCode::OK,
            Rule::OkAttributesListed,
            &json!({"totalResultSize": total, "data": data}),
        ))
    }

    /// `POST /v1/attributes`.
    pub(crate) fn create_attribute(&self, body: NewAttribute) -> Res<Answer> {
        let new = attribute_of(body)?;
        let created = self.now_string();
        let mut cat = write(&self.inner.catalog);
        let id = cat.next_attribute_id;
        let a = Attribute {
            id,
            created,
            account_id: cat.account_id,
            ..new
        };
        cat.add_attribute(a.clone())?;
        Ok(Answer::json(
            StatusCode::CREATED,
            Rule::OkAttributeCreated,
            &a,
        ))
    }

    /// `GET /v1/attributes/{attributeId}`.
    pub(crate) fn get_attribute(&self, id: i64) -> Res<Answer> {
        let cat = read(&self.inner.catalog);
        let a = cat.attributes.iter().find(|a| a.id == id).ok_or_else(|| {
            ApiError::not_found(Rule::AttributeNotFound, "attributeId", "attribute")
        })?;
        Ok(Answer::json(StatusCode::OK, Rule::OkAttribute, a))
    }

    /// `PUT /v1/attributes/{attributeId}`: only non-identifying fields may change.
    pub(crate) fn update_attribute(&self, id: i64, body: NewAttribute) -> Res<Answer> {
        let new = attribute_of(body)?;
        let mut cat = write(&self.inner.catalog);
        let a = cat
            .attributes
            .iter_mut()
            .find(|a| a.id == id)
            .ok_or_else(|| {
                ApiError::not_found(Rule::AttributeNotFound, "attributeId", "attribute")
            })?;
        for (field, same) in [
            ("entity", a.entity == new.entity),
            ("name", a.name == new.name),
            ("type", a.ty == new.ty),
            ("eventType", a.event_type == new.event_type),
        ] {
            if !same {
                return Err(ApiError::bad_body(
                    Rule::AttributeImmutable,
                    &format!("/{field}"),
                    "Attribute field cannot be changed",
                    format!(
                        "the {field} of an existing attribute cannot be changed; create a new attribute instead"
                    ),
                ));
            }
        }
        a.title = new.title;
        a.description = new.description;
        a.suggestions = new.suggestions;
        a.has_allowed_list = new.has_allowed_list;
        a.restricted_by_suggestions = new.restricted_by_suggestions;
        a.editable = new.editable;
        a.subscribed_applications_ids = new.subscribed_applications_ids;
        Ok(Answer::json(StatusCode::OK, Rule::OkAttributeUpdated, a))
    }
}

/// The body of `POST /v1/attributes` and `PUT /v1/attributes/{attributeId}` (`NewAttribute`).
///
/// `entity`, `type` and `allowedSubscriptions` stay JSON values: their rules have their own
/// ids and titles ([`attribute_of`]).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewAttribute {
    entity: Value,
    #[serde(default, deserialize_with = "present")]
    event_type: Option<String>,
    name: String,
    title: String,
    #[serde(rename = "type")]
    ty: Value,
    description: String,
    suggestions: Vec<String>,
    #[serde(default, deserialize_with = "present")]
    has_allowed_list: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    restricted_by_suggestions: Option<bool>,
    editable: bool,
    #[serde(default, deserialize_with = "present")]
    subscribed_applications_ids: Option<Vec<i64>>,
    /// Read for its type only: the fake has no catalogs.
    #[serde(default, deserialize_with = "present")]
    #[allow(dead_code)]
    subscribed_catalogs_ids: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "present")]
    allowed_subscriptions: Option<Value>,
}

/// Checks a [`NewAttribute`]'s values and makes the attribute it describes (id, created and
/// account left for the caller).
pub(crate) fn attribute_of(body: NewAttribute) -> Res<Attribute> {
    let entity: Entity = serde_json::from_value(body.entity.clone()).map_err(|_| {
        ApiError::bad_body(
            Rule::AttributeInvalidEntity,
            "/entity",
            "Invalid entity",
            format!(
                "{} is not one of Application, Campaign, CustomerProfile, CustomerSession, CartItem, Coupon, Event, Giveaway, LoyaltyCard, Referral, Store",
                body.entity
            ),
        )
    })?;
    if !rules::is_valid_attribute_name(&body.name) {
        return Err(ApiError::bad_body(
            Rule::AttributeInvalidName,
            "/name",
            "Invalid attribute name",
            format!("{:?} does not match ^[A-Za-z]\\w*$", body.name),
        ));
    }
    if !rules::is_valid_attribute_title(&body.title) {
        return Err(ApiError::bad_body(
            Rule::AttributeInvalidTitle,
            "/title",
            "Invalid attribute title",
            format!(
                "{:?} does not match ^[A-Za-z][A-Za-z0-9_.!~*'() -]*$",
                body.title
            ),
        ));
    }
    let ty: AttrType = serde_json::from_value(body.ty.clone()).map_err(|_| {
        ApiError::bad_body(
            Rule::AttributeInvalidType,
            "/type",
            "Invalid attribute type",
            format!(
                "{} is not one of string, number, boolean, time, (list string), (list number), (list time), location, (list location)",
                body.ty
            ),
        )
    })?;
    if body.suggestions.len() > rules::MAX_SUGGESTIONS {
        return Err(ApiError::bad_body(
            Rule::AttributeInvalidSuggestions,
            "/suggestions",
            "Too many suggestions",
            format!("at most {} suggestions are allowed", rules::MAX_SUGGESTIONS),
        ));
    }
    if let Some(i) = body.suggestions.iter().position(String::is_empty) {
        return Err(ApiError::bad_body(
            Rule::BodyInvalidField,
            &format!("/suggestions/{i}"),
            "Invalid field type",
            format!("/suggestions/{i} must be a non-empty string, got an empty string"),
        ));
    }
    if let Some(v) = &body.allowed_subscriptions {
        let ok = v.as_array().is_some_and(|a| {
            a.len() <= 2
                && a.iter().all(|x| {
                    x.as_str()
                        .is_some_and(|s| s == "application" || s == "catalog")
                })
        });
        if !ok {
            return Err(ApiError::bad_body(
                Rule::BodyInvalidField,
                "/allowedSubscriptions",
                "Invalid field type",
                format!(
                    "/allowedSubscriptions must be at most 2 of \"application\", \"catalog\", got {v}"
                ),
            ));
        }
    }
    Ok(Attribute {
        id: 0,
        created: String::new(),
        account_id: 0,
        entity,
        event_type: body.event_type,
        name: body.name,
        title: body.title,
        ty,
        description: body.description,
        suggestions: body.suggestions,
        has_allowed_list: body.has_allowed_list.unwrap_or(false),
        restricted_by_suggestions: body.restricted_by_suggestions.unwrap_or(false),
        editable: body.editable,
        subscribed_applications_ids: body.subscribed_applications_ids.unwrap_or_default(),
    })
}

async fn list_attributes(State(fake): State<Fake>, _: ManagementAuth, Q(q): Q) -> Response {
    answer(fake.list_attributes(&q))
}

async fn create_attribute(
    State(fake): State<Fake>,
    _: ManagementAuth,
    TalonJson(body): TalonJson<NewAttribute>,
) -> Response {
    answer(fake.create_attribute(body))
}

async fn get_attribute(State(fake): State<Fake>, _: ManagementAuth, P(id): P<i64>) -> Response {
    answer(fake.get_attribute(id))
}

async fn update_attribute(
    State(fake): State<Fake>,
    _: ManagementAuth,
    P(id): P<i64>,
    TalonJson(body): TalonJson<NewAttribute>,
) -> Response {
    answer(fake.update_attribute(id, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_attribute(patch: Value) -> NewAttribute {
        let mut v = json!({"entity": "CustomerProfile", "name": "plan", "title": "Plan",
            "type": "string", "description": "", "suggestions": [], "editable": true});
        if let (Some(v), Value::Object(p)) = (v.as_object_mut(), patch) {
            v.extend(p);
        }
        serde_json::from_value(v).expect("a NewAttribute")
    }

    #[test]
    fn a_valid_new_attribute_becomes_the_attribute_it_describes() {
        let a =
            attribute_of(new_attribute(json!({"subscribedApplicationsIds": [1]}))).expect("valid");
        assert_eq!(
            (
                a.entity,
                a.name.as_str(),
                a.ty,
                a.subscribed_applications_ids
            ),
            (Entity::CustomerProfile, "plan", AttrType::String, vec![1])
        );
    }

    #[test]
    fn each_bad_value_of_a_new_attribute_has_its_rule_and_pointer() {
        let cases = [
            (
                json!({"entity": "Nope"}),
                Rule::AttributeInvalidEntity,
                "/entity",
            ),
            (
                json!({"name": "1plan"}),
                Rule::AttributeInvalidName,
                "/name",
            ),
            (json!({"title": "-"}), Rule::AttributeInvalidTitle, "/title"),
            (json!({"type": "list"}), Rule::AttributeInvalidType, "/type"),
            (
                json!({"suggestions": ["a", ""]}),
                Rule::BodyInvalidField,
                "/suggestions/1",
            ),
            (
                json!({"allowedSubscriptions": ["x"]}),
                Rule::BodyInvalidField,
                "/allowedSubscriptions",
            ),
        ];
        for (patch, rule, pointer) in cases {
            let e = attribute_of(new_attribute(patch.clone())).expect_err("refused");
            assert_eq!(
                (e.rule, &e.errors[0].source),
                (
                    rule,
                    &crate::error::ErrorSource::Pointer(pointer.to_owned())
                ),
                "{patch}"
            );
        }
    }
}
