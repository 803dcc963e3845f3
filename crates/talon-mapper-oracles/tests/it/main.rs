//! The fuzz oracles of `talon_mapper_oracles` in stable tests: every committed regression input, then thousands of seeded inputs.
//!
//! Regression inputs live in `fixtures/fuzz-regressions/<target>/`, one
//! file per case. A `.json` file is the readable form (a traits object for
//! `flatten`; `{"event": …, "configured": […]}` for `map_event`); any other
//! file is the raw input of the cargo-fuzz target, read the way the target
//! reads it. `map_json_bytes` files are always raw bytes.

// Tests read the regression files; the IO ban is for library code.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use arbitrary::{Arbitrary, Unstructured};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rstest::rstest;
use segment_model::tree::{Order, TraitsTree, TreeValue};
use segment_model::{Event, shapes};
use serde_json::json;
use serde_json::{Map, Value};
use talon_mapper::Settings;
use talon_mapper::flatten::flatten;
use talon_mapper::{Diagnostic, FlatValue, Flattened, Kind, Leaf, Scalar};
use talon_mapper_oracles::{
    Violation, check_flatten, check_flatten_tree, check_flattened, check_key_order,
    check_map_event, check_map_json, settings_with,
};

/// Seeded inputs per oracle.
const CASES: usize = 3000;

fn regressions(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/fuzz-regressions")
        .join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.expect("a readable entry").path())
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
        .into_iter()
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            let bytes = std::fs::read(&p).expect("a readable regression file");
            (p, bytes)
        })
        .collect()
}

fn is_json(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "json")
}

/// Seeded random bytes, `min..=max` long, one buffer per case.
fn seeded_inputs(seed: u64, min: usize, max: usize) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..CASES).map(move |_| {
        let mut buf = vec![0; rng.random_range(min..=max)];
        rng.fill_bytes(&mut buf);
        buf
    })
}

/// What the `map_event` target builds from its raw input.
fn map_input(data: &[u8]) -> Option<(Event, Vec<String>)> {
    let mut u = Unstructured::new(data);
    let configured = shapes::configured(&mut u).ok()?;
    let event = Event::arbitrary(&mut u).ok()?;
    Some((event, configured))
}

fn settings_for(configured: &[String]) -> Settings {
    let names: Vec<&str> = configured.iter().map(String::as_str).collect();
    settings_with(&names)
}

#[test]
fn the_flattener_keeps_its_rules_on_every_regression_input() {
    for (path, bytes) in regressions("flatten") {
        let result = if is_json(&path) {
            let traits: Map<String, Value> =
                serde_json::from_slice(&bytes).expect("a traits object");
            check_flatten(&traits)
        } else if let Ok((order, tree)) =
            shapes::ordered_traits_tree(&mut Unstructured::new(&bytes))
        {
            // What the target checks, then both orders and the map driver.
            check_flatten_tree(&tree, order)
                .and_then(|_| check_key_order(&tree))
                .and_then(|_| check_flatten(&tree.to_map()))
        } else {
            Ok(())
        };
        result.unwrap_or_else(|v: Violation| panic!("{}: {v}", path.display()));
    }
}

#[test]
fn the_flattener_keeps_its_rules_on_seeded_arbitrary_traits() {
    for (i, data) in seeded_inputs(6, 16, 1024).enumerate() {
        let Ok(traits) = shapes::traits(&mut Unstructured::new(&data)) else {
            continue;
        };
        check_flatten(&traits)
            .unwrap_or_else(|v| panic!("case {i}: {v}\n{}", Value::Object(traits.clone())));
    }
}

