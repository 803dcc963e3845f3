//! Customer profiles: `PUT /v2/customer_profiles/{integrationId}` (the hot path) and
//! `PUT /v2/customer_profiles` (the batch), and the profile reads [`Fake::profile`] and
//! [`Fake::upsert_profile`].

use std::sync::atomic::Ordering;

use axum::Router;
use axum::extract::{Extension, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::audiences::{AudiencesChanges, display_opt};
use super::auth::IntegrationAuth;
use crate::body::{Obj, TalonJson, present};
use crate::error::ApiError;
use crate::extract::{
    Answer, Q, Res, answer, bool_param, decode_path_segment, internal, invalid_path_param, query,
    too_many,
};
use crate::faults::PROFILE_PREFIX;
use crate::pipeline::{HoldLate, defer};
use crate::rule::Rule;
use crate::rules;
use crate::state::{Fake, read};
use crate::store::{self, Profile};

pub(super) fn routes() -> Router<Fake> {
    Router::new()
        .route("/v2/customer_profiles/{integrationId}", put(put_profile))
        .route("/v2/customer_profiles", put(put_profiles))
}

impl Fake {
    /// The profile `integration_id` of `shard`, created with the next profile id (at the time
    /// `now` gives, asked only then) when it is missing. Its key is allocated only for a new
    /// profile, so an update of a stored one allocates nothing here.
    pub(crate) fn profile_or_new<'s>(
        &self,
        shard: &'s mut store::Shard,
        integration_id: &str,
        now: impl FnOnce() -> i64,
    ) -> Res<&'s mut Profile> {
        if !shard.contains_key(integration_id) {
            let id = self.inner.next_profile_id.fetch_add(1, Ordering::Relaxed);
            shard.insert(integration_id.into(), Profile::new(id, now()));
        }
        shard.get_mut(integration_id).ok_or_else(internal)
    }

    /// A profile as the API shows it (`CustomerProfile`), or `None`.
    pub fn profile(&self, integration_id: &str) -> Option<Value> {
        let cat = read(&self.inner.catalog);
        let shard = self.inner.profiles.shard(integration_id);
        shard
            .get(integration_id)
            .map(|p| cat.profile_json(integration_id, p))
    }

    /// Sets attributes on a profile as `PUT /v2/customer_profiles/{id}` would for the given
    /// application, with every rule enforced (seeding and benchmarks, without HTTP).
    pub fn upsert_profile(
        &self,
        application_id: i64,
        integration_id: &str,
        attributes: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        let app = read(&self.inner.catalog)
            .app_pos(application_id)
            .ok_or_else(|| {
                ApiError::not_found(Rule::ApplicationNotFound, "applicationId", "application")
            })?;
        let body = ProfileBody {
            attributes: Some(attributes.clone()),
            ..ProfileBody::default()
        };
        self.update_profile(app, integration_id, &body, false, false)
            .map(|_| ())
    }

    // ---------------------------------------------------------------- integration API

    /// `PUT /v2/customer_profiles/{integrationId}`.
    pub(crate) fn update_profile(
        &self,
        app: usize,
        integration_id: &str,
        body: &ProfileBody,
        run_rule_engine: bool,
        dry: bool,
    ) -> Res<Answer> {
        rules::check_integration_id(integration_id).map_err(|d| {
            ApiError::bad_param(
                Rule::IntegrationIdInvalid,
                "integrationId",
                "Invalid integrationId",
                d,
            )
        })?;
        let attrs = body.attributes.as_ref();
        let mut want_profile = false;
        let mut want_lists: Vec<&'static str> = Vec::new();
        if let Some(items) = &body.response_content {
            for (i, item) in items.iter().enumerate() {
                let s = item.as_str().unwrap_or("");
                match s {
                    "customerProfile" => want_profile = true,
                    "triggeredCampaigns" => want_lists.push("triggeredCampaigns"),
                    "ruleFailureReasons" => want_lists.push("ruleFailureReasons"),
                    "awardedGiveaways" => want_lists.push("awardedGiveaways"),
                    "loyalty" | "event" | "campaignEligibility" => {}
                    _ => {
                        return Err(ApiError::bad_body(
                            Rule::BodyInvalidField,
                            &format!("/responseContent/{i}"),
                            "Invalid responseContent value",
                            format!(
                                "expected one of customerProfile, triggeredCampaigns, loyalty, event, awardedGiveaways, ruleFailureReasons, campaignEligibility; got {item}"
                            ),
                        ));
                    }
                }
            }
            if !items.is_empty() && !run_rule_engine {
                return Err(ApiError::bad_body(
                    Rule::ResponseContentRequiresRuleEngine,
                    "/responseContent",
                    "responseContent requires runRuleEngine=true",
                    "responseContent can only be used when the runRuleEngine query parameter is true".into(),
                ));
            }
        }
        let changes = body.audiences_changes.as_ref().map(|c| c.ids());
        let cat = read(&self.inner.catalog);
        let mut pairs = match attrs {
            Some(m) => cat.validate_attributes(m, "/attributes")?,
            None => Vec::new(),
        };
        if let Some((adds, deletes)) = &changes {
            for (list, name) in [(adds, "adds"), (deletes, "deletes")] {
                for (i, a) in list.iter().enumerate() {
                    if !a.is_some_and(|a| cat.audiences.contains_key(&a)) {
                        return Err(ApiError::bad_body(
                            Rule::AudienceUnknown,
                            &format!("/audiencesChanges/{name}/{i}"),
                            "Unknown audience",
                            format!("there is no audience with id {}", display_opt(*a)),
                        ));
                    }
                }
            }
        }
        let new_blob = store::encode_values(&mut pairs);
        let persist = !(dry && run_rule_engine);
        let now = self.now();
        let mut shard = self.inner.profiles.shard(integration_id);
        let mut scratch;
        let profile: &mut Profile = if persist {
            self.profile_or_new(&mut shard, integration_id, || now)?
        } else {
            scratch = shard.get(integration_id).cloned().unwrap_or_else(|| {
                Profile::new(self.inner.next_profile_id.load(Ordering::Relaxed), now)
            });
            &mut scratch
        };
        // Audience changes are applied only when the Rule Engine runs (inferred from the
        // Third-party API docs: "If false … Audience changes are not applied").
        let (adds, deletes): (Vec<u32>, Vec<u32>) = match &changes {
            Some((adds, deletes)) if run_rule_engine => (
                adds.iter().flatten().copied().collect(),
                deletes.iter().flatten().copied().collect(),
            ),
            _ => (Vec::new(), Vec::new()),
        };
        profile.apply(app, &new_blob, (&adds, &deletes), now);
        if !want_profile && want_lists.is_empty() {
            return Ok(Answer {
                status: StatusCode::OK,
                body: axum::body::Bytes::from_static(EMPTY_INTEGRATION_STATE),
                rule: if persist {
                    Rule::OkProfileUpdated
                } else {
                    Rule::OkProfileDryRun
                },
            });
        }
        let mut out = json!({"effects": [], "createdCoupons": [], "createdReferrals": []});
        if want_profile {
            out["customerProfile"] = cat.profile_json(integration_id, profile);
        }
        for l in want_lists {
            out[l] = json!([]);
        }
        Ok(Answer::json(
            StatusCode::OK,
            if persist {
                Rule::OkProfileUpdated
            } else {
                Rule::OkProfileDryRun
            },
            &out,
        ))
    }

    /// `PUT /v2/customer_profiles?silent=yes|no`.
    pub(crate) fn update_profiles(
        &self,
        app: usize,
        body: &BatchBody,
        silent: bool,
    ) -> Res<Answer> {
        let items = body.customer_profiles.as_deref().unwrap_or_default();
        too_many(
            items.len(),
            rules::MAX_BATCH_PROFILES,
            Rule::BatchTooManyProfiles,
            "/customerProfiles",
            ("Too many customer profiles", "profiles"),
        )?;
        let cat = read(&self.inner.catalog);
        let mut parsed = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let base = format!("/customerProfiles/{i}");
            let iid = item.integration_id.as_str();
            rules::check_integration_id(iid).map_err(|d| {
                ApiError::bad_body(
                    Rule::IntegrationIdInvalid,
                    &format!("{base}/integrationId"),
                    "Invalid integrationId",
                    d,
                )
            })?;
            let pairs = match &item.attributes {
                None => Vec::new(),
                Some(a) => cat.validate_attributes(a, &format!("{base}/attributes"))?,
            };
            parsed.push((iid, pairs));
        }
        let mut states = Vec::new();
        for (iid, mut pairs) in parsed {
            let blob = store::encode_values(&mut pairs);
            let now = self.now();
            let mut shard = self.inner.profiles.shard(iid);
            let p = self.profile_or_new(&mut shard, iid, || now)?;
            p.apply(app, &blob, (&[], &[]), now);
            if !silent {
                states.push(json!({"customerProfile": cat.profile_json(iid, p)}));
            }
        }
        if silent {
            Ok(Answer::no_content(Rule::OkProfilesUpdated))
        } else {
            Ok(Answer::json(
                StatusCode::OK,
                Rule::OkProfilesUpdated,
                &json!({"integrationStates": states}),
            ))
        }
    }
}

