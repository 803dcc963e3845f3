//! Input hygiene: every malformed request gets a clear 4xx in Talon.One's shape, never a 5xx.

use serde_json::json;

use crate::support::*;

const URI: &str = "/v2/customer_profiles/u1";

#[rstest::rstest]
#[case::malformed_json(b"{\"attributes\": ".to_vec(), "body.malformed_json")]
#[case::trailing_garbage(b"{} x".to_vec(), "body.malformed_json")]
#[case::array_body(b"[1,2]".to_vec(), "body.not_object")]
#[case::string_body(b"\"x\"".to_vec(), "body.not_object")]
#[case::null_body(b"null".to_vec(), "body.not_object")]
#[case::empty_body(Vec::new(), "body.malformed_json")]
#[case::invalid_utf8(vec![b'{', b'"', 0xff, 0xfe, b'"', b':', b'1', b'}'], "body.invalid_utf8")]
#[case::deep_nesting(format!("{{\"attributes\":{}{}}}", "[".repeat(5000), "]".repeat(5000)).into_bytes(), "body.too_deep")]
#[tokio::test]
async fn a_bad_body_gets_400(#[case] body: Vec<u8>, #[case] rule: &str) {
    let fake = fake();
    let r = raw(&fake, "PUT", URI, Some("application/json"), body).await;
    assert_error_shape(&r, 400);
    assert_eq!(last_rule(&fake), rule);
    assert_eq!(fake.profile_count(), 0);
}

#[rstest::rstest]
#[case::missing(None)]
#[case::text(Some("text/plain"))]
#[case::form(Some("application/x-www-form-urlencoded"))]
#[tokio::test]
async fn a_body_that_is_not_declared_json_gets_415(#[case] ct: Option<&str>) {
    let fake = fake();
    let r = raw(&fake, "PUT", URI, ct, b"{}".to_vec()).await;
    assert_eq!(assert_error_shape(&r, 415), vec!["Content-Type"]);
}

#[tokio::test]
async fn json_with_a_charset_parameter_is_accepted() {
    let fake = fake();
    let r = raw(
        &fake,
        "PUT",
        URI,
        Some("application/json; charset=utf-8"),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let fake = fake();
    let big = format!(
        "{{\"attributes\":{{\"email\":\"{}\"}}}}",
        "x".repeat(talon_fake::DEFAULT_BODY_LIMIT)
    );
    let r = raw(
        &fake,
        "PUT",
        URI,
        Some("application/json"),
        big.into_bytes(),
    )
    .await;
    assert_error_shape(&r, 413);
    assert_eq!(last_rule(&fake), "body.too_large");
}

#[tokio::test]
async fn an_integration_id_over_1000_characters_gets_400() {
    let fake = fake();
    let long = "x".repeat(1001);
    let r = put_profile(&fake, &long, "", json!({})).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["integrationId"]);
    let ok = "x".repeat(1000);
    assert_eq!(put_profile(&fake, &ok, "", json!({})).await.status, 200);
}

#[tokio::test]
async fn percent_encoded_integration_ids_are_decoded() {
    let fake = fake();
    let r = put_profile(&fake, "a%20b%2Fc", "", json!({})).await;
    assert_eq!(r.status, 200);
    assert!(fake.profile("a b/c").is_some());
}

#[tokio::test]
async fn attribute_names_with_pointer_characters_are_escaped_in_the_pointer() {
    let fake = fake();
    let r = put_profile(&fake, "u1", "", json!({"attributes": {"a/b~c": 1}})).await;
    assert_eq!(assert_error_shape(&r, 400), vec!["/attributes/a~1b~0c"]);
}

#[tokio::test]
async fn no_request_in_a_batch_of_odd_inputs_gets_a_5xx() {
    let fake = fake();
    let bodies: Vec<Vec<u8>> = vec![
        b"{\"attributes\": null}".to_vec(),
        b"{\"attributes\": []}".to_vec(),
        b"{\"audiencesChanges\": null}".to_vec(),
        b"{\"audiencesChanges\": {\"adds\": [1e400], \"deletes\": []}}".to_vec(),
        b"{\"audiencesChanges\": {\"adds\": [-1], \"deletes\": [18446744073709551616]}}".to_vec(),
        b"{\"responseContent\": \"customerProfile\"}".to_vec(),
        b"{\"evaluableCampaignIds\": [1.5]}".to_vec(),
        b"{\"attributes\": {\"\": 1}}".to_vec(),
        "{\"attributes\": {\"email\": \"\u{0}\"}}"
            .as_bytes()
            .to_vec(),
    ];
    for b in bodies {
        let r = raw(&fake, "PUT", URI, Some("application/json"), b.clone()).await;
        assert!(
            r.status.is_client_error() || r.status.is_success(),
            "{} for {}",
            r.status,
            String::from_utf8_lossy(&b)
        );
        if r.status.is_client_error() {
            assert_error_shape(&r, r.status.as_u16());
        }
    }
}

#[tokio::test]
async fn ids_that_are_not_strictly_percent_encoded_utf8_get_400_and_nothing_is_stored() {
    let fake = fake();
    // `%FF` and `%FE` used to become the same U+FFFD, so two different ids were one profile.
    for id in ["coll%FFx", "coll%FEx", "a%G1", "a%F", "%", "%C3%28"] {
        let r = put_profile(&fake, id, "", json!({"attributes": {"plan": "a"}})).await;
        assert_eq!(assert_error_shape(&r, 400), vec!["integrationId"], "{id}");
        assert_eq!(last_rule(&fake), "path.invalid", "{id}");
    }
    assert_eq!(fake.profile_count(), 0);
    // A well-formed escape of a multi-byte character is still one id.
    let r = put_profile(&fake, "caf%C3%A9", "", json!({})).await;
    assert_eq!(r.status, 200);
    assert!(fake.profile("café").is_some());
}

#[tokio::test]
async fn integer_path_parameters_that_are_not_integers_name_the_parameter() {
    let fake = fake();
    for (method, uri, auth, param) in [
        ("PUT", "/v2/audiences/1%FF", IKEY, "audienceId"),
        ("DELETE", "/v2/audiences/1%G1", IKEY, "audienceId"),
        ("DELETE", "/v2/audiences/%F/memberships", IKEY, "audienceId"),
        (
            "PUT",
            "/v2/audience_customers/x%FF/attributes",
            IKEY,
            "audienceId",
        ),
        ("GET", "/v1/attributes/1%2", MKEY, "attributeId"),
        (
            "GET",
            "/v1/applications/1%FF/customers",
            MKEY,
            "applicationId",
        ),
        (
            "GET",
            "/v1/applications/1/customers/2%FE",
            MKEY,
            "customerId",
        ),
    ] {
        let r = call(&fake, method, uri, Some(auth), Some(json!({"name": "a"}))).await;
        assert_eq!(assert_error_shape(&r, 400), vec![param], "{method} {uri}");
    }
}
