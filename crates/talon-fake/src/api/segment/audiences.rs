//! The relay's audiences: `POST /segment/audiences`, `PUT` and `DELETE
//! /segment/audiences/{audienceId}` (the destination's Create, Update and Delete Audience
//! actions) and the memberships of many profiles, `PUT /segment/customer_profiles/audiences`
//! (Update Multiple Customer Profiles' Audiences).
//!
//! An audience made through the relay is a Talon.One audience of integration `Segment` whose
//! `integrationId` is the Segment audience id (`audienceId`); the path's `audienceId` is that
//! id, not Talon.One's numeric one (AD §4.2, §4.7). Memberships take Talon.One's numeric ids.
//! Every check is made before any change.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use serde::{Deserialize, Serialize};

use super::profiles::check_audiences_exist;
use super::{Done, Relay, RelayError, RelayJson, SEGMENT_PLATFORM, path_id, respond};
use crate::body::{Obj, present};
use crate::error::ApiError;
use crate::extract::{Answer, Res, too_many};
use crate::rule::Rule;
use crate::rules;
use crate::state::{Catalog, Fake, read, write};
use crate::state_file::Audience;

const AUDIENCE_PREFIX: &str = "/segment/audiences/";

/// Most `adds` and `deletes` items, together, in one `PUT /segment/customer_profiles/audiences`
/// (documented: "The total number of `adds` and `deletes` items should be equal to or less than
/// `1000`").
pub(crate) const MAX_MEMBERSHIP_CHANGES: usize = 1000;

pub(super) fn routes() -> Router<Fake> {
    Router::new()
        .route("/segment/audiences", post(post_audience))
        .route(
            "/segment/audiences/{audienceId}",
            put(put_audience).delete(delete_audience),
        )
        .route(
            "/segment/customer_profiles/audiences",
            put(put_customer_audiences),
        )
}

/// The body of `POST /segment/audiences` (`CreateAndUpdateAudienceRequest`): both fields
/// required, 1 to 1000 characters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct NewSegmentAudience {
    audience_id: String,
    audience_name: String,
}

/// The body of `PUT /segment/audiences/{audienceId}`. The schema requires `audienceId` too,
/// but the destination sends only `audienceName` (AD §4.11 #2); chosen here: `audienceId` is
/// optional, and when it is given it must be the path's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SegmentAudienceName {
    #[serde(default, deserialize_with = "present")]
    audience_id: Option<String>,
    audience_name: String,
}

/// The body of `PUT /segment/customer_profiles/audiences`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SegmentCustomerAudiences {
    data: Vec<Obj<SegmentMembership>>,
}

/// One profile's audience changes, by Talon.One's numeric audience ids (either side optional).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SegmentMembership {
    customer_profile_id: String,
    #[serde(default, deserialize_with = "present")]
    adds: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "present")]
    deletes: Option<Vec<i64>>,
}

/// The answer of the create and update endpoints (`CreateAndUpdateResponse`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AudienceAnswer<'a> {
    account_id: i64,
    created: &'a str,
    id: i64,
    name: &'a str,
    integration: &'a str,
    integration_id: &'a str,
}

impl<'a> AudienceAnswer<'a> {
    fn of(a: &'a Audience) -> Self {
        Self {
            account_id: a.account_id,
            created: &a.created,
            id: a.id,
            name: &a.name,
            integration: a.integration.as_deref().unwrap_or(SEGMENT_PLATFORM),
            integration_id: a.integration_id.as_deref().unwrap_or_default(),
        }
    }
}

/// Whether an audience belongs to the Segment integration: `integration` is `Segment` in any
/// case (chosen here: the Integration API's docs spell it `segment`, the relay's `Segment`;
/// one platform either way).
pub(crate) fn is_segment_audience(a: &Audience) -> bool {
    a.integration
        .as_deref()
        .is_some_and(|i| i.eq_ignore_ascii_case(SEGMENT_PLATFORM))
}

impl Catalog {
    /// The numeric id of the Segment audience whose `integrationId` is `segment_id` (exactly:
    /// ids are case-sensitive, chosen here as for every other id).
    pub(crate) fn segment_audience(&self, segment_id: &str) -> Option<u32> {
        self.audiences
            .iter()
            .find(|(_, a)| {
                is_segment_audience(a) && a.integration_id.as_deref() == Some(segment_id)
            })
            .map(|(id, _)| *id)
    }
}

