//! The Talon.One (Actions) destination: one snapshot per case in `fixtures/actions/cases/`
//! (stored under `snapshots/talon-mapper-actions/`), the default subscriptions, the
//! configuration's errors and diagnostics, and the request rules one by one.

use talon_mapper::actions::{self, Action, ActionsConfig, ActionsSettings, ConfigError};
use talon_mapper::{Destination, Mapped, map};

const SETTINGS: &str = include_str!("../../../../fixtures/actions/settings.json");
const DEFAULT_SUBSCRIPTIONS: &str = include_str!("../../../../fixtures/actions/subscriptions.json");

fn snapshot_settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../../../../snapshots/talon-mapper-actions");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings
}

fn config(subscriptions: &str) -> ActionsConfig {
    ActionsConfig::from_json(SETTINGS, subscriptions).expect("a valid configuration")
}

fn map_with(subscriptions: serde_json::Value, event: serde_json::Value) -> Mapped {
    let destination = Destination::Actions(config(&subscriptions.to_string()));
    map(&destination, event.to_string().as_bytes())
}

fn one_subscription(slug: &str, settings: serde_json::Value) -> serde_json::Value {
    serde_json::json!([{"id": "s1", "name": "s1", "actionSlug": slug, "enabled": true,
        "trigger": "type = \"identify\" or type = \"track\"", "settings": settings}])
}

/// The configuration's own diagnostics, then the event's result.
fn render(config: &ActionsConfig, mapped: &Mapped) -> String {
    let mut out = String::new();
    for diagnostic in config.diagnostics() {
        out.push_str(&format!("config {diagnostic}\n"));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(&mapped.render());
    out
}

#[test]
fn every_case_maps_as_its_snapshot_says() {
    insta::glob!("../../../../fixtures/actions/cases", "*.json", |path| {
        let text = std::fs::read_to_string(path).expect("case is readable");
        // Read in JavaScript key order: the mapping's and the event's order reach the body.
        let case = segment_mapping::Value::parse(&text).expect("case is JSON");
        let case = case.as_object().expect("case is an object");
        let part = |key: &str| {
            case.get(key)
                .and_then(segment_mapping::Value::to_json)
                .expect(key)
        };
        let config = config(&part("subscriptions"));
        let destination = Destination::Actions(config.clone());
        let mapped = map(&destination, part("event").as_bytes());
        assert_eq!(
            mapped.requests.is_empty(),
            mapped.skip.is_some(),
            "a skip exactly when nothing is sent: {}",
            mapped.render()
        );
        let about = case
            .get("about")
            .and_then(segment_mapping::Value::as_str)
            .unwrap_or("");
        let rendered = format!("{about}\n\n{}", render(&config, &mapped));
        snapshot_settings().bind(|| insta::assert_snapshot!(rendered));
    });
}

#[test]
fn every_snapshot_belongs_to_a_case() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    for entry in std::fs::read_dir(format!("{root}/snapshots/talon-mapper-actions")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "default_subscriptions.snap" {
            continue;
        }
        let case = name
            .strip_prefix("every_case_maps_as_its_snapshot_says@")
            .and_then(|rest| rest.strip_suffix(".snap"))
            .map(|case| format!("{root}/fixtures/actions/cases/{case}"));
        assert!(
            case.is_some_and(|c| std::path::Path::new(&c).exists()),
            "snapshots/talon-mapper-actions/{name} belongs to no case: delete it"
        );
    }
}

#[test]
fn the_default_subscriptions_map_typical_traffic_as_their_snapshot_says() {
    let config = config(DEFAULT_SUBSCRIPTIONS);
    assert_eq!(config.subscriptions.len(), 5);
    let destination = Destination::Actions(config.clone());
    assert_eq!(destination.name(), "actions");
    let events = [
        r#"{"type":"identify","userId":"user-1","traits":{"email":"ada@example.com","vip_customers":true}}"#,
        r#"{"type":"track","userId":"user-1","event":"Product Viewed","properties":{"sku":"SKU-1","attributes":{"sku":"SKU-1"}}}"#,
        r#"{"type":"track","userId":"user-1","event":"Order Completed","properties":{"order_id":"o-1","coupon":"SUMMER","products":[{"name":"Shoe","sku":"s-1","quantity":1,"price":20,"category":"shoes"}]}}"#,
        r#"{"type":"track","userId":"user-1","event":"Audience Entered","properties":{"audience_key":"vip_customers","vip_customers":true}}"#,
        r#"{"type":"track","userId":"user-1","event":"Audience Exited","properties":{"audience_key":"vip_customers","vip_customers":false}}"#,
        r#"{"type":"page","userId":"user-1","name":"Home"}"#,
    ];
    let mut out = render(
        &config,
        &Mapped {
            requests: vec![],
            skip: None,
            diagnostics: vec![],
        },
    );
    for event in events {
        out.push_str(&format!("=== {event}\n"));
        out.push_str(&map(&destination, event.as_bytes()).render());
        out.push('\n');
    }
    snapshot_settings().bind(|| insta::assert_snapshot!("default_subscriptions", out));
}

