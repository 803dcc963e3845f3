//! Applications and their customers (Management API): `GET /v1/applications`, `GET
//! /v1/applications/{applicationId}/customers[/{customerId}]`.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::auth::ManagementAuth;
use crate::error::ApiError;
use crate::extract::{Answer, P, Page, Q, Res, answer, query};
use crate::rule::Rule;
use crate::state::{Fake, read};
use crate::state_file::Application;

pub(super) fn routes() -> Router<Fake> {
    Router::new()
        .route("/v1/applications", get(list_applications))
        .route(
            "/v1/applications/{applicationId}/customers",
            get(list_customers),
        )
        .route(
            "/v1/applications/{applicationId}/customers/{customerId}",
            get(get_customer),
        )
}

impl Fake {
    /// `GET /v1/applications`: `{totalResultSize, data}`, by id. The state
    /// holds only id and name; the other required fields are filled with
    /// fixed values (chosen here: CONTRACT.md).
    pub(crate) fn list_applications(&self, q: &[(String, String)]) -> Res<Answer> {
        let page = Page::parse(q)?;
        let cat = read(&self.inner.catalog);
        let mut apps: Vec<&Application> = cat.applications.iter().collect();
        apps.sort_by_key(|a| a.id);
        let data: Vec<Value> = apps
            .iter()
            .skip(page.skip)
            .take(page.size)
            .map(|a| {
                json!({
                    "id": a.id,
                    "created": "2024-01-01T00:00:00Z",
                    "modified": "2024-01-01T00:00:00Z",
                    "accountId": cat.account_id,
                    "name": a.name,
                    "timezone": "UTC",
                    "currency": "EUR",
                    "loyaltyPrograms": [],
                })
            })
            .collect();
        Ok(Answer::json(
            StatusCode::OK,
            Rule::OkApplicationsListed,
            &json!({"totalResultSize": apps.len(), "data": data}),
        ))
    }

    /// `GET /v1/applications/{applicationId}/customers`.
    pub(crate) fn list_customers(&self, app_id: i64, q: &[(String, String)]) -> Res<Answer> {
        let page = Page::parse(q)?;
        let cat = read(&self.inner.catalog);
        let pos = cat.app_pos(app_id).ok_or_else(|| {
            ApiError::not_found(Rule::ApplicationNotFound, "applicationId", "application")
        })?;
        let bit = 1u64 << pos;
        let mut found: Vec<(u32, Value)> = Vec::new();
        if let Some(iid) = query(q, "integrationId") {
            let shard = self.inner.profiles.shard(iid);
            if let Some(p) = shard.get(iid).filter(|p| p.apps & bit != 0) {
                found.push((p.id, cat.profile_json(iid, p)));
            }
        } else {
            let mut hits: Vec<(u32, Box<str>)> = Vec::new();
            self.inner.profiles.for_each_shard(|s| {
                hits.extend(
                    s.iter()
                        .filter(|(_, p)| p.apps & bit != 0)
                        .map(|(k, p)| (p.id, k.clone())),
                );
            });
            hits.sort();
            for (_, iid) in hits.iter().skip(page.skip).take(page.size) {
                let shard = self.inner.profiles.shard(iid);
                if let Some(p) = shard.get(iid) {
                    found.push((p.id, cat.profile_json(iid, p)));
                }
            }
            let total = hits.len();
            let data: Vec<Value> = found.into_iter().map(|(_, v)| v).collect();
            return Ok(Answer::json(
                StatusCode::OK,
                Rule::OkCustomersListed,
                &page.wrap_total(data, total),
            ));
        }
        let total = found.len();
        let data: Vec<Value> = found
            .into_iter()
            .skip(page.skip)
            .take(page.size)
            .map(|(_, v)| v)
            .collect();
        Ok(Answer::json(
            StatusCode::OK,
            Rule::OkCustomersListed,
            &page.wrap_total(data, total),
        ))
    }

    /// `GET /v1/applications/{applicationId}/customers/{customerId}`.
    pub(crate) fn get_customer(&self, app_id: i64, customer: i64) -> Res<Answer> {
        let cat = read(&self.inner.catalog);
        let pos = cat.app_pos(app_id).ok_or_else(|| {
            ApiError::not_found(Rule::ApplicationNotFound, "applicationId", "application")
        })?;
        let bit = 1u64 << pos;
        let mut out = None;
        self.inner.profiles.for_each_shard(|s| {
            if out.is_none()
                && let Some((k, p)) = s
                    .iter()
                    .find(|(_, p)| i64::from(p.id) == customer && p.apps & bit != 0)
            {
                out = Some(cat.profile_json(k, p));
            }
        });
        match out {
            Some(v) => Ok(Answer::json(StatusCode::OK, Rule::OkCustomer, &v)),
            None => Err(ApiError::not_found(
                Rule::CustomerNotFound,
                "customerId",
                "customer profile",
            )),
        }
    }
}

async fn list_applications(State(fake): State<Fake>, _: ManagementAuth, Q(q): Q) -> Response {
    answer(fake.list_applications(&q))
}

async fn list_customers(
    State(fake): State<Fake>,
    _: ManagementAuth,
    P(app): P<i64>,
    Q(q): Q,
) -> Response {
    answer(fake.list_customers(app, &q))
}

async fn get_customer(
    State(fake): State<Fake>,
    _: ManagementAuth,
    P((app, customer)): P<(i64, i64)>,
) -> Response {
    answer(fake.get_customer(app, customer))
}
