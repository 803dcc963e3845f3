//! `Scenario::trait_schema` covers every trait path the stream sends, with its type.

use std::collections::BTreeMap;

use segment_gen::{Scenario, TraitClass, TraitSpec, TraitType};
use serde_json::{Map, Value};

use crate::support::{run, small, small_edge};

fn leaves(
    prefix: &mut Vec<String>,
    object: &Map<String, Value>,
    out: &mut Vec<(Vec<String>, Value)>,
) {
    for (key, value) in object {
        prefix.push(key.clone());
        match value {
            Value::Object(inner) => leaves(prefix, inner, out),
            leaf => out.push((prefix.clone(), leaf.clone())),
        }
        prefix.pop();
    }
}

/// Every trait leaf the events send, with its schema entry; a leaf the
/// schema does not list fails the test.
fn sent_traits<'s>(
    events: &[Value],
    schema: &'s BTreeMap<Vec<String>, TraitSpec>,
) -> Vec<(Vec<String>, Value, &'s TraitSpec)> {
    let mut found = Vec::new();
    for traits in events.iter().filter_map(|e| e["traits"].as_object()) {
        leaves(&mut Vec::new(), traits, &mut found);
    }
    found
        .into_iter()
        .map(|(path, value)| {
            let spec = schema
                .get(&path)
                .unwrap_or_else(|| panic!("{path:?} is not in the schema"));
            (path, value, spec)
        })
        .collect()
}

fn is_time(s: &str) -> bool {
    s.len() == 24 && s.as_bytes()[10] == b'T' && s.ends_with('Z')
}

fn matches(ty: TraitType, value: &Value) -> bool {
    match ty {
        TraitType::String => value.is_string(),
        TraitType::Number => value.is_number(),
        TraitType::Boolean => value.is_boolean(),
        TraitType::Time => value.as_str().is_some_and(is_time),
        TraitType::StringList => value
            .as_array()
            .is_some_and(|a| a.iter().all(Value::is_string)),
        TraitType::Json => value.is_array(),
    }
}

fn schema_map(scenario: &Scenario) -> BTreeMap<Vec<String>, TraitSpec> {
    scenario
        .trait_schema()
        .into_iter()
        .map(|s| (s.path.clone(), s))
        .collect()
}

#[test]
fn every_realistic_trait_value_has_the_type_its_schema_entry_says() {
    let scenario = small(400, 30);
    let schema = schema_map(&scenario);
    let mut seen = std::collections::BTreeSet::new();
    let events: Vec<Value> = run(scenario, 61).values().collect();
    for event in &events {
        assert!(
            !event.to_string().contains("{}") || event["integrations"] == serde_json::json!({})
        );
    }
    for (path, value, spec) in sent_traits(&events, &schema) {
        assert!(!spec.irregular);
        assert!(
            matches(spec.ty, &value),
            "{path:?} = {value} is not {:?}",
            spec.ty
        );
        seen.insert(path);
    }
    // The realistic profile uses its whole schema.
    let unused: Vec<_> = schema.keys().filter(|p| !seen.contains(*p)).collect();
    assert!(unused.is_empty(), "never sent: {unused:?}");
}

#[test]
fn every_edge_trait_path_is_in_the_schema() {
    let scenario = small_edge(300, 20);
    let schema = schema_map(&scenario);
    let mut deviations = 0;
    for (path, value, spec) in sent_traits(&run(scenario, 62).values().collect::<Vec<_>>(), &schema)
    {
        if !matches(spec.ty, &value) {
            assert!(spec.irregular, "{path:?} = {value}");
            deviations += 1;
        }
    }
    assert!(deviations > 50, "{deviations}");
}

#[test]
fn the_edge_profile_sends_every_listed_oddity() {
    let scenario = small_edge(300, 20);
    let all: String = run(scenario, 63).ndjson();
    for needle in [
        r#""a_b":"#,
        r#""a":{"b":"#,
        r#""a.b":"#,
        r#""deep":{"l1":{"l2":{"l3":{"l4":{"l5":{"l6":{"l7":{"l8":{"l9":{"l10":"#,
        r#":null"#,
        r#":"""#,
        r#""meta":{}"#,
        r#""名前":"#,
        r#""Plan":"#,
        r#""PLAN":"#,
        r#""Email":"#,
        r#""logins":""#,
        r#""newsletter":"true""#,
        r#""orders":[{"sku":"#,
        r#""empty_list":[]"#,
        "lorem ipsum ipsum lorem",
    ] {
        assert!(all.contains(needle), "missing {needle}");
    }
}

#[test]
fn the_schema_names_audience_and_computed_keys() {
    let scenario = Scenario::default();
    let schema = scenario.trait_schema();
    for def in scenario.audience_defs() {
        let spec = schema.iter().find(|s| s.path == [def.key.clone()]).unwrap();
        assert_eq!(
            (spec.class, spec.ty),
            (TraitClass::Audience, TraitType::Boolean)
        );
    }
    let kinds: Vec<TraitType> = scenario
        .computed_trait_defs()
        .iter()
        .map(|def| {
            let spec = schema.iter().find(|s| s.path == [def.key.clone()]).unwrap();
            assert_eq!(spec.class, TraitClass::ComputedTrait);
            spec.ty
        })
        .collect();
    assert_eq!(
        kinds,
        [TraitType::Number, TraitType::String, TraitType::StringList]
    );
    assert!(
        schema
            .iter()
            .any(|s| s.path == ["address", "city"] && s.ty == TraitType::String)
    );
    assert!(
        schema
            .iter()
            .any(|s| s.path == ["createdAt"] && s.ty == TraitType::Time)
    );
}
