//! The JavaScript and parser quirks this crate keeps, and the constructs it refuses.

use segment_subscriptions::{EvalError, TriggerError, Unsupported, parse};
use serde_json::json;

use crate::{error, matches};

#[test]
fn the_last_joiner_of_a_group_joins_all_of_it() {
    let trigger = r#"type = "track" and event = "A" or event = "B""#;
    assert!(matches(trigger, &json!({"type": "page", "event": "A"})));
}

#[test]
fn a_bang_before_a_group_is_dropped() {
    assert!(matches(r#"!(type = "track")"#, &json!({"type": "track"})));
}

#[test]
fn the_parenthesis_of_a_function_closes_the_group_around_it() {
    // The group ends at contains()'s `)`: the `or` then joins the whole trigger.
    let trigger = r#"type = "track" and (contains(event, "Order") or event = "X")"#;
    assert!(matches(trigger, &json!({"type": "page", "event": "X"})));
}

#[test]
fn an_unknown_field_is_skipped() {
    assert!(matches(
        r#"anonymousId = "a1" and type = "track""#,
        &json!({"type": "track"})
    ));
    assert_eq!(error(r#"anonymousId = "a1""#), TriggerError::NoCondition);
}

#[test]
fn nested_parentheses_are_segments_type_error() {
    assert_eq!(
        error(r#"((type = "track"))"#),
        TriggerError::UnclosedParenthesis
    );
    assert_eq!(
        error(r#"(type = "track""#),
        TriggerError::UnclosedParenthesis
    );
}

#[test]
fn match_without_a_star_drops_the_first_character() {
    assert!(matches(r#"match(name, "abc")"#, &json!({"name": "xbc"})));
}

#[test]
fn single_quotes_stay_part_of_the_value() {
    assert!(matches("event = 'A'", &json!({"event": "'A'"})));
    assert!(!matches("event = 'A'", &json!({"event": "A"})));
}

#[test]
fn a_falsy_value_on_the_path_is_the_result() {
    assert!(matches(
        "properties.a.b < 1",
        &json!({"properties": {"a": 0}})
    ));
    assert!(matches(
        r#"properties.a.b = """#,
        &json!({"properties": {"a": ""}})
    ));
}

#[test]
fn length_and_indexes_of_strings_and_arrays_are_found() {
    assert!(matches(
        "properties.s.length = 3",
        &json!({"properties": {"s": "a😀"}})
    ));
    assert!(matches(
        "properties.items.length > 1",
        &json!({"properties": {"items": [1, 2]}})
    ));
    assert!(matches(
        r#"properties.items.\0.sku = "x""#,
        &json!({"properties": {"items": [{"sku": "x"}]}})
    ));
    assert!(matches(
        r#"properties.s.\1 = "b""#,
        &json!({"properties": {"s": "abc"}})
    ));
}

#[test]
fn a_built_in_name_finds_a_function_that_exists_and_equals_nothing() {
    let event = json!({"properties": {"items": []}});
    assert!(matches("properties.items.map exists 1", &event));
    assert!(!matches(r#"properties.items.map = "x""#, &event));
    assert!(matches(
        "properties.toString != null",
        &json!({"properties": {}})
    ));
}

#[test]
fn a_path_going_on_past_a_built_in_is_an_error_not_a_guess() {
    let condition = parse("properties.items.map.length > 0").ok();
    let answer = condition.map(|c| c.matches(&json!({"properties": {"items": []}})));
    assert!(
        matches!(answer, Some(Err(EvalError::BuiltIn { .. }))),
        "{answer:?}"
    );
    // A key a method does not have is plainly missing.
    assert!(matches(
        "properties.items.map.foo = null",
        &json!({"properties": {"items": []}})
    ));
}

#[test]
fn numbers_compare_with_javascripts_number_of_the_value() {
    let event = json!({"properties": {"n": 15}});
    assert!(matches(r#"properties.n < "0x10""#, &event));
    assert!(matches(r#"properties.n > " 14 ""#, &event));
    assert!(!matches(r#"properties.n < "abc""#, &event));
    assert!(matches("properties.n > true", &event));
}

#[test]
fn strings_compare_as_utf16_code_units() {
    // "😀x".slice(1) keeps half of the emoji, which still ends "😀x".
    assert!(matches(r#"match(name, "😀x")"#, &json!({"name": "a😀x"})));
    assert!(matches(r#"contains(name, "é")"#, &json!({"name": "café"})));
}

#[test]
fn glued_operators_are_lexer_errors() {
    assert!(matches!(error(r#"userId !="x""#), TriggerError::Lex(_)));
    assert!(matches!(error("properties.x>5"), TriggerError::Lex(_)));
    assert!(matches!(
        error("type = \"track\"\r\n"),
        TriggerError::Lex(_)
    ));
    assert!(matches(r#"userId ="x""#, &json!({"userId": "x"})));
}

#[test]
fn an_unknown_operator_is_refused_by_name() {
    assert_eq!(
        error(r#"properties.plan foo "pro""#),
        TriggerError::Unsupported(Unsupported::Operator("foo".to_owned()))
    );
    assert!(
        error(r#"properties.plan foo "pro""#)
            .to_string()
            .contains("`foo`")
    );
    // An identifier operator the package knows is read as that operator.
    assert!(matches(
        r#"properties.plan contains "ro""#,
        &json!({"properties": {"plan": "pro"}})
    ));
}

#[test]
fn an_empty_group_beside_conditions_is_refused() {
    assert_eq!(
        error(r#"type = "track" and ()"#),
        TriggerError::Unsupported(Unsupported::EmptyGroup)
    );
    assert_eq!(error("()"), TriggerError::NoCondition);
}

#[test]
fn a_path_without_a_key_is_refused() {
    assert_eq!(
        error(r"properties.\. exists 1"),
        TriggerError::Unsupported(Unsupported::PathWithoutKey(".".to_owned()))
    );
}

#[test]
fn an_event_that_is_not_an_object_is_an_error() {
    let condition = parse(r#"type = "track""#).ok();
    assert_eq!(
        condition.map(|c| c.matches(&json!(null))),
        Some(Err(EvalError::NotAnObject))
    );
}
