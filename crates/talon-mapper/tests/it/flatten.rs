//! The flattener's rules, one table row per edge case.

use rstest::rstest;
use serde_json::{Value, json};
use talon_mapper::flatten::{FlatTraits, MAX_DEPTH, flatten};

/// Flattens through both drivers, checks they agree, and returns the
/// output object and the diagnostic codes.
fn run(traits: &Value) -> (Value, Vec<&'static str>) {
    let map = traits.as_object().expect("an object");
    let walked = flatten(map);
    let text = serde_json::to_string(traits).unwrap();
    let FlatTraits(parsed) = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(walked, parsed, "the two drivers disagree on {text}");
    let codes = walked.diagnostics.iter().map(|d| d.kind.code()).collect();
    (Value::Object(walked.to_json()), codes)
}

#[rstest]
#[case::one_level(json!({"address": {"city": "Berlin"}}), json!({"address_city": "Berlin"}), vec![])]
#[case::three_levels(json!({"a": {"b": {"c": 1}}}), json!({"a_b_c": 1}), vec![])]
#[case::flat_is_kept(json!({"email": "x", "n": 1.5, "b": false}), json!({"b": false, "email": "x", "n": 1.5}), vec![])]
#[case::array_of_scalars_is_a_list(json!({"l": ["a", "b"]}), json!({"l": ["a", "b"]}), vec![])]
#[case::empty_array_is_an_empty_list(json!({"l": []}), json!({"l": []}), vec![])]
#[case::array_is_not_descended(json!({"o": {"l": [1, 2]}}), json!({"o_l": [1, 2]}), vec![])]
#[case::array_of_objects_is_dropped(json!({"l": [{"a": 1}], "k": 1}), json!({"k": 1}), vec!["unrepresentable_array"])]
#[case::array_of_arrays_is_dropped(json!({"l": [[1]]}), json!({}), vec!["unrepresentable_array"])]
#[case::array_with_null_is_dropped(json!({"l": ["a", null]}), json!({}), vec!["unrepresentable_array"])]
#[case::mixed_list_is_sent_with_a_warning(json!({"l": [1, "a"]}), json!({"l": [1, "a"]}), vec!["mixed_list"])]
#[case::null_is_dropped(json!({"a": null, "b": 1}), json!({"b": 1}), vec!["null_value"])]
#[case::nested_null_is_dropped(json!({"a": {"b": null}}), json!({}), vec!["null_value"])]
#[case::empty_object_yields_nothing(json!({"a": {}}), json!({}), vec!["empty_object"])]
#[case::empty_string_is_a_value(json!({"a": ""}), json!({"a": ""}), vec![])]
#[case::flat_key_beats_nested_path(json!({"address": {"city": "nested"}, "address_city": "flat"}), json!({"address_city": "flat"}), vec!["collision"])]
#[case::collision_is_order_independent(json!({"address_city": "flat", "address": {"city": "nested"}}), json!({"address_city": "flat"}), vec!["collision"])]
#[case::equal_depth_collision_takes_first_path(json!({"a_b": {"c": 1}, "a": {"b_c": 2}}), json!({"a_b_c": 2}), vec!["collision"])]
#[case::three_way_collision_reports_each_loser(json!({"a_b_c": 0, "a_b": {"c": 1}, "a": {"b_c": 2}}), json!({"a_b_c": 0}), vec!["collision", "collision"])]
#[case::unicode_keys_are_kept(json!({"stadt": {"größe": "groß"}}), json!({"stadt_größe": "groß"}), vec![])]
#[case::empty_key(json!({"": {"": 1}}), json!({"_": 1}), vec![])]
#[case::large_numbers_survive(json!({"u": u64::MAX, "i": i64::MIN, "f": 1e300}), json!({"f": 1e300, "i": i64::MIN, "u": u64::MAX}), vec![])]
fn flattening_follows_the_rules(
    #[case] input: Value,
    #[case] expected: Value,
    #[case] codes: Vec<&'static str>,
) {
    let (output, found) = run(&input);
    assert_eq!(output, expected);
    assert_eq!(found, codes);
}

fn nested(depth: usize) -> Value {
    let mut value = json!("leaf");
    for _ in 0..depth {
        value = json!({ "k": value });
    }
    value
}

#[test]
fn a_leaf_at_the_depth_limit_is_kept() {
    let (output, codes) = run(&nested(MAX_DEPTH));
    let key = vec!["k"; MAX_DEPTH].join("_");
    assert_eq!(output, json!({ key: "leaf" }));
    assert!(codes.is_empty(), "{codes:?}");
}

#[test]
fn a_leaf_beyond_the_depth_limit_is_dropped_with_a_warning() {
    let (output, codes) = run(&json!({"ok": 1, "deep": nested(MAX_DEPTH)}));
    assert_eq!(output, json!({"ok": 1}));
    assert_eq!(codes, vec!["too_deep"]);
}

#[test]
fn very_deep_values_do_not_overflow_the_stack() {
    // Build iteratively and flatten with the iterative walker; then take
    // the value apart iteratively too, since dropping a `Value` recurses.
    let mut value = json!(1);
    for _ in 0..100_000 {
        let mut map = serde_json::Map::new();
        map.insert("k".into(), value);
        value = Value::Object(map);
    }
    let flat = flatten(value.as_object().unwrap());
    assert!(flat.leaves.is_empty());
    assert_eq!(flat.diagnostics.len(), 1);
    assert_eq!(flat.diagnostics[0].kind.code(), "too_deep");
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        if let Value::Object(map) = v {
            stack.extend(map.into_iter().map(|(_, v)| v));
        }
    }
}

#[test]
fn deep_json_text_is_dropped_past_the_limit_without_recursing() {
    // Past the limit the parser skips the subtree iteratively, so even
    // nesting far beyond serde_json's recursion limit is read safely.
    let depth = 200_000;
    let text = format!(
        "{{\"ok\":1,\"deep\":{}1{}}}",
        "{\"k\":".repeat(depth),
        "}".repeat(depth)
    );
    let FlatTraits(flat) = serde_json::from_str(&text).expect("deep JSON is read");
    assert_eq!(Value::Object(flat.to_json()), json!({"ok": 1}));
    assert_eq!(flat.diagnostics.len(), 1);
    assert_eq!(flat.diagnostics[0].kind.code(), "too_deep");
}

#[test]
fn collision_diagnostics_name_both_paths() {
    let traits = json!({"address_city": "A", "address": {"city": "B"}});
    let flat = flatten(traits.as_object().unwrap());
    assert_eq!(
        flat.diagnostics[0].to_string(),
        "warning[collision]: `address_city` and `address.city` both flatten to `address_city`: \
         kept `address_city` (fewest levels wins), dropped `address.city`"
    );
}

#[test]
fn paths_with_dots_in_keys_are_bracketed() {
    let traits = json!({"a.b": {"c": null}});
    let flat = flatten(traits.as_object().unwrap());
    assert_eq!(flat.diagnostics[0].kind.subject(), "[\"a.b\"].c");
}

#[test]
fn flattening_an_already_flat_object_is_the_identity() {
    let traits = json!({"a": 1, "b_c": "x", "d": [true], "e": false});
    let (output, codes) = run(&traits);
    assert_eq!(output, traits);
    assert!(codes.is_empty());
}
