//! Shared helpers: run a scenario, and recompute a ledger from NDJSON alone.

use std::collections::BTreeMap;

use segment_gen::{EventMeta, Generator, Ledger, Scenario};
use serde_json::{Map, Value};

/// One generated run: lines (without newline), their facts, and the ledger.
pub(crate) struct Run {
    pub(crate) lines: Vec<String>,
    pub(crate) metas: Vec<EventMeta>,
    pub(crate) ledger: Ledger,
}

impl Run {
    pub(crate) fn values(&self) -> impl Iterator<Item = Value> + '_ {
        self.lines
            .iter()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
    }

    pub(crate) fn ndjson(&self) -> String {
        self.lines.iter().map(|l| format!("{l}\n")).collect()
    }
}

pub(crate) fn run(scenario: Scenario, seed: u64) -> Run {
    let mut generator = Generator::new(scenario, seed).expect("valid scenario");
    let mut lines = Vec::new();
    let mut metas = Vec::new();
    for event in generator.by_ref() {
        metas.push(event.meta);
        lines.push(event.json);
    }
    Run {
        lines,
        metas,
        ledger: generator.into_ledger(),
    }
}

pub(crate) fn small(users: u32, days: u32) -> Scenario {
    Scenario {
        users,
        days,
        ..Scenario::default()
    }
}

pub(crate) fn small_edge(users: u32, days: u32) -> Scenario {
    Scenario {
        users,
        days,
        ..Scenario::edge()
    }
}

/// The userId as the ledger keys it: strings as they are, numbers in decimal.
pub(crate) fn user_key(event: &Value) -> Option<String> {
    match event.get("userId")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Everything the ledger says about users, audiences and computed traits,
/// recomputed from the NDJSON alone by the rules in the brief, without the
/// generator's code.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Recomputed {
    pub(crate) traits: BTreeMap<String, BTreeMap<Vec<String>, Value>>,
    pub(crate) audiences: BTreeMap<String, BTreeMap<String, bool>>,
    pub(crate) computed: BTreeMap<String, BTreeMap<String, Value>>,
}

fn leaves(
    prefix: &mut Vec<String>,
    object: &Map<String, Value>,
    out: &mut BTreeMap<Vec<String>, Value>,
) {
    for (key, value) in object {
        prefix.push(key.clone());
        match value {
            Value::Object(inner) => leaves(prefix, inner, out),
            leaf => {
                out.insert(prefix.clone(), leaf.clone());
            }
        }
        prefix.pop();
    }
}

pub(crate) fn recompute<'a>(events: impl IntoIterator<Item = &'a Value>) -> Recomputed {
    let mut r = Recomputed::default();
    for event in events {
        let Some(user) = user_key(event) else {
            continue;
        };
        let personas = event.pointer("/context/personas");
        let class = personas.and_then(|p| p["computation_class"].as_str());
        let key = personas.and_then(|p| p["computation_key"].as_str());
        match event["type"].as_str() {
            Some("identify") => {
                let traits = event["traits"].as_object().expect("identify has traits");
                leaves(
                    &mut Vec::new(),
                    traits,
                    r.traits.entry(user.clone()).or_default(),
                );
                match (class, key) {
                    (Some("audience"), Some(key)) => {
                        let member = traits[key].as_bool().expect("audience value is a boolean");
                        r.audiences
                            .entry(key.to_owned())
                            .or_default()
                            .insert(user, member);
                    }
                    (Some("trait"), Some(key)) => {
                        r.computed
                            .entry(key.to_owned())
                            .or_default()
                            .insert(user, traits[key].clone());
                    }
                    _ => {}
                }
            }
            Some("track") if personas.is_none() => {
                // A source's commerce Track: no traits, no membership.
                assert!(event["properties"].is_object(), "{event}");
            }
            Some("track") => {
                let key = event["properties"]["audience_key"]
                    .as_str()
                    .expect("audience_key");
                let member = event["properties"][key]
                    .as_bool()
                    .expect("membership boolean");
                r.audiences
                    .entry(key.to_owned())
                    .or_default()
                    .insert(user, member);
            }
            other => panic!("unexpected type {other:?}"),
        }
    }
    r
}

/// The same view, taken from a generator's ledger.
pub(crate) fn view(ledger: &Ledger) -> Recomputed {
    Recomputed {
        traits: ledger
            .users
            .iter()
            .map(|(id, user)| {
                let traits = user
                    .traits
                    .iter()
                    .map(|t| (t.path.clone(), t.value.clone()))
                    .collect();
                (id.clone(), traits)
            })
            .collect(),
        audiences: ledger
            .audiences
            .iter()
            .filter(|a| !a.members.is_empty())
            .map(|a| (a.key.clone(), a.members.clone()))
            .collect(),
        computed: ledger
            .computed_traits
            .iter()
            .filter(|c| !c.values.is_empty())
            .map(|c| (c.key.clone(), c.values.clone()))
            .collect(),
    }
}
