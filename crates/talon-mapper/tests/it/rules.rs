//! The mapping rules as properties: totality, determinism, encoding, Engage.

use percent_encoding::percent_decode_str;
use serde_json::{Value, json};
use talon_mapper::request::PROFILE_PATH;
use talon_mapper::{Mapped, Settings, map_json};

use crate::{default_settings, settings_with};

fn map(event: &Value, settings: &Settings) -> Mapped {
    map_json(event.to_string().as_bytes(), settings)
}

fn body(mapped: &Mapped) -> Value {
    serde_json::from_str(&mapped.request().expect("a request").body).unwrap()
}

fn codes(mapped: &Mapped) -> Vec<&'static str> {
    mapped.diagnostics.iter().map(|d| d.kind.code()).collect()
}

#[test]
fn the_integration_id_in_the_url_decodes_back_to_the_user_id() {
    let settings = settings_with(&[]);
    for id in [
        "a/b", "a#b", "a?b", "a%b", " a b ", "Jürgen", "日本", "🎉", "a%2Fb", "-._~", "x+y&z=1",
        "\\",
    ] {
        let mapped = map(&json!({"type": "identify", "userId": id}), &settings);
        let request = mapped.request().unwrap();
        let segment = request.path().strip_prefix(PROFILE_PATH).unwrap();
        assert!(!segment.contains(['/', '#', '?', ' ']), "{segment}");
        assert_eq!(percent_decode_str(segment).decode_utf8().unwrap(), id);
        assert_eq!(request.key, id);
    }
}

#[test]
fn dot_segments_cannot_be_routed_and_are_skipped() {
    let settings = settings_with(&[]);
    for id in [".", ".."] {
        let mapped = map(&json!({"type": "identify", "userId": id}), &settings);
        assert_eq!(mapped.skip().unwrap().code(), "invalid_user_id");
    }
    let mapped = map(&json!({"type": "identify", "userId": "..."}), &settings);
    assert!(mapped.request().unwrap().url.ends_with("/..."));
}

#[test]
fn numeric_user_ids_become_decimal_strings() {
    let settings = settings_with(&[]);
    for (id, expected) in [
        (json!(42), "42"),
        (json!(-7), "-7"),
        (json!(1.5), "1.5"),
        (json!(u64::MAX), "18446744073709551615"),
    ] {
        let mapped = map(&json!({"type": "identify", "userId": id}), &settings);
        assert_eq!(mapped.request().unwrap().key, expected);
        assert!(codes(&mapped).contains(&"numeric_user_id"));
    }
}

#[test]
fn over_long_user_ids_are_sent_with_a_warning() {
    let id = "x".repeat(1001);
    let mapped = map(
        &json!({"type": "identify", "userId": id}),
        &settings_with(&[]),
    );
    assert_eq!(mapped.request().unwrap().key.len(), 1001);
    assert!(codes(&mapped).contains(&"user_id_too_long"));
}

#[test]
fn only_byte_exact_names_are_sent() {
    let settings = settings_with(&["email", "address_city"]);
    let mapped = map(
        &json!({"type": "identify", "userId": "u", "traits": {"email": "a", "EMAIL": "b", "address": {"City": "c"}}}),
        &settings,
    );
    assert_eq!(body(&mapped), json!({"attributes": {"email": "a"}}));
    let messages: Vec<String> = mapped.diagnostics.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "warning[case_mismatch]: trait `EMAIL` was not sent: the trait is `EMAIL`, Custom Attributes lists `email` (names are case-sensitive): if Talon.One's attribute is `EMAIL`, change the setting to `EMAIL`; if it is `email`, send the trait as `email`",
            "warning[case_mismatch]: trait `address_City` was not sent: the trait is `address_City`, Custom Attributes lists `address_city` (names are case-sensitive): if Talon.One's attribute is `address_City`, change the setting to `address_City`; if it is `address_city`, send the trait as `address_city`",
        ]
    );
}

#[test]
fn a_dotted_setting_explains_why_the_flattened_key_was_not_sent() {
    let json =
        r#"{"apiKey":"k","applicationDomain":"https://a.b","customAttributes":["address.city"]}"#;
    let (settings, _) = Settings::parse_lenient(json).unwrap();
    let mapped = map(
        &json!({"type": "identify", "userId": "u", "traits": {"address": {"city": "Berlin"}}}),
        &settings,
    );
    assert_eq!(body(&mapped), json!({"attributes": {}}));
    assert_eq!(codes(&mapped), ["no_attributes", "dotted_configured"]);
    let message = mapped.diagnostics[1].kind.to_string();
    assert_eq!(
        message,
        "trait `address_city` was not sent: Custom Attributes lists `address.city`, but Segment flattens nested traits with `_`, not `.`: change the setting to `address_city`"
    );
    assert!(!message.contains("case"), "{message}");
}

#[test]
fn engage_keys_bypass_custom_attributes_but_other_traits_do_not() {
    let event = json!({"type": "identify", "userId": "u",
        "traits": {"vip": true, "email": "e", "plan": "p"},
        "context": {"personas": {"computation_class": "audience", "computation_key": "vip"}}});
    let mapped = map(&event, &settings_with(&["email"]));
    assert_eq!(
        body(&mapped),
        json!({"attributes": {"email": "e", "vip": true}})
    );
    assert_eq!(codes(&mapped), ["not_configured", "engage_key_sent"]);
}

#[test]
fn an_engage_key_that_is_also_configured_gets_no_bypass_note() {
    let event = json!({"type": "identify", "userId": "u", "traits": {"vip": false},
        "context": {"personas": {"computation_class": "audience", "computation_key": "vip"}}});
    let mapped = map(&event, &settings_with(&["vip"]));
    assert_eq!(body(&mapped), json!({"attributes": {"vip": false}}));
    assert!(mapped.diagnostics.is_empty());
}