/// A string field of 1 to 1000 characters (`audienceId`, `audienceName`), else 400 at it.
fn check_length(v: &str, pointer: &str, field: &str) -> Res<()> {
    if !v.is_empty() && v.chars().count() <= 1000 {
        return Ok(());
    }
    Err(ApiError::bad_body(
        Rule::BodyInvalidField,
        pointer,
        &format!("Invalid {field}"),
        format!("{field} must have 1 to 1000 characters"),
    ))
}

/// The relay's documented 404 (`Not Found`) for an audience id no Segment audience has; the
/// journal's notes say which.
fn audience_not_found(relay: &Relay, segment_id: &str) -> RelayError {
    let mut e = RelayError::new(
        StatusCode::NOT_FOUND,
        Rule::AudienceNotFound,
        "Not Found",
        relay.seq,
    )
    .at(&relay.host);
    e.entry.notes.push(format!(
        "no audience of integration Segment has integrationId {segment_id:?}"
    ));
    e
}

fn refused(relay: &Relay) -> impl Fn(ApiError) -> RelayError + '_ {
    |e| RelayError::from_deployment(e, relay.seq).at(&relay.host)
}

fn done(answer: Answer) -> Done {
    Done {
        answer: Some(answer),
        ..Done::default()
    }
}

fn finish(relay: &Relay, r: Result<Done, RelayError>) -> Response {
    match r {
        Ok(d) => respond(relay, Ok(d)),
        Err(e) => e.into_response(),
    }
}

/// `POST /segment/audiences`: a new audience of integration Segment; 409 with the documented
/// text when a Segment audience already has that `integrationId`.
fn create(relay: &Relay, body: &NewSegmentAudience) -> Result<Done, RelayError> {
    check_length(&body.audience_id, "/audienceId", "audienceId").map_err(refused(relay))?;
    check_length(&body.audience_name, "/audienceName", "audienceName").map_err(refused(relay))?;
    let fake = &relay.deployment;
    let created = fake.now_string();
    let mut cat = write(&fake.inner.catalog);
    if cat.segment_audience(&body.audience_id).is_some() {
        return Err(RelayError::new(
            StatusCode::CONFLICT,
            Rule::AudienceDuplicateIntegrationId,
            format!(
                "The audience with the ID '{}' already exists",
                body.audience_id
            ),
            relay.seq,
        )
        .at(&relay.host));
    }
    let id = cat.next_audience_id;
    cat.next_audience_id = id.saturating_add(1);
    let a = Audience {
        id: i64::from(id),
        created,
        account_id: cat.account_id,
        name: body.audience_name.clone(),
        description: None,
        sandbox: None,
        integration: Some(SEGMENT_PLATFORM.to_owned()),
        integration_id: Some(body.audience_id.clone()),
        created_in3rd_party: None,
        subscribed_applications_ids: None,
    };
    let ans = Answer::json(
        StatusCode::CREATED,
        Rule::OkRelayAudienceCreated,
        &AudienceAnswer::of(&a),
    );
    cat.audiences.insert(id, a);
    Ok(done(ans))
}

/// `PUT /segment/audiences/{audienceId}`: renames the Segment audience with that
/// `integrationId`.
fn rename(relay: &Relay, uri: &Uri, body: &SegmentAudienceName) -> Result<Done, RelayError> {
    let segment_id =
        path_id(uri.path(), AUDIENCE_PREFIX, "", "audienceId").map_err(refused(relay))?;
    if let Some(given) = &body.audience_id
        && *given != segment_id
    {
        return Err(refused(relay)(ApiError::bad_body(
            Rule::BodyInvalidField,
            "/audienceId",
            "Invalid audienceId",
            format!(
                "the body's audienceId {given:?} is not the path's {segment_id:?}; the integration id of an audience cannot be changed"
            ),
        )));
    }
    check_length(&body.audience_name, "/audienceName", "audienceName").map_err(refused(relay))?;
    let mut cat = write(&relay.deployment.inner.catalog);
    let Some(a) = cat
        .segment_audience(&segment_id)
        .and_then(|id| cat.audiences.get_mut(&id))
    else {
        return Err(audience_not_found(relay, &segment_id));
    };
    a.name.clone_from(&body.audience_name);
    Ok(done(Answer::json(
        StatusCode::OK,
        Rule::OkRelayAudienceUpdated,
        &AudienceAnswer::of(a),
    )))
}

