//! Engage sync semantics: initial sync versus incremental changes, duplicates, identifiers, keys.

use std::collections::BTreeMap;

use segment_gen::{EventKind, Scenario, TraitClass, TraitType};
use segment_model::engage::snake_case;
use serde_json::Value;

use crate::support::{run, user_key};

fn strict() -> Scenario {
    Scenario {
        users: 400,
        days: 40,
        audiences: 5,
        duplicate_enter_share: 0.0,
        multi_email_share: 0.0,
        audience_enter_share: 0.05,
        audience_exit_share: 0.1,
        ..Scenario::default()
    }
}

/// (key of the personas block, value for audiences) of an Engage identify.
fn engage_value(event: &Value) -> Option<(String, Value)> {
    let key = event
        .pointer("/context/personas/computation_key")?
        .as_str()?;
    Some((key.to_owned(), event["traits"][key].clone()))
}

#[test]
fn the_initial_sync_sends_true_once_per_current_member_and_nothing_for_others() {
    let scenario = strict();
    let defs = scenario.audience_defs();
    let run = run(scenario, 21);
    for def in &defs {
        let mut initial_users = Vec::new();
        for (event, meta) in run.values().zip(&run.metas) {
            let Some((key, value)) = engage_value(&event) else {
                continue;
            };
            if key != def.key {
                continue;
            }
            assert!(
                meta.day >= def.created_day,
                "no event before the audience exists"
            );
            let on_creation_day = meta.day == def.created_day;
            assert_eq!(on_creation_day, meta.kind == EventKind::AudienceInitial);
            if on_creation_day {
                assert_eq!(
                    value,
                    Value::Bool(true),
                    "the initial sync only sends members"
                );
                initial_users.push(user_key(&event).unwrap());
            }
        }
        let count = initial_users.len();
        initial_users.sort();
        initial_users.dedup();
        assert_eq!(initial_users.len(), count, "one event per member");
        assert!(count > 20, "{}: {count} initial members", def.key);
    }
}

#[test]
fn later_syncs_send_only_membership_changes() {
    let run = run(strict(), 22);
    let mut last: BTreeMap<(String, String), bool> = BTreeMap::new();
    let mut changes = 0;
    for (event, meta) in run.values().zip(&run.metas) {
        let Some((key, Value::Bool(value))) = engage_value(&event) else {
            continue;
        };
        let user = user_key(&event).unwrap();
        match last.insert((key, user), value) {
            None => assert!(value, "a user's first audience event is an enter"),
            Some(previous) => {
                assert_ne!(previous, value, "no event without a change ({meta:?})");
                changes += 1;
                let expected = if value {
                    EventKind::AudienceEntered
                } else {
                    EventKind::AudienceExited
                };
                assert_eq!(meta.kind, expected);
            }
        }
    }
    assert!(changes > 100, "{changes} incremental changes");
}

#[test]
fn the_ledger_membership_is_the_last_value_sent() {
    let run = run(strict(), 23);
    let mut last: BTreeMap<(String, String), bool> = BTreeMap::new();
    for event in run.values() {
        if let Some((key, Value::Bool(v))) = engage_value(&event) {
            last.insert((key, user_key(&event).unwrap()), v);
        }
    }
    let mut from_ledger = BTreeMap::new();
    for audience in &run.ledger.audiences {
        for (user, &member) in &audience.members {
            from_ledger.insert((audience.key.clone(), user.clone()), member);
        }
    }
    assert_eq!(last, from_ledger);
    assert!(from_ledger.values().any(|m| *m) && from_ledger.values().any(|m| !*m));
}

#[test]
fn duplicate_enters_repeat_true_for_a_member() {
    let run = run(
        Scenario {
            duplicate_enter_share: 1.0,
            ..strict()
        },
        24,
    );
    let mut last: BTreeMap<(String, String), bool> = BTreeMap::new();
    let mut duplicates = 0;
    for (event, meta) in run.values().zip(&run.metas) {
        let Some((key, Value::Bool(value))) = engage_value(&event) else {
            continue;
        };
        let previous = last.insert((key, user_key(&event).unwrap()), value);
        if meta.kind == EventKind::AudienceDuplicate {
            duplicates += 1;
            assert!(value);
            assert_eq!(previous, Some(true), "a duplicate follows an enter");
        }
    }
    let enters = run
        .metas
        .iter()
        .filter(|m| {
            matches!(
                m.kind,
                EventKind::AudienceEntered | EventKind::AudienceInitial
            )
        })
        .count();
    assert_eq!(duplicates, enters, "share 1.0 repeats every enter");
}

