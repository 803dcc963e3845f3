//! Auth: `Authorization: ApiKey-v1 <key>` opens the Integration API (`/v2/…`) for the key's
//! application, `ManagementKey-v1 <key>` the Management API (`/v1/…`); `GET /v2/authping`.
//!
//! The rules are plain functions over the [`Catalog`]; the extractors [`IntegrationAuth`] and
//! [`ManagementAuth`] apply them, first in every handler's signature.

use axum::Router;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;

use crate::error::ApiError;
use crate::extract::{Answer, Res, answer};
use crate::rule::Rule;
use crate::state::{Catalog, Fake, read};

pub(super) fn routes() -> Router<Fake> {
    Router::new().route("/v2/authping", get(authping))
}

/// `GET /v2/authping`: 204 for an Integration API key, or for a third-party key made for
/// Segment, which the Actions destination's `testAuthentication` sends here with a
/// `destination-hostname` header (inferred: that key is the destination's only credential).
/// With that header, the key is checked in the deployment it names (the fake stands in for
/// every deployment of its state file on one address); an unknown one is 404.
async fn authping(State(fake): State<Fake>, parts: Parts) -> Response {
    answer(authping_rule(&fake, &parts))
}

fn authping_rule(fake: &Fake, parts: &Parts) -> Res<Answer> {
    let deployment = match parts
        .headers
        .get(&crate::api::segment::DESTINATION_HOSTNAME)
    {
        None => fake.clone(),
        Some(v) => {
            let host = v
                .to_str()
                .map_err(|_| "the header is not visible ASCII".to_owned())
                .and_then(crate::api::segment::normalize_hostname)
                .map_err(|why| {
                    ApiError::bad_param(
                        Rule::RelayDeploymentInvalid,
                        "destination-hostname",
                        "Invalid deployment",
                        why,
                    )
                })?;
            fake.deployment(&host).ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    Rule::RelayDeploymentUnknown,
                    "Unknown deployment",
                )
                .parameter(
                    "destination-hostname",
                    "Unknown deployment",
                    format!("no deployment answers to {host:?}"),
                )
            })?
        }
    };
    let cat = read(&deployment.inner.catalog);
    let h = parts.headers.get(header::AUTHORIZATION);
    if let Ok(("ApiKey-v1", key)) = split_auth(h)
        && crate::api::segment::is_segment_key(&cat, key).is_some()
    {
        return Ok(Answer::no_content(Rule::OkAuthping));
    }
    integration_app(&cat, h).map(|_| Answer::no_content(Rule::OkAuthping))
}

/// Integration API auth; yields the position of the key's application.
pub(crate) struct IntegrationAuth(pub(crate) usize);

impl FromRequestParts<Fake> for IntegrationAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, fake: &Fake) -> Result<Self, ApiError> {
        let cat = read(&fake.inner.catalog);
        integration_app(&cat, parts.headers.get(header::AUTHORIZATION)).map(Self)
    }
}

/// Management API auth.
pub(crate) struct ManagementAuth;

impl FromRequestParts<Fake> for ManagementAuth {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, fake: &Fake) -> Result<Self, ApiError> {
        let cat = read(&fake.inner.catalog);
        management(&cat, parts.headers.get(header::AUTHORIZATION)).map(|()| Self)
    }
}

/// Checks `Authorization: ApiKey-v1 <key>`; returns the application position.
pub(crate) fn integration_app(cat: &Catalog, h: Option<&HeaderValue>) -> Res<usize> {
    let (scheme, key) = split_auth(h)?;
    if scheme != "ApiKey-v1" {
        return Err(if scheme == "ManagementKey-v1" {
            unauthorized(
                Rule::AuthWrongKind,
                "a Management API key does not open the Integration API",
            )
        } else {
            unauthorized(
                Rule::AuthMalformed,
                "expected \"Authorization: ApiKey-v1 <key>\"",
            )
        });
    }
    match cat.integration_keys.get(key) {
        Some(pos) => Ok(*pos),
        None if cat.management_keys.contains(key) => Err(unauthorized(
            Rule::AuthWrongKind,
            "a Management API key does not open the Integration API",
        )),
        None if cat.third_party_keys.contains_key(key) => Err(unauthorized(
            Rule::AuthWrongKind,
            "a third-party key opens only its platform's endpoints (for Segment: /segment/… at integration.talon.one), not the Integration API",
        )),
        None => Err(unauthorized(Rule::AuthUnknownKey, "unknown API key")),
    }
}

