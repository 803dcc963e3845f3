//! Attributes (Management API): `GET` and `POST /v1/attributes`, `GET` and `PUT
//! /v1/attributes/{attributeId}`; the catalog that every profile attribute is checked against.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::auth::ManagementAuth;
use crate::error::ApiError;
use crate::extract::{
    Answer, P, Page, Q, Res, TalonJson, answer, check_keys, int_array, missing, not_array,
    opt_bool, opt_string, query, wrong_field,
};
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
    pub(crate) fn create_attribute(&self, body: &Map<String, Value>) -> Res<Answer> {
        let new = parse_new_attribute(body)?;
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
    pub(crate) fn update_attribute(&self, id: i64, body: &Map<String, Value>) -> Res<Answer> {
        let new = parse_new_attribute(body)?;
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

/// Validates a `NewAttribute` body (also the body of `PUT /v1/attributes/{id}`).
fn parse_new_attribute(body: &Map<String, Value>) -> Res<Attribute> {
    check_keys(
        body,
        &[
            "entity",
            "eventType",
            "name",
            "title",
            "type",
            "description",
            "suggestions",
            "hasAllowedList",
            "restrictedBySuggestions",
            "editable",
            "subscribedApplicationsIds",
            "subscribedCatalogsIds",
            "allowedSubscriptions",
        ],
        "",
    )?;
    for k in [
        "entity",
        "name",
        "title",
        "type",
        "description",
        "suggestions",
        "editable",
    ] {
        if !body.contains_key(k) {
            return Err(missing(&format!("/{k}")));
        }
    }
    let entity_v = &body["entity"];
    let entity: Entity = serde_json::from_value(entity_v.clone()).map_err(|_| {
        ApiError::bad_body(Rule::AttributeInvalidEntity, "/entity", "Invalid entity", format!("{entity_v} is not one of Application, Campaign, CustomerProfile, CustomerSession, CartItem, Coupon, Event, Giveaway, LoyaltyCard, Referral, Store"))
    })?;
    let name = opt_string(body, "name")?.unwrap_or_default();
    if !rules::is_valid_attribute_name(&name) {
        return Err(ApiError::bad_body(
            Rule::AttributeInvalidName,
            "/name",
            "Invalid attribute name",
            format!("{name:?} does not match ^[A-Za-z]\\w*$"),
        ));
    }
    let title = opt_string(body, "title")?.unwrap_or_default();
    if !rules::is_valid_attribute_title(&title) {
        return Err(ApiError::bad_body(
            Rule::AttributeInvalidTitle,
            "/title",
            "Invalid attribute title",
            format!("{title:?} does not match ^[A-Za-z][A-Za-z0-9_.!~*'() -]*$"),
        ));
    }
    let ty_v = &body["type"];
    let ty: AttrType = serde_json::from_value(ty_v.clone()).map_err(|_| {
        ApiError::bad_body(Rule::AttributeInvalidType, "/type", "Invalid attribute type", format!("{ty_v} is not one of string, number, boolean, time, (list string), (list number), (list time), location, (list location)"))
    })?;
    let description = opt_string(body, "description")?.unwrap_or_default();
    let suggestions = match &body["suggestions"] {
        Value::Array(items) => {
            if items.len() > rules::MAX_SUGGESTIONS {
                return Err(ApiError::bad_body(
                    Rule::AttributeInvalidSuggestions,
                    "/suggestions",
                    "Too many suggestions",
                    format!("at most {} suggestions are allowed", rules::MAX_SUGGESTIONS),
                ));
            }
            items
                .iter()
                .enumerate()
                .map(|(i, s)| match s {
                    Value::String(s) if !s.is_empty() => Ok(s.clone()),
                    _ => Err(wrong_field(
                        &format!("/suggestions/{i}"),
                        "a non-empty string",
                        s,
                    )),
                })
                .collect::<Res<Vec<String>>>()?
        }
        v => return Err(not_array("/suggestions", v)),
    };
    let editable = opt_bool(body, "editable")?.unwrap_or(true);
    let event_type = opt_string(body, "eventType")?;
    let subs = match body.get("subscribedApplicationsIds") {
        Some(v) => int_array(v, "/subscribedApplicationsIds")?,
        None => Vec::new(),
    };
    if let Some(v) = body.get("subscribedCatalogsIds") {
        int_array(v, "/subscribedCatalogsIds")?;
    }
    if let Some(v) = body.get("allowedSubscriptions") {
        let ok = v.as_array().is_some_and(|a| {
            a.len() <= 2
                && a.iter().all(|x| {
                    x.as_str()
                        .is_some_and(|s| s == "application" || s == "catalog")
                })
        });
        if !ok {
            return Err(wrong_field(
                "/allowedSubscriptions",
                "at most 2 of \"application\", \"catalog\"",
                v,
            ));
        }
    }
    Ok(Attribute {
        id: 0,
        created: String::new(),
        account_id: 0,
        entity,
        event_type,
        name,
        title,
        ty,
        description,
        suggestions,
        has_allowed_list: opt_bool(body, "hasAllowedList")?.unwrap_or(false),
        restricted_by_suggestions: opt_bool(body, "restrictedBySuggestions")?.unwrap_or(false),
        editable,
        subscribed_applications_ids: subs,
    })
}

async fn list_attributes(State(fake): State<Fake>, _: ManagementAuth, Q(q): Q) -> Response {
    answer(fake.list_attributes(&q))
}

async fn create_attribute(
    State(fake): State<Fake>,
    _: ManagementAuth,
    TalonJson(body): TalonJson,
) -> Response {
    answer(fake.create_attribute(&body))
}

async fn get_attribute(State(fake): State<Fake>, _: ManagementAuth, P(id): P<i64>) -> Response {
    answer(fake.get_attribute(id))
}

async fn update_attribute(
    State(fake): State<Fake>,
    _: ManagementAuth,
    P(id): P<i64>,
    TalonJson(body): TalonJson,
) -> Response {
    answer(fake.update_attribute(id, &body))
}
