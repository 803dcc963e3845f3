//! The fake's fuzz oracle (`talon_fake::fuzz::check_request`) in stable tests: every committed regression input, then thousands of seeded requests.
//!
//! Regression inputs live in `fixtures/fuzz-regressions/fake_request/`, one
//! raw input of the `fake_request` fuzz target per file
//! (`FuzzRequest::from_bytes` reads it).

use std::path::Path;

use axum::http::StatusCode;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use talon_fake::fuzz::{
    ENDPOINT_COUNT, FuzzRequest, RELAY_ENDPOINTS, check_request, endpoint, fuzz_state,
    is_relay_envelope,
};
use talon_fake::{Fake, FakeConfig, router};
use tower::ServiceExt;

/// The fuzz oracle's fake: the default state and a staging deployment.
fn fake() -> Fake {
    Fake::new(fuzz_state(), FakeConfig::default()).expect("the fuzz state loads")
}

/// Seeded requests.
const CASES: usize = 3000;

async fn check(fake: &Fake, data: &[u8]) -> Result<(), talon_fake::fuzz::Violation> {
    fake.reset(None).expect("the initial state reloads");
    let request = FuzzRequest::from_bytes(data);
    check_request(fake, &request, async |http| {
        router(fake.clone())
            .oneshot(http)
            .await
            .unwrap_or_else(|never| match never {})
    })
    .await
}

#[tokio::test]
async fn every_fake_request_regression_input_gets_a_2xx_or_a_talon_shaped_4xx() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fuzz-regressions/fake_request");
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.expect("a readable entry").path())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    let fake = fake();
    for path in files.iter().filter(|p| p.is_file()) {
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let data = std::fs::read(path).expect("a readable regression file");
        check(&fake, &data)
            .await
            .unwrap_or_else(|v| panic!("{}: {v}", path.display()));
    }
}

#[tokio::test]
async fn seeded_requests_on_every_endpoint_get_a_2xx_or_a_talon_shaped_4xx_and_rejections_change_nothing()
 {
    let fake = fake();
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    for i in 0..CASES {
        let mut data = vec![0; rng.random_range(0..=512)];
        rng.fill_bytes(&mut data);
        // Every endpoint in turn, mostly with the right method, key, content type and (for
        // the relay) deployment.
        if let Some(first) = data.first_mut() {
            *first = u8::try_from(i % ENDPOINT_COUNT).expect("few endpoints");
        }
        if data.len() > 4 && rng.random_ratio(3, 4) {
            data[1] = 15;
            data[2] = if endpoint(i).1 { 9 } else { 7 };
            data[3] = 7;
            if endpoint(i).1 {
                data[4] = 9;
            }
        }
        check(&fake, &data)
            .await
            .unwrap_or_else(|v| panic!("case {i} ({data:?}): {v}"));
    }
}

#[tokio::test]
async fn the_relay_regression_inputs_get_the_answers_their_readme_names() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fuzz-regressions/fake_request");
    let fake = fake();
    for (file, status, deployment) in [
        (
            "relay_profile_update_with_a_huge_control_byte_hostname.bin",
            400,
            None,
        ),
        (
            "relay_profile_update_in_staging_with_basic_auth.bin",
            200,
            Some(talon_fake::fuzz::STAGING_HOST),
        ),
        (
            "relay_unknown_path_with_an_invalid_percent_escape.bin",
            404,
            None,
        ),
    ] {
        let data = std::fs::read(dir.join(file)).expect("a regression file");
        check(&fake, &data)
            .await
            .unwrap_or_else(|v| panic!("{file}: {v}"));
        let last = fake.journal().pop().expect("journalled");
        assert_eq!(last.status, status, "{file}: {last:?}");
        assert_eq!(
            last.relay.and_then(|r| r.deployment).as_deref(),
            deployment,
            "{file}"
        );
    }
}