#[test]
fn every_action_has_field_definitions_that_parse() {
    for action in Action::ALL {
        assert!(action.fields().is_some(), "{}", action.slug());
        assert_eq!(Action::from_slug(action.slug()), Some(action));
    }
}

#[test]
fn a_profile_request_carries_segments_headers_in_order_and_the_subscription_name() {
    let mapped = map_with(
        one_subscription(
            "updateCustomerProfileV3",
            serde_json::json!({"customerProfileId": {"@path": "$.userId"}}),
        ),
        serde_json::json!({"type": "identify", "userId": "u1"}),
    );
    let [request] = mapped.requests.as_slice() else {
        panic!("{}", mapped.render())
    };
    let names: Vec<&str> = request.headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "authorization",
            "destination-hostname",
            "user-agent",
            "content-type"
        ]
    );
    assert_eq!(
        request.header("authorization"),
        Some("ApiKey-v1 some_api_key")
    );
    assert_eq!(
        request.header("destination-hostname"),
        Some("https://something.europe-west1.talon.one")
    );
    assert_eq!(request.header("user-agent"), Some("Segment (Actions)"));
    assert_eq!(
        request.url,
        "https://integration.talon.one/segment/v2/customer_profiles/u1"
    );
    assert_eq!(request.path(), "/segment/v2/customer_profiles/u1");
    assert_eq!(request.body, r#"{"audiencesChanges":{}}"#);
    assert_eq!(request.subscription.as_deref(), Some("s1"));
    assert_eq!(request.key, "u1");
    assert_eq!(request.to_json(false)["subscription"], "s1");
    assert_eq!(
        request.to_json(false)["headers"]["authorization"],
        "ApiKey-v1 [redacted]"
    );
}

#[test]
fn a_missing_profile_id_is_a_skip_with_segments_own_message() {
    let mapped = map_with(
        one_subscription(
            "updateCustomerProfileV3",
            serde_json::json!({"customerProfileId": {"@path": "$.userId"}}),
        ),
        serde_json::json!({"type": "identify", "anonymousId": "a"}),
    );
    let skip = mapped.skip().expect("skipped");
    assert_eq!(skip.code(), "rejected");
    assert_eq!(
        skip.to_string(),
        "subscription `s1`: The root value is missing the required field 'customerProfileId'."
    );
    assert_eq!(mapped.diagnostics[0].kind.code(), "rejected");
}

#[test]
fn several_subscriptions_give_several_requests_in_subscription_order_and_failures_beside_them() {
    let subscriptions = serde_json::json!([
        {"name": "event", "actionSlug": "trackEventV2", "trigger": "type = \"track\"",
         "settings": {"customerProfileId": {"@path": "$.userId"}, "eventType": {"@path": "$.event"}}},
        {"name": "broken", "actionSlug": "trackEventV2", "trigger": "type = \"track\"",
         "settings": {"customerProfileId": {"@path": "$.userId"}}},
        {"name": "profile", "actionSlug": "updateCustomerProfileV3", "trigger": "type = \"track\"",
         "settings": {"customerProfileId": {"@path": "$.userId"}, "attributes": {"@path": "$.properties"}}}
    ]);
    let mapped = map_with(
        subscriptions,
        serde_json::json!({"type": "track", "userId": "u", "event": "E", "properties": {"a": 1}}),
    );
    let names: Vec<_> = mapped
        .requests
        .iter()
        .map(|r| r.subscription.as_deref().unwrap())
        .collect();
    assert_eq!(names, ["event", "profile"]);
    assert!(mapped.skip.is_none());
    let rejected: Vec<String> = mapped
        .diagnostics
        .iter()
        .filter(|d| d.kind.code() == "rejected")
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        rejected,
        [
            "warning[rejected]: subscription `broken`: The root value is missing the required field 'eventType'."
        ]
    );
}

#[test]
fn the_skip_flag_adds_the_query_only_when_truthy() {
    let url = |flag: serde_json::Value| {
        let mapped = map_with(
            one_subscription(
                "trackEventV2",
                serde_json::json!({"customerProfileId": "u", "eventType": "e", "skipNonExistingAttributes": flag}),
            ),
            serde_json::json!({"type": "track"}),
        );
        mapped.requests[0].url.clone()
    };
    assert_eq!(
        url(true.into()),
        "https://integration.talon.one/segment/v2/events?skipNonExistingAttributes=true"
    );
    assert_eq!(
        url("true".into()),
        "https://integration.talon.one/segment/v2/events?skipNonExistingAttributes=true"
    );
    assert_eq!(
        url(false.into()),
        "https://integration.talon.one/segment/v2/events"
    );
    assert_eq!(
        url("false".into()),
        "https://integration.talon.one/segment/v2/events"
    );
}