#[test]
fn users_with_several_emails_get_one_event_per_identifier() {
    let run = run(
        Scenario {
            multi_email_share: 1.0,
            users: 100,
            days: 10,
            ..Scenario::default()
        },
        25,
    );
    // Engage events for one change are consecutive: group by (index run).
    let events: Vec<Value> = run.values().collect();
    let mut i = 0;
    let mut groups = 0;
    while i < events.len() {
        if !run.metas[i].kind.is_engage() {
            i += 1;
            continue;
        }
        let (key, value) = engage_value(&events[i]).unwrap();
        let user = user_key(&events[i]).unwrap();
        let mut emails = Vec::new();
        while i < events.len()
            && run.metas[i].kind.is_engage()
            && engage_value(&events[i]) == Some((key.clone(), value.clone()))
            && user_key(&events[i]).as_deref() == Some(&user)
        {
            emails.push(events[i]["traits"]["email"].as_str().unwrap().to_owned());
            i += 1;
        }
        let n = emails.len();
        emails.sort();
        emails.dedup();
        assert_eq!(emails.len(), n, "each identifier once");
        assert!((2..=3).contains(&n), "{n} identifiers for {user}");
        groups += 1;
    }
    assert!(groups > 50);
}

#[test]
fn audience_and_computed_trait_keys_are_the_snake_cased_names() {
    for scenario in [
        Scenario {
            audiences: 14,
            computed_traits: 8,
            ..Scenario::default()
        },
        Scenario {
            audiences: 14,
            computed_traits: 8,
            ..Scenario::edge()
        },
    ] {
        let mut keys = Vec::new();
        for def in scenario.audience_defs() {
            assert_eq!(def.key, snake_case(&def.name));
            assert!(!def.key.is_empty());
            keys.push(def.key);
        }
        for def in scenario.computed_trait_defs() {
            assert_eq!(def.key, snake_case(&def.name));
            keys.push(def.key);
        }
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "keys are distinct");
    }
    assert_eq!(
        Scenario::default().audience_defs()[0].key,
        "order_completed_last_30_days"
    );
    // Every computation_key in a stream is a configured key.
    let scenario = Scenario {
        users: 100,
        days: 10,
        ..Scenario::edge()
    };
    let schema = scenario.trait_schema();
    for event in run(scenario, 26).values() {
        if let Some(key) = event.pointer("/context/personas/computation_key") {
            let key = key.as_str().unwrap();
            let spec = schema
                .iter()
                .find(|s| s.path == [key])
                .expect("a schema key");
            assert_ne!(spec.class, TraitClass::Profile);
        }
    }
}

#[test]
fn computed_traits_are_sent_only_when_their_value_changes() {
    let scenario = Scenario {
        multi_email_share: 0.0,
        computed_traits: 6,
        ..strict()
    };
    let schema = scenario.trait_schema();
    let run = run(scenario, 27);
    let mut last: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut sent = 0;
    for (event, meta) in run.values().zip(&run.metas) {
        if !matches!(
            meta.kind,
            EventKind::ComputedInitial | EventKind::ComputedChanged
        ) {
            continue;
        }
        sent += 1;
        let (key, value) = engage_value(&event).unwrap();
        let ty = schema.iter().find(|s| s.path == [key.as_str()]).unwrap().ty;
        match ty {
            TraitType::Number => assert!(value.is_u64()),
            TraitType::String => assert!(value.is_string()),
            TraitType::StringList => {
                assert!(value.as_array().unwrap().iter().all(Value::is_string));
            }
            other => panic!("computed trait of type {other:?}"),
        }
        let previous = last.insert((key, user_key(&event).unwrap()), value.clone());
        assert_ne!(
            previous,
            Some(value),
            "a computed trait is sent only on change"
        );
    }
    assert!(sent > 500, "{sent}");
}

#[test]
fn track_style_audience_events_appear_only_when_enabled() {
    let off = run(strict(), 28);
    assert!(off.metas.iter().all(|m| !m.track));
    let on = run(
        Scenario {
            audience_track_events: true,
            ..strict()
        },
        28,
    );
    let tracks = on.metas.iter().filter(|m| m.track).count();
    let identifies = on
        .metas
        .iter()
        .filter(|m| {
            !m.track
                && m.kind.is_engage()
                && m.kind != EventKind::ComputedInitial
                && m.kind != EventKind::ComputedChanged
        })
        .count();
    assert_eq!(
        tracks, identifies,
        "one Track beside each audience Identify"
    );
    let only_track = run(
        Scenario {
            audience_track_events: true,
            audience_identify_events: false,
            ..strict()
        },
        28,
    );
    assert!(only_track.values().all(|e| {
        e.pointer("/context/personas/computation_class")
            .is_none_or(|c| c != "audience")
            || e["type"] == "track"
    }));
    assert!(
        !only_track
            .ledger
            .audiences
            .iter()
            .all(|a| a.members.is_empty())
    );
}