/// Seeded requests on the relay's endpoints only, with the right key and deployment (either
/// one) unless the input says otherwise in a header, path segment or body: the relay's
/// answers are 2xx or 4xx in its own envelope, and its rejections change no deployment.
#[tokio::test]
async fn seeded_relay_requests_get_a_2xx_or_the_relays_4xx_and_rejections_change_no_deployment() {
    let fake = fake();
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let (mut accepted, mut refused) = (0, 0);
    for i in 0..CASES {
        let mut data = vec![0; rng.random_range(6..=512)];
        rng.fill_bytes(&mut data);
        data[0] = u8::try_from(ENDPOINT_COUNT - RELAY_ENDPOINTS.len() + i % RELAY_ENDPOINTS.len())
            .expect("few endpoints");
        if rng.random_ratio(3, 4) {
            data[1] = 15;
            data[2] = 9;
            data[3] = 7;
            data[4] = if rng.random_ratio(1, 2) { 4 } else { 9 };
        }
        let request = FuzzRequest::from_bytes(&data);
        check(&fake, &data)
            .await
            .unwrap_or_else(|v| panic!("case {i} ({data:?}): {v}"));
        let Some(last) = fake.journal().pop() else {
            continue; // not sendable: no request was made
        };
        if (200..300).contains(&last.status) {
            accepted += 1;
        } else {
            refused += 1;
        }
        assert!(request.uri.starts_with("/segment/") || request.uri.starts_with("/v2/authping"));
    }
    // The sweep reaches both sides of the relay's rules, not only its refusals.
    assert!(
        accepted > CASES / 50,
        "accepted {accepted}, refused {refused}"
    );
    assert!(
        refused > CASES / 50,
        "accepted {accepted}, refused {refused}"
    );
}

#[test]
fn the_relay_envelope_check_refuses_the_integration_envelope_and_a_wrong_status_or_uuid() {
    let ok = br#"{"StatusCode":404,"Error":"Not Found","RequestUUID":"fd2f7c55-d064-46e1-ab87-a39cb877cd82"}"#;
    assert_eq!(is_relay_envelope(StatusCode::NOT_FOUND, ok), Ok(()));
    for (status, body) in [
        (StatusCode::BAD_REQUEST, &ok[..]),
        (
            StatusCode::NOT_FOUND,
            br#"{"message":"Not found","errors":[],"StatusCode":404}"#,
        ),
        (
            StatusCode::NOT_FOUND,
            br#"{"StatusCode":404,"Error":"Not found","RequestUUID":"51fad142-3563-4fe2-b4aa-41ab20be31d911"}"#,
        ),
        (
            StatusCode::NOT_FOUND,
            br#"{"StatusCode":404,"Error":"","RequestUUID":"fd2f7c55-d064-46e1-ab87-a39cb877cd82"}"#,
        ),
        (
            StatusCode::NOT_FOUND,
            br#"{"StatusCode":404,"Error":"x","RequestUUID":"fd2f7c55-d064-46e1-ab87-a39cb877cd82","message":"x"}"#,
        ),
        (StatusCode::NOT_FOUND, b"Not Found"),
    ] {
        assert!(
            is_relay_envelope(status, body).is_err(),
            "{status} {}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn relay_inputs_decode_to_relay_requests_with_the_header_values_they_spell() {
    let first = u8::try_from(ENDPOINT_COUNT - RELAY_ENDPOINTS.len()).expect("few endpoints");
    // Endpoint, method as listed, auth from the input (sendable), JSON, hostname huge.
    let data = [first, 15, 2, 3, b'k', 0x01, 0xff, 7, 3, 2, b'h', 0x00];
    let request = FuzzRequest::from_bytes(&data);
    assert_eq!(request.method, "PUT");
    assert!(
        request.uri.starts_with("/segment/v2/customer_profiles/"),
        "{request:?}"
    );
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("authorization").as_deref(), Some(&b"k\x81\xff"[..]));
    let host = header("destination-hostname").expect("a hostname");
    assert!(host.len() > 16 * 1024, "{}", host.len());
    assert!(request.to_http().is_some(), "a sendable request");
}

#[test]
fn every_input_decodes_to_one_request() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..CASES {
        let mut data = vec![0; rng.random_range(0..=64)];
        rng.fill_bytes(&mut data);
        let request = FuzzRequest::from_bytes(&data);
        assert_eq!(request, FuzzRequest::from_bytes(&data));
        assert!(request.uri.starts_with('/'), "{request:?}");
    }
}