#[test]
fn ids_are_interpolated_unencoded_and_normalised_as_node_does() {
    let path = |id: &str| {
        let mapped = map_with(
            one_subscription(
                "updateCustomerProfileV3",
                serde_json::json!({"customerProfileId": {"@path": "$.userId"}, "skipNonExistingAttributes": true}),
            ),
            serde_json::json!({"type": "identify", "userId": id}),
        );
        let request = &mapped.requests[0];
        let warned = mapped
            .diagnostics
            .iter()
            .any(|d| d.kind.code() == "path_changed");
        (request.path().to_owned(), warned)
    };
    let q = "?skipNonExistingAttributes=true";
    assert_eq!(
        path("plain"),
        (format!("/segment/v2/customer_profiles/plain{q}"), false)
    );
    assert_eq!(path("../x"), (format!("/segment/v2/x{q}"), true));
    assert_eq!(path(".."), (format!("/segment/v2/{q}"), true));
    assert_eq!(
        path("a\\b"),
        (format!("/segment/v2/customer_profiles/a/b{q}"), true)
    );
    assert_eq!(
        path("tab\tid"),
        (format!("/segment/v2/customer_profiles/tabid{q}"), true)
    );
    assert_eq!(
        path("new\nline\r"),
        (format!("/segment/v2/customer_profiles/newline{q}"), true)
    );
    assert_eq!(
        path(" lead"),
        (format!("/segment/v2/customer_profiles/%20lead{q}"), true)
    );
    assert_eq!(
        path("a#b"),
        ("/segment/v2/customer_profiles/a".to_owned(), true)
    );
    assert_eq!(
        path("a?b"),
        (format!("/segment/v2/customer_profiles/a?b{q}"), true)
    );
    assert_eq!(
        path("^[]()!*&$@%"),
        (
            format!("/segment/v2/customer_profiles/^[]()!*&$@%{q}"),
            false
        )
    );
}

#[test]
fn the_hash_warning_says_the_query_is_lost() {
    let mapped = map_with(
        one_subscription(
            "updateCustomerProfileV3",
            serde_json::json!({"customerProfileId": "a#b", "skipNonExistingAttributes": true}),
        ),
        serde_json::json!({"type": "identify"}),
    );
    let warning = mapped
        .diagnostics
        .iter()
        .find(|d| d.kind.code() == "path_changed")
        .unwrap();
    assert_eq!(
        warning.to_string(),
        "warning[path_changed]: subscription `s1`: customerProfileId `a#b` is put into the URL unencoded, as Segment does: \
         Talon.One receives `PUT /segment/v2/customer_profiles/a`; `#b?skipNonExistingAttributes=true` is a fragment and is never sent"
    );
}

#[test]
fn delete_has_no_body_and_no_content_type() {
    let mapped = map_with(
        one_subscription("deleteAudience", serde_json::json!({"audienceId": "aud_1"})),
        serde_json::json!({"type": "track"}),
    );
    let request = &mapped.requests[0];
    assert_eq!(request.method, "DELETE");
    assert_eq!(request.body, "");
    assert_eq!(request.header("content-type"), None);
    assert_eq!(
        request.url,
        "https://integration.talon.one/segment/audiences/aud_1"
    );
}

#[test]
fn unset_callback_headers_are_removed_and_set_ones_follow_segments_headers() {
    let mapped = map_with(
        one_subscription(
            "updateCustomerSessionV2",
            serde_json::json!({"customerSessionId": "s", "contentFields": "effects", "callbackCorrelationId": 7}),
        ),
        serde_json::json!({"type": "track"}),
    );
    let names: Vec<&str> = mapped.requests[0].headers.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        names,
        [
            "authorization",
            "destination-hostname",
            "user-agent",
            "content-type",
            "x-content-fields",
            "x-correlation-id"
        ]
    );
    assert_eq!(mapped.requests[0].header("x-correlation-id"), Some("7"));
}

#[test]
fn deprecated_actions_are_sent_with_a_note_naming_the_replacement() {
    let mapped = map_with(
        one_subscription(
            "trackEvent",
            serde_json::json!({"customerProfileId": "u", "eventType": "e", "type": "string"}),
        ),
        serde_json::json!({"type": "track"}),
    );
    assert_eq!(
        mapped.requests[0].url,
        "https://integration.talon.one/segment/event"
    );
    assert_eq!(
        mapped.requests[0].body,
        r#"{"customerProfileId":"u","eventType":"e","type":"string"}"#
    );
    assert_eq!(
        mapped.diagnostics[0].to_string(),
        "note[deprecated]: subscription `s1`: `trackEvent` is deprecated: Segment and Talon.One ask to use `trackEventV2` instead (still sent)"
    );
}