#[test]
fn the_flattener_keeps_its_rules_on_seeded_traits_trees_in_both_key_orders() {
    let (mut repeated_keys, mut too_deep, mut collisions) = (0, 0, 0);
    for (i, data) in seeded_inputs(9, 8, 512).enumerate() {
        let Ok((_, tree)) = shapes::ordered_traits_tree(&mut Unstructured::new(&data)) else {
            continue;
        };
        let text = || serde_json::to_string(&tree).unwrap_or_default();
        assert!(
            tree.entry_count() <= shapes::MAX_TREE_ENTRIES + 1 + 3 + shapes::MAX_BUILT_DEPTH + 1,
            "case {i}: {} entries",
            tree.entry_count()
        );
        let flat = check_key_order(&tree).unwrap_or_else(|v| panic!("case {i}: {v}\n{}", text()));
        // The map driver and the Value-based oracle on the same traits,
        // where a repeated key has kept its last value.
        check_flatten(&tree.to_map()).unwrap_or_else(|v| panic!("case {i}: {v}\n{}", text()));
        let codes: Vec<&str> = flat.diagnostics.iter().map(|d| d.kind.code()).collect();
        too_deep += usize::from(codes.contains(&"too_deep"));
        collisions += usize::from(codes.contains(&"collision"));
        let mut keys: Vec<&str> = tree.root().iter().map(|e| e.key.as_ref()).collect();
        keys.sort_unstable();
        repeated_keys += usize::from(keys.windows(2).any(|w| w[0] == w[1]));
    }
    // The generator reaches the shapes the rules are about.
    assert!(
        too_deep > 20 && collisions > 300 && repeated_keys > 100,
        "too deep {too_deep}, collisions {collisions}, repeated keys {repeated_keys}"
    );
}

#[test]
fn an_exhausted_input_gives_an_empty_traits_tree() {
    let (order, tree) = shapes::ordered_traits_tree(&mut Unstructured::new(&[]))
        .expect("an empty input still gives a tree");
    assert_eq!((order, tree.entry_count()), (Order::Given, 0));
}

#[test]
fn the_mapper_keeps_its_rules_on_every_map_event_regression_input() {
    for (path, bytes) in regressions("map_event") {
        let input = if is_json(&path) {
            let v: Value = serde_json::from_slice(&bytes).expect("a map_event case");
            let event: Event = serde_json::from_value(v["event"].clone()).expect("an event");
            let configured: Vec<String> =
                serde_json::from_value(v["configured"].clone()).expect("a name list");
            Some((event, configured))
        } else {
            map_input(&bytes)
        };
        if let Some((event, configured)) = input {
            check_map_event(&event, &settings_for(&configured))
                .unwrap_or_else(|v| panic!("{}: {v}", path.display()));
        }
    }
}

#[test]
fn the_mapper_keeps_its_rules_on_seeded_arbitrary_events() {
    for (i, data) in seeded_inputs(7, 32, 2048).enumerate() {
        let Some((event, configured)) = map_input(&data) else {
            continue;
        };
        check_map_event(&event, &settings_for(&configured)).unwrap_or_else(|v| {
            panic!(
                "case {i}: {v}\n{}\nconfigured: {configured:?}",
                serde_json::to_string(&event).unwrap_or_default()
            )
        });
    }
}

#[test]
fn the_mapper_sends_what_the_reference_model_says_on_generated_traffic() {
    // Both generator profiles: realistic traffic, and the edge profile's
    // nulls, collisions, case variants and odd userIds. Every other schema
    // name configured, so that filtering is exercised both ways.
    for (profile, seed) in [
        (segment_gen::Profile::Realistic, 11),
        (segment_gen::Profile::Edge, 12),
    ] {
        let scenario = segment_gen::Scenario {
            users: 200,
            max_events: Some(4000),
            ..segment_gen::Scenario::for_profile(profile)
        };
        let names: Vec<String> = scenario
            .trait_schema()
            .iter()
            .map(|spec| spec.path.join("_"))
            .step_by(2)
            .collect();
        let settings = settings_for(&names);
        let mut generator = segment_gen::Generator::new(scenario, seed).expect("a valid scenario");
        let (mut line, mut sent) = (Vec::new(), 0);
        while generator.next_into(&mut line).is_some() {
            let mapped = talon_mapper_oracles::check_against_model(&line, &settings)
                .unwrap_or_else(|v| panic!("{profile:?}: {v}"));
            sent += usize::from(mapped.request().is_some_and(|r| r.body.len() > 16));
            line.clear();
        }
        assert!(
            sent > 500,
            "{profile:?}: only {sent} events sent attributes"
        );
    }
}

#[test]
fn the_mapper_keeps_its_rules_on_every_map_json_regression_input() {
    let settings = default_settings();
    for (path, bytes) in regressions("map_json_bytes") {
        check_map_json(&bytes, &settings).unwrap_or_else(|v| panic!("{}: {v}", path.display()));
    }
}

