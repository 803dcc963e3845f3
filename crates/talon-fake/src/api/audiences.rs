//! Audiences: Engage audiences as Talon.One audiences (`POST /v2/audiences`, `PUT` and `DELETE
//! /v2/audiences/{audienceId}`, `DELETE …/memberships`), memberships (`POST
//! /v2/customer_audiences`), members' attributes (`PUT
//! /v2/audience_customers/{audienceId}/attributes`) and the Management list `GET /v1/audiences`.

use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{delete, get, post, put};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::auth::{IntegrationAuth, ManagementAuth};
use crate::body::{Obj, TalonJson, present};
use crate::error::ApiError;
use crate::extract::{Answer, P, Page, Q, Res, answer, too_many};
use crate::rule::Rule;
use crate::rules;
use crate::state::{Fake, read, write};
use crate::state_file::Audience;
use crate::store::{self, Profile};

pub(super) fn routes() -> Router<Fake> {
    Router::new()
        .route("/v2/customer_audiences", post(post_customer_audiences))
        .route("/v2/audiences", post(post_audience))
        .route(
            "/v2/audiences/{audienceId}",
            put(put_audience).delete(delete_audience),
        )
        .route(
            "/v2/audiences/{audienceId}/memberships",
            delete(delete_memberships),
        )
        .route(
            "/v2/audience_customers/{audienceId}/attributes",
            put(put_audience_customers),
        )
        .route("/v1/audiences", get(list_audiences))
}