const EMPTY_INTEGRATION_STATE: &[u8] =
    br#"{"effects":[],"createdCoupons":[],"createdReferrals":[]}"#;

/// `PUT /v2/customer_profiles/{integrationId}`: the hot path, through the same pipeline and
/// extractors as every other route.
async fn put_profile(
    State(fake): State<Fake>,
    IntegrationAuth(app): IntegrationAuth,
    ProfilePath(integration_id): ProfilePath,
    Q(q): Q,
    hold: Option<Extension<HoldLate>>,
    TalonJson(body): TalonJson<ProfileBody>,
) -> Response {
    let (run, dry) = match (bool_param(&q, "runRuleEngine"), bool_param(&q, "dry")) {
        (Ok(run), Ok(dry)) => (run, dry),
        (Err(e), _) | (_, Err(e)) => return e.into_response(),
    };
    let update = Update {
        app,
        integration_id,
        body,
        run,
        dry,
    };
    if hold.is_some() {
        return defer(move |fake| update.apply(fake));
    }
    answer(update.apply(&fake))
}

/// The decoded integration id of `/v2/customer_profiles/{integrationId}`, strictly
/// percent-decoded ([`decode_path_segment`]); 400 `path.invalid` naming `integrationId`.
struct ProfilePath(String);

impl FromRequestParts<Fake> for ProfilePath {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &Fake) -> Result<Self, ApiError> {
        let raw = parts
            .uri
            .path()
            .strip_prefix(PROFILE_PREFIX)
            .unwrap_or_default();
        match decode_path_segment(raw) {
            Ok(id) if !id.is_empty() => Ok(Self(id)),
            Ok(_) => Err(invalid_path_param(
                "integrationId",
                "the integration id is empty".to_owned(),
            )),
            Err(why) => Err(invalid_path_param("integrationId", why)),
        }
    }
}