#[test]
fn test_authentication_concatenates_the_deployment_as_typed() {
    let settings = ActionsSettings::parse(
        r#"{"apiKey":"k","deployment":"https://x.europe-west1.talon.one/"}"#,
    )
    .unwrap();
    let request = actions::test_authentication(&settings);
    assert_eq!(request.method, "GET");
    assert_eq!(request.url, "https://x.europe-west1.talon.one//v2/authping");
    assert_eq!(request.header("authorization"), Some("ApiKey-v1 k"));
    assert_eq!(
        request.header("destination-hostname"),
        Some("https://x.europe-west1.talon.one/")
    );
    assert_eq!(request.body, "");
}

#[test]
fn subscriptions_come_as_the_public_api_lists_them_or_as_a_bare_array_with_unknown_fields_kept() {
    let wrapped = ActionsConfig::from_json(SETTINGS, r#"{"subscriptions":[{"name":"a","actionSlug":"trackEventV2","trigger":"type = \"track\"","settings":{},"futureField":{"x":1}}],"next":null}"#).unwrap();
    let bare = ActionsConfig::from_json(SETTINGS, r#"[{"name":"a","actionSlug":"trackEventV2","trigger":"type = \"track\"","settings":{},"futureField":{"x":1}}]"#).unwrap();
    assert_eq!(wrapped, bare);
    assert!(wrapped.subscriptions[0].raw.contains_key("futureField"));
    assert!(wrapped.subscriptions[0].enabled);
}

#[test]
fn a_refused_trigger_is_an_error_naming_the_subscription() {
    let error = ActionsConfig::from_json(
        SETTINGS,
        r#"[{"name":"bad one","actionSlug":"trackEventV2","trigger":"type","settings":{}}]"#,
    )
    .unwrap_err();
    assert!(
        matches!(&error, ConfigError::Trigger { name, .. } if name == "bad one"),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        "subscription `bad one`: trigger `type`: value token is missing"
    );
    // A disabled subscription's trigger is never evaluated, so it is not refused.
    assert!(
        ActionsConfig::from_json(
            SETTINGS,
            r#"[{"name":"off","actionSlug":"trackEventV2","trigger":"type","enabled":false}]"#
        )
        .is_ok()
    );
}

#[test]
fn settings_segment_refuses_are_errors_and_odd_deployments_are_warnings() {
    for bad in [
        r#"{"apiKey":"k"}"#,
        r#"{"apiKey":"","deployment":"d"}"#,
        r#"{"apiKey":1,"deployment":"d"}"#,
        "[]",
        "{",
    ] {
        assert!(ActionsConfig::from_json(bad, "[]").is_err(), "{bad}");
    }
    let warnings = |deployment: &str| {
        ActionsSettings::new("k", deployment)
            .unwrap()
            .deployment_warnings()
            .len()
    };
    assert_eq!(warnings("https://yours.europe-west1.talon.one"), 0);
    assert_eq!(warnings("https://yours.europe-west1.talon.one/"), 0);
    assert_eq!(
        warnings("HTTPS://yours.europe-west1.talon.one"),
        0,
        "a scheme in capitals is https"
    );
    assert_eq!(warnings("Http://yours.europe-west1.talon.one"), 1, "http");
    assert_eq!(warnings("yours.europe-west1.talon.one"), 1, "no scheme");
    assert_eq!(
        warnings("https://yours.europe-west1.talon.one/v2"),
        1,
        "a path"
    );
    assert_eq!(
        warnings("https://yours.europe-wset1.talon.one"),
        1,
        "a region typo"
    );
    assert_eq!(warnings("https://demo.example.com"), 1, "not Talon.One");
    let config =
        ActionsConfig::from_json(r#"{"apiKey":"k","deployment":"yours.talon.one"}"#, "[]").unwrap();
    let codes: Vec<&str> = config.diagnostics().iter().map(|d| d.kind.code()).collect();
    assert_eq!(
        codes,
        ["deployment_not_routable", "deployment_not_routable"]
    );
}

#[test]
fn an_unreadable_event_is_an_invalid_event_skip() {
    let destination = Destination::Actions(config(DEFAULT_SUBSCRIPTIONS));
    for bytes in [&b"{"[..], b"[]", b"\xff", b"null"] {
        assert_eq!(
            map(&destination, bytes).skip().unwrap().code(),
            "invalid_event"
        );
    }
}

#[test]
fn mapping_the_same_event_twice_gives_identical_output() {
    let destination = Destination::Actions(config(DEFAULT_SUBSCRIPTIONS));
    let event = br#"{"type":"track","userId":"u","event":"Order Completed","properties":{"order_id":"o","products":[{"sku":"s","quantity":1,"price":1}]}}"#;
    assert_eq!(map(&destination, event), map(&destination, event));
}

/// Choices from a seeded generator.
struct Seeded(rand_chacha::ChaCha8Rng);

impl segment_mapping::fuzz::Source for Seeded {
    fn below(&mut self, n: usize) -> usize {
        use rand::Rng as _;
        self.0.random_range(0..n)
    }
}

#[test]
fn the_fuzz_oracle_holds_over_seeded_pairs_and_every_case() {
    use rand::SeedableRng as _;
    let mut src = Seeded(rand_chacha::ChaCha8Rng::seed_from_u64(15));
    let mut sent = 0;
    for _ in 0..3000 {
        let (subscriptions, event) = actions::fuzz::case(&mut src);
        actions::fuzz::check(SETTINGS, &subscriptions, event.as_bytes())
            .unwrap_or_else(|e| panic!("{e}\nsubscriptions: {subscriptions}\nevent: {event}"));
        let config = ActionsConfig::from_json(SETTINGS, &subscriptions).unwrap();
        sent += map(&Destination::Actions(config), event.as_bytes())
            .requests
            .len();
    }
    assert!(
        sent > 100,
        "the generator reaches requests, not only skips: {sent}"
    );
    for entry in std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/actions/cases"
    ))
    .unwrap()
    {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let case: serde_json::Value = serde_json::from_str(&text).unwrap();
        actions::fuzz::check(
            SETTINGS,
            &case["subscriptions"].to_string(),
            case["event"].to_string().as_bytes(),
        )
        .unwrap();
    }
}

#[test]
fn cart_items_need_no_sku_quantity_or_price_as_in_segments_definitions() {
    let mapped = map_with(
        one_subscription(
            "updateCustomerSessionV2",
            serde_json::json!({"customerSessionId": "s", "cartItems": [{"name": "gift card"}]}),
        ),
        serde_json::json!({"type": "track"}),
    );
    assert!(mapped.skip.is_none(), "{}", mapped.render());
    assert_eq!(
        mapped.requests[0].body,
        r#"{"cartItems":[{"name":"gift card"}]}"#
    );
}

#[test]
fn a_type_error_names_the_field_by_segments_label() {
    let mapped = map_with(
        one_subscription(
            "updateCustomerSessionV2",
            serde_json::json!({"customerSessionId": "s", "referralCode": {"a": 1}}),
        ),
        serde_json::json!({"type": "track"}),
    );
    assert_eq!(
        mapped.skip().unwrap().to_string(),
        "subscription `s1`: Referral Codes must be a string but it was an object."
    );
}

/// The body of the one request `updateCustomerProfileV3` with the default mapping sends for
/// an identify given as text (so that its key order and number spellings stay as written).
fn profile_v3(event: &str) -> (String, String) {
    let subscriptions = one_subscription(
        "updateCustomerProfileV3",
        serde_json::json!({"customerProfileId": {"@path": "$.userId"}, "attributes": {"@path": "$.traits"}}),
    );
    let destination = Destination::Actions(config(&subscriptions.to_string()));
    let mapped = map(&destination, event.as_bytes());
    let request = mapped
        .request()
        .unwrap_or_else(|| panic!("{}", mapped.render()));
    (request.path().to_owned(), request.body.clone())
}

#[test]
fn segments_observed_edge_inputs_map_as_its_code_maps_them() {
    // Numbers pass through JavaScript doubles, in the URL and in the body.
    assert_eq!(
        profile_v3(r#"{"type":"identify","userId":1e21,"traits":{"big":3122306864379792082}}"#),
        (
            "/segment/v2/customer_profiles/1e+21".to_owned(),
            r#"{"audiencesChanges":{},"attributes":{"big":3122306864379792000}}"#.to_owned()
        )
    );
    // `__proto__` vanishes, the last of duplicate keys wins, nulls are sent.
    assert_eq!(
        profile_v3(r#"{"type":"identify","userId":"u","traits":{"__proto__":{"a":1},"constructor":"c","n":null,"d":1,"d":2}}"#).1,
        r#"{"audiencesChanges":{},"attributes":{"constructor":"c","n":null,"d":2}}"#
    );
    // A known difference: JavaScript reads `1e400` as Infinity (sent as null); the JSON
    // reader here refuses it, so the event is unreadable.
    let destination = Destination::Actions(config(DEFAULT_SUBSCRIPTIONS));
    let mapped = map(
        &destination,
        br#"{"type":"identify","userId":"u","traits":{"huge":1e400}}"#,
    );
    assert_eq!(mapped.skip().unwrap().code(), "invalid_event");
    // `traits: null` leaves `attributes` out.
    assert_eq!(
        profile_v3(r#"{"type":"identify","userId":"u","traits":null}"#).1,
        r#"{"audiencesChanges":{}}"#
    );
}

/// Each action's "should work" test of the destination's own suite
/// (`talon-one/<action>/__tests__/index.test.ts` at action-destinations 970a17ee): the mapping
/// it gives `testAction`, and the method, path and body its nock interceptor expects (deep
/// equality, so the body is compared as JSON values).
#[test]
fn segments_own_should_work_tests_give_the_requests_their_interceptors_expect() {
    use serde_json::json;
    let attrs = json!({"favoriteProduct": "fruits", "isDogLover": true, "stringAttribute": "test", "booleanAttribute": "true", "numberAttribute": "12345"});
    let info3 = json!([{"name": "stringAttribute", "type": "string"}, {"name": "booleanAttribute", "type": "boolean"}, {"name": "numberAttribute", "type": "number"}]);
    let session = json!({"state": "open", "attributes": {"testAttribute1": "value", "testAttribute2": "value"}, "cartItems": [{"name": "a_name", "sku": "123sku", "quantity": 1, "price": 1000}]});
    let info2 = json!([{"name": "testAttribute1", "type": "string"}, {"name": "testAttribute2", "type": "string"}]);
    let callbacks = json!({"customerSessionId": "session123abc", "callbackDestination": "http://mydomain.com/api/callback_here", "callbackAPIKey": "X-API-Key 123456789123456789123456789123456789", "contentFields": "effects", "callbackCorrelationId": "123"});
    let with = |base: &serde_json::Value, more: serde_json::Value| {
        let mut out = base.clone();
        out.as_object_mut()
            .unwrap()
            .extend(more.as_object().unwrap().clone());
        out
    };
    let audiences_v2 = |a: &str, b: &str| json!([{"name": format!("testAudience{a}"), "integrationId": format!("testAudience{a}IntegrationId")}, {"name": format!("testAudience{b}"), "integrationId": format!("testAudience{b}IntegrationId")}]);
    let cases = [
        (
            "createAudience",
            json!({"audienceId": "some_audience_id", "audienceName": "some_audience_name"}),
            "POST",
            "/segment/audiences",
            Some(json!({"audienceId": "some_audience_id", "audienceName": "some_audience_name"})),
        ),
        (
            "updateAudience",
            json!({"audienceId": "some_audience_id", "audienceName": "some_audience_name"}),
            "PUT",
            "/segment/audiences/some_audience_id",
            Some(json!({"audienceName": "some_audience_name"})),
        ),
        (
            "deleteAudience",
            json!({"audienceId": "some_audience_id"}),
            "DELETE",
            "/segment/audiences/some_audience_id",
            None,
        ),
        (
            "trackEvent",
            json!({"customerProfileId": "some_customer_profile_id", "eventType": "event_type", "type": "string", "attributes": attrs, "attributesInfo": info3}),
            "PUT",
            "/segment/event",
            Some(
                json!({"customerProfileId": "some_customer_profile_id", "eventType": "event_type", "type": "string", "eventAttributes": attrs, "attributesInfo": info3}),
            ),
        ),
        (
            "trackEventV2",
            json!({"customerProfileId": "some_customer_profile_id", "skipNonExistingAttributes": true, "eventType": "event_type", "attributes": attrs}),
            "PUT",
            "/segment/v2/events?skipNonExistingAttributes=true",
            Some(
                json!({"customerProfileId": "some_customer_profile_id", "eventType": "event_type", "eventAttributes": attrs}),
            ),
        ),
        (
            "updateCustomerProfile",
            json!({"customerProfileId": "abc123", "attributes": {"testAttribute1": "testValue", "stringAttribute": "test"}, "addAudienceIds": [1, 2, 3], "deleteAudienceIds": [4, 5, 6], "runRuleEngine": true, "attributesInfo": info3}),
            "PUT",
            "/segment/customer_profile/abc123",
            Some(
                json!({"attributes": {"testAttribute1": "testValue", "stringAttribute": "test"}, "audiencesChanges": {"adds": [1, 2, 3], "deletes": [4, 5, 6]}, "runRuleEngine": true, "attributesInfo": info3}),
            ),
        ),
        (
            "updateCustomerProfileV2",
            json!({"customerProfileId": "abc123", "audiencesToAdd": audiences_v2("1", "2"), "audiencesToDelete": audiences_v2("3", "4"), "runRuleEngine": true, "attributes": {"testAttribute1": "testValue1", "testAttribute2": "testValue2"}, "attributesInfo": info2}),
            "PUT",
            "/segment/customer_profile_v2/abc123",
            Some(
                json!({"audiencesChanges": {"adds": audiences_v2("1", "2"), "deletes": audiences_v2("3", "4")}, "runRuleEngine": true, "attributes": {"testAttribute1": "testValue1", "testAttribute2": "testValue2"}, "attributesInfo": info2}),
            ),
        ),
        (
            "updateCustomerProfileV3",
            json!({"customerProfileId": "abc123", "addAudienceIds": [1, 2, 3], "deleteAudienceIds": [4, 5, 6], "runRuleEngine": true, "attributes": {"testAttribute1": "testValue1", "testAttribute2": "testValue2"}, "skipNonExistingAttributes": true}),
            "PUT",
            "/segment/v2/customer_profiles/abc123?skipNonExistingAttributes=true",
            Some(
                json!({"audiencesChanges": {"adds": [1, 2, 3], "deletes": [4, 5, 6]}, "runRuleEngine": true, "attributes": {"testAttribute1": "testValue1", "testAttribute2": "testValue2"}}),
            ),
        ),
        (
            "updateCustomerProfilesAudiences",
            json!({"data": [{"customerProfileId": "abc123", "adds": [1, 2, 3], "deletes": [4, 5, 6]}, {"customerProfileId": "def456", "adds": [5, 6, 7], "deletes": [8, 9, 10]}]}),
            "PUT",
            "/segment/customer_profiles/audiences",
            Some(
                json!({"data": [{"customerProfileId": "abc123", "adds": [1, 2, 3], "deletes": [4, 5, 6]}, {"customerProfileId": "def456", "adds": [5, 6, 7], "deletes": [8, 9, 10]}]}),
            ),
        ),
        (
            "updateCustomerSession",
            with(
                &callbacks,
                json!({"customerSession": session, "sessionAttributesInfo": info2}),
            ),
            "PUT",
            "/segment/customer_sessions/session123abc",
            Some(json!({"customerSession": session, "sessionAttributesInfo": info2})),
        ),
        (
            "updateCustomerSessionV2",
            with(
                &callbacks,
                with(&session, json!({"skipNonExistingAttributes": true})),
            ),
            "PUT",
            "/segment/v2/customer_sessions/session123abc?skipNonExistingAttributes=true",
            Some(session.clone()),
        ),
    ];
    for (slug, mapping, method, path, body) in cases {
        let mapped = map_with(one_subscription(slug, mapping), json!({"type": "track"}));
        let [request] = mapped.requests.as_slice() else {
            panic!("{slug}: {}", mapped.render())
        };
        assert_eq!((request.method, request.path()), (method, path), "{slug}");
        let sent = (!request.body.is_empty())
            .then(|| serde_json::from_str::<serde_json::Value>(&request.body).unwrap());
        assert_eq!(sent, body, "{slug}");
        assert_eq!(
            request.header("authorization"),
            Some("ApiKey-v1 some_api_key"),
            "{slug}"
        );
        assert_eq!(
            request.header("destination-hostname"),
            Some("https://something.europe-west1.talon.one"),
            "{slug}"
        );
    }
}

/// The destination's own "misses …" tests (action-destinations 970a17ee): the mapping and
/// the text the error must contain. Their `try/catch` checks the message only if something
/// throws; here the skip must happen, and must say it.
#[test]
fn segments_own_misses_tests_are_rejected_with_their_messages() {
    use serde_json::json;
    let root = |field: &str| format!("The root value is missing the required field '{field}'.");
    let cases = [
        ("createAudience", json!({}), root("audienceId")),
        (
            "createAudience",
            json!({"audienceId": "some_audience_id"}),
            root("audienceName"),
        ),
        ("deleteAudience", json!({}), root("audienceId")),
        ("trackEvent", json!({}), root("customerProfileId")),
        (
            "trackEvent",
            json!({"customerProfileId": "p"}),
            root("eventType"),
        ),
        (
            "trackEvent",
            json!({"customerProfileId": "p", "eventType": "event_type"}),
            root("type"),
        ),
        ("trackEventV2", json!({}), root("customerProfileId")),
        // Segment's test calls `trackEvenV2` (a typo) and passes vacuously; the real action
        // does refuse it.
        (
            "trackEventV2",
            json!({"customerProfileId": "p"}),
            root("eventType"),
        ),
        ("updateAudience", json!({}), root("audienceId")),
        (
            "updateAudience",
            json!({"audience_id": "some_audience_id"}),
            root("audienceName"),
        ),
        (
            "updateCustomerProfile",
            json!({}),
            root("customerProfileId"),
        ),
        (
            "updateCustomerProfile",
            json!({"customerProfileId": "", "attributes": [], "audiencesChanges": {"adds": [], "deletes": []}, "runRuleEngine": true}),
            root("customerProfileId"),
        ),
        (
            "updateCustomerProfileV2",
            json!({}),
            root("customerProfileId"),
        ),
        (
            "updateCustomerProfileV2",
            json!({"customerProfileId": "", "audiencesToAdd": [], "audiencesToDelete": [], "runRuleEngine": true, "attributes": [], "attributesInfo": []}),
            root("customerProfileId"),
        ),
        (
            "updateCustomerProfileV3",
            json!({}),
            root("customerProfileId"),
        ),
        (
            "updateCustomerProfileV3",
            json!({"customerProfileId": "", "addAudienceIds": [], "deleteAudienceIds": [], "runRuleEngine": true, "attributes": []}),
            root("customerProfileId"),
        ),
        ("updateCustomerProfilesAudiences", json!({}), root("data")),
        (
            "updateCustomerProfilesAudiences",
            json!({"data": [{"adds": [1, 2, 3], "deletes": [4, 5, 6]}]}),
            "The value at /data/0 is missing the required field 'customerProfileId'.".to_owned(),
        ),
        (
            "updateCustomerSession",
            json!({}),
            root("customerSessionId"),
        ),
        (
            "updateCustomerSession",
            json!({"customerSessionId": "session123abc"}),
            root("customerSession"),
        ),
        (
            "updateCustomerSession",
            json!({"customerSession": {}, "sessionAttributesInfo": [], "cartItemAttributesInfo": []}),
            root("customerSessionId"),
        ),
        (
            "updateCustomerSessionV2",
            json!({}),
            root("customerSessionId"),
        ),
        (
            "updateCustomerSessionV2",
            json!({"customerSession": {}, "sessionAttributesInfo": [], "cartItemAttributesInfo": []}),
            root("customerSessionId"),
        ),
    ];
    for (slug, mapping, expected) in cases {
        let mapped = map_with(
            one_subscription(slug, mapping.clone()),
            json!({"type": "track"}),
        );
        let skip = mapped
            .skip()
            .unwrap_or_else(|| panic!("{slug} {mapping}: {}", mapped.render()));
        assert_eq!(skip.code(), "rejected", "{slug} {mapping}");
        assert!(
            skip.to_string().contains(&expected),
            "{slug} {mapping}: {skip}"
        );
    }
    // The typo'd slug itself: an unknown action, so nothing runs and nothing throws.
    let config =
        config(&one_subscription("trackEvenV2", json!({"customerProfileId": "p"})).to_string());
    assert_eq!(config.diagnostics()[0].kind.code(), "unknown_action");
    assert_eq!(
        map(&Destination::Actions(config), br#"{"type":"track"}"#)
            .skip()
            .unwrap()
            .code(),
        "no_subscription"
    );
}

#[test]
fn a_trigger_that_cannot_be_evaluated_on_an_event_does_not_match_and_says_why() {
    let subscriptions = serde_json::json!([{"name": "odd", "actionSlug": "trackEventV2",
        "trigger": "properties.items.map.length = 1",
        "settings": {"customerProfileId": "u", "eventType": "e"}}]);
    let mapped = map_with(
        subscriptions,
        serde_json::json!({"type": "track", "properties": {"items": [1]}}),
    );
    assert_eq!(mapped.skip().unwrap().code(), "no_subscription");
    assert_eq!(mapped.diagnostics[0].kind.code(), "trigger_unevaluable");
    assert!(
        mapped.diagnostics[0]
            .to_string()
            .contains("subscription `odd`"),
        "{}",
        mapped.render()
    );
}

#[test]
fn segment_mapping_s_fixture_holds_the_same_field_definitions_as_the_mapper() {
    // segment-mapping's differential test and pipeline bench read their actions from
    // fixtures/segment-mapping/talon-actions.json: its fields must be the mapper's own.
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let read = |path: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(format!("{root}/{path}")).expect(path);
        serde_json::from_str(&text).expect(path)
    };
    let mapper = read("crates/talon-mapper/src/actions/fields.json");
    let fixture = read("fixtures/segment-mapping/talon-actions.json");
    let actions = fixture.as_object().expect("an object");
    assert!(actions.len() > 1, "{fixture}");
    for (action, entry) in actions.iter().filter(|(k, _)| *k != "_about") {
        let ours = mapper
            .get(action)
            .map(|a| a.get("fields").unwrap_or(a))
            .unwrap_or_else(|| panic!("{action} is not in fields.json"));
        assert_eq!(&entry["fields"], ours, "{action}'s fields differ");
    }
}