impl Fake {
    /// `POST /v2/customer_audiences`.
    pub(crate) fn update_customer_audiences(&self, body: &CustomerAudiences) -> Res<Answer> {
        let items = &body.data;
        too_many(
            items.len(),
            rules::MAX_AUDIENCE_ACTIONS,
            Rule::BatchTooManyAudienceActions,
            "/data",
            ("Too many audience actions", "actions"),
        )?;
        let cat = read(&self.inner.catalog);
        let mut actions = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let base = format!("/data/{i}");
            let add = match &item.action {
                Value::String(s) if s == "add" => true,
                Value::String(s) if s == "delete" => false,
                v => {
                    return Err(ApiError::bad_body(
                        Rule::BodyInvalidField,
                        &format!("{base}/action"),
                        "Invalid action",
                        format!("expected \"add\" or \"delete\", got {v}"),
                    ));
                }
            };
            let iid = item.profile_integration_id.as_str();
            rules::check_integration_id(iid).map_err(|d| {
                ApiError::bad_body(
                    Rule::IntegrationIdInvalid,
                    &format!("{base}/profileIntegrationId"),
                    "Invalid profileIntegrationId",
                    d,
                )
            })?;
            let aid = item.audience_id;
            let Some(aid) = u32::try_from(aid)
                .ok()
                .filter(|a| cat.audiences.contains_key(a))
            else {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    Rule::AudienceUnknown,
                    "Audience not found",
                )
                .pointer(
                    format!("{base}/audienceId"),
                    "Not found",
                    format!("there is no audience with id {aid}"),
                ));
            };
            actions.push((add, iid, aid));
        }
        for (add, iid, aid) in actions {
            let mut shard = self.inner.profiles.shard(iid);
            if add && !shard.contains_key(iid) {
                // Created, but not attached to any application (invisible in the Customers tab).
                let id = self.inner.next_profile_id.fetch_add(1, Ordering::Relaxed);
                shard.insert(iid.into(), Profile::new(id, self.now()));
            }
            if let Some(p) = shard.get_mut(iid) {
                p.set_audience(aid, add);
            }
        }
        Ok(Answer::no_content(Rule::OkCustomerAudiencesUpdated))
    }

    /// `POST /v2/audiences`.
    pub(crate) fn create_audience(&self, body: NewAudience) -> Res<Answer> {
        let NewAudience {
            name,
            sandbox,
            description,
            subscribed_applications_ids: subs,
            integration,
            integration_id,
            created_in3rd_party: created3,
            last_update,
        } = body;
        check_audience_name(&name)?;
        if let Some(i) = &integration_id
            && (i.is_empty() || i.chars().count() > 1000)
        {
            return Err(ApiError::bad_body(
                Rule::BodyInvalidField,
                "/integrationId",
                "Invalid integrationId",
                "integrationId must have 1 to 1000 characters".into(),
            ));
        }
        if let Some(t) = &last_update
            && !rules::is_rfc3339(t)
        {
            return Err(ApiError::bad_body(
                Rule::BodyInvalidField,
                "/lastUpdate",
                "Invalid field type",
                format!("/lastUpdate must be an RFC 3339 date-time string, got {t:?}"),
            ));
        }
        let created = self.now_string();
        let mut cat = write(&self.inner.catalog);
        if let Some(subs) = &subs {
            cat.check_subscribed_applications(subs)?;
        }
        if let Some(iid) = &integration_id
            && cat
                .audiences
                .values()
                .any(|a| a.integration_id.as_ref() == Some(iid) && a.integration == integration)
        {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                Rule::AudienceDuplicateIntegrationId,
                "An audience with this ID already exists for this integration",
            )
            .pointer(
                "/integrationId",
                "Conflict",
                format!(
                    "an audience with integrationId {iid:?} already exists for this integration"
                ),
            ));
        }
        let id = cat.next_audience_id;
        cat.next_audience_id = id.saturating_add(1);
        let a = Audience {
            id: i64::from(id),
            created,
            account_id: cat.account_id,
            name,
            description,
            sandbox,
            integration,
            integration_id,
            created_in3rd_party: created3,
            subscribed_applications_ids: subs,
        };
        let ans = Answer::json(StatusCode::CREATED, Rule::OkAudienceCreated, &a);
        cat.audiences.insert(id, a);
        Ok(ans)
    }

    /// `PUT /v2/audiences/{audienceId}`.
    pub(crate) fn update_audience(&self, audience: i64, body: UpdateAudience) -> Res<Answer> {
        let UpdateAudience {
            name,
            subscribed_applications_ids: subs,
        } = body;
        check_audience_name(&name)?;
        let mut cat = write(&self.inner.catalog);
        if u32::try_from(audience)
            .ok()
            .is_none_or(|id| !cat.audiences.contains_key(&id))
        {
            return Err(ApiError::not_found(
                Rule::AudienceNotFound,
                "audienceId",
                "audience",
            ));
        }
        if let Some(subs) = &subs {
            cat.check_subscribed_applications(subs)?;
        }
        let a = u32::try_from(audience)
            .ok()
            .and_then(|id| cat.audiences.get_mut(&id))
            .ok_or_else(|| ApiError::not_found(Rule::AudienceNotFound, "audienceId", "audience"))?;
        a.name = name;
        if subs.is_some() {
            a.subscribed_applications_ids = subs;
        }
        Ok(Answer::json(StatusCode::OK, Rule::OkAudienceUpdated, a))
    }

    /// `DELETE /v2/audiences/{audienceId}` (also removes every membership).
    pub(crate) fn delete_audience(&self, audience: i64) -> Res<Answer> {
        let mut cat = write(&self.inner.catalog);
        let id = u32::try_from(audience)
            .ok()
            .filter(|id| cat.audiences.contains_key(id))
            .ok_or_else(|| ApiError::not_found(Rule::AudienceNotFound, "audienceId", "audience"))?;
        cat.audiences.remove(&id);
        self.remove_members(id);
        Ok(Answer::no_content(Rule::OkAudienceDeleted))
    }

    /// `DELETE /v2/audiences/{audienceId}/memberships`.
    pub(crate) fn delete_memberships(&self, audience: i64) -> Res<Answer> {
        let cat = read(&self.inner.catalog);
        let id = u32::try_from(audience)
            .ok()
            .filter(|id| cat.audiences.contains_key(id))
            .ok_or_else(|| ApiError::not_found(Rule::AudienceNotFound, "audienceId", "audience"))?;
        self.remove_members(id);
        Ok(Answer::no_content(Rule::OkMembershipsDeleted))
    }

    fn remove_members(&self, id: u32) {
        self.inner.profiles.for_each_shard(|s| {
            // Order-independent mutation of every member.
            #[allow(clippy::iter_over_hash_type)]
            for p in s.values_mut() {
                if p.is_member(id) {
                    p.set_audience(id, false);
                }
            }
        });
    }

    /// `PUT /v2/audience_customers/{audienceId}/attributes`.
    pub(crate) fn update_audience_customers(
        &self,
        audience: i64,
        body: &Map<String, Value>,
    ) -> Res<Answer> {
        let cat = read(&self.inner.catalog);
        let id = u32::try_from(audience)
            .ok()
            .filter(|id| cat.audiences.contains_key(id))
            .ok_or_else(|| ApiError::not_found(Rule::AudienceNotFound, "audienceId", "audience"))?;
        let mut pairs = cat.validate_attributes(body, "")?;
        let blob = store::encode_values(&mut pairs);
        let now = self.now();
        self.inner.profiles.for_each_shard(|s| {
            // Order-independent mutation of every member.
            #[allow(clippy::iter_over_hash_type)]
            for p in s.values_mut() {
                if p.is_member(id) {
                    p.attrs = store::merge_blobs(&p.attrs, &blob);
                    p.last_activity = now;
                }
            }
        });
        Ok(Answer::no_content(Rule::OkAudienceCustomersUpdated))
    }

    // ---------------------------------------------------------------- management API

    /// `GET /v1/audiences`.
    pub(crate) fn list_audiences(&self, q: &[(String, String)]) -> Res<Answer> {
        let page = Page::parse(q)?;
        let cat = read(&self.inner.catalog);
        let all: Vec<&Audience> = cat.audiences.values().collect();
        Ok(Answer::json(
            StatusCode::OK,
            Rule::OkAudiencesListed,
            &page.wrap(&all),
        ))
    }
}

