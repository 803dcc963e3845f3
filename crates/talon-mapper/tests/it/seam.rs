//! The seam for more than one destination: `map(destination, event)` and the
//! destination-neutral request.

use std::sync::Arc;

use talon_mapper::{Destination, Mapped, Request, map, map_json};

use crate::default_settings;

fn fixtures() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/segment");
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

#[test]
fn the_classic_destination_maps_every_fixture_as_the_classic_rules_do() {
    let settings = default_settings();
    let classic = Destination::Classic(settings.clone());
    assert_eq!(classic.name(), "classic");
    let fixtures = fixtures();
    assert!(fixtures.len() > 10, "the fixtures are there");
    for bytes in &fixtures {
        let mapped = map(&classic, bytes);
        assert_eq!(mapped, map_json(bytes, &settings));
        assert!(
            mapped.requests.len() <= 1,
            "classic sends at most one request"
        );
        assert_eq!(
            mapped.requests.is_empty(),
            mapped.skip.is_some(),
            "a skip exactly when nothing is sent: {}",
            mapped.render()
        );
    }
}

#[test]
fn a_classic_request_is_keyed_by_its_integration_id_and_addresses_its_path() {
    let classic = Destination::Classic(default_settings());
    let mapped = map(
        &classic,
        br#"{"type":"identify","userId":"a/b","traits":{"email":"x@y.z"}}"#,
    );
    let [request] = mapped.requests.as_slice() else {
        panic!("one request: {}", mapped.render())
    };
    assert_eq!(request.key, "a/b");
    assert_eq!(request.method, "PUT");
    assert_eq!(request.path(), "/v2/customer_profiles/a%2Fb");
    assert!(request.url.ends_with(request.path()));
    assert_eq!(request.to_json(false)["integrationId"], "a/b");
}

/// A request as another destination would build it: another method, path and header.
fn other(path: &str, key: &str) -> Request {
    Request::new(
        "DELETE",
        "https://integration.talon.one",
        path,
        vec![
            ("Authorization", Arc::from("ApiKey-v1 secret")),
            ("destination-hostname", Arc::from("https://demo.talon.one")),
        ],
        String::new(),
        key.to_owned(),
    )
}

#[test]
fn a_request_of_another_destination_keeps_its_method_path_headers_and_key() {
    let request = other("/segment/audiences/aud%201", "aud 1");
    assert_eq!(
        request.url,
        "https://integration.talon.one/segment/audiences/aud%201"
    );
    assert_eq!(request.path(), "/segment/audiences/aud%201");
    assert_eq!(
        request.header("destination-hostname"),
        Some("https://demo.talon.one")
    );
    assert_eq!(
        request.render(),
        "DELETE https://integration.talon.one/segment/audiences/aud%201\n\
         Authorization: ApiKey-v1 [redacted]\n\
         destination-hostname: https://demo.talon.one\n\n\n"
    );
}

#[test]
fn several_requests_of_one_event_render_and_serialise_in_order() {
    let mapped = Mapped {
        requests: vec![
            other("/segment/audiences/a", "a"),
            other("/segment/audiences/b", "b"),
        ],
        skip: None,
        diagnostics: Vec::new(),
    };
    let json = mapped.to_json(false);
    assert_eq!(json["outcome"], "send");
    assert!(json.get("request").is_none(), "{json}");
    let urls: Vec<&str> = json["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "https://integration.talon.one/segment/audiences/a",
            "https://integration.talon.one/segment/audiences/b"
        ]
    );
    let text = mapped.render();
    let a = text.find("/segment/audiences/a").unwrap();
    let b = text.find("/segment/audiences/b").unwrap();
    assert!(a < b, "{text}");
    assert_eq!(mapped.request().map(|r| r.key.as_str()), Some("a"));
}