#[test]
fn a_nested_engage_value_is_not_the_key() {
    let event = json!({"type": "identify", "userId": "u", "traits": {"vip": {"x": true}},
        "context": {"personas": {"computation_class": "trait", "computation_key": "vip"}}});
    let mapped = map(&event, &settings_with(&[]));
    assert_eq!(body(&mapped), json!({"attributes": {}}));
    assert_eq!(
        codes(&mapped),
        ["no_attributes", "computation_key_missing", "not_configured"]
    );
}

#[test]
fn malformed_personas_are_ignored_with_a_warning() {
    for context in [
        json!("x"),
        json!({"personas": 5}),
        json!({"personas": {"computation_class": "audience"}}),
        json!({"personas": {"computation_key": "k"}}),
        json!({"personas": {"computation_class": "audience", "computation_key": ""}}),
    ] {
        let event =
            json!({"type": "identify", "userId": "u", "traits": {"k": true}, "context": context});
        let mapped = map(&event, &settings_with(&[]));
        assert_eq!(body(&mapped), json!({"attributes": {}}), "{context}");
        assert!(codes(&mapped).contains(&"personas_ignored"), "{context}");
    }
}

#[test]
fn every_event_gets_exactly_one_outcome_and_never_panics() {
    let settings = default_settings();
    let inputs: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"null".to_vec(),
        b"1".to_vec(),
        b"\"identify\"".to_vec(),
        b"{".to_vec(),
        b"{\"type\":\"identify\",\"userId\":\"u\",\"traits\":{\"a\":\"\xff\"}}".to_vec(),
        br#"{"type":"identify","type":"identify","userId":"u"}"#.to_vec(),
        br#"{"type":7,"userId":"u"}"#.to_vec(),
        br#"{"type":"identify","userId":{"id":1}}"#.to_vec(),
        br#"{"type":"identify","userId":"u","traits":{"a":1e999}}"#.to_vec(),
        br#"{"type":"identify","userId":"u","traits":{"\ud800":1}}"#.to_vec(),
    ];
    for input in &inputs {
        let mapped = map_json(input, &settings);
        assert!(mapped.request().is_some() ^ mapped.skip().is_some());
    }
    assert_eq!(
        map_json(b"{", &settings).skip().unwrap().code(),
        "invalid_event"
    );
    // Every prefix of every fixture, too: truncated input never panics.
    for entry in std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/segment"
    ))
    .unwrap()
    {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        for end in 0..bytes.len() {
            let mapped = map_json(&bytes[..end], &settings);
            assert!(mapped.request().is_some() ^ mapped.skip().is_some());
        }
    }
}

#[test]
fn mapping_is_deterministic_and_independent_of_key_order() {
    let settings = default_settings();
    let a = br#"{"type":"identify","userId":"u","traits":{"email":"e","address":{"city":"B","street":"S"},"address_city":"A","x":null,"Plan":"p"}}"#;
    let b = br#"{"traits":{"Plan":"p","x":null,"address_city":"A","address":{"street":"S","city":"B"},"email":"e"},"userId":"u","type":"identify"}"#;
    let first = map_json(a, &settings);
    assert_eq!(map_json(a, &settings), first);
    assert_eq!(map_json(b, &settings), first);
    assert_eq!(first.render(), map_json(b, &settings).render());
}

#[test]
fn the_body_keys_are_sorted_bytewise() {
    let settings = settings_with(&["b", "B", "a", "a_b", "aa"]);
    let mapped = map(
        &json!({"type": "identify", "userId": "u", "traits": {"b": 1, "aa": 2, "B": 3, "a": {"b": 4}, "a_b": 5}}),
        &settings,
    );
    assert_eq!(
        mapped.request().unwrap().body,
        r#"{"attributes":{"B":3,"a_b":5,"aa":2,"b":1}}"#
    );
    assert_eq!(codes(&mapped), ["collision"]);
}

#[test]
fn requests_carry_the_documented_headers() {
    let mapped = map(
        &json!({"type": "identify", "userId": "u"}),
        &settings_with(&[]),
    );
    let request = mapped.request().unwrap();
    assert_eq!(request.method, "PUT");
    assert_eq!(request.header("Authorization"), Some("ApiKey-v1 key"));
    assert_eq!(request.header("Content-Type"), Some("application/json"));
    assert_eq!(request.body, r#"{"attributes":{}}"#);
    assert!(
        request
            .render()
            .contains("Authorization: ApiKey-v1 [redacted]")
    );
    assert_eq!(
        request.to_json(false)["headers"]["Authorization"],
        "ApiKey-v1 [redacted]"
    );
    assert_eq!(
        request.to_json(true)["headers"]["Authorization"],
        "ApiKey-v1 key"
    );
}

#[test]
fn an_event_that_is_not_utf8_is_skipped_as_unreadable_even_in_a_field_the_rules_skip() {
    let settings = settings_with(&["email"]);
    let mut event = br#"{"type":"identify","userId":"u1","context":{"note":"x"#.to_vec();
    event.push(0xFF);
    event.extend_from_slice(br#""}}"#);
    let mapped = map_json(&event, &settings);
    assert!(mapped.request().is_none(), "{}", mapped.render());
    let json = mapped.to_json(false);
    assert_eq!(json["skip"]["reason"], "invalid_event");
    assert_eq!(
        json["skip"]["message"],
        "not a readable Segment event: not valid UTF-8 (byte 54)"
    );
}
