//! The package's own test cases, as (trigger, event) → answer.

use segment_subscriptions::{Condition, Expected, Field, GroupOperator, Operator, parse};
use serde_json::json;

use crate::{error, matches};

#[test]
fn should_handle_invalid_payloads() {
    let e = error("typo");
    assert_eq!(e.segment_error_name(), Some("TypeError"));
    assert_eq!(
        e.segment_message().as_deref(),
        Some(segment_subscriptions::SEGMENT_TYPE_ERROR)
    );
}

#[test]
fn should_handle_incomplete_payloads() {
    assert_eq!(
        error("type").segment_message().as_deref(),
        Some("Value token is missing")
    );
    assert_eq!(error("type").segment_error_name(), Some("Error"));
}

#[test]
fn should_handle_invalid_operators() {
    assert_eq!(
        error(r#"type * "32456""#).segment_error_name(),
        Some("TypeError")
    );
}

#[test]
fn should_handle_empty_payload() {
    assert_eq!(error("").segment_error_name(), Some("TypeError"));
}

#[test]
fn should_handle_missing_values() {
    // The end-of-input token is the value.
    let parsed = parse("type = ").ok();
    let expected = Condition::Group {
        operator: GroupOperator::And,
        children: vec![Condition::Field {
            field: Field::EventType,
            operator: Operator::Equals,
            value: Some(Expected::String("eos".into())),
        }],
    };
    assert_eq!(parsed, Some(expected));
    assert!(matches("type = ", &json!({"type": "eos"})));
}

#[test]
fn traits_test_equals_true_is_is_true() {
    assert!(matches(
        "traits.test = true",
        &json!({"traits": {"test": true}})
    ));
    assert!(!matches(
        "traits.test = true",
        &json!({"traits": {"test": "true"}})
    ));
}

#[test]
fn traits_test_equals_the_string_true_is_a_string_comparison() {
    assert!(matches(
        r#"traits.test = "true""#,
        &json!({"traits": {"test": "true"}})
    ));
    assert!(!matches(
        r#"traits.test = "true""#,
        &json!({"traits": {"test": true}})
    ));
}

#[test]
fn traits_test_equals_false_is_is_false() {
    assert!(matches(
        "traits.test = false",
        &json!({"traits": {"test": false}})
    ));
    assert!(!matches("traits.test = false", &json!({"traits": {}})));
}

#[test]
fn should_handle_nested_properties() {
    let event = json!({"properties": {"foo": {"bar": "baz"}}});
    assert!(matches(r#"properties.foo.bar = "baz""#, &event));
}

#[test]
fn type_equals_track() {
    assert!(matches(r#"type = "track""#, &json!({"type": "track"})));
    assert!(!matches(r#"type = "track""#, &json!({"type": "identify"})));
}

#[test]
fn type_equals_track_or_type_equals_identify() {
    let trigger = r#"type = "track" or type = "identify""#;
    assert!(matches(trigger, &json!({"type": "identify"})));
    assert!(!matches(trigger, &json!({"type": "group"})));
}

#[test]
fn event_equals_product_added() {
    assert!(matches(
        r#"event = "Product Added""#,
        &json!({"event": "Product Added"})
    ));
    // Case matters.
    assert!(!matches(
        r#"event = "Product Added""#,
        &json!({"event": "product added"})
    ));
}

#[test]
fn user_id_not_null_is_exists() {
    assert!(matches("userId != null", &json!({"userId": "u1"})));
    assert!(!matches("userId != null", &json!({"userId": null})));
    assert!(!matches("userId != null", &json!({})));
}

#[test]
fn context_foo_equals_bar() {
    assert!(matches(
        r#"context.foo = "bar""#,
        &json!({"context": {"foo": "bar"}})
    ));
}

#[test]
fn name_equals_home() {
    assert!(matches(r#"name = "Home""#, &json!({"name": "Home"})));
}

#[test]
fn name_not_null_and_name_null_are_exists_and_not_exists() {
    assert!(matches("name != null", &json!({"name": "Home"})));
    assert!(matches("name = null", &json!({})));
    assert!(matches("name = null", &json!({"name": null})));
}

#[test]
fn event_equals_product_added_or_order_completed() {
    let trigger = r#"event = "Product Added" or event = "Order Completed""#;
    assert!(matches(trigger, &json!({"event": "Order Completed"})));
}

#[test]
fn type_track_and_event_product_added() {
    let trigger = r#"type = "track" and event = "Product Added""#;
    assert!(matches(
        trigger,
        &json!({"type": "track", "event": "Product Added"})
    ));
    assert!(!matches(
        trigger,
        &json!({"type": "page", "event": "Product Added"})
    ));
}

#[test]
fn type_track_and_a_group_of_two_events() {
    let trigger = r#"type = "track" and (event = "Product Added" or event = "Order Completed")"#;
    assert!(matches(
        trigger,
        &json!({"type": "track", "event": "Order Completed"})
    ));
    assert!(!matches(
        trigger,
        &json!({"type": "page", "event": "Order Completed"})
    ));
}

#[test]
fn event_and_property_price_at_least_100() {
    let trigger = r#"event = "Product Added" and properties.price >= 100"#;
    assert!(matches(
        trigger,
        &json!({"event": "Product Added", "properties": {"price": 100}})
    ));
    // A numeric string is not a number.
    assert!(!matches(
        trigger,
        &json!({"event": "Product Added", "properties": {"price": "100"}})
    ));
}

#[test]
fn traits_logins_at_least_10() {
    assert!(matches(
        "traits.logins >= 10",
        &json!({"traits": {"logins": 12}})
    ));
}

#[test]
fn two_groups_joined_by_or() {
    let trigger = r#"(event = "Product Added" and properties.price >= 100) or (event = "Order Completed" and properties.total >= 500)"#;
    assert!(matches(
        trigger,
        &json!({"event": "Order Completed", "properties": {"total": 500}})
    ));
    assert!(!matches(
        trigger,
        &json!({"event": "Order Completed", "properties": {"total": 5}})
    ));
}

#[test]
fn support_contains_and_not_contains() {
    assert!(matches(
        r#"contains(event, "Product")"#,
        &json!({"event": "Product Added"})
    ));
    assert!(matches(
        r#"contains(properties.sku, "99")"#,
        &json!({"properties": {"sku": "a99"}})
    ));
    assert!(matches(
        r#"contains(traits.email, "@")"#,
        &json!({"traits": {"email": "a@b"}})
    ));
    assert!(matches(
        r#"!contains(event, "Product")"#,
        &json!({"event": "Order Completed"})
    ));
    // Neither matches what is not a string.
    assert!(!matches(r#"!contains(event, "Product")"#, &json!({})));
}

#[test]
fn support_starts_with_and_not_starts_with() {
    assert!(matches(
        r#"match(event, "Product*")"#,
        &json!({"event": "Product Added"})
    ));
    assert!(matches(
        r#"match(properties.sku, "ab*")"#,
        &json!({"properties": {"sku": "abc"}})
    ));
    assert!(matches(
        r#"!match(traits.plan, "pro*")"#,
        &json!({"traits": {"plan": "basic"}})
    ));
}

#[test]
fn support_ends_with_and_not_ends_with() {
    assert!(matches(
        r#"match(event, "*Added")"#,
        &json!({"event": "Product Added"})
    ));
    assert!(matches(
        r#"match(traits.email, "*.com")"#,
        &json!({"traits": {"email": "a@b.com"}})
    ));
    assert!(matches(
        r#"!match(name, "*Home")"#,
        &json!({"name": "About"})
    ));
}

#[test]
fn support_exists_and_not_exists_for_properties_and_traits() {
    assert!(matches(
        "properties.coupon != null",
        &json!({"properties": {"coupon": ""}})
    ));
    assert!(matches(
        "traits.email = null",
        &json!({"traits": {"email": null}})
    ));
    assert!(!matches(
        "traits.email = null",
        &json!({"traits": {"email": "a@b"}})
    ));
}

#[test]
fn operators_equals_numbers_is_number_equals() {
    assert!(matches(
        "properties.n = 5",
        &json!({"properties": {"n": 5.0}})
    ));
    assert!(!matches(
        "properties.n = 5",
        &json!({"properties": {"n": "5"}})
    ));
    assert!(matches(
        "properties.n != 5",
        &json!({"properties": {"n": 6}})
    ));
    // number_not_equals wants a number: a missing value matches neither.
    assert!(!matches("properties.n != 5", &json!({"properties": {}})));
}

#[test]
fn operators_not_equals_strings_matches_a_missing_value() {
    assert!(matches(
        r#"properties.plan != "pro""#,
        &json!({"properties": {}})
    ));
    assert!(!matches(
        r#"properties.plan != "pro""#,
        &json!({"properties": {"plan": "pro"}})
    ));
}

#[test]
fn operators_less_and_greater_compare_numbers_only() {
    let event = json!({"properties": {"n": 5}});
    assert!(matches("properties.n < 6", &event));
    assert!(matches("properties.n <= 5", &event));
    assert!(matches("properties.n > 4", &event));
    assert!(!matches("properties.n > 5", &event));
    assert!(!matches(
        "properties.n < 6",
        &json!({"properties": {"n": "5"}})
    ));
}

#[test]
fn event_type_not_group() {
    assert!(matches(r#"type != "group""#, &json!({"type": "track"})));
}

#[test]
fn event_page_viewed_and_context_ip() {
    let trigger = r#"event = "Page Viewed" and context.ip = "1.1.1.1""#;
    assert!(matches(
        trigger,
        &json!({"event": "Page Viewed", "context": {"ip": "1.1.1.1"}})
    ));
}

#[test]
fn type_track_and_event_or_event_joins_all_with_or() {
    // validate.test.ts builds this one as an AST; the parser gives the last joiner to all.
    let trigger = r#"type = "track" and event = "Page Viewed" or event = "Order Completed""#;
    assert!(matches(
        trigger,
        &json!({"type": "page", "event": "Order Completed"})
    ));
}

#[test]
fn contains_missing_its_arguments_is_segments_error() {
    assert_eq!(
        error("contains").segment_message().as_deref(),
        Some("contains() is missing a 1st argument")
    );
    assert_eq!(
        error("contains(event").segment_message().as_deref(),
        Some("contains() is missing a 2nd argument")
    );
    assert_eq!(
        error("match(event").segment_message().as_deref(),
        Some("match() is missing a 2nd argument")
    );
}