/// The integration id whose in-flight slot a request takes: that of a
/// `PUT /v2/customer_profiles/{id}` whose id is strictly percent-encoded UTF-8, else `None`.
pub(crate) fn profile_id_of(method: &Method, path: &str) -> Option<String> {
    if method != Method::PUT {
        return None;
    }
    let raw = path.strip_prefix(PROFILE_PREFIX)?;
    if raw.is_empty() || raw.contains('/') {
        return None;
    }
    decode_path_segment(raw).ok()
}

/// The body of `PUT /v2/customer_profiles/{integrationId}` (`CustomerProfileIntegrationRequestV2`).
///
/// `attributes` stays a map of JSON values: their names and types are the catalog's to check
/// ([`crate::state::Catalog::validate_attributes`]), and every problem in it is reported at once.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProfileBody {
    #[serde(default, deserialize_with = "present")]
    attributes: Option<Map<String, Value>>,
    /// Read for its type only: the fake runs no campaigns.
    #[serde(default, deserialize_with = "present")]
    #[allow(dead_code)]
    evaluable_campaign_ids: Option<Vec<i64>>,
    /// Strings, checked by the rule (its own title and the item's pointer).
    #[serde(default, deserialize_with = "present")]
    response_content: Option<Vec<Value>>,
    #[serde(default, deserialize_with = "present")]
    audiences_changes: Option<Obj<AudiencesChanges>>,
}