/// `DELETE /segment/audiences/{audienceId}`: the Segment audience with that `integrationId`
/// and every membership of it (documented), through the Integration API's own delete.
fn remove(relay: &Relay, uri: &Uri) -> Result<Done, RelayError> {
    let segment_id =
        path_id(uri.path(), AUDIENCE_PREFIX, "", "audienceId").map_err(refused(relay))?;
    let found = read(&relay.deployment.inner.catalog).segment_audience(&segment_id);
    let Some(id) = found else {
        return Err(audience_not_found(relay, &segment_id));
    };
    match relay.deployment.delete_audience(i64::from(id)) {
        Ok(_) => Ok(done(Answer::no_content(Rule::OkRelayAudienceDeleted))),
        // Deleted by a request in between: gone either way.
        Err(_) => Err(audience_not_found(relay, &segment_id)),
    }
}

impl Fake {
    /// `PUT /segment/customer_profiles/audiences`: every item checked (profile id, audience
    /// ids ≥ 1 and existing, at most 1000 changes in all) before any change; then each
    /// profile, created when missing (not attached to an application, as the Integration
    /// API's audience actions do), joins its `adds` and leaves its `deletes`, in that order.
    pub(crate) fn relay_update_customer_audiences(
        &self,
        body: &SegmentCustomerAudiences,
    ) -> Res<Answer> {
        let total: usize = body
            .data
            .iter()
            .map(|m| m.adds.as_ref().map_or(0, Vec::len) + m.deletes.as_ref().map_or(0, Vec::len))
            .sum();
        too_many(
            total,
            MAX_MEMBERSHIP_CHANGES,
            Rule::BatchTooManyAudienceActions,
            "/data",
            ("Too many audience changes", "adds and deletes"),
        )?;
        let cat = read(&self.inner.catalog);
        let mut changes = Vec::with_capacity(body.data.len());
        for (i, m) in body.data.iter().enumerate() {
            let base = format!("/data/{i}");
            rules::check_integration_id(&m.customer_profile_id).map_err(|d| {
                ApiError::bad_body(
                    Rule::IntegrationIdInvalid,
                    &format!("{base}/customerProfileId"),
                    "Invalid customerProfileId",
                    d,
                )
            })?;
            let ids = super::profiles::AudienceIdChanges {
                adds: m.adds.clone(),
                deletes: m.deletes.clone(),
            }
            .checked(&base)?;
            check_audiences_exist(&cat, (&ids.0, &ids.1), &base)?;
            changes.push((m.customer_profile_id.as_str(), ids));
        }
        drop(cat);
        for (iid, (adds, deletes)) in changes {
            let mut shard = self.inner.profiles.shard(iid);
            let p = self.profile_or_new(&mut shard, iid, || self.now())?;
            for a in adds {
                p.set_audience(a, true);
            }
            for a in deletes {
                p.set_audience(a, false);
            }
        }
        Ok(Answer::no_content(Rule::OkRelayCustomerAudiencesUpdated))
    }
}

async fn post_audience(
    State(_): State<Fake>,
    relay: Relay,
    RelayJson(body): RelayJson<NewSegmentAudience>,
) -> Response {
    finish(&relay, create(&relay, &body))
}

async fn put_audience(
    State(_): State<Fake>,
    relay: Relay,
    uri: Uri,
    RelayJson(body): RelayJson<SegmentAudienceName>,
) -> Response {
    finish(&relay, rename(&relay, &uri, &body))
}

async fn delete_audience(State(_): State<Fake>, relay: Relay, uri: Uri) -> Response {
    finish(&relay, remove(&relay, &uri))
}

async fn put_customer_audiences(
    State(_): State<Fake>,
    relay: Relay,
    RelayJson(body): RelayJson<SegmentCustomerAudiences>,
) -> Response {
    let done = relay
        .deployment
        .relay_update_customer_audiences(&body)
        .map(done);
    respond(&relay, done)
}