pub(crate) fn display_opt(a: Option<u32>) -> String {
    a.map_or_else(|| "(out of range)".to_owned(), |a| a.to_string())
}

/// Audience ids of a request; `None` for ids that cannot exist (negative or too large).
pub(crate) type AudienceIds = Vec<Option<u32>>;

/// `audiencesChanges`: an object with both `adds` and `deletes`, arrays of integers.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AudiencesChanges {
    adds: Vec<i64>,
    deletes: Vec<i64>,
}

impl AudiencesChanges {
    /// The ids; those that do not fit a `u32` are `None` (reported as unknown audiences).
    pub(crate) fn ids(&self) -> (AudienceIds, AudienceIds) {
        let ids = |v: &[i64]| v.iter().map(|x| u32::try_from(*x).ok()).collect();
        (ids(&self.adds), ids(&self.deletes))
    }
}

/// An audience's `name`: 1 to 1000 characters.
fn check_audience_name(name: &str) -> Res<()> {
    if !name.is_empty() && name.chars().count() <= 1000 {
        return Ok(());
    }
    Err(ApiError::bad_body(
        Rule::BodyInvalidField,
        "/name",
        "Invalid name",
        "name must have 1 to 1000 characters".into(),
    ))
}

/// The body of `POST /v2/customer_audiences` (`CustomerProfileAudienceRequest`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerAudiences {
    data: Vec<Obj<AudienceAction>>,
}

/// One item of [`CustomerAudiences`]; `action` is checked by the rule (its own title).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AudienceAction {
    action: Value,
    profile_integration_id: String,
    audience_id: i64,
}

/// The body of `POST /v2/audiences` (`NewAudience`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewAudience {
    name: String,
    #[serde(default, deserialize_with = "present")]
    sandbox: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    subscribed_applications_ids: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "present")]
    integration: Option<String>,
    #[serde(default, deserialize_with = "present")]
    integration_id: Option<String>,
    #[serde(default, deserialize_with = "present", rename = "createdIn3rdParty")]
    created_in3rd_party: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    last_update: Option<String>,
}

/// The body of `PUT /v2/audiences/{audienceId}` (`UpdateAudience`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct UpdateAudience {
    name: String,
    #[serde(default, deserialize_with = "present")]
    subscribed_applications_ids: Option<Vec<i64>>,
}

async fn post_customer_audiences(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    TalonJson(body): TalonJson<CustomerAudiences>,
) -> Response {
    answer(fake.update_customer_audiences(&body))
}

async fn post_audience(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    TalonJson(body): TalonJson<NewAudience>,
) -> Response {
    answer(fake.create_audience(body))
}

async fn put_audience(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    P(id): P<i64>,
    TalonJson(body): TalonJson<UpdateAudience>,
) -> Response {
    answer(fake.update_audience(id, body))
}

async fn delete_audience(State(fake): State<Fake>, _: IntegrationAuth, P(id): P<i64>) -> Response {
    answer(fake.delete_audience(id))
}

async fn delete_memberships(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    P(id): P<i64>,
) -> Response {
    answer(fake.delete_memberships(id))
}

async fn put_audience_customers(
    State(fake): State<Fake>,
    _: IntegrationAuth,
    P(id): P<i64>,
    TalonJson(body): TalonJson<Map<String, Value>>,
) -> Response {
    answer(fake.update_audience_customers(id, &body))
}
async fn list_audiences(State(fake): State<Fake>, _: ManagementAuth, Q(q): Q) -> Response {
    answer(fake.list_audiences(&q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_audience_name_has_1_to_1000_characters() {
        assert!(check_audience_name("a").is_ok());
        assert!(check_audience_name(&"é".repeat(1000)).is_ok());
        for bad in [String::new(), "a".repeat(1001)] {
            let e = check_audience_name(&bad).expect_err("refused");
            assert_eq!(
                (e.rule, e.errors[0].title.as_str()),
                (Rule::BodyInvalidField, "Invalid name")
            );
        }
    }

    #[test]
    fn audience_ids_that_cannot_exist_are_kept_as_none() {
        let c: AudiencesChanges =
            crate::body::parse_body(br#"{"adds":[1,4294967296],"deletes":[-3]}"#).expect("fits");
        assert_eq!(c.ids(), (vec![Some(1), None], vec![None]));
    }
}