/// The body of `PUT /v2/customer_profiles` (`MultipleCustomerProfileIntegrationRequest`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct BatchBody {
    #[serde(default, deserialize_with = "present")]
    customer_profiles: Option<Vec<Obj<BatchProfile>>>,
}

/// One item of [`BatchBody`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BatchProfile {
    integration_id: String,
    #[serde(default, deserialize_with = "present")]
    attributes: Option<Map<String, Value>>,
}

/// A parsed, authorised profile update, ready for [`Fake::update_profile`].
#[derive(Debug)]
struct Update {
    app: usize,
    integration_id: String,
    body: ProfileBody,
    run: bool,
    dry: bool,
}

impl Update {
    fn apply(&self, fake: &Fake) -> Res<Answer> {
        fake.update_profile(
            self.app,
            &self.integration_id,
            &self.body,
            self.run,
            self.dry,
        )
    }
}

async fn put_profiles(
    State(fake): State<Fake>,
    IntegrationAuth(app): IntegrationAuth,
    Q(q): Q,
    TalonJson(body): TalonJson<BatchBody>,
) -> Response {
    answer((|| {
        let silent = match query(&q, "silent") {
            None | Some("yes") => true,
            Some("no") => false,
            Some(s) => {
                return Err(ApiError::bad_param(
                    Rule::QueryInvalid,
                    "silent",
                    "Invalid query parameter",
                    format!("silent must be yes or no, got {s:?}"),
                ));
            }
        };
        fake.update_profiles(app, &body, silent)
    })())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_put_of_one_strictly_encoded_id_takes_a_profile_slot() {
        let put = Method::PUT;
        assert_eq!(
            profile_id_of(&put, "/v2/customer_profiles/a%20b").as_deref(),
            Some("a b")
        );
        assert_eq!(
            profile_id_of(&Method::GET, "/v2/customer_profiles/u1"),
            None
        );
        for path in [
            "/v2/customer_profiles",
            "/v2/customer_profiles/",
            "/v2/customer_profiles/u1/x",
            "/v2/customer_profiles/coll%FFx",
            "/v2/customer_profiles/%G1",
        ] {
            assert_eq!(profile_id_of(&put, path), None, "{path}");
        }
    }

    #[test]
    fn a_profile_body_reads_its_fields_and_refuses_null_for_attributes() {
        let body: ProfileBody = crate::body::parse_body(
            br#"{"attributes":{"plan":"gold"},"audiencesChanges":{"adds":[1],"deletes":[-1]}}"#,
        )
        .expect("fits");
        assert_eq!(body.attributes.map(|a| a.len()), Some(1));
        let (adds, deletes) = body.audiences_changes.expect("changes").ids();
        assert_eq!((adds, deletes), (vec![Some(1)], vec![None]));
        let e = crate::body::parse_body::<ProfileBody>(br#"{"attributes":null}"#)
            .expect_err("null is refused");
        assert_eq!(e.rule, Rule::BodyInvalidField);
    }
}