/// Checks `Authorization: ManagementKey-v1 <key>`.
pub(crate) fn management(cat: &Catalog, h: Option<&HeaderValue>) -> Res<()> {
    let (scheme, key) = split_auth(h)?;
    if scheme != "ManagementKey-v1" {
        return Err(if scheme == "ApiKey-v1" {
            unauthorized(
                Rule::AuthWrongKind,
                "an Integration API key does not open the Management API",
            )
        } else {
            unauthorized(
                Rule::AuthMalformed,
                "expected \"Authorization: ManagementKey-v1 <key>\"",
            )
        });
    }
    if cat.management_keys.contains(key) {
        Ok(())
    } else if cat.integration_keys.contains_key(key) || cat.third_party_keys.contains_key(key) {
        Err(unauthorized(
            Rule::AuthWrongKind,
            "an Integration API key does not open the Management API",
        ))
    } else {
        Err(unauthorized(
            Rule::AuthUnknownKey,
            "unknown Management API key",
        ))
    }
}

fn split_auth(h: Option<&HeaderValue>) -> Res<(&str, &str)> {
    let Some(h) = h else {
        return Err(unauthorized(
            Rule::AuthMissing,
            "the Authorization header is missing",
        ));
    };
    let s = h.to_str().map_err(|_| {
        unauthorized(
            Rule::AuthMalformed,
            "the Authorization header is not valid text",
        )
    })?;
    match s.split_once(' ') {
        Some((scheme, key)) if !key.is_empty() && !key.contains(' ') => Ok((scheme, key)),
        _ => Err(unauthorized(
            Rule::AuthMalformed,
            "expected \"Authorization: <scheme> <key>\"",
        )),
    }
}

fn unauthorized(rule: Rule, details: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, rule, "Invalid API key").parameter(
        "Authorization",
        "Invalid API key",
        details,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        let mut cat = Catalog::default();
        cat.integration_keys.insert("ikey".to_owned(), 2);
        cat.management_keys.insert("mkey".to_owned());
        cat
    }

    fn rule_of<T: std::fmt::Debug>(r: Res<T>) -> Rule {
        r.expect_err("refused").rule
    }

    #[test]
    fn an_integration_key_opens_the_integration_api_for_its_application() {
        let h = HeaderValue::from_static("ApiKey-v1 ikey");
        assert_eq!(integration_app(&catalog(), Some(&h)).ok(), Some(2));
    }

    #[test]
    fn a_key_of_the_other_kind_is_refused_as_wrong_kind_either_way() {
        let cat = catalog();
        for (h, integration) in [
            ("ManagementKey-v1 mkey", true),
            ("ApiKey-v1 mkey", true),
            ("ApiKey-v1 ikey", false),
            ("ManagementKey-v1 ikey", false),
        ] {
            let h = HeaderValue::from_static(h);
            let rule = if integration {
                rule_of(integration_app(&cat, Some(&h)))
            } else {
                rule_of(management(&cat, Some(&h)))
            };
            assert_eq!(rule, Rule::AuthWrongKind, "{h:?}");
        }
    }

    #[test]
    fn missing_malformed_and_unknown_keys_each_have_their_rule() {
        let cat = catalog();
        assert_eq!(rule_of(integration_app(&cat, None)), Rule::AuthMissing);
        for bad in ["ApiKey-v1", "ApiKey-v1 ", "ApiKey-v1 a b", "Bearer ikey"] {
            let h = HeaderValue::from_static(bad);
            assert_eq!(
                rule_of(integration_app(&cat, Some(&h))),
                Rule::AuthMalformed,
                "{bad:?}"
            );
        }
        let h = HeaderValue::from_static("ApiKey-v1 nope");
        assert_eq!(
            rule_of(integration_app(&cat, Some(&h))),
            Rule::AuthUnknownKey
        );
        let h = HeaderValue::from_static("ManagementKey-v1 nope");
        assert_eq!(rule_of(management(&cat, Some(&h))), Rule::AuthUnknownKey);
    }

    #[test]
    fn a_refusal_is_a_401_naming_the_authorization_header() {
        let e = integration_app(&catalog(), None).expect_err("refused");
        assert_eq!(e.status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            e.errors[0].source,
            crate::error::ErrorSource::Parameter("Authorization".to_owned())
        );
    }
}
