//! The ledger is exactly what the emitted NDJSON implies, recomputed independently.

use segment_gen::{Generator, Scenario};
use serde_json::Value;

use crate::support::{recompute, run, small, small_edge, view};

#[test]
fn the_realistic_ledger_equals_a_recomputation_from_the_ndjson() {
    let run = run(small(300, 25), 31);
    let events: Vec<Value> = run.values().collect();
    assert_eq!(recompute(&events), view(&run.ledger));
    assert!(run.ledger.users.len() > 200);
}

#[test]
fn the_edge_ledger_equals_a_recomputation_from_the_ndjson() {
    let run = run(small_edge(200, 15), 32);
    let events: Vec<Value> = run.values().collect();
    assert_eq!(recompute(&events), view(&run.ledger));
    // Nulls are values received, and recorded.
    let nulls = run
        .ledger
        .users
        .values()
        .flat_map(|u| &u.traits)
        .filter(|t| t.value.is_null())
        .count();
    assert!(nulls > 0);
}

#[test]
fn a_capped_run_has_the_ledger_of_exactly_the_emitted_events() {
    for cap in [0, 1, 7, 500] {
        let scenario = Scenario {
            max_events: Some(cap),
            ..small_edge(100, 10)
        };
        let run = run(scenario, 33);
        assert_eq!(run.lines.len() as u64, cap);
        assert_eq!(run.ledger.events, cap);
        let events: Vec<Value> = run.values().collect();
        assert_eq!(recompute(&events), view(&run.ledger));
    }
}

#[test]
fn counts_add_up_to_the_events_emitted() {
    let run = run(
        Scenario {
            audience_track_events: true,
            ..small(200, 20)
        },
        34,
    );
    let counts = &run.ledger.counts;
    let total = run.lines.len() as u64;
    assert_eq!(counts.by_type.values().sum::<u64>(), total);
    assert_eq!(counts.by_kind.values().sum::<u64>(), total);
    let tracks = run.values().filter(|e| e["type"] == "track").count() as u64;
    assert_eq!(counts.by_type["track"], tracks);
    for meta in &run.metas {
        assert!(counts.by_kind.contains_key(meta.kind.as_str()));
    }
}

#[test]
fn numeric_user_ids_are_recorded_as_decimal_strings() {
    let scenario = Scenario {
        numeric_share: 0.5,
        ..small(100, 5)
    };
    let run = run(scenario, 35);
    let numeric: Vec<String> = run
        .values()
        .filter_map(|e| e["userId"].as_u64().map(|n| n.to_string()))
        .collect();
    assert!(!numeric.is_empty());
    for id in numeric {
        assert!(run.ledger.users.contains_key(&id), "{id}");
    }
}

#[test]
fn anonymous_only_events_never_reach_the_ledger() {
    let scenario = Scenario {
        anonymous_only_share: 0.5,
        ..small(200, 10)
    };
    let mut generator = Generator::new(scenario, 36).unwrap();
    let mut anonymous = 0;
    let mut identified = std::collections::BTreeSet::new();
    for event in generator.by_ref() {
        let value: Value = serde_json::from_str(&event.json).unwrap();
        match crate::support::user_key(&value) {
            Some(id) => {
                identified.insert(id);
            }
            None => anonymous += 1,
        }
    }
    let ledger = generator.into_ledger();
    assert!(anonymous > 100);
    assert_eq!(
        ledger
            .users
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>(),
        identified
    );
}

#[test]
fn the_ledger_json_has_the_documented_shape() {
    let scenario = Scenario {
        users: 2,
        days: 2,
        audiences: 1,
        computed_traits: 1,
        audience_initial_share: 1.0,
        client_side_share: 0.0,
        anonymous_only_share: 0.0,
        ..Scenario::default()
    };
    let run = run(scenario, 37);
    let json = serde_json::to_string_pretty(&run.ledger).unwrap();
    crate::snapshots::settings().bind(|| insta::assert_snapshot!("ledger_shape", json));
    let back: segment_gen::Ledger = serde_json::from_str(&json).unwrap();
    assert_eq!(back, run.ledger);
}

#[test]
fn the_streamed_ledger_json_equals_the_serialized_ledger() {
    for scenario in [
        small(300, 10),
        Scenario {
            audience_track_events: true,
            ..small_edge(200, 8)
        },
    ] {
        let mut generator = Generator::new(scenario, 38).unwrap();
        generator.write_ndjson(&mut std::io::sink()).unwrap();
        let mut streamed = Vec::new();
        generator.write_ledger(&mut streamed).unwrap();
        assert_eq!(streamed, serde_json::to_vec(&generator.ledger()).unwrap());
    }
}

#[test]
fn the_actions_ledger_json_has_the_documented_shape() {
    let scenario = Scenario {
        users: 2,
        days: 2,
        audiences: 1,
        computed_traits: 0,
        audience_initial_share: 1.0,
        client_side_share: 0.0,
        anonymous_only_share: 0.0,
        daily_commerce_share: 1.0,
        ..Scenario::actions()
    };
    let run = run(scenario, 38);
    assert!(!run.ledger.orders.is_empty());
    let mut json = serde_json::to_value(&run.ledger).unwrap();
    // The classic parts have their own snapshot.
    json.as_object_mut().unwrap().remove("users");
    let json = serde_json::to_string_pretty(&json).unwrap();
    crate::snapshots::settings().bind(|| insta::assert_snapshot!("ledger_shape_actions", json));
}
