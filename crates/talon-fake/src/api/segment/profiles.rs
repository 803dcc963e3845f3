//! The relay's customer profile: `PUT /segment/v2/customer_profiles/{customerProfileId}`, what
//! the destination's current "Update customer profile" action (`updateCustomerProfileV3`) calls.
//!
//! Body `SegmentCustomerProfileV2Request`: `attributes`, `runRuleEngine` (a body field here,
//! default false), `audiencesChanges` of Talon.One's numeric audience ids. The profile is created
//! when missing; the deployment's attribute rules apply as on the Integration API, except that
//! `?skipNonExistingAttributes=true` leaves unknown attributes out instead of refusing them.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{Done, Relay, RelayError, RelayJson, RelayQ, path_id, respond, skip_flag};
use crate::body::{Obj, present};
use crate::error::ApiError;
use crate::extract::{Answer, Res};
use crate::rule::Rule;
use crate::rules;
use crate::state::{Catalog, Fake, read};
use crate::store::{self};

const PROFILE_PREFIX: &str = "/segment/v2/customer_profiles/";

pub(super) fn routes() -> Router<Fake> {
    Router::new().route(
        "/segment/v2/customer_profiles/{customerProfileId}",
        put(put_profile),
    )
}

/// The body of `PUT /segment/v2/customer_profiles/{id}` (`SegmentCustomerProfileV2Request`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProfileV2Body {
    #[serde(default, deserialize_with = "present")]
    pub(crate) attributes: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) run_rule_engine: Option<bool>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) audiences_changes: Option<Obj<AudienceIdChanges>>,
}

/// `audiencesChanges` of the relay: Talon.One audience ids (integers ≥ 1), either side
/// optional. Segment sends `{}` when no ids are mapped; accepted (chosen here: Talon.One's
/// schema lists no required side for the relay).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AudienceIdChanges {
    #[serde(default, deserialize_with = "present")]
    pub(crate) adds: Option<Vec<i64>>,
    #[serde(default, deserialize_with = "present")]
    pub(crate) deletes: Option<Vec<i64>>,
}

impl AudienceIdChanges {
    /// The ids when each is ≥ 1 (OAS `minimum: 1`) and fits the fake's ids; else 400 at the
    /// first one that does not.
    pub(crate) fn checked(&self, base: &str) -> Res<(Vec<u32>, Vec<u32>)> {
        let side = |v: &Option<Vec<i64>>, name: &str| -> Res<Vec<u32>> {
            let mut out = Vec::new();
            for (i, id) in v.iter().flatten().enumerate() {
                match u32::try_from(*id).ok().filter(|n| *n >= 1) {
                    Some(n) => out.push(n),
                    None => {
                        return Err(ApiError::bad_body(
                            Rule::BodyInvalidField,
                            &format!("{base}/{name}/{i}"),
                            "Invalid audience id",
                            format!(
                                "audience ids are Talon.One's numeric ids, integers of at least 1; got {id}"
                            ),
                        ));
                    }
                }
            }
            Ok(out)
        };
        Ok((side(&self.adds, "adds")?, side(&self.deletes, "deletes")?))
    }
}

/// Every audience id is one the deployment has; else 400 `audience.unknown` at the first one
/// that is not.
pub(crate) fn check_audiences_exist(
    cat: &Catalog,
    (adds, deletes): (&[u32], &[u32]),
    base: &str,
) -> Res<()> {
    for (list, name) in [(adds, "adds"), (deletes, "deletes")] {
        for (i, a) in list.iter().enumerate() {
            if !cat.audiences.contains_key(a) {
                return Err(ApiError::bad_body(
                    Rule::AudienceUnknown,
                    &format!("{base}/{name}/{i}"),
                    "Unknown audience",
                    format!(
                        "there is no audience with id {a}; audience changes take Talon.One's numeric audience ids"
                    ),
                ));
            }
        }
    }
    Ok(())
}

async fn put_profile(
    State(_): State<Fake>,
    relay: Relay,
    uri: Uri,
    RelayQ(q): RelayQ,
    RelayJson(body): RelayJson<ProfileV2Body>,
) -> Response {
    let done = (|| {
        let id = path_id(uri.path(), PROFILE_PREFIX, "", "customerProfileId")?;
        let skip = skip_flag(&q)?;
        // The deployment's per-profile limit on parallel updates; the relay answers it with
        // its 429 "too many parallel requests" (documented status; the deployment's own
        // answer is a 409).
        let Some(_slot) = relay.deployment.hold_profile(&id) else {
            return Ok(Err(parallel(&relay)));
        };
        Ok(Ok(relay
            .deployment
            .relay_update_profile(relay.app, &id, &body, skip)?))
    })();
    match done {
        Ok(Ok(done)) => respond(&relay, Ok(done)),
        Ok(Err(refused)) => refused.into_response(),
        Err(e) => respond(&relay, Err(e)),
    }
}

/// 429 for an update of a profile that already has as many updates in flight as the
/// deployment allows.
pub(crate) fn parallel(relay: &Relay) -> RelayError {
    RelayError::new(
        StatusCode::TOO_MANY_REQUESTS,
        Rule::RelayParallelRequests,
        "Too many requests: too many parallel requests are updating this customer profile; send them sequentially",
        relay.seq,
    )
    .at(&relay.host)
}

const EMPTY_INTEGRATION_STATE: &[u8] =
    br#"{"effects":[],"createdCoupons":[],"createdReferrals":[]}"#;

impl Fake {
    /// `PUT /segment/v2/customer_profiles/{id}` on this deployment: every check before any
    /// change, then the profile created if missing and updated.
    pub(crate) fn relay_update_profile(
        &self,
        app: usize,
        integration_id: &str,
        body: &ProfileV2Body,
        skip_unknown: bool,
    ) -> Res<Done> {
        rules::check_integration_id(integration_id).map_err(|d| {
            ApiError::bad_param(
                Rule::IntegrationIdInvalid,
                "customerProfileId",
                "Invalid customerProfileId",
                d,
            )
        })?;
        let run = body.run_rule_engine.unwrap_or(false);
        let changes = match &body.audiences_changes {
            Some(c) => c.checked("/audiencesChanges")?,
            None => (Vec::new(), Vec::new()),
        };
        let cat = read(&self.inner.catalog);
        let empty = Map::new();
        let attrs = body.attributes.as_ref().unwrap_or(&empty);
        let (mut pairs, skipped) =
            cat.validate_profile_attributes(attrs, "/attributes", skip_unknown)?;
        let mut notes = Vec::new();
        let applied = if run {
            check_audiences_exist(&cat, (&changes.0, &changes.1), "/audiencesChanges")?;
            changes
        } else {
            if !changes.0.is_empty() || !changes.1.is_empty() {
                notes.push(format!(
                    "audience changes not applied (adds {:?}, deletes {:?}): runRuleEngine is false, and Talon.One applies audience changes only when the rules run",
                    changes.0, changes.1
                ));
            }
            (Vec::new(), Vec::new())
        };
        let blob = store::encode_values(&mut pairs);
        let now = self.now();
        let mut shard = self.inner.profiles.shard(integration_id);
        let profile = self.profile_or_new(&mut shard, integration_id, || now)?;
        profile.apply(app, &blob, (&applied.0, &applied.1), now);
        Ok(Done {
            answer: Some(Answer {
                status: StatusCode::OK,
                body: axum::body::Bytes::from_static(EMPTY_INTEGRATION_STATE),
                rule: Rule::OkRelayProfileUpdated,
            }),
            skipped,
            notes,
        })
    }
}
