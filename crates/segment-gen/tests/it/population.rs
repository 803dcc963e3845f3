//! The user population: unique ids of every configured shape.

use std::collections::BTreeMap;

use segment_gen::{Generator, Scenario};
use serde_json::Value;

use crate::support::run;

fn ids(scenario: Scenario) -> Vec<String> {
    let users = scenario.users;
    let generator = Generator::new(scenario, 51).unwrap();
    (0..users)
        .map(|u| generator.user_id(u).to_owned())
        .collect()
}

#[test]
fn user_ids_are_unique_and_never_dot_or_dot_dot() {
    for scenario in [
        Scenario {
            users: 5000,
            ..Scenario::default()
        },
        Scenario {
            users: 5000,
            ..Scenario::edge()
        },
    ] {
        let mut ids = ids(scenario);
        assert!(
            ids.iter()
                .all(|id| !id.is_empty() && id != "." && id != "..")
        );
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }
}

#[test]
fn look_alike_ids_are_different_users_that_differ_only_in_case() {
    let ids = ids(Scenario {
        users: 2000,
        ..Scenario::default()
    });
    let mut by_lower: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for id in &ids {
        by_lower.entry(id.to_lowercase()).or_default().push(id);
    }
    let pairs: Vec<_> = by_lower.values().filter(|v| v.len() == 2).collect();
    assert!(pairs.len() > 10, "{} look-alike pairs", pairs.len());
    assert!(pairs.iter().all(|p| p[0] != p[1]));
}

#[test]
fn the_shares_shape_the_user_ids() {
    let users = 4000;
    let scenario = Scenario {
        users,
        days: 2,
        anonymous_only_share: 0.0,
        ..Scenario::edge()
    };
    let shares = scenario.clone();
    let run = run(scenario, 52);
    // userId as sent, per user, from login events.
    let mut sent: BTreeMap<String, Value> = BTreeMap::new();
    for event in run.values() {
        if let Some(id) = crate::support::user_key(&event) {
            sent.entry(id).or_insert_with(|| event["userId"].clone());
        }
    }
    let count =
        |f: &dyn Fn(&str, &Value) -> bool| sent.iter().filter(|(k, v)| f(k, v)).count() as f64;
    let total = sent.len() as f64;
    let numeric = count(&|_, v| v.is_number()) / total;
    let url = count(&|k, _| k.contains(['/', '#', '?', '%', ' '])) / total;
    let unicode = count(&|k, _| !k.is_ascii()) / total;
    let close = |got: f64, want: f64| (got - want).abs() < 0.05;
    // Look-alike pairs take 2p/(1+p) of users before the other shapes are drawn.
    let p = shares.look_alike_share;
    let rest = 1.0 - 2.0 * p / (1.0 + p);
    assert!(
        close(numeric, shares.numeric_share * rest),
        "numeric {numeric}"
    );
    assert!(close(url, shares.url_special_share * rest), "url {url}");
    assert!(
        close(unicode, shares.unicode_share * rest),
        "unicode {unicode}"
    );
    assert!(total > 0.8 * f64::from(users));
}