#[test]
fn the_mapper_keeps_its_rules_on_seeded_mangled_json() {
    // Arbitrary events as JSON text, then truncated, or with bytes
    // overwritten by JSON tokens and raw bytes: mostly near-valid events.
    const TOKENS: &[&[u8]] = &[
        b"{", b"}", b"[", b"]", b",", b":", b"\"", b"\\", b"null", b"1e999", b"-0", b"\xff",
    ];
    let settings = default_settings();
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    for i in 0..CASES {
        let mut data = vec![0; rng.random_range(32..=1024)];
        rng.fill_bytes(&mut data);
        let Ok(event) = Event::arbitrary(&mut Unstructured::new(&data)) else {
            continue;
        };
        let mut text = serde_json::to_vec(&event).expect("events serialize");
        match rng.random_range(0..4) {
            0 => {}
            1 => text.truncate(rng.random_range(0..=text.len())),
            _ => {
                for _ in 0..rng.random_range(1..4) {
                    let at = rng.random_range(0..=text.len());
                    let token = TOKENS[rng.random_range(0..TOKENS.len())];
                    text.splice(at..at, token.iter().copied());
                }
            }
        }
        check_map_json(&text, &settings)
            .unwrap_or_else(|v| panic!("case {i}: {v}\n{}", String::from_utf8_lossy(&text)));
    }
}

#[test]
fn the_mapper_keeps_its_rules_at_extreme_depth_in_json_text() {
    let settings = default_settings();
    for depth in [31, 32, 33, 127, 128, 129, 200_000] {
        let text = format!(
            r#"{{"type":"identify","userId":"u","traits":{{"a_b":1,"deep":{}1{}}}}}"#,
            r#"{"k":"#.repeat(depth),
            "}".repeat(depth)
        );
        check_map_json(text.as_bytes(), &settings).unwrap_or_else(|v| panic!("depth {depth}: {v}"));
    }
}

#[test]
fn a_float_whose_json_text_reads_back_one_ulp_off_keeps_the_flattener_rules() {
    // Found by the `flatten` target: serde_json's default float parser is
    // not correctly rounded, so this float's shortest text read back as its
    // neighbour, and the mapper sent a number one ulp off the event's. The
    // workspace now enables serde_json's `float_roundtrip`. Readable twins:
    // `fixtures/fuzz-regressions/{flatten,map_json_bytes,round_trip}/float_*.json`.
    let x: f64 = "2.423909896065781e-279".parse().expect("a float");
    let mut traits = Map::new();
    traits.insert("\"".into(), Value::from(x));
    traits.insert("_".into(), Value::Null);
    check_flatten(&traits).expect("the flattener keeps its rules");
    let event = serde_json::json!({"type": "identify", "userId": "u", "traits": traits});
    let event: Event = serde_json::from_value(event).expect("an event");
    check_map_event(&event, &settings_for(&["\"".to_owned()])).expect("the mapper keeps its rules");
}

// ------------------------------------------------- the oracle can fail

/// `{"a_b": 1, "a": {"b": 2}, "x": {"y_z": "p"}, "x_y": {"z": "q"}, "k": 2, "k": 1, "n": null}`:
/// a flat key beating a nested one, two equally deep paths, a repeated key
/// and a null.
fn tangled() -> TraitsTree<'static> {
    let mut tree = TraitsTree::new();
    tree.push_root("a_b", TreeValue::UInt(1));
    let a = tree.object(1);
    tree.set(a, 0, "b", TreeValue::UInt(2)).unwrap();
    tree.push_root("a", TreeValue::Object(a));
    let x = tree.object(1);
    tree.set(x, 0, "y_z", TreeValue::Str("p")).unwrap();
    tree.push_root("x", TreeValue::Object(x));
    let x_y = tree.object(1);
    tree.set(x_y, 0, "z", TreeValue::Str("q")).unwrap();
    tree.push_root("x_y", TreeValue::Object(x_y));
    tree.push_root("k", TreeValue::UInt(2));
    tree.push_root("k", TreeValue::UInt(1));
    tree.push_root("n", TreeValue::Null);
    tree
}

