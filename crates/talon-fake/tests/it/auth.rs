//! Authentication: each API opens only with its own kind of key.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn authping_answers_204_for_a_valid_integration_key() {
    let fake = fake();
    let r = get(&fake, "/v2/authping", Some(IKEY)).await;
    assert_eq!(r.status, 204);
    assert!(r.raw.is_empty());
}

#[rstest::rstest]
#[case::missing(None, "auth.missing")]
#[case::no_scheme(Some("segment-demo-integration-key"), "auth.malformed")]
#[case::bearer(Some("Bearer segment-demo-integration-key"), "auth.malformed")]
#[case::empty_key(Some("ApiKey-v1 "), "auth.malformed")]
#[case::unknown(Some("ApiKey-v1 nope"), "auth.unknown_key")]
#[case::scheme_case(Some("apikey-v1 segment-demo-integration-key"), "auth.malformed")]
#[case::management_key(
    Some("ManagementKey-v1 segment-demo-management-key"),
    "auth.wrong_kind"
)]
#[case::management_secret_as_api_key(
    Some("ApiKey-v1 segment-demo-management-key"),
    "auth.wrong_kind"
)]
#[tokio::test]
async fn the_integration_api_answers_401_for_a_bad_key(
    #[case] auth: Option<&str>,
    #[case] rule: &str,
) {
    let fake = fake();
    for (method, uri, body) in [
        ("GET", "/v2/authping", None),
        ("PUT", "/v2/customer_profiles/u1", Some(json!({}))),
        ("POST", "/v2/audiences", Some(json!({"name": "x"}))),
    ] {
        let r = call(&fake, method, uri, auth, body).await;
        assert_eq!(assert_error_shape(&r, 401), vec!["Authorization"]);
        assert_eq!(last_rule(&fake), rule);
    }
    assert_eq!(fake.profile_count(), 0);
}

#[rstest::rstest]
#[case::missing(None, "auth.missing")]
#[case::integration_key(Some(IKEY), "auth.wrong_kind")]
#[case::integration_secret_as_management_key(
    Some("ManagementKey-v1 segment-demo-integration-key"),
    "auth.wrong_kind"
)]
#[case::unknown(Some("ManagementKey-v1 nope"), "auth.unknown_key")]
#[tokio::test]
async fn the_management_api_answers_401_for_a_bad_key(
    #[case] auth: Option<&str>,
    #[case] rule: &str,
) {
    let fake = fake();
    let r = call(&fake, "GET", "/v1/attributes", auth, None).await;
    assert_eq!(assert_error_shape(&r, 401), vec!["Authorization"]);
    assert_eq!(last_rule(&fake), rule);
}

#[tokio::test]
async fn authentication_is_checked_before_the_body() {
    let fake = fake();
    let r = raw(
        &fake,
        "PUT",
        "/v2/customer_profiles/u1",
        Some("application/json"),
        b"{not json".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400);
    let r = call(
        &fake,
        "PUT",
        "/v2/customer_profiles/u1",
        Some("ApiKey-v1 nope"),
        Some(json!([1])),
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn unknown_routes_get_404_in_talon_shape() {
    let fake = fake();
    let r = get(&fake, "/v2/nothing", Some(IKEY)).await;
    assert_error_shape(&r, 404);
    let r = call(&fake, "POST", "/v2/authping", Some(IKEY), None).await;
    assert_error_shape(&r, 405);
    let r = get(&fake, "/v2/customer_profiles/u1", Some(IKEY)).await;
    assert_error_shape(&r, 405);
}