/// The leaf the flattener makes of `traits` (one key) : a way to build a
/// nested [`Leaf`] from outside the crate.
fn only_leaf(traits: Value) -> Leaf<'static> {
    let flat = flatten(traits.as_object().expect("an object"));
    assert_eq!(flat.leaves.len(), 1);
    flat.leaves[0].clone().into_owned()
}

fn position(flat: &Flattened<'_>, key: &str) -> usize {
    flat.leaves
        .iter()
        .position(|l| l.key == key)
        .expect("the key is there")
}

#[rstest]
#[case::keys_out_of_order(
    |f: &mut Flattened<'static>| f.leaves.swap(0, 1),
    "keys are unique and sorted bytewise"
)]
#[case::a_kept_key_dropped(
    |f: &mut Flattened<'static>| { let i = position(f, "a_b"); f.leaves.remove(i); },
    "every sendable leaf is kept or loses a collision"
)]
#[case::a_value_changed(
    |f: &mut Flattened<'static>| { let i = position(f, "a_b"); f.leaves[i].value = FlatValue::Scalar(Scalar::UInt(7)); },
    "each key is the `_`-join of a real path and carries its value"
)]
#[case::a_key_from_nowhere(
    |f: &mut Flattened<'static>| f.leaves.push(Leaf::top_level("zz", FlatValue::Scalar(Scalar::Bool(true)))),
    "each key is the `_`-join of a real path and carries its value"
)]
#[case::the_deeper_path_kept(
    |f: &mut Flattened<'static>| { let i = position(f, "a_b"); f.leaves[i] = only_leaf(json!({"a": {"b": 2}})); },
    "each key comes from the path the collision rule keeps"
)]
#[case::the_bytewise_later_path_kept(
    |f: &mut Flattened<'static>| { let i = position(f, "x_y_z"); f.leaves[i] = only_leaf(json!({"x_y": {"z": "q"}})); },
    "each key comes from the path the collision rule keeps"
)]
#[case::the_later_json_text_kept(
    |f: &mut Flattened<'static>| { let i = position(f, "k"); f.leaves[i] = Leaf::top_level("k", FlatValue::Scalar(Scalar::UInt(2))); },
    "each key comes from the path the collision rule keeps"
)]
#[case::a_null_not_reported(
    |f: &mut Flattened<'static>| f.diagnostics.retain(|d| d.kind.code() != "null_value"),
    "every dropped value, mixed list and collision is reported"
)]
#[case::a_collision_not_reported(
    |f: &mut Flattened<'static>| { let i = f.diagnostics.iter().position(|d| d.kind.code() == "collision").expect("a collision"); f.diagnostics.remove(i); },
    "every dropped value, mixed list and collision is reported"
)]
#[case::a_collision_naming_the_wrong_winner(
    |f: &mut Flattened<'static>| for d in &mut f.diagnostics { if let Kind::Collision { kept, .. } = &mut d.kind { *kept = "a.b".into(); } },
    "a collision names the kept path"
)]
fn the_flattener_oracle_catches_a_tampered_result(
    #[case] tamper: fn(&mut Flattened<'static>),
    #[case] oracle: &str,
) {
    let tree = tangled();
    let mut flat = check_key_order(&tree)
        .expect("the flattener keeps its rules")
        .into_owned();
    tamper(&mut flat);
    let violation = check_flattened(&tree, &flat).expect_err("the tampered result is caught");
    assert_eq!(violation.oracle, oracle, "{violation}");
}

#[test]
fn the_flattener_oracle_catches_a_flat_object_that_comes_back_changed() {
    let mut tree = TraitsTree::new();
    tree.push_root("a", TreeValue::UInt(1));
    tree.push_root("b", TreeValue::Str("x"));
    let mut flat = check_key_order(&tree)
        .expect("the flattener keeps its rules")
        .into_owned();
    assert!(check_flattened(&tree, &flat).is_ok());
    flat.diagnostics.push(Diagnostic::note(Kind::NoAttributes));
    let violation = check_flattened(&tree, &flat).expect_err("the stray diagnostic is caught");
    assert_eq!(
        violation.oracle,
        "a flat object gets no diagnostic but mixed lists"
    );
}

/// The settings the `map_json_bytes` target maps with: `fixtures/settings/default.json`.
fn default_settings() -> Settings {
    Settings::parse(include_str!("../../../../fixtures/settings/default.json"))
        .expect("the default settings are valid")
}
